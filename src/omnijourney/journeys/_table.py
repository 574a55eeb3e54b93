"""JourneyTable: the result of sessionization, and the state carried between batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import numpy as np

from omnijourney._display import TableResult
from omnijourney.io import register_json_state
from omnijourney.journeys._rules import JourneyRules
from omnijourney.journeys._unmatched import UnmatchedRule, journey_rules_unmatched
from omnijourney.model import EndReason, Journey
from omnijourney.tables import Table, TouchpointTable
from omnijourney.time import as_datetime

__all__ = ["JourneyTable", "SessionState"]

_ENUM = list(EndReason)
_E = {r: i for i, r in enumerate(_ENUM)}


def _frozen_names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(str(n) for n in names)


@attrs.frozen(kw_only=True)
class SessionState:
    """What a batch hands to the next one: its open journeys and per-customer context.

    Round-trips through JSON (``oj.to_json(state)`` / ``oj.from_json(text, SessionState)``),
    so a daily pipeline can store it between runs.

    Attributes
    ----------
    rules : JourneyRules
        The rules the journeys were cut with (the next batch must use the same).
    as_of : numpy.datetime64
        Time up to which the data was complete.
    open_rows : TouchpointTable
        Touchpoints of the journeys still open at ``as_of``.
    open_journey_id, open_visit_id : ndarray of int64
        Their journey and visit ids (kept stable in the next batch).
    next_journey_id, next_visit_id : int
        First ids for new journeys and visits.
    converted_customers : ndarray
        Customers who converted before (for the retention stage).
    last_campaign : Table
        Each customer's last non-null campaign (``customer``, ``campaign``).
    matched_rules : frozenset of str
        The label rules of ``rules`` (``"conversion_events"``, ``"stages.events"``...) that
        some touchpoint of this or an earlier batch matched: a batch without a purchase does
        not warn that ``conversion_events`` matches nothing when an earlier batch had one.
    """

    rules: JourneyRules
    as_of: np.datetime64
    open_rows: TouchpointTable
    open_journey_id: np.ndarray
    open_visit_id: np.ndarray
    next_journey_id: int
    next_visit_id: int
    converted_customers: np.ndarray
    last_campaign: Table
    matched_rules: frozenset[str] = attrs.field(factory=frozenset, converter=_frozen_names)

    def __repr__(self) -> str:
        return (
            f"SessionState(as_of={self.as_of}, {len(self.open_rows):,} touchpoints in "
            f"{np.unique(self.open_journey_id).size:,} open journeys, next journey id "
            f"{self.next_journey_id:,})"
        )


@attrs.frozen(eq=False, repr=False, kw_only=True)
class JourneyTable(TableResult):
    """Visits and journeys of a set of touchpoints: a frozen result made of tables.

    Built by :func:`~omnijourney.sessionize` (and the batch and partition variants), never
    by hand.

    Attributes
    ----------
    touchpoints : TouchpointTable
        The touchpoints that were sessionized (including rows carried from a previous batch).
    journey_id, visit_id : ndarray of int64
        Journey and visit of each input row, aligned with the rows passed to
        :func:`~omnijourney.sessionize` (carried rows excluded).
    journeys : Table
        One row per journey, in (customer, start) order: ``journey_id``, ``customer``,
        ``start``, ``end``, ``n_touchpoints``, ``n_visits``, ``first_channel``,
        ``last_channel``, ``channels`` (bit mask over the channel labels), ``converted``,
        ``n_conversions``, ``value`` (sum of conversion values), ``stage``, ``stage_rank``,
        ``returning`` (the customer converted in an earlier journey) and ``end_reason``.
    order : ndarray of int64
        Rows of ``touchpoints`` in canonical (customer, time) order; journeys are contiguous
        in it.
    offsets : ndarray of int64
        ``order[offsets[k]:offsets[k + 1]]`` are the rows of the k-th journey of ``journeys``.
    rules : JourneyRules
    state : SessionState
        Open journeys to carry to the next batch.
    unmatched : tuple of UnmatchedRule
        The label rules of ``rules`` that no touchpoint matched (in this batch or, with a
        carried state, an earlier one), such as conversion events in another vocabulary;
        :func:`~omnijourney.sessionize` warns about each and :meth:`summary` lists them.
    """

    touchpoints: TouchpointTable
    journeys: Table
    rules: JourneyRules
    state: SessionState
    offsets: np.ndarray
    carried: int
    _all_journey: np.ndarray = attrs.field(alias="all_journey")
    _all_visit: np.ndarray = attrs.field(alias="all_visit")
    _order: np.ndarray | None = attrs.field(alias="order")
    # canonical-order copies and the unmatched rules, made once per table on first use
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict)

    @property
    def journey_id(self) -> np.ndarray:
        """Journey id of each input row (carried rows excluded)."""
        return self._all_journey[self.carried :]

    @property
    def visit_id(self) -> np.ndarray:
        """Visit id of each input row (carried rows excluded)."""
        return self._all_visit[self.carried :]

    @property
    def _identity(self) -> bool:
        """Whether the touchpoints were already in canonical order."""
        return self._order is None

    @property
    def order(self) -> np.ndarray:
        """Rows of ``touchpoints`` in canonical (customer, time) order."""
        if self._order is None:
            return np.arange(len(self.touchpoints))
        return self._order

    def in_order(self, column: str) -> np.ndarray:
        """A column of ``touchpoints`` (stored form: codes for categories) in canonical order.

        No copy when the touchpoints were already in canonical order.
        """
        arr = self.touchpoints.raw(column)
        if self._order is None:
            return arr
        return self._cached(column, lambda: arr[self.order])

    def _cached(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        # canonical-order copies are made once per table and shared read-only: the analyses
        # that follow sessionize (paths, breaks, follow-ups, funnels) all need the same few
        got = self._cache.get(key)
        if got is None:
            got = make()
            got.flags.writeable = False
            self._cache[key] = got
        return got

    def rows_of(self, i: int) -> np.ndarray:
        """Rows of ``touchpoints`` of the i-th journey of ``journeys``, in time order."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return np.arange(lo, hi) if self._order is None else self._order[lo:hi]

    @property
    def sorted_journey(self) -> np.ndarray:
        """Journey id of each touchpoint in canonical order (``journey_id`` of ``order``)."""
        if self._identity:
            return self._all_journey
        return self._cached(" journey", lambda: self._all_journey[self.order])

    @property
    def sorted_visit(self) -> np.ndarray:
        """Visit id of each touchpoint in canonical order."""
        if self._identity:
            return self._all_visit
        return self._cached(" visit", lambda: self._all_visit[self.order])

    # ------------------------------------------------------------------ access

    @property
    def unmatched(self) -> tuple[UnmatchedRule, ...]:
        """The label rules of ``rules`` that no touchpoint matched (see the class docs)."""
        got = self._cache.get(" unmatched")
        if got is None:
            got = journey_rules_unmatched(self.touchpoints, self.rules, self.state.matched_rules)
            self._cache[" unmatched"] = got
        return tuple(got)

    def __len__(self) -> int:
        return len(self.journeys)

    def __iter__(self) -> Iterator[Journey]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i: int) -> Journey:
        """The i-th journey (in table order) as a :class:`~omnijourney.model.Journey`."""
        n = len(self)
        if not -n <= i < n:
            msg = f"journey {i} is out of range for {n} journeys"
            raise IndexError(msg)
        i = i % n
        rows = self.rows_of(i)
        tps = tuple(self.touchpoints[int(r)] for r in rows)
        return self._journey(i, tps)

    def _journey(self, i: int, tps: tuple[Any, ...]) -> Journey:
        j = self.journeys
        chans: list[str] = []
        for tp in tps:
            if tp.channel not in chans:
                chans.append(tp.channel)
        stage = j.column_values_at("stage", i)
        return Journey(
            journey_id=int(j.raw("journey_id")[i]),
            customer=j.column_values_at("customer", i),
            start=as_datetime(j.raw("start")[i]),
            end=as_datetime(j.raw("end")[i]),
            n_touchpoints=int(j.raw("n_touchpoints")[i]),
            channels=tuple(chans),
            converted=bool(j.raw("converted")[i]),
            value=float(j.raw("value")[i]),
            stage=stage,
            end_reason=_ENUM[int(j.raw("end_reason")[i])],
            touchpoints=tps,
        )

    def get(self, journey_id: int) -> Journey:
        """The journey with id ``journey_id``."""
        hits = np.flatnonzero(self.journeys.raw("journey_id") == journey_id)
        if hits.size == 0:
            msg = f"no journey with id {journey_id}"
            raise KeyError(msg)
        return self[int(hits[0])]

    def for_customer(self, customer: Any) -> list[Journey]:
        """All journeys of one customer, in time order."""
        labels = self.touchpoints.labels("customer")
        pos = np.flatnonzero(labels == customer)
        if pos.size == 0:
            return []
        return [self[int(i)] for i in np.flatnonzero(self.journeys.raw("customer") == pos[0])]

    def channels_of(self, i: int) -> tuple[str, ...]:
        """Channel labels used by the i-th journey, in order of first use."""
        rows = self.rows_of(i)
        codes = self.touchpoints.raw("channel")[rows]
        _, first = np.unique(codes, return_index=True)
        return tuple(self.touchpoints.labels("channel")[codes[np.sort(first)]].tolist())

    @property
    def end_reasons(self) -> dict[str, int]:
        """Number of journeys per end reason."""
        counts = np.bincount(self.journeys.raw("end_reason").astype(np.int64), minlength=len(_ENUM))
        return {r.value: int(k) for r, k in zip(_ENUM, counts) if k}

    def to_table(self) -> Table:
        """The result's table (``journeys``), as the exports hand it over."""
        return self.journeys

    def to_pandas(self) -> Any:
        """The per-journey table as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.journeys.to_pandas()

    def touchpoint_table(self) -> Table:
        """The input touchpoints with their ``visit_id`` and ``journey_id`` columns added."""
        tp = self.touchpoints[self.carried :] if self.carried else self.touchpoints
        return tp.with_column("visit_id", self.visit_id, kind="int").with_column(
            "journey_id", self.journey_id, kind="int"
        )

    def summary(self) -> str:
        """A few readable lines: counts, conversion, end reasons, and one line per rule that
        matched no touchpoint."""
        j = self.journeys
        n = len(j)
        conv = int(j.raw("converted").sum())
        lines = [
            f"{n:,} journeys of {np.unique(j.raw('customer')).size:,} customers from "
            f"{int(j.raw('n_touchpoints').sum()):,} touchpoints "
            f"({int(j.raw('n_visits').sum()):,} visits)",
            f"converted: {conv:,} ({100 * conv / max(n, 1):.1f}%), value {j.raw('value').sum():,.2f}",
            "ended by: " + ", ".join(f"{k} {v:,}" for k, v in self.end_reasons.items()),
        ]
        lines.extend(f"unmatched: {u.line}" for u in self.unmatched)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "JourneyTable: " + self.summary()


# --------------------------------------------------------------------------- JSON


def _to_state(jt: JourneyTable, unstructure: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "touchpoints": unstructure(jt.touchpoints),
        "journeys": unstructure(jt.journeys),
        "journey_all": unstructure(jt._all_journey),
        "visit_all": unstructure(jt._all_visit),
        "order": None if jt._order is None else unstructure(jt._order),
        "offsets": unstructure(jt.offsets),
        "carried": jt.carried,
        "rules": unstructure(jt.rules),
        "state": unstructure(jt.state),
    }


def _from_state(state: dict[str, Any], structure: Callable[[Any, Any], Any]) -> JourneyTable:
    return JourneyTable(
        touchpoints=structure(state["touchpoints"], TouchpointTable),
        journeys=structure(state["journeys"], Table),
        rules=structure(state["rules"], JourneyRules),
        state=structure(state["state"], SessionState),
        offsets=structure(state["offsets"], np.ndarray),
        carried=int(state["carried"]),
        all_journey=structure(state["journey_all"], np.ndarray),
        all_visit=structure(state["visit_all"], np.ndarray),
        order=None if state["order"] is None else structure(state["order"], np.ndarray),
    )


register_json_state(
    JourneyTable,
    tag="omnijourney.journeys:JourneyTable",
    to_state=_to_state,
    from_state=_from_state,
)

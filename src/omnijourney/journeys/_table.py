"""JourneyTable: the result of sessionization, and the state carried between batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import run_ends, run_heads, run_starts
from omnijourney._display import TableResult
from omnijourney.io import register_json_state
from omnijourney.journeys._rules import JourneyRules
from omnijourney.journeys._unmatched import UnmatchedRule, journey_rules_unmatched
from omnijourney.model import EndReason, Journey
from omnijourney.tables import ColumnSpec, Table, TouchpointTable, code_dtype, concat
from omnijourney.time import TIME_DTYPE, as_datetime

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


class JourneyTable(TableResult):
    """Visits and journeys of a set of touchpoints.

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

    def __init__(self) -> None:  # built by _build / _combine only
        self.touchpoints: TouchpointTable
        self.journey_id: np.ndarray
        self.visit_id: np.ndarray
        self.journeys: Table
        self._order: np.ndarray | None = None
        self.offsets: np.ndarray
        self._all_journey: np.ndarray
        self._all_visit: np.ndarray
        self._identity = False
        self.rules: JourneyRules
        self.state: SessionState
        self.carried: int = 0
        self._cache: dict[str, np.ndarray] = {}
        self._unmatched: tuple[UnmatchedRule, ...] | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def _build(
        cls,
        tp: TouchpointTable,
        rules: JourneyRules,
        rows: dict[str, np.ndarray],
        *,
        order: np.ndarray,
        identity: bool,
        reason_codes: np.ndarray,
        carried: int,
        n_input: int,
        as_of_us: int | None,
        closed: bool,
        state: SessionState | None,
        matched: frozenset[str],
        end_reason_override: np.ndarray | None = None,
    ) -> JourneyTable:
        """Assemble the result from per-row arrays in canonical order.

        ``rows`` holds ``c`` (customer codes), ``t`` (int64 times), ``ch`` (channel codes),
        ``conv``, ``stage_rank``, ``j_start``, ``v_start`` and ``start_reason``; they are
        released as soon as they are used, to keep peak memory low. ``matched`` names the
        label rules that some row of ``tp`` matches.
        """
        n = len(tp)
        j_start = rows.pop("j_start")
        v_start = rows.pop("v_start")
        starts = np.flatnonzero(j_start)
        n_j = starts.size
        ends = np.append(starts[1:], n) if n_j else np.zeros(0, dtype=np.int64)
        # per-journey customer, times and channels first: the widest per-row arrays go early
        cust = rows.pop("c")[starts].astype(np.int64)
        t = rows.pop("t")
        start_t, end_t = t[starts], t[ends - 1]
        del t
        ch = rows.pop("ch")
        ch_labels = tp.labels("channel")
        first_channel, last_channel = ch[starts], ch[ends - 1]
        channels = None
        if ch_labels.size <= 63:
            width = next(w for w in (8, 16, 32, 64) if ch_labels.size <= w - (w == 64))
            bit_type = np.dtype(f"uint{width}")
            bits = np.left_shift(bit_type.type(1), ch.astype(bit_type))
            channels = np.bitwise_or.reduceat(bits, starts) if n else np.zeros(0, bit_type)
            del bits
        del ch
        id_type = np.int32 if n < 2**31 - 1 else np.int64
        next_j = state.next_journey_id if state is not None else 0
        next_v = state.next_visit_id if state is not None else 0

        # ids: journeys and visits are numbered in canonical order; with a carried state,
        # carried journeys and visits keep their ids and new ones continue the numbering
        local_visit = np.cumsum(v_start, dtype=id_type)
        local_visit -= 1
        n_v = int(local_visit[-1]) + 1 if n else 0
        v_starts = np.flatnonzero(v_start) if carried else np.zeros(0, np.int64)
        del v_start
        n_visits = (
            (local_visit[ends - 1] - local_visit[starts] + 1).astype(np.int32)
            if n_j
            else np.zeros(0, np.int32)
        )
        local_journey = np.cumsum(j_start, dtype=id_type)
        local_journey -= 1
        del j_start
        j_ids = next_j + np.arange(n_j, dtype=np.int64)
        v_ids = next_v + np.arange(v_starts.size, dtype=np.int64)  # only with carried rows
        if carried and state is not None:
            first_rows = starts if identity else order[starts]
            old = first_rows < carried
            j_ids[old] = state.open_journey_id[first_rows[old]]
            j_ids[~old] = next_j + np.arange(int((~old).sum()), dtype=np.int64)
            vf = v_starts if identity else order[v_starts]
            vold = vf < carried
            v_ids[vold] = state.open_visit_id[vf[vold]]
            v_ids[~vold] = next_v + np.arange(int((~vold).sum()), dtype=np.int64)
        del v_starts

        # per-journey aggregates: counts from the running sums, sums over the few conversions
        conv = rows.pop("conv")
        conv_rows = np.flatnonzero(conv)
        ends_conv = conv[ends - 1] & rules.end_at_conversion
        del conv
        j_of_conv = local_journey[conv_rows]
        n_conv = np.bincount(j_of_conv, minlength=n_j).astype(np.int32)
        converted = n_conv > 0
        if "value" in tp.columns and conv_rows.size:
            value = tp.raw("value")[conv_rows if identity else order[conv_rows]]
            total: np.ndarray = np.bincount(
                j_of_conv, weights=np.where(np.isnan(value), 0.0, value), minlength=n_j
            )
        else:
            total = np.zeros(n_j)
        stage_rank = rows.pop("stage_rank")
        rank = (
            np.maximum.reduceat(stage_rank, starts).astype(np.int64) if n else np.zeros(0, np.int64)
        )
        del stage_rank
        start_reason = rows.pop("start_reason")
        nxt = start_reason[starts[1:]] if n_j > 1 else np.zeros(0, np.int8)
        del start_reason

        # returning: the customer converted in an earlier journey (here or in earlier batches)
        cum = np.cumsum(converted, dtype=np.int32)
        base = run_heads(run_starts(cust), np.int32)
        returning = (cum - converted) > (cum[base] - converted[base])
        del cum, base
        if state is not None and state.converted_customers.size:
            cust_labels = tp.labels("customer")
            known = np.isin(cust_labels, state.converted_customers)
            returning |= known[cust]
        stages = rules.stages
        if stages.retention_stage is not None:
            ret = stages.stages.index(stages.retention_stage)
            rank = np.where(returning & ~converted, ret, rank)
        # end reasons: the next journey's start reason, or the customer's last journey status
        end_reason = np.empty(n_j, dtype=np.int8)
        if n_j:
            end_reason[:-1] = reason_codes[nxt]
            last = run_ends(cust)
            if closed:
                status = np.full(n_j, _E[EndReason.CUSTOMER_CHANGE], dtype=np.int8)
            else:
                status = np.full(n_j, _E[EndReason.END_OF_DATA], dtype=np.int8)
                if rules.journey_timeout is not None and as_of_us is not None:
                    idle = as_of_us - end_t
                    limit = int(rules.journey_timeout.astype(np.int64))
                    timed = idle >= limit if rules.timeout_inclusive else idle > limit
                    status[timed] = _E[EndReason.TIMEOUT]
            status[ends_conv] = _E[EndReason.CONVERSION]
            end_reason[last] = status[last]
        if end_reason_override is not None:
            end_reason = end_reason_override.astype(np.int8)

        stage_names = np.array(stages.stages, dtype=object)
        sorted_names = np.array(sorted(stages.stages), dtype=object)
        stage_code = np.searchsorted(sorted_names, stage_names)
        stage = np.where(rank >= 0, stage_code[np.maximum(rank, 0)], -1)
        data: dict[str, np.ndarray] = {
            "journey_id": j_ids,
            "customer": cust.astype(tp.raw("customer").dtype),
            "start": start_t.view(TIME_DTYPE),
            "end": end_t.view(TIME_DTYPE),
            "n_touchpoints": (ends - starts).astype(np.int32),
            "n_visits": n_visits,
            "first_channel": first_channel.astype(code_dtype(ch_labels.size)),
            "last_channel": last_channel.astype(code_dtype(ch_labels.size)),
        }
        if channels is not None:  # bit k set when the journey used channel label k
            data["channels"] = (
                channels.astype(channels.dtype.str.replace("u", "i"))
                if (ch_labels.size < 8 * channels.dtype.itemsize)
                else channels.astype(np.int64)
            )
        data.update(
            {
                "converted": converted,
                "n_conversions": n_conv,
                "value": total.astype(np.float64),
                "stage": stage.astype(np.int8),
                "stage_rank": rank.astype(np.int8),
                "returning": returning,
                "end_reason": end_reason,
            }
        )
        labels = {
            "customer": tp.labels("customer"),
            "first_channel": ch_labels,
            "last_channel": ch_labels,
            "stage": sorted_names,
        }
        journeys = Table.from_arrays(
            data,
            labels,
            specs={"end_reason": ColumnSpec("end_reason", "enum", enum=EndReason)},
            meta={"category_order": {"stage": tuple(stages.stages)}},
        )

        # ids per row, in the input's row order
        if carried and state is not None:
            sorted_journey = j_ids.astype(id_type)[local_journey]
            sorted_visit = v_ids.astype(id_type)[local_visit]
        else:
            sorted_journey, sorted_visit = local_journey, local_visit
            if next_j:
                sorted_journey += next_j
            if next_v:
                sorted_visit += next_v
        del local_journey, local_visit
        if identity:
            jid, vid = sorted_journey, sorted_visit
        else:
            jid = np.empty(n, dtype=id_type)
            jid[order] = sorted_journey
            del sorted_journey
            vid = np.empty(n, dtype=id_type)
            vid[order] = sorted_visit
            del sorted_visit

        out = cls()
        out.touchpoints = tp
        out.rules = rules
        out._order = None if identity else order
        out.offsets = np.append(starts, n).astype(np.int64)  # [0] when there are no journeys
        out.carried = carried
        out._all_journey = jid
        out._all_visit = vid
        out._identity = identity
        out.journey_id = jid[carried:]
        out.visit_id = vid[carried:]
        out.journeys = journeys
        out.state = out._next_state(
            state,
            as_of_us,
            closed,
            end_reason,
            starts,
            ends,
            converted,
            cust,
            j_ids,
            int(v_ids.max()) + 1 if v_ids.size else next_v + n_v,
            matched,
        )
        assert out.journey_id.size == n_input
        return out

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

    def _take_order(self, positions: np.ndarray) -> np.ndarray:
        """Rows of ``touchpoints`` at the given canonical positions."""
        return positions if self._order is None else self._order[positions]

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

    def _next_state(
        self,
        prev_state: SessionState | None,
        as_of_us: int | None,
        closed: bool,
        end_reason: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        converted: np.ndarray,
        cust: np.ndarray,
        j_ids: np.ndarray,
        next_visit: int,
        matched: frozenset[str],
    ) -> SessionState:
        tp = self.touchpoints
        is_open = end_reason == _E[EndReason.END_OF_DATA]
        lengths = (ends - starts)[is_open]
        first = starts[is_open]
        # sorted positions of the open journeys' rows, then the same rows in table order
        sel = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        rows = np.sort(self._take_order(sel))
        open_rows = tp.take(rows)
        labels = tp.labels("customer")
        conv_customers = np.unique(cust[converted]) if converted.size else np.zeros(0, np.int64)
        converted_labels = labels[conv_customers]
        last_campaign = _last_campaign(tp, self._order)
        if prev_state is not None:
            converted_labels = np.union1d(prev_state.converted_customers, converted_labels)
            last_campaign = _update_campaigns(prev_state.last_campaign, last_campaign)
            matched = matched | prev_state.matched_rules
        as_of = np.datetime64(as_of_us if as_of_us is not None else 0, "us")
        if closed:
            as_of = np.datetime64(int(tp.raw("time").view(np.int64).max()) if len(tp) else 0, "us")
        return SessionState(
            rules=self.rules,
            as_of=as_of,
            open_rows=open_rows.compact() if len(open_rows) else open_rows,
            open_journey_id=self._all_journey[rows].astype(np.int64),
            open_visit_id=self._all_visit[rows].astype(np.int64),
            next_journey_id=max(
                int(j_ids.max()) + 1 if j_ids.size else 0,
                prev_state.next_journey_id if prev_state is not None else 0,
            ),
            next_visit_id=max(
                next_visit, prev_state.next_visit_id if prev_state is not None else 0
            ),
            converted_customers=np.asarray(converted_labels, dtype=object),
            last_campaign=last_campaign,
            matched_rules=matched,
        )

    # ------------------------------------------------------------------ access

    @property
    def unmatched(self) -> tuple[UnmatchedRule, ...]:
        """The label rules of ``rules`` that no touchpoint matched (see the class docs)."""
        if self._unmatched is None:
            self._unmatched = journey_rules_unmatched(
                self.touchpoints, self.rules, self.state.matched_rules
            )
        return self._unmatched

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

    # ------------------------------------------------------------------ batches

    @classmethod
    def _combine(cls, results: Sequence[JourneyTable]) -> JourneyTable:
        """One table from the results of consecutive batches, numbered as a one-shot run."""
        from omnijourney.journeys._sessionize import sessionize_partition

        inputs = [r.touchpoints[r.carried :] if r.carried else r.touchpoints for r in results]
        tp = concat(inputs)
        journey = np.concatenate([r.journey_id for r in results])
        visit = np.concatenate([r.visit_id for r in results])
        last = results[-1]
        final_reason: dict[int, int] = {}
        for r in results:
            ids = r.journeys.raw("journey_id")
            for jid, reason in zip(ids.tolist(), r.journeys.raw("end_reason").tolist()):
                final_reason[jid] = reason
        return sessionize_partition(tp, last.rules, journey, visit, final_reason, state=last.state)


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
    out = JourneyTable()
    out.touchpoints = structure(state["touchpoints"], TouchpointTable)
    out.journeys = structure(state["journeys"], Table)
    out._all_journey = structure(state["journey_all"], np.ndarray)
    out._all_visit = structure(state["visit_all"], np.ndarray)
    out._order = None if state["order"] is None else structure(state["order"], np.ndarray)
    out._identity = state["order"] is None
    out.offsets = structure(state["offsets"], np.ndarray)
    out.carried = int(state["carried"])
    out.journey_id = out._all_journey[out.carried :]
    out.visit_id = out._all_visit[out.carried :]
    out.rules = structure(state["rules"], JourneyRules)
    out.state = structure(state["state"], SessionState)
    return out


register_json_state(
    JourneyTable,
    tag="omnijourney.journeys:JourneyTable",
    to_state=_to_state,
    from_state=_from_state,
)


# --------------------------------------------------------------------------- helpers


def _last_campaign(tp: TouchpointTable, order: np.ndarray | None) -> Table:
    if "campaign" not in tp.columns or len(tp) == 0:
        return Table.from_columns(
            {"customer": np.zeros(0, dtype=object), "campaign": np.zeros(0, dtype=object)},
            kinds={"customer": "category", "campaign": "category"},
        )
    camp = tp.raw("campaign") if order is None else tp.raw("campaign")[order]
    cust = tp.raw("customer") if order is None else tp.raw("customer")[order]
    has = np.flatnonzero(camp >= 0)
    if has.size == 0:
        return Table.from_columns(
            {"customer": np.zeros(0, dtype=object), "campaign": np.zeros(0, dtype=object)},
            kinds={"customer": "category", "campaign": "category"},
        )
    rows = has[run_ends(cust[has])]
    return Table.from_columns(
        {
            "customer": tp.labels("customer")[cust[rows]],
            "campaign": tp.labels("campaign")[camp[rows]],
        },
        kinds={"customer": "category", "campaign": "category"},
    )


def _update_campaigns(old: Table, new: Table) -> Table:
    """Per customer, the newest known last campaign (``new`` wins)."""
    if len(old) == 0:
        return new
    if len(new) == 0:
        return old
    keep = ~np.isin(old["customer"], new["customer"])
    return concat([old.filter(keep), new]).compact()

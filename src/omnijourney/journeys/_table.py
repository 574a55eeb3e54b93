"""JourneyTable: the result of sessionization, and the state carried between batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._columns import code_dtype
from omnijourney.errors import ConfigError
from omnijourney.journeys._rules import JourneyRules
from omnijourney.model import EndReason, Journey
from omnijourney.tables import Table, TouchpointTable, concat
from omnijourney.time import TIME_DTYPE, as_datetime

__all__ = ["JourneyTable", "SessionState"]

_ENUM = list(EndReason)
_E = {r: i for i, r in enumerate(_ENUM)}


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

    def __repr__(self) -> str:
        return (
            f"SessionState(as_of={self.as_of}, {len(self.open_rows):,} touchpoints in "
            f"{np.unique(self.open_journey_id).size:,} open journeys, next journey id "
            f"{self.next_journey_id:,})"
        )


def _reduce_any(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    return np.logical_or.reduceat(values, starts)


class JourneyTable:
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
    """

    def __init__(self) -> None:  # built by _build / _combine only
        self.touchpoints: TouchpointTable
        self.journey_id: np.ndarray
        self.visit_id: np.ndarray
        self.journeys: Table
        self.order: np.ndarray
        self.offsets: np.ndarray
        self.sorted_journey: np.ndarray
        self.sorted_visit: np.ndarray
        self.rules: JourneyRules
        self.state: SessionState
        self.carried: int = 0

    # ------------------------------------------------------------------ construction

    @classmethod
    def _build(
        cls,
        tp: TouchpointTable,
        rules: JourneyRules,
        *,
        order: np.ndarray,
        c: np.ndarray,
        t: np.ndarray,
        ch: np.ndarray,
        conv: np.ndarray,
        stage_rank: np.ndarray,
        j_start: np.ndarray,
        v_start: np.ndarray,
        start_reason: np.ndarray,
        reason_codes: np.ndarray,
        carried: int,
        n_input: int,
        as_of_us: int | None,
        closed: bool,
        state: SessionState | None,
        end_reason_override: np.ndarray | None = None,
    ) -> JourneyTable:
        n = order.size
        starts = np.flatnonzero(j_start)
        n_j = starts.size
        ends = np.append(starts[1:], n) if n_j else np.zeros(0, dtype=np.int64)
        next_j = state.next_journey_id if state is not None else 0
        next_v = state.next_visit_id if state is not None else 0

        # ids: carried journeys and visits keep theirs, new ones are numbered in order
        j_of_row = np.cumsum(j_start, dtype=np.int64) - 1
        v_of_row = np.cumsum(v_start, dtype=np.int64) - 1
        j_ids = next_j + np.arange(n_j, dtype=np.int64)
        v_starts = np.flatnonzero(v_start)
        v_ids = next_v + np.arange(v_starts.size, dtype=np.int64)
        if carried and state is not None:
            first_rows = order[starts]
            old = first_rows < carried
            j_ids[old] = state.open_journey_id[first_rows[old]]
            j_ids[~old] = next_j + np.arange(int((~old).sum()), dtype=np.int64)
            vf = order[v_starts]
            vold = vf < carried
            v_ids[vold] = state.open_visit_id[vf[vold]]
            v_ids[~vold] = next_v + np.arange(int((~vold).sum()), dtype=np.int64)
        sorted_journey = j_ids[j_of_row] if n else np.zeros(0, dtype=np.int64)
        sorted_visit = v_ids[v_of_row] if n else np.zeros(0, dtype=np.int64)

        # per-journey aggregates
        cust = c[starts]
        value = tp.raw("value")[order] if "value" in tp.columns else np.zeros(n)
        conv_value = np.where(conv & ~np.isnan(value), value, 0.0)
        converted = _reduce_any(conv, starts)
        n_conv = np.add.reduceat(conv.astype(np.int64), starts) if n else np.zeros(0, np.int64)
        total = np.add.reduceat(conv_value, starts) if n else np.zeros(0)
        n_visits = np.add.reduceat(v_start.astype(np.int64), starts) if n else np.zeros(0, np.int64)
        rank = np.maximum.reduceat(stage_rank, starts) if n else np.zeros(0, np.int64)
        # returning: the customer converted in an earlier journey (here or in earlier batches)
        cum = np.cumsum(converted.astype(np.int64))
        first_of_customer = np.ones(n_j, dtype=bool)
        first_of_customer[1:] = cust[1:] != cust[:-1]
        base = np.maximum.accumulate(np.where(first_of_customer, np.arange(n_j), 0))
        before = cum - converted - (cum[base] - converted[base])
        returning = before > 0
        if state is not None and state.converted_customers.size:
            labels = tp.labels("customer")
            known = np.isin(labels, state.converted_customers)
            returning |= known[cust]
        stages = rules.stages
        if stages.retention_stage is not None:
            ret = stages.stages.index(stages.retention_stage)
            rank = np.where(returning & ~converted, ret, rank)
        # end reasons: the next journey's start reason, or the customer's last journey status
        end_reason = np.empty(n_j, dtype=np.int8)
        if n_j:
            nxt = start_reason[starts[1:]] if n_j > 1 else np.zeros(0, np.int8)
            end_reason[:-1] = reason_codes[nxt]
            last = np.ones(n_j, dtype=bool)
            last[:-1] = cust[1:] != cust[:-1]
            ends_conv = conv[ends - 1] & rules.end_at_conversion
            if closed:
                status = np.full(n_j, _E[EndReason.CUSTOMER_CHANGE], dtype=np.int8)
            else:
                status = np.full(n_j, _E[EndReason.END_OF_DATA], dtype=np.int8)
                if rules.journey_timeout is not None and as_of_us is not None:
                    idle = as_of_us - t[ends - 1]
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
        ch_labels = tp.labels("channel")
        data: dict[str, np.ndarray] = {
            "journey_id": j_ids,
            "customer": cust.astype(tp.raw("customer").dtype),
            "start": t[starts].view(TIME_DTYPE),
            "end": t[ends - 1].view(TIME_DTYPE),
            "n_touchpoints": (ends - starts).astype(np.int64),
            "n_visits": n_visits.astype(np.int64),
            "first_channel": ch[starts].astype(code_dtype(ch_labels.size)),
            "last_channel": ch[ends - 1].astype(code_dtype(ch_labels.size)),
        }
        if ch_labels.size <= 63:
            bits = np.left_shift(np.int64(1), ch)
            data["channels"] = np.bitwise_or.reduceat(bits, starts) if n else np.zeros(0, np.int64)
        data.update(
            {
                "converted": converted,
                "n_conversions": n_conv.astype(np.int64),
                "value": total.astype(np.float64),
                "stage": stage.astype(np.int8),
                "stage_rank": rank.astype(np.int64),
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
        from omnijourney._columns import ColumnSpec

        journeys = Table._from_parts(
            data,
            labels,
            specs={"end_reason": ColumnSpec("end_reason", "enum", enum=EndReason)},
        )

        out = cls()
        out.touchpoints = tp
        out.rules = rules
        out.order = order
        out.offsets = np.append(starts, n).astype(np.int64)  # [0] when there are no journeys
        out.sorted_journey = sorted_journey
        out.sorted_visit = sorted_visit
        out.carried = carried
        jid = np.empty(n, dtype=np.int64)
        vid = np.empty(n, dtype=np.int64)
        jid[order] = sorted_journey
        vid[order] = sorted_visit
        out.journey_id = jid[carried:]
        out.visit_id = vid[carried:]
        out.journeys = journeys
        out.state = out._next_state(
            state, as_of_us, closed, end_reason, starts, ends, converted, cust, j_ids, v_ids
        )
        assert out.journey_id.size == n_input
        return out

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
        v_ids: np.ndarray,
    ) -> SessionState:
        tp = self.touchpoints
        is_open = end_reason == _E[EndReason.END_OF_DATA]
        sel = (
            np.concatenate([np.arange(s, e) for s, e in zip(starts[is_open], ends[is_open])])
            if is_open.any()
            else np.zeros(0, dtype=np.int64)
        )
        rows = self.order[sel]
        open_rows = tp.take(np.sort(rows))
        pos = np.empty(len(tp), dtype=np.int64)
        pos[self.order] = np.arange(len(tp))
        sorted_pos = pos[np.sort(rows)]
        labels = tp.labels("customer")
        conv_customers = np.unique(cust[converted]) if converted.size else np.zeros(0, np.int64)
        converted_labels = labels[conv_customers]
        last_campaign = _last_campaign(tp, self.order)
        if prev_state is not None:
            converted_labels = np.union1d(prev_state.converted_customers, converted_labels)
            last_campaign = _update_campaigns(prev_state.last_campaign, last_campaign)
        as_of = np.datetime64(as_of_us if as_of_us is not None else 0, "us")
        if closed:
            as_of = np.datetime64(int(tp.raw("time").view(np.int64).max()) if len(tp) else 0, "us")
        return SessionState(
            rules=self.rules,
            as_of=as_of,
            open_rows=open_rows.compact() if len(open_rows) else open_rows,
            open_journey_id=self.sorted_journey[sorted_pos],
            open_visit_id=self.sorted_visit[sorted_pos],
            next_journey_id=max(
                int(j_ids.max()) + 1 if j_ids.size else 0,
                prev_state.next_journey_id if prev_state is not None else 0,
            ),
            next_visit_id=max(
                int(v_ids.max()) + 1 if v_ids.size else 0,
                prev_state.next_visit_id if prev_state is not None else 0,
            ),
            converted_customers=np.asarray(converted_labels, dtype=object),
            last_campaign=last_campaign,
        )

    # ------------------------------------------------------------------ access

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
        rows = self.order[self.offsets[i] : self.offsets[i + 1]]
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
        rows = self.order[self.offsets[i] : self.offsets[i + 1]]
        codes = self.touchpoints.raw("channel")[rows]
        _, first = np.unique(codes, return_index=True)
        return tuple(self.touchpoints.labels("channel")[codes[np.sort(first)]].tolist())

    @property
    def end_reasons(self) -> dict[str, int]:
        """Number of journeys per end reason."""
        counts = np.bincount(self.journeys.raw("end_reason").astype(np.int64), minlength=len(_ENUM))
        return {r.value: int(k) for r, k in zip(_ENUM, counts) if k}

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
        """A few readable lines: counts, conversion, end reasons."""
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


def _last_campaign(tp: TouchpointTable, order: np.ndarray) -> Table:
    if "campaign" not in tp.columns or len(tp) == 0:
        return Table.from_columns(
            {"customer": np.zeros(0, dtype=object), "campaign": np.zeros(0, dtype=object)},
            kinds={"customer": "category", "campaign": "category"},
        )
    camp = tp.raw("campaign")[order]
    cust = tp.raw("customer")[order]
    has = np.flatnonzero(camp >= 0)
    if has.size == 0:
        return Table.from_columns(
            {"customer": np.zeros(0, dtype=object), "campaign": np.zeros(0, dtype=object)},
            kinds={"customer": "category", "campaign": "category"},
        )
    c = cust[has]
    last = np.ones(has.size, dtype=bool)
    last[:-1] = c[1:] != c[:-1]
    rows = has[last]
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


def check_rules(rules: Any) -> JourneyRules:
    if not isinstance(rules, JourneyRules):
        msg = f"rules must be a JourneyRules, got {type(rules).__name__}"
        raise ConfigError(msg)
    return rules

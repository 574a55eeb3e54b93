"""Assembling a journey table from the cuts of sessionization.

Sessionization (``_sessionize``) finds where journeys and visits start in the canonical row
order; here those cuts become the result: journey and visit ids (continuing a carried state's
numbering), one row per journey with its aggregates, end reasons, and the state that the next
batch carries.
"""

from __future__ import annotations

import numpy as np

from omnijourney._arrays import run_ends, run_heads, run_starts
from omnijourney.journeys._rules import JourneyRules
from omnijourney.journeys._table import JourneyTable, SessionState
from omnijourney.model import EndReason
from omnijourney.tables import ColumnSpec, Table, TouchpointTable, code_dtype, concat
from omnijourney.time import TIME_DTYPE

__all__ = ["assemble"]

_E = {r: i for i, r in enumerate(EndReason)}


def assemble(
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
    """The journey table from per-row arrays in canonical order.

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
    rank = np.maximum.reduceat(stage_rank, starts).astype(np.int64) if n else np.zeros(0, np.int64)
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

    stored_order = None if identity else order
    carried_state = _next_state(
        tp,
        rules,
        stored_order,
        jid,
        vid,
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
    out = JourneyTable(
        touchpoints=tp,
        journeys=journeys,
        rules=rules,
        state=carried_state,
        offsets=np.append(starts, n).astype(np.int64),  # [0] when there are no journeys
        carried=carried,
        all_journey=jid,
        all_visit=vid,
        order=stored_order,
    )
    assert out.journey_id.size == n_input
    return out


def _next_state(
    tp: TouchpointTable,
    rules: JourneyRules,
    order: np.ndarray | None,
    all_journey: np.ndarray,
    all_visit: np.ndarray,
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
    """What the next batch needs: the rows of the journeys still open, their ids, the next
    ids, the customers who converted, each customer's last campaign, the rules matched."""
    is_open = end_reason == _E[EndReason.END_OF_DATA]
    lengths = (ends - starts)[is_open]
    first = starts[is_open]
    # sorted positions of the open journeys' rows, then the same rows in table order
    sel = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    rows = np.sort(sel if order is None else order[sel])
    open_rows = tp.take(rows)
    labels = tp.labels("customer")
    conv_customers = np.unique(cust[converted]) if converted.size else np.zeros(0, np.int64)
    converted_labels = labels[conv_customers]
    last_campaign = _last_campaign(tp, order)
    if prev_state is not None:
        converted_labels = np.union1d(prev_state.converted_customers, converted_labels)
        last_campaign = _update_campaigns(prev_state.last_campaign, last_campaign)
        matched = matched | prev_state.matched_rules
    as_of = np.datetime64(as_of_us if as_of_us is not None else 0, "us")
    if closed:
        as_of = np.datetime64(int(tp.raw("time").view(np.int64).max()) if len(tp) else 0, "us")
    return SessionState(
        rules=rules,
        as_of=as_of,
        open_rows=open_rows.compact() if len(open_rows) else open_rows,
        open_journey_id=all_journey[rows].astype(np.int64),
        open_visit_id=all_visit[rows].astype(np.int64),
        next_journey_id=max(
            int(j_ids.max()) + 1 if j_ids.size else 0,
            prev_state.next_journey_id if prev_state is not None else 0,
        ),
        next_visit_id=max(next_visit, prev_state.next_visit_id if prev_state is not None else 0),
        converted_customers=np.asarray(converted_labels, dtype=object),
        last_campaign=last_campaign,
        matched_rules=matched,
    )


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

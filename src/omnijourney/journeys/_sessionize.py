"""Sessionization: touchpoints -> visits -> journeys, vectorized over the sorted columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from omnijourney._arrays import run_heads, run_starts
from omnijourney.errors import ConfigError, DataError
from omnijourney.journeys._assemble import assemble
from omnijourney.journeys._rules import JourneyRules
from omnijourney.journeys._table import JourneyTable, SessionState
from omnijourney.journeys._unmatched import journey_rules_matched, warn
from omnijourney.model import EndReason
from omnijourney.tables import TouchpointTable, concat
from omnijourney.time import TIME_DTYPE, to_datetime64, utc_to_local

__all__ = ["sessionize", "sessionize_batches"]

_DAY_US = 86_400_000_000
#: Start reasons, in precedence order; the code is the position in this tuple.
_REASONS = (
    EndReason.CUSTOMER_CHANGE,
    EndReason.CONVERSION,
    EndReason.TIMEOUT,
    EndReason.START_EVENT,
    EndReason.CAMPAIGN_CHANGE,
    EndReason.MIDNIGHT,
    EndReason.MAX_TOUCHPOINTS,
    EndReason.MAX_DURATION,
)
_R = {r: i for i, r in enumerate(_REASONS)}
_ENUM_CODE = {r: i for i, r in enumerate(EndReason)}


def _label_mask(labels: np.ndarray, names: Iterable[str]) -> np.ndarray:
    wanted = set(names)
    return np.array([str(x) in wanted for x in labels.tolist()], dtype=bool)


def _mark(reason: np.ndarray, mask: np.ndarray, r: EndReason) -> None:
    """Record start reason ``r`` where ``mask`` holds and no earlier rule already cut."""
    np.putmask(reason, mask & (reason < 0), _R[r])


def _gap_cut(t: np.ndarray, limit: int, inclusive: bool) -> np.ndarray:
    """Rows whose gap since the previous row reaches ``limit`` (row 0: False).

    Computed in chunks so that the int64 gaps of a long table never exist all at once.
    """
    n = t.size
    out = np.zeros(n, dtype=bool)
    step = 1 << 20
    for lo in range(1, n, step):
        hi = min(lo + step, n)
        gap = t[lo:hi] - t[lo - 1 : hi - 1]
        np.greater_equal(gap, limit, out=out[lo:hi]) if inclusive else np.greater(
            gap, limit, out=out[lo:hi]
        )
    return out


def _campaign_change(
    camp: np.ndarray, cust_start: np.ndarray, seed: np.ndarray | None
) -> np.ndarray:
    """Rows whose non-null campaign differs from the customer's previous non-null one."""
    n = camp.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    idx = np.where(camp >= 0, np.arange(n), -1)
    last = np.maximum.accumulate(idx)
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -1
    prev[1:] = last[:-1]
    prev_camp = np.where(prev >= cust_start, camp[np.maximum(prev, 0)], -1)
    if seed is not None:  # carried context: the customer's last campaign before this batch
        prev_camp = np.where(prev_camp >= 0, prev_camp, seed)
    return (camp >= 0) & (prev_camp >= 0) & (camp != prev_camp)


def _limit_cuts(
    t: np.ndarray, hard: np.ndarray, max_n: int | None, max_us: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy cuts inside hard segments for the maximum length and duration rules.

    Returns the cut rows and whether each was caused by the touchpoint limit (else duration).
    """
    n = t.size
    starts = np.flatnonzero(hard)
    ends = np.append(starts[1:], n)
    if max_us is None:
        assert max_n is not None
        seg_start = np.maximum.accumulate(np.where(hard, np.arange(n), 0))
        pos = np.arange(n) - seg_start
        cuts = np.flatnonzero((pos > 0) & (pos % max_n == 0))
        return cuts, np.ones(cuts.size, dtype=bool)
    cur, end = starts, ends
    cut_rows: list[np.ndarray] = []
    by_count: list[np.ndarray] = []
    while cur.size:
        # first row at or after start + max_duration, by vectorized binary search in [cur, end)
        target = t[cur] + max_us
        lo, hi = cur + 1, end.copy()
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            below = np.zeros(cur.size, dtype=bool)
            below[active] = t[mid[active]] < target[active]
            lo = np.where(active & below, mid + 1, lo)
            hi = np.where(active & ~below, mid, hi)
        cand = lo
        count_cut = np.zeros(cur.size, dtype=bool)
        if max_n is not None:
            by_n = cur + max_n
            count_cut = by_n <= cand  # equal: both rules cut here, the count rule wins
            cand = np.minimum(cand, by_n)
        keep = cand < end
        cut_rows.append(cand[keep])
        by_count.append(count_cut[keep])
        cur, end = cand[keep], end[keep]
    if not cut_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    rows = np.concatenate(cut_rows)
    flags = np.concatenate(by_count)
    order = np.argsort(rows, kind="stable")
    return rows[order], flags[order]


def sessionize(
    touchpoints: TouchpointTable,
    rules: JourneyRules | None = None,
    *,
    as_of: Any = None,
    state: SessionState | None = None,
) -> JourneyTable:
    """Cut touchpoints into visits and journeys.

    Parameters
    ----------
    touchpoints : TouchpointTable
        In any row order; the result is the same for every permutation of the rows.
    rules : JourneyRules, optional
        Timeouts, conversion and start events, limits and splits (defaults documented there).
    as_of : time or "closed", optional
        When the data was extracted. A customer's last journey ends with ``end_of_data``
        (still open) if ``as_of`` is closer to its end than the journey timeout, else with
        ``timeout``. Default: the latest touchpoint time. ``"closed"`` treats the log as
        complete: last journeys end with ``customer_change``.
    state : SessionState, optional
        The ``state`` of the previous batch's result, to continue its open journeys (see
        :func:`sessionize_batches`). Rows must not precede the previous ``as_of``.

    Returns
    -------
    JourneyTable
        ``visit_id`` and ``journey_id`` aligned with the input rows, and one row per journey
        in ``journeys`` (customer, start, end, counts, channels, conversion, value, stage,
        ``end_reason``).

    Raises
    ------
    ConfigError
        Invalid rules or ``as_of``; a ``state`` made with other rules.
    DataError
        Events unknown to a strict stage map; rows older than the carried state.

    Warns
    -----
    OmnijourneyWarning
        For each label rule of ``rules`` (``conversion_events``, the stage map's events,
        ``start_events``, ``single_touch_channels``, ``channel_timeouts``) that no touchpoint
        matches, naming the labels it looks for and those the data has; also listed in
        ``unmatched`` and ``summary()``. With a ``state``, a rule that an earlier batch
        matched counts as matched; an empty batch never warns.

    Notes
    -----
    Rows are ordered by customer and time; ties on time are broken by the ``sequence`` column
    when there is one, then non-conversions before conversions, then event, channel and the
    other columns, so that the order never depends on the input row order. Complexity: one
    sort, O(n log n), then linear passes.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "a"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:10", "2024-05-01T10:20", "2024-06-20"],
    ...     "channel": ["web", "web", "store", "web"],
    ...     "event": ["product_view", "add_to_cart", "purchase", "product_view"]})
    >>> jt = oj.sessionize(tp)
    >>> jt.journey_id.tolist(), jt.visit_id.tolist()
    ([0, 0, 0, 1], [0, 0, 1, 2])
    >>> jt.journeys["end_reason"].tolist()
    ['conversion', 'end_of_data']
    """
    jt = sessionize_quietly(touchpoints, rules, as_of, state)
    if len(jt.journey_id):
        warn(jt.unmatched)
    return jt


def sessionize_quietly(
    touchpoints: TouchpointTable,
    rules: JourneyRules | None,
    as_of: Any,
    state: SessionState | None,
) -> JourneyTable:
    """:func:`sessionize` without the warnings."""
    rules = JourneyRules() if rules is None else rules
    if not isinstance(rules, JourneyRules):
        msg = f"rules must be a JourneyRules, got {type(rules).__name__}"
        raise ConfigError(msg)
    if not isinstance(touchpoints, TouchpointTable):
        msg = f"touchpoints must be a TouchpointTable, got {type(touchpoints).__name__}"
        raise ConfigError(msg)
    n_input = len(touchpoints)
    carried = 0
    data = touchpoints
    if state is not None:
        if state.rules != rules:
            msg = "the state was made with other rules; pass the same JourneyRules"
            raise ConfigError(msg)
        data, carried = _with_carried(touchpoints, state)
    closed = isinstance(as_of, str) and as_of == "closed"
    as_of_us: int | None = None
    if not closed:
        if as_of is not None:
            as_of_us = int(to_datetime64(as_of, name="as_of").astype(np.int64))
        elif len(data):
            as_of_us = int(data.raw("time").view(np.int64).max())
        if state is not None and as_of_us is not None:
            as_of_us = max(as_of_us, int(state.as_of.astype(np.int64)))
    return _sessionize(data, rules, carried, n_input, as_of_us, closed, state)


def _with_carried(batch: TouchpointTable, state: SessionState) -> tuple[TouchpointTable, int]:
    open_rows = state.open_rows
    if len(batch) and int(batch.raw("time").view(np.int64).min()) < int(
        state.as_of.astype(np.int64)
    ):
        times = batch.raw("time")
        bad = np.flatnonzero(times < state.as_of)
        raise DataError(
            "precedes the as_of of the carried state; batches must be in time order",
            table="TouchpointTable",
            column="time",
            rows=bad,
            values=[str(v) for v in times[bad[:5]]],
        )
    if len(open_rows) == 0:
        return batch, 0
    if open_rows.columns != batch.columns:
        msg = (
            "the batch has other columns than the carried state "
            f"({list(batch.columns)} vs {list(open_rows.columns)})"
        )
        raise ConfigError(msg)
    return concat([open_rows, batch]), len(open_rows)


def _sessionize(
    tp: TouchpointTable,
    rules: JourneyRules,
    carried: int,
    n_input: int,
    as_of_us: int | None,
    closed: bool,
    state: SessionState | None,
) -> JourneyTable:
    n = len(tp)
    event_labels = tp.labels("event")
    channel_labels = tp.labels("channel")
    conv_of_event = _label_mask(event_labels, rules.conversion_events)
    ev_codes = tp.raw("event")
    is_conv_in = conv_of_event[ev_codes] if n else np.zeros(0, dtype=bool)
    tiebreak: list[Any] = ["sequence"] if "sequence" in tp.columns else []
    tiebreak.append(is_conv_in)
    # the sorted key columns come decoded from the sort key when they fit in one int64
    maybe_order, (c, t) = tp.sorted_keys(tp.SORT_KEY, tiebreak=tiebreak)
    t = t.view(np.int64)
    del is_conv_in
    identity = maybe_order is None
    order = np.arange(0) if maybe_order is None else maybe_order

    if identity:  # already in canonical order: no gathers
        ch, ev = tp.raw("channel"), ev_codes
    else:
        ch = tp.raw("channel")[order]
        ev = ev_codes[order]
    conv = conv_of_event[ev]

    new_cust = np.ones(n, dtype=bool)
    np.not_equal(c[1:], c[:-1], out=new_cust[1:])
    # start reason per row (lowest code wins); -1 = no journey start
    reason = np.full(n, -1, dtype=np.int8)

    _mark(reason, new_cust, EndReason.CUSTOMER_CHANGE)
    if rules.end_at_conversion:
        after = np.zeros(n, dtype=bool)
        after[1:] = conv[:-1]
        _mark(reason, after, EndReason.CONVERSION)
        del after
    if rules.journey_timeout is not None:
        jt = int(rules.journey_timeout.astype(np.int64))
        _mark(reason, _gap_cut(t, jt, rules.timeout_inclusive), EndReason.TIMEOUT)
    if rules.start_events:
        _mark(reason, _label_mask(event_labels, rules.start_events)[ev], EndReason.START_EVENT)
    if rules.split_on_campaign_change and "campaign" in tp.columns:
        camp_codes = tp.raw("campaign") if identity else tp.raw("campaign")[order]
        camp_codes = camp_codes.astype(np.int64)
        cust_start = run_heads(new_cust)
        seed = _campaign_seed(tp, state, c) if state is not None else None
        _mark(reason, _campaign_change(camp_codes, cust_start, seed), EndReason.CAMPAIGN_CHANGE)
    if rules.split_at_midnight and n:
        local = utc_to_local(t.view(TIME_DTYPE), rules.tz).view(np.int64)
        day = np.floor_divide(local, _DAY_US)
        midnight = np.zeros(n, dtype=bool)
        midnight[1:] = day[1:] != day[:-1]
        _mark(reason, midnight, EndReason.MIDNIGHT)
    if rules.max_touchpoints is not None or rules.max_duration is not None:
        max_us = None if rules.max_duration is None else int(rules.max_duration.astype(np.int64))
        cuts, by_count = _limit_cuts(t, reason >= 0, rules.max_touchpoints, max_us)
        reason[cuts[by_count]] = _R[EndReason.MAX_TOUCHPOINTS]
        reason[cuts[~by_count]] = _R[EndReason.MAX_DURATION]
    j_start = reason >= 0

    # visits: a journey start, a channel switch, a single-touch channel, or inactivity
    single = _label_mask(channel_labels, rules.single_touch(tp.channel_catalog))[ch]
    v_start = j_start.copy()
    v_start[1:] |= (ch[1:] != ch[:-1]) | single[1:] | single[:-1]
    timeouts = rules.visit_timeouts(channel_labels.tolist())
    for limit in np.unique(timeouts):  # usually one timeout for every channel
        on = (timeouts == limit)[ch] if timeouts.size > 1 and np.unique(timeouts).size > 1 else True
        v_start |= _gap_cut(t, int(limit), rules.timeout_inclusive) & on
    del single

    stage_rank = rules.stages.ranks(event_labels.tolist())
    if rules.stages.strict:
        _check_events(tp, stage_rank)
    rows = {
        "c": c,
        "t": t,
        "ch": ch,
        "conv": conv,
        "stage_rank": stage_rank.astype(np.int8)[ev],
        "j_start": j_start,
        "v_start": v_start,
        "start_reason": reason,
    }
    del c, t, ch, ev, conv, j_start, v_start, reason, new_cust
    return assemble(
        tp,
        rules,
        rows,
        order=order,
        identity=identity,
        reason_codes=np.array([_ENUM_CODE[r] for r in _REASONS], dtype=np.int8),
        carried=carried,
        n_input=n_input,
        as_of_us=as_of_us,
        closed=closed,
        state=state,
        matched=journey_rules_matched(tp, rules),
    )


def _campaign_seed(tp: TouchpointTable, state: SessionState, c: np.ndarray) -> np.ndarray:
    """Per sorted row, the customer's last campaign code from earlier batches (-1 if none)."""
    ctx = state.last_campaign
    out = np.full(c.size, -1, dtype=np.int64)
    if len(ctx) == 0 or "campaign" not in tp.columns:
        return out
    cust_labels = tp.labels("customer")
    camp_labels = tp.labels("campaign")
    pos = np.searchsorted(cust_labels, ctx["customer"])
    pos = np.minimum(pos, max(cust_labels.size - 1, 0))
    found = cust_labels[pos] == ctx["customer"]
    by_customer = np.full(cust_labels.size, -1, dtype=np.int64)
    cpos = np.searchsorted(camp_labels, ctx["campaign"])
    cpos = np.minimum(cpos, max(camp_labels.size - 1, 0))
    known = camp_labels[cpos] == ctx["campaign"]
    # a campaign not in this batch's dictionary can only differ from the batch's campaigns
    codes = np.where(known, cpos, camp_labels.size)
    by_customer[pos[found]] = codes[found]
    return by_customer[c]


def _check_events(tp: TouchpointTable, rank: np.ndarray) -> None:
    codes = tp.raw("event")
    unknown = rank[codes] < 0
    if unknown.any():
        rows = np.flatnonzero(unknown)
        raise DataError(
            "is not in the stage map (StageMap(strict=True))",
            table="TouchpointTable",
            column="event",
            rows=rows,
            values=tp.labels("event")[codes[rows[:5]]].tolist(),
        )


def sessionize_batches(
    batches: Iterable[TouchpointTable],
    rules: JourneyRules | None = None,
    *,
    as_of: Any = None,
) -> JourneyTable:
    """Sessionize time-ordered batches (daily files...) carrying open journeys between them.

    The result equals ``sessionize(concat(batches), rules, as_of=as_of)``: same journeys, same
    ids, same visits (a property the test suite checks). Each batch is processed with the
    state of the previous one, as a daily pipeline would.

    Rules are checked against all the batches together: a rule that no touchpoint of any
    batch matches warns once (``OmnijourneyWarning``, as :func:`sessionize` does), and a
    batch without a purchase does not warn when another batch has one.

    Parameters
    ----------
    batches : iterable of TouchpointTable
        In time order: no row of a batch may precede the latest time of the batches before.
    as_of : time, optional
        Extraction time of the last batch (default: its latest touchpoint).
    """
    rules = JourneyRules() if rules is None else rules
    parts = list(batches)
    if not parts:
        msg = "sessionize_batches needs at least one batch"
        raise ConfigError(msg)
    results: list[JourneyTable] = []
    state: SessionState | None = None
    for i, batch in enumerate(parts):
        last = i == len(parts) - 1
        res = sessionize_quietly(batch, rules, as_of if last else None, state)
        results.append(res)
        state = res.state
    combined = _combine(results)
    if len(combined.journey_id):
        warn(combined.unmatched)
    return combined


def _combine(results: Sequence[JourneyTable]) -> JourneyTable:
    """One table from the results of consecutive batches, numbered as a one-shot run."""
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


def sessionize_partition(
    tp: TouchpointTable,
    rules: JourneyRules,
    journey: np.ndarray,
    visit: np.ndarray,
    final_reason: dict[int, int],
    *,
    state: SessionState | None = None,
) -> JourneyTable:
    """Build a JourneyTable from a known partition of ``tp`` into journeys and visits.

    Used to join the results of consecutive batches: the ids are renumbered in canonical
    order, exactly as a one-shot run numbers them, and end reasons are taken as given.
    """
    n = len(tp)
    event_labels = tp.labels("event")
    conv_of_event = _label_mask(event_labels, rules.conversion_events)
    ev_codes = tp.raw("event")
    # the known ids first: identical rows of different journeys must not interleave (journey
    # and visit ids increase with time within a customer, so the order is otherwise unchanged)
    tiebreak: list[Any] = [journey, visit]
    if "sequence" in tp.columns:
        tiebreak.append("sequence")
    tiebreak.append(conv_of_event[ev_codes] if n else np.zeros(0, dtype=bool))
    order = tp.sort_order(tiebreak=tiebreak)
    sj = journey[order]
    sv = visit[order]
    j_start = run_starts(sj)
    v_start = run_starts(sv)
    reasons = np.array([final_reason[int(j)] for j in sj[j_start]], dtype=np.int8)
    ev = ev_codes[order].astype(np.int64)
    stage_rank = rules.stages.ranks(event_labels.tolist())
    last_state_as_of = None if state is None else int(state.as_of.astype(np.int64))
    rows = {
        "c": tp.raw("customer")[order],
        "t": tp.raw("time").view(np.int64)[order],
        "ch": tp.raw("channel")[order],
        "conv": conv_of_event[ev],
        "stage_rank": stage_rank.astype(np.int8)[ev],
        "j_start": j_start,
        "v_start": v_start,
        "start_reason": np.zeros(n, dtype=np.int8),
    }
    return assemble(
        tp,
        rules,
        rows,
        order=order,
        identity=False,
        reason_codes=np.array([_ENUM_CODE[r] for r in _REASONS], dtype=np.int8),
        carried=0,
        n_input=n,
        as_of_us=last_state_as_of,
        closed=False,
        state=None,
        matched=journey_rules_matched(tp, rules),
        end_reason_override=reasons,
    )

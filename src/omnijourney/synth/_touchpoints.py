"""Vectorized generation of synthetic touchpoints and of their true journeys, breaks and follow-ups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import attrs
import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.model import Direction
from omnijourney.synth import _templates as tpl
from omnijourney.synth._noise import Noise
from omnijourney.synth._population import digit_text
from omnijourney.synth._truth import (
    Episodes,
    Story,
    TouchpointTruth,
    in_canonical_order,
    story_truth,
)
from omnijourney.tables import TouchpointTable, code_dtype

_US = 1_000_000
_DAY_US = 86_400 * _US
_SOURCES = ("ads", "contact_centre", "crm", "ecommerce", "till")
_SOURCE_OF_CHANNEL = {
    "app": "ecommerce", "web": "ecommerce", "store": "till", "call_centre": "contact_centre",
    "chat": "contact_centre", "email": "crm", "sms": "crm", "social": "ads",
}  # fmt: skip
# Which source-record system knows the customer on each channel (for identity linking).
_RECORD_SOURCE_OF_CHANNEL = {
    "app": "web", "web": "web", "store": "loyalty", "call_centre": "call_centre",
    "chat": "call_centre", "email": "web", "sms": "loyalty", "social": None,
}  # fmt: skip
_REF_PREFIX = {"cart": "K", "order": "O", "quote": "Q", "reservation": "R"}
_REF_COLUMN = {
    "cart": "cart_id",
    "order": "order_id",
    "quote": "quote_id",
    "reservation": "reservation_id",
}


_T = tpl.step_arrays()


def _choose(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per element of ``rows`` from the probability rows ``probs[rows]``."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(rows.size)
    out = np.zeros(rows.size, dtype=np.int64)
    # a handful of probability rows: per row, count the thresholds each draw passes
    for r in range(probs.shape[0]):
        sel = np.flatnonzero(rows == r)
        out[sel] = np.searchsorted(cum[r, :-1], u[sel], side="right")
    return out


def _loguniform(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    bounds = np.log(np.array([tpl.GAPS[k] for k in tpl.GAP_KINDS], dtype=np.float32))
    lo = bounds[kinds, 0]
    width = bounds[kinds, 1] - lo
    # float32 keeps sub-second precision on gaps of up to a few days, at half the memory
    seconds = np.exp(lo + width * rng.random(kinds.size, dtype=np.float32))
    return (seconds.astype(np.float64) * _US).astype(np.int64)


def _channels(
    rng: np.random.Generator,
    ep: np.ndarray,
    pos: np.ndarray,
    flat: np.ndarray,
    has_open: np.ndarray,
    ep_seg: np.ndarray,
    digital: np.ndarray,
) -> np.ndarray:
    """Channel of every step: campaign channel, browsing channel or the template's."""
    channel = np.empty(ep.size, dtype=np.int8)
    is_open = has_open[ep] & (pos == 0)
    is_tail = flat >= 0
    i_open = np.flatnonzero(is_open)
    channel[i_open] = tpl.OPENER_CHANNELS[_choose(rng, tpl.OPENER_MIX, ep_seg[ep[i_open]])]
    i_browse = np.flatnonzero(~is_open & ~is_tail)
    b = tpl.BROWSE_CHANNELS[_choose(rng, tpl.BROWSE_MIX, ep_seg[ep[i_browse]])]
    channel[i_browse] = np.where(b == tpl.DIGITAL, digital[ep[i_browse]], b)
    i_tail = np.flatnonzero(is_tail)
    c = _T["channel"].ravel()[flat[i_tail]]
    channel[i_tail] = np.where(c == tpl.DIGITAL, digital[ep[i_tail]], c)
    return channel


def _expected_kept(lam: np.ndarray, d: np.ndarray) -> np.ndarray:
    """E[min(1 + Poisson(lam - 1), G)] with G the episode of the first dropout (prob. ``d``):
    the sum over j < 400 of P(N >= j) (1 - d)^j, N ~ Poisson(lam - 1)."""
    from scipy.special import gammaln, pdtr

    mu = np.maximum(lam - 1.0, 1e-12)
    out = np.empty(mu.size)
    # customers by activity, in chunks; P(N >= j) is 1 (to 1e-15) below mu - 8 sd, 0 far above
    by_mu = np.argsort(mu, kind="stable")
    for lo_i in range(0, mu.size, 4096):
        idx = by_mu[lo_i : lo_i + 4096]
        m, s = mu[idx], 1.0 - d[idx]
        sd = float(np.sqrt(m.max(initial=1.0)))
        hi = int(min(2 * np.ceil(m.max(initial=1.0)) + 20, 400))
        lo = min(max(int(m.min(initial=0.0) - 8 * sd - 2), 0), hi)
        head = np.where(s < 1.0, (1.0 - s**lo) / np.maximum(1.0 - s, 1e-300), float(lo))
        j = np.arange(lo, hi)[:, None]  # P(N >= j) = 1 - P(N <= j - 1)
        pmf = np.exp(-m[None, :] + (j - 1) * np.log(m[None, :]) - gammaln(np.maximum(j, 1)))
        pmf[j[:, 0] == 0] = 0.0
        below = (pdtr(lo - 2, m) if lo >= 2 else np.zeros(m.size))[None, :] + np.cumsum(pmf, 0)
        at_least = np.clip(1.0 - below, 0.0, 1.0)
        out[idx] = head + (at_least * s[None, :] ** j).sum(axis=0)
    return np.maximum(out, 1e-9)


def _segmented_cumsum(values: np.ndarray, first: np.ndarray, group: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    return cs - cs[first][group] + values[first][group]


def _expected_lengths(scale: np.ndarray) -> np.ndarray:
    tail = (tpl.TEMPLATE_MIX * _T["len"]).sum(axis=1)
    browse = (tpl.TEMPLATE_MIX * _T["browse"]).sum(axis=1) * tpl.BROWSE_MEAN * scale
    return tpl.OPENER_P + browse + tail


def make_touchpoints(
    customer_ids: np.ndarray,
    segments: np.ndarray,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int,
    touchpoints_per_customer: float = 25.0,
    record_ids: Mapping[str, np.ndarray] | None = None,
    n_stores: int | None = None,
    joined: np.ndarray | None = None,
    noise: Noise | None = None,
) -> tuple[TouchpointTable, TouchpointTruth]:
    """Generate touchpoints for customers of the given segments over ``days`` from ``start``.

    Parameters
    ----------
    customer_ids : ndarray of str
        Sorted customer ids (their positions are the category codes).
    segments : ndarray of int
        Index into :data:`~omnijourney.synth._templates.SEGMENTS` per customer.
    touchpoints_per_customer : float
        Expected number of touchpoints per customer over the period.
    record_ids : mapping of source -> ndarray, optional
        Per customer, the record id each source system knows them by (None when unknown);
        adds a ``record_id`` column to the touchpoints.
    n_stores : int, optional
        Number of stores ``"S01"``... of the ``store`` column (default: one per 2,000
        customers, between 3 and 20).
    joined : ndarray of datetime64, optional
        When each customer became a customer; no touchpoint precedes it. By default a share
        :data:`~omnijourney.synth._templates.JOIN_SHARE` joins during the period.
    noise : Noise, optional
        The story settings (pauses, parallel goals, long research); clean by default.

    Returns
    -------
    TouchpointTable, TouchpointTruth
        Touchpoints in canonical (customer, time) order and the truth aligned with them.
    """
    table, truth, _ = touchpoints_and_episodes(
        customer_ids, segments, rng, start=start, days=days, record_ids=record_ids,
        touchpoints_per_customer=touchpoints_per_customer, n_stores=n_stores, joined=joined,
        noise=noise,
    )  # fmt: skip
    return in_canonical_order(table, truth)


def touchpoints_and_episodes(
    customer_ids: np.ndarray,
    segments: np.ndarray,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int,
    touchpoints_per_customer: float = 25.0,
    record_ids: Mapping[str, np.ndarray] | None = None,
    n_stores: int | None = None,
    joined: np.ndarray | None = None,
    noise: Noise | None = None,
) -> tuple[TouchpointTable, TouchpointTruth, Episodes]:
    """:func:`make_touchpoints` with the rows in episode order (sorted by customer and time
    unless goals overlap), and the episode structure of the rows (for products)."""
    noise = Noise.clean() if noise is None else noise
    n = len(customer_ids)
    ids = np.asarray(customer_ids, dtype=object)
    if n > 1 and not all(a < b for a, b in zip(ids[:-1].tolist(), ids[1:].tolist())):
        msg = "customer_ids must be unique and sorted"
        raise ValueError(msg)
    seg = np.asarray(segments, dtype=np.int64)
    period = days * _DAY_US
    start_us = int(np.datetime64(start, "us").astype(np.int64))  # type: ignore[call-overload]

    # -- episodes per customer ------------------------------------------------------------
    scale = np.ones(len(tpl.SEGMENTS))
    max_episodes = 0.45 * days / 17.0  # leave room between episodes
    per_episode = _expected_lengths(scale)
    wanted = touchpoints_per_customer / per_episode
    crowded = wanted > max_episodes
    if crowded.any():
        browse_unit = (tpl.TEMPLATE_MIX * _T["browse"]).sum(axis=1) * tpl.BROWSE_MEAN
        fixed = per_episode - browse_unit
        scale = np.where(
            crowded, (touchpoints_per_customer / max_episodes - fixed) / browse_unit, 1
        )
        per_episode = _expected_lengths(scale)
        wanted = touchpoints_per_customer / per_episode
    activity = rng.gamma(2.0, 0.5, n)
    if joined is None:
        join = np.where(rng.random(n) < tpl.JOIN_SHARE, rng.uniform(0, 0.8, n) * period, 0)
    else:
        since = np.asarray(joined).astype("datetime64[us]").astype(np.int64) - start_us
        join = np.clip(since, 0, int(0.9 * period))
    join = join.astype(np.int64)
    churn = np.full(n, period, dtype=np.int64)
    span = churn - join
    lam = wanted[seg] * activity * span / span.mean()
    # customers drop out after a converting episode with their own probability (as in the
    # BG/NBD model); plan more episodes so that the expected kept number meets the target
    p_drop = rng.beta(tpl.DROPOUT_BETA[0], tpl.DROPOUT_BETA[1], n)
    # numpy's stubs type any(axis=...) as a scalar or an array; with a 2-d input it is an array
    converting = cast(np.ndarray, _T["conversion"].any(axis=1))
    d = p_drop * (tpl.TEMPLATE_MIX @ converting)[seg]
    # a customer cannot have more episodes than fit in their span; very active customers
    # browse longer instead, so that their touchpoints stay proportional to their activity
    continuous = noise.gaps == "continuous"
    goal_gap = tpl.MIN_GOAL_GAP_US if continuous else tpl.GOALS_APART_US
    fit = np.maximum(span / (goal_gap + 4 * _DAY_US), 1.0)
    boost = np.maximum(lam / fit, 1.0)
    target = np.minimum(lam, fit)
    lam = np.minimum(target * target / _expected_kept(target, d), fit)
    # what dropouts still remove on average is made up by longer browsing
    kept = _expected_kept(lam, d)
    for g in range(len(tpl.SEGMENTS)):
        sel = seg == g
        if not sel.any():
            continue
        short = (target[sel] * boost[sel]).sum() / max((kept[sel] * boost[sel]).sum(), 1e-9)
        unit = (tpl.TEMPLATE_MIX[g] * _T["browse"]).sum() * tpl.BROWSE_MEAN[g] * scale[g]
        scale[g] *= (short * per_episode[g] - (per_episode[g] - unit)) / max(unit, 1e-9)
    n_ep = 1 + rng.poisson(np.maximum(lam - 1, 0))
    E = int(n_ep.sum())
    ep_cust = np.repeat(np.arange(n), n_ep)
    ep_seg = seg[ep_cust]

    # -- what each episode is ---------------------------------------------------------------
    t_ep = _choose(rng, tpl.TEMPLATE_MIX, ep_seg)
    drops = converting[t_ep] & (rng.random(E) < p_drop[ep_cust])
    ep_first_ = np.cumsum(n_ep) - n_ep
    dropped_before = _segmented_cumsum(drops.astype(np.int64), ep_first_, ep_cust) - drops
    alive_ep = dropped_before == 0
    has_open = rng.random(E) < tpl.OPENER_P[ep_seg]
    browse_mean = tpl.BROWSE_MEAN[ep_seg] * scale[ep_seg] * boost[ep_cust]
    n_browse = np.where(
        _T["browse"][t_ep], rng.geometric(1.0 / np.maximum(browse_mean, 1.0)), 0
    ).astype(np.int64)
    n_browse[t_ep == tpl.TPL["browse"]] = np.maximum(n_browse[t_ep == tpl.TPL["browse"]], 1)
    digital = np.where(rng.random(E) < tpl.APP_SHARE[ep_seg], tpl.CH["app"], tpl.CH["web"])
    status = _choose(rng, np.array([tpl.FOLLOWUP_STATUS]), np.zeros(E, dtype=np.int64))
    status = np.where(_T["has_followup"][t_ep], status, 0)  # 0 on time, 1 late, 2 missing
    length = has_open + n_browse + _T["len"][t_ep]
    kept_len = length - (status == 2)  # a missing follow-up is the last step

    # -- steps: structure and times (all rows, so that episode durations are known) ---------
    N = int(length.sum())
    first = np.cumsum(length) - length
    ep = np.repeat(np.arange(E, dtype=np.int32), length)
    pos = (np.arange(N, dtype=np.int32) - first[ep]).astype(np.int32)
    prefix = (has_open.astype(np.int32) + n_browse.astype(np.int32))[ep]
    q = pos - prefix  # position among the template's fixed steps (< 0 before them)
    m = _T["channel"].shape[1]
    flat = np.where(q >= 0, t_ep[ep] * m + q, -1)  # index into the template step arrays
    i_tail = np.flatnonzero(flat >= 0)
    channel = _channels(rng, ep, pos, flat, has_open, ep_seg, digital)
    if noise.reminders > 0:  # a campaign reminder clicked in the middle of a goal
        browse = np.flatnonzero((flat < 0) & ~(has_open[ep] & (pos == 0)))
        hit = browse[rng.random(browse.size) < noise.reminders]
        channel[hit] = tpl.OPENER_CHANNELS[_choose(rng, tpl.OPENER_MIX, ep_seg[ep[hit]])]
    gap_kind = np.where(
        rng.random(N) < tpl.SAME_VISIT_P, tpl.GAP["visit"], tpl.GAP["next_visit"]
    ).astype(np.int8)
    # moving between a store and another channel takes a while
    store = channel == tpl.CH["store"]
    moved = np.zeros(N, dtype=bool)
    moved[1:] = (store[1:] != store[:-1]) & (ep[1:] == ep[:-1])
    gap_kind[moved] = tpl.GAP["next_visit"]
    gap_kind[i_tail] = _T["gap"].ravel()[flat[i_tail]]
    rule = _T["followup"].ravel()[flat[i_tail]]  # 0: no follow-up, else rule number + 1
    if continuous:
        gap, status = _continuous_pauses(rng, noise, gap_kind, i_tail, flat, rule, ep, status)
    else:
        late = (rule > 0) & (status[ep[i_tail]] == 1)
        late_gaps = np.array([0] + [tpl.GAP[tpl.FOLLOWUP_LATE_GAP[r]] for r in tpl.FOLLOWUPS])
        gap_kind[i_tail[late]] = late_gaps[rule[late]]
        gap = _loguniform(rng, gap_kind)
    gap[first] = 0
    offset = _segmented_cumsum(gap, first, ep)
    stays = np.isin(gap_kind, [tpl.GAP[k] for k in tpl.IN_VISIT_PAUSES])
    del gap, gap_kind
    duration = offset[first + kept_len - 1]

    # -- place episodes in each customer's active span, at least goal_gap apart ----------------
    ep_first = np.cumsum(n_ep) - n_ep
    need = _segmented_cumsum(duration + goal_gap, ep_first, ep_cust) - goal_gap
    fits = need <= span[ep_cust]
    fits[ep_first] = True  # a customer's first episode always happens (clipped to the period)
    kept_ep = np.flatnonzero(fits)
    total_need = np.zeros(n, dtype=np.int64)
    np.maximum.at(total_need, ep_cust[kept_ep], need[kept_ep])
    free = np.maximum(span - total_need, 0)
    u = rng.random(E)
    # episodes are contiguous per customer, so the sorted draws land on them in order
    rank_u = u[np.argsort(ep_cust + u, kind="stable")]
    before = need - duration  # time used by earlier episodes and gaps
    ep_start = join[ep_cust] + (rank_u * free[ep_cust]).astype(np.int64) + before
    ep_start = np.minimum(ep_start, np.maximum(churn[ep_cust] - duration, join[ep_cust]))
    if noise.concurrent_goals > 0:
        ep_start = _in_parallel(rng, noise.concurrent_goals, ep_start, duration, ep_first)

    # -- keep the rows that happen, then describe them ------------------------------------------
    # episodes after a dropout do not happen: the customer falls silent (placement above
    # used every planned episode, so the silence lasts until the end of the period)
    fits &= alive_ep
    gone = np.flatnonzero(fits & drops)  # at most one per customer: nothing follows it
    churn[ep_cust[gone]] = ep_start[gone] + duration[gone]
    rows = np.flatnonzero(fits[ep] & (pos < kept_len[ep]))
    time_us = start_us + ep_start[ep[rows]] + offset[rows]
    del offset
    ep, pos, flat = ep[rows], pos[rows], flat[rows]
    q, stays = q[rows], stays[rows]
    n_rows = rows.size
    is_open = has_open[ep] & (pos == 0)
    is_tail = flat >= 0
    i_tail = np.flatnonzero(is_tail)
    f_tail = flat[i_tail]

    channel = channel[rows]
    i_open = np.flatnonzero(is_open)

    events = {e: i for i, e in enumerate(tpl.event_labels())}
    by_channel = np.full(len(tpl.CHANNELS), -1, dtype=np.int8)
    for ch, ev in tpl.BROWSE_EVENT.items():
        by_channel[ch] = events[ev]
    for ch, ev in tpl.OPENER_EVENT.items():  # opener channels never host browsing
        by_channel[ch] = events[ev]
    event = by_channel[channel]
    event[i_tail] = _T["event"].ravel()[f_tail]

    conversion = np.zeros(n_rows, dtype=bool)
    conversion[i_tail] = _T["conversion"].ravel()[f_tail]
    vkind = np.zeros(n_rows, dtype=np.int8)
    vkind[i_tail] = _T["value"].ravel()[f_tail]
    value = np.full(n_rows, np.nan)
    # one basket amount per episode: the cart, the reservation and the purchase share it
    mu_sigma = tpl.BASKET[ep_seg]
    basket_amount = np.round(np.exp(mu_sigma[:, 0] + mu_sigma[:, 1] * rng.standard_normal(E)), 2)
    basket = np.flatnonzero(vkind == 1)
    value[basket] = basket_amount[ep[basket]]
    quote_amount = np.round(np.exp(tpl.QUOTE[0] + tpl.QUOTE[1] * rng.standard_normal(E)), 2)
    quote = np.flatnonzero((event == events["quote_request"]) | (vkind == 2))
    value[quote] = quote_amount[ep[quote]]

    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    labels["customer"] = ids
    data["customer"] = ep_cust[ep].astype(code_dtype(n))
    data["time"] = time_us.view("datetime64[us]")
    data["channel"] = channel
    labels["channel"] = np.array(tpl.CHANNELS, dtype=object)
    data["event"] = event
    labels["event"] = np.array(tpl.event_labels(), dtype=object)
    data["value"] = value
    data["currency"] = np.where(np.isnan(value), -1, 0).astype(np.int8)
    labels["currency"] = np.array(["EUR"], dtype=object)
    assert [d.value for d in Direction] == ["inbound", "outbound"]
    direction = np.zeros(n_rows, dtype=np.int8)
    direction[i_tail] = _T["outbound"].ravel()[f_tail]
    data["direction"] = direction
    src_of = np.array([_SOURCES.index(_SOURCE_OF_CHANNEL[c]) for c in tpl.CHANNELS], np.int8)
    data["source"] = src_of[channel]
    labels["source"] = np.array(_SOURCES, dtype=object)
    ref_codes: dict[str, np.ndarray] = {}
    refs_flat = _T["refs"].reshape(-1, len(tpl.REFS))
    for r_i, ref in enumerate(tpl.REFS):
        uses = i_tail[refs_flat[f_tail, r_i]]
        ep_u = ep[uses]  # rows are in episode order: number the distinct episodes in turn
        new = run_starts(ep_u)
        codes = np.full(n_rows, -1, dtype=np.int32)
        codes[uses] = np.cumsum(new, dtype=np.int32) - 1
        eps = np.flatnonzero(new)
        prefix_ = _REF_PREFIX[ref]
        labels[_REF_COLUMN[ref]] = digit_text(f"{prefix_}#########", np.arange(eps.size))
        data[_REF_COLUMN[ref]] = codes.astype(code_dtype(eps.size))
        ref_codes[ref] = codes
    # campaigns: the opener click (and a reminder click) carries "<channel>-<YYYY-MM>"
    reminder = (flat < 0) & ~is_open & np.isin(channel, tpl.OPENER_CHANNELS)
    i_open = np.flatnonzero(is_open | reminder)
    month = time_us[i_open].view("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    m0 = int(month.min()) if month.size else 0
    m1 = int(month.max()) if month.size else 0
    opener_chs = sorted(tpl.OPENER_EVENT, key=lambda c: tpl.CHANNELS[c])
    names: list[str] = []
    code_of = np.full((len(tpl.CHANNELS), m1 - m0 + 1), -1, dtype=np.int64)
    for ch in opener_chs:
        for mo in range(m0, m1 + 1):
            code_of[ch, mo - m0] = len(names)
            names.append(f"{tpl.CHANNELS[ch]}-{np.datetime64(mo, 'M')}")
    campaign = np.full(n_rows, -1, dtype=code_dtype(len(names)))
    campaign[i_open] = code_of[channel[i_open], month - m0]
    labels["campaign"] = np.array(names, dtype=object)
    data["campaign"] = campaign
    # stores: each customer has a home store; store touchpoints happen there 85% of the time
    n_stores = n_stores or tpl.store_count(n)
    home = _choose(rng, tpl.home_store_shares(n_stores)[None, :], np.zeros(n, dtype=np.int64))
    i_store = np.flatnonzero(channel == tpl.CH["store"])
    at_home = rng.random(i_store.size) < 0.85
    store = np.full(n_rows, -1, dtype=code_dtype(n_stores))
    store[i_store] = np.where(
        at_home, home[ep_cust[ep[i_store]]], rng.integers(0, n_stores, i_store.size)
    )
    data["store"] = store
    labels["store"] = tpl.store_labels(n_stores)
    if record_ids is not None:
        data["record_id"], labels["record_id"] = _record_codes(record_ids, ep_cust[ep], channel)

    # goals one after the other: episode order is time order
    in_order = ("customer", "time") if noise.concurrent_goals == 0 else ()
    table = TouchpointTable.from_arrays(data, labels, sorted_by=in_order)
    story = Story(ep, t_ep, status, conversion, channel, q, stays, is_open, ref_codes)
    truth = story_truth(table, story)
    active = (start_us + join).view("datetime64[us]"), (start_us + churn).view("datetime64[us]")
    truth = attrs.evolve(truth, active_from=active[0], active_until=active[1])
    return table, truth, Episodes(ep, t_ep, basket_amount, quote_amount)


def _continuous_pauses(
    rng: np.random.Generator,
    noise: Noise,
    gap_kind: np.ndarray,
    i_tail: np.ndarray,
    flat: np.ndarray,
    rule: np.ndarray,
    ep: np.ndarray,
    status: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal pauses, weeks of research before some store purchases, and answer delays
    whose lateness follows from the brand's promise (missing answers stay missing)."""
    # the store purchase of a goal researched online (step 1 of the ropo template)
    ropo_buy = flat[i_tail] == tpl.TPL["ropo"] * _T["channel"].shape[1] + 1
    weeks = i_tail[ropo_buy & (rng.random(i_tail.size) < noise.long_research)]
    gap_kind[weeks] = tpl.GAP[tpl.RESEARCH_WEEKS]
    gap = _lognormal(rng, gap_kind)
    answers = np.flatnonzero(rule > 0)
    r = rule[answers] - 1
    names = list(tpl.FOLLOWUPS)
    median = np.array([tpl.ANSWER_DELAY[k][0] for k in names])[r]
    sigma = np.array([tpl.ANSWER_DELAY[k][1] for k in names])[r]
    delay = median * np.exp(sigma * rng.standard_normal(answers.size))
    rows = i_tail[answers]
    gap[rows] = (delay * _US).astype(np.int64)
    promise = np.array([tpl.FOLLOWUP_PROMISE_US[k] for k in names])[r]
    status = status.copy()
    ep_a = ep[rows]
    status[ep_a] = np.where(status[ep_a] == 2, 2, (gap[rows] > promise).astype(status.dtype))
    return gap, status


def _lognormal(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    params = np.array([tpl.PAUSES[k] for k in tpl.GAP_KINDS], dtype=np.float64)
    log_median = np.log(params[:, 0]).astype(np.float32)[kinds]
    sigma = params[:, 1].astype(np.float32)[kinds]
    z = rng.standard_normal(kinds.size, dtype=np.float32)
    seconds = np.exp(log_median + sigma * z)
    return (seconds.astype(np.float64) * _US).astype(np.int64)


def _in_parallel(
    rng: np.random.Generator,
    rate: float,
    ep_start: np.ndarray,
    duration: np.ndarray,
    ep_first: np.ndarray,
) -> np.ndarray:
    """Start some goals while the customer's previous goal is under way (at a uniform point
    of it); a goal started during one that itself moved follows it."""
    parallel = rng.random(ep_start.size) < rate
    parallel[ep_first] = False
    idx = np.flatnonzero(parallel)
    into = (rng.random(idx.size) * duration[idx - 1]).astype(np.int64)
    start = ep_start.copy()
    for _ in range(64):  # chains of parallel goals are short: p ** depth
        new = start[idx - 1] + into
        if np.array_equal(new, start[idx]):
            break
        start[idx] = new
    return start


def _record_codes(
    record_ids: Mapping[str, np.ndarray], customer: np.ndarray, channel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    sources = sorted(record_ids)
    all_ids = sorted({r for s in sources for r in record_ids[s].tolist() if r is not None})
    lookup = {r: i for i, r in enumerate(all_ids)}
    n_customers = len(record_ids[sources[0]])
    matrix = np.full((len(sources) + 1, n_customers), -1, dtype=np.int64)
    for i, s in enumerate(sources):
        matrix[i] = [lookup.get(r, -1) if r is not None else -1 for r in record_ids[s].tolist()]
    src_of = np.array(
        [
            sources.index(_RECORD_SOURCE_OF_CHANNEL[c] or "")
            if _RECORD_SOURCE_OF_CHANNEL[c] in sources
            else len(sources)
            for c in tpl.CHANNELS
        ]
    )
    codes = matrix[src_of[channel], customer]
    return codes.astype(code_dtype(len(all_ids))), np.array(all_ids, dtype=object)

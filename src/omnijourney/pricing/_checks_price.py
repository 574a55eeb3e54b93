"""Checks on price series: cross-channel gaps, coverage holes, stale prices, MAP floors.

The cross-channel check sweeps the change points of each sku: the union of the interval
boundaries of its compared series cuts time into elementary segments, over which every price
is constant, so a one-hour flash price is a segment like any other.
"""

from __future__ import annotations

import numpy as np

from omnijourney._arrays import grouped_search, is_in, pack, pack_bits, ranges, run_starts
from omnijourney.errors import DataError
from omnijourney.pricing._findings import Found
from omnijourney.pricing._intervals import NAT
from omnijourney.pricing._policy import Tolerance
from omnijourney.pricing._series import Context, Series

__all__ = ["below_map", "coverage_holes", "price_gaps", "stale_prices"]

DAY = 86_400_000_000
#: Cells (series x elementary segment) handled at once by the gap sweep: bounds its memory.
CHUNK_CELLS = 1 << 20


def _empty(rule: str) -> Found:
    z = np.zeros(0, dtype=np.int64)
    return Found.make(rule, sku=z, channel=z, location=z, start=z, end=z, expected=z, actual=z)


# --------------------------------------------------------------------------- coverage, staleness


def coverage_holes(s: Series, ctx: Context) -> Found:
    """Times a series has no valid price, from its start (launch or period start) to as_of.

    A series starts at ``max(launched, start)`` when the catalogue gives the launch, else at its
    first price; it must have a price until ``as_of`` (or its ``delisted`` time), or, with
    ``coverage="between_prices"``, until its last price.
    """
    if s.n == 0:
        return _empty("coverage_hole")
    first, last = s.offsets[:-1], s.offsets[1:] - 1
    launched = ctx.launched[s.sku]
    begin = np.where(launched != NAT, np.maximum(launched, ctx.start), s.frm[first])
    if ctx.policy.coverage == "between_prices":
        begin = s.frm[first]
        finish = np.minimum(s.to[last], ctx.as_of)
    else:
        finish = np.full(s.n, ctx.as_of, dtype=np.int64)
    delisted = ctx.delisted[s.sku]
    finish = np.where(delisted != NAT, np.minimum(finish, delisted), finish)
    # gaps between neighbours (found without n-sized copies), before the first, after the last
    inner = np.flatnonzero(s.to[:-1] < s.frm[1:])
    inner = inner[s.sid[inner] == s.sid[inner + 1]]
    g_sid = np.concatenate((np.arange(s.n), s.sid[inner], np.arange(s.n)))
    g0 = np.concatenate((begin, s.to[inner], s.to[last]))
    g1 = np.concatenate((s.frm[first], s.frm[inner + 1], finish))
    g0 = np.maximum(g0, begin[g_sid])
    g1 = np.minimum(g1, finish[g_sid])
    hole = g1 > g0
    g_sid, g0, g1 = g_sid[hole], g0[hole], g1[hole]
    return Found.make(
        "coverage_hole",
        sku=s.sku[g_sid],
        channel=s.channel[g_sid],
        location=s.location[g_sid],
        start=g0,
        end=g1,
        expected=0.0,
        actual=(g1 - g0) / DAY,
        detail="no valid price",
    )


def stale_prices(s: Series, ctx: Context) -> Found:
    """Intervals whose last confirmation is older than the channel's limit when they stop
    being current (at ``min(valid_to, as_of)``); the finding covers the stale part. Run on
    the intervals as sent (before equal neighbours merge, which would keep the latest
    confirmation and hide the silence before it)."""
    if s.confirmed is None or s.frm.size == 0:
        return _empty("stale_price")
    per_series = ctx.policy.stale_limits(ctx.channel_labels.tolist())[s.channel]
    late = np.minimum(s.to, ctx.as_of)
    late -= s.confirmed  # rows without a confirmation are masked out below
    bad = late > per_series[s.sid]
    bad &= s.confirmed != NAT
    bad &= s.frm < ctx.as_of
    bad = np.flatnonzero(bad)
    sid = s.sid[bad]
    limit = per_series[sid]
    end = np.minimum(s.to[bad], ctx.as_of)
    start = np.maximum(s.confirmed[bad] + limit, s.frm[bad])
    # touching pieces of one price stale end to end (the same price sent again, unconfirmed)
    # are one stretch, as when they are merged: its start from the first, the rest from the last
    a, b = bad[:-1], bad[1:]
    joined = (b == a + 1) & (sid[1:] == sid[:-1]) & (start[1:] == end[:-1])
    joined &= (s.price[b] == s.price[a]) & (s.regular[b] == s.regular[a])
    joined &= s.currency[b] == s.currency[a]
    first = np.ones(bad.size, dtype=bool)
    first[1:] = ~joined
    last = np.ones(bad.size, dtype=bool)
    last[:-1] = ~joined
    sid, limit, bad = sid[last], limit[last], bad[last]
    return Found.make(
        "stale_price",
        sku=s.sku[sid],
        channel=s.channel[sid],
        location=s.location[sid],
        start=start[first],
        end=end[last],
        expected=limit / DAY,
        actual=late[bad] / DAY,
        currency=s.currency[bad],
        detail="price not re-confirmed by the source system",
    )


def below_map(s: Series, ctx: Context) -> Found:
    """Public prices below the minimum advertised price of their sku (policy ``map_floors``)."""
    floors = dict(ctx.policy.map_floors)
    if not floors or s.frm.size == 0:
        return _empty("below_map")
    floor = np.array([floors.get(str(k), np.nan) for k in ctx.sku_labels.tolist()])
    public = s.public(("public",))[s.sid]
    f = floor[s.sku[s.sid]]
    with np.errstate(invalid="ignore"):
        bad = public & (s.frm < ctx.as_of) & (s.price < f - ctx.policy.price_tolerance)
    i = np.flatnonzero(bad)
    sid = s.sid[i]
    return Found.make(
        "below_map",
        sku=s.sku[sid],
        channel=s.channel[sid],
        location=s.location[sid],
        start=s.frm[i],
        end=np.minimum(s.to[i], ctx.as_of),
        expected=f[i],
        actual=s.price[i],
        at_stake=f[i] - s.price[i],
        currency=s.currency[i],
        detail="below the minimum advertised price",
    )


# --------------------------------------------------------------------------- cross-channel gaps


def price_gaps(s: Series, ctx: Context) -> list[Found]:
    """Regular public prices away from the median of their same-price group, and pair bands."""
    pol = ctx.policy
    out: list[Found] = []
    if s.n == 0:
        return out
    public = s.public(("public",))
    amount, pct = pol.tolerances(ctx.channel_labels.tolist())
    if pol.checks("price_gap"):
        for group in pol.same_price_groups:
            members = ctx.channel_mask(group)[s.channel] & public
            out.append(
                _gap(s, ctx, "price_gap", members, members, members, amount, pct, -1,
                     "regular price differs from the other channels of its group")
            )  # fmt: skip
    if pol.checks("channel_pair_gap"):
        for ref, other, tol in pol.channel_pairs:
            refm = (s.channel == ctx.channel_code(ref)) & public
            cmpm = (s.channel == ctx.channel_code(other)) & public
            a, p = _constant(tol, ctx.channel_labels.size)
            out.append(
                _gap(s, ctx, "channel_pair_gap", refm | cmpm, refm, cmpm, a, p,
                     ctx.channel_code(ref), f"outside the band around {ref}")
            )  # fmt: skip
    return out


def _constant(tol: Tolerance, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, tol.amount), np.full(n, tol.pct)


def _gap(
    s: Series,
    ctx: Context,
    rule: str,
    members: np.ndarray,
    reference: np.ndarray,
    compared: np.ndarray,
    amount: np.ndarray,
    pct: np.ndarray,
    other_channel: int,
    detail: str,
) -> Found:
    """Sweep the member series of each sku; compare ``compared`` with the ``reference`` median."""
    ms = np.flatnonzero(members)
    if ms.size == 0:
        return _empty(rule)
    if not ctx.policy.currency_rates and ctx.currency_labels.size > 1:
        _one_currency(s, ms, ctx)
    # chunks of whole skus, bounded in cells (series x boundaries)
    sku = s.sku[ms]
    new_sku = run_starts(sku)
    sku_first = np.flatnonzero(new_sku)
    n_int = s.offsets[ms + 1] - s.offsets[ms]
    per_sku_int = np.add.reduceat(n_int, sku_first)
    per_sku_k = np.diff(np.append(sku_first, ms.size))
    cells = np.cumsum((2 * per_sku_int + 2) * per_sku_k)
    cuts = np.searchsorted(cells, np.arange(CHUNK_CELLS, int(cells[-1]), CHUNK_CELLS), "right")
    bounds = np.unique(np.concatenate(([0], cuts, [sku_first.size])))
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        lo = sku_first[a]
        hi = sku_first[b] if b < sku_first.size else ms.size
        parts.append(_gap_chunk(s, ctx, ms[lo:hi], reference, compared, amount, pct))
    sid = np.concatenate([p[0] for p in parts])
    cols = [np.concatenate([p[i] for p in parts]) for i in range(1, 5)]
    return Found.make(
        rule,
        sku=s.sku[sid],
        channel=s.channel[sid],
        location=s.location[sid],
        start=cols[0],
        end=cols[1],
        expected=cols[2],
        actual=cols[3],
        at_stake=np.abs(cols[3] - cols[2]),
        currency=s.currency[s.offsets[sid]] if sid.size else np.zeros(0, np.int64),
        other_channel=other_channel,
        detail=detail,
    )


def _one_currency(s: Series, ms: np.ndarray, ctx: Context) -> None:
    """Raise when the compared series of one sku are priced in different currencies."""
    rows = ranges(s.offsets[ms], s.offsets[ms + 1])
    if rows.size == 0:
        return
    c = s.currency[rows]
    k = s.sku[s.sid[rows]]
    starts = np.flatnonzero(run_starts(k))
    lo, hi = np.minimum.reduceat(c, starts), np.maximum.reduceat(c, starts)
    if np.all(lo == hi):
        return
    bad = np.flatnonzero(is_in(k, k[starts[lo != hi]]))  # every row of those skus
    order = np.argsort(s.input_row(rows[bad]), kind="stable")
    bad = bad[order]
    labels = ctx.currency_labels
    raise DataError(
        "mixes currencies within the prices compared for one sku",
        table="PriceTable",
        column="currency",
        rows=s.input_row(rows[bad]).tolist(),
        values=[None if x < 0 else labels[x] for x in c[bad][:5].tolist()],
        hint="Give Policy(currency_rates={...}) to convert them to one currency",
    )


def _gap_chunk(
    s: Series,
    ctx: Context,
    ms: np.ndarray,
    reference: np.ndarray,
    compared: np.ndarray,
    amount: np.ndarray,
    pct: np.ndarray,
) -> tuple[np.ndarray, ...]:
    as_of = ctx.as_of
    rows = ranges(s.offsets[ms], s.offsets[ms + 1])
    # local ids: series j (0..m-1) and sku u (0..U-1), both in sorted order
    m = ms.size
    j_of_row = np.repeat(np.arange(m), s.offsets[ms + 1] - s.offsets[ms])
    u_new = run_starts(s.sku[ms])
    u_of_j = np.cumsum(u_new) - 1
    n_u = int(u_of_j[-1]) + 1
    u_of_row = u_of_j[j_of_row]
    frm, to = s.frm[rows], np.minimum(s.to[rows], as_of)
    # change points of each sku up to as_of: starts, ends not followed by a start, as_of
    loose = np.ones(rows.size, dtype=bool)
    loose[:-1] = (j_of_row[1:] != j_of_row[:-1]) | (frm[1:] != to[:-1])
    b_u = np.concatenate((u_of_row, u_of_row[loose], np.arange(n_u)))
    b_t = np.concatenate((frm, to[loose], np.full(n_u, as_of, dtype=np.int64)))
    keep = b_t <= as_of
    b_u, b_t = b_u[keep], b_t[keep]
    t_min, t_max = int(min(b_t.min(), frm.min())), int(max(b_t.max(), frm.max()))
    bits = pack_bits(n_u, t_min, t_max)
    if bits is None:  # pragma: no cover - centuries of data for very many skus
        order = np.lexsort((b_t, b_u))
        b_u, b_t = b_u[order], b_t[order]
    else:
        key = np.sort(pack(b_u, b_t, t_min, bits))
        b_u, b_t = key >> bits, (key & ((1 << bits) - 1)) + t_min
    first = run_starts(b_u, b_t)
    b_u, b_t = b_u[first], b_t[first]
    seg = np.flatnonzero(b_u[:-1] == b_u[1:])
    seg_u, seg_t0, seg_t1 = b_u[seg], b_t[seg], b_t[seg + 1]
    seg_off = np.searchsorted(seg_u, np.arange(n_u + 1))
    n_seg = np.diff(seg_off)
    # cells: every segment of its sku, for each member series j (series-major)
    cell_seg = ranges(seg_off[u_of_j], seg_off[u_of_j + 1])
    cell_j = np.repeat(np.arange(m), n_seg[u_of_j])
    cell_base = np.concatenate(([0], np.cumsum(n_seg[u_of_j])))[:-1]
    # the cell where each interval starts: its start is a change point of its sku, and the
    # segment it opens is numbered by the change point's rank minus the skus before it
    live = np.flatnonzero(frm < as_of)
    if bits is None:  # pragma: no cover
        b_off = np.searchsorted(b_u, np.arange(n_u + 1))
        u = u_of_row[live]
        point = grouped_search(b_t, b_off[u], b_off[u + 1], frm[live], "left")
    else:
        point = np.searchsorted(key[first], pack(u_of_row[live], frm[live], t_min, bits))
    j = j_of_row[live]
    cell_of_row = cell_base[j] + (point - u_of_j[j]) - seg_off[u_of_j[j]]
    covering = _forward_fill(cell_of_row, live, cell_j, j_of_row)
    is_reg = s.regular[rows[live]]
    regular = _forward_fill(cell_of_row[is_reg], live[is_reg], cell_j, j_of_row)
    t0 = seg_t0[cell_seg]
    covered = (covering >= 0) & (t0 < to[np.maximum(covering, 0)])
    value = np.where(covered & (regular >= 0), s.price[rows[np.maximum(regular, 0)]], np.nan)
    del covering, regular, covered
    # median of the reference series over each segment
    is_ref = reference[ms][cell_j]
    ref_value = np.where(is_ref, value, np.nan)
    k_of_u = np.bincount(u_of_j, minlength=n_u)
    base_u = cell_base[np.flatnonzero(u_new)]
    med_seg = np.full(seg_u.size, np.nan)
    for k in np.flatnonzero(np.bincount(k_of_u)):
        us = np.flatnonzero(k_of_u == k)
        segs = ranges(seg_off[us], seg_off[us + 1])
        if segs.size == 0:
            continue
        u = seg_u[segs]
        idx = (base_u[u] + segs - seg_off[u])[:, None] + np.arange(k)[None, :] * n_seg[u][:, None]
        v = np.sort(ref_value[idx], axis=1)
        c = np.count_nonzero(~np.isnan(v), axis=1)
        r = np.arange(segs.size)
        med = (v[r, np.maximum(c - 1, 0) // 2] + v[r, c // 2]) / 2
        med_seg[segs] = np.where(c > 0, med, np.nan)
    med = med_seg[cell_seg]
    ch = s.channel[ms][cell_j]
    limit = np.maximum((pct[ch] / 100.0) * med, amount[ch])
    with np.errstate(invalid="ignore"):
        dev = compared[ms][cell_j] & (np.abs(value - med) > limit)
    # runs of deviating consecutive segments with the same (median, price)
    d = np.flatnonzero(dev)
    if d.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0), np.zeros(0)
    cont = np.zeros(d.size, dtype=bool)
    cont[1:] = (
        (d[1:] == d[:-1] + 1)
        & (cell_j[d[1:]] == cell_j[d[:-1]])
        & (med[d[1:]] == med[d[:-1]])
        & (value[d[1:]] == value[d[:-1]])
    )
    starts = np.flatnonzero(~cont)
    ends = np.append(starts[1:], d.size) - 1
    a, b = d[starts], d[ends]
    return (
        ms[cell_j[a]],
        seg_t0[cell_seg[a]],
        seg_t1[cell_seg[b]],
        med[a],
        value[a],
    )


def _forward_fill(
    cell: np.ndarray, row: np.ndarray, cell_j: np.ndarray, j_of_row: np.ndarray
) -> np.ndarray:
    """For each cell, the last local row placed at or before it in the same series (rows are
    in series then time order, so a running maximum carries them forward); -1 for none."""
    fill = np.full(cell_j.size, -1, dtype=np.int64)
    fill[cell] = row
    np.maximum.accumulate(fill, out=fill)
    ok = (fill >= 0) & (j_of_row[np.maximum(fill, 0)] == cell_j)
    return np.where(ok, fill, -1)

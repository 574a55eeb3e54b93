"""Checks on promotions: mirrored where required, below the regular price, the prior-price rule
(Directive 98/6/EC art. 6a; CJEU C-330/23 for the percentage), stacking.

The prior price of a reduction is a range minimum: for each promotion row, the public
intervals of its scope that meet the window ``[first start - 30 days, first start)`` are found
by binary search in their sorted series and reduced with one ``numpy.minimum.reduceat``.
"""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney._arrays import grouped_search, is_in, range_reduce, ranges, run_starts
from omnijourney.errors import DataError
from omnijourney.pricing._findings import Found
from omnijourney.pricing._intervals import NAT, OPEN
from omnijourney.pricing._promotion_table import PromotionTable
from omnijourney.pricing._series import Context, Series, series_key
from omnijourney.pricing._tables import Mechanic

__all__ = ["Promos", "prepare_promotions", "promotion_checks"]

DAY = 86_400_000_000
_MECH = {m: i for i, m in enumerate(Mechanic)}
_N_AUD = 3


@attrs.define(eq=False)
class Promos:
    """Promotion rows matched to their price series (rows of a null location expanded to every
    location of the channel), with the promotional price each one announces."""

    row: np.ndarray
    promo: np.ndarray
    promo_labels: np.ndarray
    sku: np.ndarray
    channel: np.ndarray
    location: np.ndarray
    audience: np.ndarray
    start: np.ndarray
    end: np.ndarray
    price: np.ndarray
    regular: np.ndarray
    reference: np.ndarray
    pct: np.ndarray
    stackable: np.ndarray
    stype: np.ndarray
    stype_labels: np.ndarray
    exclusive: np.ndarray
    sid: np.ndarray
    currency: np.ndarray

    def label(self, i: np.ndarray) -> list[str]:
        """Promotion ids of rows ``i`` as text."""
        return [str(x) for x in self.promo_labels[self.promo[i]].tolist()]


class _Index:
    """Binary searches in the series: the interval covering t, the regular price at t."""

    def __init__(self, s: Series) -> None:
        self.s = s

    def _last_start(self, sid: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``ok`` with a series, and the interval of each starting last at or before t."""
        s = self.s
        ok = np.flatnonzero(sid >= 0)
        g = sid[ok]
        p = grouped_search(s.frm, s.offsets[g], s.offsets[g + 1], t[ok], "right") - 1
        return ok, p

    def price_at(self, sid: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Price of the interval of series ``sid`` containing ``t`` (NaN when none)."""
        s = self.s
        out = np.full(sid.size, np.nan)
        ok, p = self._last_start(sid, t)
        hit = (p >= s.offsets[sid[ok]]) & (t[ok] < s.to[np.maximum(p, 0)])
        out[ok[hit]] = s.price[p[hit]]
        return out

    def regular_at(self, sid: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Price of the latest regular interval of ``sid`` starting at or before ``t``."""
        s = self.s
        out = np.full(sid.size, np.nan)
        ok, p = self._last_start(sid, t)
        lo = s.offsets[sid[ok]]
        act = np.flatnonzero((p >= lo) & ~s.regular[np.maximum(p, 0)])
        while act.size:  # step back over promotional intervals
            p[act] -= 1
            act = act[(p[act] >= lo[act]) & ~s.regular[np.maximum(p[act], 0)]]
        hit = p >= lo
        out[ok[hit]] = s.price[p[hit]]
        return out


def _column(table: PromotionTable, name: str, fill: object, dtype: type) -> np.ndarray:
    if name in table.columns:
        return table.raw(name)
    return np.full(len(table), fill, dtype=dtype)


def prepare_promotions(
    table: PromotionTable, s: Series, ctx: Context
) -> tuple[Promos, _Index, Found]:
    """Match promotion rows to series; rows without a price to check come back as findings."""
    n = len(table)
    n_ch, n_loc = ctx.channel_labels.size, ctx.location_labels.size
    sku = ctx.codes(table, "sku")
    ch = ctx.codes(table, "channel")
    loc = ctx.codes(table, "location")
    aud = _column(table, "audience", 0, np.int8).astype(np.int64)
    skey = series_key(s.sku, s.channel, s.location, s.audience, n_ch, n_loc)
    qkey = series_key(sku, ch, loc, aud, n_ch, n_loc)
    pos = np.minimum(np.searchsorted(skey, qkey), max(s.n - 1, 0))
    sid = np.where((s.n > 0) & (skey[pos] == qkey), pos, -1) if s.n else np.full(n, -1)
    row = np.arange(n, dtype=np.int64)
    # a null location stands for every location of the channel that has prices
    expand = np.flatnonzero((sid < 0) & (loc < 0))
    if expand.size:
        e_lo = np.searchsorted(skey, series_key(sku[expand], ch[expand], 0, 0, n_ch, n_loc))
        e_hi = np.searchsorted(skey, series_key(sku[expand], ch[expand], n_loc, 0, n_ch, n_loc))
        cand = ranges(e_lo, e_hi)
        owner = np.repeat(expand, e_hi - e_lo)
        ok = s.audience[cand] == aud[owner]
        cand, owner = cand[ok], owner[ok]
        keep = np.ones(n, dtype=bool)
        keep[owner] = False
        row = np.concatenate((row[keep], owner))
        sid = np.concatenate((sid[keep], cand))
        order = np.argsort(row, kind="stable")
        row, sid = row[order], sid[order]
        loc = np.where(sid >= 0, s.location[np.maximum(sid, 0)], loc[row])
    else:
        loc = loc[row]
    start = table.raw("start").view(np.int64)[row]
    end = _column(table, "end", NAT, np.int64).view(np.int64)[row]
    end = np.where(end == NAT, OPEN, end)
    index = _Index(s)
    regular = index.regular_at(sid, start)
    price = _column(table, "promo_price", np.nan, np.float64)[row].astype(np.float64)
    mech = _column(table, "mechanic", -1, np.int8)[row]
    disc = _column(table, "discount", np.nan, np.float64)[row]
    derive = np.isnan(price)
    if derive.any():
        buy = _column(table, "buy", 1, np.int64)[row].astype(np.float64)
        pay = _column(table, "pay", 1, np.int64)[row].astype(np.float64)
        derived = np.select(
            [mech == _MECH[Mechanic.PERCENTAGE], mech == _MECH[Mechanic.AMOUNT_OFF]],
            [regular * (1.0 - disc / 100.0), regular - disc],
            default=regular * pay / np.maximum(buy, 1.0),
        )
        price = np.where(derive, derived, price)
    if "stack_type" in table.columns:
        stype, stype_labels = (
            table.raw("stack_type")[row].astype(np.int64),
            table.labels("stack_type"),
        )
    else:
        stype = mech.astype(np.int64)
        stype_labels = np.array([m.value for m in Mechanic], dtype=object)
    promos = Promos(
        row=row,
        promo=table.raw("promo_id")[row].astype(np.int64),
        promo_labels=table.labels("promo_id"),
        sku=sku[row],
        channel=ch[row],
        location=loc,
        audience=aud[row],
        start=start,
        end=end,
        price=price,
        regular=regular,
        reference=_column(table, "reference_price", np.nan, np.float64)[row],
        pct=_column(table, "announced_pct", np.nan, np.float64)[row],
        stackable=_column(table, "stackable", False, bool)[row],
        stype=stype,
        stype_labels=stype_labels,
        exclusive=_column(table, "exclusive", False, bool)[row],
        sid=sid,
        currency=np.where(sid >= 0, s.currency[s.offsets[np.maximum(sid, 0)]], -1)
        if s.n
        else np.full(row.size, -1),
    )
    return promos, index, _without_price(promos, table, ctx)


def _without_price(p: Promos, table: PromotionTable, ctx: Context) -> Found:
    bad = np.flatnonzero((p.sid < 0) | np.isnan(p.regular))
    if bad.size and ctx.policy.unknown_series == "raise":
        rows = np.unique(p.row[bad])
        labels = table["sku"][rows[:5]].tolist()
        raise DataError(
            "has no price series for its channel and location, or no regular price at the "
            "start of the promotion",
            table="PromotionTable",
            column="sku",
            rows=rows.tolist(),
            values=labels,
            hint="Policy(unknown_series='finding') reports them as findings instead",
        )
    return Found.make(
        "promotion_without_price",
        sku=p.sku[bad],
        channel=p.channel[bad],
        location=p.location[bad],
        start=p.start[bad],
        end=_shown_end(p.end[bad], ctx),
        expected=np.nan,
        actual=p.price[bad],
        detail=p.label(bad),
    )


def _shown_end(end: np.ndarray, ctx: Context) -> np.ndarray:
    return np.where(end >= OPEN, ctx.as_of, end)


def promotion_checks(p: Promos, index: _Index, s: Series, ctx: Context) -> list[Found]:
    """Every promotion rule the policy asks for."""
    pol = ctx.policy
    out: list[Found] = []
    if pol.checks("promo_not_mirrored"):
        out.append(_not_mirrored(p, index, s, ctx))
    if pol.checks("promo_not_below_regular"):
        out.append(_not_below_regular(p, ctx))
    if pol.checks("promo_not_applied"):
        out.append(_not_applied(p, s, ctx))
    prior_rules = (
        "prior_price_reference",
        "prior_price_percentage",
        "promo_not_below_prior",
        "prior_price_short_history",
    )
    if any(pol.checks(r) for r in prior_rules):
        first = _first_start(p) if pol.progressive == "first_step" else p.start
        prior, since = _prior_prices(p, s, ctx, first)
        out.extend(_prior_price_rules(p, ctx, first, prior, since))
    if pol.checks("overlapping_promotions"):
        out.append(_overlapping(p, ctx))
    return out


# --------------------------------------------------------------------------- mirroring


def _not_mirrored(p: Promos, index: _Index, s: Series, ctx: Context) -> Found:
    """A public promotion (sku, id, start) on one mirror channel must be on every one of them,
    at every location of the sku that has a public price there."""
    mirror = ctx.channel_mask(ctx.policy.mirror_channels)
    rel = np.flatnonzero(mirror[p.channel] & (p.audience == 0))
    order = rel[np.lexsort((p.start[rel], p.promo[rel], p.sku[rel]))]
    new = run_starts(p.sku[order], p.promo[order], p.start[order])
    kid = np.cumsum(new) - 1
    kf = np.flatnonzero(new)
    if kf.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return Found.make(
            "promo_not_mirrored", sku=z, channel=z, location=z, start=z, end=z, expected=z, actual=z
        )
    k_sku = p.sku[order[kf]]
    k_start = p.start[order[kf]]
    k_end = np.maximum.reduceat(p.end[order], kf)
    k_price = np.fmin.reduceat(p.price[order], kf)
    k_excl = np.logical_or.reduceat(p.exclusive[order], kf)
    required = np.flatnonzero(mirror[s.channel] & (s.audience == 0))
    req_sku = s.sku[required]
    lo = np.searchsorted(req_sku, k_sku, "left")
    hi = np.searchsorted(req_sku, k_sku, "right")
    pair_k = np.repeat(np.arange(kf.size), hi - lo)
    pair_s = required[ranges(lo, hi)]
    has = p.sid[order] >= 0
    present = kid[has] * max(s.n, 1) + p.sid[order][has]
    miss = ~is_in(pair_k * max(s.n, 1) + pair_s, present) & ~k_excl[pair_k]
    k, g = pair_k[miss], pair_s[miss]
    actual = index.price_at(g, k_start[k])
    return Found.make(
        "promo_not_mirrored",
        sku=s.sku[g],
        channel=s.channel[g],
        location=s.location[g],
        start=k_start[k],
        end=_shown_end(k_end[k], ctx),
        expected=k_price[k],
        actual=actual,
        at_stake=actual - k_price[k],
        currency=s.currency[s.offsets[g]] if g.size else np.zeros(0, np.int64),
        detail=p.label(order[kf][k]),
    )


# --------------------------------------------------------------------------- price level


def _not_below_regular(p: Promos, ctx: Context) -> Found:
    """A promotional price not below the regular price of its series at its start."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(p.price > p.regular - ctx.policy.price_tolerance)
    return _promo_found("promo_not_below_regular", p, bad, ctx, p.regular[bad], p.price[bad])


def _not_applied(p: Promos, s: Series, ctx: Context) -> Found:
    """The series charged more than the announced promotional price during the promotion."""
    ok = np.flatnonzero(p.sid >= 0)
    g = p.sid[ok]
    end = np.minimum(p.end[ok], ctx.as_of)
    a = grouped_search(s.to, s.offsets[g], s.offsets[g + 1], p.start[ok], "right")
    b = grouped_search(s.frm, s.offsets[g], s.offsets[g + 1], end, "left")
    high = range_reduce(np.maximum, s.price, a, b)
    with np.errstate(invalid="ignore"):
        bad = ok[high > p.price[ok] + ctx.policy.price_tolerance]
        highest = high[high > p.price[ok] + ctx.policy.price_tolerance]
    return _promo_found("promo_not_applied", p, bad, ctx, p.price[bad], highest)


def _promo_found(
    rule: str,
    p: Promos,
    i: np.ndarray,
    ctx: Context,
    expected: np.ndarray,
    actual: np.ndarray,
    *,
    at_stake: np.ndarray | None = None,
    severity: object = None,
) -> Found:
    stake = (actual - expected) if at_stake is None else at_stake
    return Found.make(
        rule,
        sku=p.sku[i],
        channel=p.channel[i],
        location=p.location[i],
        start=p.start[i],
        end=_shown_end(p.end[i], ctx),
        expected=expected,
        actual=actual,
        at_stake=stake,
        currency=p.currency[i],
        detail=p.label(i),
        severity=severity,
    )


# --------------------------------------------------------------------------- prior price


def _first_start(p: Promos) -> np.ndarray:
    """Start of the first step of each row's promotion on its series (progressive reductions
    keep the prior price of their first step, art. 6a(5))."""
    n = p.row.size
    if n == 0:
        return p.start.copy()
    series = np.where(p.sid >= 0, p.sid, -1 - np.arange(n))  # unmatched rows stand alone
    order = np.lexsort((p.promo, series))
    new = run_starts(series[order], p.promo[order])
    first = np.flatnonzero(new)
    lowest = np.minimum.reduceat(p.start[order], first)
    out = np.empty(n, dtype=np.int64)
    out[order] = np.repeat(lowest, np.diff(np.append(first, n)))
    return out


def _prior_prices(
    p: Promos, s: Series, ctx: Context, first: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest price of the scope's prior-audience series over ``[first - window, first)``, and
    when the scope's prices start (for products on sale for less than the window)."""
    pol = ctx.policy
    n_ch, n_loc = ctx.channel_labels.size, ctx.location_labels.size
    n = p.row.size
    q_ok = np.flatnonzero(p.sid >= 0)
    sku, ch, loc = p.sku[q_ok], p.channel[q_ok], p.location[q_ok]
    if pol.prior_scope == "series":
        lo_key = series_key(sku, ch, loc, 0, n_ch, n_loc)
        hi_key = lo_key + _N_AUD
    elif pol.prior_scope == "channel":
        lo_key = series_key(sku, ch, 0, 0, n_ch, n_loc)
        hi_key = series_key(sku, ch + 1, 0, 0, n_ch, n_loc)
    else:
        lo_key = series_key(sku, 0, 0, 0, n_ch, n_loc)
        hi_key = series_key(sku + 1, 0, 0, 0, n_ch, n_loc)
    skey = series_key(s.sku, s.channel, s.location, s.audience, n_ch, n_loc)
    lo, hi = np.searchsorted(skey, lo_key), np.searchsorted(skey, hi_key)
    cand = ranges(lo, hi)
    q = np.repeat(np.arange(q_ok.size), hi - lo)
    keep = s.public(pol.prior_audiences)[cand]
    cand, q = cand[keep], q[keep]
    f = first[q_ok][q]
    window = int(pol.prior_window.astype(np.int64))
    a = grouped_search(s.to, s.offsets[cand], s.offsets[cand + 1], f - window, "right")
    b = grouped_search(s.frm, s.offsets[cand], s.offsets[cand + 1], f, "left")
    lowest = range_reduce(np.minimum, s.price, a, b)
    prior = np.full(n, np.nan)
    since = np.full(n, NAT, dtype=np.int64)
    if q.size:
        groups = np.flatnonzero(run_starts(q))
        owners = q_ok[q[groups]]
        prior[owners] = np.fmin.reduceat(lowest, groups)
        since[owners] = np.minimum.reduceat(s.frm[s.offsets[cand]], groups)
    launched = ctx.launched[p.sku]
    since = np.where(launched != NAT, launched, since)
    return prior, since


def _prior_price_rules(
    p: Promos, ctx: Context, first: np.ndarray, prior: np.ndarray, since: np.ndarray
) -> list[Found]:
    pol = ctx.policy
    tol = pol.price_tolerance
    out: list[Found] = []
    exempt = ctx.perishable[p.sku] if pol.perishables == "exempt" else np.zeros(p.sku.size, bool)
    ref = p.reference
    if pol.checks("prior_price_reference"):
        with np.errstate(invalid="ignore"):
            off = np.abs(ref - prior) > tol
        known = p.sid >= 0  # a promotion without prices is reported once, on its own
        bad = np.flatnonzero(known & ~np.isnan(ref) & (off | np.isnan(prior)) & ~exempt)
        sev = np.where(ref[bad] < prior[bad] - tol, "low", pol.severity("prior_price_reference"))
        out.append(
            _promo_found(
                "prior_price_reference", p, bad, ctx, prior[bad], ref[bad], severity=sev.tolist()
            )
        )
    if pol.checks("prior_price_percentage"):
        # CJEU C-330/23: the percentage is computed from the prior price shown
        base = np.where(np.isnan(ref), prior, ref)
        with np.errstate(invalid="ignore", divide="ignore"):
            exact = 100.0 * (base - p.price) / base
            bad = np.flatnonzero(
                ~np.isnan(p.pct)
                & ~np.isnan(exact)
                & (np.abs(p.pct - exact) > pol.percentage_tolerance)
            )
        shown = np.array([round(float(x), 1) for x in exact[bad]], dtype=np.float64)
        stake = base[bad] * (p.pct[bad] - exact[bad]) / 100.0
        out.append(
            _promo_found("prior_price_percentage", p, bad, ctx, shown, p.pct[bad], at_stake=stake)
        )
    if pol.checks("promo_not_below_prior"):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((p.price > prior - tol) & ~exempt)
        out.append(_promo_found("promo_not_below_prior", p, bad, ctx, prior[bad], p.price[bad]))
    if pol.checks("prior_price_short_history"):
        window = int(pol.prior_window.astype(np.int64))
        on_sale = first - since
        bad = np.flatnonzero((since != NAT) & (on_sale < window) & ~np.isnan(ref) & ~exempt)
        out.append(
            _promo_found(
                "prior_price_short_history",
                p,
                bad,
                ctx,
                np.full(bad.size, window / DAY),
                on_sale[bad] / DAY,
                at_stake=np.full(bad.size, np.nan),
            )
        )
    return out


# --------------------------------------------------------------------------- stacking


def _overlapping(p: Promos, ctx: Context) -> Found:
    """Pairs of promotions of one (sku, channel, location) that overlap and may not stack."""
    n = p.row.size
    order = np.lexsort((p.promo, p.end, p.start, p.location, p.channel, p.sku))
    place = np.cumsum(run_starts(p.sku[order], p.channel[order], p.location[order]))
    allowed = {tuple(x) for x in ctx.policy.stacking}
    labels = [str(x) for x in p.stype_labels.tolist()]
    pi: list[np.ndarray] = []
    pj: list[np.ndarray] = []
    act = np.arange(n)
    k = 1
    while act.size:
        j = np.minimum(act + k, n - 1)
        live = (act + k < n) & (place[j] == place[act])
        live &= p.start[order[j]] < p.end[order[act]]
        act = act[live]
        j = act + k
        pi.append(order[act])
        pj.append(order[j])
        k += 1
    i = np.concatenate(pi) if pi else np.zeros(0, np.int64)
    j = np.concatenate(pj) if pj else np.zeros(0, np.int64)
    ok = (p.promo[i] != p.promo[j]) & ~p.stackable[i] & ~p.stackable[j]
    if allowed:
        ti, tj = p.stype[i], p.stype[j]
        pair_ok = np.array(
            [
                a >= 0
                and b >= 0
                and (min(labels[a], labels[b]), max(labels[a], labels[b])) in allowed
                for a, b in zip(ti.tolist(), tj.tolist())
            ],
            dtype=bool,
        )
        ok &= ~pair_ok
    i, j = i[ok], j[ok]
    s0 = np.maximum(p.start[i], p.start[j])
    s1 = np.minimum(p.end[i], p.end[j])
    s1 = np.where(s1 >= OPEN, np.maximum(ctx.as_of, s0), s1)
    a, b = p.label(i), p.label(j)
    detail = ["|".join(sorted((x, y))) for x, y in zip(a, b)]
    return Found.make(
        "overlapping_promotions",
        sku=p.sku[i],
        channel=p.channel[i],
        location=p.location[i],
        start=s0,
        end=s1,
        expected=0.0,
        actual=(s1 - s0) / DAY,
        detail=detail,
    )

"""Injected price, promotion and stock faults of the synthetic data set, with their exact truth."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

if TYPE_CHECKING:
    from omnijourney.synth.prices._base import _Base

__all__ = ["DAY", "HOUR", "NAT", "SECOND", "Faults", "NewPromo", "Truth", "inject_faults"]

SECOND = 1_000_000
HOUR = 3_600 * SECOND
DAY = 24 * HOUR
NAT = int(np.iinfo(np.int64).min)

_STORE, _WEB = 3, 4  # channel codes
#: The retailer's own rules, as its pricing team states them: a channel's regular price is the
#: same as the others' when within 1 % of their median (at least 5 cents); a source system
#: re-confirms a store price within 7 days, any other within 2 days.
SAME_PRICE_PCT, SAME_PRICE_CENTS = 1.0, 5
CONFIRM_WITHIN = {True: 7 * DAY, False: 2 * DAY}  # store / other channels

Interval = list[Any]  # [from_us, to_us or NAT, price, regular]


@attrs.define(eq=False)
class Truth:
    """One expected violation; ``detail`` is text or the promotion indices it names."""

    rule: str
    sku: int
    channel: int
    location: int
    start: int
    end: int
    expected: float
    actual: float
    detail: str | tuple[int, ...]


@attrs.define(eq=False)
class NewPromo:
    """A promotion added on every group series (days since the start of the period)."""

    pid: int
    sku: int
    start: int
    end: int
    mech: int
    disc: float
    price: float


@attrs.define(eq=False)
class Faults:
    """Everything the faults change, keyed by series (``sku * n_ranks + rank``) or promotion row
    (``pid * n_ranks + rank``)."""

    truth: list[Truth] = attrs.field(factory=list)
    series: dict[int, list[Interval]] = attrs.field(factory=dict)
    stale: list[tuple[int, int, int]] = attrs.field(factory=list)
    promo_drop: set[int] = attrs.field(factory=set)
    promo_price: dict[int, float] = attrs.field(factory=dict)
    new_promos: list[NewPromo] = attrs.field(factory=list)
    near: list[Truth] = attrs.field(factory=list)
    opt_in: list[Truth] = attrs.field(factory=list)
    overlaps: list[tuple[int, int, int, float]] = attrs.field(factory=list)
    ref_override: dict[int, float] = attrs.field(factory=dict)
    pct_override: dict[int, tuple[str, float, int]] = attrs.field(factory=dict)


def inject_faults(
    base: _Base, rng: np.random.Generator, fault_rate: float, near: bool = False
) -> Faults:
    """Pick faulty skus rule by rule (one fault per sku) and describe each fault and its truth.

    Stock faults are written into the stock arrays of ``base``; everything else is returned.
    With ``near``, also faults within a cent or an hour of the retailer's own tolerances on
    both sides (those inside are near misses, not violations), and store prices sent twice.
    """
    faults = Faults()
    if fault_rate <= 0:
        return faults
    count = max(1, round(fault_rate * base.n))
    used = np.zeros(base.n, dtype=bool)
    builders: tuple[Callable[[_Base, Faults, np.random.Generator, int], bool], ...] = (
        _price_gap,
        _promo_not_mirrored,
        _promo_not_below_regular,
        _prior_price_reference,
        _prior_price_percentage,
        _overlapping_promotions,
        _stale_price,
        _coverage_hole,
        _stock_shown_unavailable,
        _negative_stock,
    )
    if near:
        near_gap, near_stale = partial(_price_gap, near=True), partial(_stale_price, near=True)
        builders = (*builders, near_gap, near_stale, _overlapping_prices, _flyer_not_applied)
    for build in builders:
        done = 0
        for sku in rng.permutation(base.n).tolist():
            if done == count:
                break
            if not used[sku] and build(base, faults, rng, sku):
                used[sku] = True
                done += 1
    return faults


# --------------------------------------------------------------------------- helpers


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _where(base: _Base, rank: int) -> tuple[int, int]:
    return base.rank_channel(rank), base.rank_location(rank)


def _windows(base: _Base, sku: int) -> list[tuple[int, int]]:
    """The 30-day prior-price windows of the sku's promotions, in microseconds."""
    lo, hi = base.p_off[sku], base.p_off[sku + 1]
    return [(int(base.us(s)) - 30 * DAY, int(base.us(s))) for s in base.p_start[lo:hi]]


def _subtract(a: int, b: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = [(a, b)]
    for c0, c1 in cuts:
        nxt = []
        for s, e in spans:
            if c1 <= s or c0 >= e:
                nxt.append((s, e))
                continue
            if s < c0:
                nxt.append((s, c0))
            if c1 < e:
                nxt.append((c1, e))
        spans = nxt
    return spans


def _quiet_span(
    base: _Base, rng: np.random.Generator, sku: int, iv: list[Interval], min_days: int
) -> tuple[int, int, int] | None:
    """A regular interval and a day-aligned span inside it, 1 day from its ends and preferably
    outside every prior-price window of the sku: ``(index, span_start, span_end)``."""
    cands = []
    for i, (f, t, _p, regular) in enumerate(iv):
        end = base.t1 if t == NAT else t
        if regular and end - f - 2 * DAY >= min_days * DAY:
            cands.append((i, f + DAY, end - DAY))
    if not cands:
        return None
    windows = _windows(base, sku)
    quiet = [
        (i, s, e)
        for i, a, b in cands
        for s, e in _subtract(a, b, windows)
        if e - s >= min_days * DAY
    ]
    i, a, b = _pick(rng, quiet or cands)
    return i, a, b


def _sub_span(rng: np.random.Generator, a: int, b: int, max_days: int) -> tuple[int, int]:
    n_days = (b - a) // DAY
    length = int(rng.integers(1, min(max_days, n_days) + 1))
    s = a + int(rng.integers(0, n_days - length + 1)) * DAY
    return s, s + length * DAY


def _simple_promos(base: _Base, sku: int) -> list[int]:
    lo, hi = int(base.p_off[sku]), int(base.p_off[sku + 1])
    return [p for p in range(lo, hi) if base.p_nsteps[p] == 1]


def _pick_simple_promo(base: _Base, rng: np.random.Generator, sku: int) -> int | None:
    """One of the sku's one-step promotions, drawn at random (None, drawing nothing, when it
    has none)."""
    pids = _simple_promos(base, sku)
    return int(_pick(rng, pids)) if pids else None


def _promo_span_us(base: _Base, pid: int) -> tuple[int, int]:
    """Start and end of the promotion ``pid`` in microseconds."""
    return int(base.us(base.p_start[pid])), int(base.us(base.p_end[pid]))


def _promo_index(iv: list[Interval], start_us: int) -> int:
    for i, row in enumerate(iv):
        if row[0] == start_us:
            return i
    raise AssertionError("promotion interval not found")  # pragma: no cover


# --------------------------------------------------------------------------- price series faults


def _price_gap(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int, near: bool = False
) -> bool:
    """A regular price 4-20 % away from the group's on one series for 1-10 days; with
    ``near``, one cent beyond the retailer's tolerance or at most at it (a near miss)."""
    rank = int(_pick(rng, base.group_ranks.tolist()))
    iv = base.series(sku, rank)
    found = _quiet_span(base, rng, sku, iv, 2)
    if found is None:
        return False
    i, a, b = found
    s, e = _sub_span(rng, a, b, 10)
    f, t, p, _ = iv[i]
    beyond = True
    if near:
        beyond = rng.random() < 0.5
        cents = _near_cents(p, beyond)
        other = round(p + (1.0 if rng.random() < 0.5 else -1.0) * cents / 100.0, 2)
        if other < 0.01 or cents <= 0:
            return False
    else:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        other = round(p * (1.0 + sign * rng.uniform(0.04, 0.2)), 2)
        if abs(other - p) < max(0.015 * p, 0.07) or other < 0.01:
            other = round(p + max(0.02 * p, 0.1), 2)
    iv[i : i + 1] = [[f, s, p, True], [s, e, other, True], [e, t, p, True]]
    faults.series[sku * base.n_ranks + rank] = iv
    ch, loc = _where(base, rank)
    detail = "regular price differs from the other channels"
    truth = Truth("price_gap", sku, ch, loc, s, e, p, other, detail)
    if beyond:
        faults.truth.append(truth)
    else:
        truth.detail = "regular price differs by no more than the same-price tolerance"
        faults.near.append(truth)
    return True


def _near_cents(price: float, beyond: bool) -> int:
    """Whole cents just beyond the retailer's same-price tolerance around ``price`` (the
    smallest above it), or within it (the largest below it, or at it when it is whole)."""
    limit = max(price * SAME_PRICE_PCT, SAME_PRICE_CENTS)  # in cents
    if beyond:
        return int(np.floor(limit + 1e-9)) + 1
    whole = abs(limit - round(limit)) < 1e-9
    return round(limit) - 1 if whole else int(np.floor(limit))


def _coverage_hole(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    rank = int(_pick(rng, [*base.group_ranks.tolist(), 2]))
    iv = base.series(sku, rank)
    found = _quiet_span(base, rng, sku, iv, 2)
    if found is None:
        return False
    i, a, b = found
    s, e = _sub_span(rng, a, b, 7)
    f, t, p, _ = iv[i]
    iv[i : i + 1] = [[f, s, p, True], [e, t, p, True]]
    faults.series[sku * base.n_ranks + rank] = iv
    ch, loc = _where(base, rank)
    length = (e - s) / DAY
    faults.truth.append(Truth("coverage_hole", sku, ch, loc, s, e, 0.0, length, "no valid price"))
    return True


def _stale_price(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int, near: bool = False
) -> bool:
    """A last confirmation 1 hour to 14 days older than the retailer's limit; with ``near``, a
    store price confirmed within an hour of the limit: just too late, or just in time,
    possibly to the microsecond (a near miss)."""
    ranks = [*base.group_ranks.tolist(), 2]
    if base.loyalty[sku]:
        ranks += [3 + 2 * j for j in range(base.n_stores)]
    rank = int(_pick(rng, base.group_ranks.tolist()[2:-1] if near else ranks))
    ch, loc = _where(base, rank)
    threshold = CONFIRM_WITHIN[ch == _STORE]
    iv = base.series(sku, rank)
    ends = [base.t1 if t == NAT else min(t, base.t1) for _f, t, _p, _r in iv]
    room = [end - row[0] - threshold for end, row in zip(ends, iv)]
    ok = [i for i, r in enumerate(room) if r >= DAY]
    if not ok:
        return False
    beyond = True
    if near:
        i = _pick(rng, ok)
        beyond = rng.random() < 0.5
        extra = int(rng.integers(1, HOUR // SECOND + 1)) * SECOND
        if not beyond:
            extra = 0 if rng.random() < 0.3 else -extra  # exactly at the limit, or within it
    else:
        i = len(iv) - 1 if len(iv) - 1 in ok else _pick(rng, ok)
        extra_max = min(14 * DAY, room[i])
        extra = HOUR + int(rng.integers(0, (extra_max - HOUR) // SECOND + 1)) * SECOND
    end = ends[i]
    confirmed = end - threshold - extra
    faults.stale.append((sku * base.n_ranks + rank, iv[i][0], confirmed))
    truth = Truth(
        "stale_price", sku, ch, loc, confirmed + threshold, end, threshold / DAY,
        (end - confirmed) / DAY, "price not re-confirmed by the source system",
    )  # fmt: skip
    if beyond:
        faults.truth.append(truth)
    else:
        truth.start = iv[i][0]  # the interval whose confirmation came just in time
        truth.detail = "confirmed in time, at most an hour before the limit"
        faults.near.append(truth)
    return True


def _overlapping_prices(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    """A store till sends a price again, days later, as a new interval inside the current one
    (same price): the data disagrees with itself on when the price started."""
    rank = int(_pick(rng, base.group_ranks.tolist()[2:-1]))
    iv = base.series(sku, rank)
    found = _quiet_span(base, rng, sku, iv, 4)
    if found is None:
        return False
    i, a, b = found
    s, e = _sub_span(rng, a, b, 10)
    if any(s < w1 and w0 < e + 30 * DAY for w0, w1 in _windows(base, sku)):
        return False  # keep the prior-price windows of promotions free of overlaps
    price = iv[i][2]
    faults.overlaps.append((sku * base.n_ranks + rank, s, e, price))
    ch, loc = _where(base, rank)
    faults.truth.append(
        Truth("overlapping_prices", sku, ch, loc, s, e, price, price, "the same price sent twice")
    )
    return True


# --------------------------------------------------------------------------- promotion faults


def _promo_not_mirrored(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    group = base.group_ranks.tolist()
    stores = group[2:-1]
    variant = int(rng.integers(3))
    if variant == 0:
        missing = stores
    elif variant == 1:
        missing = [group[0], group[-1]]  # app and web
    else:
        missing = [int(_pick(rng, group))]
    for rank in missing:
        faults.promo_drop.add(pid * base.n_ranks + rank)
        faults.truth.append(_regular_during(base, faults, sku, rank, pid, "promo_not_mirrored"))
    return True


def _regular_during(base: _Base, faults: Faults, sku: int, rank: int, pid: int, rule: str) -> Truth:
    """The series keeps its regular price during the promotion ``pid``: its truth row, with
    the promotional price expected and the regular price charged."""
    start, end = _promo_span_us(base, pid)
    iv = base.series(sku, rank)
    i = _promo_index(iv, start)
    before, after = iv[i - 1], iv[i + 1]
    iv[i - 1 : i + 2] = [[before[0], after[1], before[2], True]]
    faults.series[sku * base.n_ranks + rank] = iv
    ch, loc = _where(base, rank)
    promo = float(base.q_price[int(base.p_first_step[pid])])
    return Truth(rule, sku, ch, loc, start, end, promo, float(before[2]), (pid,))


def _flyer_not_applied(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    """The flyer and the web announce a promotion that one store's shelf never applies: the
    promotion row stays, the store charges its regular price (``promo_not_applied``, a rule
    an audit checks on request)."""
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    rank = int(_pick(rng, base.group_ranks.tolist()[2:-1]))
    faults.opt_in.append(_regular_during(base, faults, sku, rank, pid, "promo_not_applied"))
    return True


def _promo_not_below_regular(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int
) -> bool:
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    rank = int(_pick(rng, base.group_ranks.tolist()))
    regular = float(base.p_regular[pid])
    price = regular if rng.random() < 0.5 else round(regular * rng.uniform(1.01, 1.1), 2)
    price = max(price, regular)
    start, end = _promo_span_us(base, pid)
    iv = base.series(sku, rank)
    iv[_promo_index(iv, start)][2] = price
    faults.series[sku * base.n_ranks + rank] = iv
    faults.promo_price[pid * base.n_ranks + rank] = price
    ch, loc = _where(base, rank)
    faults.truth.append(
        Truth("promo_not_below_regular", sku, ch, loc, start, end, regular, price, (pid,))
    )
    return True


def _prior_price_reference(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    group = base.group_ranks.tolist()
    rank = int(_pick(rng, [group[0], group[-1]]))  # app or web
    start, end = _promo_span_us(base, pid)
    w0 = start - 30 * DAY
    iv = base.series(sku, rank)
    lowest = min(p for f, t, p, _r in iv if f < start and (t == NAT or t > w0))
    slots = []
    for i, (f, t, _p, regular) in enumerate(iv):
        t_eff = base.t1 if t == NAT else t
        lo, hi = max(f, w0) + HOUR, min(t_eff, start) - HOUR
        if regular and hi - lo >= 4 * HOUR:
            slots.append((i, lo, hi))
    flash = np.floor(lowest * rng.uniform(0.55, 0.85) * 100) / 100
    if not slots or flash > lowest - 0.02 or flash < 0.01:
        return False
    i, lo, hi = _pick(rng, slots)
    hours = int(rng.integers(1, 4))
    fs = lo + int(rng.integers(0, (hi - lo) // HOUR - hours + 1)) * HOUR
    fe = fs + hours * HOUR
    f, t, p, _ = iv[i]
    iv[i : i + 1] = [[f, fs, p, True], [fs, fe, float(flash), False], [fe, t, p, True]]
    faults.series[sku * base.n_ranks + rank] = iv
    faults.ref_override[pid * base.n_ranks + rank] = float(lowest)
    ch, loc = _where(base, rank)
    faults.truth.append(
        Truth("prior_price_reference", sku, ch, loc, start, end, float(flash), lowest, (pid,))
    )
    return True


def _prior_price_percentage(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int
) -> bool:
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    rank = int(_pick(rng, base.group_ranks.tolist()))
    if rng.random() < 0.5:
        was = ("price", round(float(base.p_regular[pid] * base.mkt_factor[sku]), 2))
    else:
        was = ("factor", float(rng.uniform(1.1, 1.4)))
    start, end = _promo_span_us(base, pid)
    ch, loc = _where(base, rank)
    faults.pct_override[pid * base.n_ranks + rank] = (*was, len(faults.truth))
    faults.truth.append(
        Truth("prior_price_percentage", sku, ch, loc, start, end, np.nan, np.nan, (pid,))
    )
    return True


def _overlapping_promotions(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int
) -> bool:
    pid = _pick_simple_promo(base, rng, sku)
    if pid is None:
        return False
    s, e = int(base.p_start[pid]), int(base.p_end[pid])
    first, last = int(base.p_off[sku]), int(base.p_off[sku + 1]) - 1
    prev_end = int(base.p_end[pid - 1]) if pid > first else -(10**9)
    next_start = int(base.p_start[pid + 1]) if pid < last else base.days
    changes = [int(c) for c in base.chg_day[sku] if c >= 0]
    last_change = max([c for c in changes if c <= s], default=-(10**9))
    next_change = min([c for c in changes if c > s], default=base.days)
    day0 = int(base.day0[sku])
    lo = max(s - 5, prev_end + 1, last_change + 30, day0 + 3 if day0 > 0 else 30)
    if lo > e - 1:
        return False
    s2 = int(rng.integers(lo, e))
    lo_end, hi_end = (
        max(s2 + 2, s + 1),
        min(s2 + 10, next_start - 1, next_change - 1, base.days - 2),
    )
    if lo_end > hi_end:
        return False
    e2 = int(rng.integers(lo_end, hi_end + 1))
    regular = float(base.p_regular[pid])
    pct = float(_pick(rng, [5, 10, 15, 20]))
    price = min(round(regular * (1 - pct / 100), 2), round(regular - 0.01, 2))
    new_pid = base.p_sku.size + len(faults.new_promos)
    faults.new_promos.append(NewPromo(new_pid, sku, s2, e2, 2, pct, price))
    o0, o1 = max(s, s2), min(e, e2)
    first_price = float(base.q_price[base.p_first_step[pid]])
    for rank in base.group_ranks.tolist():
        iv = base.series(sku, rank)
        faults.series[sku * base.n_ranks + rank] = _with_second_promotion(
            base, iv, (s, e, first_price), (s2, e2, price)
        )
        ch, loc = _where(base, rank)
        faults.truth.append(
            Truth(
                "overlapping_promotions",
                sku,
                ch,
                loc,
                int(base.us(o0)),
                int(base.us(o1)),
                0.0,
                float(o1 - o0),
                (pid, new_pid),
            )
        )
    return True


def _with_second_promotion(
    base: _Base, iv: list[Interval], first: tuple[int, int, float], second: tuple[int, int, float]
) -> list[Interval]:
    """The series with a second promotion applied over ``first`` (days, days, price): each
    promotion's price where it runs alone, the lower of the two where both run (two
    non-stackable promotions give the customer the better one)."""
    i = _promo_index(iv, int(base.us(first[0])))
    before, after = iv[i - 1], iv[i + 1]
    cuts = sorted({first[0], first[1], second[0], second[1]})
    pieces: list[Interval] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        prices = [p for s, e, p in (first, second) if s <= a and b <= e]
        price = min(prices)
        if pieces and pieces[-1][2] == price:
            pieces[-1][1] = int(base.us(b))
        else:
            pieces.append([int(base.us(a)), int(base.us(b)), price, False])
    head = [[before[0], pieces[0][0], before[2], True]]
    tail = [[pieces[-1][1], after[1], after[2], True]]
    return [*iv[: i - 1], *head, *pieces, *tail, *iv[i + 2 :]]


# --------------------------------------------------------------------------- stock faults


def _stock_rows(base: _Base, sku: int, loc: int) -> np.ndarray:
    n_days = base.days - int(base.day0[sku])
    first = int(base.st_off[sku]) + loc * n_days
    return np.arange(first, first + n_days)


def _stock_channel(base: _Base, loc: int) -> int:
    return _WEB if loc == base.n_stores else _STORE


def _stock_shown_unavailable(
    base: _Base, faults: Faults, rng: np.random.Generator, sku: int
) -> bool:
    stores = rng.permutation(base.n_stores).tolist()
    order = [*stores, base.n_stores] if rng.random() < 0.8 else [base.n_stores, *stores]
    for loc in order:
        rows = _stock_rows(base, sku, loc)
        zero = base.st_qty[rows] == 0
        if not zero.any():
            continue
        edges = np.diff(np.concatenate(([0], zero.astype(np.int8), [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        k = int(rng.integers(starts.size))
        a, b = _sub_span(rng, int(starts[k]) * DAY, int(stops[k]) * DAY, 4)
        chosen = rows[a // DAY : b // DAY]
        if loc == base.n_stores:
            flags = "shown"
        elif base.store_cc[loc]:
            flags = _pick(rng, ["shown", "click_collect", "both"])
        else:
            flags = "shown"
        if flags in ("shown", "both"):
            base.st_shown[chosen] = True
        if flags in ("click_collect", "both"):
            base.st_cc[chosen] = True
        first_day = int(base.day0[sku]) + a // DAY
        faults.truth.append(
            Truth(
                "stock_shown_unavailable",
                sku,
                _stock_channel(base, loc),
                loc,
                int(base.us(first_day)),
                int(base.us(first_day + chosen.size)),
                1.0,
                0.0,
                "shown available while out of stock",
            )
        )
        return True
    return False


def _negative_stock(base: _Base, faults: Faults, rng: np.random.Generator, sku: int) -> bool:
    loc = int(rng.integers(base.n_stores + 1))
    rows = _stock_rows(base, sku, loc)
    a, b = _sub_span(rng, 0, rows.size * DAY, 3)
    chosen = rows[a // DAY : b // DAY]
    qty = -rng.integers(1, 6, chosen.size)
    base.st_qty[chosen] = qty
    base.st_shown[chosen] = False
    base.st_cc[chosen] = False
    first_day = int(base.day0[sku]) + a // DAY
    faults.truth.append(
        Truth(
            "negative_stock",
            sku,
            _stock_channel(base, loc),
            loc,
            int(base.us(first_day)),
            int(base.us(first_day + chosen.size)),
            0.0,
            float(qty.min()),
            "negative quantity",
        )
    )
    return True

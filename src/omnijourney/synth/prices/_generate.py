"""The synthetic price world's generator: the clean baseline, then the injected faults.

The rules and conventions are those of :mod:`omnijourney.synth.prices`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.synth.prices._faults import DAY, inject_faults
from omnijourney.tables import code_dtype
from omnijourney.time import to_datetime64

__all__ = [
    "PRICE_CHANNELS",
    "RULES",
    "SAME_PRICE_GROUP",
    "PriceWorld",
    "make_prices",
]
from omnijourney.synth.prices._assembly import (
    _assemble_prices,
    _assemble_promotions,
    _catalog_table,
    _prices_table,
    _stock_table,
    _violations_table,
)
from omnijourney.synth.prices._base import (
    _CATEGORIES,
    _LOYALTY_RATE,
    _MAX_FAULT_RATE,
    _NEW_SKU_RATE,
    _PROGRESSIVE_RATE,
    _STOCK_CHUNK,
    PRICE_CHANNELS,
    RULES,
    SAME_PRICE_GROUP,
    PriceWorld,
    _Base,
    _cents,
    _labels,
)

# --------------------------------------------------------------------------- public entry point


def make_prices(
    n_skus: int,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int = 365,
    n_stores: int = 5,
    fault_rate: float = 0.02,
    near: bool = False,
) -> PriceWorld:
    """Generate catalogue, prices, promotions and stock with injected faults and their truth.

    Parameters
    ----------
    n_skus : int
        Number of skus (at least 1).
    rng : numpy.random.Generator
        Source of randomness; the same seed gives identical tables.
    start : numpy.datetime64
        First instant of the period (anything :func:`~omnijourney.time.to_datetime64` reads).
    days : int
        Length of the period in days (90 to 3,650); the data are observed as of
        ``start + days``.
    n_stores : int
        Number of stores ``"S01"``... (1 to 99); store prices are national.
    fault_rate : float
        Share of skus that receive a fault, for each rule of :data:`RULES` (0 to 0.1; at least
        one sku per rule when positive). A sku carries at most one fault.
    near : bool
        Also inject, at the same rate, regular prices one cent beyond or at most at the
        retailer's same-price tolerance, store confirmations an hour beyond or at most at
        their limit (to the microsecond for some), store prices sent twice
        (``overlapping_prices``), and promotions a store's shelf does not apply (found by the
        opt-in rule ``promo_not_applied``: ``opt_in_violations``); those within the
        tolerances are ``near_misses``.

    Returns
    -------
    PriceWorld
        The five tables; ``violations`` lists every injected inconsistency exactly, under the
        rule definitions of this module.

    Raises
    ------
    ConfigError
        A parameter is out of range.

    Notes
    -----
    With 5 stores there are about 44 price intervals, 13 promotion rows and
    ``(n_stores + 1) * days`` stock rows per sku (fewer for skus launched inside the period).
    Time and memory are linear in ``n_skus``; the stock rows dominate (10,000 skus: about
    20.6 million stock rows, 3.5 s and 0.55 GiB peak).

    Examples
    --------
    >>> import numpy as np
    >>> w = make_prices(20, np.random.default_rng(1), start=np.datetime64("2024-01-01"))
    >>> sorted(set(w.prices["channel"])) == sorted(PRICE_CHANNELS)
    True
    >>> set(w.violations["rule"]) <= set(RULES)
    True
    """
    return price_world(
        n_skus, rng, start=start, days=days, n_stores=n_stores, fault_rate=fault_rate, near=near
    )[0]


def price_world(
    n_skus: int,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int = 365,
    n_stores: int = 5,
    fault_rate: float = 0.02,
    near: bool = False,
) -> tuple[PriceWorld, _Base]:
    """:func:`make_prices` and the clean baseline it started from (the group timeline of
    each sku before the faults, for the touchpoints that see these prices)."""
    _check(n_skus, rng, days, n_stores, fault_rate)
    t0 = int(to_datetime64(start, name="start").astype(np.int64))
    base = _baseline(int(n_skus), rng, t0, int(days), int(n_stores))
    faults = inject_faults(base, rng, float(fault_rate), near=bool(near))
    prices = _assemble_prices(base, faults, rng)
    promotions = _assemble_promotions(base, faults, prices)
    world = PriceWorld(
        catalog=_catalog_table(base),
        prices=_prices_table(base, prices),
        promotions=promotions,
        stock=_stock_table(base),
        violations=_violations_table(base, faults),
        near_misses=_violations_table(base, faults, faults.near),
        opt_in_violations=_violations_table(base, faults, faults.opt_in),
    )
    return world, base


def _check(n_skus: Any, rng: Any, days: Any, n_stores: Any, fault_rate: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        msg = f"rng must be a numpy.random.Generator, got {type(rng).__name__}"
        raise ConfigError(msg)
    for name, value, lo, hi in (
        ("n_skus", n_skus, 1, None),
        ("days", days, 90, 3650),
        ("n_stores", n_stores, 1, 99),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            msg = f"The {name!r} parameter must be an int, got {value!r}"
            raise ConfigError(msg)
        if value < lo or (hi is not None and value > hi):
            bounds = f"[{lo}, {hi}]" if hi is not None else f"[{lo}, inf)"
            msg = f"The {name!r} parameter must be in the range {bounds}. Got {value} instead."
            raise ConfigError(msg)
    if not isinstance(fault_rate, (int, float, np.floating)) or not (
        0.0 <= float(fault_rate) <= _MAX_FAULT_RATE
    ):
        msg = (
            f"The 'fault_rate' parameter must be a float in [0, {_MAX_FAULT_RATE:g}] (each "
            f"faulty sku carries one fault of {len(RULES)} rules). Got {fault_rate!r} instead."
        )
        raise ConfigError(msg)


# --------------------------------------------------------------------------- baseline


def _baseline(n: int, rng: np.random.Generator, t0: int, days: int, ns: int) -> _Base:
    category = rng.integers(0, len(_CATEGORIES), n)
    base_price = _cents(np.maximum(np.round(np.exp(rng.normal(2.6, 1.0, n)), 1) - 0.01, 0.49))
    new = (rng.random(n) < _NEW_SKU_RATE) & (days >= 120)
    launch_day = np.where(new, rng.integers(1, days - 75, n), -rng.integers(30, 1500, n))
    day0 = np.maximum(launch_day, 0).astype(np.int64)
    width = max(5, len(str(n)))
    chg_day, chg_price = _price_changes(rng, base_price, day0, days)
    promos = _promotions(rng, day0, days, chg_day, chg_price)
    return _Base(
        n=n,
        n_stores=ns,
        days=days,
        t0=t0,
        t1=t0 + days * DAY,
        sku_labels=_labels(f"SKU{i:0{width}d}" for i in range(1, n + 1)),
        category=category,
        base_price=base_price,
        launch_day=launch_day.astype(np.int64),
        day0=day0,
        mkt_factor=rng.uniform(1.03, 1.12, n),
        loyalty=rng.random(n) < _LOYALTY_RATE,
        loyalty_disc=rng.uniform(0.05, 0.15, n),
        chg_day=chg_day,
        **_group_timeline(n, day0, chg_day, chg_price, promos),
        **_segments(n, day0, chg_day, chg_price),
        **promos,
        **_stock(rng, n, ns, days, day0),
    )


def _price_changes(
    rng: np.random.Generator, base_price: np.ndarray, day0: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """0-3 regular price changes per sku at day boundaries; prices[:, k] holds after change k."""
    n = day0.size
    k = rng.choice(4, n, p=[0.3, 0.35, 0.25, 0.1])
    lo, hi = day0 + 20, days - 20
    span = np.maximum(hi - lo, 0)
    cand = lo[:, None] + np.floor(rng.random((n, 3)) * span[:, None]).astype(np.int64)
    valid = (np.arange(3)[None, :] < k[:, None]) & (span > 0)[:, None]
    big = np.iinfo(np.int64).max
    cand = np.sort(np.where(valid, cand, big), axis=1)
    dup = np.zeros_like(valid)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    cand = np.sort(np.where(dup, big, cand), axis=1)
    chg = np.where(cand == big, -1, cand)
    up = rng.random((n, 3)) < 0.65
    mult = 1.0 + np.where(up, 1.0, -1.0) * rng.uniform(0.02, 0.15, (n, 3))
    prices = np.empty((n, 4))
    prices[:, 0] = base_price
    for j in range(3):
        nxt = _cents(prices[:, j] * mult[:, j])
        nxt = np.where(np.abs(nxt - prices[:, j]) < 0.005, prices[:, j] + 0.01, nxt)
        prices[:, j + 1] = np.maximum(nxt, 0.39)
    return chg, prices


def _promotions(
    rng: np.random.Generator,
    day0: np.ndarray,
    days: int,
    chg: np.ndarray,
    chg_price: np.ndarray,
) -> dict[str, np.ndarray]:
    """0-4 non-overlapping promotions per sku, away from price changes, with their steps."""
    n = day0.size
    k = rng.choice(5, n, p=[0.2, 0.25, 0.25, 0.18, 0.12])
    lo = np.where(day0 > 0, day0 + 3, 30)
    hi = days - 16
    span = np.maximum(hi - lo, 0)
    prog = rng.random((n, 4)) < _PROGRESSIVE_RATE
    nsteps = np.where(prog, rng.integers(2, 4, (n, 4)), 1)
    steplen = np.where(prog, rng.integers(3, 5, (n, 4)), rng.integers(2, 15, (n, 4)))
    s = lo[:, None] + np.floor(rng.random((n, 4)) * span[:, None]).astype(np.int64)
    e = s + nsteps * steplen
    valid = (np.arange(4)[None, :] < k[:, None]) & (span > 0)[:, None]
    for j in range(3):
        c = chg[:, j : j + 1]
        clash = (c >= 0) & (s < c + 30) & (e > c - 1)
        valid &= ~clash
    for i in range(1, 4):
        for j in range(i):
            clash = valid[:, j] & (s[:, i] < e[:, j] + 7) & (s[:, j] < e[:, i] + 7)
            valid[:, i] &= ~clash
    sku, col = np.nonzero(valid)
    order = np.lexsort((s[sku, col], sku))
    sku, col = sku[order], col[order]
    p_start, p_end = s[sku, col], e[sku, col]
    n_before = ((chg[sku] >= 0) & (chg[sku] <= p_start[:, None])).sum(axis=1)
    regular = chg_price[sku, n_before]
    p_nsteps = nsteps[sku, col]
    p_prog = prog[sku, col]
    p_steplen = steplen[sku, col]
    n_p = sku.size

    # steps
    q_pid = np.repeat(np.arange(n_p), p_nsteps)
    first_step = np.concatenate(([0], np.cumsum(p_nsteps)[:-1])).astype(np.int64)
    k_step = np.arange(q_pid.size) - first_step[q_pid]
    q_start = p_start[q_pid] + k_step * p_steplen[q_pid]
    q_end = q_start + p_steplen[q_pid]
    r = regular[q_pid]
    mech_draw = rng.choice(3, n_p, p=[0.25, 0.25, 0.5])  # amount_off, fixed_price, percentage
    mech = np.where(p_prog, 2, mech_draw)[q_pid]
    pct_simple = rng.choice(np.array([10, 15, 20, 25, 30, 40, 50]), n_p)
    pct_first = rng.choice(np.array([10, 20]), n_p)
    pct = np.where(p_prog[q_pid], pct_first[q_pid] + 10 * k_step, pct_simple[q_pid]).astype(float)
    raw_amount = r * rng.uniform(0.1, 0.4, n_p)[q_pid]
    amount = np.where(
        raw_amount >= 10,
        np.floor(raw_amount),
        np.where(raw_amount >= 1, np.floor(raw_amount * 2) / 2, np.floor(raw_amount * 10) / 10),
    )
    amount = np.maximum(amount, 0.05)
    fixed = np.maximum(np.round(r * rng.uniform(0.6, 0.9, n_p)[q_pid], 1) - 0.01, 0.01)
    price = np.select(
        [mech == 2, mech == 0],
        [_cents(r * (1.0 - pct / 100.0)), _cents(r - amount)],
        default=_cents(fixed),
    )
    price = np.maximum(np.minimum(price, _cents(r - 0.01)), 0.01)
    disc = np.select([mech == 2, mech == 0], [pct, amount], default=_cents(r - price))
    # a promotion must be a reduction against its 30-day prior price, which an earlier
    # promotion ending inside that window lowers: keep only those deeper than it
    last_step = first_step + p_nsteps - 1
    kept = _below_recent_promotions(sku, p_start, p_end, price[first_step], price[last_step])
    step_kept = kept[q_pid]
    sku, p_start, p_end, p_nsteps, regular = (
        x[kept] for x in (sku, p_start, p_end, p_nsteps, regular)
    )
    q_pid = (np.cumsum(kept) - 1)[q_pid[step_kept]]
    q_start, q_end, mech, disc, price = (x[step_kept] for x in (q_start, q_end, mech, disc, price))
    first_step = np.concatenate(([0], np.cumsum(p_nsteps)[:-1])).astype(np.int64)
    p_off = np.searchsorted(sku, np.arange(n + 1)).astype(np.int64)
    return {
        "p_sku": sku.astype(np.int64),
        "p_start": p_start.astype(np.int64),
        "p_end": p_end.astype(np.int64),
        "p_nsteps": p_nsteps.astype(np.int64),
        "p_first_step": first_step,
        "p_regular": regular,
        "p_off": p_off,
        "q_pid": q_pid.astype(np.int64),
        "q_start": q_start.astype(np.int64),
        "q_end": q_end.astype(np.int64),
        "q_mech": mech.astype(np.int64),
        "q_disc": disc.astype(np.float64),
        "q_price": price.astype(np.float64),
    }


def _below_recent_promotions(
    sku: np.ndarray, start: np.ndarray, end: np.ndarray, first: np.ndarray, lowest: np.ndarray
) -> np.ndarray:
    """Which promotions (sorted by sku then start) to keep so that each one's first price is
    below the lowest price of every kept earlier promotion of its sku that ends within the 30
    days before it starts (art. 6a: the reduction is measured from that prior price)."""
    kept = np.ones(sku.size, dtype=bool)
    rank = np.arange(sku.size) - np.searchsorted(sku, sku)
    for r in range(1, int(rank.max(initial=0)) + 1):
        cur = np.flatnonzero(rank == r)
        for back in range(1, r + 1):
            prev = cur - back
            recent = kept[prev] & (end[prev] + 30 > start[cur])
            kept[cur] &= ~(recent & (first[cur] > lowest[prev] - 0.005))
    return kept


def _with_next(sku: np.ndarray, frm: np.ndarray) -> np.ndarray:
    """End of each interval: the next start of the same sku, or -1 (open)."""
    to = np.full(frm.size, -1, dtype=np.int64)
    if frm.size > 1:
        same = sku[1:] == sku[:-1]
        to[:-1] = np.where(same, frm[1:], -1)
    return to


def _group_timeline(
    n: int,
    day0: np.ndarray,
    chg: np.ndarray,
    chg_price: np.ndarray,
    promos: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    ci, cj = np.nonzero(chg >= 0)
    q_pid = promos["q_pid"]
    p_sku = promos["p_sku"]
    sku = np.concatenate((np.arange(n), ci, p_sku[q_pid], p_sku))
    frm = np.concatenate((day0, chg[ci, cj], promos["q_start"], promos["p_end"]))
    price = np.concatenate(
        (chg_price[:, 0], chg_price[ci, cj + 1], promos["q_price"], promos["p_regular"])
    )
    regular = np.concatenate(
        (np.ones(n + ci.size, bool), np.zeros(q_pid.size, bool), np.ones(p_sku.size, bool))
    )
    # a promotion ends once (at its last step's end): earlier step ends are the next step's start
    order = np.lexsort((frm, sku))
    sku, frm, price, regular = sku[order], frm[order], price[order], regular[order]
    return {
        "g_sku": sku.astype(np.int64),
        "g_from": frm.astype(np.int64),
        "g_to": _with_next(sku, frm),
        "g_price": price,
        "g_regular": regular,
        "g_off": np.searchsorted(sku, np.arange(n + 1)).astype(np.int64),
    }


def _segments(
    n: int, day0: np.ndarray, chg: np.ndarray, chg_price: np.ndarray
) -> dict[str, np.ndarray]:
    ci, cj = np.nonzero(chg >= 0)
    sku = np.concatenate((np.arange(n), ci))
    frm = np.concatenate((day0, chg[ci, cj]))
    price = np.concatenate((chg_price[:, 0], chg_price[ci, cj + 1]))
    order = np.lexsort((frm, sku))
    sku, frm, price = sku[order], frm[order], price[order]
    return {
        "s_sku": sku.astype(np.int64),
        "s_from": frm.astype(np.int64),
        "s_to": _with_next(sku, frm),
        "s_price": price,
        "s_off": np.searchsorted(sku, np.arange(n + 1)).astype(np.int64),
    }


def _stock(
    rng: np.random.Generator, n: int, ns: int, days: int, day0: np.ndarray
) -> dict[str, np.ndarray]:
    """Daily stock per (sku, location): Poisson demand, periodic restocks to a level."""
    n_loc = ns + 1
    n_days = days - day0
    off = np.concatenate(([0], np.cumsum(n_days * n_loc))).astype(np.int64)
    total = int(off[-1])
    out_sku = np.empty(total, dtype=code_dtype(n))
    out_loc = np.empty(total, dtype=np.int8)
    out_day = np.empty(total, dtype=np.int16)
    out_qty = np.empty(total, dtype=np.int32)
    store_cc = rng.random(ns) < 0.8
    if not store_cc.any():
        store_cc[0] = True
    popularity = rng.lognormal(0.0, 0.7, n)
    day = np.arange(days, dtype=np.int32)
    for i0 in range(0, n, _STOCK_CHUNK):
        i1 = min(n, i0 + _STOCK_CHUNK)
        rows = (i1 - i0) * n_loc
        sku = np.repeat(np.arange(i0, i1), n_loc)
        loc = np.tile(np.arange(n_loc, dtype=np.int8), i1 - i0)
        online = loc == ns
        lam = popularity[sku] * np.where(
            online, rng.uniform(1.0, 10.0, rows), rng.uniform(0.15, 2.0, rows)
        )
        period = rng.integers(3, 15, rows)
        phase = rng.integers(0, period)
        level = np.ceil(lam * period * rng.uniform(0.7, 1.4, rows)).astype(np.int32)
        level += rng.integers(0, 3, rows, dtype=np.int32)
        demand = rng.poisson(lam[:, None], (rows, days)).astype(np.int32)
        first = day0[sku].astype(np.int32)[:, None]
        restock = ((day[None, :] + phase[:, None]) % period[:, None] == 0) | (day[None, :] == first)
        cum = np.cumsum(demand, axis=1, dtype=np.int32)
        last = np.maximum.accumulate(np.where(restock, day[None, :], 0), axis=1)
        cum -= np.take_along_axis(cum - demand, last, axis=1)
        del demand, restock, last
        qty = np.maximum(level[:, None] - cum, 0)
        keep = day[None, :] >= first
        lo, hi = int(off[i0]), int(off[i1])
        out_qty[lo:hi] = qty[keep]
        out_day[lo:hi] = np.broadcast_to(day[None, :], keep.shape)[keep]
        counts = (days - first[:, 0]).astype(np.int64)
        out_sku[lo:hi] = np.repeat(sku, counts)
        out_loc[lo:hi] = np.repeat(loc, counts)
    shown = out_qty > 0
    cc = shown & np.concatenate((store_cc, [False]))[out_loc]
    return {
        "st_off": off,
        "st_sku": out_sku,
        "st_loc": out_loc,
        "st_day": out_day,
        "st_qty": out_qty,
        "st_shown": shown,
        "st_cc": cc,
        "store_cc": store_cc,
    }

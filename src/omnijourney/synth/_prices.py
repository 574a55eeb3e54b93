"""Synthetic catalogue, prices, promotions and stock across channels, with injected faults.

:func:`make_prices` builds a :class:`PriceWorld`: a price, promotion and stock history that is
clean by construction, plus a few injected inconsistencies whose exact truth is the
``violations`` table. The definitions below are the contract an auditor implements to find
exactly those rows (no more, no fewer).

Conventions
-----------
Times are ``datetime64[us]`` UTC. The period is ``[start, as_of)`` with ``as_of = start + days``
(the instant the data set is observed). A price *series* is ``(sku, channel, location,
audience)``; ``location`` is ``"online"`` for web, app, call_centre and marketplace and
``"S01"``...``"Snn"`` for stores. The *group* is every public series of a channel of
:data:`SAME_PRICE_GROUP` (each store location counted separately). A series covers
``[max(launched, start), as_of)``; its intervals ``[valid_from, valid_to)`` never overlap and the
last one is open-ended (``valid_to`` NaT, read as ``as_of``). Amounts are EUR with cents.
A promotion is identified by ``promo_id``; a progressive promotion has several rows with the
same ``promo_id`` on consecutive ``[start, end)`` steps, and its *first start* is the start of
its first step. The *regular price* of a series at an instant ``t`` is the price of its latest
``price_type == "regular"`` interval with ``valid_from <= t``.

Baseline (no violation): regular public prices change 0-3 times a year at the same instant on
every channel; marketplace prices are the group price times a per-sku factor in [1.03, 1.12];
loyalty prices (store only, audience ``"loyalty"``, 15 % of skus) are 5-15 % below the regular
price and have no promotional interval. Promotions (0-4 per sku, 2-14 days, 15 % progressive in
2-3 steps of 10 percentage points) are on every group series, as a promotional interval and a
``promotions`` row; they start at least 30 days after a regular price change and 30 days after
``start`` (skus launched before ``start``) or 3 days after the launch (skus launched inside the
period, whose 30-day window then begins before the launch), end at least a day before the next
change and are at least 7 days apart; a promotion that starts within 30 days of the end of an
earlier one is deeper than it (its first price is below the earlier one's lowest), so every
promotional price is below its prior price (no reduction is priced at or above the lowest
price of the 30 days before it). ``discount`` is the percentage, the amount off, or for
``fixed_price`` the amount off the regular price it implies; ``stackable`` is false. Stock is
non-negative and shown available (and offered for click & collect by the stores that offer it)
exactly when positive. Each interval is confirmed at most 1 day (online) or 3 days (store)
before ``min(valid_to, as_of)``.

Injected faults: price_gap, a regular price 4-20 % away from the group's on one group series (an
online channel or one store) for 1-10 days inside a regular interval; promo_not_mirrored, a
promotion removed from every store, from web and app, or from one group series (the series keeps
its regular price); promo_not_below_regular, a promotional price set at or 1-10 % above the
regular price on one series (``discount`` keeps its nominal value); prior_price_reference, a 1-3
hour promotional flash price on web or app (an interval without ``promotions`` row) inside the
30 days before a promotion whose reference price on that series ignores it;
prior_price_percentage, ``announced_pct`` computed from the marketplace price or a 10-40 %
higher "was" price; overlapping_promotions, a second promotion of 2-10 days on every group
series that overlaps an existing one, applied in the prices (its price where it runs alone, the
lower of the two where both run, so that every promotion is applied); stale_price, a last
confirmation 1 hour to 14 days older than the threshold; coverage_hole, a 1-7 day gap in a group
or marketplace series; stock faults, 1-4 days of a zero-stock run shown available or offered for
click & collect, and 1-3 days of quantities between -5 and -1 (shown unavailable). Price faults
avoid the 30-day windows of promotions when they can; reference prices and percentages are
computed after the faults, so a fault never makes another rule of :data:`RULES` fire.

Rules (one ``violations`` row each; ``expected``/``actual`` as listed)
----------------------------------------------------------------------
price_gap
    At each instant, the regular prices of the group series that have a price then (an interval
    containing the instant) are compared with their median; a series deviates when
    ``|price - median| > max(0.01 * median, 0.05)``. One row per series and maximal interval
    over which it deviates with the same (median, price): ``expected`` = median,
    ``actual`` = price.
promo_not_mirrored
    A promotion ``(sku, promo_id, start)`` present in ``promotions`` on some group series must be
    present on all (web, app and call_centre online, store at every store location of
    ``prices``). One row per missing (channel, location), ``[start, end)`` of the promotion,
    ``expected`` = the lowest ``promo_price`` of the rows present, ``actual`` = the public price
    of the interval of that series containing ``start``.
promo_not_below_regular
    A promotions row with ``promo_price > regular - 0.005`` (regular price of its series at
    ``start``). ``expected`` = regular price, ``actual`` = ``promo_price``.
prior_price_reference
    Directive 98/6/EC art. 6a: the prior price of a promotions row is the lowest price of its
    public series (any ``price_type``, audience public only, so loyalty prices are out) over the
    intervals with ``valid_from < first start`` and ``valid_to > first start - 30 days`` (open
    intervals included); before the launch there is no price, so for a recent sku it is the
    lowest since launch. Progressive steps keep the prior price of the first step. A row
    violates when ``|reference_price - prior price| > 0.005``. ``expected`` = prior price,
    ``actual`` = ``reference_price``.
prior_price_percentage
    CJEU C-330/23: ``announced_pct`` must be computed from ``reference_price``; a row violates
    when ``|announced_pct - 100 * (reference_price - promo_price) / reference_price| > 0.1``.
    ``expected`` = that percentage rounded to 0.1, ``actual`` = ``announced_pct``.
overlapping_promotions
    Two promotions rows of the same (sku, channel, location) with different ``promo_id``, both
    non-stackable, whose ``[start, end)`` intersect. One row per pair: the intersection,
    ``expected`` = 0, ``actual`` = its length in days, ``detail`` = ``"<id>|<id>"`` (sorted).
stale_price
    An interval whose last confirmation is older than 7 days (store) or 2 days (other channels)
    before it stops being current, at ``min(valid_to, as_of)``: the row covers
    ``[confirmed + threshold, min(valid_to, as_of))``, ``expected`` = threshold in days,
    ``actual`` = days between ``confirmed`` and that end.
coverage_hole
    A time inside ``[max(launched, start), as_of)`` covered by no interval of a series present in
    ``prices``: one row per maximal gap, ``expected`` = 0, ``actual`` = its length in days.
stock_shown_unavailable
    A stock row with ``quantity <= 0`` and ``shown_available`` or ``click_collect`` true. One row
    per (sku, location) and maximal run of consecutive daily rows, ``[first day, last day + 1
    day)``, ``expected`` = 1 (the least quantity that may be shown), ``actual`` = highest
    quantity of the run.
negative_stock
    A stock row with ``quantity < 0``; one row per (sku, location) and maximal run of
    consecutive days, ``expected`` = 0, ``actual`` = lowest quantity of the run.

For stock rules ``channel`` is ``"store"`` at store locations and ``"web"`` online. ``detail``
is the promotion id (``"<id>|<id>"`` for overlaps) for promotion rules, a short description
otherwise. Each faulty sku carries exactly one fault, so faults never interact; a fault yields
one row, except promo_not_mirrored (one per missing series) and overlapping_promotions (one per
group series). With a short period a rule may find no eligible sku and get fewer faults.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._columns import ColumnSpec, code_dtype
from omnijourney.errors import ConfigError
from omnijourney.synth._price_faults import DAY, NAT, SECOND, Faults, inject_faults
from omnijourney.synth._templates import store_labels
from omnijourney.tables import Table
from omnijourney.time import TIME_DTYPE, to_datetime64

__all__ = [
    "PRICE_CHANNELS",
    "RULES",
    "SAME_PRICE_GROUP",
    "PriceWorld",
    "make_prices",
]

PRICE_CHANNELS = ("web", "app", "store", "call_centre", "marketplace")
SAME_PRICE_GROUP = ("web", "app", "store", "call_centre")
RULES = (
    "price_gap",
    "promo_not_mirrored",
    "promo_not_below_regular",
    "prior_price_reference",
    "prior_price_percentage",
    "overlapping_promotions",
    "stale_price",
    "coverage_hole",
    "stock_shown_unavailable",
    "negative_stock",
)

_CATEGORIES = (
    "apparel",
    "bakery",
    "beauty",
    "dairy",
    "electronics",
    "fresh_produce",
    "home",
    "toys",
)
_PERISHABLE = ("bakery", "dairy", "fresh_produce")
_CHANNEL_LABELS = ("app", "call_centre", "marketplace", "store", "web")  # sorted
_MECHANICS = ("amount_off", "fixed_price", "percentage")  # sorted
_NEW_SKU_RATE = 0.15
_LOYALTY_RATE = 0.15
_PROGRESSIVE_RATE = 0.15
_STOCK_CHUNK = 1024
_MAX_FAULT_RATE = 1.0 / len(RULES)


@attrs.frozen
class PriceWorld:
    """The price, promotion and stock part of the synthetic data set, with its exact truth.

    Attributes
    ----------
    catalog : Table
        ``sku``, ``category``, ``base_price`` (float), ``perishable`` (bool), ``launched`` (time).
    prices : Table
        ``sku``, ``channel``, ``location``, ``price``, ``currency``, ``valid_from``, ``valid_to``
        (NaT when open-ended), ``audience`` (public/loyalty), ``price_type``
        (regular/promotional), ``confirmed`` (last confirmation by the source system).
    promotions : Table
        ``promo_id``, ``sku``, ``channel``, ``location``, ``mechanic``, ``discount``,
        ``promo_price``, ``start``, ``end``, ``reference_price``, ``announced_pct``,
        ``stackable``; one row per promotion (step) and (channel, location).
    stock : Table
        ``sku``, ``location``, ``time`` (daily), ``quantity``, ``shown_available``,
        ``click_collect``.
    violations : Table
        The truth: ``rule``, ``sku``, ``channel``, ``location``, ``start``, ``end``,
        ``expected``, ``actual``, ``detail``; see the module documentation for each rule.
    """

    catalog: Table
    prices: Table
    promotions: Table
    stock: Table
    violations: Table


# --------------------------------------------------------------------------- baseline container


@attrs.define(eq=False)
class _Base:
    """The clean world as arrays; times of the group timeline in days since ``start``."""

    n: int
    n_stores: int
    days: int
    t0: int
    t1: int
    sku_labels: np.ndarray
    category: np.ndarray
    base_price: np.ndarray
    launch_day: np.ndarray
    day0: np.ndarray
    mkt_factor: np.ndarray
    loyalty: np.ndarray
    loyalty_disc: np.ndarray
    chg_day: np.ndarray  # (n, 3) sorted, -1 when unused
    # group timeline (same on every group series), sorted by sku then time
    g_sku: np.ndarray
    g_from: np.ndarray
    g_to: np.ndarray  # -1 when open
    g_price: np.ndarray
    g_regular: np.ndarray
    g_off: np.ndarray
    # regular segments (marketplace and loyalty series follow them)
    s_sku: np.ndarray
    s_from: np.ndarray
    s_to: np.ndarray
    s_price: np.ndarray
    s_off: np.ndarray
    # promotions (sorted by sku then start) and their steps
    p_sku: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray
    p_nsteps: np.ndarray
    p_first_step: np.ndarray
    p_regular: np.ndarray
    p_off: np.ndarray
    q_pid: np.ndarray
    q_start: np.ndarray
    q_end: np.ndarray
    q_mech: np.ndarray
    q_disc: np.ndarray
    q_price: np.ndarray
    # stock
    st_off: np.ndarray
    st_sku: np.ndarray
    st_loc: np.ndarray
    st_day: np.ndarray
    st_qty: np.ndarray
    st_shown: np.ndarray
    st_cc: np.ndarray
    store_cc: np.ndarray

    @property
    def n_ranks(self) -> int:
        """Series slots per sku: app, call_centre, marketplace, 2 per store, web."""
        return 4 + 2 * self.n_stores

    @property
    def group_ranks(self) -> np.ndarray:
        """Slots of the group series: app, call_centre, each store (public), web."""
        stores = 4 + 2 * np.arange(self.n_stores)
        return np.concatenate(([0, 1], stores, [3 + 2 * self.n_stores])).astype(np.int64)

    def rank_channel(self, rank: int) -> int:
        """Channel code of a series slot."""
        if rank < 3:
            return rank
        return 4 if rank == 3 + 2 * self.n_stores else 3

    def rank_location(self, rank: int) -> int:
        """Location code of a series slot (the stores, then ``online``)."""
        if 3 <= rank < 3 + 2 * self.n_stores:
            return (rank - 3) // 2
        return self.n_stores

    def rank_is_loyalty(self, rank: int) -> bool:
        """Whether a series slot is a loyalty series."""
        return 3 <= rank < 3 + 2 * self.n_stores and (rank - 3) % 2 == 0

    def us(self, day: Any) -> Any:
        """Microseconds of a day index."""
        return self.t0 + np.asarray(day, dtype=np.int64) * DAY

    def series(self, sku: int, rank: int) -> list[list[Any]]:
        """The baseline intervals ``[from_us, to_us or NAT, price, regular]`` of one series."""
        if rank == 2 or self.rank_is_loyalty(rank):
            sl = slice(self.s_off[sku], self.s_off[sku + 1])
            base = self.s_price[sl]
            if rank == 2:
                price = _cents(base * self.mkt_factor[sku])
            else:
                price = _loyalty_price(base, self.loyalty_disc[sku])
            frm, to, regular = self.s_from[sl], self.s_to[sl], np.ones(price.size, dtype=bool)
        else:
            sl = slice(self.g_off[sku], self.g_off[sku + 1])
            frm, to = self.g_from[sl], self.g_to[sl]
            price, regular = self.g_price[sl], self.g_regular[sl]
        return [
            [int(self.us(f)), NAT if t < 0 else int(self.us(t)), float(p), bool(r)]
            for f, t, p, r in zip(frm, to, price, regular)
        ]


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), 2)


def _loyalty_price(regular: np.ndarray, disc: Any) -> np.ndarray:
    return np.minimum(_cents(regular * (1.0 - disc)), _cents(regular - 0.01))


def _labels(values: Any) -> np.ndarray:
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# --------------------------------------------------------------------------- public entry point


def make_prices(
    n_skus: int,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int = 365,
    n_stores: int = 5,
    fault_rate: float = 0.02,
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
        n_skus, rng, start=start, days=days, n_stores=n_stores, fault_rate=fault_rate
    )[0]


def price_world(
    n_skus: int,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int = 365,
    n_stores: int = 5,
    fault_rate: float = 0.02,
) -> tuple[PriceWorld, _Base]:
    """:func:`make_prices` and the clean baseline it started from (the group timeline of
    each sku before the faults, for the touchpoints that see these prices)."""
    _check(n_skus, rng, days, n_stores, fault_rate)
    t0 = int(to_datetime64(start, name="start").astype(np.int64))
    base = _baseline(int(n_skus), rng, t0, int(days), int(n_stores))
    faults = inject_faults(base, rng, float(fault_rate))
    prices = _assemble_prices(base, faults, rng)
    promotions = _assemble_promotions(base, faults, prices)
    world = PriceWorld(
        catalog=_catalog_table(base),
        prices=_prices_table(base, prices),
        promotions=promotions,
        stock=_stock_table(base),
        violations=_violations_table(base, faults),
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


# --------------------------------------------------------------------------- assembly


@attrs.define(eq=False)
class _Prices:
    """Final price intervals sorted by series key then start, with search keys."""

    key: np.ndarray
    frm: np.ndarray
    to: np.ndarray
    price: np.ndarray
    regular: np.ndarray
    confirmed: np.ndarray
    c_from: np.ndarray
    c_to: np.ndarray


def _rank_columns(base: _Base) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel, location and audience codes of each series slot."""
    ranks = range(base.n_ranks)
    channel = np.array([base.rank_channel(r) for r in ranks], dtype=np.int8)
    location = np.array([base.rank_location(r) for r in ranks], dtype=np.int8)
    audience = np.array([0 if base.rank_is_loyalty(r) else 1 for r in ranks], dtype=np.int8)
    return channel, location, audience


def _search_key(base: _Base, key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``key`` and a time packed in one sortable int64 (seconds since 64 days before start)."""
    origin = base.t0 - 64 * DAY
    rel = np.where(t == NAT, 2**32 - 1, (np.maximum(t, origin) - origin) // SECOND)
    return (key.astype(np.int64) << 32) | rel


def _assemble_prices(base: _Base, faults: Faults, rng: np.random.Generator) -> _Prices:
    r_count, ns = base.n_ranks, base.n_stores
    group = base.group_ranks
    g_to = np.where(base.g_to < 0, NAT, base.us(base.g_to))
    s_to = np.where(base.s_to < 0, NAT, base.us(base.s_to))
    loyal = np.flatnonzero(base.loyalty[base.s_sku])
    l_sku = base.s_sku[loyal]
    parts = [
        (
            (base.g_sku[None, :] * r_count + group[:, None]).ravel(),
            np.tile(base.us(base.g_from), group.size),
            np.tile(g_to, group.size),
            np.tile(base.g_price, group.size),
            np.tile(base.g_regular, group.size),
        ),
        (
            base.s_sku * r_count + 2,
            base.us(base.s_from),
            s_to,
            _cents(base.s_price * base.mkt_factor[base.s_sku]),
            np.ones(base.s_sku.size, dtype=bool),
        ),
        (
            (l_sku[None, :] * r_count + (3 + 2 * np.arange(ns))[:, None]).ravel(),
            np.tile(base.us(base.s_from[loyal]), ns),
            np.tile(s_to[loyal], ns),
            np.tile(_loyalty_price(base.s_price[loyal], base.loyalty_disc[l_sku]), ns),
            np.ones(loyal.size * ns, dtype=bool),
        ),
    ]
    key, frm, to, price, regular = (np.concatenate(cols) for cols in zip(*parts))
    if faults.series:
        keep = ~np.isin(key, np.fromiter(faults.series, dtype=np.int64))
        rows = [(k, *row) for k, iv in faults.series.items() for row in iv]
        key = np.concatenate((key[keep], np.array([r[0] for r in rows], dtype=np.int64)))
        frm = np.concatenate((frm[keep], np.array([r[1] for r in rows], dtype=np.int64)))
        to = np.concatenate((to[keep], np.array([r[2] for r in rows], dtype=np.int64)))
        price = np.concatenate((price[keep], np.array([r[3] for r in rows], dtype=np.float64)))
        regular = np.concatenate((regular[keep], np.array([r[4] for r in rows], dtype=bool)))
    order = np.lexsort((frm, key))
    key, frm, to, price, regular = key[order], frm[order], to[order], price[order], regular[order]

    # last confirmation: at most 1 day (online) or 3 days (store) before the interval stops
    rank = key % r_count
    store = (rank >= 3) & (rank < 3 + 2 * ns)
    end = np.where(to == NAT, base.t1, np.minimum(to, base.t1))
    span = np.minimum(np.where(store, 3 * DAY, DAY), end - frm) // SECOND
    confirmed = end - np.floor(rng.random(key.size) * (span + 1)).astype(np.int64) * SECOND
    c_from = _search_key(base, key, frm)
    for k, start, when in faults.stale:
        i = int(np.searchsorted(c_from, _search_key(base, np.array([k]), np.array([start]))[0]))
        confirmed[i] = when
    return _Prices(key, frm, to, price, regular, confirmed, c_from, _search_key(base, key, to))


def _prior_prices(p: _Prices, base: _Base, series: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Lowest public price of each series over intervals meeting ``[first - 30 days, first)``."""
    hi = np.searchsorted(p.c_from, _search_key(base, series, first), side="left")
    lo = np.searchsorted(p.c_to, _search_key(base, series, first - 30 * DAY), side="right")
    width = hi - lo
    out = np.full(series.size, np.inf)
    for k in range(int(width.max(initial=0))):
        m = width > k
        out[m] = np.minimum(out[m], p.price[lo[m] + k])
    out[width <= 0] = np.nan
    return out


def _assemble_promotions(base: _Base, faults: Faults, p: _Prices) -> Table:
    r_count = base.n_ranks
    group = base.group_ranks
    n_steps = base.q_pid.size
    step = np.tile(np.arange(n_steps), group.size)
    rank = np.repeat(group, n_steps)
    pid = base.q_pid[step]
    sku = base.p_sku[pid]
    start, end = base.us(base.q_start[step]), base.us(base.q_end[step])
    first = base.us(base.p_start[pid])
    mech, disc, price = base.q_mech[step], base.q_disc[step], base.q_price[step].copy()
    row_key = pid * r_count + rank
    keep = ~np.isin(row_key, np.fromiter(faults.promo_drop, dtype=np.int64))
    for k, value in faults.promo_price.items():
        price[row_key == k] = value
    cols = [pid, sku, rank, start, end, first, mech, disc, price]
    cols = [c[keep] for c in cols]
    if faults.new_promos:
        m = group.size
        new = faults.new_promos
        added = [
            np.repeat([x.pid for x in new], m),
            np.repeat([x.sku for x in new], m),
            np.tile(group, len(new)),
            np.repeat(base.us([x.start for x in new]), m),
            np.repeat(base.us([x.end for x in new]), m),
            np.repeat(base.us([x.start for x in new]), m),
            np.repeat([x.mech for x in new], m),
            np.repeat([x.disc for x in new], m),
            np.repeat([x.price for x in new], m),
        ]
        cols = [np.concatenate((c, a.astype(c.dtype))) for c, a in zip(cols, added)]
    pid, sku, rank, start, end, first, mech, disc, price = cols
    ref = _prior_prices(p, base, sku * r_count + rank, first)
    row_key = pid * r_count + rank
    for k, value in faults.ref_override.items():
        ref[row_key == k] = value
    pct = np.round(100.0 * (ref - price) / ref, 1)
    for k, (kind, value, t) in faults.pct_override.items():
        i = int(np.flatnonzero(row_key == k)[0])
        exact = 100.0 * (ref[i] - price[i]) / ref[i]
        was = value if kind == "price" else round(float(ref[i]) * value, 2)
        announced = round(100.0 * (was - price[i]) / was, 1)
        if abs(announced - exact) <= 0.5:  # too close to tell apart from rounding
            was = round(float(ref[i]) * 1.3, 2)
            announced = round(100.0 * (was - price[i]) / was, 1)
        pct[i] = announced
        faults.truth[t].expected = round(float(exact), 1)
        faults.truth[t].actual = announced
    order = np.lexsort((pid, start, rank, sku))
    channel, location, _ = _rank_columns(base)
    n_promos = base.p_sku.size + len(faults.new_promos)
    rank = rank[order]
    return _table(
        {
            "promo_id": ("category", pid[order], _promo_labels(n_promos)),
            "sku": ("category", sku[order], base.sku_labels),
            "channel": ("category", channel[rank], _labels(_CHANNEL_LABELS)),
            "location": ("category", location[rank], _location_labels(base.n_stores)),
            "mechanic": ("category", mech[order], _labels(_MECHANICS)),
            "discount": ("float", disc[order], None),
            "promo_price": ("float", price[order], None),
            "start": ("time", start[order], None),
            "end": ("time", end[order], None),
            "reference_price": ("float", ref[order], None),
            "announced_pct": ("float", pct[order], None),
            "stackable": ("bool", np.zeros(order.size, dtype=bool), None),
        }
    )


# --------------------------------------------------------------------------- tables


def _promo_labels(n: int) -> np.ndarray:
    width = max(6, len(str(n)))
    return _labels(f"P{i:0{width}d}" for i in range(1, n + 1))


def _location_labels(n_stores: int) -> np.ndarray:
    return _labels([*store_labels(n_stores).tolist(), "online"])


def _table(columns: dict[str, tuple[str, np.ndarray, np.ndarray | None]]) -> Table:
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    specs: dict[str, ColumnSpec] = {}
    for name, (kind, values, lab) in columns.items():
        specs[name] = ColumnSpec(name, kind)
        if kind == "category":
            assert lab is not None
            labels[name] = lab
            data[name] = np.asarray(values).astype(code_dtype(lab.size), copy=False)
        elif kind == "time":
            data[name] = np.asarray(values, dtype=np.int64).view(TIME_DTYPE)
        else:
            data[name] = np.asarray(values)
    return Table(data, labels, specs)


def _catalog_table(base: _Base) -> Table:
    perishable = np.isin(np.asarray(_CATEGORIES)[base.category], _PERISHABLE)
    return _table(
        {
            "sku": ("category", np.arange(base.n), base.sku_labels),
            "category": ("category", base.category, _labels(_CATEGORIES)),
            "base_price": ("float", base.base_price.astype(np.float64), None),
            "perishable": ("bool", perishable, None),
            "launched": ("time", base.us(base.launch_day), None),
        }
    )


def _prices_table(base: _Base, p: _Prices) -> Table:
    channel, location, audience = _rank_columns(base)
    rank = p.key % base.n_ranks
    return _table(
        {
            "sku": ("category", p.key // base.n_ranks, base.sku_labels),
            "channel": ("category", channel[rank], _labels(_CHANNEL_LABELS)),
            "location": ("category", location[rank], _location_labels(base.n_stores)),
            "price": ("float", p.price, None),
            "currency": ("category", np.zeros(p.key.size, dtype=np.int8), _labels(["EUR"])),
            "valid_from": ("time", p.frm, None),
            "valid_to": ("time", p.to, None),
            "audience": ("category", audience[rank], _labels(["loyalty", "public"])),
            "price_type": (
                "category",
                p.regular.astype(np.int8),
                _labels(["promotional", "regular"]),
            ),
            "confirmed": ("time", p.confirmed, None),
        }
    )


def _days_to_us(base: _Base, day: np.ndarray) -> np.ndarray:
    out = np.multiply(day, DAY, dtype=np.int64)
    out += base.t0
    return out


def _stock_table(base: _Base) -> Table:
    return _table(
        {
            "sku": ("category", base.st_sku, base.sku_labels),
            "location": ("category", base.st_loc, _location_labels(base.n_stores)),
            "time": ("time", _days_to_us(base, base.st_day), None),
            "quantity": ("int", base.st_qty, None),
            "shown_available": ("bool", base.st_shown, None),
            "click_collect": ("bool", base.st_cc, None),
        }
    )


def _violations_table(base: _Base, faults: Faults) -> Table:
    promo = _promo_labels(base.p_sku.size + len(faults.new_promos))
    locations = _location_labels(base.n_stores)
    rows = faults.truth

    def detail(d: str | tuple[int, ...]) -> str:
        return d if isinstance(d, str) else "|".join(sorted(promo[i] for i in d))

    table = Table.from_columns(
        {
            "rule": [t.rule for t in rows],
            "sku": [base.sku_labels[t.sku] for t in rows],
            "channel": [_CHANNEL_LABELS[t.channel] for t in rows],
            "location": [locations[t.location] for t in rows],
            "start": np.array([t.start for t in rows], dtype=np.int64).view(TIME_DTYPE),
            "end": np.array([t.end for t in rows], dtype=np.int64).view(TIME_DTYPE),
            "expected": np.array([t.expected for t in rows], dtype=np.float64),
            "actual": np.array([t.actual for t in rows], dtype=np.float64),
            "detail": [detail(t.detail) for t in rows],
        },
        kinds={
            "rule": "category",
            "sku": "category",
            "channel": "category",
            "location": "category",
            "start": "time",
            "end": "time",
            "expected": "float",
            "actual": "float",
            "detail": "category",
        },
    )
    return table.sort(["rule", "sku", "channel", "location", "start"])

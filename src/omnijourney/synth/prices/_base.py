"""The synthetic price world's constants, result type and clean baseline container.

The rules and conventions are those of :mod:`omnijourney.synth.prices`.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney.synth.prices._faults import DAY, NAT
from omnijourney.tables import Table

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
#: Rules of the faults injected only with ``near=True`` (``promo_not_applied`` is opt-in in
#: an audit: its rows are ``opt_in_violations``).
NEAR_RULES = ("overlapping_prices", "promo_not_applied")

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
    near_misses : Table
        Faults injected within the retailer's own tolerances (a regular price at most at the
        same-price tolerance, a confirmation at most at its limit): the same columns, ``start``
        and ``end`` the span of the injected difference; none is a violation.
    opt_in_violations : Table
        Violations of rules an audit checks only when asked (``promo_not_applied``: a
        promotion announced by the flyer and the web that a store's shelf never applies),
        with the same columns.
    """

    catalog: Table
    prices: Table
    promotions: Table
    stock: Table
    violations: Table
    near_misses: Table | None = None
    opt_in_violations: Table | None = None


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

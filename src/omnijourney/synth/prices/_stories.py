"""A retailer's price, promotion and stock history told as stories, with what each story did.

:func:`price_stories` writes what a merchant and its systems did to each sku (a store that kept
the old price, a promotion set on the web only, a price raised before a discount, a till that
stopped confirming, a unit-of-measure error in a stock count...) and the ``incidents`` table
says, from the story alone, what happened where and when and whether the merchant broke its own
agreements or the law. Nothing here reads an audit's rules or tolerances: the sizes of the
incidents are drawn from the story's own ranges, some on either side of any limit a user may
choose, and the incidents that break nothing (a repricer that stayed within the agreed band, a
price raised long enough before a discount, units in transit between two stock systems) are
listed too, with ``fault`` false.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._random import Seed, as_generator
from omnijourney._validation import check_positive_int
from omnijourney.errors import ConfigError
from omnijourney.tables import Table
from omnijourney.time import TIME_DTYPE, to_datetime64

__all__ = ["STORY_KINDS", "PriceStories", "Retailer", "price_stories"]

_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
_SLOT = 60  # days: the history is told in slots, a warm-up then one story family per slot
#: Directive 98/6/EC art. 6a(2): the prior price is the lowest of at least 30 days, the law's
#: own number (art. 6a(4): a product on sale for less long has a shorter history).
_LAW_DAYS = 30

#: The kinds of incident the stories produce, each with the stories that produce it.
STORY_KINDS: dict[str, tuple[str, ...]] = {
    "price_gap": ("store_kept_old_price", "price_keyed_wrong"),
    "channel_pair_gap": ("marketplace_repricer",),
    "overlapping_prices": ("price_sent_twice",),
    "coverage_hole": ("feed_dropped_sku",),
    "stale_price": ("source_stopped_confirming",),
    "below_map": ("clearance_near_floor",),
    "promotion_without_price": ("promotion_sku_mistyped",),
    "promo_not_mirrored": ("promotion_on_web_only", "promotion_forgotten_at_store"),
    "promo_not_applied": ("shelf_not_relabelled",),
    "promo_not_below_regular": ("offer_label_at_regular_price",),
    "promo_not_below_prior": ("raise_before_discount", "offer_label_at_regular_price"),
    "prior_price_reference": ("raise_before_discount", "flash_sale_forgotten"),
    "prior_price_percentage": ("percentage_from_list_price", "percentage_rounded_up"),
    "prior_price_short_history": ("discount_soon_after_launch",),
    "overlapping_promotions": ("two_promotions_scheduled_together",),
    "stock_shown_unavailable": ("sold_out_still_shown", "click_collect_without_stock"),
    "negative_stock": ("returns_booked_ahead",),
    "impossible_stock": ("unit_of_measure_error", "delivery_before_sale"),
    "stock_mismatch": ("web_stock_feed_frozen", "units_in_transit"),
}

_ONLINE = ("web", "app", "call_centre")
_MIRRORED = (*_ONLINE, "store")


@attrs.frozen(kw_only=True)
class Retailer:
    """What the retailer has agreed with others, as its contracts state it.

    Attributes
    ----------
    marketplace_band_pct : float
        The marketplace listing stays within this percentage above the web price (the
        agreement with the marketplace seller).
    map_floors : dict of str to float
        Minimum advertised prices the suppliers of some skus set (sku to EUR); those skus get
        no promotion.
    shelf_capacity : int
        The most units of one sku a location can hold.
    """

    marketplace_band_pct: float
    map_floors: dict[str, float]
    shelf_capacity: int


@attrs.frozen(kw_only=True)
class PriceStories:
    """A price, promotion and stock history with the incidents its stories produced.

    Attributes
    ----------
    catalog : Table
        ``sku``, ``launched`` (NaT for skus on sale before ``start``).
    prices : Table
        Price intervals: ``sku``, ``channel``, ``location`` (``"online"`` or a store),
        ``price``, ``valid_from``, ``valid_to`` (NaT: still current), ``price_type``,
        ``confirmed``.
    promotions : Table
        ``promo_id``, ``sku``, ``channel``, ``location``, ``promo_price``,
        ``reference_price``, ``announced_pct``, ``start``, ``end``.
    stock : Table
        Daily counts: ``sku``, ``location``, ``channel`` (the system: ``store`` tills, the
        ``web`` shop and the ``warehouse`` for the online stock), ``time``, ``quantity``,
        ``shown_available``, ``click_collect``.
    incidents : Table
        One row per incident and series: ``kind``, ``story``, ``sku``, ``channel``,
        ``location``, ``start``, ``end``, ``size`` (in the story's unit: percent, days,
        units, points), ``fault`` (the story broke an agreement, the retailer's own rule of one
        price everywhere, or the law).
    retailer : Retailer
        The agreements the stories are told against.
    start, as_of : numpy.datetime64
        The period told.
    """

    catalog: Table
    prices: Table
    promotions: Table
    stock: Table
    incidents: Table
    retailer: Retailer
    start: np.datetime64
    as_of: np.datetime64


def price_stories(
    n_skus: int = 300,
    *,
    seed: Seed = 0,
    start: Any = "2024-01-01",
    n_stores: int = 3,
    story_rate: float = 0.5,
) -> PriceStories:
    """Tell a 240-day price, promotion and stock history of ``n_skus`` skus, with its incidents.

    The history is told in four 60-day slots: a warm-up, then for each sku up to one story of
    each family (prices, promotions, source data) in its own slot, and a stock story at any
    time, so that a sku carries up to four incidents, the stock one alongside the others. A
    slot without a story may hold a clean promotion. Regular prices are the same on the web,
    the app, the call centre and every store; the marketplace lists them 3-10 % higher.

    Parameters
    ----------
    n_skus : int, default 300
        Number of skus.
    seed : int or numpy.random.Generator, default 0
        The same seed tells the same history.
    start : time, default "2024-01-01"
        First instant told; the history is observed 240 days later.
    n_stores : int, default 3
        Stores ``"S01"``...
    story_rate : float, default 0.5
        Chance that a sku gets a story of each family.

    Returns
    -------
    PriceStories

    Examples
    --------
    >>> w = price_stories(40, seed=1)
    >>> set(w.incidents["kind"]) <= set(STORY_KINDS)
    True
    >>> bool(w.incidents["fault"].any())
    True
    """
    rng = as_generator(seed)
    check_positive_int(n_skus, "n_skus")
    check_positive_int(n_stores, "n_stores")
    if not 0 <= story_rate <= 1 or isinstance(story_rate, bool):
        msg = f"The 'story_rate' parameter must be a number in [0, 1]. Got {story_rate!r} instead."
        raise ConfigError(msg)
    t0 = int(to_datetime64(start, name="start").astype(np.int64))
    teller = _Teller(rng, t0, int(n_stores), float(story_rate))
    for i in range(int(n_skus)):
        teller.tell(f"K{i:05d}")
    return teller.world()


# --------------------------------------------------------------------------- one sku's series


def _cents(x: float) -> float:
    return round(float(x) + 1e-9, 2)


def _ending(x: float) -> float:
    """A shelf price: .99 above 5 EUR."""
    return float(np.floor(x)) + 0.99 if x > 5 else _cents(x)


@attrs.define
class _Series:
    """The intervals ``[from, to, price, type, confirmed]`` of one (channel, location)."""

    channel: str
    location: str
    iv: list[list[Any]] = attrs.field(factory=list)

    def put(self, a: int, b: int, price: float, ptype: str = "regular") -> None:
        self.cut(a, b)
        self.iv.append([a, b, price, ptype, None])
        self.iv.sort(key=lambda x: x[0])

    def cut(self, a: int, b: int) -> None:
        out = []
        for x in self.iv:
            if x[1] <= a or x[0] >= b:
                out.append(x)
                continue
            if x[0] < a:
                out.append([x[0], a, *x[2:]])
            if x[1] > b:
                out.append([b, x[1], *x[2:]])
        self.iv = sorted(out, key=lambda x: x[0])

    def at(self, t: int) -> float:
        return float(next(x[2] for x in self.iv if x[0] <= t < x[1]))


class _Teller:
    def __init__(self, rng: np.random.Generator, t0: int, n_stores: int, rate: float) -> None:
        self.rng, self.t0, self.rate = rng, t0, rate
        self.end = t0 + 4 * _SLOT * _DAY
        self.stores = [f"S{k + 1:02d}" for k in range(n_stores)]
        self.retailer = Retailer(marketplace_band_pct=15.0, map_floors={}, shelf_capacity=400)
        self.prices: list[tuple[Any, ...]] = []
        self.promos: list[tuple[Any, ...]] = []
        self.stock: dict[str, list[Any]] = {k: [] for k in _STOCK_COLUMNS}
        self.incidents: list[tuple[Any, ...]] = []
        self.catalog: list[tuple[Any, ...]] = []
        self.n_promos = 0

    # ------------------------------------------------------------------ helpers

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def pick(self, items: Any) -> Any:
        return items[int(self.rng.integers(len(items)))]

    def days(self, lo: float, hi: float) -> int:
        return int(self.u(lo, hi) * _DAY)

    def incident(
        self,
        kind: str,
        story: str,
        s: _Series | tuple[str, str],
        a: int,
        b: int,
        size: float,
        fault: bool,
    ) -> None:
        channel, location = (s.channel, s.location) if isinstance(s, _Series) else s
        self.incidents.append(
            (kind, story, self.sku, channel, location, a, b, round(size, 4), bool(fault))
        )

    # ------------------------------------------------------------------ one sku

    def tell(self, sku: str) -> None:
        rng, t0 = self.rng, self.t0
        self.sku = sku
        launch = None
        short = rng.random() < 0.08
        if short:  # a new product, launched in the first story slot
            launch = t0 + _SLOT * _DAY + self.days(0, 5)
        self.catalog.append((sku, launch))
        first = t0 if launch is None else launch
        p0 = _ending(float(np.exp(rng.uniform(np.log(6), np.log(250)))))
        self.mp_factor = self.u(1.03, 1.10)
        keys = [(c, "online") for c in _ONLINE] + [("store", s) for s in self.stores]
        self.group = [_Series(c, loc) for c, loc in keys]
        self.mp = _Series("marketplace", "online")
        self.national(first, self.end, p0)
        for k in (1, 2, 3):  # a national price change at some slot starts
            if rng.random() < 0.5 and t0 + k * _SLOT * _DAY > first:
                at = t0 + k * _SLOT * _DAY + self.days(0, 3)
                self.national(at, self.end, _ending(self.group[0].at(at) * self.u(0.95, 1.1)))
        floor = None
        if not short and rng.random() < 0.2:
            floor = _cents(p0 * self.u(0.75, 0.84))
            self.retailer.map_floors[sku] = floor
        slots = [int(s) for s in rng.permutation([1, 2, 3])]
        if short:
            slots = [s for s in slots if s != 1]
            self.discount_soon_after_launch(launch or t0, p0)
        families = [self.price_story, self.data_story]
        if floor is None and not short:
            families.append(self.promo_story)
        order = [families[int(i)] for i in rng.permutation(len(families))]
        for slot, family in zip(slots, order):
            if rng.random() < self.rate:
                family(t0 + slot * _SLOT * _DAY, floor)
            elif floor is None and family != self.price_story:
                self.clean_promotion(t0 + slot * _SLOT * _DAY)
        self.stock_history(sku)
        self.close(sku)

    def national(self, a: int, b: int, price: float, ptype: str = "regular") -> None:
        for s in self.group:
            s.put(a, b, price, ptype)
        self.mp.put(a, b, _cents(price * self.mp_factor), ptype)

    def close(self, sku: str) -> None:
        for s in [*self.group, self.mp]:
            for a, b, price, ptype, confirmed in s.iv:
                end = min(b, self.end)
                if confirmed is None:  # tills sync at night, online systems every hour
                    lag = self.u(0, 20) if s.channel == "store" else self.u(0, 2)
                    confirmed = max(a, end - int(lag * _HOUR))
                to = None if b >= self.end else b
                self.prices.append((sku, s.channel, s.location, price, a, to, ptype, confirmed))

    # ------------------------------------------------------------------ promotions

    def promote(
        self,
        series: list[_Series],
        a: int,
        b: int,
        price: float,
        *,
        reference: float,
        pct: float,
        shelf: bool = True,
        sku: str | None = None,
    ) -> str:
        """Announce a promotion on ``series`` (and apply it on their shelves)."""
        self.n_promos += 1
        pid = f"P{self.n_promos:05d}"
        for s in series:
            self.promos.append(
                (pid, sku or self.sku, s.channel, s.location, price, reference, pct, a, b)
            )
            if shelf:
                s.put(a, b, price, "promotional")
        return pid

    def window(self, slot: int) -> tuple[int, int, float]:
        a = slot + self.days(38, 44)
        return a, a + self.days(3, 10), self.group[0].at(a)

    def clean_promotion(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        pct = float(self.rng.integers(2, 9) * 5)
        self.promote(
            self.group, a, b, _cents(regular * (1 - pct / 100)), reference=regular, pct=pct
        )

    def promo_story(self, slot: int, floor: float | None) -> None:
        story = self.pick(_PROMO_STORIES)
        getattr(self, story)(slot)

    def promotion_on_web_only(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        pct = float(self.rng.integers(2, 9) * 5)
        self.promote(
            self.group[:1], a, b, _cents(regular * (1 - pct / 100)), reference=regular, pct=pct
        )
        for s in self.group[1:]:
            self.incident("promo_not_mirrored", "promotion_on_web_only", s, a, b, pct, True)

    def promotion_forgotten_at_store(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        pct = float(self.rng.integers(2, 9) * 5)
        k = len(_ONLINE) + int(self.rng.integers(len(self.stores)))
        kept = [s for i, s in enumerate(self.group) if i != k]
        self.promote(kept, a, b, _cents(regular * (1 - pct / 100)), reference=regular, pct=pct)
        story = "promotion_forgotten_at_store"
        self.incident("promo_not_mirrored", story, self.group[k], a, b, pct, True)

    def shelf_not_relabelled(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        pct = float(self.rng.integers(2, 9) * 5)
        price = _cents(regular * (1 - pct / 100))
        self.promote(self.group, a, b, price, reference=regular, pct=pct)
        store = self.group[len(_ONLINE) + int(self.rng.integers(len(self.stores)))]
        late = min(b, a + int(self.u(1, 72) * _HOUR))  # relabelled late, or never
        store.put(a, late, regular)
        hours = (late - a) / _HOUR
        self.incident("promo_not_applied", "shelf_not_relabelled", store, a, late, hours, True)

    def offer_label_at_regular_price(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        above = 0.0 if self.rng.random() < 0.4 else self.u(0.5, 4)
        price = _cents(regular * (1 + above / 100))
        self.promote(self.group, a, b, price, reference=regular, pct=0.0)
        story = "offer_label_at_regular_price"
        for s in self.group:
            self.incident("promo_not_below_regular", story, s, a, b, above, True)
            self.incident("promo_not_below_prior", story, s, a, b, above, True)
            if above:  # "-0 %" announced on a higher price
                self.incident("prior_price_percentage", story, s, a, b, above, True)

    def raise_before_discount(self, slot: int) -> None:
        """The regular price raised some 4 weeks before a discount announced from it."""
        a, b, old = self.window(slot)
        held = self.days(27, 33)  # how long the raised price was charged before the discount
        raised = _ending(old * self.u(1.08, 1.25))
        self.national(a - held, slot + _SLOT * _DAY, raised)
        price = _cents(old * self.u(0.95, 1.04))  # the discount lands near the old price
        pct = round(100 * (raised - price) / raised, 1)
        self.promote(self.group, a, b, price, reference=raised, pct=pct)
        short = held < _LAW_DAYS * _DAY  # the old price was still charged in the law's period
        size = held / _DAY
        for s in self.group:
            story = "raise_before_discount"
            self.incident("prior_price_reference", story, s, a, b, size, short)
            self.incident("promo_not_below_prior", story, s, a, b, size, short and price >= old)

    def flash_sale_forgotten(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        s = self.group[int(self.rng.integers(2))]  # web or app
        before = self.days(27, 33)
        flash = a - before
        hours = int(self.u(1, 3) * _HOUR)
        low = _cents(regular * self.u(0.6, 0.8))
        s.put(flash, flash + hours, low, "promotional")
        pct = float(self.rng.integers(2, 7) * 5)
        price = _cents(regular * (1 - pct / 100))
        self.promote(self.group, a, b, price, reference=regular, pct=pct)
        inside = flash + hours > a - _LAW_DAYS * _DAY  # the flash was in the law's period
        story = "flash_sale_forgotten"
        self.incident("prior_price_reference", story, s, a, b, before / _DAY, inside)
        self.incident(
            "promo_not_below_prior", story, s, a, b, before / _DAY, inside and price >= low
        )

    def percentage_from_list_price(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        pct = float(self.rng.integers(2, 7) * 5)
        price = _cents(regular * (1 - pct / 100))
        listed = regular * self.u(1.1, 1.3)  # the supplier's list price
        shown = round(100 * (listed - price) / listed, 1)
        self.promote(self.group, a, b, price, reference=regular, pct=shown)
        for s in self.group:
            story = "percentage_from_list_price"
            self.incident("prior_price_percentage", story, s, a, b, shown - pct, True)

    def percentage_rounded_up(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        price = _cents(regular * (1 - self.u(0.1, 0.4)))
        exact = 100 * (regular - price) / regular
        shown = float(np.ceil(exact))
        self.promote(self.group, a, b, price, reference=regular, pct=shown)
        for s in self.group:
            story = "percentage_rounded_up"
            self.incident("prior_price_percentage", story, s, a, b, shown - exact, shown > exact)

    def two_promotions_scheduled_together(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        first = _cents(regular * 0.85)
        self.promote(self.group, a, b, first, reference=regular, pct=15.0)
        overlap = int(self.u(-1, 2) * _DAY)  # the second starts before the first ends, or not
        a2 = b - overlap
        second = _cents(first * 0.9)
        self.promote(self.group, a2, a2 + self.days(2, 3), second, reference=first, pct=10.0)
        story = "two_promotions_scheduled_together"
        for s in self.group:
            gap = (min(a2, b), max(a2, b))  # the overlap, or the gap between the two
            self.incident("overlapping_promotions", story, s, *gap, overlap / _DAY, overlap > 0)

    def promotion_sku_mistyped(self, slot: int) -> None:
        a, b, regular = self.window(slot)
        typo = self.sku[:-2] + self.sku[-1] + self.sku[-2] + "X"  # a code no system knows
        pct = float(self.rng.integers(2, 9) * 5)
        price = _cents(regular * (1 - pct / 100))
        self.promote(self.group, a, b, price, reference=regular, pct=pct, shelf=False, sku=typo)
        for s in self.group:  # the shelves were not relabelled either
            self.incidents.append(
                (
                    "promotion_without_price",
                    "promotion_sku_mistyped",
                    typo,
                    s.channel,
                    s.location,
                    a,
                    b,
                    pct,
                    True,
                )
            )

    def discount_soon_after_launch(self, launch: int, price: float) -> None:
        on_sale = self.days(20, 40)
        a = launch + on_sale
        pct = float(self.rng.integers(2, 7) * 5)
        b = a + self.days(3, 10)
        self.promote(self.group, a, b, _cents(price * (1 - pct / 100)), reference=price, pct=pct)
        short = on_sale < _LAW_DAYS * _DAY
        for s in self.group:
            story = "discount_soon_after_launch"
            self.incident("prior_price_short_history", story, s, a, b, on_sale / _DAY, short)

    # ------------------------------------------------------------------ prices

    def price_story(self, slot: int, floor: float | None) -> None:
        a = slot + self.days(5, 15)
        story = "clearance_near_floor" if floor is not None else self.pick(_PRICE_STORIES)
        if story == "store_kept_old_price":
            old = self.group[0].at(a)
            new = _cents(old * (1 + self.pick((-1, 1)) * self.u(0.3, 8) / 100))
            self.national(a, slot + _SLOT * _DAY, new)
            s = self.group[len(_ONLINE) + int(self.rng.integers(len(self.stores)))]
            b = a + self.days(0.1, 20)
            s.put(a, b, old)
            self.incident("price_gap", story, s, a, b, 100 * abs(new - old) / new, True)
        elif story == "price_keyed_wrong":
            s = self.group[1 + int(self.rng.integers(len(self.group) - 1))]
            right = s.at(a)
            wrong = _cents(right + self.pick((-1.0, -0.1, 0.1, 1.0, 0.2)))
            b = a + self.days(0.1, 20)
            s.put(a, b, wrong)
            self.incident("price_gap", story, s, a, b, 100 * abs(wrong - right) / right, True)
        elif story == "marketplace_repricer":
            web = self.group[0].at(a)
            band = self.retailer.marketplace_band_pct
            price = _cents(web * (1 + self.u(band - 4, band + 4) / 100))
            b = a + self.days(2, 20)
            self.mp.put(a, b, price)
            fault = price > web * (1 + band / 100)
            self.incident("channel_pair_gap", story, self.mp, a, b, 100 * (price / web - 1), fault)
        else:  # a clearance priced near the supplier's minimum advertised price
            assert floor is not None
            price = _cents(floor * self.u(0.96, 1.03))
            b = a + self.days(3, 20)
            self.national(a, b, price)
            for s in [*self.group, self.mp]:
                p = s.at(a)
                self.incident("below_map", story, s, a, b, 100 * (p / floor - 1), p < floor)

    # ------------------------------------------------------------------ source data

    def data_story(self, slot: int, floor: float | None) -> None:
        a = slot + self.days(5, 20)
        story = self.pick(_DATA_STORIES)
        if story == "source_stopped_confirming":
            store = self.rng.random() < 0.6
            if store:
                s = self.group[len(_ONLINE) + int(self.rng.integers(len(self.stores)))]
                out = self.days(2, 14)
            else:
                s = self.group[1]
                out = self.days(0.25, 5)
            x = next(x for x in s.iv if x[0] <= a < x[1])
            if x[1] > a + out:  # the price is sent again when the source is back
                s.iv.append([a + out, *x[1:4], None])
                x[1] = a + out
                s.iv.sort(key=lambda x: x[0])
            x[4] = a  # the last confirmation before the outage
            self.incident("stale_price", story, s, a, a + out, out / _DAY, True)
        elif story == "feed_dropped_sku":
            s = self.pick(self.group)
            b = a + int(self.u(1, 120) * _HOUR)
            s.cut(a, b)
            self.incident("coverage_hole", story, s, a, b, (b - a) / _DAY, True)
        else:  # a till that sent the same price twice
            s = self.group[len(_ONLINE) + int(self.rng.integers(len(self.stores)))]
            b = a + int(self.u(1, 72) * _HOUR)
            s.iv.append([a, b, s.at(a), "regular", None])
            s.iv.sort(key=lambda x: x[0])
            self.incident("overlapping_prices", story, s, a, b, (b - a) / _DAY, True)

    # ------------------------------------------------------------------ stock

    def stock_history(self, sku: str) -> None:
        rng, n = self.rng, 4 * _SLOT
        times = self.t0 + _DAY * np.arange(n, dtype=np.int64)
        q = {loc: _walk(rng, n) for loc in [*self.stores, "online"]}
        web = q["online"].copy()
        transit = (rng.random(n) < 0.01) & (web >= 3)
        units = rng.integers(1, 4, n)
        web[transit] -= units[transit]
        for day in np.flatnonzero(transit):
            t = int(times[day])
            story = "units_in_transit"
            self.incident(
                "stock_mismatch", story, ("web", "online"), t, t + _DAY, float(units[day]), False
            )
        shown = {loc: q[loc] > 0 for loc in q}
        shown_web = web > 0
        cc = {loc: q[loc] > 0 for loc in self.stores}
        if rng.random() < self.rate:
            story = self.pick(_STOCK_STORIES)
            d = int(rng.integers(5, n - 10))
            k = int(rng.integers(1, 5))
            store = self.pick(self.stores)
            t, t_end = int(times[d]), int(times[d + k])
            if story == "sold_out_still_shown":
                q["online"][d : d + k] = 0
                web[d : d + k] = 0
                shown_web[d : d + k] = True
                self.incident(
                    "stock_shown_unavailable", story, ("web", "online"), t, t_end, k, True
                )
            elif story == "click_collect_without_stock":
                q[store][d : d + k] = 0
                cc[store][d : d + k] = True
                self.incident("stock_shown_unavailable", story, ("store", store), t, t_end, k, True)
            elif story == "returns_booked_ahead":
                q[store][d : d + k] = -rng.integers(1, 6, k)
                shown[store][d : d + k] = False
                cc[store][d : d + k] = False
                self.incident("negative_stock", story, ("store", store), t, t_end, k, True)
            elif story == "unit_of_measure_error":
                q[store][d] = max(q[store][d], 2) * self.pick((12, 100))
                self.incident(
                    "impossible_stock",
                    story,
                    ("store", store),
                    t,
                    t + _DAY,
                    float(q[store][d]),
                    True,
                )
            elif story == "delivery_before_sale":
                cap = self.retailer.shelf_capacity
                q[store][d : d + k] = rng.integers(cap // 2, cap + 1, k)
                self.incident(
                    "impossible_stock", story, ("store", store), t, t_end, float(q[store][d]), False
                )
            else:  # the web shop's count froze while the warehouse kept selling
                k += 2
                t_end = int(times[d + k])
                q["online"][d : d + k] = np.maximum(
                    q["online"][d] - np.cumsum(rng.poisson(3, k)), 0
                )
                web[d : d + k] = web[d]
                shown_web[d : d + k] = web[d] > 0
                gap = float(np.max(np.abs(web[d : d + k] - q["online"][d : d + k])))
                self.incident("stock_mismatch", story, ("web", "online"), t, t_end, gap, True)
        rows = [(loc, "store", q[loc], shown[loc], cc[loc]) for loc in self.stores]
        rows.append(("online", "warehouse", q["online"], np.zeros(n, bool), np.zeros(n, bool)))
        rows.append(("online", "web", web, shown_web, np.zeros(n, bool)))
        for loc, system, quantity, avail, collect in rows:
            self.stock["sku"] += [sku] * n
            self.stock["location"] += [loc] * n
            self.stock["channel"] += [system] * n
            self.stock["time"].append(times)
            self.stock["quantity"].append(quantity.astype(np.float64))
            self.stock["shown_available"].append(avail)
            self.stock["click_collect"].append(collect)

    # ------------------------------------------------------------------ tables

    def world(self) -> PriceStories:
        cat = "category"
        prices = _table(self.prices, _PRICE_COLUMNS)
        promotions = _table(self.promos, _PROMO_COLUMNS)
        s = self.stock
        stock = Table.from_columns(
            {
                "sku": s["sku"],
                "location": s["location"],
                "channel": s["channel"],
                "time": np.concatenate(s["time"]).view(TIME_DTYPE),
                "quantity": np.concatenate(s["quantity"]),
                "shown_available": np.concatenate(s["shown_available"]),
                "click_collect": np.concatenate(s["click_collect"]),
            },
            kinds={"sku": cat, "location": cat, "channel": cat},
        )
        incidents = _table(self.incidents, _INCIDENT_COLUMNS)
        catalog = _table(self.catalog, (("sku", cat), ("launched", "time")))
        return PriceStories(
            catalog=catalog,
            prices=prices,
            promotions=promotions,
            stock=stock,
            incidents=incidents,
            retailer=self.retailer,
            start=np.int64(self.t0).view(TIME_DTYPE),
            as_of=np.int64(self.end).view(TIME_DTYPE),
        )


_STOCK_COLUMNS = (
    "sku",
    "location",
    "channel",
    "time",
    "quantity",
    "shown_available",
    "click_collect",
)
_PRICE_STORIES = ("store_kept_old_price", "price_keyed_wrong", "marketplace_repricer")
_DATA_STORIES = ("source_stopped_confirming", "feed_dropped_sku", "price_sent_twice")
_PROMO_STORIES = (
    "promotion_on_web_only",
    "promotion_forgotten_at_store",
    "shelf_not_relabelled",
    "offer_label_at_regular_price",
    "raise_before_discount",
    "flash_sale_forgotten",
    "percentage_from_list_price",
    "percentage_rounded_up",
    "two_promotions_scheduled_together",
    "promotion_sku_mistyped",
)
_STOCK_STORIES = (
    "sold_out_still_shown",
    "click_collect_without_stock",
    "returns_booked_ahead",
    "unit_of_measure_error",
    "delivery_before_sale",
    "web_stock_feed_frozen",
)


_PRICE_COLUMNS = (
    ("sku", "category"), ("channel", "category"), ("location", "category"), ("price", "float"),
    ("valid_from", "time"), ("valid_to", "time"), ("price_type", "category"),
    ("confirmed", "time"),
)  # fmt: skip
_PROMO_COLUMNS = (
    ("promo_id", "category"), ("sku", "category"), ("channel", "category"),
    ("location", "category"), ("promo_price", "float"), ("reference_price", "float"),
    ("announced_pct", "float"), ("start", "time"), ("end", "time"),
)  # fmt: skip
_INCIDENT_COLUMNS = (
    ("kind", "category"), ("story", "category"), ("sku", "category"), ("channel", "category"),
    ("location", "category"), ("start", "time"), ("end", "time"), ("size", "float"),
    ("fault", "bool"),
)  # fmt: skip


def _table(rows: list[tuple[Any, ...]], spec: tuple[tuple[str, str], ...]) -> Table:
    """A table of row tuples, column by column (times in microseconds, None for NaT)."""
    columns: list[Any] = list(zip(*rows)) or [()] * len(spec)
    data: dict[str, Any] = {}
    for (name, kind), values in zip(spec, columns):
        if kind == "time":
            nat = np.iinfo(np.int64).min
            data[name] = np.array([nat if v is None else v for v in values], dtype=np.int64)
            data[name] = data[name].view(TIME_DTYPE)
        elif kind in ("float", "bool"):
            data[name] = np.array(values, dtype=np.float64 if kind == "float" else bool)
        else:
            data[name] = list(values)
    kinds = {name: kind for name, kind in spec if kind == "category"}
    return Table.from_columns(data, kinds=kinds)


def _walk(rng: np.random.Generator, n: int) -> np.ndarray:
    """Daily units of one sku at one location: sales, and a delivery when few are left."""
    q = np.empty(n, dtype=np.int64)
    level = int(rng.integers(5, 60))
    sales = rng.poisson(2, n)
    deliveries = rng.integers(20, 50, n)
    for d in range(n):
        q[d] = level
        level = max(level - int(sales[d]), 0)
        if level < 4:
            level += int(deliveries[d])
    return q

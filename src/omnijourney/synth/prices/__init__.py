"""Synthetic catalogue, prices, promotions and stock across channels, with injected faults.

Two worlds: :func:`make_prices`, described below, whose ``violations`` are defined rule by
rule, one fault per faulty sku; and :func:`price_stories`, a history told as what a merchant
and its systems did (every finding kind of an audit, several per sku, sizes on both sides of
any limit), whose ``incidents`` come from the stories alone.

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

from omnijourney.synth.prices._base import (
    NEAR_RULES,
    PRICE_CHANNELS,
    RULES,
    SAME_PRICE_GROUP,
    PriceWorld,
)
from omnijourney.synth.prices._generate import make_prices, price_world
from omnijourney.synth.prices._products import EXPOSURE_RULES, MISMATCH_WINDOW, attach_products
from omnijourney.synth.prices._stories import STORY_KINDS, PriceStories, Retailer, price_stories

__all__ = [
    "EXPOSURE_RULES",
    "MISMATCH_WINDOW",
    "NEAR_RULES",
    "PRICE_CHANNELS",
    "RULES",
    "SAME_PRICE_GROUP",
    "STORY_KINDS",
    "PriceStories",
    "PriceWorld",
    "Retailer",
    "attach_products",
    "make_prices",
    "price_stories",
    "price_world",
]

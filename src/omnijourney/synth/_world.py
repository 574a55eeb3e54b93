"""``generate``: put population, source records, touchpoints and prices together as a World."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._random import as_generator
from omnijourney._validation import check_positive_int
from omnijourney.errors import ConfigError
from omnijourney.progress import Progress
from omnijourney.synth._noise import Noise, as_noise
from omnijourney.synth._templates import SEGMENTS, store_count
from omnijourney.synth._touchpoints import touchpoints_and_episodes
from omnijourney.synth._truth import TouchpointTruth, in_canonical_order
from omnijourney.synth._vocabulary import vocabulary
from omnijourney.tables import Table, TouchpointTable
from omnijourney.time import to_datetime64

__all__ = ["World", "generate"]


@attrs.frozen(repr=False)
class World:
    """A synthetic omnichannel world and its ground truth.

    Attributes
    ----------
    seed : int or numpy.random.Generator
        The seed it was generated with (same seed, same world).
    start : numpy.datetime64
        First instant of the period (UTC).
    days : int
        Length of the period.
    customers : Table
        One row per true person: ``customer`` (person id), ``household_id``, ``segment``
        (channel appetence), ``active_from`` and ``active_until``.
    touchpoints : TouchpointTable
        Touchpoints over eight channels, sorted by customer and time, with ``store`` (the
        store of store touchpoints, ``"S01"``...) and ``record_id`` extra columns. With
        prices, also ``sku`` (the product of the touchpoint's episode, on product views,
        carts, reservations, orders, purchases, quotes, pickups and the store visits of
        episodes with a basket), ``location`` (``"online"`` on web, app and call centre, the
        store in store), ``price`` (the public price of the sku there and then, promotional
        while a promotion runs) and ``quantity`` (on the rows with a value, whose ``value`` is
        then ``price * quantity``): ready for :func:`omnijourney.pricing.exposure`.
    truth : TouchpointTruth
        True journeys, visits, breaks and follow-ups, aligned with ``touchpoints``; with
        prices, also ``exposures`` (touchpoints that met an injected price inconsistency)
        and ``price_mismatches`` (purchases paid at another price than the one seen on
        another channel in the 7 days before, with their cause).
    records : Table or None
        Customer records as they sit in the source systems (web accounts, loyalty cards,
        call-centre CRM, orders), with their noise and their ``true_person_id`` /
        ``true_household_id``.
    prices : PriceWorld or None
        Price intervals, promotions and stock per SKU and channel at the same stores as the
        touchpoints, with the injected inconsistencies in ``prices.violations``.
    observed : TouchpointTable or None
        With records: the touchpoints as the source systems recorded them, keyed by each
        system's own customer id, with link keys, noisy reference ids, the systems' clocks
        and words, double sends, in load order (see :mod:`omnijourney.synth._observed`);
        ``truth.observed`` maps each row to its touchpoint and person.
    vocabulary : dict
        ``{"channel_map": {...}, "event_map": {...}}``: the systems' words for channels and
        events mapped to the library's (empty maps when ``noise.vocabulary`` is off).
    noise : Noise
        The settings the world was generated with.

    Notes
    -----
    Without prices, touchpoints have no ``sku``, ``location``, ``price`` or ``quantity``
    column and their values are the episodes' basket and quote amounts. Adding prices draws
    from a generator of its own: customers, records and the touchpoints' times, channels,
    events and journeys are the same for a seed with or without prices.
    """

    seed: int | np.random.Generator
    start: np.datetime64
    days: int
    customers: Table
    touchpoints: TouchpointTable
    truth: TouchpointTruth
    records: Table | None = None
    prices: Any = None
    observed: TouchpointTable | None = None
    vocabulary: dict[str, dict[str, str]] = attrs.field(factory=dict)
    noise: Noise = attrs.field(factory=Noise)

    def summary(self) -> str:
        """A few lines describing the world's size."""
        tp = self.touchpoints
        lines = [
            f"World(seed={self.seed}): {len(self.customers):,} customers over {self.days} days "
            f"from {str(self.start)[:10]}",
            f"  touchpoints: {len(tp):,} on {len(tp.labels('channel'))} channels, "
            f"{len(self.truth.journeys):,} true journeys, {len(self.truth.breaks):,} "
            "cross-channel breaks",
        ]
        if self.records is not None:
            lines.append(f"  source records: {len(self.records):,}")
        if self.observed is not None and self.truth.observed is not None:
            ob = self.truth.observed
            lines.append(
                f"  observed: {len(self.observed):,} rows, {int(ob['identified'].sum()):,} "
                f"identified, {int(ob['duplicate'].sum()):,} double sends"
            )
        if self.prices is not None:
            p = self.prices
            lines.append(
                f"  prices: {len(p.prices):,} intervals, {len(p.promotions):,} promotion rows, "
                f"{len(p.violations):,} injected inconsistencies"
            )
        if self.truth.price_mismatches is not None and self.truth.exposures is not None:
            lines.append(
                f"  products: {int((tp.raw('sku') >= 0).sum()):,} touchpoints with a sku, "
                f"{len(self.truth.exposures):,} exposures to an inconsistency, "
                f"{len(self.truth.price_mismatches):,} purchases paid at another price than seen"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def generate(
    n_customers: int = 1_000,
    *,
    seed: int | np.random.Generator = 0,
    start: Any = "2024-01-01",
    days: int = 365,
    touchpoints_per_customer: float = 25.0,
    records: bool = True,
    prices: bool = True,
    n_skus: int | None = None,
    difficulty: str | Noise = "clean",
) -> World:
    """Generate a reproducible synthetic omnichannel world.

    Parameters
    ----------
    n_customers : int
        Number of true persons.
    seed : int or numpy.random.Generator
        Seed of the random generator (or the generator itself); the same seed gives the same
        world.
    start : str or datetime64
        First day of the period (UTC).
    days : int
        Length of the period in days.
    touchpoints_per_customer : float
        Target mean number of touchpoints per customer over the period; the realised mean
        is within about 5 % of it (25 by default; 105 gives about 10^7 touchpoints for 10^5
        customers).
    records : bool
        Whether to generate the source-system customer records.
    prices : bool
        Whether to generate prices, promotions and stock (the period must then be 90 days
        or more), and link the touchpoints to them (``sku``, ``location``, ``price`` and
        ``quantity`` columns, values that are prices times quantities, exposure truth).
        Without prices the touchpoints have none of these columns and generate faster.
    n_skus : int, optional
        Number of SKUs (default: about one per 20 customers, between 50 and 2,000).
    difficulty : {"clean", "realistic", "hard"} or Noise
        How messy the world is (see :class:`Noise` for every setting of each preset).
        ``"clean"`` is the tidy story of earlier versions; ``"realistic"`` and ``"hard"`` add
        continuous pauses, parallel goals and weeks of research to what customers do, and
        anonymous customers, several devices, missing keys and ids, double sends, late
        loads, skewed and local clocks and each system's own labels to ``observed``.

    Returns
    -------
    World

    Notes
    -----
    Stores follow the number of customers (one per 2,000, between 3 and 20), the same
    ``"S01"``... on touchpoints and in the price world.

    Examples
    --------
    >>> import omnijourney as oj
    >>> world = oj.synth.generate(n_customers=200, seed=1, prices=False)
    >>> world.touchpoints.n_customers
    200
    >>> world.touchpoints.is_sorted
    True
    >>> priced = oj.synth.generate(n_customers=200, seed=1, records=False)
    >>> tp = priced.touchpoints
    >>> bool(np.allclose(tp["value"], np.round(tp["price"] * tp["quantity"], 2), equal_nan=True))
    True
    >>> set(tp["location"][tp["channel"] == "store"]) <= set(priced.prices.prices["location"])
    True
    """
    check_positive_int(n_customers, "n_customers")
    check_positive_int(days, "days", minimum=30)
    if (
        isinstance(touchpoints_per_customer, bool)
        or not isinstance(touchpoints_per_customer, (int, float, np.number))
        or not touchpoints_per_customer > 0
    ):
        msg = (
            "The 'touchpoints_per_customer' parameter must be a positive number. "
            f"Got {touchpoints_per_customer!r} instead."
        )
        raise ConfigError(msg)
    noise = as_noise(difficulty)
    steps = 3 + int(prices) + 2 * int(records)
    with Progress(
        "generating a world", steps=steps, logger="omnijourney.synth", size=n_customers,
        unit="customer",
    ) as progress:  # fmt: skip
        return _generate(
            n_customers, seed, start, days, touchpoints_per_customer, records, prices, n_skus,
            noise, progress,
        )  # fmt: skip


def _generate(
    n_customers: int,
    seed: int | np.random.Generator,
    start: Any,
    days: int,
    touchpoints_per_customer: float,
    records: bool,
    prices: bool,
    n_skus: int | None,
    noise: Noise,
    progress: Progress,
) -> World:
    from omnijourney.synth._population import make_population

    rng = as_generator(seed)
    t0 = to_datetime64(start, name="start")
    # one child generator per part: adding a part never changes what the others draw
    pop_rng, rec_rng, tp_rng, price_rng, product_rng, observed_rng = rng.spawn(6)
    n_stores = store_count(int(n_customers))
    price_world = base = None
    if prices:
        progress.step("prices, promotions and stock")
        from omnijourney.synth.prices import price_world as make_price_world

        skus = n_skus if n_skus is not None else int(np.clip(n_customers // 20, 50, 2_000))
        price_world, base = make_price_world(
            skus, price_rng, start=t0, days=int(days), n_stores=n_stores,
            near=noise.near_price_faults,
        )  # fmt: skip
    progress.step("customers")
    pop = make_population(int(n_customers), pop_rng, start=t0, days=int(days))
    record_table = None
    primary = None
    if records:
        progress.step("source records")
        from omnijourney.synth._records import make_records

        record_table, primary = make_records(pop, rec_rng, start=t0, days=int(days))
    progress.step("touchpoints")
    touchpoints, truth, episodes = touchpoints_and_episodes(
        pop.person_id,
        _segment_index(pop.segment),
        tp_rng,
        start=t0,
        days=int(days),
        touchpoints_per_customer=touchpoints_per_customer,
        record_ids=primary,
        n_stores=n_stores,
        joined=pop.customer_since,
        noise=noise,
    )
    if price_world is not None and base is not None:
        from omnijourney.synth.prices._products import attach_products

        touchpoints, truth = attach_products(
            touchpoints, truth, episodes, price_world, base, product_rng
        )
    progress.step(f"ordering {len(touchpoints):,} touchpoints")
    touchpoints, truth = in_canonical_order(touchpoints, truth)
    observed = None
    if record_table is not None and primary is not None:
        progress.step("what the systems observed")
        from omnijourney.synth._observed import observe

        assert truth.episode_id is not None
        observed, observed_truth = observe(
            touchpoints, truth.visit_id, truth.episode_id, episodes.template, noise, primary,
            record_table, pop, observed_rng,
        )  # fmt: skip
        truth = attrs.evolve(truth, observed=observed_truth)
    customers = Table.from_columns(
        {
            "customer": pop.person_id,
            "household_id": pop.household_id,
            "segment": pop.segment,
            "active_from": truth.active_from,
            "active_until": truth.active_until,
        },
        kinds={"customer": "category", "household_id": "category", "segment": "category"},
    )
    return World(
        seed=seed,
        start=t0,
        days=int(days),
        customers=customers,
        touchpoints=touchpoints,
        truth=truth,
        records=record_table,
        prices=price_world,
        observed=observed,
        vocabulary=vocabulary() if noise.vocabulary else {"channel_map": {}, "event_map": {}},
        noise=noise,
    )


def _segment_index(segment: np.ndarray) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(SEGMENTS)}
    return np.array([lookup[s] for s in segment.tolist()], dtype=np.int64)

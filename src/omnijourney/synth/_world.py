"""``generate``: put population, source records, touchpoints and prices together as a World."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.synth._templates import SEGMENTS
from omnijourney.synth._touchpoints import TouchpointTruth, make_touchpoints
from omnijourney.tables import Table, TouchpointTable
from omnijourney.time import to_datetime64

__all__ = ["World", "generate"]


@attrs.frozen(repr=False)
class World:
    """A synthetic omnichannel world and its ground truth.

    Attributes
    ----------
    seed : int
        The seed it was generated with (same seed, same world).
    start : numpy.datetime64
        First instant of the period (UTC).
    days : int
        Length of the period.
    customers : Table
        One row per true person: ``customer`` (person id), ``household_id``, ``segment``
        (channel appetence), ``active_from`` and ``active_until``.
    touchpoints : TouchpointTable
        Touchpoints over eight channels, sorted by customer and time, with ``store`` and
        ``record_id`` extra columns.
    truth : TouchpointTruth
        True journeys, visits, breaks and follow-ups, aligned with ``touchpoints``.
    records : Table or None
        Customer records as they sit in the source systems (web accounts, loyalty cards,
        call-centre CRM, orders), with their noise and their ``true_person_id`` /
        ``true_household_id``.
    prices : PriceWorld or None
        Price intervals, promotions and stock per SKU and channel, with the injected
        inconsistencies in ``prices.violations``.
    """

    seed: int
    start: np.datetime64
    days: int
    customers: Table
    touchpoints: TouchpointTable
    truth: TouchpointTruth
    records: Table | None = None
    prices: Any = None

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
        if self.prices is not None:
            p = self.prices
            lines.append(
                f"  prices: {len(p.prices):,} intervals, {len(p.promotions):,} promotion rows, "
                f"{len(p.violations):,} injected inconsistencies"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def generate(
    n_customers: int = 1_000,
    *,
    seed: int = 0,
    start: Any = "2024-01-01",
    days: int = 365,
    touchpoints_per_customer: float = 25.0,
    records: bool = True,
    prices: bool = True,
    n_skus: int | None = None,
) -> World:
    """Generate a reproducible synthetic omnichannel world.

    Parameters
    ----------
    n_customers : int
        Number of true persons.
    seed : int
        Seed of the random generator; the same seed gives the same world.
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
        Whether to generate prices, promotions and stock.
    n_skus : int, optional
        Number of SKUs (default: about one per 20 customers, between 50 and 2,000).

    Returns
    -------
    World

    Examples
    --------
    >>> import omnijourney as oj
    >>> world = oj.synth.generate(n_customers=200, seed=1, prices=False)
    >>> world.touchpoints.n_customers
    200
    >>> world.touchpoints.is_sorted
    True
    """
    if not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        msg = f"n_customers must be a positive integer, got {n_customers!r}"
        raise ConfigError(msg)
    if not isinstance(days, (int, np.integer)) or days < 30:
        msg = f"days must be an integer of at least 30, got {days!r}"
        raise ConfigError(msg)
    if touchpoints_per_customer <= 0:
        msg = f"touchpoints_per_customer must be positive, got {touchpoints_per_customer!r}"
        raise ConfigError(msg)
    from omnijourney.synth._population import make_population

    rng = np.random.default_rng(seed)
    t0 = to_datetime64(start, name="start")
    pop_rng, rec_rng, tp_rng, price_rng = rng.spawn(4)
    pop = make_population(int(n_customers), pop_rng, start=t0, days=int(days))
    record_table = None
    primary = None
    if records:
        from omnijourney.synth._records import make_records

        record_table, primary = make_records(pop, rec_rng, start=t0, days=int(days))
    touchpoints, truth = make_touchpoints(
        pop.person_id,
        _segment_index(pop.segment),
        tp_rng,
        start=t0,
        days=int(days),
        touchpoints_per_customer=touchpoints_per_customer,
        record_ids=primary,
        joined=pop.customer_since,
    )
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
    price_world = None
    if prices:
        from omnijourney.synth._prices import make_prices

        skus = n_skus if n_skus is not None else int(np.clip(n_customers // 20, 50, 2_000))
        price_world = make_prices(skus, price_rng, start=t0, days=int(days))
    return World(
        seed=seed,
        start=t0,
        days=int(days),
        customers=customers,
        touchpoints=touchpoints,
        truth=truth,
        records=record_table,
        prices=price_world,
    )


def _segment_index(segment: np.ndarray) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(SEGMENTS)}
    return np.array([lookup[s] for s in segment.tolist()], dtype=np.int64)

"""Synthetic world generation (``oj.synth.generate``); no peer, time and memory only.

- ``touchpoints``: customers and touchpoints only (``records=False, prices=False``), 100
  touchpoints per customer on average, so ``n`` touchpoints over ``n / 100`` customers.
- ``world``: the full world (source records and prices on, default 25 touchpoints per
  customer) for ``n`` customers.
- ``realistic``: the ``"realistic"`` difficulty with its source records and observed rows (no
  prices), 100 touchpoints per customer on average, so ``n`` touchpoints over ``n / 100``
  customers.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

TOUCHPOINT_SIZES = (10**6, 10**7)
WORLD_SIZES = (10**4,)
REALISTIC_SIZES = (10**6,)

SETUP = "import omnijourney as oj\nimport omnijourney.synth\n"
TOUCHPOINTS = (
    "world = oj.synth.generate(max(n // 100, 1), seed=seed, touchpoints_per_customer=100,"
    " records=False, prices=False)"
)
WORLD = "world = oj.synth.generate(n, seed=seed)"
REALISTIC = (
    "world = oj.synth.generate(max(n // 100, 1), seed=seed, touchpoints_per_customer=100,"
    " prices=False, difficulty='realistic')"
)
REALISTIC_REPORT = (
    "{'customers': len(world.customers), 'touchpoints': len(world.touchpoints), "
    "'observed': len(world.observed), 'records': len(world.records)}"
)
TOUCHPOINTS_REPORT = (
    "{'customers': len(world.customers), 'touchpoints': len(world.touchpoints), "
    "'bytes_per_row': world.touchpoints.nbytes / len(world.touchpoints)}"
)
WORLD_REPORT = (
    "{'touchpoints': len(world.touchpoints), 'records': len(world.records), "
    "'price_intervals': len(world.prices.prices)}"
)

CASES = [
    *(
        Case(
            case="touchpoints",
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=SETUP,
            measure=TOUCHPOINTS,
            report=TOUCHPOINTS_REPORT,
        )
        for n in TOUCHPOINT_SIZES
    ),
    *(
        Case(
            case="world",
            tool=OMNIJOURNEY,
            size=n,
            unit="customers",
            setup=SETUP,
            measure=WORLD,
            report=WORLD_REPORT,
        )
        for n in WORLD_SIZES
    ),
    *(
        Case(
            case="realistic",
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=SETUP,
            measure=REALISTIC,
            report=REALISTIC_REPORT,
        )
        for n in REALISTIC_SIZES
    ),
]

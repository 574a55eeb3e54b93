"""A synthetic before/after world with an injected effect, for the measurement tests and the
coverage benchmark (benchmarks/bench_metrics.py imports it).

Customers have a lasting level (gamma distributed, so spend is skewed as in retail), both
groups share a common change between the periods, and the treated group gets ``effect`` more
in the after period. The truth of every comparison is ``effect``, set by the story, never
computed by the estimators: the difference in differences of expected values is ``effect``;
treated and control are drawn at random, so the test/control difference in the after period
is ``effect`` too.
"""

from __future__ import annotations

import numpy as np

import omnijourney as oj

BEFORE = ("2024-01-01", "2024-07-01")
AFTER = ("2024-07-01", "2025-01-01")
PERIODS = {"before": BEFORE, "after": AFTER}


def spend_panel(
    n_customers: int, effect: float, seed: int, *, common: float = 5.0, noise: float = 20.0
) -> dict[str, np.ndarray]:
    """Rows (customer, period, group, numerator): one spend per customer and period."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(2.0, 50.0, n_customers)
    treated = rng.random(n_customers) < 0.5
    before = level + rng.normal(0.0, noise, n_customers)
    after = level + common + effect * treated + rng.normal(0.0, noise, n_customers)
    ids = np.arange(n_customers)
    return {
        "customer": np.repeat(ids, 2),
        "period": np.tile(np.array(["before", "after"], dtype=object), n_customers),
        "group": np.repeat(np.where(treated, "test", "control").astype(object), 2),
        "numerator": np.stack([before, after], axis=1).ravel(),
    }


def rate_panel(n_customers: int, uplift: float, seed: int) -> dict[str, np.ndarray]:
    """Rows with a denominator: journeys per customer and period, and the converted ones.

    Each customer converts a journey with their own probability; treated customers convert
    ``uplift`` more often after. Journeys per customer do not depend on the probability, so
    the ratio of sums moves by ``uplift`` in expectation."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 6.0, n_customers) * 0.8
    treated = rng.random(n_customers) < 0.5
    n_before = rng.poisson(3.0, n_customers) + 1
    n_after = rng.poisson(3.0, n_customers) + 1
    conv_before = rng.binomial(n_before, p)
    conv_after = rng.binomial(n_after, np.clip(p + 0.02 + uplift * treated, 0, 1))
    ids = np.arange(n_customers)
    return {
        "customer": np.repeat(ids, 2),
        "period": np.tile(np.array(["before", "after"], dtype=object), n_customers),
        "group": np.repeat(np.where(treated, "test", "control").astype(object), 2),
        "numerator": np.stack([conv_before, conv_after], axis=1).ravel().astype(float),
        "denominator": np.stack([n_before, n_after], axis=1).ravel().astype(float),
    }


def touchpoints(
    n_customers: int, uplift: float, seed: int
) -> tuple[oj.TouchpointTable, dict[str, str]]:
    """Touchpoints of the rate world: a product view opens each journey (on the web or in
    store), converted journeys end with a purchase on the web or in store ten minutes later.
    Returns the table and customer -> group."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 6.0, n_customers) * 0.8
    treated = rng.random(n_customers) < 0.5
    rows: dict[str, list] = {k: [] for k in ("customer", "time", "channel", "event", "value")}
    day = np.timedelta64(1, "D")
    t0 = np.datetime64("2024-01-01T09:00", "us")
    for i in range(n_customers):
        for half, prob in ((0, p[i]), (1, p[i] + 0.02 + uplift * treated[i])):
            n_j = rng.poisson(3.0) + 1
            days = np.sort(rng.choice(np.arange(180), size=n_j, replace=False)) + 183 * half
            for d in days:
                t = t0 + d * day
                channel = "web" if rng.random() < 0.6 else "store"
                rows["customer"].append(f"c{i:05d}")
                rows["time"].append(t)
                rows["channel"].append(channel)
                rows["event"].append("product_view" if channel == "web" else "store_visit")
                rows["value"].append(np.nan)
                if rng.random() < prob:
                    rows["customer"].append(f"c{i:05d}")
                    rows["time"].append(t + np.timedelta64(10, "m"))
                    rows["channel"].append("web" if rng.random() < 0.5 else "store")
                    rows["event"].append("purchase")
                    rows["value"].append(float(np.round(rng.gamma(2.0, 40.0), 2)))
    table = oj.TouchpointTable.from_columns(
        {k: np.array(v, dtype="datetime64[us]" if k == "time" else None) for k, v in rows.items()}
    )
    groups = {f"c{i:05d}": ("test" if treated[i] else "control") for i in range(n_customers)}
    return table, groups

"""Measurement: KPIs of sessionized journeys against the pandas recipe, a customer bootstrap of a
difference in differences against scipy.stats.bootstrap, and the coverage of the intervals.

- ``kpis``: visits, customers, conversion per journey and average basket by month and channel
  of ``n`` synthetic touchpoints (``oj.synth.generate``, sessionized in the setup).
  omnijourney: ``oj.metrics.kpis``; pandas: ``groupby`` on the touchpoints with their journey
  and visit ids (first touchpoint of each journey and visit, orders with a value, distinct
  customers). The conversion rates must agree.
- ``bootstrap_did``: a difference in differences of spend per customer over ``n`` customers
  (two rows each, before and after; the world of ``tests/metrics_world.py`` with an injected
  effect of 5), 1,000 resamples of customers. omnijourney: ``oj.metrics.compare`` on the rows
  (the classical bootstrap, every resample drawn independently: multinomial counts per group,
  summed by blocks of matrix products; percentile interval), and the same with
  ``resampling="poisson"`` (``omnijourney-poisson``); scipy: the recipe a user writes, the
  per-customer change after - before in each group and ``scipy.stats.bootstrap`` of the
  difference of the groups' means (percentile, ``batch=20`` so that the resamples fit in
  memory). The intervals must agree within Monte Carlo error.
- ``coverage``: over 400 seeds of that world (2,000 customers, 1,000 resamples each), the share
  of 95% intervals that contain the injected effect: difference in differences (percentile
  and BCa, and with Poisson counts), a CUPED test/control comparison, a difference in
  differences of a conversion rate (journeys per customer varying), and a difference in
  differences over 50,000 customers (``did_large``, whose groups take the Poisson road to
  multinomial counts). The truth is the injected effect, never computed by the estimators.
  Reported as ``cover_*_pct`` (a 95% interval should cover 93-97% of the time).
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

KPI_SIZES = (10**6, 10**7)
DID_SIZES = (10**5, 10**6)
SEEDS = 400
POISSON = "omnijourney-poisson"  # the Poisson bootstrap, beside the default

KPI_DATA = """
import numpy as np
import omnijourney as oj
world = oj.synth.generate(max(n // 100, 10), seed=seed, touchpoints_per_customer=105,
                          records=False, prices=False)
jt = oj.sessionize(world.touchpoints)
del world
names = ["visits", "customers", "conversion", "basket"]
"""
KPI_SETUP = {
    OMNIJOURNEY: "import omnijourney.metrics\n",
    "pandas": """
import pandas as pd
df = jt.touchpoint_table().to_pandas(categorical=True)
conv_events = list(jt.rules.conversion_events)
del jt
""",
}
KPI_MEASURE = {
    OMNIJOURNEY: "out = oj.metrics.kpis(jt, names, by='channel', period='month')",
    "pandas": """
df["month"] = df["time"].dt.strftime("%Y-%m")
df["conv"] = df["event"].isin(conv_events)
d = df.sort_values(["customer", "time", "journey_id"], kind="stable")
first = d.groupby("journey_id").first()
conversion = d.groupby("journey_id")["conv"].any().groupby(
    [first["month"], first["channel"]], observed=True).mean()
visit_first = d.groupby("visit_id")[["month", "channel"]].first()
visits = visit_first.groupby(["month", "channel"], observed=True).size()
orders = d[d["conv"] & d["value"].notna()]
basket = orders.groupby(["month", "channel"], observed=True)["value"].mean()
customers = d.groupby(["month", "channel"], observed=True)["customer"].nunique()
""",
}
KPI_REPORT = {
    OMNIJOURNEY: "{'rows': len(out), 'check': digest(np.round(out.table['value'][out.table['kpi'] == 'conversion'], 9))}",
    "pandas": "{'rows': len(conversion) + len(visits) + len(basket) + len(customers), 'check': digest(np.round(conversion.sort_index().to_numpy(float), 9))}",
}

DID_DATA = """
import sys, pathlib
import omnijourney
sys.path.insert(0, str(pathlib.Path(omnijourney.__file__).parents[2] / "tests"))
import numpy as np
from metrics_world import spend_panel
rows = spend_panel(n, effect=5.0, seed=seed)
"""
DID_SETUP = {
    OMNIJOURNEY: "import omnijourney as oj\nimport omnijourney.metrics\nimport scipy.special\n",
    POISSON: "import omnijourney as oj\nimport omnijourney.metrics\nimport scipy.special\n",
    "scipy": """
import pandas as pd
import scipy.stats
frame = pd.DataFrame(rows)
del rows
""",
}
DID_MEASURE = {
    OMNIJOURNEY: "res = oj.metrics.compare(rows, 'spend', n_resamples=1000, seed=seed)",
    POISSON: (
        "res = oj.metrics.compare(rows, 'spend', n_resamples=1000, resampling='poisson', seed=seed)"
    ),
    "scipy": """
wide = frame.pivot(index="customer", columns="period", values="numerator")
group = frame.groupby("customer")["group"].first()
change = wide["after"] - wide["before"]
t, c = change[group == "test"].to_numpy(), change[group == "control"].to_numpy()
res = scipy.stats.bootstrap(
    (t, c), lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis), n_resamples=1000,
    method="percentile", batch=20, rng=np.random.default_rng(seed)).confidence_interval
""",
}
DID_REPORT = {
    OMNIJOURNEY: "{'estimate': round(res.estimate, 3), 'low': round(res.low, 3), 'high': round(res.high, 3)}",
    POISSON: "{'estimate': round(res.estimate, 3), 'low': round(res.low, 3), 'high': round(res.high, 3)}",
    "scipy": "{'estimate': round(float(t.mean() - c.mean()), 3), 'low': round(float(res.low), 3), 'high': round(float(res.high), 3)}",
}

COVERAGE_SETUP = """
import sys, pathlib
import omnijourney
sys.path.insert(0, str(pathlib.Path(omnijourney.__file__).parents[2] / "tests"))
import numpy as np
import omnijourney.metrics as M
from metrics_world import rate_panel, spend_panel
"""
COVERAGE_MEASURE = """
hits = {"did": 0, "did_bca": 0, "did_poisson": 0, "cuped": 0, "rate_did": 0, "did_large": 0}
widths = []
for s in range(n):
    rows = spend_panel(2000, effect=5.0, seed=seed + s)
    r = M.compare(rows, "spend", n_resamples=1000, seed=s)
    hits["did"] += r.low <= 5.0 <= r.high
    widths.append(r.high - r.low)
    r = M.compare(rows, "spend", n_resamples=1000, method="bca", seed=s)
    hits["did_bca"] += r.low <= 5.0 <= r.high
    r = M.compare(rows, "spend", n_resamples=1000, resampling="poisson", seed=s)
    hits["did_poisson"] += r.low <= 5.0 <= r.high
    r = M.compare(rows, "spend", before="before", after="after", covariate="before",
                  n_resamples=1000, seed=s)
    hits["cuped"] += r.low <= 5.0 <= r.high
    r = M.compare(rate_panel(2000, uplift=0.04, seed=seed + s), "conversion", n_resamples=1000, seed=s)
    hits["rate_did"] += r.low <= 0.04 <= r.high
    r = M.compare(spend_panel(50_000, effect=5.0, seed=seed + s), "spend", n_resamples=1000, seed=s)
    hits["did_large"] += r.low <= 5.0 <= r.high
"""
COVERAGE_REPORT = (
    "{**{f'cover_{k}_pct': round(100 * v / n, 2) for k, v in hits.items()}, "
    "'mean_width_did': round(float(np.mean(widths)), 3)}"
)


def _against_peer(
    case: str,
    sizes: tuple[int, ...],
    unit: str,
    data: str,
    setup: dict[str, str],
    measure: dict[str, str],
    report: dict[str, str],
    peer_modules: tuple[str, ...],
) -> list[Case]:
    """omnijourney (and its variants) and its peer at each size, the peer's slowest size run
    once."""
    return [
        Case(
            case=case,
            tool=tool,
            size=n,
            unit=unit,
            setup=data + setup[tool],
            measure=code,
            report=report[tool],
            requires=() if tool.startswith(OMNIJOURNEY) else peer_modules,
            pip="" if tool.startswith(OMNIJOURNEY) else " ".join(peer_modules),
            repeat=1 if n == max(sizes) and not tool.startswith(OMNIJOURNEY) else None,
        )
        for n in sizes
        for tool, code in measure.items()
    ]


def _cases() -> list[Case]:
    out = _against_peer(
        "kpis", KPI_SIZES, "touchpoints", KPI_DATA, KPI_SETUP, KPI_MEASURE, KPI_REPORT, ("pandas",)
    )
    out += _against_peer(
        "bootstrap_did",
        DID_SIZES,
        "customers",
        DID_DATA,
        DID_SETUP,
        DID_MEASURE,
        DID_REPORT,
        ("pandas", "scipy"),
    )
    out.append(
        Case(
            case="coverage",
            tool=OMNIJOURNEY,
            size=SEEDS,
            unit="seeds",
            setup=COVERAGE_SETUP,
            measure=COVERAGE_MEASURE,
            report=COVERAGE_REPORT,
            repeat=1,
        )
    )
    return out


CASES = _cases()

"""RFM summaries and the BG/NBD fit against lifetimes.

- ``rfm``: ``n`` transactions-and-other-touchpoints over ``n / 100`` customers (a quarter of
  them purchases). omnijourney: ``oj.journeys.rfm(table)``; lifetimes:
  ``summary_data_from_transaction_data`` on the purchases as a pandas DataFrame (the
  transactions-to-summary step its users report as the bottleneck).
- ``bgnbd_fit``: ``n`` customers simulated from a BG/NBD process with continuous times (every
  (x, t_x, T) distinct, the hardest case). omnijourney: ``oj.journeys.fit_bgnbd``; lifetimes:
  ``BetaGeoFitter().fit``. Reports the fitted parameters, which must agree.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

RFM_SIZES = (10**6, 10**7)
FIT_SIZES = (10**4, 10**5)

RFM_DATA = """
import numpy as np
import omnijourney as oj
rng = np.random.default_rng(seed)
n_customers = max(n // 100, 1)
customer = np.sort(rng.integers(0, n_customers, n)).astype(np.int32)
time = np.datetime64("2024-01-01", "us") + rng.integers(
    0, 365 * 86_400_000_000, n).astype("timedelta64[us]")
event = (rng.random(n) < 0.25).astype(np.int8)  # 1: purchase
value = np.where(event == 1, np.round(rng.gamma(2.0, 30.0, n), 2), np.nan)
table = oj.TouchpointTable._from_parts(
    {"customer": customer, "time": time, "channel": np.zeros(n, np.int8), "event": event,
     "value": value},
    {"customer": np.arange(n_customers), "channel": np.array(["web"], dtype=object),
     "event": np.array(["product_view", "purchase"], dtype=object)})
as_of = np.datetime64("2025-01-01")
"""
RFM_MEASURE = {
    OMNIJOURNEY: "out = oj.journeys.rfm(table, as_of=as_of)",
    "lifetimes": """
out = summary_data_from_transaction_data(
    purchases, "customer", "time", monetary_value_col="value", observation_period_end=as_of_ts,
    freq="D")
""",
}
RFM_SETUP = {
    OMNIJOURNEY: "",
    "lifetimes": """
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
buy = event == 1
purchases = pd.DataFrame({"customer": customer[buy], "time": time[buy], "value": value[buy]})
as_of_ts = pd.Timestamp(as_of)
del table
""",
}

FIT_DATA = """
import numpy as np
rng = np.random.default_rng(seed)
r, alpha, a, b = 0.25, 4.0, 0.8, 2.5
lam = rng.gamma(r, 1 / alpha, n)
p = rng.beta(a, b, n)
T = rng.uniform(20, 40, n)
x = np.zeros(n)
tx = np.zeros(n)
alive = np.ones(n, dtype=bool)
t = np.zeros(n)
for _ in range(200):  # purchases: exponential gaps, dropout after each with probability p
    gap = rng.exponential(1 / np.maximum(lam, 1e-12))
    t = t + gap
    buy = alive & (t <= T)
    x[buy] += 1
    tx[buy] = t[buy]
    alive &= ~(buy & (rng.random(n) < p))
    if not (alive & (t <= T)).any():
        break
"""
FIT_SETUP = {  # imports (and scipy's lazily loaded submodules) are not timed
    OMNIJOURNEY: "import omnijourney as oj\nimport scipy.optimize, scipy.special\n",
    "lifetimes": "from lifetimes import BetaGeoFitter\n",
}
FIT_MEASURE = {
    OMNIJOURNEY: "m = oj.journeys.fit_bgnbd(x, tx, T)",
    "lifetimes": "m = BetaGeoFitter().fit(x, tx, T)",
}
FIT_REPORT = {
    OMNIJOURNEY: "{'r': round(m.r, 3), 'alpha': round(m.alpha, 3), 'a': round(m.a, 3), "
    "'b': round(m.b, 3)}",
    "lifetimes": "{k: round(float(v), 3) for k, v in m.params_.items()}",
}


def _cases() -> list[Case]:
    out = []
    for n in RFM_SIZES:
        for tool, measure in RFM_MEASURE.items():
            needs = () if tool == OMNIJOURNEY else ("pandas", "lifetimes")
            out.append(
                Case(
                    case="rfm",
                    tool=tool,
                    size=n,
                    unit="touchpoints",
                    setup=RFM_DATA + RFM_SETUP[tool],
                    measure=measure,
                    report="{'customers': len(out)}",
                    requires=needs,
                    pip=" ".join(needs),
                )
            )
    for n in FIT_SIZES:
        for tool, measure in FIT_MEASURE.items():
            needs = () if tool == OMNIJOURNEY else ("lifetimes",)
            out.append(
                Case(
                    case="bgnbd_fit",
                    tool=tool,
                    size=n,
                    unit="customers",
                    setup=FIT_DATA + FIT_SETUP[tool],
                    measure=measure,
                    report=FIT_REPORT[tool],
                    requires=needs,
                    pip=" ".join(needs),
                )
            )
    return out


CASES = _cases()

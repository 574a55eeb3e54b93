"""Price audit: the 30-day prior-price rule and cross-channel gaps, against a pandas recipe.

The data is generated with numpy from the seed inside each process (not timed): ``n`` price
intervals over ``n / 650`` skus and five channels (web, app, store, call centre, marketplace)
for a year. Regular prices change at midnight on about one day in three, the same on every
channel (the marketplace 8 % above); 1 % of the intervals of the four same-price channels
deviate by 3-10 %; 12 flash prices a year per sku (1-3 hours, 15-40 % off, on one channel)
split intervals at any hour. Two promotions per sku run on the four same-price channels; their
reference ("was") price is the lowest *midnight* price of the 30 days before, as a system
reading daily snapshots would compute it, so that every flash price inside the window makes a
violation of the prior-price rule that only an exact method sees. 10^4 skus give about 6.5
million intervals and 80,000 promotion rows.

- ``audit``: omnijourney ``oj.pricing.audit(prices, promotions)`` with the default policy
  (every rule: prior price and percentage, cross-channel gaps at every change point,
  coverage, staleness, mirroring, stacking) on tables built in the setup; pandas: the recipe a
  user would write (expand the intervals to one row per series and day at midnight,
  ``groupby(...).rolling("30D", closed="left").min()`` for the prior price joined to the
  promotions, and a (sku, day) x channel pivot whose median flags the cross-channel gaps).
  Reports the prior-price violations and the gap findings each finds: the daily recipe misses
  the sub-daily prices.
- ``build``: ``PriceTable.from_columns`` and ``PromotionTable.from_columns`` on the arrays.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

SIZES = (6_500_000, 10**7)
PEER_SIZES = (6_500_000,)

DATA = """
import numpy as np
rng = np.random.default_rng(seed)
DAY, HOUR = 86_400_000_000, 3_600_000_000
DAYS = 365
n_skus = max(n // 650, 10)
T0 = int(np.datetime64("2024-01-01", "us").astype(np.int64))
AS_OF = T0 + DAYS * DAY
NAT = np.iinfo(np.int64).min
CHANNELS = np.array(["app", "call_centre", "marketplace", "store", "web"], dtype=object)
GROUP = np.array([0, 1, 3, 4])
# the regular timeline of each sku: changes at midnight on about one day in three
change = rng.random((n_skus, DAYS)) < 0.345
change[:, 0] = True
sku_c, day_c = np.nonzero(change)
del change
n_c = sku_c.size
first_c = np.r_[True, sku_c[1:] != sku_c[:-1]]
start_c = np.flatnonzero(first_c)
base = np.round(np.exp(rng.normal(2.6, 1.0, n_skus)), 1) + 0.99
logm = np.log(np.clip(1 + rng.normal(0, 0.03, n_c), 0.8, 1.2))
logm[first_c] = 0
cum = np.cumsum(logm)
cum -= np.repeat(cum[start_c], np.diff(np.r_[start_c, n_c]))
reg = np.round(base[sku_c] * np.exp(cum), 2)
frm_c = T0 + day_c.astype(np.int64) * DAY
last_c = np.r_[sku_c[1:] != sku_c[:-1], True]
to_c = np.where(last_c, NAT, np.r_[frm_c[1:], 0])
# every channel copies it; 1 % of the same-price channels' intervals deviate
k = CHANNELS.size
s_sku = np.tile(sku_c, k)
s_ch = np.repeat(np.arange(k), n_c)
s_frm = np.tile(frm_c, k)
s_to = np.tile(to_c, k)
s_price = np.tile(reg, k)
mkt = s_ch == 2
s_price[mkt] = np.round(s_price[mkt] * 1.08, 2)
dev = ~mkt & (rng.random(s_price.size) < 0.01)
s_price[dev] = np.round(s_price[dev] * rng.choice([0.93, 1.05, 1.1], int(dev.sum())), 2)
s_type = np.zeros(s_price.size, dtype=np.int8)
# flash prices: 12 a year per sku, on one channel, 1-3 hours at any hour of a day
eligible = np.flatnonzero(~mkt & (s_to != NAT))
pick = np.unique(rng.choice(eligible, min(12 * n_skus, eligible.size), replace=False))
n_fl = pick.size
fs = s_frm[pick] + rng.integers(1, 20, n_fl) * HOUR
fe = fs + rng.integers(1, 4, n_fl) * HOUR
s_sku = np.r_[s_sku, s_sku[pick], s_sku[pick]]
s_ch = np.r_[s_ch, s_ch[pick], s_ch[pick]]
s_frm = np.r_[s_frm, fs, fe]
s_to = np.r_[s_to, fe, s_to[pick]]
s_price = np.r_[s_price, np.round(s_price[pick] * rng.uniform(0.6, 0.85, n_fl), 2), s_price[pick]]
s_type = np.r_[s_type, np.ones(n_fl, np.int8), s_type[pick]]
s_to[pick] = fs
order = np.lexsort((s_frm, s_ch, s_sku))
s_sku, s_ch, s_frm, s_to, s_price, s_type = (a[order] for a in (s_sku, s_ch, s_frm, s_to, s_price, s_type))
del order, pick, eligible, dev, mkt
s_end = np.where(s_to == NAT, AS_OF, s_to)
s_conf = s_end - rng.integers(0, DAY, s_end.size)
del s_end
# two promotions per sku on the same-price channels; "was" = lowest midnight price in 30 days
n_p = 2 * n_skus
p_sku = np.repeat(np.arange(n_skus), 2)
p_day = rng.integers(35, DAYS - 20, n_p)
p_len = rng.integers(2, 15, n_p)
key_c = sku_c.astype(np.int64) * DAYS + day_c
lo = np.searchsorted(key_c, p_sku * DAYS + p_day - 30, "right") - 1
hi = np.searchsorted(key_c, p_sku * DAYS + p_day, "left")
was = np.array([reg[a:b].min() for a, b in zip(lo, hi)])
pct = rng.choice([10, 20, 30], n_p)
now = np.round(was * (1 - pct / 100), 2)
m = GROUP.size
prices = {
    "sku": s_sku,
    "channel": CHANNELS[s_ch],
    "price": s_price,
    "valid_from": s_frm.view("datetime64[us]"),
    "valid_to": s_to.view("datetime64[us]"),
    "price_type": np.array(["regular", "promotional"], dtype=object)[s_type],
    "confirmed": s_conf.view("datetime64[us]"),
}
promotions = {
    "promo_id": np.repeat(np.arange(n_p), m),
    "sku": np.repeat(p_sku, m),
    "channel": np.tile(CHANNELS[GROUP], n_p),
    "promo_price": np.repeat(now, m),
    "reference_price": np.repeat(was, m),
    "announced_pct": np.repeat(pct.astype(float), m),
    "start": np.repeat(T0 + p_day * DAY, m).view("datetime64[us]"),
    "end": np.repeat(T0 + (p_day + p_len) * DAY, m).view("datetime64[us]"),
}
del s_sku, s_ch, s_frm, s_to, s_price, s_type, s_conf, sku_c, day_c, frm_c, to_c, reg, key_c
"""

OJ_SETUP = """
import omnijourney as oj
import omnijourney.pricing
price_table = oj.pricing.PriceTable.from_columns(prices)
promo_table = oj.pricing.PromotionTable.from_columns(promotions)
del prices, promotions
"""
OJ_AUDIT = "result = oj.pricing.audit(price_table, promo_table, as_of='2025-01-01')"
OJ_REPORT = (
    "{'intervals': len(price_table), 'promotion_rows': len(promo_table), "
    "'prior_price_violations': result.counts()['prior_price_reference'], "
    "'gap_findings': result.counts()['price_gap'], 'findings': len(result)}"
)

PANDAS_SETUP = """
import pandas as pd
df = pd.DataFrame(prices)
df["valid_to"] = df["valid_to"].fillna(pd.Timestamp("2025-01-01"))
promos = pd.DataFrame(promotions)
del prices, promotions
"""
# the recipe: one row per series and day (the price at midnight), a 30-day rolling minimum,
# the promotions joined on their start day, and a daily pivot for the cross-channel median
PANDAS_AUDIT = """
day0 = df["valid_from"].dt.ceil("D")
days = ((df["valid_to"].dt.ceil("D") - day0).dt.days).clip(lower=0)
daily = df.loc[df.index.repeat(days), ["sku", "channel", "price", "price_type"]]
offset = daily.groupby(level=0).cumcount().to_numpy()
daily["day"] = day0.repeat(days).to_numpy() + pd.to_timedelta(offset, unit="D")
daily = daily.sort_values(["sku", "channel", "day"]).reset_index(drop=True)
rolled = (
    daily.set_index("day").groupby(["sku", "channel"])["price"]
    .rolling("30D", closed="left").min()
)
daily["prior"] = rolled.to_numpy()
joined = promos.merge(daily[["sku", "channel", "day", "prior"]],
                      left_on=["sku", "channel", "start"], right_on=["sku", "channel", "day"])
prior_violations = int(((joined["reference_price"] - joined["prior"]).abs() > 0.005).sum())
group = daily[daily["channel"].isin(["web", "app", "store", "call_centre"])
              & (daily["price_type"] == "regular")]
wide = group.pivot_table(index=["sku", "day"], columns="channel", values="price")
median = wide.median(axis=1)
gap = wide.sub(median, axis=0).abs().gt(
    pd.concat([median * 0.01, pd.Series(0.05, index=median.index)], axis=1).max(axis=1), axis=0)
gap_days = int(gap.to_numpy().sum())
"""
PANDAS_REPORT = (
    "{'daily_rows': len(daily), 'prior_price_violations': prior_violations, 'gap_days': gap_days}"
)


def _cases() -> list[Case]:
    out = []
    for n in SIZES:
        out.append(
            Case(
                case="audit",
                tool=OMNIJOURNEY,
                size=n,
                unit="intervals",
                setup=DATA + OJ_SETUP,
                measure=OJ_AUDIT,
                report=OJ_REPORT,
            )
        )
        out.append(
            Case(
                case="build",
                tool=OMNIJOURNEY,
                size=n,
                unit="intervals",
                setup=DATA + "import omnijourney as oj\nimport omnijourney.pricing\n",
                measure=(
                    "price_table = oj.pricing.PriceTable.from_columns(prices)\n"
                    "promo_table = oj.pricing.PromotionTable.from_columns(promotions)"
                ),
                report="{'bytes_per_row': price_table.nbytes / len(price_table)}",
            )
        )
    for n in PEER_SIZES:
        out.append(
            Case(
                case="audit",
                tool="pandas",
                size=n,
                unit="intervals",
                setup=DATA + PANDAS_SETUP,
                measure=PANDAS_AUDIT,
                report=PANDAS_REPORT,
                requires=("pandas",),
                pip="pandas",
                repeat=1,
            )
        )
    return sorted(out, key=lambda c: (c.case, c.size or 0))


CASES = _cases()

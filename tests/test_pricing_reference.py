"""The vectorized audit agrees with a naive per-series loop on random sub-daily data.

The generator here is independent of the synthetic world: interval boundaries fall on any
microsecond, channels change prices at different instants, flash prices last minutes, and
promotions start at any time, so that every rule meets ties, boundaries and short intervals.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj

US = 1_000_000
DAY = 86_400 * US
T0 = int(np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64))
AS_OF = T0 + 90 * DAY
GROUP = ("app", "call_centre", "store", "web")
PLACES = [("web", "online"), ("app", "online"), ("call_centre", "online"), ("store", "S01"),
          ("store", "S02"), ("marketplace", "online")]  # fmt: skip


def random_world(seed: int, n_skus: int = 8):
    """Prices and promotions with sub-daily boundaries; returns plain row dicts."""
    rng = np.random.default_rng(seed)
    prices, promos = [], []
    for k in range(n_skus):
        sku = f"K{k}"
        start = T0 + int(rng.integers(0, 5 * DAY))
        shared = np.sort(rng.integers(start + 1, AS_OF + 10 * DAY, 6))
        for ch, loc in PLACES:
            own = rng.integers(start + 1, AS_OF, int(rng.integers(0, 5)))
            cuts = np.unique(np.concatenate((shared, own)))
            bounds = [start, *cuts.tolist()]
            last_price = None
            for i, frm in enumerate(bounds):
                to = bounds[i + 1] if i + 1 < len(bounds) else None
                if to is not None and rng.random() < 0.05:
                    continue  # a hole
                price = float(rng.choice([9.99, 10.49, 10.99, 8.99, 12.5]))
                if ch == "marketplace":
                    price = round(price * 1.07, 2)
                while price == last_price:
                    price = round(price + 0.3, 2)
                last_price = price
                ptype = "promotional" if rng.random() < 0.15 else "regular"
                end = AS_OF if to is None else min(to, AS_OF)
                confirmed = end - int(rng.integers(0, 4 * DAY))
                prices.append(
                    dict(sku=sku, channel=ch, location=loc, price=price, valid_from=frm,
                         valid_to=to, price_type=ptype, audience="public", confirmed=confirmed)
                )  # fmt: skip
        if rng.random() < 0.5:  # a loyalty series, always lower
            prices.append(
                dict(sku=sku, channel="store", location="S01", price=5.0, valid_from=start,
                     valid_to=None, price_type="regular", audience="loyalty", confirmed=AS_OF)
            )  # fmt: skip
        for j in range(4):
            pid = f"{sku}-P{j}"
            s0 = int(rng.integers(start, AS_OF - 5 * DAY))
            steps = 2 if rng.random() < 0.3 else 1
            length = int(rng.integers(DAY // 24, 6 * DAY))
            places = [p for p in PLACES[:5] if rng.random() < 0.8]
            for step in range(steps):
                a, b = s0 + step * length, s0 + (step + 1) * length
                price = float(rng.choice([6.99, 7.99, 8.49, 9.99]))
                ref = float(rng.choice([9.99, 10.49, 10.99, 8.99, 12.5]))
                pct = round(100 * (ref - price) / ref, 1) if rng.random() < 0.7 else 30.0
                for ch, loc in places:
                    promos.append(
                        dict(promo_id=pid, sku=sku, channel=ch, location=loc, promo_price=price,
                             start=a, end=b, reference_price=ref, announced_pct=pct,
                             stackable=bool(rng.random() < 0.2))
                    )  # fmt: skip
    return prices, promos


def table(rows, cls, times):
    data = {k: [r[k] for r in rows] for k in rows[0]}
    for k in times:
        data[k] = np.array(
            [np.iinfo(np.int64).min if v is None else v for v in data[k]], dtype=np.int64
        ).view("datetime64[us]")
    return cls.from_columns(data, duplicates="keep")


# --------------------------------------------------------------------------- the naive checker


def end_of(r):
    return AS_OF if r["valid_to"] is None else r["valid_to"]


def naive(prices, promos):
    out = []
    series = defaultdict(list)
    for r in prices:
        series[(r["sku"], r["channel"], r["location"], r["audience"])].append(r)
    for rows in series.values():
        rows.sort(key=lambda r: r["valid_from"])

    def regular_at(rows, t):
        found = None
        for r in rows:
            if r["price_type"] == "regular" and r["valid_from"] <= t:
                found = r["price"]
        return found

    def covering(rows, t):
        return next((r for r in rows if r["valid_from"] <= t < end_of(r)), None)

    for (sku, ch, loc, _a), rows in series.items():  # coverage and staleness
        cursor = rows[0]["valid_from"]
        for r in rows:
            if r["valid_from"] > cursor and cursor < AS_OF:  # the future is not a hole yet
                out.append(("coverage_hole", sku, ch, loc, cursor, min(r["valid_from"], AS_OF)))
            cursor = end_of(r)
            end = min(end_of(r), AS_OF)
            limit = (7 if ch == "store" else 2) * DAY
            if end - r["confirmed"] > limit and r["valid_from"] < AS_OF:
                out.append(
                    ("stale_price", sku, ch, loc, max(r["confirmed"] + limit, r["valid_from"]), end)
                )
        if cursor < AS_OF:
            out.append(("coverage_hole", sku, ch, loc, cursor, AS_OF))

    by_sku = defaultdict(dict)  # price gaps: the median at every instant
    for (sku, ch, loc, aud), rows in series.items():
        if aud == "public" and ch in GROUP:
            by_sku[sku][(ch, loc)] = rows
    for sku, group in by_sku.items():
        times = {AS_OF}
        for rows in group.values():
            for r in rows:
                times.update((r["valid_from"], end_of(r)))
        times = sorted(t for t in times if t <= AS_OF)
        runs = {}
        for t, t_next in itertools.pairwise(times):
            now = {}
            for where, rows in group.items():
                if covering(rows, t) is not None and regular_at(rows, t) is not None:
                    now[where] = regular_at(rows, t)
            if not now:
                continue
            med = statistics.median(now.values())
            for where, p in now.items():
                run = runs.get(where)
                if abs(p - med) > max(0.01 * med, 0.05):
                    if run and run[1] == t and run[2:] == [med, p]:
                        run[1] = t_next
                        continue
                    if run:
                        out.append(("price_gap", sku, *where, run[0], run[1]))
                    runs[where] = [t, t_next, med, p]
        for where, run in runs.items():
            out.append(("price_gap", sku, *where, run[0], run[1]))

    first = {}
    for r in promos:
        k = (r["sku"], r["channel"], r["location"], r["promo_id"])
        first[k] = min(first.get(k, r["start"]), r["start"])
    for r in promos:
        rows = series.get((r["sku"], r["channel"], r["location"], "public"), [])
        where = (r["sku"], r["channel"], r["location"], r["start"], r["end"])
        reg = regular_at(rows, r["start"])
        if reg is None:
            out.append(("promotion_without_price", *where))
        elif r["promo_price"] > reg - 0.005:
            out.append(("promo_not_below_regular", *where))
        f = first[(r["sku"], r["channel"], r["location"], r["promo_id"])]
        window = [x["price"] for x in rows if x["valid_from"] < f and end_of(x) > f - 30 * DAY]
        if not window or abs(r["reference_price"] - min(window)) > 0.005:
            out.append(("prior_price_reference", *where))
        exact = 100 * (r["reference_price"] - r["promo_price"]) / r["reference_price"]
        if abs(r["announced_pct"] - exact) > 0.1:
            out.append(("prior_price_percentage", *where))
    by_place = defaultdict(list)
    for r in promos:
        by_place[(r["sku"], r["channel"], r["location"])].append(r)
    for (sku, ch, loc), rows in by_place.items():
        for a, b in itertools.combinations(rows, 2):
            if a["promo_id"] == b["promo_id"] or a["stackable"] or b["stackable"]:
                continue
            if a["start"] < b["end"] and b["start"] < a["end"]:
                s = max(a["start"], b["start"])
                out.append(("overlapping_promotions", sku, ch, loc, s, min(a["end"], b["end"])))
    required = defaultdict(set)
    for sku, ch, loc, aud in series:
        if aud == "public" and ch in GROUP:
            required[sku].add((ch, loc))
    present = defaultdict(set)
    for r in promos:
        present[(r["sku"], r["promo_id"], r["start"], r["end"])].add((r["channel"], r["location"]))
    for (sku, _pid, s, e), places in present.items():
        for ch, loc in required[sku] - places:
            out.append(("promo_not_mirrored", sku, ch, loc, s, e))
    return sorted(out)


def vectorized(prices, promos):
    p = table(prices, oj.pricing.PriceTable, ("valid_from", "valid_to", "confirmed"))
    q = table(promos, oj.pricing.PromotionTable, ("start", "end"))
    result = oj.pricing.audit(p, q, as_of=np.int64(AS_OF).view("datetime64[us]"))
    f = result.findings
    return sorted(
        (r, s, c, loc, int(a), int(b))
        for r, s, c, loc, a, b in zip(
            f["rule"].tolist(),
            f["sku"].tolist(),
            f["channel"].tolist(),
            f["location"].tolist(),
            f["start"].astype(np.int64).tolist(),
            f["end"].astype(np.int64).tolist(),
        )
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_audit_agrees_with_a_naive_loop_on_random_sub_daily_data(seed):
    prices, promos = random_world(seed)
    expected = naive(prices, promos)
    got = vectorized(prices, promos)
    assert got == expected
    assert {r[0] for r in expected} >= {
        "price_gap",
        "coverage_hole",
        "prior_price_reference",
        "prior_price_percentage",
        "overlapping_promotions",
        "promo_not_mirrored",
    }


def test_prior_price_agrees_with_a_pandas_time_based_rolling_minimum():
    """On data that changes at whole minutes, a minute grid with ``rolling("30D")`` is exact."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    minute = 60 * US
    frm = [T0]
    while frm[-1] < T0 + 60 * DAY:
        frm.append(frm[-1] + int(rng.integers(30, 3 * 24 * 60)) * minute)
    price = rng.choice([10.0, 9.5, 11.0, 7.25, 8.0], len(frm))
    rows = [
        dict(sku="Z", channel="web", price=float(p), valid_from=a, valid_to=b)
        for p, a, b in zip(price, frm[:-1], frm[1:])
    ]
    starts = np.sort(rng.integers(T0 + 31 * DAY, frm[-2], 40) // minute * minute)
    grid = (
        pd.Series(price[:-1], index=pd.to_datetime(np.array(frm[:-1]).astype("datetime64[us]")))
        .resample("1min")
        .ffill()
    )
    lowest = grid.rolling("30D", closed="left").min()
    prior = [float(lowest[pd.Timestamp(int(s) * 1000)]) for s in starts]
    # half of the promotions show the pandas prior price, half a made-up 11.00
    shown = [p if i % 2 else 11.0 for i, p in enumerate(prior)]
    promos = [
        dict(promo_id=f"P{i}", sku="Z", channel="web", promo_price=1.0, start=int(s),
             end=int(s) + minute, reference_price=r)
        for i, (s, r) in enumerate(zip(starts, shown))
    ]  # fmt: skip
    p = table(rows, oj.pricing.PriceTable, ("valid_from", "valid_to"))
    q = table(promos, oj.pricing.PromotionTable, ("start", "end"))
    result = oj.pricing.audit(p, q, policy=oj.pricing.Policy(same_price_groups=[["web"]]))
    f = result.findings[result.findings["rule"] == "prior_price_reference"]
    got = dict(zip(f["start"].astype(np.int64).tolist(), f["expected"].tolist()))
    want = {int(s): p for s, p, r in zip(starts, prior, shown) if abs(r - p) > 0.005}
    assert got == want
    assert 0 < len(want) < len(starts)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.floats(0.01, 0.99))
def test_splitting_an_interval_in_two_equal_price_pieces_changes_nothing(seed, cut):
    prices, promos = random_world(seed, n_skus=2)
    before = vectorized(prices, promos)
    i = int(np.random.default_rng(seed).integers(len(prices)))
    r = prices[i]
    end = end_of(r)
    mid = r["valid_from"] + max(1, int((end - r["valid_from"]) * cut))
    if mid >= end:
        return
    split = [dict(r, valid_to=mid), dict(r, valid_from=mid)]
    assert vectorized(prices[:i] + split + prices[i + 1 :], promos) == before

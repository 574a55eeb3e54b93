"""Synthetic prices: the injected truth is exactly what a naive rule-by-rule checker finds."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import ConfigError
from omnijourney.synth.prices import (
    PRICE_CHANNELS,
    RULES,
    SAME_PRICE_GROUP,
    PriceWorld,
    make_prices,
)

START = np.datetime64("2024-01-01T00:00:00", "us")
DAYS = 365
DAY = 86_400_000_000
T0 = int(START.astype(np.int64))
AS_OF = T0 + DAYS * DAY
PROMO_RULES = (
    "promo_not_mirrored",
    "promo_not_below_regular",
    "prior_price_reference",
    "prior_price_percentage",
    "overlapping_promotions",
)


def world(seed: int, n_skus: int = 60, fault_rate: float = 0.05) -> PriceWorld:
    return make_prices(
        n_skus, np.random.default_rng(seed), start=START, days=DAYS, fault_rate=fault_rate
    )


# --------------------------------------------------------------------------- a naive checker
# Straight from the rule definitions: plain Python loops over rows, no generator internals.


def records(table) -> list[dict]:
    """Rows as dicts; times as int microseconds (None for NaT)."""
    cols = {}
    for name in table.columns:
        values = table[name]
        if values.dtype.kind == "M":
            ints = values.astype(np.int64).tolist()
            cols[name] = [None if v == np.iinfo(np.int64).min else v for v in ints]
        else:
            cols[name] = values.tolist()
    return [dict(zip(cols, row)) for row in zip(*cols.values())]


def price_series(w: PriceWorld) -> dict[tuple, list[dict]]:
    series = defaultdict(list)
    for r in records(w.prices):
        series[(r["sku"], r["channel"], r["location"], r["audience"])].append(r)
    for rows in series.values():
        rows.sort(key=lambda r: r["valid_from"])
    return series


def end_of(r: dict) -> int:
    return AS_OF if r["valid_to"] is None else r["valid_to"]


def covering(rows: list[dict], t: int) -> dict | None:
    for r in rows:
        if r["valid_from"] <= t < end_of(r):
            return r
    return None


def regular_at(rows: list[dict], t: int) -> float | None:
    found = None
    for r in rows:
        if r["price_type"] == "regular" and r["valid_from"] <= t:
            found = r["price"]
    return found


def check_coverage_and_staleness(w: PriceWorld, series, out: list) -> None:
    launched = {r["sku"]: r["launched"] for r in records(w.catalog)}
    for (sku, ch, loc, _aud), rows in series.items():
        cursor = max(launched[sku], T0)
        for r in rows:
            if r["valid_from"] > cursor:
                days = (r["valid_from"] - cursor) / DAY
                out.append(
                    ("coverage_hole", sku, ch, loc, cursor, r["valid_from"], 0.0, days, None)
                )
            if r["valid_from"] < cursor:
                out.append(("overlap", sku, ch, loc, r["valid_from"], cursor, 0.0, 0.0, None))
            cursor = end_of(r)
            end = min(end_of(r), AS_OF)
            threshold = (7 if ch == "store" else 2) * DAY
            if end - r["confirmed"] > threshold:
                late = (end - r["confirmed"]) / DAY
                row = ("stale_price", sku, ch, loc, r["confirmed"] + threshold, end)
                out.append((*row, threshold / DAY, late, None))
        if cursor < AS_OF:
            out.append(
                ("coverage_hole", sku, ch, loc, cursor, AS_OF, 0.0, (AS_OF - cursor) / DAY, None)
            )


def check_price_gaps(series, out: list) -> None:
    by_sku = defaultdict(dict)
    for (sku, ch, loc, aud), rows in series.items():
        if aud == "public" and ch in SAME_PRICE_GROUP:
            by_sku[sku][(ch, loc)] = rows
    for sku, group in by_sku.items():
        times = {AS_OF}
        for rows in group.values():
            for r in rows:
                times.update((r["valid_from"], end_of(r)))
        times = sorted(t for t in times if t <= AS_OF)
        open_runs: dict[tuple, list] = {}
        for t, t_next in itertools.pairwise(times):
            prices = {
                where: regular_at(rows, t)
                for where, rows in group.items()
                if covering(rows, t) is not None
            }
            if not prices:
                continue
            median = statistics.median(prices.values())
            for where, p in prices.items():
                run = open_runs.get(where)
                if abs(p - median) > max(0.01 * median, 0.05):
                    if run and run[1] == t and run[2:] == [median, p]:
                        run[1] = t_next
                        continue
                    if run:
                        out.append(("price_gap", sku, *where, *run, None))
                    open_runs[where] = [t, t_next, median, p]
        for where, run in open_runs.items():
            out.append(("price_gap", sku, *where, *run, None))


def check_promotions(w: PriceWorld, series, out: list) -> None:
    promos = records(w.promotions)
    stores = sorted({loc for (_s, ch, loc, _a) in series if ch == "store"})
    required = {("web", "online"), ("app", "online"), ("call_centre", "online")}
    required |= {("store", loc) for loc in stores}

    by_promo = defaultdict(list)
    first_start = {}
    by_place = defaultdict(list)
    for r in promos:
        by_promo[(r["sku"], r["promo_id"], r["start"])].append(r)
        k = (r["sku"], r["channel"], r["location"], r["promo_id"])
        first_start[k] = min(first_start.get(k, r["start"]), r["start"])
        by_place[(r["sku"], r["channel"], r["location"])].append(r)

    for (sku, pid, start), rows in by_promo.items():
        present = {(r["channel"], r["location"]) for r in rows}
        for ch, loc in sorted(required - present):
            carried = covering(series[(sku, ch, loc, "public")], start)["price"]
            lowest = min(r["promo_price"] for r in rows)
            end = rows[0]["end"]
            out.append(("promo_not_mirrored", sku, ch, loc, start, end, lowest, carried, pid))

    for r in promos:
        sku, ch, loc = r["sku"], r["channel"], r["location"]
        rows = series[(sku, ch, loc, "public")]
        where = ("x", sku, ch, loc, r["start"], r["end"])
        regular = regular_at(rows, r["start"])
        if r["promo_price"] > regular - 0.005:
            out.append(
                ("promo_not_below_regular", *where[1:], regular, r["promo_price"], r["promo_id"])
            )
        first = first_start[(sku, ch, loc, r["promo_id"])]
        window = [
            x["price"] for x in rows if x["valid_from"] < first and end_of(x) > first - 30 * DAY
        ]
        prior = min(window)
        if abs(r["reference_price"] - prior) > 0.005:
            out.append(
                ("prior_price_reference", *where[1:], prior, r["reference_price"], r["promo_id"])
            )
        ref = r["reference_price"]
        exact = 100 * (ref - r["promo_price"]) / ref
        if abs(r["announced_pct"] - exact) > 0.1:
            out.append(
                (
                    "prior_price_percentage",
                    *where[1:],
                    round(exact, 1),
                    r["announced_pct"],
                    r["promo_id"],
                )
            )

    for (sku, ch, loc), rows in by_place.items():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if a["promo_id"] == b["promo_id"] or a["stackable"] or b["stackable"]:
                    continue
                if a["start"] < b["end"] and b["start"] < a["end"]:
                    s, e = max(a["start"], b["start"]), min(a["end"], b["end"])
                    ids = "|".join(sorted((a["promo_id"], b["promo_id"])))
                    out.append(
                        ("overlapping_promotions", sku, ch, loc, s, e, 0.0, (e - s) / DAY, ids)
                    )


def check_stock(w: PriceWorld, out: list) -> None:
    by_place = defaultdict(list)
    for r in records(w.stock):
        by_place[(r["sku"], r["location"])].append(r)
    for (sku, loc), rows in by_place.items():
        rows.sort(key=lambda r: r["time"])
        channel = "web" if loc == "online" else "store"
        rules = (
            (
                "stock_shown_unavailable",
                lambda r: r["quantity"] <= 0 and (r["shown_available"] or r["click_collect"]),
                1.0,
                max,
            ),
            ("negative_stock", lambda r: r["quantity"] < 0, 0.0, min),
        )
        for rule, bad, expected, pick in rules:
            run: list[dict] = []
            for r in [*rows, None]:
                if r is not None and bad(r) and (not run or r["time"] == run[-1]["time"] + DAY):
                    run.append(r)
                    continue
                if run:
                    actual = float(pick(x["quantity"] for x in run))
                    out.append(
                        (
                            rule,
                            sku,
                            channel,
                            loc,
                            run[0]["time"],
                            run[-1]["time"] + DAY,
                            expected,
                            actual,
                            None,
                        )
                    )
                run = [r] if r is not None and bad(r) else []


def naive_violations(w: PriceWorld) -> list[tuple]:
    series = price_series(w)
    out: list[tuple] = []
    check_coverage_and_staleness(w, series, out)
    check_price_gaps(series, out)
    check_promotions(w, series, out)
    check_stock(w, out)
    return out


def truth_rows(w: PriceWorld) -> list[tuple]:
    out = []
    for r in records(w.violations):
        detail = r["detail"] if r["rule"] in PROMO_RULES else None
        out.append(
            (
                r["rule"],
                r["sku"],
                r["channel"],
                r["location"],
                r["start"],
                r["end"],
                r["expected"],
                r["actual"],
                detail,
            )
        )
    return out


def assert_same_violations(found: list[tuple], truth: list[tuple]) -> None:
    def key(row):
        return row[:6]

    assert sorted(map(key, found)) == sorted(map(key, truth))
    by_key = {key(r): r for r in truth}
    for row in found:
        expected = by_key[key(row)]
        assert row[6] == pytest.approx(expected[6], abs=1e-6), row
        assert row[7] == pytest.approx(expected[7], abs=1e-6), row
        assert row[8] == expected[8], row


# --------------------------------------------------------------------------- the truth is exact


@pytest.mark.parametrize("seed", [3, 11, 2024])
def test_naive_checker_finds_exactly_the_injected_truth(seed):
    w = world(seed)
    truth = truth_rows(w)
    assert {row[0] for row in truth} == set(RULES)
    assert_same_violations(naive_violations(w), truth)


def test_each_rule_has_about_fault_rate_faulty_skus():
    w = world(5, n_skus=100, fault_rate=0.04)
    skus = defaultdict(set)
    for r in records(w.violations):
        skus[r["rule"]].add(r["sku"])
    assert {rule: len(s) for rule, s in skus.items()} == dict.fromkeys(RULES, 4)
    all_skus = [sku for s in skus.values() for sku in s]
    assert len(all_skus) == len(set(all_skus))  # one fault per sku


def test_a_clean_world_has_no_violation_at_all():
    w = world(8, n_skus=80, fault_rate=0.0)
    assert len(w.violations) == 0
    assert w.violations.columns == (
        "rule",
        "sku",
        "channel",
        "location",
        "start",
        "end",
        "expected",
        "actual",
        "detail",
    )
    assert naive_violations(w) == []


# --------------------------------------------------------------------------- baseline semantics


def test_series_intervals_do_not_overlap_and_only_the_last_is_open():
    w = world(4)
    for rows in price_series(w).values():
        for a, b in itertools.pairwise(rows):
            assert a["valid_to"] is not None
            assert a["valid_to"] <= b["valid_from"]
            assert a["valid_from"] < a["valid_to"]
        assert rows[-1]["valid_to"] is None


def test_group_changes_prices_together_and_marketplace_and_loyalty_follow():
    w = world(6, fault_rate=0.0)
    series = price_series(w)
    for (sku, ch, _loc, aud), rows in series.items():
        web = series[(sku, "web", "online", "public")]
        if ch in SAME_PRICE_GROUP and aud == "public":
            assert [(r["valid_from"], r["price"]) for r in rows] == [
                (r["valid_from"], r["price"]) for r in web
            ]
        else:
            for r in rows:
                regular = regular_at(web, r["valid_from"])
                ratio = r["price"] / regular
                if ch == "marketplace":
                    assert 1.03 - 0.01 / regular <= ratio <= 1.12 + 0.01 / regular
                else:
                    assert (ch, aud) == ("store", "loyalty")
                    assert r["price"] < regular


def test_reference_prices_are_the_30_day_minimum_including_earlier_promotions():
    w = world(9, n_skus=120, fault_rate=0.0)
    promos = records(w.promotions)
    regular_of = {}
    series = price_series(w)
    for r in promos:
        rows = series[(r["sku"], r["channel"], r["location"], "public")]
        regular_of[id(r)] = regular_at(rows, r["start"])
    below = [r for r in promos if r["reference_price"] < regular_of[id(r)] - 0.005]
    assert below, "no promotion whose prior price comes from an earlier promotion"
    assert all(r["promo_price"] < regular_of[id(r)] for r in promos)


def test_recent_skus_take_the_lowest_price_since_launch():
    w = world(12, n_skus=150, fault_rate=0.0)
    launched = {r["sku"]: r["launched"] for r in records(w.catalog)}
    promos = records(w.promotions)
    first_start = defaultdict(lambda: AS_OF)
    for r in promos:
        first_start[r["promo_id"]] = min(first_start[r["promo_id"]], r["start"])
    recent = [r for r in promos if first_start[r["promo_id"]] - launched[r["sku"]] < 30 * DAY]
    assert recent
    series = price_series(w)
    for r in recent:
        rows = series[(r["sku"], r["channel"], r["location"], "public")]
        assert rows[0]["valid_from"] == launched[r["sku"]] > T0
        first = first_start[r["promo_id"]]
        since_launch = [x["price"] for x in rows if x["valid_from"] < first]
        assert r["reference_price"] == pytest.approx(min(since_launch))


def test_progressive_promotion_steps_keep_the_reference_of_the_first_step():
    w = world(1, n_skus=150, fault_rate=0.0)
    series = price_series(w)
    steps = defaultdict(list)
    for r in records(w.promotions):
        steps[(r["sku"], r["channel"], r["location"], r["promo_id"])].append(r)
    progressive = {k: sorted(v, key=lambda r: r["start"]) for k, v in steps.items() if len(v) > 1}
    assert progressive

    def lowest_before(rows, t):
        return min(x["price"] for x in rows if x["valid_from"] < t and end_of(x) > t - 30 * DAY)

    step_alone_differs = 0
    for (sku, ch, loc, _pid), rows in progressive.items():
        public = series[(sku, ch, loc, "public")]
        first = lowest_before(public, rows[0]["start"])
        assert [r["reference_price"] for r in rows] == pytest.approx([first] * len(rows))
        assert [r["end"] for r in rows[:-1]] == [r["start"] for r in rows[1:]]
        assert all(a["promo_price"] > b["promo_price"] for a, b in itertools.pairwise(rows))
        # each later step taken alone would see the previous step's price in its 30 days
        step_alone_differs += lowest_before(public, rows[1]["start"]) < first - 0.005
    assert step_alone_differs > 0


def test_loyalty_prices_stay_out_of_the_prior_price():
    w = world(2, n_skus=200, fault_rate=0.0)
    series = price_series(w)

    def window(rows, t):
        return [x["price"] for x in rows if x["valid_from"] < t and end_of(x) > t - 30 * DAY]

    promos = records(w.promotions)
    first_start = defaultdict(lambda: AS_OF)
    for r in promos:
        first_start[r["promo_id"]] = min(first_start[r["promo_id"]], r["start"])
    loyalty_would_lower = 0
    for r in promos:
        loyalty = series.get((r["sku"], "store", r["location"], "loyalty"))
        if not loyalty:
            continue
        public = series[(r["sku"], "store", r["location"], "public")]
        first = first_start[r["promo_id"]]
        public_only = min(window(public, first))
        assert r["reference_price"] == pytest.approx(public_only)
        loyalty_would_lower += min(window(loyalty, first)) < public_only - 0.005
    assert loyalty_would_lower > 0


def prior_and_highest(w: PriceWorld) -> list[tuple[dict, float, float]]:
    """Each promotions row with its 30-day prior price (at its promotion's first start) and
    the highest price its series charged while it ran."""
    series = price_series(w)
    promos = records(w.promotions)
    first_start = defaultdict(lambda: AS_OF)
    for r in promos:
        k = (r["sku"], r["channel"], r["location"], r["promo_id"])
        first_start[k] = min(first_start[k], r["start"])
    out = []
    for r in promos:
        rows = series[(r["sku"], r["channel"], r["location"], "public")]
        first = first_start[(r["sku"], r["channel"], r["location"], r["promo_id"])]
        prior = min(
            x["price"] for x in rows if x["valid_from"] < first and end_of(x) > first - 30 * DAY
        )
        during = [x["price"] for x in rows if x["valid_from"] < r["end"] and end_of(x) > r["start"]]
        out.append((r, prior, max(during)))
    return out


@pytest.mark.parametrize("seed", [1, 9])
def test_every_promotion_of_a_clean_world_is_below_its_prior_price(seed):
    """No reduction is priced at or above the lowest price of the 30 days before it, even
    right after an earlier, deeper promotion."""
    w = world(seed, n_skus=200, fault_rate=0.0)
    rows = prior_and_highest(w)
    assert all(r["promo_price"] < prior - 0.005 for r, prior, _ in rows)


def test_only_faulty_skus_have_promotions_not_below_their_prior_price():
    w = world(3, n_skus=200, fault_rate=0.05)
    faulty = {r["sku"] for r in records(w.violations)}
    not_below = {
        r["sku"] for r, prior, _ in prior_and_highest(w) if r["promo_price"] >= prior - 0.005
    }
    assert not_below and not_below <= faulty


@pytest.mark.parametrize("seed", [3, 11])
def test_every_promotion_is_applied_in_its_series(seed):
    """Including the second promotion of an overlap: the series never charges more than the
    announced promotional price while the promotion runs."""
    w = world(seed, n_skus=200, fault_rate=0.05)
    rows = prior_and_highest(w)
    assert all(highest <= r["promo_price"] + 0.005 for r, _, highest in rows)
    overlaps = {r["detail"] for r in records(w.violations) if r["rule"] == "overlapping_promotions"}
    second = {ids.split("|")[1] for ids in overlaps}
    assert second and second <= {r["promo_id"] for r, _, _ in rows}


def test_stock_of_a_clean_world_is_shown_exactly_when_positive():
    w = world(3, n_skus=40, fault_rate=0.0)
    qty = w.stock["quantity"]
    assert (qty >= 0).all()
    assert np.array_equal(w.stock["shown_available"], qty > 0)
    assert not (w.stock["click_collect"] & (qty <= 0)).any()
    assert not w.stock["click_collect"][w.stock["location"] == "online"].any()
    assert (qty == 0).any()


# --------------------------------------------------------------------------- interface


def test_tables_have_the_documented_columns_and_kinds():
    w = world(7, n_skus=30)
    assert w.catalog.kinds == {
        "sku": "category",
        "category": "category",
        "base_price": "float",
        "perishable": "bool",
        "launched": "time",
    }
    assert w.prices.kinds == {
        "sku": "category",
        "channel": "category",
        "location": "category",
        "price": "float",
        "currency": "category",
        "valid_from": "time",
        "valid_to": "time",
        "audience": "category",
        "price_type": "category",
        "confirmed": "time",
    }
    assert w.promotions.kinds == {
        "promo_id": "category",
        "sku": "category",
        "channel": "category",
        "location": "category",
        "mechanic": "category",
        "discount": "float",
        "promo_price": "float",
        "start": "time",
        "end": "time",
        "reference_price": "float",
        "announced_pct": "float",
        "stackable": "bool",
    }
    assert w.stock.kinds == {
        "sku": "category",
        "location": "category",
        "time": "time",
        "quantity": "int",
        "shown_available": "bool",
        "click_collect": "bool",
    }
    assert set(w.prices["channel"]) == set(PRICE_CHANNELS)
    assert w.prices.labels("location").tolist() == ["S01", "S02", "S03", "S04", "S05", "online"]
    assert set(w.prices["currency"]) == {"EUR"}
    assert set(w.prices["audience"]) == {"public", "loyalty"}
    assert set(w.prices["price_type"]) == {"regular", "promotional"}
    assert set(w.promotions["mechanic"]) <= {"percentage", "amount_off", "fixed_price"}
    assert set(w.promotions["channel"]) == set(SAME_PRICE_GROUP)
    online = w.prices["location"] == "online"
    assert set(w.prices["channel"][online]) == {"web", "app", "call_centre", "marketplace"}
    for t in (w.prices, w.promotions, w.stock, w.catalog, w.violations):
        for name, kind in t.kinds.items():
            if kind == "time":
                assert t.raw(name).dtype == np.dtype("datetime64[us]")
    assert not w.promotions["stackable"].any()
    for values in (w.prices["price"], w.promotions["promo_price"], w.catalog["base_price"]):
        assert np.array_equal(values, np.round(values, 2))
        assert (values > 0).all()
    assert not np.isnan(w.promotions["reference_price"]).any()


def test_the_same_seed_gives_identical_tables():
    a, b, c = world(10, n_skus=40), world(10, n_skus=40), world(13, n_skus=40)
    for name in ("catalog", "prices", "promotions", "stock", "violations"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert not a.prices.equals(c.prices)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_skus": 0}, "n_skus"),
        ({"days": 30}, "days"),
        ({"n_stores": 0}, "n_stores"),
        ({"fault_rate": 0.5}, "fault_rate"),
        ({"fault_rate": -0.1}, "fault_rate"),
        ({"rng": 3}, "Generator"),
    ],
)
def test_bad_parameters_raise_config_error(kwargs, match):
    args = {"n_skus": 10, "rng": np.random.default_rng(0), "start": START, **kwargs}
    n_skus, rng = args.pop("n_skus"), args.pop("rng")
    with pytest.raises(ConfigError, match=match):
        make_prices(n_skus, rng, **args)


def test_other_store_counts_and_periods():
    w = make_prices(25, np.random.default_rng(4), start=START, days=120, n_stores=1, fault_rate=0.1)
    assert w.prices.labels("location").tolist() == ["S01", "online"]
    assert len(w.stock) == sum(
        (120 - max(0, (lau - T0) // DAY)) * 2 for lau in w.catalog["launched"].astype(np.int64)
    )


# ----------------------------------------------------------------------------- near tolerances


@pytest.fixture(scope="module")
def near_world():
    return make_prices(
        300, np.random.default_rng(11), start=START, days=DAYS, fault_rate=0.06, near=True
    )


def test_near_faults_fall_on_both_sides_of_the_default_policy(near_world):
    """The world states the retailer's tolerances; the library's defaults are read here: every
    injected violation is a finding of the default policy, no near miss is."""
    w = near_world
    as_of = START + np.timedelta64(DAYS, "D")
    found = oj.pricing.audit(
        w.prices, w.promotions, w.stock, catalog=w.catalog, start=START, as_of=as_of
    ).findings

    def keys(t):
        return set(
            zip(t["rule"].tolist(), t["sku"].tolist(), t["channel"].tolist(), t["location"].tolist(),
                t["start"].tolist(), t["end"].tolist())
        )  # fmt: skip

    assert keys(found) == keys(w.violations)
    near = w.near_misses
    assert {"price_gap", "stale_price"} == set(near["rule"].tolist())
    where = {k[:4] for k in keys(found)}
    assert not {k[:4] for k in keys(near)} & where
    policy = oj.pricing.Policy()
    # price gaps: within a cent of the default tolerance, on each side
    for table, inside in ((w.violations, False), (near, True)):
        gap = table[table["rule"] == "price_gap"]
        diff = np.abs(gap["actual"] - gap["expected"])
        limit = policy.tolerance.limit(gap["expected"])
        small = diff <= limit + 0.011
        if inside:
            assert (diff <= limit + 1e-9).all() and (limit - diff < 0.011).all()
        else:
            assert (diff > limit).all() and small.any()
    # confirmations: at most an hour from the store limit, some exactly at it
    store_limit = dict(policy.stale_after)["store"] / np.timedelta64(1, "D")
    stale = near[near["rule"] == "stale_price"]
    age = stale["actual"]
    assert (age <= store_limit).all() and (store_limit - age <= 1 / 24 + 1e-12).all()
    late = w.violations[w.violations["rule"] == "stale_price"]
    just = late["actual"] - late["expected"]
    assert ((just > 0) & (just <= 1 / 24 + 1e-12)).any()


def test_a_confirmation_exactly_at_the_limit_is_in_time():
    exact = 0
    for seed in range(6):
        w = make_prices(200, np.random.default_rng(seed), start=START, fault_rate=0.06, near=True)
        n = w.near_misses
        exact += int((n["actual"][n["rule"] == "stale_price"] == 7.0).sum())
    assert exact > 0


def test_store_prices_sent_twice_overlap_with_the_same_price(near_world):
    v = near_world.violations
    twice = v[v["rule"] == "overlapping_prices"]
    assert len(twice) > 0
    assert (twice["expected"] == twice["actual"]).all()
    assert set(twice["channel"].tolist()) == {"store"}
    p = near_world.prices
    for sku, loc, s in zip(
        twice["sku"].tolist(), twice["location"].tolist(), twice["start"].tolist()
    ):
        rows = (p["sku"] == sku) & (p["location"] == loc) & (p["audience"] == "public")
        frm, to = p["valid_from"][rows], p.raw("valid_to")[rows]
        s = np.datetime64(s, "us")
        covering = (frm < s) & ((to > s) | np.isnat(to))
        assert covering.sum() == 1 and (frm == s).sum() == 1


def test_without_near_faults_the_world_is_unchanged():
    a = make_prices(50, np.random.default_rng(3), start=START)
    b = make_prices(50, np.random.default_rng(3), start=START, near=False)
    assert a.prices.equals(b.prices) and len(a.near_misses) == 0


def test_a_flyer_promotion_the_shelf_does_not_apply_is_found_on_request(near_world):
    w = near_world
    flyer = w.opt_in_violations
    assert set(flyer["rule"].tolist()) == {"promo_not_applied"} and len(flyer) > 0
    assert set(flyer["channel"].tolist()) == {"store"}
    assert (flyer["expected"] < flyer["actual"]).all()  # the shelf charges more than announced
    as_of = START + np.timedelta64(DAYS, "D")
    policy = oj.pricing.Policy(rules=oj.pricing.DEFAULT_RULES | {"promo_not_applied"})
    found = oj.pricing.audit(
        w.prices, w.promotions, w.stock, catalog=w.catalog, start=START, as_of=as_of,
        policy=policy,
    ).findings  # fmt: skip
    got = found[found["rule"] == "promo_not_applied"]
    key = ("sku", "location", "start", "end", "expected", "actual")
    assert sorted(zip(*(got[k].tolist() for k in (*key, "promotion")))) == sorted(
        zip(*(flyer[k].tolist() for k in (*key, "detail")))
    )
    # the promotion is still announced for that store
    promo = w.promotions
    for sku, loc, pid in zip(flyer["sku"].tolist(), flyer["location"].tolist(), flyer["detail"]):
        assert (
            (promo["sku"] == sku) & (promo["location"] == loc) & (promo["promo_id"] == pid)
        ).any()

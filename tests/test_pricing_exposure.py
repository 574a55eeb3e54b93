"""Exposure: touchpoints carrying an sku joined with findings and with price intervals."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.pricing import Policy, PriceTable, PromotionTable, audit, exposure


@pytest.fixture
def prices():
    """A1: 9.99 on the web, 12.99 on the app and in store S01 (the web is off the median);
    B2: 20.00 everywhere, with a reduction to 15.00 announced "was 25.00" on the web."""
    rows = [
        ("A1", "web", "online", 9.99, "2024-05-01", None, "regular"),
        ("A1", "app", "online", 12.99, "2024-05-01", None, "regular"),
        ("A1", "store", "S01", 12.99, "2024-05-01", None, "regular"),
        ("B2", "web", "online", 20.00, "2024-04-01", "2024-05-10", "regular"),
        ("B2", "web", "online", 15.00, "2024-05-10", "2024-05-20", "promotional"),
        ("B2", "web", "online", 20.00, "2024-05-20", None, "regular"),
        ("B2", "app", "online", 20.00, "2024-04-01", None, "regular"),
        ("B2", "store", "S01", 20.00, "2024-04-01", None, "regular"),
    ]
    keys = ("sku", "channel", "location", "price", "valid_from", "valid_to", "price_type")
    return PriceTable.from_columns({k: [r[i] for r in rows] for i, k in enumerate(keys)})


@pytest.fixture
def result(prices):
    promo = PromotionTable.from_columns(
        {
            "promo_id": ["P1"],
            "sku": ["B2"],
            "channel": ["web"],
            "location": ["online"],
            "promo_price": [15.0],
            "reference_price": [25.0],
            "start": ["2024-05-10"],
            "end": ["2024-05-20"],
            "exclusive": [True],
        }
    )
    policy = Policy(same_price_groups=[["web", "app", "store"]])
    return audit(prices, promo, policy=policy, as_of="2024-06-01")


def touchpoints(rows, extra=("sku", "location", "quantity")):
    keys = ("customer", "time", "channel", "event", "sku", "location", "quantity")
    data = {k: [r[i] if i < len(r) else None for r in rows] for i, k in enumerate(keys)}
    data["quantity"] = [1.0 if q is None else q for q in data["quantity"]]
    return oj.TouchpointTable.from_columns(data, extra=list(extra))


TP = [
    # c1 sees 9.99 on the web, buys two in store at 12.99 three days later
    ("c1", "2024-05-03T10:00", "web", "product_view", "A1"),
    ("c1", "2024-05-06T15:00", "store", "purchase", "A1", "S01", 2),
    # c2 looks at the app and buys on the app: same price, no mismatch
    ("c2", "2024-05-03T10:00", "app", "product_view", "A1"),
    ("c2", "2024-05-03T10:05", "app", "purchase", "A1"),
    # c3 saw the web price too long before buying in store
    ("c3", "2024-05-01T09:00", "web", "product_view", "A1"),
    ("c3", "2024-05-20T09:00", "store", "purchase", "A1", "S01"),
    # c4 buys B2 on the web during the non-compliant reduction, c5 only looks
    ("c4", "2024-05-12T20:00", "web", "purchase", "B2", None, 3),
    ("c5", "2024-05-11T08:00", "web", "product_view", "B2"),
    ("c5", "2024-05-11T08:01", "email", "email_open"),
]


def test_price_seen_on_one_channel_and_paid_on_another(result, prices):
    exp = exposure(result, touchpoints(TP), prices)
    m = exp.mismatches
    assert m["customer"].tolist() == ["c1"]
    assert (m["seen_channel"][0], m["paid_channel"][0]) == ("web", "store")
    assert (m["seen_price"][0], m["paid_price"][0], m["quantity"][0]) == (9.99, 12.99, 2.0)
    assert m["difference"][0] == pytest.approx(6.0)
    assert m["seen_row"].tolist() == [0] and m["paid_row"].tolist() == [1]
    back = oj.from_json(oj.to_json(exp), oj.pricing.Exposure)
    assert back == exp and back.mismatches.equals(m) and back.exposed.equals(exp.exposed)
    wider = exposure(result, touchpoints(TP), prices, window="30D")
    assert wider.mismatches["customer"].tolist() == ["c1", "c3"]


def test_customers_exposed_to_a_non_compliant_reduction(result, prices):
    exp = exposure(result, touchpoints(TP), prices)
    ref = exp.exposed[exp.exposed["rule"] == "prior_price_reference"]
    assert ref["customer"].tolist() == ["c4", "c5"]
    assert ref["purchase"].tolist() == [True, False]
    # 3 units bought with a reference 25.00 shown where the prior price was 20.00
    assert ref["at_stake"].tolist() == [pytest.approx(15.0), 0.0]
    assert exp.customers("prior_price_reference").tolist() == ["c4", "c5"]
    summary = exp.summary_table()
    row = summary["rule"].tolist().index("prior_price_reference")
    assert summary["customers"][row] == 2 and summary["purchases"][row] == 1
    assert summary["money_at_stake"][row] == pytest.approx(15.0)
    last = summary["rule"].tolist().index("price_mismatch")
    assert summary["money_at_stake"][last] == pytest.approx(6.0)


def test_findings_match_touchpoints_by_sku_channel_location_and_time(result, prices):
    exp = exposure(result, touchpoints(TP), prices)
    gap = exp.exposed[exp.exposed["rule"] == "price_gap"]
    # web views of A1 while the web was off the median (from 2024-05-01)
    assert sorted(gap["customer"].tolist()) == ["c1", "c3"]
    assert set(gap["channel"].tolist()) == {"web"}
    # a store touchpoint at another store matches no finding at S01
    other = [("c9", "2024-05-12T10:00", "store", "purchase", "B2", "S02")]
    assert len(exposure(result, touchpoints(other), prices).exposed) == 0


def test_touchpoint_prices_override_the_price_intervals(result, prices):
    rows = [
        ("c1", "2024-05-03T10:00", "web", "product_view", "A1", None, 1, 9.99),
        ("c1", "2024-05-04T10:00", "store", "purchase", "A1", "S01", 1, 9.99),  # matched in store
    ]
    keys = ("customer", "time", "channel", "event", "sku", "location", "quantity", "price")
    data = {k: [r[i] for r in rows] for i, k in enumerate(keys)}
    tp = oj.TouchpointTable.from_columns(data, extra=["sku", "location", "quantity", "price"])
    assert len(exposure(result, tp, prices).mismatches) == 0
    assert len(exposure(result, tp).mismatches) == 0  # no intervals needed with prices


def test_journeys_carry_their_ids_and_can_restrict_pairs(result, prices):
    tp = touchpoints(TP)
    journeys = oj.sessionize(tp, oj.JourneyRules(journey_timeout="1D"))
    exp = exposure(result, journeys, prices)
    assert (exp.exposed["journey_id"] >= 0).all()
    # c1 viewed and bought in two journeys (more than a day apart): no same-journey pair
    assert len(exp.mismatches) == 0
    same = exposure(result, oj.sessionize(tp), prices)
    assert same.mismatches["customer"].tolist() == ["c1"]


def test_touchpoints_need_an_sku_column(result):
    tp = oj.TouchpointTable.from_columns(
        {"customer": ["c1"], "time": ["2024-05-01"], "channel": ["web"], "event": ["purchase"]}
    )
    with pytest.raises(oj.SchemaError, match="'sku' column"):
        exposure(result, tp)
    with pytest.raises(oj.ConfigError, match="TouchpointTable or a JourneyTable"):
        exposure(result, {"customer": ["c1"]})


def test_a_difference_of_exactly_the_tolerance_is_allowed():
    """|100.01 - 100.00| is 0.0100000000000051 in floating point: still one cent."""
    prices = PriceTable.from_columns(
        {
            "sku": ["A1", "A1", "B2", "B2", "C3", "C3"],
            "channel": ["web", "store"] * 3,
            "price": [100.0, 100.01, 0.02, 0.03, 100.0, 100.02],
            "valid_from": ["2024-05-01"] * 6,
        }
    )
    result = audit(prices, as_of="2024-06-01")
    rows = []
    for i, sku in enumerate(["A1", "B2", "C3"]):
        rows.append((f"c{i}", "2024-05-03T10:00", "web", "product_view", sku))
        rows.append((f"c{i}", "2024-05-04T10:00", "store", "purchase", sku))
    m = exposure(result, touchpoints(rows, extra=("sku",)), prices).mismatches
    assert m["sku"].tolist() == ["C3"]
    assert m["difference"][0] == pytest.approx(0.02)


def truth_keys(table, *names):
    return sorted(zip(*(table[n].tolist() for n in names)))


@pytest.mark.parametrize(("n", "seed"), [(2_000, 7), (5_000, 3)])
def test_exposure_finds_exactly_the_synthetic_worlds_exposures(n, seed):
    """The world's touchpoints carry sku, location, price and quantity; the default window
    recovers its truth: every (touchpoint, violation) and every purchase paid at another
    price than the one seen on another channel, and nothing else."""
    world = oj.synth.generate(n, seed=seed, records=False)
    w = world.prices
    result = audit(
        w.prices,
        w.promotions,
        w.stock,
        catalog=w.catalog,
        start=world.start,
        as_of=world.start + np.timedelta64(world.days, "D"),
    )
    exp = exposure(result, world.touchpoints)
    truth = world.truth
    names = ("customer", "sku", "seen_channel", "paid_channel", "seen_row", "paid_row")
    assert truth_keys(exp.mismatches, *names) == truth_keys(truth.price_mismatches, *names)
    for col in ("seen_price", "paid_price", "quantity", "difference"):
        assert np.allclose(exp.mismatches[col], truth.price_mismatches[col]), col
    assert truth.price_mismatches["injected"].any()

    f = result.findings
    found = exp.exposed.with_column("start", f["start"][exp.exposed["finding"]])
    names = ("row", "rule", "sku", "channel", "location", "start")
    assert truth_keys(found, *names) == truth_keys(truth.exposures, *names)
    assert set(truth.exposures["rule"]) <= oj.pricing.EXPOSURE_RULES

    # an injected purchase during a misleading reduction: the overstated saving per unit
    # (announced reference minus true prior price) times the units bought is at stake
    e = exp.exposed
    bought = e[(e["rule"] == "prior_price_reference") & e["purchase"]]
    x = truth.exposures
    injected = x[x["injected"] & x["purchase"] & (x["rule"] == "prior_price_reference")]
    assert set(injected["row"]) <= set(bought["row"]) and len(injected) > 0
    stake = (f["actual"] - f["expected"])[bought["finding"]] * bought["quantity"]
    assert np.allclose(bought["at_stake"], stake) and (bought["at_stake"] > 0).all()

    # journeys (same-journey pairs only) give the same pairs: views and purchases of an
    # episode are in one journey with the default rules
    by_journey = exposure(result, oj.sessionize(world.touchpoints))
    assert by_journey.mismatches["paid_row"].tolist() == exp.mismatches["paid_row"].tolist()


def test_purchase_events_is_the_deprecated_name_of_conversion_events(result, prices):
    new = exposure(result, touchpoints(TP), prices, conversion_events=["purchase"])
    with pytest.warns(DeprecationWarning, match="'purchase_events' parameter is deprecated"):
        old = exposure(result, touchpoints(TP), prices, purchase_events=["purchase"])
    assert old.exposed.equals(new.exposed)
    with pytest.raises(TypeError, match="got both"):
        exposure(result, touchpoints(TP), prices, purchase_events="x", conversion_events="x")

"""Synthetic touchpoints linked to the price world: skus, locations, prices, quantities, values.

Prices are checked against a plain lookup in the price intervals, written from the documented
conventions of ``omnijourney.synth.prices._products``; the exposure truth against
``oj.pricing.exposure`` in tests/test_pricing_exposure.py.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.synth.prices import RULES

PRODUCT_COLUMNS = ("sku", "location", "price", "quantity")


@pytest.fixture(scope="module")
def world():
    return oj.synth.generate(1_500, seed=2, records=False)


def public_intervals(w) -> dict[tuple, list[tuple[int, float]]]:
    """(sku, channel, location) -> [(valid_from in us, price)] sorted, public prices only."""
    p = w.prices.prices
    out = defaultdict(list)
    rows = zip(
        p["sku"].tolist(),
        p["channel"].tolist(),
        p["location"].tolist(),
        p["audience"].tolist(),
        p["valid_from"].astype(np.int64).tolist(),
        p["price"].tolist(),
    )
    for sku, ch, loc, aud, frm, price in rows:
        if aud == "public":
            out[(sku, ch, loc)].append((frm, price))
    for v in out.values():
        v.sort()
    return out


def price_there_and_then(series, sku, channel, location, t) -> float:
    """The latest interval of the series starting at or before ``t``."""
    found = None
    for frm, price in series[(sku, channel, location)]:
        if frm <= t:
            found = price
    return found


def test_product_touchpoints_carry_the_sku_of_their_journey(world):
    tp = world.touchpoints
    assert set(PRODUCT_COLUMNS) <= set(tp.columns)
    assert tp.kinds["sku"] == "category" and tp.kinds["location"] == "category"
    event, sku = tp["event"], tp["sku"]
    products = ("add_to_cart", "order", "pickup", "product_view", "purchase", "quote_request")
    products += ("quote_signed", "reservation")
    has = tp.raw("sku") >= 0
    assert has[np.isin(event, products)].all()
    assert not has[~np.isin(event, (*products, "store_visit"))].any()
    assert set(sku[has]) <= set(world.prices.catalog["sku"])
    journey = world.truth.journey_id
    skus_per_journey = defaultdict(set)
    for j, s in zip(journey[has].tolist(), sku[has].tolist()):
        skus_per_journey[j].add(s)
    assert max(len(s) for s in skus_per_journey.values()) == 1


def test_no_sku_is_seen_before_its_launch(world):
    tp = world.touchpoints
    launched = dict(zip(world.prices.catalog["sku"], world.prices.catalog["launched"]))
    has = np.flatnonzero(tp.raw("sku") >= 0)
    first_seen = {}
    for s, t in zip(tp["sku"][has].tolist(), tp["time"][has].tolist()):
        first_seen[s] = min(first_seen.get(s, t), t)
    assert all(launched[s] <= t for s, t in first_seen.items())


def test_locations_are_the_price_world_stores_or_online(world):
    tp = world.touchpoints
    locations = world.prices.prices.labels("location").tolist()
    assert tp.labels("store").tolist() == [x for x in locations if x != "online"]
    assert tp.labels("location").tolist() == locations
    channel = tp["channel"]
    store = channel == "store"
    assert np.array_equal(tp["location"][store], tp["store"][store])
    online = np.isin(channel, ["web", "app", "call_centre"])
    assert set(tp["location"][online]) == {"online"}
    assert (tp.raw("location")[~store & ~online] < 0).all()


def test_prices_are_the_public_prices_there_and_then(world):
    tp = world.touchpoints
    series = public_intervals(world)
    has = np.flatnonzero(tp.raw("sku") >= 0)
    rows = np.random.default_rng(0).choice(has, 400, replace=False)
    event, quote_id = tp["event"], tp["quote_id"]
    requests = np.flatnonzero(event == "quote_request")
    request_of = dict(zip(quote_id[requests].tolist(), requests.tolist()))
    for i in rows.tolist():
        # a signed quote keeps the price of its request
        seen_at = request_of[quote_id[i]] if event[i] == "quote_signed" else i
        t = int(tp["time"][seen_at].astype(np.int64))
        expected = price_there_and_then(
            series, tp["sku"][i], tp["channel"][seen_at], tp["location"][seen_at], t
        )
        assert tp["price"][i] == expected, i
    assert not np.isnan(tp["price"][has]).any()
    assert np.isnan(tp["price"][tp.raw("sku") < 0]).all()


def test_values_are_prices_times_quantities(world):
    tp = world.touchpoints
    value, price, quantity = tp["value"], tp["price"], tp["quantity"]
    priced = ~np.isnan(value)
    assert np.array_equal(priced, ~np.isnan(quantity))
    assert np.array_equal(value[priced], np.round(price[priced] * quantity[priced], 2))
    q = quantity[priced]
    assert (q == np.round(q)).all() and q.min() >= 1 and q.max() <= 99
    assert set(tp["event"][priced]) == {
        "add_to_cart", "order", "purchase", "quote_request", "quote_signed", "reservation"
    }  # fmt: skip
    assert set(tp["currency"][priced]) == {"EUR"}
    # one quantity per episode: the cart, the order and the purchase share it
    for ref in ("cart_id", "quote_id"):
        has = np.flatnonzero(priced & (tp.raw(ref) >= 0))
        by_ref = defaultdict(set)
        for r, q_ in zip(tp[ref][has].tolist(), quantity[has].tolist()):
            by_ref[r].add(q_)
        assert max(len(s) for s in by_ref.values()) == 1


def test_adding_prices_leaves_touchpoints_and_journeys_unchanged():
    with_prices = oj.synth.generate(800, seed=5)
    without = oj.synth.generate(800, seed=5, prices=False)
    a, b = with_prices.touchpoints, without.touchpoints
    assert not set(PRODUCT_COLUMNS) & set(b.columns)
    assert a.columns == (*b.columns, *PRODUCT_COLUMNS)
    for name in b.columns:
        if name != "value":
            assert np.array_equal(a.raw(name), b.raw(name)), name
    assert np.array_equal(np.isnan(a["value"]), np.isnan(b["value"]))
    ta, tb = with_prices.truth, without.truth
    assert np.array_equal(ta.journey_id, tb.journey_id)
    assert np.array_equal(ta.visit_id, tb.visit_id)
    for name in ("journeys", "breaks", "followups"):
        assert getattr(ta, name).equals(getattr(tb, name)), name
    assert with_prices.records.equals(without.records)
    assert tb.exposures is None and tb.price_mismatches is None
    assert "products:" in repr(with_prices) and "products:" not in repr(without)


def test_the_same_seed_gives_the_same_products():
    a = oj.synth.generate(600, seed=9, records=False)
    b = oj.synth.generate(600, seed=9, records=False)
    assert a.touchpoints.equals(b.touchpoints)
    assert a.truth.exposures.equals(b.truth.exposures)
    assert a.truth.price_mismatches.equals(b.truth.price_mismatches)


@pytest.mark.parametrize(("n", "stores"), [(500, 3), (9_000, 4), (50_000, 20)])
def test_stores_follow_the_number_of_customers(n, stores):
    from omnijourney.synth._templates import store_count

    assert store_count(n) == stores


def test_price_mismatches_have_their_cause(world):
    m = world.truth.price_mismatches
    assert len(m) > 0
    assert set(m["cause"]) <= {"price_change", *RULES}
    assert (np.abs(m["paid_price"] - m["seen_price"]) > 0.015).all()
    assert np.allclose(m["difference"], (m["paid_price"] - m["seen_price"]) * m["quantity"])
    seen, paid = m["seen_time"].astype(np.int64), m["paid_time"].astype(np.int64)
    assert ((paid - seen >= 0) & (paid - seen <= 7 * 86_400_000_000)).all()
    assert (m["seen_channel"] != m["paid_channel"]).all()
    # a price change: the price seen is what the paid channel charged at the time of the view
    series = public_intervals(world)
    tp = world.touchpoints
    faulty = set(world.prices.violations["sku"])
    change = np.flatnonzero((m["cause"] == "price_change") & ~np.isin(m["sku"], list(faulty)))
    assert change.size
    for i in change.tolist():
        paid_row = int(m["paid_row"][i])
        then = price_there_and_then(
            series, m["sku"][i], tp["channel"][paid_row], tp["location"][paid_row], int(seen[i])
        )
        assert then == m["seen_price"][i]


def test_injected_cases_view_online_and_buy_in_store_during_a_price_gap():
    w = oj.synth.generate(3_000, seed=1, records=False)
    m = w.truth.price_mismatches
    gap = m[m["injected"] & (m["cause"] == "price_gap")]
    assert len(gap) >= 2
    assert set(gap["seen_channel"]) <= {"web", "app"}
    assert set(gap["paid_channel"]) <= {"store", "call_centre"}
    v = w.prices.violations
    faults = v[v["rule"] == "price_gap"]
    assert set(gap["sku"]) <= set(faults["sku"])
    e = w.truth.exposures
    reduction = e[e["injected"] & e["purchase"] & (e["rule"] == "prior_price_reference")]
    assert len(reduction) >= 2
    assert set(reduction["channel"]) <= {"web", "app"}
    # an injected purchase happened on the faulty series while the reduction ran
    for row in range(len(reduction)):
        assert reduction["start"][row] <= reduction["time"][row] < reduction["end"][row]

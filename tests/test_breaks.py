"""Cross-channel breaks and quote conversion: one hand-written example per kind, and the truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import TouchpointTable, sessionize
from omnijourney.journeys import BreakRules, detect_breaks, quote_conversion
from strategies import (
    BREAK_RULES_UNMATCHED,
    JOURNEY_RULES_UNMATCHED,
    assert_same_values,
    order_sensitive_columns,
    two_orders,
)

pytestmark = [JOURNEY_RULES_UNMATCHED, BREAK_RULES_UNMATCHED]

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)


def tp(rows, **extra):
    """rows: (customer, hours after BASE, channel, event, {column: value})."""
    cols = {
        "customer": [r[0] for r in rows],
        "time": [BASE + dt.timedelta(hours=r[1]) for r in rows],
        "channel": [r[2] for r in rows],
        "event": [r[3] for r in rows],
    }
    names = sorted({k for r in rows if len(r) > 4 for k in r[4]})
    for name in names:
        cols[name] = [r[4].get(name) if len(r) > 4 else None for r in rows]
    return TouchpointTable.from_columns(cols, **extra)


def breaks(rows, rules=None):
    b = detect_breaks(sessionize(tp(rows)), rules)
    return list(zip(b["kind"], b["from_row"].tolist(), b["to_row"].tolist()))


def test_quote_started_online_and_signed_in_store():
    rows = [
        ("a", 0, "web", "quote_request", {"quote_id": "Q1"}),
        ("a", 50, "store", "quote_signed", {"quote_id": "Q1"}),
    ]
    assert breaks(rows) == [("quote_channel_switch", 0, 1)]
    same = [
        ("a", 0, "store", "quote_request", {"quote_id": "Q1"}),
        ("a", 50, "store", "quote_signed", {"quote_id": "Q1"}),
    ]
    assert breaks(same) == []


def test_click_and_collect_links_the_order_to_the_pickup():
    rows = [
        ("a", 0, "web", "add_to_cart", {"cart_id": "K1"}),
        ("a", 0.1, "web", "order", {"cart_id": "K1", "order_id": "O1"}),
        ("a", 26, "store", "pickup", {"order_id": "O1"}),
    ]
    b = detect_breaks(sessionize(tp(rows)))
    assert list(b["kind"]) == ["click_and_collect"]
    assert b["from_row"].tolist() == [1] and b["to_row"].tolist() == [2]
    assert b["reference"].tolist() == ["O1"]
    assert b["delay"].tolist() == [pytest.approx(25.9 * 3600)]
    # the order converts, so the pickup is in the next journey
    assert b["from_journey"].tolist() == [0] and b["to_journey"].tolist() == [1]


def test_cart_taken_over_by_the_call_centre():
    rows = [
        ("a", 0, "web", "add_to_cart", {"cart_id": "K1"}),
        ("a", 0.2, "web", "product_view"),
        ("a", 2, "call_centre", "call", {"cart_id": "K1", "direction": "outbound"}),
        ("a", 2.1, "call_centre", "purchase", {"cart_id": "K1"}),
    ]
    assert breaks(rows) == [("cart_recovery", 0, 2)]


def test_research_online_purchase_offline_and_showrooming():
    ropo = [
        ("a", 0, "web", "product_view"),
        ("a", 1, "app", "product_view"),
        ("a", 30, "store", "purchase"),
    ]
    assert breaks(ropo) == [("ropo", 1, 2)]
    show = [("a", 0, "store", "store_visit"), ("a", 5, "web", "purchase")]
    assert breaks(show) == [("showrooming", 0, 1)]
    # a store purchase in a later journey (after a timeout) is not ROPO
    later = [("a", 0, "web", "product_view"), ("a", 24 * 20, "store", "purchase")]
    assert breaks(later) == []


def test_a_reference_id_makes_it_click_and_collect_not_ropo():
    rows = [
        ("a", 0, "web", "reservation", {"reservation_id": "R1"}),
        ("a", 20, "store", "purchase", {"reservation_id": "R1"}),
    ]
    assert breaks(rows) == [("click_and_collect", 0, 1)]


def test_contact_after_an_online_failure_within_the_window():
    rows = [
        ("a", 0, "web", "payment_failed"),
        ("a", 0.5, "web", "product_view"),
        ("a", 3, "call_centre", "call"),
    ]
    assert breaks(rows) == [("contact_after_failure", 0, 2)]
    late = [("a", 0, "web", "payment_failed"), ("a", 30, "call_centre", "call")]
    assert breaks(late) == []
    assert breaks(late, BreakRules(contact_window="2D")) == [("contact_after_failure", 0, 1)]
    outbound = [
        ("a", 0, "web", "payment_failed"),
        ("a", 1, "call_centre", "call", {"direction": "outbound"}),
    ]
    assert breaks(outbound) == []


def test_information_entered_twice_on_two_channels():
    rows = [
        ("a", 0, "web", "form_submitted"),
        ("a", 1, "web", "form_submitted"),
        ("a", 48, "store", "form_submitted"),
        ("a", 49, "store", "form_submitted"),
    ]
    assert breaks(rows) == [("information_reentered", 1, 2)]


def test_no_breaks_on_empty_or_single_channel_data():
    empty = TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    b = detect_breaks(sessionize(empty))
    assert len(b) == 0 and b.counts() == {} and len(b.summary()) == 0
    assert breaks([("a", 0, "web", "product_view"), ("a", 1, "web", "purchase")]) == []


def test_summary_per_kind_and_channel_pair():
    rows = [
        ("a", 0, "web", "product_view"),
        ("a", 30, "store", "purchase"),
        ("b", 0, "app", "product_view"),
        ("b", 10, "store", "purchase"),
        ("c", 0, "web", "product_view"),
        ("c", 20, "store", "purchase"),
    ]
    s = detect_breaks(sessionize(tp(rows))).summary()
    assert s["kind"].tolist() == ["ropo", "ropo"]
    assert s["from_channel"].tolist() == ["web", "app"]
    assert s["breaks"].tolist() == [2, 1]
    assert s["median_delay_h"].tolist() == [25.0, 10.0]


def test_quote_conversion_per_channel_and_store():
    rows = [
        ("a", 0, "web", "quote_request", {"quote_id": "Q1"}),
        ("a", 48, "store", "quote_signed", {"quote_id": "Q1", "store": "S1"}),
        ("b", 0, "store", "quote_request", {"quote_id": "Q2", "store": "S1"}),
        ("c", 0, "store", "quote_request", {"quote_id": "Q3", "store": "S2"}),
        ("c", 24, "store", "quote_signed", {"quote_id": "Q3", "store": "S2"}),
    ]
    jt = sessionize(tp(rows, extra=["store"]))
    q = quote_conversion(jt)
    assert q["channel"].tolist() == ["store", "web"]
    assert q["quotes"].tolist() == [2, 1] and q["signed"].tolist() == [1, 1]
    assert q["rate"].tolist() == [0.5, 1.0] and q["signed_elsewhere"].tolist() == [0, 1]
    assert q["median_days_to_sign"].tolist() == [1.0, 2.0]
    by_store = quote_conversion(jt, by="store")
    assert by_store["store"].tolist() == ["S1", "S2", None]
    assert by_store["rate"].tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(oj.SchemaError, match="no column 'team'"):
        quote_conversion(jt, by="team")


@pytest.mark.parametrize("seed", [0, 4])
def test_finds_every_true_break_of_the_synthetic_world_and_nothing_else(seed):
    world = oj.synth.generate(1500, seed=seed, records=False, prices=False)
    found = detect_breaks(sessionize(world.touchpoints))
    truth = world.truth.breaks
    got = set(zip(found["kind"], found["from_row"].tolist(), found["to_row"].tolist()))
    want = set(zip(truth["kind"], truth["from_row"].tolist(), truth["to_row"].tolist()))
    assert got == want
    assert len(set(found["kind"])) == 7
    assert np.allclose(np.sort(found["delay"]), np.sort(truth["delay"]))


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1), st.data())
def test_break_summaries_are_the_same_bits_in_any_row_order(cols, seed, data):
    n = len(cols["customer"])
    refs = st.sampled_from([None, "Q1", "Q2"])
    cols = {**cols, "quote_id": [data.draw(refs) for _ in range(n)]}
    a, b = (sessionize(t) for t in two_orders(cols, seed))
    assert_same_values(detect_breaks(a).summary(), detect_breaks(b).summary())
    assert_same_values(quote_conversion(a), quote_conversion(b))

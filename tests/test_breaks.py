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


def test_research_counts_within_its_own_window_across_journeys():
    # a cart 20 days before: another journey (14-day timeout), within the 30-day window
    later = [("a", 0, "web", "add_to_cart"), ("a", 24 * 20, "store", "purchase")]
    b = detect_breaks(sessionize(tp(later)))
    assert list(zip(b["kind"], b["linked_by"])) == [("ropo", "window")]
    assert b["from_journey"].tolist() == [0] and b["to_journey"].tolist() == [1]
    assert breaks(later, BreakRules(research_window=None)) == []
    assert breaks(later, BreakRules(research_window="14D")) == []
    too_late = [("a", 0, "web", "add_to_cart"), ("a", 24 * 31, "store", "purchase")]
    assert breaks(too_late) == []
    # a product view counts within the purchase's journey only: it says little weeks later
    viewed = [("a", 0, "web", "product_view"), ("a", 24 * 20, "store", "purchase")]
    assert breaks(viewed) == []
    assert breaks(viewed, BreakRules(intent_events=["product_view"])) == [("ropo", 0, 1)]
    viewed[0] = ("a", 24 * 10, "web", "product_view")
    assert breaks(viewed) == [("ropo", 0, 1)]
    # an online purchase in between closes the research: it was for that purchase
    bought = [
        ("a", 0, "web", "product_view"),
        ("a", 24, "web", "purchase"),
        ("a", 24 * 5, "store", "purchase"),
    ]
    assert breaks(bought) == []
    # a sign-up or a form online is not research
    signup = [("a", 0, "web", "signup"), ("a", 5, "store", "purchase")]
    assert breaks(signup) == []
    assert breaks(signup, BreakRules(research_events=["signup"])) == [("ropo", 0, 1)]


def test_a_reservation_or_a_quote_without_its_id_is_not_a_ropo():
    # the till lost the reservation id: still a click & collect, found by its steps
    reserved = [
        ("a", 0, "web", "product_view"),
        ("a", 1, "web", "reservation", {"reservation_id": "R1"}),
        ("a", 20, "store", "purchase", {"order_id": "O9"}),
    ]
    b = detect_breaks(sessionize(tp(reserved)))
    assert list(zip(b["kind"], b["from_row"].tolist(), b["linked_by"])) == [
        ("click_and_collect", 1, "journey")
    ]
    quoted = [("a", 0, "store", "quote_request"), ("a", 30, "web", "quote_signed")]
    assert breaks(quoted) == [("quote_channel_switch", 0, 1)]
    assert breaks(quoted, BreakRules(implied_kinds={})) == [("showrooming", 0, 1)]
    with pytest.raises(oj.ConfigError, match="implied_kinds"):
        BreakRules(implied_kinds={"reservation": "ropo"})


def test_a_web_cart_bought_in_store_is_a_ropo_linked_by_the_cart():
    rows = [
        ("a", 0, "web", "add_to_cart", {"cart_id": "K1"}),
        ("a", 1, "web", "product_view"),
        ("a", 30, "store", "purchase", {"cart_id": "K1"}),
    ]
    b = detect_breaks(sessionize(tp(rows)))
    assert list(zip(b["kind"], b["from_row"].tolist(), b["to_row"].tolist())) == [("ropo", 0, 2)]
    assert b["linked_by"].tolist() == ["cart_id"] and b["reference"].tolist() == ["K1"]
    # without the id on the till it is a ROPO from the last research
    rows[2] = ("a", 30, "store", "purchase")
    b = detect_breaks(sessionize(tp(rows)))
    assert list(zip(b["kind"], b["from_row"].tolist(), b["linked_by"])) == [("ropo", 1, "journey")]
    # the cart links even when the till knows another customer id (an anonymous receipt),
    # and beyond the research window
    rows = [
        ("W1", 0, "web", "add_to_cart", {"cart_id": "K1"}),
        ("T-7", 24 * 60, "store", "purchase", {"cart_id": "K1"}),
    ]
    b = detect_breaks(sessionize(tp(rows)))
    assert list(zip(b["kind"], b["customer"], b["linked_by"])) == [("ropo", "T-7", "cart_id")]
    # a store cart bought online is showrooming, linked by the cart
    rows = [
        ("a", 0, "store", "add_to_cart", {"cart_id": "K2"}),
        ("a", 3, "app", "purchase", {"cart_id": "K2"}),
    ]
    b = detect_breaks(sessionize(tp(rows)))
    assert list(zip(b["kind"], b["linked_by"])) == [("showrooming", "cart_id")]


def test_ids_link_breaks_whoever_carries_them_in_time_order():
    # the till's anonymous receipt sorts before the web device: time decides, not the id
    rows = [
        ("d-web", 0, "web", "add_to_cart", {"cart_id": "K1"}),
        ("CT-1", 2, "call_centre", "call", {"cart_id": "K1"}),
        ("CT-1", 2.1, "call_centre", "purchase", {"cart_id": "K1", "order_id": "O1"}),
        ("T-1", 30, "store", "pickup", {"order_id": "O2"}),
        ("d-web", 5, "web", "order", {"order_id": "O2"}),
    ]
    assert sorted(breaks(rows)) == [("cart_recovery", 0, 1), ("click_and_collect", 4, 3)]


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
    # three weeks apart: two journeys, within the re-entry window
    later = [("a", 0, "web", "form_submitted"), ("a", 24 * 21, "store", "form_submitted")]
    assert breaks(later) == [("information_reentered", 0, 1)]
    assert breaks(later, BreakRules(reentry_window=None)) == []
    assert breaks(later, BreakRules(reentry_window="7D")) == []


def test_information_reentered_compares_what_was_entered():
    rows = [
        ("a", 0, "web", "form_submitted", {"form": "F-loan", "amount": "12000"}),
        ("a", 1, "web", "form_submitted", {"form": "F-card", "amount": "0"}),
        ("a", 48, "store", "form_submitted", {"form": "F-loan", "amount": "12000"}),
        ("a", 50, "store", "quote_request", {"form": "F-card", "amount": "0"}),
        ("a", 60, "call_centre", "form_submitted"),
    ]
    rules = BreakRules(
        reentry_fields=["form", "amount"], reentry_events=["form_submitted", "quote_request"]
    )
    b = detect_breaks(sessionize(tp(rows, extra=["form", "amount"])), rules)
    got = list(zip(b["kind"], b["from_row"].tolist(), b["to_row"].tolist(), b["linked_by"]))
    # the loan form typed again in store, the card's details asked again as a quote; the call
    # centre's empty form has nothing to compare with (no other empty entry on a channel)
    assert got == [
        ("information_reentered", 0, 2, "fields"),
        ("information_reentered", 1, 3, "fields"),
    ]
    # by event names only, the last web form and the first store form are the pair
    b = detect_breaks(sessionize(tp(rows, extra=["form", "amount"])))
    assert list(zip(b["from_row"].tolist(), b["to_row"].tolist())) == [(1, 2), (2, 4)]
    with pytest.raises(oj.SchemaError, match="reentry_fields names 'form'"):
        detect_breaks(sessionize(tp(rows[:1])), BreakRules(reentry_fields="form"))


def test_no_breaks_on_empty_or_single_channel_data():
    empty = TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    b = detect_breaks(sessionize(empty))
    assert len(b) == 0 and b.counts() == {} and len(b.pair_counts()) == 0
    assert b.summary().startswith("0 breaks of 0 customers")
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
    b = detect_breaks(sessionize(tp(rows)))
    s = b.pair_counts()
    assert s["kind"].tolist() == ["ropo", "ropo"]
    assert s["from_channel"].tolist() == ["web", "app"]
    assert s["breaks"].tolist() == [2, 1]
    assert s["median_delay_h"].tolist() == [25.0, 10.0]
    lines = b.summary().splitlines()
    assert lines[:2] == [
        "3 breaks of 3 customers",
        "  ropo: 3 breaks, 3 customers, median delay 20.0 h (web -> store 2, app -> store 1)",
    ]
    # the rules that matched nothing follow, one line each
    assert [line.split(" looks")[0] for line in lines[2:]] == [
        "unmatched: BreakRules.failure_events",
        "unmatched: BreakRules.reentry_events",
        "unmatched: BreakRules.assisted_kinds",
    ]


def test_summary_read_as_its_former_table_warns_and_names_the_replacement():
    rows = [("a", 0, "web", "product_view"), ("a", 30, "store", "purchase")]
    b = detect_breaks(sessionize(tp(rows)))
    text = b.summary()
    assert isinstance(text, str) and text[:8] == "1 breaks"
    with pytest.warns(DeprecationWarning, match=r"BreakTable\.pair_counts\(\)"):
        assert text["breaks"].tolist() == [1]
    with pytest.warns(DeprecationWarning, match="pair_counts"):
        assert text.head(1).equals(b.pair_counts().head(1))
    with pytest.raises(AttributeError):
        text.__no_such__  # noqa: B018


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
def test_finds_every_true_break_of_the_clean_synthetic_world(seed):
    """The clean world keeps goals over 15 days apart with no pause inside a goal over 6 days,
    so that a journey is a goal: keeping research and re-entries inside the journey finds
    exactly the story's breaks. The default 30-day windows find every one too, and take
    research of an earlier goal within 30 days for the research of a store purchase."""
    world = oj.synth.generate(1500, seed=seed, records=False, prices=False)
    truth = world.truth.breaks
    want = set(zip(truth["kind"], truth["from_row"].tolist(), truth["to_row"].tolist()))
    journeys = sessionize(world.touchpoints)
    found = detect_breaks(journeys, BreakRules(research_window=None, reentry_window=None))
    got = set(zip(found["kind"], found["from_row"].tolist(), found["to_row"].tolist()))
    assert got == want
    assert len(set(found["kind"])) == 7
    assert np.allclose(np.sort(found["delay"]), np.sort(truth["delay"]))
    default = detect_breaks(journeys)
    got = set(zip(default["kind"], default["from_row"].tolist(), default["to_row"].tolist()))
    assert got >= want
    extra = got - want
    found_by_window = {"ropo", "showrooming", "information_reentered"}
    assert {k for k, _, _ in extra} <= found_by_window | {"quote_channel_switch"}
    assert len(extra) < 0.06 * len(got)
    is_extra = np.array(
        [
            k in extra
            for k in zip(default["kind"], default["from_row"].tolist(), default["to_row"].tolist())
        ]
    )
    # every extra one spans two journeys: research or an entry of an earlier goal
    assert (default["from_journey"] != default["to_journey"])[is_extra].all()


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1), st.data())
def test_break_summaries_are_the_same_bits_in_any_row_order(cols, seed, data):
    n = len(cols["customer"])
    refs = st.sampled_from([None, "Q1", "Q2"])
    cols = {**cols, "quote_id": [data.draw(refs) for _ in range(n)]}
    a, b = (sessionize(t) for t in two_orders(cols, seed))
    assert_same_values(detect_breaks(a).pair_counts(), detect_breaks(b).pair_counts())
    assert_same_values(quote_conversion(a), quote_conversion(b))


def test_break_linkage_counts_the_ends_left_anonymous_and_why():
    from omnijourney.identity import CustomerRecordTable, link_touchpoints, resolve
    from omnijourney.journeys import break_linkage

    records = CustomerRecordTable.from_columns({"record_id": ["W1"], "email": ["a@b.fr"]})
    rows = [
        ("W1", 0, "web", "product_view", {"token": "pt_1"}),
        ("T-1", 30, "store", "purchase", {"token": "pt_1"}),  # linked through the token
        ("T-2", 40, "store", "purchase", {"token": "pt_2"}),  # a token nobody else has
        ("T-3", 50, "store", "purchase"),  # no key
        ("d1", 60, "web", "product_view"),
    ]
    linked = link_touchpoints(
        tp(rows, extra=["token"]), resolve(records), on={"customer": "record_id"}, keys=["token"]
    )
    t = break_linkage(sessionize(linked))
    got = {
        (k, e): (c, n, a, b)
        for k, e, c, n, a, b in zip(
            t["kind"], t["end"], t["candidates"], t["linked"], t["no_key"], t["unmatched_key"]
        )
    }
    assert got[("ropo", "to")] == (3, 1, 1, 1)
    assert got[("ropo", "from")] == (2, 1, 1, 0)
    assert got[("contact_after_failure", "to")] == (0, 0, 0, 0)
    with pytest.raises(oj.SchemaError, match="link_status"):
        break_linkage(sessionize(tp(rows)))


@settings(max_examples=15, deadline=None)
@given(st.floats(-0.99, 0.99), st.lists(st.floats(-0.99, 0.99), min_size=3, max_size=3))
def test_a_till_clock_off_within_the_tolerance_changes_no_break(system, per_store):
    """The tills' clock shifted (as a whole, or each store's on its own) by less than the
    tolerance, half the shortest pause between a store step and the customer's step on
    another channel (so no two rows of different systems swap): every break keeps its kind
    and its ends."""
    world = _clean_world()
    base = detect_breaks(sessionize(world.touchpoints))
    t = world.touchpoints
    store = t.raw("store").astype(np.int64)
    us = t.raw("time").view(np.int64)
    c = t.raw("customer")
    cross = (c[1:] == c[:-1]) & ((store[1:] >= 0) != (store[:-1] >= 0))
    tolerance = np.diff(us)[cross].min() / 2
    std = {c: c for c in ("value", "currency", "direction", "source", "order_id", "cart_id",
                          "quote_id", "reservation_id", "campaign")}  # fmt: skip
    for offsets in ([system] * 3, per_store):
        # stores share no customer step within the tolerance either (same goal, same store)
        shift = np.where(store >= 0, np.array(offsets)[np.maximum(store, 0) % 3], 0.0)
        cols = {c: t[c] for c in t.columns}
        cols["time"] = t["time"] + (shift * tolerance).astype("timedelta64[us]")
        moved = TouchpointTable.from_columns(cols, **std, extra=["store"])
        assert rows_of(detect_breaks(sessionize(moved))) == rows_of(base)


def rows_of(b):
    return sorted(zip(b["kind"], b["from_row"].tolist(), b["to_row"].tolist()))


_WORLD: list = []


def _clean_world():
    if not _WORLD:
        _WORLD.append(oj.synth.generate(400, seed=11, records=False, prices=False))
    return _WORLD[0]


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.data())
def test_double_sends_dropped_on_load_change_no_journey_and_no_break(cols, data):
    """Rows sent twice, loaded with duplicates='drop', leave the table, its journeys and its
    breaks as they are without them."""
    n = len(cols["customer"])
    cols = {**cols, "cart_id": [data.draw(st.sampled_from([None, "K1", "K2"])) for _ in range(n)]}
    again = data.draw(st.lists(st.integers(0, n - 1), max_size=n))
    sent_twice = {k: v + [v[i] for i in again] for k, v in cols.items()}
    once = TouchpointTable.from_columns(cols, duplicates="drop")
    twice = TouchpointTable.from_columns(sent_twice, duplicates="drop")
    assert twice.equals(once)
    assert twice.load_report.n_dropped == len(again) + n - len(once)
    a, b = sessionize(once), sessionize(twice)
    assert np.array_equal(a.journey_id, b.journey_id)
    assert rows_of(detect_breaks(a)) == rows_of(detect_breaks(b))

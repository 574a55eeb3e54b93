"""Follow-up rules and the hot-cart hand-off list."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import TouchpointTable, sessionize
from omnijourney.journeys import FollowUpRule, check_followups, hot_carts
from strategies import (
    JOURNEY_RULES_UNMATCHED,
    assert_same_values,
    order_sensitive_columns,
    two_orders,
)

pytestmark = JOURNEY_RULES_UNMATCHED

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
WELCOME = FollowUpRule(
    name="welcome", trigger_events=["signup"], response_events=["welcome"], within="2D"
)


def tp(rows):
    cols = {
        "customer": [r[0] for r in rows],
        "time": [BASE + dt.timedelta(hours=r[1]) for r in rows],
        "channel": [r[2] for r in rows],
        "event": [r[3] for r in rows],
    }
    for name in sorted({k for r in rows if len(r) > 4 for k in r[4]}):
        cols[name] = [r[4].get(name) if len(r) > 4 else None for r in rows]
    return TouchpointTable.from_columns(cols)


def statuses(rows, rules, as_of=None):
    res = check_followups(sessionize(tp(rows)), rules, as_of=as_of)
    return list(zip(res["trigger_row"].tolist(), res["response_row"].tolist(), res["status"]))


def test_on_time_late_missing_and_pending():
    rows = [
        ("a", 0, "web", "signup"),
        ("a", 10, "email", "welcome"),  # on time
        ("b", 0, "web", "signup"),
        ("b", 60, "email", "welcome"),  # late (60 h > 2 days)
        ("c", 0, "web", "signup"),  # missing by as_of
        ("d", 100, "web", "signup"),  # pending at as_of
    ]
    got = statuses(rows, [WELCOME], as_of=BASE + dt.timedelta(hours=110))
    assert got == [(0, 1, "on_time"), (2, 3, "late"), (4, -1, "missing"), (5, -1, "pending")]


def test_without_any_response_in_the_data_every_trigger_is_missing_or_pending():
    # no welcome was ever sent: exactly what the check exists to find, and said out loud
    rows = [("a", 0, "web", "signup"), ("b", 0, "app", "signup"), ("c", 100, "web", "signup")]
    with pytest.warns(oj.OmnijourneyWarning, match=r"'welcome'\)\.response_events matches no"):
        got = statuses(rows, [WELCOME], as_of=BASE + dt.timedelta(hours=110))
    assert got == [(0, -1, "missing"), (1, -1, "missing"), (2, -1, "pending")]


def test_the_deadline_is_inclusive():
    rows = [("a", 0, "web", "signup"), ("a", 48, "email", "welcome")]
    assert statuses(rows, [WELCOME])[0][2] == "on_time"


def test_a_response_answers_only_the_trigger_before_it():
    rows = [
        ("a", 0, "web", "signup"),
        ("a", 24 * 30, "web", "signup"),
        ("a", 24 * 30 + 5, "email", "welcome"),
    ]
    got = statuses(rows, [WELCOME], as_of=BASE + dt.timedelta(days=40))
    assert got == [(0, -1, "missing"), (1, 2, "on_time")]


def test_direction_channel_and_link_conditions():
    callback = FollowUpRule(
        name="hot_cart_callback",
        trigger_events=["add_to_cart"],
        response_events=["call"],
        response_channels=["call_centre"],
        response_direction="outbound",
        link="cart_id",
        within="4h",
        min_value=100,
    )
    rows = [
        ("a", 0, "web", "add_to_cart", {"cart_id": "K1", "value": 150.0}),
        ("a", 1, "call_centre", "call", {"direction": "inbound"}),  # wrong direction
        ("a", 2, "call_centre", "call", {"direction": "outbound", "cart_id": "K2"}),  # other cart
        ("a", 3, "call_centre", "call", {"direction": "outbound", "cart_id": "K1"}),
        ("b", 0, "web", "add_to_cart", {"cart_id": "K3", "value": 20.0}),  # below min_value
    ]
    assert statuses(rows, [callback]) == [(0, 3, "on_time")]
    with pytest.raises(oj.ConfigError, match="distinct"):
        check_followups(sessionize(tp(rows)), [WELCOME, WELCOME])


def test_matches_the_synthetic_worlds_follow_up_truth():
    world = oj.synth.generate(1500, seed=2, records=False, prices=False)
    rules = [
        FollowUpRule(
            name="welcome_after_signup",
            trigger_events=["signup"],
            response_events=["welcome"],
            within="2D",
        ),
        FollowUpRule(
            name="answer_to_complaint",
            trigger_events=["complaint"],
            response_events=["complaint_answer"],
            within="24h",
            response_direction="outbound",
        ),
    ]
    res = check_followups(sessionize(world.touchpoints), rules, as_of="2025-02-01")
    truth = world.truth.followups
    got = set(
        zip(res["rule"], res["trigger_row"].tolist(), res["response_row"].tolist(), res["status"])
    )
    want = set(
        zip(
            truth["rule"],
            truth["trigger_row"].tolist(),
            truth["response_row"].tolist(),
            truth["status"],
        )
    )
    assert got == want and {s for *_, s in got} == {"on_time", "late", "missing"}


def test_hot_carts_lists_recent_unrecovered_carts_by_value():
    rows = [
        ("a", 0, "web", "purchase", {"value": 500.0}),
        ("a", 20, "web", "add_to_cart", {"cart_id": "K1", "value": 80.0}),
        ("b", 21, "app", "add_to_cart", {"cart_id": "K2", "value": 120.0}),
        ("c", 22, "web", "add_to_cart", {"cart_id": "K3", "value": 80.0}),
        ("c", 22.5, "web", "purchase", {"cart_id": "K3", "value": 80.0}),  # converted
        ("d", 22, "web", "add_to_cart", {"cart_id": "K4", "value": 300.0}),
        ("d", 23, "call_centre", "call", {"cart_id": "K4"}),  # taken over
        ("e", 1, "web", "add_to_cart", {"cart_id": "K5", "value": 999.0}),  # too old
    ]
    jt = sessionize(tp(rows))
    hot = hot_carts(jt, as_of=BASE + dt.timedelta(hours=24), max_age="12h", within="2h")
    assert hot["cart_id"].tolist() == ["K2", "K1"]
    assert hot["customer_value"].tolist() == [0.0, 500.0]
    assert hot["overdue"].tolist() == [True, True]
    rich = hot_carts(jt, as_of=BASE + dt.timedelta(hours=24), max_age="12h", min_value=100)
    assert rich["cart_id"].tolist() == ["K2"]
    assert np.isclose(rich["cart_value"][0], 120.0)


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1), st.data())
@pytest.mark.filterwarnings(
    r"ignore:(FollowUpRule|BreakRules)\S* .*matches no:omnijourney.errors.OmnijourneyWarning"
)
def test_follow_ups_and_hot_carts_are_the_same_bits_in_any_row_order(cols, seed, data):
    n = len(cols["customer"])
    cols = {**cols, "cart_id": [data.draw(st.sampled_from([None, "K1", "K2"])) for _ in range(n)]}
    a, b = (sessionize(t) for t in two_orders(cols, seed))
    rule = FollowUpRule(
        name="call", trigger_events=["add_to_cart"], response_events=["call"], within="1h"
    )
    fa, fb = check_followups(a, [rule]), check_followups(b, [rule])
    rows = [c for c in fa.columns if not c.endswith("_row")]  # rows of each input order
    assert_same_values(fa.select(rows), fb.select(rows))
    assert_same_values(hot_carts(a, max_age="30D"), hot_carts(b, max_age="30D"))


def test_hot_carts_get_tiered_deadlines_by_customer_value():
    rows = [
        ("vip", 0, "store", "purchase", {"value": 1500.0}),
        ("vip", 20, "web", "add_to_cart", {"cart_id": "K1", "value": 80.0}),
        ("known", 1, "web", "purchase", {"value": 40.0}),
        ("known", 20, "web", "add_to_cart", {"cart_id": "K2", "value": 90.0}),
        ("new", 20, "app", "add_to_cart", {"cart_id": "K3", "value": 70.0}),
    ]
    jt = sessionize(tp(rows))
    now = BASE + dt.timedelta(hours=26)
    tiers = [("known", 1, "12h"), ("vip", 1000, "4h")]  # any order: the highest reached wins
    hot = hot_carts(jt, as_of=now, max_age="12h", within="24h", tiers=tiers)
    assert hot["cart_id"].tolist() == ["K2", "K1", "K3"]
    assert hot["tier"].tolist() == ["known", "vip", "default"]
    hours = (hot["deadline"] - np.datetime64("2024-05-01T09:00")) / np.timedelta64(1, "h")
    assert hours.tolist() == [32, 24, 44]
    assert hot["overdue"].tolist() == [False, True, False]
    plain = hot_carts(jt, as_of=now, max_age="12h", within="24h")
    assert set(plain["tier"]) == {"default"}


def test_hot_carts_get_tiered_deadlines_by_segment():
    rows = [
        ("a", 20, "web", "add_to_cart", {"cart_id": "K1", "value": 80.0}),
        ("b", 21, "web", "add_to_cart", {"cart_id": "K2", "value": 60.0}),
    ]
    jt = sessionize(tp(rows))
    now = BASE + dt.timedelta(hours=26)
    seg = oj.Table.from_columns({"customer": ["a", "b"], "segment": ["vip", "web_autonomous"]})
    hot = hot_carts(jt, as_of=now, within="24h", tiers={"vip": "4h"}, segments=seg)
    assert hot["tier"].tolist() == ["vip", "default"]
    assert hot["overdue"].tolist() == [True, False]
    by_mapping = hot_carts(jt, as_of=now, within="24h", tiers={"vip": "4h"}, segments={"a": "vip"})
    assert by_mapping["tier"].tolist() == ["vip", "default"]
    with pytest.warns(
        oj.OmnijourneyWarning, match=r"hot_carts\(segments=...\) matches no customer"
    ):
        lost = hot_carts(jt, as_of=now, tiers={"vip": "4h"}, segments={"P1": "vip"})
    assert set(lost["tier"]) == {"default"} and lost.notes
    with pytest.raises(oj.ConfigError, match="'segments'"):
        hot_carts(jt, tiers={"vip": "4h"})
    with pytest.raises(oj.ConfigError, match="'tiers'"):
        hot_carts(jt, tiers=[("vip", "lots", "4h")])
    with pytest.raises(oj.ConfigError, match=r"tiers\['vip'\]"):
        hot_carts(jt, tiers=[("vip", 100, "soon")])

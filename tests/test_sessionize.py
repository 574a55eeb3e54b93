"""Sessionization: hand-written rules, a naive reference loop, permutation invariance, batches."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import JourneyRules, TouchpointTable, sessionize
from omnijourney.journeys import SessionState
from strategies import (
    JOURNEY_RULES_UNMATCHED,
    assert_same_values,
    order_sensitive_columns,
    two_orders,
)

pytestmark = JOURNEY_RULES_UNMATCHED

BASE = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


def table(rows, **kw):
    """rows: (customer, minutes after BASE, channel, event[, campaign])."""
    cols = {
        "customer": [r[0] for r in rows],
        "time": [BASE + dt.timedelta(minutes=r[1]) for r in rows],
        "channel": [r[2] for r in rows],
        "event": [r[3] for r in rows],
    }
    if any(len(r) > 4 for r in rows):
        cols["campaign"] = [r[4] if len(r) > 4 else None for r in rows]
    return TouchpointTable.from_columns(cols, duplicates="keep", **kw)


def reasons(jt):
    return jt.journeys["end_reason"].tolist()


# ----------------------------------------------------------------------- hand-written rules


def test_visits_split_on_inactivity_channel_switch_and_single_touch_channels():
    jt = sessionize(
        table(
            [
                ("a", 0, "web", "product_view"),
                ("a", 10, "web", "product_view"),
                ("a", 50, "web", "product_view"),  # 40 min gap: new visit
                ("a", 51, "app", "product_view"),  # channel switch: new visit
                ("a", 52, "store", "store_visit"),  # store: a visit of its own
                ("a", 53, "store", "store_visit"),  # and another one
                ("a", 54, "app", "product_view"),
            ]
        )
    )
    assert jt.visit_id.tolist() == [0, 0, 1, 2, 3, 4, 5]
    assert jt.journey_id.tolist() == [0] * 7
    assert jt.journeys["n_visits"].tolist() == [6]


@pytest.mark.parametrize(("inclusive", "expected"), [(True, [0, 1]), (False, [0, 0])])
def test_a_gap_equal_to_the_timeout_splits_only_when_inclusive(inclusive, expected):
    rows = [("a", 0, "web", "view"), ("a", 30, "web", "view")]
    jt = sessionize(table(rows), JourneyRules(timeout_inclusive=inclusive))
    assert jt.visit_id.tolist() == expected
    rows = [("a", 0, "web", "view"), ("a", 14 * 24 * 60, "web", "view")]
    jt = sessionize(table(rows), JourneyRules(timeout_inclusive=inclusive), as_of="closed")
    assert jt.journey_id.tolist() == expected
    assert reasons(jt)[0] == ("timeout" if inclusive else "customer_change")


def test_per_channel_visit_timeouts():
    rows = [
        ("a", 0, "app", "view"),
        ("a", 6, "app", "view"),
        ("a", 7, "web", "view"),
        ("a", 20, "web", "view"),
    ]
    jt = sessionize(table(rows), JourneyRules(channel_timeouts={"app": "5min"}))
    assert jt.visit_id.tolist() == [0, 1, 2, 2]


def test_conversion_ends_the_journey_and_stays_in_it():
    jt = sessionize(
        table(
            [
                ("a", 0, "web", "add_to_cart"),
                ("a", 5, "web", "purchase"),
                ("a", 6, "web", "product_view"),
            ]
        )
    )
    assert jt.journey_id.tolist() == [0, 0, 1]
    assert reasons(jt) == ["conversion", "end_of_data"]
    assert jt.journeys["converted"].tolist() == [True, False]
    off = sessionize(
        table([("a", 0, "web", "purchase"), ("a", 5, "web", "view")]),
        JourneyRules(end_at_conversion=False),
    )
    assert off.journey_id.tolist() == [0, 0]


def test_same_timestamp_tie_puts_the_conversion_last():
    # both at minute 5, given in the "wrong" order: the conversion still closes the journey
    jt = sessionize(
        table(
            [
                ("a", 5, "store", "purchase"),
                ("a", 5, "store", "store_visit"),
                ("a", 9, "web", "view"),
            ]
        )
    )
    assert jt.journey_id.tolist() == [0, 0, 1]


def test_sequence_column_decides_ties_first():
    cols = {
        "customer": ["a", "a"],
        "time": [BASE, BASE],
        "channel": ["web", "web"],
        "event": ["purchase", "view"],
        "offset": [1, 2],
    }
    tp = TouchpointTable.from_columns(cols, sequence="offset")
    jt = sessionize(tp)
    # purchase has the lower offset: it comes first and ends the journey
    assert jt.journey_id.tolist() == [0, 1]


def test_start_events_open_a_journey():
    jt = sessionize(
        table([("a", 0, "web", "view"), ("a", 1, "web", "session_start"), ("a", 2, "web", "view")]),
        JourneyRules(start_events=["session_start"]),
    )
    assert jt.journey_id.tolist() == [0, 1, 1]
    assert reasons(jt)[0] == "start_event"


def test_max_touchpoints_and_max_duration():
    rows = [("a", m, "web", "view") for m in range(7)]
    jt = sessionize(table(rows), JourneyRules(max_touchpoints=3))
    assert jt.journey_id.tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert reasons(jt) == ["max_touchpoints", "max_touchpoints", "end_of_data"]
    rows = [("a", m, "web", "view") for m in (0, 10, 20, 30, 41, 55, 59)]
    jt = sessionize(table(rows), JourneyRules(max_duration="30min"))
    # a touchpoint at or after start + 30 min opens a new journey: starts 0, 30, (30+30=60)
    assert jt.journey_id.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert reasons(jt)[0] == "max_duration"
    both = sessionize(table(rows), JourneyRules(max_duration="30min", max_touchpoints=2))
    assert both.journey_id.tolist() == [0, 0, 1, 1, 2, 2, 3]
    assert reasons(both)[:3] == ["max_touchpoints", "max_touchpoints", "max_touchpoints"]


def test_split_at_local_midnight():
    # 21:30 and 22:30 UTC are 23:30 and 00:30 in Paris (summer time)
    rows = [("a", 11 * 60 + 30, "web", "view"), ("a", 12 * 60 + 30, "web", "view")]
    utc = sessionize(table(rows), JourneyRules(split_at_midnight=True, visit_timeout="2h"))
    paris = sessionize(
        table(rows), JourneyRules(split_at_midnight=True, tz="Europe/Paris", visit_timeout="2h")
    )
    assert utc.journey_id.tolist() == [0, 0]
    assert paris.journey_id.tolist() == [0, 1] and reasons(paris)[0] == "midnight"


def test_campaign_change_ignores_nulls():
    rows = [
        ("a", 0, "web", "view", "spring"),
        ("a", 1, "web", "view"),
        ("a", 2, "web", "view", "spring"),
        ("a", 3, "web", "view", "summer"),
    ]
    jt = sessionize(table(rows), JourneyRules(split_on_campaign_change=True))
    assert jt.journey_id.tolist() == [0, 0, 0, 1]
    assert reasons(jt)[0] == "campaign_change"


def test_end_reasons_of_last_journeys_depend_on_as_of():
    tp = table([("a", 0, "web", "view"), ("b", 0, "web", "view"), ("b", 60, "web", "purchase")])
    assert reasons(sessionize(tp)) == ["end_of_data", "conversion"]
    later = sessionize(tp, as_of=BASE + dt.timedelta(days=20))
    assert reasons(later) == ["timeout", "conversion"]
    assert reasons(sessionize(tp, as_of="closed")) == ["customer_change", "conversion"]


def test_customers_never_share_a_journey_and_ids_follow_customer_then_time():
    jt = sessionize(
        table([("b", 0, "web", "view"), ("a", 5, "web", "view"), ("a", 0, "web", "view")])
    )
    assert jt.journey_id.tolist() == [1, 0, 0]
    assert jt.journeys["customer"].tolist() == ["a", "b"]


def test_per_journey_summary_columns():
    cols = {
        "customer": ["a"] * 4,
        "time": [BASE + dt.timedelta(minutes=m) for m in (0, 3, 100, 101)],
        "channel": ["email", "web", "store", "store"],
        "event": ["email_click", "add_to_cart", "purchase", "purchase"],
        "value": [None, None, 50.0, 20.0],
    }
    jt = sessionize(TouchpointTable.from_columns(cols), JourneyRules(end_at_conversion=False))
    row = jt.journeys.row(0)
    assert row["n_touchpoints"] == 4 and row["n_visits"] == 4
    assert row["first_channel"] == "email" and row["last_channel"] == "store"
    assert row["n_conversions"] == 2 and row["value"] == 70.0 and row["stage"] == "purchase"
    assert jt.channels_of(0) == ("email", "web", "store")
    labels = jt.touchpoints.labels("channel").tolist()
    assert row["channels"] == sum(1 << labels.index(c) for c in ("email", "web", "store"))
    j = jt[0]
    assert isinstance(j, oj.Journey) and j.channels == ("email", "web", "store")
    assert j.value == 70.0 and len(j.touchpoints) == 4


def test_stages_and_retention_for_returning_customers():
    jt = sessionize(
        table(
            [
                ("a", 0, "web", "product_view"),
                ("a", 1, "web", "purchase"),
                ("a", 2 * 24 * 60, "web", "product_view"),  # after a purchase: retention
                ("b", 0, "email", "email_click"),
                ("b", 1, "web", "add_to_cart"),
                ("b", 2, "web", "unknown_event"),
            ]
        )
    )
    assert jt.journeys["stage"].tolist() == ["purchase", "retention", "intent"]
    assert jt.journeys["returning"].tolist() == [False, True, False]
    custom = oj.StageMap(stages=("look", "buy"), events={"product_view": "look", "purchase": "buy"})
    jt2 = sessionize(jt.touchpoints, JourneyRules(stages=custom))
    assert jt2.journeys["stage"].tolist() == ["buy", "look", None]


def test_strict_stage_map_names_unknown_events():
    strict = oj.StageMap(strict=True)
    with pytest.raises(oj.DataError, match=r"column 'event'.*not in the stage map.*'mystery'"):
        sessionize(table([("a", 0, "web", "mystery")]), JourneyRules(stages=strict))


def test_empty_table_and_single_touchpoint():
    empty = TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    jt = sessionize(empty)
    assert len(jt) == 0 and jt.journey_id.size == 0 and jt.end_reasons == {}
    one = sessionize(table([("ü", 0, "web", "view")]))
    assert one.journey_id.tolist() == [0] and reasons(one) == ["end_of_data"]


def test_a_conversion_event_that_never_occurs_warns_and_is_noted():
    with pytest.warns(oj.OmnijourneyWarning, match="conversion_events matches no event"):
        jt = sessionize(table([("a", 0, "web", "view")]), JourneyRules(conversion_events=["nope"]))
    assert jt.journeys["converted"].tolist() == [False]
    assert [u.rule for u in jt.unmatched] == [
        "JourneyRules.conversion_events",
        "JourneyRules.stages.events",
    ]
    assert "unmatched: JourneyRules.conversion_events looks for event 'nope'" in jt.summary()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"visit_timeout": "-5min"}, "visit_timeout"),
        ({"journey_timeout": "0s"}, "'journey_timeout' parameter must be a positive duration"),
        ({"max_touchpoints": 0}, "max_touchpoints"),
        ({"tz": "Nowhere/City"}, "Nowhere/City"),
        ({"channel_timeouts": {"app": "soon"}}, "app"),
    ],
)
def test_invalid_rules_raise_config_errors(kwargs, match):
    with pytest.raises(oj.ConfigError, match=match):
        JourneyRules(**kwargs)


def test_rules_round_trip_through_json():
    r = JourneyRules(
        channel_timeouts={"app": "5min"},
        start_events=["signup"],
        max_duration="2D",
        stages=oj.StageMap(stages=("a", "b"), events={"x": "a"}),
    )
    assert oj.from_json(oj.to_json(r), JourneyRules) == r


# ----------------------------------------------------------------------- naive reference

EVENTS = ["view", "add_to_cart", "purchase", "session_start", "email_click"]
CHANNELS = ["web", "app", "store", "email"]


def naive(rows, rules, as_of=None):
    """A plain per-customer loop over rows (dicts), written from the documented rules."""
    conv = set(rules.conversion_events)
    single = set(rules.single_touch_channels or ("store", "email"))
    vt = rules.visit_timeout.astype(int)
    jt = None if rules.journey_timeout is None else rules.journey_timeout.astype(int)
    md = None if rules.max_duration is None else rules.max_duration.astype(int)

    def key(r):
        camp = r.get("campaign")
        return (
            r["customer"],
            r["t"],
            r["event"] in conv,
            r["event"],
            r["channel"],
            camp is not None,
            camp or "",
        )

    order = sorted(range(len(rows)), key=lambda i: key(rows[i]))
    journey = [0] * len(rows)
    visit = [0] * len(rows)
    j = v = -1
    prev = None
    last_campaign = {}
    j_start_t = j_len = 0
    for i in order:
        r = rows[i]
        cut = prev is None or r["customer"] != prev["customer"]
        if not cut:
            gap = r["t"] - prev["t"]
            cut = (
                (rules.end_at_conversion and prev["event"] in conv)
                or (jt is not None and gap >= jt)
                or r["event"] in rules.start_events
            )
            camp = r.get("campaign")
            if rules.split_on_campaign_change and camp is not None:
                before = last_campaign.get(r["customer"])
                cut = cut or (before is not None and before != camp)
            if not cut and rules.max_touchpoints is not None and j_len >= rules.max_touchpoints:
                cut = True
            if not cut and md is not None and r["t"] >= j_start_t + md:
                cut = True
        if cut:
            j += 1
            j_start_t, j_len = r["t"], 0
        j_len += 1
        new_visit = (
            cut
            or r["channel"] != prev["channel"]
            or r["channel"] in single
            or (prev["channel"] in single)
            or r["t"] - prev["t"] >= vt
        )
        if new_visit:
            v += 1
        journey[i], visit[i] = j, v
        if r.get("campaign") is not None:
            last_campaign[r["customer"]] = r["campaign"]
        prev = r
    return journey, visit


@st.composite
def logs(draw):
    n = draw(st.integers(0, 30))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "Zoé"]), min_size=n, max_size=n))
    minutes = draw(
        st.lists(
            st.sampled_from([0, 1, 5, 29, 30, 31, 60, 600, 1440, 20160, 30000]),
            min_size=n,
            max_size=n,
        )
    )
    steps = np.cumsum(minutes).tolist() if n else []
    times = [draw(st.sampled_from([s, 0, 30])) for s in steps]
    return [
        {
            "customer": c,
            "t": m * 60_000_000,
            "channel": draw(st.sampled_from(CHANNELS)),
            "event": draw(st.sampled_from(EVENTS)),
            "campaign": draw(st.sampled_from([None, None, "spring", "summer"])),
        }
        for c, m in zip(customers, times)
    ]


def to_table(rows):
    return TouchpointTable.from_columns(
        {
            "customer": [r["customer"] for r in rows],
            "time": np.array([r["t"] for r in rows], dtype=np.int64).view("datetime64[us]"),
            "channel": [r["channel"] for r in rows],
            "event": [r["event"] for r in rows],
            "campaign": [r["campaign"] for r in rows],
        },
        channels={"store": "physical", "email": "messaging"},
        duplicates="keep",
    )


rule_sets = st.sampled_from(
    [
        JourneyRules(),
        JourneyRules(journey_timeout="1h", start_events=["session_start"]),
        JourneyRules(max_touchpoints=2, split_on_campaign_change=True),
        JourneyRules(max_duration="45min", end_at_conversion=False),
        JourneyRules(max_duration="1D", max_touchpoints=3, journey_timeout=None),
    ]
)


def row_key(r):
    return (r["customer"], r["t"], r["channel"], r["event"], r["campaign"] or "")


def assignment(rows, ids):
    """(row, id) pairs up to the order of identical rows, which are interchangeable."""
    return sorted(zip(map(row_key, rows), [int(i) for i in ids]))


@settings(max_examples=150, deadline=None)
@given(logs(), rule_sets)
def test_matches_a_naive_per_customer_loop(rows, rules):
    jt = sessionize(to_table(rows), rules)
    journey, visit = naive(rows, rules)
    assert assignment(rows, jt.journey_id) == assignment(rows, journey)
    assert assignment(rows, jt.visit_id) == assignment(rows, visit)


@settings(max_examples=100, deadline=None)
@given(logs(), rule_sets, st.randoms(use_true_random=False))
def test_same_journeys_for_any_row_order(rows, rules, random):
    perm = list(range(len(rows)))
    random.shuffle(perm)
    shuffled = [rows[i] for i in perm]
    a = sessionize(to_table(rows), rules)
    b = sessionize(to_table(shuffled), rules)
    assert assignment(shuffled, b.journey_id) == assignment(rows, a.journey_id)
    assert assignment(shuffled, b.visit_id) == assignment(rows, a.visit_id)
    assert b.journeys.equals(a.journeys)


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1))
def test_journey_values_are_the_same_bits_in_any_row_order(cols, seed):
    a, b = (sessionize(t) for t in two_orders(cols, seed))
    assert_same_values(a.journeys, b.journeys)
    assert a.summary() == b.summary()


@settings(max_examples=300, deadline=None)
@given(logs(), rule_sets, st.lists(st.integers(0, 60_000), max_size=3))
def test_batches_give_the_same_journeys_as_one_run(rows, rules, cut_minutes):
    tp = to_table(rows)
    cuts = sorted({m * 60_000_000 for m in cut_minutes})
    t = np.array([r["t"] for r in rows], dtype=np.int64)
    bounds = [-1, *cuts, 2**62]
    batches = [tp.filter((t > lo) & (t <= hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    batches = [b for b in batches if len(b)] or [tp]
    whole = oj.concat(batches)
    one = sessionize(whole, rules)
    inc = oj.sessionize_batches(batches, rules)
    assert inc.journeys.equals(one.journeys)
    keys = list(
        zip(
            whole["customer"],
            whole["time"].astype(np.int64),
            whole["channel"],
            whole["event"],
            [c or "" for c in whole["campaign"]],
        )
    )
    assert sorted(zip(keys, inc.journey_id)) == sorted(zip(keys, one.journey_id))
    assert sorted(zip(keys, inc.visit_id)) == sorted(zip(keys, one.visit_id))


def test_state_round_trips_through_json_between_batches():
    first = table([("a", 0, "web", "view"), ("b", 0, "web", "purchase")])
    second = table([("a", 10, "web", "add_to_cart"), ("b", 20, "web", "view")])
    r1 = sessionize(first)
    state = oj.from_json(oj.to_json(r1.state), SessionState)
    r2 = sessionize(second, state=state)
    # a's open journey continues with its id; b's next touchpoint opens a new journey
    assert r2.journey_id.tolist() == [r1.journey_id[0], 2]
    assert r2.journeys["n_touchpoints"].tolist() == [2, 1]
    assert r2.journeys["returning"].tolist() == [False, True]


def test_batches_out_of_order_are_refused():
    r1 = sessionize(table([("a", 100, "web", "view")]))
    with pytest.raises(oj.DataError, match="precedes the as_of"):
        sessionize(table([("a", 50, "web", "view")]), state=r1.state)
    with pytest.raises(oj.ConfigError, match="other rules"):
        sessionize(
            table([("a", 200, "web", "view")]), JourneyRules(visit_timeout="1h"), state=r1.state
        )


# ----------------------------------------------------------------------- synthetic truth


def same_partition(a, b):
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_the_synthetic_worlds_true_journeys_and_visits(seed):
    # the clean story keeps a customer's goals more than 15 days apart and never pauses a
    # goal for more than 6 days, so the default 14-day timeout finds its journeys exactly
    world = oj.synth.generate(1500, seed=seed, records=False, prices=False)
    jt = sessionize(world.touchpoints)
    assert same_partition(jt.journey_id, world.truth.journey_id)
    assert jt.journeys["converted"].tolist() == world.truth.journeys["converted"].tolist()
    # the story keeps a walk through the store or one phone call in one visit, where the
    # sessionizer counts each touch of a store, phone, chat, message or ad as a visit of its
    # own: its visits are the story's cut at each such touch, and no other visit differs
    truth = world.truth.visit_id
    single = ~np.isin(world.touchpoints["channel"], ["web", "app"])
    cut = np.ones(len(truth), dtype=bool)
    cut[1:] = (truth[1:] != truth[:-1]) | single[1:] | single[:-1]
    assert same_partition(jt.visit_id, np.cumsum(cut))
    assert not same_partition(jt.visit_id, truth)


def test_a_journey_table_round_trips_through_json():
    world = oj.synth.generate(150, seed=2, records=False, prices=False)
    perm = np.random.default_rng(0).permutation(len(world.touchpoints))
    jt = sessionize(world.touchpoints.take(perm))
    back = oj.from_json(oj.to_json(jt), oj.JourneyTable)
    assert back.journeys.equals(jt.journeys) and back.touchpoints.equals(jt.touchpoints)
    assert np.array_equal(back.journey_id, jt.journey_id)
    assert np.array_equal(back.visit_id, jt.visit_id)
    assert back[5] == jt[5] and back.rules == jt.rules
    assert oj.journeys.detect_breaks(back).equals(oj.journeys.detect_breaks(jt))


def test_the_journey_table_is_a_frozen_result_made_of_tables():
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["b", "a", "a"],
            "time": ["2024-01-02T09:00", "2024-01-01T10:10", "2024-01-01T10:00"],
            "channel": ["web", "store", "web"],
            "event": ["product_view", "purchase", "product_view"],
        }
    )
    jt = oj.sessionize(tp)
    assert attrs.has(type(jt))
    assert isinstance(jt.touchpoints, oj.TouchpointTable) and isinstance(jt.journeys, oj.Table)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        jt.rules = oj.JourneyRules()  # type: ignore[misc]
    assert jt.journey_id.tolist() == [1, 0, 0] and jt.order.tolist() == [2, 1, 0]
    assert jt.offsets.tolist() == [0, 2, 3]
    back = oj.from_json(oj.to_json(jt), oj.JourneyTable)
    assert back.journeys.equals(jt.journeys) and back.journey_id.tolist() == [1, 0, 0]

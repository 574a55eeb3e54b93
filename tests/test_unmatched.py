"""Rules that match nothing in the data are said out loud: a warning naming the rule, the labels
it looks for and those the data has, and a note in the result's summary."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import JourneyRules, OmnijourneyWarning, sessionize
from omnijourney.journeys import (
    AppetenceRules,
    BreakRules,
    FollowUpRule,
    SessionState,
    appetence,
    appetence_clusters,
    appetence_transitions,
    channel_shares,
    check_followups,
    detect_breaks,
    hot_carts,
    segment_value,
)
from strategies import load_quietly

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)

# An export in the retailer's own vocabulary: French events and channels, and a purchase
# spelt with a capital letter by one of the systems.
FRENCH = [
    ("c1", 0, "Web", "vue_produit", None),
    ("c1", 5, "Web", "panier", None),
    ("c1", 60, "Magasin", "achat", 80.0),
    ("c2", 0, "Web", "vue_produit", None),
    ("c2", 30, "Web", "Purchase", 35.0),
    ("c2", 90, "Centre d'appels", "appel", None),
    ("c3", 20, "Magasin", "achat", 12.5),
    ("c3", 2000, "Web", "vue_produit", None),
    ("c3", 2010, "Magasin", "achat", 20.0),
]
# The same export mapped onto the library's vocabulary, as a loader's event and channel maps do.
EVENTS = {"vue_produit": "product_view", "panier": "add_to_cart", "achat": "purchase"}
EVENTS |= {"Purchase": "purchase", "appel": "call"}
CHANNELS = {"Web": "web", "Magasin": "store", "Centre d'appels": "call_centre"}


def tp(rows, *, mapped=False, **kw):
    """rows: (customer, minutes after BASE, channel, event, value)."""
    cols = {
        "customer": [r[0] for r in rows],
        "time": [BASE + dt.timedelta(minutes=r[1]) for r in rows],
        "channel": [CHANNELS[r[2]] if mapped else r[2] for r in rows],
        "event": [EVENTS[r[3]] if mapped else r[3] for r in rows],
        "value": [r[4] for r in rows],
    }
    return load_quietly(cols, **kw)


def messages(caught):
    return [str(w.message) for w in caught if issubclass(w.category, OmnijourneyWarning)]


def silent(func, *args, **kwargs):
    """Call func with every warning an error: the rules match, nothing is said."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


# --------------------------------------------------------------------------- sessionize


def test_a_french_export_warns_for_each_journey_rule_and_the_summary_says_so():
    with pytest.warns(OmnijourneyWarning) as caught:
        jt = sessionize(tp(FRENCH))
    conv, stages = messages(caught)
    assert conv.startswith(
        "JourneyRules.conversion_events matches no event of the data: it looks for "
        "'purchase', 'order', 'quote_signed', and the data has 'Purchase', 'achat', "
        "'vue_produit', 'appel', 'panier'. No journey converts"
    )
    assert "event_map={'Purchase': 'purchase', ...}" in conv
    assert stages.startswith("JourneyRules.stages.events matches no event of the data")
    assert "(44 labels)" in stages
    assert int(jt.journeys["converted"].sum()) == 0
    assert [u.rule for u in jt.unmatched] == [
        "JourneyRules.conversion_events",
        "JourneyRules.stages.events",
    ]
    lines = jt.summary().splitlines()
    assert lines[-2] == (
        "unmatched: JourneyRules.conversion_events looks for event 'purchase', 'order', "
        "'quote_signed'; the data has 'Purchase', 'achat', 'vue_produit', 'appel', 'panier'"
    )
    assert lines[-1].startswith("unmatched: JourneyRules.stages.events looks for event")


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(OmnijourneyWarning) as caught:
        sessionize(tp(FRENCH))
    assert {w.filename for w in caught} == {__file__}


def test_mapped_labels_match_and_nothing_is_said():
    jt = silent(sessionize, tp(FRENCH, mapped=True))
    assert jt.unmatched == ()
    assert int(jt.journeys["converted"].sum()) == 4
    assert "unmatched" not in jt.summary()


def test_the_closest_labels_of_the_data_come_first_with_a_suggested_map():
    rows = [("a", i, "web", e, None) for i, e in enumerate(["Vue", "clic", "PURCHASE", "Achat"])]
    with pytest.warns(OmnijourneyWarning):
        jt = sessionize(tp(rows), JourneyRules(conversion_events=["purchase", "achat"]))
    (conv,) = [u for u in jt.unmatched if u.rule.endswith("conversion_events")]
    assert conv.present == ("Achat", "PURCHASE", "Vue", "clic")
    assert conv.suggested_map == (("Achat", "achat"), ("PURCHASE", "purchase"))
    assert conv.wanted == ("achat", "purchase") and conv.n_present == 4


def test_labels_spelt_alike_or_sharing_a_word_come_first_without_a_suggested_map():
    events = ["product_view"] * 5 + ["home"] * 4 + ["payment_error", "checkout_bug", "purchase"]
    rows = [("a", i, "web", e, None) for i, e in enumerate(events)]
    jt = silent(sessionize, tp(rows))
    with pytest.warns(OmnijourneyWarning) as caught:
        breaks = detect_breaks(jt, BreakRules(reentry_events=()))
    (failures,) = [u for u in breaks.unmatched if u.rule == "BreakRules.failure_events"]
    assert failures.present == ("checkout_bug", "payment_error", "product_view", "home", "purchase")
    assert failures.wanted[:2] == ("checkout_error", "payment_failed")
    assert failures.suggested_map == ()  # alike is not the same: no mapping is suggested
    assert "event_map={'<your label>': 'checkout_error', ...}" in messages(caught)[0]


@pytest.mark.parametrize(
    ("rules", "rule"),
    [
        (JourneyRules(start_events=["session_start"]), "JourneyRules.start_events"),
        (JourneyRules(single_touch_channels=["boutique"]), "JourneyRules.single_touch_channels"),
        (JourneyRules(channel_timeouts={"appli": "5min"}), "JourneyRules.channel_timeouts"),
    ],
)
def test_every_label_rule_of_the_journey_rules_is_checked(rules, rule):
    with pytest.warns(OmnijourneyWarning, match=rf"{rule} matches no"):
        jt = sessionize(tp(FRENCH, mapped=True), rules)
    assert [u.rule for u in jt.unmatched] == [rule]


def test_empty_rules_say_the_data_has_none_and_are_not_checked():
    rows = [("a", 0, "web", "product_view", None), ("a", 5, "web", "add_to_cart", None)]
    jt = silent(sessionize, tp(rows), JourneyRules(conversion_events=()))
    assert jt.unmatched == ()


def test_empty_input_says_nothing():
    empty = tp(FRENCH)[:0]
    jt = silent(sessionize, empty)
    assert jt.unmatched == () and len(jt) == 0
    assert len(silent(detect_breaks, jt)) == 0
    assert len(silent(appetence, empty)) == 0
    assert len(silent(oj.journeys.rfm, empty)) == 0
    assert len(silent(oj.journeys.funnel, jt, ["product_view", "purchase"])) == 2
    rule = FollowUpRule(
        name="w", trigger_events=["signup"], response_events=["welcome"], within="1D"
    )
    assert len(silent(check_followups, jt, [rule])) == 0


def test_the_unmatched_rules_survive_a_json_round_trip():
    with pytest.warns(OmnijourneyWarning):
        jt = sessionize(tp(FRENCH))
    back = oj.from_json(oj.to_json(jt), oj.JourneyTable)
    assert back.unmatched == jt.unmatched


# --------------------------------------------------------------------------- batches


def test_batches_are_checked_together():
    mapped = tp(FRENCH, mapped=True)
    t = mapped.raw("time")
    first, second = (
        mapped.filter(t < np.datetime64("2024-05-01T09:10")),
        mapped.filter(t >= np.datetime64("2024-05-01T09:10")),
    )
    assert "purchase" not in first["event"].tolist() and "purchase" in second["event"]
    # a first batch without a purchase, a second with one: the data as a whole matches
    jt = silent(oj.sessionize_batches, [first, second])
    assert jt.unmatched == ()
    # no purchase in any batch: one warning per rule, not one per batch
    views = mapped.filter(mapped["event"] != "purchase")
    t = views.raw("time")
    parts = [
        views.filter(t < np.datetime64("2024-05-01T09:10")),
        views.filter(t >= np.datetime64("2024-05-01T09:10")),
    ]
    with pytest.warns(OmnijourneyWarning) as caught:
        jt = oj.sessionize_batches(parts)
    assert len(messages(caught)) == 1
    assert [u.rule for u in jt.unmatched] == ["JourneyRules.conversion_events"]


def test_a_batch_without_a_purchase_does_not_warn_after_one_with_purchases():
    mapped = tp(FRENCH, mapped=True)
    t = mapped.raw("time")
    day1 = mapped.filter(t < np.datetime64("2024-05-02"))
    day2 = tp([("c4", 3000, "Web", "vue_produit", None)], mapped=True)
    r1 = silent(sessionize, day1)
    assert "conversion_events" in r1.state.matched_rules
    state = oj.from_json(oj.to_json(r1.state), SessionState)
    assert state.matched_rules == r1.state.matched_rules
    r2 = silent(sessionize, day2, state=state)
    assert r2.unmatched == ()
    # without the state, the same batch warns: nothing says purchases exist
    with pytest.warns(OmnijourneyWarning, match="conversion_events matches no event"):
        sessionize(day2)
    # and an empty batch never warns
    assert silent(sessionize, day2[:0], state=r2.state).unmatched == ()


# --------------------------------------------------------------------------- breaks


def test_break_rules_in_another_vocabulary_warn_and_are_noted():
    with pytest.warns(OmnijourneyWarning):
        jt = sessionize(tp(FRENCH))
    with pytest.warns(OmnijourneyWarning) as caught:
        breaks = detect_breaks(jt)
    rules = [m.split(" matches")[0] for m in messages(caught)]
    assert rules == [
        "BreakRules.failure_events",
        "BreakRules.research_events",
        "BreakRules.reentry_events",
        "BreakRules.digital_kinds",
        "BreakRules.physical_kinds",
        "BreakRules.assisted_kinds",
    ]
    assert "the data has 'achat', 'vue_produit', 'Purchase'" in messages(caught)[1]
    kinds = messages(caught)[3]
    assert "the data has 'Web (other)', 'Magasin (other)', " in kinds
    assert "channels={'<your channel>': 'digital'}" in kinds
    assert len(breaks) == 0
    assert [u.rule for u in breaks.unmatched] == [*rules, "JourneyRules.conversion_events"]
    assert len(breaks.pair_counts().notes) == 7
    assert "note: unmatched: BreakRules.physical_kinds" in repr(breaks.pair_counts())
    assert "unmatched: BreakRules.physical_kinds" in breaks.summary()


def test_declared_kinds_and_mapped_events_find_the_breaks():
    kinds = {"Web": "digital", "Magasin": "physical", "Centre d'appels": "assisted"}
    jt = sessionize(
        tp(FRENCH, channels=kinds),
        JourneyRules(conversion_events=["achat", "Purchase"], stages=oj.StageMap(events={})),
    )
    # none in this export; research in its own words
    rules = BreakRules(failure_events=(), reentry_events=(), research_events=["vue_produit"])
    breaks = silent(detect_breaks, jt, rules)
    # research on the web, purchase in the store: c1, and c3 in its second journey
    assert breaks.counts() == {"ropo": 2} and breaks.unmatched == ()


# --------------------------------------------------------------------------- follow-ups


WELCOME = FollowUpRule(
    name="welcome", trigger_events=["signup"], response_events=["welcome"], within="2D"
)


def test_no_response_event_at_all_means_every_follow_up_is_missing_and_says_so():
    rows = [
        ("a", 0, "web", "signup", None),
        ("a", 10, "web", "purchase", 10.0),
        ("b", 0, "app", "signup", None),
        ("b", 4000, "app", "purchase", 5.0),
    ]
    jt = sessionize(tp(rows))
    with pytest.warns(OmnijourneyWarning, match=r"FollowUpRule\('welcome'\)\.response_events"):
        res = check_followups(jt, [WELCOME], as_of="2024-05-10")
    assert res["status"].tolist() == ["missing", "missing"]
    assert res["response_row"].tolist() == [-1, -1]
    assert res.notes == (
        "unmatched: FollowUpRule('welcome').response_events looks for event 'welcome'; the "
        "data has 'purchase', 'signup'",
    )


def test_follow_up_triggers_channels_and_direction_are_checked():
    rows = [("a", 0, "web", "signup", None), ("a", 10, "email", "welcome", None)]
    jt = sessionize(tp(rows), JourneyRules(conversion_events=()))
    rule = FollowUpRule(
        name="sms",
        trigger_events=["inscription"],
        response_events=["welcome"],
        response_channels=["sms"],
        within="1D",
    )
    with pytest.warns(OmnijourneyWarning) as caught:
        res = check_followups(jt, [rule])
    assert [m.split(" matches")[0] for m in messages(caught)] == [
        "FollowUpRule('sms').trigger_events",
        "FollowUpRule('sms').response_channels",
    ]
    assert len(res) == 0
    cols = {
        "customer": ["a", "a"],
        "time": ["2024-05-01T10:00", "2024-05-01T11:00"],
        "channel": ["web", "call_centre"],
        "event": ["signup", "welcome"],
        "direction": ["inbound", "inbound"],
    }
    jt = sessionize(load_quietly(cols), JourneyRules(conversion_events=()))
    call_back = FollowUpRule(
        name="call_back",
        trigger_events=["signup"],
        response_events=["welcome"],
        response_direction="outbound",
        within="1D",
    )
    with pytest.warns(OmnijourneyWarning, match=r"response_direction matches no direction"):
        res = check_followups(jt, [call_back], as_of="2024-05-03")
    assert res["status"].tolist() == ["missing"]


def test_hot_carts_without_a_digital_channel_warn():
    cols = {
        "customer": ["a"],
        "time": ["2024-05-01T10:00"],
        "channel": ["Web"],
        "event": ["add_to_cart"],
        "cart_id": ["K1"],
    }
    jt = sessionize(load_quietly(cols), JourneyRules(conversion_events=()))
    with pytest.warns(OmnijourneyWarning, match=r"digital_kinds \(of hot_carts\) matches no"):
        carts = hot_carts(jt)
    assert len(carts) == 0 and len(carts.notes) == 1
    digital = load_quietly(cols, channels={"Web": "digital"})
    jt = sessionize(digital, JourneyRules(conversion_events=()))
    assert len(silent(hot_carts, jt)) == 1


# --------------------------------------------------------------------------- segments


def test_channels_of_unknown_kind_leave_every_customer_undetermined_and_say_so():
    with pytest.warns(OmnijourneyWarning):
        jt = sessionize(tp(FRENCH))
    with pytest.warns(OmnijourneyWarning, match=r"AppetenceRules\.kinds matches no channel kind"):
        seg = appetence(jt)
    assert set(seg["segment"].tolist()) == {"undetermined"}
    assert seg.notes[0].startswith("unmatched: AppetenceRules.kinds looks for channel kind")
    with pytest.warns(OmnijourneyWarning, match="AppetenceRules.kinds"):
        per, trans = appetence_transitions(jt)
    assert per.notes == trans.notes == seg.notes
    kinds = {"Web": "digital", "Magasin": "physical", "Centre d'appels": "assisted"}
    seg = silent(appetence, tp(FRENCH, channels=kinds))
    assert "undetermined" not in seg["segment"].tolist()[:2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:One of the clusters is empty")
def test_appetence_clusters_carry_the_notes():
    rows = [(c, i, ch, "vue", None) for c in "abcd" for i, ch in enumerate(["web", "store", "web"])]
    with pytest.warns(OmnijourneyWarning, match="default conversion_events of appetence"):
        out, _ = appetence_clusters(tp(rows), k=2, rules=AppetenceRules(weight="conversions"))
    assert set(out["name"].tolist()) == {"undetermined"}
    assert out.notes == (
        "unmatched: the default conversion_events of appetence looks for event 'order', "
        "'purchase', 'quote_signed'; the data has 'vue'",
    )


def test_conversion_weights_without_conversions_warn():
    data = tp(FRENCH, channels={"Web": "digital", "Magasin": "physical"})
    with pytest.warns(OmnijourneyWarning, match="default conversion_events of channel_shares"):
        shares = channel_shares(data, weight="value")
    assert shares["total"].tolist() == [0.0, 0.0, 0.0]
    assert silent(channel_shares, data)["total"].tolist() == [3.0, 3.0, 3.0]
    assert silent(channel_shares, data, weight="value", conversion_events=["achat"])[
        "total"
    ].tolist() == [80.0, 0.0, 32.5]
    with pytest.warns(OmnijourneyWarning, match="default conversion_events of appetence"):
        appetence(data, AppetenceRules(weight="conversions"))
    segments = silent(appetence, data)
    with pytest.warns(OmnijourneyWarning, match="default conversion_events of segment_value"):
        value = segment_value(data, segments)
    assert value.notes and value["value_per_customer"].tolist() == [0.0] * len(value)

"""The synthetic world's difficulty presets: every kind of noise and its truth.

Small worlds, each noise switched on alone where possible, with the truth checked by hand;
hypothesis properties for what must hold at any setting (duplicates add exactly their count,
a system's clock changes nothing of the truth, the words map back to the library's).
"""

from __future__ import annotations

import hashlib

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.synth import Noise

N = 250
CLEAN = Noise.clean()


def world(noise=CLEAN, n=N, seed=3, **kw):
    return oj.synth.generate(n, seed=seed, prices=False, difficulty=noise, **kw)


@pytest.fixture(scope="module")
def clean():
    return world()


@pytest.fixture(scope="module")
def realistic():
    return oj.synth.generate(600, seed=5, prices=False, difficulty="realistic")


def rows_of(w):
    """Observed rows' truth: touchpoint row of each observed row."""
    return w.truth.observed["row"]


def person_of_record(w):
    return dict(zip(w.records["record_id"].tolist(), w.records["true_person_id"].tolist()))


# ----------------------------------------------------------------------------- presets, input


def test_presets_are_the_named_difficulties():
    assert oj.synth.DIFFICULTIES == ("clean", "realistic", "hard")
    assert Noise.clean() == Noise()
    real, hard = Noise.realistic(), Noise.hard()
    for name in ("concurrent_goals", "long_research", "duplicates", "late_arrival"):
        assert 0 < getattr(real, name) < getattr(hard, name) < 1
    assert all(hard.identification[c] <= real.identification[c] for c in oj.synth.CHANNELS)
    assert all(hard.keys[k] <= real.keys[k] for k in real.keys)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"duplicates": 1.5}, "duplicates"),
        ({"late_arrival": -0.1}, "late_arrival"),
        ({"reference_typo": float("nan")}, "reference_typo"),
        ({"identification": {"store": 0.5}}, "identification"),
        ({"identification": {**CLEAN.identification, "fax": 0.5}}, "identification key"),
        ({"identification": {**CLEAN.identification, "store": 2}}, "identification['store']"),
        ({"keys": {**CLEAN.keys, "pickup_code": "all"}}, "keys['pickup_code']"),
        ({"gaps": "smooth"}, "gaps"),
        ({"concurrent_goals": 0.1}, "concurrent_goals"),
        ({"long_research": 0.1}, "long_research"),
        ({"devices": 0.5}, "devices"),
        ({"clock_skew": "-3min"}, "clock_skew"),
        ({"local_time": ["mainframe"]}, "local_time"),
        ({"local_time": "till"}, "local_time"),
        ({"vocabulary": "yes"}, "vocabulary"),
    ],
)
def test_bad_settings_raise_config_errors_naming_the_parameter(kwargs, name):
    with pytest.raises(oj.ConfigError) as err:
        Noise(**kwargs)
    assert f"The {name!r} parameter" in str(err.value)


def test_generate_refuses_unknown_presets_and_bad_sizes():
    with pytest.raises(oj.ConfigError, match=r"'difficulty'.*'clean', 'realistic', 'hard'"):
        oj.synth.generate(10, difficulty="messy")
    with pytest.raises(oj.ConfigError, match="'n_customers'"):
        oj.synth.generate(0)
    with pytest.raises(oj.ConfigError, match="'days'"):
        oj.synth.generate(10, days=10)
    with pytest.raises(oj.ConfigError, match="'touchpoints_per_customer'"):
        oj.synth.generate(10, touchpoints_per_customer=0)
    with pytest.raises(oj.ConfigError, match="'seed'"):
        oj.synth.generate(10, seed=-1)


# ----------------------------------------------------------------------------- clean


def test_clean_observed_rows_are_the_touchpoints_under_each_systems_id(clean):
    obs, tp, truth = clean.observed, clean.touchpoints, clean.truth.observed
    assert len(obs) == len(tp) and not truth["duplicate"].any()
    rows = rows_of(clean)
    assert sorted(rows.tolist()) == list(range(len(tp)))
    for col in ("time", "channel", "event", "order_id", "cart_id", "quote_id", "value"):
        a, b = obs[col], tp[col][rows]
        assert np.array_equal(a, b) or np.allclose(a, b, equal_nan=True), col
    assert clean.vocabulary == {"channel_map": {}, "event_map": {}}
    # an identified row carries a record of its person; the truth says who, for every row
    of_record = person_of_record(clean)
    who = truth["customer"]
    assert np.array_equal(who, tp["customer"][rows])
    ident = truth["identified"]
    assert [of_record[c] for c in obs["customer"][ident].tolist()] == who[ident].tolist()
    # the clean world observes everyone a system has a file of; ads see a device only
    assert set(obs["id_kind"][~ident].tolist()) <= {"device", "till_receipt", "contact"}
    assert set(obs["id_kind"][obs["channel"] == "social"].tolist()) == {"device"}


def test_clean_visits_are_sittings_of_the_story(clean):
    tp, truth = clean.touchpoints, clean.truth
    calls = (
        np.flatnonzero((tp["event"][1:] == "purchase") & (tp["channel"][1:] == "call_centre")) + 1
    )
    prev_call = calls[
        (tp["event"][calls - 1] == "call") & (tp["channel"][calls - 1] == "call_centre")
    ]
    same_customer = tp["customer"][prev_call] == tp["customer"][prev_call - 1]
    prev_call = prev_call[same_customer]
    assert prev_call.size > 0
    # a purchase made during the call that asked for it is in the call's visit
    assert np.array_equal(truth.visit_id[prev_call], truth.visit_id[prev_call - 1])
    # every visit is on one channel and inside one journey
    v = truth.visit_id
    assert len(set(zip(v.tolist(), tp["channel"].tolist()))) == len(set(v.tolist()))
    assert len(set(zip(v.tolist(), truth.journey_id.tolist()))) == len(set(v.tolist()))


def test_roles_are_what_each_touch_did_for_its_goal(clean):
    tp, role = clean.touchpoints, clean.truth.role
    names = np.array(oj.synth.ROLES)[role]
    assert set(tp["event"][names == "closer"].tolist()) == set(oj.synth.CONVERSION_EVENTS)
    assert set(tp["event"][names == "opener"].tolist()) == {"email_click", "sms_click", "ad_click"}
    assert (names == "assist").sum() > (names == "closer").sum()


# ----------------------------------------------------------------------------- identities


def test_an_anonymous_store_purchase_is_a_till_receipt_that_the_truth_maps_to_its_person():
    noise = attrs.evolve(CLEAN, identification={**CLEAN.identification, "store": 0.0})
    w = world(noise)
    obs, truth = w.observed, w.truth.observed
    store = obs["channel"] == "store"
    assert set(obs["id_kind"][store].tolist()) == {"till_receipt"}
    assert all(c.startswith("T-") for c in obs["customer"][store].tolist())
    assert not truth["identified"][store].any()
    assert np.array_equal(truth["customer"], w.touchpoints["customer"][rows_of(w)])
    assert obs["loyalty_id"][store].tolist() == [None] * int(store.sum())
    # one receipt per store visit: the visits of the story, not of a rule
    visit = w.truth.visit_id[rows_of(w)][store]
    assert len(set(zip(visit.tolist(), obs["customer"][store].tolist()))) == len(
        set(visit.tolist())
    )
    # every store row of a person with a loyalty card is identified when every card is shown
    w1 = world(attrs.evolve(CLEAN, identification={**CLEAN.identification, "store": 1.0}))
    s1 = w1.observed["channel"] == "store"
    carded = set(w1.records["true_person_id"][w1.records["source"] == "loyalty"].tolist())
    has_card = np.isin(w1.truth.observed["customer"][s1], list(carded))
    assert np.array_equal(w1.truth.observed["identified"][s1], has_card)


def test_devices_belong_to_one_person_and_logins_link_them_to_the_account():
    noise = attrs.evolve(
        CLEAN, devices=3.0, identification={**CLEAN.identification, "web": 0.3, "app": 0.3}
    )
    w = world(noise)
    obs, truth = w.observed, w.truth.observed
    dev = obs["device_id"]
    has = np.array([d is not None for d in dev.tolist()])
    owners: dict[str, set] = {}
    for d, p in zip(dev[has].tolist(), truth["customer"][has].tolist()):
        owners.setdefault(d, set()).add(p)
    assert all(len(s) == 1 for s in owners.values())
    per_person: dict[str, set] = {}
    for d, (p,) in owners.items():
        per_person.setdefault(p, set()).add(d)
    assert np.mean([len(s) for s in per_person.values()]) > 1.5
    # a logged-in row carries the account and the device: the link the data itself gives
    of_record = person_of_record(w)
    logged = has & (obs["id_kind"] == "account")
    assert logged.any()
    for acc, d in zip(obs["customer"][logged].tolist(), dev[logged].tolist()):
        assert owners[d] == {of_record[acc]}
    anon = obs["id_kind"] == "device"
    assert np.array_equal(obs["customer"][anon & has], dev[anon & has])


def test_keys_are_present_at_their_rates_and_point_to_one_person():
    w = world(attrs.evolve(CLEAN, keys=dict.fromkeys(CLEAN.keys, 0.0)))
    obs = w.observed
    for key in ("device_id", "payment_token", "pickup_code"):
        assert set(obs[key].tolist()) == {None}, key
    # the card shown at the till is how the till knows the customer; no web order quotes one
    card = np.array([c is not None for c in obs["loyalty_id"].tolist()])
    assert np.array_equal(card, (obs["id_kind"] == "loyalty"))
    # online orders always carry the e-receipt email; in store it needs the customer's consent
    online_paid = np.isin(obs["event"], ["order", "purchase"]) & np.isin(
        obs["channel"], ["web", "app"]
    )
    assert None not in set(obs["receipt_email"][online_paid].tolist())
    assert set(obs["receipt_email"][obs["channel"] == "store"].tolist()) == {None}

    full = world()
    obs, who = full.observed, full.truth.observed["customer"]
    for key in ("payment_token", "receipt_email", "loyalty_id", "pickup_code"):
        vals = obs[key]
        has = np.array([v is not None for v in vals.tolist()])
        assert has.any(), key
        pairs = set(zip(vals[has].tolist(), who[has].tolist()))
        assert len(pairs) == len({v for v, _ in pairs}), key  # one person per key value
    # the e-receipt key hashes the person's mailbox: most web accounts hold it as it is
    web = full.records[full.records["source"] == "web"]
    mailbox = dict(zip(web["true_person_id"].tolist(), web["email"].tolist()))
    has = np.array([v is not None for v in obs["receipt_email"].tolist()])
    pairs = {(h, p) for h, p in zip(obs["receipt_email"][has].tolist(), who[has].tolist())}
    same = [
        hashlib.sha256(mailbox[p].strip().lower().encode()).hexdigest()[:16] == h
        for h, p in pairs
        if p in mailbox
    ]
    assert len(same) > 20 and np.mean(same) > 0.8


def test_pickup_codes_tie_a_click_and_collect_order_to_its_pickup():
    w = world()
    obs, rows = w.observed, rows_of(w)
    code = obs["pickup_code"]
    has = np.array([c is not None for c in code.tolist()])
    goal = w.truth.episode_id[rows]
    assert len(set(zip(code[has].tolist(), goal[has].tolist()))) == len(set(code[has].tolist()))
    by_code: dict[str, set] = {}
    for c, ch in zip(code[has].tolist(), obs["channel"][has].tolist()):
        by_code.setdefault(c, set()).add(ch)
    assert any("store" in chs and chs & {"web", "app"} for chs in by_code.values())


# ----------------------------------------------------------------------------- reference ids


def test_reference_ids_missing_or_mistyped_at_their_rates():
    gone = world(attrs.evolve(CLEAN, reference_missing=1.0))
    for col in ("order_id", "cart_id", "quote_id", "reservation_id"):
        assert set(gone.observed[col].tolist()) == {None}
    typo = world(attrs.evolve(CLEAN, reference_typo=1.0))
    rows = rows_of(typo)
    for col in ("order_id", "cart_id", "quote_id"):
        true = typo.touchpoints[col][rows]
        seen = typo.observed[col]
        has = np.array([t is not None for t in true.tolist()])
        assert has.any()
        assert all(a != b for a, b in zip(seen[has].tolist(), true[has].tolist()))
        # one digit changed, the prefix kept
        for a, b in list(zip(seen[has].tolist(), true[has].tolist()))[:100]:
            assert len(a) == len(b) and a[0] == b[0] and sum(x != y for x, y in zip(a, b)) == 1


# ----------------------------------------------------------------------------- duplicates, time


@settings(max_examples=6, deadline=None)
@given(st.floats(0, 1), st.integers(0, 2**16))
def test_double_sends_add_exactly_their_count_of_exact_copies(rate, seed):
    w = world(attrs.evolve(CLEAN, duplicates=rate), n=40, seed=seed, records=True)
    truth = w.truth.observed
    dup = truth["duplicate"]
    assert len(w.observed) == len(w.touchpoints) + int(dup.sum())
    originals = rows_of(w)[~dup]
    assert sorted(originals.tolist()) == list(range(len(w.touchpoints)))
    first = {}
    for i, r in enumerate(rows_of(w).tolist()):
        if not dup[i]:
            first[r] = i
    for i in np.flatnonzero(dup).tolist():
        assert w.observed.row(i) == w.observed.row(first[rows_of(w)[i]])


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 30), st.sampled_from([(), ("till",), ("contact_centre", "till")]))
def test_clocks_and_local_times_change_nothing_of_the_truth(minutes, local):
    base = world(n=60, seed=2)
    noise = attrs.evolve(CLEAN, clock_skew=f"{minutes}min", local_time=local)
    w = world(noise, n=60, seed=2)
    assert w.touchpoints.equals(base.touchpoints)
    for name in ("breaks", "followups", "journeys"):
        assert getattr(w.truth, name).equals(getattr(base.truth, name))
    assert np.array_equal(w.truth.visit_id, base.truth.visit_id)
    assert w.truth.observed.equals(base.truth.observed)


def test_tills_are_off_by_their_own_skew_and_local_clocks_by_the_paris_offset():
    w = world(attrs.evolve(CLEAN, clock_skew="5min"))
    obs, rows = w.observed, rows_of(w)
    true_t = w.touchpoints["time"][rows]
    off = (obs["time"] - true_t).astype("timedelta64[s]").astype(np.int64)
    till = obs["source"] == "till"
    assert (off[~till] == 0).all()
    per_store = {}
    for s, o in zip(obs["store"][till].tolist(), off[till].tolist()):
        per_store.setdefault(s, set()).add(o)
    assert all(len(v) == 1 for v in per_store.values()) and len(per_store) > 1
    assert max(abs(o) for v in per_store.values() for o in v) < 60 * 60
    local = world(attrs.evolve(CLEAN, local_time=("till",)))
    obs, rows = local.observed, rows_of(local)
    true_t = local.touchpoints["time"][rows]
    till = obs["source"] == "till"
    hours = ((obs["time"] - true_t)[till] / np.timedelta64(1, "h")).astype(int)
    month = true_t[till].astype("datetime64[M]").astype(int) % 12 + 1
    assert set(hours[month == 1].tolist()) == {1} and set(hours[month == 7].tolist()) == {2}
    # the switch: 2024-03-31 01:00 UTC
    assert np.array_equal(
        hours,
        np.where(
            (true_t[till] >= np.datetime64("2024-03-31T01:00"))
            & (true_t[till] < np.datetime64("2024-10-27T01:00")),
            2,
            1,
        ),
    )


def test_rows_arrive_in_load_order_some_of_them_late():
    w = world(attrs.evolve(CLEAN, late_arrival=0.2))
    obs, rows = w.observed, rows_of(w)
    loaded = obs["loaded_at"]
    assert np.all(np.diff(loaded.astype(np.int64)) >= 0)
    lag = (loaded - w.touchpoints["time"][rows]) / np.timedelta64(1, "h")
    assert (lag >= 0).all()
    assert 0.1 < np.mean(lag > 2) < 0.3
    assert not w.observed.sorted_by


# ----------------------------------------------------------------------------- words


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**16))
def test_each_systems_words_map_back_to_the_librarys(seed):
    w = world(attrs.evolve(CLEAN, vocabulary=True), n=60, seed=seed)
    obs, rows = w.observed, rows_of(w)
    cmap, emap = w.vocabulary["channel_map"], w.vocabulary["event_map"]
    back_ch = [cmap.get(c, c) for c in obs["channel"].tolist()]
    back_ev = [emap.get(e, e) for e in obs["event"].tolist()]
    assert back_ch == w.touchpoints["channel"][rows].tolist()
    assert back_ev == w.touchpoints["event"][rows].tolist()


def test_words_are_the_systems_own(realistic):
    obs = realistic.observed
    till_events = set(obs["event"][obs["source"] == "till"].tolist())
    assert {"VENTE", "achat"} <= till_events
    assert "appel_entrant" in set(obs["event"].tolist())
    assert "Purchase" in set(obs["event"].tolist())
    assert "magasin" in set(obs["channel"].tolist())
    assert not set(realistic.vocabulary["event_map"]) & set(oj.synth.CONVERSION_EVENTS)


# ----------------------------------------------------------------------------- the story


def test_parallel_goals_interleave_and_the_truth_follows_the_rows(realistic):
    tp, truth = realistic.touchpoints, realistic.truth
    assert tp.is_sorted
    ep, cust = truth.episode_id, tp.raw("customer")
    change = np.flatnonzero((ep[1:] != ep[:-1]) & (cust[1:] == cust[:-1])) + 1
    back = [i for i in change.tolist() if ep[i] in set(ep[max(0, i - 50) : i - 1].tolist())]
    assert back  # a goal resumed after a step of another goal
    # the truth's rows still point at the right rows: a break goes from its kind's channels
    b = truth.breaks
    kinds = dict(zip(b["kind"].tolist(), zip(b["from_channel"].tolist(), b["to_channel"].tolist())))
    assert kinds
    assert (tp["channel"][b["from_row"]] == b["from_channel"]).all()
    assert (tp["channel"][b["to_row"]] == b["to_channel"]).all()
    assert (truth.journey_id[b["to_row"]] == b["to_journey"]).all()
    f = realistic.truth.followups
    ok = f["response_row"] >= 0
    assert (tp["time"][f["response_row"][ok]] > tp["time"][f["trigger_row"][ok]]).all()


def test_campaign_reminders_assist_in_the_middle_of_goals(realistic):
    tp, role = realistic.touchpoints, realistic.truth.role
    clicks = np.isin(tp["event"], ["email_click", "sms_click", "ad_click"])
    names = np.array(oj.synth.ROLES)[role[clicks]]
    assert set(names.tolist()) == {"opener", "assist"}
    assert (tp["campaign"][clicks] != None).all()  # noqa: E711


def test_research_online_then_weeks_later_in_store(realistic):
    b = realistic.truth.breaks
    ropo = b["kind"] == "ropo"
    days = b["delay"][ropo] / 86_400
    assert (days > 21).sum() > 0 and (days < 7).sum() > 0


def test_followup_status_is_the_drawn_delay_against_the_brands_promise(realistic):
    f = realistic.truth.followups
    promise = {"welcome_after_signup": 2 * 86_400.0, "answer_to_complaint": 86_400.0}
    limit = np.array([promise[r] for r in f["rule"].tolist()])
    status = f["status"]
    answered = status != "missing"
    assert np.isnan(f["delay"][~answered]).all()
    assert np.array_equal(status[answered] == "late", f["delay"][answered] > limit[answered])
    assert set(status.tolist()) == {"on_time", "late", "missing"}

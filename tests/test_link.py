"""Linking touchpoints to persons: through records, through link keys hop by hop, and the
evidence kept on each row; hand-made cases, properties and the synthetic world's truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.identity import (
    LINK_STATUSES,
    CustomerRecordTable,
    key_agreement,
    link_touchpoints,
    resolve,
)

RECORDS = CustomerRecordTable.from_columns(
    {
        "record_id": ["W1", "L1", "W2", "L2"],
        "first_name": ["Zoé", "Zoe", "Paul", "Paul"],
        "last_name": ["Martin", "Martin", "Durand", "Durand"],
        "email": ["zoe@mail.fr", "zoe@mail.fr", "paul@mail.fr", "paul@mail.fr"],
        "loyalty_id": [None, "290001", None, "290002"],
        "email_hash": ["h-zoe", "h-zoe", "h-paul", "h-paul"],
    },
    extra=["email_hash"],
)


@pytest.fixture(scope="module")
def res():
    return resolve(RECORDS)


def touchpoints(rows, keys=("device", "token", "pickup")):
    """rows: (customer, day, channel, event, {key: value})."""
    cols = {
        "customer": [r[0] for r in rows],
        "time": [f"2024-05-{r[1]:02d}" for r in rows],
        "channel": [r[2] for r in rows],
        "event": [r[3] for r in rows],
    }
    for k in keys:
        cols[k] = [r[4].get(k) if len(r) > 4 else None for r in rows]
    return oj.TouchpointTable.from_columns(cols, extra=list(keys))


def link(tp, res, **kw):
    kw.setdefault("on", {"customer": "record_id"})
    kw.setdefault("keys", ["device", "token", "pickup"])
    return link_touchpoints(tp, res, **kw)


def test_a_logged_in_session_names_its_device_and_the_device_its_other_sessions(res):
    tp = touchpoints(
        [
            ("W1", 1, "web", "product_view", {"device": "d1"}),
            ("d1", 2, "web", "product_view", {"device": "d1"}),  # the same device, logged out
            ("d9", 3, "web", "product_view", {"device": "d9"}),  # never logged in
        ]
    )
    out = link(tp, res)
    person = out["customer"][0]
    assert out["customer"].tolist() == [person, person, "d9"]
    assert out["link_status"].tolist() == ["record", "key", "unmatched_key"]
    assert out["link_key"].tolist() == ["customer", "device", None]
    assert out["link_value"].tolist() == ["W1", "d1", None]
    assert out["original_customer"].tolist() == ["W1", "d1", "d9"]
    assert out["anonymous"].tolist() == [False, False, True]
    assert out["link_confidence"][:2].tolist() == [1.0, 1.0]
    assert np.isnan(out["link_confidence"][2])


def test_keys_chain_hop_by_hop_up_to_max_hops(res):
    # a till receipt shares a pickup code with an anonymous web order, whose device a
    # logged-in session used: two hops
    rows = [
        ("W2", 1, "web", "product_view", {"device": "d2"}),
        ("d2", 2, "web", "order", {"device": "d2", "pickup": "PU1"}),
        ("T-1", 3, "store", "pickup", {"pickup": "PU1"}),
    ]
    out = link(touchpoints(rows), res)
    assert len(set(out["customer"].tolist())) == 1
    assert out["link_status"].tolist() == ["record", "key", "key"]
    assert out["link_key"].tolist() == ["customer", "device", "pickup"]
    one_hop = link(touchpoints(rows), res, max_hops=1)
    assert one_hop["link_status"].tolist() == ["record", "key", "unmatched_key"]
    assert link(touchpoints(rows), res, max_hops=0)["anonymous"].tolist() == [False, True, True]


def test_a_key_of_two_persons_links_nothing_and_says_ambiguous(res):
    rows = [
        ("W1", 1, "web", "order", {"token": "pt_fam"}),
        ("W2", 2, "web", "order", {"token": "pt_fam"}),  # a family card
        ("T-1", 3, "store", "purchase", {"token": "pt_fam"}),
        ("T-2", 4, "store", "purchase", {"token": "pt_fam", "device": "d1"}),
        ("W1", 5, "web", "product_view", {"device": "d1"}),
    ]
    out = link(touchpoints(rows), res)
    assert out["link_status"].tolist() == ["record", "record", "ambiguous", "key", "record"]
    # the receipt with the shared token and Zoé's device is hers: the family card is set aside
    assert out["customer"][3] == out["customer"][0]
    assert out["customer"][2] == "T-1"


def test_confidence_multiplies_along_the_chain_and_weak_links_are_not_made(res):
    rows = [
        ("W1", 1, "web", "order", {"device": "d1", "token": "pt_1"}),
        ("d7", 2, "app", "product_view", {"device": "d7", "token": "pt_1"}),
        ("T-1", 3, "store", "purchase", {"device": "d7"}),
    ]
    out = link(touchpoints(rows), res, keys={"device": 0.9, "token": 0.8}, min_confidence=0.7)
    assert out["link_confidence"].tolist() == [1.0, pytest.approx(0.8), pytest.approx(0.72)]
    strict = link(touchpoints(rows), res, keys={"device": 0.9, "token": 0.8}, min_confidence=0.75)
    assert strict["link_status"].tolist() == ["record", "key", "unmatched_key"]


def test_too_common_key_values_link_nothing(res):
    rows = [("W1", 1, "web", "order", {"device": "kiosk"})]
    rows += [(f"T-{i}", 2, "store", "purchase", {"device": "kiosk"}) for i in range(5)]
    out = link(touchpoints(rows), res, max_ids_per_key=3)
    assert out["anonymous"].tolist() == [False] + [True] * 5
    assert set(out["link_status"][1:]) == {"unmatched_key"}


def test_record_columns_link_normalized_fields_and_other_columns_as_text(res):
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["d1", "T-1", "T-2"],
            "time": ["2024-05-01", "2024-05-02", "2024-05-03"],
            "channel": ["web", "store", "store"],
            "event": ["order", "purchase", "purchase"],
            "card": ["290001", None, None],
            "receipt": [None, "h-paul", "h-nobody"],
        },
        extra=["card", "receipt"],
    )
    out = link_touchpoints(tp, res, on={"card": "loyalty_id", "receipt": "email_hash"})
    assert out["link_key"].tolist() == ["card", "receipt", None]
    assert out["customer"][0] != out["customer"][1]
    assert out["anonymous"].tolist() == [False, False, True]
    with pytest.raises(oj.ConfigError, match="cannot link on record field 'shoe_size'"):
        link_touchpoints(tp, res, on={"card": "shoe_size"})


def test_rows_found_through_records_keep_their_own_person():
    """A customer id whose rows find records of two persons (the resolution did not merge
    them) stays ambiguous as a whole; each row with a record keeps its own."""
    recs = CustomerRecordTable.from_columns(
        {"record_id": ["A", "B"], "email": ["a@x.fr", "b@y.fr"], "first_name": ["Ann", "Bob"]}
    )
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["c", "c", "c"],
            "time": ["2024-05-01", "2024-05-02", "2024-05-03"],
            "channel": ["web"] * 3,
            "event": ["view"] * 3,
            "rec": ["A", "B", None],
        },
        extra=["rec"],
    )
    with pytest.warns(oj.OmnijourneyWarning, match="linked no two"):
        two = resolve(recs)
    out = link_touchpoints(tp, two, on={"rec": "record_id"})
    assert out["customer"].tolist() == ["P1", "P2", "c"]
    assert out["link_status"].tolist() == ["record", "record", "ambiguous"]


def test_household_level_links_to_households(res):
    tp = touchpoints([("W1", 1, "web", "order"), ("L2", 2, "store", "purchase")])
    out = link(tp, res, level="household")
    assert all(c.startswith("H") for c in out["customer"].tolist())


def test_key_agreement_counts_values_seen_with_two_linked_ids(res):
    rows = [
        ("W1", 1, "web", "order", {"token": "pt_1"}),
        ("L1", 2, "store", "purchase", {"token": "pt_1"}),  # the same person: agrees
        ("W2", 3, "web", "order", {"token": "pt_2"}),
        ("L1", 4, "store", "purchase", {"token": "pt_2"}),  # another person: disagrees
        ("T-1", 5, "store", "purchase", {"token": "pt_3"}),
    ]
    t = key_agreement(touchpoints(rows), res, {"customer": "record_id"}, ["token"])
    assert t["values"].tolist() == [3] and t["shared_values"].tolist() == [2]
    assert t["checked"].tolist() == [2] and t["agreeing"].tolist() == [1]
    assert np.isnan(t["agreement"][0])  # fewer than 30 checked values: not estimated


def test_every_row_is_kept_with_a_known_status(res):
    rows = [
        ("W1", 1, "web", "order", {"token": "pt_1"}),
        ("T-1", 2, "store", "purchase", {"token": "pt_1"}),
        ("T-2", 3, "store", "purchase"),
    ]
    out = link(touchpoints(rows), res)
    assert len(out) == 3 and set(out["link_status"]) <= set(LINK_STATUSES)
    assert out.columns[: len(touchpoints(rows).columns)] == touchpoints(rows).columns


def test_bad_input_names_the_parameter_or_column(res):
    tp = touchpoints([("W1", 1, "web", "order", {"device": "d1"})])
    with pytest.raises(oj.SchemaError, match="no column 'cookie'"):
        link(tp, res, keys=["cookie"])
    with pytest.raises(oj.ConfigError, match="'keys' parameter"):
        link(tp, res, keys="device")
    with pytest.raises(oj.ConfigError, match="'min_confidence' parameter"):
        link(tp, res, min_confidence=1.5)
    with pytest.raises(oj.ConfigError, match=r"keys\['device'\]. parameter must be a number"):
        link(tp, res, keys={"device": -1})
    with pytest.raises(oj.ConfigError, match="'level' parameter"):
        link(tp, res, level="family")
    with pytest.raises(oj.ConfigError, match="'max_hops' parameter"):
        link(tp, res, max_hops=-1)
    floats = oj.TouchpointTable.from_columns(
        {"customer": ["a"], "time": ["2024-05-01"], "channel": ["web"], "event": ["x"],
         "score": [0.5]},
        extra=["score"],
    )  # fmt: skip
    with pytest.raises(oj.SchemaError, match=r"'score' .* holds float values; link keys are ids"):
        link_touchpoints(floats, res, on={"customer": "record_id"}, keys=["score"])
    # a key column mixing text and numbers, or nulls where ids are required: the loader's
    # own errors, before any linking
    with pytest.raises(oj.DataError, match="mixes string and integer ids"):
        oj.TouchpointTable.from_columns(
            {"customer": ["a", "b"], "time": ["2024-05-01"] * 2, "channel": ["web"] * 2,
             "event": ["x"] * 2, "device": ["d1", 7]},
            extra=["device"],
        )  # fmt: skip
    with pytest.raises(oj.DataError, match="customer"):
        oj.TouchpointTable.from_columns(
            {"customer": ["a", None], "time": ["2024-05-01"] * 2, "channel": ["web"] * 2,
             "event": ["x"] * 2},
        )  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(8)))
def test_links_do_not_depend_on_the_row_order(res, perm):
    rows = [
        ("W1", 1, "web", "order", {"device": "d1", "token": "pt_1"}),
        ("d1", 2, "web", "product_view", {"device": "d1"}),
        ("T-1", 3, "store", "purchase", {"token": "pt_1"}),
        ("W2", 4, "web", "order", {"token": "pt_2", "pickup": "PU2"}),
        ("T-2", 5, "store", "pickup", {"pickup": "PU2"}),
        ("T-3", 6, "store", "purchase", {"token": "pt_9"}),
        ("d5", 7, "app", "product_view"),
        ("L1", 8, "store", "purchase", {"token": "pt_1"}),
    ]
    a = link(touchpoints(rows), res)
    b = link(touchpoints([rows[i] for i in perm]), res)
    inv = np.argsort(perm)
    for col in ("customer", "link_status", "link_key", "link_value"):
        assert a[col].tolist() == b[col][inv].tolist(), col
    np.testing.assert_array_equal(a["link_confidence"], b["link_confidence"][inv])


def test_linking_the_realistic_world_reaches_its_linkable_rows():
    """On the realistic world, linking with the keys the systems keep puts most observed rows
    under a person, and almost always the right one."""
    world = oj.synth.generate(600, seed=5, prices=False, difficulty="realistic")
    records = CustomerRecordTable.from_columns(world.records, extra=["true_person_id"])
    resolution = resolve(records)
    keys = ["device_id", "payment_token", "pickup_code", "receipt_email", "order_id"]
    out = link_touchpoints(
        world.observed, resolution, on={"customer": "record_id", "loyalty_id": "loyalty_id"},
        keys=keys,
    )  # fmt: skip
    truth = world.truth.observed
    linked = ~out["anonymous"]
    named = truth["identified"]
    assert linked.mean() > named.mean() + 0.2
    # pairs of linked rows put under one customer are, nearly always, one true person
    person = truth.raw("customer")
    cust = out.raw("customer")
    rows = np.flatnonzero(linked)
    first = {}
    wrong = 0
    for r in rows.tolist():
        wrong += first.setdefault(int(cust[r]), int(person[r])) != int(person[r])
    assert wrong / rows.size < 0.02

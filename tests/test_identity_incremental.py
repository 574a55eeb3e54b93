"""Incremental resolution: batches of records, stable ids, overrides on a resolution, JSON."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.identity import (
    CustomerRecordTable,
    Overrides,
    Resolution,
    ResolutionChanges,
    resolve,
)
from omnijourney.identity._incremental import stable_ids


@pytest.fixture(scope="module")
def records():
    world = oj.synth.generate(700, seed=11, prices=False, touchpoints_per_customer=1)
    return CustomerRecordTable.from_columns(
        world.records, extra=["true_person_id", "true_household_id"]
    )


@pytest.fixture(scope="module")
def split(records):
    """Two thirds of the records resolved first, the rest to come in batches."""
    order = np.random.default_rng(0).permutation(len(records))
    cut = 2 * len(records) // 3
    return order[:cut], order[cut:]


@pytest.fixture(scope="module")
def base(records, split):
    return resolve(records.take(split[0]))


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings group the rows the same way."""
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return np.unique(pairs[:, 0]).size == np.unique(pairs[:, 1]).size == pairs.shape[0]


def unchanged_ids(changes: ResolutionChanges) -> set[int]:
    """Earlier person ids a change touched (their records may carry other ids now)."""
    touched = {kept for kept, _ in changes.merged_persons}
    touched |= {old for _, olds in changes.merged_persons for old in olds}
    touched |= {old for old, _ in changes.split_persons}
    return touched


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), n_batches=st.integers(1, 3))
def test_batches_give_the_partition_of_a_full_run_and_keep_ids(
    records, split, base, seed, n_batches
):
    rest = np.random.default_rng(seed).permutation(split[1])
    res = base
    touched: set[int] = set()
    for batch in np.array_split(rest, n_batches):
        res = res.update(records.take(batch))
        assert res.changes.added_records == batch.size
        touched |= unchanged_ids(res.changes)
    full = resolve(res.records, base.rules, model=base.model, person_model=base.person_model)
    assert same_partition(res.person_id, full.person_id)
    assert same_partition(res.household_id, full.household_id)
    # the first records keep their person unless a change named it
    before = base.person_id
    now = res.person_id[: len(base.records)]
    keep = ~np.isin(before, list(touched))
    assert np.array_equal(now[keep], before[keep])
    assert len(res.records) == len(records)


def test_an_updated_record_replaces_the_earlier_version(records, split, base):
    rows = base.records
    # give record 0 the email of a record of another person: the two persons merge
    other = int(np.flatnonzero(base.person_id != base.person_id[0])[0])
    email = rows["email"][other] or "someone@example.org"
    data = {name: [rows[name][0]] for name in ("source", "record_id", "first_name", "last_name")}
    data["email"] = [email]
    batch = CustomerRecordTable.from_columns(data)
    res = base.update(batch)
    assert res.changes.updated_records == 1 and res.changes.added_records == 0
    assert len(res.records) == len(rows)
    assert res.records["email"][0] == email
    full = resolve(res.records, base.rules, model=base.model, person_model=base.person_model)
    assert same_partition(res.person_id, full.person_id)


def test_new_persons_get_fresh_ids():
    old = CustomerRecordTable.from_columns(
        {"source": ["web", "shop"], "record_id": ["W1", "S1"], "email": ["a@x.fr", "b@x.fr"]}
    )
    with pytest.warns(oj.OmnijourneyWarning, match="linked no two"):
        res = resolve(old)
    new = res.update(
        CustomerRecordTable.from_columns(
            {"source": ["web"], "record_id": ["W2"], "email": ["c@x.fr"]}
        )
    )
    assert new.person_id.tolist() == [*res.person_id.tolist(), 3]
    assert new.changes.new_persons == (3,)


def test_stable_ids_name_merges_and_splits():
    ids, new, merged, split = stable_ids(
        np.array([0, 0, 1, 1, 2]), np.array([4, 9, 9, 9, -1]), next_id=10
    )
    assert ids.tolist() == [4, 4, 9, 9, 10]
    assert new == (10,)
    assert merged == [(4, (4, 9))]
    assert split == [(9, (4, 9))]


def test_undo_a_wrong_merge_keeps_other_ids(base):
    sizes = np.bincount(base.person_id)
    person = int(np.flatnonzero(sizes >= 2)[0])
    a, b = (int(r) for r in base.records_of(person)[:2])
    undone = base.with_overrides(Overrides(cannot_link=[(base.record_key(a), base.record_key(b))]))
    assert undone.person_id[a] != undone.person_id[b]
    assert {old for old, _ in undone.changes.split_persons} == {person}
    others = ~np.isin(base.person_id, [person])
    assert np.array_equal(undone.person_id[others], base.person_id[others])
    assert undone.model is base.model


def test_must_link_on_a_resolution_merges_two_persons(base):
    a = 0
    b = int(np.flatnonzero(base.household_id != base.household_id[a])[0])
    merged = base.with_overrides(Overrides(must_link=[(base.record_key(a), base.record_key(b))]))
    assert merged.person_id[a] == merged.person_id[b]
    assert len(merged.changes.merged_persons) == 1
    touched = [base.person_id[a], base.person_id[b]]
    others = ~np.isin(base.person_id, touched)
    assert np.array_equal(merged.person_id[others], base.person_id[others])


def test_resolution_round_trips_through_json_and_updates_the_same(records, split, base):
    text = oj.to_json(base)
    back = oj.from_json(text, Resolution)
    for name in ("person_id", "household_id", "pair_left", "pair_right", "gamma", "link"):
        assert np.array_equal(getattr(back, name), getattr(base, name)), name
    assert back.model == base.model and back.person_model == base.person_model
    assert back.rules == base.rules and back.overrides == base.overrides
    assert np.array_equal(back.records["email"], base.records["email"])
    batch = records.take(split[1][:50])
    assert np.array_equal(back.update(batch).person_id, base.update(batch).person_id)


def test_changes_round_trip_through_json():
    changes = ResolutionChanges(added_records=2, new_persons=[5], merged_persons=[(1, (1, 2))])
    assert oj.from_json(oj.to_json(changes), ResolutionChanges) == changes


def test_update_refuses_columns_the_resolution_lacks(base):
    batch = CustomerRecordTable.from_columns(
        {"source": ["web"], "record_id": ["new"], "card_id": ["123"]}
    )
    with pytest.raises(oj.ConfigError, match="card_id"):
        base.update(batch)

"""Review that persists: the queue, decisions kept through updates and saved state, the log
of what the guards refused."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.identity import (
    CustomerRecordTable,
    Overrides,
    Resolution,
    guard_log,
    resolve,
    review_queue,
)


@pytest.fixture(scope="module")
def records():
    world = oj.synth.generate(400, seed=17, prices=False, touchpoints_per_customer=1)
    return CustomerRecordTable.from_columns(world.records, extra=["true_person_id"])


@pytest.fixture(scope="module")
def base(records):
    keep = np.random.default_rng(3).random(len(records)) < 0.8
    return resolve(records.filter(keep).compact()), records.filter(~keep).compact()


def _family():
    return CustomerRecordTable.from_columns(
        {
            "source": ["web", "shop", "web", "shop"],
            "record_id": ["W1", "S1", "W2", "S2"],
            "first_name": ["Zoe", "Zoe", "Paul", "Paul"],
            "last_name": ["Roy", "Roy", "Roy", "Roy"],
            "email": ["zoe@mail.fr", "zoe@mail.fr", "paul@mail.fr", "paul@mail.fr"],
            "address": ["3 rue Vauban"] * 4,
            "postcode": ["21000"] * 4,
            "date_of_birth": ["1980-02-03", "1980-02-03", "1979-05-06", "1979-05-06"],
        }
    )


def test_never_merge_keeps_two_persons_out_of_one_household():
    res = resolve(_family())
    assert res.household_id[0] == res.household_id[2]
    apart = res.with_overrides(Overrides(never_merge=[(("web", "W1"), ("web", "W2"))]))
    assert apart.person_id[0] == apart.person_id[1]
    assert apart.household_id[0] != apart.household_id[2]
    # a cannot-link parts persons, not households
    parted = res.with_overrides(Overrides(cannot_link=[(("web", "W1"), ("shop", "S1"))]))
    assert parted.person_id[0] != parted.person_id[1]


def test_decisions_survive_updates_and_saved_state(tmp_path, base):
    res, rest = base
    sizes = np.bincount(res.person_id)
    person = int(np.flatnonzero(sizes >= 2)[0])
    a, b = (int(r) for r in res.records_of(person)[:2])
    other = int(np.flatnonzero(res.household_id != res.household_id[a])[0])
    decided = res.with_overrides(
        Overrides(
            cannot_link=[(res.record_key(a), res.record_key(b))],
            must_link=[(res.record_key(a), res.record_key(other))],
        )
    )
    assert decided.person_id[a] != decided.person_id[b]
    assert decided.person_id[a] == decided.person_id[other]
    loaded = Resolution.load(decided.save(tmp_path / "decided.ojr"))
    assert loaded.overrides == decided.overrides
    later = loaded.update(rest)
    assert later.overrides == decided.overrides
    assert later.person_id[a] != later.person_id[b]
    assert later.person_id[a] == later.person_id[other]
    full = resolve(later.records, later.rules, overrides=later.overrides, model=later.model,
                   person_model=later.person_model)  # fmt: skip
    pairs = np.unique(np.stack([later.person_id, full.person_id], axis=1), axis=0)
    assert np.unique(pairs[:, 0]).size == np.unique(pairs[:, 1]).size == pairs.shape[0]
    # a refit (new models fitted on every record) applies the same decisions
    refit = loaded.update(rest, refit=True)
    assert refit.overrides == decided.overrides
    assert refit.model != decided.model
    assert refit.person_id[a] != refit.person_id[b]
    assert refit.person_id[a] == refit.person_id[other]


def test_a_decision_naming_an_unknown_record_is_refused(base):
    res, _ = base
    with pytest.raises(oj.ConfigError, match="no record 'ghost' in source 'web'"):
        res.with_overrides(Overrides(never_merge=[(("web", "ghost"), res.record_key(0))]))


def test_review_queue_is_near_the_boundary_and_ranked_by_what_it_changes(base):
    res, _ = base
    queue = review_queue(res, low=0.05, high=0.95, limit=1000, explain=3)
    assert len(queue) > 0
    assert ((queue["probability"] >= 0.05) & (queue["probability"] <= 0.95)).all()
    # ranked by records touched, largest first (no value given)
    assert (np.diff(queue["records"]) <= 0).all()
    assert queue["explanation"][0].startswith(queue["left"][0])
    assert queue["explanation"][3] is None
    # with values: the most valuable customers first
    value = np.zeros(res.n_records)
    last = queue.row(len(queue) - 1)
    row = next(i for i, k in enumerate(zip(res.records["source"], res.records["record_id"]))
           if f"{k[0]}/{k[1]}" == last["left"])  # fmt: skip
    value[row] = 1000.0
    ranked = review_queue(res, value=value, low=0.05, high=0.95, limit=1000, explain=0)
    assert ranked["left"][0] == last["left"] or ranked["right"][0] == last["left"]
    assert ranked["value"][0] >= 1000.0
    # a decided pair leaves the queue
    left, right = queue.row(0)["left"].split("/"), queue.row(0)["right"].split("/")
    decided = res.with_overrides(Overrides(must_link=[(tuple(left), tuple(right))]))
    after = review_queue(decided, low=0.05, high=0.95, limit=1000, explain=0)
    names = set(zip(after["left"].tolist(), after["right"].tolist()))
    assert (queue.row(0)["left"], queue.row(0)["right"]) not in names
    with pytest.raises(oj.ConfigError, match="'low'"):
        review_queue(res, low=0.9, high=0.1)


def test_guard_log_counts_the_links_each_guard_refused(base):
    res, _ = base
    log = guard_log(res)
    refused = res.state().scores.refused
    assert int(log["refused"].sum()) == int((refused > 0).sum())
    assert set(log["level"].tolist()) <= {"person", "household"}
    # a cannot-link decision is refused by its guard
    person = int(np.flatnonzero(np.bincount(res.person_id) >= 2)[0])
    a, b = (int(r) for r in res.records_of(person)[:2])
    split = res.with_overrides(Overrides(cannot_link=[(res.record_key(a), res.record_key(b))]))
    after = guard_log(split)
    cannot = after["refused"][(after["guard"] == "cannot-link") & (after["level"] == "person")]
    assert cannot.sum() >= 1

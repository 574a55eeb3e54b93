"""A resolution over time: updates at the cost of the batch, the change feed, saved state."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.identity import CustomerRecordTable, Overrides, Resolution, resolve

RECORD_COLUMNS = ("first_name", "last_name", "email", "phone", "address", "postcode",
                  "date_of_birth")  # fmt: skip


@pytest.fixture(scope="module")
def records():
    world = oj.synth.generate(500, seed=23, prices=False, touchpoints_per_customer=1)
    return CustomerRecordTable.from_columns(world.records, extra=["true_person_id"])


@pytest.fixture(scope="module")
def base(records):
    keep = np.random.default_rng(1).random(len(records)) < 0.7
    return resolve(records.filter(keep).compact())


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return np.unique(pairs[:, 0]).size == np.unique(pairs[:, 1]).size == pairs.shape[0]


def full_run(res: Resolution) -> Resolution:
    return resolve(res.records, res.rules, overrides=res.overrides, model=res.model,
                   person_model=res.person_model)  # fmt: skip


def _batch(records: CustomerRecordTable, rows: np.ndarray, edits: dict) -> CustomerRecordTable:
    """Records at ``rows`` as a table of their own, with some values replaced."""
    data = {}
    for name in ("source", "record_id", *RECORD_COLUMNS):
        values = records[name][rows].tolist()
        for i, value in edits.get(name, {}).items():
            values[i] = value
        data[name] = values
    return CustomerRecordTable.from_columns(data)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_batches=st.integers(1, 4),
    resend=st.integers(0, 6),
)
def test_any_batches_give_the_full_runs_partition_and_keep_ids(
    records, base, seed, n_batches, resend
):
    """New records in any split, some earlier records sent again with another email or
    phone (taken from another record: merges and splits happen)."""
    rng = np.random.default_rng(seed)
    known = {(s, r) for s, r in zip(base.records["source"], base.records["record_id"])}
    fresh = np.array(
        [
            i
            for i, key in enumerate(zip(records["source"], records["record_id"]))
            if key not in known
        ]
    )
    fresh = rng.permutation(fresh)
    res = base
    touched: set[int] = set()
    for part in np.array_split(fresh, n_batches):
        again = rng.choice(len(base.records), size=resend, replace=False)
        donors = rng.choice(len(records), size=resend)
        batch_rows = np.concatenate([part, np.zeros(0, np.int64)]).astype(np.int64)
        batch = _batch(records, batch_rows, {})
        if resend:
            column = "email" if rng.random() < 0.5 else "phone"
            edits = {column: dict(enumerate(records[column][donors].tolist()))}
            sent = _batch(base.records, again, edits)
            both = CustomerRecordTable.from_columns(
                {name: [*batch[name].tolist(), *sent[name].tolist()]
                 for name in ("source", "record_id", *RECORD_COLUMNS)}
            )  # fmt: skip
            batch = both
        before = res
        res = res.update(batch)
        assert res.changes.added_records == part.size
        assert res.changes.updated_records == resend
        full = full_run(res)
        assert same_partition(res.person_id, full.person_id)
        assert same_partition(res.household_id, full.household_id)
        # ids move only where the change feed says
        listed = set(res.changes.feed["person_before"].tolist())
        touched |= listed
        stay = ~np.isin(before.person_id, list(listed))
        assert np.array_equal(res.person_id[: len(before.records)][stay], before.person_id[stay])
    assert len(res.records) == len(records)


def test_an_update_works_on_the_batch_only(monkeypatch, base, records):
    """Normalization of the batch's records only, comparison of the new pairs only, no model
    fitted and no full pass of scoring."""
    import omnijourney.identity._candidates as cands
    import omnijourney.identity._resolve as pipeline
    import omnijourney.identity._state as state

    normalized, compared = [], []
    real_normalize, real_compare = state.normalize_records, cands.compare_pairs

    def count_normalize(recs, *args, **kwargs):
        normalized.append(len(recs))
        return real_normalize(recs, *args, **kwargs)

    def count_compare(norm, comps, left, right):
        compared.append(left.size)
        return real_compare(norm, comps, left, right)

    def forbidden(*args, **kwargs):
        raise AssertionError("an update ran a step of the full pipeline")

    known = {(s, r) for s, r in zip(base.records["source"], base.records["record_id"])}
    fresh = [
        i for i, k in enumerate(zip(records["source"], records["record_id"])) if k not in known
    ]
    batch = _batch(records, np.array(fresh[:20]), {})
    monkeypatch.setattr(state, "normalize_records", count_normalize)
    monkeypatch.setattr(cands, "compare_pairs", count_compare)
    monkeypatch.setattr(pipeline, "fit_link_model", forbidden)
    monkeypatch.setattr(pipeline, "score_all", forbidden)
    monkeypatch.setattr(pipeline, "candidates", forbidden)
    new = base.update(batch)
    assert normalized == [20]
    assert sum(compared) < new.pair_left.size / 10
    # every new pair has a new record; pairs of earlier records kept their levels
    old_keys = set(zip(base.pair_left.tolist(), base.pair_right.tolist()))
    new_keys = set(zip(new.pair_left.tolist(), new.pair_right.tolist()))
    n_old = len(base.records)
    added = new_keys - old_keys
    assert all(a >= n_old or b >= n_old for a, b in added)
    assert sum(compared) == len(added)


def test_change_feed_by_hand():
    old = CustomerRecordTable.from_columns(
        {
            "source": ["web", "shop", "web", "shop"],
            "record_id": ["W1", "S1", "W2", "S9"],
            "first_name": ["Zoe", "Zoe", "Paul", "Anna"],
            "last_name": ["Roy", "Roy", "Lee", "Kim"],
            "email": ["zoe@mail.fr", "zoe@mail.fr", "paul@mail.fr", "anna@kim.fr"],
        }
    )
    res = resolve(old)
    # ids in canonical order: shop/S1, shop/S9, web/W1, web/W2
    assert res.person_id.tolist() == [1, 1, 3, 2]
    batch = CustomerRecordTable.from_columns(
        {
            "source": ["shop", "web"],
            "record_id": ["S2", "W2"],
            "first_name": ["Zoe", "Paul"],
            "last_name": ["Roy", "Lee"],
            # a new record of Zoe; Paul's record sent again with a new email
            "email": ["ZOE@mail.fr", "paul.lee@mail.fr"],
        }
    )
    new = res.update(batch)
    feed = new.changes.feed
    rows = {(s, r): i for i, (s, r) in enumerate(zip(feed["source"], feed["record_id"]))}
    added = rows[("shop", "S2")]
    assert feed["event"][added] == "added"
    assert feed["person_before"][added] == -1 and feed["person"][added] == 1
    updated = rows[("web", "W2")]
    assert feed["event"][updated] == "updated"
    assert feed["person_before"][updated] == 3 and feed["person"][updated] == 3
    assert set(rows) == {("shop", "S2"), ("web", "W2")}


def test_change_feed_names_merges_and_splits():
    recs = CustomerRecordTable.from_columns(
        {"source": ["web", "shop", "web"], "record_id": ["W1", "S1", "W2"],
         "email": ["a@x.fr", "a@x.fr", "b@x.fr"]}
    )  # fmt: skip
    res = resolve(recs)
    merged = res.with_overrides(Overrides(must_link=[(("web", "W1"), ("web", "W2"))]))
    feed = merged.changes.feed
    assert feed["event"].tolist() == ["merged"]
    assert (feed["source"][0], feed["record_id"][0]) == ("web", "W2")
    assert (feed["person_before"][0], feed["person"][0]) == (2, 1)
    split = res.with_overrides(Overrides(cannot_link=[(("web", "W1"), ("shop", "S1"))]))
    feed = split.changes.feed
    assert feed["event"].tolist() == ["split"]
    assert int(feed["person"][0]) not in (1, 2)


def test_update_refuses_unknown_sources_unless_asked(base):
    batch = CustomerRecordTable.from_columns(
        {"source": ["webb"], "record_id": ["X1"], "email": ["new@mail.fr"]}
    )
    with pytest.raises(oj.ConfigError, match=r"sources the resolution has not seen: \['webb'\]"):
        base.update(batch)
    new = base.update(batch, new_sources=True)
    assert new.records["source"][-1] == "webb"
    assert len(base.records) + 1 == len(new.records)


# --------------------------------------------------------------------------- saved state


def test_a_saved_resolution_loads_and_updates_the_same(tmp_path, base, records):
    path = base.save(tmp_path / "state.ojr")
    back = Resolution.load(path)
    for name in ("person_id", "household_id", "pair_left", "pair_right", "gamma", "rule",
                 "match_weight", "person_weight", "link", "no_identifier"):  # fmt: skip
        assert np.array_equal(getattr(back, name), getattr(base, name), equal_nan=True), name
    assert back.model == base.model and back.person_model == base.person_model
    assert back.rules == base.rules and back.overrides == base.overrides
    for name in base.records.columns:
        assert back.records[name].tolist() == base.records[name].tolist(), name
    assert back.blocking_report["pairs"].tolist() == base.blocking_report["pairs"].tolist()
    known = {(s, r) for s, r in zip(base.records["source"], base.records["record_id"])}
    fresh = [
        i for i, k in enumerate(zip(records["source"], records["record_id"])) if k not in known
    ]
    batch = _batch(records, np.array(fresh[:40]), {})
    a, b = base.update(batch), back.update(batch)
    assert np.array_equal(a.person_id, b.person_id)
    assert np.array_equal(a.household_id, b.household_id)
    assert np.array_equal(a.link, b.link)


def test_saving_again_replaces_the_file_in_one_step(tmp_path, base, monkeypatch):
    path = base.save(tmp_path / "state.ojr")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        base.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.ojr"]


@pytest.mark.parametrize("damage", ["truncated", "text", "foreign zip", "version", "array"])
def test_a_damaged_or_foreign_file_is_refused(tmp_path, base, damage):
    path = base.save(tmp_path / "state.ojr")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
        match = "not a zip archive|damaged"
    elif damage == "text":
        path.write_text("person_id,household_id\n1,1\n")
        match = "not a zip archive"
    elif damage == "foreign zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("meta.json", json.dumps({"format": "something else"}))
        match = "is not a saved resolution"
    else:
        with zipfile.ZipFile(path) as zf:
            members = {name: zf.read(name) for name in zf.namelist()}
        meta = json.loads(members["meta.json"])
        if damage == "version":
            meta["version"] = 99
            match = "version 99 of the format"
        else:
            meta["records"] += 1
            match = "rows for"
        members["meta.json"] = json.dumps(meta).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
    with pytest.raises(oj.DataError, match=match):
        Resolution.load(path)


@settings(max_examples=15, deadline=None)
@given(
    names=st.lists(
        st.tuples(st.sampled_from(["Zoé", "Paul", "Anna", "", "José", "a\x00b"]),
                  st.sampled_from(["Roy", "Lee", "Kim", "Ngô"]),
                  st.integers(0, 5)),
        min_size=2, max_size=12,
    )
)  # fmt: skip
def test_save_and_load_round_trip_any_records(tmp_path_factory, names):
    recs = CustomerRecordTable.from_columns(
        {
            "source": ["web" if i % 2 else "shop" for i in range(len(names))],
            "record_id": [f"R{i}" for i in range(len(names))],
            "first_name": [f or None for f, _, _ in names],
            "last_name": [last for _, last, _ in names],
            "email": [f"{last.lower()}{k}@mail.fr" for _, last, k in names],
        }
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", oj.OmnijourneyWarning)
        res = resolve(recs)
    path = res.save(tmp_path_factory.mktemp("state") / "r.ojr")
    back = Resolution.load(path)
    assert np.array_equal(back.person_id, res.person_id)
    assert back.records["first_name"].tolist() == res.records["first_name"].tolist()
    assert (
        back.normalized()["email"].values().tolist() == res.normalized()["email"].values().tolist()
    )

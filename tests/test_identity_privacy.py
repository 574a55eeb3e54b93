"""Consent combined through merges, and erasure that leaves no trace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.identity import (
    CONSENT_CHANNELS,
    CustomerRecordTable,
    Resolution,
    consent,
    golden_records,
    quality_report,
    resolve,
)
from omnijourney.tables import Table

KEY = b"sixteen-byte-key-for-tests"


def _zoe_and_paul():
    return CustomerRecordTable.from_columns(
        {
            "source": ["web", "shop", "crm", "web"],
            "record_id": ["W1", "S1", "C1", "W2"],
            "first_name": ["Zoe", "Zoe", "Zoe", "Paul"],
            "last_name": ["Roy", "Roy", "Roy", "Lee"],
            "email": ["zoe@mail.fr", "Zoe@Mail.fr", "zoe@mail.fr", "paul@mail.fr"],
            "consent_email": [True, False, True, True],
            "updated": ["2024-01-10", "2024-03-01", "2024-03-01", "2024-02-02"],
        }
    )


def _row(table: Table, person: int, channel: str) -> dict:
    at = np.flatnonzero((table["person_id"] == person) & (table["channel"] == channel))
    return table.row(int(at[0]))


def test_consent_latest_decision_wins_and_a_refusal_wins_a_tie():
    res = resolve(_zoe_and_paul())
    zoe = int(res.person_id[0])
    table = consent(res)
    assert len(table) == res.n_persons * len(CONSENT_CHANNELS)
    row = _row(table, zoe, "email")
    # S1 refused and C1 granted on the same, latest day: the refusal wins, with its source
    assert not bool(row["granted"])
    assert (row["source"], row["record_id"]) == ("shop", "S1")
    assert str(row["at"])[:10] == "2024-03-01"
    paul = _row(table, int(res.person_id[3]), "email")
    assert bool(paul["granted"]) and paul["record_id"] == "W2"
    # no decision on a channel: not granted, no source
    sms = _row(table, zoe, "sms")
    assert not bool(sms["granted"]) and sms["source"] is None


def test_consent_decisions_given_by_date_override_older_ones():
    res = resolve(_zoe_and_paul())
    zoe = int(res.person_id[0])
    decisions = Table.from_columns(
        {
            "source": ["web", "crm", "crm"],
            "record_id": ["W1", "C1", "C1"],
            "channel": ["email", "post", "profiling"],
            "granted": [True, True, False],
            "at": np.array(["2024-06-01", "2024-01-01", "2024-01-01"], dtype="datetime64[us]"),
        },
        kinds={"source": "category", "record_id": "category", "channel": "category"},
    )
    table = consent(res, decisions)
    row = _row(table, zoe, "email")
    assert bool(row["granted"]) and row["record_id"] == "W1"
    assert str(row["at"])[:10] == "2024-06-01"
    assert bool(_row(table, zoe, "post")["granted"])
    assert not bool(_row(table, zoe, "profiling")["granted"])
    assert not bool(_row(table, int(res.person_id[3]), "post")["granted"])


def test_consent_refuses_unknown_channels_and_records():
    res = resolve(_zoe_and_paul())
    bad = Table.from_columns(
        {"source": ["web"], "record_id": ["W1"], "channel": ["fax"], "granted": [True],
         "at": np.array(["2024-06-01"], dtype="datetime64[us]")},
        kinds={"source": "category", "record_id": "category", "channel": "category"},
    )  # fmt: skip
    with pytest.raises(oj.ConfigError, match="unknown channels"):
        consent(res, bad)
    unknown = Table.from_columns(
        {"source": ["web"], "record_id": ["W9"], "channel": ["sms"], "granted": [True],
         "at": np.array(["2024-06-01"], dtype="datetime64[us]")},
        kinds={"source": "category", "record_id": "category", "channel": "category"},
    )  # fmt: skip
    with pytest.raises(oj.ConfigError, match="W9"):
        consent(res, unknown)


@pytest.fixture(scope="module")
def world_resolution():
    world = oj.synth.generate(200, seed=41, prices=False, touchpoints_per_customer=1)
    return resolve(CustomerRecordTable.from_columns(world.records, extra=["true_person_id"]))


def test_erase_by_hand_and_its_report():
    res = resolve(_zoe_and_paul())
    zoe = int(res.person_id[0])
    kept, report = res.erase(persons=[zoe], key=KEY)
    assert kept.records["record_id"].tolist() == ["W2"]
    assert report.records["record_id"].tolist() == ["C1", "S1", "W1"]
    assert report.persons == (zoe,)
    assert report.values["email"] == 1 and report.values["first_name"] == 1
    assert report.tombstones == 1 and len(kept.tombstones) == 1
    assert kept.person_id.tolist() == [int(res.person_id[3])]
    assert "Erased 3 records of 1 persons" in report.summary()


def test_erase_refuses_unknown_ids_and_another_key(world_resolution):
    res = world_resolution
    with pytest.raises(oj.ConfigError, match="no person 999999"):
        res.erase(persons=[999999], key=KEY)
    with pytest.raises(oj.ConfigError, match="no record 'nope'"):
        res.erase(records=[("web", "nope")], key=KEY)
    with pytest.raises(oj.ConfigError, match="16 bytes"):
        res.erase(persons=[1], key=b"short")
    kept, _ = res.erase(persons=[1], key=KEY)
    with pytest.raises(oj.ConfigError, match="not the one"):
        kept.erase(persons=[2], key=b"another key of sixteen bytes")
    assert len(res.tombstones) == 0


def test_erased_identifiers_do_not_come_back_silently():
    res = resolve(_zoe_and_paul())
    kept, _ = res.erase(persons=[int(res.person_id[0])], key=KEY)
    again = CustomerRecordTable.from_columns(
        {"source": ["web"], "record_id": ["W7"], "first_name": ["Zoe"], "last_name": ["Roy"],
         "email": ["ZOE@mail.fr"]}
    )  # fmt: skip
    with pytest.raises(oj.ConfigError, match="tombstones"):
        kept.update(again)
    with pytest.raises(oj.ConfigError, match=r"erased record.*web/W7"):
        kept.update(again, key=KEY)
    other = CustomerRecordTable.from_columns(
        {"source": ["web"], "record_id": ["W8"], "email": ["anna@kim.fr"]}
    )
    new = kept.update(other, key=KEY)
    assert len(new.tombstones) == 1 and len(new.records) == 2


def _all_text(res: Resolution, tmp_path) -> str:
    """Every output of a resolution as text: tables, normalized values, golden records,
    quality report, JSON and the saved file."""
    parts = [oj.to_json(res)]
    for name in res.records.columns:
        if res.records.kinds[name] == "category":
            parts.append(repr(res.records.labels(name).tolist()))
    for f in res.normalized().fields.values():
        parts.append(repr(f.labels.tolist()))
    golden = golden_records(res)
    for name in golden.columns:
        parts.append(repr(golden[name].tolist()))
    report = quality_report(res)
    parts.append(repr(report.placeholders["value"].tolist()))
    parts.append(repr(res.shared_values["value"].tolist()))
    path = res.save(tmp_path / "state.ojr")
    parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_others=st.integers(1, 6),
    shared_name=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_erasure_leaves_no_trace(tmp_path_factory, n_others, shared_name, seed):
    rng = np.random.default_rng(seed)
    marker = f"qx{seed:04d}z"
    names = ["Anna", "Paul", "Marc", "Ines", "Lea", "Hugo"]
    rows = {"source": [], "record_id": [], "first_name": [], "last_name": [], "email": [],
            "phone": [], "address": []}  # fmt: skip
    # the person to erase: values found nowhere else (the marker)
    for k in range(2):
        rows["source"].append(["web", "shop"][k])
        rows["record_id"].append(f"{marker}{k}")
        rows["first_name"].append("Zoe" + marker)
        rows["last_name"].append("Roy" if shared_name else "Roy" + marker)
        rows["email"].append(f"zoe.{marker}@mail.fr")
        rows["phone"].append(f"06{seed:04d}{k}999")
        rows["address"].append(f"{seed % 90 + 1} rue {marker}")
    for i in range(n_others):
        rows["source"].append("web")
        rows["record_id"].append(f"O{i}")
        rows["first_name"].append(names[int(rng.integers(len(names)))])
        rows["last_name"].append("Roy")
        rows["email"].append(f"other{i}@mail.fr")
        rows["phone"].append(None)
        rows["address"].append("3 rue Vauban")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", oj.OmnijourneyWarning)
        res = resolve(CustomerRecordTable.from_columns(rows))
        person = int(res.person_id[0])
        assert res.person_id[1] == person
        kept, report = res.erase(persons=[person], key=KEY)
        again = resolve(kept.records, kept.rules, model=kept.model, person_model=kept.person_model)
    text = _all_text(kept, tmp_path_factory.mktemp("erased"))
    assert marker not in text
    assert f"06{seed:04d}" not in text
    assert len(report.records) == 2
    assert len(kept.records) == n_others
    # and the resolution of what remains is the one a full run gives
    pairs = np.unique(np.stack([again.person_id, kept.person_id], axis=1), axis=0)
    assert np.unique(pairs[:, 0]).size == pairs.shape[0]


def test_erasing_part_of_a_person_keeps_the_rest(world_resolution):
    res = world_resolution
    sizes = np.bincount(res.person_id)
    person = int(np.flatnonzero(sizes >= 3)[0])
    rows = res.records_of(person)
    key = res.record_key(int(rows[0]))
    kept, report = res.erase(records=[key], key=KEY)
    assert len(kept.records) == len(res.records) - 1
    assert report.persons == ()
    assert person in kept.person_id.tolist()
    golden = golden_records(kept)
    assert person in golden["person_id"].tolist()

"""Households over time: memberships with dates, as of a date, through saved state and
erasure. The records are written here (a small family story), not drawn from the synthetic
world."""

from __future__ import annotations

import pytest

import omnijourney as oj
from omnijourney.identity import (
    CustomerRecordTable,
    Overrides,
    Resolution,
    households_as_of,
    link_touchpoints,
    resolve,
)

KEY = b"sixteen-byte-key-for-tests"


def family(extra: dict | None = None) -> CustomerRecordTable:
    """Zoe and Paul Roy and their son Tom at one address since 2020, two records each."""
    data = {
        "source": ["web", "shop"] * 3,
        "record_id": ["W1", "S1", "W2", "S2", "W3", "S3"],
        "first_name": ["Zoe", "Zoe", "Paul", "Paul", "Tom", "Tom"],
        "last_name": ["Roy"] * 6,
        "email": ["zoe@mail.fr"] * 2 + ["paul@mail.fr"] * 2 + ["tom@mail.fr"] * 2,
        "address": ["3 rue Vauban"] * 6,
        "postcode": ["21000"] * 6,
        "date_of_birth": ["1980-02-03"] * 2 + ["1979-05-06"] * 2 + ["2004-09-10"] * 2,
        "created": ["2020-01-01"] * 6,
    }
    for name, values in (extra or {}).items():
        data[name] = data[name] + values
    return CustomerRecordTable.from_columns(data)


def periods(res: Resolution) -> list[tuple[int, int, str, str]]:
    m = res.memberships
    return [
        (int(p), int(h), str(s)[:10], str(u)[:10])
        for p, h, s, u in zip(m["person_id"], m["household_id"], m.raw("since"), m.raw("until"))
    ]


def test_a_resolution_opens_one_period_per_person_since_its_first_record():
    res = resolve(family())
    assert res.n_households == 1
    assert periods(res) == [(1, 1, "2020-01-01", "NaT"), (2, 1, "2020-01-01", "NaT"),
                            (3, 1, "2020-01-01", "NaT")]  # fmt: skip


def test_a_separation_closes_a_period_and_keeps_the_former_household():
    res = resolve(family())
    tom = int(res.person_id[4])
    apart = res.with_overrides(
        Overrides(never_merge=[(("web", "W3"), ("web", "W1")), (("web", "W3"), ("web", "W2"))]),
        at="2024-09-01",
    )
    new_home = int(apart.household_id[4])
    assert new_home != int(apart.household_id[0])
    toms = [p for p in periods(apart) if p[0] == tom]
    assert toms == [(tom, 1, "2020-01-01", "2024-09-01"), (tom, new_home, "2024-09-01", "NaT")]
    before = households_as_of(apart, "2024-08-31")
    after = households_as_of(apart, "2024-09-01")
    assert before["household_id"].tolist() == [1, 1, 1]
    assert after["household_id"].tolist() == [1, 1, new_home]
    # the parents' periods did not move
    assert [p for p in periods(apart) if p[0] != tom] == [p for p in periods(res) if p[0] != tom]


def test_an_update_opens_the_period_of_a_newcomer_at_the_batch_time():
    res = resolve(family())
    batch = CustomerRecordTable.from_columns(
        {"source": ["web"], "record_id": ["W4"], "first_name": ["Lea"], "last_name": ["Roy"],
         "email": ["lea@mail.fr"], "address": ["3 rue Vauban"], "postcode": ["21000"],
         "date_of_birth": ["2010-01-01"], "created": ["2025-03-04"]}
    )  # fmt: skip
    new = res.update(batch)
    lea = int(new.person_id[-1])
    assert (lea, int(new.household_id[-1]), "2025-03-04", "NaT") in periods(new)
    assert households_as_of(new, "2024-01-01")["person_id"].tolist() == [1, 2, 3]


def test_journeys_of_a_household_as_of_a_date():
    res = resolve(family())
    apart = res.with_overrides(
        Overrides(never_merge=[(("web", "W3"), ("web", "W1")), (("web", "W3"), ("web", "W2"))]),
        at="2024-09-01",
    )
    tp = oj.TouchpointTable.from_columns(
        {"customer": ["c1", "c2"], "time": ["2024-01-01", "2024-10-01"],
         "channel": ["web", "web"], "event": ["view", "view"], "mail": ["tom@mail.fr"] * 2},
        extra=["mail"],
    )  # fmt: skip
    then = link_touchpoints(tp, apart, on={"mail": "email"}, level="household", as_of="2024-01-01")
    now = link_touchpoints(tp, apart, on={"mail": "email"}, level="household")
    assert then["customer"].tolist() == ["H1", "H1"]
    assert now["customer"].tolist() == [f"H{int(apart.household_id[4])}"] * 2


def test_memberships_survive_saved_state_and_erasure(tmp_path):
    res = resolve(family())
    apart = res.with_overrides(
        Overrides(never_merge=[(("web", "W3"), ("web", "W1")), (("web", "W3"), ("web", "W2"))]),
        at="2024-09-01",
    )
    back = Resolution.load(apart.save(tmp_path / "f.ojr"))
    assert periods(back) == periods(apart)
    tom = int(apart.person_id[4])
    kept, _ = apart.erase(persons=[tom], key=KEY, at="2025-01-01")
    assert tom not in [p[0] for p in periods(kept)]
    assert len(periods(kept)) == 2


def test_as_of_needs_a_date():
    with pytest.raises(oj.ConfigError, match="'at'"):
        households_as_of(resolve(family()), "not a date")

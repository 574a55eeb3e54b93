"""Identity rules generated from the fields present: blocking sized by pair counts, comparisons
for every mapped field, households when the records show them, and records whose fields give
nothing to work with."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.identity import (
    BlockingRule,
    Comparison,
    CustomerRecordTable,
    ResolutionRules,
    cluster_links,
    compare_pairs,
    count_pairs,
    default_blocking,
    default_comparisons,
    normalize_records,
    resolve,
    shows_households,
)

# ----------------------------------------------------------------------------- ordinary input


def test_us_phones_under_default_rules_resolve_and_link():
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["Ann", "Ann", "Bob"],
            "last_name": ["Lee", "Lee", "Ray"],
            "phone": ["(555) 123-4567", "555 123 4567", "555 987 6543"],
        }
    )
    assert resolve(recs).person_id.tolist() == [1, 1, 2]


def test_seven_digit_local_numbers_are_keys():
    recs = CustomerRecordTable.from_columns(
        {"last_name": ["Lee", "Lee", "Ray"], "phone": ["123-4567", "1234567", "765-4321"]}
    )
    assert resolve(recs).person_id.tolist() == [1, 1, 2]


def test_a_column_without_any_usable_value_is_a_field_that_is_absent():
    recs = CustomerRecordTable.from_columns(
        {"last_name": ["Lee", "Lee"], "phone": [None, None], "email": ["x", "test@test.com"]}
    )
    with pytest.warns(oj.OmnijourneyWarning, match="Fields compared: last_name;"):
        res = resolve(recs)
    assert res.person_id.tolist() == [1, 2]
    assert [c.name for c in res.rules.comparisons] == ["last_name"]


def test_records_with_only_a_first_name_stay_apart_with_a_warning():
    recs = CustomerRecordTable.from_columns({"first_name": ["Ann", "Ann", "Bob"]})
    with pytest.warns(oj.OmnijourneyWarning, match="records without any identifier: 3"):
        res = resolve(recs)
    assert res.person_id.tolist() == [1, 2, 3]


def test_the_records_of_a_single_customer_resolve_and_the_demo_runs():
    import warnings

    from omnijourney.cli import demo

    world = oj.synth.generate(1, seed=0)
    res = resolve(CustomerRecordTable.from_columns(world.records))
    assert res.n_records == 2 and res.n_persons == 1
    out = io.StringIO()
    with warnings.catch_warnings():
        # the journeys part warns that one customer's touchpoints hold no failure event
        warnings.simplefilter("ignore", oj.OmnijourneyWarning)
        assert demo(customers=1, out=out) == 0
    assert "source records: 2" in out.getvalue()


def test_a_blocking_rule_on_a_field_the_records_lack_is_a_config_error():
    recs = CustomerRecordTable.from_columns({"last_name": ["Lee"] * 4})
    with pytest.raises(oj.ConfigError, match="'postcode' is not a field of these records"):
        resolve(recs, ResolutionRules(blocking=[BlockingRule("postcode")]))
    recs = CustomerRecordTable.from_columns({"last_name": ["Lee"] * 2, "postcode": ["?", "!"]})
    with pytest.raises(oj.ConfigError, match="'postcode' has no usable value"):
        resolve(recs, ResolutionRules(blocking=[BlockingRule("postcode")]))


def test_a_comparison_on_a_field_the_records_lack_is_left_out_with_a_warning():
    recs = CustomerRecordTable.from_columns({"email": ["a@x.fr", "A@x.fr"]})
    comps = [
        Comparison(name="email", field="email", kind="key"),
        Comparison(name="c", field="city"),
    ]
    with pytest.warns(oj.OmnijourneyWarning, match=r"c \(field 'city'\)"):
        res = resolve(recs, ResolutionRules(comparisons=comps))
    assert res.person_id.tolist() == [1, 1]


def test_an_empty_linkage_names_the_fields_and_rules_it_used():
    recs = CustomerRecordTable.from_columns(
        {"last_name": ["Lee", "Ray"], "email": ["a@x.fr", "b@x.fr"]}
    )
    with pytest.warns(oj.OmnijourneyWarning, match="linked no two of the 2 records") as info:
        resolve(recs)
    text = str(info[0].message)
    assert "Fields compared: last_name, email" in text
    assert "blocking rules: email, last_name" in text


def test_the_deprecated_fixed_rules_still_work_and_say_what_replaces_them():
    recs = CustomerRecordTable.from_columns({"email": ["a@x.fr", "A@x.fr"]})
    with pytest.warns(DeprecationWarning, match="default_blocking"):
        from omnijourney.identity import DEFAULT_BLOCKING
    with pytest.warns(DeprecationWarning, match="default_comparisons"):
        from omnijourney.identity import DEFAULT_COMPARISONS
    rules = ResolutionRules(blocking=DEFAULT_BLOCKING, comparisons=DEFAULT_COMPARISONS[3:4])
    assert resolve(recs, rules).person_id.tolist() == [1, 1]


# ----------------------------------------------------------------------------- blocking


def _naive_pairs(norm, fields, groups=None):
    codes = np.stack([norm[f].codes for f in fields], axis=1)
    n = len(norm)
    return sum(
        1
        for i, j in itertools.combinations(range(n), 2)
        if (codes[i] >= 0).all()
        and (codes[i] == codes[j]).all()
        and (groups is None or groups[i] != groups[j])
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Lee", "Ray", "Roy", None]),
            st.sampled_from(["1", "2", None]),
            st.integers(0, 2),
        ),
        min_size=0,
        max_size=30,
    )
)
def test_pair_counts_match_a_naive_loop(rows):
    recs = CustomerRecordTable.from_columns(
        {"last_name": [r[0] for r in rows], "postcode": [r[1] for r in rows]}
    )
    norm = normalize_records(recs)
    groups = np.array([r[2] for r in rows], dtype=np.int64)
    for fields in (["last_name"], ["postcode"], ["last_name", "postcode"]):
        assert count_pairs(norm, fields) == _naive_pairs(norm, fields)
        assert count_pairs(norm, fields, link_groups=groups) == _naive_pairs(norm, fields, groups)


def test_generated_blocking_refines_fields_over_the_budget_and_skips_supersets():
    # 6 records; budget 2 pairs: surname alone makes 6 pairs (4 Lee), city alone 4
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["Ann", "Ann", "Bob", "Cy", "Dee", "Eve"],
            "last_name": ["Lee", "Lee", "Lee", "Lee", "Ray", "Roy"],
            "city": ["Lyon", "Nice", "Lyon", "Pau", "Lyon", "Pau"],
            "email": ["a@x.fr", None, "b@x.fr", None, None, None],
        }
    )
    rules, analysis = default_blocking(normalize_records(recs), max_pairs=2)
    # the email blocks alone; first name (1 pair) fits; surname and city are refined: the
    # surname with the city fits (Lee/Lyon: 1 pair), with the first name it contains a rule
    assert [r.name for r in rules] == ["email", "first_name", "last_name & city"]
    tried = dict(zip(analysis["rule"].tolist(), analysis["pairs"].tolist()))
    assert tried == {"first_name": 1, "last_name": 6, "city": 4, "last_name & city": 1}
    assert all(r.max_block_size == 50 for r in rules)


def test_generated_blocking_counts_pairs_across_sources_when_linking():
    recs = CustomerRecordTable.from_columns(
        {"source": ["a", "a", "a", "b"], "last_name": ["Lee"] * 4}
    )
    norm = normalize_records(recs)
    groups = recs.raw("source").astype(np.int64)
    assert count_pairs(norm, ["last_name"]) == 6
    assert count_pairs(norm, ["last_name"], link_groups=groups) == 3
    rules, _ = default_blocking(norm, link_groups=groups, max_pairs=3)
    assert [r.name for r in rules] == ["last_name"]


def test_a_field_with_a_block_over_fifty_records_is_refined():
    n = 60
    recs = CustomerRecordTable.from_columns(
        {
            "last_name": ["Martin"] * n,
            "first_name": [f"name{i % 30}" for i in range(n)],
        }
    )
    rules, analysis = default_blocking(normalize_records(recs), max_pairs=10**6)
    assert [r.name for r in rules] == ["first_name", "full_name"][:1]
    assert analysis["chosen"].tolist() == [True, False]


# ----------------------------------------------------------------------------- comparisons


def test_default_comparisons_follow_the_fields_mapped():
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["a"],
            "last_name": ["b"],
            "date_of_birth": ["1980-01-02"],
            "phone": ["+33612345678"],
            "street_number": ["3"],
            "address": ["rue x"],
            "postcode": ["75001"],
            "city": ["Paris"],
            "region": ["IDF"],
        }
    )
    comps = default_comparisons(normalize_records(recs))
    assert [c.name for c in comps] == [
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "address",
        "region",
    ]
    place = comps[4]
    assert (place.kind, place.field, place.within) == ("place", "location", ("postcode", "city"))
    assert comps[0].swap_field == "last_name" and comps[1].swap_field is None
    only_city = default_comparisons(
        normalize_records(CustomerRecordTable.from_columns({"city": ["Paris"]}))
    )
    assert [(c.name, c.kind, c.within) for c in only_city] == [("city", "place", ())]


def test_place_levels_count_a_street_its_postcode_and_its_city_once():
    recs = CustomerRecordTable.from_columns(
        {
            "address": [
                "12 rue de la Paix",  # 0
                "12 r. de la Paix",  # 1 same address
                "12 rue de la Paiz",  # 2 typo, same number
                "14 rue de la Paix",  # 3 neighbour
                "12 rue de la Paix",  # 4 same address, another town
                "3 avenue Foch",  # 5 another address in the same town
                None,  # 6 no address, same postcode
                None,  # 7 nothing
            ],
            "postcode": ["75002", "75002", "75002", "75002", "13001", "75002", "75002", None],
            "city": ["Paris", None, "Paris", "Paris", "Marseille", "Paris", None, None],
        }
    )
    norm = normalize_records(recs)
    (place,) = default_comparisons(norm)
    right = np.arange(1, 8)
    levels = compare_pairs(norm, [place], np.zeros(7, dtype=np.int64), right)[:, 0]
    assert [place.levels[x] for x in levels] == [
        "exact",
        "jw>=0.9",
        "street",
        "other_place",
        "same_area",
        "same_place",
        "null",
    ]


def test_dates_of_birth_close_and_partial_levels():
    recs = CustomerRecordTable.from_columns(
        {
            "date_of_birth": [
                "1985-03-12",
                "1985-03-12",  # exact
                "1985-03-13",  # one digit
                "1985-03-21",  # adjacent digits transposed
                "1985-12-03",  # day and month swapped
                "1958-03-12",  # adjacent digits of the year transposed
                "1985-03-28",  # year and month equal
                None,
            ]
        }
    )
    norm = normalize_records(recs)
    dob = Comparison(name="dob", field="date_of_birth", kind="date")
    levels = compare_pairs(norm, [dob], np.zeros(7, dtype=np.int64), np.arange(1, 8))[:, 0]
    assert [dob.levels[x] for x in levels] == [
        "exact",
        "close",
        "close",
        "close",
        "close",
        "partial",
        "null",
    ]


# ----------------------------------------------------------------------------- clustering


def test_a_direct_link_between_two_dates_of_birth_is_kept_but_a_chain_is_not():
    # 0 and 1 are linked directly despite different dates (the model weighed them); 2 holds a
    # third date reached only through 1: the weaker link goes
    dates = np.array([0, 1, 2])
    labels, kept = cluster_links(
        3,
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([9.0, 5.0]),
        conflict_codes=[dates],
        compatible=[lambda a, b: False],
    )
    assert labels.tolist() == [0, 0, 1]
    assert kept.tolist() == [True, False]


def test_dates_a_typing_error_apart_are_one_persons():
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["Ann", "Ann", "Ann", "Ann"],
            "last_name": ["Lee", "Lee", "Lee", "Lee"],
            "address": ["3 rue Vauban"] * 4,
            "postcode": ["21000"] * 4,
            "date_of_birth": ["1985-03-12", "1985-03-13", "1985-03-12", None],
        }
    )
    assert resolve(recs).person_id.tolist() == [1, 1, 1, 1]


# ----------------------------------------------------------------------------- households


def test_households_are_detected_from_the_records():
    family = CustomerRecordTable.from_columns(
        {
            "first_name": ["Anne", "Marc", "Anne", "Lou"],
            "last_name": ["Roy", "Roy", "Roy", "Petit"],
            "email": ["roy@x.fr", "roy@x.fr", None, None],
            "address": ["3 rue Vauban", "3 rue Vauban", "3 rue Vauban", "9 rue Jaures"],
        }
    )
    assert shows_households(normalize_records(family))
    res = resolve(family)
    assert res.rules.households is True
    assert res.person_id.tolist() == [1, 2, 1, 3]
    assert res.household_id.tolist() == [1, 1, 1, 2]
    typos = CustomerRecordTable.from_columns(
        {"first_name": ["Anne", "Ane"], "last_name": ["Roy", "Roy"], "postcode": ["1", "1"]}
    )
    assert not shows_households(normalize_records(typos))
    assert resolve(typos).rules.households is False
    no_first = CustomerRecordTable.from_columns({"last_name": ["Roy"], "city": ["Lyon"]})
    assert not shows_households(normalize_records(no_first))


def test_the_resolution_keeps_the_rules_it_generated():
    world = oj.synth.generate(150, seed=1, prices=False, touchpoints_per_customer=0.1)
    recs = CustomerRecordTable.from_columns(world.records)
    res = resolve(recs)
    rules = res.rules
    assert rules.blocking is not None and rules.comparisons is not None
    assert rules.households is True
    assert rules.normalize.default_country == "FR"  # read from the records' +33 numbers
    text = res.summary()
    assert "compared on: first_name, last_name, date_of_birth, email, phone" in text
    assert "persons inside households" in text and "blocked on: email, phone" in text
    again = resolve(recs, rules)
    assert np.array_equal(again.person_id, res.person_id)
    assert oj.from_json(oj.to_json(rules), ResolutionRules) == rules
    with pytest.raises(oj.ConfigError, match="pass the rules"):
        resolve(recs, ResolutionRules(households=False), model=res.model)


# ----------------------------------------------------------------------------- properties

_FIRST = ["Anne", "Ann", "Marc", "Lou", "Paul", None]
_LAST = ["Roy", "Roi", "Petit", "Blanc", None]
_STREET = ["3 rue Vauban", "3 r. Vauban", "8 rue Pasteur", "1 place Carnot", None]


@st.composite
def record_tables(draw):
    n = draw(st.integers(2, 24))
    cols = {
        "source": draw(st.lists(st.sampled_from(["web", "shop"]), min_size=n, max_size=n)),
        "first_name": draw(st.lists(st.sampled_from(_FIRST), min_size=n, max_size=n)),
        "last_name": draw(st.lists(st.sampled_from(_LAST), min_size=n, max_size=n)),
        "address": draw(st.lists(st.sampled_from(_STREET), min_size=n, max_size=n)),
        "date_of_birth": draw(
            st.lists(
                st.sampled_from(["1980-01-02", "1980-01-03", "1975-06-30", None]),
                min_size=n,
                max_size=n,
            )
        ),
    }
    cols["record_id"] = [f"r{i}" for i in range(n)]
    return cols


def _resolve_quietly(cols):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", oj.OmnijourneyWarning)
        return resolve(CustomerRecordTable.from_columns(cols))


def _same_partition(a, b):
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return np.unique(pairs[:, 0]).size == np.unique(pairs[:, 1]).size == pairs.shape[0]


@settings(max_examples=20, deadline=None)
@given(record_tables(), st.randoms(use_true_random=False))
def test_default_rules_give_a_partition_that_does_not_depend_on_row_order(cols, rnd):
    res = _resolve_quietly(cols)
    perm = list(range(len(cols["record_id"])))
    rnd.shuffle(perm)
    shuffled = {k: [v[i] for i in perm] for k, v in cols.items()}
    again = _resolve_quietly(shuffled)
    assert _same_partition(res.person_id[perm], again.person_id)
    assert _same_partition(res.household_id[perm], again.household_id)


@settings(max_examples=20, deadline=None)
@given(record_tables(), st.sampled_from(["phone", "postcode", "email", "loyalty_id"]))
def test_adding_a_field_without_a_usable_value_changes_nothing(cols, field):
    res = _resolve_quietly(cols)
    n = len(cols["record_id"])
    junk = {"phone": "12", "postcode": "?", "email": "not an email", "loyalty_id": "n/a"}[field]
    more = {**cols, field: [junk if i % 2 else None for i in range(n)]}
    again = _resolve_quietly(more)
    assert np.array_equal(res.person_id, again.person_id)
    assert np.array_equal(res.household_id, again.household_id)
    assert again.rules.blocking == res.rules.blocking


def test_year_month_day_by_integer_arithmetic_agree_with_numpy_dates():
    from omnijourney.identity._compare import _ymd

    days = np.arange(-800_000, 800_000, 7)
    dates = days.astype("datetime64[D]")
    year, month, day = _ymd(days)
    assert np.array_equal(year, dates.astype("datetime64[Y]").astype(np.int64) + 1970)
    assert np.array_equal(month, dates.astype("datetime64[M]").astype(np.int64) % 12 + 1)
    assert np.array_equal(day, (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1)


def test_the_full_address_is_a_blocking_key_whatever_its_pairs():
    recs = CustomerRecordTable.from_columns(
        {
            "last_name": ["Roy", "Petit", "Roy"],
            "address": ["3 rue Vauban", "3 rue Vauban", "8 rue Vauban"],
            "postcode": ["21000"] * 3,
        }
    )
    rules, _ = default_blocking(normalize_records(recs), max_pairs=0)
    # first the address; then only a rule that makes no pair fits a budget of none
    assert [r.name for r in rules] == [
        "house_number & street & postcode",
        "last_name & house_number",
    ]

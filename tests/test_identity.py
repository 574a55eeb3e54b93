"""Identity merging: normalization, blocking, comparisons, Fellegi-Sunter, clustering, resolve."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.errors import OmnijourneyError
from omnijourney.identity import (
    BlockingRule,
    Comparison,
    CustomerRecordTable,
    NormalizeRules,
    Overrides,
    ResolutionRules,
    Survivorship,
    block_pairs,
    cluster_links,
    compare_pairs,
    explain_pair,
    explain_person,
    golden_records,
    jaro_winkler,
    link_touchpoints,
    normalize_records,
    pairwise_scores,
    quality_report,
    resolve,
)
from omnijourney.identity import _contacts as K
from omnijourney.identity import _dates as D
from omnijourney.identity import _normalize as N

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def world():
    return oj.synth.generate(3_000, seed=3, prices=False, touchpoints_per_customer=2)


@pytest.fixture(scope="module")
def world_records(world):
    return CustomerRecordTable.from_columns(
        world.records, extra=["true_person_id", "true_household_id"]
    )


@pytest.fixture(scope="module")
def world_resolution(world_records):
    return resolve(world_records)


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("612345678", "+33612345678"),
        ("+1 555 123 4567", "+15551234567"),
    ],
)
def test_phones_become_e164_in_the_default_country(raw, expected):
    values, status = K.normalize_phones([raw], NormalizeRules(default_country="FR"))
    assert values == [expected]
    assert status.tolist() == [N.VALID]


@pytest.mark.parametrize("raw", ["0000000000", "0600000000", "06 00 00 00 00"])
def test_repeated_digit_phones_are_placeholders(raw):
    assert K.normalize_phones([raw], NormalizeRules())[1].tolist() == [N.PLACEHOLDER]
    assert K.normalize_phones([raw], NormalizeRules(), "FR")[1].tolist() == [N.PLACEHOLDER]


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(555) 123-4567", None, "5551234567"),
        ("555 123 4567", None, "5551234567"),
        ("555-1234", None, "5551234"),
        ("06 12 34 56 78", None, "0612345678"),
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("(555) 123-4567", "US", "+15551234567"),
        ("1 555 123 4567", "US", "+15551234567"),
        ("555-1234", "US", "5551234"),
        ("0412 345 678", "AU", "+61412345678"),
        ("06 12 34 56 78", "GB", "0612345678"),  # not a British number: stays national
    ],
)
def test_phones_without_a_calling_code_stay_national_keys_unless_a_country_reads_them(
    raw, country, expected
):
    rules = NormalizeRules()
    assert K.normalize_phones([raw], rules, country) == ([expected], np.array([N.VALID]))
    assert K.phone_key(raw, rules, country) == (expected, N.VALID)


def test_phones_are_read_in_each_records_country_then_the_inferred_one():
    recs = CustomerRecordTable.from_columns(
        {
            "phone": ["(555) 123-4567", "+1 555 123 4567", "0412 345 678", "0412345678"],
            "country": ["USA", None, "au", "Australia"],
        }
    )
    norm = normalize_records(recs)
    assert norm["phone"].values().tolist() == [
        "+15551234567",
        "+15551234567",
        "+61412345678",
        "+61412345678",
    ]
    # no country column: the calling code of the numbers written with one (+1) reads the rest
    recs = CustomerRecordTable.from_columns({"phone": ["(555) 123-4567", "+1 555 123 4567"]})
    norm = normalize_records(recs)
    assert norm["phone"].values().tolist() == ["+15551234567"] * 2
    assert norm.rules.default_country == "US"
    assert K.infer_phone_country(["+33 6 12 34 56 78", "+1 555 123 4567"]) is None


def test_internationalised_emails_are_valid_and_link():
    values, status = K.normalize_emails(
        ["zoë@exämple.fr", "ZOË@EXÄMPLE.FR", "zoe\u0308@exa\u0308mple.fr", "zoë@xn--exmple-cua.fr"],
        NormalizeRules(),
    )
    assert values == ["zoë@exämple.fr"] * 4
    assert status.tolist() == [N.VALID] * 4
    recs = CustomerRecordTable.from_columns(
        {"source": ["web", "shop"], "email": ["zoë@exämple.fr", "Zoë@Exämple.fr "]}
    )
    assert resolve(recs).person_id.tolist() == [1, 1]


def test_vectorized_normalizers_agree_with_the_per_value_reference(world):
    rules = NormalizeRules()
    for column, vec, ref in [
        ("phone", K.normalize_phones, K.phone_key),
        ("email", K.normalize_emails, K.email_key),
        ("date_of_birth", D.normalize_dates, D.date_key),
        ("loyalty_id", N.normalize_ids, N.id_key),
    ]:
        texts = N.as_text(world.records.labels(column))
        texts += ["", " ", "+0612345678", "abc", "0000", "31/02/1985", "x@y", "N/A"]
        texts += ["555-1234", "(555) 123-4567", "0412 345 678", "00 0612345678", "+1 555"]
        texts = [t for t in texts if t]
        values, status = vec(texts, rules)
        expected = [ref(t, rules) for t in texts]
        assert values == [v or "" for v, _ in expected], column
        assert status.tolist() == [s for _, s in expected], column
        if column == "phone":
            for country in ("FR", "US", "DE", "AU"):
                values, status = vec(texts, rules, country)
                expected = [ref(t, rules, country) for t in texts]
                assert values == [v or "" for v, _ in expected], country
                assert status.tolist() == [s for _, s in expected], country


def test_email_provider_rules_are_optional():
    texts = ["Jean.Martin+promo@Gmail.com", "jean.martin@orange.fr"]
    on, _ = K.normalize_emails(texts, NormalizeRules())
    off, _ = K.normalize_emails(texts, NormalizeRules(email_provider_rules=False))
    assert on == ["jeanmartin@gmail.com", "jean.martin@orange.fr"]
    assert off == ["jean.martin+promo@gmail.com", "jean.martin@orange.fr"]


def test_dates_in_several_formats_and_placeholders():
    values, status = D.normalize_dates(
        ["1985-03-02", "02/03/1985", "2/3/85", "19850302", "01/01/1900", "nope"],
        NormalizeRules(),
    )
    assert values[:4] == ["1985-03-02"] * 4
    assert status.tolist() == [1, 1, 1, 1, 3, 2]
    us, _ = D.normalize_dates(["03/02/1985"], NormalizeRules(date_order="MDY"))
    assert us == ["1985-03-02"]


def test_names_and_addresses_are_folded():
    names, _ = N.normalize_names(["Jean-Luc", "JEAN LUC", "Hélène", "inconnu"], NormalizeRules())
    assert names == ["jean luc", "jean luc", "helene", ""]
    addr, _ = N.normalize_addresses(
        ["12, Bd Victor-Hugo", "12 boulevard victor hugo"], NormalizeRules()
    )
    assert addr[0] == addr[1] == "12 boulevard victor hugo"


def test_addresses_read_by_number_and_street_agree_with_whole_text_folding(world):
    texts = N.as_text(world.records.labels("address"))
    texts += ["12 N/A", "12", "12,", "N/A", "12bis rue x", "012 Rue", "12  rue  de la paix",
              "1,2 rue", "x", "12 ,", "3 Bd. Carnot", "7 Allée des Érables"]  # fmt: skip
    rules = NormalizeRules()
    values, status = N.normalize_addresses(texts, rules)
    ref_values, ref_status = N._address_values(texts, rules)
    assert values == ref_values
    assert status.tolist() == ref_status.tolist()


def test_swapped_names_share_a_full_name_key():
    recs = CustomerRecordTable.from_columns(
        {"first_name": ["Luke", "GAZZOLA", "Luke"], "last_name": ["Gazzola", "luke", None]}
    )
    full = normalize_records(recs)["full_name"].values().tolist()
    assert full == ["gazzola luke", "gazzola luke", None]


def test_normalization_maps_each_record_through_its_distinct_value():
    recs = CustomerRecordTable.from_columns(
        {"email": ["A@x.fr", " a@X.fr", None, "test@test.com"], "postcode": [6000, 75015, None, 1]}
    )
    norm = normalize_records(recs)
    assert norm["email"].values().tolist() == ["a@x.fr", "a@x.fr", None, None]
    assert norm["email"].status.tolist() == [1, 1, 0, 3]
    # no country: postcodes are not padded
    assert norm["postcode"].values().tolist() == ["6000", "75015", None, "1"]
    norm = normalize_records(recs, NormalizeRules(default_country="FR"))
    assert norm["postcode"].values().tolist() == ["06000", "75015", None, "00001"]


# ----------------------------------------------------------------------------- record table


def test_duplicate_record_ids_raise_with_rows_and_values():
    data = {"source": ["web", "web", "crm"], "record_id": ["1", "1", "1"], "email": ["a", "b", "c"]}
    with pytest.raises(oj.DataError, match="record_id") as info:
        CustomerRecordTable.from_columns(data)
    assert info.value.rows == (1,)
    kept, rejects = CustomerRecordTable.from_columns(data, errors="quarantine")
    assert len(kept) == 2 and rejects.rows.tolist() == [1]


def test_unknown_keyword_is_a_config_error():
    with pytest.raises(oj.ConfigError, match="unknown keyword"):
        CustomerRecordTable.from_columns({"a": [1]}, mail="a")


def test_non_string_ids_are_rejected_not_dropped():
    data = {"record_id": ["a", "b", "c"], "email": ["x@y.fr", 3.5, "z@y.fr"]}
    with pytest.raises(oj.DataError, match="email"):
        CustomerRecordTable.from_columns(data)
    q = CustomerRecordTable.from_columns(data, errors="quarantine")
    assert q.n_kept + q.n_rejected == q.n_in == 3


def test_records_from_a_dataframe_under_user_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "sys": ["a", "b"],
            "id": [1, 2],
            "mail": ["x@y.fr", "X@Y.fr"],
            "dob": pd.to_datetime(["1980-01-02", "1980-01-02"]),
        }
    )
    recs = CustomerRecordTable.from_columns(
        df, source="sys", record_id="id", email="mail", date_of_birth="dob"
    )
    assert recs["date_of_birth"].tolist() == ["1980-01-02", "1980-01-02"]


# ----------------------------------------------------------------------------- blocking, compare


def test_blocking_generates_each_pair_once_and_reports_rules():
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["a", "a", "a", "b"],
            "last_name": ["x", "x", "y", "x"],
            "email": ["e@f.fr", "e@f.fr", None, "e@f.fr"],
        }
    )
    pairs = block_pairs(
        normalize_records(recs), [BlockingRule(("email",)), BlockingRule(("first_name",))]
    )
    got = set(zip(pairs.left.tolist(), pairs.right.tolist()))
    assert got == {(0, 1), (0, 3), (1, 3), (0, 2), (1, 2)}
    assert pairs.report["pairs"].tolist() == [3, 2]
    assert pairs.report["pairs_total"].tolist() == [3, 3]


def test_blocks_over_the_cap_are_skipped_and_counted():
    recs = CustomerRecordTable.from_columns({"phone": ["0140200500"] * 5 + ["0612345678"] * 2})
    pairs = block_pairs(normalize_records(recs), [BlockingRule(("phone",), max_block_size=4)])
    assert len(pairs) == 1
    assert pairs.report["skipped_records"].tolist() == [5]


def test_blocking_matches_a_naive_loop(rng):
    n = 60
    recs = CustomerRecordTable.from_columns(
        {
            "last_name": rng.choice(["a", "b", "c", None], n).tolist(),
            "postcode": rng.choice(["1", "2"], n).tolist(),
        }
    )
    norm = normalize_records(recs)
    pairs = block_pairs(norm, [BlockingRule(("last_name", "postcode"))])
    ln, pc = norm["last_name"].codes, norm["postcode"].codes
    naive = {
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if ln[i] >= 0 and ln[i] == ln[j] and pc[i] == pc[j]
    }
    assert set(zip(pairs.left.tolist(), pairs.right.tolist())) == naive


def _jaro_winkler_loop(s: str, t: str, prefix_scale: float = 0.1) -> float:
    """Jaro-Winkler from its definition, one character at a time."""
    if not s and not t:
        return 1.0
    window = max(max(len(s), len(t)) // 2 - 1, 0)
    taken = [False] * len(t)
    s_matched = []
    for i, ch in enumerate(s):
        for j in range(max(0, i - window), min(len(t), i + window + 1)):
            if not taken[j] and t[j] == ch:
                taken[j] = True
                s_matched.append(ch)
                break
    m = len(s_matched)
    if m == 0:
        return 0.0
    t_matched = [t[j] for j in range(len(t)) if taken[j]]
    half = sum(x != y for x, y in zip(s_matched, t_matched)) // 2
    jaro = (m / len(s) + m / len(t) + (m - half) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(s[:4], t[:4]):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_scale * (1 - jaro)


JW_WORDS = [
    "martha",
    "marhta",
    "dwayne",
    "duane",
    "dixon",
    "dicksonx",
    "jean",
    "jeanne",
    "a",
    "",
    "belinda",
    "benjamin",
    "braithwaite",
    "bradsahw",
    "crate",
    "trace",
    "élodie",
    "elodie",
]


def test_jaro_winkler_hand_examples():
    # Winkler's published examples
    got = jaro_winkler(["martha", "dwayne", "dixon"], ["marhta", "duane", "dicksonx"])
    np.testing.assert_allclose(got, [0.961111, 0.84, 0.813333], atol=1e-6)
    # an odd number of out-of-order matches rounds down: b,e,i,n,a against b,e,n,a,i
    # has 3 mismatches, 1 transposition: jaro = (5/7 + 5/8 + 4/5) / 3 = 0.713095...
    assert jaro_winkler(["belinda"], ["benjamin"])[0] == pytest.approx(
        (5 / 7 + 5 / 8 + 4 / 5) / 3 + 2 * 0.1 * (1 - (5 / 7 + 5 / 8 + 4 / 5) / 3)
    )
    assert jaro_winkler(["", "abc"], ["", ""]).tolist() == [1.0, 0.0]
    with pytest.raises(OmnijourneyError, match="same length"):
        jaro_winkler(["a"], [])


def test_jaro_winkler_matches_a_python_loop():
    a = [x for x in JW_WORDS for _ in JW_WORDS]
    b = [y for _ in JW_WORDS for y in JW_WORDS]
    ref = [_jaro_winkler_loop(x, y) for x, y in zip(a, b)]
    np.testing.assert_allclose(jaro_winkler(a, b), ref, atol=1e-12)
    np.testing.assert_allclose(
        jaro_winkler(a, b, prefix_scale=0.2),
        [_jaro_winkler_loop(x, y, 0.2) for x, y in zip(a, b)],
        atol=1e-12,
    )


@settings(max_examples=200, deadline=None)
@given(st.text("abcdeé ", max_size=12), st.text("abcdeé ", max_size=12))
def test_jaro_winkler_property_matches_the_loop(s, t):
    assert jaro_winkler([s], [t])[0] == pytest.approx(_jaro_winkler_loop(s, t), abs=1e-12)


def test_jaro_winkler_matches_jellyfish():
    jellyfish = pytest.importorskip("jellyfish")
    a = [x for x in JW_WORDS for _ in JW_WORDS]
    b = [y for _ in JW_WORDS for y in JW_WORDS]
    ref = [jellyfish.jaro_winkler_similarity(x, y) if x or y else 1.0 for x, y in zip(a, b)]
    np.testing.assert_allclose(jaro_winkler(a, b), ref, atol=1e-9)


def test_comparison_levels_exact_fuzzy_swapped_and_null():
    recs = CustomerRecordTable.from_columns(
        {
            "first_name": ["Jean", "Jean", "Martin", "Jehan", None],
            "last_name": ["Martin", "Martin", "Jean", "Martin", "Martin"],
            "date_of_birth": ["1980-01-02", "1980-02-01", "1980-01-02", "1981-01-02", None],
        }
    )
    norm = normalize_records(recs)
    first = Comparison(
        name="f", field="first_name", kind="string", thresholds=(0.8,), swap_field="last_name"
    )
    dob = Comparison(name="d", field="date_of_birth", kind="date")
    g = compare_pairs(norm, [first, dob], np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]))
    assert [first.levels[x] for x in g[:, 0]] == ["exact", "swapped", "jw>=0.8", "null"]
    assert [dob.levels[x] for x in g[:, 1]] == ["close", "exact", "close", "null"]


# ----------------------------------------------------------------------------- clustering


def test_clusters_respect_conflicting_dates_size_and_overrides():
    left, right = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    w = np.array([9.0, 1.0, 8.0, 7.0])
    dob = np.array([0, -1, -1, 1, -1])
    labels, kept = cluster_links(5, left, right, w, conflict_codes=[dob])
    assert labels[0] != labels[3]
    assert kept.tolist() == [True, False, True, True]
    labels, _ = cluster_links(5, left, right, w, max_size=2)
    assert np.bincount(labels).max() <= 2
    labels, _ = cluster_links(5, left, right, w, cannot_link=(np.array([0]), np.array([4])))
    assert labels[0] != labels[4]
    labels, _ = cluster_links(
        5, left[:0], right[:0], w[:0], must_link=(np.array([0]), np.array([4]))
    )
    assert labels[0] == labels[4]
    with pytest.raises(oj.ConfigError, match="cannot-link"):
        cluster_links(
            3,
            left[:0],
            right[:0],
            w[:0],
            must_link=(np.array([0, 1]), np.array([1, 2])),
            cannot_link=(np.array([0]), np.array([2])),
        )


def test_weak_links_attach_a_person_but_never_join_two_households():
    # persons 0-1 and 2-3 are two households; 4 shares their address only
    left, right = np.array([0, 2, 4, 4]), np.array([1, 3, 0, 2])
    weight = np.array([9.0, 9.0, 2.0, 1.0])
    weak = np.array([False, False, True, True])
    labels, kept = cluster_links(5, left, right, weight, weak=weak)
    assert labels.tolist() == [0, 0, 1, 1, 0]
    assert kept.tolist() == [True, True, True, False]
    labels, _ = cluster_links(5, left, right, weight)
    assert np.unique(labels).size == 1


def test_a_value_no_other_entity_holds_weighs_more_than_a_common_one():
    from omnijourney.identity import value_u

    # value 0 held by entity 0 only (3 records); value 1 by four entities
    codes = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    entity = np.array([0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9])
    u = value_u(codes, np.array([0, 3]), np.array([2, 4]), entity)
    assert u[0] < u[1]
    # without entities, records are counted: the same order
    u_rec = value_u(codes, np.array([0, 3]), np.array([2, 4]))
    assert u_rec[0] < u_rec[1]


def test_household_members_with_another_surname_join_by_a_rare_address():
    recs = CustomerRecordTable.from_columns(
        {
            "source": ["crm"] * 6,
            "record_id": list("abcdef"),
            "first_name": ["Anne", "Anne", "Marc", "Marc", "Lou", "Paul"],
            "last_name": ["Roy", "Roy", "Roy", "Roy", "Petit", "Blanc"],
            "email": ["anne@x.fr", "anne@x.fr", "marc@x.fr", "marc@x.fr", "lou@y.fr", "p@z.fr"],
            "address": [
                "3 rue Vauban",
                None,
                "3 rue Vauban",
                "3 rue Vauban",
                "3 rue Vauban",
                "8 rue Pasteur",
            ],
            "postcode": ["21000"] * 6,
        }
    )
    res = resolve(recs)
    assert res.n_persons == 4
    assert res.household_id[0] == res.household_id[2] == res.household_id[4]
    assert res.household_id[5] != res.household_id[0]


# ----------------------------------------------------------------------------- resolve


def test_resolve_small_household_two_persons():
    recs = CustomerRecordTable.from_columns(
        {
            "source": ["web", "shop", "shop", "web"],
            "record_id": ["W1", "S1", "S2", "W2"],
            "first_name": ["Zoé", "ZOE", "Paul", "Paul"],
            "last_name": ["Roy", "ROY", "Roy", "Roy"],
            "email": ["zoe.roy@mail.fr", "Zoe.Roy@mail.fr", "roy@mail.fr", "roy@mail.fr"],
            "address": ["3 rue Vauban", None, "3, r. Vauban", "3 rue Vauban"],
            "postcode": ["21000"] * 4,
        }
    )
    res = resolve(recs)
    assert res.person_id[0] == res.person_id[1] != res.person_id[2] == res.person_id[3]
    assert len(set(res.household_id.tolist())) == 1


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_record(n):
    recs = CustomerRecordTable.from_columns({"email": ["a@b.fr"] * n, "record_id": list(range(n))})
    res = resolve(recs)
    assert res.person_id.tolist() == list(range(1, n + 1))


def test_records_without_identifier_are_flagged_not_dropped():
    recs = CustomerRecordTable.from_columns(
        {"email": ["a@b.fr", "test@test.com", None], "city": ["Lyon", "Lyon", "Lyon"]}
    )
    with pytest.warns(oj.OmnijourneyWarning, match="records without any identifier: 2"):
        res = resolve(recs)
    assert res.person_id.size == 3
    assert res.no_identifier.tolist() == [False, True, True]


def test_synthetic_world_person_and_household_quality(world_records, world_resolution):
    person = pairwise_scores(world_resolution.person_id, world_records["true_person_id"])
    household = pairwise_scores(world_resolution.household_id, world_records["true_household_id"])
    assert person.precision >= 0.95 and person.recall >= 0.95
    assert household.precision >= 0.95 and household.f1 >= 0.9
    # persons nest inside households
    pairs = np.unique(
        np.stack([world_resolution.person_id, world_resolution.household_id], 1), axis=0
    )
    assert np.unique(pairs[:, 0]).size == pairs.shape[0]


def test_partition_does_not_depend_on_row_order(world_records, world_resolution):
    perm = np.random.default_rng(5).permutation(len(world_records))
    res = resolve(world_records.take(perm))
    assert np.array_equal(res.person_id, world_resolution.person_id[perm])
    assert np.array_equal(res.household_id, world_resolution.household_id[perm])


def test_overrides_are_always_respected(world_records, world_resolution):
    res = world_resolution
    big = np.bincount(res.person_id).argmax()
    rows = res.records_of(int(big))
    a, b = int(rows[0]), int(rows[-1])
    key = lambda r: (str(world_records["source"][r]), str(world_records["record_id"][r]))  # noqa: E731
    split = res.with_overrides(Overrides(cannot_link=[(key(a), key(b))]))
    assert split.person_id[a] != split.person_id[b]
    other = int(np.flatnonzero(res.person_id != res.person_id[a])[0])
    merged = res.with_overrides(Overrides(must_link=[(key(a), key(other))]))
    assert merged.person_id[a] == merged.person_id[other]


def test_unknown_override_record_is_a_config_error(world_resolution):
    with pytest.raises(oj.ConfigError, match="no record"):
        world_resolution.with_overrides(Overrides(must_link=[(("web", "?"), ("web", "!"))]))


def test_resolution_rules_round_trip_through_json():
    rules = ResolutionRules(households=False, unique_sources=("web",))
    assert oj.from_json(oj.to_json(rules), ResolutionRules) == rules


# ----------------------------------------------------------------------------- downstream


def test_golden_records_take_the_most_recent_valid_value_with_lineage(world_resolution):
    g = golden_records(world_resolution)
    assert len(g) == world_resolution.n_persons
    assert g["n_records"].sum() == world_resolution.n_records
    has = g["email"] != None  # noqa: E711
    assert all("/" in x for x in g["email_from"][has])
    prio = golden_records(
        world_resolution, Survivorship(default="source_priority", source_priority=("loyalty",))
    )
    assert len(prio) == len(g)


def test_explanations_name_comparisons_weights_and_rule(world_resolution):
    res = world_resolution
    persons = np.flatnonzero(res.link == 2)
    tf = {c.name for c in res.model.comparisons if c.tf_adjust}
    for k in persons[:: max(1, persons.size // 40)].tolist():
        a, b = int(res.pair_left[k]), int(res.pair_right[k])
        pair = explain_pair(res, a, b)
        rule = res.rules.blocking[res.rule[k]].name if res.rule[k] < len(res.rules.blocking) else ""
        head = f"{res.records['source'][a]}/{res.records['record_id'][a]} and"
        assert (
            pair.text.startswith(head)
            and f"same person (found by blocking rule {rule!r})" in pair.text
        )
        table = pair.table
        person = table["model"] == "person"
        # the person model's weight is its prior and the weights of the levels shown
        assert np.isclose(
            table["weight"][person].sum() + res.person_model.prior_weight, res.person_weight[k]
        )
        # so is the link model's, but for term-frequency adjustments of exact agreements
        link = (table["model"] == "link") & ~(
            np.isin(table["comparison"], list(tf)) & (table["level"] == "exact")
        )
        exact_tf = (table["model"] == "link") & ~link
        if not exact_tf.any():
            assert np.isclose(
                table["weight"][link].sum() + res.model.prior_weight, res.match_weight[k]
            )
        pid = int(res.person_id[a])
        whole = explain_person(res, pid)
        assert whole.text.startswith(f"person {pid}: {res.records_of(pid).size} records")
        assert len(whole.table) == int(
            ((res.link == 2) & (res.person_id[res.pair_left] == pid)).sum()
        )


def test_resolution_explain_is_deprecated_but_works(world_resolution):
    res = world_resolution
    k = int(np.flatnonzero(res.link == 2)[0])
    a, b = int(res.pair_left[k]), int(res.pair_right[k])
    with pytest.warns(DeprecationWarning, match="explain_pair"):
        old = res.explain(a, b)
    assert old.text == explain_pair(res, a, b).text
    with pytest.warns(DeprecationWarning, match="explain_person"):
        person = res.explain(int(res.person_id[a]))
    assert person.text == explain_person(res, int(res.person_id[a])).text


def test_explanation_text_names_each_comparison(world_resolution):
    res = world_resolution
    k = int(np.flatnonzero(res.link == 2)[0])
    a, b = int(res.pair_left[k]), int(res.pair_right[k])
    expl = explain_pair(res, a, b)
    lines = expl.text.splitlines()
    labels = [f"{res.records['source'][r]}/{res.records['record_id'][r]}" for r in (a, b)]
    rule = re.fullmatch(
        rf"{labels[0]} and {labels[1]}: same person \(found by blocking rule '(.+)'\)", lines[0]
    )
    assert rule is not None, lines[0]
    assert rule.group(1) in {r.name for r in res.rules.blocking}
    assert lines[1].strip().startswith(f"link model: match weight {res.match_weight[k]:+.1f}")
    # every comparison with evidence is named with its level, weight and both values
    rows = expl.table.to_pandas()
    shown = rows[rows["level"] != "null"]
    assert len(shown) >= 1 and set(rows["model"]) <= {"link", "person"}
    for r in shown.itertuples():
        line = f"[{r.model}] {r.comparison}: {r.level} ({r.weight:+.1f})"
        assert any(x.strip().startswith(line) for x in lines), line
    person = explain_person(res, int(res.person_id[a]))
    members = np.flatnonzero(res.person_id == res.person_id[a])
    assert person.text.startswith(f"person {res.person_id[a]}: {members.size} records")
    assert len(person.table) >= members.size - 1  # at least a spanning set of links


def test_quality_report_counts_add_up(world_resolution):
    report = quality_report(world_resolution)
    assert report.sources["records"].sum() == world_resolution.n_records
    assert report.counts["persons"] == world_resolution.n_persons
    assert "test@test.com" in report.placeholders["value"].tolist()


def test_touchpoints_link_to_persons_and_unmatched_stay_anonymous(world, world_resolution):
    tp = world.touchpoints
    out = link_touchpoints(tp, world_resolution, on={"record_id": "record_id"})
    assert len(out) == len(tp)
    matched = ~out["anonymous"]
    assert matched.mean() > 0.5
    # rows with a record id are linked; a customer id is linked as a whole unless its
    # records resolve to several persons: rows of a customer without any record id are not
    has_record = tp.raw("record_id") >= 0
    known = np.zeros(len(tp.labels("customer")), dtype=bool)
    known[tp.raw("customer")[has_record]] = True
    assert not out["anonymous"][has_record].any()
    assert out["anonymous"][~known[tp.raw("customer")]].all()
    split = out["link_status"] == "ambiguous"
    assert (out["anonymous"] == (split | ~known[tp.raw("customer")])).all()

"""Synthetic identities: the population and the noisy source records drawn from it."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pytest

from omnijourney.errors import ConfigError
from omnijourney.synth import _records as R
from omnijourney.synth._population import SEGMENTS, digit_text, make_population
from omnijourney.synth._records import SOURCES, make_records
from omnijourney.tables import Table

START = np.datetime64("2024-01-01")
DAYS = 180
N = 2000


def build(seed: int, n: int = N):
    rng = np.random.default_rng(seed)
    pop = make_population(n, rng, start=START, days=DAYS)
    records, primary = make_records(pop, rng, start=START, days=DAYS)
    return pop, records, primary


@pytest.fixture(scope="module")
def world():
    pop, records, primary = build(7)
    return pop, records, records.to_dict(), primary


def person_index(pop, ids):
    """Row of each person id (ids are zero-padded, hence sorted)."""
    return np.searchsorted(pop.person_id, ids)


def within(count: int, expected: float) -> bool:
    """A binomial count close to its expectation (about four standard deviations)."""
    return abs(count - expected) <= 4 * np.sqrt(expected) + 3


def normalise_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if digits.startswith("0033"):
        digits = digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        digits = digits[1:]
    return "+33" + digits


def normalise_email(text: str) -> str:
    local, _, domain = text.strip().lower().partition("@")
    local = local.split("+")[0]
    if domain == "gmail.com":
        local = local.replace(".", "")
    return f"{local}@{domain}"


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


# ----------------------------------------------------------------------------- population


def test_population_shapes_ids_and_contacts(world):
    pop, *_ = world
    assert len(pop) == N
    assert pop.person_id[0] == "P0000001" and pop.household_id[0] == "H000001"
    assert len(set(pop.person_id.tolist())) == N
    assert len(set(pop.email.tolist())) == N
    assert len(set(pop.mobile.tolist())) == N
    assert all(re.fullmatch(r"\+33[67]\d{8}", m) for m in pop.mobile)
    lands = [x for x in pop.landline if x is not None]
    assert lands and all(re.fullmatch(r"\+33[1-5]\d{8}", x) for x in lands)
    assert set(pop.segment) == set(SEGMENTS)
    assert set(pop.gender) == {"F", "M"}
    assert set(pop.country) == {"FR"}
    age = (START.astype("datetime64[D]") - pop.date_of_birth).astype(np.int64) / 365.25
    assert age.min() >= 18 and age.max() < 92
    assert pop.customer_since.dtype == np.dtype("datetime64[us]")
    assert (pop.customer_since < START + np.timedelta64(DAYS, "D")).all()


def test_households_are_contiguous_and_share_address_and_landline(world):
    pop, *_ = world
    hh = pop.household_index
    assert (np.diff(hh) >= 0).all() and (np.diff(hh) <= 1).all()
    sizes = np.bincount(hh)
    assert sizes.min() >= 1 and sizes.max() <= 5
    assert 0.28 < np.mean(sizes == 1) < 0.42
    members: dict[int, list[int]] = defaultdict(list)
    for i, h in enumerate(hh.tolist()):
        members[h].append(i)
    same_surname = pairs = 0
    for rows in members.values():
        for col in ("household_id", "street", "street_number", "postcode", "city", "landline"):
            assert len({getattr(pop, col)[i] for i in rows}) == 1, col
        assert len({pop.household_email[i] for i in rows}) == 1
        assert len({pop.previous_address[i] for i in rows}) == 1
        for i in rows[1:]:
            pairs += 1
            same_surname += pop.last_name[i] == pop.last_name[rows[0]]
    assert 0.78 < same_surname / pairs < 0.95
    with_family_mailbox = {h for h, rows in members.items() if pop.household_email[rows[0]]}
    assert all(len(members[h]) > 1 for h in with_family_mailbox)
    assert 0.30 < np.mean(pop.landline_nsn > 0) < 0.50


def test_population_is_deterministic_and_validates_its_arguments():
    a = make_population(50, np.random.default_rng(3), start=START, days=DAYS)
    b = make_population(50, np.random.default_rng(3), start=START, days=DAYS)
    assert (a.email == b.email).all() and (a.date_of_birth == b.date_of_birth).all()
    one = make_population(1, np.random.default_rng(3), start=START, days=DAYS)
    assert len(one) == 1
    with pytest.raises(ConfigError):
        make_population(0, np.random.default_rng(3), start=START, days=DAYS)
    with pytest.raises(ConfigError):
        make_population(5, np.random.default_rng(3), start=START, days=0)


def test_digit_text_fills_templates():
    out = digit_text("+33 # ## ## ## ##", np.array([612345678, 700000001]))
    assert out.tolist() == ["+33 6 12 34 56 78", "+33 7 00 00 00 01"]
    assert digit_text("WEB-#######", np.array([42])).tolist() == ["WEB-0000042"]


# ----------------------------------------------------------------------------- records


def test_columns_and_kinds(world):
    _, records, _, _ = world
    assert records.columns == R.COLUMNS
    kinds = records.kinds
    assert kinds["created"] == kinds["updated"] == "time"
    assert kinds["consent_email"] == "bool"
    assert all(
        kinds[c] == "category"
        for c in R.COLUMNS
        if c not in {"created", "updated"} and c != "consent_email"
    )


def test_table_is_what_from_columns_builds(world):
    _, records, d, _ = world
    ref = Table.from_columns(d, kinds=records.kinds)
    assert records.equals(ref)
    for c in records.columns:
        assert np.array_equal(records.raw(c), ref.raw(c)), c
        assert records.raw(c).dtype == ref.raw(c).dtype, c
        if records.kinds[c] == "category":
            assert records.labels(c).tolist() == ref.labels(c).tolist(), c


def test_record_ids_unique_and_prefixed(world):
    _, records, d, _ = world
    ids = d["record_id"]
    assert len(set(ids.tolist())) == len(records)
    prefix = {"web": "WEB-", "loyalty": "LOY-", "call_centre": "CC-", "orders": "ORD-"}
    assert all(i.startswith(prefix[s]) for i, s in zip(ids, d["source"]))


def test_every_person_appears_and_counts_are_plausible(world):
    pop, records, d, _ = world
    assert set(d["true_person_id"].tolist()) == set(pop.person_id.tolist())
    per_person = len(records) / len(pop)
    assert 2.0 <= per_person <= 2.6
    share = Counter(d["source"].tolist())
    assert set(share) == set(SOURCES)
    for s, (lo, hi) in {
        "web": (0.18, 0.35),
        "loyalty": (0.20, 0.35),
        "call_centre": (0.08, 0.20),
        "orders": (0.22, 0.42),
    }.items():
        assert lo < share[s] / len(records) < hi, s


def test_presence_follows_the_segment(world):
    pop, _, d, _ = world
    seg = pop.segment[person_index(pop, d["true_person_id"])]
    for segment, main in (
        ("web_autonomous", "web"),
        ("store_relational", "loyalty"),
        ("assisted", "call_centre"),
    ):
        mine = Counter(d["source"][seg == segment].tolist())
        assert mine[main] > 0.3 * sum(mine.values()), segment
    sources_of: dict[str, set[str]] = defaultdict(set)
    for person, source in zip(d["true_person_id"], d["source"]):
        sources_of[person].add(source)
    spread = {
        segment: np.mean([len(sources_of[p]) for p in pop.person_id[pop.segment == segment]])
        for segment in SEGMENTS
    }
    assert spread["multichannel"] > 2.4
    assert spread["multichannel"] == max(spread.values())


def test_truth_columns_are_consistent(world):
    pop, _, d, _ = world
    rows = person_index(pop, d["true_person_id"])
    assert (pop.person_id[rows] == d["true_person_id"]).all()
    assert (pop.household_id[rows] == d["true_household_id"]).all()
    household_of: dict[str, set[str]] = defaultdict(set)
    for p, h in zip(d["true_person_id"], d["true_household_id"]):
        household_of[p].add(h)
    assert all(len(h) == 1 for h in household_of.values())


def test_same_seed_same_tables_other_seed_differs():
    _, a, pa = build(11, 300)
    _, b, pb = build(11, 300)
    _, c, _ = build(12, 300)
    assert a.equals(b)
    assert all((pa[s] == pb[s]).all() for s in SOURCES)
    assert not a.equals(c)


def test_primary_points_to_a_record_of_the_person_in_that_source(world):
    pop, _, d, primary = world
    row_of = {rid: i for i, rid in enumerate(d["record_id"])}
    for s in SOURCES:
        prim = primary[s]
        assert prim.shape == (len(pop),)
        present = set(d["true_person_id"][d["source"] == s].tolist())
        for i, rid in enumerate(prim):
            if rid is None:
                assert pop.person_id[i] not in present
                continue
            r = row_of[rid]
            assert d["source"][r] == s and d["true_person_id"][r] == pop.person_id[i]
        assert sum(x is not None for x in prim) == len(present)


def test_duplicates_within_sources(world):
    _, _, d, _ = world
    for s, rate in R.DUPLICATE_RATE.items():
        mine = d["true_person_id"][d["source"] == s]
        extra = len(mine) - len(set(mine.tolist()))
        assert within(extra, rate * len(set(mine.tolist()))), s


def test_placeholders_at_their_rates(world):
    _, _, d, _ = world
    manual = d["source"] != "web"
    n_manual = int(manual.sum())
    email_ph = np.isin(d["email"], R.PLACEHOLDER_EMAILS)
    phone_ph = np.isin(d["phone"], R.PLACEHOLDER_PHONES)
    name_ph = np.isin(d["first_name"], R.PLACEHOLDER_NAMES)
    assert not (email_ph | phone_ph | name_ph)[~manual].any()
    assert within(int(email_ph.sum()), R.PLACEHOLDER_EMAIL_RATE * n_manual)
    assert within(int(phone_ph.sum()), R.PLACEHOLDER_PHONE_RATE * n_manual)
    assert within(int(name_ph.sum()), R.PLACEHOLDER_NAME_RATE * n_manual)
    loyalty = d["source"] == "loyalty"
    store = np.isin(d["phone"], R.STORE_PHONES)
    assert not store[~loyalty].any()
    assert within(int(store.sum()), R.STORE_PHONE_RATE * int(loyalty.sum()))


def test_phone_variants_normalise_to_the_persons_numbers(world):
    pop, _, d, _ = world
    rows = person_index(pop, d["true_person_id"])
    seen_formats = set()
    landline_used = 0
    for phone, i in zip(d["phone"], rows):
        if phone is None or phone in R.PLACEHOLDER_PHONES or phone in R.STORE_PHONES:
            continue
        seen_formats.add(re.sub(r"\d", "9", phone))
        e164 = normalise_phone(phone)
        assert e164 in (pop.mobile[i], pop.landline[i]), (phone, pop.mobile[i])
        landline_used += e164 == pop.landline[i]
    assert {
        "+99 9 99 99 99 99",
        "99 99 99 99 99",
        "99.99.99.99.99",
        "9999999999",
        "9999999999999",
        "999999999",
    } <= seen_formats
    assert landline_used > 0


def test_email_variants_mostly_normalise_to_known_mailboxes(world):
    pop, _, d, _ = world
    rows = person_index(pop, d["true_person_id"])
    own = family = other = 0
    for email, i in zip(d["email"], rows):
        if email is None or email in R.PLACEHOLDER_EMAILS:
            continue
        e = normalise_email(email)
        if e == normalise_email(pop.email[i]):
            own += 1
        elif pop.household_email[i] and e == normalise_email(pop.household_email[i]):
            family += 1
        else:
            other += 1  # second accounts, domain typos
    assert family > 0
    assert other < 0.05 * (own + family + other)
    raw = [e for e in d["email"] if e is not None]
    assert any(e != e.strip() for e in raw)
    assert any("+" in e for e in raw)
    assert any(e != e.lower() for e in raw)


def test_household_mailbox_is_shared_by_several_people(world):
    _, _, d, _ = world
    owners: dict[str, set[str]] = defaultdict(set)
    for email, person in zip(d["email"], d["true_person_id"]):
        if email is not None and email not in R.PLACEHOLDER_EMAILS:
            owners[email].add(person)
    assert any(len(p) > 1 for p in owners.values())


def test_names_are_mostly_recognisable(world):
    pop, _, d, _ = world
    rows = person_index(pop, d["true_person_id"])
    last_ok = np.mean([fold(a) == fold(b) for a, b in zip(d["last_name"], pop.last_name[rows])])
    assert 0.90 < last_ok < 0.99  # typos and swaps
    swapped = np.mean(
        [
            f is not None and fold(f) == fold(b) and fold(a) == fold(c)
            for f, a, b, c in zip(
                d["first_name"], d["last_name"], pop.last_name[rows], pop.first_name[rows]
            )
        ]
    )
    assert 0.003 < swapped < 0.04
    loyalty = d["source"] == "loyalty"
    upper = np.mean([x == x.upper() for x in d["last_name"][loyalty]])
    assert upper > 0.4


def test_addresses_current_or_previous(world):
    pop, _, d, _ = world
    rows = person_index(pop, d["true_person_id"])
    previous = 0
    for address, i in zip(d["address"], rows):
        if address is None or address in R.PLACEHOLDER_NAMES:
            continue
        number = int(address.split()[0].rstrip(","))
        if number != pop.street_number[i]:
            assert pop.previous_address[i] is not None
            assert number == pop.previous_street_number[i]
            previous += 1
        elif pop.previous_address[i] is not None and pop.previous_street_number[i] == number:
            pass  # same number in both addresses
    assert previous > 0
    assert any(pc is not None and len(pc) == 4 for pc in d["postcode"])  # lost leading zero


def test_dates_of_birth_as_each_source_writes_them(world):
    _, _, d, _ = world
    patterns = {
        "web": r"\d{4}-\d{2}-\d{2}",
        "loyalty": r"\d{2}/\d{2}/\d{4}",
        "call_centre": r"\d{2}/\d{2}/\d{4}|\d{1,2}/\d{1,2}/\d{2}",
    }
    for dob, s in zip(d["date_of_birth"], d["source"]):
        if dob is None:
            continue
        assert s != "orders"
        assert re.fullmatch(patterns[s], dob), (s, dob)
    cc = [x for x, s in zip(d["date_of_birth"], d["source"]) if s == "call_centre"]
    assert sum(x is None for x in cc) > 0.5 * len(cc)


def test_times_and_card_and_account_links(world):
    _, _, d, _ = world
    assert (d["updated"] >= d["created"]).all()
    assert (d["created"] < START + np.timedelta64(DAYS, "D")).all()
    loyalty = d["source"] == "loyalty"
    web = d["source"] == "web"
    assert all(x is not None and len(x) == 13 for x in d["loyalty_id"][loyalty])
    assert all(x is not None for x in d["account_id"][web])
    cards = set(d["loyalty_id"][loyalty].tolist())
    quoted = [x for x in d["loyalty_id"][~loyalty] if x is not None]
    assert quoted and set(quoted) <= cards
    accounts = set(d["account_id"][web].tolist())
    logged_in = [x for x in d["account_id"][d["source"] == "orders"] if x is not None]
    assert logged_in and set(logged_in) <= accounts

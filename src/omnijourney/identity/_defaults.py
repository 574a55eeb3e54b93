"""Rules generated from the fields a table has: comparisons for every field that is mapped,
and blocking rules made of field combinations sized by the pairs they would generate.

Blocking follows the idea of splink's blocking analysis (count the comparisons a rule makes
before running it) turned into a search: single fields first, and a combination that makes
too many pairs is refined with one more field, until every rule makes at most a budget of
pairs (a few per record). A true pair is missed only when every rule has one of its fields
wrong, so many small rules over different fields find nearly every pair at a bounded cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omnijourney._random import Seed, as_generator
from omnijourney.identity._blocking import BlockingRule, block_keys, block_pairs
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._records import NormalizedRecords
from omnijourney.tables import Table

__all__ = [
    "BLOCKING_FIELDS",
    "IDENTIFIER_KEYS",
    "count_pairs",
    "default_blocking",
    "default_comparisons",
    "shows_households",
]

#: Identifiers that block alone whatever their pair counts (shared values are capped).
IDENTIFIER_KEYS = ("email", "phone", "account_id", "loyalty_id", "card_id")
#: Normalized fields that blocking rules combine, in the order rules name them.
BLOCKING_FIELDS = (
    *IDENTIFIER_KEYS,
    "first_name",
    "last_name",
    "date_of_birth",
    "house_number",
    "street",
    "address_2",
    "postcode",
    "city",
    "region",
)
# pairs of records a rule may make: PAIRS_PER_RECORD per record, at least MIN_PAIRS
PAIRS_PER_RECORD = 2.0
MIN_PAIRS = 10_000
# the most fields a generated rule combines
MAX_FIELDS = 3
# a value shared by more records is not a useful key (a building, a common name in a town):
# its block is skipped, and the block sizes reported
MAX_BLOCK_SIZE = 50
# a rule may leave that share of its records to blocks over the cap (not compared by it)
MAX_SKIPPED_SHARE = 0.01
# above this many records, pairs are counted on a seeded sample and scaled up
SAMPLE_SIZE = 200_000


def count_pairs(
    norm: NormalizedRecords,
    fields: Sequence[str],
    *,
    link_groups: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> int:
    """Pairs of records a blocking rule on ``fields`` generates (before any block size cap).

    The number splink's ``count_comparisons_from_blocking_rule`` gives: the sum over blocks of
    ``k (k - 1) / 2`` for a block of ``k`` records, only pairs across groups when
    ``link_groups`` is given.

    Parameters
    ----------
    norm : NormalizedRecords
    fields : sequence of str
        Normalized fields, all present in ``norm``.
    link_groups : numpy.ndarray of int, optional
        Group of each record (pairs inside a group are not counted).
    rows : numpy.ndarray of int, optional
        Count among these records only.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> recs = CustomerRecordTable.from_columns(
    ...     {"last_name": ["Roy", "Roy", "Roy", "Lee", "Lee"], "postcode": ["1", "1", "2", "1", "1"]})
    >>> norm = normalize_records(recs)
    >>> count_pairs(norm, ["last_name"]), count_pairs(norm, ["last_name", "postcode"])
    (4, 2)
    """
    return round(float(_block_pairs(norm, fields, link_groups, rows)[1].sum()))


def _block_pairs(
    norm: NormalizedRecords,
    fields: Sequence[str],
    link_groups: np.ndarray | None,
    rows: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Records and pairs (across groups when linking) of each block of a rule."""
    sub = norm if rows is None else norm.take(rows)
    valid, key = block_keys(sub, fields)
    if key.size < 2:
        return np.zeros(0, np.int64), np.zeros(0)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    c = counts.astype(np.float64)
    pairs = c * (c - 1) / 2
    if link_groups is not None:
        groups = (link_groups if rows is None else link_groups[rows])[valid].astype(np.int64)
        span = int(groups.max()) + 1
        cell, per_group = np.unique(inverse.reshape(-1) * span + groups, return_counts=True)
        g = per_group.astype(np.float64)
        pairs = pairs - np.bincount(cell // span, weights=g * (g - 1) / 2, minlength=c.size)
    return counts, pairs


def _candidate_fields(norm: NormalizedRecords) -> list[str]:
    return [f for f in BLOCKING_FIELDS if f in norm]


def default_blocking(
    norm: NormalizedRecords,
    *,
    link_groups: np.ndarray | None = None,
    max_pairs: int | None = None,
    seed: Seed = 0,
) -> tuple[tuple[BlockingRule, ...], Table]:
    """Blocking rules for the fields ``norm`` has, each making at most ``max_pairs`` pairs.

    Each identifier (email, phone, account, loyalty and card ids) is a rule of its own, and so
    is the full address (house number, street and postcode or city: where a household lives,
    whoever's name is on the record). The
    other fields are searched by size: a field (then a combination) whose pairs fit the budget
    and that leaves at most 1% of its records in blocks of more than 50 records (such blocks
    are skipped) becomes a rule; one that makes too many pairs, or leaves more records in big
    blocks (a common name, a building), is combined with each further field, up to three
    fields. A combination that contains a rule
    already chosen is not tried (its pairs are among that rule's). A rule on both names blocks on ``full_name``, so that names typed in
    each other's place still meet.

    Parameters
    ----------
    norm : NormalizedRecords
        The records, with only their usable fields (see :meth:`NormalizedRecords.usable`).
    link_groups : numpy.ndarray of int, optional
        Group of each record when linking: only pairs across groups are counted.
    max_pairs : int, optional
        Pairs a rule may make (default: two per record, at least 10,000, so that small tables
        are compared nearly exhaustively).
    seed : int or numpy.random.Generator
        Seed of the sample pairs are counted on when there are more than 200,000 records.

    Returns
    -------
    rules : tuple of BlockingRule
        Identifiers first, then the other rules from the fewest fields and pairs.
    analysis : Table
        Every rule tried: ``rule``, ``fields``, ``pairs`` (estimated), ``chosen``.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> recs = CustomerRecordTable.from_columns({
    ...     "first_name": ["Ann", "Ann", "Ann", "Bob"], "last_name": ["Lee", "Lee", "Ray", "Lee"],
    ...     "city": ["Lyon", "Lyon", "Nice", "Lyon"]})
    >>> rules, analysis = default_blocking(normalize_records(recs), max_pairs=1)
    >>> [r.name for r in rules]
    ['full_name', 'first_name & city']
    >>> analysis["rule"].tolist()
    ['first_name', 'last_name', 'city', 'first_name & last_name', 'first_name & city', 'last_name & city']
    >>> analysis["pairs"].tolist(), analysis["chosen"].tolist()
    ([3, 3, 3, 1, 1, 3], [False, False, False, True, True, False])
    """
    n = len(norm)
    budget = max(int(PAIRS_PER_RECORD * n), MIN_PAIRS) if max_pairs is None else max_pairs
    rows = None
    scale = 1.0
    if n > SAMPLE_SIZE:
        rng = as_generator(seed)
        rows = np.sort(rng.choice(n, size=SAMPLE_SIZE, replace=False))
        scale = (n / SAMPLE_SIZE) ** 2
    block_scale = np.sqrt(scale)
    fields = _candidate_fields(norm)
    chosen: list[tuple[str, ...]] = [(f,) for f in fields if f in IDENTIFIER_KEYS]
    # the full address is where a household lives: a key of its own, like an identifier
    home = _home_key(norm)
    if home:
        chosen.append(home)
    tried: dict[tuple[str, ...], int] = {}
    frontier: list[tuple[str, ...]] = [(f,) for f in fields if f not in IDENTIFIER_KEYS]
    order = {f: i for i, f in enumerate(fields)}
    for size in range(1, MAX_FIELDS + 1):
        over: list[tuple[str, ...]] = []
        for combo in sorted(set(frontier), key=lambda c: [order[f] for f in c]):
            if any(set(c) <= set(combo) for c in chosen):
                continue
            counts, per_block = _block_pairs(norm, combo, link_groups, rows)
            # a block over the cap would be skipped (a common name in a town, a building);
            # on a sample, a block seen with few records says little about its size
            big = (counts * block_scale > MAX_BLOCK_SIZE) & ((rows is None) | (counts >= 5))
            pairs = int(float(per_block.sum()) * scale)
            tried[combo] = pairs
            # a rule with many records in big blocks is refined rather than run with them
            # skipped; a few (a placeholder address, a large family) are left to the cap
            skipped = float(counts[big].sum()) / max(float(counts.sum()), 1.0)
            if pairs <= budget and skipped <= MAX_SKIPPED_SHARE:
                chosen.append(combo)
            else:
                over.append(combo)
        if size == MAX_FIELDS:
            break
        frontier = [
            tuple(sorted({*combo, f}, key=order.__getitem__))
            for combo in over
            for f in fields
            if f not in combo and f not in IDENTIFIER_KEYS
        ]
    rank = {c: (len(c), tried.get(c, 0)) for c in chosen}
    keys = [c for c in chosen if c[0] in IDENTIFIER_KEYS or c == home]
    ordered = keys + sorted((c for c in chosen if c not in keys), key=rank.__getitem__)
    rules = tuple(BlockingRule(_as_rule(c, norm), max_block_size=MAX_BLOCK_SIZE) for c in ordered)
    names = list(tried)
    analysis = Table.from_columns(
        {
            "rule": [" & ".join(c) for c in names],
            "fields": np.array([len(c) for c in names], dtype=np.int64),
            "pairs": np.array([tried[c] for c in names], dtype=np.int64),
            "chosen": np.array([c in chosen for c in names], dtype=bool),
        },
        kinds={"rule": "category"},
    )
    return rules, analysis


def _home_key(norm: NormalizedRecords) -> tuple[str, ...]:
    """House number, street and postcode (else city), when the records have them."""
    area = next((f for f in ("postcode", "city") if f in norm), None)
    if area is None or "street" not in norm or "house_number" not in norm:
        return ()
    return ("house_number", "street", area)


def _as_rule(combo: tuple[str, ...], norm: NormalizedRecords) -> tuple[str, ...]:
    """Both names as ``full_name`` (either order), the other fields as they are."""
    if {"first_name", "last_name"} <= set(combo) and "full_name" in norm:
        rest = tuple(f for f in combo if f not in ("first_name", "last_name"))
        return ("full_name", *rest)
    return combo


# --------------------------------------------------------------------------- comparisons

_NAME_THRESHOLDS = (0.92, 0.8)
_PLACE_THRESHOLDS = (0.9, 0.7)


def default_comparisons(norm: NormalizedRecords) -> tuple[Comparison, ...]:
    """One comparison per field ``norm`` has.

    Names by Jaro-Winkler levels (with first and last names swapped as a level of their own,
    and term frequencies); dates of birth exact, then close (one digit wrong, two adjacent
    digits or day and month swapped), then partial (two of year, month and day); identifiers
    as keys (an email's local part as a weaker level); the street by Jaro-Winkler levels, the
    house number, postcode and region exactly, the city and second address line by
    Jaro-Winkler levels. Roles for the two-level resolution: first name and date of birth tell
    persons apart, surname and place are shared by a household, identifiers are both.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> recs = CustomerRecordTable.from_columns({"first_name": ["Ann"], "city": ["Lyon"]})
    >>> [c.name for c in default_comparisons(normalize_records(recs))]
    ['first_name', 'city']
    """
    has = set(norm.fields)
    catalogue = [
        Comparison(name="first_name", field="first_name", kind="string",
                   thresholds=_NAME_THRESHOLDS, tf_adjust=True, role="person",
                   swap_field="last_name" if "last_name" in has else None),
        Comparison(name="last_name", field="last_name", kind="string",
                   thresholds=_NAME_THRESHOLDS, tf_adjust=True, role="household"),
        Comparison(name="date_of_birth", field="date_of_birth", kind="date", role="person"),
        Comparison(name="email", field="email", kind="key",
                   secondary="email_user" if "email_user" in has else None),
        Comparison(name="phone", field="phone", kind="key"),
        Comparison(name="account_id", field="account_id", kind="key"),
        Comparison(name="loyalty_id", field="loyalty_id", kind="key"),
        Comparison(name="card_id", field="card_id", kind="key"),
        _place(has),
        Comparison(name="address_2", field="address_2", kind="string",
                   thresholds=_PLACE_THRESHOLDS, role="household"),
        Comparison(name="region", field="region", role="household"),
    ]  # fmt: skip
    return tuple(c for c in catalogue if c is not None and c.field in has)


def _place(has: set[str]) -> Comparison | None:
    """Where a record lives, from its finest field (address, else postcode, else city) within
    the coarser ones."""
    area: list[str] = [f for f in ("postcode", "city") if f in has]
    if "address" in has:
        field = "location" if "location" in has else "address"
        return Comparison(name="address", field=field, kind="place", thresholds=(0.9,),
                          within=tuple(area), tf_adjust=True, role="household")  # fmt: skip
    if area:
        return Comparison(name=area[0], field=area[0], kind="place", within=tuple(area[1:]),
                          tf_adjust=True, role="household")  # fmt: skip
    return None


# --------------------------------------------------------------------------- households

#: Share of the records sharing a surname and a place (or a contact) whose first names clearly
#: differ, from which the records are taken to show households. Duplicates of one person differ
#: on it by typing errors (10-13% of such pairs in the FEBRL data sets); the members of
#: households are most of them (63% in the synthetic world).
HOUSEHOLD_SHARE = 0.3


def shows_households(norm: NormalizedRecords) -> bool:
    """Whether the records show households: several persons under one surname and address.

    Among the pairs of records that share a surname and a place (address, else postcode,
    else city), or an email or phone, those with first names on both sides are looked at:
    when at least 30% of them have clearly different first names (Jaro-Winkler below 0.8),
    such pairs are mostly different members of one household, and resolution runs on two
    levels; otherwise they are mostly one person's records (with typing errors) and one
    level links persons directly. Without first names, or without any such pair, one level.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> family = CustomerRecordTable.from_columns({"first_name": ["Anne", "Marc", "Anne"],
    ...     "last_name": ["Roy"] * 3, "address": ["3 rue Vauban"] * 3})
    >>> shows_households(normalize_records(family))
    True
    >>> typos = CustomerRecordTable.from_columns({"first_name": ["Anne", "Anne", "Ane"],
    ...     "last_name": ["Roy"] * 3, "address": ["3 rue Vauban"] * 3})
    >>> shows_households(normalize_records(typos))
    False
    """
    if "first_name" not in norm:
        return False
    place = next((f for f in ("address", "postcode", "city") if f in norm), None)
    rules = [BlockingRule((k,), max_block_size=MAX_BLOCK_SIZE) for k in ("email", "phone")]
    if place is not None and "last_name" in norm:
        rules.append(BlockingRule(("last_name", place), max_block_size=MAX_BLOCK_SIZE))
    rules = [r for r in rules if all(f in norm for f in r.fields)]
    if not rules:
        return False
    pairs = block_pairs(norm, rules)
    first = Comparison(name="first_name", field="first_name", kind="string", thresholds=(0.8,))
    level = compare_pairs(norm, [first], pairs.left, pairs.right)[:, 0]
    both = int((level > 0).sum())
    differ = int((level == first.levels.index("else")).sum())
    return both > 0 and differ >= HOUSEHOLD_SHARE * both

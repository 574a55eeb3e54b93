"""Golden records: the best known value of each attribute of a person, with its lineage.

Survivorship rules used by MDM tools pick, among the records of a person, the value that
survives: the most recent, the most frequent, the one of the most trusted source, the most
complete, or any user function; by default only valid (normalized) values compete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney._arrays import pack_pairs
from omnijourney._validation import check_bool, check_choice, validator
from omnijourney.errors import ConfigError
from omnijourney.identity._checks import ordered_names
from omnijourney.tables import ColumnSpec, Table, code_dtype

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["RULES", "Survivorship", "golden_records"]

#: Survivorship rules.
RULES = ("most_recent", "most_frequent", "source_priority", "most_complete")
_FIELDS = (
    "first_name", "last_name", "email", "phone", "address", "postcode", "city", "country",
    "date_of_birth", "loyalty_id", "account_id", "card_id",
)  # fmt: skip


def _rules(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        msg = (
            f"The 'rules' parameter must be a mapping of attribute to rule. Got {value!r} instead."
        )
        raise ConfigError(msg)
    return dict(value)


def _source_priority(value: Any) -> tuple[str, ...]:
    return ordered_names(value, "source_priority")


@attrs.frozen(kw_only=True)
class Survivorship:
    """Which value of each attribute survives in a golden record.

    Parameters
    ----------
    default : str
        Rule of the attributes not listed in ``rules``: one of :data:`RULES`.
    rules : mapping of str to str or callable
        Attribute -> rule. A callable gets the candidate values (the records' raw values,
        in canonical record order) and returns the position of the one to keep.
    source_priority : tuple of str
        Sources from the most to the least trusted (for ``source_priority``, and to break
        ties of the other rules).
    valid_only : bool
        Only values whose normalized form is valid compete (no placeholders, no unreadable
        phones); the attribute stays empty when none is valid.

    Examples
    --------
    >>> Survivorship(rules={"email": "most_frequent"}, source_priority=("crm", "web")).rule_of(
    ...     "email")
    'most_frequent'
    """

    default: str = attrs.field(default="most_recent", validator=validator(check_choice, RULES))
    rules: Mapping[str, Any] = attrs.field(factory=dict, converter=_rules)
    source_priority: tuple[str, ...] = attrs.field(default=(), converter=_source_priority)
    valid_only: bool = attrs.field(default=True, validator=validator(check_bool))

    def __attrs_post_init__(self) -> None:
        for field, rule in self.rules.items():
            if not callable(rule) and rule not in RULES:
                msg = (
                    f"The 'rules' parameter must map each attribute to one of {RULES} or a "
                    f"function. Got {rule!r} for {field!r} instead."
                )
                raise ConfigError(msg)

    def rule_of(self, field: str) -> str | Callable[..., int]:
        """The rule of one attribute."""
        return self.rules.get(field, self.default)


def _first_per_group(group: np.ndarray, keys: Sequence[np.ndarray]) -> np.ndarray:
    """Row of each group that sorts first on ``keys`` (lexicographic, smallest first)."""
    order = np.lexsort((*reversed(list(keys)), group))
    return order[_starts(group[order])]


def _starts(sorted_group: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values begins."""
    if sorted_group.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], sorted_group[1:] != sorted_group[:-1])))


def _first_ok(order: np.ndarray, group: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Within a row order sorted by group, the first row of each group where ``ok``."""
    rows = order[ok[order]]
    return rows[_starts(group[rows])]


def golden_records(
    resolution: Resolution,
    survivorship: Survivorship | None = None,
    *,
    level: str = "person",
) -> Table:
    """One golden record per person (or household), with the record each value came from.

    Parameters
    ----------
    resolution : Resolution
    survivorship : Survivorship, optional
        Rules per attribute (default: the most recently updated valid value).
    level : {"person", "household"}

    Returns
    -------
    Table
        ``person_id`` (or ``household_id``), ``household_id``, ``n_records``, ``sources``
        (``"loyalty+web"``), then for each attribute the surviving value (as written in its
        source) and ``<attribute>_from``: the ``source/record_id`` that supplied it.

    Notes
    -----
    Vectorized for the built-in rules: the records are sorted once per rule (entity, rule
    key, source priority, canonical record order) and each attribute takes the first of its
    entity's records with a valid value, in O(n) once sorted; ``most_frequent`` counts the
    (entity, value) pairs of each attribute. Values are category codes into the records'
    own dictionaries (no text is hashed). User functions run once per entity.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop"], "record_id": ["W1", "S1"],
    ...     "first_name": ["Zoé", "ZOE"], "email": ["zoe@mail.fr", "zoe@mail.fr"],
    ...     "phone": [None, "0612345678"],
    ...     "updated": ["2024-01-01", "2024-06-01"]})
    >>> g = golden_records(resolve(recs))
    >>> g["first_name"].tolist(), g["first_name_from"].tolist(), g["phone"].tolist()
    (['ZOE'], ['shop/S1'], ['0612345678'])
    """
    survivorship = Survivorship() if survivorship is None else survivorship
    if level not in ("person", "household"):
        msg = f"level must be 'person' or 'household', got {level!r}"
        raise ConfigError(msg)
    records = resolution.records
    n = len(records)
    entity = resolution.person_id if level == "person" else resolution.household_id
    canon = np.empty(n, dtype=np.int64)
    canon[records.canonical_order()] = np.arange(n)
    ids, group = np.unique(entity, return_inverse=True)
    group = group.reshape(-1).astype(np.int64)
    norm = resolution.normalized()
    src = records.raw("source").astype(np.int64)
    src_labels = records.labels("source").tolist()
    rank = {s: i for i, s in enumerate(survivorship.source_priority)}
    src_rank = np.array([rank.get(s, len(rank)) for s in src_labels], dtype=np.int64)[src]
    # ties: source priority, then canonical record order, as one key
    tie = src_rank * max(n, 1) + canon
    updated = (
        records.raw("updated").view(np.int64)
        if "updated" in records.columns
        else np.zeros(n, dtype=np.int64)
    )
    if "created" in records.columns:
        created = records.raw("created").view(np.int64)
        updated = np.where(updated == np.iinfo(np.int64).min, created, updated)
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    id_name = "person_id" if level == "person" else "household_id"
    data[id_name] = ids.astype(np.int64)
    first_rows = _first_per_group(group, [canon])
    data["household_id"] = resolution.household_id[first_rows].astype(np.int64)
    data["n_records"] = np.bincount(group, minlength=ids.size).astype(np.int64)
    data["sources"], labels["sources"] = _source_sets(group, src, src_labels, ids.size)
    orders: dict[str, np.ndarray] = {}
    chosen_rows: dict[str, np.ndarray] = {}
    for field in _FIELDS:
        if field not in records.columns:
            continue
        raw = records.raw(field).astype(np.int64)
        nf = norm.fields.get(field)
        ok = raw >= 0
        if survivorship.valid_only and nf is not None:
            ok &= nf.status == 1
        rule = survivorship.rule_of(field)
        value_rows = np.full(ids.size, -1, dtype=np.int64)
        if callable(rule):
            rows = np.flatnonzero(ok)
            if rows.size:
                chosen = _user_rule(rule, records[field], rows, group[rows], canon)
                value_rows[group[chosen]] = chosen
        elif rule in ("most_recent", "source_priority"):
            if rule not in orders:
                key = -updated if rule == "most_recent" else src_rank
                orders[rule] = np.lexsort((tie, key, group))
            chosen = _first_ok(orders[rule], group, ok)
            value_rows[group[chosen]] = chosen
        else:
            rows = np.flatnonzero(ok)
            if rows.size:
                g = group[rows]
                key = _rule_key(rule, rows, g, nf, raw, records, field)
                chosen = rows[_first_per_group(g, [key, tie[rows]])]
                value_rows[group[chosen]] = chosen
        has = value_rows >= 0
        data[field] = np.where(has, raw[np.maximum(value_rows, 0)], -1)
        labels[field] = records.labels(field)
        chosen_rows[field] = value_rows
    # lineage: "source/record_id" of the records that supplied a value, as one dictionary
    is_used = np.zeros(n, dtype=bool)
    for r in chosen_rows.values():
        is_used[r[r >= 0]] = True
    used = np.flatnonzero(is_used)
    text = np.array(
        [
            f"{s}/{r}"
            for s, r in zip(
                records.labels("source")[src[used]].tolist(),
                records.labels("record_id")[records.raw("record_id")[used].astype(np.int64)]
                .astype(str)
                .tolist(),
            )
        ],
        dtype=str,
    )
    lineage_labels, lineage_code = np.unique(text, return_inverse=True)
    code_of_row = np.full(n, -1, dtype=np.int64)
    code_of_row[used] = lineage_code.reshape(-1)
    lineage_labels = lineage_labels.astype(object)
    out_data: dict[str, np.ndarray] = {}
    out_labels: dict[str, np.ndarray] = {}
    for name, arr in data.items():
        out_data[name] = arr
        if name in labels:
            out_labels[name] = labels[name]
        if name in chosen_rows:
            rows = chosen_rows[name]
            out_data[f"{name}_from"] = np.where(rows >= 0, code_of_row[np.maximum(rows, 0)], -1)
            out_labels[f"{name}_from"] = lineage_labels
    specs = {
        name: ColumnSpec(name, "category" if name in out_labels else "int") for name in out_data
    }
    for name in out_labels:
        out_data[name] = out_data[name].astype(code_dtype(out_labels[name].size))
    return Table.from_arrays(out_data, out_labels, specs=specs)


def _source_sets(
    group: np.ndarray, src: np.ndarray, src_labels: list[str], n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of the sources of each entity, written ``"loyalty+web"``."""
    key = np.unique(pack_pairs(group, src))
    span = int(src.max()) + 1 if src.size else 1
    g, s = key // span, key % span
    # each entity's set of sources as a number: bits when they fit, else ranks of the sets
    if len(src_labels) <= 62:
        mask = np.zeros(n_groups, dtype=np.int64)
        np.add.at(mask, g, np.left_shift(1, s))
        sets, code = np.unique(mask, return_inverse=True)
        texts = [
            "+".join(src_labels[b] for b in range(len(src_labels)) if m >> b & 1)
            for m in sets.tolist()
        ]
    else:
        names: list[list[str]] = [[] for _ in range(n_groups)]
        for a, b in zip(g.tolist(), s.tolist()):
            names[a].append(src_labels[b])
        joined = np.array(["+".join(x) for x in names], dtype=object)
        texts_arr, code = np.unique(joined, return_inverse=True)
        texts = texts_arr.tolist()
    order = np.argsort(np.array(texts, dtype=object), kind="stable")
    rank = np.empty(len(texts), dtype=np.int64)
    rank[order] = np.arange(len(texts))
    sorted_texts = np.empty(len(texts), dtype=object)
    sorted_texts[:] = [texts[i] for i in order.tolist()]
    return rank[code.reshape(-1)], sorted_texts


def _rule_key(
    rule: str,
    rows: np.ndarray,
    group: np.ndarray,
    nf: Any,
    raw: np.ndarray,
    records: Any,
    field: str,
) -> np.ndarray:
    """Sort key (smallest wins) of ``most_complete`` and ``most_frequent`` for the rows."""
    if rule == "most_complete":
        lengths = np.array([len(str(v)) for v in records.labels(field).tolist()], dtype=np.int64)
        return -lengths[raw[rows]]
    # most frequent: the normalized value held by most of the entity's records
    codes = nf.codes[rows].astype(np.int64) if nf is not None else raw[rows]
    _, inverse, counts = np.unique(
        pack_pairs(group, codes), return_inverse=True, return_counts=True
    )
    return -counts[inverse.reshape(-1)]


def _user_rule(
    rule: Callable[..., int], values: np.ndarray, rows: np.ndarray, g: np.ndarray, canon: np.ndarray
) -> np.ndarray:
    order = np.lexsort((canon[rows], g))
    rows, g = rows[order], g[order]
    starts = _starts(g)
    ends = np.append(starts[1:], g.size)
    chosen = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        k = int(rule(values[rows[a:b]].tolist()))
        if not 0 <= k < b - a:
            msg = f"a survivorship function returned position {k} for {b - a} values"
            raise ConfigError(msg)
        chosen.append(rows[a + k])
    return np.array(chosen, dtype=np.int64)

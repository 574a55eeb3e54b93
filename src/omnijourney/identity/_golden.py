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

from omnijourney.errors import ConfigError
from omnijourney.identity._records import normalize_records
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolve import Resolution

__all__ = ["RULES", "Survivorship", "golden_records"]

#: Survivorship rules.
RULES = ("most_recent", "most_frequent", "source_priority", "most_complete")
_FIELDS = (
    "first_name", "last_name", "email", "phone", "address", "postcode", "city", "country",
    "date_of_birth", "loyalty_id", "account_id", "card_id",
)  # fmt: skip


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

    default: str = attrs.field(default="most_recent", validator=attrs.validators.in_(RULES))
    rules: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    source_priority: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    valid_only: bool = True

    def __attrs_post_init__(self) -> None:
        for field, rule in self.rules.items():
            if not callable(rule) and rule not in RULES:
                msg = f"Survivorship: rule {rule!r} of {field!r} is not one of {RULES}"
                raise ConfigError(msg)

    def rule_of(self, field: str) -> str | Callable[..., int]:
        """The rule of one attribute."""
        return self.rules.get(field, self.default)


def _first_per_group(group: np.ndarray, keys: Sequence[np.ndarray]) -> np.ndarray:
    """Row of each group that sorts first on ``keys`` (lexicographic, smallest first)."""
    order = np.lexsort((*reversed(list(keys)), group))
    g = group[order]
    first = np.concatenate(([True], g[1:] != g[:-1])) if g.size else np.zeros(0, bool)
    return order[first]


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
    Vectorized for the built-in rules: one lexsort per attribute over (entity, rule key,
    source priority, canonical record order). User functions run once per entity.

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
    group = group.reshape(-1)
    norm = normalize_records(records, resolution.rules.normalize)
    src = records.raw("source").astype(np.int64)
    src_labels = records.labels("source").tolist()
    rank = {s: i for i, s in enumerate(survivorship.source_priority)}
    src_rank = np.array([rank.get(s, len(rank)) for s in src_labels], dtype=np.int64)[src]
    updated = (
        records.raw("updated").view(np.int64)
        if "updated" in records.columns
        else np.zeros(n, dtype=np.int64)
    )
    if "created" in records.columns:
        created = records.raw("created").view(np.int64)
        updated = np.where(updated == np.iinfo(np.int64).min, created, updated)
    ids_text = np.array(
        [f"{s}/{r}" for s, r in zip(records["source"].tolist(), records["record_id"].tolist())],
        dtype=object,
    )
    out: dict[str, Any] = {}
    id_name = "person_id" if level == "person" else "household_id"
    out[id_name] = ids.astype(np.int64)
    first_rows = _first_per_group(group, [canon])
    out["household_id"] = resolution.household_id[first_rows]
    out["n_records"] = np.bincount(group, minlength=ids.size).astype(np.int64)
    pairs = np.unique(np.stack([group, src], axis=1), axis=0)
    names: list[list[str]] = [[] for _ in range(ids.size)]
    for g, s in pairs.tolist():
        names[g].append(src_labels[s])
    out["sources"] = ["+".join(x) for x in names]
    for field in _FIELDS:
        if field not in records.columns:
            continue
        raw = records.raw(field).astype(np.int64)
        nf = norm.fields.get(field)
        ok = raw >= 0
        if survivorship.valid_only and nf is not None:
            ok &= nf.status == 1
        rule = survivorship.rule_of(field)
        rows = np.flatnonzero(ok)
        value_rows = np.full(ids.size, -1, dtype=np.int64)
        if rows.size:
            g = group[rows]
            if callable(rule):
                chosen = _user_rule(rule, records[field], rows, g, canon)
            else:
                keys = _rule_keys(rule, rows, g, nf, raw, updated, src_rank, records, field)
                chosen = rows[_first_per_group(g, [*keys, src_rank[rows], canon[rows]])]
            value_rows[group[chosen]] = chosen
        values = records[field]
        col = np.full(ids.size, None, dtype=object)
        has = value_rows >= 0
        col[has] = values[value_rows[has]]
        lineage = np.full(ids.size, None, dtype=object)
        lineage[has] = ids_text[value_rows[has]]
        out[field] = col
        out[f"{field}_from"] = lineage
    kinds = {k: "category" for k in out if k not in (id_name, "household_id", "n_records")}
    return Table.from_columns(out, kinds=kinds)


def _rule_keys(
    rule: str,
    rows: np.ndarray,
    group: np.ndarray,
    nf: Any,
    raw: np.ndarray,
    updated: np.ndarray,
    src_rank: np.ndarray,
    records: Any,
    field: str,
) -> list[np.ndarray]:
    """Sort keys (smallest wins) of a built-in rule for the candidate rows."""
    if rule == "most_recent":
        return [-updated[rows]]
    if rule == "source_priority":
        return [src_rank[rows]]
    if rule == "most_complete":
        lengths = np.array([len(str(v)) for v in records.labels(field).tolist()], dtype=np.int64)
        return [-lengths[raw[rows]]]
    # most frequent: the normalized value held by most of the entity's records
    codes = nf.codes[rows].astype(np.int64) if nf is not None else raw[rows]
    _, inverse, counts = np.unique(
        np.stack([group, codes], axis=1), axis=0, return_inverse=True, return_counts=True
    )
    return [-counts[inverse.reshape(-1)]]


def _user_rule(
    rule: Callable[..., int], values: np.ndarray, rows: np.ndarray, g: np.ndarray, canon: np.ndarray
) -> np.ndarray:
    order = np.lexsort((canon[rows], g))
    rows, g = rows[order], g[order]
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    ends = np.append(starts[1:], g.size)
    chosen = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        k = int(rule(values[rows[a:b]].tolist()))
        if not 0 <= k < b - a:
            msg = f"a survivorship function returned position {k} for {b - a} values"
            raise ConfigError(msg)
        chosen.append(rows[a + k])
    return np.array(chosen, dtype=np.int64)

"""Explanations: which comparisons, weights and sources linked two records or a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._resolution import LINK_LEVELS
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["Explanation", "explain_pair", "explain_person"]


@attrs.frozen(eq=False)
class Explanation:
    """Why records are linked: a table of evidence and its readable text.

    Attributes
    ----------
    table : Table
        For a pair: one row per comparison (``model``, ``comparison``, ``level``,
        ``weight``, ``left``, ``right``). For a person: one row per link between its records
        (``left``, ``right``, ``link``, ``match_weight``, ``person_weight``, ``rule``,
        ``evidence``).
    text : str
        The same, in sentences.
    """

    table: Table
    text: str

    def __str__(self) -> str:
        return self.text

    def summary(self) -> str:
        """The explanation in sentences (``text``)."""
        return self.text

    def to_pandas(self) -> Any:
        """The evidence table as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.table.to_pandas()

    def __repr__(self) -> str:
        return self.text


def _label(res: Resolution, row: int) -> str:
    return f"{res.records['source'][row]}/{res.records['record_id'][row]}"


def _pair_index(res: Resolution, a: int, b: int) -> int:
    lo, hi = min(a, b), max(a, b)
    hit = np.flatnonzero(
        (np.minimum(res.pair_left, res.pair_right) == lo)
        & (np.maximum(res.pair_left, res.pair_right) == hi)
    )
    return int(hit[0]) if hit.size else -1


def _rule_name(res: Resolution, rule: int) -> str:
    blocking = res.rules.blocking or ()
    return blocking[rule].name if rule < len(blocking) else "must-link"


def _evidence(res: Resolution, k: int) -> str:
    comps = _comparisons(res)
    parts = []
    for c, comp in enumerate(comps):
        level = comp.levels[res.gamma[k, c]]
        if level not in ("null", "else"):
            parts.append(f"{comp.name} {level}")
    return ", ".join(parts)


def _comparisons(res: Resolution) -> list[Any]:
    names = {c.name for c in res.model.comparisons}
    if res.person_model is not None:
        names |= {c.name for c in res.person_model.comparisons}
    return [c for c in res.rules.comparisons or () if c.name in names]


def explain_pair(resolution: Resolution, a: int, b: int) -> Explanation:
    """Evidence for and against records ``a`` and ``b`` (rows of ``res.records``) being linked.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop"], "record_id": ["W1", "S1"],
    ...     "first_name": ["Zoé", "ZOE"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
    >>> print(explain_pair(resolve(recs), 0, 1).text.splitlines()[0])
    web/W1 and shop/S1: same person (found by blocking rule 'email')
    """
    res = resolution
    n = res.n_records
    for r in (a, b):
        if not 0 <= r < n:
            msg = f"explain: row {r} is out of range for {n} records"
            raise ConfigError(msg)
    k = _pair_index(res, a, b)
    comps = _comparisons(res)
    head = f"{_label(res, a)} and {_label(res, b)}"
    if k < 0:
        same = (
            "same person"
            if res.person_id[a] == res.person_id[b]
            else ("same household" if res.household_id[a] == res.household_id[b] else "not linked")
        )
        text = f"{head}: {same}; they were never compared directly (no blocking rule pairs them)"
        if same != "not linked":
            text += "; they are linked through other records (see explain_person)"
        empty = Table.from_columns(
            {"comparison": np.zeros(0, dtype=object)}, kinds={"comparison": "category"}
        )
        return Explanation(empty, text)
    left, right = int(res.pair_left[k]), int(res.pair_right[k])
    rows: dict[str, list[Any]] = {
        "model": [],
        "comparison": [],
        "level": [],
        "weight": [],
        "left": [],
        "right": [],
    }
    models = [("link", res.model)]
    if res.person_model is not None:
        models.append(("person", res.person_model))
    names = [c.name for c in comps]
    for model_name, model in models:
        weights = model.level_weights()
        for c, comp in enumerate(model.comparisons):
            g = int(res.gamma[k, names.index(comp.name)])
            rows["model"].append(model_name)
            rows["comparison"].append(comp.name)
            rows["level"].append(comp.levels[g])
            rows["weight"].append(float(weights[c][g]))
            field = comp.field if comp.field in res.records.columns else _raw_field(comp.field)
            rows["left"].append(_value(res, field, left))
            rows["right"].append(_value(res, field, right))
    table = Table.from_columns(
        {**rows, "weight": np.array(rows["weight"], dtype=np.float64)},
        kinds={
            "model": "category",
            "comparison": "category",
            "level": "category",
            "left": "category",
            "right": "category",
        },
    )
    link = LINK_LEVELS[int(res.link[k])]
    verdict = {"person": "same person", "household": "same household", "none": "not linked"}[link]
    lines = [f"{head}: {verdict} (found by blocking rule {_rule_name(res, int(res.rule[k]))!r})"]
    lines.append(
        f"  link model: match weight {res.match_weight[k]:+.1f} "
        f"(P = {1 / (1 + 2 ** -res.match_weight[k]):.3f})"
    )
    if not np.isnan(res.person_weight[k]):
        lines.append(
            f"  person model: weight {res.person_weight[k]:+.1f} "
            f"(P = {1 / (1 + 2 ** -res.person_weight[k]):.3f})"
        )
    for model_name, comp, level, w, lv, rv in zip(
        rows["model"],
        rows["comparison"],
        rows["level"],
        rows["weight"],
        rows["left"],
        rows["right"],
    ):
        if level == "null":
            continue
        lines.append(f"  [{model_name}] {comp}: {level} ({w:+.1f})  {lv!r} / {rv!r}")
    return Explanation(table, "\n".join(lines))


def _raw_field(field: str) -> str:
    return {
        "location": "address",
        "email_user": "email",
        "email_domain": "email",
        "house_number": "address",
        "street": "address",
    }.get(field, field)


def _value(res: Resolution, field: str, row: int) -> str | None:
    if field not in res.records.columns:
        return None
    v = res.records[field][row]
    return None if v is None else str(v)


def explain_person(resolution: Resolution, person_id: int) -> Explanation:
    """The links that hold one person's records together, strongest first.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop"], "record_id": ["W1", "S1"],
    ...     "first_name": ["Zoé", "ZOE"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
    >>> print(explain_person(resolve(recs), 1).text.splitlines()[0])
    person 1: 2 records from shop, web in household 1
    """
    res = resolution
    rows = res.records_of(person_id)
    if rows.size == 0:
        msg = f"explain: no person {person_id}"
        raise ConfigError(msg)
    inside = np.isin(res.pair_left, rows) & np.isin(res.pair_right, rows)
    ks = np.flatnonzero(inside & (res.link == 2))
    ks = ks[
        np.argsort(
            -np.where(np.isnan(res.person_weight[ks]), res.match_weight[ks], res.person_weight[ks]),
            kind="stable",
        )
    ]
    table = Table.from_columns(
        {
            "left": [_label(res, int(res.pair_left[k])) for k in ks],
            "right": [_label(res, int(res.pair_right[k])) for k in ks],
            "link": [LINK_LEVELS[int(res.link[k])] for k in ks],
            "match_weight": res.match_weight[ks].astype(np.float64),
            "person_weight": res.person_weight[ks].astype(np.float64),
            "rule": [_rule_name(res, int(res.rule[k])) for k in ks],
            "evidence": [_evidence(res, int(k)) for k in ks],
        },
        kinds={
            "left": "category",
            "right": "category",
            "link": "category",
            "rule": "category",
            "evidence": "category",
        },
    )
    sources = sorted(set(res.records["source"][rows].tolist()))
    household = int(res.household_id[rows[0]])
    lines = [
        f"person {person_id}: {rows.size} records from {', '.join(sources)} "
        f"in household {household}"
    ]
    for k in ks.tolist():
        lines.append(
            f"  {_label(res, int(res.pair_left[k]))} = {_label(res, int(res.pair_right[k]))}"
            f" by {_evidence(res, k)} (rule {_rule_name(res, int(res.rule[k]))!r})"
        )
    return Explanation(table, "\n".join(lines))

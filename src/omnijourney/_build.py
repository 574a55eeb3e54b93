"""Building tables from the user's columns: rejects, quarantine and concatenation.

Public through :mod:`omnijourney.tables`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney import _columns as C
from omnijourney._columns import ColumnSpec, Problem
from omnijourney._convert import _guess_kind, _values_at, convert_column, raise_problems
from omnijourney._table import T, Table, _check_errors
from omnijourney.errors import ConfigError, SchemaError
from omnijourney.model import Channel

# --------------------------------------------------------------------------- quarantine


class Rejects(Table):
    """Rows refused while building a table: one row per (input row, problem).

    Columns: ``row`` (0-based input row), ``column`` (library column name), ``value`` (the
    input value as text) and ``reason``.
    """

    table_name = "Rejects"

    @property
    def rows(self) -> np.ndarray:
        """Distinct rejected input rows, sorted."""
        return np.unique(self._data["row"]) if len(self) else np.zeros(0, dtype=np.int64)

    @classmethod
    def from_problems(cls, problems: list[Problem], raw_of: Any) -> Rejects:
        """Build the rejects of a conversion from its problems (one row per row and problem)."""
        rows: list[np.ndarray] = []
        cols: list[str] = []
        vals: list[str] = []
        reasons: list[str] = []
        for p in problems:
            idx = np.flatnonzero(p.mask)
            rows.append(idx)
            cols.extend([p.column] * idx.size)
            reasons.extend([p.reason] * idx.size)
            vals.extend(_text(v) for v in _values_at(raw_of(p.source), idx))
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        table = Table.from_columns(
            {"row": row.astype(np.int64), "column": cols, "value": vals, "reason": reasons},
            kinds={"row": "int", "column": "category", "value": "category", "reason": "category"},
        )
        order = np.lexsort((table.raw("column"), table.raw("row")))
        new = object.__new__(cls)
        Table.__init__(
            new,
            {k: v[order] for k, v in table._data.items()},
            table._labels,
            table._specs,
        )
        return new


def _text(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, np.datetime64):
        return str(v)
    return repr(v) if not isinstance(v, str) else v


@attrs.frozen
class Quarantined:
    """What a builder returns with ``errors="quarantine"``: the kept table and the rejects.

    Unpacks as ``kept, rejects = ...``. Counts add up: ``n_in == n_kept + n_rejected``.
    """

    kept: Table
    rejects: Rejects
    n_in: int

    @property
    def n_kept(self) -> int:
        """Rows kept."""
        return len(self.kept)

    @property
    def n_rejected(self) -> int:
        """Distinct input rows rejected (a row may have several problems)."""
        return int(self.rejects.rows.size)

    def __iter__(self) -> Iterator[Any]:
        yield self.kept
        yield self.rejects

    def __repr__(self) -> str:
        return (
            f"Quarantined({self.n_in:,} rows in: {self.n_kept:,} kept, "
            f"{self.n_rejected:,} rejected)"
        )


# --------------------------------------------------------------------------- schema'd tables


def build_table(
    cls: type[T],
    data: Any,
    mapping: Mapping[str, str | None],
    *,
    extra: Mapping[str, str] | Sequence[str] | None = None,
    tz: Any = None,
    time_unit: str | None = None,
    time_format: str | None = None,
    errors: str = "raise",
    meta: Mapping[str, Any] | None = None,
) -> T | Quarantined:
    """Build a schema'd table from the user's columns.

    ``mapping`` maps each schema column to the user's column name; ``None`` means "the column
    of the same name if the data has one" for optional columns.
    """
    _check_errors(errors)
    src = C.Source(data)
    specs = {s.name: s for s in cls.schema}
    unknown = set(mapping) - set(specs)
    if unknown:
        msg = f"{cls.table_name}: unknown columns {sorted(unknown)}"
        raise ConfigError(msg)
    chosen: list[tuple[ColumnSpec, str]] = []
    for spec in cls.schema:
        given = mapping.get(spec.name)
        if given is None:
            if src.has(spec.name):
                chosen.append((spec, spec.name))
            elif spec.required:
                msg = (
                    f"{cls.table_name}: required column {spec.name!r} not found; pass "
                    f"{spec.name}='<your column>' (available: {src.names})"
                )
                raise SchemaError(msg, table=cls.table_name, column=spec.name)
            continue
        if not src.has(given) and given == spec.name and spec.required:
            msg = (
                f"{cls.table_name}: required column {spec.name!r} not found; pass "
                f"{spec.name}='<your column>' (available: {src.names})"
            )
            raise SchemaError(msg, table=cls.table_name, column=spec.name)
        if not src.has(given):
            msg = (
                f"{cls.table_name}: column {given!r} (for {spec.name!r}) not found; "
                f"available: {src.names}"
            )
            raise SchemaError(msg, table=cls.table_name, column=spec.name, source_column=given)
        chosen.append((spec, given))
    if extra is not None:
        pairs = list(extra.items()) if isinstance(extra, Mapping) else [(e, e) for e in extra]
        for name, given in pairs:
            if name in specs:
                msg = f"{cls.table_name}: extra column {name!r} clashes with a standard column"
                raise ConfigError(msg)
            if not src.has(given):
                msg = f"{cls.table_name}: extra column {given!r} not found; available: {src.names}"
                raise SchemaError(msg, table=cls.table_name, column=name, source_column=given)
            kind = _guess_kind(src.raw(given))
            chosen.append((ColumnSpec(name, kind), given))
    out: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    out_specs: dict[str, ColumnSpec] = {}
    problems: list[Problem] = []
    for spec, given in chosen:
        arr, lab, probs = convert_column(
            spec, src.raw(given), source=given, tz=tz, time_unit=time_unit, time_format=time_format
        )
        whole = [p for p in probs if p.reason.startswith(("mixed time-zone", "numeric times"))]
        if whole:
            raise_problems(whole, cls.table_name, src.raw)
        out[spec.name] = arr
        out_specs[spec.name] = spec
        if lab is not None:
            labels[spec.name] = lab
        problems.extend(probs)
    new = object.__new__(cls)
    Table.__init__(new, out, labels, out_specs, meta=meta)
    if not problems:
        return (
            new
            if errors == "raise"
            else Quarantined(new, Rejects.from_problems([], src.raw), src.n)
        )
    if errors == "raise":
        raise_problems(problems, cls.table_name, src.raw)
    bad = np.zeros(src.n, dtype=bool)
    for p in problems:
        bad |= p.mask
    kept = new.filter(~bad).compact()
    return Quarantined(kept, Rejects.from_problems(problems, src.raw), src.n)


def concat(tables: Iterable[T]) -> T:
    """Concatenate tables of one type; category dictionaries are merged.

    Examples
    --------
    >>> a = Table.from_columns({"sku": ["x", "y"]})
    >>> b = Table.from_columns({"sku": ["w", "x"]})
    >>> concat([a, b])["sku"]
    array(['x', 'y', 'w', 'x'], dtype=object)
    """
    parts = list(tables)
    if not parts:
        msg = "concat needs at least one table"
        raise ConfigError(msg)
    first = parts[0]
    for t in parts[1:]:
        if type(t) is not type(first) or t.columns != first.columns:
            msg = (
                "concat needs tables of one type with the same columns; got "
                f"{type(first).__name__}{list(first.columns)} and "
                f"{type(t).__name__}{list(t.columns)}"
            )
            raise SchemaError(msg, table=first.table_name)
        for name in first.columns:
            if t._specs[name].kind != first._specs[name].kind:
                kinds = (first._specs[name].kind, t._specs[name].kind)
                msg = (
                    f"concat: column {name!r} is {kinds[0]} in one table and {kinds[1]} in another"
                )
                raise SchemaError(msg, table=first.table_name, column=name)
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for name in first.columns:
        if name in first._labels:
            union = C.union_labels([t._labels[name] for t in parts], name, first.table_name)
            labels[name] = union
            data[name] = np.concatenate(
                [C.remap(t._data[name], t._labels[name], union) for t in parts]
            )
        else:
            data[name] = np.concatenate([t._data[name] for t in parts])
    new = object.__new__(type(first))
    Table.__init__(new, data, labels, first._specs, meta=_merge_meta(parts))
    return new


def _merge_meta(parts: Sequence[Table]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    channels: dict[str, Channel] = {}
    for t in parts:
        for k, v in t._meta.items():
            if k == "channels":
                for ch in v:
                    channels.setdefault(ch.name, ch)
            else:
                meta.setdefault(k, v)
    if channels:
        meta["channels"] = tuple(channels.values())
    return meta

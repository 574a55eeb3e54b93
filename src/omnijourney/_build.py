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
from omnijourney._convert import _values_at, convert_column, raise_problems
from omnijourney._load import (
    LoadOptions,
    LoadReport,
    Plan,
    duplicate_rows,
    logger,
    plan_columns,
    warn,
)
from omnijourney._table import T, Table
from omnijourney._vocabulary import apply_vocabulary, unplaced_channels
from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.model import Channel, channel_catalog

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
        data: dict[str, np.ndarray] = {"row": row.astype(np.int64)}
        labels: dict[str, np.ndarray] = {}
        for name, values in (("column", cols), ("value", vals), ("reason", reasons)):
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            data[name], labels[name], _, _ = C.factorize(arr)
        order = np.lexsort((data["column"], data["row"]))
        specs = {name: ColumnSpec(name, "int" if name == "row" else "category") for name in data}
        return cls.from_arrays({k: v[order] for k, v in data.items()}, labels, specs=specs)


def _text(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, np.datetime64):
        return str(v)
    return repr(v) if not isinstance(v, str) else v


@attrs.frozen
class Quarantined:
    """What a builder returns with ``errors="quarantine"``: the kept table and the rejects.

    Unpacks as ``kept, rejects = ...``. Counts add up:
    ``n_in == n_kept + n_rejected + n_duplicates``.
    """

    kept: Table
    rejects: Rejects
    n_in: int
    n_duplicates: int = 0
    """Exact duplicate rows dropped (``duplicates="drop"``); they are not rejects."""

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
        dropped = f", {self.n_duplicates:,} duplicates dropped" if self.n_duplicates else ""
        return (
            f"Quarantined({self.n_in:,} rows in: {self.n_kept:,} kept, "
            f"{self.n_rejected:,} rejected{dropped})"
        )


# --------------------------------------------------------------------------- building


def build_table(
    cls: type[T], data: Any, roles: Mapping[str, Any] | None = None, **options: Any
) -> T | Quarantined:
    """Build a table of type ``cls`` from the user's columns, checked against ``cls.schema``.

    What :meth:`Table.from_columns` runs, for authors of new table types: declare a ``schema``
    of :class:`ColumnSpec` (and, for rules beyond each column's kind, a ``check_rows``
    class method), and every builder follows.

    Parameters
    ----------
    cls : type
        A :class:`Table` subclass.
    data : mapping, DataFrame or Table
        The user's columns.
    roles : mapping of str to str, None or False, optional
        Table column -> the user's column; ``None`` takes a column of the same name when there
        is one; ``False`` leaves an optional column out.
    **options
        The options of :meth:`Table.from_columns` (``extra``, ``extra_kinds``, ``tz``,
        ``time_unit``, ``time_format``, ``decimal``, ``duplicates``, ``errors``,
        ``vocabulary``, ``event_map``, ``channel_map``, ``channels``).

    Returns
    -------
    Table or Quarantined
        The table; with ``errors="quarantine"``, the kept table and the rejects.

    Examples
    --------
    >>> class Visits(Table):
    ...     table_name = "Visits"
    ...     schema = (ColumnSpec("store", "category", required=True, nullable=False),
    ...               ColumnSpec("visitors", "int", required=True, nonnegative=True))
    >>> visits = build_table(Visits, {"magasin": ["S1", "S2"], "n": [120, 80]},
    ...                      {"store": "magasin", "visitors": "n"})
    >>> visits.columns, visits["visitors"].tolist()
    (('store', 'visitors'), [120, 80])
    """
    src = C.Source(data)
    opts = LoadOptions.from_keywords(options, textual=src.textual)
    if not isinstance(cls, type) or not issubclass(cls, Table):
        msg = f"build_table needs a Table subclass, got {cls!r}"
        raise ConfigError(msg)
    _check_table_options(cls, opts)
    plan = plan_columns(cls, src, roles or {}, opts)
    columns: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    specs: dict[str, ColumnSpec] = {}
    problems: list[Problem] = []
    for spec, given in plan.chosen:
        coded = src.coded(given) if spec.kind == "category" else None
        values = None if coded else cls._prepare_column(spec.name, src.raw(given))
        arr, lab, found = convert_column(spec, values, source=given, options=opts.read, coded=coded)
        whole = [p for p in found if p.whole_column]
        if whole:
            raise_problems(whole, cls.table_name, src.raw, quarantine_hint=False)
        columns[spec.name] = arr
        specs[spec.name] = spec
        if lab is not None:
            labels[spec.name] = lab
        problems.extend(found)
    relabelled = _translate(columns, labels, opts)
    raw_of = _raw_of(src)
    if problems and opts.errors == "raise":
        raise_problems(problems, cls.table_name, raw_of)
    good = np.ones(src.n, dtype=bool)
    for p in problems:
        good &= ~p.mask
    everything = cls._from_parts(columns, labels, specs=specs)
    mode = opts.duplicates or cls.duplicates_default or ("report" if cls.schema else "keep")
    dropped, n_dup = _duplicates(everything, good, mode)
    keep = good & ~dropped
    kept = everything if keep.all() else everything.filter(keep)
    kept_rows = np.flatnonzero(keep)
    kept = cls._complete_load(kept, kept_rows)
    checked = [_lift(p, kept_rows, src.n, plan) for p in cls.check_rows(kept) if p.mask.any()]
    if checked and opts.errors == "raise":
        raise_problems(checked, cls.table_name, raw_of)
    if checked:
        ok = np.ones(len(kept), dtype=bool)
        for p in checked:
            ok &= ~p.mask[kept_rows]
        kept = kept.filter(ok)
        problems += checked
    rejected = ~good
    for p in checked:
        rejected |= p.mask
    report = LoadReport(
        table=cls.table_name,
        columns=tuple((spec.name, given) for spec, given in plan.chosen),
        picked_up=plan.picked_up,
        unused=plan.unused,
        n_in=src.n,
        n_rejected=int(np.count_nonzero(rejected)),
        duplicates=mode,
        n_duplicates=n_dup,
        n_dropped=int(np.count_nonzero(dropped)),
        relabelled=relabelled,
        unplaced_channels=_unplaced(cls, kept, opts),
    )
    _log(report)
    _warn_duplicates(report)
    meta = _meta(cls, kept, opts, src, report)
    kept = (kept if len(kept) == src.n else kept.compact()).replace_columns(meta=meta)
    if opts.errors == "raise":
        return kept
    rejects = Rejects.from_problems(problems, raw_of)
    return Quarantined(kept, rejects, src.n, n_duplicates=report.n_dropped)


def _check_table_options(cls: type[Table], opts: LoadOptions) -> None:
    if opts.channels is not None and not cls.catalogs_channels:
        msg = f"{cls.table_name} does not describe channels: channels= applies to touchpoints"
        raise ConfigError(msg)
    roles = {s.name for s in cls.schema}
    for column in opts.mapped:
        if column not in roles:
            msg = f"{cls.table_name} has no {column!r} column to map labels of"
            raise ConfigError(msg)


def _translate(
    columns: dict[str, np.ndarray], labels: dict[str, np.ndarray], opts: LoadOptions
) -> tuple[tuple[str, str, str], ...]:
    """Map the event and channel labels to the library's words (in place)."""
    if opts.vocabulary is None:
        return ()
    changed: list[tuple[str, str, str]] = []
    for column in ("event", "channel"):
        if column in labels:
            codes, lab, done = apply_vocabulary(
                opts.vocabulary, column, columns[column], labels[column]
            )
            columns[column], labels[column] = codes, lab
            changed += [(column, a, b) for a, b in done.items()]
    return tuple(changed)


def _raw_of(src: C.Source) -> Any:
    def raw_of(source: str | None) -> Any:
        if source is None or not src.has(source):
            return np.full(src.n, None, dtype=object)
        return src.raw(source)

    return raw_of


def _duplicates(table: Table, good: np.ndarray, mode: str) -> tuple[np.ndarray, int | None]:
    """Rows to drop as exact duplicates (a mask over the input rows) and how many duplicates
    there are (None when not looked for); raises with ``mode="raise"``."""
    dropped = np.zeros(good.size, dtype=bool)
    if mode == "keep":
        return dropped, None
    rows = np.flatnonzero(good)
    columns = [table.raw(c) for c in table.columns]
    dup, twin = duplicate_rows(columns, None if rows.size == good.size else rows)
    n = int(np.count_nonzero(dup))
    if n and mode == "raise":
        raise DataError(
            "is an exact duplicate of an earlier row (equal on every loaded column)",
            table=table.table_name,
            rows=rows[dup],
            values=[f"same as row {r}" for r in rows[twin[dup]]],
            hint="Pass duplicates='drop' to keep one row of each, or duplicates='keep'",
        )
    if n and mode == "drop":
        dropped[rows[dup]] = True
    return dropped, n


def _warn_duplicates(report: LoadReport) -> None:
    n = report.n_duplicates or 0
    if report.duplicates != "report" or n == 0:
        return
    rows = "1 row is an exact duplicate" if n == 1 else f"{n:,} rows are exact duplicates"
    warn(
        f"{report.table}: {rows} of an earlier row (equal on every loaded column). They are "
        "kept and count twice in every result; pass duplicates='drop' to remove them, or "
        "duplicates='keep' if they are real repeats (table.load_report has the count)"
    )


def _lift(p: Problem, kept_rows: np.ndarray, n: int, plan: Plan) -> Problem:
    """A problem found on the kept table, on the input rows and with its input column."""
    mask = np.zeros(n, dtype=bool)
    mask[kept_rows[p.mask]] = True
    source = dict((spec.name, given) for spec, given in plan.chosen).get(p.column)
    return Problem(p.column, source, mask, p.reason)


def _unplaced(cls: type[Table], table: Table, opts: LoadOptions) -> tuple[str, ...]:
    if not cls.catalogs_channels or "channel" not in table.columns:
        return ()
    names = table.labels("channel").tolist()
    unknown = tuple(unplaced_channels(names, opts.channels))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        example = unknown[0]
        warn(
            f"{cls.table_name}: channel names {shown}{more} are not known channels, so their "
            "kind is 'other' and kind-based results (cross-channel breaks, appetence "
            "segments) cannot place them. Map them to the library's names with "
            f"channel_map={{{example!r}: 'store'}} (or a Vocabulary), or describe them with "
            f"channels={{{example!r}: 'physical'}}"
        )
    return unknown


def _meta(
    cls: type[Table], table: Table, opts: LoadOptions, src: C.Source, report: LoadReport
) -> dict[str, Any]:
    meta: dict[str, Any] = {"load": report}
    if cls.catalogs_channels and "channel" in table.columns:
        channels = opts.channels
        if channels is None and src.table is not None:
            channels = src.table.meta.get("channels")
        meta["channels"] = channel_catalog(table.labels("channel").tolist(), channels)
    return meta


def _log(report: LoadReport) -> None:
    if report.picked_up:
        logger.info(
            "%s: columns picked up by name, not named in the call: %s (pass role=False to "
            "leave one out)",
            report.table,
            ", ".join(report.picked_up),
        )


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
            elif k != "load":  # a concatenation was not loaded as such
                meta.setdefault(k, v)
    if channels:
        meta["channels"] = tuple(channels.values())
    return meta

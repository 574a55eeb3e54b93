"""Reading one column of user data: its kind, its values as arrays, and its problems.

Used by :class:`~omnijourney.tables.Table` and the table builders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np

from omnijourney import _columns as C
from omnijourney import _values as V
from omnijourney import time as T
from omnijourney._columns import ColumnSpec, Problem
from omnijourney.errors import ConfigError, DataError, SchemaError


@attrs.frozen
class ReadOptions:
    """How values are read: the zone of naive times, the unit of numeric times, a time
    format, the decimal mark, and whether the values are text from a file."""

    tz: Any = None
    time_unit: str | None = None
    time_format: str | None = None
    decimal: str = "."
    textual: bool = False


_DEFAULT = ReadOptions()
_TIME_REASONS = {
    T.UNREADABLE: "is not a time (ISO 8601 expected)",
    T.DIGITS: (
        "is digits only, which is not a date: ISO 8601 writes dates as YYYYMMDD or "
        "YYYY-MM-DD; pass time_unit='s' (or 'ms', 'us', 'ns') if these are epoch numbers"
    ),
    T.NUMBER: "is a number; pass time_unit='s' (or 'ms', 'us', 'ns') to read numbers as times",
    T.OUT_OF_RANGE: "is out of range (times must fall in the years 1 to 9999)",
}


def _py(v: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _infer_spec(name: str, arr: np.ndarray, has_labels: bool) -> ColumnSpec:
    if has_labels:
        return ColumnSpec(name, "category")
    kind = arr.dtype.kind
    if kind == "M":
        return ColumnSpec(name, "time")
    if kind == "f":
        return ColumnSpec(name, "float")
    if kind in "iu":
        return ColumnSpec(name, "int")
    if kind == "b":
        return ColumnSpec(name, "bool")
    msg = f"column {name!r} of dtype {arr.dtype} needs labels or a numeric/time dtype"
    raise SchemaError(msg, column=name)


def _convert_free(
    name: str, values: Any, n: int, kind: str | None, table: str, *, tz: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, ColumnSpec]:
    """Convert a column of a free-form table, inferring its kind when not given."""
    options = ReadOptions(tz=tz)
    spec = ColumnSpec(name, kind or guess_kind(values, options))
    arr, labels, problems = convert_column(spec, values, source=name, options=options)
    if problems:
        raise_problems(problems, table, lambda _: values)
    if len(arr) != n:
        msg = f"{table}: column {name!r} has {len(arr)} values, expected {n}"
        raise SchemaError(msg, table=table, column=name)
    return arr, labels, spec


def guess_kind(values: Any, options: ReadOptions = _DEFAULT) -> str:
    """The kind of a column that no schema describes, from its dtype (or its text)."""
    if options.textual:
        return V.guess_text_kind(values, options.decimal)
    s = C.series_of(values) if not isinstance(values, (list, tuple, np.ndarray)) else None
    if s is not None:
        import narwhals as nw

        dtype = s.dtype
        if dtype == nw.Datetime or dtype == nw.Date:
            return "time"
        if dtype == nw.Boolean:
            return "bool"
        if dtype.is_integer() or dtype.is_float():
            return _numeric_kind(np.asarray(s.to_numpy()))
        return "category"
    return _numeric_kind(C.as_numpy(values))


def _numeric_kind(arr: np.ndarray) -> str:
    kind = arr.dtype.kind
    if kind == "M":
        return "time"
    if kind == "b":
        return "bool"
    if kind == "u" and arr.size and int(arr.max()) > 2**63 - 1:
        return "category"  # ids beyond int64: kept exact as labels
    if kind in "iu":
        return "int"
    if kind == "f":
        return "float"
    if kind == "O" and arr.size:
        sample = [v for v in arr[:1000].tolist() if not V.is_null(v)]
        if sample and all(isinstance(v, (dt.datetime, np.datetime64)) for v in sample):
            return "time"
        if sample and all(isinstance(v, bool) for v in sample):
            return "bool"
        if sample and all(isinstance(v, float) for v in sample):
            return "float"
    return "category"


def convert_column(
    spec: ColumnSpec,
    values: Any,
    *,
    source: str | None,
    options: ReadOptions = _DEFAULT,
    coded: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[Problem]]:
    """Convert user values to the stored array of ``spec``; problems are returned, not raised.

    ``coded`` gives the codes and labels of a category column of a source table, reused
    without decoding.
    """
    labels: np.ndarray | None = None
    refusals: V.Refusals = []
    kind = spec.kind
    if kind == "category":
        arr, labels, bad, reason = _read_category(values, options, coded)
        null = (arr < 0) & ~bad
        if bad.any():
            refusals.append((bad, reason or "is not a valid label"))
    elif kind == "time":
        parse = read_time(values, options)
        if parse.problem is not None:
            bad = parse.status != T.OK
            return parse.times, None, [Problem(spec.name, source, bad, parse.problem, True)]
        arr, null = parse.times, parse.status == T.MISSING
        for code, reason in _TIME_REASONS.items():
            if (parse.status == code).any():
                refusals.append((parse.status == code, reason))
    elif kind in ("float", "int"):
        arr, null, refusals = _read_number(kind, values, options)
        if kind == "float":
            with np.errstate(invalid="ignore"):
                inf = np.isinf(arr)
            if inf.any():
                refusals.append((inf, "is infinite"))
        if spec.nonnegative:
            with np.errstate(invalid="ignore"):
                neg = arr < 0
            if neg.any():
                refusals.append((neg, "is negative"))
    elif kind == "bool":
        arr, null, refusals = V.to_bool(_plain(values, options))
    elif kind == "enum":
        assert spec.enum is not None
        arr, null, refusals = V.to_enum(_plain(values, options), spec.enum)
    else:  # pragma: no cover - ColumnSpec validates kinds
        raise ConfigError(f"unknown column kind {kind!r}")
    if not spec.nullable and null.any():
        what = "an id" if kind == "category" else "a value"
        refusals.append((null, f"is missing ({what} is required)"))
    problems = [Problem(spec.name, source, mask, reason) for mask, reason in refusals]
    return arr, labels, problems


def _plain(values: Any, options: ReadOptions) -> np.ndarray:
    return V.text_objects(values) if options.textual else C.as_numpy(values)


def _read_number(kind: str, values: Any, options: ReadOptions) -> Any:
    decimal = options.decimal
    if options.textual:
        text = V.text_floats if kind == "float" else V.text_ints
        return text(values, decimal)
    arr = C.as_numpy(values)
    return V.to_float(arr, decimal=decimal) if kind == "float" else V.to_int(arr, decimal=decimal)


def _read_category(
    values: Any, options: ReadOptions, coded: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    if coded is not None:
        codes, labels = coded
        return codes, labels, np.zeros(codes.shape, dtype=bool), None
    if options.textual and V.is_arrow(values):
        codes, labels, bad, reason = C.factorize_arrow(values)
    elif options.textual:
        codes, labels, bad, reason = C.factorize(V.text_objects(values))
    else:
        return C.read_category(values)
    ints = V.whole_number_labels(labels)
    if ints is not None:
        codes, labels = C.relabel(codes, labels, ints)
    return codes, labels, bad, reason


def read_time(values: Any, options: ReadOptions = _DEFAULT) -> T.TimeParse:
    """Times of a column: DataFrame datetimes, text, numbers, datetime objects."""
    tz, unit, fmt = options.tz, options.time_unit, options.time_format
    if options.textual:
        return V.text_times(values, tz=tz, unit=unit, fmt=fmt)
    s = values if C._is_nw_series(values) else C.series_of(values)
    if s is not None:
        import narwhals as nw

        if s.dtype == nw.Datetime:
            if s.dtype.time_zone is not None:
                s = s.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                tz = None
            return T.read_times(np.asarray(s.to_numpy()), tz=tz)
        if s.dtype == nw.Date:
            return T.read_times(np.asarray(s.cast(nw.Datetime("us")).to_numpy()), tz=tz)
        values = s.to_numpy()
    arr = values if isinstance(values, np.ndarray) else C.as_numpy(values)
    return T.read_times(arr, tz=tz, unit=unit, fmt=fmt)


def _values_at(values: Any, idx: np.ndarray) -> list[Any]:
    if V.is_arrow(values):
        return [values[int(i)].as_py() for i in idx]
    s = values if C._is_nw_series(values) else C.series_of(values)
    if s is not None:
        arr = np.asarray(s.to_numpy())
    elif isinstance(values, (list, tuple)):
        return [values[int(i)] for i in idx]
    else:
        arr = C.as_numpy(values)
    return [_py(v) for v in arr[idx].tolist()] if arr.dtype.kind != "M" else list(arr[idx])


def raise_problems(
    problems: list[Problem], table: str, raw_of: Any, *, quarantine_hint: bool = True
) -> None:
    """Raise a DataError for the first problem, mentioning the others."""
    first = problems[0]
    rows = np.flatnonzero(first.mask)
    values_source = raw_of(first.source) if callable(raw_of) else raw_of
    shown = _values_at(values_source, rows[:5])
    others = {p.column for p in problems[1:] if p.column != first.column}
    hints = []
    if others:
        hints.append(f"Columns {sorted(others)} have problems too.")
    if quarantine_hint:
        hints.append(
            "Pass errors='quarantine' to keep the valid rows and get the rejected ones back"
        )
    raise DataError(
        first.reason,
        table=table,
        column=first.column,
        source_column=first.source,
        rows=rows,
        values=shown + [None] * (len(rows) - len(shown)),
        hint=" ".join(hints) or None,
    )

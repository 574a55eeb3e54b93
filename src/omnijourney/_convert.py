"""Reading one column of user data: its kind, its values as arrays, and its problems.

Used by :class:`~omnijourney.tables.Table` and the table builders.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omnijourney import _columns as C
from omnijourney._columns import ColumnSpec, Problem
from omnijourney.errors import ConfigError, DataError, SchemaError


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
    if kind is None:
        kind = _guess_kind(values)
    spec = ColumnSpec(name, kind)
    arr, labels, problems = convert_column(spec, values, source=name, tz=tz)
    if problems:
        raise_problems(problems, table, values)
    if len(arr) != n:
        msg = f"{table}: column {name!r} has {len(arr)} values, expected {n}"
        raise SchemaError(msg, table=table, column=name)
    return arr, labels, spec


def _guess_kind(values: Any) -> str:
    s = C.series_of(values) if not isinstance(values, (list, tuple, np.ndarray)) else None
    if s is not None:
        import narwhals as nw

        dt = s.dtype
        if dt == nw.Datetime or dt == nw.Date:
            return "time"
        if dt == nw.Boolean:
            return "bool"
        if dt.is_integer():
            return "int"
        if dt.is_float():
            return "float"
        return "category"
    arr = C.as_numpy(values)
    kind = arr.dtype.kind
    if kind == "M":
        return "time"
    if kind == "b":
        return "bool"
    if kind in "iu":
        return "int"
    if kind == "f":
        return "float"
    if kind == "O" and arr.size:
        import datetime as dt

        sample = [v for v in arr[:1000].tolist() if v is not None]
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
    tz: Any = None,
    time_unit: str | None = None,
    time_format: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[Problem]]:
    """Convert user values to the stored array of ``spec``; problems are returned, not raised."""
    problems: list[Problem] = []
    labels: np.ndarray | None = None
    null: np.ndarray | None = None
    kind = spec.kind
    if kind == "category":
        arr, labels, bad, reason = C.read_category(values)
        null = (arr < 0) & ~bad
        if bad.any():
            problems.append(Problem(spec.name, source, bad, reason or "is not a valid label"))
    elif kind == "time":
        arr, bad, whole = C.read_time(values, tz=tz, unit=time_unit, fmt=time_format)
        if whole is not None:
            problems.append(Problem(spec.name, source, bad, whole))
            return arr, None, problems
        null = np.isnat(arr) & ~bad
        unreadable = bad & ~_null_mask(values, bad)
        null = bad & ~unreadable
        if unreadable.any():
            problems.append(
                Problem(spec.name, source, unreadable, "is not a time (ISO 8601 expected)")
            )
    elif kind == "float":
        arr, bad = C.to_float(C.as_numpy(values))
        if bad.any():
            problems.append(Problem(spec.name, source, bad, "is not a number"))
        with np.errstate(invalid="ignore"):
            inf = np.isinf(arr)
        if inf.any():
            problems.append(Problem(spec.name, source, inf, "is infinite"))
        null = np.isnan(arr) & ~bad
        if spec.nonnegative:
            with np.errstate(invalid="ignore"):
                neg = arr < 0
            if neg.any():
                problems.append(Problem(spec.name, source, neg, "is negative"))
    elif kind == "int":
        arr, null, bad = C.to_int(C.as_numpy(values))
        if bad.any():
            problems.append(Problem(spec.name, source, bad, "is not a whole number"))
        if spec.nonnegative and (arr < 0).any():
            problems.append(Problem(spec.name, source, arr < 0, "is negative"))
    elif kind == "bool":
        arr, null, bad = C.to_bool(C.as_numpy(values))
        if bad.any():
            problems.append(Problem(spec.name, source, bad, "is not a boolean"))
    elif kind == "enum":
        assert spec.enum is not None
        arr, null, bad = C.to_enum(C.as_numpy(values), spec.enum)
        if bad.any():
            allowed = ", ".join(repr(m.value) for m in spec.enum)
            problems.append(Problem(spec.name, source, bad, f"is not one of {allowed}"))
    else:  # pragma: no cover - ColumnSpec validates kinds
        raise ConfigError(f"unknown column kind {kind!r}")
    if not spec.nullable and null is not None and null.any():
        what = "an id" if kind == "category" else "a value"
        problems.append(Problem(spec.name, source, null, f"is missing ({what} is required)"))
    return arr, labels, problems


def _null_mask(values: Any, bad: np.ndarray) -> np.ndarray:
    """Among ``bad`` time rows, which ones were missing (None/NaN/NaT/empty) rather than wrong."""
    out = np.zeros(bad.shape, dtype=bool)
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return out
    raw = _values_at(values, idx)
    out[idx] = [
        C._is_null_label(v) or (isinstance(v, str) and v.strip() in {"NaT", "nat"}) for v in raw
    ]
    return out


def _values_at(values: Any, idx: np.ndarray) -> list[Any]:
    s = values if C._is_nw_series(values) else C.series_of(values)
    if s is not None:
        arr = np.asarray(s.to_numpy())
    elif isinstance(values, (list, tuple)):
        return [values[int(i)] for i in idx]
    else:
        arr = np.asarray(values)
    return [_py(v) for v in arr[idx].tolist()] if arr.dtype.kind != "M" else list(arr[idx])


def raise_problems(problems: list[Problem], table: str, raw_of: Any) -> None:
    """Raise a DataError for the first problem, mentioning the others."""
    first = problems[0]
    rows = np.flatnonzero(first.mask)
    values_source = raw_of(first.source) if callable(raw_of) else raw_of
    shown = _values_at(values_source, rows[:5])
    others = {p.column for p in problems[1:] if p.column != first.column}
    hint = "Pass errors='quarantine' to keep the valid rows and get the rejected ones back"
    if others:
        hint = f"Columns {sorted(others)} have problems too. " + hint
    raise DataError(
        first.reason,
        table=table,
        column=first.column,
        source_column=first.source,
        rows=rows,
        values=shown + [None] * (len(rows) - len(shown)),
        hint=hint,
    )

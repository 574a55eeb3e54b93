"""Column conversions shared by every table: category codes, times, numbers, enums.

Each converter returns the stored array (and labels for categories) together with a mask of the
input rows it could not accept and the reason, so that the caller decides whether to raise or to
quarantine them.
"""

from __future__ import annotations

import collections
import enum
import importlib.util
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import SchemaError
from omnijourney.time import TIME_DTYPE, parse_times

KINDS = ("category", "time", "float", "int", "bool", "enum")


@attrs.frozen
class ColumnSpec:
    """Declares one column of a table: its name, how it is stored, and what is valid.

    ``kind`` is one of ``category`` (integer codes into a sorted dictionary of labels),
    ``time`` (``datetime64[us]`` UTC), ``float``, ``int``, ``bool`` or ``enum`` (codes into the
    members of ``enum``).
    """

    name: str
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    required: bool = False
    nullable: bool = True
    enum: type[enum.Enum] | None = None
    nonnegative: bool = False
    doc: str = ""


@attrs.frozen
class Problem:
    """Rows of one column that cannot be accepted, and why."""

    column: str
    source: str | None
    mask: np.ndarray
    reason: str


def code_dtype(n_labels: int) -> np.dtype:
    """Smallest signed integer dtype for codes into ``n_labels`` labels (-1 marks null)."""
    if n_labels < 2**7:
        return np.dtype(np.int8)
    if n_labels < 2**15:
        return np.dtype(np.int16)
    if n_labels < 2**31:
        return np.dtype(np.int32)
    return np.dtype(np.int64)


def _is_null_label(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, np.floating):
        return bool(np.isnan(v))
    # pandas.NA, pandas.NaT and numpy NaT: compare unequal to themselves or have isnat
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return type(v).__name__ in {"NAType", "NaTType"}


def _normalize_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


_NOT_AN_ID = object()  # stands for values that cannot be ids (booleans) while counting


def first_seen(items: Iterable[Any], count: int) -> tuple[dict[Any, int], np.ndarray]:
    """Distinct values of ``count`` items in order of first appearance, and each item's
    index into them.

    One pass in C: a dict whose missing keys take the next number.
    """
    first: collections.defaultdict[Any, int] = collections.defaultdict(itertools.count().__next__)
    codes = np.fromiter(map(first.__getitem__, items), dtype=np.int64, count=count)
    return first, codes


def factorize(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    """Encode values as codes into a sorted dictionary of labels.

    Returns
    -------
    codes : ndarray of int
        ``-1`` where the value is null (None, NaN, empty string) or rejected.
    labels : ndarray
        Sorted distinct labels: ``int64`` for integer ids, ``object`` (str) otherwise.
    bad : ndarray of bool
        Rows whose value cannot be a label (mixed str/int types, non-integral floats, other
        objects).
    reason : str or None
        Why the ``bad`` rows were refused.

    Notes
    -----
    Sorted dictionaries make codes compare like labels, so sorting by codes is the same in any
    row order and across tables after :func:`remap` onto a common dictionary.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    n = arr.shape[0]
    kind = arr.dtype.kind
    nobad = np.zeros(n, dtype=bool)
    if n == 0:
        return np.zeros(0, dtype=np.int8), np.zeros(0, dtype=object), nobad, None
    if kind == "b":
        arr = arr.astype(np.int64)
        kind = "i"
    if kind in "iu":
        ints = arr.astype(np.int64)
        lo, hi = int(ints.min()), int(ints.max())
        if hi - lo < 4 * n + 1024:
            present = np.bincount(ints - lo, minlength=hi - lo + 1) > 0
            rank = np.cumsum(present) - 1
            labels = np.flatnonzero(present).astype(np.int64) + lo
            codes = rank[ints - lo]
        else:
            labels, codes = np.unique(ints, return_inverse=True)
        return codes.astype(code_dtype(labels.size)), labels, nobad, None
    if kind == "f":
        nan = np.isnan(arr)
        finite = arr[~nan]
        if finite.size and not (np.all(np.isfinite(finite)) and np.all(finite == np.round(finite))):
            bad = ~nan & ~(np.isfinite(arr) & (arr == np.round(np.where(nan, 0, arr))))
            reason: str | None = "is not an identifier (ids are strings or whole numbers)"
            codes_ok, labels, _, _ = factorize(np.where(bad | nan, 0, arr).astype(np.int64))
            codes_ok = codes_ok.astype(np.int64)
            codes_ok[bad | nan] = -1
            return codes_ok.astype(code_dtype(labels.size)), labels, bad, reason
        codes, labels, _, _ = factorize(np.where(nan, 0, arr).astype(np.int64))
        if nan.any():
            # labels may contain the 0 used as filler; recompute over the non-null rows only
            sub_codes, labels, _, _ = factorize(arr[~nan].astype(np.int64))
            codes = np.full(n, -1, dtype=code_dtype(labels.size))
            codes[~nan] = sub_codes
        return codes, labels, nobad, None
    if kind in "US":
        arr = arr.astype(object)
    items = arr.tolist()
    seen, first_code = first_seen(items, n)
    if any(isinstance(k, (bool, np.bool_)) or k in (0, 1) for k in seen if not isinstance(k, str)):
        # True == 1 and False == 0 as dict keys: set booleans apart before counting values
        bools = [i for i, v in enumerate(items) if isinstance(v, (bool, np.bool_))]
        if bools:
            for i in bools:
                items[i] = _NOT_AN_ID
            seen, first_code = first_seen(items, n)
    null_keys = []
    strs: list[Any] = []
    int_keys: list[Any] = []
    others: list[Any] = []
    for key in seen:
        if _is_null_label(key):
            null_keys.append(key)
            continue
        norm = _normalize_label(key)
        if isinstance(norm, str):
            strs.append(key)
        elif isinstance(norm, int) and not isinstance(norm, bool):
            int_keys.append(key)
        else:
            others.append(key)
    reason = None
    bad_keys: list[Any] = list(others)
    if strs and int_keys:
        minority = int_keys if len(int_keys) <= len(strs) else strs
        bad_keys.extend(minority)
        if minority is int_keys:
            strs_keep, int_keys = strs, []
        else:
            int_keys, strs_keep = int_keys, []
        strs = strs_keep
        reason = "mixes string and integer ids; convert the column to one type"
    elif others:
        reason = "is not an identifier (ids are strings or whole numbers)"
    good = strs or int_keys
    normed = [_normalize_label(k) for k in good]
    order = sorted(range(len(good)), key=normed.__getitem__)
    lookup: dict[Any, int] = {}
    for pos, i in enumerate(order):
        lookup[good[i]] = pos
    for k in null_keys:
        lookup[k] = -1
    for k in bad_keys:
        lookup[k] = -2
    dtype = code_dtype(len(good))
    final = np.fromiter(map(lookup.__getitem__, seen), dtype=np.int64, count=len(seen))
    raw = final[first_code]
    del first_code
    bad = raw == -2
    raw[bad] = -1
    if int_keys and not strs:
        labels = np.array([normed[i] for i in order], dtype=np.int64)
    else:
        labels = np.empty(len(good), dtype=object)
        labels[:] = [normed[i] for i in order]
    return raw.astype(dtype), labels, bad, reason if bad.any() else None


def remap(codes: np.ndarray, labels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Re-express ``codes`` (into ``labels``) as codes into ``target`` (a sorted superset)."""
    if labels.size == 0:
        return np.full(codes.shape, -1, dtype=code_dtype(target.size))
    position = np.searchsorted(target, labels).astype(np.int64)
    out = np.where(codes >= 0, position[np.maximum(codes, 0)], -1)
    return out.astype(code_dtype(target.size))


def union_labels(parts: Sequence[np.ndarray], column: str, table: str) -> np.ndarray:
    """Sorted union of several label dictionaries (all str, or all int)."""
    non_empty = [p for p in parts if p.size]
    if not non_empty:
        return parts[0] if parts else np.zeros(0, dtype=object)
    is_int = {p.dtype.kind in "iu" for p in non_empty}
    if len(is_int) > 1:
        msg = (
            f"{table}: column {column!r} holds integer ids in one table and string ids in "
            "another; convert one of them before concatenating"
        )
        raise SchemaError(msg, table=table, column=column)
    if is_int.pop():
        return np.unique(np.concatenate(non_empty))
    merged = sorted(set().union(*(p.tolist() for p in non_empty)))
    out = np.empty(len(merged), dtype=object)
    out[:] = merged
    return out


def arrow_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def factorize_arrow(arrow_array: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    """Factorize a pyarrow array of strings through its C++ dictionary encoder."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arrow_array, pa.ChunkedArray):
        arrow_array = arrow_array.combine_chunks()
    if not pa.types.is_dictionary(arrow_array.type):
        arrow_array = pc.dictionary_encode(arrow_array)
    dictionary = arrow_array.dictionary
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        return factorize(arrow_array.to_numpy(zero_copy_only=False))
    indices = arrow_array.indices
    idx = indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if indices.null_count:
        idx[indices.is_null().to_numpy(zero_copy_only=False)] = -1
    words = dictionary.to_pylist()
    codes_d, labels, _, _ = factorize(np.array([*words, None], dtype=object))
    # codes_d maps each dictionary entry (plus a trailing null) to its sorted label position
    mapping = codes_d.astype(np.int64)
    codes = mapping[idx]  # idx == -1 picks the trailing null entry
    return codes.astype(code_dtype(labels.size)), labels, np.zeros(idx.size, dtype=bool), None


# --------------------------------------------------------------------------- conversions


def to_float(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Floats with NaN for missing values; returns (array, unreadable mask)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iufb":
        return arr.astype(np.float64), np.zeros(arr.shape, dtype=bool)
    n = arr.size
    out = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    try:
        cleaned = np.array([np.nan if _is_null_label(v) else v for v in arr.tolist()], dtype=object)
        out = cleaned.astype(np.float64)
        return out, bad
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(arr.tolist()):
        if _is_null_label(v):
            continue
        try:
            out[i] = float(v.replace(",", ".") if isinstance(v, str) else v)
        except (TypeError, ValueError):
            bad[i] = True
    return out, bad


def to_int(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 values; returns (array, null mask, unreadable mask)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64), np.zeros(arr.shape, bool), np.zeros(arr.shape, bool)
    f, bad = to_float(arr)
    null = np.isnan(f) & ~bad
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(f) & (f == np.round(f)) & (np.abs(f) < 2**53)
    bad |= ~null & ~whole
    out = np.where(whole, f, 0).astype(np.int64)
    return out, null, bad


def to_bool(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Booleans from bools, 0/1 or true/false strings; returns (array, null, unreadable)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        return arr.copy(), np.zeros(arr.shape, bool), np.zeros(arr.shape, bool)
    out = np.zeros(arr.size, dtype=bool)
    null = np.zeros(arr.size, dtype=bool)
    bad = np.zeros(arr.size, dtype=bool)
    truthy = {"true", "t", "yes", "y", "1", "oui", "vrai"}
    falsy = {"false", "f", "no", "n", "0", "non", "faux"}
    for i, v in enumerate(arr.tolist()):
        if _is_null_label(v):
            null[i] = True
        elif isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float)) and v in (0, 1)):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in truthy:
            out[i] = True
        elif isinstance(v, str) and v.strip().lower() in falsy:
            out[i] = False
        else:
            bad[i] = True
    return out, null, bad


def to_enum(values: Any, cls: type[enum.Enum]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes into the members of ``cls`` (by value or name); returns (codes, null, unknown)."""
    members = list(cls)
    lookup: dict[Any, int] = {}
    for i, m in enumerate(members):
        lookup[m] = i
        lookup[m.value] = i
        lookup[m.name] = i
        if isinstance(m.value, str):
            lookup[m.value.upper()] = i
    items = np.asarray(values, dtype=object).reshape(-1).tolist()
    code_of: dict[Any, int] = {}
    for key in dict.fromkeys(items):
        if _is_null_label(key):
            code_of[key] = -1
            continue
        probe = key.strip().lower() if isinstance(key, str) else key
        code = lookup.get(probe, lookup.get(key))
        code_of[key] = -2 if code is None else code
    raw = np.fromiter(map(code_of.__getitem__, items), dtype=np.int64, count=len(items))
    null = raw == -1
    bad = raw == -2
    raw[bad] = -1
    return raw.astype(np.int8), null, bad


def to_time(
    values: Any, *, tz: Any = None, unit: str | None = None, fmt: str | None = None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    return parse_times(values, tz=tz, unit=unit, fmt=fmt)


# --------------------------------------------------------------------------- sources


class Source:
    """Uniform read access to the user's columns (mapping, DataFrame or omnijourney table)."""

    def __init__(self, data: Any) -> None:
        from omnijourney.tables import Table

        self.table: Table | None = None
        self.frame: Any = None
        self.mapping: Mapping[str, Any] | None = None
        if isinstance(data, Table):
            self.table = data
            self.names: list[str] = list(data.columns)
            self.n = len(data)
            return
        if isinstance(data, Mapping):
            self.mapping = data
            self.names = [str(k) for k in data]
            lengths = {k: _length(v) for k, v in data.items()}
            distinct = set(lengths.values())
            if len(distinct) > 1:
                detail = ", ".join(f"{k!r}: {n}" for k, n in lengths.items())
                msg = f"columns have different lengths ({detail})"
                raise SchemaError(msg)
            self.n = distinct.pop() if distinct else 0
            return
        import narwhals as nw

        frame = nw.from_native(data, pass_through=True, allow_series=False)
        if frame is data:
            msg = (
                "data must be a mapping of column name -> values, an omnijourney table, or a "
                f"DataFrame (pandas, polars, pyarrow...), got {type(data).__name__}"
            )
            raise SchemaError(msg)
        if isinstance(frame, nw.LazyFrame):
            frame = frame.collect()
        self.frame = frame
        self.names = list(frame.columns)
        self.n = len(frame)

    def has(self, name: str) -> bool:
        return name in self.names

    def raw(self, name: str) -> Any:
        if self.table is not None:
            return self.table.column_values(name)
        if self.mapping is not None:
            return self.mapping[name]
        return self.frame[name]


def _length(values: Any) -> int:
    try:
        return len(values)
    except TypeError:
        msg = f"column values must be sequences, got {type(values).__name__}"
        raise SchemaError(msg) from None


def series_of(values: Any) -> Any:
    """A narwhals Series for DataFrame-library series, else None."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return None
    import narwhals as nw

    s = nw.from_native(values, series_only=True, pass_through=True)
    return None if s is values else s


def as_numpy(values: Any) -> np.ndarray:
    s = values if _is_nw_series(values) else series_of(values)
    if s is not None:
        return np.asarray(s.to_numpy())
    arr = np.asarray(values) if not isinstance(values, (list, tuple)) else _list_to_array(values)
    return arr if arr.ndim == 1 else arr.reshape(-1)


def _list_to_array(values: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    # Let numpy pick a numeric dtype when every value is numeric (fast paths below).
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    return arr


def _is_nw_series(values: Any) -> bool:
    return type(values).__module__.startswith("narwhals") and hasattr(values, "to_numpy")


def read_category(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    s = values if _is_nw_series(values) else series_of(values)
    if s is not None:
        import narwhals as nw

        dtype = s.dtype
        textual = dtype == nw.String or dtype == nw.Categorical or dtype == nw.Enum
        if textual and arrow_available():
            return factorize_arrow(s.to_arrow())
        return factorize(s.to_numpy())
    return factorize(as_numpy(values))


def read_time(
    values: Any, *, tz: Any = None, unit: str | None = None, fmt: str | None = None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    s = values if _is_nw_series(values) else series_of(values)
    if s is not None:
        import narwhals as nw

        if s.dtype == nw.Datetime:
            if s.dtype.time_zone is not None:
                utc = s.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                arr = np.asarray(utc.to_numpy()).astype(TIME_DTYPE)
                return arr, np.isnat(arr), None
            return parse_times(np.asarray(s.to_numpy()), tz=tz)
        if s.dtype == nw.Date:
            return parse_times(np.asarray(s.cast(nw.Datetime("us")).to_numpy()), tz=tz)
        values = s.to_numpy()
    return parse_times(
        as_numpy(values) if not isinstance(values, np.ndarray) else values,
        tz=tz,
        unit=unit,
        fmt=fmt,
    )

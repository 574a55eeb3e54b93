"""What every table shares: column specs, category codes into sorted labels, and read access
to the user's columns (mappings, DataFrames, tables, text read from files).

The factorizers return the codes and labels together with a mask of the input rows they could
not accept and the reason, so that the caller decides whether to raise or to quarantine them.
"""

from __future__ import annotations

import collections
import enum
import importlib.util
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_bool, check_choice, check_text, validator
from omnijourney._values import is_null
from omnijourney.errors import ConfigError, SchemaError

KINDS = ("category", "time", "float", "int", "bool", "enum")


def _check_enum(value: Any, name: str) -> None:
    if value is not None and not (isinstance(value, type) and issubclass(value, enum.Enum)):
        msg = f"The {name!r} parameter must be an enum.Enum class or None. Got {value!r} instead."
        raise ConfigError(msg)


def _check_doc(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"The {name!r} parameter must be a string. Got {value!r} instead.")


@attrs.frozen
class ColumnSpec:
    """Declares one column of a table: its name, how it is stored, and what is valid.

    ``kind`` is one of ``category`` (integer codes into a sorted dictionary of labels),
    ``time`` (``datetime64[us]`` UTC), ``float``, ``int``, ``bool`` or ``enum`` (codes into the
    members of ``enum``).
    """

    name: str = attrs.field(validator=validator(check_text))
    kind: str = attrs.field(validator=validator(check_choice, KINDS))
    required: bool = attrs.field(default=False, validator=validator(check_bool))
    nullable: bool = attrs.field(default=True, validator=validator(check_bool))
    enum: type[enum.Enum] | None = attrs.field(default=None, validator=validator(_check_enum))
    nonnegative: bool = attrs.field(default=False, validator=validator(check_bool))
    doc: str = attrs.field(default="", validator=validator(_check_doc))


@attrs.frozen
class Problem:
    """Rows of one column that cannot be accepted, and why.

    Attributes
    ----------
    column : str
        The table's column.
    source : str or None
        The input column it was read from (None when it was not read from the input).
    mask : numpy.ndarray of bool
        The rows concerned.
    reason : str
        What is wrong with them, as a phrase that follows the value: ``"is negative"``.
    whole_column : bool
        The column as a whole cannot be read (mixed naive and aware times, numbers without a
        time unit): no row can be kept, even in quarantine.
    """

    column: str
    source: str | None
    mask: np.ndarray
    reason: str
    whole_column: bool = False


def code_dtype(n_labels: int) -> np.dtype:
    """Smallest signed integer dtype for codes into ``n_labels`` labels (-1 marks null)."""
    if n_labels < 2**7:
        return np.dtype(np.int8)
    if n_labels < 2**15:
        return np.dtype(np.int16)
    if n_labels < 2**31:
        return np.dtype(np.int32)
    return np.dtype(np.int64)


_is_null_label = is_null


def _normalize_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    # whole floats are ids (pandas holds integer ids with nulls as floats) while exact
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


_NOT_AN_ID = object()  # stands for values that cannot be ids (booleans) while counting
_INT64_MAX = 2**63 - 1


class _NotAnId:
    """Stands for one unhashable value (each is its own refused label)."""

    def __repr__(self) -> str:
        return "<unhashable value>"


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _bool_like(k: Any) -> bool:
    if isinstance(k, (bool, np.bool_)):
        return True
    if isinstance(k, (int, float, np.integer, np.floating)):
        return k in (0, 1)
    return False


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
        return (
            np.full(n, -1, dtype=np.int8),
            np.zeros(0, dtype=object),
            np.ones(n, dtype=bool),
            "is a boolean, not an identifier",
        )
    if kind == "u" and int(arr.max()) > _INT64_MAX:
        # beyond int64: the exact decimal text of each id
        return factorize(arr.astype(str).astype(object))
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
        with np.errstate(invalid="ignore"):
            nan = np.isnan(arr)
            exact = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        bad = ~nan & ~exact
        sub_codes, labels, _, _ = factorize(arr[exact].astype(np.int64))
        codes = np.full(n, -1, dtype=np.int64)
        codes[exact] = sub_codes
        reason: str | None = None
        if bad.any():
            reason = "is not an identifier (ids are strings or whole numbers)"
            if not (bad & ~(np.abs(np.where(bad, arr, 0)) >= 2**53)).any():
                reason = (
                    "is a number too large to be an exact id; read the column as integers or text"
                )
        return codes.astype(code_dtype(labels.size)), labels, bad, reason
    if kind in "US":
        arr = arr.astype(object)
    items = arr.tolist()
    try:
        seen, first_code = first_seen(items, n)
    except TypeError:  # unhashable values (lists, dicts) are not ids
        items = [v if _hashable(v) else _NotAnId() for v in items]
        seen, first_code = first_seen(items, n)
    # text labels and nulls (the usual case): no per-label conversion to check
    rest = [k for k in seen if type(k) is not str]
    only_text = all(_is_null_label(k) for k in rest)
    if not only_text and any(_bool_like(k) for k in seen):
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
    if only_text:
        strs = [k for k in seen if type(k) is str and k.strip()]
        null_keys = rest
        if len(strs) + len(rest) < len(seen):  # blank texts
            null_keys = rest + [k for k in seen if type(k) is str and not k.strip()]
    for key in seen if not only_text else ():
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
    normed = good if only_text else [_normalize_label(k) for k in good]
    order = sorted(range(len(good)), key=normed.__getitem__)
    lookup: dict[Any, int] = dict(zip(map(good.__getitem__, order), itertools.count()))
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
    if int_keys and not strs and not all(-_INT64_MAX - 1 <= normed[i] <= _INT64_MAX for i in order):
        # ids beyond int64 are kept exact as their decimal text
        return factorize(_ints_as_text(items))
    if int_keys and not strs:
        labels = np.array([normed[i] for i in order], dtype=np.int64)
    else:
        labels = np.empty(len(good), dtype=object)
        labels[:] = [normed[i] for i in order]
    return raw.astype(dtype), labels, bad, reason if bad.any() else None


def _ints_as_text(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        norm = _normalize_label(v)
        is_int = isinstance(norm, int) and not isinstance(norm, bool)
        out[i] = str(norm) if is_int else v
    return out


def relabel(codes: np.ndarray, labels: np.ndarray, new: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes and sorted labels after replacing each label by ``new[i]`` (labels may merge).

    ``new`` holds one label per current label, all strings or all integers.
    """
    new = np.asarray(new) if not isinstance(new, np.ndarray) else new
    if new.dtype.kind not in "iu":
        new = new.astype(object)
    if new.size == 0:
        return codes, labels
    uniq, inverse = np.unique(new, return_inverse=True)
    if uniq.dtype.kind not in "iu":
        uniq = uniq.astype(object)
    position = inverse.reshape(-1).astype(np.int64)
    out = np.where(codes >= 0, position[np.maximum(codes, 0)], -1)
    return out.astype(code_dtype(uniq.size)), uniq


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


# --------------------------------------------------------------------------- sources


class TextColumns(dict):
    """Columns read from a text file: each value is a string or None (pyarrow string arrays
    or object arrays). Builders infer the kind of extras from the text and read whole-number
    ids as integers, as a DataFrame library reads a file."""


class Source:
    """Uniform read access to the user's columns (mapping, DataFrame or omnijourney table)."""

    def __init__(self, data: Any) -> None:
        from omnijourney._table import Table

        self.table: Table | None = None
        self.frame: Any = None
        self.mapping: Mapping[Any, Any] | None = None
        self.textual = isinstance(data, TextColumns)
        self._constants: dict[str, Any] = {}
        self._keys: dict[str, Any] = {}
        if isinstance(data, Table):
            self.table = data
            self.names: list[str] = list(data.columns)
            self.n = len(data)
            return
        if isinstance(data, Mapping):
            self.mapping = data
            self._keys = {str(k): k for k in data}
            if len(self._keys) != len(data):
                msg = f"column names are not distinct once written as text: {list(data)}"
                raise SchemaError(msg)
            self.names = list(self._keys)
            lengths = {k: _length(v) for k, v in data.items()}
            distinct = set(lengths.values())
            if len(distinct) > 1:
                detail = ", ".join(f"{k!r}: {n}" for k, n in lengths.items())
                msg = f"columns have different lengths ({detail})"
                raise SchemaError(msg)
            self.n = distinct.pop() if distinct else 0
            return
        import narwhals as nw

        try:
            frame = nw.from_native(data, pass_through=True, allow_series=False)
        except (TypeError, ValueError) as exc:
            msg = f"data of type {type(data).__name__} cannot be read as a DataFrame: {exc}"
            raise SchemaError(msg) from exc
        if frame is data:
            msg = (
                "data must be a mapping of column name -> values, an omnijourney table, or a "
                f"DataFrame (pandas, polars, pyarrow...), got {type(data).__name__}"
            )
            raise SchemaError(msg)
        if isinstance(frame, nw.LazyFrame):
            frame = frame.collect()
        self.frame = frame
        self.names = [str(c) for c in frame.columns]
        self._keys = dict(zip(self.names, frame.columns))
        if len(self._keys) != len(self.names):
            msg = f"column names are not distinct once written as text: {list(frame.columns)}"
            raise SchemaError(msg)
        self.n = len(frame)

    def has(self, name: str) -> bool:
        return name in self.names or name in self._constants

    def add_constant(self, role: str, value: Any) -> str:
        """A column holding ``value`` on every row, under a name no input column has."""
        name = f"={value!r}"
        while name in self.names:
            name = "=" + name
        self._constants[name] = value
        return name

    def raw(self, name: str) -> Any:
        if name in self._constants:
            arr = np.empty(self.n, dtype=object)
            arr[:] = [self._constants[name]] * self.n
            return arr
        if self.table is not None:
            return self.table.column_values(name)
        if self.mapping is not None:
            return self.mapping[self._keys[name]]
        return self.frame[self._keys[name]]

    def coded(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Codes and labels of a category column of a source table (no decoding), or None."""
        if self.table is None or name not in self.names or self.table.kinds[name] != "category":
            return None
        return self.table.raw(name), self.table.labels(name)


def _length(values: Any) -> int:
    if isinstance(values, (str, bytes, Mapping)):
        msg = f"column values must be sequences, got {type(values).__name__}"
        raise SchemaError(msg)
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
        return series_numpy(s)
    if isinstance(values, (list, tuple)):
        arr = _list_to_array(values)
    elif isinstance(values, np.ndarray):
        arr = values
    else:
        arr = _list_to_array(list(values))
    return arr if arr.ndim == 1 else _flatten_rows(arr)


def series_numpy(s: Any) -> np.ndarray:
    """A narwhals series as a numpy array. A pyarrow dictionary array is decoded first: its
    own ``to_numpy`` ignores the nulls (``[3, 7, None]`` would become ``[3, 7, 7]``)."""
    native = s.to_native()
    value_type = getattr(getattr(native, "type", None), "value_type", None)
    if value_type is not None and hasattr(native, "cast"):
        decoded = native.cast(value_type)
        if str(value_type) in ("string", "large_string"):
            return np.asarray(decoded.to_numpy(zero_copy_only=False))
        # numbers with nulls as Python values: labels stay integers, nulls None
        return _list_to_array(decoded.to_pylist())
    return np.asarray(s.to_numpy())


def _flatten_rows(arr: np.ndarray) -> np.ndarray:
    """One object per row of a 2-d (or deeper) array, so that the row count is kept."""
    out = np.empty(arr.shape[0] if arr.ndim else 1, dtype=object)
    out[:] = list(arr) if arr.ndim else [arr.item()]
    return out


def _list_to_array(values: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    # A numeric dtype when every value is a number that it holds exactly (fast paths).
    types = set(map(type, values))
    if types == {int} and min(values) >= -_INT64_MAX - 1 and max(values) <= _INT64_MAX:
        return np.array(values, dtype=np.int64)
    exact = types <= {int, float} and all(type(v) is float or abs(v) < 2**53 for v in values)
    if types and types != {int} and exact:
        return np.array(values, dtype=np.float64)
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

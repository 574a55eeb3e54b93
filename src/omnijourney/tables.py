"""Columnar tables: equal-length numpy arrays plus sorted category dictionaries.

:class:`Table` is the generic base (identity and pricing tables reuse it);
:class:`TouchpointTable` holds touchpoints and hands out :class:`~omnijourney.model.Touchpoint`
views. Rows never become Python objects unless asked for.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeVar, overload

import attrs
import numpy as np

from omnijourney import _columns as C
from omnijourney._columns import ColumnSpec, Problem
from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.model import Channel, Direction, Touchpoint, channel_catalog
from omnijourney.time import TIME_DTYPE, as_datetime

__all__ = [
    "ColumnSpec",
    "Quarantined",
    "Rejects",
    "Table",
    "TouchpointTable",
    "concat",
]

T = TypeVar("T", bound="Table")
ErrorMode = Literal["raise", "quarantine"]
_PREVIEW_ROWS = 5


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "quarantine"):
        msg = f"errors must be 'raise' or 'quarantine', got {errors!r}"
        raise ConfigError(msg)


class Table:
    """A table of equal-length numpy columns; categories are stored as codes into sorted labels.

    Build tables with :meth:`from_columns` (a mapping of column -> values, or any DataFrame),
    :meth:`from_records`, :meth:`from_csv` or :meth:`from_parquet`; never with the constructor.

    Indexing: ``table["col"]`` gives decoded values, ``table[i]`` one row, ``table[1:5]``,
    ``table[mask]`` and ``table[indices]`` new tables.

    Examples
    --------
    >>> t = Table.from_columns({"sku": ["b", "a", "b"], "price": [2.0, 1.5, 2.5]})
    >>> len(t), t.columns
    (3, ('sku', 'price'))
    >>> t.labels("sku"), t.codes("sku")
    (array(['a', 'b'], dtype=object), array([1, 0, 1], dtype=int8))
    >>> t[t["price"] > 1.9]["sku"]
    array(['b', 'b'], dtype=object)
    """

    table_name: ClassVar[str] = "Table"
    schema: ClassVar[tuple[ColumnSpec, ...]] = ()

    __slots__ = ("_data", "_labels", "_meta", "_sorted", "_specs")

    def __init__(
        self,
        data: Mapping[str, np.ndarray],
        labels: Mapping[str, np.ndarray] | None = None,
        specs: Mapping[str, ColumnSpec] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        sorted_by: tuple[str, ...] = (),
    ) -> None:
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            msg = f"{self.table_name}: columns have different lengths {sorted(lengths)}"
            raise SchemaError(msg, table=self.table_name)
        self._data: dict[str, np.ndarray] = dict(data)
        self._labels: dict[str, np.ndarray] = dict(labels or {})
        if specs is None:
            specs = {
                name: _infer_spec(name, arr, name in self._labels) for name, arr in data.items()
            }
        self._specs: dict[str, ColumnSpec] = dict(specs)
        self._meta: dict[str, Any] = dict(meta or {})
        self._sorted = tuple(sorted_by)

    # ------------------------------------------------------------------ basic access

    def __len__(self) -> int:
        for arr in self._data.values():
            return len(arr)
        return 0

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(self._data)

    @property
    def kinds(self) -> dict[str, str]:
        """How each column is stored: category, time, float, int, bool or enum."""
        return {name: spec.kind for name, spec in self._specs.items()}

    @property
    def nbytes(self) -> int:
        """Bytes held by the column arrays (category dictionaries excluded)."""
        return int(sum(arr.nbytes for arr in self._data.values()))

    @property
    def sorted_by(self) -> tuple[str, ...]:
        """The key columns the rows are known to be sorted by (canonically), or ()."""
        return self._sorted

    def _check_column(self, name: str) -> None:
        if name not in self._data:
            msg = f"{self.table_name} has no column {name!r}; columns are {list(self._data)}"
            raise SchemaError(msg, table=self.table_name, column=name)

    def codes(self, name: str) -> np.ndarray:
        """Integer codes of a category (or enum) column; -1 marks a null."""
        self._check_column(name)
        if self._specs[name].kind not in ("category", "enum"):
            msg = f"{self.table_name}: column {name!r} is a {self._specs[name].kind} column"
            raise SchemaError(msg, table=self.table_name, column=name)
        return self._data[name]

    def labels(self, name: str) -> np.ndarray:
        """Sorted distinct labels of a category column (codes index into them)."""
        self._check_column(name)
        spec = self._specs[name]
        if spec.kind == "enum" and spec.enum is not None:
            out = np.empty(len(spec.enum), dtype=object)
            out[:] = [m.value for m in spec.enum]
            return out
        if name not in self._labels:
            msg = f"{self.table_name}: column {name!r} is a {spec.kind} column, not a category"
            raise SchemaError(msg, table=self.table_name, column=name)
        return self._labels[name]

    def column_values(self, name: str) -> np.ndarray:
        """Decoded values of one column (labels for categories, None for nulls)."""
        self._check_column(name)
        spec = self._specs[name]
        arr = self._data[name]
        if spec.kind in ("category", "enum"):
            labels = self.labels(name)
            null = arr < 0
            if labels.size == 0:
                return np.full(arr.shape, None, dtype=object)
            out = labels[np.maximum(arr, 0)]
            if null.any():
                out = out.astype(object)
                out[null] = None
            return out
        return arr

    def raw(self, name: str) -> np.ndarray:
        """The stored array of a column (codes for categories), without copying."""
        self._check_column(name)
        return self._data[name]

    @overload
    def __getitem__(self, key: str) -> np.ndarray: ...
    @overload
    def __getitem__(self, key: int | np.integer) -> Any: ...
    @overload
    def __getitem__(self: T, key: slice | np.ndarray | Sequence[int]) -> T: ...

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.column_values(key)
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key)
            if i < 0:
                i += n
            if not 0 <= i < n:
                msg = f"row {key} is out of range for a {self.table_name} of {n} rows"
                raise IndexError(msg)
            return self._record(i)
        if isinstance(key, slice):
            return self._take(np.arange(len(self))[key], keeps_order=(key.step or 1) > 0)
        idx = np.asarray(key)
        if idx.dtype == bool:
            return self.filter(idx)
        return self.take(idx)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self._record(i)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict of Python values (times as aware UTC datetimes)."""
        out: dict[str, Any] = {}
        for name in self._data:
            out[name] = _py(self.column_values_at(name, i))
        return out

    def column_values_at(self, name: str, i: int) -> Any:
        """The decoded value of column ``name`` at row ``i`` (None for nulls)."""
        spec = self._specs[name]
        v = self._data[name][i]
        if spec.kind in ("category", "enum"):
            return None if v < 0 else self.labels(name)[v]
        if spec.kind == "time":
            return None if np.isnat(v) else as_datetime(v)
        if spec.kind == "float":
            return None if np.isnan(v) else float(v)
        return v

    def _record(self, i: int) -> Any:
        return self.row(i)

    # ------------------------------------------------------------------ derived tables

    def _replace(self: T, data: Mapping[str, np.ndarray], sorted_by: tuple[str, ...] = ()) -> T:
        new = object.__new__(type(self))
        Table.__init__(new, data, self._labels, self._specs, meta=self._meta, sorted_by=sorted_by)
        return new

    def _take(self: T, idx: np.ndarray, *, keeps_order: bool) -> T:
        data = {name: arr[idx] for name, arr in self._data.items()}
        return self._replace(data, self._sorted if keeps_order else ())

    def take(self: T, indices: Sequence[int] | np.ndarray) -> T:
        """Rows at ``indices`` (in that order) as a new table."""
        idx = np.asarray(indices, dtype=np.int64)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            msg = f"row indices out of range for a {self.table_name} of {n} rows"
            raise IndexError(msg)
        keeps = bool(idx.size < 2 or np.all(np.diff(idx) >= 0)) and (
            idx.size == 0 or idx.min() >= 0
        )
        return self._take(idx, keeps_order=keeps)

    def filter(self: T, mask: np.ndarray | Sequence[bool]) -> T:
        """Rows where ``mask`` is true, in order."""
        m = np.asarray(mask, dtype=bool)
        if m.shape != (len(self),):
            msg = f"mask has shape {m.shape}, expected ({len(self)},)"
            raise SchemaError(msg, table=self.table_name)
        return self._take(np.flatnonzero(m), keeps_order=True)

    def head(self: T, n: int = 5) -> T:
        """The first ``n`` rows."""
        return self[: max(n, 0)]

    def select(self: T, names: Sequence[str]) -> Table:
        """Only the named columns: a table of the same type when every required column is
        kept, else a plain :class:`Table`."""
        for name in names:
            self._check_column(name)
        data = {n: self._data[n] for n in names}
        labels = {n: self._labels[n] for n in names if n in self._labels}
        specs = {n: self._specs[n] for n in names}
        required = {s.name for s in self.schema if s.required}
        if type(self) is not Table and required <= set(names):
            new = object.__new__(type(self))
            Table.__init__(new, data, labels, specs, meta=self._meta, sorted_by=self._sorted)
            return new
        return Table(data, labels, specs)

    def with_column(self, name: str, values: Any, *, kind: str | None = None) -> Table:
        """A plain :class:`Table` with one column added or replaced (decoded values accepted)."""
        arr, labels, spec = _convert_free(name, values, len(self), kind, self.table_name)
        data = dict(self._data)
        lab = {k: v for k, v in self._labels.items() if k != name}
        specs = dict(self._specs)
        data[name] = arr
        specs[name] = spec
        if labels is not None:
            lab[name] = labels
        return Table(data, lab, specs)

    def compact(self: T) -> T:
        """Drop category labels that no row uses (after filtering, for example)."""
        data = dict(self._data)
        labels = dict(self._labels)
        for name, lab in self._labels.items():
            codes = data[name]
            used = np.zeros(lab.size, dtype=bool)
            used[codes[codes >= 0]] = True
            if used.all():
                continue
            rank = np.cumsum(used) - 1
            new_codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
            labels[name] = lab[used]
            data[name] = new_codes.astype(C.code_dtype(int(used.sum())))
        new = object.__new__(type(self))
        Table.__init__(new, data, labels, self._specs, meta=self._meta, sorted_by=self._sorted)
        return new

    def equals(self, other: object) -> bool:
        """Same type, columns and decoded values (NaN equal to NaN)."""
        if type(other) is not type(self) or not isinstance(other, Table):
            return False
        if self.columns != other.columns or len(self) != len(other):
            return False
        for name in self.columns:
            a = self.column_values(name)
            b = other.column_values(name)
            if a.dtype.kind == "f" and b.dtype.kind == "f":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif a.dtype.kind == "M" and b.dtype.kind == "M":
                if not np.array_equal(a.astype(np.int64), b.astype(np.int64)):
                    return False
            elif not np.array_equal(a, b):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ canonical sorting

    def _tiebreak_columns(self, by: Sequence[str]) -> list[str]:
        return [c for c in self._data if c not in by]

    def sort_order(
        self, by: Sequence[str], *, tiebreak: Sequence[str | np.ndarray] = ()
    ) -> np.ndarray:
        """Row permutation that sorts by ``by``, ties broken by ``tiebreak`` then every column.

        The order is canonical: it depends only on the rows' values, never on their input
        order, because category codes follow the sorted labels. Rows equal on every column are
        interchangeable.

        Parameters
        ----------
        by : sequence of str
            Key columns.
        tiebreak : sequence of str or ndarray
            Extra keys (column names or arrays aligned with the rows) that decide ties on
            ``by`` before the remaining columns do.
        """
        order = self._order_or_none(by, tiebreak)
        return np.arange(len(self)) if order is None else order

    def _order_or_none(
        self, by: Sequence[str], tiebreak: Sequence[str | np.ndarray] = ()
    ) -> np.ndarray | None:
        """The canonical permutation, or None when the rows are already in canonical order."""
        return self._canonical(by, tiebreak)[0]

    def _canonical(
        self,
        by: Sequence[str],
        tiebreak: Sequence[str | np.ndarray] = (),
        *,
        keep_key: bool = False,
    ) -> tuple[np.ndarray | None, _PackedKey | None]:
        """The canonical permutation (None when already canonical) and, on request, the key.

        With ``keep_key`` and keys that pack into one int64, the packed key in sorted order
        comes back too, so callers can decode the key columns instead of gathering them.
        """
        for name in by:
            self._check_column(name)
        n = len(self)
        if n == 0:
            return None, None
        primary = [self._sort_key(name) for name in by]
        packed = _pack_key(primary) if primary else None
        key = packed.key if packed is not None else None
        order: np.ndarray | None = None
        if key is not None:
            # data that arrive sorted (the usual case for logs) skip the sort
            known = tuple(self._sorted[: len(by)]) == tuple(by)
            if not (known or (key[:-1] <= key[1:]).all()):
                order = np.argsort(key)
                # the key is our own copy: sorting it in place is faster than gathering it
                # through ``order`` and needs no second array
                key.sort()
            tie = key[1:] == key[:-1]
            if keep_key and packed is not None and order is not None:
                packed = _PackedKey(key, packed.lows, packed.widths)
            else:
                packed = None
            del key
        else:
            if primary:
                order = np.lexsort(tuple(reversed(primary)))
            tie = np.ones(max(n - 1, 0), dtype=bool)
            for k in primary:
                sk = k if order is None else k[order]
                tie &= sk[1:] == sk[:-1]
        if tie.any():
            in_tie = np.zeros(n, dtype=bool)
            in_tie[1:] |= tie
            in_tie[:-1] |= tie
            pos = np.flatnonzero(in_tie)
            rows = pos if order is None else order[pos]
            named = [t for t in tiebreak if isinstance(t, str)]
            rest = [c for c in self._tiebreak_columns(by) if c not in named]
            keys = [self._sort_key(c)[rows] for c in by]
            for t in tiebreak:
                keys.append(self._sort_key(t)[rows] if isinstance(t, str) else np.asarray(t)[rows])
            keys.extend(self._sort_key(c)[rows] for c in rest)
            sub = np.lexsort(tuple(reversed(keys)))
            if order is None and not (sub[:-1] < sub[1:]).all():
                order = np.arange(n)
            if order is not None:
                order[pos] = rows[sub]  # rows equal on the key: the sorted key is unchanged
        return order, packed

    def _sort_key(self, name: str) -> np.ndarray:
        arr = self._data[name]
        kind = self._specs[name].kind
        if kind == "time":
            return arr.view(np.int64)  # NaT (int64 min) sorts first
        if kind == "float":
            # NaN last, and -0.0 == 0.0: map to a total order on int64
            return _float_key(arr)
        if kind == "bool":
            return arr.astype(np.int8)
        return arr

    def sort(self: T, by: Sequence[str]) -> T:
        """The rows in canonical order of ``by`` (see :meth:`sort_order`)."""
        order = self.sort_order(by)
        return self._replace({name: arr[order] for name, arr in self._data.items()}, tuple(by))

    # ------------------------------------------------------------------ exports

    def to_dict(self) -> dict[str, np.ndarray]:
        """Decoded column arrays: labels (None for nulls), datetime64[us] UTC times, numbers."""
        return {name: self.column_values(name) for name in self._data}

    def to_pandas(self, *, categorical: bool = True) -> Any:
        """A pandas DataFrame; categories as ``pandas.Categorical``, times tz-aware UTC.

        Needs the ``pandas`` extra.
        """
        from omnijourney.io._frames import table_to_pandas

        return table_to_pandas(self, categorical=categorical)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table``; categories as dictionary arrays, times ``timestamp[us, UTC]``."""
        from omnijourney.io._frames import table_to_arrow

        return table_to_arrow(self)

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` (categories as ``Categorical``, times UTC)."""
        from omnijourney.io._frames import table_to_polars

        return table_to_polars(self)

    def to_csv(self, path: str | os.PathLike[str], *, delimiter: str = ",") -> None:
        """Write a CSV file (UTF-8, times in ISO 8601 with ``Z``, nulls as empty fields)."""
        from omnijourney.io._csv import write_csv

        write_csv(self, path, delimiter=delimiter)

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write a parquet file (needs the ``arrow`` extra)."""
        from omnijourney.io._frames import require

        pq = require("pyarrow.parquet", "arrow")
        pq.write_table(self.to_arrow(), os.fspath(path))

    # ------------------------------------------------------------------ construction

    @classmethod
    def _from_parts(
        cls: type[T],
        data: Mapping[str, np.ndarray],
        labels: Mapping[str, np.ndarray] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        specs: Mapping[str, ColumnSpec] | None = None,
    ) -> T:
        """Wrap arrays that are already in stored form (codes into sorted labels).

        For library code that builds columns itself; labels must be sorted and unique.
        """
        schema = {s.name: s for s in cls.schema}
        labels = dict(labels or {})
        all_specs: dict[str, ColumnSpec] = {}
        for name, arr in data.items():
            if specs is not None and name in specs:
                all_specs[name] = specs[name]
            elif name in schema:
                all_specs[name] = schema[name]
            else:
                all_specs[name] = _infer_spec(name, arr, name in labels)
        new = object.__new__(cls)
        Table.__init__(new, data, labels, all_specs, meta=meta)
        return new

    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        columns: Mapping[str, str] | Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> Table:
        """A generic table from a mapping of column -> values or a DataFrame.

        Kinds are inferred (strings -> category, numbers -> float or int, datetimes -> time)
        unless given in ``kinds``. ``columns`` selects (and, as a mapping of new name -> input
        name, renames) columns.
        """
        src = C.Source(data)
        if columns is None:
            pairs = [(n, n) for n in src.names]
        elif isinstance(columns, Mapping):
            pairs = list(columns.items())
        else:
            pairs = [(n, n) for n in columns]
        out: dict[str, np.ndarray] = {}
        labels: dict[str, np.ndarray] = {}
        specs: dict[str, ColumnSpec] = {}
        for name, source_name in pairs:
            if not src.has(source_name):
                msg = f"{cls.table_name}: no column {source_name!r}; available: {src.names}"
                raise SchemaError(msg, table=cls.table_name, column=name, source_column=source_name)
            kind = (kinds or {}).get(name)
            arr, lab, spec = _convert_free(
                name, src.raw(source_name), src.n, kind, cls.table_name, tz=tz
            )
            out[name] = arr
            specs[name] = spec
            if lab is not None:
                labels[name] = lab
        return Table(out, labels, specs)

    def __repr__(self) -> str:
        n = len(self)
        head = f"{self.table_name}: {n:,} rows x {len(self._data)} columns"
        if not self._data:
            return head
        shown = min(n, _PREVIEW_ROWS)
        cells = [[name for name in self._data]]
        for i in range(shown):
            cells.append([_cell(self.column_values_at(name, i)) for name in self._data])
        widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        if n > shown:
            lines.append(f"... {n - shown:,} more rows")
        return head + "\n" + "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if hasattr(v, "isoformat") and hasattr(v, "tzinfo"):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        return s
    if isinstance(v, float):
        return f"{v:g}"
    text = str(v)
    return text if len(text) <= 24 else text[:23] + "…"


def _float_key(arr: np.ndarray) -> np.ndarray:
    a = np.where(arr == 0, 0.0, arr).astype(np.float64)  # -0.0 -> 0.0
    bits = a.view(np.int64)
    key = np.where(bits < 0, np.iinfo(np.int64).min - bits - 1, bits)  # monotone in value
    return np.where(np.isnan(a), np.iinfo(np.int64).max, key)


@attrs.frozen
class _PackedKey:
    """Integer sort keys packed into one int64: ``key`` with each part's offset and bit width.

    Part ``i`` (most significant first) is
    ``((key >> sum(widths[i + 1:])) & (2**widths[i] - 1)) + lows[i]``.
    """

    key: np.ndarray
    lows: tuple[int, ...]
    widths: tuple[int, ...]

    def part(self, i: int) -> np.ndarray:
        """Decode part ``i`` as int64."""
        shift = sum(self.widths[i + 1 :])
        out = self.key >> shift if shift else self.key.copy()
        if i > 0:
            out &= (1 << self.widths[i]) - 1
        out += self.lows[i]
        return out

    def unpack(self, dtypes: Sequence[np.dtype[Any] | type]) -> list[np.ndarray]:
        """Decode every part, consuming ``key``: the last part reuses its buffer.

        The other parts are decoded in blocks, straight into arrays of the given dtypes, so
        the peak is one int64 array plus the outputs.
        """
        key = self.key
        n = key.size
        out = [np.empty(n, dtype=dt) for dt in dtypes[:-1]]
        block = 1 << 20
        for i, arr in enumerate(out):
            shift = sum(self.widths[i + 1 :])
            mask = (1 << self.widths[i]) - 1
            for lo in range(0, n, block):
                part = key[lo : lo + block] >> shift
                if i > 0:
                    part &= mask
                part += self.lows[i]
                arr[lo : lo + block] = part
        last = len(self.widths) - 1
        if last > 0:
            key &= (1 << self.widths[last]) - 1
        key += self.lows[last]
        out.append(key if np.dtype(dtypes[-1]) == key.dtype else key.astype(dtypes[-1]))
        return out


def _pack_key(keys: list[np.ndarray]) -> _PackedKey | None:
    """Pack non-negative-shifted integer keys into one int64 when their ranges fit.

    Works in place on one int64 buffer (plus one temporary per further key), since the keys
    of a 10^7-row table are tens of megabytes each.
    """
    if len(keys) > 3:
        return None
    ranges = [(int(k.min()), int(k.max())) for k in keys]
    widths = [max(hi - lo, 1).bit_length() for lo, hi in ranges]
    if sum(widths) > 62:
        return None
    packed = keys[0].astype(np.int64)
    packed -= ranges[0][0]
    for k, (lo, _), bits in zip(keys[1:], ranges[1:], widths[1:]):
        packed <<= bits
        shifted = k.astype(np.int64)
        shifted -= lo
        packed |= shifted
        del shifted
    return _PackedKey(packed, tuple(lo for lo, _ in ranges), tuple(widths))


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


# --------------------------------------------------------------------------- touchpoints

_REFERENCE_IDS = ("order_id", "quote_id", "cart_id", "reservation_id")


class TouchpointTable(Table):
    """Touchpoints in columns: customer, time, channel, event and optional details.

    Columns (library names; the user's names are given to :meth:`from_columns`):

    ========================  ========  =======================================================
    column                    kind      meaning
    ========================  ========  =======================================================
    customer                  category  who (required, no nulls)
    time                      time      when, ``datetime64[us]`` UTC (required, no nulls)
    channel                   category  where (required, no nulls)
    event                     category  what (required, no nulls)
    value                     float     money involved (NaN when none)
    currency                  category  ISO 4217 code of ``value``
    direction                 enum      ``inbound`` / ``outbound``
    source                    category  system of record
    order_id ... reservation  category  reference ids linking steps across channels
    campaign                  category  campaign or traffic source
    sequence                  int       user ordering key that breaks ties on time (no nulls)
    ========================  ========  =======================================================

    plus any ``extra`` columns (store, sales team, sku...). Core columns cost about 15 bytes a
    row (``int32`` customer code, ``int64`` time, ``int8``/``int16`` channel and event codes).

    Examples
    --------
    >>> tp = TouchpointTable.from_columns(
    ...     {"client": ["c2", "c1", "c1"],
    ...      "ts": ["2024-05-02T09:00", "2024-05-01T10:00", "2024-05-01T10:05"],
    ...      "canal": ["store", "web", "web"],
    ...      "what": ["purchase", "product_view", "add_to_cart"]},
    ...     customer="client", time="ts", channel="canal", event="what")
    >>> len(tp), tp.n_customers
    (3, 2)
    >>> s = tp.sort()
    >>> s["event"], s.customer_offsets()
    (array(['product_view', 'add_to_cart', 'purchase'], dtype=object), array([0, 2, 3]))
    >>> s[2]
    Touchpoint(c2 @ 2024-05-02 09:00:00 UTC, store/purchase)
    """

    table_name = "TouchpointTable"
    schema = (
        ColumnSpec("customer", "category", required=True, nullable=False, doc="customer id"),
        ColumnSpec("time", "time", required=True, nullable=False, doc="UTC time"),
        ColumnSpec("channel", "category", required=True, nullable=False, doc="channel name"),
        ColumnSpec("event", "category", required=True, nullable=False, doc="event name"),
        ColumnSpec("value", "float", doc="money involved"),
        ColumnSpec("currency", "category", doc="ISO 4217 currency"),
        ColumnSpec("direction", "enum", enum=Direction, doc="inbound or outbound"),
        ColumnSpec("source", "category", doc="system of record"),
        ColumnSpec("order_id", "category"),
        ColumnSpec("quote_id", "category"),
        ColumnSpec("cart_id", "category"),
        ColumnSpec("reservation_id", "category"),
        ColumnSpec("campaign", "category"),
        ColumnSpec("sequence", "int", nullable=False, doc="tie-break key"),
    )
    #: Columns that order touchpoints; every other column breaks remaining ties.
    SORT_KEY: ClassVar[tuple[str, str]] = ("customer", "time")

    # The schema'd builder takes the input name of each schema column as a keyword of its own
    # instead of Table's generic columns/kinds, so it cannot be a substitutable override.
    @overload  # type: ignore[override]
    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        customer: str = ...,
        time: str = ...,
        channel: str = ...,
        event: str = ...,
        value: str | None = ...,
        currency: str | None = ...,
        direction: str | None = ...,
        source: str | None = ...,
        order_id: str | None = ...,
        quote_id: str | None = ...,
        cart_id: str | None = ...,
        reservation_id: str | None = ...,
        campaign: str | None = ...,
        sequence: str | None = ...,
        extra: Mapping[str, str] | Sequence[str] | None = ...,
        channels: Iterable[Channel] | Mapping[str, Any] | None = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        errors: Literal["raise"] = ...,
    ) -> TouchpointTable: ...

    @overload
    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        customer: str = ...,
        time: str = ...,
        channel: str = ...,
        event: str = ...,
        value: str | None = ...,
        currency: str | None = ...,
        direction: str | None = ...,
        source: str | None = ...,
        order_id: str | None = ...,
        quote_id: str | None = ...,
        cart_id: str | None = ...,
        reservation_id: str | None = ...,
        campaign: str | None = ...,
        sequence: str | None = ...,
        extra: Mapping[str, str] | Sequence[str] | None = ...,
        channels: Iterable[Channel] | Mapping[str, Any] | None = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        errors: Literal["quarantine"],
    ) -> Quarantined: ...

    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        event: str = "event",
        value: str | None = None,
        currency: str | None = None,
        direction: str | None = None,
        source: str | None = None,
        order_id: str | None = None,
        quote_id: str | None = None,
        cart_id: str | None = None,
        reservation_id: str | None = None,
        campaign: str | None = None,
        sequence: str | None = None,
        extra: Mapping[str, str] | Sequence[str] | None = None,
        channels: Iterable[Channel] | Mapping[str, Any] | None = None,
        tz: str | None = None,
        time_unit: str | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
    ) -> TouchpointTable | Quarantined:
        """Build a touchpoint table from the user's columns, under the user's names.

        Parameters
        ----------
        data : mapping or DataFrame
            A mapping of column name -> sequence/array, or any DataFrame narwhals accepts
            (pandas, polars, pyarrow, modin, cudf...), or another omnijourney table.
        customer, time, channel, event : str
            Names of the required columns in ``data``.
        value, currency, direction, source, order_id, quote_id, cart_id, reservation_id, \
campaign, sequence : str, optional
            Names of optional columns. When not given, a column with the library's name is
            used if ``data`` has one.
        extra : mapping or sequence of str, optional
            Other columns to keep (``{"store": "store_code"}`` or ``["store"]``).
        channels : list of Channel or mapping of name -> kind, optional
            Describes the channels (kind, initiator); see :func:`~omnijourney.channel_catalog`.
        tz : str, optional
            Zone of naive times (default UTC). Aware times are converted to UTC.
        time_unit : {"s", "ms", "us", "ns"}, optional
            Unit of numeric epoch times.
        time_format : str, optional
            ``strptime`` format of non-ISO time strings.
        errors : {"raise", "quarantine"}
            ``"raise"`` (default) raises :class:`~omnijourney.DataError` naming the column,
            rows and values; ``"quarantine"`` returns :class:`Quarantined` with the kept table
            and a :class:`Rejects` table.

        Raises
        ------
        SchemaError
            A required column is missing.
        DataError
            Null ids, unreadable or missing times, non-numeric values, unknown directions,
            mixed naive and aware times.
        """
        mapping = {
            "customer": customer,
            "time": time,
            "channel": channel,
            "event": event,
            "value": value,
            "currency": currency,
            "direction": direction,
            "source": source,
            "order_id": order_id,
            "quote_id": quote_id,
            "cart_id": cart_id,
            "reservation_id": reservation_id,
            "campaign": campaign,
            "sequence": sequence,
        }
        result = build_table(
            cls,
            data,
            mapping,
            extra=extra,
            tz=tz,
            time_unit=time_unit,
            time_format=time_format,
            errors=errors,
        )
        table = result.kept if isinstance(result, Quarantined) else result
        assert isinstance(table, TouchpointTable)
        table._meta["channels"] = channel_catalog(table.labels("channel").tolist(), channels)
        return result

    @classmethod
    def from_records(
        cls,
        records: Iterable[Touchpoint | Mapping[str, Any]],
        *,
        channels: Iterable[Channel] | Mapping[str, Any] | None = None,
        errors: ErrorMode = "raise",
    ) -> TouchpointTable | Quarantined:
        """Build from :class:`~omnijourney.model.Touchpoint` objects or dicts with library names.

        Touchpoint ``attributes`` become extra columns.
        """
        cols: dict[str, list[Any]] = {s.name: [] for s in cls.schema}
        extras: dict[str, list[Any]] = {}
        n = 0
        for rec in records:
            if isinstance(rec, Touchpoint):
                row = {s.name: getattr(rec, s.name) for s in cls.schema}
                row["direction"] = rec.direction.value if rec.direction else None
                attributes: Mapping[str, Any] = rec.attributes
            elif isinstance(rec, Mapping):
                row = {k: v for k, v in rec.items() if k in cols}
                attributes = {k: v for k, v in rec.items() if k not in cols}
            else:
                msg = f"records must be Touchpoint objects or mappings, got {type(rec).__name__}"
                raise SchemaError(msg, table=cls.table_name)
            for name in cols:
                cols[name].append(row.get(name))
            for k in set(extras) - set(attributes):
                extras[k].append(None)
            for k, v in attributes.items():
                extras.setdefault(k, [None] * n).append(v)
            n += 1
        present = {k: v for k, v in cols.items() if any(x is not None for x in v)}
        for required in ("customer", "time", "channel", "event"):
            present.setdefault(required, cols[required])
        if "sequence" in present and not all(x is not None for x in present["sequence"]):
            present["sequence"] = cols["sequence"]
        data: dict[str, Any] = {**present, **{f"{k}": v for k, v in extras.items()}}
        return cls.from_columns(data, extra=list(extras) or None, channels=channels, errors=errors)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        **columns: Any,
    ) -> TouchpointTable | Quarantined:
        """Read a CSV file; keywords are those of :meth:`from_columns`.

        Empty fields are nulls. Needs no optional dependency.
        """
        from omnijourney.io._csv import read_csv_columns

        return cls.from_columns(
            read_csv_columns(path, delimiter=delimiter, encoding=encoding), **columns
        )

    @classmethod
    def from_parquet(
        cls, path: str | os.PathLike[str], **columns: Any
    ) -> TouchpointTable | Quarantined:
        """Read a parquet file (needs the ``arrow`` or ``polars`` extra)."""
        from omnijourney.io._frames import read_parquet

        return cls.from_columns(read_parquet(path), **columns)

    # ------------------------------------------------------------------ views

    @property
    def channel_catalog(self) -> tuple[Channel, ...]:
        """A :class:`~omnijourney.model.Channel` for each channel label, in label order."""
        known = {c.name: c for c in self._meta.get("channels", ())}
        names = self.labels("channel").tolist()
        if all(n in known for n in names):
            return tuple(known[n] for n in names)
        return channel_catalog(names, list(known.values()))

    @property
    def n_customers(self) -> int:
        """Number of distinct customers present."""
        codes = self._data["customer"]
        if codes.size == 0:
            return 0
        return int(np.count_nonzero(np.bincount(codes.astype(np.int64))))

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Names of the columns that are not part of the standard schema."""
        std = {s.name for s in self.schema}
        return tuple(c for c in self._data if c not in std)

    def _record(self, i: int) -> Touchpoint:
        get = self.column_values_at
        kwargs: dict[str, Any] = {}
        for name in self._data:
            if name in self.extra_columns:
                continue
            kwargs[name] = get(name, i)
        attributes = {name: _py(get(name, i)) for name in self.extra_columns}
        kwargs["attributes"] = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in attributes.items()
        }
        return Touchpoint(**kwargs)

    def _tiebreak_columns(self, by: Sequence[str]) -> list[str]:
        rest = [c for c in self._data if c not in by]
        # the user's sequence key first, then event, channel and everything else
        priority = ["sequence", "event", "channel"]
        return [c for c in priority if c in rest] + [c for c in rest if c not in priority]

    def sort(self, by: Sequence[str] | None = None) -> TouchpointTable:
        """Rows by customer then time; ties by sequence, event, channel, then other columns.

        The result is the same for any permutation of the input rows.
        """
        return super().sort(self.SORT_KEY if by is None else by)

    def sort_order(
        self, by: Sequence[str] | None = None, *, tiebreak: Sequence[str | np.ndarray] = ()
    ) -> np.ndarray:
        """The permutation :meth:`sort` applies (see :meth:`Table.sort_order`)."""
        return super().sort_order(self.SORT_KEY if by is None else by, tiebreak=tiebreak)

    @property
    def is_sorted(self) -> bool:
        """Whether rows are in canonical (customer, time) order."""
        return self._sorted[:2] == self.SORT_KEY

    def customer_offsets(self) -> np.ndarray:
        """Start of each customer's rows, plus ``len(table)``; the table must be sorted.

        ``rows[offsets[k]:offsets[k + 1]]`` are the rows of the k-th customer present.
        """
        if not self.is_sorted:
            msg = "customer_offsets needs a sorted table; call table.sort() first"
            raise ConfigError(msg)
        codes = self._data["customer"]
        starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        return (
            np.concatenate(([0], starts, [codes.size])).astype(np.int64)
            if codes.size
            else np.zeros(1, dtype=np.int64)
        )


def _enum_value(v: Any) -> Any:
    return v.value if isinstance(v, enum.Enum) else v


# make TIME_DTYPE visible to users of this module's namespace
TIME = TIME_DTYPE

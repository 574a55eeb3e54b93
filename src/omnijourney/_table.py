"""The generic columnar table: equal-length numpy arrays plus sorted category dictionaries.

Public through :mod:`omnijourney.tables`; identity and pricing tables derive from it.
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TextIO, TypeVar, overload

import numpy as np

from omnijourney import _columns as C
from omnijourney._columns import ColumnSpec, Problem
from omnijourney._convert import _convert_free, _infer_spec, _py
from omnijourney._load import DuplicateMode, ErrorMode, LoadReport
from omnijourney._sorting import SortedKey, canonical_order, float_key
from omnijourney.errors import SchemaError
from omnijourney.time import as_datetime

if TYPE_CHECKING:
    from omnijourney._build import Quarantined
    from omnijourney._vocabulary import Vocabulary
    from omnijourney.model import Channel

T = TypeVar("T", bound="Table")
Path = str | os.PathLike[str]


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
    #: The columns a table type knows (its roles); empty for a free-form table.
    schema: ClassVar[tuple[ColumnSpec, ...]] = ()
    #: Whether the table describes its channels (a channel catalog, a warning on load for
    #: channel names of unknown kind).
    catalogs_channels: ClassVar[bool] = False
    #: What ``from_columns`` does with exact duplicate rows unless told (``duplicates=``):
    #: None means "report" for tables with a schema and "keep" for a free-form table.
    duplicates_default: ClassVar[str | None] = None

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
    def notes(self) -> tuple[str, ...]:
        """Caveats about how the table was made (a rule that matched nothing...), one line
        each; printing the table shows them."""
        return tuple(self._meta.get("notes", ()))

    @property
    def sorted_by(self) -> tuple[str, ...]:
        """The key columns the rows are known to be sorted by (canonically), or ()."""
        return self._sorted

    def spec(self, name: str) -> ColumnSpec:
        """The :class:`ColumnSpec` of column ``name`` (its kind, nullability, enum...)."""
        self._check_column(name)
        return self._specs[name]

    @property
    def meta(self) -> Mapping[str, Any]:
        """What the table carries beside its columns (read-only): ``channels`` (a channel
        catalog), ``load`` (its :class:`LoadReport`)..."""
        return types.MappingProxyType(self._meta)

    @property
    def load_report(self) -> LoadReport | None:
        """How the table was loaded (None for a table that was not built from the user's
        columns): where each column came from, columns picked up by name, duplicates."""
        report = self._meta.get("load")
        return report if isinstance(report, LoadReport) else None

    def _check_column(self, name: str) -> None:
        if name not in self._data:
            msg = f"{self.table_name} has no column {name!r}; columns are {list(self._data)}"
            raise SchemaError(msg, table=self.table_name, column=name)

    def require_columns(self, *names: str) -> None:
        """Raise :class:`SchemaError` naming the first of ``names`` the table does not have.

        Examples
        --------
        >>> Table.from_columns({"sku": ["a"]}).require_columns("sku", "price")
        Traceback (most recent call last):
        ...
        omnijourney.errors.SchemaError: Table has no column 'price'; columns are ['sku']
        """
        for name in names:
            self._check_column(name)

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

    def replace_columns(
        self: T,
        columns: Mapping[str, np.ndarray] | None = None,
        *,
        labels: Mapping[str, np.ndarray] | None = None,
        specs: Mapping[str, ColumnSpec] | None = None,
        drop: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
        sorted_by: Sequence[str] = (),
    ) -> T:
        """A table of the same type with columns replaced, added or dropped, in stored form.

        For authors of table types and algorithms: ``columns`` holds stored arrays (codes for
        a category column, with its sorted ``labels``); a new column's spec is inferred from
        its dtype unless given in ``specs``. ``meta`` entries replace the table's. The result
        is sorted by ``sorted_by`` only if said so (the caller knows); without new columns it
        keeps the table's order key.

        Examples
        --------
        >>> t = Table.from_columns({"sku": ["b", "a"], "price": [2.0, 1.5]})
        >>> t2 = t.replace_columns({"price": t.raw("price") * 2}, drop=["sku"])
        >>> t2.columns, t2["price"].tolist()
        (('price',), [4.0, 3.0])
        """
        for name in drop:
            self._check_column(name)
        new_columns = dict(columns or {})
        data = {k: v for k, v in self._data.items() if k not in drop}
        data.update(new_columns)
        lab = {k: v for k, v in self._labels.items() if k in data and k not in new_columns}
        lab.update({k: v for k, v in (labels or {}).items()})
        all_specs = {k: v for k, v in self._specs.items() if k in data}
        for name, arr in new_columns.items():
            given = (specs or {}).get(name)
            if given is None and name in all_specs:
                kept = all_specs[name]
                given = kept if (kept.kind == "category") == (name in lab) else None
            all_specs[name] = given or _infer_spec(name, np.asarray(arr), name in lab)
        for name, spec in all_specs.items():
            if spec.kind == "category" and name not in lab:
                msg = f"{self.table_name}: category column {name!r} needs its labels"
                raise SchemaError(msg, table=self.table_name, column=name)
        order = tuple(sorted_by) or (() if new_columns or drop else self._sorted)
        new = object.__new__(type(self))
        merged = {**self._meta, **(meta or {})}
        Table.__init__(new, data, lab, all_specs, meta=merged, sorted_by=order)
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
    ) -> tuple[np.ndarray | None, SortedKey | None]:
        """The canonical permutation (None when already canonical) and, on request, the key
        (see :func:`omnijourney._sorting.canonical_order`)."""
        for name in by:
            self._check_column(name)
        return canonical_order(self, by, tiebreak, keep_key=keep_key)

    def _sort_key(self, name: str) -> np.ndarray:
        arr = self._data[name]
        kind = self._specs[name].kind
        if kind == "time":
            return arr.view(np.int64)  # NaT (int64 min) sorts first
        if kind == "float":
            # NaN last, and -0.0 == 0.0: map to a total order on int64
            return float_key(arr)
        if kind == "bool":
            return arr.astype(np.int8)
        return arr

    def sorted_keys(
        self, by: Sequence[str], *, tiebreak: Sequence[str | np.ndarray] = ()
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        """The canonical permutation of the rows and the ``by`` columns in that order.

        For algorithms that walk the rows in canonical order (see :meth:`sort_order`): the
        permutation is None when the rows already are in canonical order (then the columns
        are the stored arrays, not copies). Otherwise integer, category and time key columns
        are decoded from the sorted key, which is cheaper than gathering each through the
        permutation. Columns come in stored form (codes for categories).

        Examples
        --------
        >>> t = Table.from_columns({"k": [2, 1, 2], "v": [0.5, 0.1, 0.2]})
        >>> order, (k,) = t.sorted_keys(["k"])
        >>> order.tolist(), t.labels("k")[k].tolist()
        ([1, 2, 0], [1, 2, 2])
        """
        order, packed = self._canonical(by, tiebreak, keep_key=True)
        if order is None:
            return None, [self._data[name] for name in by]
        if packed is not None and all(
            self._specs[name].kind in ("category", "enum", "int", "time") for name in by
        ):
            dtypes = [self._data[name].dtype for name in by]
            as_int = [np.dtype(np.int64) if d.kind == "M" else d for d in dtypes]
            keys = packed.unpack(as_int)
            return order, [k.view(d) if d.kind == "M" else k for k, d in zip(keys, dtypes)]
        return order, [self._data[name][order] for name in by]

    def sort(self: T, by: Sequence[str]) -> T:
        """The rows in canonical order of ``by`` (see :meth:`sort_order`)."""
        order = self.sort_order(by)
        return self._replace({name: arr[order] for name, arr in self._data.items()}, tuple(by))

    # ------------------------------------------------------------------ exports

    def to_dict(self) -> dict[str, np.ndarray]:
        """Decoded column arrays: labels (None for nulls), datetime64[us] UTC times, numbers."""
        return {name: self.column_values(name) for name in self._data}

    def to_pandas(self, *, categorical: bool = True, names: Any = "table") -> Any:
        """A pandas DataFrame; categories as ``pandas.Categorical`` (ordered where the labels
        have an order, as journey stages), times tz-aware UTC.

        ``names="input"`` names the columns as in the user's input (from the
        :attr:`load_report`); a mapping renames some columns. Needs the ``pandas`` extra.
        """
        from omnijourney.io._frames import table_to_pandas

        return table_to_pandas(self, categorical=categorical, names=names)

    def to_arrow(self, *, names: Any = "table") -> Any:
        """A ``pyarrow.Table``; categories as dictionary arrays (ordered where the labels have
        an order), times ``timestamp[us, UTC]``; ``names`` as in :meth:`to_pandas`."""
        from omnijourney.io._frames import table_to_arrow

        return table_to_arrow(self, names=names)

    def to_polars(self, *, names: Any = "table") -> Any:
        """A ``polars.DataFrame`` (categories as ``Categorical``, times UTC), made without
        pyarrow; ``names`` as in :meth:`to_pandas`."""
        from omnijourney.io._frames import table_to_polars

        return table_to_polars(self, names=names)

    def to_csv(self, path: str | os.PathLike[str] | TextIO, *, delimiter: str = ",") -> None:
        """Write a CSV file (UTF-8, times in ISO 8601 with ``Z``, nulls as empty fields), or
        the same text to an open text stream such as ``sys.stdout``."""
        from omnijourney.io._csv import write_csv

        write_csv(self, path, delimiter=delimiter)

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write a parquet file (needs the ``arrow`` extra)."""
        from omnijourney._optional import import_optional

        pq = import_optional("pyarrow.parquet", "arrow")
        pq.write_table(self.to_arrow(), os.fspath(path))

    # ------------------------------------------------------------------ dataframe protocols

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The table as an Arrow C stream (a PyCapsule), for ``pyarrow.table(t)``,
        ``polars.DataFrame(t)``, DuckDB and ``pandas.DataFrame.from_arrow(t)``.

        Categories come as dictionary arrays (ordered where their labels have an order),
        times as ``timestamp[us, UTC]``, nulls as nulls; numeric columns are not copied. Made
        by pyarrow when it is installed, else without it (see :meth:`to_polars`).
        """
        from omnijourney.io._frames import arrow_stream

        return arrow_stream(self, requested_schema)

    def __arrow_c_schema__(self) -> object:
        """The Arrow schema of the table (a PyCapsule), as its stream gives it."""
        from omnijourney.io._frames import arrow_schema

        return arrow_schema(self)

    def _repr_html_(self) -> str:
        """The table in a notebook: sizes, kinds, the first and last rows, its notes."""
        from omnijourney._display import table_html

        return table_html(self)

    def __dataframe__(self, nan_as_null: bool = False, allow_copy: bool = True) -> Any:
        """The dataframe interchange protocol object of the table (needs the ``arrow`` extra:
        it is pyarrow's, over :meth:`to_arrow`)."""
        return self.to_arrow().__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """Refused: a table is columns of several kinds, not one array. Without this,
        ``pandas.DataFrame(t)`` would silently make a column of row objects."""
        msg = (
            f"a {self.table_name} holds columns of several kinds, not one array: use "
            "table.to_pandas(), pandas.DataFrame.from_arrow(table) (pandas 3), "
            "polars.DataFrame(table), pyarrow.table(table), or table['column'] for one column"
        )
        raise TypeError(msg)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_arrays(
        cls: type[T],
        data: Mapping[str, np.ndarray],
        labels: Mapping[str, np.ndarray] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        specs: Mapping[str, ColumnSpec] | None = None,
        sorted_by: Sequence[str] = (),
    ) -> T:
        """Wrap arrays that are already in stored form (codes into sorted labels).

        For authors of algorithms that build columns themselves: labels must be sorted and
        unique (see :func:`~omnijourney.tables.factorize`); a column's spec comes from
        ``specs``, else the table's ``schema``, else its dtype. Nothing is converted or checked
        beyond equal lengths; ``sorted_by`` says that the rows are in canonical order of those
        columns (the caller knows).

        Examples
        --------
        >>> t = Table.from_arrays({"sku": np.array([1, 0, 1], dtype=np.int8)},
        ...                       {"sku": np.array(["a", "b"], dtype=object)})
        >>> t["sku"].tolist()
        ['b', 'a', 'b']
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
        Table.__init__(new, data, labels, all_specs, meta=meta, sorted_by=tuple(sorted_by))
        return new

    _from_parts = from_arrays

    # ------------------------------------------------------------------ building

    @classmethod
    def check_rows(cls, table: Any) -> list[Problem]:
        """Rules beyond each column's kind, checked on the built table (before quarantine).

        Table types override it (prices must be positive, a promotion needs a way to know its
        price...); each :class:`Problem` names the table's column, a mask over ``table``'s
        rows and the reason. The default finds nothing.
        """
        return []

    @classmethod
    def _prepare_column(cls, name: str, values: Any) -> Any:
        """The user's values of column ``name`` before conversion (a hook for table types)."""
        return values

    @classmethod
    def _complete_load(cls, table: Any, input_rows: np.ndarray) -> Any:
        """The loaded table completed (a hook: keys derived from the input row numbers)."""
        return table

    @overload
    @classmethod
    def from_columns(
        cls: type[T],
        data: Any,
        *,
        extra: Mapping[str, str] | Sequence[str] | bool | None = ...,
        extra_kinds: Mapping[str, str] | None = ...,
        columns: Mapping[str, str] | Sequence[str] | None = ...,
        kinds: Mapping[str, str] | None = ...,
        channels: Iterable[Channel] | Mapping[str, Any] | None = ...,
        constants: Mapping[str, Any] | None = ...,
        vocabulary: Vocabulary | None = ...,
        event_map: Mapping[str, str] | None = ...,
        channel_map: Mapping[str, str] | None = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        decimal: Literal[".", ","] = ...,
        duplicates: DuplicateMode | None = ...,
        errors: Literal["raise"] = ...,
        **roles: str | Literal[False] | None,
    ) -> T: ...

    @overload
    @classmethod
    def from_columns(
        cls: type[T],
        data: Any,
        *,
        extra: Mapping[str, str] | Sequence[str] | bool | None = ...,
        extra_kinds: Mapping[str, str] | None = ...,
        columns: Mapping[str, str] | Sequence[str] | None = ...,
        kinds: Mapping[str, str] | None = ...,
        channels: Iterable[Channel] | Mapping[str, Any] | None = ...,
        constants: Mapping[str, Any] | None = ...,
        vocabulary: Vocabulary | None = ...,
        event_map: Mapping[str, str] | None = ...,
        channel_map: Mapping[str, str] | None = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        decimal: Literal[".", ","] = ...,
        duplicates: DuplicateMode | None = ...,
        errors: Literal["quarantine"],
        **roles: str | Literal[False] | None,
    ) -> Quarantined: ...

    @classmethod
    def from_columns(
        cls: type[T],
        data: Any,
        *,
        extra: Mapping[str, str] | Sequence[str] | bool | None = None,
        extra_kinds: Mapping[str, str] | None = None,
        columns: Mapping[str, str] | Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        channels: Iterable[Channel] | Mapping[str, Any] | None = None,
        constants: Mapping[str, Any] | None = None,
        vocabulary: Vocabulary | None = None,
        event_map: Mapping[str, str] | None = None,
        channel_map: Mapping[str, str] | None = None,
        tz: str | None = None,
        time_unit: str | None = None,
        time_format: str | None = None,
        decimal: Literal[".", ","] = ".",
        duplicates: DuplicateMode | None = None,
        errors: ErrorMode = "raise",
        **roles: str | Literal[False] | None,
    ) -> T | Quarantined:
        """Build a table from the user's columns, under the user's names.

        One builder for every table type: the keywords that are not options name the input
        column of each role of the table's ``schema`` (``customer="client_id"`` for a
        :class:`~omnijourney.TouchpointTable`, ``sku="article"`` for a price table...).

        Parameters
        ----------
        data : mapping or DataFrame
            A mapping of column name -> sequence/array, any DataFrame narwhals accepts
            (pandas, polars, pyarrow, modin, cudf...), or another omnijourney table.
        **roles : str, None or False
            The input column of each role. When a role is not given, an input column of the
            same name is used if there is one (it is *picked up by name*: the
            :attr:`load_report` and the ``repr`` say so, and so does the
            ``omnijourney.tables`` logger at INFO level); ``False`` leaves an optional role
            out even then. A required role without a column raises :class:`SchemaError`; an
            unknown role raises :class:`ConfigError` listing the valid ones. A plain
            :class:`Table` has no roles.
        extra : sequence of str, mapping or True, optional
            Other columns to keep: ``["store"]``, ``{"store": "store_code"}`` (new name ->
            input column) or ``True`` (every column no role takes). A plain :class:`Table`
            keeps every column by default. ``columns`` is its other name.
        extra_kinds : mapping of str to str, optional
            The kind of extra columns (``{"store": "category"}``): ``category``, ``time``,
            ``float``, ``int`` or ``bool``. Otherwise the kind follows the dtype (and, for
            text read from a file, the text: whole numbers, numbers, ``true``/``false``,
            ISO 8601 date-times). ``kinds`` is its other name.
        channels : list of Channel or mapping of name -> kind, optional
            Describes the channels (kind, initiator); see
            :func:`~omnijourney.channel_catalog`. For tables with a channel catalog
            (touchpoints).
        constants : mapping of str to value, optional
            Roles that take one value on every row, for data that has no such column (a
            transaction log without a channel: ``{"channel": "store", "event": "purchase"}``).
        vocabulary : Vocabulary, optional
            Maps the user's event and channel labels to the library's (``"achat"`` ->
            ``"purchase"``), with optional case and accent folding.
        event_map, channel_map : mapping of str to str, optional
            Shorthands for ``Vocabulary(events=..., channels=...)``.
        tz : str, optional
            Zone of naive times (default UTC). Aware times are converted to UTC; with ``tz``
            a column may mix naive and aware values.
        time_unit : {"s", "ms", "us", "ns"}, optional
            Unit of numeric epoch times, also when written as text (``"1714557600"``).
            Without it, numbers and digit-only text other than ISO 8601 basic dates
            (``20240501``, ``20240501T101500``) are refused.
        time_format : str, optional
            ``strptime`` format of non-ISO time strings.
        decimal : {".", ","}
            The decimal mark of numbers written as text. ``"9,99"`` is refused unless
            ``decimal=","``.
        duplicates : {"report", "drop", "raise", "keep"}, optional
            Rows equal on every loaded column to an earlier row: ``"report"`` (the default
            for tables with a schema) counts them, warns and keeps them; ``"drop"`` removes
            them; ``"raise"`` raises :class:`DataError` naming them; ``"keep"`` (the default
            for a plain :class:`Table`) does not look.
        errors : {"raise", "quarantine"}
            ``"raise"`` (default) raises :class:`~omnijourney.DataError` naming the column,
            rows and values; ``"quarantine"`` returns :class:`Quarantined` with the kept
            table and a :class:`Rejects` table (rows in = kept + rejected + duplicates
            dropped).

        Raises
        ------
        SchemaError
            A required column is missing, or a named column is not in ``data``.
        DataError
            Values that cannot be read (see each table type), or duplicates with
            ``duplicates="raise"``.
        ConfigError
            An unknown role or option, or an invalid option value.

        Examples
        --------
        >>> t = Table.from_columns({"sku": ["b", "a", "b"], "price": ["2,5", "1", "3"]},
        ...                        decimal=",")
        >>> t.kinds, t["price"].tolist()
        ({'sku': 'category', 'price': 'float'}, [2.5, 1.0, 3.0])
        """
        from omnijourney._build import build_table

        options = dict(
            extra=extra,
            extra_kinds=extra_kinds,
            channels=channels,
            constants=constants,
            vocabulary=vocabulary,
            event_map=event_map,
            channel_map=channel_map,
            tz=tz,
            time_unit=time_unit,
            time_format=time_format,
            decimal=decimal,
            duplicates=duplicates,
            errors=errors,
        )
        for alias, value in (("columns", columns), ("kinds", kinds)):
            if value is not None:
                options[alias] = value
        return build_table(cls, data, roles, **options)

    @overload
    @classmethod
    def from_csv(
        cls: type[T], path: Path, *, errors: Literal["raise"] = ..., **options: Any
    ) -> T: ...

    @overload
    @classmethod
    def from_csv(
        cls: type[T], path: Path, *, errors: Literal["quarantine"], **options: Any
    ) -> Quarantined: ...

    @classmethod
    def from_csv(
        cls: type[T],
        path: Path,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        null_values: Sequence[str] = ("",),
        engine: str = "auto",
        **options: Any,
    ) -> T | Quarantined:
        """Read a CSV file (plain, or compressed as ``.gz``, ``.bz2``, ``.xz``, ``.zip``);
        the other keywords are those of :meth:`from_columns`.

        The text is read as a DataFrame library would read it, with pyarrow when installed and
        the standard library otherwise: whole numbers without leading zeros
        become integers (``"12346"`` and ``"12346.0"`` are the id 12346, ``"007"`` stays
        text), other numbers floats, ``true``/``false`` booleans; roles take their own kind
        (times are parsed, including ISO 8601 basic dates such as ``19970101``).

        Parameters
        ----------
        path : str or path-like
        delimiter : str
            Field separator (``";"`` for many European exports).
        encoding : str
            Text encoding (``"utf-8"``, with or without a byte-order mark; ``"latin-1"``,
            ``"cp1252"``...). A file that does not decode raises :class:`DataError`.
        null_values : sequence of str
            Field values that are nulls (default: empty fields only).
        engine : {"auto", "pyarrow", "polars", "python"}
            Which reader parses the file: ``"auto"`` takes pyarrow when installed, else the
            standard library. polars, when asked for, reads a row with too few fields as if
            its last fields were empty, where the other two refuse it.
        """
        from omnijourney.io._csv import read_csv_text

        text = read_csv_text(
            path, delimiter=delimiter, encoding=encoding, null_values=null_values, engine=engine
        )
        return cls.from_columns(text, **options)

    @overload
    @classmethod
    def from_parquet(
        cls: type[T], path: Path, *, errors: Literal["raise"] = ..., **options: Any
    ) -> T: ...

    @overload
    @classmethod
    def from_parquet(
        cls: type[T], path: Path, *, errors: Literal["quarantine"], **options: Any
    ) -> Quarantined: ...

    @classmethod
    def from_parquet(cls: type[T], path: Path, **options: Any) -> T | Quarantined:
        """Read a parquet file (needs the ``arrow`` or ``polars`` extra); the keywords are
        those of :meth:`from_columns`."""
        from omnijourney.io._frames import read_parquet

        return cls.from_columns(read_parquet(path), **options)

    def __repr__(self) -> str:
        n = len(self)
        head = f"{self.table_name}: {n:,} rows x {len(self._data)} columns"
        head += "".join(f"\nnote: {note}" for note in self.notes)
        if not self._data:
            return head
        from omnijourney._display import edge_rows

        rows = edge_rows(n)
        cells = [[name for name in self._data]]
        for i in rows:  # the first and last rows, "..." for those left out
            cells.append(
                ["..."] * len(self._data)
                if i < 0
                else [_cell(self.column_values_at(name, i)) for name in self._data]
            )
        widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        hidden = n - sum(i >= 0 for i in rows)
        if hidden:
            lines.append(f"({hidden:,} rows not shown)")
        if self.load_report is not None:
            lines += self.load_report.notes()
        return head + "\n" + "\n".join(lines)


# --------------------------------------------------------------------------- helpers


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

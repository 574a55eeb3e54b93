"""Columnar tables: equal-length numpy arrays plus sorted category dictionaries.

:class:`Table` is the generic base (identity and pricing tables reuse it);
:class:`TouchpointTable` holds touchpoints and hands out :class:`~omnijourney.model.Touchpoint`
views. Rows never become Python objects unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from omnijourney import _columns

# the building blocks live in private modules; this is their public home, the surface for
# authors of new table types (a schema of ColumnSpec, check_rows, build_table)
from omnijourney._arrays import run_offsets
from omnijourney._build import Quarantined, Rejects, build_table, concat
from omnijourney._columns import ColumnSpec, Problem
from omnijourney._convert import _py
from omnijourney._convert import raise_problems as raise_problems
from omnijourney._load import ErrorMode, LoadReport
from omnijourney._table import Table
from omnijourney._vocabulary import Vocabulary
from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.model import Channel, Direction, Touchpoint, channel_catalog

__all__ = [
    "ColumnSpec",
    "LoadReport",
    "Problem",
    "Quarantined",
    "Rejects",
    "Table",
    "TouchpointTable",
    "Vocabulary",
    "build_table",
    "code_dtype",
    "concat",
    "factorize",
    "remap_codes",
    "union_labels",
]

# --------------------------------------------------------------------------- category codes
# Category columns are codes into a sorted dictionary of labels. Authors of algorithms that
# build columns themselves use these to make codes that every table accepts.


def code_dtype(n_labels: int) -> np.dtype:
    """The smallest signed integer dtype for codes into ``n_labels`` labels (-1 is null).

    ``int8`` up to 127 labels, then ``int16``, ``int32`` and ``int64``: the dtype every table
    stores its category codes in.

    Examples
    --------
    >>> code_dtype(3), code_dtype(128), code_dtype(40_000)
    (dtype('int8'), dtype('int16'), dtype('int32'))
    """
    return _columns.code_dtype(n_labels)


def factorize(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes into a sorted dictionary of labels for decoded values, as tables store them.

    Nulls (None, NaN, empty strings) get the code -1. Labels are ``int64`` when every value is
    a whole number and Python strings otherwise; codes take :func:`code_dtype`.

    Raises
    ------
    DataError
        A value cannot be a label (a boolean, a fraction, strings mixed with integers...).

    Examples
    --------
    >>> codes, labels = factorize(["web", None, "store", "web"])
    >>> codes.tolist(), labels.tolist()
    ([1, -1, 0, 1], ['store', 'web'])
    """
    codes, labels, bad, reason = _columns.factorize(values)
    if bad.any():
        rows = np.flatnonzero(bad)
        given = np.empty(bad.size, dtype=object)
        given[:] = list(np.asarray(values, dtype=object).reshape(-1))
        raise DataError(reason or "is not a label", rows=rows, values=given[rows].tolist())
    return codes, labels


def remap_codes(codes: np.ndarray, labels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Codes into ``labels`` re-expressed as codes into ``target``, a sorted superset of them.

    Nulls stay -1; the result takes ``code_dtype(target.size)``. Use it to compare or join
    category columns of two tables on one dictionary (see :func:`union_labels`).

    Examples
    --------
    >>> target = np.array(["app", "store", "web"], dtype=object)
    >>> remap_codes(np.array([1, -1, 0]), np.array(["store", "web"], dtype=object), target)
    array([ 2, -1,  1], dtype=int8)
    """
    return _columns.remap(codes, labels, target)


def union_labels(
    dictionaries: Sequence[np.ndarray], *, column: str = "labels", table: str = "tables"
) -> np.ndarray:
    """The sorted union of several label dictionaries (all strings, or all integers).

    Raises
    ------
    SchemaError
        One dictionary holds integers and another strings (``column`` and ``table`` name them
        in the message).

    Examples
    --------
    >>> union_labels([np.array(["b", "d"], dtype=object), np.array(["a", "b"], dtype=object)])
    array(['a', 'b', 'd'], dtype=object)
    """
    return _columns.union_labels(dictionaries, column, table)


# --------------------------------------------------------------------------- touchpoints


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

    catalogs_channels = True

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
        return run_offsets(self._data["customer"])


# the public home of the classes defined in the private modules (pickles, help, reprs)
for _obj in (
    Table,
    Rejects,
    Quarantined,
    concat,
    build_table,
    code_dtype,
    factorize,
    remap_codes,
    union_labels,
    ColumnSpec,
    Problem,
    LoadReport,
    Vocabulary,
):
    _obj.__module__ = __name__
del _obj

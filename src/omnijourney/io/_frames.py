"""DataFrame exports (pandas, Arrow, polars) and parquet reading, imported only when used."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from omnijourney.tables import Table


# kept here for the modules that import them from their first home
require = import_optional
__all__ = ["MissingDependencyError", "require"]


def export_names(table: Table, names: Any) -> dict[str, str]:
    """Exported name of each renamed column: ``"table"`` (none renamed), ``"input"`` (the
    user's input columns, from the table's load report) or a mapping column -> name."""
    if isinstance(names, str) and names == "table":
        return {}
    if isinstance(names, str) and names == "input":
        report = table.load_report
        if report is None:
            msg = (
                f"names='input': this {table.table_name} was not loaded from the user's "
                "columns (it has no load report); pass a mapping of column -> name instead"
            )
            raise ConfigError(msg)
        return {name: given for name, given in report.columns if given}
    if isinstance(names, Mapping):
        unknown = sorted(set(names) - set(table.columns))
        if unknown or not all(isinstance(v, str) for v in names.values()):
            msg = (
                "The 'names' parameter must map columns of the table to new names. "
                f"Got {dict(names)!r} instead (columns: {list(table.columns)})."
            )
            raise ConfigError(msg)
        return dict(names)
    msg = f"The 'names' parameter must be 'table', 'input' or a mapping. Got {names!r} instead."
    raise ConfigError(msg)


def table_to_pandas(table: Table, *, categorical: bool = True, names: Any = "table") -> Any:
    pd = require("pandas", "pandas")
    from omnijourney.io._capsule import ordered_codes

    renamed = export_names(table, names)
    orders = table.meta.get("category_order", {})
    cols: dict[str, Any] = {}
    for name, kind in table.kinds.items():
        raw = table.raw(name)
        out = renamed.get(name, name)
        if kind == "category" and categorical:
            codes, labels = raw, table.labels(name)
            order = orders.get(name)
            if order is not None:
                codes, labels = ordered_codes(raw, labels, order)
            cols[out] = pd.Categorical.from_codes(
                codes.astype(np.int64), categories=labels, ordered=order is not None
            )
        elif kind in ("category", "enum"):
            cols[out] = table.column_values(name)
        elif kind == "time":
            cols[out] = pd.DatetimeIndex(raw).tz_localize("UTC")
        else:
            cols[out] = raw
    return pd.DataFrame(cols)


def table_to_arrow(table: Table, *, names: Any = "table") -> Any:
    """The table as pyarrow arrays over its numpy columns: the same schema and values as its
    Arrow C stream (:mod:`omnijourney.io._capsule`), with pyarrow's own memory management."""
    pa = require("pyarrow", "arrow")
    from omnijourney.io._capsule import ordered_codes

    renamed = export_names(table, names)
    orders = table.meta.get("category_order", {})
    arrays = []
    for name, kind in table.kinds.items():
        raw = table.raw(name)
        if kind in ("category", "enum"):
            labels, ordered = table.labels(name), False
            if name in orders:
                raw, labels = ordered_codes(raw, labels, orders[name])
                ordered = True
            numeric = labels.dtype.kind in "iu"
            dictionary = pa.array(
                labels if numeric else [str(v) for v in labels.tolist()],
                type=None if numeric else pa.string(),
            )
            indices = pa.array(raw, mask=raw < 0)
            arrays.append(pa.DictionaryArray.from_arrays(indices, dictionary, ordered=ordered))
        elif kind == "time":
            unit = np.datetime_data(raw.dtype)[0]
            arrays.append(
                pa.array(raw.view(np.int64), mask=np.isnat(raw)).cast(pa.timestamp(unit, "UTC"))
            )
        elif kind == "float":
            arrays.append(pa.array(raw, mask=np.isnan(raw)))
        else:
            arrays.append(pa.array(raw))
    return pa.Table.from_arrays(arrays, names=[renamed.get(c, c) for c in table.columns])


def table_to_polars(table: Table, *, names: Any = "table") -> Any:
    pl = require("polars", "polars")
    return pl.DataFrame(_Stream(arrow_stream(table, names=names)))


def arrow_stream(
    table: Table, requested_schema: object | None = None, *, names: Any = "table"
) -> Any:
    """The table's Arrow C stream capsule: pyarrow's when pyarrow is installed, else one built
    with ctypes (see :mod:`omnijourney.io._capsule` for what that one cannot do)."""
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        from omnijourney.io._capsule import stream_capsule

        return stream_capsule(table, export_names(table, names))
    return table_to_arrow(table, names=names).__arrow_c_stream__(requested_schema)


class _Stream:
    """An object that hands over one Arrow C stream capsule."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any:
        return self.capsule


def read_parquet(path: str | os.PathLike[str]) -> Any:
    """A parquet file as a pyarrow Table (or polars DataFrame when only polars is installed)."""
    try:
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        pl = require("polars", "arrow")
        return pl.read_parquet(os.fspath(path))
    return pq.read_table(os.fspath(path))


def arrow_schema(table: Table) -> Any:
    """The table's Arrow schema capsule, as :func:`arrow_stream` gives it."""
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        from omnijourney.io._capsule import schema_capsule

        return schema_capsule(table)
    return table_to_arrow(table).schema.__arrow_c_schema__()

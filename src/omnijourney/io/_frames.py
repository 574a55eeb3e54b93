"""DataFrame exports (pandas, Arrow, polars) and parquet reading, imported only when used."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import MissingDependencyError

if TYPE_CHECKING:
    from omnijourney.tables import Table


# kept here for the modules that import them from their first home
require = import_optional
__all__ = ["MissingDependencyError", "require"]


def table_to_pandas(table: Table, *, categorical: bool = True) -> Any:
    pd = require("pandas", "pandas")
    cols: dict[str, Any] = {}
    for name, kind in table.kinds.items():
        raw = table.raw(name)
        if kind == "category" and categorical:
            cols[name] = pd.Categorical.from_codes(
                raw.astype(np.int64), categories=table.labels(name)
            )
        elif kind in ("category", "enum"):
            cols[name] = table.column_values(name)
        elif kind == "time":
            cols[name] = pd.DatetimeIndex(raw).tz_localize("UTC")
        else:
            cols[name] = raw
    return pd.DataFrame(cols)


def table_to_arrow(table: Table) -> Any:
    pa = require("pyarrow", "arrow")
    arrays = []
    for name, kind in table.kinds.items():
        raw = table.raw(name)
        if kind == "category":
            labels = table.labels(name)
            idx = pa.array(raw.astype(np.int32), mask=raw < 0)
            dictionary = pa.array(
                labels.tolist(), type=pa.int64() if labels.dtype.kind in "iu" else pa.string()
            )
            arrays.append(pa.DictionaryArray.from_arrays(idx, dictionary))
        elif kind == "enum":
            arrays.append(pa.array(table.column_values(name).tolist(), type=pa.string()))
        elif kind == "time":
            arrays.append(
                pa.array(raw.astype(np.int64), mask=np.isnat(raw), type=pa.int64()).cast(
                    pa.timestamp("us", tz="UTC")
                )
            )
        elif kind == "float":
            arrays.append(pa.array(raw, mask=np.isnan(raw)))
        else:
            arrays.append(pa.array(raw))
    return pa.Table.from_arrays(arrays, names=list(table.columns))


def table_to_polars(table: Table) -> Any:
    pl = require("polars", "polars")
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        cols = {}
        for name, kind in table.kinds.items():
            values = table.column_values(name)
            if kind == "time":
                cols[name] = pl.Series(name, values).dt.replace_time_zone("UTC")
            elif kind in ("category", "enum") and values.dtype == object:
                cols[name] = pl.Series(name, values.tolist(), dtype=pl.Categorical)
            else:
                cols[name] = values
        return pl.DataFrame(cols)
    return pl.from_arrow(table_to_arrow(table))


def read_parquet(path: str | os.PathLike[str]) -> Any:
    """A parquet file as a pyarrow Table (or polars DataFrame when only polars is installed)."""
    try:
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        pl = require("polars", "arrow")
        return pl.read_parquet(os.fspath(path))
    return pq.read_table(os.fspath(path))

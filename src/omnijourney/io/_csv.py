"""CSV reading and writing with the standard library only."""

from __future__ import annotations

import csv
import os
from typing import TYPE_CHECKING

import numpy as np

from omnijourney.errors import DataError, SchemaError

if TYPE_CHECKING:
    from omnijourney.tables import Table


def read_csv_columns(
    path: str | os.PathLike[str], *, delimiter: str = ",", encoding: str = "utf-8"
) -> dict[str, np.ndarray]:
    """Columns of a CSV file as object arrays of strings (empty fields become None)."""
    with open(path, newline="", encoding=encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            msg = f"CSV file {os.fspath(path)!r} is empty (no header line)"
            raise SchemaError(msg) from None
        if len(set(header)) != len(header):
            msg = f"CSV file {os.fspath(path)!r} has duplicate column names: {header}"
            raise SchemaError(msg)
        rows = list(reader)
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(
                f"has {len(row)} fields, expected {width}",
                table=f"CSV {os.fspath(path)!r}",
                rows=[i],
                values=[delimiter.join(row)],
            )
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        col = np.empty(len(rows), dtype=object)
        col[:] = [r[j] if r[j] != "" else None for r in rows]
        out[name] = col
    return out


def write_csv(table: Table, path: str | os.PathLike[str], *, delimiter: str = ",") -> None:
    cols = []
    for name, kind in table.kinds.items():
        values = table.column_values(name)
        if kind == "time":
            text = np.datetime_as_string(values, unit="us").astype(object)
            text = np.where(np.isnat(values), "", text + "Z")
            cols.append(text.tolist())
        elif kind == "float":
            cols.append(["" if np.isnan(v) else repr(float(v)) for v in values.tolist()])
        else:
            cols.append(["" if v is None else str(v) for v in values.tolist()])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(table.columns)
        writer.writerows(zip(*cols))

"""The two tables a path table is made of, and its arrays in and out (JSON, journeys).

A path table (:class:`~omnijourney.attribution.PathTable`) holds a table of paths, one row per
path (``length``, ``conversions``, ``value``, ``nulls``), and a table of steps, path after path
(``channel``, a category column whose sorted labels are the channels, and ``time`` for tables
of journeys). Its JSON document holds the arrays (``channels``, ``codes``, ``offsets``,
counts, ``times``), as every version has written it.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np

from omnijourney.attribution._encode import checked_counts
from omnijourney.errors import ConfigError, DataError
from omnijourney.tables import ColumnSpec, Table

__all__ = [
    "COUNTS",
    "FLAT",
    "TABLE_EQ",
    "arrays_of_state",
    "checked_offsets",
    "flat_state",
    "from_flat",
    "journey_arrays",
    "legacy_tables",
    "path_rows",
    "path_steps",
]

_TABLE = "PathTable"

#: The arrays of a path table, in the order of the previous constructor and of its JSON.
FLAT = ("channels", "codes", "offsets", "conversions", "value", "nulls", "times")
COUNTS = ("conversions", "value", "nulls")
_ROW_SPECS = {
    "length": ColumnSpec("length", "int"),
    **{name: ColumnSpec(name, "float") for name in COUNTS},
}
_STEP_SPECS = {"channel": ColumnSpec("channel", "category"), "time": ColumnSpec("time", "float")}


def path_rows(lengths: np.ndarray, conversions: Any, value: Any, nulls: Any) -> Table:
    """The table of paths: the length of each path and its counts."""
    data = {"length": lengths, "conversions": conversions, "value": value, "nulls": nulls}
    return Table.from_arrays(data, specs=_ROW_SPECS)


def path_steps(channels: np.ndarray, codes: np.ndarray, times: np.ndarray | None) -> Table:
    """The table of steps, path after path: the channel of each (codes into the sorted
    ``channels``) and, for tables of journeys, the seconds from it to the journey's end."""
    data = {"channel": np.asarray(codes, dtype=np.int32)}
    if times is not None:
        data["time"] = times
    labels = np.asarray(channels, dtype=object)
    return Table.from_arrays(data, {"channel": labels}, specs=_STEP_SPECS)


def from_flat(
    channels: Any,
    codes: Any,
    offsets: Any,
    conversions: Any,
    value: Any,
    nulls: Any,
    times: Any = None,
) -> tuple[Table, Table]:
    """The two tables of a path table from its arrays (offsets: ``n_paths + 1`` values)."""
    off = np.asarray(offsets, dtype=np.int64)
    if off.ndim != 1 or off.size < 1 or off[0] != 0:
        msg = f"{_TABLE}: offsets must start at 0 and hold n_paths + 1 values"
        raise ConfigError(msg)
    if times is not None and np.shape(times) != np.shape(codes):
        msg = f"{_TABLE}: times must hold one value per step ({np.size(codes)})"
        raise ConfigError(msg)
    rows = path_rows(np.diff(off), conversions, value, nulls)
    return rows, path_steps(channels, codes, times)


def _same_table(a: Table, b: Table) -> bool:
    return a.equals(b)


TABLE_EQ = attrs.cmp_using(eq=_same_table)


def flat_state(pt: Any, unstructure: Any) -> dict[str, Any]:
    """The JSON state of a path table: its arrays, as every version has written them."""
    return {name: unstructure(getattr(pt, name)) for name in FLAT}


def arrays_of_state(state: dict[str, Any], structure: Any) -> dict[str, Any]:
    """The arrays of a path table from its JSON state (codes as int32)."""
    arrays = {
        name: None if state.get(name) is None else structure(state[name], np.ndarray)
        for name in FLAT
    }
    for name in FLAT[:-1]:
        if arrays[name] is None:
            msg = f"{_TABLE}: the document has no {name!r}"
            raise DataError(msg, table=_TABLE, column=name)
    arrays["codes"] = np.asarray(arrays["codes"]).astype(np.int32)
    return arrays


def journey_arrays(jt: Any, where: Any, *, times: bool) -> dict[str, Any]:
    """The arrays of the paths of the journeys of ``jt`` (rows of ``jt.journeys``) that
    ``where`` keeps (all by default): one path per journey, its touchpoints' channels."""
    table = jt.journeys
    n_j = len(table)
    keep_rows = np.ones(n_j, dtype=bool) if where is None else np.asarray(where, dtype=bool)
    if keep_rows.shape != (n_j,):
        msg = f"where must be a boolean array of {n_j} values (one per journey)"
        raise ConfigError(msg)
    lengths = np.diff(jt.offsets)[keep_rows]
    sel = np.repeat(keep_rows, np.diff(jt.offsets))
    rows = jt.order[sel]
    tp = jt.touchpoints
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    converted = table.raw("converted")[keep_rows]
    t = None
    if times:
        touch = tp.raw("time")[rows].view(np.int64)
        end = np.repeat(table.raw("end").view(np.int64)[keep_rows], lengths)
        t = (end - touch) / 1e6
    return {
        "channels": np.asarray(tp.labels("channel"), dtype=object),
        "codes": tp.raw("channel")[rows].astype(np.int32),
        "offsets": offsets,
        "conversions": converted.astype(np.float64),
        "value": np.where(converted, table.raw("value")[keep_rows], 0.0).astype(np.float64),
        "nulls": (~converted).astype(np.float64),
        "times": t,
    }


def legacy_tables(given: list[Any], named: dict[str, Any]) -> tuple[Table, Table]:
    """The two tables from the arguments of the previous constructor, ``PathTable(channels,
    codes, offsets, conversions, value, nulls, times)`` (deprecated)."""
    warnings.warn(
        "PathTable(channels, codes, offsets, conversions, value, nulls, times) is "
        "deprecated; use PathTable.from_codes(codes, offsets, channels, conversions, "
        "value, nulls, times=times), or PathTable(rows, steps) with the two tables",
        DeprecationWarning,
        stacklevel=4,
    )
    while given and given[-1] is None:
        given = given[:-1]
    flat = dict(zip(FLAT, given))
    flat.update(named)
    missing = [name for name in FLAT[:-1] if name not in flat]
    if missing or set(flat) - set(FLAT):
        msg = f"{_TABLE}: the arrays {list(FLAT)} are needed, got {sorted(flat)}"
        raise TypeError(msg)
    return from_flat(**flat)


def checked_offsets(rows: Table, steps: Table) -> np.ndarray:
    """The offsets of the paths into the steps, once the two tables are checked: every path
    has steps, the lengths add up to the steps, codes index the channels, counts are valid."""
    rows.require_columns("length", *COUNTS)
    steps.require_columns("channel")
    lengths = rows.raw("length")
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if int(offsets[-1]) != len(steps):
        msg = f"{_TABLE}: offsets end at {int(offsets[-1])} for {len(steps)} steps"
        raise ConfigError(msg)
    if (lengths <= 0).any():
        bad = np.flatnonzero(lengths <= 0)
        raise DataError(
            "is an empty path (a path needs at least one channel)",
            table=_TABLE,
            column="path",
            rows=bad.tolist(),
            values=[""] * min(bad.size, 5),
        )
    codes, n_labels = steps.raw("channel"), steps.labels("channel").size
    if codes.size and (codes.min() < 0 or codes.max() >= n_labels):
        msg = f"{_TABLE}: channel codes must index the {n_labels} channel labels"
        raise ConfigError(msg)
    for name in COUNTS:
        counts = rows.raw(name)
        if counts.shape != lengths.shape or not (np.isfinite(counts) & (counts >= 0)).all():
            checked_counts(counts, lengths.size, name, default=None)  # raises, naming the rows
    return offsets

"""What the measures read from journeys: canonical-order columns, units and group keys.

Everything comes through the public surface of :class:`~omnijourney.journeys.JourneyTable`
(``in_order``, ``sorted_journey``, ``sorted_visit``, ``offsets``, ``rules``, ``journeys``) and
of :class:`~omnijourney.TouchpointTable` (``raw``, ``labels``, ``column_values``,
``channel_catalog``), so that the measures do not depend on how journeys are built.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.errors import ConfigError, OmnijourneyWarning, SchemaError
from omnijourney.model import ChannelKind
from omnijourney.tables import Table

__all__ = ["Source", "group_codes"]

_DIGITAL = (ChannelKind.DIGITAL, ChannelKind.MARKETPLACE)
_PHYSICAL = (ChannelKind.PHYSICAL,)
#: Channels a customer chooses; messages and media follow the brand's campaigns.
_CHOSEN = (ChannelKind.DIGITAL, ChannelKind.MARKETPLACE, ChannelKind.PHYSICAL, ChannelKind.ASSISTED)


def group_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for None) and sorted labels of an array of decoded values."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        null = np.isnan(arr)
    elif arr.dtype.kind == "O":
        # None, and NaN (the one value not equal to itself), compared in C
        null = np.asarray(arr == None, dtype=bool) | np.asarray(arr != arr, dtype=bool)  # noqa: E711
    else:
        null = np.zeros(arr.shape, dtype=bool)
    if not null.any():
        labels, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int64), labels
    labels, inv = np.unique(arr[~null], return_inverse=True)
    codes = np.full(arr.size, -1, dtype=np.int64)
    codes[~null] = inv
    return codes, labels


class Source:
    """Columns of a journey table in canonical (customer, time) order, computed on demand."""

    def __init__(self, journeys: Any, who: str) -> None:
        from omnijourney.journeys import JourneyTable

        if not isinstance(journeys, JourneyTable):
            msg = (
                f"{who} needs the JourneyTable returned by oj.sessionize, got "
                f"{type(journeys).__name__}"
            )
            raise ConfigError(msg)
        self.jt = journeys
        self.tp = journeys.touchpoints
        self.who = who
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ columns

    def _get(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def n(self) -> int:
        return len(self.tp)

    @property
    def customer(self) -> np.ndarray:
        """Customer code of each canonical row, in the table's own code dtype (no copy when
        the touchpoints are in canonical order): cast before multiplying."""
        return self.jt.in_order("customer")

    @property
    def customer_labels(self) -> np.ndarray:
        return self.tp.labels("customer")

    @property
    def time(self) -> np.ndarray:
        return self._get("t", lambda: self.jt.in_order("time").view(np.int64))

    @property
    def channel(self) -> np.ndarray:
        """Channel code of each canonical row, in the table's own code dtype."""
        return self.jt.in_order("channel")

    @property
    def channel_labels(self) -> np.ndarray:
        return self.tp.labels("channel")

    def channel_kind_mask(self, kinds: tuple[ChannelKind, ...]) -> np.ndarray:
        """Per channel label, whether its kind is one of ``kinds``."""
        return np.array([c.kind in kinds for c in self.tp.channel_catalog], dtype=bool)

    @property
    def digital_channel(self) -> np.ndarray:
        return self.channel_kind_mask(_DIGITAL)

    @property
    def physical_channel(self) -> np.ndarray:
        return self.channel_kind_mask(_PHYSICAL)

    @property
    def chosen_channel(self) -> np.ndarray:
        return self.channel_kind_mask(_CHOSEN)

    @property
    def conversion(self) -> np.ndarray:
        def make() -> np.ndarray:
            events = self.jt.rules.conversion_events
            labels = self.tp.labels("event").tolist()
            is_conv = np.array([str(e) in events for e in labels], dtype=bool)
            return is_conv[self.jt.in_order("event")]

        return self._get("conv", make)

    @property
    def value(self) -> np.ndarray:
        def make() -> np.ndarray:
            if "value" not in self.tp.columns:
                return np.zeros(self.n)
            v = self.jt.in_order("value")
            return np.where(np.isnan(v), 0.0, v)

        return self._get("value", make)

    def row_periods(self, periods: Any) -> np.ndarray:
        """Period of each canonical row (int32, -1 outside), computed once per periods."""
        key = f"periods {id(periods)}"
        if key not in self._cache:
            self._cache[key] = (periods, periods.index(self.time, dtype=np.int32))
        return self._cache[key][1]

    @property
    def journey(self) -> np.ndarray:
        """Position (0..n_journeys-1) in ``journeys.journeys`` of each canonical row."""

        def make() -> np.ndarray:
            sizes = np.diff(self.jt.offsets)
            return np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)

        return self._get("journey", make)

    @property
    def journey_starts(self) -> np.ndarray:
        return self.jt.offsets[:-1]

    @property
    def visit_starts(self) -> np.ndarray:
        """Canonical positions where a visit starts."""

        def make() -> np.ndarray:
            v = self.jt.sorted_visit
            if v.size == 0:
                return np.zeros(0, dtype=np.int64)
            start = run_starts(v)
            start[self.journey_starts] = True
            return np.flatnonzero(start)

        return self._get("visit_starts", make)

    def reference(self, column: str) -> np.ndarray | None:
        """Codes of a reference-id column in canonical order (-1: none), or None if absent."""
        if column not in self.tp.columns:
            return None
        return self._get(f"ref {column}", lambda: self.jt.in_order(column).astype(np.int64))

    def extra(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes in canonical order (-1 for null) and labels of a column of the touchpoints."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            if column not in self.tp.columns:
                msg = (
                    f"{self.who}: the touchpoints have no column {column!r} to group by; "
                    f"columns are {list(self.tp.columns)} (keep it with extra=[{column!r}] "
                    "when building the table)"
                )
                raise SchemaError(msg, table="TouchpointTable", column=column)
            if self.tp.kinds[column] == "category":
                return self.jt.in_order(column).astype(np.int64), self.tp.labels(column)
            codes, labels = group_codes(self.tp.column_values(column))
            return codes[self.jt.order], labels

        return self._get(f"extra {column}", make)

    # ------------------------------------------------------------------ customers

    def customer_positions(self, ids: np.ndarray, what: str, *, strict: bool) -> np.ndarray:
        """Label positions of customer ids (-1 for unknown ones; an error when ``strict``)."""
        labels = self.customer_labels
        ids = np.asarray(ids, dtype=object)
        if labels.size == 0:
            pos = np.full(ids.size, -1, dtype=np.int64)
        else:
            try:
                found = np.searchsorted(labels, ids)
            except TypeError:  # ids of another type than the labels (str against int)
                found = np.zeros(ids.size, dtype=np.int64)
                ok = np.zeros(ids.size, dtype=bool)
            else:
                found = np.minimum(found, labels.size - 1)
                ok = labels[found] == ids
            pos = np.where(ok, found, -1).astype(np.int64)
        unknown = int((pos < 0).sum())
        if unknown and strict:
            first = ids[pos < 0][:5].tolist()
            msg = f"{self.who}: {unknown:,} customers of {what} are not in the touchpoints (first: {first})"
            raise ConfigError(msg)
        return pos


def table_codes(table: Table, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for null) and sorted labels of a column, read from the table's own
    dictionary when it is a category column."""
    if table.kinds[column] == "category":
        return table.codes(column).astype(np.int64), table.labels(column)
    return group_codes(table[column])


def customer_mapping(value: Any, column: str, who: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(customer ids, values) from a mapping, a Table or a DataFrame with ``customer`` and
    ``column`` columns."""
    if isinstance(value, Mapping) and "customer" not in value:
        ids = np.empty(len(value), dtype=object)
        ids[:] = list(value.keys())
        vals = np.empty(len(value), dtype=object)
        vals[:] = list(value.values())
        return ids, vals
    table = value if isinstance(value, Table) else Table.from_columns(value)
    for col in ("customer", column):
        if col not in table.columns:
            msg = (
                f"{who}: {name} must map customers to {column}s: a dict, or a table with "
                f"'customer' and {column!r} columns (got columns {list(table.columns)})"
            )
            raise ConfigError(msg)
    ids = np.asarray(table["customer"], dtype=object)
    vals = np.asarray(table[column], dtype=object)
    if np.unique(ids).size != ids.size:
        msg = f"{who}: {name} gives several {column}s to one customer"
        raise ConfigError(msg)
    return ids, vals


def customer_groups(
    src: Source, value: Any, column: str, name: str, *, warn_missing: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer label: group code (-1 for none), the group labels, and the mapped ids that
    the touchpoints do not have (kept as extra customers of the design)."""
    ids, vals = customer_mapping(value, column, src.who, name)
    codes, labels = group_codes(vals)
    pos = src.customer_positions(ids, name, strict=False)
    per_customer = np.full(src.customer_labels.size, -1, dtype=np.int64)
    per_customer[pos[pos >= 0]] = codes[pos >= 0]
    if warn_missing:
        present = np.zeros(src.customer_labels.size, dtype=bool)
        present[src.customer] = True
        missing = int((present & (per_customer < 0)).sum())
        if missing:
            warnings.warn(
                f"{src.who}: {missing:,} customers of the touchpoints have no {column} in "
                f"{name}; they are counted under {column} None",
                OmnijourneyWarning,
                stacklevel=3,
            )
    return per_customer, labels, ids[pos < 0]

"""The sessionized touchpoints as plain arrays in canonical order, and their reference-id groups.

Break points, follow-ups and hot carts read the same columns in (customer, time) order. A
reference id (an order, a cart, a quote) may be carried by rows of several customer ids (an
anonymous till receipt and a web account): its rows are grouped by id and put in time order
within each group, so that "the first row carrying the id" means the first in time, whoever
carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from omnijourney.journeys._table import JourneyTable
from omnijourney.model import ChannelKind
from omnijourney.time import to_datetime64

__all__ = ["REFERENCE_COLUMNS", "Groups", "Sorted", "channel_kinds", "first_in", "last_in"]

#: Reference columns that link steps across channels.
REFERENCE_COLUMNS = ("quote_id", "order_id", "reservation_id", "cart_id")
_BIG = np.iinfo(np.int64).max


def channel_kinds(jt: JourneyTable, kinds: Iterable[ChannelKind]) -> np.ndarray:
    """Per channel label: whether the channel is of one of ``kinds``."""
    wanted = set(kinds)
    return np.array([c.kind in wanted for c in jt.touchpoints.channel_catalog], dtype=bool)


class Groups:
    """Rows carrying an id of one reference column, grouped by id, in time order per group.

    ``rows`` are positions in canonical order; ``starts`` the first index of each group in
    ``rows``; ``group_of`` the group of each entry of ``rows``; ``pos`` the index of each
    entry (``arange``), so that a group's first entry where a mask holds is a minimum of
    ``pos``.
    """

    def __init__(self, codes: np.ndarray, t: np.ndarray) -> None:
        rows = np.flatnonzero(codes >= 0)
        order = np.lexsort((rows, t[rows], codes[rows]))
        self.rows = rows[order]
        g = codes[self.rows]
        new = np.r_[True, g[1:] != g[:-1]] if self.rows.size else np.zeros(0, dtype=bool)
        self.starts = np.flatnonzero(new)
        self.group_of = np.cumsum(new) - 1
        self.pos = np.arange(self.rows.size, dtype=np.int64)
        self.codes = g[self.starts] if self.rows.size else np.zeros(0, np.int64)


def first_in(groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group, the index (into ``groups.rows``) of its first entry where ``mask`` holds
    (entries in time order), or -1."""
    if groups.starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    v = np.minimum.reduceat(np.where(mask, groups.pos, _BIG), groups.starts)
    return np.where(v == _BIG, -1, v)


def last_in(groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group, the index of its last entry where ``mask`` holds, or -1."""
    if groups.starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.maximum.reduceat(np.where(mask, groups.pos, -1), groups.starts)


def row_at(groups: Groups, index: np.ndarray) -> np.ndarray:
    """The canonical position of each entry index (-1 stays -1)."""
    return np.where(index >= 0, groups.rows[np.maximum(index, 0)], -1) if index.size else index


class Sorted:
    """The sessionized touchpoints in canonical order, as plain arrays."""

    def __init__(
        self,
        jt: JourneyTable,
        digital: Iterable[ChannelKind],
        physical: Iterable[ChannelKind],
        assisted: Iterable[ChannelKind],
    ) -> None:
        tp = jt.touchpoints
        self.jt = jt
        self.order = jt.order
        self.n = self.order.size
        self.c = jt.in_order("customer").astype(np.int64)
        self.t = jt.in_order("time").view(np.int64)
        self.ch = jt.in_order("channel").astype(np.int64)
        self.ev = jt.in_order("event").astype(np.int64)
        self.journey = jt.sorted_journey
        ev_labels = tp.labels("event").tolist()
        conv = np.array([e in jt.rules.conversion_events for e in ev_labels], dtype=bool)
        self.conv = conv[self.ev] if self.n else np.zeros(0, dtype=bool)
        self.digital = channel_kinds(jt, digital)[self.ch]
        self.physical = channel_kinds(jt, physical)[self.ch]
        self.assisted = channel_kinds(jt, assisted)[self.ch]
        if "direction" in tp.columns:
            self.inbound = jt.in_order("direction") != 1  # null or inbound
        else:
            self.inbound = np.ones(self.n, dtype=bool)
        self.refs: dict[str, np.ndarray] = {
            col: jt.in_order(col).astype(np.int64) for col in REFERENCE_COLUMNS if col in tp.columns
        }
        self.ev_labels = ev_labels
        self._groups: dict[str, Groups] = {}

    @classmethod
    def of(cls, jt: JourneyTable, rules: Any) -> Sorted:
        """The view with the channel kinds of ``rules`` (a :class:`BreakRules`)."""
        return cls(jt, rules.digital_kinds, rules.physical_kinds, rules.assisted_kinds)

    def now(self, as_of: Any) -> int:
        """``as_of`` in microseconds (default: the latest touchpoint)."""
        if as_of is None:
            return int(self.t.max()) if self.n else 0
        return int(to_datetime64(as_of, name="as_of").astype(np.int64))

    def groups(self, col: str) -> Groups:
        """Rows carrying an id of reference column ``col``, grouped by id (computed once)."""
        if col not in self._groups:
            self._groups[col] = Groups(self.refs[col], self.t)
        return self._groups[col]

    def events(self, names: Iterable[Any]) -> np.ndarray:
        """Per row: whether its event is one of ``names``."""
        wanted = {str(n) for n in names}
        hit = np.array([e in wanted for e in self.ev_labels], dtype=bool)
        return hit[self.ev] if self.n else np.zeros(0, dtype=bool)

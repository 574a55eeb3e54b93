"""Periods of measurement: calendar periods in a time zone, or named windows, as UTC bounds.

A period is a half-open interval ``[start, end)`` of UTC instants. Calendar periods (day, ISO
week starting on Monday, month, quarter, year) follow the wall clock of the time zone given;
named windows (``{"before": ("2024-01-01", "2024-04-01"), ...}``) read naive times in that
zone too. Each unit of measure (a visit, a journey, an order...) falls in the period that
holds its time, found by binary search over the bounds, so the cost is one ``searchsorted``
whatever the number of periods.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.metrics._results import result_eq
from omnijourney.time import TIME_DTYPE, local_to_utc, to_datetime64, utc_to_local

__all__ = ["CALENDAR_PERIODS", "Periods", "resolve_periods"]

#: Calendar periods a KPI or a comparison can be cut by.
CALENDAR_PERIODS = ("day", "week", "month", "quarter", "year")
_DAY_US = 86_400_000_000
_GRID_FROM = 1 << 16  # times from which periods are found by table lookup
_ALIASES = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


@attrs.frozen(eq=False)
class Periods:
    """Named, non-overlapping half-open periods ``[start, end)``, in time order.

    Attributes
    ----------
    labels : tuple of str
        Name of each period (``"2024-03"``, ``"2024-W05"``, ``"before"``...).
    starts, ends : ndarray of datetime64[us]
        UTC bounds of each period.
    kind : str
        The calendar period (``"month"``...), ``"windows"`` for named windows, ``"all"`` for
        the whole data as one period.
    tz : str
        Time zone whose wall clock the periods follow.
    """

    __eq__ = result_eq

    labels: tuple[str, ...]
    starts: np.ndarray
    ends: np.ndarray
    kind: str
    tz: str

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, times_us: np.ndarray, *, dtype: Any = np.int64) -> np.ndarray:
        """Period of each time (int64 microseconds, UTC); -1 outside every period.

        ``dtype``: of the result (a signed integer type).
        """
        starts = self.starts.astype(np.int64)
        ends = self.ends.astype(np.int64)
        if not np.array_equal(starts[1:], ends[:-1]):
            pos = np.searchsorted(starts, times_us, side="right") - 1
            inside = pos >= 0
            inside[inside] = times_us[inside] < ends[pos[inside]]
            pos[~inside] = -1
            return pos.astype(dtype, copy=False)
        bounds = np.append(starts, ends[-1])  # contiguous periods: one search, no masks
        if times_us.size < _GRID_FROM:
            pos = np.searchsorted(bounds, times_us, side="right") - 1
            pos[pos >= starts.size] = -1
            return pos.astype(dtype, copy=False)
        return _grid_index(bounds, times_us, np.dtype(dtype))

    def describe(self, i: int) -> str:
        """``'before' (2024-01-01 to 2024-04-01)`` for messages."""
        s = str(self.starts[i].astype("datetime64[s]")).replace("T00:00:00", "")
        e = str(self.ends[i].astype("datetime64[s]")).replace("T00:00:00", "")
        return f"{self.labels[i]!r} ({s} to {e} UTC)"


def _grid_index(bounds: np.ndarray, times_us: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The period of each time by a table lookup instead of a binary search.

    Time is cut into cells of ``2^shift`` microseconds from the first bound (at most 2^16
    cells over the periods); a cell that no bound cuts lies in one period, read from the
    table with one shift and one gather per time. The few times in a cell that a bound cuts
    (marked -2) are searched.
    """
    origin, span = int(bounds[0]), int(bounds[-1] - bounds[0])
    shift = max(0, span.bit_length() - 16)
    n_cells = (span >> shift) + 1
    cell_lo = origin + (np.arange(n_cells, dtype=np.int64) << shift)
    period = np.searchsorted(bounds, cell_lo, side="right") - 1
    cut = np.searchsorted(bounds, cell_lo + (1 << shift), side="left") - 1 > period
    period[period >= bounds.size - 1] = -1
    # cells before the first bound and after the last one: -1
    table = np.concatenate([[-1], np.where(cut, -2, period), [-1]]).astype(dtype)
    cells = np.subtract(times_us, origin)
    np.right_shift(cells, shift, out=cells)
    np.clip(cells, -1, n_cells, out=cells)
    cells += 1
    pos = table[cells]
    odd = np.flatnonzero(pos == -2)
    if odd.size:
        found = np.searchsorted(bounds, times_us[odd], side="right") - 1
        pos[odd] = np.where(found < bounds.size - 1, found, -1)
    return pos


def _calendar_starts(kind: str, lo_local: np.datetime64, hi_local: np.datetime64) -> np.ndarray:
    """Local wall-clock starts of every calendar period from the one holding ``lo_local``
    to the one after ``hi_local`` (inclusive), as datetime64[us]."""
    if kind == "day":
        a, b = lo_local.astype("datetime64[D]"), hi_local.astype("datetime64[D]")
        return np.arange(a, b + 2, dtype="datetime64[D]").astype(TIME_DTYPE)
    if kind == "week":
        day = lo_local.astype("datetime64[D]")
        monday = day - (day.astype(np.int64) - 4) % 7  # 1970-01-05 was a Monday
        last = hi_local.astype("datetime64[D]")
        return np.arange(monday, last + 8, 7, dtype="datetime64[D]").astype(TIME_DTYPE)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    m0 = int(lo_local.astype("datetime64[M]").astype(np.int64))
    m1 = int(hi_local.astype("datetime64[M]").astype(np.int64))
    first = m0 - (m0 % months)
    idx = np.arange(first, m1 + months + 1, months)
    return idx.astype("datetime64[M]").astype(TIME_DTYPE)


def _label(kind: str, local_start: np.datetime64) -> str:
    if kind == "day":
        return str(local_start.astype("datetime64[D]"))
    if kind == "week":
        day = local_start.astype("datetime64[D]").astype(object)
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    month = int(local_start.astype("datetime64[M]").astype(np.int64))
    year, m = divmod(month, 12)
    if kind == "month":
        return f"{1970 + year}-{m + 1:02d}"
    if kind == "quarter":
        return f"{1970 + year}-Q{m // 3 + 1}"
    return f"{1970 + year}"


def _calendar(kind: str, tz: str, lo: int, hi: int) -> Periods:
    bounds_utc = np.array([lo, hi], dtype=np.int64).view(TIME_DTYPE)
    lo_l, hi_l = utc_to_local(bounds_utc, tz)
    local = _calendar_starts(kind, lo_l, hi_l)
    utc = local_to_utc(local, tz)
    return Periods(
        labels=tuple(_label(kind, s) for s in local[:-1]),
        starts=utc[:-1],
        ends=utc[1:],
        kind=kind,
        tz=tz,
    )


def _windows(windows: Mapping[Any, Any], tz: str) -> Periods:
    rows = []
    for name, bounds in windows.items():
        if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
            msg = (
                "The 'period' parameter must map each period name to a (start, end) pair. "
                f"Got {bounds!r} for {name!r} instead."
            )
            raise ConfigError(msg)
        start = to_datetime64(bounds[0], tz=tz, name=f"start of period {name!r}")
        end = to_datetime64(bounds[1], tz=tz, name=f"end of period {name!r}")
        if end <= start:
            msg = f"period {name!r} ends ({bounds[1]!r}) before it starts ({bounds[0]!r})"
            raise ConfigError(msg)
        rows.append((start, end, str(name)))
    if not rows:
        msg = "The 'period' parameter must name at least one period. Got an empty mapping."
        raise ConfigError(msg)
    rows.sort(key=lambda r: r[0])
    for a, b in zip(rows[:-1], rows[1:]):
        if b[0] < a[1]:
            msg = f"periods {a[2]!r} and {b[2]!r} overlap; a unit must fall in one period only"
            raise ConfigError(msg)
    labels = [r[2] for r in rows]
    if len(set(labels)) != len(labels):
        msg = f"period names must be distinct, got {labels}"
        raise ConfigError(msg)
    return Periods(
        labels=tuple(labels),
        starts=np.array([r[0] for r in rows], dtype=TIME_DTYPE),
        ends=np.array([r[1] for r in rows], dtype=TIME_DTYPE),
        kind="windows",
        tz=tz,
    )


def resolve_periods(period: Any, tz: str, times_us: np.ndarray, *, warn: bool = True) -> Periods:
    """The periods described by ``period`` over data whose unit times are ``times_us``.

    ``period`` is a calendar name (``"month"``; ``"M"`` and the other one-letter aliases are
    accepted), a mapping of name -> (start, end), a :class:`Periods`, or None (the whole data
    as one period named ``"all"``). Named windows that hold no data at all are reported with
    an :class:`~omnijourney.OmnijourneyWarning` when ``warn``.
    """
    if not isinstance(tz, str):
        msg = f"The 'tz' parameter must be a time zone name such as 'Europe/Paris'. Got {tz!r} instead."
        raise ConfigError(msg)
    lo = int(times_us.min()) if times_us.size else 0
    hi = int(times_us.max()) if times_us.size else 0
    if isinstance(period, Periods):
        out = period
    elif period is None:
        out = Periods(
            labels=("all",),
            starts=np.array([lo], dtype=np.int64).view(TIME_DTYPE),
            ends=np.array([hi + 1], dtype=np.int64).view(TIME_DTYPE),
            kind="all",
            tz=tz,
        )
    elif isinstance(period, str):
        kind = _ALIASES.get(period, period)
        if kind not in CALENDAR_PERIODS:
            listed = ", ".join(repr(c) for c in CALENDAR_PERIODS)
            msg = (
                f"The 'period' parameter must be one of {listed}, a mapping of name -> "
                f"(start, end), or None. Got {period!r} instead."
            )
            raise ConfigError(msg)
        out = _calendar(kind, tz, lo, hi)
    elif isinstance(period, Mapping):
        out = _windows(period, tz)
    else:
        msg = (
            "The 'period' parameter must be a calendar period name, a mapping of name -> "
            f"(start, end), or None. Got {period!r} instead."
        )
        raise ConfigError(msg)
    if warn and out.kind == "windows" and times_us.size:
        empty = [
            out.describe(i)
            for i in range(len(out))
            if not (
                (times_us >= out.starts[i].astype(np.int64))
                & (times_us < out.ends[i].astype(np.int64))
            ).any()
        ]
        if empty:
            span = (
                f"{np.int64(lo).astype('datetime64[us]')} to "
                f"{np.int64(hi).astype('datetime64[us]')}"
            )
            warnings.warn(
                f"period {', '.join(empty)} holds no data (the data runs from {span} UTC); "
                "its KPIs are NaN",
                OmnijourneyWarning,
                stacklevel=3,
            )
    return out

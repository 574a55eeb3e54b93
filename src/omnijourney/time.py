"""One representation of time: ``datetime64[us]`` in UTC, and the conversions at the edge.

Timezone-aware input is converted to UTC; naive input is read as UTC unless a ``tz`` is given.
Durations are ``numpy.timedelta64[us]`` and may be written as ``"30min"``, ``"2h"`` or ``"7D"``.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

import numpy as np

from omnijourney.errors import ConfigError

__all__ = [
    "EPOCH",
    "TIME_DTYPE",
    "as_datetime",
    "local_to_utc",
    "parse_times",
    "to_datetime64",
    "to_timedelta64",
    "utc_to_local",
]

#: The dtype of every time column.
TIME_DTYPE = np.dtype("datetime64[us]")
#: 1970-01-01T00:00:00 UTC as an aware :class:`datetime.datetime`.
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_NAT = np.iinfo(np.int64).min
_US_PER_HOUR = 3_600_000_000
_UNIT_US = {"ns": None, "us": 1, "ms": 1_000, "s": 1_000_000}

_TZ_SUFFIX = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"\s?(?P<off>[Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
_DURATION = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([a-zA-Zµ]+)\s*$")
_DURATION_UNITS = {
    "us": 1,
    "µs": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "sec": 1_000_000,
    "second": 1_000_000,
    "seconds": 1_000_000,
    "min": 60_000_000,
    "m": 60_000_000,
    "minute": 60_000_000,
    "minutes": 60_000_000,
    "h": 3_600_000_000,
    "hour": 3_600_000_000,
    "hours": 3_600_000_000,
    "d": 86_400_000_000,
    "day": 86_400_000_000,
    "days": 86_400_000_000,
    "w": 604_800_000_000,
    "week": 604_800_000_000,
    "weeks": 604_800_000_000,
}


@lru_cache(maxsize=64)
def _zone(tz: str) -> _dt.tzinfo:
    if tz.upper() in {"UTC", "Z", "ETC/UTC"}:
        return _dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown time zone {tz!r}; expected an IANA name such as 'Europe/Paris' or 'UTC'"
        raise ConfigError(msg) from exc


def _tzinfo(tz: str | _dt.tzinfo | None) -> _dt.tzinfo | None:
    if tz is None or isinstance(tz, _dt.tzinfo):
        return tz
    if isinstance(tz, str):
        return _zone(tz)
    msg = f"tz must be an IANA time zone name or a tzinfo, got {tz!r}"
    raise ConfigError(msg)


# --------------------------------------------------------------------------- durations


def to_timedelta64(
    value: Any, *, name: str = "duration", allow_negative: bool = False
) -> np.timedelta64:
    """Read a duration as ``numpy.timedelta64`` in microseconds.

    Parameters
    ----------
    value : str, datetime.timedelta or numpy.timedelta64
        ``"30min"``, ``"30 min"``, ``"2h"``, ``"7D"``, ``"1.5 days"``, ``"500ms"``; a timedelta.
        Bare numbers are refused because their unit would be a guess.
    name : str
        Parameter name used in error messages.
    allow_negative : bool
        Whether negative durations are accepted.

    Returns
    -------
    numpy.timedelta64
        With unit ``us``.

    Raises
    ------
    ConfigError
        If the value cannot be read or is negative while ``allow_negative`` is false.

    Examples
    --------
    >>> to_timedelta64("30min")
    np.timedelta64(1800000000,'us')
    >>> to_timedelta64("7D") == to_timedelta64("1w")
    np.True_
    """
    us: int
    if isinstance(value, np.timedelta64):
        if np.isnat(value):
            msg = f"{name} must be a duration, got NaT"
            raise ConfigError(msg)
        us = int(value.astype("timedelta64[us]").astype(np.int64))
    elif isinstance(value, _dt.timedelta):
        us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    elif isinstance(value, str):
        m = _DURATION.match(value)
        unit = m.group(2).lower() if m else ""
        if unit == "µs":
            unit = "us"
        if not m or unit not in _DURATION_UNITS:
            msg = f"{name} must be a duration such as '30min', '2h', '7D' or '500ms', got {value!r}"
            raise ConfigError(msg)
        us = round(float(m.group(1)) * _DURATION_UNITS[unit])
    else:
        msg = (
            f"{name} must be a duration string ('30min', '7D'), a datetime.timedelta or a "
            f"numpy.timedelta64, got {value!r} of type {type(value).__name__}"
        )
        raise ConfigError(msg)
    if us < 0 and not allow_negative:
        msg = f"{name} must not be negative, got {value!r}"
        raise ConfigError(msg)
    return np.timedelta64(us, "us")


# --------------------------------------------------------------------------- instants


def to_datetime64(
    value: Any, *, tz: str | _dt.tzinfo | None = None, name: str = "time"
) -> np.datetime64:
    """Read one instant (a parameter such as ``as_of``) as ``numpy.datetime64[us]`` in UTC.

    Examples
    --------
    >>> to_datetime64("2024-03-31T02:30:00+02:00")
    np.datetime64('2024-03-31T00:30:00.000000')
    >>> to_datetime64("2024-01-01", tz="Europe/Paris")
    np.datetime64('2023-12-31T23:00:00.000000')
    """
    values, bad, _ = parse_times(np.array([value], dtype=object), tz=tz)
    if bad[0]:
        msg = f"{name} must be a time (ISO 8601 string, datetime or datetime64), got {value!r}"
        raise ConfigError(msg)
    return values[0]


def as_datetime(value: np.datetime64 | int) -> _dt.datetime:
    """Convert a ``datetime64[us]`` (or microseconds since the epoch) to an aware UTC datetime.

    Examples
    --------
    >>> as_datetime(np.datetime64("2024-05-01T12:00:00", "us"))
    datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, np.datetime64):
        value = int(value.astype(TIME_DTYPE).astype(np.int64))
    return EPOCH + _dt.timedelta(microseconds=int(value))


def parse_times(
    values: Any,
    *,
    tz: str | _dt.tzinfo | None = None,
    unit: str | None = None,
    fmt: str | None = None,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Parse a column of times to ``datetime64[us]`` UTC without raising on bad values.

    Parameters
    ----------
    values : array-like
        datetime64 values, ISO 8601 strings (with or without ``Z`` / ``+01:00`` offsets),
        :class:`datetime.datetime` / ``pandas.Timestamp`` objects, or numbers with ``unit``.
    tz : str or tzinfo, optional
        Zone in which naive values are read. Default: UTC.
    unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric epoch values. Numbers are refused without it.
    fmt : str, optional
        A :func:`datetime.datetime.strptime` format for strings that are not ISO 8601.

    Returns
    -------
    times : numpy.ndarray of datetime64[us]
        NaT where a value is missing or invalid.
    bad : numpy.ndarray of bool
        True where the value was missing or could not be read.
    problem : str or None
        A whole-column problem (mixed naive and aware values), or None.
    """
    zone = _tzinfo(tz)
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    kind = arr.dtype.kind
    if kind == "M":
        out = arr.astype(TIME_DTYPE)
        bad = np.isnat(out)
        if zone is not None:
            out = local_to_utc(out, zone)
        return out, bad, None
    if kind in "iuf":
        if unit is None:
            return (
                np.full(arr.shape, np.datetime64("NaT"), dtype=TIME_DTYPE),
                np.ones(arr.shape, dtype=bool),
                "numeric times need a unit (time_unit='s', 'ms', 'us' or 'ns')",
            )
        if unit not in _UNIT_US:
            msg = f"time_unit must be one of 's', 'ms', 'us', 'ns', got {unit!r}"
            raise ConfigError(msg)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(arr) if kind == "f" else np.zeros(arr.shape, dtype=bool)
            raw = np.where(bad, 0, arr)
            us = raw // 1000 if unit == "ns" else raw * _UNIT_US[unit]
        out = np.asarray(us).astype(np.int64).view(TIME_DTYPE).copy()
        out[bad] = np.datetime64("NaT")
        return out, bad, None
    if kind in "OUST":
        return _parse_objects(arr, zone, fmt)
    return (
        np.full(arr.shape, np.datetime64("NaT"), dtype=TIME_DTYPE),
        np.ones(arr.shape, dtype=bool),
        f"values of dtype {arr.dtype} cannot be read as times",
    )


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    if isinstance(v, np.datetime64) and np.isnat(v):
        return True
    return bool(
        isinstance(v, str) and v.strip() in {"", "NaT", "nat", "NaN", "nan", "None", "null"}
    )


def _parse_objects(
    arr: np.ndarray, zone: _dt.tzinfo | None, fmt: str | None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Parse object or string arrays value by unique value."""
    if arr.dtype.kind == "S":
        arr = arr.astype("U")
    # Unique values once; parsing cost is then per distinct timestamp, not per row.
    mapping: dict[Any, int] = {}
    try:
        inverse = np.fromiter(
            (mapping.setdefault(v, len(mapping)) for v in arr.tolist()),
            dtype=np.int64,
            count=arr.size,
        )
        uniques = list(mapping)
    except TypeError:  # unhashable values: parse each one
        uniques = arr.tolist()
        inverse = np.arange(arr.size)
    us = np.zeros(len(uniques), dtype=np.int64)
    bad = np.zeros(len(uniques), dtype=bool)
    aware = np.zeros(len(uniques), dtype=bool)
    naive_idx: list[int] = []
    text_idx: list[int] = []
    texts: list[str] = []
    for i, v in enumerate(uniques):
        if _is_missing(v):
            bad[i] = True
        elif isinstance(v, _dt.datetime):
            if v.tzinfo is not None and v.utcoffset() is not None:
                aware[i] = True
                d = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            else:
                d = v
            # pandas.Timestamp nanoseconds are floored to the microsecond.
            us[i] = _naive_to_us(d)
            if not aware[i]:
                naive_idx.append(i)
        elif isinstance(v, _dt.date):
            us[i] = _naive_to_us(_dt.datetime(v.year, v.month, v.day))
            naive_idx.append(i)
        elif isinstance(v, np.datetime64):
            us[i] = int(v.astype(TIME_DTYPE).astype(np.int64))
            naive_idx.append(i)
        elif isinstance(v, str):
            s = v.strip()
            if fmt is not None:
                try:
                    d = _dt.datetime.strptime(s, fmt)
                except ValueError:
                    bad[i] = True
                    continue
                if d.tzinfo is not None:
                    aware[i] = True
                    d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
                else:
                    naive_idx.append(i)
                us[i] = _naive_to_us(d)
                continue
            m = _TZ_SUFFIX.search(s)
            if m is not None:
                aware[i] = True
                us[i] = -_offset_us(m.group("off"))
                s = s[: m.start("off")].rstrip()
            else:
                naive_idx.append(i)
            text_idx.append(i)
            texts.append(s)
        else:
            bad[i] = True
    if texts:
        pending = np.array(text_idx, dtype=np.int64)
        parsed, pbad = _parse_iso(texts)
        us[pending] += parsed
        bad[pending] |= pbad
    if aware.any() and (~aware & ~bad).any():
        problem = (
            "mixed time-zone-aware and naive values; give every value an offset, or none and "
            "pass tz="
        )
        # Flag the naive values (and the unreadable ones) so that callers can name them.
        flagged = bad | ~aware
        out = np.full(arr.shape, np.datetime64("NaT"), dtype=TIME_DTYPE)
        return out, flagged[inverse], problem
    values = us.view(TIME_DTYPE).copy()
    values[bad] = np.datetime64("NaT")
    if zone is not None and naive_idx:
        idx = np.array(naive_idx, dtype=np.int64)
        idx = idx[~bad[idx]]
        values[idx] = local_to_utc(values[idx], zone)
    out = values[inverse]
    return out, bad[inverse], None


def _naive_to_us(d: _dt.datetime) -> int:
    delta = d - _dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _offset_us(text: str) -> int:
    if text in {"Z", "z"}:
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) > 2 else 0
    return sign * (hours * 3600 + minutes * 60) * 1_000_000


def _parse_iso(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse naive ISO 8601 strings; numpy does the work, a loop finds the bad ones."""
    n = len(texts)
    bad = np.zeros(n, dtype=bool)
    special = {"now", "today", "nat", ""}
    for i, s in enumerate(texts):
        if s.lower() in special:
            bad[i] = True
    cleaned = ["1970-01-01" if b else s for s, b in zip(texts, bad)]
    try:
        parsed = np.array(cleaned, dtype=TIME_DTYPE)
    except ValueError:
        parsed = np.zeros(n, dtype=TIME_DTYPE)
        for i, s in enumerate(cleaned):
            try:
                parsed[i] = np.datetime64(s, "us")
            except ValueError:
                bad[i] = True
    nat = np.isnat(parsed)
    bad |= nat
    out = parsed.astype(np.int64)
    out[bad] = 0
    return out, bad


# --------------------------------------------------------------------------- time zones


def _hour_offsets(hours: np.ndarray, offset_of: Any) -> tuple[np.ndarray, np.ndarray]:
    start = np.array([offset_of(int(h) * _US_PER_HOUR) for h in hours], dtype=np.int64)
    end = np.array([offset_of((int(h) + 1) * _US_PER_HOUR - 1) for h in hours], dtype=np.int64)
    return start, end


def _convert(values: np.ndarray, offset_of: Any, sign: int) -> np.ndarray:
    """Shift each value by ``sign * offset_of(value)``, computing offsets once per hour."""
    arr = np.asarray(values, dtype=TIME_DTYPE)
    nat = np.isnat(arr)
    us = arr.astype(np.int64)
    valid = us[~nat]
    if valid.size == 0:
        return arr.copy()
    hours = valid // _US_PER_HOUR
    uh, inv = np.unique(hours, return_inverse=True)
    start, end = _hour_offsets(uh, offset_of)
    off = start[inv]
    # An offset change inside an hour (rare zones): resolve those rows one by one.
    for j in np.flatnonzero(start != end):
        rows = np.flatnonzero(inv == j)
        off[rows] = [offset_of(int(v)) for v in valid[rows]]
    shifted = valid + sign * off
    out = us.copy()
    out[~nat] = shifted
    result = out.view(TIME_DTYPE).copy()
    result[nat] = np.datetime64("NaT")
    return result


def local_to_utc(values: np.ndarray, tz: str | _dt.tzinfo) -> np.ndarray:
    """Read naive wall-clock ``datetime64`` values in zone ``tz`` and return them in UTC.

    Ambiguous wall times (the repeated hour when clocks go back) and non-existent ones (the
    skipped hour) are resolved as :mod:`zoneinfo` does with ``fold=0``: with the offset in force
    before the transition.

    Examples
    --------
    >>> local_to_utc(np.array(["2024-07-01T12:00"], dtype="datetime64[us]"), "Europe/Paris")
    array(['2024-07-01T10:00:00.000000'], dtype='datetime64[us]')
    """
    zone = _tzinfo(tz)
    assert zone is not None

    def offset_of(us: int) -> int:
        wall = _dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=us)
        off = wall.replace(tzinfo=zone).utcoffset()
        return 0 if off is None else int(off / _dt.timedelta(microseconds=1))

    return _convert(values, offset_of, -1)


def utc_to_local(values: np.ndarray, tz: str | _dt.tzinfo) -> np.ndarray:
    """Convert UTC ``datetime64`` values to naive wall-clock values in zone ``tz``.

    Examples
    --------
    >>> utc_to_local(np.array(["2024-01-15T23:30"], dtype="datetime64[us]"), "Europe/Paris")
    array(['2024-01-16T00:30:00.000000'], dtype='datetime64[us]')
    """
    zone = _tzinfo(tz)
    assert zone is not None

    def offset_of(us: int) -> int:
        off = (EPOCH + _dt.timedelta(microseconds=us)).astimezone(zone).utcoffset()
        return 0 if off is None else int(off / _dt.timedelta(microseconds=1))

    return _convert(values, offset_of, +1)

"""One representation of time: ``datetime64[us]`` in UTC, and the conversions at the edge.

Timezone-aware input is converted to UTC; naive input is read as UTC unless a ``tz`` is given.
Durations are ``numpy.timedelta64[us]`` and may be written as ``"30min"``, ``"2h"`` or ``"7D"``.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

import attrs
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


#: Why a value could not be read as a time (``TimeParse.status``).
OK, MISSING, UNREADABLE, DIGITS, NUMBER, OUT_OF_RANGE = range(6)
_MIN_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00
_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999
_DIGITS = re.compile(r"^[+-]?\d+$")
# ISO 8601 basic format: 20240501, 20240501T1015, 20240501T101500.5+0200
_BASIC = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


@attrs.frozen
class TimeParse:
    """Times read from a column, with the status of each row and any whole-column problem."""

    times: np.ndarray
    status: np.ndarray
    problem: str | None = None


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
        datetime64 values, ISO 8601 strings in extended (``2024-05-01T10:15:00``) or basic
        (``20240501``, ``20240501T101500``) format, with or without ``Z`` / ``+01:00``
        offsets, :class:`datetime.datetime` / ``pandas.Timestamp`` objects, or numbers with
        ``unit``.
    tz : str or tzinfo, optional
        Zone in which naive values are read. Default: UTC. With ``tz``, a column may mix
        naive values (read in ``tz``) and aware ones (converted).
    unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric epoch values, also when they are written as text. Numbers are
        refused without it, and so is digit-only text that is not an ISO 8601 basic date
        (``"1714557600"``).
    fmt : str, optional
        A :func:`datetime.datetime.strptime` format for strings that are not ISO 8601, and
        for integers that write a date (``19970101`` with ``"%Y%m%d"``).

    Returns
    -------
    times : numpy.ndarray of datetime64[us]
        NaT where a value is missing or invalid.
    bad : numpy.ndarray of bool
        True where the value was missing or could not be read (times outside the years 1 to
        9999 included).
    problem : str or None
        A whole-column problem (mixed naive and aware values without ``tz``), or None.

    Examples
    --------
    >>> times, bad, _ = parse_times(["19970101", "20240501T101500", "1714557600"])
    >>> times[:2], bad.tolist()
    (array(['1997-01-01T00:00:00.000000', '2024-05-01T10:15:00.000000'],
          dtype='datetime64[us]'), [False, False, True])
    >>> parse_times(["1714557600"], unit="s")[0]
    array(['2024-05-01T10:00:00.000000'], dtype='datetime64[us]')
    """
    out = read_times(values, tz=tz, unit=unit, fmt=fmt)
    return out.times, out.status != OK, out.problem


def read_times(
    values: Any,
    *,
    tz: str | _dt.tzinfo | None = None,
    unit: str | None = None,
    fmt: str | None = None,
) -> TimeParse:
    """:func:`parse_times` with the reason each bad row was refused (``OK``, ``MISSING``,
    ``UNREADABLE``, ``DIGITS``, ``NUMBER``, ``OUT_OF_RANGE``)."""
    zone = _tzinfo(tz)
    if unit is not None and unit not in _UNIT_US:
        msg = f"time_unit must be one of 's', 'ms', 'us', 'ns', got {unit!r}"
        raise ConfigError(msg)
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    kind = arr.dtype.kind
    if kind == "M":
        out = arr.astype(TIME_DTYPE)
        status = np.where(np.isnat(out), MISSING, OK).astype(np.int8)
        _out_of_range(arr, out, status)
        if zone is not None:
            out = local_to_utc(out, zone)
        return TimeParse(out, status)
    if kind in "iu" and fmt is not None and unit is None:
        # numbers written in a date format, such as 19970101 with time_format="%Y%m%d"
        return _parse_objects(
            np.array([str(v) for v in arr.tolist()], dtype=object), zone, None, fmt
        )
    if kind in "iuf":
        if unit is None:
            problem = "numeric times need a unit (time_unit='s', 'ms', 'us' or 'ns')"
            if kind in "iu" and arr.size and arr.min() >= 10_000_101 and arr.max() <= 99_991_231:
                problem += ", or, for dates written as YYYYMMDD numbers, time_format='%Y%m%d'"
            return TimeParse(
                np.full(arr.shape, np.datetime64("NaT", "us"), dtype=TIME_DTYPE),
                np.full(arr.shape, NUMBER, dtype=np.int8),
                problem,
            )
        us, status = _epoch_us(arr, unit)
        return TimeParse(_as_times(us, status), status)
    if kind in "OUST":
        return _parse_objects(arr, zone, unit, fmt)
    return TimeParse(
        np.full(arr.shape, np.datetime64("NaT", "us"), dtype=TIME_DTYPE),
        np.full(arr.shape, UNREADABLE, dtype=np.int8),
        f"values of dtype {arr.dtype} cannot be read as times",
    )


def _epoch_us(arr: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since the epoch of numbers in ``unit``, with the status of each."""
    status = np.zeros(arr.shape, dtype=np.int8)
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore", over="ignore"):
            status[np.isnan(arr)] = MISSING
            scaled = arr / 1000 if unit == "ns" else arr * _UNIT_US[unit]
            status[(status == OK) & ~((scaled >= _MIN_US) & (scaled <= _MAX_US))] = OUT_OF_RANGE
            us = np.where(status == OK, np.floor(np.where(status == OK, scaled, 0)), 0)
        return us.astype(np.int64), status
    if arr.dtype.kind == "u":
        big = arr > np.uint64(2**62)
        status[big] = OUT_OF_RANGE
        arr = np.where(big, 0, arr).astype(np.int64)
    ints = arr.astype(np.int64)
    if unit == "ns":
        return ints // 1000, status
    factor = _UNIT_US[unit]
    assert factor is not None
    ok = (ints >= _MIN_US // factor) & (ints <= _MAX_US // factor)
    status[~ok & (status == OK)] = OUT_OF_RANGE
    return np.where(ok, ints, 0) * factor, status


def _as_times(us: np.ndarray, status: np.ndarray) -> np.ndarray:
    out = us.astype(np.int64).view(TIME_DTYPE).copy()
    out[status != OK] = np.datetime64("NaT", "us")
    return out


def _out_of_range(raw: np.ndarray, out: np.ndarray, status: np.ndarray) -> None:
    """Flag (in place) values outside the years 1 to 9999, which datetime cannot show."""
    unit, _ = np.datetime_data(raw.dtype)
    if unit in ("ns", "ps", "fs", "as"):
        return  # these units cannot reach beyond 1677-2262
    lo = np.datetime64(_MIN_US, "us").astype(raw.dtype)
    hi = np.datetime64(_MAX_US, "us").astype(raw.dtype)
    ints = raw.view(np.int64)  # NaT is the smallest int64
    if raw.size == 0 or (ints.max() <= hi.astype(np.int64) and ints.min() >= lo.astype(np.int64)):
        return  # the usual case, without a mask
    bad = ~np.isnat(raw) & ((raw < lo) | (raw > hi))
    status[bad] = OUT_OF_RANGE
    out[bad] = np.datetime64("NaT", "us")


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() in {"", "NaT", "nat", "NaN", "nan", "None", "null"}
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    try:
        # NaN, pandas.NaT (a datetime subclass) and numpy NaT compare unequal to themselves
        return bool(v != v)
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return type(v).__name__ in {"NAType", "NaTType"}


def _parse_objects(
    arr: np.ndarray, zone: _dt.tzinfo | None, unit: str | None, fmt: str | None
) -> TimeParse:
    """Parse object or string arrays value by unique value."""
    if arr.dtype.kind == "S":
        arr = arr.astype(object)
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
    n = len(uniques)
    us = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    aware = np.zeros(n, dtype=bool)
    texts = _Texts()
    for i, v in enumerate(uniques):
        if _is_missing(v):
            status[i] = MISSING
        elif isinstance(v, _dt.datetime):
            status[i], us[i], aware[i] = _from_datetime(v)
        elif isinstance(v, _dt.date):
            us[i] = _naive_to_us(_dt.datetime(v.year, v.month, v.day))
        elif isinstance(v, np.datetime64):
            one = np.array([v])
            value = one.astype(TIME_DTYPE)
            st = np.zeros(1, dtype=np.int8)
            _out_of_range(one, value, st)
            status[i] = st[0]
            us[i] = 0 if st[0] else int(value.astype(np.int64)[0])
        elif isinstance(v, str):
            status[i], us[i], aware[i] = texts.add(i, v.strip(), unit, fmt)
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)
        ):
            if unit is None:
                status[i] = NUMBER
            else:
                one_us, st = _epoch_us(np.array([v]), unit)
                status[i], us[i] = st[0], one_us[0]
        else:
            status[i] = UNREADABLE
    texts.finish(us, status)
    if aware.any() and zone is None and ((~aware) & (status == OK)).any():
        problem = (
            "mixed time-zone-aware and naive values; give every value an offset, or none, or "
            "pass tz= to say the zone of the naive ones"
        )
        # Flag the naive values (and the unreadable ones) so that callers can name them.
        flagged = np.where((status != OK) | ~aware, UNREADABLE, OK).astype(np.int8)
        out = np.full(arr.shape, np.datetime64("NaT", "us"), dtype=TIME_DTYPE)
        return TimeParse(out, flagged[inverse], problem)
    values = _as_times(us, status)
    if zone is not None:
        naive = np.flatnonzero(~aware & (status == OK))
        if naive.size:
            values[naive] = local_to_utc(values[naive], zone)
    # an offset or a zone may carry an instant just outside the years 1 to 9999
    _out_of_range(values, values, status)
    return TimeParse(values[inverse], status[inverse])


def _from_datetime(v: _dt.datetime) -> tuple[int, int, bool]:
    """(status, microseconds, aware) of a datetime or pandas.Timestamp."""
    try:
        if v.tzinfo is not None and v.utcoffset() is not None:
            d = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            # pandas.Timestamp nanoseconds are floored to the microsecond.
            return OK, _naive_to_us(d), True
        return OK, _naive_to_us(v.replace(tzinfo=None)), False
    except (OverflowError, ValueError):
        return OUT_OF_RANGE, 0, False


class _Texts:
    """Strings of a time column, parsed together once every value has been seen."""

    def __init__(self) -> None:
        self.index: list[int] = []
        self.texts: list[str] = []

    def add(self, i: int, s: str, unit: str | None, fmt: str | None) -> tuple[int, int, bool]:
        """Status, offset (or value) in microseconds and awareness of one string; strings
        left for :meth:`finish` (ISO 8601) get their offset now and their value then."""
        if fmt is not None:
            try:
                d = _dt.datetime.strptime(s, fmt)
            except ValueError:
                return UNREADABLE, 0, False
            return _from_datetime(d)
        if _DIGITS.match(s):
            if unit is not None:
                if len(s) > 25:
                    return OUT_OF_RANGE, 0, False
                us, st = _epoch_us(np.array([float(s) if len(s) > 18 else int(s)]), unit)
                return int(st[0]), int(us[0]), False
            basic = _BASIC.match(s)
            if basic is None:
                return DIGITS, 0, False
            s = _extended(basic)
        elif "T" in s and s[:1].isdigit():
            basic = _BASIC.match(s)
            if basic is not None:
                s = _extended(basic)
        aware = False
        offset = 0
        m = _TZ_SUFFIX.search(s)
        if m is not None:
            aware = True
            offset = -_offset_us(m.group("off"))
            s = s[: m.start("off")].rstrip()
        self.index.append(i)
        self.texts.append(s)
        return OK, offset, aware

    def finish(self, us: np.ndarray, status: np.ndarray) -> None:
        if not self.texts:
            return
        pending = np.array(self.index, dtype=np.int64)
        parsed, pstatus = _parse_iso(self.texts)
        us[pending] += parsed
        status[pending] = np.maximum(status[pending], pstatus)


def _extended(m: re.Match[str]) -> str:
    """The ISO 8601 extended form of a basic-format match."""
    year, month, day, hour, minute, second, frac, off = m.groups()
    text = f"{year}-{month}-{day}"
    if hour is not None:
        text += f"T{hour}:{minute}"
        if second is not None:
            text += f":{second}" + (f".{frac}" if frac else "")
    return text + (off or "")


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
    except (ValueError, OverflowError):
        parsed = np.zeros(n, dtype=TIME_DTYPE)
        for i, s in enumerate(cleaned):
            try:
                parsed[i] = np.datetime64(s, "us")
            except (ValueError, OverflowError):
                bad[i] = True
    bad |= np.isnat(parsed)
    out = parsed.astype(np.int64)
    out[bad] = 0
    return out, np.where(bad, UNREADABLE, OK).astype(np.int8)


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
    result[nat] = np.datetime64("NaT", "us")
    return result


def _given_zone(tz: str | _dt.tzinfo) -> _dt.tzinfo:
    zone = _tzinfo(tz)
    assert zone is not None
    return zone


def _micros(offset: _dt.timedelta | None) -> int:
    """A UTC offset in microseconds (0 when the zone gives none)."""
    return 0 if offset is None else int(offset / _dt.timedelta(microseconds=1))


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
    zone = _given_zone(tz)

    def offset_of(us: int) -> int:
        wall = _dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=us)
        return _micros(wall.replace(tzinfo=zone).utcoffset())

    return _convert(values, offset_of, -1)


def utc_to_local(values: np.ndarray, tz: str | _dt.tzinfo) -> np.ndarray:
    """Convert UTC ``datetime64`` values to naive wall-clock values in zone ``tz``.

    Examples
    --------
    >>> utc_to_local(np.array(["2024-01-15T23:30"], dtype="datetime64[us]"), "Europe/Paris")
    array(['2024-01-16T00:30:00.000000'], dtype='datetime64[us]')
    """
    zone = _given_zone(tz)

    def offset_of(us: int) -> int:
        return _micros((EPOCH + _dt.timedelta(microseconds=us)).astimezone(zone).utcoffset())

    return _convert(values, offset_of, +1)

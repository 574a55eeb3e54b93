"""Numbers, durations, money, intervals and times written for people, for summaries and display.

One place for how the library writes a number to a person: thousands separators, percentages,
durations as "2 h 5 min", money with its currency, plurals, intervals that read as intervals
and times with their zone. Every function returns ``str`` and writes a missing value as "-".
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

__all__ = [
    "count",
    "duration",
    "interval",
    "money",
    "number",
    "percent",
    "plural",
    "timestamp",
]

MISSING = "-"

# (seconds in the unit, its symbol), largest first
_UNITS = ((86_400.0, "d"), (3_600.0, "h"), (60.0, "min"), (1.0, "s"))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def count(n: Any) -> str:
    """A whole number with thousands separators.

    Examples
    --------
    >>> count(1234567), count(np.int64(-12)), count(None)
    ('1,234,567', '-12', '-')
    """
    if _missing(n):
        return MISSING
    return f"{int(n):,}"


def number(x: Any, digits: int = 2) -> str:
    """A number with thousands separators and at most ``digits`` decimals (no trailing zeros
    for whole numbers).

    Examples
    --------
    >>> number(1234.5678), number(1500.0), number(0.000123, 3), number(float("nan"))
    ('1,234.57', '1,500', '0.000123', '-')
    """
    if _missing(x):
        return MISSING
    v = float(x)
    if math.isinf(v):
        return "infinite" if v > 0 else "minus infinite"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.{digits}g}"
    return f"{v:,.{digits}f}"


def percent(share: Any, digits: int = 1, *, sign: bool = False) -> str:
    """A share (0.125) as a percentage ("12.5%"); ``sign`` writes "+" before gains.

    Examples
    --------
    >>> percent(0.125), percent(1 / 3, 0), percent(-0.05, sign=True), percent(None)
    ('12.5%', '33%', '-5.0%', '-')
    """
    if _missing(share):
        return MISSING
    return f"{100 * float(share):{'+' if sign else ''}.{digits}f}%"


def plural(n: Any, word: str, words: str | None = None) -> str:
    """A count and its noun, singular for one: "1 journey", "1,234 journeys".

    Examples
    --------
    >>> plural(1, "journey"), plural(1234, "journey"), plural(2, "person", "persons")
    ('1 journey', '1,234 journeys', '2 persons')
    >>> plural(0, "match", "matches")
    '0 matches'
    """
    if _missing(n):
        return f"{MISSING} {words or word + 's'}"
    whole = float(n) == int(n)
    shown = count(n) if whole else number(n)
    noun = word if whole and abs(int(n)) == 1 else (words or word + "s")
    return f"{shown} {noun}"


def _seconds(value: Any) -> float:
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, np.timedelta64):
        return float(value / np.timedelta64(1, "us")) / 1e6
    return float(value)


def duration(value: Any, *, parts: int = 2) -> str:
    """A length of time in its ``parts`` largest units: "2 h 5 min", "3 d 4 h", "45 s".

    ``value`` is a number of seconds, a ``datetime.timedelta`` or a ``numpy.timedelta64``.
    Less than a second is written in ms, less than ten seconds with one decimal; the last
    part shown is rounded.

    Examples
    --------
    >>> duration(7500), duration(np.timedelta64(3, "D") + np.timedelta64(4, "h"))
    ('2 h 5 min', '3 d 4 h')
    >>> duration(45.4), duration(2.25), duration(0.25), duration(0), duration(-90)
    ('45 s', '2.2 s', '250 ms', '0 s', 'minus 1 min 30 s')
    >>> duration(86_399.9, parts=1)
    '1 d'
    """
    if _missing(value):
        return MISSING
    seconds = _seconds(value)
    if seconds < 0:
        return "minus " + duration(-seconds, parts=parts)
    if seconds == 0:
        return "0 s"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    # round to the smallest unit shown, then split
    first = next(i for i, (size, _) in enumerate(_UNITS) if seconds >= size)
    last = min(first + parts, len(_UNITS)) - 1
    left = round(seconds / _UNITS[last][0]) * _UNITS[last][0]
    out: list[tuple[int, str]] = []
    for size, symbol in _UNITS[: last + 1]:
        whole = int(left // size)
        left -= whole * size
        if whole or out:
            out.append((whole, symbol))
    return " ".join(f"{w} {s}" for w, s in out[:parts] if w)


def money(amount: Any, currency: str | None = None, digits: int = 2) -> str:
    """An amount with thousands separators, two decimals and its currency code after it.

    Examples
    --------
    >>> money(1234.5, "EUR"), money(-3, "usd"), money(12.5), money(None, "EUR")
    ('1,234.50 EUR', '-3.00 USD', '12.50', '-')
    """
    if _missing(amount):
        return MISSING
    text = f"{float(amount):,.{digits}f}"
    return f"{text} {currency.upper()}" if currency else text


def interval(
    low: Any, high: Any, *, unit: str = "", formatter: Any = None, open_high: bool = False
) -> str:
    """An interval that reads as one: "7 to 14 days"; a single value when both ends agree
    ("7 days"); "730 days or more" for ``high`` None; ``open_high`` for a half-open bin.

    ``formatter`` writes each end (default :func:`number`); ``unit`` follows the interval.

    Examples
    --------
    >>> interval(7, 14, unit="days"), interval(7, 7, unit="days"), interval(730, None, unit="days")
    ('7 to 14 days', '7 days', '730 days or more')
    >>> interval(0.12, 0.19, formatter=percent), interval(3, 5, open_high=True)
    ('12.0% to 19.0%', '3 to under 5')
    >>> interval(-0.0123, 0.25, formatter=lambda v: percent(v, 0, sign=True))
    '-1% to +25%'
    """
    fmt = formatter or number
    tail = f" {unit}" if unit else ""
    if high is None or (isinstance(high, float) and math.isinf(high)):
        return f"{fmt(low)}{tail} or more"
    lo, hi = fmt(low), fmt(high)
    if lo == hi and not open_high:
        return f"{lo}{tail}"
    return f"{lo} to {'under ' if open_high else ''}{hi}{tail}"


def timestamp(value: Any, tz: str | None = "UTC", *, seconds: bool = False) -> str:
    """A time with its zone: "2024-05-01 10:15 UTC", or in ``tz`` ("2024-05-01 12:15 CEST").

    ``value`` is a ``numpy.datetime64`` (UTC, as tables store times) or a ``datetime``
    (naive ones are taken as UTC).

    Examples
    --------
    >>> timestamp(np.datetime64("2024-05-01T10:15:30"))
    '2024-05-01 10:15 UTC'
    >>> timestamp(np.datetime64("2024-05-01T10:15:30"), "Europe/Paris", seconds=True)
    '2024-05-01 12:15:30 CEST'
    """
    if _missing(value):
        return MISSING
    from omnijourney.time import as_datetime

    t = as_datetime(value) if isinstance(value, np.datetime64) else value
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    if tz is not None and tz != "UTC":
        from zoneinfo import ZoneInfo

        t = t.astimezone(ZoneInfo(tz))
    else:
        t = t.astimezone(_dt.timezone.utc)
    zone = "UTC" if tz in (None, "UTC") else t.tzname()
    return t.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "")) + f" {zone}"

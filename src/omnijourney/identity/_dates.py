"""Dates of birth as ISO days: ISO, ``YYYYMMDD``, ``DD/MM/YYYY`` and ``D/M/YY`` are read.

Part of the normalization (see :mod:`omnijourney.identity._normalize`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

import numpy as np

from omnijourney.identity._normalize import (
    _S,
    FAST_STRINGS,
    INVALID,
    PLACEHOLDER,
    VALID,
    NormalizeRules,
)

__all__ = ["date_key", "normalize_dates", "parse_date"]


# --------------------------------------------------------------------------- dates

_DATE_SEP = re.compile(r"^(\d{1,4})[/.\- ](\d{1,2})[/.\- ](\d{1,4})$")


def _day(year: int, month: int, day: int) -> np.datetime64 | None:
    try:
        return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")
    except ValueError:
        return None


def parse_date(text: str, rules: NormalizeRules) -> np.datetime64 | None:
    """One date from ISO, ``YYYYMMDD``, ``DD/MM/YYYY`` or ``D/M/YY`` text (None if unreadable).

    Examples
    --------
    >>> parse_date("2/3/85", NormalizeRules()), parse_date("1985-03-02", NormalizeRules())
    (np.datetime64('1985-03-02'), np.datetime64('1985-03-02'))
    """
    text = _drop_time(text.strip())
    if text.isdigit() and len(text) == 8:
        return _day(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _DATE_SEP.match(text)
    if not m:
        return None
    a, b, c = m.group(1), m.group(2), m.group(3)
    if len(a) == 4:
        return _day(int(a), int(b), int(c))
    day, month = (int(a), int(b)) if rules.date_order == "DMY" else (int(b), int(a))
    year = int(c)
    if len(c) == 2:
        year += 1900 if year > rules.two_digit_year_pivot else 2000
    elif len(c) != 4:
        return None
    return _day(year, month, day)


def _drop_time(text: str) -> str:
    if ":" not in text:
        return text
    return text.partition(" ")[0].partition("T")[0]


@lru_cache(maxsize=8)
def _placeholder_days(rules: NormalizeRules) -> frozenset[str]:
    return frozenset(str(parse_date(p, rules)) for p in rules.placeholder_dates)


def date_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One date of birth as ISO text: the reference for :func:`normalize_dates`."""
    day = parse_date(text, rules)
    if day is None:
        return None, INVALID
    iso = str(day)
    if iso in _placeholder_days(rules):
        return None, PLACEHOLDER
    if day > np.datetime64("today", "D") or day < np.datetime64("1900-01-01", "D"):
        return None, INVALID
    return iso, VALID


def normalize_dates(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Dates of birth as ISO ``YYYY-MM-DD``; unreadable, future or pre-1900 dates are invalid.

    Vectorized: the digit groups of every distinct text are read at once.

    Examples
    --------
    >>> values, status = normalize_dates(["1985-03-02", "02/03/1985", "2/3/85", "19850302",
    ...                                   "01/01/1900", "31/02/1985"], NormalizeRules())
    >>> values
    ['1985-03-02', '1985-03-02', '1985-03-02', '1985-03-02', '', '']
    >>> status.tolist()
    [1, 1, 1, 1, 3, 2]
    """
    texts = cast(np.ndarray, _S.strip(np.asarray(texts, dtype=str)))
    n = texts.size
    if n == 0:
        # the empty array itself, not a list
        return texts, np.zeros(0, dtype=np.int8)  # type: ignore[return-value]
    # a time part ("1985-03-02T00:00:00", "02/03/1985 00:00") is ignored
    if FAST_STRINGS:
        timed = _S.find(texts, ":") >= 0
        head = _S.partition(_S.partition(texts, " ")[0], "T")[0]
        texts = np.where(timed, head, texts)
    else:
        texts = np.array([_drop_time(t) for t in texts.tolist()], dtype=str)
    width = 10
    rest_ok = _S.str_len(texts) <= width
    chars = texts.astype(f"<U{width}").view(np.uint32).reshape(n, width)
    digit = (chars >= 48) & (chars <= 57)
    sep = np.isin(chars, [ord(c) for c in "/.- "])
    end = chars == 0
    well_formed = np.all(digit | sep | end, axis=1) & rest_ok & digit[:, 0]
    group = np.cumsum(sep, axis=1)
    value = np.zeros((n, 4), dtype=np.int64)
    length = np.zeros((n, 4), dtype=np.int64)
    rows = np.arange(n)
    for k in range(width):
        g = np.minimum(group[:, k], 3)
        d = digit[:, k]
        value[rows[d], g[d]] = value[rows[d], g[d]] * 10 + (chars[d, k].astype(np.int64) - 48)
        length[rows[d], g[d]] += 1
    n_groups = (length > 0).sum(axis=1)
    compact = well_formed & (n_groups == 1) & (length[:, 0] == 8)
    three = well_formed & (n_groups == 3) & (group[:, -1] <= 2) & np.all(length[:, :3] > 0, 1)
    iso_like = three & (length[:, 0] == 4)
    dmy = three & (length[:, 0] <= 2) & ((length[:, 2] == 2) | (length[:, 2] == 4))
    year = np.where(compact, value[:, 0] // 10_000, np.where(iso_like, value[:, 0], value[:, 2]))
    month = np.where(compact, value[:, 0] // 100 % 100, value[:, 1])
    day = np.where(compact, value[:, 0] % 100, np.where(iso_like, value[:, 2], value[:, 0]))
    if rules.date_order == "MDY":
        month, day = np.where(dmy, value[:, 0], month), np.where(dmy, value[:, 1], day)
    short = dmy & (length[:, 2] == 2)
    year = np.where(short, year + np.where(year > rules.two_digit_year_pivot, 1900, 2000), year)
    parsed = compact | iso_like | dmy
    parsed &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1) & (year < 9999)
    months = np.where(parsed, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(parsed, day - 1, 0).astype("timedelta64[D]")
    parsed &= days.astype("datetime64[M]") == months
    iso = np.datetime_as_string(days, unit="D")
    ph = parsed & np.isin(iso, list(_placeholder_days(rules)))
    today = np.datetime64("today", "D")
    ok = parsed & ~ph & (days <= today) & (days >= np.datetime64("1900-01-01", "D"))
    status = np.where(ph, PLACEHOLDER, np.where(ok, VALID, INVALID)).astype(np.int8)
    return np.where(ok, iso, "").tolist(), status

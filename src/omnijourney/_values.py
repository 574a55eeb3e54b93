"""Reading numbers, booleans, enum members and text-file values, with a reason for each refusal.

Each reader returns the stored array, the mask of null rows and a list of ``(mask, reason)``
refusals, so that the caller decides whether to raise or to quarantine. Text read from files
(:class:`~omnijourney._columns.TextColumns`) gets its kind from its values, as a DataFrame
library would infer it, except that ``"007"`` stays text and decimal commas need
``decimal=","``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from omnijourney.time import TimeParse, read_times

Refusals = list[tuple[np.ndarray, str]]

_NUMBER = {
    ".": re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"),
    ",": re.compile(r"^[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?$"),
}
_INTEGER = re.compile(r"^[+-]?\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")  # "007", "012.5": codes written with digits
# whole numbers as a DataFrame library writes them (no leading zeros): 12346, -5, 12346.0
_WHOLE = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.0+)?$")
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
_SPECIAL.update({"infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf})
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_TRUE = frozenset({"true", "t", "yes", "y", "1", "oui", "vrai"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "non", "faux"})
_BOOL_WORDS = frozenset({"true", "false"})
_INT64_MAX = 2**63 - 1

# refusal codes of the per-value readers (0 is a value, 1 a null)
_OK, _NULL = 0, 1
_REASONS = {
    2: "is not a number",
    3: "is a boolean, not a number (booleans are refused where numbers are expected)",
    4: "has a decimal comma; pass decimal=',' if commas mark the decimals of this file",
    5: "has a decimal point, but decimal=',' was given",
    6: "is too large for a number",
    7: "is not a whole number",
    8: "is out of the range of 64-bit integers",
    9: "is a time, not a number",
}


def is_null(v: Any) -> bool:
    """None, NaN, NaT, pandas.NA or blank text."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (np.floating, np.datetime64, np.timedelta64)):
        return bool(np.isnan(v)) if isinstance(v, np.floating) else bool(np.isnat(v))
    if isinstance(v, (int, bytes, np.integer, np.bool_)):
        return False
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return type(v).__name__ in {"NAType", "NaTType"}


def by_distinct(items: list[Any], read: Callable[[Any], tuple[int, Any]]) -> tuple[Any, Any]:
    """``read`` applied once per distinct item: the codes and values of every item."""
    codes = np.zeros(len(items), dtype=np.int8)
    values: list[Any] = [None] * len(items)
    seen: dict[Any, tuple[int, Any]] = {}
    for i, v in enumerate(items):
        try:
            hit = seen.get(v)
            if hit is None:
                hit = seen[v] = read(v)
        except TypeError:  # unhashable: read it alone
            hit = read(v)
        codes[i], values[i] = hit
    return codes, values


def _refusals(codes: np.ndarray) -> Refusals:
    """One refusal per reason found, the one met first in the rows first."""
    found = [(codes == c, reason) for c, reason in _REASONS.items() if (codes == c).any()]
    return sorted(found, key=lambda f: int(np.argmax(f[0])))


def _read_number(v: Any, decimal: str) -> tuple[int, float]:
    if is_null(v):
        return _NULL, math.nan
    if isinstance(v, (bool, np.bool_)):
        return 3, math.nan
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return 9, math.nan
    if isinstance(v, str):
        s = v.strip()
        special = _SPECIAL.get(s.lower())
        if special is not None:
            return (_NULL if math.isnan(special) else _OK), special
        if _NUMBER[decimal].match(s):
            v = s.replace(",", ".") if decimal == "," else s
        elif decimal == "." and _NUMBER[","].match(s):
            return 4, math.nan
        elif decimal == "," and _NUMBER["."].match(s):
            return 5, math.nan
        else:
            return 2, math.nan
    elif isinstance(v, bytes) or not isinstance(v, (int, float, np.number)):
        try:
            import decimal as _decimal
            import fractions

            if not isinstance(v, (_decimal.Decimal, fractions.Fraction)):
                return 2, math.nan
        except ImportError:  # pragma: no cover - standard library
            return 2, math.nan
    try:
        f = float(v)
    except OverflowError:
        return 6, math.nan
    except (TypeError, ValueError):
        return 2, math.nan
    return (_NULL if math.isnan(f) else _OK), f


def to_float(values: np.ndarray, *, decimal: str = ".") -> tuple[np.ndarray, np.ndarray, Refusals]:
    """float64 values (NaN for nulls), the null mask and the refusals."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "iuf":
        out = arr.astype(np.float64)
        return out, np.isnan(out), []
    if kind == "b":
        nan = np.full(arr.shape, np.nan)
        return nan, np.zeros(arr.shape, bool), [(np.ones(arr.shape, bool), _REASONS[3])]
    if kind in "mM":
        nan = np.full(arr.shape, np.nan)
        return nan, np.zeros(arr.shape, bool), [(np.ones(arr.shape, bool), _REASONS[9])]
    codes, floats = by_distinct(arr.astype(object).tolist(), lambda v: _read_number(v, decimal))
    out = np.array(floats, dtype=np.float64)
    return out, codes == _NULL, _refusals(codes)


def _read_int(v: Any, decimal: str) -> tuple[int, int]:
    if isinstance(v, str) and _INTEGER.match(v.strip()):
        i = int(v.strip())
    elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        i = int(v)
    else:
        code, f = _read_number(v, decimal)
        if code != _OK:
            return code, 0
        if not math.isfinite(f) or f != round(f) or abs(f) >= 2**53:
            return 7, 0
        i = int(f)
    return (_OK, i) if -_INT64_MAX - 1 <= i <= _INT64_MAX else (8, 0)


def to_int(values: np.ndarray, *, decimal: str = ".") -> tuple[np.ndarray, np.ndarray, Refusals]:
    """int64 values (0 for nulls), the null mask and the refusals."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    none = np.zeros(arr.shape, dtype=bool)
    if kind == "i":
        return arr.astype(np.int64), none, []
    if kind == "u":
        big = arr > _INT64_MAX
        out = np.where(big, 0, arr).astype(np.int64)
        return out, none, ([(big, _REASONS[8])] if big.any() else [])
    if kind == "f":
        with np.errstate(invalid="ignore"):
            null = np.isnan(arr)
            whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        out = np.where(whole, arr, 0).astype(np.int64)
        bad = ~null & ~whole
        return out, null, ([(bad, _REASONS[7])] if bad.any() else [])
    if kind == "b":
        return np.zeros(arr.shape, np.int64), none, [(np.ones(arr.shape, bool), _REASONS[3])]
    codes, ints = by_distinct(arr.astype(object).tolist(), lambda v: _read_int(v, decimal))
    return np.array(ints, dtype=np.int64), codes == _NULL, _refusals(codes)


def _read_bool(v: Any) -> tuple[int, bool]:
    if is_null(v):
        return _NULL, False
    if isinstance(v, (bool, np.bool_)):
        return _OK, bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
        return _OK, bool(v)
    if isinstance(v, str):
        word = v.strip().lower()
        if word in _TRUE or word in _FALSE:
            return _OK, word in _TRUE
    return 2, False


def to_bool(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, Refusals]:
    """Booleans from bools, 0/1 or true/false words; the null mask and the refusals."""
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        return arr.copy(), np.zeros(arr.shape, bool), []
    codes, flags = by_distinct(arr.astype(object).tolist(), _read_bool)
    bad = codes == 2
    refusals = [(bad, "is not a boolean")] if bad.any() else []
    return np.array(flags, dtype=bool), codes == _NULL, refusals


def to_enum(values: np.ndarray, cls: type[enum.Enum]) -> tuple[np.ndarray, np.ndarray, Refusals]:
    """Codes into the members of ``cls`` (by value or name); the null mask and the refusals."""
    lookup: dict[Any, int] = {}
    for i, m in enumerate(cls):
        lookup[m] = lookup[m.value] = lookup[m.name] = i
        if isinstance(m.value, str):
            lookup[m.value.upper()] = i

    def read(v: Any) -> tuple[int, int]:
        if is_null(v):
            return _NULL, -1
        probe = v.strip().lower() if isinstance(v, str) else v
        code = lookup.get(probe, lookup.get(v))
        return (2, -1) if code is None else (_OK, code)

    codes, members = by_distinct(np.asarray(values, dtype=object).reshape(-1).tolist(), read)
    bad = codes == 2
    allowed = ", ".join(repr(m.value) for m in cls)
    refusals = [(bad, f"is not one of {allowed}")] if bad.any() else []
    return np.array(members, dtype=np.int64).astype(np.int8), codes == _NULL, refusals


# --------------------------------------------------------------------------- text columns


def is_arrow(values: Any) -> bool:
    return type(values).__module__.startswith("pyarrow")


def text_objects(values: Any) -> np.ndarray:
    """A text column (pyarrow strings or an object array) as an object array."""
    if is_arrow(values):
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(values, dtype=object)


def _arrow_all_match(values: Any, pattern: str) -> bool:
    import pyarrow.compute as pc

    valid = values.drop_null() if hasattr(values, "drop_null") else values
    return bool(pc.all(pc.match_substring_regex(valid, pattern)).as_py() is not False)


def text_floats(values: Any, decimal: str) -> tuple[np.ndarray, np.ndarray, Refusals]:
    """Numbers from text; pyarrow parses columns that are plain numbers."""
    if is_arrow(values) and decimal == "." and _arrow_all_match(values, _NUMBER["."].pattern):
        import pyarrow as pa

        out = values.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return out, np.isnan(out), []
    return to_float(text_objects(values), decimal=decimal)


def text_ints(values: Any, decimal: str) -> tuple[np.ndarray, np.ndarray, Refusals]:
    if is_arrow(values) and values.null_count == 0 and _arrow_all_match(values, r"^-?\d{1,18}$"):
        import pyarrow as pa

        return values.cast(pa.int64()).to_numpy(), np.zeros(len(values), dtype=bool), []
    return to_int(text_objects(values), decimal=decimal)


def text_times(values: Any, *, tz: Any, unit: str | None, fmt: str | None) -> TimeParse:
    """Times from text; pyarrow parses columns of plain ISO 8601 times (all with an offset,
    or all without)."""
    if is_arrow(values) and unit is None and fmt is None and len(values):
        import pyarrow as pa

        naive = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
        aware = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$"
        for pattern, target in ((naive, pa.timestamp("us")), (aware, pa.timestamp("us", "UTC"))):
            if _arrow_all_match(values, pattern):
                try:
                    cast = values.cast(target)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    break  # a day or an hour out of range: the general parser names it
                ints = cast.cast(pa.int64()).fill_null(np.iinfo(np.int64).min)  # NaT
                out = np.asarray(ints.to_numpy(), dtype=np.int64).view("datetime64[us]")
                tz_for_naive = tz if target.tz is None else None
                return read_times(out, tz=tz_for_naive)
    return read_times(text_objects(values), tz=tz, unit=unit, fmt=fmt)


def whole_number_labels(labels: np.ndarray) -> np.ndarray | None:
    """Integer labels for text labels that are all whole numbers written without leading
    zeros (``12346`` or ``12346.0``) within the int64 range, as a DataFrame library reads
    them; None when one label is other text (``"007"`` stays text)."""
    if labels.dtype.kind != "O" or labels.size == 0:
        return None
    out: list[int] = []
    for s in labels.tolist():
        if not isinstance(s, str) or not _WHOLE.match(s):
            return None
        i = int(s.split(".", 1)[0])
        if not -_INT64_MAX - 1 <= i <= _INT64_MAX:
            return None
        out.append(i)
    return np.array(out, dtype=np.int64)


def guess_text_kind(values: Any, decimal: str) -> str:
    """The kind of a text column from its distinct values: ``bool`` (true/false), ``int``
    (whole numbers without leading zeros and without nulls), ``float`` (numbers), ``time``
    (ISO 8601 date-times with a time of day), else ``category``."""
    distinct = _distinct_texts(values)
    words = [s.strip() for s in distinct if isinstance(s, str) and s.strip()]
    has_null = len(words) < len(distinct)
    if not words:
        return "category"
    if all(w.lower() in _BOOL_WORDS for w in words):
        return "bool"
    if all(_WHOLE.match(w) and "." not in w and _fits(w) for w in words):
        return "float" if has_null else "int"
    number = _NUMBER[decimal]
    if all(
        (number.match(w) and not _LEADING_ZERO.match(w)) or w.lower() in _SPECIAL for w in words
    ):
        return "float"
    if all(_ISO_DATETIME.match(w) for w in words):
        return "time"
    return "category"


def _fits(digits: str) -> bool:
    return -_INT64_MAX - 1 <= int(digits) <= _INT64_MAX


def _distinct_texts(values: Any) -> list[Any]:
    if is_arrow(values):
        import pyarrow.compute as pc

        return list(pc.unique(values).to_pylist())
    return list(dict.fromkeys(text_objects(values).tolist()))

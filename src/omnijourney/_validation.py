"""Shared validation of configuration values: converters and validators that raise ConfigError.

Every configuration object (attrs classes such as ``JourneyRules``, ``BreakRules``,
``Policy``...) and every function parameter that is checked goes through these helpers, so that
a wrong value always raises :class:`~omnijourney.errors.ConfigError` naming the parameter, what
is accepted, and the value given (the message style of scikit-learn's parameter validation).

On attrs fields: a check is a validator through :func:`validator`
(``attrs.field(validator=validator(check_choice, ("a", "b")))``); a conversion is a named
function of the module (``def _window(value): return duration(value, "window")``), since the
attrs plugin of mypy reads named functions only.
"""

from __future__ import annotations

import enum as _enum
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, overload

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.time import to_timedelta64

E = TypeVar("E", bound=_enum.Enum)

__all__ = [
    "check_bool",
    "check_choice",
    "check_fraction",
    "check_positive_int",
    "check_text",
    "duration",
    "duration_converter",
    "members",
    "names",
    "names_converter",
    "number",
    "pairs",
    "validator",
]


def _fail(name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"The {name!r} parameter must be {expected}. Got {value!r} instead.")


def names(value: Any, name: str, *, allow_none: bool = True) -> frozenset[str]:
    """A set of names from one name or a collection of names.

    ``"purchase"`` is one name (never a sequence of characters); ``None`` is the empty set when
    ``allow_none``. Anything else that is not a collection of strings raises ConfigError.

    Examples
    --------
    >>> sorted(names(["order", "purchase"], "conversion_events"))
    ['order', 'purchase']
    >>> names("purchase", "conversion_events")
    frozenset({'purchase'})
    >>> names(5, "conversion_events")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'conversion_events' parameter must be a name or a collection of names. Got 5 instead.
    """
    if value is None:
        if allow_none:
            return frozenset()
        raise _fail(name, "a name or a collection of names", value)
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, (bytes, Mapping)) or not _iterable(value):
        raise _fail(name, "a name or a collection of names", value)
    out = []
    for v in value:
        if not isinstance(v, (str, np.str_)):
            raise _fail(name, "a name or a collection of names (strings)", value)
        out.append(str(v))
    return frozenset(out)


def names_converter(name: str, *, allow_none: bool = True) -> Callable[[Any], frozenset[str]]:
    """An attrs converter that reads ``names(value, name)``."""

    def convert(value: Any) -> frozenset[str]:
        return names(value, name, allow_none=allow_none)

    return convert


def members(value: Any, name: str, enum: type[E]) -> frozenset[E]:
    """A set of members of ``enum`` from one member (or its value) or a collection of them.

    Examples
    --------
    >>> from omnijourney.model import ChannelKind
    >>> sorted(k.value for k in members(["digital", ChannelKind.PHYSICAL], "kinds", ChannelKind))
    ['digital', 'physical']
    >>> members(5, "kinds", ChannelKind)
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'kinds' parameter must be a collection of ChannelKind values ('digital', 'physical', 'assisted', 'messaging', 'media', 'marketplace', 'other'). Got 5 instead.
    """
    allowed = ", ".join(repr(m.value) for m in enum)
    expected = f"a collection of {enum.__name__} values ({allowed})"
    items = [value] if isinstance(value, (str, enum)) else value
    if isinstance(items, (bytes, Mapping)) or not _iterable(items):
        raise _fail(name, expected, value)
    out = []
    for item in items:
        try:
            out.append(enum(item))
        except ValueError:
            raise _fail(name, expected, value) from None
    return frozenset(out)


def pairs(value: Any, name: str) -> tuple[tuple[str, Any], ...]:
    """Sorted ``(key, value)`` pairs from a mapping or an iterable of pairs (None: empty)."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items = list(value.items())
    else:
        if isinstance(value, (str, bytes)) or not _iterable(value):
            raise _fail(name, "a mapping", value)
        items = []
        for x in value:
            if isinstance(x, (str, bytes)) or not _iterable(x) or len(tuple(x)) != 2:
                raise _fail(name, "a mapping or a sequence of (key, value) pairs", value)
            items.append(tuple(x))
    return tuple(sorted(((str(k), v) for k, v in items), key=lambda kv: kv[0]))


@overload
def duration(
    value: Any, name: str, *, optional: Literal[False] = False, positive: bool = True
) -> np.timedelta64: ...
@overload
def duration(
    value: Any, name: str, *, optional: bool, positive: bool = True
) -> np.timedelta64 | None: ...
def duration(
    value: Any, name: str, *, optional: bool = False, positive: bool = True
) -> np.timedelta64 | None:
    """A duration parameter as ``timedelta64[us]`` (see :func:`omnijourney.time.to_timedelta64`).

    ``None`` is accepted only when ``optional``; with ``positive`` a zero or negative duration
    is refused.

    Examples
    --------
    >>> duration("30min", "visit_timeout")
    np.timedelta64(1800000000,'us')
    >>> duration("0s", "visit_timeout")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'visit_timeout' parameter must be a positive duration. Got '0s' instead.
    """
    if value is None:
        if optional:
            return None
        raise _fail(name, "a duration such as '30min', '2h' or '7D'", value)
    out = to_timedelta64(value, name=name, allow_negative=not positive)
    if positive and out <= np.timedelta64(0, "us"):
        raise _fail(name, "a positive duration", value)
    return out


def duration_converter(
    name: str, *, optional: bool = False, positive: bool = True
) -> Callable[[Any], Any]:
    """An attrs converter that reads ``duration(value, name, ...)``."""

    def convert(value: Any) -> Any:
        return duration(value, name, optional=optional, positive=positive)

    return convert


def check_positive_int(value: Any, name: str, *, optional: bool = False, minimum: int = 1) -> None:
    """Refuse anything but an integer >= ``minimum`` (booleans are not integers)."""
    if value is None and optional:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _fail(name, f"an integer >= {minimum}", value)
    if value < minimum:
        raise _fail(name, f"an integer >= {minimum}", value)


def check_fraction(
    value: Any, name: str, *, low_open: bool = False, high_open: bool = False
) -> float:
    """A number in [0, 1] (ends open on request); returns it as a float."""
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    expected = f"a number in {lo}0, 1{hi}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise _fail(name, expected, value)
    f = float(value)
    if math.isnan(f) or f < 0 or f > 1 or (low_open and f == 0) or (high_open and f == 1):
        raise _fail(name, expected, value)
    return f


@overload
def number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    low_open: bool = False,
    optional: Literal[False] = False,
) -> float: ...
@overload
def number(
    value: Any, name: str, *, minimum: float | None = None, low_open: bool = False, optional: bool
) -> float | None: ...
def number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    low_open: bool = False,
    optional: bool = False,
) -> float | None:
    """A finite real number as a float, ``>= minimum`` (``>`` with ``low_open``); booleans,
    text and NaN are refused. ``None`` is accepted (and returned) only when ``optional``.

    Examples
    --------
    >>> number("2", "amount")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'amount' parameter must be a finite number. Got '2' instead.
    >>> number(0, "max_stock", minimum=0, low_open=True)
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'max_stock' parameter must be a finite number > 0. Got 0 instead.
    """
    if value is None and optional:
        return None
    expected = "a finite number"
    if minimum is not None:
        expected += f" {'>' if low_open else '>='} {minimum:g}"
    if optional:
        expected += " or None"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise _fail(name, expected, value)
    f = float(value)
    if not math.isfinite(f):
        raise _fail(name, expected, value)
    if minimum is not None and (f < minimum or (low_open and f == minimum)):
        raise _fail(name, expected, value)
    return f


def check_bool(value: Any, name: str) -> None:
    """Refuse anything but ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(name, "True or False", value)


def check_text(value: Any, name: str, *, optional: bool = False) -> None:
    """Refuse anything but a non-blank string (or None when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, "a non-blank string" + (" or None" if optional else ""), value)


def validator(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., None]:
    """An attrs validator that runs ``check(value, field name, *args, **kwargs)``.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class Rules:
    ...     order: str = attrs.field(default="asc", validator=validator(check_choice, ("asc", "desc")))
    >>> Rules("up")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'order' parameter must be one of 'asc', 'desc'. Got 'up' instead.
    """

    def run(instance: Any, attribute: Any, value: Any) -> None:
        check(value, attribute.name, *args, **kwargs)

    return run


def check_choice(value: Any, name: str, choices: tuple[Any, ...]) -> None:
    """Refuse a value that is not one of ``choices``."""
    if isinstance(value, (list, dict, set)) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise _fail(name, f"one of {listed}", value)


def _iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True

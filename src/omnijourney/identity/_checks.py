"""Checks of identity's configuration values that the shared validators do not cover.

Sequences whose order matters (fields of a rule, sources from the most trusted), sequences of
configuration objects, and decisions naming records: each wrong value is a
:class:`~omnijourney.ConfigError` naming the parameter, in the message style of
:mod:`omnijourney._validation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from omnijourney.errors import ConfigError

__all__ = [
    "check_instance",
    "decision_pairs",
    "instances",
    "ordered_names",
    "ordered_values",
    "text_pairs",
    "texts",
]

T = TypeVar("T")


def _fail(name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"The {name!r} parameter must be {expected}. Got {value!r} instead.")


def _items(value: Any) -> list[Any] | None:
    """The items of a collection (not text, bytes or a mapping), else None."""
    if isinstance(value, (str, bytes, Mapping)):
        return None
    try:
        return list(value)
    except TypeError:
        return None


def ordered_names(value: Any, name: str) -> tuple[str, ...]:
    """Names in the order given, from one name or a sequence of names.

    Examples
    --------
    >>> ordered_names("email", "fields"), ordered_names(["web", "crm"], "source_priority")
    (('email',), ('web', 'crm'))
    >>> ordered_names(5, "fields")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'fields' parameter must be a name or a sequence of names (strings). Got 5 instead.
    """
    if isinstance(value, (str, np.str_)):
        return (str(value),)
    items = _items(value)
    if items is None or not all(isinstance(v, (str, np.str_)) for v in items):
        raise _fail(name, "a name or a sequence of names (strings)", value)
    return tuple(str(v) for v in items)


def ordered_values(value: Any, name: str) -> list[Any]:
    """The items of a sequence (not text, bytes or a mapping), in order."""
    items = _items(value)
    if items is None:
        raise _fail(name, "a sequence", value)
    return items


def check_instance(value: Any, name: str, cls: type, *, optional: bool = False) -> None:
    """Refuse anything but an instance of ``cls`` (or None when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, cls):
        raise _fail(name, f"a {cls.__name__}" + (" or None" if optional else ""), value)


def instances(value: Any, name: str, cls: type[T]) -> tuple[T, ...] | None:
    """A tuple of ``cls`` objects from a sequence of them (None stays None)."""
    if value is None:
        return None
    items = _items(value)
    if items is None or not all(isinstance(v, cls) for v in items):
        raise _fail(name, f"a sequence of {cls.__name__} objects or None", value)
    return tuple(items)


def _record_key(value: Any) -> tuple[str, str] | None:
    items = _items(value)
    if items is None or len(items) != 2:
        return None
    if not all(isinstance(v, (str, np.str_, int, np.integer)) for v in items):
        return None
    if any(isinstance(v, (bool, np.bool_)) for v in items):
        return None
    return (str(items[0]), str(items[1]))


def decision_pairs(value: Any, name: str) -> tuple[tuple[tuple[str, str], tuple[str, str]], ...]:
    """Pairs of records, each ``(source, record_id)``, from a sequence of pairs.

    Examples
    --------
    >>> decision_pairs([(("web", "W1"), ("crm", 7))], "cannot_link")
    ((('web', 'W1'), ('crm', '7')),)
    >>> decision_pairs([("web", "W1")], "cannot_link")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'cannot_link' parameter must be a sequence of pairs of records, each (source, record_id). Got [('web', 'W1')] instead.
    """
    expected = "a sequence of pairs of records, each (source, record_id)"
    items = _items(() if value is None else value)
    if items is None:
        raise _fail(name, expected, value)
    out = []
    for pair in items:
        both = _items(pair)
        keys = [_record_key(k) for k in both] if both is not None and len(both) == 2 else []
        if len(keys) != 2 or keys[0] is None or keys[1] is None:
            raise _fail(name, expected, value)
        out.append((keys[0], keys[1]))
    return tuple(out)


def texts(value: Any, name: str) -> tuple[str, ...]:
    """Values written as text, from one text or a sequence of texts or numbers (a phone
    number may be given as one)."""
    if isinstance(value, (str, np.str_)):
        return (str(value),)
    items = _items(value)
    ok = (str, np.str_, int, np.integer)
    if items is None or not all(isinstance(v, ok) and not isinstance(v, bool) for v in items):
        raise _fail(name, "a text or a sequence of texts", value)
    return tuple(str(v) for v in items)


def text_pairs(value: Any, name: str) -> tuple[tuple[str, str], ...]:
    """``(text, text)`` pairs from a mapping or a sequence of pairs."""
    items = list(value.items()) if isinstance(value, Mapping) else _items(value)
    pairs = [_items(v) for v in items] if items is not None else None
    if pairs is None or not all(
        p is not None and len(p) == 2 and all(isinstance(x, (str, np.str_)) for x in p)
        for p in pairs
    ):
        raise _fail(name, "a mapping or a sequence of (text, text) pairs", value)
    return tuple((str(a), str(b)) for a, b in pairs)  # type: ignore[misc]

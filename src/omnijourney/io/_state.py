"""Types that write their own JSON state: a tag, a to-state and a from-state function each.

Records, results (attrs classes) and tables need nothing: the converter knows them from their
fields and columns. A type that is neither (a container holding private arrays, say) registers
how to write and read it when its own module is imported, so that ``omnijourney.io`` never
imports a capability. A tag names the type's public home as ``module:name``; a tag read from a
document is resolved by importing that module lazily, and when a private module has since moved,
the public package it belongs to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import attrs

from omnijourney.errors import ConfigError, SchemaError

__all__ = ["JsonState", "json_state_of", "register_json_state", "resolve_tag"]

#: ``to_state(obj, unstructure)``: the object as JSON-ready values, nested values written with
#: ``unstructure`` (tables, arrays, records...).
ToState = Callable[[Any, Callable[[Any], Any]], dict[str, Any]]
#: ``from_state(state, structure)``: the object back, nested values read with
#: ``structure(value, type)``.
FromState = Callable[[dict[str, Any], Callable[[Any, Any], Any]], Any]


@attrs.frozen
class JsonState:
    """How one type is written to and read from JSON (see :func:`register_json_state`)."""

    cls: type
    tag: str
    to_state: ToState
    from_state: FromState


_BY_TYPE: dict[type, JsonState] = {}
_BY_TAG: dict[str, JsonState] = {}


def register_json_state(cls: type, *, tag: str, to_state: ToState, from_state: FromState) -> None:
    """Say how ``cls`` is written to JSON and read back.

    For types that are neither attrs classes nor tables (those need nothing). Call it in the
    module that defines the type, so that it runs when the type is imported.

    Parameters
    ----------
    cls : type
        The type (subclasses use the same functions unless they register their own).
    tag : str
        ``"package:Name"``, the public home of the type; written in the document's ``type``
        field, so that a document says what it holds.
    to_state : callable
        ``to_state(obj, unstructure) -> dict``: the object's state as JSON-ready values;
        ``unstructure`` writes nested values (tables, arrays, records, results).
    from_state : callable
        ``from_state(state, structure) -> obj``: the object from its state; ``structure(value,
        type)`` reads nested values.

    Examples
    --------
    >>> import omnijourney as oj
    >>> class Span:
    ...     def __init__(self, lo, hi):
    ...         self.lo, self.hi = lo, hi
    >>> register_json_state(
    ...     Span, tag="mypackage:Span",
    ...     to_state=lambda s, unstructure: {"bounds": [s.lo, s.hi]},
    ...     from_state=lambda state, structure: Span(*state["bounds"]))
    >>> oj.to_json(Span(1, 5))
    '{"type": "mypackage:Span", "bounds": [1, 5]}'
    >>> oj.from_json(oj.to_json(Span(1, 5)), Span).hi
    5
    """
    module, sep, name = tag.partition(":")
    if not (module and sep and name):
        msg = f"The 'tag' parameter must be 'module:Name'. Got {tag!r} instead."
        raise ConfigError(msg)
    entry = JsonState(cls, tag, to_state, from_state)
    _BY_TYPE[cls] = entry
    _BY_TAG[tag] = entry


def json_state_of(cls: Any) -> JsonState | None:
    """The registered state of ``cls`` or of its nearest registered base class, if any."""
    if not isinstance(cls, type):
        return None
    for base in cls.__mro__:
        entry = _BY_TYPE.get(base)
        if entry is not None:
            return entry
    return None


def resolve_tag(tag: str) -> Any:
    """The object a tag ``module:qualname`` names (a registered type, an enum...).

    Only omnijourney's modules and registered tags are looked up. The module is imported on
    first use; when it no longer exists or no longer holds the name (a private module that
    moved), the name is looked up in the public package that held it
    (``omnijourney.pricing._tables:Audience`` -> ``omnijourney.pricing.Audience``).
    """
    entry = _BY_TAG.get(tag)
    if entry is not None:
        return entry.cls
    module, _, qualname = tag.partition(":")
    parts = module.split(".")
    if parts[0] != "omnijourney" or not qualname:
        msg = f"refusing to read the type {tag!r}: only omnijourney's types and registered ones"
        raise SchemaError(msg)
    found = _lookup(module, qualname)
    if found is None:
        public = ".".join(p for p in parts[:2] if not p.startswith("_")) or "omnijourney"
        found = _lookup(public, qualname.rpartition(".")[2])
    if found is None:
        msg = f"the type {tag!r} does not exist in this version of omnijourney"
        raise SchemaError(msg)
    return found


def _lookup(module: str, qualname: str) -> Any:
    try:
        obj: Any = importlib.import_module(module)
    except ImportError:
        return None
    for name in qualname.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj

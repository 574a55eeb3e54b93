"""One cattrs converter that (un)structures every omnijourney record, result and table.

Times become ISO 8601 strings, durations integer microseconds, enums their values, numpy
scalars Python numbers and numpy arrays ``{"dtype": ..., "data": [...]}``; the round trip
``from_json(to_json(x), type(x)) == x`` is exact.

The text is standard JSON (RFC 8259): a float that is not finite is written as one of the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (the spellings Python's ``float`` and
JavaScript read), and read back exactly wherever a float is expected (typed fields, float
arrays); in untyped values (``attributes``) it comes back as that string. Text that is not
JSON raises :class:`~omnijourney.errors.DataError`; JSON that does not hold the type asked for
raises :class:`~omnijourney.errors.SchemaError` listing every problem with its path
(``$.time``, ``$.findings.columns``...).
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
from functools import lru_cache
from typing import Any, TypeVar, Union

import attrs
import cattrs
import numpy as np

from omnijourney._random import Seed
from omnijourney.errors import ConfigError, DataError, OmnijourneyError, SchemaError
from omnijourney.io._state import json_state_of, resolve_tag
from omnijourney.model import Channel, CustomerId, FrozenMap
from omnijourney.tables import ColumnSpec, Table

__all__ = ["from_dict", "from_json", "make_converter", "to_dict", "to_json"]

T = TypeVar("T")


def _unstructure_datetime(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _structure_datetime(value: Any, _: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if not isinstance(value, str):
        raise DataError(f"expected an ISO 8601 time string, got {value!r}")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"expected an ISO 8601 time string, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def _unstructure_array(arr: np.ndarray) -> dict[str, Any]:
    if arr.dtype.kind == "M":
        data: list[Any] = arr.astype("datetime64[us]").astype(np.int64).tolist()
        return {"dtype": "datetime64[us]", "data": data}
    if arr.dtype.kind == "m":
        return {
            "dtype": "timedelta64[us]",
            "data": arr.astype("timedelta64[us]").astype(np.int64).tolist(),
        }
    if arr.dtype.kind == "O":
        return {
            "dtype": "object",
            "data": [v.item() if isinstance(v, np.generic) else v for v in arr.tolist()],
        }
    if arr.dtype.kind == "U":
        return {"dtype": "object", "data": arr.tolist()}
    data = arr.tolist()
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        data = _finite(data)
    return {"dtype": arr.dtype.str, "data": data, "shape": list(arr.shape)}


def _structure_array(value: Any, _: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    _expect(value, ("dtype", "data"), "an array")
    dtype = value["dtype"]
    if dtype in ("datetime64[us]", "timedelta64[us]"):
        return np.asarray(value["data"], dtype=np.int64).view(dtype)
    if dtype == "object":
        out = np.empty(len(value["data"]), dtype=object)
        out[:] = value["data"]
        return out
    arr = np.asarray(value["data"], dtype=np.dtype(dtype))
    shape = value.get("shape")
    return arr.reshape(shape) if shape is not None else arr


def _structure_id(value: Any, _: Any) -> CustomerId:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        msg = f"an identifier must be a string or an integer, got {value!r}"
        raise ConfigError(msg)
    return value


def _unstructure_table(table: Table) -> dict[str, Any]:
    columns = {}
    for name, kind in table.kinds.items():
        col: dict[str, Any] = {"kind": kind, "data": _unstructure_array(table.raw(name))}
        if kind == "category":
            col["labels"] = _unstructure_array(table.labels(name))
        spec = table.spec(name)
        if kind == "enum" and spec.enum is not None:
            col["enum"] = f"{spec.enum.__module__}:{spec.enum.__qualname__}"
        columns[name] = col
    out: dict[str, Any] = {"type": type(table).__name__, "columns": columns}
    channels = table.meta.get("channels")
    if channels:
        out["channels"] = [
            {"name": c.name, "kind": c.kind.value, "initiator": c.initiator.value} for c in channels
        ]
    if table.sorted_by:
        out["sorted_by"] = list(table.sorted_by)
    return out


def _structure_table(value: Any, cls: type[Table]) -> Table:
    if isinstance(value, Table):
        return value
    _expect(value, ("columns",), f"a {cls.__name__}")
    _expect(value["columns"], (), "a mapping of column names to columns", "columns")
    schema = {s.name: s for s in cls.schema}
    data, labels, specs = {}, {}, {}
    for name, col in value["columns"].items():
        _expect(col, ("kind", "data"), "a column", f"columns.{name}")
        data[name] = _structure_array(col["data"], None)
        spec = schema.get(name)
        if spec is None or spec.kind != col["kind"]:
            spec = ColumnSpec(name, col["kind"], enum=_enum_class(col.get("enum")))
        specs[name] = spec
        if "labels" in col:
            labels[name] = _structure_array(col["labels"], None)
    meta = {}
    if value.get("channels"):
        meta["channels"] = tuple(Channel(**c) for c in value["channels"])
    sorted_by = tuple(value.get("sorted_by", ()))
    return cls.from_arrays(data, labels, meta=meta, specs=specs, sorted_by=sorted_by)


def _enum_class(tag: str | None) -> Any:
    """The enum class a column names as ``module:qualname`` (omnijourney's only)."""
    if tag is None:
        return None
    found = resolve_tag(tag)
    if not (isinstance(found, type) and issubclass(found, enum.Enum)):
        msg = f"the column's enum {tag!r} is not an enum"
        raise SchemaError(msg)
    return found


def _unstructure_state(obj: Any) -> dict[str, Any]:
    entry = json_state_of(type(obj))
    assert entry is not None  # the hook's predicate
    return {"type": entry.tag, **entry.to_state(obj, _converter().unstructure)}


def _structure_state(value: Any, cls: type) -> Any:
    entry = json_state_of(cls)
    assert entry is not None  # the hook's predicate
    if isinstance(value, cls):
        return value
    _expect(value, (), f"a {cls.__name__}")
    tag = value.get("type", entry.tag)  # documents written before tags had none
    if tag != entry.tag:
        msg = f"expected a {cls.__name__} ({entry.tag}), got a document of type {tag!r}"
        raise SchemaError(msg)
    state = {k: v for k, v in value.items() if k != "type"}
    return entry.from_state(state, _converter().structure)


def _expect(value: Any, keys: tuple[str, ...], what: str, where: str = "") -> None:
    """Refuse ``value`` unless it is a JSON object with ``keys``, naming the path."""
    at = f"$.{where}" if where else "$"
    if not isinstance(value, dict):
        msg = f"expected {what} (a JSON object) @ {at}, got {type(value).__name__}"
        raise SchemaError(msg)
    missing = [k for k in keys if k not in value]
    if missing:
        msg = f"expected {what}: required field missing @ {at}.{missing[0]}"
        raise SchemaError(msg)


def _finite(values: Any) -> Any:
    """A copy of a JSON-ready tree with non-finite floats spelled as strings."""
    if isinstance(values, float):
        if math.isfinite(values):
            return values
        return "NaN" if math.isnan(values) else ("Infinity" if values > 0 else "-Infinity")
    if isinstance(values, list):
        return [_finite(v) for v in values]
    if isinstance(values, dict):
        return {k: _finite(v) for k, v in values.items()}
    return values


def _is_set_type(t: Any) -> bool:
    origin = getattr(t, "__origin__", t)
    return origin in (set, frozenset)


def _unstructure_set(values: Any) -> list[Any]:
    """Sets as sorted lists, so that the JSON text is the same for equal sets."""
    items = list(values)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def make_converter() -> cattrs.Converter:
    """A new converter configured for every omnijourney type (extend it for your own types).

    Records, results (attrs classes) and tables are written from their fields and columns;
    types that are neither say how with :func:`register_json_state`.
    """
    conv = cattrs.Converter()
    conv.register_unstructure_hook(_dt.datetime, _unstructure_datetime)
    conv.register_structure_hook(_dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(_dt.timedelta, lambda d: d // _dt.timedelta(microseconds=1))
    conv.register_structure_hook(_dt.timedelta, lambda v, _: _dt.timedelta(microseconds=int(v)))
    conv.register_unstructure_hook(
        np.datetime64, lambda v: int(v.astype("datetime64[us]").astype(np.int64))
    )
    conv.register_structure_hook(np.datetime64, lambda v, _: np.datetime64(int(v), "us"))
    conv.register_unstructure_hook(
        np.timedelta64, lambda v: int(v.astype("timedelta64[us]").astype(np.int64))
    )
    conv.register_structure_hook(np.timedelta64, lambda v, _: np.timedelta64(int(v), "us"))
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, np.generic), lambda v: v.item()
    )
    conv.register_unstructure_hook(np.ndarray, _unstructure_array)
    conv.register_structure_hook(np.ndarray, _structure_array)
    conv.register_unstructure_hook_func(_is_set_type, _unstructure_set)
    conv.register_unstructure_hook(FrozenMap, dict)
    conv.register_structure_hook(FrozenMap, lambda v, _: FrozenMap(v))
    conv.register_structure_hook(Union[str, int], _structure_id)
    # a seed (int or numpy Generator) is written as the integer it is
    conv.register_structure_hook(Seed, lambda v, _: int(v))
    conv.register_structure_hook(
        Union[str, int, None], lambda v, _: None if v is None else _structure_id(v, _)
    )
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Table), _unstructure_table
    )
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Table), _structure_table
    )
    # types that write their own state, registered by their modules (see register_json_state)
    conv.register_unstructure_hook_func(lambda t: json_state_of(t) is not None, _unstructure_state)
    conv.register_structure_hook_func(lambda t: json_state_of(t) is not None, _structure_state)
    return conv


@lru_cache(maxsize=1)
def _converter() -> cattrs.Converter:
    return make_converter()


def to_dict(obj: Any) -> Any:
    """Unstructure a record, result or table into JSON-ready Python values."""
    return _converter().unstructure(obj)


def _problem(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, OmnijourneyError):
        return str(exc).split(" @ $")[0]
    if isinstance(exc, KeyError):
        return "required field missing"
    name = getattr(type_, "__name__", None) or str(type_)
    return f"expected {name}, got an invalid value ({type(exc).__name__}: {exc})"


def from_dict(data: Any, cls: type[T]) -> T:
    """Structure JSON-ready values back into ``cls``.

    Raises
    ------
    SchemaError
        ``data`` does not hold a ``cls``: the message lists every problem with its path.
    """
    name = getattr(cls, "__name__", str(cls))
    if attrs.has(cls) and not isinstance(data, dict):
        msg = f"the JSON does not hold a {name}: expected an object @ $, got {type(data).__name__}"
        raise SchemaError(msg, table=name)
    try:
        return _converter().structure(data, cls)
    except cattrs.BaseValidationError as exc:
        problems = cattrs.transform_error(exc, format_exception=_problem)
        msg = f"the JSON does not hold a {name}: " + "; ".join(problems)
        raise SchemaError(msg, table=name) from exc
    except SchemaError as exc:
        msg = f"the JSON does not hold a {name}: {exc}"
        raise SchemaError(msg, table=name) from exc
    except OmnijourneyError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        msg = f"the JSON does not hold a {name} @ $: {_problem(exc, cls)}"
        raise SchemaError(msg, table=name) from exc


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialize a record, result or table to standard JSON text.

    Floats that are not finite are written as the strings ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"``, and read back exactly by :func:`from_json` where a float is expected.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.Touchpoint(customer="C1", time="2024-05-01T10:00:00Z", channel="web",
    ...                    event="purchase", value=42.5, currency="EUR")
    >>> text = oj.to_json(tp)
    >>> oj.from_json(text, oj.Touchpoint) == tp
    True
    """
    data = to_dict(obj)
    try:
        return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a non-finite float outside a float array
        return json.dumps(_finite(data), indent=indent, ensure_ascii=False, allow_nan=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Read JSON text produced by :func:`to_json` back into ``cls``.

    Raises
    ------
    DataError
        ``text`` is not JSON (the message gives the line, column and what was expected).
    SchemaError
        The JSON does not hold a ``cls`` (the message lists every problem with its path).

    Examples
    --------
    >>> import omnijourney as oj
    >>> oj.from_json('{"customer": "C1", "channel": "web"}', oj.Touchpoint)
    Traceback (most recent call last):
    ...
    omnijourney.errors.SchemaError: the JSON does not hold a Touchpoint: required field missing @ $.time; required field missing @ $.event
    """
    name = getattr(cls, "__name__", str(cls))
    if not isinstance(text, (str, bytes, bytearray)):
        msg = f"from_json reads JSON text (str or bytes), got {type(text).__name__}"
        raise ConfigError(msg)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        snippet = exc.doc[max(exc.pos - 20, 0) : exc.pos + 20]
        reason = (
            f"the text is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
            f"(near {snippet!r})"
        )
        raise DataError(reason, table=name) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"the text is not UTF-8 JSON: {exc}", table=name) from None
    return from_dict(data, cls)

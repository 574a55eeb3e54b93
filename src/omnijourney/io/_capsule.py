"""The Arrow C data interface of a table built with ctypes, for when pyarrow is not installed:
tables still hand themselves to polars, DuckDB and pandas through ``__arrow_c_stream__``.

The structures are those of the Arrow C data and C stream interfaces
(https://arrow.apache.org/docs/format/CDataInterface.html). The numeric columns are handed over
without a copy (the numpy arrays are kept alive until the consumer releases them); category
columns become dictionary arrays over their codes, times ``timestamp[us, UTC]``, nulls
validity bitmaps. The schema and values are those of ``Table.to_arrow``.

Limit: the release callbacks are Python functions called through ctypes. CPython cannot call
them while an exception is being raised, so data a consumer frees during an exception (a
DataFrame only referenced by a function's arguments when the function raises) is released
late and the exception is reported as a ``SystemError``. That is why the stream comes from
pyarrow whenever pyarrow is installed.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator, Mapping, Sequence
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int64, c_void_p
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from omnijourney.tables import Table

__all__ = ["ArrowColumn", "arrow_columns", "ordered_codes", "schema_capsule", "stream_capsule"]


class ArrowSchema(Structure):
    pass


class ArrowArray(Structure):
    pass


class ArrowArrayStream(Structure):
    pass


_SchemaRelease = CFUNCTYPE(None, POINTER(ArrowSchema))
_ArrayRelease = CFUNCTYPE(None, POINTER(ArrowArray))
_StreamRelease = CFUNCTYPE(None, POINTER(ArrowArrayStream))
_GetSchema = CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowSchema))
_GetNext = CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowArray))
_GetLastError = CFUNCTYPE(c_void_p, POINTER(ArrowArrayStream))

ArrowSchema._fields_ = [
    ("format", c_char_p),
    ("name", c_char_p),
    ("metadata", c_char_p),
    ("flags", c_int64),
    ("n_children", c_int64),
    ("children", POINTER(POINTER(ArrowSchema))),
    ("dictionary", POINTER(ArrowSchema)),
    ("release", _SchemaRelease),
    ("private_data", c_void_p),
]
ArrowArray._fields_ = [
    ("length", c_int64),
    ("null_count", c_int64),
    ("offset", c_int64),
    ("n_buffers", c_int64),
    ("n_children", c_int64),
    ("buffers", POINTER(c_void_p)),
    ("children", POINTER(POINTER(ArrowArray))),
    ("dictionary", POINTER(ArrowArray)),
    ("release", _ArrayRelease),
    ("private_data", c_void_p),
]
ArrowArrayStream._fields_ = [
    ("get_schema", _GetSchema),
    ("get_next", _GetNext),
    ("get_last_error", _GetLastError),
    ("release", _StreamRelease),
    ("private_data", c_void_p),
]

_DICTIONARY_ORDERED = 1
_NULLABLE = 2
_EIO = 5

# What each exported structure owns (buffers, children, strings), by its private_data key,
# until its release callback runs; the key is a number, never a Python address.
_KEEP: dict[int, Any] = {}
_KEYS = itertools.count(1)


def _keep(owned: Any) -> int:
    key = next(_KEYS)
    _KEEP[key] = owned
    return key


def _clear(address: int, field: Any) -> None:
    ctypes.memset(address + field.offset, 0, ctypes.sizeof(c_void_p))


def _pointer_at(address: int, field: Any) -> int | None:
    return c_void_p.from_address(address + field.offset).value


def _release_child(pointer: Any, kind: Any) -> None:
    if _pointer_at(ctypes.addressof(pointer.contents), kind.release):
        pointer.contents.release(pointer)


def _releaser(kind: Any) -> Any:
    """The release callback of schemas or arrays: children and dictionary (unless the consumer
    moved them out), then what the structure owns; its ``release`` becomes NULL."""

    def release(ptr: Any) -> None:
        struct = ptr.contents
        for i in range(struct.n_children):
            _release_child(struct.children[i], kind)
        if struct.dictionary:
            _release_child(struct.dictionary, kind)
        _KEEP.pop(struct.private_data or 0, None)
        _clear(ctypes.addressof(struct), kind.release)

    return release


_RELEASE_SCHEMA = _SchemaRelease(_releaser(ArrowSchema))
_RELEASE_ARRAY = _ArrayRelease(_releaser(ArrowArray))


# --------------------------------------------------------------------------- columns


class ArrowColumn:
    """One column in Arrow terms: format, buffers, an optional dictionary column."""

    __slots__ = ("buffers", "dictionary", "format", "length", "null_count", "ordered")

    def __init__(
        self,
        format: str,
        length: int,
        buffers: Sequence[np.ndarray | None],
        *,
        null_count: int = 0,
        dictionary: ArrowColumn | None = None,
        ordered: bool = False,
    ) -> None:
        self.format = format
        self.length = length
        self.buffers = list(buffers)
        self.null_count = null_count
        self.dictionary = dictionary
        self.ordered = ordered


_INT_FORMATS = {"i1": "c", "i2": "s", "i4": "i", "i8": "l", "u1": "C", "u2": "S", "u4": "I"}
_INT_FORMATS |= {"u8": "L", "f4": "f", "f8": "g"}


def _validity(valid: np.ndarray) -> tuple[np.ndarray | None, int]:
    nulls = int(valid.size - np.count_nonzero(valid))
    if not nulls:
        return None, 0
    return np.packbits(valid, bitorder="little"), nulls


def _nonempty(arr: np.ndarray) -> np.ndarray:
    """A buffer with a valid address, also for no rows (Arrow wants no null data buffer)."""
    arr = np.ascontiguousarray(arr)
    return arr if arr.size else np.zeros(1, dtype=arr.dtype)


def _strings(values: Sequence[str]) -> ArrowColumn:
    encoded = [v.encode("utf-8") for v in values]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    large = bool(offsets[-1] > np.iinfo(np.int32).max)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return ArrowColumn(
        "U" if large else "u",
        len(encoded),
        [None, offsets if large else offsets.astype(np.int32), _nonempty(data)],
    )


def _numbers(
    arr: np.ndarray, valid: np.ndarray | None = None, fmt: str | None = None
) -> ArrowColumn:
    bitmap, nulls = (None, 0) if valid is None else _validity(valid)
    return ArrowColumn(
        fmt or _INT_FORMATS[arr.dtype.str[1:]], arr.size, [bitmap, _nonempty(arr)],
        null_count=nulls,
    )  # fmt: skip


def _dictionary(codes: np.ndarray, labels: np.ndarray, ordered: bool) -> ArrowColumn:
    if labels.dtype.kind in "iuf":
        values = _numbers(labels)
    else:
        values = _strings([str(v) for v in labels.tolist()])
    indices = _numbers(codes, codes >= 0)
    indices.dictionary = values
    indices.ordered = ordered
    return indices


def _column(table: Table, name: str, order: Sequence[Any] | None) -> ArrowColumn:
    kind = table.kinds[name]
    raw = table.raw(name)
    if kind in ("category", "enum"):
        labels = table.labels(name)
        if order is None:
            return _dictionary(raw, labels, False)
        codes, ordered = ordered_codes(raw, labels, order)
        return _dictionary(codes, ordered, True)
    if kind == "time":
        unit = np.datetime_data(raw.dtype)[0]
        return _numbers(raw.view(np.int64), ~np.isnat(raw), f"ts{unit[0]}:UTC")
    if kind == "float":
        return _numbers(raw, ~np.isnan(raw))
    if kind == "bool":
        return ArrowColumn("b", raw.size, [None, _nonempty(np.packbits(raw, bitorder="little"))])
    return _numbers(raw)


def ordered_codes(
    codes: np.ndarray, labels: np.ndarray, order: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Category codes into sorted ``labels`` re-expressed as codes into ``order`` (the labels
    in the order they have, such as journey stages), and ``order`` as an array."""
    # labels the order does not know (a column replaced by hand) come after, sorted
    order = [*order, *(v for v in labels.tolist() if v not in set(order))]
    lookup = {v: i for i, v in enumerate(order)}
    rank = np.array([lookup[v] for v in labels.tolist()], dtype=np.int64)
    out = np.where(codes >= 0, rank[np.maximum(codes, 0)] if rank.size else -1, -1)
    ordered = np.empty(len(order), dtype=object)
    ordered[:] = list(order)
    return out.astype(codes.dtype), ordered


def arrow_columns(
    table: Table, names: Mapping[str, str] | None = None
) -> tuple[list[str], list[ArrowColumn]]:
    """The table's columns in Arrow terms, under ``names`` (table column -> exported name)."""
    orders = table.meta.get("category_order", {})
    out_names, columns = [], []
    for name in table.columns:
        out_names.append((names or {}).get(name, name))
        columns.append(_column(table, name, orders.get(name)))
    return out_names, columns


# --------------------------------------------------------------------------- C structures


def _schema(fmt: str, name: str | None, children: Sequence[ArrowSchema] = (), **kw: Any) -> Any:
    schema = ArrowSchema()
    strings = [ctypes.create_string_buffer(fmt.encode())]
    schema.format = ctypes.cast(strings[0], c_char_p)
    if name is not None:
        strings.append(ctypes.create_string_buffer(name.encode("utf-8")))
        schema.name = ctypes.cast(strings[1], c_char_p)
    schema.flags = kw.get("flags", _NULLABLE)
    pointers = (POINTER(ArrowSchema) * max(len(children), 1))(
        *[ctypes.pointer(c) for c in children]
    )
    schema.n_children = len(children)
    schema.children = ctypes.cast(pointers, POINTER(POINTER(ArrowSchema)))
    dictionary = kw.get("dictionary")
    if dictionary is not None:
        schema.dictionary = ctypes.pointer(dictionary)
    schema.release = _RELEASE_SCHEMA
    schema.private_data = _keep((strings, pointers, list(children), dictionary))
    return schema


def _column_schema(column: ArrowColumn, name: str | None) -> Any:
    if column.dictionary is None:
        return _schema(column.format, name)
    flags = _NULLABLE | (_DICTIONARY_ORDERED if column.ordered else 0)
    values = _schema(column.dictionary.format, None)
    return _schema(column.format, name, flags=flags, dictionary=values)


def _table_schema(names: Sequence[str], columns: Sequence[ArrowColumn]) -> Any:
    children = [_column_schema(c, n) for n, c in zip(names, columns)]
    return _schema("+s", "", children, flags=0)


def _array(column: ArrowColumn, children: Sequence[ArrowArray] = ()) -> Any:
    array = ArrowArray()
    array.length = column.length
    array.null_count = column.null_count
    buffers = (c_void_p * max(len(column.buffers), 1))(
        *[None if b is None else b.ctypes.data for b in column.buffers]
    )
    array.n_buffers = len(column.buffers)
    array.buffers = ctypes.cast(buffers, POINTER(c_void_p))
    pointers = (POINTER(ArrowArray) * max(len(children), 1))(*[ctypes.pointer(c) for c in children])
    array.n_children = len(children)
    array.children = ctypes.cast(pointers, POINTER(POINTER(ArrowArray)))
    dictionary = None
    if column.dictionary is not None:
        dictionary = _array(column.dictionary)
        array.dictionary = ctypes.pointer(dictionary)
    array.release = _RELEASE_ARRAY
    array.private_data = _keep((column.buffers, buffers, pointers, list(children), dictionary))
    return array


def _batch(length: int, columns: Sequence[ArrowColumn]) -> Any:
    return _array(ArrowColumn("+s", length, [None]), [_array(c) for c in columns])


def _move(source: Structure, target: Any) -> None:
    """Hand a structure over: its bits go to the consumer's, ours stay alive until released."""
    ctypes.memmove(target, ctypes.addressof(source), ctypes.sizeof(source))


# --------------------------------------------------------------------------- the stream


class _StreamState:
    __slots__ = ("batches", "columns", "error", "names")

    def __init__(self, names: list[str], columns: list[ArrowColumn], length: int) -> None:
        self.names = names
        self.columns = columns
        self.batches: Iterator[int] = iter([length])
        self.error = ctypes.create_string_buffer(b"")


def _state(stream_ptr: Any) -> _StreamState:
    return _KEEP[stream_ptr.contents.private_data or 0][0]


def _hand_over(stream_ptr: Any, out: Any, make: Any, size: int) -> int:
    """Fill the consumer's ``out`` with what ``make`` builds from the stream's state (a
    released structure when it builds None); a failure becomes an error code and message."""
    try:
        struct = make(_state(stream_ptr))
        if struct is None:
            ctypes.memset(out, 0, size)
        else:
            _KEEP[struct.private_data] += (struct,)
            _move(struct, out)
        return 0
    except Exception as exc:  # a C caller cannot take a Python exception
        return _fail(stream_ptr, exc)


def _get_schema(stream_ptr: Any, out: Any) -> int:
    def make(state: _StreamState) -> Any:
        return _table_schema(state.names, state.columns)

    return _hand_over(stream_ptr, out, make, ctypes.sizeof(ArrowSchema))


def _get_next(stream_ptr: Any, out: Any) -> int:
    def make(state: _StreamState) -> Any:
        length = next(state.batches, None)  # None: the end of the stream
        return None if length is None else _batch(length, state.columns)

    return _hand_over(stream_ptr, out, make, ctypes.sizeof(ArrowArray))


def _fail(stream_ptr: Any, exc: Exception) -> int:
    try:
        state = _state(stream_ptr)
        state.error = ctypes.create_string_buffer(f"{type(exc).__name__}: {exc}".encode())
    except Exception:  # pragma: no cover - no state left to write the error into
        pass
    return _EIO


def _get_last_error(stream_ptr: Any) -> int | None:
    state = _KEEP.get(stream_ptr.contents.private_data or 0)
    return None if state is None or not state[0].error.value else ctypes.addressof(state[0].error)


def _release_stream(stream_ptr: Any) -> None:
    _KEEP.pop(stream_ptr.contents.private_data or 0, None)
    _clear(ctypes.addressof(stream_ptr.contents), ArrowArrayStream.release)


_GET_SCHEMA = _GetSchema(_get_schema)
_GET_NEXT = _GetNext(_get_next)
_GET_LAST_ERROR = _GetLastError(_get_last_error)
_RELEASE_STREAM = _StreamRelease(_release_stream)


# --------------------------------------------------------------------------- capsules

_SCHEMA_NAME = b"arrow_schema"
_STREAM_NAME = b"arrow_array_stream"
_CapsuleDestructor = CFUNCTYPE(None, c_void_p)
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [c_void_p, c_char_p, _CapsuleDestructor]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = c_void_p
_capsule_pointer.argtypes = [c_void_p, c_char_p]
# the memory of each capsule's structure, by its address, until the capsule is destroyed
_CAPSULES: dict[int, Structure] = {}


def _destructor(name: bytes, kind: type[Structure]) -> Any:
    def destroy(capsule: int) -> None:
        address = _capsule_pointer(capsule, name)
        if address and _pointer_at(address, kind.release):
            struct = kind.from_address(address)
            struct.release(ctypes.pointer(struct))
        _CAPSULES.pop(address or 0, None)

    return _CapsuleDestructor(destroy)


_DESTROY_SCHEMA = _destructor(_SCHEMA_NAME, ArrowSchema)
_DESTROY_STREAM = _destructor(_STREAM_NAME, ArrowArrayStream)


def _capsule(struct: Structure, name: bytes, destroy: Any) -> Any:
    address = ctypes.addressof(struct)
    _CAPSULES[address] = struct
    return _capsule_new(address, name, destroy)


def schema_capsule(table: Table, names: Mapping[str, str] | None = None) -> Any:
    """A PyCapsule ``arrow_schema`` holding the schema of the table (a struct of its columns)."""
    out_names, columns = arrow_columns(table, names)
    return _capsule(_table_schema(out_names, columns), _SCHEMA_NAME, _DESTROY_SCHEMA)


def stream_capsule(table: Table, names: Mapping[str, str] | None = None) -> Any:
    """A PyCapsule ``arrow_array_stream`` of the table: its schema, then one record batch."""
    out_names, columns = arrow_columns(table, names)
    stream = ArrowArrayStream()
    stream.get_schema = _GET_SCHEMA
    stream.get_next = _GET_NEXT
    stream.get_last_error = _GET_LAST_ERROR
    stream.release = _RELEASE_STREAM
    stream.private_data = _keep((_StreamState(out_names, columns, len(table)),))
    return _capsule(stream, _STREAM_NAME, _DESTROY_STREAM)

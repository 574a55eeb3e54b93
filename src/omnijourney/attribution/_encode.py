"""Encoding of paths: strings to channel codes.

Parsing never makes a Python object per touch on the common input (ASCII names, a one-character
separator).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.errors import ConfigError, DataError

__all__ = [
    "ARRAY_EQ",
    "channel_set",
    "checked_counts",
    "parse_ascii",
    "parse_python",
    "sorted_codes",
]

_TABLE = "PathTable"


def _array_eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


#: Comparison of ndarray fields of attrs classes: element-wise, NaN equal to NaN.
ARRAY_EQ = attrs.cmp_using(eq=_array_eq)


def sorted_codes(
    names: list[Any], index: dict[Any, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes into sorted labels for a list of hashable names (first-seen codes, then remap)."""
    if index is None:
        index = {name: i for i, name in enumerate(dict.fromkeys(names))}
    first = np.fromiter(map(index.__getitem__, names), dtype=np.int64, count=len(names))
    labels = np.empty(len(index), dtype=object)
    labels[:] = list(index)
    try:
        order = np.argsort(labels)
    except TypeError:
        order = np.argsort(np.array([str(x) for x in labels], dtype=object))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[first], labels[order]


def parse_python(texts: list[str], sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``"a > b"`` strings into codes, sorted labels and offsets (any names)."""
    lengths = np.fromiter(map(str.count, texts, repeat(sep)), dtype=np.int64, count=len(texts))
    lengths += 1
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    names = list(map(str.strip, sep.join(texts).split(sep))) if texts else []
    index = {name: i for i, name in enumerate(dict.fromkeys(names))}
    if "" in index:
        empty = np.fromiter((not t for t in names), dtype=bool, count=len(names))
        rows = np.unique(np.searchsorted(offsets, np.flatnonzero(empty), side="right") - 1)
        raise DataError(
            "holds an empty path or an empty channel name",
            table=_TABLE,
            column="path",
            rows=rows.tolist(),
            values=[texts[i] for i in rows[:5]],
        )
    codes, labels = sorted_codes(names, index)
    return codes.astype(np.int32), labels, offsets


_WIDTH = 16  # channel names up to 16 bytes are parsed as packed integers


def _factorize_words(words: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of equal names (ranked in name order) and the index of one token of each name.

    ``words`` holds one or two uint64 arrays (the names packed big-endian). A table indexed by
    a multiplicative hash finds the distinct names in linear time (a path table has few
    channels); collisions are detected exactly and lead to a larger table, then to sorting.
    """
    n = words[0].size
    mixed = words[0] if len(words) == 1 else words[0] ^ (words[1] * np.uint64(0xC2B2AE3D27D4EB4F))
    mixed = mixed * np.uint64(0x9E3779B97F4A7C15)  # the high bits depend on every input bit
    for bits in (12, 16, 20):
        bucket = (mixed >> np.uint64(64 - bits)).astype(np.int64)
        table = np.full(1 << bits, -1, dtype=np.int64)
        table[bucket] = np.arange(n)
        rep_of = table[bucket]
        if not all(np.array_equal(w[rep_of], w) for w in words):
            continue  # two names share a slot
        reps = table[table >= 0]
        ranks = np.lexsort(tuple(w[reps] for w in reversed(words)))
        slot = np.full(1 << bits, -1, dtype=np.int64)
        slot[bucket[reps[ranks]]] = np.arange(reps.size)
        return slot[bucket], reps[ranks]
    order = np.lexsort(tuple(reversed(words)))
    new = run_starts(*(w[order] for w in words))
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return inverse, order[new]


def _packed_word(window: np.ndarray, start: np.ndarray, n_bytes: np.ndarray) -> np.ndarray:
    """The ``n_bytes`` (0 to 8) bytes at each ``start`` as a big-endian uint64, zero-padded."""
    word = window[start].view(">u8").ravel().astype(np.uint64)
    drop = (64 - 8 * np.clip(n_bytes, 1, 8)).astype(np.uint64)
    word = (word >> drop) << drop
    word[n_bytes <= 0] = 0
    return word


def parse_ascii(texts: list[str], sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Vectorized parsing of ASCII paths with a one-character separator (None: not applicable).

    The joined text is scanned as bytes: separators cut tokens, surrounding spaces are
    stripped, and each name is packed into one or two 64-bit words, so no Python string is
    made per touch. Anything unusual (non-ASCII text, control characters, names longer than
    16 bytes, empty names) returns None and the general parser handles it, with its error
    messages.
    """
    if len(sep) != 1 or not sep.isascii() or sep == " " or not texts:
        return None
    joined = sep.join(texts)
    if not joined.isascii():
        return None
    buf = np.zeros(len(joined) + 16, dtype=np.uint8)
    size = len(joined)
    buf[:size] = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    arr = buf[:size]
    if size == 0 or (arr < 32).any():  # tabs, NULs...: the general parser decides
        return None
    cut = np.flatnonzero(arr == ord(sep))
    if size + 1 < 2**31:
        cut = cut.astype(np.int32)
    start = np.concatenate((np.zeros(1, cut.dtype), cut + 1))
    end = np.concatenate((cut, np.full(1, size, cut.dtype)))
    blank = arr == 32
    for _ in range(64):  # strip spaces on both sides, one character per pass
        lead = blank[np.minimum(start, size - 1)] & (start < end)
        trail = blank[np.maximum(end - 1, 0)] & (start < end)
        if not (lead.any() or trail.any()):
            break
        start += lead
        end -= trail
    else:
        return None
    del blank
    width = end - start
    if width.size == 0 or width.min() <= 0 or width.max() > _WIDTH:
        return None
    window = np.lib.stride_tricks.as_strided(buf, shape=(size + 8, 8), strides=(1, 1))
    words = [_packed_word(window, start, width)]
    if width.max() > 8:
        words.append(_packed_word(window, start + 8, width - 8))
    inverse, rep = _factorize_words(words)
    del words
    labels = np.empty(rep.size, dtype=object)
    # byte order equals Python's string order for ASCII, so the labels come out sorted
    labels[:] = [joined[a:b] for a, b in zip(start[rep].tolist(), end[rep].tolist())]
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    stop = np.cumsum(chars + 1) - 1  # index of the separator after each text (or the end)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    offsets[1:] = np.searchsorted(cut, stop) + 1
    return inverse.astype(np.int32), labels, offsets


def checked_counts(values: Any, n: int, column: str, *, default: float | None) -> np.ndarray:
    """Validate one count column: numbers, finite, non-negative, ``n`` long."""
    if values is None:
        if default is None:
            msg = f"{_TABLE}: column {column!r} is required"
            raise ConfigError(msg)
        return np.full(n, default, dtype=np.float64)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raw = np.asarray(values, dtype=object).ravel()
        bad = []
        for i, v in enumerate(raw.tolist()):
            try:
                float(v)
            except (TypeError, ValueError):
                bad.append(i)
        raise DataError(
            "is not a number",
            table=_TABLE,
            column=column,
            rows=bad,
            values=[raw[i] for i in bad[:5]],
        ) from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        msg = f"{_TABLE}: column {column!r} has {arr.size} values for {n} paths"
        raise DataError(msg, table=_TABLE, column=column)
    bad_mask = ~np.isfinite(arr) | (arr < 0)
    if bad_mask.any():
        rows = np.flatnonzero(bad_mask)
        raise DataError(
            "must be a finite, non-negative number",
            table=_TABLE,
            column=column,
            rows=rows.tolist(),
            values=arr[rows[:5]].tolist(),
        )
    return arr + 0.0  # a copy, and -0.0 becomes 0.0 (it would sort with 0.0, bits apart)


def channel_set(names: Iterable[Any] | None, labels: np.ndarray, what: str) -> np.ndarray:
    """Codes of the named channels; unknown names raise a DataError naming them."""
    if names is None:
        return np.zeros(0, dtype=np.int64)
    items = [names] if isinstance(names, str) else list(names)
    lookup = {str(v): i for i, v in enumerate(labels.tolist())}
    unknown = [x for x in items if str(x) not in lookup]
    if unknown:
        raise DataError(
            f"names channels that are not in the path table (channels are {labels.tolist()})",
            table=_TABLE,
            column=what,
            rows=[items.index(u) for u in unknown],
            values=unknown,
        )
    return np.array(sorted({lookup[str(x)] for x in items}), dtype=np.int64)

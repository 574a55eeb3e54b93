"""The canonical order of a table's rows: a radix sort of integer keys with ``np.sort``.

Category codes follow sorted labels, floats map to a total order (NaN last, -0.0 equal to
0.0), times sort by instant; ties on the key are broken by the table's tie-break columns, so
that the order depends on the rows' values only, never on their input order.

The key columns, offset to start at zero, are read as one string of bits (the first column
most significant). It is cut into digits of at most ``63 - log2(n)`` bits, and the rows are
sorted by one digit at a time, least significant first: each pass sorts, with ``np.sort`` of
int64, the digit shifted left with the row's current position in the low bits. Positions
break ties, so every pass is stable and the result equals ``np.lexsort`` of the columns; and
sorting values is several times faster than a comparison ``argsort`` of the same key. Keys
of a log (customer codes and microsecond times over a year) take two passes at 10^7 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

if TYPE_CHECKING:
    from omnijourney._table import Table

_U64 = (1 << 64) - 1


def canonical_order(
    table: Table,
    by: Sequence[str],
    tiebreak: Sequence[str | np.ndarray] = (),
    *,
    keep_key: bool = False,
) -> tuple[np.ndarray | None, SortedKey | None]:
    """The canonical permutation of ``table``'s rows (None when already canonical) and, on
    request, the key.

    With ``keep_key``, when the rows had to be sorted, the key in sorted order comes back
    too, so callers can decode the key columns instead of gathering them.
    """
    n = len(table)
    if n == 0:
        return None, None
    primary = [table._sort_key(name) for name in by]
    order: np.ndarray | None = None
    key: SortedKey | None = None
    if primary:
        # data that arrive sorted (the usual case for logs) skip the sort
        known = tuple(table.sorted_by[: len(by)]) == tuple(by)
        tie = equal_neighbours(primary) if known else sorted_ties(primary)
        if tie is None:
            order, key = radix_order(primary)
            tie = key.ties()
    else:
        tie = np.ones(n - 1, dtype=bool)
    if tie.any():
        in_tie = np.zeros(n, dtype=bool)
        in_tie[1:] |= tie
        in_tie[:-1] |= tie
        pos = np.flatnonzero(in_tie)
        rows = pos if order is None else order[pos]
        named = [t for t in tiebreak if isinstance(t, str)]
        rest = [c for c in table._tiebreak_columns(by) if c not in named]
        keys = [table._sort_key(c)[rows] for c in by]
        for t in tiebreak:
            keys.append(table._sort_key(t)[rows] if isinstance(t, str) else np.asarray(t)[rows])
        keys.extend(table._sort_key(c)[rows] for c in rest)
        sub = np.lexsort(tuple(reversed(keys)))
        if order is None and not (sub[:-1] < sub[1:]).all():
            order = np.arange(n)
        if order is not None:
            order[pos] = rows[sub]  # rows equal on the key: the sorted key is unchanged
    return order, (key if keep_key and order is not None else None)


def float_key(arr: np.ndarray) -> np.ndarray:
    a = np.where(arr == 0, 0.0, arr).astype(np.float64)  # -0.0 -> 0.0
    bits = a.view(np.int64)
    key = np.where(bits < 0, np.iinfo(np.int64).min - bits - 1, bits)  # monotone in value
    return np.where(np.isnan(a), np.iinfo(np.int64).max, key)


def equal_neighbours(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Whether each row equals the next one on every key (length ``n - 1``)."""
    eq = keys[0][1:] == keys[0][:-1]
    for k in keys[1:]:
        eq &= k[1:] == k[:-1]
    return eq


def sorted_ties(keys: Sequence[np.ndarray]) -> np.ndarray | None:
    """:func:`equal_neighbours` when the rows are in lexicographic order of ``keys``, else None.

    One linear pass per key: the check costs a few percent of a sort.
    """
    first = keys[0]
    if not (first[:-1] <= first[1:]).all():
        return None
    eq = first[1:] == first[:-1]
    for k in keys[1:]:
        if (eq & (k[1:] < k[:-1])).any():
            return None
        eq &= k[1:] == k[:-1]
    return eq


def radix_order(keys: Sequence[np.ndarray]) -> tuple[np.ndarray, SortedKey]:
    """The stable lexicographic order of integer ``keys`` (first most significant) and the
    sorted key: ``np.lexsort(keys[::-1])``, by passes of ``np.sort`` over int64.

    Elementwise work runs in blocks and gathers write into buffers already allocated, so
    that a pass allocates few large arrays (page faults cost as much as the sort on a busy
    machine); positions are int32 when the rows allow.
    """
    n = keys[0].size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, SortedKey([empty], ((0, 0),), (0,) * len(keys), (0,) * len(keys))
    lows = tuple(int(k.min()) for k in keys)
    widths = tuple((int(k.max()) - lo).bit_length() for k, lo in zip(keys, lows))
    pos_bits = max((n - 1).bit_length(), 1)
    total = sum(widths)
    passes = max(-(-total // (63 - pos_bits)), 1)
    size = max(-(-total // passes), 1)
    bounds = tuple((j * size, min((j + 1) * size, total)) for j in range(passes))
    mask = (1 << pos_bits) - 1
    index = np.int32 if n < 2**31 else np.int64
    # ``carry``: the lowest digit shifted left with the row in the low bits, in the current
    # order; one gather per pass moves both the order and that digit
    carry: np.ndarray | None = None
    higher: list[np.ndarray] = []  # the other sorted digits, in the current order
    for lo_bit, hi_bit in bounds:
        packed = np.empty(n, dtype=np.int64)
        row_digit = packed if carry is None else np.empty(n, dtype=np.int64)
        for lo in range(0, n, _BLOCK):
            row_digit[lo : lo + _BLOCK] = _digit(
                [k[lo : lo + _BLOCK] for k in keys], lows, widths, lo_bit, hi_bit
            )
        if carry is not None:  # the digit of the rows in the current order
            rows = np.empty(n, dtype=index)
            np.bitwise_and(carry, mask, out=rows, casting="unsafe")
            np.take(row_digit, rows, out=packed, mode="clip")
            del row_digit, rows
        for lo in range(0, n, _BLOCK):
            block = packed[lo : lo + _BLOCK]
            block <<= pos_bits
            block |= np.arange(lo, lo + block.size, dtype=np.int64)
        packed.sort()
        if carry is None:
            carry = packed
            continue
        pos = np.empty(n, dtype=index)
        np.bitwise_and(packed, mask, out=pos, casting="unsafe")
        packed >>= pos_bits
        carry = np.take(carry, pos, mode="clip")
        higher = [np.take(h, pos, mode="clip") for h in higher] + [packed]
        del packed, pos
    assert carry is not None
    order = carry & mask
    carry >>= pos_bits
    return order, SortedKey([carry, *higher], bounds, lows, widths)


_BLOCK = 1 << 16


def _offsets(widths: Sequence[int]) -> list[int]:
    """The lowest bit of each key in the bit string (the last key at bit 0)."""
    return [sum(widths[i + 1 :]) for i in range(len(widths))]


def _digit(
    keys: Sequence[np.ndarray],
    lows: Sequence[int],
    widths: Sequence[int],
    lo_bit: int,
    hi_bit: int,
) -> np.ndarray:
    """Bits ``[lo_bit, hi_bit)`` of the keys' bit string, as int64 in row order."""
    out: np.ndarray | None = None
    for k, low, width, off in zip(keys, lows, widths, _offsets(widths)):
        a, b = max(off, lo_bit), min(off + width, hi_bit)
        if a >= b:
            continue
        # uint64 arithmetic wraps: the offset k - low is exact for any range below 2**64
        u = k.astype(np.int64).view(np.uint64)
        u -= np.uint64(low & _U64)
        if a > off:
            u >>= np.uint64(a - off)
        if b - a < 64:
            u &= np.uint64((1 << (b - a)) - 1)
        if a > lo_bit:
            u <<= np.uint64(a - lo_bit)
        if out is None:
            out = u
        else:
            out |= u
            del u
    if out is None:
        return np.zeros(keys[0].size, dtype=np.int64)
    return out.view(np.int64)


@attrs.frozen
class SortedKey:
    """Integer sort keys in sorted order, as the digits of :func:`radix_order`.

    ``digits[j]`` holds bits ``bounds[j]`` of the bit string in which key ``i`` (most
    significant first) is ``bits - lows[i]`` over ``widths[i]`` bits.
    """

    digits: list[np.ndarray]
    bounds: tuple[tuple[int, int], ...]
    lows: tuple[int, ...]
    widths: tuple[int, ...]

    def ties(self) -> np.ndarray:
        """Whether each sorted row equals the next one on the key."""
        return equal_neighbours(self.digits)

    def unpack(self, dtypes: Sequence[np.dtype[Any] | type]) -> list[np.ndarray]:
        """Decode every key into an array of the given dtype, consuming the digits.

        In blocks: every key's block is decoded before any is written, so an int64 key can
        take the buffer of a digit.
        """
        n = self.digits[0].size
        spare = list(self.digits)
        out = [
            spare.pop() if np.dtype(dt) == np.int64 and spare else np.empty(n, dtype=dt)
            for dt in dtypes
        ]
        offsets = _offsets(self.widths)
        for lo in range(0, n, _BLOCK):
            blocks = [d[lo : lo + _BLOCK].view(np.uint64) for d in self.digits]
            values = []
            for low, width, off in zip(self.lows, self.widths, offsets):
                value = np.full(blocks[0].size, low & _U64, dtype=np.uint64)
                for block, (lo_bit, hi_bit) in zip(blocks, self.bounds):
                    a, b = max(off, lo_bit), min(off + width, hi_bit)
                    if a < b:
                        piece = block >> np.uint64(a - lo_bit)
                        piece &= np.uint64((1 << (b - a)) - 1)
                        piece <<= np.uint64(a - off)
                        value += piece  # wraps modulo 2**64: the low offset adds back
                values.append(value.view(np.int64))
            for arr, decoded in zip(out, values):
                arr[lo : lo + decoded.size] = decoded
        self.digits.clear()
        return out

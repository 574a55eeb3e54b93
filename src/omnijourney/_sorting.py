"""The canonical order of a table's rows: integer sort keys, packed into one int64 when they fit.

Category codes follow sorted labels, floats map to a total order (NaN last, -0.0 equal to
0.0), times sort by instant; ties on the key are broken by the table's tie-break columns, so
that the order depends on the rows' values only, never on their input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

if TYPE_CHECKING:
    from omnijourney._table import Table


def canonical_order(
    table: Table,
    by: Sequence[str],
    tiebreak: Sequence[str | np.ndarray] = (),
    *,
    keep_key: bool = False,
) -> tuple[np.ndarray | None, _PackedKey | None]:
    """The canonical permutation of ``table``'s rows (None when already canonical) and, on
    request, the key.

    With ``keep_key`` and keys that pack into one int64, the packed key in sorted order comes
    back too, so callers can decode the key columns instead of gathering them.
    """
    n = len(table)
    if n == 0:
        return None, None
    primary = [table._sort_key(name) for name in by]
    packed = _pack_key(primary) if primary else None
    key = packed.key if packed is not None else None
    order: np.ndarray | None = None
    if key is not None:
        # data that arrive sorted (the usual case for logs) skip the sort
        known = tuple(table.sorted_by[: len(by)]) == tuple(by)
        if not (known or (key[:-1] <= key[1:]).all()):
            order = np.argsort(key)
            # the key is our own copy: sorting it in place is faster than gathering it
            # through ``order`` and needs no second array
            key.sort()
        tie = key[1:] == key[:-1]
        if keep_key and packed is not None and order is not None:
            packed = _PackedKey(key, packed.lows, packed.widths)
        else:
            packed = None
        del key
    else:
        if primary:
            order = np.lexsort(tuple(reversed(primary)))
        tie = np.ones(max(n - 1, 0), dtype=bool)
        for k in primary:
            sk = k if order is None else k[order]
            tie &= sk[1:] == sk[:-1]
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
    return order, packed


def float_key(arr: np.ndarray) -> np.ndarray:
    a = np.where(arr == 0, 0.0, arr).astype(np.float64)  # -0.0 -> 0.0
    bits = a.view(np.int64)
    key = np.where(bits < 0, np.iinfo(np.int64).min - bits - 1, bits)  # monotone in value
    return np.where(np.isnan(a), np.iinfo(np.int64).max, key)


@attrs.frozen
class _PackedKey:
    """Integer sort keys packed into one int64: ``key`` with each part's offset and bit width.

    Part ``i`` (most significant first) is
    ``((key >> sum(widths[i + 1:])) & (2**widths[i] - 1)) + lows[i]``.
    """

    key: np.ndarray
    lows: tuple[int, ...]
    widths: tuple[int, ...]

    def unpack(self, dtypes: Sequence[np.dtype[Any] | type]) -> list[np.ndarray]:
        """Decode every part, consuming ``key``: the last part reuses its buffer.

        The other parts are decoded in blocks, straight into arrays of the given dtypes, so
        the peak is one int64 array plus the outputs.
        """
        key = self.key
        n = key.size
        out = [np.empty(n, dtype=dt) for dt in dtypes[:-1]]
        block = 1 << 20
        for i, arr in enumerate(out):
            shift = sum(self.widths[i + 1 :])
            mask = (1 << self.widths[i]) - 1
            for lo in range(0, n, block):
                part = key[lo : lo + block] >> shift
                if i > 0:
                    part &= mask
                part += self.lows[i]
                arr[lo : lo + block] = part
        last = len(self.widths) - 1
        if last > 0:
            key &= (1 << self.widths[last]) - 1
        key += self.lows[last]
        out.append(key if np.dtype(dtypes[-1]) == key.dtype else key.astype(dtypes[-1]))
        return out


def _pack_key(keys: list[np.ndarray]) -> _PackedKey | None:
    """Pack non-negative-shifted integer keys into one int64 when their ranges fit.

    Works in place on one int64 buffer (plus one temporary per further key), since the keys
    of a 10^7-row table are tens of megabytes each.
    """
    if len(keys) > 3:
        return None
    ranges = [(int(k.min()), int(k.max())) for k in keys]
    widths = [max(hi - lo, 1).bit_length() for lo, hi in ranges]
    if sum(widths) > 62:
        return None
    packed = keys[0].astype(np.int64)
    packed -= ranges[0][0]
    for k, (lo, _), bits in zip(keys[1:], ranges[1:], widths[1:]):
        packed <<= bits
        shifted = k.astype(np.int64)
        shifted -= lo
        packed |= shifted
        del shifted
    return _PackedKey(packed, tuple(lo for lo, _ in ranges), tuple(widths))

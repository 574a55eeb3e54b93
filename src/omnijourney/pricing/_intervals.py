"""Array machinery over sorted intervals: grouped binary search, range minima, runs, packing.

Everything works on int64 microsecond times and on rows sorted by a group key then time; no
function loops over rows in Python (loops run over the depth of a binary search or over the
width of an overlap).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NAT",
    "OPEN",
    "dense_rank",
    "grouped_search",
    "is_in",
    "offsets_of",
    "pack",
    "pack_bits",
    "range_reduce",
    "ranges",
    "run_starts",
]

#: int64 value of NaT.
NAT = int(np.iinfo(np.int64).min)
#: End of an open-ended interval: later than any real time, with room for arithmetic.
OPEN = 2**62


def ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(starts[i], stops[i])`` (empty where ``stops <= starts``).

    Examples
    --------
    >>> ranges(np.array([0, 5, 9]), np.array([2, 5, 12])).tolist()
    [0, 1, 9, 10, 11]
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.maximum(np.asarray(stops, dtype=np.int64) - starts, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    return np.repeat(starts - first, lengths) + np.arange(total, dtype=np.int64)


def offsets_of(sorted_codes: np.ndarray, n: int) -> np.ndarray:
    """Start of each code's rows in ``sorted_codes`` (codes ``0..n-1``), plus the length."""
    return np.searchsorted(sorted_codes, np.arange(n + 1)).astype(np.int64)


def grouped_search(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, q: np.ndarray, side: str = "left"
) -> np.ndarray:
    """``searchsorted`` of each ``q[i]`` inside the sorted slice ``values[lo[i]:hi[i]]``.

    Returns absolute positions in ``values``. A vectorized binary search: as many passes over
    the queries as the longest slice has bits, O(q log L).

    Examples
    --------
    >>> v = np.array([1, 3, 5, 2, 4])  # two sorted groups: [0, 3) and [3, 5)
    >>> grouped_search(v, np.array([0, 3]), np.array([3, 5]), np.array([4, 4])).tolist()
    [2, 4]
    """
    lo = np.asarray(lo, dtype=np.int64).copy()
    hi = np.asarray(hi, dtype=np.int64).copy()
    q = np.asarray(q)
    right = side == "right"
    active = np.flatnonzero(lo < hi)
    while active.size:
        a_lo, a_hi = lo[active], hi[active]
        mid = (a_lo + a_hi) // 2
        v = values[mid]
        go = v <= q[active] if right else v < q[active]
        lo[active] = np.where(go, mid + 1, a_lo)
        hi[active] = np.where(go, a_hi, mid)
        active = active[lo[active] < hi[active]]
    return lo


def range_reduce(
    ufunc: np.ufunc, values: np.ndarray, lo: np.ndarray, hi: np.ndarray, empty: float = np.nan
) -> np.ndarray:
    """``ufunc.reduce(values[lo[i]:hi[i]])`` for every i, ``empty`` where the range is empty.

    One ``ufunc.reduceat`` over the ranges sorted by start: O(q log q + n) however the ranges
    overlap.

    Examples
    --------
    >>> v = np.array([5.0, 2.0, 7.0, 1.0])
    >>> range_reduce(np.minimum, v, np.array([0, 2, 3]), np.array([3, 4, 3])).tolist()
    [2.0, 1.0, nan]
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    out = np.full(lo.size, empty, dtype=np.float64)
    ok = np.flatnonzero(hi > lo)
    if ok.size == 0:
        return out
    order = ok[np.argsort(lo[ok], kind="stable")]
    idx = np.empty(2 * order.size, dtype=np.int64)
    idx[0::2] = lo[order]
    idx[1::2] = hi[order]
    vals = values if idx.max() < values.size else np.concatenate((values, values[-1:]))
    out[order] = ufunc.reduceat(vals, idx)[0::2]
    return out


def run_starts(*keys: np.ndarray, breaks: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of rows that start a run: the first row, or any key differs from the row
    before, or ``breaks`` is true."""
    n = keys[0].size if keys else (0 if breaks is None else breaks.size)
    new = np.zeros(n, dtype=bool)
    if n == 0:
        return new
    new[0] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    if breaks is not None:
        new |= breaks
    return new


def is_in(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is in ``pool`` (int64), by sorting the pool once.

    Examples
    --------
    >>> is_in(np.array([3, 8, 1]), np.array([1, 2, 3])).tolist()
    [True, False, True]
    """
    pool = np.sort(np.asarray(pool, dtype=np.int64))
    values = np.asarray(values, dtype=np.int64)
    if pool.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.minimum(np.searchsorted(pool, values), pool.size - 1)
    return pool[pos] == values


def pack_bits(n_major: int, t_min: int, t_max: int) -> int | None:
    """Bits for the time part when packing (major, time) into int64, or None if it won't fit."""
    t_bits = max(int(t_max) - int(t_min) + 1, 1).bit_length()
    major_bits = max(int(n_major), 1).bit_length()
    return t_bits if t_bits + major_bits <= 62 else None


def pack(major: np.ndarray, t: np.ndarray, t_min: int, bits: int) -> np.ndarray:
    """(major, time) as one sortable int64: ``major << bits | (t - t_min)``."""
    return (np.asarray(major, dtype=np.int64) << bits) | (np.asarray(t, dtype=np.int64) - t_min)


def dense_rank(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values of non-negative int64 ``key``.

    Returns ``(rank, n_distinct)``; ranks follow the order of the values.

    Examples
    --------
    >>> dense_rank(np.array([40, 7, 40, 9]))
    (array([2, 0, 2, 1]), 3)
    """
    key = np.asarray(key, dtype=np.int64)
    if key.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    hi = int(key.max())
    if hi < max(4 * key.size, 1 << 20):
        present = np.zeros(hi + 1, dtype=bool)
        present[key] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        return rank[key], int(rank[-1]) + 1
    if np.all(key[1:] >= key[:-1]):
        new = run_starts(key)
        return np.cumsum(new, dtype=np.int64) - 1, int(new.sum())
    order = np.argsort(key, kind="stable")
    sk = key[order]
    new = run_starts(sk)
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = np.cumsum(new, dtype=np.int64) - 1
    return rank, int(new.sum())

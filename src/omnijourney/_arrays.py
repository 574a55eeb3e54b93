"""Array primitives shared by the capabilities: runs, offsets, positions, packing, ranks, search.

Rows sorted by a key form *runs* of equal keys (a customer's touchpoints, a path's steps, a
series' intervals); most algorithms of the library walk them with these few functions instead
of Python loops. Each function is whole-array numpy, documented with its empty-input result,
and tested against a plain loop (tests/test_arrays.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "code_offsets",
    "dense_rank",
    "first_per_group",
    "grouped_search",
    "is_in",
    "pack",
    "pack_bits",
    "pack_pairs",
    "positions",
    "range_reduce",
    "ranges",
    "run_ends",
    "run_heads",
    "run_offsets",
    "run_starts",
]

# --------------------------------------------------------------------------- runs


def run_starts(*keys: np.ndarray, breaks: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the rows that start a run: the first row, a row where any key differs
    from the row before, or a row where ``breaks`` is true. Empty input: an empty mask.

    Examples
    --------
    >>> run_starts(np.array([1, 1, 2, 2]), np.array([0, 1, 1, 1])).tolist()
    [True, True, True, False]
    >>> run_starts(np.array([5, 5, 5]), breaks=np.array([False, False, True])).tolist()
    [True, False, True]
    """
    n = len(keys[0]) if keys else (0 if breaks is None else breaks.size)
    new = np.zeros(n, dtype=bool)
    if n == 0:
        return new
    new[0] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    if breaks is not None:
        new |= breaks
    return new


def run_ends(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows that end a run of equal keys (the last row always does).

    Examples
    --------
    >>> run_ends(np.array([1, 1, 2, 3, 3])).tolist()
    [False, True, True, False, True]
    """
    n = len(keys[0]) if keys else 0
    last = np.zeros(n, dtype=bool)
    if n == 0:
        return last
    last[-1] = True
    for k in keys:
        last[:-1] |= k[1:] != k[:-1]
    return last


def run_heads(starts: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """Per row, the position of the first row of its run, from the mask of run starts
    (``starts[0]`` must be true, as :func:`run_starts` makes it).

    Examples
    --------
    >>> run_heads(np.array([True, False, False, True, False])).tolist()
    [0, 0, 0, 3, 3]
    """
    return np.maximum.accumulate(np.where(starts, np.arange(starts.size, dtype=dtype), 0))


def run_offsets(*keys: np.ndarray) -> np.ndarray:
    """Start of each run of equal keys, then the number of rows: ``rows[o[k]:o[k + 1]]`` is
    the k-th run. Empty input: ``[0]``.

    Examples
    --------
    >>> run_offsets(np.array([7, 7, 3, 9, 9])).tolist()
    [0, 2, 3, 5]
    >>> run_offsets(np.array([], dtype=np.int64)).tolist()
    [0]
    """
    n = len(keys[0]) if keys else 0
    return np.append(np.flatnonzero(run_starts(*keys)), n).astype(np.int64)


def code_offsets(sorted_codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Start of the rows of each code ``0..n_codes-1`` in non-decreasing ``sorted_codes``,
    then the number of rows (codes without rows get an empty range).

    Examples
    --------
    >>> code_offsets(np.array([0, 0, 2, 2, 2]), 4).tolist()
    [0, 2, 2, 5, 5]
    """
    return np.searchsorted(sorted_codes, np.arange(n_codes + 1)).astype(np.int64)


def first_per_group(group: np.ndarray, valid: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group ``0..n_groups-1`` (``group`` non-decreasing), the first position where
    ``valid``; -1 for a group without one.

    Examples
    --------
    >>> g = np.array([0, 0, 0, 2, 2])
    >>> first_per_group(g, np.array([False, True, True, False, True]), 3).tolist()
    [1, -1, 4]
    """
    pos = np.flatnonzero(valid)
    out = np.full(n_groups, -1, dtype=np.int64)
    if pos.size:
        g = np.asarray(group)[pos]
        first = run_starts(g)
        out[g[first]] = pos[first]
    return out


def positions(lengths: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """0-based position of each element within its segment, for contiguous segments of the
    given lengths (non-positive lengths are empty segments). Empty input: an empty array.

    One cumulative sum over the elements, in ``dtype`` (``int32`` halves the memory of long
    inputs).

    Examples
    --------
    >>> positions(np.array([3, 0, 2])).tolist()
    [0, 1, 2, 0, 1]
    """
    lengths = np.asarray(lengths)
    lens = lengths[lengths > 0]
    n = int(lens.sum())
    if n == 0:
        return np.zeros(0, dtype=dtype)
    step = np.ones(n, dtype=dtype)
    step[0] = 0
    step[np.cumsum(lens)[:-1]] = 1 - lens[:-1]
    return np.cumsum(step, dtype=dtype)


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


# --------------------------------------------------------------------------- keys


def pack_bits(n_major: int, t_min: int, t_max: int) -> int | None:
    """Bits for the minor part when packing (major, minor) into an int64 with :func:`pack`,
    majors in ``[0, n_major]`` and minors in ``[t_min, t_max]``; None if it will not fit.

    Examples
    --------
    >>> pack_bits(3, 0, 1000), pack_bits(2**40, 0, 2**30)
    (10, None)
    """
    t_bits = max(int(t_max) - int(t_min) + 1, 1).bit_length()
    major_bits = max(int(n_major), 1).bit_length()
    return t_bits if t_bits + major_bits <= 62 else None


def pack(major: np.ndarray, minor: np.ndarray, minor_min: int, bits: int) -> np.ndarray:
    """(major, minor) as one int64 that sorts like the pairs: ``major << bits | (minor -
    minor_min)``. With the same ``minor_min`` and ``bits``, keys of several arrays compare.

    Examples
    --------
    >>> pack(np.array([0, 1]), np.array([7, 5]), 5, pack_bits(1, 5, 7)).tolist()
    [2, 4]
    """
    return (np.asarray(major, dtype=np.int64) << bits) | (
        np.asarray(minor, dtype=np.int64) - minor_min
    )


def pack_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 key per row for the pairs ``(a, b)`` of non-negative integers, ordered like
    the pairs (a first, then b); equal pairs get equal keys. Empty input: an empty array.

    When ``a * (max(b) + 1)`` would not fit, ``b`` is replaced by its dense rank first.

    Examples
    --------
    >>> pack_pairs(np.array([0, 1, 1]), np.array([2, 0, 2])).tolist()
    [2, 3, 5]
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    span = int(b.max()) + 1
    if int(a.max()) >= (2**62) // span:
        b, n_distinct = dense_rank(b)
        span = max(n_distinct, 1)
    return a * span + b


def dense_rank(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values of non-negative integer ``key``.

    Returns ``(rank, n_distinct)``; ranks follow the order of the values. A table of presence
    when the values are dense, a sort otherwise.

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
    new = run_starts(key[order])
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = np.cumsum(new, dtype=np.int64) - 1
    return rank, int(new.sum())


def is_in(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is in ``pool`` (integers), by sorting the pool once.

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


# --------------------------------------------------------------------------- sorted groups


def grouped_search(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, q: np.ndarray, side: str = "left"
) -> np.ndarray:
    """``searchsorted`` of each ``q[i]`` inside the sorted slice ``values[lo[i]:hi[i]]``.

    Returns absolute positions in ``values`` (``lo[i]`` for an empty slice). A vectorized
    binary search: as many passes over the queries as the longest slice has bits,
    O(q log L).

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

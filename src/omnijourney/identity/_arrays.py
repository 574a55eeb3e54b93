"""Small vectorized helpers over integer columns: pairs of codes packed into one int64 key."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_per", "pack"]


def pack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 key per row for the pairs ``(a, b)`` of non-negative integers, ordered like
    the pairs (a first, then b).

    Examples
    --------
    >>> pack(np.array([0, 1, 1]), np.array([2, 0, 2])).tolist()
    [2, 3, 5]
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    span = int(b.max()) + 1
    if int(a.max()) < (2**62) // span:
        return a * span + b
    # too wide for one int64: rank the b values first (same order)
    _, rank = np.unique(b, return_inverse=True)
    return pack(a, rank.reshape(-1))


def distinct_per(group: np.ndarray, value: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct ``value`` (non-negative integers) of each group ``0..n_groups-1``.

    Examples
    --------
    >>> distinct_per(np.array([0, 0, 1, 0]), np.array([5, 5, 6, 7]), 3).tolist()
    [2, 1, 0]
    """
    group = np.asarray(group, dtype=np.int64)
    value = np.asarray(value, dtype=np.int64)
    if group.size == 0:
        return np.zeros(n_groups, dtype=np.int64)
    span = int(value.max()) + 1
    if int(group.max()) >= (2**62) // span:
        value = np.unique(value, return_inverse=True)[1].reshape(-1)
        span = int(value.max()) + 1
    key = np.unique(group * span + value)
    return np.bincount(key // span, minlength=n_groups)

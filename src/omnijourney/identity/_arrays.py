"""Small vectorized helpers over integer columns of identity."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_per"]


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

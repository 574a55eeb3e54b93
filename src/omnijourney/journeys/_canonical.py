"""Sums of floats that do not depend on the order of the rows."""

from __future__ import annotations

import numpy as np

__all__ = ["group_sums"]


def group_sums(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group in ``[0, n_groups)``, the sum of its ``values``, added in ascending order.

    Floating-point addition is not associative: adding in the rows' order makes a total
    depend on the order the rows came in, by an ulp or (with cancellation) much more. A
    multiset of numbers has one ascending order, so these sums depend on the values only.
    Zeros are skipped (adding 0.0 changes no sum). O(m log m) for the m non-zero values.

    Examples
    --------
    >>> a = group_sums(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3]), 1)
    >>> b = group_sums(np.array([0, 0, 0]), np.array([0.3, 0.2, 0.1]), 1)
    >>> a == b, 0.1 + 0.2 + 0.3 == 0.3 + 0.2 + 0.1
    (array([ True]), False)
    """
    values = np.asarray(values, dtype=np.float64)
    nonzero = np.flatnonzero(values)
    g, v = np.asarray(group)[nonzero], values[nonzero]
    order = np.lexsort((v, g))
    return np.bincount(g[order], weights=v[order], minlength=n_groups).astype(np.float64)

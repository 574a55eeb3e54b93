"""Sums of floats that do not depend on the order of their terms, without sorting them.

Shared by the capabilities: every float total that feeds a result is taken here, so shuffled
input gives the same bits.

Floating-point addition is not associative, so a total taken in row order changes, by an ulp
or more, when the rows come in another order. Here every term is first split into pieces on a
grid fixed by the largest term of its group and by the number of terms (Demmel & Nguyen's
pre-rounding): the pieces of one grid add up without any rounding, in any
order, so each group's total depends on its terms only. Two or three grids keep 48 to 60
bits below the group's largest term, more than a plain float64 sum keeps.

References
----------
Demmel, J., Nguyen, H. D. (2015). Parallel reproducible summation. IEEE Transactions on
Computers 64(7), 2060-2070.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_sums", "total"]

_BITS = 48  # bits kept, at least, below each group's largest term
_LOWEST = -1022  # lowest grid: its pieces are multiples of 2**-1074, the smallest float
_SIGMA_MIN = 1.5 * 2.0**_LOWEST
_HIGHEST = 1000  # above this, terms are scaled down by an exact power of two first


def group_sums(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group in ``[0, n_groups)``, the sum of its ``values``, whatever their order.

    The result is a function of the multiset of (group, value) pairs: any permutation of
    the terms gives the same bits. Each term is cut into pieces that are multiples of
    ``2**(k - 52)``, where ``2**k`` exceeds the group's largest term times the number of
    terms; such pieces add up exactly in float64, so the order of the additions does not
    matter. The remainders are cut the same way on a finer grid, until at least 48 bits below
    the group's largest term are kept (60 for a million terms; a float64 sum in row order
    keeps fewer) or nothing remains. Non-finite terms make their group's sum infinite or
    NaN, as in any order.

    Cost: whole numbers (counts of journeys) are summed by one ``bincount``, exact in any
    order, after two passes to check them; other terms cost about ten times a ``bincount``
    (one pass for each group's largest term, then two or three passes of a few vector
    operations and a ``bincount``); no sort.

    Examples
    --------
    >>> group = np.zeros(3, dtype=np.int64)
    >>> a = group_sums(group, np.array([0.1, 0.2, 0.3]), 1)
    >>> b = group_sums(group, np.array([0.3, 0.2, 0.1]), 1)
    >>> bool(a[0] == b[0]), 0.1 + 0.2 + 0.3 == 0.3 + 0.2 + 0.1
    (True, False)
    >>> group_sums(np.array([1, 0, 1]), np.array([1e16, 2.0, -1e16]), 3).tolist()
    [2.0, 0.0, 0.0]
    """
    g = np.asarray(group).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    out = np.zeros(n_groups, dtype=np.float64)
    if v.size == 0:
        return out
    if _whole(v):  # whole numbers whose sum stays below 2**53: every partial sum is exact
        return np.bincount(g, weights=v, minlength=n_groups).astype(np.float64)
    largest = np.zeros(n_groups, dtype=np.float64)
    np.maximum.at(largest, g, np.abs(v))
    if not np.isfinite(largest).all():  # inf and NaN give the same sums in any order
        finite = np.isfinite(v)
        out += np.bincount(g[~finite], weights=v[~finite], minlength=n_groups)
        g, v = g[finite], v[finite]
        largest[:] = 0.0
        np.maximum.at(largest, g, np.abs(v))
    width = int(v.size).bit_length()  # 2**width > number of terms
    exponent = np.frexp(largest)[1].astype(np.int64)  # largest < 2**exponent
    scale = max(int(exponent.max(initial=0)) + width - _HIGHEST, 0)
    if scale:  # exact: a power of two
        v = np.ldexp(v, -scale)
        exponent -= scale
    # grid k: a piece is a multiple of 2**(k - 52) and the sum of a group stays below 2**(k+1);
    # sigma = 1.5 * 2**k keeps sigma + term in one binade, so (sigma + term) - sigma is exact
    step = 52 - width  # bits a grid keeps
    sigma = np.ldexp(1.5, np.maximum(exponent + width, _LOWEST))[g]
    piece = v + sigma
    piece -= sigma
    rest = v - piece
    out += np.bincount(g, weights=piece, minlength=n_groups)
    for _ in range(max(-(-_BITS // max(step, 1)), 2) - 1):
        if not rest.any():
            break
        sigma *= 2.0**-step  # the next grid (exact: powers of two, down to the lowest)
        np.maximum(sigma, _SIGMA_MIN, out=sigma)
        np.add(rest, sigma, out=piece)
        piece -= sigma
        rest -= piece
        out += np.bincount(g, weights=piece, minlength=n_groups)
    return np.ldexp(out, scale) if scale else out


def _whole(v: np.ndarray) -> bool:
    """Whether every term is a whole number and their absolute values sum below ``2**52``
    (with any rounding of that sum, then, every partial sum of the terms is exact)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an infinite sum is not below
        small = bool(np.abs(v).sum() < 2.0**52)
    return small and bool(np.array_equal(v, np.rint(v)))


def total(values: np.ndarray) -> float:
    """The sum of ``values``, whatever their order (see :func:`group_sums`).

    Examples
    --------
    >>> total(np.array([1e16, 1.0, -1e16])), 1e16 + 1.0 - 1e16
    (1.0, 0.0)
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(group_sums(np.zeros(v.size, dtype=np.int64), v, 1)[0])

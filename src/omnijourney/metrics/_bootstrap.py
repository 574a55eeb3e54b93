"""Customer bootstrap by weights: resampled sums without copying any table.

Every estimate here (a mean, a rate, a difference of them, a difference in differences, a
CUPED-adjusted difference, a regression coefficient) is a function of a few sums over
customers: per stratum (group), ``S[s, j] = sum_i w_i V[i, j]`` for the columns ``V`` of
per-customer numerators, denominators and products. A bootstrap resample of customers is a
vector of counts ``w`` (how many times each customer is drawn), so a resample's sums are one
matrix product ``W @ V`` for a batch of resamples, and the statistic is evaluated on all
resamples at once. Memory is one batch of counts (about 2^24 values), whatever the number of
resamples; the per-customer table is never copied (Efron & Tibshirani 1993; resampling the
assigned unit, not rows: Cameron, Gelbach & Miller 2008).

Two resampling schemes:

``"poisson"`` (default)
    each customer gets an independent Poisson(1) count (Hanley & MacGibbon 2006; Chamandy et
    al. 2012): the number of customers of a resample varies a little, which ratio statistics
    absorb. Counts come from a 65,536-entry table of Poisson(1) quantiles read with random
    16-bit integers, so each count costs two random bytes; every probability of the table is
    within 2^-16 of the exact one.
``"multinomial"``
    the classical bootstrap: each stratum's customers are drawn with replacement, as many as
    there are (the counts of one resample follow a multinomial distribution).

Large strata (at least ``20 * n_resamples`` customers) take a faster road to the same
distribution: the customers are shuffled once, one vector of counts is drawn (Poisson or
multinomial), and resample ``r`` gives customer ``i`` the count at position ``i + o_r``
(modulo the stratum size) for distinct random offsets ``o_r``. Each resample's counts are
then exactly as the scheme draws them (a rotation of i.i.d. Poisson counts is i.i.d.; a
rotation of multinomial counts is multinomial), and the sums of every rotation are one
circular cross-correlation, computed by FFT in ``O(n log n)`` instead of ``O(n x
n_resamples)``. Two resamples share counts only through different pairings of customers,
which the shuffle makes unrelated to the values (their correlation is of order
``1 / sqrt(n)``).

Intervals are percentile or bias-corrected and accelerated (BCa, Efron 1987), the
acceleration from the leave-one-customer-out jackknife, also computed on sums.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from omnijourney.errors import ConfigError, OmnijourneyWarning

__all__ = ["ConfidenceInterval", "bootstrap_sums", "customer_bootstrap", "intervals"]

Statistic = Callable[[np.ndarray], np.ndarray]
_BATCH_VALUES = 1 << 24
_BLOCK = 1 << 16
_ROTATION = 20  # strata with at least this many customers per resample are rotated


class ConfidenceInterval(NamedTuple):
    """Lower and upper bounds of an interval (as ``scipy.stats`` results give them)."""

    low: float
    high: float


def _poisson_table() -> np.ndarray:
    """Poisson(1) count for each 16-bit integer: the quantile function on a 2^16 grid."""
    k = np.arange(20)
    pmf = np.exp(-1.0) / np.array([math.factorial(int(i)) for i in k], dtype=np.float64)
    cdf = np.cumsum(pmf)
    u = (np.arange(1 << 16) + 0.5) / (1 << 16)
    return np.searchsorted(cdf, u, side="right").astype(np.float32)


_POISSON = _poisson_table()


def _multinomial(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """``(b, n)`` multinomial counts: ``n`` draws with replacement among ``n``, per row."""
    draws = rng.integers(0, n, size=(b, n))
    draws += (np.arange(b) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float32)


def _rotated_sums(
    v: np.ndarray, rng: np.random.Generator, n_resamples: int, resampling: str
) -> np.ndarray:
    """Sums of ``v`` (``(m, k)``) under ``n_resamples`` rotations of one vector of counts.

    Poisson counts come from a pool of a length ``L >= 2m`` that the FFT likes (a window of
    ``m`` consecutive positions of i.i.d. counts is i.i.d., and windows of a pool longer than
    they are draw different numbers of customers, as Poisson resamples do); multinomial
    counts from a pool of exactly ``m`` (a rotation of it is multinomial).
    """
    from scipy import fft

    m, k = v.shape
    shuffled = v[rng.permutation(m)]
    mean = shuffled.mean(axis=0)
    if resampling == "poisson":
        size = fft.next_fast_len(2 * m, real=True)
        pool = _POISSON[np.frombuffer(rng.bytes(2 * size), dtype=np.uint16)].astype(np.float64)
    else:
        size = m
        pool = np.bincount(rng.integers(0, m, size=m), minlength=m).astype(np.float64)
    offsets = rng.choice(size, size=n_resamples, replace=False)
    spectrum = fft.rfft(pool)
    # the number of customers drawn in each rotation: the pool's window sums
    window = np.zeros(size)
    window[:m] = 1.0
    drawn = fft.irfft(spectrum * np.conj(fft.rfft(window)), n=size)[offsets]
    out = np.empty((n_resamples, k))
    column = np.zeros(size)
    for j in range(k):
        column[:m] = shuffled[:, j] - mean[j]
        corr = fft.irfft(spectrum * np.conj(fft.rfft(column)), n=size)
        out[:, j] = corr[offsets] + mean[j] * drawn
    return out


def bootstrap_sums(
    values: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    resampling: str = "poisson",
) -> np.ndarray:
    """Resampled per-stratum sums, shape ``(n_resamples, n_strata, k)``.

    ``values`` is ``(n_customers, k)``; ``strata`` the stratum (0..n_strata-1) of each
    customer, resampled separately (a two-sample bootstrap keeps each group's customers in
    their group).

    The counts and the values enter the matrix products in single precision, the values
    centred on their stratum means, so that each product of a block of at most 2^16
    customers is exact to about 1e-7 of the values' spread; blocks are added, and the means
    put back (times the exact count of customers drawn), in double precision.
    """
    order = np.argsort(strata, kind="stable")
    bounds = np.searchsorted(strata[order], np.arange(n_strata + 1))
    k = values.shape[1]
    out = np.zeros((n_resamples, n_strata, k))
    n = max(values.shape[0], 1)
    batch = int(max(1, min(n_resamples, 32, _BATCH_VALUES // min(n, _BLOCK))))
    blocks = []
    for s in range(n_strata):
        v = values[order[bounds[s] : bounds[s + 1]]]
        mean = v.mean(axis=0) if v.shape[0] else np.zeros(k)
        centred = np.empty((v.shape[0], k + 1), dtype=np.float32)
        centred[:, :k] = v - mean
        centred[:, k] = 1.0  # the number of customers drawn
        blocks.append((centred, mean))
    rotated = [
        values.shape[0] and (bounds[s + 1] - bounds[s]) >= _ROTATION * n_resamples
        for s in range(n_strata)
    ]
    for s in range(n_strata):
        if rotated[s]:
            v = values[order[bounds[s] : bounds[s + 1]]]
            out[:, s, :] = _rotated_sums(v, rng, n_resamples, resampling)
    buffer = np.empty(batch * min(n, _BLOCK), dtype=np.float32)
    done = 0
    while done < n_resamples and not all(rotated):
        b = min(batch, n_resamples - done)
        for s, (centred, mean) in enumerate(blocks):
            m_s = centred.shape[0]
            if m_s == 0 or rotated[s]:
                continue
            acc = np.zeros((b, k + 1))
            counts = _multinomial(rng, b, m_s) if resampling == "multinomial" else None
            for lo in range(0, m_s, _BLOCK):
                hi = min(m_s, lo + _BLOCK)
                if counts is None:
                    raw = np.frombuffer(rng.bytes(2 * b * (hi - lo)), dtype=np.uint16)
                    w = buffer[: b * (hi - lo)].reshape(b, hi - lo)  # contiguous, for BLAS
                    np.take(_POISSON, raw.reshape(b, hi - lo), out=w)
                else:
                    w = np.ascontiguousarray(counts[:, lo:hi])
                acc += w @ centred[lo:hi]
            out[done : done + b, s, :] = acc[:, :k] + acc[:, k : k + 1] * mean
        done += b
    return out


def stratum_sums(values: np.ndarray, strata: np.ndarray, n_strata: int) -> np.ndarray:
    """Per-stratum sums of the columns of ``values``, shape ``(n_strata, k)``."""
    out = np.zeros((n_strata, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(strata, weights=values[:, j], minlength=n_strata)
    return out


def jackknife(
    values: np.ndarray, strata: np.ndarray, full: np.ndarray, statistic: Statistic
) -> np.ndarray:
    """The statistic with each customer left out in turn, shape ``(n_customers, m)``."""
    n = values.shape[0]
    chunk = max(1, _BATCH_VALUES // max(full.size, 1))
    parts = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        sums = np.broadcast_to(full, (hi - lo, *full.shape)).copy()
        sums[np.arange(hi - lo), strata[lo:hi], :] -= values[lo:hi]
        parts.append(statistic(sums))
    return np.concatenate(parts) if parts else np.zeros((0, 1))


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return np.asarray(ndtri(p))


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return np.asarray(ndtr(x))


def intervals(
    replicates: np.ndarray,
    estimate: np.ndarray,
    confidence_level: float,
    method: str,
    jack: Callable[[], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds for each column of ``replicates`` (``(B, m)``).

    Replicates that are NaN (a resample in which a group had no unit) are left out, with a
    warning saying how many.
    """
    alpha = (1 - confidence_level) / 2
    m = replicates.shape[1]
    low = np.full(m, np.nan)
    high = np.full(m, np.nan)
    bad = ~np.isfinite(replicates)
    if bad.any():
        warnings.warn(
            f"{int(bad.any(axis=1).sum()):,} of {replicates.shape[0]:,} resamples gave no value "
            "(a group without units in the resample); the interval uses the others",
            OmnijourneyWarning,
            stacklevel=3,
        )
    jk = jack() if (method == "bca" and jack is not None) else None
    for j in range(m):
        r = replicates[:, j][np.isfinite(replicates[:, j])]
        if r.size < 2 or not np.isfinite(estimate[j]):
            continue
        if method == "percentile":
            q = np.array([alpha, 1 - alpha])
        else:
            assert jk is not None
            below = (
                np.count_nonzero(r < estimate[j]) + 0.5 * np.count_nonzero(r == estimate[j])
            ) / r.size
            z0 = float(_norm_ppf(np.array([below]))[0])
            theta = jk[:, j][np.isfinite(jk[:, j])]
            d = theta.mean() - theta
            denom = 6.0 * float((d**2).sum()) ** 1.5
            a = float((d**3).sum()) / denom if denom > 0 else 0.0
            z = _norm_ppf(np.array([alpha, 1 - alpha]))
            q = _norm_cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
            if not np.all(np.isfinite(q)):
                q = np.array([alpha, 1 - alpha])
        low[j], high[j] = np.quantile(r, q)
    return low, high


def customer_bootstrap(
    values: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
    statistic: Statistic,
    *,
    columns: int,
    n_resamples: int,
    rng: np.random.Generator,
    resampling: str,
    confidence_level: float,
    method: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The statistic on the full data and on every resample, and the intervals of its first
    ``columns`` outputs: ``(point, replicates, low, high)``."""
    full = stratum_sums(values, strata, n_strata)
    point = statistic(full[None])[0]
    sums = bootstrap_sums(
        values, strata, n_strata, n_resamples=n_resamples, rng=rng, resampling=resampling
    )
    reps = statistic(sums)
    low, high = intervals(
        reps[:, :columns],
        point[:columns],
        confidence_level,
        method,
        lambda: jackknife(values, strata, full, statistic)[:, :columns],
    )
    return point, reps, low, high


def check_bootstrap_options(
    n_resamples: int, confidence_level: float, method: str, resampling: str
) -> None:
    from omnijourney._validation import check_choice, check_positive_int

    check_positive_int(n_resamples, "n_resamples", minimum=2)
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, (int, float))
        or not 0 < confidence_level < 1
    ):
        msg = (
            "The 'confidence_level' parameter must be a number in (0, 1). "
            f"Got {confidence_level!r} instead."
        )
        raise ConfigError(msg)
    check_choice(method, "method", ("percentile", "bca"))
    check_choice(resampling, "resampling", ("poisson", "multinomial"))

"""Customer bootstrap by weights: resampled sums without copying any table.

Every estimate here (a mean, a rate, a difference of them, a difference in differences, a
CUPED-adjusted difference, a regression coefficient) is a function of a few sums over
customers: per stratum (group), ``S[s, j] = sum_i w_i V[i, j]`` for the columns ``V`` of
per-customer numerators, denominators and products. A bootstrap resample of customers is a
vector of counts ``w`` (how many times each customer is drawn), so the sums of a block of
resamples are one matrix product ``W @ V``, and the statistic is evaluated on all resamples
at once. The per-customer table is never copied (Efron & Tibshirani 1993; resampling the
assigned unit, not rows: Cameron, Gelbach & Miller 2008).

Every resample is drawn independently of the others, from its own random stream (a child of
one :class:`numpy.random.SeedSequence` seeded from ``seed``), so that the same seed gives the
same resamples whatever the number of resamples processed together. Two schemes:

``"multinomial"`` (default)
    the classical bootstrap: each stratum's ``m`` customers are drawn with replacement, ``m``
    times (the counts follow a multinomial distribution).
``"poisson"``
    each customer gets an independent Poisson(1) count (Hanley & MacGibbon 2006; Chamandy et
    al. 2012, "Estimating uncertainty for massive data streams"): the number of customers of
    a resample varies (its mean is ``m``), which ratio statistics absorb; the intervals agree
    with the classical ones to ``O(1/m)``.

Poisson counts are read from a table of the Poisson(1) quantile function at 65,536 cells,
indexed by random 16-bit integers (two random bytes and one byte of memory per count). The
few cells that hold a step of the distribution function (9 of 65,536, and the tail) are
resolved with a second, 53-bit uniform, so the counts are Poisson(1) to double precision.
Multinomial counts of a large stratum start from Poisson counts: given their total ``t``,
i.i.d. Poisson counts are multinomial with ``t`` draws, so adding ``m - t`` draws with
replacement (``t < m``) or removing ``t - m`` of the ``t`` draws chosen without replacement
(``t > m``) makes them exactly multinomial with ``m`` draws, at a cost of about ``sqrt(m)``
extra draws. A stratum of fewer than 2,048 customers draws its ``m`` customers directly.
Poisson counts are drawn for a whole resample at once.

Counts are held as bytes, 32 resamples at a time (32 bytes per customer), and enter the
matrix products in single precision by chunks of customers small enough for a product to
stay in cache, with the values centred on their stratum means; chunks add up in double
precision, and the means come back times the exact count of customers drawn. Columns that
are constant in a stratum (a denominator of one per customer) or repeat another column take
no part in the products. Large problems spread their blocks of resamples over up to four
threads; since each resample has its own stream and each block its fixed resamples, the sums
are the same bits whatever the number of threads or the size of the blocks.

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

__all__ = ["RESAMPLING", "ConfidenceInterval", "bootstrap_sums", "customer_bootstrap", "intervals"]

Statistic = Callable[[np.ndarray], np.ndarray]
#: The resampling schemes of the customer bootstrap.
RESAMPLING = ("multinomial", "poisson")
_BATCH_VALUES = 1 << 24  # jackknife values held at once
_DIRECT = 1 << 11  # strata below this many customers draw their multinomial counts directly
_BLOCK = 32  # resamples whose counts are held at once (32 bytes per customer)
_THREADED = 1 << 24  # counts from which blocks of resamples run on several threads
#: customers of one matrix product (over the number of columns): a product stays in cache
#: (and on one thread); fixed by the data, so that sums do not depend on how resamples are
#: grouped
_CHUNK_BITS = 13
_STEP = 255  # table mark of a cell that holds a step of the distribution function


class ConfidenceInterval(NamedTuple):
    """Lower and upper bounds of an interval (as ``scipy.stats`` results give them)."""

    low: float
    high: float


def _poisson_tables() -> tuple[np.ndarray, np.ndarray]:
    """The Poisson(1) distribution function (float64), and the count of each 16-bit cell
    ``[j, j + 1) / 2^16`` of the uniform, ``_STEP`` where the count changes within the cell."""
    pmf = [math.exp(-1.0) / math.factorial(k) for k in range(32)]
    cdf = np.cumsum(pmf)
    cdf = cdf[: int(np.searchsorted(cdf, 1.0)) + 1]
    lo = np.arange(1 << 16) / (1 << 16)
    hi = (np.arange(1 << 16) + 1) / (1 << 16)
    count_lo = np.searchsorted(cdf, lo, side="right")
    # a step at c with lo < c < hi changes the count inside the cell
    steps_inside = np.searchsorted(cdf, hi, side="left") - count_lo
    table = np.where(steps_inside > 0, _STEP, count_lo).astype(np.uint8)
    return cdf, table


_CDF, _TABLE = _poisson_tables()


def poisson_counts(gen: np.random.Generator, out: np.ndarray) -> None:
    """Fill ``out`` (uint8) with i.i.d. Poisson(1) counts drawn from ``gen``."""
    m = out.size
    raw = gen.bit_generator.random_raw((m + 3) // 4).view(np.uint16)[:m]
    np.take(_TABLE, raw, out=out)
    steps = np.flatnonzero(out == _STEP)
    if steps.size:
        u = (raw[steps] + gen.random(steps.size)) / (1 << 16)
        out[steps] = np.searchsorted(_CDF, u, side="right")


def _to_total(gen: np.random.Generator, out: np.ndarray) -> None:
    """Bring i.i.d. Poisson counts ``out`` to a total of ``out.size`` draws: multinomial."""
    m = out.size
    total = int(out.sum(dtype=np.int64))
    if total < m:
        added = gen.integers(0, m, size=m - total)
        np.add.at(out, added, 1)
        if not out[added].all():  # a count wrapped past 255: probability below 1e-500
            raise AssertionError("a customer drawn more than 255 times")
    elif total > m:
        ends = np.cumsum(out, dtype=np.int32 if total < 1 << 31 else np.int64)
        gone = gen.choice(total, size=total - m, replace=False, shuffle=False)
        np.subtract.at(out, np.searchsorted(ends, gone, side="right"), 1)


def _direct(draws: np.ndarray, size: int) -> np.ndarray:
    """Counts of each of ``size`` customers in each row of ``draws`` (customer positions)."""
    rows = draws.shape[0]
    flat = (draws + (np.arange(rows) * size)[:, None]).ravel()
    counts = np.bincount(flat, minlength=rows * size).reshape(rows, size)
    if counts.size and counts.max() > 255:  # probability below 1e-500
        raise AssertionError("a customer drawn more than 255 times")
    return counts


def multinomial_counts(gen: np.random.Generator, out: np.ndarray) -> None:
    """Fill ``out`` (uint8) with the counts of ``out.size`` draws with replacement among
    ``out.size`` customers (see the module notes)."""
    m = out.size
    if m < _DIRECT:  # few customers: the draws themselves cost less than the corrections
        out[:] = _direct(gen.integers(0, m, size=(1, m)), m)[0]
        return
    poisson_counts(gen, out)
    _to_total(gen, out)


class _Draws:
    """How one resample draws the counts of every stratum (``spans``: their customers)."""

    def __init__(self, spans: np.ndarray, resampling: str) -> None:
        sizes = np.diff(spans)
        self.poisson = resampling == "poisson"
        small = (sizes > 0) & (sizes < _DIRECT) & (not self.poisson)
        self.large = [
            (int(lo), int(hi)) for lo, hi, m in zip(spans[:-1], spans[1:], sizes) if m >= _DIRECT
        ]
        self.small = [(int(lo), int(hi)) for lo, hi, f in zip(spans[:-1], spans[1:], small) if f]
        self.n_small = int(sizes[small].sum())

    def fill(self, gens: list[np.random.Generator], counts: np.ndarray) -> None:
        """Counts of resample ``i`` into ``counts[i]``, from ``gens[i]`` alone."""
        # the draws of the small strata: positions in the concatenation of them
        small = np.empty((len(gens), self.n_small), dtype=np.int64)
        for i, gen in enumerate(gens):
            if self.poisson or self.large:
                poisson_counts(gen, counts[i])
            for lo, hi in () if self.poisson else self.large:
                _to_total(gen, counts[i, lo:hi])
            at = 0
            for lo, hi in self.small:
                small[i, at : at + hi - lo] = gen.integers(at, at + hi - lo, size=hi - lo)
                at += hi - lo
        if self.n_small:
            drawn = _direct(small, self.n_small)
            at = 0
            for lo, hi in self.small:
                counts[: len(gens), lo:hi] = drawn[:, at : at + hi - lo]
                at += hi - lo


def _streams(rng: np.random.Generator) -> np.random.SeedSequence:
    """The root of the resamples' streams: resample ``r`` draws from its ``r``-th child."""
    return np.random.SeedSequence([int(x) for x in rng.integers(0, 1 << 32, size=4)])


class _Cell(NamedTuple):
    """The customers ``[lo, hi)`` (in sorted order) of one cell, ready for products."""

    lo: int
    hi: int
    matrix: np.ndarray  # (m, p + 1) float32: the varying columns centred, then ones
    source: np.ndarray  # (k,) column of ``matrix`` of each value column, -1 if constant
    mean: np.ndarray  # (k,) float64


def _cell(values: np.ndarray, lo: int, hi: int) -> _Cell:
    k = values.shape[1]
    mean = values.mean(axis=0) if hi > lo else np.zeros(k)
    centred = values - mean
    source = np.full(k, -1, dtype=np.int64)
    kept: list[int] = []
    for j in range(k):
        if not centred[:, j].any():
            continue  # constant: its sum is the mean times the customers drawn
        same = [i for i, jj in enumerate(kept) if np.array_equal(centred[:, j], centred[:, jj])]
        if same:
            source[j] = same[0]
        else:
            source[j] = len(kept)
            kept.append(j)
    matrix = np.empty((hi - lo, len(kept) + 1), dtype=np.float32)
    matrix[:, :-1] = centred[:, kept]
    matrix[:, -1] = 1.0
    return _Cell(lo, hi, matrix, source, mean)


def bootstrap_sums(
    values: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    resampling: str = "multinomial",
    cells: np.ndarray | None = None,
    n_cells: int | None = None,
) -> np.ndarray:
    """Resampled per-cell sums, shape ``(n_resamples, n_cells, k)``.

    ``values`` is ``(n_customers, k)``; ``strata`` the stratum (0..n_strata-1) of each
    customer, resampled separately (a two-sample bootstrap keeps each group's customers in
    their group); ``cells`` the cell (0..n_cells-1) whose sums each customer's values go to,
    each cell within one stratum (default: the strata themselves). Resample ``r`` is drawn
    from its own stream, whatever the block it is computed in.
    """
    if cells is None or n_cells is None:
        cells, n_cells = strata, n_strata
    key = strata.astype(np.int64) * n_cells + cells
    order = np.argsort(key, kind="stable")
    key = key[order]
    ordered = values[order]
    spans = np.searchsorted(key, np.arange(n_strata + 1) * n_cells)
    found, lows = np.unique(key, return_index=True)
    highs = np.append(lows[1:], key.size)
    if np.unique(found % n_cells).size != found.size:
        raise ValueError("a cell of the bootstrap spans two strata")
    parts = {
        int(f % n_cells): _cell(ordered[lo:hi], int(lo), int(hi))
        for f, lo, hi in zip(found.tolist(), lows.tolist(), highs.tolist())
    }
    n, k = values.shape
    draws = _Draws(spans, resampling)
    children = _streams(rng).spawn(n_resamples)
    out = np.zeros((n_resamples, n_cells, k))
    width = max((p.matrix.shape[1] for p in parts.values()), default=1)
    chunk = 1 << max(8, _CHUNK_BITS - int(width - 1).bit_length())

    def run(start: int) -> None:
        b = min(_BLOCK, n_resamples - start)
        counts = np.empty((b, n), dtype=np.uint8)
        weights = np.empty((b, chunk), dtype=np.float32)
        gens = [np.random.Generator(np.random.SFC64(c)) for c in children[start : start + b]]
        draws.fill(gens, counts)
        for c, part in parts.items():
            acc = np.zeros((b, part.matrix.shape[1]))
            for lo in range(part.lo, part.hi, chunk):
                hi = min(part.hi, lo + chunk)
                w = weights[:, : hi - lo]
                np.copyto(w, counts[:, lo:hi], casting="unsafe")
                acc += w @ part.matrix[lo - part.lo : hi - part.lo]
            sums = np.where(part.source >= 0, acc[:, np.maximum(part.source, 0)], 0.0)
            out[start : start + b, c, :] = sums + acc[:, -1:] * part.mean

    starts = range(0, n_resamples, _BLOCK)
    workers = min(_workers(), len(starts)) if n * n_resamples >= _THREADED else 1
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return out


def _workers() -> int:
    """Threads for the resamples: the CPUs this process may use, at most 4."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


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
    cells: np.ndarray | None = None,
    n_cells: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The statistic on the full data and on every resample, and the intervals of its first
    ``columns`` outputs: ``(point, replicates, low, high)``.

    The statistic reads the per-cell sums (``(m, n_cells, k)`` for ``m`` resamples); cells
    default to the strata.
    """
    if cells is None or n_cells is None:
        cells, n_cells = strata, n_strata
    full = stratum_sums(values, cells, n_cells)
    point = statistic(full[None])[0]
    sums = bootstrap_sums(
        values,
        strata,
        n_strata,
        n_resamples=n_resamples,
        rng=rng,
        resampling=resampling,
        cells=cells,
        n_cells=n_cells,
    )
    reps = statistic(sums)
    low, high = intervals(
        reps[:, :columns],
        point[:columns],
        confidence_level,
        method,
        lambda: jackknife(values, cells, full, statistic)[:, :columns],
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
    check_choice(resampling, "resampling", RESAMPLING)

"""Fellegi-Sunter scoring: u by random sampling, m and u by EM, term-frequency adjustment.

Match weight of a pair = log2(prior odds) + sum over comparisons of log2(m / u) at the
pair's level (Fellegi & Sunter 1969), plus, for term-frequency adjusted comparisons agreeing
exactly, log2(u_exact / tf(value)) (splink's adjustment: a rare shared value counts more).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from omnijourney.errors import ConvergenceError
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._records import NormalizedRecords
from omnijourney.tables import Table

__all__ = [
    "FellegiSunterModel",
    "fit_fellegi_sunter",
    "sample_pairs",
    "tf_adjustments",
    "u_by_sampling",
]

_FLOOR = 1e-6
_TF_FLOOR = 1e-4


def _tuples(value: Sequence[Sequence[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in value)


@attrs.frozen(kw_only=True)
class FellegiSunterModel:
    """A fitted Fellegi-Sunter model: m and u per comparison level, and the prior.

    Attributes
    ----------
    comparisons : tuple of Comparison
    m, u : tuple of tuple of float
        ``m[c][k]`` = P(level k of comparison c | match), ``u[c][k]`` = P(... | non-match),
        for the non-null levels (``k = 0`` is the level ``exact``).
    u_sampled : tuple of tuple of float
        u estimated on random record pairs (the starting point of EM).
    prior : float
        P(match) among the pairs the model was fitted on.
    n_iter : int
        EM iterations run.
    converged : bool
    n_pairs : int
        Pairs the model was fitted on.
    """

    comparisons: tuple[Comparison, ...]
    m: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    u: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    u_sampled: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    prior: float
    n_iter: int = 0
    converged: bool = True
    n_pairs: int = 0

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) of each level of each comparison; index 0 (null) is 0."""
        out = []
        for m, u in zip(self.m, self.u):
            w = np.log2(np.maximum(m, _FLOOR)) - np.log2(np.maximum(u, _FLOOR))
            out.append(np.concatenate(([0.0], w)))
        return out

    def partial_weights(self, gamma: np.ndarray) -> np.ndarray:
        """log2 Bayes factor of each comparison for each pair: shape (n_pairs, n_comparisons)."""
        weights = self.level_weights()
        out = np.zeros(gamma.shape, dtype=np.float64)
        for c, w in enumerate(weights):
            out[:, c] = w[gamma[:, c]]
        return out

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds."""
        p = min(max(self.prior, 1e-12), 1 - 1e-12)
        return float(np.log2(p / (1 - p)))

    def match_weight(self, gamma: np.ndarray, tf: np.ndarray | None = None) -> np.ndarray:
        """Total match weight of each pair (prior included, term-frequency adjustments added)."""
        w = self.partial_weights(gamma).sum(axis=1) + self.prior_weight
        return w if tf is None else w + tf.sum(axis=1)

    def probability(self, gamma: np.ndarray, tf: np.ndarray | None = None) -> np.ndarray:
        """P(match | comparison levels) of each pair."""
        return 1.0 / (1.0 + np.exp2(-self.match_weight(gamma, tf)))

    def summary(self) -> Table:
        """One row per comparison level: ``comparison``, ``level``, ``m``, ``u``, ``weight``."""
        rows: dict[str, list] = {"comparison": [], "level": [], "m": [], "u": [], "weight": []}
        for comp, m, u, w in zip(self.comparisons, self.m, self.u, self.level_weights()):
            for k, name in enumerate(comp.levels[1:]):
                rows["comparison"].append(comp.name)
                rows["level"].append(name)
                rows["m"].append(m[k])
                rows["u"].append(u[k])
                rows["weight"].append(float(w[k + 1]))
        return Table.from_columns(rows, kinds={"comparison": "category", "level": "category"})


def sample_pairs(
    n: int, size: int, rng: np.random.Generator, link_groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` random pairs of distinct rows (across groups when ``link_groups`` is given)."""
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = rng.integers(0, n, size=size)
    b = rng.integers(0, n - 1, size=size)
    b = np.where(b >= a, b + 1, b)
    if link_groups is not None:
        keep = link_groups[a] != link_groups[b]
        a, b = a[keep], b[keep]
    return np.minimum(a, b), np.maximum(a, b)


#: u of an exact agreement assumed before seeing data, by comparison kind; small data sets are
#: shrunk towards it (PSEUDO_PAIRS pairs' worth), large ones are not affected.
U_EXACT_PRIOR = {"key": 1e-6, "string": 1e-2, "date": 1e-4, "exact": 2e-2}
PSEUDO_PAIRS = 10_000.0


def _exact_share(codes: np.ndarray, prior: float, mask_values: np.ndarray | None = None) -> float:
    """P(two random records with valid values agree), optionally on a subset of values."""
    valid = codes[codes >= 0].astype(np.int64)
    counts = np.bincount(valid).astype(np.float64) if valid.size else np.zeros(1)
    if mask_values is not None:
        counts = counts * mask_values[: counts.size]
    total = float(valid.size)
    pairs = total * (total - 1)
    agree = float((counts * (counts - 1)).sum())
    return max((agree + prior * PSEUDO_PAIRS) / (pairs + PSEUDO_PAIRS), _FLOOR)


def u_by_sampling(
    norm: NormalizedRecords,
    comparisons: Sequence[Comparison],
    *,
    size: int,
    rng: np.random.Generator,
    link_groups: np.ndarray | None = None,
    shared: dict[str, np.ndarray] | None = None,
) -> list[np.ndarray]:
    """u of every non-null level, from random pairs; exact levels from value frequencies.

    The exact level's u is the probability that two random records with a value agree,
    computed from the value counts (random samples rarely hit two equal emails); the other
    levels share the rest in the proportions seen on ``size`` random pairs.
    """
    left, right = sample_pairs(len(norm), size, rng, link_groups)
    gamma = compare_pairs(norm, comparisons, left, right, shared=shared)
    out = []
    for c, comp in enumerate(comparisons):
        k = len(comp.levels) - 1
        counts = np.bincount(gamma[:, c].astype(np.int64), minlength=k + 1)[1:].astype(float)
        u = np.zeros(k)
        if comp.field in norm:
            codes = norm[comp.field].codes
            if comp.kind == "date":
                days = np.where(codes >= 0, norm.dob_days, -1)
                codes = np.unique(days, return_inverse=True)[1].reshape(-1) - int((days < 0).any())
            prior = U_EXACT_PRIOR[comp.kind]
            if comp.kind == "key" and shared is not None and comp.field in shared:
                mask = shared[comp.field].astype(np.float64)
                u[0] = _exact_share(codes, prior, 1.0 - mask)
                u[1] = _exact_share(codes, prior, mask)
            else:
                u[0] = _exact_share(codes, prior)
        exact_levels = 2 if comp.kind == "key" else 1
        rest = counts[exact_levels:] + 0.5  # pseudo-counts keep every level possible
        u[exact_levels:] = rest / rest.sum() * max(1.0 - u[:exact_levels].sum(), _FLOOR)
        out.append(np.maximum(u, _FLOOR))
    return out


def tf_adjustments(
    norm: NormalizedRecords,
    comparisons: Sequence[Comparison],
    gamma: np.ndarray,
    left: np.ndarray,
    u_exact: Sequence[float],
) -> np.ndarray:
    """log2(u_exact / tf(value)) for pairs agreeing exactly on a term-frequency field, else 0."""
    out = np.zeros(gamma.shape, dtype=np.float64)
    for c, comp in enumerate(comparisons):
        if not comp.tf_adjust or comp.field not in norm:
            continue
        codes = norm[comp.field].codes
        valid = codes[codes >= 0].astype(np.int64)
        if valid.size == 0:
            continue
        tf = np.bincount(valid, minlength=norm[comp.field].labels.size) / valid.size
        exact = np.flatnonzero(gamma[:, c] == 1)
        value_tf = np.maximum(tf[codes[left[exact]].astype(np.int64)], _TF_FLOOR)
        out[exact, c] = np.log2(max(u_exact[c], _FLOOR)) - np.log2(value_tf)
    return out


def fit_fellegi_sunter(
    gamma: np.ndarray,
    comparisons: Sequence[Comparison],
    u_init: Sequence[np.ndarray],
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior: float = 0.1,
    fix_u: bool = False,
    total_pairs: int | None = None,
    strict: bool = False,
) -> FellegiSunterModel:
    """Estimate m (and u, unless ``fix_u``) and the prior by EM, without labels.

    The pairs are grouped by their pattern of levels first, so each iteration costs
    O(distinct patterns), not O(pairs).

    Parameters
    ----------
    gamma : numpy.ndarray of int8, shape (n_pairs, n_comparisons)
        Levels from :func:`~omnijourney.identity.compare_pairs` (0 = null: no evidence).
    comparisons : sequence of Comparison
    u_init : sequence of numpy.ndarray
        Starting u (from :func:`u_by_sampling`); kept when ``fix_u``.
    max_iter, tol : int, float
        Stop after ``max_iter`` iterations or when no parameter moves more than ``tol``.
    prior : float
        Starting P(match) among the pairs.
    fix_u : bool
        Keep u as given (estimated on random pairs) and estimate m and the prior only, as
        splink does; otherwise u is re-estimated among the pairs (the ECM of recordlinkage).
    total_pairs : int, optional
        Number of pairs of the whole data set, of which ``gamma`` are the candidates. The
        model's prior is then P(match) over all pairs (expected matches among the candidates
        / ``total_pairs``), so that weights are read against random pairs, whose u they use.
    strict : bool
        Raise :class:`~omnijourney.ConvergenceError` when EM does not converge.

    Returns
    -------
    FellegiSunterModel

    Examples
    --------
    >>> c = Comparison(name="name", field="first_name")
    >>> gamma = np.array([[1]] * 30 + [[2]] * 70, dtype=np.int8)
    >>> model = fit_fellegi_sunter(gamma, [c], [np.array([0.01, 0.99])], fix_u=True)
    >>> round(model.prior, 2)
    0.3
    """
    n_comp = len(comparisons)
    sizes = [len(c.levels) for c in comparisons]
    u0 = [np.asarray(u, dtype=np.float64) for u in u_init]
    if gamma.shape[0] == 0:
        m0 = [_initial_m(c) for c in comparisons]
        return FellegiSunterModel(
            comparisons=tuple(comparisons), m=m0, u=u0, u_sampled=u0, prior=prior, n_pairs=0
        )
    radix = np.cumprod([1, *sizes[:-1]]).astype(np.int64)
    key = gamma.astype(np.int64) @ radix
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    pats = gamma[first].astype(np.int64)
    w = counts.astype(np.float64)
    m = [_initial_m(c) for c in comparisons]
    u = [x.copy() for x in u0]
    lam = prior
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        logit = np.full(pats.shape[0], np.log(lam / (1 - lam)))
        for c in range(n_comp):
            g = pats[:, c]
            has = g > 0
            lr = np.log(np.maximum(m[c], _FLOOR)) - np.log(np.maximum(u[c], _FLOOR))
            logit[has] += lr[g[has] - 1]
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        new_m, new_u = [], []
        delta = 0.0
        for c in range(n_comp):
            g = pats[:, c]
            has = g > 0
            k = sizes[c] - 1
            mm = np.bincount(g[has] - 1, weights=(w * p)[has], minlength=k)
            uu = np.bincount(g[has] - 1, weights=(w * (1 - p))[has], minlength=k)
            mm = mm / mm.sum() if mm.sum() > 0 else m[c]
            uu = uu / uu.sum() if uu.sum() > 0 else u[c]
            mm = np.maximum(mm, _FLOOR)
            uu = u[c] if fix_u else np.maximum(uu, _FLOOR)
            delta = max(delta, float(np.abs(mm - m[c]).max()), float(np.abs(uu - u[c]).max()))
            new_m.append(mm)
            new_u.append(uu)
        new_lam = float(np.clip((w * p).sum() / w.sum(), 1e-9, 1 - 1e-9))
        delta = max(delta, abs(new_lam - lam))
        m, u, lam = new_m, new_u, new_lam
        if delta < tol:
            converged = True
            break
    if strict and not converged:
        msg = f"EM did not converge in {max_iter} iterations (last change {delta:.2e})"
        raise ConvergenceError(msg)
    if total_pairs:
        lam = float(np.clip(lam * w.sum() / total_pairs, 1e-15, 1 - 1e-9))
    return FellegiSunterModel(
        comparisons=tuple(comparisons),
        m=m,
        u=u,
        u_sampled=u0,
        prior=lam,
        n_iter=it,
        converged=converged,
        n_pairs=int(gamma.shape[0]),
    )


def _initial_m(comp: Comparison) -> np.ndarray:
    """Starting m: most matches agree exactly, fewer at each weaker level."""
    k = len(comp.levels) - 1
    m = np.array([0.9 * 0.3**i for i in range(k - 1)] + [0.05])
    return m / m.sum()

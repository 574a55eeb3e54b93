"""Fellegi-Sunter scoring: u by random sampling, m and u by EM, term-frequency adjustment.

Match weight of a pair = log2(prior odds) + sum over comparisons of log2(m / u) at the
pair's level (Fellegi & Sunter 1969), plus, for term-frequency adjusted comparisons agreeing
exactly, log2(u_exact / u(value)) (splink's adjustment: a rare shared value counts more),
where u(value) counts the records of *other* entities holding the value (:func:`value_u`).
EM can train per blocking rule, leaving out the comparisons the rule biases, as splink does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConvergenceError
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._records import NormalizedRecords
from omnijourney.tables import Table

__all__ = [
    "FellegiSunterModel",
    "add_tf",
    "fit_fellegi_sunter",
    "pair_u",
    "pattern_keys",
    "record_own",
    "sample_pairs",
    "tf_adjustments",
    "tf_prior",
    "u_by_sampling",
    "value_u",
]

_FLOOR = 1e-6
# u of exact agreement on identifiers falls like 1 / records: its floor must stay far below
_U_FLOOR = 1e-12


def _tuples(value: Iterable[Iterable[float]]) -> tuple[tuple[float, ...], ...]:
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
    tf_priors : tuple of tuple of float
        Per comparison, the priors of its term-frequency adjustment fitted with the model
        (:func:`tf_prior` of the records, then of the entities: ``n, shape, u_mean`` each;
        empty for comparisons without adjustment). A resolution given this model reads each value's
        frequency against these priors, so that adding records changes the weights of the pairs
        agreeing on the values they hold only. Empty: fitted on the records resolved.
    """

    comparisons: tuple[Comparison, ...]
    m: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    u: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    u_sampled: tuple[tuple[float, ...], ...] = attrs.field(converter=_tuples)
    prior: float
    n_iter: int = 0
    converged: bool = True
    n_pairs: int = 0
    tf_priors: tuple[tuple[float, ...], ...] = attrs.field(default=(), converter=_tuples)

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) of each level of each comparison; index 0 (null) is 0."""
        out = []
        for comp, m, u in zip(self.comparisons, self.m, self.u):
            w = np.log2(np.maximum(m, _FLOOR)) - np.log2(np.maximum(u, _U_FLOOR))
            if not comp.disagreement:
                w[-1] = 0.0
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
        """Total match weight of each pair (prior included, term-frequency adjustments, per
        pair or per pair and comparison, added)."""
        w = self.partial_weights(gamma).sum(axis=1) + self.prior_weight
        if tf is None:
            return w
        return w + (tf if tf.ndim == 1 else tf.sum(axis=1))

    def probability(self, gamma: np.ndarray, tf: np.ndarray | None = None) -> np.ndarray:
        """P(match | comparison levels) of each pair."""
        return 1.0 / (1.0 + np.exp2(-self.match_weight(gamma, tf)))

    def levels(self) -> Table:
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

    def summary(self) -> str:
        """The prior and one line per comparison level (m, u, match weight).

        Examples
        --------
        >>> c = Comparison(name="name", field="first_name")
        >>> model = FellegiSunterModel(comparisons=(c,), m=[[0.9, 0.1]], u=[[0.01, 0.99]],
        ...                            u_sampled=[[0.01, 0.99]], prior=0.01)
        >>> print(model.summary())
        Fellegi-Sunter model: prior 0.01 (weight -6.63); fitted on 0 pairs in 0 EM iterations
          name        exact         m 0.9000  u 0.010000  weight  +6.49
          name        else          m 0.1000  u 0.990000  weight  -3.31
        """
        lines = [
            f"Fellegi-Sunter model: prior {self.prior:.3g} (weight {self.prior_weight:+.2f}); "
            f"fitted on {self.n_pairs:,} pairs in {self.n_iter} EM iterations"
            + ("" if self.converged else " (not converged)")
        ]
        table = self.levels()
        for i in range(len(table)):
            row = table.row(i)
            lines.append(
                f"  {row['comparison']:<11} {row['level']:<13} m {row['m']:.4f}  "
                f"u {row['u']:.6f}  weight {row['weight']:+6.2f}"
            )
        return "\n".join(lines)

    def to_pandas(self) -> Any:
        """The levels (see :meth:`levels`) as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.levels().to_pandas()


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
U_EXACT_PRIOR = {"key": 1e-6, "string": 1e-2, "date": 1e-4, "exact": 2e-2, "place": 1e-3}
PSEUDO_PAIRS = 10_000.0


def _exact_share(
    codes: np.ndarray,
    prior: float,
    mask_values: np.ndarray | None = None,
    entity: np.ndarray | None = None,
) -> float:
    """P(two records with valid values agree), optionally on a subset of values.

    With ``entity`` (a cluster label per record), only pairs of records of different
    entities count: the agreement of an entity's own records (duplicates of a person, the
    members of a household) is what a match looks like, not what chance produces.
    """
    ok = codes >= 0
    valid = codes[ok].astype(np.int64)
    if valid.size == 0:
        return max(prior, _U_FLOOR)
    counts = np.bincount(valid).astype(np.float64)
    keep = np.ones(counts.size) if mask_values is None else mask_values[: counts.size]
    total = float(valid.size)
    if entity is None:
        pairs = total * (total - 1)
        agree = float((keep * counts * (counts - 1)).sum())
    else:
        ent = entity[ok].astype(np.int64)
        _, ent_counts = np.unique(ent, return_counts=True)
        pairs = total * total - float((ent_counts.astype(np.float64) ** 2).sum())
        key = valid * (int(ent.max()) + 1) + ent
        uniq, within = np.unique(key, return_counts=True)
        value_of = uniq // (int(ent.max()) + 1)
        inside = np.bincount(
            value_of, weights=within.astype(np.float64) ** 2, minlength=counts.size
        )
        agree = float((keep * (counts * counts - inside)).sum())
    return max((agree + prior * PSEUDO_PAIRS) / (pairs + PSEUDO_PAIRS), _U_FLOOR)


def _exact_codes(norm: NormalizedRecords, comp: Comparison) -> np.ndarray:
    """Codes whose equality is the exact level (days of birth for dates)."""
    codes = norm[comp.field].codes
    if comp.kind == "date":
        days = np.where(codes >= 0, norm.dob_days, -1)
        codes = np.unique(days, return_inverse=True)[1].reshape(-1) - int((days < 0).any())
    return codes


def exact_u(
    norm: NormalizedRecords,
    comp: Comparison,
    *,
    shared: dict[str, np.ndarray] | None = None,
    entity: np.ndarray | None = None,
) -> np.ndarray:
    """u of the exact level(s) of one comparison from value frequencies.

    Returns one value, or two for keys with shared values (``exact``, ``exact_shared``).
    """
    if comp.field not in norm:
        return np.zeros(2 if comp.kind == "key" else 1)
    codes = _exact_codes(norm, comp)
    prior = U_EXACT_PRIOR[comp.kind]
    if comp.kind == "key":
        if shared is not None and comp.field in shared:
            mask = shared[comp.field].astype(np.float64)
            return np.array(
                [
                    _exact_share(codes, prior, 1.0 - mask, entity),
                    _exact_share(codes, prior, mask, entity),
                ]
            )
        return np.array([_exact_share(codes, prior, None, entity), 0.0])
    return np.array([_exact_share(codes, prior, None, entity)])


def with_exact_u(u: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``u`` with its exact level(s) replaced, the other levels rescaled to sum to 1."""
    k = exact.size
    out = np.asarray(u, dtype=np.float64).copy()
    out[:k] = exact
    rest = out[k:]
    out[k:] = rest / max(rest.sum(), _FLOOR) * max(1.0 - exact.sum(), _FLOOR)
    return np.maximum(out, _U_FLOOR)


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
        exact = exact_u(norm, comp, shared=shared)
        u = np.zeros(k)
        u[exact.size :] = counts[exact.size :] + 0.5  # pseudo-counts keep every level possible
        out.append(with_exact_u(u, exact))
    return out


def tf_prior(codes: np.ndarray, entity: np.ndarray | None = None) -> tuple[float, float, float]:
    """The Gamma prior of :func:`value_u` fitted to the records' counts: ``(n, shape, u_mean)``.

    ``n`` is the number of records with a valid value, ``u_mean`` the average chance agreement
    and ``shape`` the over-dispersion (``inf``: every value gets the mean). ``u_mean`` is 0
    when the field gives no information (no value held by two entities).
    """
    ok = codes >= 0
    n = int(ok.sum())
    if n < 2:
        return (float(n), 0.0, 0.0)
    v = codes.astype(np.int64)
    rows = np.flatnonzero(ok)
    count = np.bincount(v[rows])
    other = count[v[rows]] - record_own(codes, entity)[rows]
    mean = float(other.mean())
    if mean <= 0.0:
        return (float(n), 0.0, 0.0)
    var = float(other.var())
    shape = mean * mean / (var - mean) if var > mean * (1 + 1e-9) else np.inf
    return (float(n), shape, mean / n)


def record_own(codes: np.ndarray, entity: np.ndarray | None = None) -> np.ndarray:
    """Per record, the records of its own (value, entity) group (1 without ``entity``; 0 for
    records without a valid value)."""
    ok = codes >= 0
    own = np.zeros(codes.size, dtype=np.int64)
    if entity is None:
        own[ok] = 1
        return own
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return own
    ent = entity.astype(np.int64)
    key = codes[rows].astype(np.int64) * (int(ent.max()) + 1) + ent[rows]
    _, inverse, within = np.unique(key, return_inverse=True, return_counts=True)
    own[rows] = within[inverse.reshape(-1)]
    return own


def pair_u(
    count: np.ndarray,
    own: np.ndarray,
    value: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    same: np.ndarray | None,
    prior: tuple[float, float, float],
) -> np.ndarray:
    """u of the value (``value``: its code) shared by each pair, given the count of records
    holding each value (``count``), each record's ``own`` group and the ``prior`` of
    :func:`tf_prior` (see :func:`value_u`)."""
    n, shape, u_mean = prior
    if not u_mean > 0 or left.size == 0:
        return np.full(left.size, np.nan)
    if np.isinf(shape):
        return np.full(left.size, u_mean)
    right_own = own[right] if same is None else np.where(same, 0, own[right])
    o = count[value] - own[left] - right_own
    return (o + shape) / (n + shape / u_mean)


def value_u(
    codes: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    entity: np.ndarray | None = None,
) -> np.ndarray:
    """u of the value shared by each pair ``(left, right)`` agreeing on it.

    The evidence of a value is how many records of *other* entities hold it: ``o`` = records
    with the value outside the pair's own entities (with no ``entity``, outside the pair).
    ``o`` is read as a Poisson count of rate ``N u`` (``N`` records with a valid value) with a
    Gamma prior on the rate fitted to the records' own counts by moments (a negative binomial:
    most values belong to one entity, a few are common). The posterior mean
    ``u = (o + a) / (N + a / u_mean)`` is the average where the data say nothing, smaller for a
    value no other entity holds and larger for a common one.

    Returns NaN when the field gives no information (no value held by two entities).

    Examples
    --------
    A value six records hold is more likely shared by chance than one two records hold:

    >>> codes = np.array([0] * 6 + [1, 1, 2, 2, 3, 4, 5, 6])
    >>> value_u(codes, np.array([0, 6]), np.array([1, 7])).round(3).tolist()
    [0.232, 0.083]
    """
    prior = tf_prior(codes, entity)
    if left.size == 0:
        return np.full(0, np.nan)
    count = np.bincount(codes[codes >= 0].astype(np.int64), minlength=1)
    own = record_own(codes, entity)
    same = None if entity is None else entity[left] == entity[right]
    return pair_u(count, own, codes[left].astype(np.int64), left, right, same, prior)


def tf_adjustments(
    norm: NormalizedRecords,
    comparisons: Sequence[Comparison],
    gamma: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    u_exact: Sequence[float],
    entity: np.ndarray | None = None,
) -> np.ndarray:
    """Sum over comparisons of log2(u_exact / u(value)) for pairs agreeing exactly on a
    term-frequency field (0 for the others).

    ``u(value)`` is :func:`value_u`: agreeing on a value that records of other entities do not
    hold (a rare surname, an address only one household gives) weighs more than the average
    agreement, agreeing on a common one less.
    """
    out = np.zeros(gamma.shape[0], dtype=np.float64)
    for c, comp in enumerate(comparisons):
        if not comp.tf_adjust or comp.field not in norm:
            continue
        exact = np.flatnonzero(gamma[:, c] == 1)
        u = value_u(norm[comp.field].codes, left[exact], right[exact], entity)
        add_tf(out, exact, u, u_exact[c])
    return out


def add_tf(out: np.ndarray, exact: np.ndarray, u: np.ndarray, u_exact: float) -> None:
    """Add log2(u_exact / u) to ``out`` at the rows ``exact`` (where u is known)."""
    has = ~np.isnan(u)
    out[exact[has]] += np.log2(max(u_exact, _U_FLOOR)) - np.log2(np.maximum(u[has], _U_FLOOR))


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
    sessions: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
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
    sessions : sequence of (rows, used), optional
        Training sessions, as splink trains: each is the rows of ``gamma`` of the pairs one
        blocking rule finds and a boolean per comparison, False for the comparisons on that
        rule's fields (its pairs agree on them by construction, which would bias their m).
        EM runs on each session with u held; the m of a comparison is its mean over the
        sessions that read it (over all the pairs when no session reads it), and the prior is
        then fitted on all the pairs.
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
    sizes = [len(c.levels) for c in comparisons]
    u0 = [np.asarray(u, dtype=np.float64) for u in u_init]
    m0 = [_initial_m(c) for c in comparisons]
    if gamma.shape[0] == 0:
        return FellegiSunterModel(
            comparisons=tuple(comparisons), m=m0, u=u0, u_sampled=u0, prior=prior, n_pairs=0
        )
    key = pattern_keys(gamma, sizes)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    pats = gamma[first].astype(np.int64)
    w = np.bincount(inverse, minlength=first.size).astype(np.float64)
    everything = np.ones(len(comparisons), dtype=bool)
    if not sessions:
        fit = _em(pats, w, comparisons, m0, u0, prior, everything, fix_u, max_iter, tol)
    else:
        # each session: the pairs of one blocking rule, the comparisons its fields do not
        # bias (splink's training); m of a comparison is the mean over its sessions
        sums = [np.zeros_like(x) for x in m0]
        seen = np.zeros(len(comparisons))
        iters, converged = 0, True
        for rows, used in sessions:
            counts = np.bincount(inverse[rows], minlength=first.size).astype(np.float64)
            present = np.flatnonzero(counts)
            sp, sw = pats[present], counts[present]
            one = _em(sp, sw, comparisons, m0, u0, prior, used, True, max_iter, tol)
            iters += one.n_iter
            converged &= one.converged
            for c in np.flatnonzero(used).tolist():
                sums[c] += one.m[c]
                seen[c] += 1
        m = [sums[c] / seen[c] if seen[c] else m0[c] for c in range(len(comparisons))]
        if not seen.all():
            # comparisons no session reads: m from all the candidates
            whole = _em(pats, w, comparisons, m0, u0, prior, everything, True, max_iter, tol)
            m = [m[c] if seen[c] else whole.m[c] for c in range(len(comparisons))]
        # the prior among all candidates, m and u held
        lam = _em(
            pats, w, comparisons, m, u0, prior, everything, True, max_iter, tol, fix_m=True
        ).prior
        fit = _EMResult(m, u0, lam, iters, converged)
    if strict and not fit.converged:
        msg = f"EM did not converge in {max_iter} iterations"
        raise ConvergenceError(msg)
    lam = fit.prior
    if total_pairs:
        lam = float(np.clip(lam * w.sum() / total_pairs, 1e-15, 1 - 1e-9))
    return FellegiSunterModel(
        comparisons=tuple(comparisons),
        m=fit.m,
        u=fit.u,
        u_sampled=u0,
        prior=lam,
        n_iter=fit.n_iter,
        converged=fit.converged,
        n_pairs=int(gamma.shape[0]),
    )


def pattern_keys(gamma: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """One int64 per row of ``gamma`` (levels of comparisons of ``sizes`` levels each); equal
    keys = equal rows. Without comparisons every row has the key 0."""
    radix = np.cumprod([1, *sizes]).astype(np.int64)[:-1]
    g = gamma.reshape(gamma.shape[0], len(sizes))
    key = np.zeros(g.shape[0], dtype=np.int64)
    for c, r in enumerate(radix.tolist()):
        key += g[:, c].astype(np.int64) * r
    return key


@attrs.frozen
class _EMResult:
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    n_iter: int
    converged: bool


def _em(
    pats: np.ndarray,
    w: np.ndarray,
    comparisons: Sequence[Comparison],
    m: list[np.ndarray],
    u: list[np.ndarray],
    lam: float,
    used: np.ndarray,
    fix_u: bool,
    max_iter: int,
    tol: float,
    *,
    fix_m: bool = False,
) -> _EMResult:
    """EM over patterns of levels (``w`` pairs each), reading the ``used`` comparisons only.

    The non-null levels of the used comparisons are one-hot columns of one matrix, so that an
    iteration is two matrix products whatever the number of comparisons.
    """
    m = [x.copy() for x in m]
    u = [x.copy() for x in u]
    cols = np.flatnonzero(used).tolist()
    sizes = [len(m[c]) for c in cols]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    onehot = np.zeros((pats.shape[0], int(sum(sizes))), dtype=np.float64)
    keeps_else = np.ones(onehot.shape[1], dtype=bool)
    for j, c in enumerate(cols):
        g = pats[:, c]
        has = np.flatnonzero(g > 0)
        onehot[has, starts[j] + g[has] - 1] = 1.0
        if not comparisons[c].disagreement:
            keeps_else[starts[j] + sizes[j] - 1] = False
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        mv = np.concatenate([m[c] for c in cols]) if cols else np.zeros(0)
        uv = np.concatenate([u[c] for c in cols]) if cols else np.zeros(0)
        lr = np.log(np.maximum(mv, _FLOOR)) - np.log(np.maximum(uv, _U_FLOOR))
        lr[~keeps_else] = 0.0
        logit = np.log(lam / (1 - lam)) + onehot @ lr
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        delta = 0.0
        if cols and (not fix_m or not fix_u):
            mm_all = onehot.T @ (w * p)
            uu_all = onehot.T @ (w * (1 - p))
            m_sums = np.add.reduceat(mm_all, starts)
            u_sums = np.add.reduceat(uu_all, starts)
            for j, c in enumerate(cols):
                seg = slice(starts[j], starts[j] + sizes[j])
                mm = (
                    np.maximum(mm_all[seg] / m_sums[j], _FLOOR)
                    if m_sums[j] > 0 and not fix_m
                    else m[c]
                )
                uu = (
                    np.maximum(uu_all[seg] / u_sums[j], _FLOOR)
                    if u_sums[j] > 0 and not fix_u
                    else u[c]
                )
                delta = max(delta, float(np.abs(mm - m[c]).max()), float(np.abs(uu - u[c]).max()))
                m[c], u[c] = mm, uu
        new_lam = float(np.clip((w * p).sum() / w.sum(), 1e-9, 1 - 1e-9))
        delta = max(delta, abs(new_lam - lam))
        lam = new_lam
        if delta < tol:
            converged = True
            break
    return _EMResult(m, u, lam, it, converged)


def _initial_m(comp: Comparison) -> np.ndarray:
    """Starting m: most matches agree exactly, fewer at each weaker level."""
    k = len(comp.levels) - 1
    m = np.array([0.9 * 0.3**i for i in range(k - 1)] + [0.05])
    return m / m.sum()

"""Markov-chain attribution by removal effect, solved exactly on the absorbing chain.

States are the last ``k`` channels of a path (order ``k``), between a start state and two
absorbing states, conversion and null (Anderl et al. 2016). Absorption probabilities are
solved from the linear system ``(I - Q) x = r`` instead of being estimated by simulated walks.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np

from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import (
    CONVERSION,
    NULL,
    START,
    Attribution,
    TransitionMatrix,
    make_result,
    scaled,
)
from omnijourney.errors import ConfigError, ConvergenceError

__all__ = ["OrderScore", "markov", "removal_effects", "select_order"]

Repeats = Literal["collapse", "keep"]
Solver = Literal["auto", "dense", "direct", "iterative"]
_DENSE_MAX = 64  # states (start included) up to which batched dense solves are fastest
_DENSE_KEYS_MAX = 1 << 22  # key spaces up to this size are mapped with a lookup array


@attrs.frozen(eq=False)
class _Chain:
    """An order-k absorbing chain fitted on a path table.

    Transient states are ``0 .. m - 1`` and the start state is ``m``. ``keys`` encodes each
    transient state as base-``C + 1`` digits, the newest channel in the lowest digit.
    """

    keys: np.ndarray  # (m,) state keys
    n_channels: int
    order: int
    source: np.ndarray  # observed transitions between transient/start states
    target: np.ndarray
    counts: np.ndarray
    conv: np.ndarray  # (m + 1,) conversions absorbed from each state
    null: np.ndarray  # (m + 1,) nulls absorbed from each state
    value: np.ndarray  # (m + 1,) value of the conversions absorbed from each state

    @property
    def m(self) -> int:
        return int(self.keys.size)

    def out(self) -> np.ndarray:
        total = np.bincount(self.source, weights=self.counts, minlength=self.m + 1)
        return total + self.conv + self.null

    def contains(self) -> np.ndarray:
        """(m + 1, C) boolean: does state s contain channel c (the start contains none)."""
        base = self.n_channels + 1
        out = np.zeros((self.m + 1, self.n_channels), dtype=bool)
        rest = self.keys.copy()
        rows = np.arange(self.m)
        for _ in range(self.order):
            digit = rest % base
            has = digit > 0
            out[rows[has], digit[has] - 1] = True
            rest //= base
        return out

    def labels(self, channels: np.ndarray) -> np.ndarray:
        base = self.n_channels + 1
        digits = np.zeros((self.m, self.order), dtype=np.int64)
        rest = self.keys.copy()
        for j in range(self.order):
            digits[:, self.order - 1 - j] = rest % base
            rest //= base
        names = ["", *(str(c) for c in channels.tolist())]
        out = np.empty(self.m + 3, dtype=object)
        out[: self.m] = [" > ".join(names[d] for d in row if d) for row in digits.tolist()]
        out[self.m :] = [START, CONVERSION, NULL]
        return out


def _steps(pt: PathTable, repeats: Repeats) -> tuple[np.ndarray, np.ndarray]:
    """Channel codes of the steps (repeats collapsed if asked) and the path lengths."""
    codes = pt.codes
    if repeats == "collapse" and codes.size:
        keep = np.empty(codes.size, dtype=bool)
        np.not_equal(codes[1:], codes[:-1], out=keep[:-1])
        keep[pt.offsets[1:] - 1] = True  # a path's last step always stays
        lengths = np.add.reduceat(keep, pt.offsets[:-1]).astype(np.int64)
        return codes[keep], lengths
    return codes, pt.lengths


def _fit_chain(pt: PathTable, order: int, repeats: Repeats) -> _Chain:
    """Transition counts of the order-k chain, weighted by each path's journeys."""
    codes, lengths = _steps(pt, repeats)
    n_ch = pt.n_channels
    base = n_ch + 1
    if float(base) ** order >= 2.0**62:
        msg = f"order {order} over {n_ch} channels is too large a state space"
        raise ConfigError(msg)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    state: np.ndarray
    if order == 1:  # states are the channels: no keys to build
        present = np.bincount(codes, minlength=n_ch) > 0
        state_keys = np.flatnonzero(present) + 1
        state = codes if present.all() else (np.cumsum(present) - 1)[codes]
    else:
        # key of the state after each step: the last `order` channels, newest in the low digit
        c64 = codes.astype(np.int64)
        key = c64 + 1
        pos = np.arange(codes.size) - np.repeat(starts, lengths)
        for j in range(1, order):
            shifted = np.zeros(codes.size, dtype=np.int64)
            shifted[j:] = c64[:-j] + 1
            key += np.where(pos >= j, shifted, 0) * base**j
        del c64, pos
        space = base**order
        if space <= _DENSE_KEYS_MAX:
            used = np.zeros(space, dtype=bool)
            used[key] = True
            state_keys = np.flatnonzero(used)
            state = (np.cumsum(used) - 1)[key]
        else:
            state_keys, inverse = np.unique(key, return_inverse=True)
            state = inverse.ravel()
        del key
    m = state_keys.size
    journeys = pt.conversions + pt.nulls
    # transitions (previous state, next channel); the first step leaves the start state
    prev = np.empty(codes.size, dtype=np.int64)
    prev[0:1] = m
    prev[1:] = state[:-1]
    prev[starts] = m
    prev *= n_ch
    prev += codes
    bins = np.bincount(prev, weights=np.repeat(journeys, lengths), minlength=(m + 1) * n_ch)
    del prev
    nz = np.flatnonzero(bins)
    src = nz // n_ch
    ch = nz % n_ch
    src_key = np.where(src < m, state_keys[np.minimum(src, m - 1)], 0)
    next_key = (src_key % base ** (order - 1)) * base + ch + 1 if order > 1 else ch + 1
    tgt = np.searchsorted(state_keys, next_key)
    last = state[ends - 1]
    return _Chain(
        keys=state_keys,
        n_channels=n_ch,
        order=order,
        source=src,
        target=tgt,
        counts=bins[nz],
        conv=np.bincount(last, weights=pt.conversions, minlength=m + 1),
        null=np.bincount(last, weights=pt.nulls, minlength=m + 1),
        value=np.bincount(last, weights=pt.value, minlength=m + 1),
    )


def _absorption(
    chain: _Chain, removed: np.ndarray, solver: Solver, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """P(conversion) and expected value from the start, for each set of removed states.

    ``removed`` is (n_cases, m + 1) boolean; a removed state sends its walks to null.
    Returns two arrays of length n_cases.

    With ``D`` the diagonal of kept states, the absorption probabilities solve
    ``(I - D Q) x = D r``; only the start entry is needed, so the adjoint system
    ``(I - Q^T D) y = e_start`` is solved once per case (``y`` holds the expected visits to
    each state) and serves both right-hand sides: ``P = y . D r`` and ``E[V] = y . D r_V``.
    """
    m1 = chain.m + 1
    out = chain.out()
    prob = chain.counts / np.where(out > 0, out, 1.0)[chain.source]
    safe = np.where(out > 0, out, 1.0)  # states of zero weight (bootstrap draws) absorb nothing
    rhs = np.stack([chain.conv / safe, chain.value / safe], axis=1)  # (m + 1, 2)
    keep = ~removed
    if solver == "auto":
        solver = "dense" if m1 <= _DENSE_MAX else "iterative"
    if solver == "dense":
        a = np.zeros((m1, m1))
        np.add.at(a, (chain.target, chain.source), -prob)  # Q transposed
        mats = a[None] * keep[:, None, :].astype(np.float64)  # Q^T D: scale columns
        idx = np.arange(m1)
        mats[:, idx, idx] += 1.0
        unit = np.zeros((removed.shape[0], m1, 1))
        unit[:, m1 - 1, 0] = 1.0
        y = np.linalg.solve(mats, unit)[:, :, 0]
    else:
        import scipy.sparse as sp

        # I - Q^T with every diagonal entry stored, so that each case only rescales the data
        diag = np.arange(m1)
        base = sp.csr_matrix(
            (
                np.concatenate([-prob, np.zeros(m1)]),
                (np.concatenate([chain.target, diag]), np.concatenate([chain.source, diag])),
            ),
            shape=(m1, m1),
        )
        base.sum_duplicates()
        is_diag = np.repeat(diag, np.diff(base.indptr)) == base.indices
        y = np.empty(removed.shape, dtype=np.float64)
        e = np.zeros(m1)
        e[m1 - 1] = 1.0
        guess = None
        for i, kept in enumerate(keep):
            data = base.data * kept[base.indices]  # -Q^T D
            data[is_diag] += 1.0
            a = sp.csr_matrix((data, base.indices, base.indptr), shape=(m1, m1))
            if guess is None:
                # the first few terms of y = sum_k (Q^T D)^k e: expected visits of the walks'
                # first steps. From x0 = 0 with the unit right-hand side, BiCGSTAB breaks down
                guess0, term = e.copy(), e.copy()
                for _ in range(5):
                    term = term - a @ term
                    guess0 += term
                y[i] = _solve(a, e, solver, tol, guess0)
                guess = y[0]
            else:
                y[i] = _solve(a, e, solver, tol, guess * kept)
    p = (y * keep * rhs[:, 0]).sum(axis=1)
    v = (y * keep * rhs[:, 1]).sum(axis=1)
    return p, v


def _solve(a: Any, b: np.ndarray, solver: Solver, tol: float, x0: Any) -> np.ndarray:
    """Solve ``a x = b``: BiCGSTAB to ``tol``, then GMRES, then sparse LU as fallbacks."""
    import scipy.sparse.linalg as sla

    if solver == "iterative":
        norm = float(np.abs(b).max())
        for method in (sla.bicgstab, sla.gmres):
            x, info = method(a, b, x0=x0, rtol=tol, atol=0.0, maxiter=2_000)
            if info == 0 and np.abs(a @ x - b).max() <= 1e3 * tol * norm:
                return np.asarray(x)
    try:
        return np.asarray(sla.splu(a.tocsc()).solve(b))
    except RuntimeError as exc:  # pragma: no cover - singular only for malformed chains
        msg = f"the absorbing-chain system could not be solved: {exc}"
        raise ConvergenceError(msg) from exc


def removal_effects(
    paths: PathTable,
    order: int = 1,
    *,
    repeats: Repeats = "collapse",
    solver: Solver = "auto",
    tol: float = 1e-14,
) -> dict[str, float]:
    """Channel -> removal effect of the order-``order`` chain (see :func:`markov`).

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b"], conversions=[1, 1], nulls=[1, 1])
    >>> {k: round(v, 6) for k, v in removal_effects(pt).items()}
    {'a': 0.5, 'b': 1.0}
    """
    res = markov(paths, order, repeats=repeats, solver=solver, tol=tol, transitions=False)
    assert res.removal_effects is not None
    return dict(zip(res.channels.tolist(), res.removal_effects.tolist()))


def markov(
    paths: PathTable,
    order: int = 1,
    *,
    repeats: Repeats = "collapse",
    solver: Solver = "auto",
    tol: float = 1e-14,
    transitions: bool = True,
) -> Attribution:
    """Markov removal-effect attribution of order ``order``, solved exactly.

    The chain has a start state, one transient state per observed window of the last
    ``order`` channels (shorter windows at the start of a path), and two absorbing states,
    conversion and null. Each path contributes its journeys (conversions + nulls) to every
    transition it makes; its last state moves to conversion ``conversions`` times and to
    null ``nulls`` times. Removing channel ``c`` sends every state that contains ``c`` to
    null; its removal effect is ``RE_c = 1 - P_c / P`` where ``P`` and ``P_c`` are the
    probabilities of absorbing in conversion from the start, and its credit is
    ``total conversions x RE_c / sum(RE)``.

    Value is credited in the same way from the expected conversion value ``E[V]`` (each
    absorption into conversion from state ``s`` is worth the mean value of the conversions
    observed after ``s``): ``RE^V_c = 1 - E_c[V] / E[V]`` and credit ``total value x RE^V_c
    / sum(RE^V)``. With the same value for every conversion the two removal effects agree.

    Parameters
    ----------
    paths : PathTable
        Converting and non-converting paths (a path with only nulls contributes its
        transitions and its absorptions into null).
    order : int
        Number of past channels a state remembers (1 to 4 is common; any positive integer).
    repeats : {"collapse", "keep"}
        ``"collapse"`` (default, as ChannelAttribution and Anderl et al.) merges consecutive
        touches on one channel, so the chain has no self-loops; ``"keep"`` keeps them as
        self-transitions (which change the chain but not the absorption logic).
    solver : {"auto", "dense", "direct", "iterative"}
        How the linear systems are solved: batched dense LU for small chains (``"auto"``
        up to 64 states), GMRES to relative tolerance ``tol`` with a sparse-LU fallback for
        larger ones, or sparse LU (``"direct"``).
    tol : float
        Relative residual tolerance of the iterative solver.
    transitions : bool
        Keep the transition matrix in the result (labels cost time on very large chains).

    Returns
    -------
    Attribution
        With ``removal_effects``, ``value_removal_effects``, ``transitions`` and, in
        ``params``, ``conversion_probability`` (``P``, equal to the observed conversion rate
        of the journeys) and the number of ``states``.

    Raises
    ------
    DataError
        No path converts.
    ConfigError
        ``order`` is not a positive integer, unknown ``repeats`` or ``solver``.

    Notes
    -----
    ChannelAttribution estimates ``P`` and ``P_c`` by simulating walks (and counts walks
    longer than the longest observed path as non-conversions); here they are the exact
    solutions of ``(I - Q) x = r`` (Kemeny & Snell's absorbing chains), one system per
    channel plus one. Cost: one pass over the steps to count transitions, then ``C + 1``
    solves over the observed states.

    References
    ----------
    Anderl, E., Becker, I., von Wangenheim, F., Schumann, J. H. (2016). Mapping the customer
    journey: Lessons learned from graph-based online attribution modeling. International
    Journal of Research in Marketing 33(3), 457-474.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b", "a"], conversions=[2, 1, 0], nulls=[0, 1, 2])
    >>> res = markov(pt)
    >>> res.removal_effects.tolist(), res.conversions.tolist()
    ([0.5, 1.0], [1.0, 2.0])
    >>> res.params["conversion_probability"]  # 3 conversions of 6 journeys
    0.5
    """
    pt = as_path_table(paths, "markov")
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 1:
        msg = f"order must be a positive integer, got {order!r}"
        raise ConfigError(msg)
    if repeats not in ("collapse", "keep"):
        msg = f"repeats must be 'collapse' or 'keep', got {repeats!r}"
        raise ConfigError(msg)
    if solver not in ("auto", "dense", "direct", "iterative"):
        msg = f"solver must be 'auto', 'dense', 'direct' or 'iterative', got {solver!r}"
        raise ConfigError(msg)
    pt.require_conversions("markov")
    chain = _fit_chain(pt, int(order), repeats)
    contains = chain.contains()
    removed = np.concatenate([np.zeros((1, chain.m + 1), dtype=bool), contains.T], axis=0)
    p_conv, p_value = _absorption(chain, removed, solver, tol)
    p, v = p_conv[0], p_value[0]
    re = np.clip(1.0 - p_conv[1:] / p, 0.0, 1.0)
    re_v = np.clip(1.0 - p_value[1:] / v, 0.0, 1.0) if v > 0 else np.zeros_like(re)
    tm = None
    if transitions:
        m = chain.m
        src = np.concatenate([chain.source, np.flatnonzero(chain.conv), np.flatnonzero(chain.null)])
        tgt = np.concatenate(
            [
                chain.target,
                np.full(np.count_nonzero(chain.conv), m + 1),
                np.full(np.count_nonzero(chain.null), m + 2),
            ]
        )
        cnt = np.concatenate([chain.counts, chain.conv[chain.conv > 0], chain.null[chain.null > 0]])
        tm = TransitionMatrix(
            states=chain.labels(pt.channels),
            source=src.astype(np.int64),
            target=tgt.astype(np.int64),
            counts=cnt.astype(np.float64),
            order=int(order),
        )
    params = {
        "order": int(order),
        "repeats": repeats,
        "solver": solver,
        "states": chain.m,
        "conversion_probability": float(p),
        "expected_value": float(v),
    }
    return make_result(
        "markov",
        pt,
        scaled(re, pt.total_conversions),
        scaled(re_v, pt.total_value),
        params,
        removal_effects=re,
        value_removal_effects=re_v,
        scores=re,
        transitions=tm,
    )


# --------------------------------------------------------------------------- order selection


@attrs.frozen(kw_only=True, repr=False)
class OrderScore:
    """Out-of-sample fit of Markov chains of several orders.

    Attributes
    ----------
    orders : tuple of int
    log_likelihood : tuple of float
        Mean log-likelihood per held-out journey of its transitions and outcome (higher is
        better); unseen transitions get the probability of an additive smoothing.
    auc : tuple of float
        Area under the ROC curve of the predicted conversion probability (the chain's
        absorption probability from the journey's last state) on held-out journeys.
    best : int
        The order with the best score under ``metric``.
    metric : str
    """

    orders: tuple[int, ...]
    log_likelihood: tuple[float, ...]
    auc: tuple[float, ...]
    best: int
    metric: str

    def to_pandas(self) -> Any:
        """One row per order."""
        from omnijourney.attribution._results import frame

        return frame(
            {"log_likelihood": list(self.log_likelihood), "auc": list(self.auc)},
            index=list(self.orders),
            index_name="order",
        )

    def __repr__(self) -> str:
        rows = ", ".join(
            f"{o}: loglik {ll:.4f}, AUC {a:.4f}"
            for o, ll, a in zip(self.orders, self.log_likelihood, self.auc)
        )
        return f"OrderScore(best={self.best} by {self.metric}; {rows})"


def _weighted_auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """AUC of ``score`` with weighted positives and negatives (ties count one half)."""
    order = np.argsort(score, kind="stable")
    s, p, n = score[order], pos[order], neg[order]
    _uniq, start = np.unique(s, return_index=True)
    p_g = np.add.reduceat(p, start) if s.size else p
    n_g = np.add.reduceat(n, start) if s.size else n
    neg_below = np.cumsum(n_g) - n_g
    total = p.sum() * n.sum()
    if total == 0:
        return float("nan")
    return float((p_g * (neg_below + 0.5 * n_g)).sum() / total)


def select_order(
    paths: PathTable,
    orders: tuple[int, ...] = (1, 2, 3, 4),
    *,
    test_size: float = 0.3,
    seed: int = 0,
    metric: Literal["log_likelihood", "auc"] = "log_likelihood",
    smoothing: float = 0.5,
) -> OrderScore:
    """Choose the Markov order by how well each chain predicts held-out journeys.

    Journeys are split at random (each path's conversions and nulls are thinned binomially,
    seeded); a chain of each order is fitted on the training part and scored on the rest by
    the mean log-likelihood of each journey's transitions and outcome, and by the AUC of its
    predicted conversion probability.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b > a", "a", "b"], conversions=[40, 5, 5, 10],
    ...                             nulls=[10, 40, 30, 30])
    >>> select_order(pt, orders=(1, 2), seed=1).best
    2
    """
    pt = as_path_table(paths, "select_order")
    if not 0 < test_size < 1:
        msg = f"test_size must be in (0, 1), got {test_size!r}"
        raise ConfigError(msg)
    if metric not in ("log_likelihood", "auc"):
        msg = f"metric must be 'log_likelihood' or 'auc', got {metric!r}"
        raise ConfigError(msg)
    rng = np.random.default_rng(seed)
    pt = pt.collapse_repeats()
    conv_t = rng.binomial(np.round(pt.conversions).astype(np.int64), test_size).astype(float)
    null_t = rng.binomial(np.round(pt.nulls).astype(np.int64), test_size).astype(float)
    train = pt.with_counts(pt.conversions - conv_t, pt.value * 0, pt.nulls - null_t)
    train.require_conversions("select_order")
    lls, aucs = [], []
    for k in orders:
        chain = _fit_chain(train, int(k), "collapse")
        lls.append(_heldout_loglik(pt, chain, conv_t, null_t, smoothing))
        aucs.append(_heldout_auc(pt, chain, conv_t, null_t))
    scores = lls if metric == "log_likelihood" else aucs
    best = orders[int(np.nanargmax(scores))]
    return OrderScore(
        orders=tuple(int(k) for k in orders),
        log_likelihood=tuple(float(x) for x in lls),
        auc=tuple(float(x) for x in aucs),
        best=int(best),
        metric=metric,
    )


def _state_of_steps(pt: PathTable, chain: _Chain) -> np.ndarray:
    """State index of each step of ``pt`` under ``chain`` (-1 for unseen states)."""
    base = chain.n_channels + 1
    codes = pt.codes.astype(np.int64)
    pos = np.arange(codes.size) - np.repeat(pt.offsets[:-1], pt.lengths)
    key = codes + 1
    for j in range(1, chain.order):
        shifted = np.zeros(codes.size, dtype=np.int64)
        shifted[j:] = codes[:-j] + 1
        key = key + np.where(pos >= j, shifted, 0) * base**j
    idx = np.searchsorted(chain.keys, key)
    idx = np.minimum(idx, max(chain.m - 1, 0))
    return np.where(chain.keys[idx] == key, idx, -1)


def _heldout_loglik(
    pt: PathTable, chain: _Chain, conv: np.ndarray, null: np.ndarray, alpha: float
) -> float:
    m, n_ch = chain.m, chain.n_channels
    out = chain.out()
    # smoothed P(next channel or outcome | state), over n_ch + 2 possible moves
    state = _state_of_steps(pt, chain)
    prev = np.empty(pt.codes.size, dtype=np.int64)
    prev[1:] = state[:-1]
    prev[pt.offsets[:-1]] = m
    nxt = state
    key_pairs = chain.source * (m + 1) + chain.target
    order = np.argsort(key_pairs)
    sorted_pairs = key_pairs[order]
    q = np.where((prev >= 0) & (nxt >= 0), prev * (m + 1) + nxt, -1)
    pos = np.minimum(np.searchsorted(sorted_pairs, q), max(sorted_pairs.size - 1, 0))
    found = (q >= 0) & (sorted_pairs[pos] == q) if sorted_pairs.size else np.zeros(q.size, bool)
    count = np.where(found, chain.counts[order][pos], 0.0)
    denom = np.where(prev >= 0, out[np.maximum(prev, 0)], 0.0) + alpha * (n_ch + 2)
    logp_step = np.log((count + alpha) / denom)
    weight = np.repeat(conv + null, pt.lengths)
    last = state[pt.offsets[1:] - 1]
    lo = np.where(last >= 0, out[np.maximum(last, 0)], 0.0) + alpha * (n_ch + 2)
    c_last = np.where(last >= 0, chain.conv[np.maximum(last, 0)], 0.0)
    n_last = np.where(last >= 0, chain.null[np.maximum(last, 0)], 0.0)
    total = (weight * logp_step).sum()
    total += (conv * np.log((c_last + alpha) / lo)).sum() + (
        null * np.log((n_last + alpha) / lo)
    ).sum()
    n = (conv + null).sum()
    return float(total / n) if n else float("nan")


def _heldout_auc(pt: PathTable, chain: _Chain, conv: np.ndarray, null: np.ndarray) -> float:
    state = _state_of_steps(pt, chain)
    last = state[pt.offsets[1:] - 1]
    c = np.where(last >= 0, chain.conv[np.maximum(last, 0)], 0.0)
    n = np.where(last >= 0, chain.null[np.maximum(last, 0)], 0.0)
    prior = chain.conv.sum() / max(chain.conv.sum() + chain.null.sum(), 1e-300)
    score = np.where(c + n > 0, c / np.maximum(c + n, 1e-300), prior)
    return _weighted_auc(score, conv, null)

"""Markov-chain attribution by removal effect, solved exactly on the absorbing chain.

States are the last ``k`` channels of a path (order ``k``), between a start state and two
absorbing states, conversion and null (Anderl et al. 2016). Absorption probabilities are
solved from the linear system ``(I - Q) x = r`` instead of being estimated by simulated walks.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import attrs
import numpy as np

from omnijourney._display import TableResult
from omnijourney._validation import check_choice, check_positive_int
from omnijourney.attribution._canonical import in_canonical_order
from omnijourney.attribution._chain import (
    Chain,
    Repeats,
    Solver,
    Windows,
    absorption,
    fit_chain,
    window_keys,
)
from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import Attribution, TransitionMatrix, make_result, scaled
from omnijourney.errors import ConfigError

__all__ = ["OrderScore", "markov", "removal_effects", "select_order"]

MaxSteps = Union[int, Literal["observed"], None]


def removal_effects(
    paths: PathTable,
    order: int = 1,
    *,
    windows: Windows = "growing",
    repeats: Repeats = "collapse",
    max_steps: MaxSteps = None,
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
    res = markov(
        paths,
        order,
        windows=windows,
        repeats=repeats,
        max_steps=max_steps,
        solver=solver,
        tol=tol,
        transitions=False,
    )
    assert res.removal_effects is not None
    return dict(zip(res.channels.tolist(), res.removal_effects.tolist()))


def _check_options(order: Any, windows: Any, repeats: Any, max_steps: Any, solver: Any) -> None:
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 1:
        msg = f"order must be a positive integer, got {order!r}"
        raise ConfigError(msg)
    check_choice(windows, "windows", ("growing", "full"))
    if repeats not in ("collapse", "keep"):
        msg = f"repeats must be 'collapse' or 'keep', got {repeats!r}"
        raise ConfigError(msg)
    if max_steps is not None and max_steps != "observed":
        check_positive_int(max_steps, "max_steps")
    if solver not in ("auto", "dense", "direct", "iterative"):
        msg = f"solver must be 'auto', 'dense', 'direct' or 'iterative', got {solver!r}"
        raise ConfigError(msg)


def markov(
    paths: PathTable,
    order: int = 1,
    *,
    windows: Windows = "growing",
    repeats: Repeats = "collapse",
    max_steps: MaxSteps = None,
    solver: Solver = "auto",
    tol: float = 1e-14,
    transitions: bool = True,
) -> Attribution:
    """Markov removal-effect attribution of order ``order``, solved exactly.

    The chain has a start state, one transient state per observed window of ``order``
    channels, and two absorbing states, conversion and null. Each path contributes its
    journeys (conversions + nulls) to every transition it makes; its last state moves to
    conversion ``conversions`` times and to null ``nulls`` times. Removing channel ``c`` sends
    every state that contains ``c`` to null; its removal effect is ``RE_c = 1 - P_c / P``
    where ``P`` and ``P_c`` are the probabilities of absorbing in conversion from the start,
    and its credit is ``total conversions x RE_c / sum(RE)``.

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
        Number of channels a state remembers (1 to 4 is common; any positive integer).
    windows : {"growing", "full"}
        How states are cut from a path when ``order > 1`` (both agree at order 1).
        ``"growing"`` (default): after each touch the state is the last ``order`` channels,
        fewer at the start of a path (``a > b > c`` at order 2 passes through ``(a)``,
        ``(a > b)``, ``(b > c)``), so every touch is one transition and a short path shares
        its states with the longer paths that start like it. ``"full"``: the states are the
        windows of ``order`` consecutive touches and a path shorter than ``order`` is one
        state (``(a > b)``, ``(b > c)``; ``a`` alone is ``(a)``): ChannelAttribution's
        construction, whose expected values this reproduces exactly.
    repeats : {"collapse", "keep"}
        ``"collapse"`` (default) merges repeats, so the chain has no self-loops: with
        ``windows="growing"``, consecutive touches on one channel are merged before the
        windows are cut (as Anderl et al.); with ``windows="full"``, consecutive equal windows
        are merged (as ChannelAttribution). ``"keep"`` keeps them as self-transitions (which
        change the chain but not the absorption logic).
    max_steps : int, "observed" or None
        ``None`` (default): walks are never cut. An integer: a walk that has not been
        absorbed after visiting ``max_steps`` states counts as a non-conversion.
        ``"observed"``: the number of states of the longest path with journeys, plus one
        (ChannelAttribution's default cap on its simulated walks).
    solver : {"auto", "dense", "direct", "iterative"}
        How the linear systems are solved: batched dense LU for small chains (``"auto"``
        up to 64 states), GMRES to relative tolerance ``tol`` with a sparse-LU fallback for
        larger ones, or sparse LU (``"direct"``). Capped walks (``max_steps``) are summed
        exactly step by step instead.
    tol : float
        Relative residual tolerance of the iterative solver.
    transitions : bool
        Keep the transition matrix in the result (labels cost time on very large chains).

    Returns
    -------
    Attribution
        With ``removal_effects``, ``value_removal_effects``, ``transitions`` and, in
        ``params``, ``conversion_probability`` (``P``, equal to the observed conversion rate
        of the journeys when walks are not capped), the number of ``states`` and the
        ``max_steps`` applied (an integer or None).

    Raises
    ------
    DataError
        No path converts.
    ConfigError
        ``order`` or ``max_steps`` is not a positive integer, unknown ``windows``,
        ``repeats`` or ``solver``.

    Notes
    -----
    ChannelAttribution estimates the removal effects by simulating walks: the share of the
    converting walks that visit a state containing ``c`` is ``RE_c``. Its expected values
    are the exact values of ``windows="full", max_steps="observed"`` (the cap changes them
    by less than 1e-9 on its 10,000-path example). Here ``P`` and ``P_c`` are the exact
    solutions of ``(I - Q) x = r`` (Kemeny & Snell's absorbing chains), one system per
    channel plus one; with a cap, the exact probabilities of absorbing within
    ``max_steps`` states. Cost: one pass over the steps to count transitions, then ``C + 1``
    solves over the observed states (with a cap, ``max_steps`` sparse products at most).

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

    The two constructions differ on repeated touches. Below, ``"full"`` windows make
    ``a > a`` a state, shared by the non-converting ``c > a > a`` and the converting
    ``a > a > b``, so walks from ``c`` can convert; ``"growing"`` windows merge the repeated
    touches first, and ``c > a`` always ends in null.

    >>> pt = PathTable.from_strings(["c > a > a", "a > a > b", "a > b"],
    ...                             conversions=[0, 1, 1], nulls=[2, 1, 1])
    >>> markov(pt, order=2).removal_effects.tolist()
    [1.0, 1.0, 0.0]
    >>> markov(pt, order=2, windows="full").removal_effects.tolist()
    [1.0, 1.0, 0.25]
    """
    pt = as_path_table(paths, "markov")
    _check_options(order, windows, repeats, max_steps, solver)
    pt.require_conversions("markov")
    chain = fit_chain(pt, int(order), repeats, windows)
    steps = chain.longest + 1 if max_steps == "observed" else max_steps
    contains = chain.contains()
    removed = np.concatenate([np.zeros((1, chain.m + 1), dtype=bool), contains.T], axis=0)
    p_conv, p_value = absorption(chain, removed, solver, tol, None if steps is None else int(steps))
    p, v = p_conv[0], p_value[0]
    re = np.clip(1.0 - p_conv[1:] / p, 0.0, 1.0)
    re_v = np.clip(1.0 - p_value[1:] / v, 0.0, 1.0) if v > 0 else np.zeros_like(re)
    tm = _transition_matrix(chain, pt.channels) if transitions else None
    params = {
        "order": int(order),
        "windows": windows,
        "repeats": repeats,
        "max_steps": None if steps is None else int(steps),
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


def _transition_matrix(chain: Chain, channels: np.ndarray) -> TransitionMatrix:
    """Counted transitions, with the absorptions into conversion (m + 1) and null (m + 2)."""
    m = chain.m
    conv_at, null_at = np.flatnonzero(chain.conv), np.flatnonzero(chain.null)
    return TransitionMatrix(
        states=chain.labels(channels),
        source=np.concatenate([chain.source, conv_at, null_at]).astype(np.int64),
        target=np.concatenate(
            [chain.target, np.full(conv_at.size, m + 1), np.full(null_at.size, m + 2)]
        ).astype(np.int64),
        counts=np.concatenate([chain.counts, chain.conv[conv_at], chain.null[null_at]]).astype(
            np.float64
        ),
        order=chain.order,
    )


# --------------------------------------------------------------------------- order selection


@attrs.frozen(kw_only=True, repr=False)
class OrderScore(TableResult):
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
    pt = in_canonical_order(pt.collapse_repeats())  # draws in an order of the values alone
    conv_t = _held_out(pt.conversions, test_size, rng)
    null_t = _held_out(pt.nulls, test_size, rng)
    train = pt.with_counts(pt.conversions - conv_t, pt.value * 0, pt.nulls - null_t)
    train.require_conversions("select_order")
    lls, aucs = [], []
    for k in orders:
        chain = fit_chain(train, int(k), "collapse")
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


def _held_out(counts: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """The held-out part of each count: each whole journey with probability ``share``, and a
    fractional remainder whole or not at all (never more than the count)."""
    whole = np.floor(counts)
    out = rng.binomial(whole.astype(np.int64), share).astype(np.float64)
    rest = counts - whole
    if rest.any():
        out += rest * rng.binomial(1, share, rest.size)
    return out


def _state_of_steps(pt: PathTable, chain: Chain) -> np.ndarray:
    """State index of each step of ``pt`` under ``chain`` (-1 for unseen states)."""
    key = window_keys(pt.codes, pt.lengths, chain.order, chain.n_channels + 1)
    idx = np.searchsorted(chain.keys, key)
    idx = np.minimum(idx, max(chain.m - 1, 0))
    return np.where(chain.keys[idx] == key, idx, -1)


def _heldout_loglik(
    pt: PathTable, chain: Chain, conv: np.ndarray, null: np.ndarray, alpha: float
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


def _heldout_auc(pt: PathTable, chain: Chain, conv: np.ndarray, null: np.ndarray) -> float:
    state = _state_of_steps(pt, chain)
    last = state[pt.offsets[1:] - 1]
    c = np.where(last >= 0, chain.conv[np.maximum(last, 0)], 0.0)
    n = np.where(last >= 0, chain.null[np.maximum(last, 0)], 0.0)
    prior = chain.conv.sum() / max(chain.conv.sum() + chain.null.sum(), 1e-300)
    score = np.where(c + n > 0, c / np.maximum(c + n, 1e-300), prior)
    return _weighted_auc(score, conv, null)

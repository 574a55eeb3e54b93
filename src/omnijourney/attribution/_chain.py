"""The absorbing Markov chain of a path table: its states, its transitions, and its solution.

A state is a window of the last ``k`` channels of a path. Two constructions are offered:

- ``"growing"``: after each touch, the state is the last ``k`` channels, fewer at the start of
  a path (``a > b > c`` at order 2: ``(a)``, ``(a > b)``, ``(b > c)``); with
  ``repeats="collapse"`` consecutive touches on one channel are merged first.
- ``"full"``: the states are the windows of ``k`` consecutive touches, and a path shorter than
  ``k`` is one state (``a > b > c`` at order 2: ``(a > b)``, ``(b > c)``; ``a`` alone:
  ``(a)``); with ``repeats="collapse"`` consecutive equal windows are merged. This is
  ChannelAttribution's construction.

The two agree at order 1. Absorption probabilities are solved exactly: from the linear system
``(I - Q) x = r`` or, when walks are capped at a number of states, by summing the walks' first
steps exactly (a truncated Neumann series).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np

from omnijourney._arrays import run_starts
from omnijourney._sums import group_sums
from omnijourney.attribution._paths import PathTable
from omnijourney.attribution._results import CONVERSION, NULL, START
from omnijourney.errors import ConfigError, ConvergenceError

__all__ = ["Chain", "Repeats", "Solver", "Windows", "absorption", "fit_chain", "window_keys"]

Repeats = Literal["collapse", "keep"]
Solver = Literal["auto", "dense", "direct", "iterative"]
Windows = Literal["growing", "full"]
_DENSE_MAX = 64  # states (start included) up to which batched dense solves are fastest
_DENSE_KEYS_MAX = 1 << 22  # key spaces up to this size are mapped with a lookup array
_NEGLIGIBLE = 1e-18  # walk mass below which a capped sum stops (it bounds what is left)


@attrs.frozen(eq=False)
class Chain:
    """An order-k absorbing chain fitted on a path table.

    Transient states are ``0 .. m - 1`` and the start state is ``m``. ``keys`` encodes each
    transient state as base-``C + 1`` digits, the newest channel in the lowest digit (a digit 0
    is an empty place: shorter windows have fewer digits).
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
    longest: int  # states of the longest path with journeys

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


def _runs(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mask of the steps that differ from the step before them in their path."""
    keep = run_starts(values)
    if values.size:
        keep[np.cumsum(lengths)[:-1]] = True  # the first step of every path stays
    return keep


def window_keys(codes: np.ndarray, lengths: np.ndarray, order: int, base: int) -> np.ndarray:
    """Key of the last ``order`` channels at each step, fewer at the start of a path."""
    c64 = codes.astype(np.int64)
    key = c64 + 1
    if order > 1:
        pos = np.arange(codes.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        for j in range(1, order):
            shifted = np.zeros(codes.size, dtype=np.int64)
            shifted[j:] = c64[:-j] + 1
            key += np.where(pos >= j, shifted, 0) * base**j
    return key


def _state_steps(
    pt: PathTable, order: int, windows: Windows, repeats: Repeats
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every state each path passes through, path after path: its key and its newest
    channel; and the number of states of each path."""
    base = pt.n_channels + 1
    codes, lengths = pt.codes, pt.lengths
    if windows == "growing" or order == 1:
        if repeats == "collapse":
            keep = _runs(codes, lengths)
            codes, lengths = codes[keep], np.add.reduceat(keep, np.cumsum(lengths) - lengths)
        keys = codes if order == 1 else window_keys(codes, lengths, order, base)
        return keys, codes, lengths
    keys = window_keys(codes, lengths, order, base)
    ends = np.cumsum(lengths)
    pos = np.arange(keys.size) - np.repeat(ends - lengths, lengths)
    keep = pos >= order - 1  # full windows...
    keep[ends[lengths < order] - 1] = True  # ... or the whole of a shorter path
    keys, codes, lengths = keys[keep], codes[keep], np.maximum(lengths - order + 1, 1)
    if repeats == "collapse":
        keep = _runs(keys, lengths)
        keys, codes = keys[keep], codes[keep]
        lengths = np.add.reduceat(keep, np.cumsum(lengths) - lengths)
    return keys, codes, lengths.astype(np.int64)


def fit_chain(
    pt: PathTable, order: int, repeats: Repeats = "collapse", windows: Windows = "growing"
) -> Chain:
    """Transition counts of the order-k chain, weighted by each path's journeys."""
    n_ch = pt.n_channels
    base = n_ch + 1
    if float(base) ** order >= 2.0**62:
        msg = f"order {order} over {n_ch} channels is too large a state space"
        raise ConfigError(msg)
    key, newest, lengths = _state_steps(pt, order, windows, repeats)
    space = base**order
    state: np.ndarray
    if order == 1:  # states are the channels (the keys are the codes): nothing to look up
        present = np.bincount(newest, minlength=n_ch) > 0
        state_keys = np.flatnonzero(present) + 1
        state = newest if present.all() else (np.cumsum(present) - 1)[newest]
    elif space <= _DENSE_KEYS_MAX:
        used = np.zeros(space, dtype=bool)
        used[key] = True
        state_keys = np.flatnonzero(used)
        state = (np.cumsum(used) - 1)[key]
    else:
        state_keys, inverse = np.unique(key, return_inverse=True)
        state = inverse.ravel()
    del key
    m = state_keys.size
    ends = np.cumsum(lengths)
    starts = ends - lengths
    journeys = pt.conversions + pt.nulls
    # transitions (previous state, newest channel); a path's first step leaves the start (m).
    # Each state adds one channel to the previous one, so the target's key is the source's
    # shifted by one channel; only a full window entered from the start is not: those count
    # apart, by target
    prev = np.empty(newest.size, dtype=np.int64)
    prev[0:1] = m
    prev[1:] = state[:-1]
    prev[starts] = m
    prev *= n_ch
    prev += newest
    # sums that do not depend on the order of the rows (as every sum below)
    bins = group_sums(prev, np.repeat(journeys, lengths), (m + 1) * n_ch)
    del prev
    from_start = windows == "full" and order > 1
    if from_start:
        bins[m * n_ch :] = 0.0
    nz = np.flatnonzero(bins)
    src = nz // n_ch
    src_key = np.where(src < m, state_keys[np.minimum(src, m - 1)], 0)
    next_key = (src_key % base ** (order - 1)) * base + nz % n_ch + 1
    source, target, counts = src, np.searchsorted(state_keys, next_key), bins[nz]
    if from_start:
        first = group_sums(state[starts], journeys, m)
        to = np.flatnonzero(first)
        source = np.concatenate([source, np.full(to.size, m)])
        target = np.concatenate([target, to])
        counts = np.concatenate([counts, first[to]])
    last = state[ends - 1]
    return Chain(
        keys=state_keys,
        n_channels=n_ch,
        order=order,
        source=source,
        target=target,
        counts=counts,
        conv=group_sums(last, pt.conversions, m + 1),
        null=group_sums(last, pt.nulls, m + 1),
        value=group_sums(last, pt.value, m + 1),
        longest=int(lengths[journeys > 0].max(initial=0)),
    )


def absorption(
    chain: Chain, removed: np.ndarray, solver: Solver, tol: float, steps: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """P(conversion) and expected value from the start, for each set of removed states.

    ``removed`` is (n_cases, m + 1) boolean; a removed state sends its walks to null.
    ``steps`` caps the walks: a walk that has not been absorbed after visiting ``steps``
    transient states counts as a non-conversion. Returns two arrays of length n_cases.

    With ``D`` the diagonal of kept states, the absorption probabilities solve
    ``(I - D Q) x = D r``; only the start entry is needed, so the adjoint system
    ``(I - Q^T D) y = e_start`` is solved once per case (``y`` holds the expected visits to
    each state) and serves both right-hand sides: ``P = y . D r`` and ``E[V] = y . D r_V``.
    With a cap, ``y`` is the exact finite sum ``sum_{t <= steps} (Q^T D)^t e_start``.
    """
    m1 = chain.m + 1
    out = chain.out()
    prob = chain.counts / np.where(out > 0, out, 1.0)[chain.source]
    safe = np.where(out > 0, out, 1.0)  # states of zero weight (bootstrap draws) absorb nothing
    rhs = np.stack([chain.conv / safe, chain.value / safe], axis=1)  # (m + 1, 2)
    keep = ~removed
    if steps is not None:
        y = _capped_visits(chain, prob, keep, steps)
    elif (solver == "auto" and m1 <= _DENSE_MAX) or solver == "dense":
        y = _dense_visits(chain, prob, keep)
    else:
        y = _sparse_visits(chain, prob, keep, "iterative" if solver == "auto" else solver, tol)
    p = (y * keep * rhs[:, 0]).sum(axis=1)
    v = (y * keep * rhs[:, 1]).sum(axis=1)
    return p, v


def _transposed(chain: Chain, prob: np.ndarray) -> Any:
    """Q^T as a CSR matrix with every diagonal entry stored (zero where there is no loop)."""
    import scipy.sparse as sp

    m1 = chain.m + 1
    diag = np.arange(m1)
    qt = sp.csr_matrix(
        (
            np.concatenate([prob, np.zeros(m1)]),
            (np.concatenate([chain.target, diag]), np.concatenate([chain.source, diag])),
        ),
        shape=(m1, m1),
    )
    qt.sum_duplicates()
    return qt


def _capped_visits(chain: Chain, prob: np.ndarray, keep: np.ndarray, steps: int) -> np.ndarray:
    """Expected visits of each state within the first ``steps`` transient states of a walk."""
    qt = _transposed(chain, prob)
    kept = keep.T.astype(np.float64)  # (m + 1, n_cases)
    term = np.zeros_like(kept)
    term[chain.m] = 1.0  # every walk is at the start
    y = term.copy()
    for _ in range(steps):
        term = qt @ (term * kept)
        y += term
        if float(term.sum(axis=0).max()) < _NEGLIGIBLE:  # bounds every later contribution
            break
    return np.asarray(y.T)


def _dense_visits(chain: Chain, prob: np.ndarray, keep: np.ndarray) -> np.ndarray:
    m1 = chain.m + 1
    a = np.zeros((m1, m1))
    np.add.at(a, (chain.target, chain.source), -prob)  # Q transposed
    mats = a[None] * keep[:, None, :].astype(np.float64)  # Q^T D: scale columns
    idx = np.arange(m1)
    mats[:, idx, idx] += 1.0
    unit = np.zeros((keep.shape[0], m1, 1))
    unit[:, m1 - 1, 0] = 1.0
    return np.linalg.solve(mats, unit)[:, :, 0]


def _sparse_visits(
    chain: Chain, prob: np.ndarray, keep: np.ndarray, solver: Solver, tol: float
) -> np.ndarray:
    import scipy.sparse as sp

    m1 = chain.m + 1
    base = _transposed(chain, prob)
    base.data = -base.data  # -Q^T; each case rescales its columns and adds the identity
    is_diag = np.repeat(np.arange(m1), np.diff(base.indptr)) == base.indices
    y = np.empty(keep.shape, dtype=np.float64)
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
    return y


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

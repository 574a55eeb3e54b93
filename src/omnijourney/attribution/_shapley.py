"""Shapley-value attribution: channels as players of a coalition game over the observed paths.

The value of a coalition of channels is computed from the paths (several definitions are
offered, see :func:`shapley`); credit is each channel's Shapley value (Shapley 1953), exact
over all coalitions through the Harsanyi dividends, or estimated from random permutations.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from omnijourney._arrays import run_starts
from omnijourney._sums import group_sums
from omnijourney.attribution._canonical import canonical_groups
from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import Attribution, make_result, scaled
from omnijourney.errors import ConfigError, DataError

__all__ = ["COALITION_VALUES", "harsanyi_dividends", "shapley", "shapley_values"]

#: The coalition value functions :func:`shapley` offers.
COALITION_VALUES = ("subset", "rate_subset", "rate_exact")
CoalitionValue = Literal["subset", "rate_subset", "rate_exact"]
Method = Literal["auto", "exact", "sampled"]
_MAX_EXACT_LIMIT = 26  # 2**26 coalitions, 512 MiB per float64 array


def _distinct_sets(
    pt: PathTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct channel sets (flat sorted codes, offsets) and their summed counts."""
    if pt.n_channels <= 62:
        uniq, conv, null, val = _set_sums(pt)
        bits = (uniq[:, None] >> np.arange(pt.n_channels)) & 1
        rows, codes = np.nonzero(bits)
        offsets = np.zeros(uniq.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=uniq.size), out=offsets[1:])
        return codes.astype(np.int64), offsets, conv, null, val
    codes, offsets, _ = pt.channel_sets()
    order, group, n_groups = canonical_groups(codes, offsets, pt.n_channels)
    first = np.flatnonzero(run_starts(group))
    rep = order[first]
    sizes = np.diff(offsets)[rep]
    new_off = np.zeros(rep.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=new_off[1:])
    steps = np.repeat(offsets[:-1][rep], sizes) + (
        np.arange(int(sizes.sum())) - np.repeat(new_off[:-1], sizes)
    )
    sums = [
        group_sums(group, getattr(pt, name)[order], n_groups)
        for name in ("conversions", "nulls", "value")
    ]
    return codes[steps], new_off, sums[0], sums[1], sums[2]


def _set_sums(pt: PathTable) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct channel sets as bit masks (at most 62 channels, ascending), and the
    conversions, nulls and value of the paths with each set (whatever the row order)."""
    uniq, group = np.unique(path_masks(pt), return_inverse=True)
    group = group.ravel()
    conv, null, val = (
        group_sums(group, getattr(pt, name), uniq.size)
        for name in ("conversions", "nulls", "value")
    )
    return uniq, conv, null, val


def _per_coalition(pt: PathTable, weights: str) -> tuple[np.ndarray, np.ndarray]:
    """Conversions (or value) and journeys of the paths with exactly each set of channels,
    indexed by bit mask over all ``2**n_channels`` sets (whatever the row order)."""
    masks, size = path_masks(pt), 1 << pt.n_channels
    per_set = group_sums(masks, pt.value if weights == "value" else pt.conversions, size)
    return per_set, group_sums(masks, pt.conversions + pt.nulls, size)


def path_masks(pt: PathTable) -> np.ndarray:
    """The set of channels of each path as a bit mask (at most 62 channels)."""
    bits = np.left_shift(np.int64(1), pt.codes.astype(np.int64))
    return np.bitwise_or.reduceat(bits, pt.offsets[:-1]) if bits.size else bits


def _zeta(a: np.ndarray, n: int) -> np.ndarray:
    """Subset sums: ``out[S] = sum of a[T] for T subset of S`` (in place on a copy)."""
    out = a.copy()
    for i in range(n):
        view = out.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return out


def _mobius(a: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`_zeta`: the Harsanyi dividends of a game."""
    out = a.copy()
    for i in range(n):
        view = out.reshape(-1, 2, 1 << i)
        view[:, 1, :] -= view[:, 0, :]
    return out


def _popcount(n: int) -> np.ndarray:
    pc = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        pc = np.concatenate([pc, pc + 1])
    return pc


def _game(kind: CoalitionValue, num: np.ndarray, journeys: np.ndarray) -> np.ndarray:
    """Coalition values over all 2**n coalitions from per-exact-set totals.

    ``num`` holds the conversions (or value) of the paths with each exact channel set and
    ``journeys`` their journeys (conversions + nulls), indexed by bitmask.
    """
    n = int(np.log2(num.size))
    if kind == "subset":
        return _zeta(num, n)
    c, u = (_zeta(num, n), _zeta(journeys, n)) if kind == "rate_subset" else (num, journeys)
    return np.divide(c, u, out=np.zeros_like(c), where=u > 0)


def _exact_phi(v: np.ndarray, n: int) -> np.ndarray:
    """Shapley values of the game ``v`` (indexed by bitmask): sum over T of d(T) / |T|."""
    d = _mobius(v, n)
    d[0] = 0.0
    pc = _popcount(n)
    w = d / np.maximum(pc, 1)
    return np.array([w.reshape(-1, 2, 1 << i)[:, 1, :].sum() for i in range(n)])


def shapley_values(
    paths: PathTable, *, value: CoalitionValue = "subset", weights: str = "conversions"
) -> np.ndarray:
    """Exact Shapley values of the coalition game (before scaling to the totals).

    ``weights="value"`` plays the same game on conversion value instead of conversions
    (for the rate values: value per journey). Needs at most 26 channels.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "a"], conversions=[2, 1])
    >>> shapley_values(pt).tolist()
    [2.0, 1.0]
    """
    pt = as_path_table(paths, "shapley_values")
    n = pt.n_channels
    if n > _MAX_EXACT_LIMIT:
        msg = f"exact Shapley values need at most {_MAX_EXACT_LIMIT} channels, got {n}"
        raise ConfigError(msg)
    per_set, journeys = _per_coalition(pt, weights)
    if value == "subset":
        # the dividends of the subset game are the counts of each exact set (no transform)
        pc = _popcount(n)
        share = per_set / np.maximum(pc, 1)
        return np.array([share.reshape(-1, 2, 1 << i)[:, 1, :].sum() for i in range(n)])
    return _exact_phi(_game(value, per_set, journeys), n)


def harsanyi_dividends(
    paths: PathTable, *, value: CoalitionValue = "rate_subset", weights: str = "conversions"
) -> np.ndarray:
    """The Harsanyi dividend of every coalition of channels, indexed by bit mask.

    The dividend of a coalition is what it is worth beyond all its sub-coalitions
    (Harsanyi 1963): ``d(S) = sum over T subset of S of (-1)^(|S|-|T|) v(T)``, so that
    ``v(S)`` is the sum of the dividends of its subsets and the Shapley value of a channel
    is ``sum over S containing it of d(S) / |S|`` (what :func:`shapley` computes). The
    dividend of a pair ``{a, b}``, ``v(ab) - v(a) - v(b) + v({})``, is its synergy: positive
    when paths using both convert better than their parts add up to.

    Parameters
    ----------
    paths : PathTable
    value : {"rate_subset", "rate_exact", "subset"}
        The coalition value (see :func:`shapley`); the default, the conversion rate of the
        paths using at most the coalition's channels, makes pair dividends read as synergies
        of conversion rates. With ``"subset"`` the dividends are the conversions of the paths
        with exactly each set of channels.
    weights : {"conversions", "value"}
        Play the game on conversions or on conversion value.

    Returns
    -------
    ndarray of float, shape (2 ** n_channels,)
        Entry ``m`` is the dividend of the coalition whose channels are the set bits of
        ``m`` (bit ``k`` is ``paths.channels[k]``); entry 0 is 0.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a", "b", "a > b"], conversions=[1, 1, 6], nulls=[9, 9, 4])
    >>> d = harsanyi_dividends(pt)
    >>> [round(float(x), 4) for x in d]  # {}, {a}, {b}, {a, b}: a and b work together
    [0.0, 0.1, 0.1, 0.0667]
    """
    pt = as_path_table(paths, "harsanyi_dividends")
    if value not in COALITION_VALUES:
        msg = f"value must be one of {list(COALITION_VALUES)}, got {value!r}"
        raise ConfigError(msg)
    if weights not in ("conversions", "value"):
        msg = f"weights must be 'conversions' or 'value', got {weights!r}"
        raise ConfigError(msg)
    n = pt.n_channels
    if n > _MAX_EXACT_LIMIT:
        msg = f"Harsanyi dividends need at most {_MAX_EXACT_LIMIT} channels, got {n}"
        raise ConfigError(msg)
    per_set, journeys = _per_coalition(pt, weights)
    d = _mobius(_game(value, per_set, journeys), n)
    d[0] = 0.0
    return d


def _sampled(
    pt: PathTable, kind: CoalitionValue, n_permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Permutation estimates of the conversion and value games: means and standard errors."""
    set_codes, set_off, conv, null, val = _distinct_sets(pt)
    n = pt.n_channels
    n_sets = set_off.size - 1
    sizes = np.diff(set_off)
    batch = max(1, min(n_permutations, 20_000_000 // max(n_sets, 1)))
    sum_c = np.zeros(n)
    sq_c = np.zeros(n)
    sum_v = np.zeros(n)
    sq_v = np.zeros(n)
    done = 0
    while done < n_permutations:
        p = min(batch, n_permutations - done)
        perms = np.argsort(rng.random((p, n)), axis=1)
        pos = np.empty_like(perms)
        np.put_along_axis(pos, perms, np.arange(n)[None, :], axis=1)
        maxpos = np.maximum.reduceat(pos[:, set_codes], set_off[:-1], axis=1)  # (p, n_sets)
        rows = np.repeat(np.arange(p), n_sets) * n
        flat = rows + maxpos.ravel()
        exact = np.tile(sizes, p) == maxpos.ravel() + 1  # the set is exactly the prefix
        marg = []
        journeys = np.tile(conv + null, p)
        for w in (conv, val):
            weights = np.tile(w, p)
            if kind == "subset":
                m = np.bincount(flat, weights=weights, minlength=p * n).reshape(p, n)
            else:
                sel = exact if kind == "rate_exact" else np.ones(flat.size, dtype=bool)
                num = np.bincount(flat[sel], weights=weights[sel], minlength=p * n).reshape(p, n)
                den = np.bincount(flat[sel], weights=journeys[sel], minlength=p * n).reshape(p, n)
                if kind == "rate_subset":
                    num, den = np.cumsum(num, axis=1), np.cumsum(den, axis=1)
                v = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
                m = np.diff(v, axis=1, prepend=0.0)
            out = np.empty_like(m)
            np.put_along_axis(out, perms, m, axis=1)  # position k -> channel perms[k]
            marg.append(out)
        sum_c += marg[0].sum(axis=0)
        sq_c += (marg[0] ** 2).sum(axis=0)
        sum_v += marg[1].sum(axis=0)
        sq_v += (marg[1] ** 2).sum(axis=0)
        done += p
    k = n_permutations
    mean_c, mean_v = sum_c / k, sum_v / k
    var_c = np.maximum(sq_c / k - mean_c**2, 0.0) * k / max(k - 1, 1)
    var_v = np.maximum(sq_v / k - mean_v**2, 0.0) * k / max(k - 1, 1)
    return mean_c, np.sqrt(var_c / k), mean_v, np.sqrt(var_v / k)


def shapley(
    paths: PathTable,
    *,
    value: CoalitionValue = "subset",
    method: Method = "auto",
    max_exact: int = 20,
    n_permutations: int = 2_000,
    seed: int | None = 0,
    ordered: bool = False,
) -> Attribution:
    """Shapley-value attribution of conversions and value.

    Channels are the players; a coalition ``S`` of channels is worth ``v(S)``, computed from
    the paths by one of:

    ``"subset"`` (default)
        conversions of the paths whose set of channels is a subset of ``S``. Its Harsanyi
        dividends are the conversions of each exact channel set, so the Shapley value of a
        channel is ``sum over sets T containing it of conv(T) / |T|``: exactly linear
        attribution over the distinct channels of each path (``linear(paths,
        distinct=True)``), the "simplified Shapley value" of Zhao et al. (2018). This is the
        value of the ``mta`` package.
    ``"rate_subset"``
        conversion rate (conversions / journeys, nulls included) of the paths using at most
        the channels of ``S``.
    ``"rate_exact"``
        conversion rate of the paths using exactly the channels of ``S`` (the value of
        marketing-attribution-models). Coalitions never observed are worth 0.

    The rate games are not additive in journeys: their Shapley values sum to ``v(all
    channels)`` and can be negative for a channel whose paths convert less than paths
    without it. Credit is the Shapley values scaled to the total conversions (and, playing
    the same game on value, to the total value), so negative values give negative credit.

    Parameters
    ----------
    paths : PathTable
    value : {"subset", "rate_subset", "rate_exact"}
        The coalition value (see above).
    method : {"auto", "exact", "sampled"}
        ``"exact"`` sums over all ``2**C`` coalitions (at most ``max_exact`` channels);
        ``"sampled"`` averages marginal contributions over ``n_permutations`` random orders
        of the channels (Castro et al. 2009) and reports standard errors in ``std_error``;
        ``"auto"`` is exact up to ``max_exact`` channels, sampled beyond.
    max_exact : int
        Largest number of channels for the exact computation (at most 26; 20 channels take
        about a second).
    n_permutations : int
        Permutations of the sampled estimator; its standard error shrinks as
        ``1 / sqrt(n_permutations)``.
    seed : int or None
        Seed of the sampled estimator (same seed, same result).
    ordered : bool
        With the ``"subset"`` value, also split each channel's credit by the position at
        which it first appears in the path (Zhao et al.'s ordered Shapley value):
        ``params["by_position"]`` holds, per channel, the conversions credited at positions
        1, 2, ... of the distinct channel sequence.

    Raises
    ------
    ConfigError
        ``method="exact"`` with more than ``max_exact`` channels, unknown options.
    DataError
        No path converts.

    References
    ----------
    Shapley, L. S. (1953). A value for n-person games. Contributions to the Theory of
    Games II, 307-317.
    Zhao, K., Mahboobi, S. H., Bagheri, S. R. (2018). Shapley value methods for attribution
    modeling in online advertising. arXiv:1804.05327.
    Castro, J., Gómez, D., Tejada, J. (2009). Polynomial calculation of the Shapley value
    based on sampling. Computers & Operations Research 36(5), 1726-1730.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "a", "b > c", "a > b > c"],
    ...                             conversions=[2, 1, 4, 3], nulls=[2, 3, 4, 1])
    >>> shapley(pt).as_dict()  # = linear over distinct channels
    {'a': 3.0, 'b': 4.0, 'c': 3.0}
    >>> {k: round(v, 4) for k, v in shapley(pt, value="rate_exact").as_dict().items()}
    {'a': 3.3333, 'b': 5.0, 'c': 1.6667}
    """
    pt = as_path_table(paths, "shapley")
    if value not in COALITION_VALUES:
        msg = f"value must be one of {list(COALITION_VALUES)}, got {value!r}"
        raise ConfigError(msg)
    if method not in ("auto", "exact", "sampled"):
        msg = f"method must be 'auto', 'exact' or 'sampled', got {method!r}"
        raise ConfigError(msg)
    if not isinstance(max_exact, int) or not 1 <= max_exact <= _MAX_EXACT_LIMIT:
        msg = f"max_exact must be an integer in [1, {_MAX_EXACT_LIMIT}], got {max_exact!r}"
        raise ConfigError(msg)
    if not isinstance(n_permutations, int) or n_permutations < 2:
        msg = f"n_permutations must be an integer of at least 2, got {n_permutations!r}"
        raise ConfigError(msg)
    pt.require_conversions("shapley")
    n = pt.n_channels
    if method == "exact" and n > max_exact:
        msg = (
            f"exact Shapley values over {n} channels need 2**{n} coalitions, more than "
            f"max_exact={max_exact} allows; use method='sampled' (or 'auto'), or merge or drop "
            "channels"
        )
        raise ConfigError(msg)
    use_exact = method == "exact" or (method == "auto" and n <= max_exact)
    std = None
    if use_exact:
        phi = shapley_values(pt, value=value)
        phi_v = shapley_values(pt, value=value, weights="value")
    else:
        rng = np.random.default_rng(seed)
        phi, se, phi_v, _ = _sampled(pt, value, n_permutations, rng)
        total = float(phi.sum())
        std = se * (pt.total_conversions / total if total else 0.0)
    total = float(phi.sum())
    if total <= 1e-9 * max(float(np.abs(phi).max()), 1e-300):  # zero up to rounding
        msg = (
            f"the Shapley values of the {value!r} game sum to v(all channels) = "
            f"{total:.6g}: they cannot be scaled to conversions (with 'rate_exact', "
            "no path uses every channel); use value='subset' or 'rate_subset'"
        )
        raise DataError(msg, table="PathTable")
    params: dict[str, Any] = {
        "value": value,
        "method": "exact" if use_exact else "sampled",
        "n_permutations": None if use_exact else n_permutations,
        "seed": None if use_exact else seed,
    }
    if ordered:
        if value != "subset":
            msg = "ordered=True is defined for the 'subset' coalition value only"
            raise ConfigError(msg)
        params["by_position"] = _by_position(pt).tolist()
    return make_result(
        "shapley",
        pt,
        scaled(phi, pt.total_conversions),
        scaled(phi_v, pt.total_value),
        params,
        scores=phi,
        std_error=std,
    )


def _by_position(pt: PathTable) -> np.ndarray:
    """(C, longest distinct path) conversions credited by first-appearance position."""
    pid = pt.path_index()
    key = pid * max(pt.n_channels, 1) + pt.codes
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)  # first touch of each (path, channel), in path order
    fp = pid[first]
    sizes = np.bincount(fp, minlength=pt.n_paths)
    starts = np.zeros(pt.n_paths, dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    rank = np.arange(first.size) - np.repeat(starts, sizes)
    width = int(sizes.max()) if sizes.size else 0
    width = max(width, 1)
    cell = pt.codes[first].astype(np.int64) * width + rank
    out = group_sums(cell, pt.conversions[fp] / sizes[fp], pt.n_channels * width)
    return out.reshape(pt.n_channels, width)

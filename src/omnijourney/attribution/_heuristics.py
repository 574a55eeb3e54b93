"""Rule-based attribution: first and last touch, last non-direct, linear, position-based, time decay.

Each rule gives every step of a path a weight, the weights of a path sum to one, and a path's
conversions and value are split by those weights. Everything runs on the flat step arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from omnijourney._arrays import positions
from omnijourney._sums import group_sums
from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import Attribution, make_result
from omnijourney.errors import ConfigError, DataError

__all__ = [
    "HEURISTICS",
    "first_touch",
    "heuristic",
    "last_non_direct",
    "last_touch",
    "linear",
    "position_based",
    "time_decay",
]

#: The rule-based models, by name.
HEURISTICS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
)


def _credit(pt: PathTable, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel conversions and value from per-step weights (summing to 1 in each path)."""
    return _channel_sums(pt, pt.codes, pt.path_index(), weights)


def _one_step(pt: PathTable, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel conversions and value when each path gives all to its step ``step``."""
    return _channel_sums(pt, pt.codes[step], np.arange(pt.n_paths), None)


def _channel_sums(
    pt: PathTable, codes: np.ndarray, pid: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: the sums over the steps (channel ``codes``, path ``pid``) of their
    ``weights`` times their path's conversions, and value; the same bits in any row order."""
    conv, val = pt.conversions[pid], pt.value[pid]
    if weights is not None:
        conv, val = weights * conv, weights * val
    return group_sums(codes, conv, pt.n_channels), group_sums(codes, val, pt.n_channels)


def first_touch(paths: PathTable) -> Attribution:
    """All the credit of a path to its first touch.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b > a > c"], conversions=[1, 2])
    >>> first_touch(pt).as_dict()
    {'a': 1.0, 'b': 2.0, 'c': 0.0}
    """
    pt = as_path_table(paths, "first_touch")
    pt.require_conversions("first_touch")
    conv, val = _one_step(pt, pt.offsets[:-1])
    return make_result("first_touch", pt, conv, val, {})


def last_touch(paths: PathTable) -> Attribution:
    """All the credit of a path to its last touch.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b > a > c"], conversions=[1, 2])
    >>> last_touch(pt).as_dict()
    {'a': 0.0, 'b': 1.0, 'c': 2.0}
    """
    pt = as_path_table(paths, "last_touch")
    pt.require_conversions("last_touch")
    conv, val = _one_step(pt, pt.offsets[1:] - 1)
    return make_result("last_touch", pt, conv, val, {})


def last_non_direct(paths: PathTable, direct: Iterable[str] = ("direct",)) -> Attribution:
    """All the credit to the last touch that is not a direct channel.

    A path made only of direct touches gives its credit to its last touch (a direct one), as
    web analytics tools do: no conversion is lost.

    Parameters
    ----------
    paths : PathTable
    direct : iterable of str
        The channels counted as direct (type-in traffic, a store walk-in...). Names that are not
        channels of the table raise a :class:`~omnijourney.DataError`, except the default
        ``("direct",)``, which is ignored when the table has no such channel.

    Examples
    --------
    >>> pt = PathTable.from_strings(["email > web", "web", "sms > web > web"], conversions=[1, 2, 4])
    >>> last_non_direct(pt, direct=["web"]).as_dict()
    {'email': 1.0, 'sms': 4.0, 'web': 2.0}
    """
    pt = as_path_table(paths, "last_non_direct")
    pt.require_conversions("last_non_direct")
    names = [direct] if isinstance(direct, str) else list(direct)
    if names == ["direct"] and "direct" not in pt.channels.tolist():
        names = []
    d = pt.channel_index(names, "direct")
    is_direct = np.isin(pt.codes, d)
    # last non-direct step of each path: largest index with ~is_direct, else the last step
    idx = np.where(~is_direct, np.arange(pt.codes.size), -1)
    last_nd = np.maximum.reduceat(idx, pt.offsets[:-1]) if pt.codes.size else idx
    step = np.where(last_nd >= pt.offsets[:-1], last_nd, pt.offsets[1:] - 1)
    conv, val = _one_step(pt, step)
    return make_result("last_non_direct", pt, conv, val, {"direct": names})


def linear(paths: PathTable, *, distinct: bool = False) -> Attribution:
    """Equal credit to every touch of a path (``distinct=True``: to every distinct channel).

    With repeats counted (the default) a channel touched twice in a path of three touches gets
    two thirds; with ``distinct=True`` each distinct channel of the path gets an equal part.
    The distinct version equals Shapley with the ``"subset"`` coalition value.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b > a"], conversions=[3])
    >>> linear(pt).as_dict(), linear(pt, distinct=True).as_dict()
    ({'a': 2.0, 'b': 1.0}, {'a': 1.5, 'b': 1.5})
    """
    pt = as_path_table(paths, "linear")
    pt.require_conversions("linear")
    if distinct:
        codes, _offsets, sizes = pt.channel_sets()
        pid = np.repeat(np.arange(pt.n_paths), sizes)
        conv, val = _channel_sums(pt, codes, pid, 1.0 / sizes[pid])
    else:
        lengths = pt.lengths
        conv, val = _credit(pt, np.repeat(1.0 / lengths, lengths))
    return make_result("linear", pt, conv, val, {"distinct": bool(distinct)})


def position_based(paths: PathTable, *, first: float = 0.4, last: float = 0.4) -> Attribution:
    """``first`` of the credit to the first touch, ``last`` to the last, the rest shared by the middle.

    The default is the common 40/20/40 ("U-shaped") rule. Short paths:

    - length 1: the single touch gets all the credit;
    - length 2: there is no middle, so the first and last shares are renormalised:
      ``first / (first + last)`` and ``last / (first + last)`` (50/50 by default).

    Parameters
    ----------
    first, last : float
        Shares of the first and last touch; both in [0, 1] with ``first + last <= 1`` and
        ``first + last > 0``.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b > c > d", "a > d", "c"], conversions=[10, 1, 1])
    >>> position_based(pt).as_dict()
    {'a': 4.5, 'b': 1.0, 'c': 2.0, 'd': 4.5}
    """
    pt = as_path_table(paths, "position_based")
    if not (0 <= first <= 1 and 0 <= last <= 1 and 0 < first + last <= 1):
        msg = (
            "position_based: first and last must be in [0, 1] with 0 < first + last <= 1, "
            f"got first={first!r}, last={last!r}"
        )
        raise ConfigError(msg)
    pt.require_conversions("position_based")
    lengths = pt.lengths
    pos = positions(lengths)
    n = np.repeat(lengths, lengths)
    middle = (1.0 - first - last) / np.maximum(n - 2, 1)
    w = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    w = np.where(n == 2, np.where(pos == 0, first, last) / (first + last), w)
    w = np.where(n == 1, 1.0, w)
    conv, val = _credit(pt, w)
    return make_result("position_based", pt, conv, val, {"first": first, "last": last})


def time_decay(paths: PathTable, *, half_life: Any = "7D") -> Attribution:
    """Credit decaying with the real time between a touch and the conversion.

    A touch ``dt`` before the end of its journey weighs ``0.5 ** (dt / half_life)``; the
    weights of a path are normalised to sum to one.

    Parameters
    ----------
    paths : PathTable
        Must carry times: build it with ``PathTable.from_journeys(..., times=True)`` or
        ``PathTable.from_sequences(..., times=...)``.
    half_life : str or timedelta
        Time after which a touch's weight halves (``"7D"`` by default, a common choice).

    Raises
    ------
    DataError
        The table has no times, or some are missing or negative.

    Examples
    --------
    >>> pt = PathTable.from_sequences([["email", "store"]], conversions=[3],
    ...                               times=[[7 * 86400.0, 0.0]])
    >>> time_decay(pt, half_life="7D").as_dict()
    {'email': 1.0, 'store': 2.0}
    """
    from omnijourney.time import to_timedelta64

    pt = as_path_table(paths, "time_decay")
    hl = to_timedelta64(half_life, name="half_life")
    if hl <= np.timedelta64(0, "us"):
        msg = f"half_life must be positive, got {half_life!r}"
        raise ConfigError(msg)
    if pt.times is None:
        msg = (
            "time_decay needs the time of each touch before the conversion; this path table has "
            "none (aggregated paths and 'a > b' strings carry no times). Build it with "
            "PathTable.from_journeys(journeys, times=True) or PathTable.from_sequences(..., times=...)"
        )
        raise DataError(msg, table="PathTable", column="times")
    bad = ~np.isfinite(pt.times) | (pt.times < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            "must be a finite, non-negative number of seconds",
            table="PathTable",
            column="times",
            rows=rows.tolist(),
            values=pt.times[rows[:5]].tolist(),
        )
    pt.require_conversions("time_decay")
    seconds = float(hl.astype(np.int64)) / 1e6
    # weights relative to the path's most recent touch, so that old paths do not underflow
    pid = pt.path_index()
    tmin = np.minimum.reduceat(pt.times, pt.offsets[:-1])
    raw = np.exp2(-(pt.times - tmin[pid]) / seconds)
    w = raw / np.add.reduceat(raw, pt.offsets[:-1])[pid]
    conv, val = _credit(pt, w)
    return make_result("time_decay", pt, conv, val, {"half_life_seconds": seconds})


_FUNCS = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "last_non_direct": last_non_direct,
    "linear": linear,
    "position_based": position_based,
    "time_decay": time_decay,
}


def heuristic(paths: PathTable, model: str = "last_non_direct", **options: Any) -> Attribution:
    """Run one rule-based model by name (see :data:`HEURISTICS`), passing its options.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b"], conversions=[1])
    >>> heuristic(pt, "position_based", first=0.3, last=0.7).as_dict()
    {'a': 0.3, 'b': 0.7}
    """
    if model not in _FUNCS:
        msg = f"model must be one of {list(_FUNCS)}, got {model!r}"
        raise ConfigError(msg)
    return _FUNCS[model](paths, **options)

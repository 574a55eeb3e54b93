"""Channel usefulness and synergies: which channels matter, for what they cost, and which
pairs work together.

A channel's weight in the conversions is its Markov removal effect (the share of conversions
lost if it disappeared); its effort is its share of touches, or of the cost the user gives;
its synergy with another channel is the Harsanyi dividend of the pair in the conversion-rate
game of the paths (what the pair brings beyond each channel alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._display import TableResult
from omnijourney.errors import ConfigError
from omnijourney.metrics._results import result_eq
from omnijourney.tables import Table

__all__ = ["USEFULNESS_LABELS", "ChannelUsefulness", "channel_usefulness"]

#: The labels of :func:`channel_usefulness`, from the most to the least deserving.
USEFULNESS_LABELS = ("under-used", "useful", "superfluous")


@attrs.frozen(eq=False)
class ChannelUsefulness(TableResult):
    """Channels ranked by what they bring against what they take, and their synergies.

    Attributes
    ----------
    table : Table
        One row per channel, most deserving first: ``channel``, ``removal_effect``,
        ``removal_share`` (its share of the summed removal effects), ``touch_share``,
        ``cost_share`` (NaN without costs), ``index`` (removal share over the touch share, or
        over the cost share when costs are given; NaN for a channel without touches or
        cost), ``label``.
    synergies : Table
        One row per pair of channels seen together: ``channel_a``, ``channel_b``,
        ``journeys`` (paths using both), ``dividend`` (Harsanyi dividend of the pair in the
        conversion-rate game; positive when the pair converts better than its parts add up
        to), sorted by decreasing dividend.
    basis : str
        ``"touches"`` or ``"cost"``: what the index divides by.
    negligible, under_used : float
        The thresholds of the labels.
    """

    __eq__ = result_eq

    table: Table
    synergies: Table
    basis: str
    negligible: float
    under_used: float

    def labels(self) -> dict[str, str]:
        """Channel -> label."""
        return dict(zip(self.table["channel"].tolist(), self.table["label"].tolist()))

    def summary(self) -> str:
        t = self.table
        lines = []
        effort = "of touches" if self.basis == "touches" else "of the cost"
        share = t["touch_share"] if self.basis == "touches" else t["cost_share"]
        for i, ch in enumerate(t["channel"].tolist()):
            lines.append(
                f"{ch}: {t['label'][i]} (removing it loses {100 * t['removal_effect'][i]:.0f}% "
                f"of conversions; {100 * t['removal_share'][i]:.0f}% of the removal effects for "
                f"{100 * share[i]:.0f}% {effort})"
            )
        s = self.synergies
        if len(s):
            top = ", ".join(
                f"{a} + {b} ({d:+.3f})"
                for a, b, d in zip(
                    s["channel_a"][:3].tolist(), s["channel_b"][:3].tolist(), s["dividend"][:3]
                )
            )
            lines.append(f"Strongest pairs (conversion-rate synergy): {top}.")
        return "\n".join(lines)

    def to_table(self) -> Table:
        """The result's table (``table``), as the exports hand it over."""
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def __repr__(self) -> str:
        return "ChannelUsefulness:\n" + self.summary()


def _touches(pt: Any) -> np.ndarray:
    """Touches per channel: each step weighted by the journeys on its path."""
    journeys = pt.conversions + pt.nulls
    per_step = np.repeat(journeys, np.diff(pt.offsets))
    return np.bincount(pt.codes, weights=per_step, minlength=pt.n_channels)


def channel_usefulness(
    paths: Any,
    *,
    cost: Mapping[str, float] | None = None,
    order: int = 1,
    negligible: float = 0.02,
    under_used: float = 1.5,
) -> ChannelUsefulness:
    """Rank channels useful, under-used or superfluous, and measure their synergies.

    Parameters
    ----------
    paths : PathTable
        Paths with conversions and nulls (e.g. ``PathTable.from_journeys(journeys)``).
    cost : mapping of channel -> cost, optional
        What each channel costs over the same period (any currency); the index then compares
        each channel's share of the removal effects with its share of the cost instead of
        its share of touches. Channels absent from the mapping cost 0.
    order : int
        Order of the Markov chain of the removal effects (default 1).
    negligible : float
        A channel whose removal loses less than this share of conversions is superfluous
        (default 2%).
    under_used : float
        A channel whose share of the removal effects is at least this many times its share
        of touches (or cost) is under-used (default 1.5).

    Returns
    -------
    ChannelUsefulness

    Notes
    -----
    With ``RE_c`` the removal effect of channel ``c``, its removal share
    ``RE_c / sum(RE)``, its touch share (touches on ``c`` over all touches of all journeys)
    or cost share, and ``index = removal share / touch (or cost) share``:

    - **superfluous**: ``RE_c < negligible``: conversions barely depend on it;
    - **under-used**: not superfluous and ``index >= under_used`` (or it costs nothing): it
      brings clearly more than its share of the effort, a candidate for more;
    - **useful**: every other channel: conversions depend on it, in proportion to (or
      below) the effort it takes.

    Synergies are the Harsanyi dividends of pairs (see
    :func:`omnijourney.attribution.harsanyi_dividends`) of the ``"rate_subset"`` game:
    ``v(ab) - v(a) - v(b) + v({})`` where ``v(S)`` is the conversion rate of the paths
    using only channels of ``S``.
    """
    from omnijourney.attribution import PathTable, harsanyi_dividends, removal_effects

    if not isinstance(paths, PathTable):
        msg = f"channel_usefulness needs a PathTable, got {type(paths).__name__}"
        raise ConfigError(msg)
    for name, v, lo in (("negligible", negligible, 0.0), ("under_used", under_used, 1.0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= lo:
            msg = f"The {name!r} parameter must be a number >= {lo:g}. Got {v!r} instead."
            raise ConfigError(msg)
    channels = [str(c) for c in paths.channels.tolist()]
    re_map = removal_effects(paths, order)
    re = np.array([re_map[c] for c in channels], dtype=np.float64)
    touches = _touches(paths)
    touch_share = touches / touches.sum() if touches.sum() > 0 else np.zeros(len(channels))
    re_share = re / re.sum() if re.sum() > 0 else np.zeros(len(channels))
    if cost is not None:
        if not isinstance(cost, Mapping):
            msg = (
                f"The 'cost' parameter must be a mapping of channel -> cost. Got {cost!r} instead."
            )
            raise ConfigError(msg)
        unknown = sorted(set(cost) - set(channels))
        if unknown:
            msg = f"channel_usefulness: cost names channels absent from the paths: {unknown}"
            raise ConfigError(msg)
        c = np.array([float(cost.get(ch, 0.0)) for ch in channels])
        if (c < 0).any() or c.sum() <= 0:
            msg = "channel_usefulness: costs must be non-negative with a positive total"
            raise ConfigError(msg)
        cost_share = c / c.sum()
        basis, effort = "cost", cost_share
    else:
        cost_share = np.full(len(channels), np.nan)
        basis, effort = "touches", touch_share
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(effort > 0, re_share / np.where(effort > 0, effort, 1.0), np.nan)
    # a channel that costs nothing and still matters brings something for nothing
    generous = (effort <= 0) | (np.nan_to_num(index, nan=np.inf) >= under_used)
    label = np.where(re < negligible, "superfluous", np.where(generous, "under-used", "useful"))
    rank = np.lexsort((-re, np.array([USEFULNESS_LABELS.index(x) for x in label])))
    table = Table.from_columns(
        {
            "channel": np.array(channels, dtype=object)[rank],
            "removal_effect": re[rank],
            "removal_share": re_share[rank],
            "touch_share": touch_share[rank],
            "cost_share": cost_share[rank],
            "index": index[rank],
            "label": label.astype(object)[rank],
        },
        kinds={"channel": "category", "label": "category"},
    )
    n = len(channels)
    rows: dict[str, list[Any]] = {"channel_a": [], "channel_b": [], "journeys": [], "dividend": []}
    if n <= 26:
        d = harsanyi_dividends(paths, value="rate_subset")
        codes, offsets = paths.codes.astype(np.int64), paths.offsets
        masks = (
            np.bitwise_or.reduceat(np.left_shift(np.int64(1), codes), offsets[:-1])
            if codes.size
            else np.zeros(0, np.int64)
        )
        journeys = paths.conversions + paths.nulls
        for a in range(n):
            for b in range(a + 1, n):
                pair = (1 << a) | (1 << b)
                together = float(journeys[(masks & pair) == pair].sum())
                if together <= 0:
                    continue
                rows["channel_a"].append(channels[a])
                rows["channel_b"].append(channels[b])
                rows["journeys"].append(together)
                rows["dividend"].append(float(d[pair]))
    order_pairs = np.argsort(-np.asarray(rows["dividend"], dtype=np.float64), kind="stable")
    synergies = Table.from_columns(
        {
            k: np.asarray(v, dtype=object if k.startswith("channel") else np.float64)[order_pairs]
            for k, v in rows.items()
        },
        kinds={
            "channel_a": "category",
            "channel_b": "category",
            "journeys": "float",
            "dividend": "float",
        },
    )
    return ChannelUsefulness(
        table=table,
        synergies=synergies,
        basis=basis,
        negligible=float(negligible),
        under_used=float(under_used),
    )

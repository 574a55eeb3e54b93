"""Figures of attribution results: credit per channel, of one model or several side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.plot._common import check_choice, new_axes, series_colors
from omnijourney.plot._style import ChannelPalette, as_palette, label_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.attribution import Attribution, CreditIntervals, ModelComparison

__all__ = ["credit"]

_OF = ("conversions", "value", "share", "value_share")
_AXIS_LABEL = {
    "conversions": "credited conversions",
    "value": "credited value",
    "share": "share of conversions",
    "value_share": "share of value",
}


def _series(result: Any, who: str) -> list[tuple[str, Any, Any]]:
    """(model name, estimate, intervals or None) of each model in ``result``."""
    from omnijourney.attribution import Attribution, CreditIntervals, ModelComparison

    def one(r: Any) -> tuple[str, Any, Any]:
        if isinstance(r, CreditIntervals):
            return r.model, r.estimate, r
        if isinstance(r, Attribution):
            return r.model, r, None
        msg = (
            f"{who}: result must be an Attribution, CreditIntervals or ModelComparison (or a "
            f"list of the first two), got {type(r).__name__}"
        )
        raise ConfigError(msg)

    if isinstance(result, ModelComparison):
        out = [(name, *one(r)[1:]) for name, r in zip(result.models, result.results)]
    elif isinstance(result, (list, tuple)):
        out = [one(r) for r in result]
    else:
        out = [one(result)]
    if not out:
        msg = f"{who}: result holds no model; there is nothing to draw"
        raise ConfigError(msg)
    channels = out[0][1].channels
    for name, est, _ in out[1:]:
        if est.channels.tolist() != channels.tolist():
            msg = (
                f"{who}: the models do not credit the same channels ({name!r} has "
                f"{est.channels.tolist()}, {out[0][0]!r} has {channels.tolist()})"
            )
            raise ConfigError(msg)
    if channels.size == 0:
        msg = f"{who}: result credits no channel; there is nothing to draw"
        raise ConfigError(msg)
    return out


def _values(est: Any, ivl: Any, of: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    value = np.asarray(getattr(est, of), dtype=np.float64)
    if ivl is None or of == "value_share":
        return value, None, None
    low = np.asarray(getattr(ivl, f"{of}_low"), dtype=np.float64)
    high = np.asarray(getattr(ivl, f"{of}_high"), dtype=np.float64)
    return value, low, high


def credit(
    result: Attribution | CreditIntervals | ModelComparison | Sequence[Any],
    ax: Axes | None = None,
    *,
    of: Literal["conversions", "value", "share", "value_share"] = "conversions",
    orientation: Literal["vertical", "horizontal"] = "vertical",
    intervals: bool = True,
    colors: Mapping[str, Any] | None = None,
    width: float = 0.8,
    capsize: float = 3.0,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **bar_kwargs: Any,
) -> Axes:
    """Credit of each channel as bars; grouped bars for several models, with their intervals.

    Parameters
    ----------
    result : Attribution, CreditIntervals, ModelComparison or list of them
        One model (:func:`omnijourney.attribution.attribute` and the model functions), one
        model with bootstrap intervals (:func:`omnijourney.attribution.bootstrap`), several
        models (:func:`omnijourney.attribution.compare_models`, or a list of results over the
        same channels).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    of : {"conversions", "value", "share", "value_share"}
        What is credited: conversions, conversion value, or their shares.
    orientation : {"vertical", "horizontal"}
        Channels along the x axis (vertical bars) or the y axis.
    intervals : bool
        Draw error bars from the lower to the upper bound of the bootstrap intervals, where
        the result has them (not for ``"value_share"``).
    colors : mapping, optional
        Model name -> colour, for several models (other models take matplotlib's colour
        cycle); one model's bars take the colour of their channel.
    width : float
        Width of a channel's group of bars (1 is the distance between two channels).
    capsize : float
        Length of the error bars' caps, in points.
    palette : ChannelPalette or mapping, optional
        Colours of the channels, for one model's bars; by default the palette of every figure
        (:func:`get_palette`).
    raw_labels : bool
        Write the channels as the result holds them (``call_centre``) instead of in words.
    **bar_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar` (or ``barh``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on. ``ax.containers`` holds one bar container per model, in model
        order, each followed by its error-bar container when the model has intervals.

    Raises
    ------
    ConfigError
        An unknown result type, no channel, or models over different channels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> from omnijourney.attribution import PathTable, compare_models
    >>> pt = PathTable.from_strings(["a > b", "b", "a > c"], conversions=[4, 2, 1],
    ...                             nulls=[3, 5, 8])
    >>> ax = oj.plot.credit(compare_models(pt, ["first_touch", "last_touch"]))
    >>> ax.containers[1].datavalues.tolist()
    [0.0, 6.0, 1.0]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.credit"
    series = _series(result, who)
    check_choice(of, "of", _OF, who)
    check_choice(orientation, "orientation", ("vertical", "horizontal"), who)
    raw = [str(c) for c in series[0][1].channels.tolist()]
    channels = [label_of(raw_labels)(c) for c in raw]
    names = [name for name, _, _ in series]
    color: dict[str, Any] = series_colors(names, colors)
    if len(series) == 1 and not (colors and names[0] in colors):
        by_channel = as_palette(palette, who).colors(raw)
        color = {names[0]: [by_channel[c] for c in raw]}
    horizontal = orientation == "horizontal"
    n, m = len(channels), len(series)
    size = (6.4, 1.0 + 0.3 * n * max(m, 2)) if horizontal else (1.6 + 0.35 * n * max(m, 2), 4.2)
    ax = new_axes(ax, size, who)
    pos = np.arange(n, dtype=np.float64)
    bw = width / m
    for j, (name, est, ivl) in enumerate(series):
        at = pos + (j - (m - 1) / 2) * bw
        value, low, high = _values(est, ivl, of)
        style = {"color": color[name], "label": name, **bar_kwargs}
        if horizontal:
            ax.barh(at, value, height=bw, **style)
        else:
            ax.bar(at, value, width=bw, **style)
        if intervals and low is not None and high is not None:
            mid, half = (low + high) / 2, (high - low) / 2
            err = {"xerr" if horizontal else "yerr": np.abs(half)}
            x, y = (mid, at) if horizontal else (at, mid)
            ax.errorbar(x, y, fmt="none", ecolor="black", elinewidth=1.0, capsize=capsize, **err)
    if horizontal:
        ax.set_yticks(pos, channels)
        ax.invert_yaxis()
        ax.set_xlabel(_AXIS_LABEL[of])
        ax.axvline(0, color="0.3", linewidth=0.8)
    else:
        rotate = n > 5
        ax.set_xticks(
            pos, channels, rotation=30 if rotate else 0, ha="right" if rotate else "center"
        )
        ax.set_ylabel(_AXIS_LABEL[of])
        ax.axhline(0, color="0.3", linewidth=0.8)
    if m > 1:
        ax.legend(fontsize="small", frameon=False)
    else:
        ax.set_title(f"{names[0]} attribution", loc="left", fontsize="medium")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax

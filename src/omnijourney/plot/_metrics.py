"""Figures of measurement results: before/after and difference-in-differences comparisons
with their intervals, hold-out lifts side by side, and a synthetic control's path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.plot._common import new_axes, series_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.metrics import Comparison, SyntheticControl

__all__ = ["comparison", "lift", "synthetic_control"]


def _check(result: Any, cls_name: str, who: str) -> Any:
    from omnijourney import metrics

    cls = getattr(metrics, cls_name)
    if not isinstance(result, cls):
        msg = (
            f"{who}: result must be a {cls_name} (omnijourney.metrics), got {type(result).__name__}"
        )
        raise ConfigError(msg)
    return result


def _tidy(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _finish(ax: Axes, title: str) -> Axes:
    ax.set_title(title, loc="left", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    _tidy(ax)
    return ax


def comparison(
    result: Comparison,
    ax: Axes | None = None,
    *,
    colors: dict[str, Any] | None = None,
    capsize: float = 4.0,
    **line_kwargs: Any,
) -> Axes:
    """A comparison as people draw it, with the interval of its effect.

    - before/after: the KPI in both periods, the after point carrying the interval of
      ``before + effect``;
    - test/control: the KPI of both groups, the treated one carrying the interval of
      ``control + effect``;
    - difference in differences: both groups over the two periods, the treated group's
      counterfactual (before + the control group's change) dashed, and the interval of
      ``counterfactual + effect`` at the treated group's after point.

    Parameters
    ----------
    result : Comparison
        From :func:`omnijourney.metrics.compare` or :func:`omnijourney.metrics.lift`.
    ax : matplotlib.axes.Axes, optional
    colors : mapping, optional
        Group name -> colour.
    capsize : float
        Caps of the error bar, in points.
    **line_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines`` holds one line per group (and the dashed counterfactual of a difference
        in differences); ``ax.containers[-1]`` is the error bar of the effect.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> from omnijourney.metrics import compare
    >>> rows = {"customer": [1, 1, 2, 2, 3, 3, 4, 4], "period": ["before", "after"] * 4,
    ...         "numerator": [10.0, 14.0, 8.0, 12.0, 9.0, 10.0, 11.0, 12.0],
    ...         "group": ["test"] * 4 + ["control"] * 4}
    >>> res = compare(rows, "spend", n_resamples=100, resampling="multinomial")
    >>> ax = oj.plot.comparison(res)
    >>> [line.get_label() for line in ax.lines][:3]
    ['test', 'control', 'test without the change']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.comparison"
    res = _check(result, "Comparison", who)
    ax = new_axes(ax, (5.2, 3.8), who)
    cells = res.cells
    groups = list(dict.fromkeys(cells["group"].tolist()))
    color = series_colors(groups, colors)
    half = (res.high - res.low) / 2
    if res.design == "test_control":
        values = [float(cells["value"][cells["group"] == g][0]) for g in groups]
        x = np.arange(len(groups), dtype=np.float64)
        for xi, g, v in zip(x, groups, values):
            ax.plot([xi], [v], "o", color=color[g], label=g, markersize=8, **line_kwargs)
        center = values[1] + (res.low + res.high) / 2
        ax.errorbar([x[0]], [center], yerr=[half], fmt="none", ecolor="black", capsize=capsize)
        ax.set_xticks(x, groups)
        ax.set_xlim(-0.6, len(groups) - 0.4)
    else:
        periods = [res.before, res.after]
        x = np.array([0.0, 1.0])
        for g in groups:
            sel = cells["group"] == g
            vals = [float(cells["value"][sel & (cells["period"] == p)][0]) for p in periods]
            label = g if res.design == "difference_in_differences" else res.kpi
            ax.plot(x, vals, "o-", color=color[g], label=label, **line_kwargs)
        base = float(
            cells["value"][(cells["group"] == groups[0]) & (cells["period"] == res.before)][0]
        )
        if res.design == "difference_in_differences":
            ctrl = [
                float(cells["value"][(cells["group"] == groups[1]) & (cells["period"] == p)][0])
                for p in periods
            ]
            counter = base + (ctrl[1] - ctrl[0])
            ax.plot(
                x,
                [base, counter],
                "--",
                color=color[groups[0]],
                alpha=0.6,
                label=f"{groups[0]} without the change",
            )
        else:
            counter = base
        center = counter + (res.low + res.high) / 2
        ax.errorbar([1.0], [center], yerr=[half], fmt="none", ecolor="black", capsize=capsize)
        ax.set_xticks(x, [str(p) for p in periods])
        ax.set_xlim(-0.3, 1.3)
    ax.set_ylabel(res.kpi)
    pct = f"{100 * res.confidence_level:g}%"
    return _finish(
        ax,
        f"{res.kpi}: effect {res.estimate:+.3g} ({pct} interval {res.low:+.3g} to {res.high:+.3g})",
    )


def lift(
    results: Comparison | Sequence[Comparison],
    ax: Axes | None = None,
    *,
    labels: Sequence[str] | None = None,
    relative: bool = True,
    capsize: float = 3.0,
    color: Any = "C0",
) -> Axes:
    """Lifts against a hold-out (or any comparisons), one row each, with their intervals.

    Parameters
    ----------
    results : Comparison or sequence of Comparison
        For example one :func:`omnijourney.metrics.lift` per KPI or per campaign.
    labels : sequence of str, optional
        Row labels (default: each result's KPI).
    relative : bool
        The relative effect in % (default), or the effect in the KPI's unit.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` is the error-bar container, one point per result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> from omnijourney.metrics import compare
    >>> rows = {"customer": [1, 2, 3, 4], "period": ["after"] * 4,
    ...         "numerator": [12.0, 14.0, 10.0, 9.0], "group": ["target", "target", "holdout", "holdout"]}
    >>> res = compare(rows, "spend", n_resamples=100, resampling="multinomial")
    >>> ax = oj.plot.lift(res)
    >>> round(float(ax.containers[0].lines[0].get_xdata()[0]), 1)
    36.8
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.lift"
    given: list[Any] = list(results) if isinstance(results, (list, tuple)) else [results]
    if not given:
        msg = f"{who}: no result to draw"
        raise ConfigError(msg)
    items: list[Any] = [_check(r, "Comparison", who) for r in given]
    names = list(labels) if labels is not None else [r.kpi for r in items]
    if len(names) != len(items):
        msg = f"{who}: {len(names)} labels for {len(items)} results"
        raise ConfigError(msg)
    scale = 100.0 if relative else 1.0
    est = np.array([(r.relative if relative else r.estimate) for r in items]) * scale
    low = np.array([(r.relative_low if relative else r.low) for r in items]) * scale
    high = np.array([(r.relative_high if relative else r.high) for r in items]) * scale
    ax = new_axes(ax, (6.0, 1.2 + 0.5 * len(items)), who)
    y = np.arange(len(items), dtype=np.float64)
    ax.errorbar(
        est, y, xerr=[est - low, high - est], fmt="o", color=color, ecolor=color, capsize=capsize
    )
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("lift (%)" if relative else "effect")
    _tidy(ax)
    return ax


def synthetic_control(
    result: SyntheticControl, ax: Axes | None = None, *, colors: Sequence[Any] = ("C0", "0.4")
) -> Axes:
    """The treated units' outcome and its synthetic control over the periods, the start of
    the change marked.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the treated outcome, ``ax.lines[1]`` the synthetic one.
    """
    who = "plot.synthetic_control"
    res = _check(result, "SyntheticControl", who)
    ax = new_axes(ax, (7.0, 3.8), who)
    x = np.arange(len(res.periods), dtype=np.float64)
    ax.plot(x, res.treated_outcome, "-", color=colors[0], label=" + ".join(res.treated))
    ax.plot(x, res.synthetic_outcome, "--", color=colors[1], label="synthetic")
    start = res.periods.index(res.start)
    ax.axvline(start - 0.5, color="0.5", linewidth=0.8, linestyle=":")
    step = max(1, len(x) // 10)
    ax.set_xticks(x[::step], list(res.periods)[::step])
    return _finish(ax, f"effect {res.estimate:+.3g} a period (p = {res.p_value:.3f})")

"""Figures of journeys as a process: the step matrix and the directly-follows graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError
from omnijourney.plot import _common as common
from omnijourney.plot._style import ChannelPalette, as_palette, label_of
from omnijourney.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.journeys import DirectlyFollows

__all__ = ["directly_follows", "step_matrix"]


# --------------------------------------------------------------------------- step matrix


def step_matrix(
    result: Table,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    cmap: Any = "Blues",
    colorbar: bool = True,
    raw_labels: bool = False,
    **imshow_kwargs: Any,
) -> Axes:
    """A heat map of the share of journeys at each step that have each label.

    Rows are the labels (channels or events) and, last, ``ended`` (journeys shorter than the
    step); columns are the steps 1, 2, ...; each column sums to 100%. This is the step
    matrix of retentioneering, over journeys.

    Parameters
    ----------
    result : Table
        The table returned by :func:`omnijourney.journeys.step_matrix`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    annotate : bool, optional
        Write each non-zero share in its cell; by default when there are at most 25 rows.
    cmap : matplotlib colormap or its name
    colorbar : bool
        Add a colour bar next to the axes.
    raw_labels : bool
        Write the labels as the table holds them (``call_centre``) instead of in words.
    **imshow_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.images[0].get_array()`` is the matrix of shares (labels by
        steps) and the y tick labels are the labels, in the table's order.

    Raises
    ------
    ConfigError
        Not a step-matrix table, or an empty one.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import omnijourney as oj
    >>> from omnijourney import plot
    >>> jt = oj.sessionize(oj.TouchpointTable.from_columns({"customer": ["a", "a", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:20", "2024-05-01T09:00"],
    ...     "channel": ["web", "store", "web"], "event": ["view", "purchase", "view"]}))
    >>> ax = plot.step_matrix(oj.journeys.step_matrix(jt, max_steps=2))
    >>> ax.images[0].get_array().tolist()
    [[0.0, 0.5], [1.0, 0.0], [0.0, 0.5]]
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['store', 'web', 'ended']
    >>> plt.close(ax.figure)
    """
    who = "plot.step_matrix"
    table = common.check_table(
        result, "result", ("label", "step_1"), who, "oj.journeys.step_matrix"
    )
    steps = [c for c in table.columns if c.startswith("step_")]
    values = np.column_stack([np.asarray(table[c], dtype=np.float64) for c in steps])
    words = label_of(raw_labels)
    labels = [words(x) for x in table["label"].tolist()]
    n_rows, n_cols = values.shape
    ax = common.new_axes(ax, (2.4 + 0.6 * n_cols, 1.2 + 0.38 * n_rows), who)
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=0.0, vmax=1.0, **imshow_kwargs)
    ax.set_xticks(np.arange(n_cols), [c.removeprefix("step_") for c in steps])
    ax.set_yticks(np.arange(n_rows), labels)
    ax.set_xlabel("step")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.axhline(n_rows - 1.5, color="white", linewidth=2.0)  # "ended" apart from the labels
    if annotate is None:
        annotate = n_rows <= 25
    if annotate:
        common.annotate_cells(ax, values, common.percent_text)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("share of journeys at the step")
    return ax


# --------------------------------------------------------------------------- directly-follows


def _depth(counts: np.ndarray) -> np.ndarray:
    """Mean number of steps from the start to each node, weighting each way in by its
    transitions (self-loops left out): the fixed point of ``d(v) = mean over u -> v of
    d(u) + 1``, found by iteration (damped, so that cycles settle)."""
    m = counts.shape[0]
    flows = counts.astype(np.float64).copy()
    np.fill_diagonal(flows, 0.0)
    into = flows.sum(axis=0)
    depth = np.zeros(m)
    for _ in range(200):
        new = np.where(
            into > 0,
            (flows * (depth[:, None] + 1.0)).sum(axis=0) / np.where(into > 0, into, 1.0),
            0.0,
        )
        new[0] = 0.0
        if np.allclose(new, depth, atol=1e-9):
            break
        depth = 0.5 * depth + 0.5 * new
    return depth


def _positions(depth: np.ndarray) -> np.ndarray:
    """Nodes on an ellipse: the start on the left, the end on the right, the steps in order
    of depth along the upper and lower arcs in turn. Nodes in convex position: no edge
    passes through another node."""
    m = depth.size
    inner = np.argsort(depth[1:-1], kind="stable") + 1
    xy = np.zeros((m, 2))
    xy[0] = (-1.6, 0.0)
    xy[-1] = (1.6, 0.0)
    upper = inner[0::2]
    lower = inner[1::2]
    for arc, sign in ((upper, 1.0), (lower, -1.0)):
        k = arc.size
        for j, node in enumerate(arc.tolist()):
            angle = np.pi * (1.0 - (j + 1) / (k + 1))
            xy[node] = (1.6 * np.cos(angle), sign * np.sin(angle))
    return xy


def _duration_text(seconds: float) -> str:
    """A duration as people write it: ``45 s``, ``12 min``, ``2 h 5 min``, ``3.5 d``."""
    if not np.isfinite(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86_400:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds / 86_400:.1f} d"


def directly_follows(
    graph: DirectlyFollows,
    ax: Axes | None = None,
    *,
    show: Literal["frequency", "performance"] = "frequency",
    statistic: Literal["median", "mean", "p90"] = "median",
    min_share: float = 0.0,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **arrow_kwargs: Any,
) -> Axes:
    """The directly-follows graph of the journeys: steps as nodes, transitions as arrows.

    The graph pm4py draws for an event log, over journeys: each node is a label (channel,
    event...) with the number of steps that carry it, plus the start and the end of the
    journeys; each arrow goes from a step to the next one of the same journey, as thick as
    its share of the transitions, and is labelled with its count (``show="frequency"``) or
    with the time between the two steps (``show="performance"``). The start is on the left,
    the end on the right, and the labels between them in the order journeys usually meet
    them; repeats of a label (self-loops) are written next to its node as ``↻ n``.

    Parameters
    ----------
    graph : DirectlyFollows
        The graph returned by :func:`omnijourney.journeys.directly_follows`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    show : {"frequency", "performance"}
        Label the arrows with their count, or with the time between their two steps (the
        start and end arrows keep their counts).
    statistic : {"median", "mean", "p90"}
        Which time, with ``show="performance"``.
    min_share : float
        Leave out the arrows carrying less than this share of the largest one (0 draws every
        arrow).
    palette : ChannelPalette or mapping, optional
        Colours of the nodes (and of the arrows leaving them); by default the palette of
        every figure (:func:`get_palette`).
    raw_labels : bool
        Write the labels as the graph holds them instead of in words.
    **arrow_kwargs
        Passed to each arrow's :class:`~matplotlib.patches.FancyArrowPatch`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on. Nodes are texts with the gid ``"node:<label>"``, arrows patches
        with the gid ``"edge:<from>-><to>"`` and their labels texts with the gid
        ``"edge-label:<from>-><to>"``, self-loops texts with the gid ``"loop:<label>"``
        (labels as the graph holds them).

    Raises
    ------
    ConfigError
        Not a directly-follows graph, an empty one, or a bad option.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import omnijourney as oj
    >>> from omnijourney import plot
    >>> jt = oj.sessionize(oj.TouchpointTable.from_columns({"customer": list("aaabb"),
    ...     "channel": ["web", "web", "store", "web", "store"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:02", "2024-05-01T10:10",
    ...              "2024-05-01T09:00", "2024-05-01T09:30"],
    ...     "event": ["view", "add_to_cart", "purchase", "view", "purchase"]}))
    >>> ax = plot.directly_follows(oj.journeys.directly_follows(jt))
    >>> sorted((t.get_gid(), t.get_text()) for t in ax.texts if "edge" in str(t.get_gid()))
    [('edge-label:store->■', '2'), ('edge-label:web->store', '2'), ('edge-label:▶->web', '2')]
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "loop:web"]
    ['↻ 1']
    >>> plt.close(ax.figure)
    """
    from omnijourney.journeys import DirectlyFollows as GraphType

    who = "plot.directly_follows"
    if not isinstance(graph, GraphType):
        msg = (
            f"{who}: graph must be the DirectlyFollows returned by "
            f"oj.journeys.directly_follows, got {type(graph).__name__}"
        )
        raise ConfigError(msg)
    common.check_choice(show, "show", ("frequency", "performance"), who)
    common.check_choice(statistic, "statistic", ("median", "mean", "p90"), who)
    if isinstance(min_share, bool) or not isinstance(min_share, (int, float)):
        msg = f"{who}: min_share must be a number in [0, 1], got {min_share!r}"
        raise ConfigError(msg)
    if not 0.0 <= float(min_share) <= 1.0:
        msg = f"{who}: min_share must be a number in [0, 1], got {min_share!r}"
        raise ConfigError(msg)
    counts = np.asarray(graph.counts, dtype=np.int64)
    if counts.sum() == 0:
        msg = f"{who}: graph holds no journey; there is nothing to draw"
        raise ConfigError(msg)
    patches = import_optional("matplotlib.patches", "plot")
    nodes = [str(n) for n in graph.nodes.tolist()]
    words = label_of(raw_labels)
    chosen = as_palette(palette, who)
    times = {"median": graph.median_seconds, "mean": graph.mean_seconds, "p90": graph.p90_seconds}
    seconds = np.asarray(times[statistic], dtype=np.float64)
    m = len(nodes)
    xy = _positions(_depth(counts))
    color = ["0.35" if i in (0, m - 1) else chosen.color(nodes[i]) for i in range(m)]
    ax = common.new_axes(ax, (10.0, 6.0), who)
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-1.35, 1.35)
    ax.set_axis_off()
    sizes = [int(counts[0].sum())]
    sizes += [int(counts[i].sum()) for i in range(1, m - 1)]
    sizes += [int(counts[:, -1].sum())]
    names = ["start", *[words(n) for n in nodes[1:-1]], "end"]
    for i in range(m):
        ax.text(
            xy[i, 0],
            xy[i, 1],
            f"{names[i]}\n{sizes[i]:,}",
            ha="center",
            va="center",
            fontsize="small",
            color="white",
            zorder=4,
            gid=f"node:{nodes[i]}",
            bbox={"boxstyle": "round,pad=0.4", "facecolor": color[i], "edgecolor": "none"},
        )
    inner = counts.copy()
    np.fill_diagonal(inner, 0)
    top = max(int(inner.max()), 1)
    for i, j in zip(*np.nonzero(inner)):
        c = int(inner[i, j])
        if c < min_share * top:
            continue
        style = {
            "arrowstyle": "-|>",
            "mutation_scale": 12,
            "connectionstyle": "arc3,rad=0.18",
            "shrinkA": 24,
            "shrinkB": 24,
            "linewidth": 0.6 + 3.4 * c / top,
            "color": color[i],
            "alpha": 0.75,
            "zorder": 2,
            **arrow_kwargs,
        }
        ax.add_patch(
            patches.FancyArrowPatch(xy[i], xy[j], gid=f"edge:{nodes[i]}->{nodes[j]}", **style)
        )
        inside = 0 < i < m - 1 and 0 < j < m - 1
        text = (
            _duration_text(float(seconds[i, j])) if show == "performance" and inside else f"{c:,}"
        )
        (x0, y0), (x1, y1) = xy[i], xy[j]
        # the middle of the arc: half the way to arc3's control point
        mx, my = (x0 + x1) / 2 + 0.09 * (y1 - y0), (y0 + y1) / 2 - 0.09 * (x1 - x0)
        ax.text(
            mx,
            my,
            text,
            ha="center",
            va="center",
            fontsize="x-small",
            zorder=3,
            gid=f"edge-label:{nodes[i]}->{nodes[j]}",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    for i in range(1, m - 1):
        loops = int(counts[i, i])
        if loops:
            ax.text(
                xy[i, 0],
                xy[i, 1] + (0.2 if xy[i, 1] >= 0 else -0.2),
                f"↻ {loops:,}",
                ha="center",
                va="bottom" if xy[i, 1] >= 0 else "top",
                fontsize="x-small",
                color=color[i],
                gid=f"loop:{nodes[i]}",
            )
    return ax

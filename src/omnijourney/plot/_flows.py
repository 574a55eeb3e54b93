"""Figures of how journeys flow: funnels, multi-step Sankey diagrams, transition heatmaps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError
from omnijourney.plot._common import (
    annotate_cells,
    check_choice,
    check_table,
    new_axes,
    percent_text,
)
from omnijourney.plot._style import ChannelPalette, as_palette, label_of
from omnijourney.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.attribution import TransitionMatrix as MarkovTransitions
    from omnijourney.journeys import ChannelTransitions as TransitionMatrix
    from omnijourney.journeys import Sankey

__all__ = ["funnel", "sankey", "transitions"]

_MAX_HEATMAP = 200


# --------------------------------------------------------------------------- funnel


def _percent(share: float) -> str:
    return "–" if not np.isfinite(share) else f"{100 * share:.1f}%"


def funnel(
    result: Table,
    ax: Axes | None = None,
    *,
    orientation: Literal["horizontal", "vertical"] = "horizontal",
    color: Any = None,
    counts: bool = True,
    conversion: bool = True,
    raw_labels: bool = False,
    **bar_kwargs: Any,
) -> Axes:
    """Bars of the journeys (or customers) reaching each step of a funnel.

    Parameters
    ----------
    result : Table
        The table returned by :func:`omnijourney.journeys.funnel`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    orientation : {"horizontal", "vertical"}
        Horizontal bars read top-down from the first step; vertical bars left to right.
    color : matplotlib colour, optional
        Colour of the bars (matplotlib's first cycle colour by default).
    counts : bool
        Write each step's count at the end of its bar.
    conversion : bool
        Write the share of the previous step's journeys that reached the step, between
        consecutive bars.
    raw_labels : bool
        Write the steps as the table holds them (``order | purchase``) instead of in words
        (``order or purchase``).
    **bar_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh` (or ``bar``): ``alpha``, ``edgecolor``...

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.containers[0]`` holds one bar per step, in step order.

    Raises
    ------
    ConfigError
        ``result`` is not a funnel table, or has no step.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b", "c"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:05", "2024-05-01T09:00",
    ...              "2024-05-01T09:30", "2024-05-01T12:00"],
    ...     "channel": ["web", "web", "app", "app", "web"],
    ...     "event": ["product_view", "purchase", "product_view", "add_to_cart",
    ...               "product_view"]})
    >>> f = oj.journeys.funnel(oj.sessionize(tp), ["product_view", "purchase"])
    >>> ax = oj.plot.funnel(f)
    >>> ax.containers[0].datavalues.tolist()
    [3.0, 1.0]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.funnel"
    table = check_table(
        result,
        "result",
        ("step", "label", "count", "share_of_previous"),
        who,
        "oj.journeys.funnel",
    )
    check_choice(orientation, "orientation", ("horizontal", "vertical"), who)
    n = np.asarray(table["count"], dtype=np.float64)
    share = np.asarray(table["share_of_previous"], dtype=np.float64)
    words = label_of(raw_labels)
    labels = [words(x) for x in table["label"].tolist()]
    horizontal = orientation == "horizontal"
    size = (6.4, 0.6 + 0.55 * len(labels)) if horizontal else (1.2 + 1.1 * len(labels), 4.0)
    ax = new_axes(ax, size, who)
    pos = np.arange(n.size, dtype=np.float64)
    style = {"color": color, **bar_kwargs}
    if horizontal:
        bars = ax.barh(pos, n, height=0.6, **style)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlabel("count")
        ax.set_xlim(0, max(float(n.max()), 1.0) * 1.12)
    else:
        bars = ax.bar(pos, n, width=0.6, **style)
        ax.set_xticks(pos, labels)
        ax.set_ylabel("count")
        ax.set_ylim(0, max(float(n.max()), 1.0) * 1.12)
    if counts:
        ax.bar_label(bars, labels=[f"{int(c):,}" for c in n], padding=3)
    if conversion:
        top = max(float(n.max()), 1.0)
        for i in range(1, n.size):
            text = f"{_percent(share[i])} of previous"
            box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"}
            if horizontal:
                ax.text(
                    top * 0.01,
                    i - 0.5,
                    "↓ " + text,
                    va="center",
                    ha="left",
                    fontsize="small",
                    bbox=box,
                )
            else:
                y = (n[i - 1] + n[i]) / 2 if n[i - 1] + n[i] > 0 else top / 2
                ax.text(
                    i - 0.5,
                    y,
                    text + " →",
                    va="center",
                    ha="center",
                    fontsize="small",
                    rotation=90,
                    bbox=box,
                )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


# --------------------------------------------------------------------------- sankey


def _layout(
    steps: np.ndarray, heights: np.ndarray, rank: np.ndarray, gap: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Bottom and top of each node: nodes stacked top-down per step in ``rank`` order, with
    ``gap`` between them, each column centred in [0, 1]."""
    columns = np.unique(steps)
    most = max(int(np.bincount(np.searchsorted(columns, steps)).max()), 1)
    gap = min(gap, 0.4 / max(most - 1, 1))
    scale = min(
        (1.0 - gap * (int((steps == c).sum()) - 1)) / max(float(heights[steps == c].sum()), 1e-12)
        for c in columns
    )
    bottom = np.zeros(heights.size)
    top = np.zeros(heights.size)
    for c in columns:
        ids = np.flatnonzero(steps == c)
        ids = ids[np.argsort(rank[ids], kind="stable")]
        used = float(heights[ids].sum()) * scale + gap * (ids.size - 1)
        y = 1.0 - (1.0 - used) / 2
        for i in ids.tolist():
            top[i] = y
            bottom[i] = y - heights[i] * scale
            y = bottom[i] - gap
    return bottom, top, scale


def _band(xs: float, xt: float, s_top: float, s_bot: float, t_top: float, t_bot: float) -> Any:
    """A flow from a source edge to a target edge: two cubic Bézier curves joined by lines."""
    mpath = import_optional("matplotlib.path", "plot")
    xm = (xs + xt) / 2
    verts = [
        (xs, s_top),
        (xm, s_top),
        (xm, t_top),
        (xt, t_top),
        (xt, t_bot),
        (xm, t_bot),
        (xm, s_bot),
        (xs, s_bot),
        (xs, s_top),
    ]
    P = mpath.Path
    codes = [
        P.MOVETO,
        P.CURVE4,
        P.CURVE4,
        P.CURVE4,
        P.LINETO,
        P.CURVE4,
        P.CURVE4,
        P.CURVE4,
        P.CLOSEPOLY,
    ]
    return P(verts, codes)


def sankey(
    result: Sankey,
    ax: Axes | None = None,
    *,
    order: Literal["count", "label"] = "count",
    node_width: float = 0.12,
    gap: float = 0.02,
    colors: Mapping[str, Any] | None = None,
    color_by: Literal["source", "target"] = "source",
    alpha: float = 0.4,
    labels: bool = True,
    min_label_height: float = 0.02,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **band_kwargs: Any,
) -> Axes:
    """An alluvial diagram of a :func:`~omnijourney.journeys.sankey` result.

    Each step is a column of stacked rectangles, one per node, whose height is proportional
    to the journeys through it; each link is a band, drawn as two cubic Bézier curves, whose
    width at both ends is proportional to its journeys. The last column holds the outcomes.

    Parameters
    ----------
    result : Sankey
        The nodes and links returned by :func:`omnijourney.journeys.sankey`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    order : {"count", "label"}
        Order of the nodes of a step, top-down: most journeys first, or by label (so that
        a label keeps its place from step to step). The outcomes come last either way.
    node_width : float
        Width of the node rectangles, in steps (1 is the distance between two steps).
    gap : float
        Vertical space between the nodes of a step, as a share of the figure height (reduced
        when a step has many nodes).
    colors : mapping, optional
        Label -> colour (``{"web": "tab:blue"}``), over the palette.
    color_by : {"source", "target"}
        Whether a band takes the colour of the node it leaves or of the node it reaches.
    alpha : float
        Opacity of the bands.
    labels : bool
        Write ``label (count)`` next to the nodes tall enough to hold it, and the step above
        each column.
    min_label_height : float
        Nodes shorter than this (share of the figure height) are not labelled.
    palette : ChannelPalette or mapping, optional
        Colours of the channels and of the outcomes (its ``converted`` and ``not_converted``);
        by default the palette of every figure (:func:`get_palette`).
    raw_labels : bool
        Write the labels as the data holds them (``call_centre``) instead of in words
        (``call centre``).
    **band_kwargs
        Passed to the bands' :class:`~matplotlib.patches.PathPatch` (``edgecolor``,
        ``linewidth``...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on. Node rectangles have the gid ``"node:<id>"`` and bands the gid
        ``"link:<row>"`` (row of ``result.links``).

    Raises
    ------
    ConfigError
        ``result`` is not a Sankey, or holds no journey.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:20", "2024-05-01T09:00",
    ...              "2024-05-01T09:10"],
    ...     "channel": ["web", "store", "web", "web"],
    ...     "event": ["product_view", "purchase", "product_view", "add_to_cart"]})
    >>> ax = oj.plot.sankey(oj.journeys.sankey(oj.sessionize(tp)))
    >>> sorted(p.get_gid() for p in ax.patches)[:3]
    ['link:0', 'link:1', 'link:2']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    from omnijourney.journeys import Sankey as SankeyType
    from omnijourney.journeys._flows import OUTCOMES

    who = "plot.sankey"
    if not isinstance(result, SankeyType):
        msg = (
            f"{who}: result must be the Sankey returned by oj.journeys.sankey, "
            f"got {type(result).__name__}"
        )
        raise ConfigError(msg)
    check_choice(order, "order", ("count", "label"), who)
    check_choice(color_by, "color_by", ("source", "target"), who)
    nodes, links = result.nodes, result.links
    count = np.asarray(nodes["count"], dtype=np.float64)
    if len(links) == 0 or count.sum() == 0:
        msg = f"{who}: result holds no journey; there is nothing to draw"
        raise ConfigError(msg)
    patches = import_optional("matplotlib.patches", "plot")
    ids = np.asarray(nodes["id"], dtype=np.int64)
    steps = np.asarray(nodes["step"], dtype=np.int64)
    node_label = [str(x) for x in nodes["label"].tolist()]
    index = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    index[ids] = np.arange(ids.size)
    outcome = np.array([lab in OUTCOMES for lab in node_label]) & (steps == steps.max())
    keep = count > 0
    alpha_rank = np.unique(np.asarray(node_label), return_inverse=True)[1].reshape(-1)
    if order == "count":
        rank = np.lexsort((alpha_rank, -count, outcome))
    else:
        rank = np.lexsort((-count, alpha_rank, outcome))
    rank_of = np.empty(ids.size, dtype=np.int64)
    rank_of[rank] = np.arange(ids.size)
    bottom, top, scale = _layout(steps[keep], count[keep], rank_of[keep], gap)
    y0 = np.zeros(ids.size)
    y1 = np.zeros(ids.size)
    y0[keep], y1[keep] = bottom, top
    words = label_of(raw_labels)
    chosen = as_palette(palette, who, colors)
    plain = sorted({lab for lab, o in zip(node_label, outcome.tolist()) if not o})
    color = chosen.colors(plain)
    color[OUTCOMES[0]] = chosen.channels.get(OUTCOMES[0], chosen.converted)
    color[OUTCOMES[1]] = chosen.channels.get(OUTCOMES[1], chosen.not_converted)
    n_cols = int(steps.max() - steps.min()) + 1
    ax = new_axes(ax, (2.2 + 2.0 * n_cols, 5.0), who)
    x = (steps - steps.min()).astype(np.float64)
    half = node_width / 2
    # bands: stacked at the source in the order of their targets, and conversely
    src = index[np.asarray(links["source"], dtype=np.int64)]
    dst = index[np.asarray(links["target"], dtype=np.int64)]
    width = np.asarray(links["count"], dtype=np.float64) * scale
    out_cursor = y1.copy()
    in_cursor = y1.copy()
    s_top = np.zeros(src.size)
    t_top = np.zeros(src.size)
    for k in np.lexsort((-y1[dst], -y1[src])).tolist():
        s_top[k] = out_cursor[src[k]]
        out_cursor[src[k]] -= width[k]
    for k in np.lexsort((-y1[src], -y1[dst])).tolist():
        t_top[k] = in_cursor[dst[k]]
        in_cursor[dst[k]] -= width[k]
    style = {"linewidth": 0, "alpha": alpha, **band_kwargs}
    for k in range(src.size):
        if width[k] <= 0:
            continue
        path = _band(
            x[src[k]] + half,
            x[dst[k]] - half,
            s_top[k],
            s_top[k] - width[k],
            t_top[k],
            t_top[k] - width[k],
        )
        end = src[k] if color_by == "source" else dst[k]
        ax.add_patch(
            patches.PathPatch(
                path, facecolor=color[node_label[end]], gid=f"link:{k}", zorder=1, **style
            )
        )
    last = float(x.max())
    for i in np.flatnonzero(keep).tolist():
        rect = patches.Rectangle(
            (x[i] - half, y0[i]),
            node_width,
            y1[i] - y0[i],
            facecolor=color[node_label[i]],
            edgecolor="white",
            linewidth=0.5,
            gid=f"node:{int(ids[i])}",
            zorder=2,
        )
        ax.add_patch(rect)
        if labels and y1[i] - y0[i] >= min_label_height:
            right = x[i] < last
            ax.text(
                x[i] + (half + 0.03 if right else -half - 0.03),
                (y0[i] + y1[i]) / 2,
                f"{words(node_label[i])} ({int(count[i]):,})",
                va="center",
                ha="left" if right else "right",
                fontsize="small",
                zorder=3,
            )
    if labels:
        for c in np.unique(x).tolist():
            name = "outcome" if c == last and outcome.any() else f"step {int(c) + 1}"
            ax.text(c, 1.02, name, ha="center", va="bottom", fontsize="small")
    ax.set_xlim(-0.5, last + 0.5)
    ax.set_ylim(0.0, 1.08)
    ax.set_axis_off()
    return ax


# --------------------------------------------------------------------------- transitions


def _matrix_of(matrix: Any, who: str) -> tuple[list[str], np.ndarray | None, np.ndarray]:
    """Labels, counts (None when only shares are known) and row shares of a matrix."""
    from omnijourney.attribution import TransitionMatrix as MarkovType
    from omnijourney.journeys import ChannelTransitions as JourneyType

    if isinstance(matrix, JourneyType):
        labels = [str(x) for x in matrix.labels.tolist()]
        values = np.asarray(matrix.matrix, dtype=np.float64)
        if matrix.normalized:
            return labels, None, values
        counts = values
    elif isinstance(matrix, MarkovType):
        n = matrix.n_states
        if n > _MAX_HEATMAP:
            msg = f"{who}: {n:,} states are too many for a heatmap (at most {_MAX_HEATMAP})"
            raise ConfigError(msg)
        labels = [str(x) for x in matrix.states.tolist()]
        counts = np.zeros((n, n))
        np.add.at(counts, (matrix.source, matrix.target), matrix.counts)
    else:
        msg = (
            f"{who}: matrix must be a TransitionMatrix (oj.journeys.channel_transitions, or the "
            f"transitions of a Markov attribution), got {type(matrix).__name__}"
        )
        raise ConfigError(msg)
    rows = counts.sum(axis=1, keepdims=True)
    return labels, counts, counts / np.where(rows > 0, rows, 1.0)


def transitions(
    matrix: TransitionMatrix | MarkovTransitions,
    ax: Axes | None = None,
    *,
    show: Literal["auto", "counts", "shares"] = "auto",
    annotate: bool | None = None,
    cmap: Any = "Blues",
    colorbar: bool = True,
    raw_labels: bool = False,
    **imshow_kwargs: Any,
) -> Axes:
    """A heatmap of transitions between channels: rows are "from", columns are "to".

    Parameters
    ----------
    matrix : TransitionMatrix
        From :func:`omnijourney.journeys.channel_transitions` (counts or, with
        ``normalize=True``, row shares), or the fitted chain of a Markov attribution
        (``oj.attribution.markov(paths).transitions``), whose states include ``(start)``,
        ``(conversion)`` and ``(null)``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    show : {"auto", "counts", "shares"}
        Draw transition counts, or each row's shares (a row sums to 1). ``"auto"`` shows
        what the matrix holds: shares for a normalized matrix, else counts.
    annotate : bool, optional
        Write the value in each non-zero cell; by default when there are at most 20 labels.
    cmap : matplotlib colormap or its name
    colorbar : bool
        Add a colour bar next to the axes.
    raw_labels : bool
        Write the labels as the matrix holds them (``call_centre``, ``(null)``) instead of
        in words.
    **imshow_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.imshow` (``vmin``, ``vmax``, ``norm``...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.images[0].get_array()`` is the matrix drawn.

    Raises
    ------
    ConfigError
        Not a transition matrix, an empty one, or ``show="counts"`` for a matrix that holds
        only shares.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:10", "2024-05-01T10:20",
    ...              "2024-05-01T09:00", "2024-05-01T09:05"],
    ...     "channel": ["web", "web", "store", "web", "store"],
    ...     "event": ["product_view", "add_to_cart", "purchase", "product_view", "purchase"]})
    >>> m = oj.journeys.channel_transitions(oj.sessionize(tp))
    >>> ax = oj.plot.transitions(m)
    >>> ax.images[0].get_array().tolist()
    [[0.0, 0.0], [2.0, 1.0]]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.transitions"
    labels, counts, shares = _matrix_of(matrix, who)
    check_choice(show, "show", ("auto", "counts", "shares"), who)
    labels = [label_of(raw_labels)(x) for x in labels]
    if not labels:
        msg = f"{who}: matrix is empty (no label); there is nothing to draw"
        raise ConfigError(msg)
    if show == "counts" and counts is None:
        msg = f"{who}: show='counts' needs counts, but matrix holds row shares (normalized)"
        raise ConfigError(msg)
    use_counts = counts is not None and show in ("auto", "counts")
    values = counts if use_counts and counts is not None else shares
    n = len(labels)
    ax = new_axes(ax, (2.0 + 0.55 * n, 1.4 + 0.5 * n), who)
    image = ax.imshow(values, cmap=cmap, aspect="equal", **imshow_kwargs)
    pos = np.arange(n)
    ax.set_xticks(pos, labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(pos, labels)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    if annotate is None:
        annotate = n <= 20
    if annotate:
        annotate_cells(ax, values, (lambda v: f"{v:,.0f}") if use_counts else percent_text)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("transitions" if use_counts else "share of the row")
    return ax

"""Figures of customers: one customer's timeline, and the channel appetence of segments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.plot._common import (
    check_choice,
    check_table,
    date_axis,
    date_numbers,
    matches,
    new_axes,
    scalar_label,
    span,
)
from omnijourney.plot._style import ChannelPalette, as_palette, label_of
from omnijourney.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.journeys import BreakTable, JourneyTable

__all__ = ["appetence", "timeline"]

_TIMELINE_COLUMNS = ("customer", "journey_id", "time", "channel", "event")
_SHARES = ("digital_share", "physical_share", "assisted_share")


# --------------------------------------------------------------------------- timeline


def _customer_rows(
    data: Any, customer: Any, breaks: BreakTable | None, who: str
) -> tuple[Table, frozenset[str]]:
    """The timeline rows of one customer, and the events that count as conversions."""
    from omnijourney.journeys import JourneyRules, JourneyTable
    from omnijourney.journeys import timeline as timeline_table

    customer = scalar_label(customer, "customer", who)
    if isinstance(data, JourneyTable):
        known = data.touchpoints.labels("customer")
        if not matches(known, customer).any():
            msg = f"{who}: unknown customer {customer!r}; the journeys hold {len(known):,}"
            raise ConfigError(msg)
        return timeline_table(data, customer, breaks=breaks), data.rules.conversion_events
    table = check_table(
        data, "journeys", _TIMELINE_COLUMNS, who, "oj.journeys.timeline (or a JourneyTable)"
    )
    rows = matches(table["customer"], customer)
    if not rows.any():
        msg = f"{who}: unknown customer {customer!r}; the timeline table does not hold them"
        raise ConfigError(msg)
    return table.filter(rows), JourneyRules().conversion_events


def timeline(
    journeys: JourneyTable | Table,
    customer: Any,
    ax: Axes | None = None,
    *,
    breaks: BreakTable | None = None,
    conversion_events: Iterable[str] | None = None,
    colors: Mapping[str, Any] | None = None,
    spans: bool = True,
    paths: bool = True,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **scatter_kwargs: Any,
) -> Axes:
    """One customer's touchpoints over time: a row per channel, journeys shaded, sales marked.

    The channels are listed top-down in the order the customer first used them, in their
    palette colour; each journey is shaded and named (``J1``, with ``✓`` when it converted),
    its touchpoints joined in time order by a thin line, so that a move from one channel to
    another reads as a step between rows; conversions are stars; the breaks found by
    :func:`~omnijourney.journeys.detect_breaks` are written in words next to the touchpoint
    that continues them.

    Parameters
    ----------
    journeys : JourneyTable or Table
        Sessionized journeys, or a table returned by :func:`omnijourney.journeys.timeline`
        (which may hold several customers).
    customer : str or int
        The customer to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    breaks : BreakTable, optional
        With a JourneyTable: the breaks of :func:`omnijourney.journeys.detect_breaks`, whose
        kind is written next to the touchpoint that continues each break (a timeline table
        already carries them in its ``break`` column).
    conversion_events : iterable of str, optional
        Events marked as conversions; by default those of the journeys' rules (the default
        rules' for a timeline table).
    colors : mapping, optional
        Channel -> colour, over the palette.
    spans : bool
        Shade each journey, from its first to its last touchpoint, and name it.
    paths : bool
        Join the touchpoints of each journey in time order.
    palette : ChannelPalette or mapping, optional
        Colours of the channels and of conversions; by default the palette of every figure
        (:func:`get_palette`).
    raw_labels : bool
        Write channels and breaks as the data holds them instead of in words.
    **scatter_kwargs
        Passed to the touchpoints' :meth:`~matplotlib.axes.Axes.scatter` (``s``,
        ``marker``...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, x in matplotlib date numbers, one y unit per channel row. The
        touchpoints are one scatter collection with the gid ``"touchpoints"`` (outbound ones
        hollow), conversions a second one with the gid ``"conversions"``, journeys
        rectangles with the gid ``"journey:<id>"`` and their paths lines with the gid
        ``"path:<id>"``.

    Raises
    ------
    ConfigError
        A customer the data does not hold, or data that is neither journeys nor a timeline.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:30", "2024-05-20T15:00",
    ...              "2024-05-01T09:00"],
    ...     "channel": ["web", "web", "store", "web"],
    ...     "event": ["product_view", "add_to_cart", "purchase", "product_view"]})
    >>> ax = oj.plot.timeline(oj.sessionize(tp), "a")
    >>> [c.get_offsets().shape[0] for c in ax.collections]
    [3, 1]
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['web', 'store']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.timeline"
    rows, default_events = _customer_rows(journeys, customer, breaks, who)
    events = frozenset(default_events if conversion_events is None else conversion_events)
    words = label_of(raw_labels)
    chosen = as_palette(palette, who, colors)
    order = np.lexsort((np.arange(len(rows)), date_numbers(rows["time"])))
    x = date_numbers(rows["time"])[order]
    channel = np.asarray([str(c) for c in rows["channel"].tolist()], dtype=object)[order]
    event = [str(e) for e in rows["event"].tolist()]
    event = [event[i] for i in order.tolist()]
    journey = np.asarray(rows["journey_id"], dtype=np.int64)[order]
    names = list(dict.fromkeys(channel.tolist()))  # in the order of first use
    row_of = {name: i for i, name in enumerate(names)}
    y = np.asarray([row_of[c] for c in channel.tolist()], dtype=np.float64)
    color = chosen.colors(names)
    conv = np.array([e in events for e in event], dtype=bool)
    ax = new_axes(ax, (9.0, 1.6 + 0.45 * len(names)), who)
    lo, hi = float(x.min()), float(x.max())
    width = hi - lo if hi > lo else 1.0
    for k, jid in enumerate(dict.fromkeys(journey.tolist())):
        sel = journey == jid
        if spans:
            span(
                ax,
                float(x[sel].min()),
                float(x[sel].max()),
                min_width=0.004 * width,
                facecolor="0.5",
                alpha=0.08 if k % 2 else 0.16,
                gid=f"journey:{jid}",
                zorder=0,
            )
            ax.text(
                float(x[sel].min()),
                1.0,
                f"J{k + 1}" + (" ✓" if conv[sel].any() else ""),
                transform=ax.get_xaxis_transform(),
                ha="left",
                va="bottom",
                fontsize="x-small",
                color=chosen.converted if conv[sel].any() else "0.35",
            )
        if paths and sel.sum() > 1:
            ax.plot(x[sel], y[sel], color="0.55", linewidth=0.8, zorder=2, gid=f"path:{jid}")
    edge = [color[c] for c in channel.tolist()]
    face = list(edge)
    if "direction" in rows.columns:
        outbound = matches(rows["direction"], "outbound")[order]
        for i in np.flatnonzero(outbound).tolist():
            face[i] = "white"
    style = {"s": 36, "linewidths": 1.2, "zorder": 3, **scatter_kwargs}
    ax.scatter(x, y, c=face, edgecolors=edge, gid="touchpoints", **style)
    ax.scatter(
        x[conv],
        y[conv],
        marker="*",
        s=170,
        c=chosen.converted,
        edgecolors="white",
        linewidths=0.6,
        zorder=4,
        gid="conversions",
        label="conversion",
    )
    if "break" in rows.columns:
        kinds = rows["break"].tolist()
        written = 0
        for i, j in enumerate(order.tolist()):
            if kinds[j]:
                written += 1
                ax.annotate(
                    words(kinds[j]),
                    (x[i], y[i]),
                    xytext=(4, 6 if written % 2 else -12),  # neighbours above and below
                    textcoords="offset points",
                    fontsize="x-small",
                    color="0.25",
                )
    ax.set_yticks(np.arange(len(names), dtype=np.float64), [words(n) for n in names])
    for tick, name in zip(ax.get_yticklabels(), names):
        tick.set_color(color[name])
    ax.set_ylim(len(names) - 0.4, -0.6)  # first channel used on top
    ax.set_xlim(lo - 0.03 * width, hi + 0.03 * width)
    ax.grid(axis="y", color="0.9", linewidth=0.8, zorder=0)
    date_axis(ax)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"customer {customer}", loc="left", fontsize="medium", pad=14)
    if conv.any():
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax


# --------------------------------------------------------------------------- appetence


def _group_order(values: np.ndarray, by: str) -> list[Any]:
    from omnijourney.journeys import APPETENCE_SEGMENTS

    present = [v for v in values.tolist() if v is not None]
    distinct = sorted(set(present), key=lambda v: (str(type(v)), v))
    if by != "segment":
        return distinct
    known = [s for s in APPETENCE_SEGMENTS if s in distinct]
    return known + [v for v in distinct if v not in APPETENCE_SEGMENTS]


def appetence(
    segments: Table,
    ax: Axes | None = None,
    *,
    by: str = "segment",
    orientation: Literal["vertical", "horizontal"] = "vertical",
    colors: Mapping[str, Any] | None = None,
    counts: bool = True,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **bar_kwargs: Any,
) -> Axes:
    """Per segment, the mean digital, physical and assisted shares of its customers, stacked.

    Parameters
    ----------
    segments : Table
        The table returned by :func:`omnijourney.journeys.appetence` (one row per customer,
        with ``digital_share``, ``physical_share`` and ``assisted_share``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    by : str
        Column that groups the customers: ``"segment"`` (in the order of
        :data:`~omnijourney.journeys.APPETENCE_SEGMENTS`) or any other column of the table
        (for instance a column added with :meth:`~omnijourney.Table.with_column`).
    orientation : {"vertical", "horizontal"}
    colors : mapping, optional
        ``"digital"``, ``"physical"``, ``"assisted"`` -> colour, over the palette's.
    counts : bool
        Write the number of customers of each segment at the end of its bar.
    palette : ChannelPalette or mapping, optional
        Whose kind colours (:meth:`ChannelPalette.kind_color`) colour the shares; by default
        the palette of every figure (:func:`get_palette`).
    raw_labels : bool
        Write the segments as the table holds them (``digital_first``) instead of in words.
    **bar_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar` (or ``barh``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.containers`` holds the digital, physical and assisted bars,
        in that order, one bar per segment.

    Raises
    ------
    ConfigError
        Not an appetence table, an empty one, or an unknown ``by`` column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b", "b", "b"],
    ...     "time": ["2024-05-01", "2024-05-02", "2024-05-03"] * 2,
    ...     "channel": ["web", "web", "app", "store", "store", "web"],
    ...     "event": ["product_view"] * 6})
    >>> segments = oj.journeys.appetence(tp)
    >>> ax = oj.plot.appetence(segments)
    >>> ax.containers[0].datavalues.round(3).tolist()
    [1.0, 0.333]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.appetence"
    table = check_table(segments, "segments", _SHARES, who, "oj.journeys.appetence")
    check_choice(orientation, "orientation", ("vertical", "horizontal"), who)
    if not isinstance(by, str) or by not in table.columns:
        msg = (
            f"{who}: by must be a column of segments, got {by!r}; columns are {list(table.columns)}"
        )
        raise ConfigError(msg)
    group = table[by]
    order = _group_order(group, by)
    if not order:
        msg = f"{who}: column {by!r} of segments holds only nulls; there is nothing to draw"
        raise ConfigError(msg)
    means = np.zeros((len(_SHARES), len(order)))
    sizes = np.zeros(len(order), dtype=np.int64)
    for j, g in enumerate(order):
        sel = matches(group, g)
        sizes[j] = int(sel.sum())
        for i, name in enumerate(_SHARES):
            v = np.asarray(table[name], dtype=np.float64)[sel]
            v = v[np.isfinite(v)]
            means[i, j] = float(v.mean()) if v.size else 0.0
    horizontal = orientation == "horizontal"
    ax = new_axes(
        ax, (6.4, 0.8 + 0.5 * len(order)) if horizontal else (1.5 + 1.2 * len(order), 4.2), who
    )
    pos = np.arange(len(order), dtype=np.float64)
    base = np.zeros(len(order))
    names = [label_of(raw_labels)(g) for g in order]
    chosen = as_palette(palette, who)
    for i, share in enumerate(_SHARES):
        kind = share.removesuffix("_share")
        c = (colors or {}).get(kind, chosen.kind_color(kind))
        if horizontal:
            ax.barh(pos, means[i], left=base, height=0.7, color=c, label=kind, **bar_kwargs)
        else:
            ax.bar(pos, means[i], bottom=base, width=0.7, color=c, label=kind, **bar_kwargs)
        base = base + means[i]
    end = float(max(base.max(), 1.0))
    if horizontal:
        ax.set_yticks(pos, names)
        ax.invert_yaxis()
        ax.set_xlim(0, end * 1.15)
        ax.set_xlabel("mean share per customer")
    else:
        ax.set_xticks(
            pos,
            names,
            rotation=20 if len(order) > 3 else 0,
            ha="right" if len(order) > 3 else "center",
        )
        ax.set_ylim(0, end * 1.15)
        ax.set_ylabel("mean share per customer")
    if counts:
        for j in range(len(order)):
            xy = (base[j], pos[j]) if horizontal else (pos[j], base[j])
            ax.annotate(
                f"n={sizes[j]:,}",
                xy,
                xytext=(4, 0) if horizontal else (0, 3),
                textcoords="offset points",
                ha="left" if horizontal else "center",
                va="center" if horizontal else "bottom",
                fontsize="small",
            )
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize="small", frameon=False, ncols=3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax

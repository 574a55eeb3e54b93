"""Figures of prices: a product's price on each channel over time, with the audit's findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError
from omnijourney.plot._common import (
    check_table,
    date_axis,
    date_numbers,
    matches,
    new_axes,
    scalar_label,
    shown,
    span,
)
from omnijourney.plot._style import SHADES, ChannelPalette, as_palette, label_of, shade
from omnijourney.tables import Table
from omnijourney.time import to_datetime64

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from omnijourney.pricing import FindingTable, PriceAudit, PriceTable

__all__ = ["prices"]

_DAY_US = 86_400_000_000
# how far apart (in points) series with equal prices are drawn
_LANE_POINTS = 2.2
_RULE_COLORS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def _findings_of(findings: Any, who: str) -> tuple[Table | None, np.datetime64 | None]:
    """The findings table of ``findings`` and, for an audit, the time it was made as of."""
    from omnijourney.pricing import PriceAudit

    if findings is None:
        return None, None
    if isinstance(findings, PriceAudit):
        return findings.findings, findings.as_of
    if isinstance(findings, Table) and {"rule", "sku", "start", "end"} <= set(findings.columns):
        return findings, None
    msg = (
        f"{who}: findings must be the PriceAudit returned by oj.pricing.audit or its "
        f"findings table, got {type(findings).__name__}"
    )
    raise ConfigError(msg)


def _until(
    table: Table, found: Table | None, as_of: np.datetime64 | None, until: Any
) -> np.datetime64:
    """Where open-ended intervals stop: ``until``, the audit's ``as_of``, or the latest time
    of the data."""
    if until is not None:
        return to_datetime64(until, name="until")
    if as_of is not None:
        return np.datetime64(int(np.asarray(as_of).astype("datetime64[us]").astype(np.int64)), "us")
    times = [table.raw("valid_from")]
    if "valid_to" in table.columns:
        times.append(table.raw("valid_to"))
    if found is not None and len(found):
        times += [found.raw("start"), found.raw("end")]
    stacked = np.concatenate([t.astype("datetime64[us]") for t in times])
    return np.max(stacked[~np.isnat(stacked)])


def _series_labels(rows: Table) -> list[str]:
    """``channel``, ``channel @ location`` where a channel has several locations, and the
    audience when it is not the public."""
    channel = [str(c) for c in rows["channel"].tolist()]
    location = rows["location"].tolist() if "location" in rows.columns else [None] * len(rows)
    audience = rows["audience"].tolist() if "audience" in rows.columns else [None] * len(rows)
    places: dict[str, set[Any]] = {}
    for c, loc in zip(channel, location):
        places.setdefault(c, set()).add(loc)
    out = []
    for c, loc, aud in zip(channel, location, audience):
        label = f"{c} @ {loc}" if len(places[c]) > 1 and loc is not None else c
        aud = getattr(aud, "value", aud)
        out.append(label if aud in (None, "public") else f"{label} ({aud})")
    return out


def _series_colors(
    rows: Table, labels: list[str], names: list[str], palette: ChannelPalette
) -> dict[str, Any]:
    """The channel's colour for its only series, shades of it for several (locations,
    audiences); a colour given for the series label itself wins."""
    channel_of = dict(zip(labels, (str(c) for c in rows["channel"].tolist())))
    out: dict[str, Any] = {}
    for name in names:
        channel = channel_of[name]
        siblings = [n for n in names if channel_of[n] == channel]
        if name in palette.channels or len(siblings) == 1:
            out[name] = palette.color(name if name in palette.channels else channel)
        else:
            base = palette.color(channel)
            out[name] = shade(base, SHADES[siblings.index(name) % len(SHADES)])
    return out


def _lanes(series: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[int]:
    """A lane per series, so that series showing the same price over the same time are
    drawn apart: the smallest lane that no earlier series coinciding with it uses."""
    lanes: list[int] = []
    for k, (a0, a1, ap) in enumerate(series):
        taken = set()
        for j in range(k):
            b0, b1, bp = series[j]
            overlap = (a0[:, None] < b1[None, :]) & (b0[None, :] < a1[:, None])
            if (overlap & np.isclose(ap[:, None], bp[None, :])).any():
                taken.add(lanes[j])
        lanes.append(min(set(range(len(taken) + 1)) - taken))
    return lanes


def prices(
    table: PriceTable | Table,
    sku: Any,
    findings: PriceAudit | FindingTable | None = None,
    ax: Axes | None = None,
    *,
    channels: Iterable[str] | None = None,
    until: Any = None,
    colors: Mapping[str, Any] | None = None,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
    **line_kwargs: Any,
) -> Axes:
    """A product's price over time, one step line per channel, with its findings shaded.

    Parameters
    ----------
    table : PriceTable
        Price intervals (any table with ``sku``, ``channel``, ``price``, ``valid_from`` and,
        optionally, ``valid_to``, ``location`` and ``audience``). A channel with several
        locations or audiences gets one line for each (``store @ S01``,
        ``web (loyalty)``).
    sku : str or int
        The product to draw.
    findings : PriceAudit or FindingTable, optional
        The findings of :func:`omnijourney.pricing.audit`; those about ``sku`` (and the
        channels drawn) are shaded from their start to their end, one colour per rule.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    channels : iterable of str, optional
        Draw only these channels.
    until : time, optional
        Where open-ended intervals (and findings) stop: by default the audit's ``as_of``
        when ``findings`` is a PriceAudit, else the latest time in the data.
    colors : mapping, optional
        Series label -> colour, over the palette.
    palette : ChannelPalette or mapping, optional
        Colours of the channels (the series of one channel at several locations or for
        several audiences take shades of its colour); by default the palette of every figure
        (:func:`get_palette`).
    raw_labels : bool
        Write channels and rules as the data holds them (``call_centre``,
        ``overlapping_promotions``) instead of in words.
    **line_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` (``linewidth``, ``alpha``...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, x in matplotlib date numbers. Each series is a line with the gid
        ``"price:<label>"`` whose points are the start and end of each interval at its price
        (a gap between intervals breaks the line); findings are rectangles with the gid
        ``"finding:<row>"`` (row of the findings table). Series that show the same price at
        the same time are drawn side by side, a few points apart (their data stay the
        prices), so that each of them can be seen.

    Raises
    ------
    ConfigError
        A sku (or channels) the table does not hold, or inputs that are not price tables.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import omnijourney as oj
    >>> import omnijourney.plot
    >>> table = oj.pricing.PriceTable.from_columns({
    ...     "sku": ["A1", "A1", "A1"], "channel": ["web", "web", "store"],
    ...     "price": [19.99, 14.99, 19.99],
    ...     "valid_from": ["2024-05-01", "2024-05-10", "2024-05-01"],
    ...     "valid_to": ["2024-05-10", None, None]})
    >>> audit = oj.pricing.audit(table, policy=oj.pricing.Policy(
    ...     same_price_groups=[["web", "store"]]), as_of="2024-05-20")
    >>> ax = oj.plot.prices(table, "A1", audit)
    >>> [line.get_label() for line in ax.get_lines()]
    ['store', 'web']
    >>> ax.get_lines()[1].get_ydata().tolist()
    [19.99, 19.99, 14.99, 14.99]
    >>> matplotlib.pyplot.close(ax.figure)
    """
    who = "plot.prices"
    table = check_table(
        table, "table", ("sku", "channel", "price", "valid_from"), who, "PriceTable.from_columns"
    )
    sku = scalar_label(sku, "sku", who)
    found, as_of = _findings_of(findings, who)
    mine = matches(table["sku"], sku)
    if not mine.any():
        known = np.unique(np.asarray([str(s) for s in table["sku"].tolist()]))
        msg = f"{who}: unknown sku {sku!r}; the table holds {shown(known.tolist())}"
        raise ConfigError(msg)
    rows = table.filter(mine)
    if channels is not None:
        wanted = [str(c) for c in ([channels] if isinstance(channels, str) else channels)]
        keep = np.isin(np.asarray([str(c) for c in rows["channel"].tolist()]), wanted)
        if not keep.any():
            have = sorted({str(c) for c in rows["channel"].tolist()})
            msg = f"{who}: sku {sku!r} has no price on channels {wanted}; it has {have}"
            raise ConfigError(msg)
        rows = rows.filter(keep)
    end = _until(table, found, as_of, until)
    start = rows.raw("valid_from").astype("datetime64[us]")
    stop = (
        rows.raw("valid_to").astype("datetime64[us]")
        if "valid_to" in rows.columns
        else np.full(len(rows), np.datetime64("NaT", "us"), dtype="datetime64[us]")
    )
    opened = np.isnat(stop)
    latest = start.max()
    if opened.any() and end <= latest:
        first = start.min()
        pad = max(int((latest - first).astype(np.int64)) // 10, _DAY_US)
        end = latest + np.timedelta64(pad, "us")
    stop = np.where(opened, end, stop)
    x0, x1 = date_numbers(start), date_numbers(stop)
    price = np.asarray(rows["price"], dtype=np.float64)
    labels = _series_labels(rows)
    names = sorted(set(labels))
    words = label_of(raw_labels)
    color = _series_colors(rows, labels, names, as_palette(palette, who, colors))
    ax = new_axes(ax, (9.0, 4.2), who)
    series = np.asarray(labels, dtype=object)
    index = [np.flatnonzero(series == name) for name in names]
    index = [idx[np.argsort(x0[idx], kind="stable")] for idx in index]
    lanes = _lanes([(x0[idx], x1[idx], price[idx]) for idx in index])
    transforms = import_optional("matplotlib.transforms", "plot")
    for name, idx, lane in zip(names, index, lanes):
        xs: list[float] = []
        ys: list[float] = []
        for k, i in enumerate(idx.tolist()):
            if k and x0[i] != xs[-1]:
                xs.append(np.nan)
                ys.append(np.nan)
            xs += [float(x0[i]), float(x1[i])]
            ys += [float(price[i]), float(price[i])]
        style = {"linewidth": 1.8, "color": color[name], **line_kwargs}
        shift = _LANE_POINTS * ((lane + 1) // 2) * (1 if lane % 2 else -1)
        where = transforms.offset_copy(ax.transData, fig=ax.figure, y=shift, units="points")
        ax.plot(xs, ys, label=words(name), gid=f"price:{name}", transform=where, **style)
        # a line drawn with its own transform does not widen the axes' limits by itself
        points = np.column_stack([xs, ys])
        ax.update_datalim(points[np.isfinite(points).all(axis=1)])
    ax.autoscale_view()
    lo, hi = float(x0.min()), float(x1.max())
    if found is not None and len(found):
        _shade(ax, found, sku, rows, end, lo, hi, words)
    width = hi - lo if hi > lo else 1.0
    ax.set_xlim(lo - 0.02 * width, hi + 0.02 * width)
    date_axis(ax)
    currency = None
    if "currency" in rows.columns:
        units = {c for c in rows["currency"].tolist() if c is not None}
        currency = units.pop() if len(units) == 1 else None
    ax.set_ylabel(f"price ({currency})" if currency else "price")
    ax.set_title(f"sku {sku}", loc="left", fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="best")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _shade(
    ax: Axes,
    found: Table,
    sku: Any,
    rows: Table,
    end: np.datetime64,
    lo: float,
    hi: float,
    words: Any,
) -> None:
    """Shade the findings about ``sku`` on the channels of ``rows``."""
    drawn = {str(c) for c in rows["channel"].tolist()}
    about = matches(found["sku"], sku)
    channel = found["channel"].tolist() if "channel" in found.columns else [None] * len(found)
    start = found.raw("start").astype("datetime64[us]")
    stop = found.raw("end").astype("datetime64[us]")
    rules = [str(r) for r in found["rule"].tolist()]
    order = sorted({rules[i] for i in np.flatnonzero(about).tolist()})
    color = {r: _RULE_COLORS[i % len(_RULE_COLORS)] for i, r in enumerate(order)}
    labelled: set[str] = set()
    width = hi - lo if hi > lo else 1.0
    for i in np.flatnonzero(about).tolist():
        if (channel[i] is not None and str(channel[i]) not in drawn) or np.isnat(start[i]):
            continue
        s = float(date_numbers(start[i : i + 1])[0])
        e = float(date_numbers(np.array([end if np.isnat(stop[i]) else stop[i]]))[0])
        rule = rules[i]
        span(
            ax,
            s,
            e,
            min_width=0.003 * width,
            facecolor=color[rule],
            alpha=0.18,
            gid=f"finding:{i}",
            zorder=0,
            label=words(rule) if rule not in labelled else "_nolegend_",
        )
        labelled.add(rule)

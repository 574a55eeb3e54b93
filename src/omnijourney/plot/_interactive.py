"""Interactive figures, drawn with plotly (the ``interactive`` extra) for notebooks and pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.plot._style import ChannelPalette, as_palette, label_of

if TYPE_CHECKING:
    from omnijourney.journeys import Sankey

__all__ = ["sankey_figure"]


def _hex(color: Any) -> str:
    mcolors = import_optional("matplotlib.colors", "plot")
    return str(mcolors.to_hex(color))


def _rgba(color: str, alpha: float) -> str:
    """``rgba(r, g, b, a)``: the form of a translucent colour every plotly version reads."""
    mcolors = import_optional("matplotlib.colors", "plot")
    r, g, b = (round(255 * c) for c in mcolors.to_rgb(color))
    return f"rgba({r}, {g}, {b}, {alpha})"


def sankey_figure(
    result: Sankey,
    *,
    palette: ChannelPalette | Mapping[str, Any] | None = None,
    raw_labels: bool = False,
) -> Any:
    """A plotly Sankey figure of a Sankey result, coloured by the channel palette (see
    :meth:`omnijourney.journeys.Sankey.to_plotly`)."""
    from omnijourney.journeys._flows import OUTCOMES

    go = import_optional("plotly.graph_objects", "interactive")
    chosen = as_palette(palette, "Sankey.to_plotly")
    words = label_of(raw_labels)
    nodes, links = result.nodes, result.links
    ids = np.asarray(nodes["id"], dtype=np.int64)
    position = {int(i): k for k, i in enumerate(ids.tolist())}
    labels = [str(x) for x in nodes["label"].tolist()]
    steps = np.asarray(nodes["step"], dtype=np.int64)
    last = int(steps.max()) if steps.size else 0
    outcome = {OUTCOMES[0]: chosen.converted, OUTCOMES[1]: chosen.not_converted}
    color = [
        _hex(outcome[lab] if lab in outcome and step == last else chosen.color(lab))
        for lab, step in zip(labels, steps.tolist())
    ]
    source = [position[int(s)] for s in links["source"].tolist()]
    target = [position[int(t)] for t in links["target"].tolist()]
    band = [_rgba(color[s], 0.4) for s in source]  # the source's colour, translucent
    trace = go.Sankey(
        arrangement="snap",
        node={
            "label": [f"{words(lab)} (step {step})" for lab, step in zip(labels, steps.tolist())],
            "color": color,
            "pad": 12,
        },
        link={
            "source": source,
            "target": target,
            "value": links["count"].tolist(),
            "color": band,
        },
    )
    return go.Figure(data=[trace])

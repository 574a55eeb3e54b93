"""Figures of omnijourney results, drawn with matplotlib (the ``plot`` extra).

Each function takes a result as the library returns it (a funnel table, a
:class:`~omnijourney.journeys.Sankey`, a transition matrix, an attribution, journeys, a price
table...), draws it on the matplotlib ``Axes`` given as ``ax`` (a new figure when None) and
returns those axes, so that the figure can be adjusted, combined with others or saved:

- :func:`funnel`: journeys reaching each step of a funnel, with the conversion between steps;
- :func:`sankey`: an alluvial diagram of the journeys' first steps and their outcome;
- :func:`transitions`: a heatmap of the transitions between channels;
- :func:`credit`: credit per channel of one or several attribution models, with intervals;
- :func:`timeline`: one customer's touchpoints over time, by channel and journey;
- :func:`prices`: a product's price per channel over time, with the audit's findings;
- :func:`appetence`: the digital, physical and assisted shares of each segment;
- :func:`comparison`: a before/after, test/control or difference-in-differences comparison
  with the interval of its effect;
- :func:`lift`: lifts against a hold-out (or any comparisons) side by side, with intervals;
- :func:`synthetic_control`: treated units against their synthetic control over time;
- :func:`step_matrix`: the share of journeys at each step that have each label, as a heat map;
- :func:`directly_follows`: the directly-follows graph of the journeys' steps, with
  frequencies or times.

Every figure colours a channel the same way, from one :class:`ChannelPalette` (set per
channel or per channel kind; :func:`set_palette` changes it for every figure, the ``palette``
keyword for one), and writes its labels in words (:func:`readable`: ``call centre``, ``order
or purchase``) unless ``raw_labels=True``.

matplotlib is imported by the functions, not by ``import omnijourney.plot``; without it they
raise an ``ImportError`` (an :class:`~omnijourney.OmnijourneyError`) that says to install
``omnijourney[plot]``. Style keywords not named by a function go to the matplotlib call that
draws its main artists (``bar``, ``scatter``, ``plot``, ``imshow``, ``PathPatch``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import omnijourney as oj
>>> import omnijourney.plot
>>> from omnijourney.attribution import PathTable, last_touch
>>> result = last_touch(PathTable.from_strings(["web > store", "web"], conversions=[3, 1]))
>>> ax = oj.plot.credit(result)
>>> ax.containers[0].datavalues.tolist()
[3.0, 1.0]
>>> ax.figure.savefig("credit.png")  # doctest: +SKIP
>>> matplotlib.pyplot.close(ax.figure)
"""

from omnijourney.plot._attribution import credit
from omnijourney.plot._customers import appetence, timeline
from omnijourney.plot._flows import funnel, sankey, transitions
from omnijourney.plot._metrics import comparison, lift, synthetic_control
from omnijourney.plot._pricing import prices
from omnijourney.plot._processes import directly_follows, step_matrix
from omnijourney.plot._style import (
    DEFAULT_PALETTE,
    ChannelPalette,
    get_palette,
    readable,
    set_palette,
)

__all__ = [
    "DEFAULT_PALETTE",
    "ChannelPalette",
    "appetence",
    "comparison",
    "credit",
    "directly_follows",
    "funnel",
    "get_palette",
    "lift",
    "prices",
    "readable",
    "sankey",
    "set_palette",
    "step_matrix",
    "synthetic_control",
    "timeline",
    "transitions",
]

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
- :func:`synthetic_control`: treated units against their synthetic control over time.

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

__all__ = [
    "appetence",
    "comparison",
    "credit",
    "funnel",
    "lift",
    "prices",
    "sankey",
    "synthetic_control",
    "timeline",
    "transitions",
]

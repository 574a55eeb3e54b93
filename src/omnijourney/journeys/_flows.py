"""Where journeys go step by step: step matrices, Sankey data and channel transitions.

Everything runs on the sorted columns with numpy, never looping over journeys or touchpoints.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import positions
from omnijourney._deprecation import renamed_parameters
from omnijourney._display import TableResult
from omnijourney.errors import ConfigError
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._variants import (
    StepBy,
    check_journeys,
    step_pairs,
    steps_of,
)
from omnijourney.tables import Table

__all__ = [
    "ENDED",
    "OUTCOMES",
    "ChannelTransitions",
    "Sankey",
    "channel_transitions",
    "sankey",
    "step_matrix",
]

#: Label of the step-matrix row of journeys that ended before a step.
ENDED = "ended"
#: Labels of the Sankey outcome nodes.
OUTCOMES = ("converted", "not converted")


# --------------------------------------------------------------------------- step matrix


def _check_max_steps(max_steps: Any) -> int:
    if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        msg = f"max_steps must be a positive integer, got {max_steps!r}"
        raise ConfigError(msg)
    return int(max_steps)


@renamed_parameters(jt="journeys")
def step_matrix(
    journeys: JourneyTable,
    *,
    by: StepBy = "channel",
    max_steps: int = 10,
    collapse_repeats: bool = False,
) -> Table:
    """Share of journeys having each label at each step position.

    Parameters
    ----------
    journeys : JourneyTable
    by : {"channel", "event", "channel_event"}
    max_steps : int
        Number of step positions (columns).
    collapse_repeats : bool
        Merge consecutive identical steps first.

    Returns
    -------
    Table
        ``label`` then ``step_1`` ... ``step_<max_steps>``: one row per label found in those
        positions (in label order), then a row ``"ended"`` with the share of journeys
        shorter than the position. Each step column sums to 1.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:20", "2024-05-01T09:00"],
    ...     "channel": ["web", "store", "web"],
    ...     "event": ["product_view", "purchase", "product_view"]})
    >>> m = oj.journeys.step_matrix(oj.sessionize(tp), max_steps=3)
    >>> m["label"].tolist(), m["step_1"].tolist(), m["step_2"].tolist()
    (['store', 'web', 'ended'], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5])
    """
    jt = check_journeys(journeys, "step_matrix")
    n_steps = _check_max_steps(max_steps)
    s = steps_of(jt, by, collapse_repeats=collapse_repeats, times=False)
    n_lab = s.labels.size
    pos = s.positions()
    sel = pos < n_steps
    key = pos[sel] * n_lab + s.codes[sel]
    counts = np.bincount(key, minlength=n_steps * n_lab).reshape(n_steps, n_lab).T
    used = counts.sum(axis=1) > 0
    counts = counts[used]
    n = s.n_segments
    ended = n - counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.vstack([counts, ended[None, :]]) / n
    labels = [str(x) for x in s.labels[used].tolist()]
    ended_label = ENDED if ENDED not in labels else f"({ENDED})"
    data: dict[str, Any] = {"label": [*labels, ended_label]}
    for p in range(n_steps):
        data[f"step_{p + 1}"] = shares[:, p].astype(np.float64)
    return Table.from_columns(data, kinds={"label": "category"})


# --------------------------------------------------------------------------- sankey


def _dense(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``key`` (in ``[0, bound)``), sorted, and each key's index in them."""
    if bound > 1 << 22:
        used, index = np.unique(key, return_inverse=True)
        return used, index.reshape(-1)
    present = np.bincount(key, minlength=bound) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[key]


@attrs.frozen(kw_only=True, eq=False)
class Sankey:
    """Nodes and links of a Sankey diagram of the journeys' first steps.

    Attributes
    ----------
    nodes : Table
        ``id``, ``step`` (1-based position; outcome nodes come one step after the last
        position shown), ``label``, ``count`` (journeys through the node) and
        ``converted`` (those of them that converted).
    links : Table
        ``source`` and ``target`` node ids, ``count`` (journeys) and ``converted``.
    """

    nodes: Table
    links: Table

    def to_plotly(self, *, palette: Any = None, raw_labels: bool = False) -> Any:
        """An interactive ``plotly.graph_objects.Figure`` of the diagram (needs plotly, the
        ``interactive`` extra), its nodes in the channel palette of the static figures.

        Parameters
        ----------
        palette : omnijourney.plot.ChannelPalette or mapping, optional
            Colours of the channels and outcomes; by default the palette of every figure.
        raw_labels : bool
            Write the labels as the nodes hold them instead of in words.

        Raises
        ------
        MissingDependencyError
            plotly is not installed. :meth:`plotly_data` gives the nodes and links without it.
        """
        from omnijourney.plot._interactive import sankey_figure

        return sankey_figure(self, palette=palette, raw_labels=raw_labels)

    def plotly_data(self) -> dict[str, Any]:
        """``node`` and ``link`` dicts for ``plotly.graph_objects.Sankey(**...)`` (what
        ``to_plotly`` returned before it returned a figure)."""
        labels = [f"{lab} ({step})" for lab, step in zip(self.nodes["label"], self.nodes["step"])]
        return {
            "node": {"label": labels},
            "link": {
                "source": self.links["source"].tolist(),
                "target": self.links["target"].tolist(),
                "value": self.links["count"].tolist(),
            },
        }

    def __repr__(self) -> str:
        return f"Sankey({len(self.nodes)} nodes, {len(self.links)} links)"


@renamed_parameters(jt="journeys")
def sankey(
    journeys: JourneyTable,
    *,
    by: StepBy = "channel",
    max_steps: int = 5,
    collapse_repeats: bool = False,
) -> Sankey:
    """Sankey data of the journeys' first ``max_steps`` steps, ending in their outcome.

    Each node is a (step position, label) pair; each journey flows through its first
    ``max_steps`` steps, then from its last shown step to ``"converted"`` or
    ``"not converted"``.

    Parameters
    ----------
    journeys : JourneyTable
    by : {"channel", "event", "channel_event"}
    max_steps : int
        Positions shown; longer journeys go to their outcome from their ``max_steps``-th
        step.
    collapse_repeats : bool
        Merge consecutive identical steps first (recommended for channels).

    Returns
    -------
    Sankey
        Plain tables of nodes and links (see :meth:`Sankey.to_plotly`).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:20", "2024-05-01T09:00",
    ...              "2024-05-01T09:10"],
    ...     "channel": ["web", "store", "web", "web"],
    ...     "event": ["product_view", "purchase", "product_view", "add_to_cart"]})
    >>> sk = oj.journeys.sankey(oj.sessionize(tp))
    >>> sk.nodes["label"].tolist(), sk.nodes["step"].tolist(), sk.nodes["count"].tolist()
    (['web', 'store', 'web', 'converted', 'not converted'], [1, 2, 2, 3, 3], [2, 1, 1, 1, 1])
    >>> list(zip(sk.links["source"].tolist(), sk.links["target"].tolist()))
    [(0, 1), (0, 2), (1, 3), (2, 4)]
    """
    jt = check_journeys(journeys, "sankey")
    n_steps = _check_max_steps(max_steps)
    s = steps_of(jt, by, collapse_repeats=collapse_repeats, times=False)
    n_lab = s.labels.size
    n_j = s.n_segments
    converted = jt.journeys.raw("converted").astype(bool)
    # the shown steps: the first max_steps of each journey, contiguous per journey
    shown = np.minimum(s.lengths, n_steps)
    pos = positions(shown)
    rows = np.repeat(s.offsets[:-1], shown) + pos
    used, node_of = _dense(pos * n_lab + s.codes[rows], n_steps * n_lab)
    n_nodes = used.size
    conv_of = np.repeat(converted, shown)
    last = np.cumsum(shown) - 1
    link_from = np.ones(rows.size, dtype=bool)
    link_from[last] = False
    inner = np.flatnonzero(link_from)
    # links between consecutive shown steps, then from each journey's last shown step to its
    # outcome node
    src = np.concatenate([node_of[inner], node_of[last]])
    dst = np.concatenate([node_of[inner + 1], np.where(converted, n_nodes, n_nodes + 1)])
    lconv = np.concatenate([conv_of[inner], converted])
    link_key, link_of = _dense(src * (n_nodes + 2) + dst, (n_nodes + 2) ** 2)
    node_step = used // max(n_lab, 1) + 1
    last_step = int(node_step.max()) + 1 if n_nodes else 1
    n_conv = int(converted.sum())
    nodes = Table.from_columns(
        {
            "id": np.arange(n_nodes + 2, dtype=np.int64),
            "step": np.r_[node_step, last_step, last_step].astype(np.int64),
            "label": [str(x) for x in s.labels[used % max(n_lab, 1)].tolist()] + list(OUTCOMES),
            "count": np.r_[np.bincount(node_of, minlength=n_nodes), n_conv, n_j - n_conv],
            "converted": np.r_[
                np.bincount(node_of, weights=conv_of, minlength=n_nodes), n_conv, 0
            ].astype(np.int64),
        },
        kinds={"label": "category"},
    )
    links = Table.from_columns(
        {
            "source": (link_key // (n_nodes + 2)).astype(np.int64),
            "target": (link_key % (n_nodes + 2)).astype(np.int64),
            "count": np.bincount(link_of, minlength=link_key.size).astype(np.int64),
            "converted": np.bincount(link_of, weights=lconv, minlength=link_key.size).astype(
                np.int64
            ),
        }
    )
    return Sankey(nodes=nodes, links=links)


# --------------------------------------------------------------------------- transitions


@attrs.frozen(kw_only=True, eq=False)
class ChannelTransitions(TableResult):
    """Counts (or row probabilities) of transitions between consecutive touchpoints.

    Attributes
    ----------
    labels : ndarray of str
        Row and column labels, sorted.
    matrix : ndarray, shape (n, n)
        ``matrix[i, j]``: transitions from ``labels[i]`` to ``labels[j]`` (int64 counts), or
        their share of the transitions leaving ``labels[i]`` when normalized (rows without
        transitions are 0).
    normalized : bool
    """

    labels: np.ndarray
    matrix: np.ndarray
    normalized: bool

    def to_table(self) -> Table:
        """Non-zero cells as a long table: ``from``, ``to`` and ``count`` or ``probability``."""
        fr, to = np.nonzero(self.matrix)
        name = "probability" if self.normalized else "count"
        return Table.from_columns(
            {"from": self.labels[fr], "to": self.labels[to], name: self.matrix[fr, to]},
            kinds={"from": "category", "to": "category"},
        )

    def to_pandas(self) -> Any:
        """The square matrix as a pandas DataFrame indexed by label (needs ``pandas``)."""
        from omnijourney._optional import import_optional

        pd = import_optional("pandas", "pandas")
        index = pd.Index(self.labels.tolist(), name="from")
        columns = pd.Index(self.labels.tolist(), name="to")
        return pd.DataFrame(self.matrix, index=index, columns=columns)

    def __repr__(self) -> str:
        what = "probabilities" if self.normalized else "counts"
        return f"ChannelTransitions({self.labels.size} x {self.labels.size} {what})"


@renamed_parameters(jt="journeys")
def channel_transitions(
    journeys: JourneyTable,
    *,
    normalize: bool = False,
    across_journeys: bool = False,
    by: StepBy = "channel",
) -> ChannelTransitions:
    """Channel-to-channel transitions between consecutive touchpoints of a customer.

    Parameters
    ----------
    journeys : JourneyTable
    normalize : bool
        Return the share of each row's transitions (a Markov transition matrix) instead of
        counts.
    across_journeys : bool
        Use each customer's whole stream, so that the last touchpoint of a journey leads to
        the first of the next; by default transitions stay inside journeys.
    by : {"channel", "event", "channel_event"}
        Label of a touchpoint (channel by default).

    Returns
    -------
    ChannelTransitions
        Repeats (``web -> web``) are counted on the diagonal.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "a"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:10", "2024-05-01T10:20", "2024-06-20"],
    ...     "channel": ["web", "web", "store", "app"],
    ...     "event": ["product_view", "add_to_cart", "purchase", "product_view"]})
    >>> jt = oj.sessionize(tp)
    >>> m = oj.journeys.channel_transitions(jt)
    >>> m.labels.tolist(), m.matrix.tolist()
    (['app', 'store', 'web'], [[0, 0, 0], [0, 0, 0], [0, 1, 1]])
    >>> oj.journeys.channel_transitions(jt, across_journeys=True, normalize=True).matrix[1].tolist()
    [1.0, 0.0, 0.0]
    """
    jt = check_journeys(journeys, "channel_transitions")
    s = steps_of(jt, by, per="customer" if across_journeys else "journey", times=False)
    n_lab = s.labels.size
    key, _ = step_pairs(s)
    counts = np.bincount(key, minlength=n_lab * n_lab + 1)[: n_lab * n_lab].reshape(n_lab, n_lab)
    used = np.bincount(s.codes, minlength=n_lab) > 0
    counts = counts[used][:, used]
    matrix: np.ndarray = counts.astype(np.int64)
    if normalize:
        rows = counts.sum(axis=1, keepdims=True)
        matrix = counts / np.maximum(rows, 1)
    labels = np.empty(int(used.sum()), dtype=object)
    labels[:] = [str(x) for x in s.labels[used].tolist()]
    return ChannelTransitions(labels=labels, matrix=matrix, normalized=bool(normalize))

"""Funnels, step positions and transitions: ordered funnels, step matrices, Sankey data and
channel transition matrices.

Like the path functions, everything runs on the sorted columns with numpy; funnels loop
over their (few) steps, never over journeys or touchpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney._arrays import positions
from omnijourney._display import TableResult
from omnijourney.errors import ConfigError
from omnijourney.journeys._paths import (
    StepBy,
    _Steps,
    check_journeys,
    step_pairs,
    steps_of,
)
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import UnmatchedRule, describe_labels, noted, used, warn
from omnijourney.tables import Table
from omnijourney.time import to_timedelta64

__all__ = [
    "ENDED",
    "OUTCOMES",
    "Sankey",
    "TransitionMatrix",
    "channel_transitions",
    "funnel",
    "sankey",
    "step_matrix",
]

#: Label of the step-matrix row of journeys that ended before a step.
ENDED = "ended"
#: Labels of the Sankey outcome nodes.
OUTCOMES = ("converted", "not converted")


# --------------------------------------------------------------------------- funnel


def _step_sets(steps: Any) -> list[frozenset[str]]:
    if isinstance(steps, str) or not isinstance(steps, Iterable):
        msg = "steps must be a sequence of labels or of sets of labels, e.g. ['view', 'buy']"
        raise ConfigError(msg)
    out = []
    for i, step in enumerate(steps, start=1):
        names = frozenset([step]) if isinstance(step, str) else frozenset(str(x) for x in step)
        if not names:
            msg = f"funnel step {i} is an empty set of labels"
            raise ConfigError(msg)
        out.append(names)
    if not out:
        msg = "a funnel needs at least one step"
        raise ConfigError(msg)
    return out


def _display(names: frozenset[str]) -> str:
    return " | ".join(sorted(names))


def _first_in_segment(rows: np.ndarray, after: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per query, the first of the sorted ``rows`` strictly after ``after`` and before
    ``end``, or -1."""
    if rows.size == 0:
        return np.full(after.size, -1, dtype=np.int64)
    i = np.searchsorted(rows, after, side="right")
    hit = rows[np.minimum(i, rows.size - 1)]
    return np.where((i < rows.size) & (hit < end), hit, -1)


def _greedy(
    s: _Steps, masks: list[np.ndarray], window: int | None, from_first: bool
) -> tuple[list[int], list[np.ndarray]]:
    """Greedy matching: the first occurrence of each step after the previous one."""
    t = s.first
    seg_end = s.offsets[1:]
    rows = np.flatnonzero(masks[0][s.codes])
    cur = _first_in_segment(rows, s.offsets[:-1] - 1, seg_end)
    alive = cur >= 0
    cur, end = cur[alive], seg_end[alive]
    start_t = t[cur]
    counts, gaps = [int(cur.size)], [np.zeros(0, dtype=np.int64)]
    for mask in masks[1:]:
        nxt = _first_in_segment(np.flatnonzero(mask[s.codes]), cur, end)
        ok = nxt >= 0
        if window is not None:
            ref = start_t if from_first else t[cur]
            ok &= t[np.maximum(nxt, 0)] - ref <= window
        gaps.append(t[nxt[ok]] - t[cur[ok]])
        cur, end, start_t = nxt[ok], end[ok], start_t[ok]
        counts.append(int(cur.size))
    return counts, gaps


def _latest_before(rows: np.ndarray, query: np.ndarray, seg_start: np.ndarray) -> np.ndarray:
    """Per query, index into ``rows`` of the last row strictly before it in its segment, or -1."""
    if rows.size == 0:
        return np.full(query.size, -1, dtype=np.int64)
    i = np.searchsorted(rows, query, side="left") - 1
    ok = (i >= 0) & (rows[np.maximum(i, 0)] >= seg_start)
    return np.where(ok, i, -1)


def _best(
    s: _Steps, masks: list[np.ndarray], window: int | None, from_first: bool
) -> tuple[list[int], list[np.ndarray]]:
    """Deepest reachable step: a step counts if *some* choice of occurrences reaches it.

    ``frontier`` holds, at step k, every occurrence of step k that ends a valid path. For a
    window from the previous step, the best predecessor of an occurrence is the latest valid
    occurrence of the previous step before it. For a window from the first step, every
    occurrence that ends a path (ignoring the window) is kept with the latest start of such
    a path, and counts when it is within the window of that start.
    """
    t = s.first
    seg = s.segment_of()
    seg_start = s.offsets[:-1]
    frontier = np.flatnonzero(masks[0][s.codes])
    start = frontier.copy()
    reached = frontier
    counts = [int(np.unique(seg[reached]).size)]
    gaps = [np.zeros(0, dtype=np.int64)]
    for mask in masks[1:]:
        cand = np.flatnonzero(mask[s.codes])
        prev = _latest_before(frontier, cand, seg_start[seg[cand]])
        ok = prev >= 0
        cand, prev = cand[ok], prev[ok]
        pred = frontier[prev]
        if from_first:
            # every path end is kept (with its latest start): the window is checked per step
            start = start[prev]
            valid = np.ones(cand.size, dtype=bool)
            if window is not None:
                valid = t[cand] - t[start] <= window
            frontier = cand
            reached, reached_pred = cand[valid], pred[valid]
        else:
            if window is not None:
                keep = t[cand] - t[pred] <= window
                cand, pred = cand[keep], pred[keep]
            frontier, reached, reached_pred = cand, cand, pred
        # the first reaching occurrence of each segment, and its predecessor
        if reached.size:
            first = np.r_[True, seg[reached[1:]] != seg[reached[:-1]]]
            gaps.append(t[reached[first]] - t[reached_pred[first]])
            counts.append(int(first.sum()))
        else:
            gaps.append(np.zeros(0, dtype=np.int64))
            counts.append(0)
    return counts, gaps


def funnel(
    jt: JourneyTable,
    steps: Sequence[str | Iterable[str]],
    *,
    by: StepBy = "event",
    within: Any = None,
    window: Literal["previous", "first"] = "previous",
    per: Literal["journey", "customer"] = "journey",
    match: Literal["greedy", "best"] = "greedy",
    collapse_repeats: bool = False,
) -> Table:
    """An ordered funnel: how many journeys (or customers) reached each step, in order.

    Parameters
    ----------
    jt : JourneyTable
    steps : sequence of str or of sets of str
        The funnel's steps, in order. A set of labels matches any of them
        (``["product_view", {"add_to_cart", "quote_request"}, "purchase"]``). A label that
        no touchpoint has matches nothing: a step none of whose labels occurs gives zero
        counts from there on, and warns.
    by : {"event", "channel", "channel_event"}
        What labels a touchpoint (``"web:purchase"`` for ``"channel_event"``).
    within : duration, optional
        Maximum time (inclusive) allowed for each next step: ``"30min"``, ``"7D"``... (see
        :func:`~omnijourney.time.to_timedelta64`).
    window : {"previous", "first"}
        Whether ``within`` runs from the previous step or from the funnel's first step.
    per : {"journey", "customer"}
        Count journeys, or customers over their whole stream (steps may then fall in
        different journeys).
    match : {"greedy", "best"}
        ``"greedy"`` takes the first occurrence of step 1, then the first occurrence of step
        2 after it, and so on, stopping at the first step whose occurrence is missing or out
        of the window. ``"best"`` counts a step when *some* choice of occurrences reaches it.
    collapse_repeats : bool
        Merge consecutive identical labels first (so that ``["view", "view"]`` needs two
        separate views).

    Returns
    -------
    Table
        One row per step: ``step`` (1-based), ``label`` (labels of a set joined by ``" | "``),
        ``count``, ``share_of_start`` (of the step-1 count), ``share_of_previous`` and
        ``median_seconds_from_previous`` (NaN for step 1). Its ``notes`` name the steps that
        match no label of the data.

    Warns
    -----
    OmnijourneyWarning
        For each step none of whose labels occurs in the data (a misspelt label, another
        vocabulary), naming the labels the data has.

    Notes
    -----
    "After" means later in the canonical order of the touchpoints, so a step may share the
    previous step's time; windows are inclusive. ``"greedy"`` is exactly this loop, per
    journey (or customer)::

        pos = first occurrence of step 1
        for each next step: nxt = first occurrence after pos
            stop if there is none, or if time(nxt) - time(pos, or of step 1) > within
            pos = nxt

    Without a window the greedy choice is optimal: the earliest occurrence of each step
    leaves the most room for the next ones, so ``"greedy"`` and ``"best"`` give the same
    counts. With a window it is not: for ``view@0h, view@10h, buy@11h`` and ``within="2h"``,
    greedy pairs ``buy`` with the first view and stops, while the second view reaches it in
    time; with ``window="first"``, a later occurrence of step 1 may fit the whole funnel in
    the window when the first does not. ``"best"`` finds every reachable step exactly, in one
    vectorized pass per step: with ``window="previous"`` the best predecessor of an
    occurrence is the latest valid occurrence of the previous step before it; with
    ``window="first"`` it is the path with the latest start. Time from previous: along the
    greedy path, or, for ``"best"``, from the latest valid occurrence of the previous step
    to the first occurrence that reaches the step.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b", "b", "c"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:05", "2024-05-01T10:20",
    ...              "2024-05-01T09:00", "2024-05-01T13:00", "2024-05-01T12:00"],
    ...     "channel": ["web", "web", "store", "web", "web", "app"],
    ...     "event": ["product_view", "add_to_cart", "purchase",
    ...               "product_view", "add_to_cart", "product_view"]})
    >>> jt = oj.sessionize(tp)
    >>> f = oj.journeys.funnel(jt, ["product_view", "add_to_cart", "purchase"])
    >>> f["count"].tolist(), f["median_seconds_from_previous"].tolist()
    ([3, 2, 1], [nan, 7350.0, 900.0])
    >>> oj.journeys.funnel(jt, ["product_view", "add_to_cart"], within="1h")["count"].tolist()
    [3, 1]
    """
    check_journeys(jt, "funnel")
    if window not in ("previous", "first"):
        msg = f"window must be 'previous' or 'first', got {window!r}"
        raise ConfigError(msg)
    if match not in ("greedy", "best"):
        msg = f"match must be 'greedy' or 'best', got {match!r}"
        raise ConfigError(msg)
    sets = _step_sets(steps)
    s = steps_of(jt, by, collapse_repeats=collapse_repeats, per=per)
    limit = None
    if within is not None:
        limit = int(to_timedelta64(within, name="within").astype(np.int64))
    masks = [s.label_mask(names) for names in sets]
    unmatched = warn(_unmatched_steps(s, sets, masks, by))
    run = _greedy if match == "greedy" else _best
    counts, gaps = run(s, masks, limit, window == "first")
    count = np.array(counts, dtype=np.int64)
    prev = np.r_[count[:1], count[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        median = np.array([np.median(g) / 1e6 if g.size else np.nan for g in gaps])
        share_start = count / count[0] if count[0] else np.full(count.size, np.nan)
        share_prev = np.where(prev > 0, count / np.maximum(prev, 1), np.nan)
    median[0] = np.nan
    table = Table.from_columns(
        {
            "step": np.arange(1, count.size + 1, dtype=np.int64),
            "label": [_display(x) for x in sets],
            "count": count,
            "share_of_start": share_start.astype(np.float64),
            "share_of_previous": share_prev.astype(np.float64),
            "median_seconds_from_previous": median,
        },
        kinds={"label": "category"},
    )
    return noted(table, unmatched)


def _unmatched_steps(
    s: _Steps, sets: list[frozenset[str]], masks: list[np.ndarray], by: str
) -> list[UnmatchedRule]:
    """The funnel steps none of whose labels any step of the data has."""
    if s.codes.size == 0:
        return []
    counts: np.ndarray | None = None
    out = []
    for i, (names, mask) in enumerate(zip(sets, masks), start=1):
        if used(mask, s.codes):
            continue
        if counts is None:
            counts = np.bincount(s.codes.astype(np.int64), minlength=s.labels.size)
        labels = [str(x) for x in s.labels.tolist()]
        rule = f"funnel step {i} ({_display(names)})"
        then = "Every count from this step on is 0"
        out.append(describe_labels(labels, counts, rule, by, names, then))
    return out


# --------------------------------------------------------------------------- step matrix


def _check_max_steps(max_steps: Any) -> int:
    if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        msg = f"max_steps must be a positive integer, got {max_steps!r}"
        raise ConfigError(msg)
    return int(max_steps)


def step_matrix(
    jt: JourneyTable,
    *,
    by: StepBy = "channel",
    max_steps: int = 10,
    collapse_repeats: bool = False,
) -> Table:
    """Share of journeys having each label at each step position.

    Parameters
    ----------
    jt : JourneyTable
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
    check_journeys(jt, "step_matrix")
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


def sankey(
    jt: JourneyTable,
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
    jt : JourneyTable
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
    check_journeys(jt, "sankey")
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
class TransitionMatrix(TableResult):
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
        return f"TransitionMatrix({self.labels.size} x {self.labels.size} {what})"


def channel_transitions(
    jt: JourneyTable,
    *,
    normalize: bool = False,
    across_journeys: bool = False,
    by: StepBy = "channel",
) -> TransitionMatrix:
    """Channel-to-channel transitions between consecutive touchpoints of a customer.

    Parameters
    ----------
    jt : JourneyTable
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
    TransitionMatrix
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
    check_journeys(jt, "channel_transitions")
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
    return TransitionMatrix(labels=labels, matrix=matrix, normalized=bool(normalize))

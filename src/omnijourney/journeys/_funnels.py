"""Ordered funnels: how many journeys reach each step, in order, within the time limits.

Like the path functions, everything runs on the sorted columns with numpy; funnels loop
over their (few) steps, never over journeys or touchpoints. Step matrices, Sankey data and
channel transitions are in ``_flows``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from omnijourney._deprecation import renamed_parameters
from omnijourney.errors import ConfigError
from omnijourney.journeys._flows import OUTCOMES  # read here by the figures
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import UnmatchedRule, describe_labels, noted, used, warn
from omnijourney.journeys._variants import (
    StepBy,
    _Steps,
    check_journeys,
    steps_of,
)
from omnijourney.tables import Table
from omnijourney.time import to_timedelta64

__all__ = ["OUTCOMES", "funnel"]


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


@renamed_parameters(jt="journeys")
def funnel(
    journeys: JourneyTable,
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
    journeys : JourneyTable
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
    jt = check_journeys(journeys, "funnel")
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

"""Paths over journeys: process variants and the directly-follows graph.

The steps of a journey are its touchpoints in canonical (customer, time) order, labelled by
channel, event or both (``"web:add_to_cart"``). Everything is computed on the sorted columns
with numpy: no Python loop runs over journeys or touchpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney._arrays import positions, run_offsets, run_starts
from omnijourney._deprecation import renamed_parameters
from omnijourney._display import TableResult
from omnijourney.errors import ConfigError
from omnijourney.journeys._table import JourneyTable
from omnijourney.tables import Table, code_dtype

__all__ = ["END", "START", "DirectlyFollows", "directly_follows", "variants"]

StepBy = Literal["channel", "event", "channel_event"]
_BY = ("channel", "event", "channel_event")
#: Pseudo-nodes of the directly-follows graph: journey start and journey end.
START = "▶"
END = "■"
#: Separator of the steps in a variant label.
SEPARATOR = " > "


# --------------------------------------------------------------------------- steps


@attrs.frozen(eq=False)
class _Steps:
    """The steps of every segment (journey or customer stream), as sorted parallel arrays.

    ``codes[offsets[k]:offsets[k + 1]]`` are the step codes of segment k, in order; codes index
    ``labels`` (sorted; some may not occur) and use the narrowest integer dtype. ``first``
    and ``last`` are the times (us) of the first and last touchpoint of each step: they differ
    only when repeats are collapsed (empty when times were not asked for).
    """

    labels: np.ndarray
    codes: np.ndarray
    first: np.ndarray
    last: np.ndarray
    offsets: np.ndarray

    @property
    def n_segments(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def positions(self) -> np.ndarray:
        """0-based position of each step within its segment."""
        return positions(self.lengths)

    def segment_of(self) -> np.ndarray:
        """Segment index of each step."""
        return np.repeat(np.arange(self.n_segments, dtype=np.int64), self.lengths)

    def label_mask(self, names: Iterable[Any]) -> np.ndarray:
        """Which step labels are among ``names``."""
        wanted = {str(x) for x in names}
        return np.array([str(x) in wanted for x in self.labels.tolist()], dtype=bool)


def check_journeys(jt: Any, func: str) -> JourneyTable:
    if not isinstance(jt, JourneyTable):
        msg = f"{func} needs a JourneyTable (the result of sessionize), got {type(jt).__name__}"
        raise ConfigError(msg)
    return jt


def check_by(by: Any) -> str:
    if by not in _BY:
        msg = f"by must be one of {list(_BY)}, got {by!r}"
        raise ConfigError(msg)
    return str(by)


def in_order(jt: JourneyTable, name: str) -> np.ndarray:
    """The stored array of a touchpoint column, rows in canonical order (no copy if they are)."""
    return jt.in_order(name)


def step_labels(jt: JourneyTable, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Step code of every touchpoint in ``jt.order`` and the sorted labels the codes index.

    Channel and event codes are those of the touchpoint table, whose dictionary may hold
    labels that no touchpoint uses; ``"channel_event"`` labels are the pairs that occur.
    """
    tp = jt.touchpoints
    if by == "channel_event":
        ch_labels, ev_labels = tp.labels("channel"), tp.labels("event")
        n_ev = max(ev_labels.size, 1)
        raw = in_order(jt, "channel").astype(np.int64) * n_ev + in_order(jt, "event")
        used = np.flatnonzero(np.bincount(raw, minlength=ch_labels.size * n_ev))
        text = [f"{c}:{e}" for c, e in zip(ch_labels[used // n_ev], ev_labels[used % n_ev])]
        rank = np.argsort(np.array(text, dtype=object), kind="stable")
        labels = np.empty(len(text), dtype=object)
        labels[:] = [text[i] for i in rank]
        code_of = np.zeros(ch_labels.size * n_ev, dtype=code_dtype(used.size))
        code_of[used[rank]] = np.arange(used.size)
        return code_of[raw], labels
    return in_order(jt, by), tp.labels(by)


def steps_of(
    jt: JourneyTable,
    by: str,
    *,
    collapse_repeats: bool = False,
    per: Literal["journey", "customer"] = "journey",
    times: bool = True,
) -> _Steps:
    """The labelled steps of every journey (or every customer's whole stream)."""
    codes, labels = step_labels(jt, check_by(by))
    n = codes.size
    t = in_order(jt, "time").view(np.int64) if times else np.zeros(0, dtype=np.int64)
    if per == "journey":
        offsets = jt.offsets
    elif per == "customer":
        offsets = run_offsets(in_order(jt, "customer"))
    else:
        msg = f"per must be 'journey' or 'customer', got {per!r}"
        raise ConfigError(msg)
    if not collapse_repeats or n == 0:
        return _Steps(labels, codes, t, t, offsets)
    keep = run_starts(codes)
    keep[offsets[:-1]] = True
    rows = np.flatnonzero(keep)
    last_row = np.append(rows[1:], n) - 1
    offsets = np.searchsorted(rows, offsets).astype(np.int64)
    if not times:
        return _Steps(labels, codes[rows], t, t, offsets)
    return _Steps(labels, codes[rows], t[rows], t[last_row], offsets)


# --------------------------------------------------------------------------- variants


def _pack(values: np.ndarray, lengths: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Pack each segment's values (``0 <= v < top``) into uint64 words, first value highest.

    A value is stored as ``v + 1`` and the last word of a segment is padded with zeros, so
    comparing the word sequences as integers compares the value sequences
    lexicographically, a proper prefix first. Segments must not be empty.
    """
    if top < 2**16:
        # slots of 4, 8 or 16 bits: scatter v + 1 into a zeroed buffer laid out word by
        # word, then read it as big-endian 64-bit words
        slot = 4 if top < 2**4 else 8 if top < 2**8 else 16
        k = 64 // slot
        n_words = (lengths + k - 1) // k
        room = n_words * k
        total = int(room.sum())
        dest = np.ones(values.size, dtype=np.int32 if total < 2**31 else np.int64)
        dest[0] = 0
        dest[np.cumsum(lengths)[:-1]] = room[:-1] - lengths[:-1] + 1
        np.cumsum(dest, out=dest)
        native = np.uint16 if slot == 16 else np.uint8
        plus = values.astype(native)
        plus += native(1)
        buf = np.zeros(total, dtype=">u2" if slot == 16 else np.uint8)
        buf[dest] = plus
        if slot == 4:  # two values per byte, the first in the high nibble
            buf = (buf[0::2] << 4) | buf[1::2]
        return buf.view(">u8").astype(np.uint64), n_words
    bits = int(top).bit_length()
    k = 64 // bits
    shift = ((k - 1 - np.arange(k)) * bits).astype(np.uint64)
    pos = positions(lengths, np.int32 if values.size < 2**31 else np.int64)
    np.remainder(pos, k, out=pos)
    packed = np.left_shift(values.astype(np.uint64) + np.uint64(1), shift[pos])
    return np.add.reduceat(packed, np.flatnonzero(pos == 0)), (lengths + k - 1) // k


def sequence_ids(values: np.ndarray, lengths: np.ndarray, top: int) -> tuple[np.ndarray, int]:
    """Dense id of each segment's value sequence; equal sequences get equal ids.

    Ids follow the lexicographic order of the sequences (a proper prefix first). Exact and
    O(n log n): values are packed into 64-bit words, the words of multi-word segments are
    ranked and packed again, until every segment is one word.

    Parameters
    ----------
    values : ndarray of int
        Values of the concatenated segments, in ``[0, top)``.
    lengths : ndarray of int64
        Segment lengths (at least 1 each).
    top : int
        Bound on the values.
    """
    if lengths.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    words, n_words = _pack(values, lengths, top)
    starts = np.cumsum(n_words) - n_words
    first = words[starts]
    multi = n_words > 1
    if not multi.any():
        uniq, ids = np.unique(first, return_inverse=True)
        return ids.reshape(-1).astype(np.int64), int(uniq.size)
    # segments longer than one word: rank their words, recurse on the ranks
    in_multi = np.repeat(multi, n_words)
    wuniq, wrank = np.unique(words[in_multi], return_inverse=True)
    sub, n_sub = sequence_ids(wrank.reshape(-1), n_words[multi], int(wuniq.size))
    # a sequence is (its first word, the rank of the whole among multi-word segments or 0)
    funiq, frank = np.unique(first, return_inverse=True)
    frank = frank.reshape(-1).astype(np.int64)
    n_first = int(funiq.size)
    raw = frank.copy()
    raw[multi] = n_first + sub
    head = np.arange(n_first + n_sub, dtype=np.int64)
    head[n_first + sub] = frank[multi]
    tail = np.zeros(n_first + n_sub, dtype=np.int64)
    tail[n_first:] = np.arange(1, n_sub + 1)
    present = np.flatnonzero(np.bincount(raw, minlength=n_first + n_sub))
    order_key = (head[present] << max(n_sub.bit_length(), 1)) | tail[present]
    rank = np.zeros(n_first + n_sub, dtype=np.int64)
    rank[present[np.argsort(order_key)]] = np.arange(present.size)
    return rank[raw], int(present.size)


def _lex_is_label_order(labels: np.ndarray) -> bool:
    """Whether joined variant labels sort like their step sequences.

    True when every label is a string without characters at or below the space: the
    separator then sorts before any character that could follow a shared prefix.
    """
    return all(isinstance(x, str) and all(ch > " " for ch in x) for x in labels.tolist())


def join_sequences(
    labels: np.ndarray, codes: np.ndarray, offsets: np.ndarray, which: np.ndarray
) -> list[str]:
    """``" > "``-joined labels of the segments ``which`` (C-speed join, then split)."""
    if which.size == 0:
        return []
    start = offsets[which]
    lens = offsets[which + 1] - start
    ends = np.cumsum(lens)
    step = np.ones(int(ends[-1]), dtype=np.int64)
    step[0] = start[0]
    step[ends[:-1]] = start[1:] - (start[:-1] + lens[:-1] - 1)
    token = codes[np.cumsum(step)].astype(np.int64)
    texts = [str(x) for x in labels.tolist()]
    if any("\x00" in x for x in texts):
        return [
            SEPARATOR.join(texts[c] for c in codes[offsets[j] : offsets[j + 1]].tolist())
            for j in which.tolist()
        ]
    tokens = np.empty(2 * len(texts), dtype=object)
    tokens[: len(texts)] = [x + SEPARATOR for x in texts]
    tokens[len(texts) :] = [x + "\x00" for x in texts]
    token[ends - 1] += len(texts)
    out = "".join(tokens[token].tolist()).split("\x00")
    out.pop()
    return out


@renamed_parameters(jt="journeys")
def variants(
    journeys: JourneyTable,
    *,
    by: StepBy = "channel",
    collapse_repeats: bool = False,
    top: int | None = None,
) -> Table:
    """Distinct step sequences of the journeys (process variants) with their counts.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`~omnijourney.sessionize`.
    by : {"channel", "event", "channel_event"}
        What labels a step: its channel, its event, or both (``"web:add_to_cart"``).
    collapse_repeats : bool
        Merge consecutive identical steps (``web > web > store`` becomes ``web > store``).
    top : int, optional
        Keep only the ``top`` most frequent variants (shares still count every journey).

    Returns
    -------
    Table
        One row per variant: ``variant`` (labels joined by ``" > "``), ``length`` (steps),
        ``journeys``, ``share`` of all journeys, ``cumulative_share`` (the coverage of this
        and the more frequent variants), ``converted`` (journeys), ``conversion_rate`` and
        ``value`` (sum of conversion values). Sorted by ``journeys`` descending, then by
        ``variant``.

    Notes
    -----
    Counts are exact (no hashing): each journey's sequence is packed into 64-bit words and
    equal sequences are found by sorting, in O(n log n). Strings are built only for the
    distinct variants returned. Ties on the count are ordered by the step sequence, which is
    the order of the labels when step labels hold no spaces or control characters (otherwise
    the joined labels are sorted as strings).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b", "c"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:10", "2024-05-01T09:00",
    ...              "2024-05-01T09:30", "2024-05-02T12:00"],
    ...     "channel": ["web", "store", "web", "store", "app"],
    ...     "event": ["product_view", "purchase", "product_view", "store_visit", "product_view"]})
    >>> v = oj.journeys.variants(oj.sessionize(tp))
    >>> v["variant"].tolist(), v["journeys"].tolist(), v["converted"].tolist()
    (['web > store', 'app'], [2, 1], [1, 0])
    >>> v["cumulative_share"].round(3).tolist()
    [0.667, 1.0]
    """
    jt = check_journeys(journeys, "variants")
    if top is not None and (not isinstance(top, (int, np.integer)) or top < 0):
        msg = f"top must be a non-negative integer or None, got {top!r}"
        raise ConfigError(msg)
    s = steps_of(jt, by, collapse_repeats=collapse_repeats, times=False)
    n_j = s.n_segments
    lens = s.lengths
    ids, n_var = sequence_ids(s.codes, lens, s.labels.size)
    count = np.bincount(ids, minlength=n_var).astype(np.int64)
    j = jt.journeys
    converted = np.bincount(ids, weights=j.raw("converted"), minlength=n_var).astype(np.int64)
    value = np.bincount(ids, weights=j.raw("value"), minlength=n_var)
    example = np.zeros(n_var, dtype=np.int64)
    example[ids] = np.arange(n_j)  # a journey of each variant (they all have its steps)
    length = lens[example] if n_j else np.zeros(0, dtype=np.int64)

    if _lex_is_label_order(s.labels):
        order = np.lexsort((np.arange(n_var), -count))
        chosen = order if top is None else order[:top]
        in_label_order = np.sort(chosen)  # ids follow the sequences' order = the labels' order
        texts = join_sequences(s.labels, s.codes, s.offsets, example[in_label_order])
        names = np.empty(len(texts), dtype=object)
        names[:] = texts
        codes = np.searchsorted(in_label_order, chosen)
    else:
        texts = join_sequences(s.labels, s.codes, s.offsets, example)
        all_names = np.empty(len(texts), dtype=object)
        all_names[:] = texts
        names, text_rank = np.unique(all_names, return_inverse=True)
        text_rank = text_rank.reshape(-1)
        order = np.lexsort((text_rank, -count))
        chosen = order if top is None else order[:top]
        codes = text_rank[chosen]
        kept = np.unique(codes)
        names, codes = names[kept], np.searchsorted(kept, codes)

    total = max(n_j, 1)
    cum = np.cumsum(count[order])[: chosen.size] / total
    data = {
        "variant": codes.astype(code_dtype(names.size)),
        "length": length[chosen].astype(np.int64),
        "journeys": count[chosen],
        "share": count[chosen] / total,
        "cumulative_share": cum,
        "converted": converted[chosen],
        "conversion_rate": converted[chosen] / np.maximum(count[chosen], 1),
        "value": value[chosen],
    }
    return Table.from_arrays(data, {"variant": names})


# --------------------------------------------------------------------------- directly-follows


def step_pairs(s: _Steps) -> tuple[np.ndarray, np.ndarray]:
    """Edge key ``from * L + to`` of every consecutive pair of steps (``L * L`` for pairs that
    cross segments) and the index of those crossing pairs."""
    n_lab = s.labels.size
    if s.codes.size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = s.codes[:-1].astype(np.int64)
    key *= n_lab
    key += s.codes[1:]
    cross = s.offsets[1:-1] - 1
    key[cross] = n_lab * n_lab
    return key, cross


def edge_statistics(s: _Steps) -> tuple[np.ndarray, ...]:
    """Per edge ``from * L + to``: count, median, 90th percentile and mean of the time (us)
    between the two steps of each transition (NaN without transitions).

    Quantiles interpolate linearly, as numpy's default method does. One in-place sort of
    (edge, time) packed into int64 gives every statistic; values are read back lazily.
    """
    n_groups = s.labels.size * s.labels.size
    key, cross = step_pairs(s)
    if key.size == 0:
        nan = np.full(n_groups, np.nan)
        return np.zeros(n_groups, dtype=np.int64), nan, nan.copy(), nan.copy()
    gap = s.first[1:] - s.last[:-1]
    gap[cross] = 0
    groups = np.arange(n_groups + 1, dtype=np.int64)
    vbits = max(int(gap.max()).bit_length(), 1)
    if vbits + max(n_groups.bit_length(), 1) <= 62:
        packed = key
        packed <<= vbits
        packed |= gap
        packed.sort()
        bounds = np.searchsorted(packed, groups << vbits)
        mask = (1 << vbits) - 1

        def at(i: np.ndarray) -> np.ndarray:
            return (packed[i] & mask).astype(np.float64)

        values = np.bitwise_and(packed[: bounds[-1]], mask, out=gap[: bounds[-1]])
    else:
        o = np.lexsort((gap, key))
        bounds = np.searchsorted(key[o], groups)
        ordered = gap[o]
        values = ordered[: bounds[-1]]

        def at(i: np.ndarray) -> np.ndarray:
            return ordered[i].astype(np.float64)

    lo, cnt = bounds[:-1], np.diff(bounds)
    has = cnt > 0
    total = np.zeros(n_groups)
    if has.any():
        total[has] = np.add.reduceat(values, lo[has], dtype=np.float64)
    del values
    last = np.minimum(lo + np.maximum(cnt, 1) - 1, key.size - 1)
    out = []
    for q in (0.5, 0.9):
        h = (np.maximum(cnt, 1) - 1) * q
        below = np.floor(h).astype(np.int64)
        i0 = np.minimum(lo + below, last)
        i1 = np.minimum(i0 + 1, last)
        a, b = at(i0), at(i1)
        out.append(np.where(has, a + (h - below) * (b - a), np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has, total / np.maximum(cnt, 1), np.nan)
    return cnt.astype(np.int64), out[0], out[1], mean


@attrs.frozen(kw_only=True, eq=False)
class DirectlyFollows(TableResult):
    """The directly-follows graph of the journeys' steps.

    Nodes are ``START`` (``"▶"``), the step labels in label order, then ``END`` (``"■"``).
    Matrices are indexed ``[from, to]`` in node order.

    Attributes
    ----------
    nodes : ndarray of str
    counts : ndarray of int64, shape (m, m)
        Transitions between consecutive steps of a journey; the ``START`` row counts the
        journeys' first steps and the ``END`` column their last steps.
    median_seconds, mean_seconds, p90_seconds : ndarray of float, shape (m, m)
        Time between the two touchpoints of each transition (NaN for the start and end
        edges and for pairs that never occur).
    edges : Table
        The non-zero edges: ``from``, ``to``, ``count``, ``median_s``, ``mean_s``, ``p90_s``,
        sorted by count descending, then by node order.
    """

    nodes: np.ndarray
    counts: np.ndarray
    median_seconds: np.ndarray
    mean_seconds: np.ndarray
    p90_seconds: np.ndarray
    edges: Table

    def to_table(self) -> Table:
        """The result's table (``edges``), as the exports hand it over."""
        return self.edges

    def to_pandas(self) -> Any:
        """The edges as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.edges.to_pandas()

    def __repr__(self) -> str:
        n = int(self.counts[0].sum())
        inner = int(self.counts[1:-1, 1:-1].sum())
        return (
            f"DirectlyFollows({self.nodes.size - 2} step labels, {len(self.edges)} edges, "
            f"{n:,} journeys, {inner:,} transitions)"
        )


@renamed_parameters(jt="journeys")
def directly_follows(
    journeys: JourneyTable,
    *,
    by: StepBy = "channel",
    collapse_repeats: bool = False,
    statistics: bool = True,
) -> DirectlyFollows:
    """Directly-follows graph: how often each step is immediately followed by each other.

    Parameters
    ----------
    journeys : JourneyTable
    by : {"channel", "event", "channel_event"}
        What labels a step.
    collapse_repeats : bool
        Merge consecutive identical steps first: self-loops disappear, and a transition's
        time runs from the last touchpoint of the merged run to the next step.
    statistics : bool
        Compute the time statistics of each edge (one sort of the transitions); False gives
        the counts only, with NaN times.

    Returns
    -------
    DirectlyFollows
        Count and time statistics (median, mean, 90th percentile, in seconds) per edge.
        Transitions never cross journeys.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T10:02", "2024-05-01T10:10",
    ...              "2024-05-01T09:00", "2024-05-01T09:30"],
    ...     "channel": ["web", "web", "store", "web", "store"],
    ...     "event": ["product_view", "add_to_cart", "purchase", "product_view", "purchase"]})
    >>> g = oj.journeys.directly_follows(oj.sessionize(tp))
    >>> g.nodes.tolist()
    ['▶', 'store', 'web', '■']
    >>> g.counts.tolist()
    [[0, 0, 2, 0], [0, 0, 0, 2], [0, 2, 1, 0], [0, 0, 0, 0]]
    >>> float(g.median_seconds[2, 1]), float(g.p90_seconds[2, 1])
    (1140.0, 1668.0)
    """
    jt = check_journeys(journeys, "directly_follows")
    s = steps_of(jt, by, collapse_repeats=collapse_repeats)
    n_lab = s.labels.size
    m = n_lab + 2
    if statistics:
        inner, median, p90, mean = edge_statistics(s)
    else:
        key, _ = step_pairs(s)  # pairs crossing journeys fall in the extra last bin
        inner = np.bincount(key, minlength=n_lab * n_lab + 1)[: n_lab * n_lab]
        median = p90 = mean = np.full(n_lab * n_lab, np.nan)
    counts = np.zeros((m, m), dtype=np.int64)
    counts[1:-1, 1:-1] = inner.reshape(n_lab, n_lab)
    if s.n_segments:
        counts[0, 1:-1] = np.bincount(s.codes[s.offsets[:-1]], minlength=n_lab)
        counts[1:-1, -1] = np.bincount(s.codes[s.offsets[1:] - 1], minlength=n_lab)

    def square(flat: np.ndarray) -> np.ndarray:
        out = np.full((m, m), np.nan)
        out[1:-1, 1:-1] = flat.reshape(n_lab, n_lab) / 1e6
        return out

    med, avg, p9 = square(median), square(mean), square(p90)
    # keep the labels that occur: every occurrence leads somewhere (the next step or the end)
    keep = counts.sum(axis=1) > 0
    keep[[0, -1]] = True
    counts = counts[keep][:, keep]
    med, avg, p9 = (x[keep][:, keep] for x in (med, avg, p9))
    nodes = np.empty(int(keep.sum()), dtype=object)
    nodes[:] = [START, *[str(x) for x in s.labels[keep[1:-1]].tolist()], END]
    fr, to = np.nonzero(counts)
    c = counts[fr, to]
    order = np.lexsort((to, fr, -c))
    fr, to = fr[order], to[order]
    edges = Table.from_columns(
        {
            "from": nodes[fr],
            "to": nodes[to],
            "count": counts[fr, to],
            "median_s": med[fr, to],
            "mean_s": avg[fr, to],
            "p90_s": p9[fr, to],
        },
        kinds={"from": "category", "to": "category", "count": "int"},
    )
    return DirectlyFollows(
        nodes=nodes,
        counts=counts,
        median_seconds=med,
        mean_seconds=avg,
        p90_seconds=p9,
        edges=edges,
    )

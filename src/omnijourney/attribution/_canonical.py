"""The canonical order of paths: equal paths grouped, rows ordered by their values alone.

Paths are packed exactly into integer words, so equal paths are found without hashing, and
ordered by length then channel by channel. Rows of equal paths are ordered by their counts and
then their times, so that a table's canonical order depends on its rows' values only, never on
the order they came in: what is drawn or summed in that order is the same for any input order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from omnijourney._arrays import positions, run_starts

if TYPE_CHECKING:
    from omnijourney.attribution._paths import PathTable

__all__ = ["canonical_groups", "canonical_rows", "in_canonical_order", "path_keys"]


def path_keys(
    codes: np.ndarray, offsets: np.ndarray, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each path packed into int64 words (``62 // bits`` codes a word), and its length.

    Two paths are equal exactly when their lengths and words are; sorting by (length, word 0,
    word 1...) orders them by length, then channel by channel in code order.
    """
    n = offsets.size - 1
    lengths = np.diff(offsets)
    bits = max(int(n_labels).bit_length(), 1)  # codes + 1 in [1, n_labels]
    per = max(62 // bits, 1)
    pos = positions(lengths)
    chunk = pos // per
    shift = ((per - 1 - pos % per) * bits).astype(np.int64)
    term = (codes.astype(np.int64) + 1) << shift
    n_words = int(chunk.max()) + 1 if chunk.size else 1
    word_start = np.flatnonzero(pos % per == 0)
    sums = np.add.reduceat(term, word_start) if word_start.size else np.zeros(0, np.int64)
    pid = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys = np.zeros((n_words, n), dtype=np.int64)
    keys[chunk[word_start], pid[word_start]] = sums
    return keys, lengths


def canonical_groups(
    codes: np.ndarray, offsets: np.ndarray, n_labels: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Canonical row order of paths (length, then codes) and the group of equal paths of each
    row of that order; ties keep the input order (see :func:`canonical_rows` for none)."""
    n = offsets.size - 1
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    keys, lengths = path_keys(codes, offsets, n_labels)
    # lexsort sorts by the last key first: words from last to first, then the length
    order = np.lexsort((*keys[::-1], lengths))
    new = run_starts(lengths[order], *keys[:, order])
    group = np.cumsum(new) - 1
    return order, group, int(group[-1]) + 1


def canonical_rows(
    codes: np.ndarray,
    offsets: np.ndarray,
    n_labels: int,
    counts: tuple[np.ndarray, ...],
    times: np.ndarray | None = None,
) -> np.ndarray:
    """A row order that depends on the rows' values only: by path (as
    :func:`canonical_groups`), then by each of ``counts`` (conversions, value, nulls), then
    by the times of the steps, first step first. Rows left tied are equal in every value.

    Counts and times must hold no negative zero (``-0.0`` sorts with ``0.0``).
    """
    n = offsets.size - 1
    if n == 0:
        return np.zeros(0, np.int64)
    keys, lengths = path_keys(codes, offsets, n_labels)
    order = np.lexsort((*counts[::-1], *keys[::-1], lengths))
    if times is None:
        return order
    new = run_starts(lengths[order], *keys[:, order], *(c[order] for c in counts))
    tied = ~new
    longest = int(lengths.max())
    for p in range(longest):
        tied_next = np.zeros(n, dtype=bool)
        tied_next[:-1] = tied[1:]
        sel = (tied | tied_next) & (lengths[order] > p)  # whole runs: a run shares its path
        if not sel.any():
            break
        at = np.flatnonzero(sel)
        run = np.cumsum(~tied)[at]
        t = times[offsets[order[at]] + p]
        sub = np.lexsort((t, run))
        order[at] = order[at][sub]
        t = t[sub]
        same = np.zeros(at.size, dtype=bool)
        same[1:] = (run[1:] == run[:-1]) & (t[1:] == t[:-1])
        tied[at] = same
    return order


def in_canonical_order(paths: PathTable) -> PathTable:
    """The rows of ``paths`` in :func:`canonical_rows` order (none merged): what is drawn or
    summed row by row over the result is the same for any order of the input rows."""
    counts = (paths.conversions, paths.value, paths.nulls)
    order = canonical_rows(paths.codes, paths.offsets, paths.n_channels, counts, paths.times)
    if np.array_equal(order, np.arange(order.size)):
        return paths
    return paths.take(order)

"""Growing dictionaries of values: appending a batch's values without re-sorting the old ones.

A resolution's tables and normalized fields code their values into dictionaries. Adding a
batch of records must not cost a pass over every distinct value in Python, so:

- :func:`append_rows` appends the rows of a table to another of the same columns; each
  category dictionary (sorted, as tables keep them) takes the batch's new labels by binary
  search and insertion, and the old codes are shifted by vectorized arithmetic;
- :class:`LabelIndex` finds values in an unsorted dictionary (normalized values are numbered in
  order of first appearance) through their hashes, kept sorted, and grows with it.
"""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney.tables import Table, code_dtype

__all__ = ["LabelIndex", "append_rows", "flag", "merge_sorted_labels", "recode"]


def merge_sorted_labels(
    labels: np.ndarray, new: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of a sorted dictionary and sorted distinct values.

    Returns the union (sorted), the new code of each old label, and the code of each value
    of ``new``.

    Examples
    --------
    >>> union, old, new = merge_sorted_labels(np.array(["b", "d"], dtype=object),
    ...                                       np.array(["a", "d", "e"], dtype=object))
    >>> union.tolist(), old.tolist(), new.tolist()
    (['a', 'b', 'd', 'e'], [1, 2], [0, 2, 3])
    """
    pos = np.searchsorted(labels, new)
    found = pos < labels.size
    found[found] = labels[pos[found]] == new[found]
    insert_at = pos[~found]
    union = np.insert(labels, insert_at, new[~found]) if insert_at.size else labels
    shift = np.cumsum(np.bincount(insert_at, minlength=labels.size + 1))[: labels.size]
    old_codes = np.arange(labels.size, dtype=np.int64) + shift
    new_codes = np.empty(new.size, dtype=np.int64)
    new_codes[found] = old_codes[pos[found]]
    # a new value lands after the old labels before it and the new values before it
    new_codes[~found] = insert_at + np.arange(insert_at.size)
    return union, old_codes, new_codes


def append_rows(table: Table, batch: Table, rows: np.ndarray) -> Table:
    """``table`` with the rows of ``batch`` (same columns and kinds) at ``rows``: a row of
    ``table`` is replaced, a row past its end appended (those rows follow one another).

    Costs O(rows + batch labels x log(labels)): no dictionary is rebuilt in Python.
    """
    n = len(table)
    size = max(n, int(rows.max()) + 1 if rows.size else 0)
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for name in table.columns:
        raw, extra = table.raw(name), batch.raw(name)
        if table.kinds[name] == "category":
            old_labels, batch_labels = table.labels(name), batch.labels(name)
            if batch_labels.dtype != old_labels.dtype and batch_labels.size:
                # ints and text in one dictionary: as text
                old_labels = old_labels.astype(str).astype(object)
                batch_labels = batch_labels.astype(str).astype(object)
                order = np.argsort(old_labels)
                back = np.empty_like(order)
                back[order] = np.arange(order.size)
                raw = recode(back, raw)
                old_labels = old_labels[order]
                batch_sort = np.argsort(batch_labels)
                bback = np.empty_like(batch_sort)
                bback[batch_sort] = np.arange(batch_sort.size)
                extra = recode(bback, extra)
                batch_labels = batch_labels[batch_sort]
            union, old_codes, new_codes = merge_sorted_labels(old_labels, batch_labels)
            raw, extra = recode(old_codes, raw), recode(new_codes, extra)
            labels[name] = union
            dtype = code_dtype(union.size)
        else:
            dtype = raw.dtype
        out = np.empty(size, dtype=dtype)
        out[:n] = raw
        out[rows] = extra
        data[name] = out
    specs = {name: table.spec(name) for name in table.columns}
    return type(table).from_arrays(data, labels, specs=specs)


def recode(mapping: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``mapping[codes]``, -1 where a code is -1.

    Examples
    --------
    >>> recode(np.array([4, 7]), np.array([1, -1, 0])).tolist()
    [7, -1, 4]
    """
    return np.append(mapping.astype(np.int64), -1)[codes.astype(np.int64)]


def flag(mask: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``mask[codes]``, False where a code is -1."""
    return np.append(mask.astype(bool), False)[codes.astype(np.int64)]


def _hashes(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(hash, values.tolist()), dtype=np.int64, count=values.size)


@attrs.define(eq=False)
class LabelIndex:
    """Finds values in an unsorted dictionary by their hashes (kept sorted).

    Hashes are Python's, valid in one process only: an index is never saved, and is rebuilt
    when needed.

    Examples
    --------
    >>> idx = LabelIndex.of(np.array(["x", "a", "m"], dtype=object))
    >>> idx.find(np.array(["m", "q"], dtype=object)).tolist()
    [2, -1]
    """

    labels: np.ndarray
    hashes: np.ndarray
    order: np.ndarray

    @classmethod
    def of(cls, labels: np.ndarray) -> LabelIndex:
        h = _hashes(labels)
        order = np.argsort(h, kind="stable")
        return cls(labels, h[order], order)

    def find(self, values: np.ndarray) -> np.ndarray:
        """Code of each value in the dictionary, -1 when absent."""
        h = _hashes(values)
        pos = np.searchsorted(self.hashes, h)
        out = np.full(values.size, -1, dtype=np.int64)
        if self.hashes.size == 0:
            return out
        at = np.minimum(pos, self.hashes.size - 1)
        hit = self.hashes[at] == h
        code = self.order[at]
        same = np.zeros(values.size, dtype=bool)
        same[hit] = self.labels[code[hit]] == values[hit]
        out[same] = code[same]
        # equal hashes of different values (rare): check the run of equal hashes
        for i in np.flatnonzero(hit & ~same).tolist():
            p = int(pos[i]) + 1
            while p < self.hashes.size and self.hashes[p] == h[i]:
                if self.labels[self.order[p]] == values[i]:
                    out[i] = int(self.order[p])
                    break
                p += 1
        return out

    def extended(self, new: np.ndarray) -> LabelIndex:
        """The index of the dictionary with ``new`` (absent values) appended."""
        if new.size == 0:
            return self
        h = _hashes(new)
        pos = np.searchsorted(self.hashes, h)
        # positions grow with the hashes: hash order keeps equal positions sorted too
        order = np.argsort(h, kind="stable")
        codes = self.labels.size + np.arange(new.size)
        labels = np.concatenate([self.labels, new.astype(self.labels.dtype, copy=False)])
        return LabelIndex(
            labels,
            np.insert(self.hashes, pos[order], h[order]),
            np.insert(self.order, pos[order], codes[order]),
        )

"""Counts over the whole data given to a run on part of it.

A run on a set of records closed under blocking (every record sharing a block key, or a
value of an identifier, with one of them is in the set) finds the same candidate pairs as a
run on all the records, except where a count over all the records enters: identifier values
held by too many records (ignored, or shared), blocks over their cap (skipped), and the term
frequencies of the values a pair agrees on. :class:`Known` carries those counts, computed
once over the whole data (in Spark, see :func:`omnijourney.spark.resolve`).
"""

from __future__ import annotations

import attrs
import numpy as np

__all__ = ["Known"]


@attrs.frozen(eq=False)
class Known:
    """Counts over all the records, per record of the part.

    Attributes
    ----------
    counts : dict of str to numpy.ndarray
        Per field, each record's count of its normalized value over all the records (0
        without a valid value).
    skipped : dict of int to numpy.ndarray
        Per blocking rule (its index), whether each record's block is over the rule's cap
        over all the records.
    """

    counts: dict[str, np.ndarray]
    skipped: dict[int, np.ndarray]

    def per_value(self, field: str, codes: np.ndarray, size: int) -> np.ndarray | None:
        """The count of each value (``size`` codes) of ``field``, or None when not known."""
        if field not in self.counts:
            return None
        out = np.zeros(size, dtype=np.int64)
        ok = codes >= 0
        np.maximum.at(out, codes[ok].astype(np.int64), self.counts[field][ok].astype(np.int64))
        return out

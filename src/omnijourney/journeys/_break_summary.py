"""What a break table says in a few lines, and its per-kind, per-channel-pair counts."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.journeys._breaks import BreakTable

_CATEGORIES = {"kind": "category", "from_channel": "category", "to_channel": "category"}


def pair_counts(bt: BreakTable) -> Table:
    """Breaks per kind and channel pair: ``breaks``, ``customers``, ``median_delay_h`` and
    ``mean_delay_h``, the most frequent first."""
    if len(bt) == 0:
        return Table.from_columns(
            {k: [] for k in _CATEGORIES}
            | {
                "breaks": np.zeros(0, np.int64),
                "customers": np.zeros(0, np.int64),
                "median_delay_h": np.zeros(0),
                "mean_delay_h": np.zeros(0),
            },
            kinds=_CATEGORIES,
        )
    kind = bt.raw("kind").astype(np.int64)
    fc = bt.raw("from_channel").astype(np.int64)
    tc = bt.raw("to_channel").astype(np.int64)
    nf, nt = bt.labels("from_channel").size, bt.labels("to_channel").size
    key = (kind * nf + fc) * nt + tc
    uniq, inv = np.unique(key, return_inverse=True)
    delay = bt.raw("delay") / 3600.0
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    groups = np.split(order, bounds)
    cust = bt.raw("customer")
    rows = {
        "kind": bt.labels("kind")[uniq // (nf * nt)],
        "from_channel": bt.labels("from_channel")[(uniq // nt) % nf],
        "to_channel": bt.labels("to_channel")[uniq % nt],
        "breaks": np.array([g.size for g in groups], dtype=np.int64),
        "customers": np.array([np.unique(cust[g]).size for g in groups], dtype=np.int64),
        "median_delay_h": np.array([np.median(delay[g]) for g in groups]),
        "mean_delay_h": np.array([delay[g].mean() for g in groups]),
    }
    out = Table.from_columns(rows, kinds=_CATEGORIES)
    return out[np.lexsort((-out.raw("breaks"),))]


def summary_text(bt: BreakTable, pairs: Table) -> str:
    """A line of totals, a line per kind of break (count, customers, median delay and its
    most frequent channel pairs) and a line per rule that matched nothing."""
    n = len(bt)
    customers = np.unique(bt.raw("customer")).size
    lines = [f"{n:,} breaks of {customers:,} customers"]
    labels = bt.labels("kind")
    codes = bt.raw("kind").astype(np.int64)
    delay = bt.raw("delay") / 3600.0
    for code in np.argsort(-np.bincount(codes, minlength=labels.size), kind="stable"):
        rows = codes == code
        if not rows.any():
            continue
        kind = str(labels[code])
        mine = pairs.filter(pairs["kind"] == kind)
        top = ", ".join(
            f"{f} -> {t} {b:,}"
            for f, t, b in zip(
                mine["from_channel"][:3], mine["to_channel"][:3], mine["breaks"][:3].tolist()
            )
        )
        more = ", ..." if len(mine) > 3 else ""
        lines.append(
            f"  {kind}: {int(rows.sum()):,} breaks, "
            f"{np.unique(bt.raw('customer')[rows]).size:,} customers, "
            f"median delay {np.median(delay[rows]):.1f} h ({top}{more})"
        )
    lines.extend(f"unmatched: {u.line}" for u in bt.unmatched)
    return "\n".join(lines)


class SummaryText(str):
    """The text of :meth:`BreakTable.summary`, which still answers as the table it used to
    be (through :meth:`BreakTable.pair_counts`), with a DeprecationWarning."""

    _table: Table

    def __new__(cls, text: str, table: Table) -> SummaryText:
        out = super().__new__(cls, text)
        out._table = table
        return out

    def _deprecated(self) -> Table:
        warnings.warn(
            "BreakTable.summary() returns text; the table of breaks per kind and channel pair "
            "is BreakTable.pair_counts()",
            DeprecationWarning,
            stacklevel=3,
        )
        return self._table

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_table":
            raise AttributeError(name)
        return getattr(self._deprecated(), name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer, slice)):
            return str.__getitem__(self, key)
        return self._deprecated()[key]

"""Stock observations and the catalogue, from the user's columns."""

from __future__ import annotations

import numpy as np

from omnijourney.pricing._tables import as_problems
from omnijourney.tables import ColumnSpec, Problem, Table

__all__ = ["CatalogTable", "StockTable"]


class StockTable(Table):
    """Stock observations: the quantity of a sku at a location, and what customers were shown.

    Columns (library names; the user's names are given to :meth:`from_columns`):

    ===============  ========  ======================================================
    column           kind      meaning
    ===============  ========  ======================================================
    sku              category  product (required)
    location         category  store or site (``"online"`` for the web stock) (required)
    channel          category  system that reports it; derived from the location
                               when absent (see :class:`Policy` ``stock_channels``)
    time             time      when observed (required); holds until the next one
    quantity         float     units in stock (required)
    shown_available  bool      the web or app showed the product as available
    click_collect    bool      click & collect was offered at that store
    ===============  ========  ======================================================

    Examples
    --------
    >>> stock = StockTable.from_columns(
    ...     {"sku": ["A1", "A1"], "store": ["S01", "S01"], "day": ["2024-05-01", "2024-05-02"],
    ...      "qty": [3, 0], "shown": [True, True]},
    ...     location="store", time="day", quantity="qty", shown_available="shown")
    >>> stock["quantity"].tolist()
    [3.0, 0.0]

    Negative quantities are kept: they are findings of an audit, not unreadable values.
    """

    table_name = "StockTable"
    schema = (
        ColumnSpec("sku", "category", required=True, nullable=False, doc="product"),
        ColumnSpec("location", "category", required=True, nullable=False, doc="store or site"),
        ColumnSpec("channel", "category", nullable=False, doc="reporting channel"),
        ColumnSpec("time", "time", required=True, nullable=False, doc="observation time"),
        ColumnSpec("quantity", "float", required=True, nullable=False, doc="units"),
        ColumnSpec("shown_available", "bool", doc="shown as available"),
        ColumnSpec("click_collect", "bool", doc="click & collect offered"),
    )


# --------------------------------------------------------------------------- catalog


class CatalogTable(Table):
    """What an audit may need to know about each sku: launch, delisting, perishability.

    ==========  ========  ============================================================
    column      kind      meaning
    ==========  ========  ============================================================
    sku         category  product (required, unique)
    launched    time      first day on sale (the prior price of a newer product covers
                          the time since)
    delisted    time      last day on sale (no coverage hole after it)
    perishable  bool      goods liable to deteriorate quickly (policy ``perishables``)
    ==========  ========  ============================================================

    Examples
    --------
    >>> cat = CatalogTable.from_columns({"sku": ["A1", "B2"], "fresh": [False, True]},
    ...                                 perishable="fresh")
    >>> cat["perishable"].tolist()
    [False, True]
    """

    table_name = "CatalogTable"
    schema = (
        ColumnSpec("sku", "category", required=True, nullable=False, doc="product"),
        ColumnSpec("launched", "time", doc="first day on sale"),
        ColumnSpec("delisted", "time", doc="last day on sale"),
        ColumnSpec("perishable", "bool", doc="perishable goods"),
    )

    @classmethod
    def check_rows(cls, table: Table) -> list[Problem]:
        """One row per sku."""
        return as_problems(_check_catalog(table))


def _check_catalog(table: Table) -> list[tuple[str, np.ndarray, str]]:
    codes = table.raw("sku").astype(np.int64)
    if codes.size == 0:
        return []
    order = np.argsort(codes, kind="stable")
    dup_sorted = np.zeros(codes.size, dtype=bool)
    dup_sorted[1:] = codes[order][1:] == codes[order][:-1]
    bad = np.zeros(codes.size, dtype=bool)
    bad[order[dup_sorted]] = True
    return [("sku", bad, "is a duplicate sku (one row per sku)")] if bad.any() else []

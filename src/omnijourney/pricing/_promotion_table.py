"""Promotions as announced, from the user's columns."""

from __future__ import annotations

import numpy as np

from omnijourney.pricing._tables import (
    Audience,
    Mechanic,
    _ends_before_start,
    _positive,
    as_problems,
)
from omnijourney.tables import ColumnSpec, Problem, Table

__all__ = ["PromotionTable"]


class PromotionTable(Table):
    """Promotions as announced: one row per promotion (or step), sku and channel (location).

    Columns (library names; the user's names are given to :meth:`from_columns`):

    ===============  ========  ======================================================
    column           kind      meaning
    ===============  ========  ======================================================
    promo_id         category  promotion id (required); the steps of a progressive
                               reduction share it
    sku              category  product (required)
    channel          category  channel (required)
    location         category  store, region or site; null for every location
    mechanic         enum      ``percentage``, ``amount_off``, ``fixed_price``,
                               ``multi_buy``
    discount         float     % off or amount off (>= 0)
    promo_price      float     the announced price ("now"), > 0
    buy, pay         int       multi-buy: ``buy`` items for the price of ``pay``
    start            time      start (required)
    end              time      end (exclusive); null when open-ended
    reference_price  float     the announced reference ("was") price, > 0
    announced_pct    float     the announced reduction in %
    audience         enum      ``public`` (default), ``loyalty``, ``personalised``
    stackable        bool      may combine with other stackable promotions
    stack_type       category  type used by the policy's stacking matrix
    exclusive        bool      a channel-exclusive offer (an app-only deal): exempt
                               from mirroring
    ===============  ========  ======================================================

    A row needs a promotional price: ``promo_price``, or a ``mechanic`` with ``discount``
    (percentage, amount off) or ``buy`` and ``pay`` (multi-buy), applied to the regular price.

    Examples
    --------
    >>> promos = PromotionTable.from_columns(
    ...     {"id": ["P1", "P1"], "sku": ["A1", "A1"], "channel": ["web", "store"],
    ...      "now": [14.99, 14.99], "was": [19.99, 19.99], "pct": [25.0, 25.0],
    ...      "start": ["2024-05-10", "2024-05-10"], "end": ["2024-05-17", "2024-05-17"]},
    ...     promo_id="id", promo_price="now", reference_price="was", announced_pct="pct")
    >>> promos["channel"].tolist()
    ['web', 'store']
    """

    table_name = "PromotionTable"
    schema = (
        ColumnSpec("promo_id", "category", required=True, nullable=False, doc="promotion"),
        ColumnSpec("sku", "category", required=True, nullable=False, doc="product"),
        ColumnSpec("channel", "category", required=True, nullable=False, doc="channel"),
        ColumnSpec("location", "category", doc="store, region or site"),
        ColumnSpec("mechanic", "enum", enum=Mechanic, doc="how the price is lowered"),
        ColumnSpec("discount", "float", nonnegative=True, doc="% or amount off"),
        ColumnSpec("promo_price", "float", doc="announced price"),
        ColumnSpec("buy", "int", doc="multi-buy: items bought"),
        ColumnSpec("pay", "int", doc="multi-buy: items paid"),
        ColumnSpec("start", "time", required=True, nullable=False, doc="start"),
        ColumnSpec("end", "time", doc="end (exclusive)"),
        ColumnSpec("reference_price", "float", doc="announced reference price"),
        ColumnSpec("announced_pct", "float", doc="announced reduction in %"),
        ColumnSpec("audience", "enum", enum=Audience, nullable=False, doc="who"),
        ColumnSpec("stackable", "bool", doc="may combine"),
        ColumnSpec("stack_type", "category", doc="type for the stacking matrix"),
        ColumnSpec("exclusive", "bool", doc="channel-exclusive offer"),
    )

    @classmethod
    def check_rows(cls, table: Table) -> list[Problem]:
        """Promotions end after they start, prices are positive, a percentage is at most
        100, a multi-buy has ``buy > pay >= 1``, and every row has a way to know its
        promotional price."""
        return as_problems(_check_promotions(table))


def _check_promotions(table: Table) -> list[tuple[str, np.ndarray, str]]:
    out = _ends_before_start(table, "start", "end")
    out += _positive(table, "promo_price")
    out += _positive(table, "reference_price")
    cols = table.columns
    n = len(table)
    price = table.raw("promo_price") if "promo_price" in cols else np.full(n, np.nan)
    mech = table.raw("mechanic") if "mechanic" in cols else np.full(n, -1, dtype=np.int8)
    code = {m: i for i, m in enumerate(Mechanic)}
    has_disc = ~np.isnan(table.raw("discount")) if "discount" in cols else np.zeros(n, bool)
    multi = mech == code[Mechanic.MULTI_BUY]
    if multi.any():
        buy = table.raw("buy") if "buy" in cols else np.zeros(n, dtype=np.int64)
        pay = table.raw("pay") if "pay" in cols else np.zeros(n, dtype=np.int64)
        bad = multi & ~((pay >= 1) & (buy > pay))
        if bad.any():
            out.append(("mechanic", bad, "is a multi-buy without buy > pay >= 1"))
    if "discount" in cols:
        with np.errstate(invalid="ignore"):
            over = (mech == code[Mechanic.PERCENTAGE]) & (table.raw("discount") > 100)
        if over.any():
            out.append(("discount", over, "is a percentage above 100"))
    if "announced_pct" in cols:
        with np.errstate(invalid="ignore"):
            over = table.raw("announced_pct") > 100
        if over.any():
            out.append(("announced_pct", over, "is a percentage above 100"))
    derivable = (
        ((mech == code[Mechanic.PERCENTAGE]) | (mech == code[Mechanic.AMOUNT_OFF])) & has_disc
    ) | multi
    bad = np.isnan(price) & ~derivable
    if bad.any():
        out.append(
            (
                "promo_price",
                bad,
                "is missing and cannot be derived (give promo_price, or a percentage or "
                "amount_off mechanic with a discount, or a multi_buy with buy and pay)",
            )
        )
    return out

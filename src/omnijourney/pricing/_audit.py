"""``audit``: every check of a policy over prices, promotions and stock, as one findings table."""

from __future__ import annotations

from typing import Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.pricing._checks_price import below_map, coverage_holes, price_gaps, stale_prices
from omnijourney.pricing._checks_promo import prepare_promotions, promotion_checks
from omnijourney.pricing._checks_stock import stock_checks
from omnijourney.pricing._findings import FindingTable, Found, PriceAudit
from omnijourney.pricing._policy import Policy
from omnijourney.pricing._promotion_table import PromotionTable
from omnijourney.pricing._series import Context, build_series, merge_equal_neighbours, period
from omnijourney.pricing._stock_table import CatalogTable, StockTable
from omnijourney.pricing._tables import PriceTable, as_table
from omnijourney.tables import Table
from omnijourney.time import TIME_DTYPE, to_datetime64

__all__ = ["audit"]


def _instant(value: Any, name: str) -> int | None:
    if value is None:
        return None
    return int(to_datetime64(value, name=name).astype(np.int64))


def audit(
    prices: PriceTable | Any,
    promotions: PromotionTable | Any | None = None,
    stock: StockTable | Any | None = None,
    *,
    policy: Policy | None = None,
    catalog: CatalogTable | Any | None = None,
    start: Any = None,
    as_of: Any = None,
) -> PriceAudit:
    """Check prices, promotions and stock against a policy, across channels and over time.

    Parameters
    ----------
    prices : PriceTable
        Price intervals (a table or mapping with the library's column names is converted with
        :meth:`PriceTable.from_columns`).
    promotions : PromotionTable, optional
        Promotions as announced; without them only the price and stock rules run.
    stock : StockTable, optional
        Stock observations.
    policy : Policy, optional
        What to check and how (default: the EU profile, :meth:`Policy.eu`).
    catalog : CatalogTable, optional
        Launch and delisting times and perishability of the skus.
    start : time, optional
        Start of the period audited (default: the earliest ``valid_from``). A sku launched
        before it must have a price from ``start``.
    as_of : time, optional
        When the data was extracted: open-ended intervals run until then, and staleness is
        judged then. Default: the latest time in the data.

    Returns
    -------
    PriceAudit
        ``findings`` (one :class:`FindingTable` row per finding, ``to_pandas()`` for a
        DataFrame), summaries per rule, channel and sku, and what produced them.

    Raises
    ------
    ConfigError
        Inputs of the wrong type, or a policy that needs a catalogue column not given.
    DataError
        Bad values (see the tables), mixed currencies without rates, overlapping intervals or
        promotions without prices when the policy says ``"raise"``.

    Notes
    -----
    Exact at any time resolution: nothing is resampled. Intervals are sorted once by series
    and start, O(n log n); the prior price of each promotion row is a binary search and a
    range minimum (``numpy.minimum.reduceat``) over its series; cross-channel gaps sweep the
    change points of each sku, O(n log n + c) with c the cells (series x change points) of
    the compared groups, processed in chunks of bounded memory.

    Examples
    --------
    A "was 19.99, now 14.99" promotion whose 30 days before included a one-hour flash price
    of 12.99 on the web:

    >>> import omnijourney as oj
    >>> prices = oj.pricing.PriceTable.from_columns({
    ...     "sku": ["A1"] * 4,
    ...     "channel": ["web"] * 4,
    ...     "price": [19.99, 12.99, 19.99, 14.99],
    ...     "valid_from": ["2024-04-01", "2024-04-20T12:00", "2024-04-20T13:00", "2024-05-10"],
    ...     "valid_to": ["2024-04-20T12:00", "2024-04-20T13:00", "2024-05-10", None],
    ...     "price_type": ["regular", "promotional", "regular", "promotional"]})
    >>> promos = oj.pricing.PromotionTable.from_columns({
    ...     "promo_id": ["P1"], "sku": ["A1"], "channel": ["web"], "promo_price": [14.99],
    ...     "reference_price": [19.99], "announced_pct": [25.0],
    ...     "start": ["2024-05-10"], "end": ["2024-05-20"]})
    >>> result = oj.pricing.audit(prices, promos, as_of="2024-06-01")
    >>> result.counts()["prior_price_reference"]
    1
    >>> print(result.explain(0))  # doctest: +NORMALIZE_WHITESPACE
    Promotion P1 showed A1 on web as reduced from 19.99 from 2024-05-10 to 2024-05-20, but
    the lowest public price applied before the reduction (the prior price) was 12.99
    (Directive 98/6/EC art. 6a(1)-(2), inserted by Directive (EU) 2019/2161).
    """
    policy = Policy() if policy is None else policy
    if not isinstance(policy, Policy):
        msg = f"policy must be a Policy, got {type(policy).__name__}"
        raise ConfigError(msg)
    if prices is None:
        msg = "prices are required: a PriceTable"
        raise ConfigError(msg)
    price_table: PriceTable = as_table(PriceTable, prices, "prices")
    promo_table: PromotionTable | None = as_table(PromotionTable, promotions, "promotions")
    stock_table: StockTable | None = as_table(StockTable, stock, "stock")
    catalog_table: CatalogTable | None = as_table(CatalogTable, catalog, "catalog")
    if policy.perishables == "exempt" and (
        catalog_table is None or "perishable" not in catalog_table.columns
    ):
        msg = (
            "Policy(perishables='exempt') needs to know which skus are perishable: pass "
            "catalog=CatalogTable.from_columns(..., perishable=<column>)"
        )
        raise ConfigError(msg)
    tables: dict[str, Table | None] = {
        "prices": price_table,
        "promotions": promo_table,
        "stock": stock_table,
    }
    t0, t1 = period(tables, _instant(start, "start"), _instant(as_of, "as_of"))
    ctx = Context.build(policy, tables, catalog_table, t0, t1)
    series, found = build_series(price_table, ctx, merge=False)
    if policy.checks("stale_price"):  # each interval as sent, before equal neighbours merge
        found.append(stale_prices(series, ctx))
    series = merge_equal_neighbours(series)
    if policy.checks("coverage_hole"):
        found.append(coverage_holes(series, ctx))
    if policy.checks("below_map"):
        found.append(below_map(series, ctx))
    found.extend(price_gaps(series, ctx))
    if promo_table is not None:
        promos, index, without = prepare_promotions(promo_table, series, ctx)
        if policy.checks("promotion_without_price"):
            found.append(without)
        found.extend(promotion_checks(promos, index, series, ctx))
    if stock_table is not None:
        found.extend(stock_checks(stock_table, ctx))
    findings = _assemble(found, ctx)
    return PriceAudit(
        findings=findings,
        policy=policy,
        start=np.int64(t0).view(TIME_DTYPE),
        as_of=np.int64(t1).view(TIME_DTYPE),
        n_prices=len(price_table),
        n_promotions=0 if promo_table is None else len(promo_table),
        n_stock=0 if stock_table is None else len(stock_table),
        n_series=series.n,
    )


def _assemble(found: list[Found], ctx: Context) -> FindingTable:
    return FindingTable.assemble(
        [f for f in found if f.rule in ctx.policy.rules],
        ctx.policy,
        sku_labels=ctx.sku_labels,
        channel_labels=ctx.channel_labels,
        location_labels=ctx.location_labels,
        currency_labels=ctx.currency_labels,
    )

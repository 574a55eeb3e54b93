"""The price audit on Spark, partitioned by product: each sku's prices, promotions, stock
and catalogue row go to one partition, where the local audit runs over the period fixed
once for the whole data."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.pricing import Policy
from omnijourney.spark._session import require_columns, require_spark, spark_schema
from omnijourney.time import to_datetime64

__all__ = ["audit"]

# the columns required of each table
_REQUIRED = {
    "prices": ("sku", "channel", "price", "valid_from"),
    "promotions": ("sku", "channel", "start"),
    "stock": ("sku", "location", "time", "quantity"),
    "catalog": ("sku",),
}


def audit(
    prices: Any,
    promotions: Any = None,
    stock: Any = None,
    *,
    policy: Policy | None = None,
    catalog: Any = None,
    start: Any = None,
    as_of: Any = None,
    partitions: int | None = None,
) -> Any:
    """Findings of :func:`omnijourney.pricing.audit` over Spark DataFrames, partitioned by sku.

    Parameters
    ----------
    prices, promotions, stock, catalog : pyspark.sql.DataFrame
        The tables with the library's column names (as
        :meth:`omnijourney.pricing.PriceTable.from_columns` reads them); only ``prices`` is
        required.
    policy : Policy, optional
        As for the local audit (default: the EU profile).
    start, as_of : time, optional
        The audited period. Defaults as locally, computed once over the whole data (the
        earliest ``valid_from``; the latest time of prices, promotions and stock), so that
        every partition audits the same period.
    partitions : int, optional
        Number of partitions to spread the skus over.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per finding, the columns of
        :class:`~omnijourney.pricing.FindingTable`: the same findings as the local audit.

    Notes
    -----
    Every rule of the audit compares a sku with itself (across channels, locations and
    time), so partitioning by sku changes no finding. Rows travel to their partition as
    JSON text, read there by the local table builders: a bad value fails with the local
    ``DataError``, its row counted within the sku's rows.

    Examples
    --------
    >>> findings = audit(prices_df, promotions_df)  # doctest: +SKIP
    >>> findings.groupBy("rule").count().show()  # doctest: +SKIP
    """
    sql = require_spark()
    F = sql.functions
    policy = Policy() if policy is None else policy
    if not isinstance(policy, Policy):
        msg = f"policy must be a Policy, got {type(policy).__name__}"
        raise ConfigError(msg)
    given = {"prices": prices, "promotions": promotions, "stock": stock, "catalog": catalog}
    if prices is None:
        msg = "prices are required: a Spark DataFrame of prices"
        raise ConfigError(msg)
    tables = {name: df for name, df in given.items() if df is not None}
    for name, df in tables.items():
        require_columns(df, _REQUIRED[name], where=f"audit ({name})")
    if partitions is not None and (not isinstance(partitions, int) or partitions < 1):
        msg = f"partitions must be a positive integer, got {partitions!r}"
        raise ConfigError(msg)
    tz = prices.sparkSession.conf.get("spark.sql.session.timeZone")
    t0, t1 = _period(tables, start, as_of, tz, F)

    # one DataFrame of (sku, table, row as JSON), partitioned by sku
    rows = None
    for name, df in tables.items():
        part = df.select(
            F.col("sku").cast("string").alias("_sku"),
            F.lit(name).alias("_table"),
            F.to_json(
                F.struct(*[F.col(c) for c in df.columns]), {"ignoreNullFields": "false"}
            ).alias("_row"),
        )
        rows = part if rows is None else rows.unionByName(part)
    assert rows is not None
    parts = rows.repartition(partitions or prices.rdd.getNumPartitions(), F.col("_sku"))
    config = (policy, t0, t1, tz)
    probe_sku = prices.select(F.col("sku").cast("string")).limit(1).collect()
    probe = rows.where(F.col("_sku") == (probe_sku[0][0] if probe_sku else None)).toPandas()
    schema = spark_schema(_findings([probe], config))

    def findings(batches: Any) -> Any:
        frame = _findings([b for b in batches if len(b)], config)
        if frame is not None and len(frame):
            yield frame

    return parts.mapInPandas(findings, schema)


def _period(tables: dict[str, Any], start: Any, as_of: Any, tz: str, F: Any) -> tuple[Any, Any]:
    """The audit's start and as_of, as the local audit's defaults read them, over all rows."""
    if start is not None:
        start = to_datetime64(start, tz=tz, name="start")
    if as_of is not None:
        as_of = to_datetime64(as_of, tz=tz, name="as_of")
    if start is not None and as_of is not None:
        return start, as_of
    from omnijourney import pricing

    kinds = {"prices": pricing.PriceTable, "promotions": pricing.PromotionTable}
    kinds["stock"] = pricing.StockTable
    aggs = []
    for name, df in tables.items():
        # the time columns of the table's schema, valid_from first (the local default of
        # start); the catalogue's launch dates are not part of the period
        times = [s.name for s in kinds[name].schema if s.kind == "time"] if name in kinds else []
        for column in times:
            if column in df.columns:
                micros = F.unix_micros(F.to_timestamp(F.col(column)))
                aggs.append(df.agg(F.min(micros).alias("lo"), F.max(micros).alias("hi")))
    values = [row for agg in aggs for row in agg.collect()]
    lows = [r["lo"] for r in values[:1] if r["lo"] is not None]  # valid_from of prices
    highs = [r["hi"] for r in values if r["hi"] is not None]
    if start is None:
        start = np.datetime64(int(lows[0]) if lows else 0, "us")
    if as_of is None:
        latest = max([int(start.astype("datetime64[us]").astype(np.int64)), *highs])
        as_of = np.datetime64(latest, "us")
    return start, as_of


def _findings(frames: list[Any], config: tuple[Any, ...]) -> Any:
    """The local audit of one partition's rows (JSON per row, tagged by table)."""
    import pandas as pd

    from omnijourney import pricing

    policy, t0, t1, tz = config
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    rows = pd.concat(frames, ignore_index=True)
    builders = {
        "prices": pricing.PriceTable,
        "promotions": pricing.PromotionTable,
        "stock": pricing.StockTable,
        "catalog": pricing.CatalogTable,
    }
    local: dict[str, Any] = {}
    for name, cls in builders.items():
        text = rows["_row"][rows["_table"] == name]
        if len(text):
            data = pd.DataFrame([json.loads(t) for t in text])
            local[name] = cls.from_columns(data, tz=tz)
    if "prices" not in local:
        local["prices"] = builders["prices"].from_columns(
            {c: [] for c in ("sku", "channel", "price", "valid_from")}
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pricing.audit(
            local["prices"],
            local.get("promotions"),
            local.get("stock"),
            policy=policy,
            catalog=local.get("catalog"),
            start=t0,
            as_of=t1,
        )
    return result.findings.to_pandas(categorical=False)

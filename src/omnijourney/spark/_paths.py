"""Paths for attribution on Spark: each customer partition builds its journeys' paths with
the local code, Spark sums them per distinct path, and the driver receives one row per
path (far fewer than journeys), on which every attribution model runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from omnijourney.attribution import PathTable
from omnijourney.journeys import JourneyRules
from omnijourney.spark._sessionize import prepare, run_partition

__all__ = ["paths"]


def paths(
    df: Any,
    rules: JourneyRules | None = None,
    *,
    customer: str = "customer",
    time: str = "time",
    channel: str = "channel",
    event: str = "event",
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    partitions: int | None = None,
    collapse_repeats: bool = True,
    drop: Iterable[str] | None = None,
    keep: Iterable[str] | None = None,
    max_length: int | None = None,
) -> PathTable:
    """The aggregated path table of a Spark DataFrame of touchpoints: what
    :meth:`PathTable.from_touchpoints <omnijourney.attribution.PathTable.from_touchpoints>`
    gives on the same rows, for the attribution models to run on the driver.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per touchpoint, in any order.
    rules : JourneyRules, optional
        The sessionization rules.
    customer, time, channel, event, columns, as_of, partitions
        As for :func:`omnijourney.spark.sessionize` (map ``value`` in ``columns`` for
        conversion value).
    collapse_repeats, drop, keep, max_length
        As for :meth:`PathTable.from_journeys
        <omnijourney.attribution.PathTable.from_journeys>`.

    Returns
    -------
    PathTable
        One row per distinct path, in the table's canonical order; conversions and nulls
        equal the local ones exactly, values up to the order of their sums.

    Examples
    --------
    >>> pt = paths(df, columns={"value": "amount"})  # doctest: +SKIP
    >>> oj.attribution.markov(pt).credit  # doctest: +SKIP
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    parts, config = prepare(df, rules, (customer, time, channel, event), columns, as_of, partitions)
    schema = T.StructType(
        [
            T.StructField("path", T.ArrayType(T.StringType(), False), False),
            T.StructField("conversions", T.DoubleType(), False),
            T.StructField("value", T.DoubleType(), False),
            T.StructField("nulls", T.DoubleType(), False),
        ]
    )

    def rows(batches: Any) -> Any:
        import pandas as pd

        jt = run_partition([b for b in batches if len(b)], config).jt
        if jt is None:
            return
        pt = PathTable.from_journeys(jt, collapse_repeats=collapse_repeats)
        labels = pt.channels
        yield pd.DataFrame(
            {
                "path": [
                    labels[pt.codes[a:b]].tolist()
                    for a, b in zip(pt.offsets[:-1], pt.offsets[1:], strict=True)
                ],
                "conversions": pt.conversions,
                "value": pt.value,
                "nulls": pt.nulls,
            }
        )

    summed = (
        parts.mapInPandas(rows, schema)
        .groupBy("path")
        .agg(*(F.sum(c).alias(c) for c in ("conversions", "value", "nulls")))
        .collect()
    )
    sequences = [list(r["path"]) for r in summed]
    table = PathTable.from_sequences(
        sequences,
        conversions=np.array([r["conversions"] for r in summed], dtype=np.float64),
        value=np.array([r["value"] for r in summed], dtype=np.float64),
        nulls=np.array([r["nulls"] for r in summed], dtype=np.float64),
    )
    return table.transform(drop=drop, keep=keep, max_length=max_length).aggregate().compact()

"""Sessionization on Spark: the same visits and journeys as :func:`omnijourney.sessionize`, for
touchpoint logs that outgrow one machine (the ``spark`` extra).

Every customer's touchpoints go to one partition, and each partition runs the local
sessionization. Journeys never span two customers, so the result does not depend on the
partitioning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import run_heads, run_starts
from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError, DataError
from omnijourney.journeys._rules import JourneyRules
from omnijourney.time import TIME_DTYPE, to_datetime64

__all__ = ["SparkJourneys", "sessionize"]

#: Columns added to every touchpoint row.
ID_COLUMNS = ("journey_index", "visit_index")
_OPTIONAL = (
    "value",
    "currency",
    "direction",
    "source",
    "order_id",
    "quote_id",
    "cart_id",
    "reservation_id",
    "campaign",
    "sequence",
)


@attrs.frozen
class SparkJourneys:
    """The result of :func:`sessionize`: two Spark DataFrames, computed when used.

    Attributes
    ----------
    touchpoints : pyspark.sql.DataFrame
        The input rows with ``journey_index`` and ``visit_index``: the journey's and the
        visit's rank among the customer's journeys and visits, from 0, in time order.
    journeys : pyspark.sql.DataFrame
        One row per journey: the customer column, then ``journey_index``, ``start``, ``end``,
        ``n_touchpoints``, ``n_visits``, ``first_channel``, ``last_channel``, ``converted``,
        ``n_conversions``, ``value``, ``stage`` and ``end_reason``, as in
        :attr:`omnijourney.journeys.JourneyTable.journeys`.
    as_of : numpy.datetime64
        The extraction time used for every customer (the latest touchpoint unless given).
    """

    touchpoints: Any
    journeys: Any
    as_of: np.datetime64


def sessionize(
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
) -> SparkJourneys:
    """Visits and journeys of a Spark DataFrame of touchpoints.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per touchpoint, in any order.
    rules : JourneyRules, optional
        As for :func:`omnijourney.sessionize`.
    customer, time, channel, event : str
        The DataFrame's names of the required columns. ``time`` is a timestamp column
        (read in the session time zone, ``spark.sql.session.timeZone``) or a string column
        of ISO times.
    columns : mapping of str to str, optional
        Optional touchpoint columns, library name -> DataFrame name: ``value``, ``currency``,
        ``direction``, ``source``, ``order_id``, ``quote_id``, ``cart_id``,
        ``reservation_id``, ``campaign``, ``sequence``. Those the rules read must be given
        (``campaign`` to split on campaign changes, ``value`` for converted value); the
        others take part in the canonical order of ties, as locally.
    as_of : time or "closed", optional
        As for :func:`omnijourney.sessionize`. Default: the latest touchpoint time over the
        whole DataFrame (one aggregation), so that every partition reads the same one.
    partitions : int, optional
        Number of partitions to spread the customers over (default: the DataFrame's).

    Returns
    -------
    SparkJourneys
        The touchpoints with their journey and visit ranks, and the journeys.

    Notes
    -----
    Rows are grouped by customer (``repartition``), then each partition is sessionized with
    pandas and numpy (``mapInPandas``, which needs pyarrow on the executors). Journeys are
    identified by ``(customer, journey_index)``; the local result numbers the same journeys
    in the same order within each customer. Reading both DataFrames sessionizes twice;
    cache the input or the result when both are needed.

    Examples
    --------
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> result = sessionize(spark.createDataFrame(pandas_touchpoints))  # doctest: +SKIP
    >>> result.journeys.groupBy("end_reason").count().show()  # doctest: +SKIP
    """
    from pyspark.sql import types as T

    for field in ID_COLUMNS:
        if field in df.columns:
            msg = f"sessionize: the DataFrame already has a column {field!r}"
            raise ConfigError(msg)
    parts, config = prepare(df, rules, (customer, time, channel, event), columns, as_of, partitions)
    as_of = config[3]
    closed = isinstance(as_of, str)
    tp_schema = T.StructType(
        [*df.schema.fields, *(T.StructField(c, T.LongType(), False) for c in ID_COLUMNS)]
    )
    cust_field = df.schema[customer]
    j_schema = T.StructType(
        [
            T.StructField(customer, cust_field.dataType, True),
            T.StructField("journey_index", T.LongType(), False),
            T.StructField("start", T.TimestampType(), False),
            T.StructField("end", T.TimestampType(), False),
            T.StructField("n_touchpoints", T.LongType(), False),
            T.StructField("n_visits", T.LongType(), False),
            T.StructField("first_channel", T.StringType(), True),
            T.StructField("last_channel", T.StringType(), True),
            T.StructField("converted", T.BooleanType(), False),
            T.StructField("n_conversions", T.LongType(), False),
            T.StructField("value", T.DoubleType(), False),
            T.StructField("stage", T.StringType(), True),
            T.StructField("end_reason", T.StringType(), False),
        ]
    )

    def touchpoint_ids(batches: Any) -> Any:
        frames = [b for b in batches if len(b)]
        pdf, _, ranks = run_partition(frames, config)
        if pdf is None:
            return
        # the batches as they came, with their ids: a concatenated frame may hold chunked
        # Arrow columns that do not convert back
        at = 0
        for frame in frames:
            frame = frame.copy()
            frame["journey_index"] = ranks[0][at : at + len(frame)]
            frame["visit_index"] = ranks[1][at : at + len(frame)]
            at += len(frame)
            yield frame

    def journey_rows(batches: Any) -> Any:
        pdf, jt, _ = run_partition([b for b in batches if len(b)], config)
        if pdf is not None:
            yield _journeys_frame(jt, customer, pdf[customer])

    return SparkJourneys(
        touchpoints=parts.mapInPandas(touchpoint_ids, tp_schema),
        journeys=parts.mapInPandas(journey_rows, j_schema),
        as_of=np.datetime64("NaT", "us") if closed or as_of is None else as_of,
    )


Config = tuple[dict[str, Any], JourneyRules, str, Any]


def prepare(
    df: Any,
    rules: JourneyRules | None,
    required: tuple[str, str, str, str],
    columns: Mapping[str, str] | None,
    as_of: Any,
    partitions: int | None,
) -> tuple[Any, Config]:
    """Check the arguments of a per-customer Spark run on the driver (no job but the
    latest time when ``as_of`` is not given), and spread the customers over partitions.

    Returns the repartitioned DataFrame and what each partition needs: the column names
    (library name -> DataFrame name), the rules, the session time zone and ``as_of``
    (a datetime64, None for an empty DataFrame, or "closed").
    """
    import_optional("pyspark", "spark")
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    customer, time, channel, event = required

    rules = JourneyRules() if rules is None else rules
    if not isinstance(rules, JourneyRules):
        msg = f"rules must be a JourneyRules, got {type(rules).__name__}"
        raise ConfigError(msg)
    optional = dict(columns or {})
    unknown = sorted(set(optional) - set(_OPTIONAL))
    if unknown:
        msg = f"columns: unknown touchpoint column(s) {unknown}; choose from {list(_OPTIONAL)}"
        raise ConfigError(msg)
    names = {"customer": customer, "time": time, "channel": channel, "event": event, **optional}
    missing = [v for v in names.values() if v not in df.columns]
    if missing:
        msg = f"the DataFrame has no column {missing[0]!r} (columns: {df.columns})"
        raise ConfigError(msg)
    if partitions is not None and (not isinstance(partitions, int) or partitions < 1):
        msg = f"partitions must be a positive integer, got {partitions!r}"
        raise ConfigError(msg)

    tz = df.sparkSession.conf.get("spark.sql.session.timeZone")
    closed = isinstance(as_of, str) and as_of == "closed"
    if as_of is None:
        # microseconds since the epoch: no time zone between the executors and the driver
        t = F.col(time)
        if isinstance(df.schema[time].dataType, T.StringType):
            t = F.to_timestamp(t)
        latest = df.agg(F.max(F.unix_micros(t)).alias("t")).collect()[0]["t"]
        as_of = None if latest is None else np.datetime64(int(latest), "us")
    elif not closed:
        as_of = to_datetime64(as_of, tz=tz, name="as_of")
    parts = df.repartition(partitions or df.rdd.getNumPartitions(), F.col(customer))

    return parts, (names, rules, tz, "closed" if closed else as_of)


def run_partition(frames: list[Any], config: Config) -> tuple[Any, Any, tuple[np.ndarray, ...]]:
    """Sessionize one partition's non-empty pandas batches: the rows as one frame, the
    JourneyTable and the per-row ranks."""
    import pandas as pd

    # without the warnings about rules that match nothing: a partition lacking a purchase
    # says nothing about the whole DataFrame
    from omnijourney.journeys._sessionize import sessionize_quietly as local_sessionize
    from omnijourney.tables import TouchpointTable

    names, rules, tz, as_of = config
    if not frames:
        return None, None, ()
    pdf = pd.concat(frames, ignore_index=True)
    try:
        tp = TouchpointTable.from_columns(pdf, tz=tz, **names)
    except DataError as exc:
        # the DataFrame has no row numbers: those of the message count within this partition
        msg = f"in a Spark partition (rows counted within it): {exc}"
        raise DataError(msg, column=exc.column) from exc
    jt = local_sessionize(tp, rules, as_of, None)
    return pdf, jt, _ranks(jt)


def _customer_first_journey(jt: Any) -> np.ndarray:
    """Per journey, the row of its customer's first journey (journeys are in canonical
    (customer, start) order, so a journey's rank among its customer's is ``row - this``)."""
    return run_heads(run_starts(jt.journeys.raw("customer")))


def _ranks(jt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per input row, the rank of its journey and of its visit among its customer's."""
    start = _customer_first_journey(jt)
    j_rank = np.arange(start.size) - start
    j_id = jt.journey_id.astype(np.int64)
    v_id = jt.visit_id.astype(np.int64)
    # a customer's visits are numbered consecutively from their first journey's first visit
    first_visit = np.full(start.size, np.iinfo(np.int64).max)
    np.minimum.at(first_visit, j_id, v_id)
    cust_first_visit = first_visit[start]
    return j_rank[j_id], v_id - cust_first_visit[j_id]


def _journeys_frame(jt: Any, customer: str, customers: Any) -> Any:
    """The partition's journeys as a pandas frame with the DataFrame's customer values."""
    import pandas as pd

    j = jt.journeys
    start = _customer_first_journey(jt)
    # customer values as the DataFrame holds them (the table's labels are normalized)
    row_of = np.zeros(start.size, dtype=np.int64)
    row_of[jt.journey_id.astype(np.int64)] = np.arange(jt.journey_id.size)
    values: Sequence[Any] = customers.to_numpy()[row_of]
    return pd.DataFrame(
        {
            customer: values,
            "journey_index": (np.arange(start.size) - start).astype(np.int64),
            "start": pd.DatetimeIndex(j["start"].astype(TIME_DTYPE)).tz_localize("UTC"),
            "end": pd.DatetimeIndex(j["end"].astype(TIME_DTYPE)).tz_localize("UTC"),
            "n_touchpoints": j["n_touchpoints"].astype(np.int64),
            "n_visits": j["n_visits"].astype(np.int64),
            "first_channel": j["first_channel"].astype(object),
            "last_channel": j["last_channel"].astype(object),
            "converted": j["converted"].astype(bool),
            "n_conversions": j["n_conversions"].astype(np.int64),
            "value": j["value"].astype(np.float64),
            "stage": j["stage"].astype(object),
            "end_reason": [str(r) for r in j["end_reason"].tolist()],
        }
    )

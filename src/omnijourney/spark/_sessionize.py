"""Sessionization on Spark: the same visits and journeys as :func:`omnijourney.sessionize`, for
touchpoint logs that outgrow one machine (the ``spark`` extra).

Every customer's touchpoints go to one partition, and each partition runs the local
sessionization. Journeys never span two customers, so the result does not depend on the
partitioning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import attrs
import numpy as np

from omnijourney._arrays import run_heads, run_starts
from omnijourney._optional import import_optional
from omnijourney._validation import check_choice
from omnijourney.errors import ConfigError, DataError
from omnijourney.journeys._rules import JourneyRules
from omnijourney.time import TIME_DTYPE, to_datetime64

__all__ = ["SparkJourneys", "sessionize"]

#: Columns added to every touchpoint row.
ID_COLUMNS = ("journey_index", "visit_index")
REJECT_COLUMNS = ("column", "value", "reason")
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
    rejects : pyspark.sql.DataFrame or None
        With ``errors="quarantine"``: the rows refused, one per problem, with all their
        columns and ``rejected_column``, ``rejected_value`` and ``rejected_reason`` (as the
        local rejects say them); the other rows are sessionized. None otherwise.
    """

    touchpoints: Any
    journeys: Any
    as_of: np.datetime64
    rejects: Any = None


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
    errors: str = "raise",
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
    errors : {"raise", "quarantine"}
        A bad row (a null customer, an unreadable time...) fails the job with the local
        ``DataError`` (its row counted within its partition; the values name it), or, with
        "quarantine", goes to ``rejects`` with its reason while the other rows go on.

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
    parts, config = prepare(
        df, rules, (customer, time, channel, event), columns, as_of, partitions, errors
    )
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
        part = run_partition(frames, config)
        if part.pdf is None:
            return
        # the batches as they came, with their ids: a concatenated frame may hold chunked
        # Arrow columns that do not convert back
        kept = np.ones(sum(len(f) for f in frames), bool) if part.kept is None else part.kept
        at = done = 0
        for frame in frames:
            keep = kept[at : at + len(frame)]
            frame = frame[keep].copy()
            frame["journey_index"] = part.ranks[0][done : done + len(frame)]
            frame["visit_index"] = part.ranks[1][done : done + len(frame)]
            at += len(keep)
            done += len(frame)
            yield frame

    def journey_rows(batches: Any) -> Any:
        part = run_partition([b for b in batches if len(b)], config)
        if part.pdf is not None:
            yield _journeys_frame(part.jt, customer, part.pdf[customer])

    def rejected_rows(batches: Any) -> Any:
        part = run_partition([b for b in batches if len(b)], config)
        if part.rejects is not None:
            yield part.rejects

    reject_schema = T.StructType(
        [
            *df.schema.fields,
            *(T.StructField("rejected_" + c, T.StringType(), True) for c in REJECT_COLUMNS),
        ]
    )
    return SparkJourneys(
        touchpoints=parts.mapInPandas(touchpoint_ids, tp_schema),
        journeys=parts.mapInPandas(journey_rows, j_schema),
        as_of=np.datetime64("NaT", "us") if closed or as_of is None else as_of,
        rejects=parts.mapInPandas(rejected_rows, reject_schema) if errors == "quarantine" else None,
    )


Config = tuple[dict[str, Any], JourneyRules, str, Any, str]


def prepare(
    df: Any,
    rules: JourneyRules | None,
    required: tuple[str, str, str, str],
    columns: Mapping[str, str] | None,
    as_of: Any,
    partitions: int | None,
    errors: str = "raise",
) -> tuple[Any, Config]:
    """Check the arguments of a per-customer Spark run on the driver (no job but the
    latest time when ``as_of`` is not given), and spread the customers over partitions.

    Returns the repartitioned DataFrame and what each partition needs: the column names
    (library name -> DataFrame name), the rules, the session time zone and ``as_of``
    (a datetime64, None for an empty DataFrame, or "closed") and what to do with bad
    rows ("raise" or "quarantine").
    """
    check_choice(errors, "errors", ("raise", "quarantine"))
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
            t = F.try_to_timestamp(t)
        latest = df.agg(F.max(F.unix_micros(t)).alias("t")).collect()[0]["t"]
        as_of = None if latest is None else np.datetime64(int(latest), "us")
    elif not closed:
        as_of = to_datetime64(as_of, tz=tz, name="as_of")
    parts = df.repartition(partitions or df.rdd.getNumPartitions(), F.col(customer))

    return parts, (names, rules, tz, "closed" if closed else as_of, errors)


class Partition(NamedTuple):
    """One partition sessionized: its rows (those kept), the journeys, the per-row journey
    and visit ranks, which input rows were kept (None: all) and the rejects (None: none)."""

    pdf: Any
    jt: Any
    ranks: tuple[np.ndarray, ...]
    kept: np.ndarray | None
    rejects: Any


def run_partition(frames: list[Any], config: Config) -> Partition:
    """Sessionize one partition's non-empty pandas batches."""
    import pandas as pd

    # without the warnings about rules that match nothing: a partition lacking a purchase
    # says nothing about the whole DataFrame
    from omnijourney.journeys._sessionize import sessionize_quietly as local_sessionize
    from omnijourney.tables import TouchpointTable

    names, rules, tz, as_of, errors = config
    if not frames:
        return Partition(None, None, (), None, None)
    pdf = pd.concat(frames, ignore_index=True)
    kept = rejects = None
    if errors == "quarantine":
        tp, problems = TouchpointTable.from_columns(pdf, tz=tz, errors="quarantine", **names)
        if len(problems):
            kept = np.ones(len(pdf), dtype=bool)
            kept[problems.rows] = False
            rejects = _rejects(pdf, problems)
            pdf = pdf[kept].reset_index(drop=True)
    else:
        try:
            tp = TouchpointTable.from_columns(pdf, tz=tz, **names)
        except DataError as exc:
            # the DataFrame has no row numbers: those of the message count within the
            # partition; the values name the rows
            msg = f"in a Spark partition (rows counted within it): {exc}"
            raise DataError(msg, column=exc.column) from exc
    if not len(pdf):
        return Partition(None, None, (), kept, rejects)
    jt = local_sessionize(tp, rules, as_of, None)
    return Partition(pdf, jt, _ranks(jt), kept, rejects)


def _rejects(pdf: Any, problems: Any) -> Any:
    """The rejected input rows, one per problem, with its column, value and reason."""
    frame = problems.to_pandas(categorical=False)
    out = pdf.iloc[frame["row"].to_numpy()].reset_index(drop=True)
    for name in ("column", "value", "reason"):
        out["rejected_" + name] = frame[name].astype(object).to_numpy()
    return out


def customer_first_journey(jt: Any) -> np.ndarray:
    """Per journey, the row of its customer's first journey (journeys are in canonical
    (customer, start) order, so a journey's rank among its customer's is ``row - this``)."""
    return run_heads(run_starts(jt.journeys.raw("customer")))


def _ranks(jt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per input row, the rank of its journey and of its visit among its customer's."""
    start = customer_first_journey(jt)
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
    start = customer_first_journey(jt)
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

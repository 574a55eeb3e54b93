"""Breaks and follow-ups on Spark: each customer's touchpoints go to one partition, which is
sessionized and checked by the local functions; rows are then named by customer and by
their position among the customer's touchpoints, which no partitioning changes."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from omnijourney._arrays import run_heads, run_starts
from omnijourney.errors import ConfigError
from omnijourney.journeys import BreakRules, FollowUpRule, JourneyRules
from omnijourney.spark._session import spark_schema
from omnijourney.spark._sessionize import Config, customer_first_journey, prepare, run_partition

__all__ = ["check_followups", "detect_breaks"]

# local column -> Spark column: rows of the partition become positions among the
# customer's touchpoints (canonical order, from 0), journeys become the journey's rank
# among the customer's journeys (``journey_index`` of :func:`sessionize`)
_POSITIONS = {
    "from_row": "from_position",
    "to_row": "to_position",
    "trigger_row": "trigger_position",
    "response_row": "response_position",
}
_JOURNEYS = {
    "from_journey": "from_journey_index",
    "to_journey": "to_journey_index",
    "journey_id": "journey_index",
}


def detect_breaks(
    df: Any,
    rules: BreakRules | None = None,
    *,
    journey_rules: JourneyRules | None = None,
    customer: str = "customer",
    time: str = "time",
    channel: str = "channel",
    event: str = "event",
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    partitions: int | None = None,
) -> Any:
    """Cross-channel breaks of a Spark DataFrame of touchpoints, as
    :func:`omnijourney.journeys.detect_breaks` finds them on the sessionized touchpoints.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per touchpoint, in any order.
    rules : BreakRules, optional
        As for :func:`omnijourney.journeys.detect_breaks`.
    journey_rules : JourneyRules, optional
        The sessionization rules (:func:`omnijourney.sessionize`).
    customer, time, channel, event, columns, as_of, partitions
        As for :func:`omnijourney.spark.sessionize`; map the reference ids the rules read
        (``order_id``, ``quote_id``, ``cart_id``, ``reservation_id``) in ``columns``.

    Returns
    -------
    pyspark.sql.DataFrame
        The columns of :class:`~omnijourney.journeys.BreakTable`, with the customer as the
        DataFrame holds it, ``from_position`` / ``to_position`` (the touchpoint's position
        among its customer's, in canonical order, from 0) in place of ``from_row`` /
        ``to_row``, and ``from_journey_index`` / ``to_journey_index`` (the journey's rank
        among its customer's) in place of ``from_journey`` / ``to_journey``.

    Notes
    -----
    The local warnings about rules that match nothing are not raised per partition (a
    partition lacking failures says nothing of the whole data); check the rules on a
    sample locally. The output schema is read from the local result on the first rows of
    the DataFrame (one small job on the driver).

    Examples
    --------
    >>> breaks = detect_breaks(df, columns={"order_id": "order"})  # doctest: +SKIP
    >>> breaks.groupBy("kind").count().show()  # doctest: +SKIP
    """
    from omnijourney.journeys import detect_breaks as local_breaks

    rules = BreakRules() if rules is None else rules
    if not isinstance(rules, BreakRules):
        msg = f"rules must be a BreakRules, got {type(rules).__name__}"
        raise ConfigError(msg)
    return _per_customer(
        df,
        lambda jt: local_breaks(jt, rules),
        journey_rules,
        (customer, time, channel, event),
        columns,
        as_of,
        partitions,
    )


def check_followups(
    df: Any,
    rules: Sequence[FollowUpRule],
    *,
    journey_rules: JourneyRules | None = None,
    customer: str = "customer",
    time: str = "time",
    channel: str = "channel",
    event: str = "event",
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    partitions: int | None = None,
) -> Any:
    """Follow-ups of a Spark DataFrame of touchpoints, as
    :func:`omnijourney.journeys.check_followups` checks them.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per touchpoint, in any order.
    rules : sequence of FollowUpRule
        As for :func:`omnijourney.journeys.check_followups`.
    journey_rules, customer, time, channel, event, columns, partitions
        As for :func:`detect_breaks`.
    as_of : time, optional
        The time pending follow-ups are judged at, for every partition (default: the
        latest touchpoint of the whole DataFrame).

    Returns
    -------
    pyspark.sql.DataFrame
        The columns of the local result, with ``trigger_position`` / ``response_position``
        (null: no response) in place of the rows and ``journey_index`` in place of
        ``journey_id``.

    Examples
    --------
    >>> rule = FollowUpRule(name="welcome", trigger_events=["signup"],  # doctest: +SKIP
    ...                     response_events=["welcome"], within="2D")
    >>> check_followups(df, [rule]).groupBy("status").count().show()  # doctest: +SKIP
    """
    from omnijourney.journeys import check_followups as local_followups

    rules = list(rules) if not isinstance(rules, FollowUpRule) else [rules]
    if not rules or not all(isinstance(r, FollowUpRule) for r in rules):
        msg = "rules must be a non-empty sequence of FollowUpRule"
        raise ConfigError(msg)
    return _per_customer(
        df,
        lambda jt: local_followups(jt, rules),
        journey_rules,
        (customer, time, channel, event),
        columns,
        as_of,
        partitions,
    )


def _per_customer(
    df: Any,
    local: Callable[[Any], Any],
    journey_rules: JourneyRules | None,
    required: tuple[str, str, str, str],
    columns: Mapping[str, str] | None,
    as_of: Any,
    partitions: int | None,
) -> Any:
    """Run ``local`` (a JourneyTable -> Table function) on each customer partition."""
    parts, config = prepare(df, journey_rules, required, columns, as_of, partitions)
    customer = required[0]
    cust_type = df.schema[customer].dataType
    probe = _frame(df.limit(200).toPandas(), local, config, customer)
    schema = spark_schema(probe, {customer: cust_type})

    def rows(batches: Any) -> Any:
        frame = _frame([b for b in batches if len(b)], local, config, customer)
        if frame is not None and len(frame):
            yield frame

    return parts.mapInPandas(rows, schema)


def _frame(frames: Any, local: Callable[[Any], Any], config: Config, customer: str) -> Any:
    """The local result of one partition as a pandas frame named for Spark."""
    import pandas as pd

    if isinstance(frames, pd.DataFrame):
        frames = [frames] if len(frames) else []
    part = run_partition(frames, config)
    pdf, jt = part.pdf, part.jt
    if pdf is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = local(jt)
    out = table.to_pandas(categorical=False)
    position, journey_rank = _positions(jt)
    first_row = None
    for old, new in _POSITIONS.items():
        if old in out:
            rows = out[old].to_numpy(dtype=np.int64)
            first_row = rows if first_row is None else first_row
            pos = np.where(rows >= 0, position[np.maximum(rows, 0)], -1)
            column = pd.Series(pos, index=out.index, dtype="Int64")
            column[pos < 0] = pd.NA
            out[old] = column
            out = out.rename(columns={old: new})
    for old, new in _JOURNEYS.items():
        if old in out:
            out[old] = journey_rank[out[old].to_numpy(dtype=np.int64)]
            out = out.rename(columns={old: new})
    if first_row is not None and "customer" in out:
        # the customer as the DataFrame holds it (the table's labels are normalized text)
        out["customer"] = pdf[customer].to_numpy()[first_row]
    return out.rename(columns={"customer": customer})


def _positions(jt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per input row, its position among its customer's touchpoints in canonical order;
    per journey, its rank among its customer's journeys."""
    order = np.asarray(jt.order, dtype=np.int64)
    customers = jt.touchpoints.raw("customer")[order]
    canonical = np.arange(order.size) - run_heads(run_starts(customers))
    position = np.empty(order.size, dtype=np.int64)
    position[order] = canonical
    start = customer_first_journey(jt)
    return position, np.arange(start.size) - start

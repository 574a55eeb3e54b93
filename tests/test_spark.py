"""Sessionization on Spark equals the local one, whatever the partitioning and time zone."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.errors import ConfigError

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

S = pytest.importorskip("omnijourney.spark")
from omnijourney.spark._sessionize import _ranks as ranks  # noqa: E402


@pytest.fixture(scope="module")
def world():
    w = oj.synth.generate(150, seed=5, records=False, prices=False)
    tp = w.touchpoints.select(["customer", "time", "channel", "event", "value", "order_id"])
    frame = tp.to_pandas(categorical=False)
    frame["row"] = np.arange(len(frame))
    return tp, frame


def _local(tp, rules=None):
    jt = oj.sessionize(tp, rules)
    return jt, ranks(jt)


def _spark_rows(result):
    out = result.touchpoints.toPandas().sort_values("row")
    return out["journey_index"].to_numpy(), out["visit_index"].to_numpy()


def test_touchpoints_get_the_local_journeys_and_visits(spark, world):
    tp, frame = world
    rules = oj.JourneyRules(visit_timeout="20min", journey_timeout="10D")
    res = S.sessionize(
        spark.createDataFrame(frame.sample(frac=1.0, random_state=1)),
        rules,
        columns={"value": "value", "order_id": "order_id"},
        partitions=3,
    )
    jt, (j_rank, v_rank) = _local(tp, rules)
    got_j, got_v = _spark_rows(res)
    np.testing.assert_array_equal(got_j, j_rank)
    np.testing.assert_array_equal(got_v, v_rank)
    # the ranks number each customer's journeys from 0 without gaps
    assert int(j_rank.max()) + 1 <= len(jt.journeys)
    assert res.as_of == np.datetime64(tp.raw("time").max(), "us")


def test_journeys_equal_the_local_journeys(spark, world):
    tp, frame = world
    res = S.sessionize(
        spark.createDataFrame(frame), columns={"value": "value", "order_id": "order_id"}
    )
    got = res.journeys.toPandas().sort_values(["customer", "journey_index"])
    jt = oj.sessionize(tp)
    want = jt.journeys
    assert len(got) == len(want)
    np.testing.assert_array_equal(got["customer"].to_numpy(), want["customer"])
    starts = pd.to_datetime(got["start"], utc=True).dt.tz_localize(None).to_numpy()
    ends = pd.to_datetime(got["end"], utc=True).dt.tz_localize(None).to_numpy()
    np.testing.assert_array_equal(starts.astype("datetime64[us]"), want["start"])
    np.testing.assert_array_equal(ends.astype("datetime64[us]"), want["end"])
    for col in ("n_touchpoints", "n_visits", "n_conversions"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col], err_msg=col)
    for col in ("first_channel", "last_channel", "stage", "end_reason"):
        assert got[col].tolist() == [str(v) for v in want[col].tolist()], col
    np.testing.assert_array_equal(got["converted"].to_numpy(), want["converted"])
    np.testing.assert_allclose(got["value"].to_numpy(), want["value"])


def test_partitioning_and_session_time_zone_do_not_change_the_result(spark, world):
    tp, frame = world
    _, (j_rank, v_rank) = _local(tp)
    df = spark.createDataFrame(frame)
    for parts in (1, 5):
        got = _spark_rows(S.sessionize(df, columns={"value": "value"}, partitions=parts))
        np.testing.assert_array_equal(got[0], j_rank)
        np.testing.assert_array_equal(got[1], v_rank)
    # partitions that reach the function as many Arrow batches
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "97")
    try:
        got = _spark_rows(S.sessionize(df, columns={"value": "value"}, partitions=2))
        np.testing.assert_array_equal(got[0], j_rank)
        np.testing.assert_array_equal(got[1], v_rank)
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        res = S.sessionize(spark.createDataFrame(frame), columns={"value": "value"})
        np.testing.assert_array_equal(_spark_rows(res)[0], j_rank)
        assert res.as_of == np.datetime64(tp.raw("time").max(), "us")
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_as_of_and_closed_logs_are_passed_to_every_partition(spark, world):
    tp, frame = world
    df = spark.createDataFrame(frame)
    closed = S.sessionize(df, as_of="closed").journeys.toPandas()
    assert "end_of_data" not in set(closed["end_reason"])
    want = oj.sessionize(tp, as_of="closed").journeys["end_reason"].tolist()
    got = closed.sort_values(["customer", "journey_index"])["end_reason"].tolist()
    assert got == [str(v) for v in want]


def test_bad_arguments_are_refused(spark, world):
    _, frame = world
    df = spark.createDataFrame(frame.head(20))
    with pytest.raises(ConfigError, match="no column 'client'"):
        S.sessionize(df, customer="client")
    with pytest.raises(ConfigError, match="unknown touchpoint column"):
        S.sessionize(df, columns={"amount": "value"})
    with pytest.raises(ConfigError, match="partitions"):
        S.sessionize(df, partitions=0)
    with pytest.raises(ConfigError, match="already has a column 'journey_index'"):
        S.sessionize(df.withColumnRenamed("row", "journey_index"))
    with pytest.raises(ConfigError, match="JourneyRules"):
        S.sessionize(df, rules={"visit_timeout": "30min"})


def test_bad_rows_fail_with_the_column_and_value(spark, world):
    _, frame = world
    bad = frame.head(30).copy()
    bad["customer"] = bad["customer"].astype(object)
    bad.loc[7, "customer"] = None
    with pytest.raises(Exception, match=r"(?s)Spark partition.*customer"):
        S.sessionize(spark.createDataFrame(bad), partitions=2).touchpoints.collect()


def test_quarantine_returns_the_bad_rows_and_sessionizes_the_others(spark, world):
    _, frame = world
    bad = frame.head(60).copy()
    bad["time"] = bad["time"].astype(str).astype(object)
    bad.loc[[3, 40], "time"] = "not a time"
    bad["customer"] = bad["customer"].astype(object)
    bad.loc[7, "customer"] = None
    res = S.sessionize(spark.createDataFrame(bad), partitions=2, errors="quarantine")
    rejects = res.rejects.toPandas().sort_values("row")
    assert rejects["row"].tolist() == [3, 7, 40]
    assert rejects["rejected_column"].tolist() == ["time", "customer", "time"]
    assert rejects["rejected_value"].iloc[0] == "not a time"
    assert all(isinstance(r, str) and r for r in rejects["rejected_reason"])
    # every other row is sessionized as the local run sessionizes it
    good = bad.drop(index=[3, 7, 40]).reset_index(drop=True)
    local = oj.TouchpointTable.from_columns(
        good[["customer", "time", "channel", "event"]].assign(time=lambda d: d["time"])
    )
    jt = oj.sessionize(local)
    want_j, want_v = ranks(jt)
    got = res.touchpoints.toPandas().sort_values("row")
    assert got["row"].tolist() == good["row"].tolist()
    np.testing.assert_array_equal(got["journey_index"].to_numpy(), want_j)
    np.testing.assert_array_equal(got["visit_index"].to_numpy(), want_v)
    with pytest.raises(ConfigError, match="errors"):
        S.sessionize(spark.createDataFrame(bad), errors="ignore")

"""DataFrames in and out (pandas, pyarrow, polars), CSV and parquet files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import omnijourney as oj
from omnijourney import TouchpointTable
from strategies import touchpoint_columns

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")


@pytest.fixture
def table(small_columns):
    return TouchpointTable.from_columns(
        small_columns,
        customer="client",
        time="ts",
        channel="canal",
        event="what",
        value="amount",
        cart_id="basket",
    )


def test_from_pandas_with_user_names_and_aware_times(small_columns):
    df = pd.DataFrame(small_columns)
    df["ts"] = pd.to_datetime(df["ts"]).dt.tz_convert("Europe/Paris")
    t = TouchpointTable.from_columns(
        df, customer="client", time="ts", channel="canal", event="what", value="amount"
    )
    assert str(t["time"][0]) == "2024-05-02T09:00:00.000000"
    assert t["value"][0] == 120.0 and np.isnan(t["value"][1])


def test_from_pandas_naive_times_in_a_zone(small_columns):
    df = pd.DataFrame(small_columns)
    df["ts"] = pd.to_datetime(df["ts"]).dt.tz_localize(None)
    t = TouchpointTable.from_columns(
        df, customer="client", time="ts", channel="canal", event="what", tz="Europe/Paris"
    )
    assert str(t["time"][0]) == "2024-05-02T07:00:00.000000"


def test_pandas_round_trip(table):
    df = table.to_pandas()
    assert isinstance(df["customer"].dtype, pd.CategoricalDtype)
    assert str(df["time"].dt.tz) == "UTC"
    back = TouchpointTable.from_columns(df)
    assert back.equals(table)


def test_arrow_and_polars_round_trip(table):
    at = table.to_arrow()
    assert pa.types.is_dictionary(at.schema.field("customer").type)
    assert str(at.schema.field("time").type) == "timestamp[us, tz=UTC]"
    assert TouchpointTable.from_columns(at).equals(table)
    df = table.to_polars()
    assert df["time"].dtype == pl.Datetime("us", "UTC")
    assert TouchpointTable.from_columns(df).equals(table)
    assert TouchpointTable.from_columns(df.lazy()).equals(table)


def test_csv_round_trip(table, tmp_path):
    path = tmp_path / "tp.csv"
    table.to_csv(path)
    back = TouchpointTable.from_csv(path)
    assert back.equals(table)


def test_parquet_round_trip(table, tmp_path):
    path = tmp_path / "tp.parquet"
    table.to_parquet(path)
    assert TouchpointTable.from_parquet(path).equals(table)


def test_from_records_of_touchpoints_and_dicts(table):
    back = TouchpointTable.from_records(list(table))
    assert back.equals(table)
    as_dicts = [
        {"customer": "x", "time": "2024-01-01", "channel": "web", "event": "v", "store": "S1"}
    ]
    t = TouchpointTable.from_records(as_dicts)
    assert t.extra_columns == ("store",) and t[0].attributes == {"store": "S1"}


def test_bad_values_inside_a_dataframe_are_reported_with_rows():
    df = pd.DataFrame(
        {
            "customer": ["a", None],
            "time": ["2024-01-01", "2024-01-02"],
            "channel": ["web", "web"],
            "event": ["v", "v"],
        }
    )
    with pytest.raises(oj.DataError, match=r"column 'customer'.*row 1"):
        TouchpointTable.from_columns(df)
    pdf = pl.DataFrame(
        {
            "customer": ["a", "b"],
            "time": ["2024-01-01", "garbage"],
            "channel": ["web", "web"],
            "event": ["v", "v"],
        }
    )
    with pytest.raises(oj.DataError, match=r"row 1: 'garbage'"):
        TouchpointTable.from_columns(pdf)


@settings(max_examples=40, deadline=None)
@given(touchpoint_columns())
def test_frames_round_trip_property(cols):
    t = TouchpointTable.from_columns(cols, duplicates="keep")
    assert TouchpointTable.from_columns(t.to_pandas(), duplicates="keep").equals(t)
    assert TouchpointTable.from_columns(t.to_arrow(), duplicates="keep").equals(t)

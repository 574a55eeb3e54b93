"""Values the loaders used to read wrong or crash on: digit-only dates, huge and ambiguous
numbers, booleans where numbers belong, missing times, mixed naive and aware times."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import DataError, Table, TouchpointTable
from omnijourney.pricing import PriceTable, PromotionTable
from omnijourney.time import parse_times

pd = pytest.importorskip("pandas")


def tp(times, **kw):
    n = len(times)
    data = {
        "customer": [f"c{i}" for i in range(n)],
        "time": times,
        "channel": ["web"] * n,
        "event": ["product_view"] * n,
    }
    return TouchpointTable.from_columns(data, **kw)


def day(text):
    return np.datetime64(text, "us")


# --------------------------------------------------------------------------- digit-only dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19970101", "1997-01-01T00:00"),
        ("20240501", "2024-05-01T00:00"),
        ("20240501T1015", "2024-05-01T10:15"),
        ("20240501T101530", "2024-05-01T10:15:30"),
        ("20240501T101530.25", "2024-05-01T10:15:30.25"),
        ("20240501T101530Z", "2024-05-01T10:15:30"),
        ("20240501T101530+0200", "2024-05-01T08:15:30"),
        ("20240501T101530-05:00", "2024-05-01T15:15:30"),
    ],
)
def test_iso_8601_basic_format_reads_as_a_date(text, expected):
    assert tp([text])["time"][0] == day(expected)


def test_digit_only_dates_in_every_table():
    prices = PriceTable.from_columns(
        {"sku": ["A1"], "channel": ["web"], "price": [9.99], "valid_from": ["20240501"]}
    )
    assert prices["valid_from"][0] == day("2024-05-01")
    promos = PromotionTable.from_columns(
        {
            "promo_id": ["P"],
            "sku": ["A1"],
            "channel": ["web"],
            "promo_price": [5.0],
            "start": ["20240510"],
            "end": ["20240517"],
        }
    )
    assert promos["end"][0] == day("2024-05-17")


@pytest.mark.parametrize("text", ["1714557600", "2024", "202405", "12", "-20240501", "+1"])
def test_other_digit_only_text_is_refused_naming_column_row_and_value(text):
    with pytest.raises(DataError, match="digits only") as err:
        tp(["2024-05-01", text])
    e = err.value
    assert (e.column, e.rows, e.values) == ("time", (1,), (text,))
    assert "time_unit=" in str(e)


def test_digit_only_text_is_a_number_when_time_unit_says_so():
    t = tp(["1714557600", "1714557660"], time_unit="s")
    assert t["time"].tolist() == [dt.datetime(2024, 5, 1, 10, 0), dt.datetime(2024, 5, 1, 10, 1)]
    assert tp(["1714557600000"], time_unit="ms")["time"][0] == day("2024-05-01T10:00")
    # with a unit, eight digits are a number too: the unit says what the digits are
    assert tp(["19970101"], time_unit="s")["time"][0] == day("1970-08-20T03:15:01")


def test_numpy_and_parse_times_read_eight_digits_as_a_year_no_more():
    assert np.datetime64("19970101", "us") > np.datetime64("9999-12-31", "us")  # numpy's reading
    times, bad, _ = parse_times(["19970101", "1714557600"])
    assert times[0] == day("1997-01-01") and bad.tolist() == [False, True]


def test_integer_dates_are_read_with_a_format_and_the_error_says_so():
    with pytest.raises(DataError, match=r"time_format='%Y%m%d'"):
        tp(np.array([19970101, 19970102]))
    t = tp(np.array([19970101, 19970102]), time_format="%Y%m%d")
    assert t["time"].tolist() == [dt.datetime(1997, 1, 1), dt.datetime(1997, 1, 2)]


def test_times_beyond_the_years_1_to_9999_are_refused_not_printed_wrong():
    with pytest.raises(DataError, match="out of range") as err:
        tp(["2024-01-01", "20240-01-01"])
    assert err.value.rows == (1,)
    with pytest.raises(DataError, match="out of range"):
        tp(np.array([1_700_000_000, 10**17]), time_unit="s")
    kept, rejects = tp(
        np.array(["2024-01-01", "99999-01-01"], dtype="datetime64[D]"), errors="quarantine"
    )
    assert len(kept) == 1 and rejects.rows.tolist() == [1]
    repr(kept)  # prints (an out-of-range time used to raise OverflowError here)


# --------------------------------------------------------------------------- ids


def test_ids_at_or_above_2_63_are_kept_exact():
    big = np.array([2**64 - 1, 2**63, 12346], dtype=np.uint64)
    data = {"customer": big, "time": ["2024-01-01"] * 3, "channel": ["web"] * 3, "event": ["x"] * 3}
    t = TouchpointTable.from_columns(data)
    assert t["customer"].tolist() == [str(2**64 - 1), str(2**63), "12346"]
    from_pandas = TouchpointTable.from_columns(pd.DataFrame(data))
    assert from_pandas.equals(t)
    huge = [10**30, 5]  # long account numbers: beyond any integer dtype
    t2 = TouchpointTable.from_columns({**data, "customer": [*huge, 7]})
    assert t2["customer"].tolist() == [str(10**30), "5", "7"]
    assert t2.to_arrow().num_rows == 3


def test_small_integer_ids_stay_integers():
    data = {
        "customer": [12346, 12347],
        "time": ["2024-01-01"] * 2,
        "channel": ["web"] * 2,
        "event": ["x"] * 2,
    }
    assert TouchpointTable.from_columns(data).labels("customer").dtype == np.int64


def test_float_ids_too_large_to_be_exact_are_refused():
    data = {
        "customer": [2.0**60, 1.0],
        "time": ["2024-01-01"] * 2,
        "channel": ["web"] * 2,
        "event": ["x"] * 2,
    }
    with pytest.raises(DataError, match="too large to be an exact id") as err:
        TouchpointTable.from_columns(data)
    assert err.value.rows == (0,)


def test_ids_from_csv_and_from_pandas_join(tmp_path):
    path = tmp_path / "tp.csv"
    frame = pd.DataFrame(
        {
            "customer": [12346.0, 12347.0, np.nan],  # pandas' float ids (a null forced floats)
            "time": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "channel": ["web"] * 3,
            "event": ["x"] * 3,
        }
    )
    frame.to_csv(path, index=False)  # writes "12346.0"
    via_pandas = TouchpointTable.from_columns(frame.dropna())
    via_csv = TouchpointTable.from_csv(path, errors="quarantine").kept
    assert (
        via_csv.labels("customer").tolist()
        == via_pandas.labels("customer").tolist()
        == [12346, 12347]
    )
    assert via_csv.equals(via_pandas)
    # leading zeros are text, and stay text
    path.write_text("customer,time,channel,event\n007,2024-01-01,web,x\n12,2024-01-01,web,x\n")
    assert TouchpointTable.from_csv(path)["customer"].tolist() == ["007", "12"]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("text", ["9,99", "1,999"])
def test_decimal_commas_need_decimal_comma(text):
    data = {
        "customer": ["a"],
        "time": ["2024-01-01"],
        "channel": ["web"],
        "event": ["x"],
        "value": [text],
    }
    with pytest.raises(DataError, match="decimal comma") as err:
        TouchpointTable.from_columns(data)
    assert (err.value.column, err.value.values) == ("value", (text,))
    t = TouchpointTable.from_columns(data, decimal=",")
    assert t["value"][0] == float(text.replace(",", "."))


def test_decimal_comma_refuses_a_decimal_point():
    data = {
        "customer": ["a"],
        "time": ["2024-01-01"],
        "channel": ["web"],
        "event": ["x"],
        "value": ["9.99"],
    }
    with pytest.raises(DataError, match="decimal point"):
        TouchpointTable.from_columns(data, decimal=",")


@pytest.mark.parametrize("value", [[True, False], np.array([True, False]), ["2", True]])
def test_booleans_are_refused_where_numbers_belong(value):
    data = {
        "customer": ["a", "b"],
        "time": ["2024-01-01"] * 2,
        "channel": ["web"] * 2,
        "event": ["x"] * 2,
        "value": value,
    }
    with pytest.raises(DataError, match="is a boolean, not a number"):
        TouchpointTable.from_columns(data)


def test_booleans_are_refused_as_ids_too():
    data = {
        "customer": np.array([True, False]),
        "time": ["2024-01-01"] * 2,
        "channel": ["web"] * 2,
        "event": ["x"] * 2,
    }
    with pytest.raises(DataError, match="boolean, not an identifier"):
        TouchpointTable.from_columns(data)


PROMO = {
    "promo_id": ["P1", "P2"],
    "sku": ["A1", "B2"],
    "channel": ["web", "web"],
    "start": ["2024-05-10", "2024-05-10"],
}


def test_a_percentage_above_100_is_refused():
    data = {**PROMO, "mechanic": ["percentage", "percentage"], "discount": [20.0, 150.0]}
    with pytest.raises(DataError, match="percentage above 100") as err:
        PromotionTable.from_columns(data)
    assert (err.value.column, err.value.rows, err.value.values) == ("discount", (1,), (150.0,))
    amount = {**data, "mechanic": ["percentage", "amount_off"]}
    assert len(PromotionTable.from_columns(amount)) == 2  # 150 off is an amount


def test_promotions_without_a_promo_price_column_build_or_say_why():
    data = {
        **PROMO,
        "mechanic": ["percentage", "multi_buy"],
        "discount": [20.0, None],
        "buy": [0, 3],
        "pay": [0, 2],
    }
    t = PromotionTable.from_columns(data)  # used to raise KeyError: 'promo_price'
    assert "promo_price" not in t.columns
    with pytest.raises(DataError, match="cannot be derived") as err:
        PromotionTable.from_columns(
            {**PROMO, "mechanic": ["fixed_price", "percentage"], "discount": [None, 10.0]}
        )
    assert (err.value.column, err.value.rows, err.value.values) == ("promo_price", (0,), (None,))


def test_whole_numbers_beyond_int64_in_int_columns_are_refused():
    data = {
        **PROMO,
        "mechanic": ["multi_buy"] * 2,
        "buy": np.array([3, 2**63], dtype=np.uint64),
        "pay": [2, 1],
    }
    with pytest.raises(DataError, match="range of 64-bit integers"):
        PromotionTable.from_columns(data)


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_nat_inside_a_list_of_times_is_a_missing_time(errors):
    times = [
        pd.Timestamp("2024-01-01"),
        pd.NaT,
        pd.Timestamp("2024-01-02", tz="UTC"),
        np.datetime64("NaT", "us"),
        None,
    ]
    if errors == "raise":
        with pytest.raises(DataError, match="missing") as err:
            tp(times, tz="Europe/Paris")
        assert err.value.rows == (1, 3, 4)
    else:
        kept, rejects = tp(times, tz="Europe/Paris", errors=errors)
        assert rejects.rows.tolist() == [1, 3, 4] and len(kept) == 2


def test_mixed_naive_and_aware_times_with_tz():
    times = [
        "2024-01-01T10:00Z",
        "2024-01-01T10:00",
        dt.datetime(2024, 7, 1, 12),
        "2024-01-01T12:00+02:00",
    ]
    t = tp(times, tz="Europe/Paris")
    assert t["time"].tolist() == [
        dt.datetime(2024, 1, 1, 10),
        dt.datetime(2024, 1, 1, 9),  # naive: Paris in winter
        dt.datetime(2024, 7, 1, 10),  # naive: Paris in summer
        dt.datetime(2024, 1, 1, 10),  # aware: converted
    ]
    with pytest.raises(DataError, match="mixed time-zone-aware and naive"):
        tp(times)


def test_quarantine_keeps_the_rows_a_row_level_problem_does_not_touch():
    times = ["2024-01-01", "1714557600", "not a time", "20240102", None, "2024-02-30"]
    kept, rejects = tp(times, errors="quarantine")
    assert kept["time"].tolist() == [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)]
    reasons = dict(zip(rejects["row"].tolist(), rejects["reason"].tolist()))
    assert sorted(reasons) == [1, 2, 4, 5]
    assert "digits only" in reasons[1] and "not a time" in reasons[2] and "missing" in reasons[4]


def test_the_error_in_quarantine_mode_does_not_suggest_quarantine():
    with pytest.raises(DataError) as err:
        tp(["2024-01-01T10:00Z", "2024-01-01T10:00"], errors="quarantine")
    assert "errors='quarantine'" not in str(err.value)


def test_a_free_table_reads_numbers_with_the_decimal_mark_it_is_told():
    t = Table.from_columns({"x": ["1,5", "2"]}, kinds={"x": "float"}, decimal=",")
    assert t["x"].tolist() == [1.5, 2.0]
    with pytest.raises(oj.DataError, match="decimal comma"):
        Table.from_columns({"x": ["1,5", "2"]}, kinds={"x": "float"})

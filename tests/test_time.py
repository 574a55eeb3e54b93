"""Time parsing, time zones and durations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from omnijourney import ConfigError
from omnijourney.time import (
    as_datetime,
    local_to_utc,
    parse_times,
    to_datetime64,
    to_timedelta64,
    utc_to_local,
)


def us(text: str) -> np.datetime64:
    return np.datetime64(text, "us")


def test_iso_strings_with_offsets_are_converted_to_utc():
    out, bad, problem = parse_times(
        ["2024-03-01T10:00:00+01:00", "2024-03-01 10:00:00.5-0230", "2024-03-01T10:00Z"]
    )
    assert problem is None and not bad.any()
    assert out.tolist() == [
        us("2024-03-01T09:00:00").item(),
        us("2024-03-01T12:30:00.5").item(),
        us("2024-03-01T10:00:00").item(),
    ]


def test_naive_strings_are_read_as_utc_or_in_the_given_zone():
    out, _, _ = parse_times(["2024-01-15 12:00", "2024-07-15"])
    assert out.tolist() == [us("2024-01-15T12:00").item(), us("2024-07-15T00:00").item()]
    paris, _, _ = parse_times(["2024-01-15 12:00", "2024-07-15 12:00"], tz="Europe/Paris")
    # CET is UTC+1 in winter, CEST UTC+2 in summer
    assert paris.tolist() == [us("2024-01-15T11:00").item(), us("2024-07-15T10:00").item()]


def test_dst_gap_and_overlap_resolve_with_the_earlier_offset():
    out, bad, _ = parse_times(["2024-03-31 02:30", "2024-10-27 02:30"], tz="Europe/Paris")
    assert not bad.any()
    assert out.tolist() == [us("2024-03-31T01:30").item(), us("2024-10-27T00:30").item()]


def test_missing_and_unreadable_values_are_flagged_not_dropped():
    out, bad, problem = parse_times(["2024-01-01", None, "", "not a time", "now", float("nan")])
    assert problem is None
    assert bad.tolist() == [False, True, True, True, True, True]
    assert np.isnat(out[1:]).all()
    assert out.size == 6


def test_mixed_naive_and_aware_values_are_a_whole_column_problem():
    _, bad, problem = parse_times(["2024-01-01T10:00Z", "2024-01-01T11:00"])
    assert problem is not None and "mixed" in problem
    assert bad.tolist() == [False, True]


def test_datetime_objects_and_dates():
    paris = dt.timezone(dt.timedelta(hours=2))
    out, bad, problem = parse_times([dt.datetime(2024, 6, 1, 12, tzinfo=paris)])
    assert out[0] == us("2024-06-01T10:00") and not bad.any() and problem is None
    out, _, _ = parse_times([dt.date(2024, 6, 1), dt.datetime(2024, 6, 1, 1)])
    assert out.tolist() == [us("2024-06-01").item(), us("2024-06-01T01:00").item()]


def test_numeric_epochs_need_a_unit():
    _, bad, problem = parse_times(np.array([1_700_000_000]))
    assert problem is not None and bad.all()
    out, bad, _ = parse_times(np.array([1_700_000_000.0, np.nan]), unit="s")
    assert out[0] == us("2023-11-14T22:13:20") and bad.tolist() == [False, True]
    out, _, _ = parse_times(np.array([1_700_000_000_123]), unit="ms")
    assert out[0] == us("2023-11-14T22:13:20.123")


def test_datetime64_input_of_any_unit():
    ns = np.array(["2024-01-01T00:00:00.123456789", "NaT"], dtype="datetime64[ns]")
    out, bad, _ = parse_times(ns)
    assert out.dtype == np.dtype("datetime64[us]")
    assert out[0] == us("2024-01-01T00:00:00.123456") and bad.tolist() == [False, True]


def test_custom_format():
    out, bad, _ = parse_times(["01/03/2024 10:00", "31/02/2024 10:00"], fmt="%d/%m/%Y %H:%M")
    assert out[0] == us("2024-03-01T10:00") and bad.tolist() == [False, True]


def test_local_and_utc_round_trip_outside_transitions(rng):
    base = np.datetime64("2024-01-01T00:00", "us")
    values = base + (rng.integers(0, 365 * 24 * 60, 500) * 60_000_000).astype("timedelta64[us]")
    local = utc_to_local(values, "America/New_York")
    back = local_to_utc(local, "America/New_York")
    # values falling in the repeated hour may map to the first occurrence; all others round-trip
    same = back == values
    assert same.mean() > 0.99
    assert np.all(np.abs((back - values).astype(np.int64)) <= 3_600_000_000)


def test_nat_passes_through_zone_conversion():
    arr = np.array(["2024-01-01T00:00", "NaT"], dtype="datetime64[us]")
    assert np.isnat(utc_to_local(arr, "Asia/Tokyo")[1])
    assert utc_to_local(arr, "Asia/Tokyo")[0] == us("2024-01-01T09:00")


@pytest.mark.parametrize(
    ("text", "expected_us"),
    [
        ("30min", 1_800_000_000),
        ("30 min", 1_800_000_000),
        ("2h", 7_200_000_000),
        ("7D", 604_800_000_000),
        ("1.5 days", 129_600_000_000),
        ("500ms", 500_000),
        ("1w", 604_800_000_000),
        ("0s", 0),
    ],
)
def test_durations(text, expected_us):
    assert to_timedelta64(text) == np.timedelta64(expected_us, "us")


@pytest.mark.parametrize("bad", ["-5min", "5 parsecs", 30, "", None, np.timedelta64("NaT", "us")])
def test_bad_durations_raise_config_error_naming_the_parameter(bad):
    with pytest.raises(ConfigError, match="timeout"):
        to_timedelta64(bad, name="timeout")


def test_unknown_zone_is_a_config_error():
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        parse_times(["2024-01-01"], tz="Mars/Olympus")


def test_scalar_helpers():
    assert to_datetime64("2024-01-01", tz="Europe/Paris") == us("2023-12-31T23:00")
    assert as_datetime(us("2024-05-01T12:00")) == dt.datetime(
        2024, 5, 1, 12, tzinfo=dt.timezone.utc
    )
    with pytest.raises(ConfigError, match="as_of"):
        to_datetime64("yesterday-ish", name="as_of")

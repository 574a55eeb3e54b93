"""Bad input: clear errors naming table, column, row and value; quarantine accounts for every row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import DataError, SchemaError, TouchpointTable


def cols(**override):
    base = {
        "customer": ["a", "b", "c", "d"],
        "time": ["2024-01-01T10:00", "2024-01-01T11:00", "2024-01-02T09:00", "2024-01-03T08:00"],
        "channel": ["web", "store", "web", "app"],
        "event": ["view", "purchase", "view", "view"],
    }
    base.update(override)
    return base


def test_missing_required_column_names_it_and_lists_what_is_there():
    data = cols()
    del data["event"]
    with pytest.raises(SchemaError, match=r"required column 'event' not found.*available"):
        TouchpointTable.from_columns(data)
    with pytest.raises(SchemaError, match=r"column 'what' \(for 'event'\) not found"):
        TouchpointTable.from_columns(cols(), event="what")


def test_unparseable_time_names_column_row_and_value():
    with pytest.raises(DataError) as err:
        TouchpointTable.from_columns(cols(time=["2024-01-01", "31/31/2024", None, "x"]))
    e = err.value
    assert e.table == "TouchpointTable" and e.column == "time"
    # the first problem reported is the unreadable values; the missing one is its own problem
    assert e.rows == (1, 3) and e.values == ("31/31/2024", "x")
    assert "row 1: '31/31/2024'" in str(e) and "errors='quarantine'" in str(e)


def test_nat_and_missing_times_are_refused():
    with pytest.raises(DataError, match=r"column 'time'.*missing.*row 2"):
        TouchpointTable.from_columns(
            cols(
                time=np.array(
                    ["2024-01-01", "2024-01-02", "NaT", "2024-01-04"], dtype="datetime64[s]"
                )
            )
        )


@pytest.mark.parametrize("null", [None, float("nan"), "", "   "])
def test_null_ids_are_refused_with_the_row(null):
    with pytest.raises(
        DataError, match=r"column 'customer' \(input column 'client'\).*missing.*row 2"
    ):
        data = cols(customer=["a", "b", null, "d"])
        data["client"] = data.pop("customer")
        TouchpointTable.from_columns(data, customer="client")


def test_mixed_id_types_are_refused():
    with pytest.raises(DataError, match="mixes string and integer ids"):
        TouchpointTable.from_columns(cols(customer=["a", "b", 3, "d"]))


def test_mixed_time_zones_are_refused_even_in_quarantine():
    bad = cols(
        time=["2024-01-01T10:00Z", "2024-01-01T10:00", "2024-01-01T10:00+02:00", "2024-01-01"]
    )
    for mode in ("raise", "quarantine"):
        with pytest.raises(DataError, match=r"mixed time-zone-aware and naive.*row 1"):
            TouchpointTable.from_columns(bad, errors=mode)


def test_numeric_times_without_unit_are_refused():
    with pytest.raises(DataError, match="time_unit"):
        TouchpointTable.from_columns(cols(time=np.arange(4)))
    t = TouchpointTable.from_columns(cols(time=np.arange(4) * 3600), time_unit="s")
    assert str(t["time"][1]) == "1970-01-01T01:00:00.000000"


def test_non_numeric_and_infinite_values_are_refused():
    with pytest.raises(DataError, match=r"column 'value'.*not a number.*row 1: 'ten'"):
        TouchpointTable.from_columns(cols(value=[1.0, "ten", None, 2]))
    with pytest.raises(DataError, match=r"infinite"):
        TouchpointTable.from_columns(cols(value=[1.0, float("inf"), None, 2]))


def test_unknown_direction_is_refused():
    with pytest.raises(DataError, match=r"direction.*not one of 'inbound', 'outbound'.*'up'"):
        TouchpointTable.from_columns(cols(direction=["inbound", "up", None, "OUTBOUND"]))


def test_unknown_channel_kind_is_a_config_error():
    with pytest.raises(oj.ConfigError, match="ChannelKind must be one of"):
        TouchpointTable.from_columns(cols(), channels={"web": "hologram"})


def test_ragged_columns_and_unknown_data_types():
    with pytest.raises(SchemaError, match="different lengths"):
        TouchpointTable.from_columns(cols(event=["view"]))
    with pytest.raises(SchemaError, match="mapping of column name"):
        TouchpointTable.from_columns(42)
    with pytest.raises(oj.ConfigError, match="'errors' parameter must be"):
        TouchpointTable.from_columns(cols(), errors="ignore")


def test_quarantine_returns_kept_and_rejects_and_counts_add_up():
    data = cols(
        customer=["a", None, "c", "d"],
        time=["2024-01-01", "2024-01-02", "never", "2024-01-04"],
        value=[1.0, "x", 3.0, 4.0],
    )
    result = TouchpointTable.from_columns(data, errors="quarantine")
    kept, rejects = result
    assert result.n_in == 4 and result.n_kept == 2 and result.n_rejected == 2
    assert result.n_in == result.n_kept + result.n_rejected
    assert kept["customer"].tolist() == ["a", "d"]
    assert rejects["row"].tolist() == [1, 1, 2]
    assert rejects["column"].tolist() == ["customer", "value", "time"]
    assert rejects["value"].tolist() == ["None", "x", "never"]
    assert rejects["reason"].tolist()[0] == "is missing (an id is required)"
    # labels only used by rejected rows are dropped from the kept table
    assert kept.labels("customer").tolist() == ["a", "d"]
    assert "2 kept, 2 rejected" in repr(result)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None, ""]),
            st.sampled_from(["2024-01-01", "2024-02-30", None, "2024-03-01T10:00"]),
            st.sampled_from([1.0, None, "n/a", float("inf")]),
        ),
        max_size=30,
    ),
    st.sampled_from(["keep", "drop"]),
)
def test_quarantine_accounts_for_every_row(rows, duplicates):
    data = {
        "customer": [r[0] for r in rows],
        "time": [r[1] for r in rows],
        "channel": ["web"] * len(rows),
        "event": ["view"] * len(rows),
        "value": [r[2] for r in rows],
    }
    result = TouchpointTable.from_columns(data, errors="quarantine", duplicates=duplicates)
    assert result.n_kept + result.n_rejected + result.n_duplicates == len(rows)
    expected_bad = [
        r[0] in (None, "") or r[1] in (None, "2024-02-30") or r[2] in ("n/a", float("inf"))
        for r in rows
    ]
    assert result.rejects.rows.tolist() == [i for i, b in enumerate(expected_bad) if b]
    good = [r for r, b in zip(rows, expected_bad) if not b]
    n_distinct = len({(r[0], r[1], r[2]) for r in good})
    assert result.n_kept == (n_distinct if duplicates == "drop" else len(good))


@pytest.mark.parametrize("ids", [[True, 1, 2, 3], [1, True, 2, 3], [2, 3, 1, True]])
def test_booleans_are_not_ids_whatever_their_position(ids):
    with pytest.raises(DataError, match=r"not an identifier.*True"):
        TouchpointTable.from_columns(cols(customer=ids))
    kept = TouchpointTable.from_columns(cols(customer=ids), errors="quarantine").kept
    assert sorted(kept["customer"].tolist()) == [1, 2, 3]


def test_a_single_name_is_not_split_into_characters():
    assert oj.StageMap(stages="buy", events={"purchase": "buy"}).stages == ("buy",)

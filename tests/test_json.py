"""JSON round trips of records, results and tables through the one converter."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import omnijourney as oj
from omnijourney import Channel, Customer, Journey, Touchpoint
from strategies import BASE, unicode_ids

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)
times = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
)
opt_text = st.one_of(
    st.none(), st.text(min_size=1, max_size=6).filter(lambda s: s.strip() != s or True)
)


@st.composite
def touchpoints(draw):
    return Touchpoint(
        customer=draw(st.one_of(unicode_ids, st.integers(0, 10**12))),
        time=draw(times),
        channel=draw(st.sampled_from(["web", "store", "call_centre", "Ωmega"])),
        event=draw(st.sampled_from(["view", "purchase", "quote_signed"])),
        value=draw(st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False))),
        currency=draw(st.sampled_from([None, "EUR", "GBP"])),
        direction=draw(st.sampled_from([None, "inbound", "outbound"])),
        order_id=draw(st.one_of(st.none(), unicode_ids)),
        cart_id=draw(st.one_of(st.none(), unicode_ids)),
        sequence=draw(st.one_of(st.none(), st.integers(-(2**40), 2**40))),
        attributes=draw(st.dictionaries(st.text(min_size=1, max_size=5), json_scalars, max_size=3)),
    )


@given(touchpoints())
def test_touchpoint_round_trips_exactly(t):
    back = oj.from_json(oj.to_json(t), Touchpoint)
    assert back == t
    assert back.time == t.time and back.time.tzinfo == dt.timezone.utc


@given(
    st.one_of(unicode_ids, st.integers(0, 10**9)),
    st.one_of(st.none(), unicode_ids),
    st.dictionaries(st.text(min_size=1, max_size=5), json_scalars, max_size=4),
)
def test_customer_round_trips_exactly(cid, hid, attributes):
    c = Customer(id=cid, household_id=hid, identifiers={"email": "x@y.fr"}, attributes=attributes)
    assert oj.from_json(oj.to_json(c), Customer) == c


def test_channel_and_journey_round_trip():
    ch = Channel("kiosk", kind="physical", initiator="either")
    assert oj.from_json(oj.to_json(ch), Channel) == ch
    t1 = Touchpoint(customer=1, time=BASE, channel="web", event="view")
    t2 = Touchpoint(
        customer=1,
        time=BASE + dt.timedelta(hours=1),
        channel="store",
        event="purchase",
        value=np.float64(19.99),
    )
    j = Journey(
        journey_id=np.int64(3),
        customer=1,
        start=t1.time,
        end=t2.time,
        n_touchpoints=2,
        channels=("web", "store"),
        converted=np.bool_(True),
        value=19.99,
        end_reason=oj.EndReason.CONVERSION,
        touchpoints=(t1, t2),
    )
    text = oj.to_json(j)
    assert '"end_reason": "conversion"' in text
    assert oj.from_json(text, Journey) == j


def test_numpy_scalars_and_arrays_unstructure_to_plain_json():
    assert oj.to_dict(np.int64(5)) == 5
    assert oj.to_dict(np.float32(0.5)) == 0.5
    d = oj.to_dict(np.array(["2024-01-01T00:00:00.000001", "NaT"], dtype="datetime64[us]"))
    back = oj.from_dict(d, np.ndarray)
    assert back.dtype == np.dtype("datetime64[us]")
    assert back[0] == np.datetime64("2024-01-01T00:00:00.000001") and np.isnat(back[1])
    ints = np.arange(6, dtype=np.int16).reshape(2, 3)
    assert np.array_equal(oj.from_dict(oj.to_dict(ints), np.ndarray), ints)
    assert oj.from_dict(oj.to_dict(ints), np.ndarray).dtype == np.int16


def test_tables_round_trip_with_categories_and_metadata(small_columns):
    tp = oj.TouchpointTable.from_columns(
        small_columns,
        customer="client",
        time="ts",
        channel="canal",
        event="what",
        value="amount",
        cart_id="basket",
        channels={"canal_x": "physical"},
    ).sort()
    back = oj.from_json(oj.to_json(tp), oj.TouchpointTable)
    assert back.equals(tp)
    assert back.is_sorted
    assert back.channel_catalog == tp.channel_catalog
    assert back[0] == tp[0]


# --------------------------------------------------------------------------- standard JSON


def strict_loads(text: str):
    """json.loads that refuses the NaN / Infinity literals (not JSON: RFC 8259)."""

    def refuse(constant):
        raise AssertionError(f"not JSON: bare {constant}")

    return json.loads(text, parse_constant=refuse)


@given(
    hnp.arrays(
        st.sampled_from([np.float64, np.float32, np.float16]),
        hnp.array_shapes(max_dims=2, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=16),
    )
)
def test_float_arrays_with_nan_and_infinity_round_trip_through_standard_json(arr):
    text = oj.to_json(arr)
    strict_loads(text)
    back = oj.from_json(text, np.ndarray)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=True)
    assert np.array_equal(np.signbit(back[~np.isnan(back)]), np.signbit(arr[~np.isnan(arr)]))


@given(st.floats(allow_nan=False), st.sampled_from([np.inf, -np.inf, 0.0]))
def test_infinite_record_values_round_trip(value, special):
    t = Touchpoint(customer=1, time=BASE, channel="web", event="view", value=value + special)
    text = oj.to_json(t)
    strict_loads(text)
    assert oj.from_json(text, Touchpoint) == t


def test_tables_with_nulls_round_trip_through_standard_json():
    from omnijourney.tables import Table

    table = Table.from_columns(
        {"x": [120.0, float("nan"), -0.0, None, 1e308, 0.5], "n": [1, 2, 3, 4, 5, 6]}
    )
    text = oj.to_json(table)
    data = strict_loads(text)
    assert data["columns"]["x"]["data"]["data"][1:4] == ["NaN", -0.0, "NaN"]
    back = oj.from_json(text, Table)
    assert back.equals(table)
    # text written before non-finite floats were spelled as strings still reads
    assert oj.from_json(text.replace('"NaN"', "NaN"), Table).equals(table)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "cls", "error", "match"),
    [
        ("{bad", Touchpoint, oj.DataError, r"Touchpoint: the text is not JSON: Expecting "
         r"property name enclosed in double quotes at line 1, column 2"),
        ('{"customer": 1}', Touchpoint, oj.SchemaError,
         r"does not hold a Touchpoint: required field missing @ \$\.time; "
         r"required field missing @ \$\.channel; required field missing @ \$\.event"),
        ("[1, 2]", Touchpoint, oj.SchemaError, r"expected an object @ \$, got list"),
        ('{"customer": "c", "time": "2024-13-01", "channel": "web", "event": "x"}', Touchpoint,
         oj.SchemaError, r"expected an ISO 8601 time string, got '2024-13-01' @ \$\.time"),
        ('{"a": 1}', oj.TouchpointTable, oj.SchemaError,
         r"does not hold a TouchpointTable: expected a TouchpointTable: required field "
         r"missing @ \$\.columns"),
        ('{"columns": {"channel": {"kind": "category"}}}', oj.TouchpointTable, oj.SchemaError,
         r"expected a column: required field missing @ \$\.columns\.channel\.data"),
        ('{"columns": {"value": {"kind": "float", "data": {"dtype": "<f8"}}}}',
         oj.TouchpointTable, oj.SchemaError, r"expected an array: required field missing"),
        ("", Customer, oj.DataError, r"the text is not JSON: Expecting value at line 1"),
        (b"\xff\xfe{", Customer, oj.DataError, r"not UTF-8 JSON|not JSON"),
    ],
)  # fmt: skip
def test_malformed_or_mismatched_json_says_what_was_expected_and_where(text, cls, error, match):
    with pytest.raises(error, match=match):
        oj.from_json(text, cls)


def test_from_json_needs_text():
    with pytest.raises(oj.ConfigError, match="reads JSON text"):
        oj.from_json({"customer": 1}, Touchpoint)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
table_like = st.fixed_dictionaries(
    {"columns": st.dictionaries(st.sampled_from(["customer", "time", "channel"]), json_values)}
)


@settings(max_examples=300)
@given(
    st.one_of(json_values, table_like),
    st.sampled_from([Touchpoint, Customer, Channel, Journey, oj.TouchpointTable, np.ndarray]),
)
def test_any_json_value_either_reads_or_raises_an_omnijourney_error(value, cls):
    with contextlib.suppress(oj.OmnijourneyError):
        oj.from_json(json.dumps(value), cls)

"""JSON round trips of records, results and tables through the one converter."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

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

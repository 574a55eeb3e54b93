"""Record types: validation, equality, hashing and readable reprs."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import pytest

import omnijourney as oj
from omnijourney import Channel, ConfigError, Customer, Journey, Touchpoint

UTC = dt.timezone.utc


def tp(**kw):
    base = {"customer": "C1", "time": "2024-05-01T10:00:00Z", "channel": "web", "event": "view"}
    base.update(kw)
    return Touchpoint(**base)


def test_touchpoint_time_is_aware_utc_whatever_the_input():
    naive = tp(time=dt.datetime(2024, 5, 1, 10))
    paris = tp(time=dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    text = tp(time="2024-05-01T12:00:00+02:00")
    np64 = tp(time=np.datetime64("2024-05-01T10:00:00"))
    assert naive.time == paris.time == text.time == np64.time
    assert naive.time.tzinfo is UTC
    assert naive == paris == text == np64
    assert len({naive, paris, text, np64}) == 1


def test_touchpoint_is_frozen_and_slotted():
    t = tp()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.event = "purchase"  # type: ignore[misc]
    assert not hasattr(t, "__dict__")


def test_numpy_scalars_become_python_values():
    t = tp(customer=np.int64(7), value=np.float32(2.5), sequence=np.int64(3))
    assert type(t.customer) is int and type(t.value) is float and type(t.sequence) is int
    assert tp(value=float("nan")).value is None


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("customer", "", "customer must not be empty"),
        ("customer", None, "identifier"),
        ("customer", 1.5, "identifier"),
        ("channel", " ", "channel must not be empty"),
        ("time", "not a time", "time"),
        ("time", np.datetime64("NaT", "us"), "NaT"),
        ("direction", "sideways", "Direction must be one of"),
    ],
)
def test_invalid_touchpoints_raise_config_error(field, value, match):
    with pytest.raises(ConfigError, match=match):
        tp(**{field: value})


def test_touchpoint_repr_is_readable():
    t = tp(event="purchase", value=42.0, currency="EUR", order_id="O1", direction="inbound")
    assert repr(t) == (
        "Touchpoint(C1 @ 2024-05-01 10:00:00 UTC, web/purchase, value=42.0 EUR, inbound, "
        "order_id='O1')"
    )


def test_channel_kinds_are_validated_and_catalog_fills_defaults():
    assert Channel("kiosk", kind="physical").kind is oj.ChannelKind.PHYSICAL
    with pytest.raises(ConfigError, match="ChannelKind must be one of"):
        Channel("kiosk", kind="teleport")
    cat = oj.channel_catalog(["web", "store", "kiosk", "call_centre"], {"kiosk": "physical"})
    assert [c.kind.value for c in cat] == ["digital", "physical", "physical", "assisted"]
    assert oj.channel_catalog(["???"])[0].kind is oj.ChannelKind.OTHER
    with pytest.raises(ConfigError):
        oj.channel_catalog(["x"], ["not a channel"])  # type: ignore[list-item]


def test_customer_maps_are_frozen_hashable_and_order_free():
    a = Customer(id="P1", household_id="H1", identifiers={"email": "a@x.fr", "phone": "+33612"})
    b = Customer(id="P1", household_id="H1", identifiers={"phone": "+33612", "email": "a@x.fr"})
    assert a == b and hash(a) == hash(b)
    assert a.identifiers["email"] == "a@x.fr"
    with pytest.raises(TypeError):
        a.identifiers["email"] = "b@x.fr"  # type: ignore[index]
    with pytest.raises(ConfigError, match="str, int, float, bool or None"):
        Customer(id="P1", attributes={"tags": ["a", "b"]})


def test_journey_checks_its_touchpoints():
    t1 = tp(time="2024-05-01T10:00:00Z")
    t2 = tp(time="2024-05-01T10:10:00Z", event="purchase", value=10)
    j = Journey(
        journey_id=0,
        customer="C1",
        start=t1.time,
        end=t2.time,
        n_touchpoints=2,
        channels=("web",),
        converted=True,
        value=10.0,
        stage="purchase",
        end_reason="conversion",
        touchpoints=(t1, t2),
    )
    assert j.duration == dt.timedelta(minutes=10)
    assert "converted" in repr(j) and "ended by conversion" in repr(j)
    with pytest.raises(ConfigError, match="not in time order"):
        attrs.evolve(j, touchpoints=(t2, t1))
    with pytest.raises(ConfigError, match="of customer 'C2'"):
        attrs.evolve(j, touchpoints=(t1, tp(customer="C2")))
    with pytest.raises(ConfigError, match="before start"):
        attrs.evolve(j, start=t2.time, end=t1.time, touchpoints=())
    with pytest.raises(ConfigError, match="EndReason"):
        attrs.evolve(j, end_reason="boredom")

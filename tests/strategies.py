"""Hypothesis strategies and markers shared by the test modules."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from hypothesis import strategies as st

CHANNELS = ("web", "app", "store", "call_centre", "email", "sms", "social", "chat")
EVENTS = ("product_view", "add_to_cart", "purchase", "quote_request", "call", "email_open")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")),
    min_size=1,
    max_size=6,
)
unicode_ids = st.one_of(st.sampled_from(["ana", "Zoé", "Łukasz", "東京", "c-1", "C1"]), ids)


@st.composite
def touchpoint_columns(draw, min_rows: int = 0, max_rows: int = 40, with_value: bool = True):
    """Columns of a touchpoint table with frequent ties on customer and time."""
    n = draw(st.integers(min_rows, max_rows))
    customers = draw(st.lists(unicode_ids, min_size=1, max_size=5, unique=True))
    minutes = st.integers(0, 60 * 24 * 3)
    cols = {
        "customer": [draw(st.sampled_from(customers)) for _ in range(n)],
        # few distinct minutes so that ties on time are common
        "time": [
            BASE
            + dt.timedelta(minutes=draw(st.one_of(st.sampled_from([0, 1, 30, 31, 1440]), minutes)))
            for _ in range(n)
        ],
        "channel": [draw(st.sampled_from(CHANNELS)) for _ in range(n)],
        "event": [draw(st.sampled_from(EVENTS)) for _ in range(n)],
    }
    if with_value:
        cols["value"] = [
            draw(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))) for _ in range(n)
        ]
    return cols


def permuted(cols: dict[str, list], perm: np.ndarray) -> dict[str, list]:
    return {k: [v[i] for i in perm] for k, v in cols.items()}


#: Values whose sums depend on the order they are added in: 0.1 + 0.2 + 0.3 is not
#: 0.3 + 0.2 + 0.1, and 1e16 + 1.0 - 1e16 is not 1e16 - 1e16 + 1.0.
ORDER_SENSITIVE = (0.1, 0.2, 0.3, 0.7, 1.0, 1 / 3, 2.5e-8, 1e16, -1e16)


@st.composite
def order_sensitive_columns(draw, min_rows: int = 2, max_rows: int = 30):
    """Touchpoints of a few customers at a few instants, mostly purchases (the first row is
    one), valued so that any sum taken in row order would depend on the row order."""
    n = draw(st.integers(min_rows, max_rows))
    customers = draw(st.lists(unicode_ids, min_size=1, max_size=3, unique=True))
    events = ("purchase", "purchase", "order", "product_view", "add_to_cart", "call")
    return {
        "customer": [draw(st.sampled_from(customers)) for _ in range(n)],
        "time": [
            BASE + dt.timedelta(minutes=draw(st.sampled_from([0, 1, 1440, 2880]))) for _ in range(n)
        ],
        "channel": [
            draw(st.sampled_from(("web", "app", "store", "call_centre"))) for _ in range(n)
        ],
        "event": ["purchase"] + [draw(st.sampled_from(events)) for _ in range(n - 1)],
        "value": [draw(st.one_of(st.none(), st.sampled_from(ORDER_SENSITIVE))) for _ in range(n)],
    }


def load_quietly(cols: dict[str, list], **kw):
    """A TouchpointTable of ``cols`` without the loader's own caveats (repeated rows, channel
    names of unknown kind): the tests that use it build such data on purpose, to test the
    analyses."""
    from omnijourney import OmnijourneyWarning, TouchpointTable

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "TouchpointTable: ", OmnijourneyWarning)
        return TouchpointTable.from_columns(cols, **kw)


def two_orders(cols: dict[str, list], seed: int, **kw):
    """The touchpoints of ``cols`` as given and in a random row order (a seeded shuffle)."""
    perm = np.random.default_rng(seed).permutation(len(cols["customer"]))
    return load_quietly(cols, **kw), load_quietly(permuted(cols, perm), **kw)


def assert_same_values(a, b) -> None:
    """Two tables have the same columns and values; floats bit for bit (NaN equal to NaN)."""
    assert a.columns == b.columns
    for name in a.columns:
        x, y = a.column_values(name), b.column_values(name)
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), name
        else:
            assert x.tolist() == y.tolist(), name


#: Hand-made and generated touchpoints often hold no purchase, no event of the default stage
#: map, no start event..., on purpose: the warnings that say so are specified in
#: test_unmatched.py, and tests of other behaviour ignore them.
JOURNEY_RULES_UNMATCHED = pytest.mark.filterwarnings(
    r"ignore:JourneyRules\.[\w.]+ matches no:omnijourney.errors.OmnijourneyWarning"
)
#: Likewise for break rules whose events or channel kinds small examples do not have.
BREAK_RULES_UNMATCHED = pytest.mark.filterwarnings(
    r"ignore:BreakRules\.\w+ matches no:omnijourney.errors.OmnijourneyWarning"
)

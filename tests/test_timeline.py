"""The customer timeline (interaction hub)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.journeys import detect_breaks, format_timeline, timeline
from strategies import (
    BREAK_RULES_UNMATCHED,
    JOURNEY_RULES_UNMATCHED,
    assert_same_values,
    order_sensitive_columns,
    two_orders,
)

pytestmark = [JOURNEY_RULES_UNMATCHED, BREAK_RULES_UNMATCHED]


def test_timeline_lists_a_customers_touchpoints_by_journey_with_breaks():
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["a", "b", "a", "a"],
            "time": [
                "2024-05-01T10:00",
                "2024-05-01T09:00",
                "2024-05-02T15:00",
                "2024-05-01T09:00",
            ],
            "channel": ["web", "web", "store", "email"],
            "event": ["order", "product_view", "pickup", "email_click"],
            "order_id": ["O1", None, "O1", None],
            "value": [30.0, None, None, None],
        }
    )
    jt = oj.sessionize(tp)
    tl = timeline(jt, "a", breaks=detect_breaks(jt))
    assert tl["event"].tolist() == ["email_click", "order", "pickup"]
    assert tl["row"].tolist() == [3, 0, 2]
    assert tl["journey_id"].tolist() == [0, 0, 1]
    assert tl["reference"].tolist() == [None, "order_id=O1", "order_id=O1"]
    assert tl["break"].tolist() == [None, None, "click_and_collect"]
    text = format_timeline(tl)
    assert text.splitlines()[0] == "customer a" and "<- click_and_collect" in text
    both = timeline(jt, ["b", "a"])
    assert both["customer"].tolist() == ["a", "a", "a", "b"]
    with pytest.raises(oj.ConfigError, match="unknown customer 'zz'"):
        timeline(jt, "zz")


@settings(max_examples=40, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1))
def test_the_timeline_is_the_same_in_any_row_order(cols, seed):
    a, b = (oj.sessionize(t) for t in two_orders(cols, seed))
    customers = sorted(set(cols["customer"]))
    ta, tb = (timeline(j, customers, breaks=detect_breaks(j)) for j in (a, b))
    kept = [c for c in ta.columns if c != "row"]  # rows of each input order
    assert_same_values(ta.select(kept), tb.select(kept))
    assert format_timeline(ta) == format_timeline(tb)

"""The customer timeline (interaction hub)."""

from __future__ import annotations

import pytest

import omnijourney as oj
from omnijourney.journeys import detect_breaks, format_timeline, timeline
from strategies import BREAK_RULES_UNMATCHED, JOURNEY_RULES_UNMATCHED

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

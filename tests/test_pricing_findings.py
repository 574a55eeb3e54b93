"""The findings table: the promotion of a promotion finding has its own column."""

from __future__ import annotations

import warnings

import pytest

import omnijourney as oj
from omnijourney.pricing import PriceTable, PromotionTable, audit


def flash_then_reduction():
    """Web: 19.99, a one-hour flash price of 12.99, then "was 19.99, now 14.99" (P1), and a
    second promotion (P2) overlapping P1; the store has a price gap of its own."""
    prices = PriceTable.from_columns(
        {
            "sku": ["A1"] * 5 + ["B1", "B1"],
            "channel": ["web"] * 5 + ["web", "store"],
            "price": [19.99, 12.99, 19.99, 14.99, 19.99, 10.0, 12.0],
            "valid_from": ["2024-04-01", "2024-04-20T12:00", "2024-04-20T13:00", "2024-05-10",
                           "2024-05-20", "2024-05-01", "2024-05-01"],
            "valid_to": ["2024-04-20T12:00", "2024-04-20T13:00", "2024-05-10", "2024-05-20",
                         None, None, None],
            "price_type": ["regular", "promotional", "regular", "promotional", "regular",
                           "regular", "regular"],
        }
    )  # fmt: skip
    promotions = PromotionTable.from_columns(
        {
            "promo_id": ["P1", "P2"],
            "sku": ["A1", "A1"],
            "channel": ["web", "web"],
            "promo_price": [14.99, 14.99],
            "start": ["2024-05-10", "2024-05-15"],
            "end": ["2024-05-20", "2024-05-25"],
            "reference_price": [19.99, None],
            "announced_pct": [25.0, None],
        }
    )
    return audit(prices, promotions, as_of="2024-07-01")


def test_promotion_findings_name_their_promotion_in_their_own_column():
    result = flash_then_reduction()
    findings = result.findings
    assert "promotion" in findings.columns and findings.kinds["promotion"] == "category"
    rows = [findings.row(i) for i in range(len(findings))]
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["prior_price_reference"]["promotion"] == "P1"
    assert by_rule["overlapping_promotions"]["promotion"] == "P1|P2"
    # findings that are not about a promotion have none
    assert by_rule["price_gap"]["promotion"] is None
    ref = next(f for f in findings if f.rule == "prior_price_reference")
    assert ref.promotion == "P1"
    assert ref.explain().startswith("Promotion P1 showed A1 on web")
    assert result.to_pandas()["promotion"].tolist().count("P1") >= 1


def test_reading_the_promotion_from_detail_still_works_but_is_deprecated():
    findings = flash_then_reduction().findings
    with pytest.warns(DeprecationWarning, match="'promotion' column"):
        detail = findings["detail"]
    promo = findings["promotion"]
    assert all(d == p for d, p in zip(detail.tolist(), promo.tolist()) if p is not None)
    # a table without promotion findings reads its detail without a warning
    gaps = findings.filter(findings["promotion"] == None)  # noqa: E711
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gaps["detail"]


def test_findings_round_trip_through_json_with_the_promotion_column():
    result = flash_then_reduction()
    back = oj.from_json(oj.to_json(result), type(result))
    assert back.findings.equals(result.findings)
    assert back.findings.row(0) == result.findings.row(0)

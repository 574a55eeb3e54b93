"""Summaries are text everywhere, tables print their head and tail, intervals read as intervals."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import _format as fmt
from omnijourney.metrics._multichannel import _bin_labels
from omnijourney.pricing import PriceTable, PromotionTable, audit, exposure
from omnijourney.tables import Table


@pytest.fixture
def result() -> oj.pricing.PriceAudit:
    """A1 costs 11.00 in store against 10.00 on the web and the app for ten days; B2 has no
    price from the 3rd to the 5th on the web; a reduction of C3 in EUR claims "was 25.00"."""
    prices = PriceTable.from_columns(
        {
            "sku": ["A1", "A1", "A1", "B2", "B2"],
            "channel": ["web", "app", "store", "web", "web"],
            "price": [10.0, 10.0, 11.0, 5.0, 5.0],
            "currency": ["EUR"] * 5,
            "valid_from": ["2024-05-01"] * 3 + ["2024-05-01", "2024-05-05"],
            "valid_to": [None, None, None, "2024-05-03", None],
        }
    )
    return audit(prices, as_of="2024-05-11")


def test_an_audit_summary_is_text_with_counts_days_and_money(result) -> None:
    assert result.counts()["price_gap"] == 1 and result.counts()["coverage_hole"] == 1
    assert result.summary() == (
        "Audit of 5 price intervals in 4 series, 0 promotion rows and 0 stock rows from "
        "2024-05-01 00:00 UTC to 2024-05-11 00:00 UTC: 2 findings on 2 skus over 12 days; "
        "1.00 EUR at stake per unit sold.\n"
        "  coverage_hole: 1 finding on 1 sku over 2 days\n"
        "  price_gap: 1 finding on 1 sku over 10 days; 1.00 EUR at stake per unit sold"
    )
    assert result.findings.summary().startswith("2 findings on 2 skus over 12 days")


def test_the_summary_table_is_the_former_summary(result) -> None:
    table = result.summary_table()
    assert isinstance(table, Table)
    assert table["rule"].tolist() == ["coverage_hole", "price_gap"]
    assert table["findings"].tolist() == [1, 1] and table["days"].tolist() == [2.0, 10.0]
    assert result.by_rule().equals(table)
    assert result.findings.summary_table(["rule", "channel"]).equals(result.by_channel())


def test_summary_by_still_returns_the_table_with_a_deprecation(result) -> None:
    with pytest.warns(DeprecationWarning, match=r"summary_table\(by\)"):
        old = result.summary("sku")
    assert old.equals(result.summary_table("sku"))
    with pytest.warns(DeprecationWarning, match=r"summary_table\(by\)"):
        assert result.findings.summary("rule").equals(result.summary_table())


def test_an_audit_without_findings_says_so() -> None:
    prices = PriceTable.from_columns(
        {"sku": ["A1"], "channel": ["web"], "price": [1.0], "valid_from": ["2024-05-01"]}
    )
    clean = audit(prices, as_of="2024-05-02")
    assert clean.summary().endswith(": no finding.")
    assert clean.findings.summary() == "No finding."


def test_money_at_stake_is_summed_per_currency() -> None:
    from omnijourney.pricing._findings import money_by_currency

    labels = np.array(["EUR", "USD"], dtype=object)
    amounts = np.array([1.5, np.nan, 2.0, 3.25, 1000.0])
    currency = np.array([0, 0, 1, -1, 0])
    assert money_by_currency(amounts, currency, labels) == "1,001.50 EUR and 3.25 and 2.00 USD"
    assert money_by_currency(np.array([np.nan]), np.array([0]), labels) == ""


def test_the_audit_shows_its_summary_in_a_notebook(result) -> None:
    import html

    pytest.importorskip("pandas")
    assert result._repr_html_().startswith(f"<pre>{html.escape(result.summary())}</pre>")


# --------------------------------------------------------------------------- exposure


def test_an_exposure_summary_is_text_per_rule_and_for_mismatches() -> None:
    prices = PriceTable.from_columns(
        {
            "sku": ["A1", "A1", "B2", "B2", "B2"],
            "channel": ["web", "store", "web", "web", "web"],
            "price": [9.99, 12.99, 20.0, 15.0, 20.0],
            "currency": ["EUR"] * 5,
            "valid_from": ["2024-05-01", "2024-05-01", "2024-04-01", "2024-05-10", "2024-05-20"],
            "valid_to": [None, None, "2024-05-10", "2024-05-20", None],
            "price_type": ["regular", "regular", "regular", "promotional", "regular"],
        }
    )
    promo = PromotionTable.from_columns(
        {
            "promo_id": ["P1"],
            "sku": ["B2"],
            "channel": ["web"],
            "promo_price": [15.0],
            "reference_price": [25.0],
            "start": ["2024-05-10"],
            "end": ["2024-05-20"],
        }
    )
    found = audit(prices, promo, as_of="2024-06-01")
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["c1", "c1", "c4", "c5"],
            "time": ["2024-05-03T10:00", "2024-05-06T15:00", "2024-05-12T20:00", "2024-05-11"],
            "channel": ["web", "store", "web", "web"],
            "event": ["product_view", "purchase", "purchase", "product_view"],
            "sku": ["A1", "A1", "B2", "B2"],
            "quantity": [2.0, 2.0, 3.0, 1.0],
        },
        extra=["sku", "quantity"],
    )
    exp = exposure(found, tp, prices, rules=["prior_price_reference"])
    assert exp.currency == "EUR"
    assert exp.summary() == (
        "Exposed to findings: 2 customers through 2 touchpoints (1 purchase), 15.00 EUR at "
        "stake.\n"
        "  prior_price_reference: 2 customers through 2 touchpoints (1 purchase), 15.00 EUR "
        "at stake\n"
        "Paid at another price than seen on another channel within 7 d: 1 purchase by "
        "1 customer; paid minus seen: 6.00 EUR in all."
    )
    table = exp.summary_table()
    assert table["rule"].tolist() == ["prior_price_reference", "price_mismatch"]
    assert table["money_at_stake"].tolist() == pytest.approx([15.0, 6.0])


def test_an_empty_exposure_says_so(result) -> None:
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["c1"],
            "time": ["2024-06-03"],
            "channel": ["web"],
            "event": ["product_view"],
            "sku": ["Z9"],
        },
        extra=["sku"],
    )
    assert exposure(result, tp, window="2D").summary() == (
        "No customer exposed to a finding.\n"
        "No purchase paid at another price than seen on another channel within 2 d."
    )


# --------------------------------------------------------------------------- terminal display


def test_a_long_table_prints_its_head_and_tail() -> None:
    text = repr(Table.from_columns({"i": np.arange(12), "x": [f"v{i}" for i in range(12)]}))
    assert text.splitlines() == [
        "Table: 12 rows x 2 columns",
        "i    x",
        "0    v0",
        "1    v1",
        "2    v2",
        "3    v3",
        "4    v4",
        "...  ...",
        "7    v7",
        "8    v8",
        "9    v9",
        "10   v10",
        "11   v11",
        "(2 rows not shown)",
    ]
    assert str(Table.from_columns({"i": np.arange(12)})) == repr(
        Table.from_columns({"i": np.arange(12)})
    )


def test_a_short_table_prints_every_row() -> None:
    assert repr(Table.from_columns({"i": np.arange(3)})).splitlines() == [
        "Table: 3 rows x 1 columns",
        "i",
        "0",
        "1",
        "2",
    ]


# --------------------------------------------------------------------------- intervals


def test_bins_read_as_intervals() -> None:
    assert _bin_labels(np.array([7.0, 30.0, 730.0]), "days", 0) == [
        "0 to under 7 days",
        "7 to under 30 days",
        "30 to under 730 days",
        "730 days or more",
    ]
    assert _bin_labels(np.array([2.0, 3.0, 5.0, 8.0]), "journeys", 1) == [
        "1 journey",
        "2 journeys",
        "3 to 4 journeys",
        "5 to 7 journeys",
        "8 journeys or more",
    ]


def test_an_interval_with_equal_ends_is_one_value() -> None:
    signed = lambda v: fmt.percent(v, 0, sign=True)  # noqa: E731
    assert fmt.interval(0.07, 0.07, formatter=signed) == "+7%"
    assert fmt.interval(0.071, 0.069, formatter=signed) == "+7%"
    assert fmt.interval(-0.02, 0.07, formatter=signed) == "-2% to +7%"
    assert fmt.interval(7, 7, unit="days") == "7 days"


def test_a_comparison_without_spread_writes_its_interval_once() -> None:
    from omnijourney import metrics as M

    n = 4  # every customer spends 10 before and 15 after: every resample gives +5
    rows = {
        "customer": np.repeat(np.arange(n), 2),
        "period": np.tile(np.array(["before", "after"], dtype=object), n),
        "numerator": np.tile([10.0, 15.0], n),
    }
    assert M.compare(rows, "spend", n_resamples=20).summary() == (
        "Spend rose from 10.00 (before) to 15.00 (after): +5.00 (95% interval +5.00; "
        "+50.0%, 95% interval +50.0%)."
    )

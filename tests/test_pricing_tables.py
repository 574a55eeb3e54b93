"""Pricing tables and policies: user column names, bad input named precisely, counts that add up."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import ConfigError, DataError, SchemaError
from omnijourney.pricing import (
    CatalogTable,
    Policy,
    PriceTable,
    PromotionTable,
    StockTable,
    audit,
)


def price_cols(**override):
    base = {
        "article": ["A1", "A1", "B2", "B2"],
        "canal": ["web", "store", "web", "store"],
        "prix": [19.99, 19.99, 5.0, 5.0],
        "devise": ["EUR", "EUR", "EUR", "EUR"],
        "debut": ["2024-05-01", "2024-05-01", "2024-05-01T08:30", "2024-05-01T08:30"],
        "fin": [None, "2024-06-01", None, None],
    }
    base.update(override)
    return base


NAMES = dict(
    sku="article",
    channel="canal",
    price="prix",
    currency="devise",
    valid_from="debut",
    valid_to="fin",
)


def test_tables_take_the_users_column_names_and_store_codes():
    p = PriceTable.from_columns(price_cols(), **NAMES)
    assert p.columns == ("sku", "channel", "price", "currency", "valid_from", "valid_to")
    assert p.kinds["valid_from"] == "time" and p.kinds["sku"] == "category"
    assert p.n_series == 4
    assert np.isnat(p["valid_to"][0]) and str(p["valid_to"][1]) == "2024-06-01T00:00:00.000000"
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(price_cols())
    assert PriceTable.from_columns(df, **NAMES).equals(p)


def test_tables_round_trip_through_json():
    p = PriceTable.from_columns(price_cols(), **NAMES)
    back = oj.from_json(oj.to_json(p), PriceTable)
    assert isinstance(back, PriceTable) and back.equals(p)


@pytest.mark.parametrize(
    ("override", "column", "rows", "reason"),
    [
        ({"prix": [19.99, 0.0, -5.0, 5.0]}, "price", (1, 2), "is not a positive price"),
        ({"fin": [None, "2024-04-01", None, None]}, "valid_to", (1,), "ends before it starts"),
        ({"devise": ["EUR", "EURO", "EUR", "eur"]}, "currency", (1, 3), "ISO 4217"),
        ({"prix": [19.99, None, 5.0, 5.0]}, "price", (1,), "missing"),
        ({"article": ["A1", None, "B2", "B2"]}, "sku", (1,), "missing"),
        (
            {"debut": ["2024-05-01", "yesterday", "2024-05-01", "2024-05-01"]},
            "valid_from",
            (1,),
            "not a time",
        ),
    ],
)
def test_bad_prices_name_table_column_row_and_value(override, column, rows, reason):
    with pytest.raises(DataError, match=reason) as err:
        PriceTable.from_columns(price_cols(**override), **NAMES)
    e = err.value
    assert (e.table, e.column, e.rows) == ("PriceTable", column, rows)
    assert NAMES[column] in str(e)  # the user's column name is shown


def test_quarantine_keeps_the_good_rows_and_counts_add_up():
    bad = price_cols(
        prix=[19.99, 0.0, 5.0, 5.0],
        devise=["EUR", "EUR", "XYZ", "EUR"],
        fin=[None, None, None, "2024-01-01"],
    )
    q = PriceTable.from_columns(bad, **NAMES, errors="quarantine")
    assert (q.n_in, q.n_kept, q.n_rejected) == (4, 1, 3)
    assert q.n_in == q.n_kept + q.n_rejected
    rejects = q.rejects
    assert rejects["row"].tolist() == [1, 2, 3]
    assert rejects["column"].tolist() == ["price", "currency", "valid_to"]
    assert q.kept["sku"].tolist() == ["A1"]
    # conversion problems and row checks are reported together
    both = price_cols(
        prix=[19.99, -1.0, 5.0, 5.0], debut=["x", "2024-05-01", "2024-05-01", "2024-05-01"]
    )
    q = PriceTable.from_columns(both, **NAMES, errors="quarantine")
    assert q.rejects["row"].tolist() == [0, 1] and q.n_kept == 2


def test_unknown_audience_and_price_type_are_refused():
    with pytest.raises(DataError, match="'public', 'loyalty', 'personalised'"):
        PriceTable.from_columns(
            price_cols(aud=["public", "vip", "public", "public"]), audience="aud", **NAMES
        )
    with pytest.raises(DataError, match="price_type"):
        PriceTable.from_columns(
            price_cols(t=["regular", "sale", "regular", "regular"]), price_type="t", **NAMES
        )


def test_missing_required_column_is_a_schema_error():
    cols = price_cols()
    del cols["prix"]
    with pytest.raises(SchemaError, match="prix"):
        PriceTable.from_columns(cols, **NAMES)


def promo_cols(**override):
    base = {
        "promo_id": ["P1", "P2"],
        "sku": ["A1", "A1"],
        "channel": ["web", "web"],
        "promo_price": [14.99, 12.0],
        "start": ["2024-05-10", "2024-05-20"],
        "end": ["2024-05-15", "2024-05-25"],
    }
    base.update(override)
    return base


@pytest.mark.parametrize(
    ("override", "column", "reason"),
    [
        ({"end": ["2024-05-01", "2024-05-25"]}, "end", "ends before it starts"),
        ({"promo_price": [0.0, 12.0]}, "promo_price", "positive"),
        ({"promo_price": [None, 12.0]}, "promo_price", "cannot be derived"),
        (
            {"mechanic": ["multi_buy", "percentage"], "discount": [None, 10.0]},
            "mechanic",
            "buy > pay",
        ),
        ({"discount": [-1.0, 10.0]}, "discount", "negative"),
        ({"reference_price": [-19.99, 10.0]}, "reference_price", "positive"),
    ],
)
def test_bad_promotions_are_refused(override, column, reason):
    with pytest.raises(DataError, match=reason) as err:
        PromotionTable.from_columns(promo_cols(**override))
    assert (err.value.table, err.value.column, err.value.rows) == ("PromotionTable", column, (0,))


def test_stock_and_catalog_checks():
    with pytest.raises(DataError, match="missing"):
        StockTable.from_columns(
            {"sku": ["A1"], "location": ["S01"], "time": ["2024-05-01"], "quantity": [None]}
        )
    with pytest.raises(DataError, match="duplicate sku") as err:
        CatalogTable.from_columns({"sku": ["A1", "B2", "A1"]})
    assert err.value.rows == (2,)
    s = StockTable.from_columns(
        {"sku": ["A1"], "location": ["S01"], "time": ["2024-05-01"], "quantity": [-3]}
    )
    assert s["quantity"].tolist() == [-3.0]  # negative stock is a finding, not a bad value


def test_mixed_currencies_in_one_comparison_need_rates():
    p = PriceTable.from_columns(
        price_cols(devise=["EUR", "CHF", "EUR", "EUR"], prix=[20.0, 21.0, 5.0, 5.0]), **NAMES
    )
    pol = Policy(same_price_groups=[["web", "store"]])
    with pytest.raises(DataError, match="mixes currencies") as err:
        audit(p, policy=pol, as_of="2024-05-20")
    e = err.value
    assert (e.column, e.rows, e.values) == ("currency", (0, 1), ("EUR", "CHF"))
    rated = Policy(
        same_price_groups=[["web", "store"]], currency_rates={"EUR": 1.0, "CHF": 1 / 1.05}
    )
    assert len(audit(p, policy=rated, as_of="2024-05-20")) == 0  # 21 CHF = 20 EUR
    with pytest.raises(DataError, match="no rate"):
        audit(p, policy=Policy(currency_rates={"EUR": 1.0}), as_of="2024-05-20")


def test_empty_and_minimal_inputs():
    empty = PriceTable.from_columns(
        {
            "sku": [],
            "channel": [],
            "price": np.zeros(0),
            "valid_from": np.zeros(0, "datetime64[us]"),
        }
    )
    result = audit(empty, as_of="2024-01-01")
    assert len(result) == 0 and result.n_series == 0
    one = PriceTable.from_columns(
        {"sku": ["A"], "channel": ["web"], "price": [1.0], "valid_from": ["2024-01-01"]}
    )
    assert len(audit(one)) == 0
    # integer skus work as well as strings
    ints = PriceTable.from_columns(
        {
            "sku": [7, 7],
            "channel": ["web", "app"],
            "price": [1.0, 2.0],
            "valid_from": ["2024-01-01"] * 2,
        }
    )
    assert audit(ints, as_of="2024-01-02").findings["sku"].tolist() == [7, 7]


def test_audit_accepts_tables_with_the_library_names_and_refuses_other_things():
    w = oj.synth.generate(200, seed=1, records=False)
    result = audit(w.prices.prices, w.prices.promotions, w.prices.stock)
    assert result.n_prices == len(w.prices.prices)
    with pytest.raises(ConfigError, match="policy must be a Policy"):
        audit(w.prices.prices, policy={"prior_window": "30D"})
    with pytest.raises(ConfigError, match="prices are required"):
        audit(None)


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"same_price_groups": [["web", "app"], ["app"]]}, "two same-price groups"),
        ({"rules": ["price_gap", "nope"]}, "unknown rules"),
        ({"tolerance": {"amount": -1}}, "amount"),
        ({"prior_window": "0D"}, "positive duration"),
        ({"prior_window": 30}, "duration"),
        ({"prior_scope": "everywhere"}, "prior_scope"),
        ({"severities": {"price_gap": "critical"}}, "severities"),
        ({"channel_pairs": [("web", "web", (0, 5))]}, "itself"),
        ({"map_floors": {"A1": -2}}, r"map_floors\['A1'\].* > 0"),
        ({"prior_audiences": ["vip"]}, "audiences"),
    ],
)
def test_bad_policies_raise_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Policy(**kwargs)


def test_policy_defaults_profiles_and_json():
    p = Policy()
    assert p.prior_window == np.timedelta64(30 * 86_400_000_000, "us")
    assert p.same_price_groups == (("app", "call_centre", "store", "web"),)
    assert p.map_floors == () and p.perishables == "apply" and p.prior_scope == "series"
    assert "promo_not_applied" not in p.rules
    fr = Policy.france(prior_window="45D")
    assert (fr.jurisdiction, fr.perishables, fr.prior_window) == (
        "FR",
        "exempt",
        np.timedelta64(45 * 86_400_000_000, "us"),
    )
    assert oj.from_json(oj.to_json(fr), Policy) == fr
    assert p.severity("price_gap") == "medium"
    assert Policy(severities={"price_gap": "high"}).severity("price_gap") == "high"

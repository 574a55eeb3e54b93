"""KPIs: hand-computed values on a small shop, a naive pandas computation on generated data,
row-order invariance, periods in a time zone, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import metrics as M
from omnijourney.errors import ConfigError, OmnijourneyWarning, SchemaError

ROWS = [
    # customer, time, channel, event, value, order_id, quote_id, campaign, team
    ("ana", "2024-01-03T10:00", "web", "product_view", None, None, None, None, None),
    ("ana", "2024-01-03T10:05", "web", "add_to_cart", None, None, None, None, None),
    ("ana", "2024-01-03T10:10", "web", "order", 50.0, "O1", None, None, None),
    ("ana", "2024-01-04T15:00", "store", "pickup", None, "O1", None, None, None),
    ("ben", "2024-01-05T09:00", "email", "email_click", None, None, None, "spring", None),
    ("ben", "2024-01-05T09:01", "web", "product_view", None, None, None, None, None),
    ("ben", "2024-01-06T14:00", "store", "purchase", 100.0, "O2", None, None, None),
    ("cem", "2024-02-02T11:00", "store", "quote_request", None, None, "Q1", None, "north"),
    ("cem", "2024-02-05T20:00", "web", "quote_signed", 300.0, None, "Q1", None, None),
    ("dan", "2024-02-10T12:00", "web", "purchase", 20.0, "O3", None, None, None),
    ("dan", "2024-02-20T12:00", "web", "purchase", 40.0, "O4", None, None, None),
    ("eve", "2024-02-03T10:00", "store", "quote_request", None, None, "Q2", None, "south"),
]
NAMES = (
    "customer",
    "time",
    "channel",
    "event",
    "value",
    "order_id",
    "quote_id",
    "campaign",
    "team",
)


def shop(rows=ROWS) -> oj.JourneyTable:
    cols = {name: [r[i] for r in rows] for i, name in enumerate(NAMES)}
    tp = oj.TouchpointTable.from_columns(cols, extra=["team"])
    return oj.sessionize(tp)


@pytest.fixture(scope="module")
def journeys() -> oj.JourneyTable:
    return shop()


@pytest.mark.parametrize(
    ("kpi", "jan", "feb"),
    [
        ("visits", 5, 5),
        ("customers", 2, 3),
        ("conversion", 2 / 3, 3 / 4),
        ("visit_conversion", 2 / 5, 3 / 5),
        ("basket", 75.0, 120.0),
        ("cross_channel", 1 / 2, 1 / 3),
        ("web_to_store", 1 / 2, 0.0),
        ("store_to_web", 0.0, 1 / 3),
        ("click_and_collect", 1 / 2, 0.0),
        ("ropo", 1 / 2, 0.0),
        ("buyer_rate", 1.0, 2 / 3),
        ("spend_per_customer", 75.0, 120.0),
        ("purchases_per_customer", 1.0, 1.0),
        ("repeat_rate", 0.0, 1 / 2),
    ],
)
def test_kpi_by_month_matches_hand_count(journeys, kpi, jan, feb) -> None:
    k = M.kpis(journeys, kpi, period="month")
    assert k.value(kpi, period="2024-01") == pytest.approx(jan)
    assert k.value(kpi, period="2024-02") == pytest.approx(feb)


def test_visits_and_customers_by_channel(journeys) -> None:
    k = M.kpis(journeys, ["visits", "customers", "conversion"], by="channel", period="month")
    assert k.value("visits", period="2024-01", channel="web") == 2
    assert k.value("visits", period="2024-01", channel="email") == 1
    assert k.value("visits", period="2024-02", channel="web") == 3
    assert k.value("customers", period="2024-01", channel="store") == 2
    # the channel of entry of a journey is its first touchpoint's
    assert k.value("conversion", period="2024-01", channel="email") == 1.0
    assert k.value("conversion", period="2024-01", channel="store") == 0.0


def test_quote_to_sale_belongs_to_the_team_named_on_the_quote(journeys) -> None:
    k = M.kpis(journeys, "quote_to_sale", by="team", period="month")
    assert k.value("quote_to_sale", period="2024-02", team="north") == 1.0
    assert k.value("quote_to_sale", period="2024-02", team="south") == 0.0
    by_channel = M.kpis(journeys, "quote_to_sale", by="channel", period="month")
    assert by_channel.value("quote_to_sale", period="2024-02", channel="store") == 0.5


def test_inactive_share_at_the_end_of_each_period(journeys) -> None:
    k = M.kpis(journeys, "inactive_share", period="month", inactive_after="20D")
    assert k.value("inactive_share", period="2024-01") == 1.0  # ana, ben: nothing since Jan 12
    assert k.value("inactive_share", period="2024-02") == pytest.approx(4 / 5)  # dan only


def test_survey_of_new_customers_joins_responses_by_customer_and_period(journeys) -> None:
    responses = {
        "customer": ["ana", "ben", "cem", "dan"],
        "time": ["2024-01-20", "2024-02-01", "2024-02-15", "2024-02-28"],
        "score": [8.0, 4.0, 6.0, 9.0],
    }
    k = M.kpis(journeys, ["survey", "survey_new"], period="month", responses=responses)
    assert k.value("survey", period="2024-01") == 8.0
    assert k.value("survey", period="2024-02") == pytest.approx((4 + 6 + 9) / 3)
    assert k.value("survey_new", period="2024-01") == 8.0  # ana: first order in January
    assert k.value("survey_new", period="2024-02") == pytest.approx((6 + 9) / 2)  # ben is not new
    by_channel = M.kpis(journeys, "survey_new", by="channel", period="month", responses=responses)
    assert by_channel.value("survey_new", period="2024-02", channel="web") == pytest.approx(7.5)


def test_segments_given_by_the_user(journeys) -> None:
    seg = {"ana": "vip", "ben": "vip", "cem": "new", "dan": "new", "eve": "new"}
    k = M.kpis(journeys, "buyer_rate", by="segment", period=None, segments=seg)
    assert k.value("buyer_rate", segment="vip") == 1.0
    assert k.value("buyer_rate", segment="new") == pytest.approx(2 / 3)
    with pytest.warns(OmnijourneyWarning, match="1 customers of the touchpoints have no segment"):
        partial = M.kpis(
            journeys,
            "customers",
            by="segment",
            period=None,
            segments={"ana": "vip", "ben": "vip", "cem": "new", "dan": "new"},
        )
    assert partial.value("customers", segment=None) == 1


def test_periods_follow_the_wall_clock_of_the_time_zone() -> None:
    # 23:30 UTC on Jan 31 is already February in Paris
    rows = [("a", "2024-01-31T23:30", "web", "purchase", 10.0, None, None, None, None)]
    jt = shop(rows)
    assert M.kpis(jt, "basket", period="month").table["period"].tolist() == ["2024-01"]
    paris = M.kpis(jt, "basket", period="month", tz="Europe/Paris")
    assert paris.table["period"].tolist() == ["2024-02"]
    week = M.kpis(jt, "basket", period="week", tz="Europe/Paris")
    assert week.table["period"].tolist() == ["2024-W05"]


def test_named_windows_and_a_window_without_data(journeys) -> None:
    windows = {"jan": ("2024-01-01", "2024-02-01"), "later": ("2025-01-01", "2025-02-01")}
    with pytest.warns(OmnijourneyWarning, match="holds no data"):
        k = M.kpis(journeys, "conversion", period=windows)
    assert k.value("conversion", period="jan") == pytest.approx(2 / 3)
    assert np.isnan(k.value("conversion", period="later"))
    row = k.table["denominator"][k.table["period"] == "later"]
    assert row.tolist() == [0.0]


def test_summary_and_pandas(journeys) -> None:
    k = M.kpis(journeys, ["conversion", "basket"])
    text = k.summary()
    assert "Conversion per journey: 66.7% in 2024-01, 75.0% in 2024-02." in text
    assert "Average order value: 75.00 in 2024-01, 120.00 in 2024-02." in text
    frame = k.to_pandas()
    assert list(frame.columns) == ["kpi", "period", "numerator", "denominator", "value"]


def test_bad_input(journeys) -> None:
    with pytest.raises(ConfigError, match="'kpi' parameter must be one of"):
        M.kpis(journeys, "revenue")
    with pytest.raises(SchemaError, match="no column 'store'"):
        M.kpis(journeys, "visits", by="store")
    with pytest.raises(ConfigError, match="which have no channel"):
        M.kpis(journeys, "repeat_rate", by="channel")
    with pytest.raises(ConfigError, match="'period' parameter must be one of"):
        M.kpis(journeys, "visits", period="fortnight")
    with pytest.raises(ConfigError, match="overlap"):
        M.kpis(
            journeys,
            "visits",
            period={"a": ("2024-01-01", "2024-02-01"), "b": ("2024-01-15", "2024-03-01")},
        )
    with pytest.raises(ConfigError, match="ends"):
        M.kpis(journeys, "visits", period={"a": ("2024-02-01", "2024-01-01")})
    with pytest.raises(ConfigError, match="needs the JourneyTable"):
        M.kpis(journeys.touchpoints, "visits")
    with pytest.raises(ConfigError, match="responses="):
        M.kpis(journeys, "survey")
    with pytest.raises(ConfigError, match="'by' parameter"):
        M.kpis(journeys, "visits", by=["channel", "channel"])


# --------------------------------------------------------------------------- naive reference


@pytest.fixture(scope="module")
def world_journeys() -> oj.JourneyTable:
    world = oj.synth.generate(n_customers=600, seed=3, records=False, prices=False)
    return oj.sessionize(world.touchpoints)


def test_kpis_agree_with_a_naive_pandas_computation(world_journeys) -> None:
    jt = world_journeys
    tp = jt.touchpoint_table().to_pandas(categorical=False)
    tp["month"] = tp["time"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    tp["conv"] = tp["event"].isin(jt.rules.conversion_events)
    tp = tp.sort_values(["customer", "time", "journey_id"], kind="stable")
    # per journey: first touchpoint's month and channel, converted or not
    first = tp.groupby("journey_id").first()
    conv = tp.groupby("journey_id")["conv"].any()
    ref_conv = conv.groupby([first["month"], first["channel"]]).mean()
    # per visit: first touchpoint's month and channel
    vfirst = tp.groupby("visit_id").first()
    ref_visits = vfirst.groupby(["month", "channel"]).size()
    orders = tp[tp["conv"] & tp["value"].notna()]
    ref_basket = orders.groupby(["month", "channel"])["value"].mean()
    ref_customers = tp.groupby(["month", "channel"])["customer"].nunique()

    k = M.kpis(jt, ["conversion", "visits", "basket", "customers"], by="channel").to_pandas()
    k["period"] = k["period"].astype(str)
    k["channel"] = k["channel"].astype(str)
    for name, ref in (
        ("conversion", ref_conv),
        ("visits", ref_visits),
        ("basket", ref_basket),
        ("customers", ref_customers),
    ):
        ours = k[k["kpi"] == name].set_index(["period", "channel"])["value"].sort_index()
        theirs = ref.astype(float).sort_index()
        theirs.index = theirs.index.set_names(["period", "channel"])
        pd.testing.assert_series_equal(ours, theirs, check_names=False, rtol=1e-12)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1))
def test_kpis_do_not_depend_on_row_order(seed: int) -> None:
    rows = list(ROWS)
    np.random.default_rng(seed).shuffle(rows)
    names = [
        "visits",
        "conversion",
        "basket",
        "cross_channel",
        "click_and_collect",
        "ropo",
        "quote_to_sale",
        "repeat_rate",
    ]
    a = M.kpis(shop(rows), names, period="month")
    b = M.kpis(shop(), names, period="month")
    assert a.table.equals(b.table)


def test_counts_add_up_over_channels(world_journeys) -> None:
    by_channel = M.kpis(world_journeys, ["visits", "conversion", "basket"], by="channel")
    total = M.kpis(world_journeys, ["visits", "conversion", "basket"])
    for name in ("visits", "conversion", "basket"):
        a = by_channel.table["numerator"][by_channel.table["kpi"] == name].sum()
        b = total.table["numerator"][total.table["kpi"] == name].sum()
        assert a == pytest.approx(b)


@pytest.mark.parametrize("by", ["channel", "store", ["channel", "store"]])
def test_distinct_customers_agree_with_pandas_nunique(world_journeys, by) -> None:
    # up to 64 keys the runs of each customer and period carry their keys as bits; past
    # that (channel x store) the marks of (customer, cell) pairs: both against nunique
    jt = world_journeys
    keys = [by] if isinstance(by, str) else by
    tp = jt.touchpoint_table().to_pandas(categorical=False)
    tp["period"] = tp["time"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    tp["conv"] = tp["event"].isin(jt.rules.conversion_events)
    tp["spend"] = np.where(tp["conv"], tp["value"].fillna(0.0), 0.0)
    groups = tp.groupby(["period", *keys], dropna=False)
    active = groups["customer"].nunique()
    buyers = tp[tp["conv"]].groupby(["period", *keys], dropna=False)["customer"].nunique()
    ref = {
        "customers": active.astype(float),
        "buyer_rate": (buyers.reindex(active.index, fill_value=0) / active).astype(float),
        "spend_per_customer": groups["spend"].sum() / active,
    }
    k = M.kpis(jt, list(ref), by=by).to_pandas()
    for col in ("period", *keys):
        k[col] = k[col].astype(object).where(k[col].notna(), np.nan)
    for name, theirs in ref.items():
        ours = k[k["kpi"] == name].set_index(["period", *keys])["value"].sort_index()
        theirs = theirs.sort_index()
        pd.testing.assert_series_equal(
            ours, theirs, check_names=False, check_index=False, rtol=1e-12
        )
        assert [tuple(map(str, i)) for i in ours.index] == [
            tuple(map(str, i)) for i in theirs.index
        ]

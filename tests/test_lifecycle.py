"""RFM summaries and lifecycle statuses: hand examples, lifetimes' definition, a naive loop."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import ConfigError, DataError, SchemaError, Table, TouchpointTable
from omnijourney.journeys import (
    LIFECYCLE_STATUSES,
    InactivityRules,
    lifecycle_status,
    rfm,
)
from strategies import (
    assert_same_values,
    load_quietly,
    order_sensitive_columns,
    permuted,
    touchpoint_columns,
)

UTC = dt.timezone.utc


COLUMNS = ("customer", "time", "channel", "event", "value")


def table(rows, **kw):
    """rows: (customer, ISO time, channel, event, value)."""
    return TouchpointTable.from_columns(
        {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}, duplicates="keep", **kw
    )


def by_customer(t: Table) -> dict:
    return {c: t.row(i) for i, c in enumerate(t["customer"].tolist())}


# The example of lifetimes' summary_data_from_transaction_data semantics, worked by hand
# (freq="D", observation_period_end="2024-03-01 12:00"): frequency a=1 b=0 c=1,
# recency a=4 b=0 c=49, T a=60 b=58 c=59, monetary a=20 b=0 c=4.
HAND = [
    ("a", "2024-01-01T09:00", "web", "purchase", 10.0),
    ("a", "2024-01-01T17:00", "store", "purchase", 5.0),  # same day: one purchase of 15
    ("a", "2024-01-05T00:00", "web", "purchase", 20.0),
    ("b", "2024-01-03T00:00", "app", "order", 7.0),
    ("c", "2024-01-02T00:00", "store", "purchase", 3.0),
    ("c", "2024-02-20T00:00", "web", "quote_signed", 4.0),
    ("c", "2024-02-25T00:00", "email", "email_open", None),
    ("d", "2024-02-01T00:00", "web", "product_view", None),  # never purchased
]


def test_rfm_follows_lifetimes_definitions_on_a_hand_example():
    s = by_customer(rfm(table(HAND), as_of="2024-03-01T12:00"))
    assert {k: v["frequency"] for k, v in s.items()} == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert {k: v["recency"] for k, v in s.items() if k != "d"} == {"a": 4, "b": 0, "c": 49}
    assert {k: v["T"] for k, v in s.items() if k != "d"} == {"a": 60, "b": 58, "c": 59}
    assert {k: v["monetary"] for k, v in s.items() if k != "d"} == {"a": 20, "b": 0, "c": 4}
    assert {k: v["total_value"] for k, v in s.items()} == {"a": 35, "b": 7, "c": 7, "d": 0}
    assert s["a"]["first_purchase"] == dt.datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert s["a"]["last_purchase"] == dt.datetime(2024, 1, 5, tzinfo=UTC)
    assert s["c"]["n_touchpoints"] == 3 and s["c"]["channels_used"] == 3
    assert s["c"]["last_touch"] == dt.datetime(2024, 2, 25, tzinfo=UTC)
    assert s["d"]["first_purchase"] is None and s["d"]["recency"] is None
    assert s["d"]["T"] is None and s["d"]["monetary"] is None


def test_weekly_and_monthly_periods_group_purchases_by_calendar_period():
    # 2024-01-01 is a Monday: a's two purchases fall in one week, c's in weeks 0 and 7
    weeks = by_customer(rfm(table(HAND), as_of="2024-03-01T12:00", period="W"))
    assert (weeks["a"]["frequency"], weeks["c"]["frequency"]) == (0, 1)
    assert (weeks["c"]["recency"], weeks["c"]["T"]) == (49, 56)  # days between Mondays
    months = by_customer(rfm(table(HAND), as_of="2024-03-01T12:00", period="M"))
    assert (months["a"]["frequency"], months["c"]["frequency"]) == (0, 1)
    assert (months["c"]["recency"], months["c"]["T"]) == (31, 60)  # Jan 1 -> Feb 1, -> Mar 1
    assert rfm(table(HAND), period="7D").equals(rfm(table(HAND), period="W"))


def test_periods_follow_the_calendar_of_tz():
    rows = [
        ("a", "2024-01-01T10:00Z", "web", "purchase", 1.0),
        ("a", "2024-01-01T23:30Z", "web", "purchase", 1.0),  # Jan 2 00:30 in Paris
    ]
    assert rfm(table(rows))["frequency"].tolist() == [0]
    assert rfm(table(rows), tz="Europe/Paris")["frequency"].tolist() == [1]


def test_touchpoints_after_as_of_are_ignored_and_customers_without_any_are_dropped():
    s = by_customer(rfm(table(HAND), as_of="2024-01-04"))
    assert set(s) == {"a", "b", "c"}
    assert s["c"]["frequency"] == 0 and s["c"]["n_touchpoints"] == 1
    assert s["a"]["T"] == 3


def test_a_journey_table_brings_its_touchpoints_and_conversion_events():
    tp = table(HAND)
    jt = oj.sessionize(tp, oj.JourneyRules(conversion_events=["order"]))
    s = by_customer(rfm(jt))
    assert s["a"]["first_purchase"] is None and s["b"]["frequency"] == 0
    assert rfm(jt, conversion_events=["purchase", "order", "quote_signed"]).equals(rfm(tp))
    assert lifecycle_status(jt).equals(lifecycle_status(tp, conversion_events="order"))


def test_without_value_column_monetary_values_are_nan():
    cols = {k: [r[i] for r in HAND] for i, k in enumerate(["customer", "time", "channel", "event"])}
    s = rfm(TouchpointTable.from_columns(cols))
    assert np.isnan(s["monetary"]).all() and np.isnan(s["total_value"]).all()
    assert s["frequency"].tolist() == [1, 0, 1, 0]


def test_purchase_values_in_several_currencies_are_refused():
    tp = TouchpointTable.from_columns(
        {
            "customer": ["a", "a", "b"],
            "time": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "channel": ["web"] * 3,
            "event": ["purchase"] * 3,
            "value": [1.0, 2.0, 3.0],
            "currency": ["EUR", "EUR", "USD"],
        }
    )
    with pytest.raises(DataError, match="several currencies") as err:
        rfm(tp)
    assert err.value.column == "currency" and err.value.rows == (2,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"period": "1M"}, "period must be 'M'"),
        ({"period": "fortnight"}, "period"),
        ({"period": "0D"}, "period"),
        ({"as_of": "not a time"}, "as_of"),
        ({"tz": "Mars/Olympus"}, "Mars"),
    ],
)
def test_bad_rfm_parameters_raise_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        rfm(table(HAND), **kwargs)


def test_rfm_needs_touchpoints():
    with pytest.raises(ConfigError, match="TouchpointTable or a JourneyTable"):
        rfm(Table.from_columns({"x": [1]}))


def test_an_empty_table_gives_an_empty_summary():
    tp = TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    s = rfm(tp)
    assert len(s) == 0 and "frequency" in s.columns
    assert len(lifecycle_status(tp)) == 0


# ----------------------------------------------------------------------- reference loop


def naive_rfm(cols, as_of, events=("purchase",)):
    """One customer at a time, with Python dates and dicts."""
    out: dict = {}
    for cust, t, ch, ev, v in zip(
        *(cols[k] for k in ("customer", "time", "channel", "event", "value"))
    ):
        if t > as_of:
            continue
        d = out.setdefault(cust, {"touch": [], "channels": set(), "days": {}})
        d["touch"].append(t)
        d["channels"].add(ch)
        if ev in events:
            g = d["days"].setdefault(t.date(), {"value": 0.0, "times": []})
            g["value"] += 0.0 if v is None or math.isnan(v) else v
            g["times"].append(t)
    rows = {}
    for cust, d in out.items():
        days = sorted(d["days"])
        row = {
            "n_touchpoints": len(d["touch"]),
            "first_touch": min(d["touch"]),
            "last_touch": max(d["touch"]),
            "channels_used": len(d["channels"]),
            "frequency": max(len(days) - 1, 0),
            "total_value": sum(g["value"] for g in d["days"].values()),
        }
        if days:
            repeat = [d["days"][k]["value"] for k in days[1:]]
            row |= {
                "first_purchase": min(d["days"][days[0]]["times"]),
                "last_purchase": max(d["days"][days[-1]]["times"]),
                "recency": (days[-1] - days[0]).days,
                "T": (as_of.date() - days[0]).days,
                "monetary": sum(repeat) / len(repeat) if repeat else 0.0,
            }
        else:
            row |= dict.fromkeys(("first_purchase", "last_purchase", "recency", "T", "monetary"))
        rows[cust] = row
    return rows


def random_columns(rng, n, n_customers):
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    minutes = rng.integers(0, 60 * 24 * 120, n)
    return {
        "customer": [f"c{i}" for i in rng.integers(0, n_customers, n)],
        "time": [base + dt.timedelta(minutes=int(m)) for m in minutes],
        "channel": rng.choice(["web", "app", "store", "email"], n).tolist(),
        "event": rng.choice(
            ["purchase", "product_view", "email_open"], n, p=[0.3, 0.5, 0.2]
        ).tolist(),
        "value": [float(v) if v < 200 else None for v in rng.integers(0, 250, n)],
    }


def test_rfm_matches_a_naive_loop_on_generated_data(rng):
    cols = random_columns(rng, 3000, 150)
    as_of = dt.datetime(2024, 3, 20, 15, tzinfo=UTC)
    got = by_customer(
        rfm(TouchpointTable.from_columns(cols), as_of=as_of, conversion_events=["purchase"])
    )
    want = naive_rfm(cols, as_of)
    assert set(got) == set(want)
    for cust, row in want.items():
        for key, value in row.items():
            expected = pytest.approx(value) if isinstance(value, float) else value
            assert got[cust][key] == expected, (cust, key)


@settings(max_examples=100, deadline=None)
@given(
    cols=st.one_of(order_sensitive_columns(), touchpoint_columns(min_rows=1)),
    seed=st.integers(0, 2**32 - 1),
)
@pytest.mark.filterwarnings("ignore:the default conversion_events of rfm matches no event")
def test_rfm_does_not_depend_on_row_order(cols, seed):
    perm = np.random.default_rng(seed).permutation(len(cols["customer"]))
    a = rfm(TouchpointTable.from_columns(cols, duplicates="keep"))
    b = rfm(TouchpointTable.from_columns(permuted(cols, perm), duplicates="keep"))
    assert_same_values(a, b)
    assert_same_values(lifecycle_status(a), lifecycle_status(b))


@given(st.permutations([0.1, 0.2, 0.3, 1e16, -1e16]))
def test_purchases_at_one_instant_sum_to_the_same_bits_in_any_row_order(values):
    s = rfm(table([("a", "2024-01-01T10:00", "store", "purchase", v) for v in values]))
    # added in ascending order, whatever the order of the rows
    assert s["total_value"][0] == (((-1e16 + 0.1) + 0.2) + 0.3) + 1e16


def test_rfm_without_any_purchase_event_warns_and_notes_it():
    rows = [("a", "2024-01-01", "Magasin", "achat", 10.0), ("a", "2024-02-01", "Web", "vue", None)]
    t = load_quietly({k: [r[i] for r in rows] for i, k in enumerate(COLUMNS)})
    with pytest.warns(oj.OmnijourneyWarning, match="conversion_events of rfm matches no event"):
        s = rfm(t)
    assert s["frequency"].tolist() == [0]
    assert s.notes == (
        "unmatched: the default conversion_events of rfm looks for event 'order', 'purchase', "
        "'quote_signed'; the data has 'achat', 'vue'",
    )
    with pytest.warns(oj.OmnijourneyWarning, match=r"rfm\(conversion_events=\.\.\.\) matches"):
        rfm(t, conversion_events=["Achat"])
    with pytest.warns(oj.OmnijourneyWarning, match="conversion_events of rfm matches no event"):
        status = lifecycle_status(t)
    assert status["status"].tolist() == ["prospect"] and status.notes == s.notes
    assert rfm(t, conversion_events=["achat"])["frequency"].tolist() == [0]  # matched: silent


def test_rfm_agrees_with_lifetimes_when_available(rng):
    pd = pytest.importorskip("pandas")
    utils = pytest.importorskip("lifetimes.utils")
    cols = random_columns(rng, 2000, 100)
    purchases = [i for i, e in enumerate(cols["event"]) if e == "purchase"]
    frame = pd.DataFrame(
        {
            "id": [cols["customer"][i] for i in purchases],
            "date": pd.to_datetime([cols["time"][i].replace(tzinfo=None) for i in purchases]),
            "value": [cols["value"][i] for i in purchases],
        }
    )
    end = "2024-04-30"
    for freq, period, unit in (("D", "D", 1), ("W", "W", 7)):
        theirs = utils.summary_data_from_transaction_data(
            frame, "id", "date", "value", observation_period_end=end, freq=freq
        )
        ours = rfm(
            TouchpointTable.from_columns(cols),
            as_of=end,
            period=period,
            conversion_events=["purchase"],
        )
        ours = ours.filter(~np.isnan(ours["T"]))
        theirs = theirs.loc[ours["customer"].tolist()]
        assert ours["frequency"].tolist() == theirs["frequency"].astype(int).tolist()
        np.testing.assert_allclose(ours["recency"] / unit, theirs["recency"])
        np.testing.assert_allclose(ours["T"] / unit, theirs["T"])
        np.testing.assert_allclose(ours["monetary"], theirs["monetary_value"])


def big_table(n, n_customers, seed=0):
    """Touchpoints built directly in stored form (codes), to time rfm and not the parsing."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01", "us").astype(np.int64)
    data = {
        "customer": rng.integers(0, n_customers, n).astype(np.int32),
        "time": (start + rng.integers(0, 730 * 86_400_000_000, n)).view("datetime64[us]"),
        "channel": rng.integers(0, 6, n).astype(np.int8),
        "event": rng.choice(4, n, p=[0.05, 0.55, 0.3, 0.1]).astype(np.int8),
    }
    data["value"] = np.where(data["event"] == 3, rng.gamma(2.0, 30.0, n), np.nan)
    labels = {
        "customer": np.array([f"c{i:07d}" for i in range(n_customers)], dtype=object),
        "channel": np.array([f"ch{i}" for i in range(6)], dtype=object),
        "event": np.array(["email_open", "page_view", "product_view", "purchase"], dtype=object),
    }
    return TouchpointTable._from_parts(data, labels)


# ----------------------------------------------------------------------- lifecycle


def status_of(rows, rules=None, as_of="2025-01-01"):
    s = lifecycle_status(table(rows), rules, as_of=as_of)
    return dict(zip(s["customer"].tolist(), s["status"].tolist()))


def test_each_status_on_a_hand_example():
    rows = [
        ("prospect", "2024-12-01", "web", "product_view", None),
        ("new", "2024-11-01", "web", "product_view", None),
        ("new", "2024-12-20", "web", "purchase", 10.0),
        ("active", "2023-01-01", "web", "product_view", None),
        ("active", "2024-08-01", "store", "purchase", 10.0),
        ("inactive", "2023-01-01", "store", "purchase", 10.0),
        ("inactive", "2024-03-01", "store", "purchase", 10.0),
        ("lapsed", "2023-06-01", "store", "purchase", 10.0),
        ("lapsed", "2024-12-31", "email", "email_open", None),
        ("archive", "2022-06-01", "store", "purchase", 10.0),
        ("old_prospect", "2022-01-01", "web", "product_view", None),
    ]
    assert status_of(rows) == {
        "prospect": "prospect",
        "new": "new",
        "active": "active",
        "inactive": "inactive",
        "lapsed": "lapsed",
        "archive": "to_archive",
        "old_prospect": "to_archive",
    }


def test_thresholds_are_inclusive():
    rules = InactivityRules(
        inactive_after="10D", lapsed_after="20D", archive_after="30D", new_within=None
    )
    rows = [
        ("at_inactive", "2024-12-22", "web", "purchase", 1.0),
        ("before_inactive", "2024-12-22T00:00:01", "web", "purchase", 1.0),
        ("at_lapsed", "2024-12-12", "web", "purchase", 1.0),
        ("at_archive", "2024-12-02", "web", "purchase", 1.0),
    ]
    assert status_of(rows, rules) == {
        "at_inactive": "inactive",
        "before_inactive": "active",
        "at_lapsed": "lapsed",
        "at_archive": "to_archive",
    }


def test_new_is_measured_from_first_touch_or_first_purchase():
    rows = [
        ("a", "2024-01-01", "web", "product_view", None),
        ("a", "2024-12-20", "web", "purchase", 1.0),
    ]
    assert status_of(rows) == {"a": "active"}
    assert status_of(rows, InactivityRules(new_since="first_purchase")) == {"a": "new"}


def test_switched_off_statuses_are_never_given():
    rows = [
        ("a", "2020-01-01", "web", "purchase", 1.0),
        ("b", "2024-12-30", "web", "purchase", 1.0),
    ]
    rules = InactivityRules(archive_after=None, new_within=None)
    assert status_of(rows, rules) == {"a": "lapsed", "b": "active"}


def test_days_since_purchase_and_contact_use_exact_times():
    s = lifecycle_status(table(HAND), as_of="2024-03-01T12:00")
    row = by_customer(s)
    assert row["c"]["days_since_purchase"] == pytest.approx(10.5)
    assert row["c"]["days_since_contact"] == pytest.approx(5.5)
    assert row["d"]["days_since_purchase"] is None and row["d"]["status"] == "prospect"
    assert set(s.labels("status")) <= set(LIFECYCLE_STATUSES)


def test_status_from_an_rfm_table_uses_its_as_of():
    tp = table(HAND)
    summary = rfm(tp, as_of="2024-12-01")
    assert lifecycle_status(summary).equals(lifecycle_status(tp, as_of="2024-12-01"))
    with pytest.raises(SchemaError, match="has no column 'last_purchase'"):
        lifecycle_status(summary.select(["customer", "first_purchase"]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inactive_after": "400D"}, "lapsed_after .* must be longer than inactive_after"),
        ({"lapsed_after": "180D"}, "lapsed_after"),
        ({"inactive_after": "soon"}, "inactive_after"),
        ({"archive_after": "0D"}, "'archive_after' parameter must be a positive duration"),
        ({"new_within": 90}, "new_within"),
        ({"new_since": "birth"}, "new_since"),
    ],
)
def test_bad_inactivity_rules_name_the_parameter(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        InactivityRules(**kwargs)


def test_lifecycle_status_checks_its_arguments():
    with pytest.raises(ConfigError, match="InactivityRules"):
        lifecycle_status(table(HAND), rules={"inactive_after": "10D"})
    with pytest.raises(ConfigError, match="touchpoints, journeys or an rfm table"):
        lifecycle_status([1, 2, 3])


def test_inactivity_rules_round_trip_through_json():
    rules = InactivityRules(inactive_after="30D", lapsed_after="12w", archive_after=None)
    assert oj.from_json(oj.to_json(rules), InactivityRules) == rules
    assert oj.from_dict(oj.to_dict(InactivityRules()), InactivityRules) == InactivityRules()


# --------------------------------------------------------------------------- scenarios


def test_inactivity_scenarios_date_every_step():
    from omnijourney.journeys import InactivityScenario, ScenarioStep, inactivity_scenarios

    tp = table(
        [
            ("a", "2024-01-10", "store", "purchase", 20.0),
            ("a", "2024-06-01", "email", "email_open", None),
            ("p", "2024-08-01", "web", "product_view", None),  # never bought
            ("z", "2021-01-01", "store", "purchase", 5.0),
        ]
    )
    s = inactivity_scenarios(tp, as_of="2024-09-01")
    day = {c: str(v)[:10] for c, v in zip(s["customer"], s["reminder_on"])}
    assert day == {"a": "2024-07-08", "p": "NaT", "z": "2021-06-30"}
    assert [str(v)[:10] for v in s["archive_on"]] == ["2026-06-01", "2026-08-01", "2023-01-01"]
    assert s["reached"].tolist() == ["reminder", None, "deletion"]
    assert s["next_step"].tolist() == ["second_reminder", "archive", None]
    assert s["days_to_next"][:2].tolist() == [35.0, 699.0] and np.isnan(s["days_to_next"][2])
    assert s["status"].tolist() == ["inactive", "prospect", "to_archive"]
    steps = (
        ScenarioStep(name="nudge", after="30D"),
        ScenarioStep(name="forget", after="400D", since="last_contact"),
    )
    own = inactivity_scenarios(tp, InactivityScenario(steps=steps), as_of="2024-09-01")
    assert [c for c in own.columns if c.endswith("_on")] == ["nudge_on", "forget_on", "next_on"]
    with pytest.raises(ConfigError, match="each step once"):
        InactivityScenario(steps=(steps[0], steps[0]))
    with pytest.raises(ConfigError, match="'since' parameter"):
        ScenarioStep(name="x", after="1D", since="birthday")
    with pytest.raises(ConfigError, match="after"):
        ScenarioStep(name="x", after="-1D")


@settings(max_examples=30, deadline=None)
@given(touchpoint_columns(min_rows=1), st.integers(0, 2000))
def test_scenario_steps_reached_are_past_and_next_ones_to_come(cols, days):
    from omnijourney.journeys import inactivity_scenarios

    tp = load_quietly(cols)
    as_of = np.datetime64("2023-01-01") + np.timedelta64(days, "D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", oj.OmnijourneyWarning)  # data without a purchase
        s = inactivity_scenarios(tp, as_of=as_of)
    now = np.datetime64(as_of, "us")
    for i, name in enumerate(s["reached"].tolist()):
        if name is not None:
            assert s[f"{name}_on"][i] <= now
    nxt = s["next_on"]
    has = ~np.isnat(nxt)
    assert (nxt[has] > now).all()
    assert (s["next_step"][has] != None).all()  # noqa: E711

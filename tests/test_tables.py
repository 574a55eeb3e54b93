"""TouchpointTable and Table: construction, views, sorting, grouping, concat."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import Table, TouchpointTable
from strategies import permuted, touchpoint_columns


def build(cols, **kw):
    return TouchpointTable.from_columns(
        cols,
        customer="client",
        time="ts",
        channel="canal",
        event="what",
        value="amount",
        cart_id="basket",
        **kw,
    )


def test_user_column_names_and_stored_types(small_columns):
    t = build(small_columns)
    assert len(t) == 6 and t.n_customers == 2
    assert t.columns == ("customer", "time", "channel", "event", "value", "cart_id")
    assert t.raw("time").dtype == np.dtype("datetime64[us]")
    assert t.raw("customer").dtype == np.int8
    assert t.labels("channel").tolist() == ["call_centre", "store", "web"]
    assert t.kinds["value"] == "float" and np.isnan(t["value"][1])
    assert t["cart_id"].tolist() == [None, "K1", None, None, "K1", None]


def test_optional_columns_with_library_names_are_picked_up():
    cols = {
        "customer": ["a"],
        "time": ["2024-01-01"],
        "channel": ["web"],
        "event": ["x"],
        "value": [3.0],
        "campaign": ["spring"],
        "unrelated": [1],
    }
    t = TouchpointTable.from_columns(cols)
    assert t.columns == ("customer", "time", "channel", "event", "value", "campaign")
    t2 = TouchpointTable.from_columns(cols, extra=["unrelated"])
    assert t2.extra_columns == ("unrelated",)
    assert t2[0].attributes == {"unrelated": 1}


def test_sort_orders_by_customer_then_time_with_canonical_ties(small_columns):
    s = build(small_columns).sort()
    assert s["customer"].tolist() == ["c1", "c1", "c1", "c1", "c2", "c2"]
    assert s["event"].tolist() == [
        "product_view",
        "add_to_cart",
        "product_view",
        "call",
        "product_view",
        "purchase",
    ]
    # the two c1 rows at 10:05 tie on time: event 'add_to_cart' < 'product_view' decides
    assert s["time"][1] == s["time"][2]
    assert s.is_sorted and s.customer_offsets().tolist() == [0, 4, 6]


def test_sequence_column_breaks_ties_before_other_columns():
    cols = {
        "customer": ["a", "a", "a"],
        "time": ["2024-01-01T10:00"] * 3,
        "channel": ["web", "web", "web"],
        "event": ["purchase", "add_to_cart", "view"],
        "offset": [2, 3, 1],
    }
    s = TouchpointTable.from_columns(cols, sequence="offset").sort()
    assert s["event"].tolist() == ["view", "purchase", "add_to_cart"]


def test_row_views_are_touchpoints(small_columns):
    s = build(small_columns).sort()
    first = s[0]
    assert isinstance(first, oj.Touchpoint)
    assert first.customer == "c1" and first.event == "product_view"
    assert first.time == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert s[-1].value == 120.0
    assert [tp.event for tp in s][:2] == ["product_view", "add_to_cart"]
    with pytest.raises(IndexError):
        s[6]


def test_slicing_filtering_and_take_keep_dictionaries(small_columns):
    t = build(small_columns)
    assert len(t[1:4]) == 3 and t[1:4]["event"].tolist() == t["event"][1:4].tolist()
    web = t[t["channel"] == "web"]
    assert len(web) == 4 and set(web["channel"]) == {"web"}
    assert web.labels("channel").tolist() == t.labels("channel").tolist()
    assert web.compact().labels("channel").tolist() == ["web"]
    assert t.take([5, 0])["event"].tolist() == ["product_view", "purchase"]
    assert len(t[np.zeros(6, dtype=bool)]) == 0


def test_sortedness_is_tracked(small_columns):
    s = build(small_columns).sort()
    assert s[1:].is_sorted and s[s["channel"] == "web"].is_sorted
    assert not s.take([3, 0]).is_sorted
    with pytest.raises(oj.ConfigError, match="sort"):
        build(small_columns).customer_offsets()


def test_concat_merges_category_dictionaries(small_columns):
    t = build(small_columns)
    other = TouchpointTable.from_columns(
        {
            "client": ["c0", "c9"],
            "ts": ["2024-06-01", "2024-06-02"],
            "canal": ["app", "web"],
            "what": ["view", "view"],
            "amount": [1.0, 2.0],
            "basket": ["K2", None],
        },
        customer="client",
        time="ts",
        channel="canal",
        event="what",
        value="amount",
        cart_id="basket",
    )
    both = oj.concat([t, other])
    assert len(both) == 8
    assert both.labels("customer").tolist() == ["c0", "c1", "c2", "c9"]
    assert both["customer"].tolist() == [*t["customer"].tolist(), "c0", "c9"]
    assert both["cart_id"].tolist()[-2:] == ["K2", None]
    assert {c.name for c in both.channel_catalog} == {"app", "call_centre", "store", "web"}
    with pytest.raises(oj.SchemaError, match="same columns"):
        oj.concat([t, t.select(["customer", "time"])])


def test_integer_ids_keep_integer_labels():
    t = TouchpointTable.from_columns(
        {
            "customer": np.array([30, 10, 20, 10]),
            "time": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02"],
            "channel": ["web"] * 4,
            "event": ["v"] * 4,
        }
    )
    assert t.labels("customer").dtype == np.int64
    assert t.labels("customer").tolist() == [10, 20, 30]
    assert t[0].customer == 30
    with pytest.raises(oj.SchemaError, match="integer ids in one table"):
        oj.concat(
            [
                t,
                TouchpointTable.from_columns(
                    {"customer": ["a"], "time": ["2024-01-01"], "channel": ["web"], "event": ["v"]}
                ),
            ]
        )


def test_empty_and_one_row_tables():
    empty = TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    assert len(empty) == 0 and empty.n_customers == 0
    assert len(empty.sort()) == 0 and empty.sort().customer_offsets().tolist() == [0]
    assert list(empty) == []
    one = TouchpointTable.from_columns(
        {"customer": ["ü"], "time": ["2024-01-01"], "channel": ["web"], "event": ["view"]}
    )
    assert one.sort().customer_offsets().tolist() == [0, 1] and one[0].customer == "ü"


def test_exact_duplicates_are_kept():
    cols = {
        "customer": ["a", "a"],
        "time": ["2024-01-01"] * 2,
        "channel": ["web"] * 2,
        "event": ["view"] * 2,
    }
    with pytest.warns(oj.OmnijourneyWarning, match="1 row is an exact duplicate"):
        t = TouchpointTable.from_columns(cols).sort()
    assert len(t) == 2 and t[0] == t[1]
    assert t.load_report is not None and t.load_report.n_duplicates == 1


def test_core_columns_cost_about_15_bytes_per_touchpoint(rng):
    n = 200_000
    t = TouchpointTable.from_columns(
        {
            "customer": rng.integers(0, 50_000, n),
            "time": np.datetime64("2024-01-01", "us")
            + rng.integers(0, 10**13, n).astype("timedelta64[us]"),
            "channel": np.array(["web", "app", "store", "email"], dtype=object)[
                rng.integers(0, 4, n)
            ],
            "event": np.array([f"e{i}" for i in range(40)], dtype=object)[rng.integers(0, 40, n)],
        }
    )
    assert t.nbytes / n == 4 + 8 + 1 + 1


def test_generic_table_infers_kinds():
    t = Table.from_columns(
        {
            "sku": ["a", "b"],
            "price": [1.5, 2.0],
            "qty": [1, 2],
            "ok": [True, False],
            "at": np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[s]"),
        }
    )
    assert t.kinds == {
        "sku": "category",
        "price": "float",
        "qty": "int",
        "ok": "bool",
        "at": "time",
    }
    assert t.row(1) == {
        "sku": "b",
        "price": 2.0,
        "qty": 2,
        "ok": False,
        "at": dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    }
    assert "sku" in repr(t) and "2 rows x 5 columns" in repr(t)
    w = t.with_column("city", ["Lyon", None])
    assert w["city"].tolist() == ["Lyon", None] and w.kinds["city"] == "category"


# ----------------------------------------------------------------------- properties


def _frame(cols):
    return TouchpointTable.from_columns(cols, duplicates="keep")


@settings(max_examples=60, deadline=None)
@given(touchpoint_columns(), st.randoms(use_true_random=False))
def test_sort_is_invariant_to_input_row_order(cols, random):
    n = len(cols["customer"])
    perm = np.array(random.sample(range(n), n), dtype=np.int64)
    a = _frame(cols).sort()
    b = _frame(permuted(cols, perm)).sort()
    assert a.equals(b)


@settings(max_examples=60, deadline=None)
@given(touchpoint_columns(min_rows=1))
def test_sort_matches_a_python_sort_on_decoded_values(cols):
    s = _frame(cols).sort()
    rows = sorted(
        zip(
            cols["customer"],
            cols["time"],
            cols["event"],
            cols["channel"],
            [float("inf") if v is None else v for v in cols["value"]],
            strict=True,
        ),
        key=lambda r: (r[0], r[1], r[2], r[3], r[4]),
    )
    assert s["customer"].tolist() == [r[0] for r in rows]
    assert s["event"].tolist() == [r[2] for r in rows]
    assert s["channel"].tolist() == [r[3] for r in rows]


@settings(max_examples=40, deadline=None)
@given(touchpoint_columns(), touchpoint_columns(), st.integers(0, 40), st.integers(0, 40))
def test_concat_and_slices_keep_counts(a_cols, b_cols, i, j):
    a, b = _frame(a_cols), _frame(b_cols)
    both = oj.concat([a, b])
    assert len(both) == len(a) + len(b)
    assert both["customer"].tolist() == a["customer"].tolist() + b["customer"].tolist()
    lo, hi = sorted((i, j))
    assert len(both[lo:hi]) + len(both[:lo]) + len(both[hi:]) == len(both)
    offsets = both.sort().customer_offsets()
    assert offsets[-1] == len(both) and len(offsets) - 1 == both.n_customers

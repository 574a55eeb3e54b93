"""The surface for authors of table types and algorithms: codes, dictionaries, stored arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.errors import DataError, SchemaError
from omnijourney.tables import (
    Table,
    TouchpointTable,
    code_dtype,
    factorize,
    remap_codes,
    union_labels,
)
from strategies import touchpoint_columns

labels_lists = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), max_size=12)


def _objects(values):
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def test_code_dtype_is_the_smallest_signed_type_with_room_for_null():
    assert [code_dtype(n) for n in (0, 127, 128, 32_767, 32_768, 2**31)] == [
        np.int8,
        np.int8,
        np.int16,
        np.int16,
        np.int32,
        np.int64,
    ]


def test_factorize_codes_sorted_labels_and_nulls():
    codes, labels = factorize(["web", None, "store", "web", float("nan"), ""])
    assert codes.tolist() == [1, -1, 0, 1, -1, -1]
    assert labels.tolist() == ["store", "web"]
    assert codes.dtype == np.int8
    codes, labels = factorize([30, 10, 30])
    assert labels.dtype == np.int64 and labels.tolist() == [10, 30]
    assert codes.tolist() == [1, 0, 1]


def test_factorize_refuses_values_that_are_not_labels():
    with pytest.raises(DataError, match=r"not an identifier.*row 1: 1.5"):
        factorize([1.0, 1.5])
    with pytest.raises(DataError, match="string and integer") as info:
        factorize(_objects(["a", "b", 3]))
    assert info.value.rows == (2,)


def test_remap_codes_onto_a_superset_keeps_nulls():
    target = _objects(["a", "b", "c", "d"])
    out = remap_codes(np.array([0, -1, 1], np.int8), _objects(["b", "d"]), target)
    assert out.tolist() == [1, -1, 3]
    assert remap_codes(np.array([-1, -1]), _objects([]), target).tolist() == [-1, -1]


@settings(max_examples=60)
@given(labels_lists, labels_lists)
def test_union_and_remap_agree_with_decoded_values(a, b):
    ca, la = factorize(_objects(a))
    cb, lb = factorize(_objects(b))
    union = union_labels([la, lb])
    assert union.tolist() == sorted(set(a) | set(b))
    for codes, labels, values in ((ca, la, a), (cb, lb, b)):
        remapped = remap_codes(codes, labels, union)
        assert [union[c] for c in remapped] == list(values)


def test_union_labels_refuses_integers_mixed_with_strings():
    with pytest.raises(SchemaError, match="'sku' holds integer ids in one table"):
        union_labels([np.array([1, 2]), _objects(["a"])], column="sku", table="prices")


def test_require_columns_names_the_missing_one():
    t = Table.from_columns({"sku": ["a"], "price": [1.0]})
    t.require_columns("sku", "price")
    with pytest.raises(SchemaError, match="no column 'store'"):
        t.require_columns("sku", "store")


def test_from_arrays_wraps_stored_arrays_and_trusts_the_order_it_is_told():
    tp = TouchpointTable.from_arrays(
        {
            "customer": np.array([0, 0, 1], np.int8),
            "time": np.array([1, 2, 1], dtype="datetime64[us]"),
            "channel": np.array([0, 0, 0], np.int8),
            "event": np.array([0, 0, 0], np.int8),
        },
        {
            k: _objects(["x"]) if k != "customer" else _objects(["c1", "c2"])
            for k in ("customer", "channel", "event")
        },
        sorted_by=("customer", "time"),
    )
    assert tp.is_sorted and tp.kinds["time"] == "time"
    assert tp.customer_offsets().tolist() == [0, 2, 3]


@settings(max_examples=60, deadline=None)
@given(touchpoint_columns(), st.randoms(use_true_random=False))
def test_sorted_keys_are_the_key_columns_in_canonical_order(cols, random):
    tp = oj.TouchpointTable.from_columns(cols, duplicates="keep")
    perm = list(range(len(tp)))
    random.shuffle(perm)
    tp = tp.take(perm)
    order, (customer, time) = tp.sorted_keys(tp.SORT_KEY)
    expected = tp.sort_order(tp.SORT_KEY)
    if order is None:
        assert np.array_equal(expected, np.arange(len(tp)))
        assert customer is tp.raw("customer")
    else:
        assert np.array_equal(order, expected)
    assert np.array_equal(customer, tp.raw("customer")[expected])
    assert customer.dtype == tp.raw("customer").dtype
    assert np.array_equal(time, tp.raw("time")[expected])
    assert time.dtype == np.dtype("datetime64[us]")


def test_sorted_keys_of_float_keys_are_gathered():
    t = Table.from_columns({"x": [2.5, -1.0, float("nan"), 0.0]})
    order, (x,) = t.sorted_keys(["x"])
    assert order.tolist() == [1, 3, 0, 2]
    assert np.array_equal(x, np.array([-1.0, 0.0, 2.5, np.nan]), equal_nan=True)

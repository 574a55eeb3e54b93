"""The canonical sort: radix passes of ``np.sort`` equal ``np.lexsort``, ties and all."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney._sorting import radix_order, sorted_ties

INT64 = (-(2**63), 2**63 - 1)

# a few values per column, so that many rows tie, then extremes and wide random values
_value = st.one_of(
    st.integers(0, 3),
    st.integers(-(2**40), 2**40),
    st.sampled_from([INT64[0], INT64[0] + 1, -1, 0, 1, INT64[1] - 1, INT64[1]]),
    st.integers(*INT64),
)


def _columns(rows: list[tuple[int, ...]], width: int, dtypes: tuple[str, ...]) -> list[np.ndarray]:
    cols = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(width)]
    out = []
    for col, dt in zip(cols, dtypes):
        info = np.iinfo(dt)
        out.append(np.clip(col, info.min, info.max).astype(dt))
    return out


@settings(max_examples=300)
@given(
    st.integers(1, 3).flatmap(
        lambda w: st.tuples(
            st.just(w),
            st.lists(st.tuples(*[_value] * w), max_size=60),
            st.tuples(*[st.sampled_from(["int8", "int16", "int32", "int64"])] * w),
        )
    )
)
@example((2, [], ("int32", "int64")))
@example((2, [(5, -7)], ("int32", "int64")))
@example((1, [(INT64[1],), (INT64[0],), (INT64[1],)], ("int64",)))
def test_radix_order_equals_lexsort(case: tuple[int, list, tuple[str, ...]]) -> None:
    width, rows, dtypes = case
    keys = _columns(rows, width, dtypes)
    order, key = radix_order(keys)
    expected = np.lexsort(tuple(reversed(keys)))
    np.testing.assert_array_equal(order, expected)
    assert order.dtype == np.int64
    # the sorted key decodes to the sorted columns, and its ties are the equal neighbours
    tie = key.ties()
    sorted_cols = [k[expected] for k in keys]
    same = np.ones(max(len(rows) - 1, 0), dtype=bool)
    for col in sorted_cols:
        same &= col[1:] == col[:-1]
    np.testing.assert_array_equal(tie, same)
    if rows:
        for got, col in zip(key.unpack([k.dtype for k in keys]), sorted_cols):
            assert got.dtype == col.dtype
            np.testing.assert_array_equal(got, col)


@pytest.mark.parametrize("n", [1, 2, 1000, 70_000])
def test_radix_order_on_log_shaped_keys_takes_two_passes_and_matches_lexsort(n: int) -> None:
    # customer codes and microsecond times over a year, some before 1970, many ties
    rng = np.random.default_rng(n)
    customer = rng.integers(0, max(n // 15, 1), n).astype(np.int32)
    time = rng.integers(-(2**44), 2**44, n)
    time[rng.random(n) < 0.2] = time[0]
    order, key = radix_order([customer, time])
    np.testing.assert_array_equal(order, np.lexsort((time, customer)))
    c, t = key.unpack([np.int32, np.int64])
    np.testing.assert_array_equal(c, customer[order])
    np.testing.assert_array_equal(t, time[order])


def test_sorted_ties_says_whether_rows_are_in_lexicographic_order() -> None:
    a = np.array([1, 1, 2, 2])
    assert sorted_ties([a, np.array([5, 6, 0, 0])]).tolist() == [False, False, True]
    assert sorted_ties([a, np.array([6, 5, 0, 0])]) is None
    assert sorted_ties([a[::-1], np.zeros(4)]) is None
    assert sorted_ties([np.array([3]), np.array([1])]).tolist() == []


def test_sorted_table_is_not_sorted_again_even_with_wide_keys() -> None:
    # customer codes and times that need two passes: a table sorted once keeps its order
    n = 5000
    rng = np.random.default_rng(5)
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": rng.integers(0, 2000, n),
            "time": rng.integers(0, 2**57, n).astype("datetime64[us]"),
            "channel": rng.choice(["web", "store"], n),
            "event": rng.choice(["product_view", "purchase"], n),
        }
    )
    s = tp.sort()
    assert s._order_or_none(s.SORT_KEY) is None
    # and without knowing it: a copy that lost the flag is found sorted by the linear check
    copy = oj.TouchpointTable.from_columns(s.to_dict())
    assert not copy.is_sorted and copy._order_or_none(copy.SORT_KEY) is None
    order = tp.sort_order()
    np.testing.assert_array_equal(tp.take(order).raw("time"), s.raw("time"))

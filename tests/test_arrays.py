"""The shared array primitives against plain loops written from their definitions."""

from __future__ import annotations

import bisect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnijourney._arrays import (
    code_offsets,
    dense_rank,
    first_per_group,
    grouped_search,
    is_in,
    pack,
    pack_bits,
    pack_pairs,
    positions,
    range_reduce,
    ranges,
    run_ends,
    run_heads,
    run_offsets,
    run_starts,
)

small_ints = st.lists(st.integers(0, 3), max_size=30)
lengths_lists = st.lists(st.integers(-2, 6), max_size=12)


def _arr(values, dtype=np.int64):
    return np.asarray(values, dtype=dtype)


# --------------------------------------------------------------------------- by hand


def test_runs_by_hand():
    k = _arr([4, 4, 1, 1, 1, 9])
    assert run_starts(k).tolist() == [True, False, True, False, False, True]
    assert run_ends(k).tolist() == [False, True, False, False, True, True]
    assert run_offsets(k).tolist() == [0, 2, 5, 6]
    assert run_heads(run_starts(k)).tolist() == [0, 0, 2, 2, 2, 5]
    two = run_starts(_arr([1, 1, 1]), _arr([0, 0, 1]), breaks=np.array([0, 1, 0], bool))
    assert two.tolist() == [True, True, True]


def test_empty_inputs_give_empty_results():
    empty = _arr([])
    assert run_starts(empty).size == 0 and run_ends(empty).size == 0
    assert run_offsets(empty).tolist() == [0]
    assert positions(empty).size == 0 and positions(empty).dtype == np.int64
    assert positions(_arr([0, -1]), np.int32).dtype == np.int32
    assert ranges(empty, empty).size == 0
    assert pack_pairs(empty, empty).size == 0
    assert dense_rank(empty)[1] == 0
    assert code_offsets(empty, 2).tolist() == [0, 0, 0]
    assert first_per_group(empty, empty.astype(bool), 2).tolist() == [-1, -1]
    assert is_in(_arr([1]), empty).tolist() == [False]
    assert range_reduce(np.minimum, np.zeros(0), empty, empty).size == 0
    assert grouped_search(empty, empty, empty, empty).size == 0


def test_positions_and_ranges_by_hand():
    assert positions(_arr([2, 0, 3, -1, 1])).tolist() == [0, 1, 0, 1, 2, 0]
    assert ranges(_arr([3, 0, 7]), _arr([5, 0, 6])).tolist() == [3, 4]


def test_packing_by_hand():
    assert pack_pairs(_arr([2, 0, 2]), _arr([1, 9, 0])).tolist() == [21, 9, 20]
    bits = pack_bits(5, 100, 103)
    assert bits == 3
    assert pack(_arr([1, 0]), _arr([100, 103]), 100, bits).tolist() == [8, 3]
    # pairs too wide for a product: the second part is ranked first, the order is kept
    wide = pack_pairs(_arr([2**40, 2**40, 1]), _arr([2**40, 5, 2**40]))
    assert np.argsort(wide).tolist() == [2, 1, 0]


def test_search_and_reductions_by_hand():
    v = _arr([10, 20, 20, 30, 5, 6])  # groups [0, 4) and [4, 6)
    lo, hi = _arr([0, 0, 4, 4]), _arr([4, 4, 6, 4])
    q = _arr([20, 20, 6, 1])
    assert grouped_search(v, lo, hi, q).tolist() == [1, 1, 5, 4]
    assert grouped_search(v, lo, hi, q, "right").tolist() == [3, 3, 6, 4]
    got = range_reduce(np.maximum, v.astype(float), _arr([0, 4, 2]), _arr([2, 6, 2]), -1.0)
    assert got.tolist() == [20.0, 6.0, -1.0]
    assert dense_rank(_arr([7, 3, 7, 10**12]))[0].tolist() == [1, 0, 1, 2]


# --------------------------------------------------------------------------- against loops


def _naive_starts(*keys):
    n = len(keys[0])
    return [i == 0 or any(k[i] != k[i - 1] for k in keys) for i in range(n)]


@settings(max_examples=80)
@given(small_ints, st.randoms(use_true_random=False))
def test_runs_match_a_loop(values, random):
    other = [random.randint(0, 1) for _ in values]
    a, b = _arr(values), _arr(other)
    starts = _naive_starts(values, other)
    assert run_starts(a, b).tolist() == starts
    assert run_ends(a, b).tolist() == [
        i == len(values) - 1 or values[i] != values[i + 1] or other[i] != other[i + 1]
        for i in range(len(values))
    ]
    offsets = [i for i, s in enumerate(starts) if s] + [len(values)]
    assert run_offsets(a, b).tolist() == offsets
    heads, head = [], 0
    for i, s in enumerate(starts):
        head = i if s else head
        heads.append(head)
    assert run_heads(run_starts(a, b)).tolist() == heads


@settings(max_examples=80)
@given(lengths_lists)
def test_positions_and_ranges_match_loops(lengths):
    expected = [p for n in lengths for p in range(max(n, 0))]
    assert positions(_arr(lengths)).tolist() == expected
    starts = [3 * i for i in range(len(lengths))]
    stops = [s + n for s, n in zip(starts, lengths)]
    assert ranges(_arr(starts), _arr(stops)).tolist() == [
        x for s, e in zip(starts, stops) for x in range(s, e)
    ]


@settings(max_examples=80)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 5), st.integers(0, 2**50)),
            st.one_of(st.integers(0, 5), st.integers(0, 2**50)),
        ),
        max_size=20,
    )
)
def test_packed_pairs_order_like_the_pairs(pairs):
    a = _arr([p[0] for p in pairs])
    b = _arr([p[1] for p in pairs])
    key = pack_pairs(a, b)
    for i in range(len(pairs)):
        for j in range(len(pairs)):
            assert (key[i] < key[j]) == (pairs[i] < pairs[j])
            assert (key[i] == key[j]) == (pairs[i] == pairs[j])


@settings(max_examples=80)
@given(st.lists(st.one_of(st.integers(0, 50), st.integers(0, 2**60)), max_size=30))
def test_dense_rank_matches_sorted_distinct_values(values):
    rank, n = dense_rank(_arr(values))
    distinct = sorted(set(values))
    assert n == len(distinct)
    assert rank.tolist() == [distinct.index(v) for v in values]
    if values:  # the sorted input takes another path: same answer
        rank_sorted, _ = dense_rank(_arr(sorted(values)))
        assert rank_sorted.tolist() == [distinct.index(v) for v in sorted(values)]


@settings(max_examples=80)
@given(st.lists(st.integers(0, 4), max_size=30), st.randoms(use_true_random=False))
def test_group_offsets_and_firsts_match_loops(groups, random):
    g = _arr(sorted(groups))
    valid = [random.random() < 0.5 for _ in groups]
    n = 5
    assert code_offsets(g, n).tolist() == [sum(x < c for x in g) for c in range(n + 1)]
    firsts = []
    for c in range(n):
        hits = [i for i, x in enumerate(g) if x == c and valid[i]]
        firsts.append(hits[0] if hits else -1)
    assert first_per_group(g, np.array(valid, bool), n).tolist() == firsts


@settings(max_examples=80)
@given(st.lists(st.integers(-5, 5), max_size=20), st.lists(st.integers(-5, 5), max_size=20))
def test_is_in_matches_python_membership(values, pool):
    assert is_in(_arr(values), _arr(pool)).tolist() == [v in pool for v in values]


@st.composite
def sorted_groups_and_queries(draw):
    groups = draw(st.lists(st.lists(st.integers(0, 20), max_size=8), min_size=1, max_size=5))
    values, lo, hi = [], [], []
    for grp in groups:
        lo.append(len(values))
        values.extend(sorted(grp))
        hi.append(len(values))
    which = draw(st.lists(st.integers(0, len(groups) - 1), max_size=10))
    q = draw(st.lists(st.integers(-1, 21), min_size=len(which), max_size=len(which)))
    return values, [lo[w] for w in which], [hi[w] for w in which], q


@settings(max_examples=80)
@given(sorted_groups_and_queries(), st.sampled_from(["left", "right"]))
def test_grouped_search_matches_bisect_per_slice(case, side):
    values, lo, hi, q = case
    search = bisect.bisect_left if side == "left" else bisect.bisect_right
    expected = [search(values, x, a, b) for x, a, b in zip(q, lo, hi)]
    got = grouped_search(_arr(values), _arr(lo), _arr(hi), _arr(q), side)
    assert got.tolist() == expected


@settings(max_examples=80)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=20),
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), max_size=10),
)
@pytest.mark.parametrize(("ufunc", "reduce"), [(np.minimum, min), (np.maximum, max)])
def test_range_reduce_matches_a_loop(ufunc, reduce, values, bounds):
    n = len(values)
    lo = [min(a, n) for a, _ in bounds]
    hi = [min(b, n) for _, b in bounds]
    got = range_reduce(ufunc, np.array(values), _arr(lo), _arr(hi))
    for g, a, b in zip(got.tolist(), lo, hi):
        if b > a:
            assert g == reduce(values[a:b])
        else:
            assert np.isnan(g)

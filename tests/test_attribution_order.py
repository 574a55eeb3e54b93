"""Attribution does not depend on the order of the rows of its path table, to the bit.

Counts and values are fractional and chosen so that sums taken in row order would change with
the order (0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1); every result is compared with
``np.array_equal``, never with a tolerance.
"""

from __future__ import annotations

import math
import random

import attrs
import hypothesis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnijourney import attribution as A
from omnijourney._sums import group_sums, total
from omnijourney.attribution import PathTable
from strategies import ORDER_SENSITIVE

CHANNELS = ("web", "app", "store", "email", "sms", "direct")
FRACTIONS = (0.1, 0.2, 0.3, 0.7, 1 / 3, 2.5, 1e-3)
MODELS = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("last_non_direct", {}),
    ("linear", {}),
    ("linear", {"distinct": True}),
    ("position_based", {}),
    ("time_decay", {"half_life": "2D"}),
    ("markov", {}),
    ("markov", {"order": 2}),
    ("markov", {"order": 3, "windows": "full"}),
    ("markov", {"order": 2, "max_steps": "observed"}),
    ("markov", {"order": 2, "solver": "iterative"}),
    ("shapley", {}),
    ("shapley", {"value": "rate_subset"}),
    ("shapley", {"value": "rate_exact"}),
    ("shapley", {"method": "sampled", "n_permutations": 50}),
    ("shapley", {"ordered": True}),
]


def example(rng: np.random.Generator, n: int = 36) -> PathTable:
    """``n`` paths (some repeated) with fractional conversions, values, nulls and times."""
    seqs = [list(rng.choice(CHANNELS, rng.integers(1, 6))) for _ in range(n - 4)]
    seqs += [seqs[0], seqs[1], seqs[1], list(CHANNELS)]
    conv = rng.choice(FRACTIONS, n) * rng.integers(0, 3, n)
    conv[-1] = 0.7
    value = conv * rng.choice(ORDER_SENSITIVE[:6], n) * 100
    nulls = rng.choice(FRACTIONS, n) * rng.integers(0, 4, n)
    times = [sorted(rng.choice([0.0, 0.1, 3600.0, 86400.0 / 3], len(s)))[::-1] for s in seqs]
    return PathTable.from_sequences(seqs, conv, value, nulls, times=times)


def shuffled(pt: PathTable, seed: int) -> PathTable:
    return pt.take(np.random.default_rng(seed).permutation(pt.n_paths))


def assert_same_bits(a, b, where: str = "") -> None:
    """Equal results: arrays bit for bit, floats exactly, attrs objects field by field."""
    if attrs.has(type(a)):
        assert type(a) is type(b), where
        for f in attrs.fields(type(a)):
            assert_same_bits(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype, where
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), where
        else:
            assert np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same_bits(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_bits(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, where


def assert_same_table(a: PathTable, b: PathTable) -> None:
    assert a.channels.tolist() == b.channels.tolist()
    for name in ("codes", "offsets", "conversions", "value", "nulls", "times"):
        assert_same_bits(getattr(a, name), getattr(b, name), name)


# --------------------------------------------------------------------------- the sums


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from((*ORDER_SENSITIVE, 0.0, -0.0, 5e-324))),
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
# three terms whose exact sum is a rounding tie, broken by a subnormal that the grids drop
@hypothesis.example(pairs=[(0, 0.2), (0, 0.2), (0, 0.3), (0, 5e-324)], rnd=random.Random(0))
def test_group_sums_are_the_same_bits_in_any_order_and_near_the_exact_sum(pairs, rnd):
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.float64)
    perm = np.arange(len(pairs))
    rnd.shuffle(perm)
    a = group_sums(group, values, 4)
    assert np.array_equal(a, group_sums(group[perm], values[perm], 4))
    for g in range(4):
        terms = values[group == g]
        exact = math.fsum(terms)  # the correctly rounded sum
        # two grids of 46 bits for so few terms: within 2**-90 of the largest term (much
        # closer than a float64 sum in any order), or one unit in the last place of the
        # correctly rounded sum when the exact value sits on a rounding tie that only a
        # term below the grids' resolution breaks
        bound = max(2.0**-90 * np.abs(terms).max(initial=0.0), np.spacing(abs(exact)))
        assert abs(a[g] - exact) <= bound


def test_group_sums_by_hand():
    assert group_sums(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3]), 2).tolist() == [0.6, 0.0]
    assert total(np.array([1e16, 1.0, -1e16])) == 1.0  # a float64 sum in this order gives 0.0
    assert total(np.array([])) == 0.0
    big = np.array([1e308, 1e308, -1e308])
    assert total(big) == 1e308  # scaled by a power of two first: no overflow on the way
    inf = group_sums(np.array([0, 0, 1, 1]), np.array([np.inf, 1.0, np.inf, -np.inf]), 2)
    assert inf[0] == np.inf and np.isnan(inf[1])
    many = np.full(3_000_000, 0.1)  # three grids for this many terms
    assert total(many) == math.fsum(many)


# --------------------------------------------------------------------------- every model


@pytest.fixture(scope="module")
def tables() -> tuple[PathTable, list[PathTable]]:
    pt = example(np.random.default_rng(7))
    return pt, [shuffled(pt, seed) for seed in range(20)]


@pytest.mark.parametrize(("model", "options"), MODELS, ids=lambda x: str(x) if x else "")
def test_every_model_gives_the_same_bits_in_any_row_order(tables, model, options):
    pt, others = tables
    expected = A.attribute(pt, model, **options)
    for other in others:
        assert_same_bits(expected, A.attribute(other, model, **options), model)


def test_the_other_results_give_the_same_bits_in_any_row_order(tables):
    pt, others = tables
    expected = (
        pt.aggregate(),
        pt.collapse_repeats().aggregate(),
        pt.with_counts(pt.conversions, pt.value, pt.nulls).aggregate(),
    )
    totals = (pt.total_conversions, pt.total_value, pt.total_nulls)
    for other in others[:5]:
        for a, b in zip(expected, (other.aggregate(), other.collapse_repeats().aggregate())):
            assert_same_table(a, b)
        assert (other.total_conversions, other.total_value, other.total_nulls) == totals
        assert other.equals(pt)
    calls = [
        lambda t: A.channel_roles(t),
        lambda t: A.channel_roles(t, weight="value"),
        lambda t: A.removal_effects(t, 2),
        lambda t: A.harsanyi_dividends(t),
        lambda t: A.harsanyi_dividends(t, value="rate_exact", weights="value"),
        lambda t: A.shapley_values(t, value="rate_subset"),
        lambda t: A.select_order(t, orders=(1, 2)),
        lambda t: A.bootstrap(t, "linear", n_resamples=5),
        lambda t: A.bootstrap(t, "markov", n_resamples=5, unit="paths"),
        lambda t: A.compare_models(t, n_resamples=3),
    ]
    for call in calls:
        want = call(pt)
        for other in others[:3]:
            assert_same_bits(want, call(other))


paths_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(CHANNELS[:4]), min_size=1, max_size=4),
        st.sampled_from((0.0, *FRACTIONS)),
        st.sampled_from((0.0, *FRACTIONS)),
        st.sampled_from(ORDER_SENSITIVE[:6]),
    ),
    min_size=1,
    max_size=20,
).filter(lambda rows: any(c > 0 for _, c, _, _ in rows))


@settings(max_examples=40)
@given(paths_strategy, st.randoms(use_true_random=False))
def test_row_order_changes_no_bit_of_any_model(rows, rnd):
    shuffled_rows = list(rows)
    rnd.shuffle(shuffled_rows)

    def build(rs):
        return PathTable.from_sequences(
            [r[0] for r in rs], [r[1] for r in rs], [r[1] * r[3] for r in rs], [r[2] for r in rs]
        )

    a, b = build(rows), build(shuffled_rows)
    assert_same_table(a.aggregate(), b.aggregate())
    for model, options in MODELS:
        if model == "time_decay":
            continue
        if model == "shapley" and options.get("value") == "rate_exact":
            continue  # may refuse (no path with every channel), in any order alike
        assert_same_bits(A.attribute(a, model, **options), A.attribute(b, model, **options))

"""Shapley values, channel roles, bootstrap intervals and properties shared by every model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import attribution as A
from omnijourney.attribution import PathTable, shapley

CHANNELS = ("web", "app", "store", "email", "sms")


def brute_force_shapley(players, v):
    """Shapley values by the permutation formula (all n! orders)."""
    phi = dict.fromkeys(players, 0.0)
    perms = list(itertools.permutations(players))
    for perm in perms:
        coalition: frozenset = frozenset()
        for p in perm:
            phi[p] += v(coalition | {p}) - v(coalition)
            coalition = coalition | {p}
    return {p: x / len(perms) for p, x in phi.items()}


def game(pt: PathTable, kind: str):
    sets = [frozenset(s.split(" > ")) for s in pt.paths().tolist()]
    conv, null = pt.conversions, pt.nulls

    def v(coalition):
        if kind == "subset":
            return sum(c for s, c in zip(sets, conv) if s <= coalition)
        use = [(s <= coalition) if kind == "rate_subset" else (s == coalition) for s in sets]
        c = sum(x for x, u in zip(conv, use) if u)
        n = sum(x + y for x, y, u in zip(conv, null, use) if u)
        return c / n if n else 0.0

    return v


@pytest.fixture
def table(rng) -> PathTable:
    seqs = [list(rng.choice(CHANNELS, rng.integers(1, 5))) for _ in range(40)]
    conv = rng.integers(0, 6, 40).astype(float)
    seqs.append(list(CHANNELS))  # every channel together, so v(all) > 0 for every game
    conv = np.append(conv, 3.0)
    return PathTable.from_sequences(seqs, conv, conv * 25.0, rng.integers(1, 9, 41))


paths_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5),
        st.integers(0, 5),
        st.integers(0, 5),
        st.floats(0, 500, allow_nan=False),
    ),
    min_size=1,
    max_size=25,
).filter(lambda rows: any(c > 0 for _, c, _, _ in rows))


def build(rows) -> PathTable:
    return PathTable.from_sequences(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[3] if r[1] else 0.0 for r in rows],
        [r[2] for r in rows],
    )


ALL_MODELS = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("last_non_direct", {"direct": ["web"]}),
    ("linear", {}),
    ("linear", {"distinct": True}),
    ("position_based", {}),
    ("markov", {}),
    ("markov", {"order": 2}),
    ("shapley", {}),
]


# --------------------------------------------------------------------------- Shapley


@pytest.mark.parametrize("kind", ["subset", "rate_subset", "rate_exact"])
def test_exact_shapley_equals_the_permutation_formula(table, kind):
    players = table.channels.tolist()
    expected = brute_force_shapley(players, game(table, kind))
    phi = A.shapley_values(table, value=kind)
    np.testing.assert_allclose(phi, [expected[p] for p in players], atol=1e-12)
    # efficiency: the values sum to v(all channels)
    assert phi.sum() == pytest.approx(game(table, kind)(frozenset(players)), abs=1e-12)


def test_subset_shapley_is_linear_attribution_over_distinct_channels(table):
    res = shapley(table, value="subset")
    lin = A.linear(table, distinct=True)
    np.testing.assert_allclose(res.conversions, lin.conversions, atol=1e-9)
    np.testing.assert_allclose(res.value, lin.value, atol=1e-9)


def test_rate_exact_can_give_negative_credit():
    # paths with sms convert less than without it: adding sms lowers the coalition's rate
    pt = PathTable.from_strings(
        ["web", "web > sms", "store", "store > sms > web"], conversions=[50, 5, 40, 20],
        nulls=[50, 95, 60, 30],
    )  # fmt: skip
    res = shapley(pt, value="rate_exact")
    assert res.credit("sms") < 0
    assert res.conversions.sum() == pytest.approx(pt.total_conversions)


def test_symmetric_channels_get_equal_credit():
    pt = PathTable.from_strings(["a > b", "b > a", "c"], conversions=[3, 3, 2], nulls=[1, 1, 4])
    for kind in ("subset", "rate_subset"):
        res = shapley(pt, value=kind)
        assert res.credit("a") == pytest.approx(res.credit("b"), rel=1e-12)


def test_sampled_shapley_converges_with_error_bounds(table):
    exact = shapley(table, value="rate_subset")
    sampled = shapley(table, value="rate_subset", method="sampled", n_permutations=4000, seed=2)
    assert sampled.params["method"] == "sampled"
    z = np.abs(sampled.conversions - exact.conversions) / sampled.std_error
    assert np.all(z < 4.5)
    again = shapley(table, value="rate_subset", method="sampled", n_permutations=4000, seed=2)
    assert again == sampled


def test_more_channels_than_exact_allows():
    names = [f"c{i:02d}" for i in range(24)]
    rng = np.random.default_rng(0)
    seqs = [list(rng.choice(names, 3, replace=False)) for _ in range(300)]
    pt = PathTable.from_sequences(seqs, rng.integers(0, 4, 300), None, rng.integers(0, 4, 300))
    with pytest.raises(oj.ConfigError, match="method='sampled'"):
        shapley(pt, method="exact")
    auto = shapley(pt, n_permutations=200, seed=1)  # auto: sampled beyond 20 channels
    assert auto.params["method"] == "sampled" and auto.std_error is not None
    # the subset game is additive: each permutation gives the exact linear credit
    np.testing.assert_allclose(auto.conversions.sum(), pt.total_conversions)


def test_ordered_shapley_splits_credit_by_position():
    pt = PathTable.from_strings(["a > b", "b > a > c"], conversions=[2, 3])
    res = shapley(pt, ordered=True)
    by_pos = np.array(res.params["by_position"])
    np.testing.assert_allclose(by_pos.sum(axis=1), res.conversions)
    assert by_pos[0].tolist() == [1.0, 1.0, 0.0]  # a: 1 at position 1, 1 at position 2


def test_rate_exact_without_the_full_coalition_is_a_clear_error():
    pt = PathTable.from_strings(["a", "b"], conversions=[1, 1], nulls=[1, 1])
    with pytest.raises(oj.DataError, match="cannot be scaled"):
        shapley(pt, value="rate_exact")


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(paths_strategy)
def test_credit_sums_to_totals_for_every_model(rows):
    pt = build(rows)
    for name, opts in ALL_MODELS:
        if name == "last_non_direct" and "web" not in pt.channels.tolist():
            opts = {}
        res = A.attribute(pt, name, **opts)
        assert res.conversions.sum() == pytest.approx(pt.total_conversions, rel=1e-9, abs=1e-9)
        assert res.value.sum() == pytest.approx(pt.total_value, rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(paths_strategy, st.permutations(CHANNELS))
def test_permuting_labels_permutes_credit(rows, perm):
    rename = dict(zip(CHANNELS, perm))
    pt = build(rows)
    renamed = build([([rename[c] for c in s], c, n, v) for s, c, n, v in rows])
    for name, opts in ALL_MODELS:
        if name == "last_non_direct":
            continue
        a = A.attribute(pt, name, **opts).as_dict()
        b = A.attribute(renamed, name, **opts).as_dict()
        for old, new in rename.items():
            if old in a:
                assert a[old] == pytest.approx(b[new], rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(paths_strategy, paths_strategy)
def test_merging_tables_equals_attributing_the_concatenated_input(rows_a, rows_b):
    merged = build(rows_a) + build(rows_b)
    union = build(rows_a + rows_b)
    assert merged.equals(union)
    for name, opts in ALL_MODELS:
        if name == "last_non_direct":
            continue
        np.testing.assert_allclose(
            A.attribute(merged, name, **opts).conversions,
            A.attribute(union, name, **opts).conversions,
            rtol=1e-9,
            atol=1e-9,
        )


@settings(max_examples=30, deadline=None)
@given(paths_strategy)
def test_a_channel_never_on_a_converting_path_gets_nothing(rows):
    rows = [*rows, (["sms", "web"], 0, 3, 0.0)]
    rows = [
        r
        if r[1] == 0 or "sms" not in r[0]
        else ([c for c in r[0] if c != "sms"] or ["web"], *r[1:])
        for r in rows
    ]
    pt = build(rows)
    for name, opts in ALL_MODELS:
        if name == "markov":  # the documented exception (see test_attribution.py)
            continue
        res = A.attribute(pt, name, **opts)
        assert res.credit("sms") == 0.0


# --------------------------------------------------------------------------- roles


def test_roles_by_hand_with_single_touch_paths():
    pt = PathTable.from_strings(
        ["email > web > store", "web"], conversions=[2, 4], value=[20.0, 8.0]
    )
    roles = A.channel_roles(pt)
    df = roles.to_pandas()
    # web: assist twice (path 1) and a single-touch path: half open, half close (x4)
    assert df.loc["web", ["opens", "assists", "closes"]].tolist() == [2.0, 2.0, 2.0]
    assert roles.as_dict() == {"email": "opener", "store": "closer", "web": "mixed"}
    assert A.channel_roles(pt, threshold=0.3).role_of("web") in {"opener", "assist", "closer"}
    assert A.channel_roles(pt, weight="value").shares("value")[2].tolist() == pytest.approx(
        [4 / 28, 20 / 28, 4 / 28]
    )
    with pytest.raises(oj.ConfigError, match="threshold keys"):
        A.channel_roles(pt, threshold={"decider": 0.5})


def test_roles_recover_the_synthetic_truth_overall_and_by_segment():
    world = oj.synth.generate(n_customers=1500, seed=11, records=False, prices=False)
    jt = oj.sessionize(world.touchpoints, oj.JourneyRules(journey_timeout="14D"))
    roles = A.channel_roles(PathTable.from_journeys(jt))
    assert roles.as_dict() == oj.synth.CHANNEL_ROLES | {}
    segment = dict(zip(world.customers["customer"].tolist(), world.customers["segment"].tolist()))
    by = np.array([segment[c] for c in jt.journeys["customer"].tolist()], dtype=object)
    cmp = A.roles_by(jt, by)
    assert set(cmp.groups) <= set(oj.synth.SEGMENTS)
    web_auto = cmp["web_autonomous"].as_dict()
    assert web_auto["email"] == "opener" and web_auto["web"] in ("assist", "closer")
    assert {"group", "role"} <= set(cmp.to_pandas().columns)
    month = jt.journeys["start"].astype("datetime64[M]").astype(str)
    assert len(A.roles_by(jt, month).groups) >= 10


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_is_deterministic_and_covers_the_estimate(table):
    ci = A.bootstrap(table, "markov", n_resamples=60, seed=4)
    again = A.bootstrap(table, "markov", n_resamples=60, seed=4)
    assert ci == again
    assert np.all(ci.conversions_low <= ci.estimate.conversions + 1e-9)
    assert np.all(ci.estimate.conversions <= ci.conversions_high + 1e-9)
    assert ci.removal_effect_low is not None
    other = A.bootstrap(table, "markov", n_resamples=60, seed=5)
    assert not np.array_equal(other.conversions_low, ci.conversions_low)
    paths_ci = A.bootstrap(table, A.first_touch, n_resamples=30, unit="paths")
    assert paths_ci.model == "first_touch"
    assert "conversions_high" in ci.to_pandas().columns


def test_bootstrap_interval_width_shrinks_with_more_journeys(table):
    big = table.with_counts(table.conversions * 100, table.value * 100, table.nulls * 100)
    small_ci = A.bootstrap(table, "linear", n_resamples=80, seed=1)
    big_ci = A.bootstrap(big, "linear", n_resamples=80, seed=1)
    small_width = (small_ci.share_high - small_ci.share_low).mean()
    big_width = (big_ci.share_high - big_ci.share_low).mean()
    assert big_width < small_width / 5  # about 1 / sqrt(100)


def test_compare_models_side_by_side(table):
    cmp = A.compare_models(table, n_resamples=20, seed=0)
    assert cmp.models == (*[m for m in A.HEURISTICS if m != "time_decay"], "markov", "shapley")
    wide = cmp.to_pandas()
    assert wide.shape == (table.n_channels, len(cmp.models))
    np.testing.assert_allclose(wide.sum().to_numpy(), 1.0)
    long = cmp.to_pandas(wide=False)
    assert {"model", "conversions_low", "share_high"} <= set(long.columns)
    assert "share of conversions" in cmp.summary()
    with pytest.raises(oj.ConfigError, match="not run"):
        A.compare_models(table, ["linear"], options={"markov": {"order": 2}})


# --------------------------------------------------------------------------- results


def test_results_round_trip_through_json(table):
    for res in (
        A.markov(table, order=2),
        A.shapley(table, ordered=True),
        A.channel_roles(table),
        A.bootstrap(table, "linear", n_resamples=5),
        table,
    ):
        back = oj.from_json(oj.to_json(res), type(res))
        assert back == res


def test_result_frames_and_summaries(table):
    res = A.markov(table)
    df = res.to_pandas()
    assert df.index.name == "channel"
    assert {"conversions", "value", "share", "removal_effect"} <= set(df.columns)
    assert df["conversions"].sum() == pytest.approx(table.total_conversions)
    assert "removal effect" in res.summary() and "markov" in repr(res)
    dense = res.transitions.to_dense()
    assert dense.shape == (table.n_channels + 3,) * 2
    np.testing.assert_allclose(dense[:-2].sum(axis=1), 1.0)  # absorbing rows are zero
    assert len(res.to_table()) == table.n_channels
    assert table.to_pandas()["conversions"].sum() == table.total_conversions
    with pytest.raises(oj.ConfigError, match="not a channel"):
        res.credit("tv")


@pytest.mark.parametrize("name", A.__all__)
def test_every_public_name_is_documented(name):
    obj = getattr(A, name)
    if isinstance(obj, (tuple, dict)):
        return
    assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_import_is_lazy_and_light():
    import subprocess
    import sys

    code = (
        "import sys, omnijourney.attribution;"
        "print(','.join(m for m in ('scipy.sparse', 'pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert math.isfinite(1.0)

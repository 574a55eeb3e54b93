"""Path tables, heuristics and the exact Markov removal effect, against hand-derived values and
independent references (a dense solve written with Python loops, and simulated walks)."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.attribution import (
    PathTable,
    first_touch,
    heuristic,
    last_non_direct,
    last_touch,
    linear,
    markov,
    position_based,
    removal_effects,
    select_order,
    time_decay,
)

# --------------------------------------------------------------------------- references


def reference_markov(seqs, conv, null, value, order=1):
    """Order-k removal effects by a dense solve, states built with Python tuples."""
    seqs = [[c for i, c in enumerate(s) if i == 0 or s[i - 1] != c] for s in seqs]
    channels = sorted({c for s in seqs for c in s})
    states: dict[tuple, int] = {}
    trans: dict[tuple[int, int], float] = {}
    conv_at: dict[int, float] = {}
    null_at: dict[int, float] = {}
    val_at: dict[int, float] = {}
    for s, c, u, v in zip(seqs, conv, null, value):
        prev = -1  # start
        for i in range(len(s)):
            st = tuple(s[max(0, i - order + 1) : i + 1])
            sid = states.setdefault(st, len(states))
            trans[prev, sid] = trans.get((prev, sid), 0.0) + c + u
            prev = sid
        conv_at[prev] = conv_at.get(prev, 0.0) + c
        null_at[prev] = null_at.get(prev, 0.0) + u
        val_at[prev] = val_at.get(prev, 0.0) + v
    m = len(states) + 1
    idx = {s: i for s, i in states.items()}

    def solve(removed_channel):
        q = np.zeros((m, m))
        r = np.zeros(m)
        rv = np.zeros(m)
        out = np.zeros(m)
        for (a, _b), w in trans.items():
            out[a] += w
        for a in conv_at:
            out[a] += conv_at[a] + null_at[a]
        for (a, b), w in trans.items():
            q[a, b] = w / out[a]
        for a in conv_at:
            r[a] = conv_at[a] / out[a]
            rv[a] = val_at[a] / out[a]
        if removed_channel is not None:
            for st, i in idx.items():
                if removed_channel in st:
                    q[i, :] = 0.0
                    r[i] = rv[i] = 0.0
        x = np.linalg.solve(np.eye(m) - q, np.stack([r, rv], axis=1))
        return x[-1]  # the start is index -1 == m - 1

    base = solve(None)
    re = np.array([1 - solve(c)[0] / base[0] for c in channels])
    re_v = np.array([1 - solve(c)[1] / base[1] for c in channels])
    return channels, re, re_v, base[0]


def simulate_markov(pt: PathTable, n_walks: int, seed: int) -> tuple[float, np.ndarray]:
    """P(conversion) and P(conversion without each channel) of the order-1 chain, by walks."""
    res = markov(pt)
    tm = res.transitions
    n = tm.n_states
    p = np.zeros((n, n))
    np.add.at(p, (tm.source, tm.target), tm.probabilities())
    start, conv, null = n - 3, n - 2, n - 1
    cum = np.cumsum(p, axis=1)
    rng = np.random.default_rng(seed)
    state = np.full(n_walks, start)
    visited = np.zeros((n_walks, n), dtype=bool)
    alive = np.ones(n_walks, dtype=bool)
    for _ in range(500):
        if not alive.any():
            break
        u = rng.random(alive.sum())
        nxt = (u[:, None] > cum[state[alive]]).sum(axis=1)
        state[alive] = np.minimum(nxt, n - 1)
        visited[alive, state[alive]] = True
        alive &= (state != conv) & (state != null)
    converted = state == conv
    p_all = converted.mean()
    p_without = np.array([(converted & ~visited[:, k]).mean() for k in range(pt.n_channels)])
    return p_all, 1 - p_without / p_all


@pytest.fixture
def loop_table() -> PathTable:
    """Hand-derived example with a loop a -> b -> a (see test_markov_order1_hand_derived)."""
    return PathTable.from_strings(
        ["a > b", "b > a > b", "a"], conversions=[1, 1, 0], value=[100.0, 50.0, 0.0],
        nulls=[0, 1, 2],
    )  # fmt: skip


def random_table(rng, n_paths=60, n_channels=6, max_len=6) -> PathTable:
    names = [f"ch{i}" for i in range(n_channels)]
    seqs = [list(rng.choice(names, rng.integers(1, max_len + 1))) for _ in range(n_paths)]
    conv = rng.integers(0, 5, n_paths).astype(float)
    conv[0] = max(conv[0], 1.0)
    return PathTable.from_sequences(
        seqs, conv, conv * rng.uniform(10, 100, n_paths), rng.integers(0, 9, n_paths)
    )


# --------------------------------------------------------------------------- path tables


def test_from_strings_strips_names_and_keeps_rows():
    pt = PathTable.from_strings([" web >store ", "web"], conversions=[1, 2], nulls=[0, 4])
    assert pt.channels.tolist() == ["store", "web"]
    assert pt.paths().tolist() == ["web > store", "web"]
    assert (pt.total_conversions, pt.total_value, pt.total_nulls) == (3.0, 0.0, 4.0)


def test_vectorized_and_general_string_parsers_agree(rng):
    from omnijourney.attribution._encode import parse_ascii, parse_python

    names = ["web", "app", "call_centre", "a", "ab", "store_paris_north_1", "  sms", "b "]
    texts = [" > ".join(rng.choice(names, rng.integers(1, 6))) for _ in range(300)]
    fast, slow = parse_ascii(texts, ">"), parse_python(texts, ">")
    assert fast is None  # a name longer than 16 bytes: the general parser takes over
    short = [t.replace("store_paris_north_1", "store") for t in texts]
    fast, slow = parse_ascii(short, ">"), parse_python(short, ">")
    assert fast is not None
    for a, b in zip(fast, slow):
        assert a.tolist() == b.tolist()
    pt = PathTable.from_strings(["Zoé > 東京", "東京"], conversions=[1, 1])
    assert pt.channels.tolist() == ["Zoé", "東京"]


def test_many_channel_names_are_each_one_channel(rng):
    # thousands of distinct short names fill every hash table of the fast parser, which
    # then sorts them: a name used on many rows is still one channel
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    names = sorted({"".join(rng.choice(letters, 10)) for _ in range(6000)})
    texts = [f"{a} > {b} > {a}" for a, b in zip(names, names[::-1])]
    pt = PathTable.from_strings(texts, conversions=np.ones(len(texts)))
    assert pt.channels.tolist() == names
    assert pt.paths().tolist() == texts


def test_custom_separator_and_separator_inside_channel_names():
    pt = PathTable.from_strings(["a|b > c"], conversions=[1], sep="|")
    assert pt.channels.tolist() == ["a", "b > c"]
    with pytest.raises(oj.DataError, match="contains the separator '>'"):
        pt.paths()
    assert pt.paths(sep=" | ").tolist() == ["a | b > c"]


@pytest.mark.parametrize(
    ("paths", "match"),
    [
        (["a > > b"], "empty path or an empty channel name"),
        ([""], "empty path or an empty channel name"),
        ([3], "is not a string"),
    ],
)
def test_bad_path_strings_name_the_row(paths, match):
    with pytest.raises(oj.DataError, match=match) as err:
        PathTable.from_strings(paths, conversions=[1])
    assert err.value.rows == (0,) and err.value.column == "path"


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"conversions": [1, -1]}, "conversions"),
        ({"conversions": [1, 1], "nulls": [0, np.nan]}, "nulls"),
        ({"conversions": [1, 1], "value": [0, np.inf]}, "value"),
        ({"conversions": [1, "x"]}, "conversions"),
    ],
)
def test_negative_or_missing_counts_are_refused(kwargs, column):
    with pytest.raises(oj.DataError, match="PathTable, column") as err:
        PathTable.from_strings(["a", "b"], **kwargs)
    assert err.value.column == column and err.value.rows == (1,)


def test_options_collapse_drop_keep_and_truncate():
    pt = PathTable.from_strings(["a > a > b > direct > b", "direct"], conversions=[1, 1])
    assert pt.collapse_repeats().paths().tolist() == ["a > b > direct > b", "direct"]
    assert pt.truncate(2).paths().tolist() == ["direct > b", "direct"]
    with pytest.raises(oj.DataError, match="would be empty after dropping"):
        pt.drop_channels(["direct"])
    dropped = pt.drop_channels(["direct"], empty="remove")
    assert dropped.paths().tolist() == ["a > a > b > b"] and dropped.total_conversions == 1
    kept = PathTable.from_strings(
        ["a > a > b > direct > b"], conversions=[1], collapse_repeats=True, keep=["a", "b"]
    )
    assert kept.paths().tolist() == ["a > b"]  # keep first, then collapse
    with pytest.raises(oj.DataError, match="not in the path table") as err:
        pt.drop_channels(["tv"])
    assert err.value.values == ("tv",)


def test_aggregate_is_canonical_and_merging_equals_the_union():
    a = PathTable.from_strings(["x > y", "y", "x > y"], conversions=[1, 2, 3], nulls=[1, 0, 1])
    b = PathTable.from_strings(["y", "z > x"], conversions=[4, 0], value=[8.0, 0.0], nulls=[1, 5])
    union = PathTable.from_strings(
        ["x > y", "y", "x > y", "y", "z > x"], conversions=[1, 2, 3, 4, 0],
        value=[0, 0, 0, 8, 0], nulls=[1, 0, 1, 1, 5],
    )  # fmt: skip
    merged = a + b
    assert merged.equals(union)
    assert merged.paths().tolist() == ["y", "x > y", "z > x"]
    assert merged.conversions.tolist() == [6.0, 4.0, 0.0]
    for model in (markov, first_touch, linear, oj.attribution.shapley):
        np.testing.assert_allclose(model(merged).conversions, model(union).conversions, rtol=1e-12)
    shuffled = union.take([4, 2, 0, 3, 1])
    assert shuffled.aggregate() == union.aggregate()


def test_aggregate_long_paths_exactly(rng):
    # paths longer than one packed word (62 // bits codes) must still group exactly
    names = [f"c{i}" for i in range(40)]
    seqs = [list(rng.choice(names, 30)) for _ in range(50)]
    pt = PathTable.from_sequences(seqs + seqs[:10], conversions=np.ones(60))
    agg = pt.aggregate()
    assert agg.n_paths == len({tuple(s) for s in seqs})
    assert agg.total_conversions == 60


def test_from_journeys_builds_converting_and_null_paths_with_times():
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["a", "a", "a", "a", "b", "b"],
            "time": ["2024-05-01T10:00", "2024-05-01T10:05", "2024-05-02T10:00",
                     "2024-05-08T10:00", "2024-05-01", "2024-05-02"],
            "channel": ["email", "web", "web", "store", "sms", "web"],
            "event": ["email_click", "product_view", "product_view", "purchase",
                      "sms_click", "product_view"],
            "value": [None, None, None, 120.0, None, None],
        }
    )  # fmt: skip
    jt = oj.sessionize(tp)
    pt = PathTable.from_journeys(jt)
    assert pt.paths().tolist() == ["sms > web", "email > web > store"]
    assert pt.conversions.tolist() == [0.0, 1.0] and pt.value.tolist() == [0.0, 120.0]
    timed = PathTable.from_journeys(jt, times=True)
    # email 7 days before the purchase, web (the last of two web touches) 6 days, store 0
    assert timed.take([0]).times.tolist() == [7 * 86400.0, 6 * 86400.0, 0.0]
    raw = PathTable.from_journeys(jt, collapse_repeats=False)
    assert "email > web > web > store" in raw.paths().tolist()
    only_a = PathTable.from_journeys(jt, where=jt.journeys["customer"] == "a")
    assert only_a.n_paths == 1
    with pytest.raises(oj.ConfigError, match="JourneyTable"):
        PathTable.from_journeys(pt)


def test_from_touchpoints_equals_from_journeys_of_sessionize():
    world = oj.synth.generate(n_customers=60, seed=2, records=False, prices=False)
    rules = oj.JourneyRules(journey_timeout="14D")
    a = PathTable.from_touchpoints(world.touchpoints, rules)
    b = PathTable.from_journeys(oj.sessionize(world.touchpoints, rules))
    assert a == b


# --------------------------------------------------------------------------- heuristics


def test_heuristics_by_hand():
    pt = PathTable.from_strings(
        ["a > b > c > d", "d > a", "b", "c > c > a"], conversions=[10, 2, 1, 3],
        value=[100.0, 20.0, 10.0, 30.0], nulls=[5, 5, 5, 5],
    )  # fmt: skip
    assert first_touch(pt).as_dict() == {"a": 10, "b": 1, "c": 3, "d": 2}
    assert last_touch(pt).as_dict() == {"a": 5, "b": 1, "c": 0, "d": 10}
    assert linear(pt).as_dict() == {"a": 2.5 + 1 + 1, "b": 2.5 + 1, "c": 2.5 + 2, "d": 2.5 + 1}
    assert linear(pt, distinct=True).as_dict() == {"a": 2.5 + 1 + 1.5, "b": 3.5, "c": 4.0, "d": 3.5}
    pb = position_based(pt).as_dict()  # 40/20/40; length 2 splits 50/50
    assert pb == pytest.approx({"a": 4 + 1 + 1.2, "b": 1 + 1, "c": 1 + 1.2 + 0.6, "d": 4 + 1})
    res = last_touch(pt)
    assert res.value.tolist() == [50.0, 10.0, 0.0, 100.0]


def test_last_non_direct_skips_direct_touches_but_keeps_all_direct_paths():
    pt = PathTable.from_strings(
        ["email > direct", "direct > direct", "sms > web > direct"], conversions=[1, 2, 4]
    )
    res = last_non_direct(pt, direct=["direct"])
    assert res.as_dict() == {"direct": 2, "email": 1, "sms": 0, "web": 4}
    assert last_non_direct(pt).as_dict() == res.as_dict()  # "direct" is the default
    with pytest.raises(oj.DataError, match="direct"):
        last_non_direct(pt, direct=["typed"])


def test_position_based_short_paths_and_parameters():
    pt = PathTable.from_strings(["a", "a > b"], conversions=[1, 1])
    assert position_based(pt, first=0.3, last=0.5).as_dict() == pytest.approx(
        {"a": 1 + 0.375, "b": 0.625}
    )
    with pytest.raises(oj.ConfigError, match="first and last"):
        position_based(pt, first=0.7, last=0.6)


def test_time_decay_halves_per_half_life_and_needs_times():
    pt = PathTable.from_sequences(
        [["a", "b", "c"]], conversions=[7], value=[70.0], times=[[14 * 86400.0, 7 * 86400.0, 0.0]]
    )
    res = time_decay(pt, half_life="7D")
    assert res.as_dict() == pytest.approx({"a": 1, "b": 2, "c": 4})
    assert res.value.tolist() == pytest.approx([10, 20, 40])
    with pytest.raises(oj.DataError, match="needs the time of each touch"):
        time_decay(PathTable.from_strings(["a"], conversions=[1]))
    assert heuristic(pt, "time_decay", half_life="1D").conversions.sum() == pytest.approx(7)


# --------------------------------------------------------------------------- Markov


def test_markov_order1_hand_derived(loop_table):
    """P = 2/5; without a: 4/25 (RE 3/5); without b: 0 (RE 1); credit 2 x (3/8, 5/8)."""
    res = markov(loop_table)
    assert res.params["conversion_probability"] == pytest.approx(2 / 5, abs=1e-15)
    np.testing.assert_allclose(res.removal_effects, [3 / 5, 1.0], atol=1e-12)
    np.testing.assert_allclose(res.conversions, [3 / 4, 5 / 4], atol=1e-12)
    np.testing.assert_allclose(res.value_removal_effects, [3 / 5, 1.0], atol=1e-12)
    np.testing.assert_allclose(res.value, [150 * 3 / 8, 150 * 5 / 8], atol=1e-12)
    probs = res.transitions.to_pandas().set_index(["source", "target"])["probability"]
    assert probs[("b", "a")] == pytest.approx(2 / 5) and probs[("(start)", "a")] == pytest.approx(
        3 / 5
    )


def test_markov_order2_hand_derived():
    """States (a), (a > b), (b), (b > a), (c): P = 3/8; removing a or b leaves only the walks
    through c (1/8, RE 2/3); removing c leaves 2/8 (RE 1/3)."""
    pt = PathTable.from_strings(["a > b", "b > a", "c"], conversions=[1, 1, 1], nulls=[1, 3, 1])
    res = markov(pt, order=2)
    # start -> (a) 2/8 -> (a > b) -> conversion 1/2; start -> (b) 4/8 -> (b > a) -> 1/4;
    # start -> (c) 2/8 -> 1/2: P = 1/8 + 1/8 + 1/8
    assert res.params["conversion_probability"] == pytest.approx(3 / 8, abs=1e-15)
    np.testing.assert_allclose(res.removal_effects, [2 / 3, 2 / 3, 1 / 3], atol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("solver", ["auto", "dense", "direct", "iterative"])
def test_markov_matches_the_dense_reference(order, solver):
    rng = np.random.default_rng(order)
    pt = random_table(rng)
    seqs = [s.split(" > ") for s in pt.paths().tolist()]
    channels, re, re_v, p = reference_markov(seqs, pt.conversions, pt.nulls, pt.value, order)
    res = markov(pt, order=order, solver=solver)
    assert res.channels.tolist() == channels
    np.testing.assert_allclose(res.removal_effects, re, atol=1e-12)
    np.testing.assert_allclose(res.value_removal_effects, re_v, atol=1e-12)
    assert res.params["conversion_probability"] == pytest.approx(p, abs=1e-13)


def test_simulated_walks_converge_to_the_exact_removal_effects(loop_table):
    p, re = simulate_markov(loop_table, 200_000, seed=5)
    exact = markov(loop_table)
    assert p == pytest.approx(exact.params["conversion_probability"], abs=0.005)
    np.testing.assert_allclose(re, exact.removal_effects, atol=0.01)


def test_conversion_probability_equals_the_observed_rate(rng):
    pt = random_table(rng, n_paths=200, n_channels=9)
    for order in (1, 2, 4):
        res = markov(pt, order=order)
        rate = pt.total_conversions / (pt.total_conversions + pt.total_nulls)
        assert res.params["conversion_probability"] == pytest.approx(rate, rel=1e-12)
        assert res.conversions.sum() == pytest.approx(pt.total_conversions, rel=1e-12)
        assert res.value.sum() == pytest.approx(pt.total_value, rel=1e-12)


def test_repeats_keep_adds_self_loops_without_changing_p():
    pt = PathTable.from_strings(["a > a > b", "a"], conversions=[1, 0], nulls=[0, 1])
    kept = markov(pt, repeats="keep")
    assert ("a", "a") in {
        (s, t)
        for s, t in kept.transitions.to_pandas()[["source", "target"]].itertuples(index=False)
    }
    assert kept.params["conversion_probability"] == pytest.approx(0.5)
    assert markov(pt).removal_effects.tolist() == pytest.approx([1.0, 1.0])


def test_markov_credits_a_channel_seen_only_on_null_paths():
    """A documented difference from the heuristics: the chain forgets the outcome of a path,
    so c -> b -> conversion walks exist although no path with c converted."""
    pt = PathTable.from_strings(["c > b", "b"], conversions=[0, 1], nulls=[1, 1])
    assert removal_effects(pt) == pytest.approx({"b": 1.0, "c": 1 / 3})  # P 1/3, 2/9 without c
    assert last_touch(pt).credit("c") == 0 and linear(pt).credit("c") == 0


def test_single_channel_and_no_conversion():
    pt = PathTable.from_strings(["a", "a > a"], conversions=[1, 2], nulls=[3, 0])
    assert markov(pt).as_dict() == {"a": 3.0}
    nulls_only = PathTable.from_strings(["a > b"], conversions=[0], nulls=[4])
    for model in (markov, first_touch, oj.attribution.shapley):
        with pytest.raises(oj.DataError, match="no path converts"):
            model(nulls_only)
    with pytest.raises(oj.ConfigError, match="order must be a positive integer"):
        markov(pt, order=0)


def test_select_order_prefers_the_order_that_generated_the_data():
    # conversion depends on the channel before the last one: order 2 sees it, order 1 cannot
    pt = PathTable.from_strings(
        ["a > c", "b > c", "c"], conversions=[300, 30, 50], nulls=[100, 370, 150]
    )
    score = select_order(pt, orders=(1, 2, 3), seed=3)
    assert score.best == 2
    assert score.auc[0] < 0.6 < score.auc[1]
    assert select_order(pt, orders=(1, 2), metric="auc", seed=3).best == 2
    assert score.to_pandas().index.tolist() == [1, 2, 3]


def test_permuting_channel_labels_permutes_markov_credit(rng):
    pt = random_table(rng, n_channels=5)
    perm = {f"ch{i}": f"ch{j}" for i, j in enumerate([3, 0, 4, 1, 2])}
    seqs = [[perm[c] for c in s.split(" > ")] for s in pt.paths().tolist()]
    renamed = PathTable.from_sequences(seqs, pt.conversions, pt.value, pt.nulls)
    for order in (1, 2):
        a, b = markov(pt, order=order).as_dict(), markov(renamed, order=order).as_dict()
        for old, new in perm.items():
            assert a[old] == pytest.approx(b[new], rel=1e-10)


def test_every_model_order_and_solver_combination_agrees_on_a_larger_chain():
    rng = np.random.default_rng(11)
    pt = random_table(rng, n_paths=400, n_channels=7, max_len=8)
    for order in (2, 3):
        results = [
            markov(pt, order=order, solver=s).removal_effects
            for s in ("dense", "iterative", "direct")
        ]
        for r in results[1:]:
            np.testing.assert_allclose(r, results[0], atol=1e-11)


def test_a_path_table_is_made_of_a_table_of_paths_and_a_table_of_steps():
    pt = PathTable.from_sequences(
        [["web", "store"], ["sms"]], [1.0, 0.0], [20.0, 0.0], [0.0, 2.0], times=[[60.0, 0.0], [0.0]]
    )
    assert isinstance(pt.rows, oj.Table) and isinstance(pt.steps, oj.Table)
    assert pt.rows.columns == ("length", "conversions", "value", "nulls")
    assert pt.rows["length"].tolist() == [2, 1]
    assert pt.steps.columns == ("channel", "time")
    assert pt.steps["channel"].tolist() == ["web", "store", "sms"]
    assert pt.offsets.tolist() == [0, 2, 3] and pt.codes.dtype == np.int32
    # the two tables make the path table; take and concat work on them
    assert PathTable(pt.rows, pt.steps) == pt
    assert PathTable(pt.rows.take([1]), pt.steps.take([2])) == pt.take([1])
    both = PathTable.concat([pt, PathTable.from_strings(["sms"], [0.0], nulls=[2.0])])
    assert both.paths().tolist() == ["sms", "web > store"]
    assert both.nulls.tolist() == [4.0, 0.0] and both.times is None
    with pytest.raises(oj.DataError, match="empty path"):
        PathTable(pt.rows.replace_columns({"length": np.array([3, 0])}), pt.steps)


def test_the_previous_constructor_of_path_tables_still_works_and_says_what_to_use():
    pt = PathTable.from_strings(["a > b", "b"], [1.0, 2.0], nulls=[3.0, 0.0])
    arrays = (pt.channels, pt.codes, pt.offsets, pt.conversions, pt.value, pt.nulls)
    with pytest.warns(DeprecationWarning, match="PathTable.from_codes"):
        positional = PathTable(*arrays)
    with pytest.warns(DeprecationWarning, match="PathTable.from_codes"):
        named = PathTable(
            **dict(zip(("channels", "codes", "offsets"), arrays[:3])),
            conversions=pt.conversions,
            value=pt.value,
            nulls=pt.nulls,
            times=None,
        )
    assert positional == pt and named == pt
    with pytest.warns(DeprecationWarning, match="deprecated"), pytest.raises(TypeError):
        PathTable(channels=pt.channels)

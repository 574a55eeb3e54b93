"""Paths over journeys: variants, directly-follows graph, step matrix, Sankey, funnels.

Hand-written examples with exact values, properties checked with hypothesis, and naive
Python loops over a synthetic world as the reference.
"""

from __future__ import annotations

import collections
import datetime as dt
import inspect
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import TouchpointTable, sessionize
from omnijourney.errors import ConfigError
from omnijourney.journeys import (
    channel_transitions,
    directly_follows,
    funnel,
    sankey,
    step_matrix,
    variants,
)
from omnijourney.journeys._variants import sequence_ids
from strategies import (
    JOURNEY_RULES_UNMATCHED,
    assert_same_values,
    order_sensitive_columns,
    two_orders,
)

pytestmark = JOURNEY_RULES_UNMATCHED

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
DAY = 24 * 60


def tp(rows, **extra):
    """rows: (customer, minutes after BASE, channel, event[, value])."""
    cols = {
        "customer": [r[0] for r in rows],
        "time": [BASE + dt.timedelta(minutes=r[1]) for r in rows],
        "channel": [r[2] for r in rows],
        "event": [r[3] for r in rows],
    }
    if any(len(r) > 4 for r in rows):
        cols["value"] = [r[4] if len(r) > 4 else None for r in rows]
    return TouchpointTable.from_columns(cols, duplicates="keep", **extra)


# A1 web web store(purchase) | A2 app | B1 web store | C1 app app web web | D1 call | E1 web store
ROWS = [
    ("a", 0, "web", "product_view"),
    ("a", 5, "web", "add_to_cart"),
    ("a", 20, "store", "purchase", 100.0),
    ("a", 30 * DAY, "app", "product_view"),
    ("b", 0, "web", "product_view"),
    ("b", 10, "store", "purchase", 50.0),
    ("c", 0, "app", "product_view"),
    ("c", 1, "app", "product_view"),
    ("c", 2, "web", "product_view"),
    ("c", 3, "web", "add_to_cart"),
    ("d", 0, "call_centre", "call"),
    ("e", 0, "web", "product_view"),
    ("e", 15, "store", "purchase", 30.0),
]


@pytest.fixture
def jt():
    return sessionize(tp(ROWS))


def rows_of(table):
    return [tuple(table.row(i).values()) for i in range(len(table))]


# --------------------------------------------------------------------------- variants


def test_variants_hand_example(jt):
    v = variants(jt)
    assert v.columns == (
        "variant",
        "length",
        "journeys",
        "share",
        "cumulative_share",
        "converted",
        "conversion_rate",
        "value",
    )
    assert v["variant"].tolist() == [
        "web > store",
        "app",
        "app > app > web > web",
        "call_centre",
        "web > web > store",
    ]
    assert v["length"].tolist() == [2, 1, 4, 1, 3]
    assert v["journeys"].tolist() == [2, 1, 1, 1, 1]
    assert v["share"].tolist() == pytest.approx([2 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6])
    assert v["cumulative_share"].tolist() == pytest.approx([2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])
    assert v["converted"].tolist() == [2, 0, 0, 0, 1]
    assert v["conversion_rate"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert v["value"].tolist() == [80.0, 0.0, 0.0, 0.0, 100.0]


def test_variants_collapse_top_and_labels(jt):
    v = variants(jt, collapse_repeats=True)
    assert list(zip(v["variant"], v["journeys"], v["value"])) == [
        ("web > store", 3, 180.0),
        ("app", 1, 0.0),
        ("app > web", 1, 0.0),
        ("call_centre", 1, 0.0),
    ]
    e = variants(jt, by="event", top=2)
    assert e["variant"].tolist() == ["product_view > purchase", "call"]
    assert e["cumulative_share"].tolist() == pytest.approx([2 / 6, 3 / 6])
    ce = variants(jt, by="channel_event")
    assert ce["variant"].tolist()[0] == "web:product_view > store:purchase"
    assert len(variants(jt, top=0)) == 0
    assert variants(jt).to_pandas()["journeys"].sum() == 6


def test_variants_with_spaces_in_labels_sort_by_the_joined_label():
    # "call" is a prefix of "call centre": sequence order and joined-label order differ
    rows = [
        ("a", 0, "call", "call"),
        ("a", 1, "web", "product_view"),
        ("b", 0, "call centre", "call"),
        ("c", 0, "call", "call"),
        ("c", 1, "call centre", "call"),
    ]
    v = variants(sessionize(tp(rows, channels={"call": "assisted", "call centre": "assisted"})))
    labels = v["variant"].tolist()
    assert labels == sorted(labels)
    assert labels == ["call > call centre", "call > web", "call centre"]


def test_variants_of_long_journeys_match_python():
    rng = np.random.default_rng(3)
    rows = []
    for c in range(60):
        n = int(rng.integers(1, 90))
        chans = rng.choice(["web", "app"], n) if c % 3 else np.array(["web"] * n)
        rows += [(f"c{c:02d}", i, ch, "product_view") for i, ch in enumerate(chans.tolist())]
    jt = sessionize(tp(rows))
    expected = collections.Counter()
    for k in range(len(jt)):
        expected[
            " > ".join(jt.touchpoints["channel"][jt.order[jt.offsets[k] : jt.offsets[k + 1]]])
        ] += 1
    got = dict(zip(variants(jt)["variant"], variants(jt)["journeys"]))
    assert got == dict(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([1, 2, 3, 15, 16, 17, 300, 70_000]),
    st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=70), max_size=25),
)
def test_sequence_ids_are_exact_and_ordered(alphabet, seqs):
    seqs = [[x % alphabet for x in s] for s in seqs]
    values = np.array(list(itertools.chain.from_iterable(seqs)), dtype=np.int64)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    ids, n = sequence_ids(values, lengths, alphabet)
    distinct = sorted({tuple(s) for s in seqs})
    assert n == len(distinct)
    assert ids.tolist() == [distinct.index(tuple(s)) for s in seqs]


# --------------------------------------------------------------------------- directly-follows


def test_directly_follows_hand_example(jt):
    g = directly_follows(jt)
    assert g.nodes.tolist() == ["▶", "app", "call_centre", "store", "web", "■"]
    assert g.counts.tolist() == [
        [0, 2, 1, 0, 3, 0],
        [0, 1, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 3],
        [0, 0, 0, 3, 2, 1],
        [0, 0, 0, 0, 0, 0],
    ]
    web, store, app = 4, 3, 1
    assert g.median_seconds[web, web] == 180.0
    assert g.mean_seconds[web, web] == 180.0
    assert g.p90_seconds[web, web] == pytest.approx(276.0)
    assert (g.median_seconds[web, store], g.mean_seconds[web, store]) == (900.0, 800.0)
    assert g.p90_seconds[web, store] == 900.0
    assert g.median_seconds[app, app] == 60.0
    assert np.isnan(g.median_seconds[0, web]) and np.isnan(g.mean_seconds[web, -1])
    assert np.isnan(g.p90_seconds[store, web])
    edges = g.edges
    assert edges.columns == ("from", "to", "count", "median_s", "mean_s", "p90_s")
    assert list(zip(edges["from"], edges["to"], edges["count"]))[:3] == [
        ("▶", "web", 3),
        ("store", "■", 3),
        ("web", "store", 3),
    ]
    assert edges["count"].sum() == g.counts.sum()
    assert len(g.to_pandas()) == len(edges)


def test_directly_follows_collapsed_times_run_from_the_end_of_a_repeat(jt):
    g = directly_follows(jt, collapse_repeats=True)
    web, store, app = 4, 3, 1
    assert np.trace(g.counts) == 0
    assert g.counts[web, store] == 3
    assert g.median_seconds[web, store] == 900.0  # A1: 20 min - 5 min
    assert g.mean_seconds[web, store] == 800.0
    assert g.median_seconds[app, web] == 60.0  # C1: 2 min - 1 min


def test_directly_follows_with_centuries_between_steps():
    # gaps of centuries do not fit beside the edge in one int64: the lexsort path
    rng = np.random.default_rng(5)
    us = -(2**61) + np.cumsum(rng.integers(1, 2**58, 30))  # thousands of years apart
    # times outside the years 1 to 9999 are refused on load: build the table from arrays
    names = [f"c{c:02d}" for c in rng.integers(0, 20, 30)]
    channels, channel_codes = np.unique(names, return_inverse=True)
    table = TouchpointTable.from_arrays(
        {
            "customer": np.zeros(30, dtype=np.int8),
            "time": us.astype("datetime64[us]"),
            "channel": channel_codes.astype(np.int8),
            "event": np.zeros(30, dtype=np.int8),
        },
        {
            "customer": np.array(["a"], dtype=object),
            "channel": channels.astype(object),
            "event": np.array(["product_view"], dtype=object),
        },
    )
    jt = sessionize(table, oj.JourneyRules(journey_timeout=None))
    assert len(jt) == 1
    g = directly_follows(jt)
    counts, gaps = naive_dfg(jt, "channel", False)
    nodes = g.nodes.tolist()
    for (a, b), values in gaps.items():
        i, j = nodes.index(a), nodes.index(b)
        assert g.counts[i, j] == counts[(a, b)]
        assert g.median_seconds[i, j] == pytest.approx(np.median(values), rel=1e-12)
        assert g.p90_seconds[i, j] == pytest.approx(np.percentile(values, 90), rel=1e-12)
        assert g.mean_seconds[i, j] == pytest.approx(np.mean(values), rel=1e-12)


def test_channel_transitions_hand_example(jt):
    m = channel_transitions(jt)
    assert m.labels.tolist() == ["app", "call_centre", "store", "web"]
    assert m.matrix.tolist() == [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 3, 2]]
    across = channel_transitions(jt, across_journeys=True)
    assert across.matrix[2].tolist() == [1, 0, 0, 0]  # a: store (purchase) -> app next month
    p = channel_transitions(jt, normalize=True)
    assert p.matrix.tolist() == [[0.5, 0, 0, 0.5], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0.6, 0.4]]
    t = m.to_table()
    assert list(zip(t["from"], t["to"], t["count"])) == [
        ("app", "app", 1),
        ("app", "web", 1),
        ("web", "store", 3),
        ("web", "web", 2),
    ]
    assert p.to_table().columns == ("from", "to", "probability")
    df = m.to_pandas()
    assert df.loc["web", "store"] == 3


# --------------------------------------------------------------------------- positions


def test_step_matrix_hand_example(jt):
    m = step_matrix(jt, max_steps=3)
    assert m.columns == ("label", "step_1", "step_2", "step_3")
    assert m["label"].tolist() == ["app", "call_centre", "store", "web", "ended"]
    assert m["step_1"].tolist() == pytest.approx([2 / 6, 1 / 6, 0, 3 / 6, 0])
    assert m["step_2"].tolist() == pytest.approx([1 / 6, 0, 2 / 6, 1 / 6, 2 / 6])
    assert m["step_3"].tolist() == pytest.approx([0, 0, 1 / 6, 1 / 6, 4 / 6])
    collapsed = step_matrix(jt, max_steps=2, collapse_repeats=True)
    assert collapsed["step_2"].tolist() == pytest.approx([0, 0, 3 / 6, 1 / 6, 2 / 6])


def test_sankey_hand_example(jt):
    sk = sankey(jt, max_steps=2)
    n = sk.nodes
    assert n.columns == ("id", "step", "label", "count", "converted")
    assert n["label"].tolist() == [
        "app",
        "call_centre",
        "web",
        "app",
        "store",
        "web",
        "converted",
        "not converted",
    ]
    assert n["step"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3]
    assert n["count"].tolist() == [2, 1, 3, 1, 2, 1, 3, 3]
    assert n["converted"].tolist() == [0, 0, 3, 0, 2, 1, 3, 0]
    links = list(zip(*(sk.links[c].tolist() for c in ("source", "target", "count", "converted"))))
    assert links == [
        (0, 3, 1, 0),
        (0, 7, 1, 0),
        (1, 7, 1, 0),
        (2, 4, 2, 2),
        (2, 5, 1, 1),
        (3, 7, 1, 0),
        (4, 6, 2, 2),
        (5, 6, 1, 1),
    ]
    plot = sk.plotly_data()
    assert plot["link"]["value"] == sk.links["count"].tolist()
    assert plot["node"]["label"][0] == "app (1)"


# --------------------------------------------------------------------------- funnels

STEPS = ["product_view", "add_to_cart", "purchase"]


def test_funnel_hand_example(jt):
    f = funnel(jt, STEPS)
    assert f.columns == (
        "step",
        "label",
        "count",
        "share_of_start",
        "share_of_previous",
        "median_seconds_from_previous",
    )
    assert f["step"].tolist() == [1, 2, 3]
    assert f["label"].tolist() == STEPS
    assert f["count"].tolist() == [5, 2, 1]
    assert f["share_of_start"].tolist() == pytest.approx([1.0, 0.4, 0.2])
    assert f["share_of_previous"].tolist() == pytest.approx([1.0, 0.4, 0.5])
    med = f["median_seconds_from_previous"]
    assert np.isnan(med[0]) and med[1:].tolist() == [240.0, 900.0]


def test_funnel_windows_greedy_and_best(jt):
    # C1: view@0 view@1 view@2 cart@3: the greedy path starts at 0 and misses a 2-min window
    assert funnel(jt, STEPS, within="2min")["count"].tolist() == [5, 0, 0]
    best = funnel(jt, STEPS, within="2min", match="best")
    assert best["count"].tolist() == [5, 1, 0]
    assert best["median_seconds_from_previous"][1] == 60.0
    assert funnel(jt, STEPS, within="4min", window="first")["count"].tolist() == [5, 1, 0]


def test_greedy_is_not_optimal_under_a_window():
    rows = [("x", 0, "web", "product_view"), ("x", 600, "web", "product_view")]
    rows += [("x", 660, "web", "purchase")]
    jt = sessionize(tp(rows))
    assert funnel(jt, ["product_view", "purchase"], within="2h")["count"].tolist() == [1, 0]
    best = funnel(jt, ["product_view", "purchase"], within="2h", match="best")
    assert best["count"].tolist() == [1, 1]
    assert best["median_seconds_from_previous"][1] == 3600.0
    # without a window both agree, and greedy measures from the first view
    free = funnel(jt, ["product_view", "purchase"])
    assert free["count"].tolist() == [1, 1]
    assert free["median_seconds_from_previous"][1] == 660 * 60.0


def test_funnel_window_from_first_or_previous():
    rows = [("x", 0, "web", "product_view"), ("x", 50, "web", "add_to_cart")]
    rows += [("x", 100, "web", "purchase")]
    jt = sessionize(tp(rows))
    assert funnel(jt, STEPS, within="1h")["count"].tolist() == [1, 1, 1]
    assert funnel(jt, STEPS, within="1h", window="first")["count"].tolist() == [1, 1, 0]
    rows = [("x", 0, "web", "product_view"), ("x", 30, "web", "product_view")]
    rows += [("x", 40, "web", "add_to_cart"), ("x", 80, "web", "purchase")]
    jt = sessionize(tp(rows))
    first = funnel(jt, STEPS, within="1h", window="first")
    assert first["count"].tolist() == [1, 1, 0]
    best = funnel(jt, STEPS, within="1h", window="first", match="best")
    assert best["count"].tolist() == [1, 1, 1]
    assert best["median_seconds_from_previous"][1:].tolist() == [600.0, 2400.0]


def test_funnel_sets_customers_and_labels(jt):
    f = funnel(jt, ["product_view", {"add_to_cart", "purchase"}])
    assert f["label"].tolist() == ["product_view", "add_to_cart | purchase"]
    assert f["count"].tolist() == [5, 4]
    assert funnel(jt, STEPS, per="customer")["count"].tolist() == [4, 2, 1]
    assert funnel(jt, ["web", "store"], by="channel")["count"].tolist() == [4, 3]
    assert funnel(jt, ["web:add_to_cart"], by="channel_event")["count"].tolist() == [2]
    with pytest.warns(oj.OmnijourneyWarning, match=r"funnel step 2 \(refund\) matches no event"):
        refunds = funnel(jt, ["product_view", "refund"])
    assert refunds["count"].tolist() == [5, 0]
    assert refunds.notes == (
        "unmatched: funnel step 2 (refund) looks for event 'refund'; the data has "
        "'product_view', 'purchase', 'add_to_cart', 'call'",
    )
    # [view, view] needs two views; collapsed repeats count as one
    assert funnel(jt, ["product_view", "product_view"])["count"].tolist() == [5, 1]
    twice = funnel(jt, ["product_view", "product_view"], collapse_repeats=True)
    assert twice["count"].tolist() == [5, 0]
    assert twice["share_of_previous"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": []}, "at least one step"),
        ({"steps": "purchase"}, "sequence of labels"),
        ({"steps": [set()]}, "empty set"),
        ({"steps": STEPS, "window": "last"}, "window must be"),
        ({"steps": STEPS, "match": "all"}, "match must be"),
        ({"steps": STEPS, "within": 30}, "within must be a duration"),
        ({"steps": STEPS, "per": "visit"}, "per must be"),
        ({"steps": STEPS, "by": "store"}, "by must be one of"),
    ],
)
def test_funnel_refuses_bad_parameters(jt, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        funnel(jt, **kwargs)


def test_bad_inputs_are_refused(jt):
    with pytest.raises(ConfigError, match="needs a JourneyTable"):
        variants(tp(ROWS))
    with pytest.raises(ConfigError, match="by must be one of"):
        directly_follows(jt, by="campaign")
    with pytest.raises(ConfigError, match="top must be"):
        variants(jt, top=-1)
    with pytest.raises(ConfigError, match="max_steps must be"):
        step_matrix(jt, max_steps=0)
    with pytest.raises(ConfigError, match="max_steps must be"):
        sankey(jt, max_steps=2.5)


def test_no_journeys():
    empty = sessionize(
        TouchpointTable.from_columns(
            {"customer": [], "time": np.zeros(0, "datetime64[us]"), "channel": [], "event": []}
        )
    )
    assert len(variants(empty)) == 0
    g = directly_follows(empty)
    assert g.nodes.tolist() == ["▶", "■"] and g.counts.sum() == 0
    assert channel_transitions(empty).matrix.shape == (0, 0)
    assert step_matrix(empty, max_steps=2)["label"].tolist() == ["ended"]
    assert sankey(empty).nodes["count"].tolist() == [0, 0]


# --------------------------------------------------------------------------- naive references


def sequences(jt, by="channel", per="journey", collapse=False):
    """Per journey (or customer), the list of (label, time in us) of its touchpoints."""
    t = jt.touchpoints
    order = jt.order.tolist()
    ch, ev = t["channel"], t["event"]
    us = t.raw("time").view(np.int64)
    label = {
        "channel": lambda i: ch[i],
        "event": lambda i: ev[i],
        "channel_event": lambda i: f"{ch[i]}:{ev[i]}",
    }[by]
    if per == "journey":
        bounds = jt.offsets.tolist()
    else:
        cust = t["customer"][jt.order].tolist()
        bounds = [0] + [i for i in range(1, len(cust)) if cust[i] != cust[i - 1]] + [len(cust)]
        if not cust:
            bounds = [0]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        seq = [(label(i), int(us[i]), int(us[i])) for i in order[a:b]]
        if collapse:
            merged = []
            for lab, first, last in seq:
                if merged and merged[-1][0] == lab:
                    merged[-1] = (lab, merged[-1][1], last)
                else:
                    merged.append((lab, first, last))
            seq = merged
        out.append(seq)
    return out


def naive_variants(jt, by, collapse):
    seqs = sequences(jt, by, collapse=collapse)
    conv = jt.journeys.raw("converted").tolist()
    count, converted = collections.Counter(), collections.Counter()
    for seq, c in zip(seqs, conv):
        key = " > ".join(x[0] for x in seq)
        count[key] += 1
        converted[key] += int(c)
    ranked = sorted(count, key=lambda k: (-count[k], k))
    return [(k, count[k], converted[k]) for k in ranked]


def naive_dfg(jt, by, collapse):
    seqs = sequences(jt, by, collapse=collapse)
    counts = collections.Counter()
    gaps = collections.defaultdict(list)
    for seq in seqs:
        counts[("▶", seq[0][0])] += 1
        counts[(seq[-1][0], "■")] += 1
        for (a, _, a_last), (b, b_first, _) in zip(seq[:-1], seq[1:]):
            counts[(a, b)] += 1
            gaps[(a, b)].append((b_first - a_last) / 1e6)
    return counts, gaps


def naive_funnel(seqs, sets, within, from_first, best):
    """The reference semantics, written as plain loops (quadratic, small inputs only)."""
    k_steps = len(sets)
    counts = [0] * k_steps
    gaps = [[] for _ in range(k_steps)]
    for seq in seqs:
        n = len(seq)
        lab = [x[0] for x in seq]
        t = [x[1] for x in seq]
        if not best:
            pos = first = None
            for k, names in enumerate(sets):
                start = 0 if pos is None else pos + 1
                nxt = next((i for i in range(start, n) if lab[i] in names), None)
                if nxt is None:
                    break
                if k and within is not None:
                    ref = t[first] if from_first else t[pos]
                    if t[nxt] - ref > within:
                        break
                if k:
                    gaps[k].append(t[nxt] - t[pos])
                else:
                    first = nxt
                counts[k] += 1
                pos = nxt
            continue
        # best: valid[k] = occurrences of step k ending a path that respects the window
        starts = [{i: {i} for i in range(n) if lab[i] in sets[0]}]
        for names in sets[1:]:
            prev = starts[-1]
            cur = {}
            for i in range(n):
                if lab[i] not in names:
                    continue
                s = set()
                for j, js in prev.items():
                    if j < i:
                        s |= js if from_first else {j}
                if s:
                    cur[i] = s
            starts.append(cur)

        def ok(i, k, _starts=starts, _t=t):
            if k == 0 or within is None:
                return True
            return any(_t[i] - _t[s] <= within for s in _starts[k][i])

        valid = [[i for i in sorted(starts[k]) if ok(i, k)] for k in range(k_steps)]
        if not from_first and within is not None:  # windows chain: recompute from valid sets
            valid = [sorted(i for i in range(n) if lab[i] in sets[0])]
            for names in sets[1:]:
                valid.append(
                    [
                        i
                        for i in range(n)
                        if lab[i] in names
                        and any(j < i and t[i] - t[j] <= within for j in valid[-1])
                    ]
                )
        for k in range(k_steps):
            if not valid[k]:
                break
            counts[k] += 1
            if k:
                r = valid[k][0]
                if from_first:
                    cands = [
                        j
                        for j in valid[k - 1]
                        if j < r
                        and (within is None or any(t[r] - t[s] <= within for s in starts[k - 1][j]))
                    ]
                else:
                    cands = [
                        j
                        for j in valid[k - 1]
                        if j < r and (within is None or t[r] - t[j] <= within)
                    ]
                gaps[k].append(t[r] - t[max(cands)])
    medians = [float(np.median(g)) / 1e6 if g else np.nan for g in gaps]
    medians[0] = np.nan
    return counts, medians


@pytest.fixture(scope="module")
def world_jt():
    world = oj.synth.generate(300, seed=11, records=False, prices=False)
    return sessionize(world.touchpoints)


@pytest.mark.parametrize("by", ["channel", "event", "channel_event"])
@pytest.mark.parametrize("collapse", [False, True])
def test_variants_match_a_python_loop(world_jt, by, collapse):
    v = variants(world_jt, by=by, collapse_repeats=collapse)
    got = list(zip(v["variant"].tolist(), v["journeys"].tolist(), v["converted"].tolist()))
    assert got == naive_variants(world_jt, by, collapse)


@pytest.mark.parametrize("by", ["channel", "event"])
@pytest.mark.parametrize("collapse", [False, True])
def test_directly_follows_matches_a_python_loop(world_jt, by, collapse):
    g = directly_follows(world_jt, by=by, collapse_repeats=collapse)
    counts, gaps = naive_dfg(world_jt, by, collapse)
    nodes = g.nodes.tolist()
    got = {(nodes[a], nodes[b]): int(g.counts[a, b]) for a, b in zip(*np.nonzero(g.counts))}
    assert got == dict(counts)
    for (a, b), values in gaps.items():
        i, j = nodes.index(a), nodes.index(b)
        assert g.median_seconds[i, j] == pytest.approx(np.median(values), rel=1e-12)
        assert g.mean_seconds[i, j] == pytest.approx(np.mean(values), rel=1e-9)
        assert g.p90_seconds[i, j] == pytest.approx(np.percentile(values, 90), rel=1e-12)


@pytest.mark.parametrize("per", ["journey", "customer"])
@pytest.mark.parametrize(
    ("within", "window"),
    [(None, "previous"), ("2h", "previous"), ("1D", "first"), ("0min", "first")],
)
@pytest.mark.parametrize("match", ["greedy", "best"])
def test_funnel_matches_a_python_loop(world_jt, per, within, window, match):
    steps = ["product_view", {"add_to_cart", "quote_request"}, "purchase"]
    f = funnel(world_jt, steps, within=within, window=window, per=per, match=match)
    seqs = sequences(world_jt, "event", per=per)
    limit = None if within is None else int(oj.time.to_timedelta64(within).astype(np.int64))
    sets = [{"product_view"}, {"add_to_cart", "quote_request"}, {"purchase"}]
    counts, medians = naive_funnel(seqs, sets, limit, window == "first", match == "best")
    assert f["count"].tolist() == counts
    np.testing.assert_allclose(f["median_seconds_from_previous"], medians, rtol=1e-12)


def test_batches_give_the_same_paths(world_jt):
    tp = world_jt.touchpoints
    cut = np.datetime64("2024-07-01T00:00", "us")
    early = tp.raw("time") < cut
    batched = oj.sessionize_batches([tp.filter(early), tp.filter(~early)])
    for by in ("channel", "event"):
        assert variants(batched, by=by).equals(variants(world_jt, by=by))
        assert directly_follows(batched, by=by).edges.equals(
            directly_follows(world_jt, by=by).edges
        )
    steps = ["product_view", "add_to_cart", "purchase"]
    assert funnel(batched, steps, within="1D").equals(funnel(world_jt, steps, within="1D"))


def test_channel_transitions_match_a_python_loop(world_jt):
    for across in (False, True):
        m = channel_transitions(world_jt, across_journeys=across)
        expected = collections.Counter()
        for seq in sequences(world_jt, per="customer" if across else "journey"):
            expected.update((a[0], b[0]) for a, b in zip(seq[:-1], seq[1:]))
        labels = m.labels.tolist()
        got = {(labels[a], labels[b]): int(m.matrix[a, b]) for a, b in zip(*np.nonzero(m.matrix))}
        assert got == dict(expected)


def test_step_matrix_and_sankey_match_python(world_jt):
    seqs = sequences(world_jt, collapse=True)
    m = step_matrix(world_jt, max_steps=4, collapse_repeats=True)
    for p in range(4):
        expected = collections.Counter(s[p][0] if p < len(s) else "ended" for s in seqs)
        got = dict(zip(m["label"].tolist(), (m[f"step_{p + 1}"] * len(seqs)).round().tolist()))
        assert {k: v for k, v in got.items() if v} == dict(expected)
    sk = sankey(world_jt, max_steps=3, collapse_repeats=True)
    nodes = list(zip(sk.nodes["step"].tolist(), sk.nodes["label"].tolist()))
    conv = world_jt.journeys.raw("converted").tolist()
    expected = collections.Counter()
    for s, c in zip(seqs, conv):
        path = [(p + 1, s[p][0]) for p in range(min(len(s), 3))]
        path.append((nodes[-1][0], "converted" if c else "not converted"))
        expected.update(zip(path[:-1], path[1:]))
    links = sk.links
    got = {
        (nodes[a], nodes[b]): c
        for a, b, c in zip(
            links["source"].tolist(), links["target"].tolist(), links["count"].tolist()
        )
    }
    assert got == dict(expected)


# --------------------------------------------------------------------------- properties

LABELS = ("product_view", "add_to_cart", "purchase", "call")


@st.composite
def small_logs(draw):
    n = draw(st.integers(0, 30))
    return {
        "customer": [draw(st.sampled_from("abc")) for _ in range(n)],
        "time": [
            BASE + dt.timedelta(minutes=draw(st.sampled_from([0, 1, 2, 30, 31, 90, 600, 1500])))
            for _ in range(n)
        ],
        "channel": [draw(st.sampled_from(["web", "store", "app"])) for _ in range(n)],
        "event": [draw(st.sampled_from(LABELS)) for _ in range(n)],
    }


def _journeys(cols):
    if not cols["customer"]:
        cols = {**cols, "time": np.zeros(0, "datetime64[us]")}
    return sessionize(TouchpointTable.from_columns(cols, duplicates="keep"))


@settings(max_examples=150, deadline=None)
@given(small_logs(), st.booleans())
def test_counts_add_up(cols, collapse):
    jt = _journeys(cols)
    n_j = len(jt)
    v = variants(jt, collapse_repeats=collapse)
    assert v["journeys"].sum() == n_j
    if n_j:
        assert v["cumulative_share"][-1] == pytest.approx(1.0)
    g = directly_follows(jt, collapse_repeats=collapse)
    steps = int(v["journeys"] @ v["length"])
    transitions = steps - n_j
    assert g.counts[:, :-1].sum() == transitions + n_j  # every row but the end column
    assert g.counts[0].sum() == n_j == g.counts[:, -1].sum()
    assert (g.counts[1:-1].sum(axis=1) == g.counts[:, 1:-1].sum(axis=0)).all()
    m = step_matrix(jt, max_steps=3, collapse_repeats=collapse)
    if n_j:
        assert np.allclose([m[f"step_{p}"].sum() for p in (1, 2, 3)], 1.0)


@pytest.mark.filterwarnings("ignore:funnel step:omnijourney.errors.OmnijourneyWarning")
@settings(max_examples=300, deadline=None)
@given(
    small_logs(),
    st.lists(
        st.one_of(st.sampled_from(LABELS), st.sets(st.sampled_from(LABELS), min_size=1)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, "0min", "1min", "30min", "1D"]),
    st.sampled_from(["previous", "first"]),
    st.sampled_from(["journey", "customer"]),
)
def test_funnel_agrees_with_the_naive_loop(cols, steps, within, window, per):
    jt = _journeys(cols)
    sets = [{s} if isinstance(s, str) else set(s) for s in steps]
    limit = None if within is None else int(oj.time.to_timedelta64(within).astype(np.int64))
    seqs = [[(x[0], x[1]) for x in s] for s in sequences(jt, "event", per=per)]
    results = {}
    for match in ("greedy", "best"):
        f = funnel(jt, steps, within=within, window=window, per=per, match=match)
        counts, medians = naive_funnel(seqs, sets, limit, window == "first", match == "best")
        assert f["count"].tolist() == counts
        np.testing.assert_allclose(f["median_seconds_from_previous"], medians, rtol=1e-12)
        assert (np.diff(f["count"]) <= 0).all()
        results[match] = f["count"]
    assert (results["best"] >= results["greedy"]).all()
    if within is None:
        assert results["best"].tolist() == results["greedy"].tolist()


@pytest.mark.filterwarnings("ignore:funnel step:omnijourney.errors.OmnijourneyWarning")
@settings(max_examples=100, deadline=None)
@given(small_logs(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(cols, rnd):
    perm = list(range(len(cols["customer"])))
    rnd.shuffle(perm)
    a = _journeys(cols)
    b = _journeys({k: [v[i] for i in perm] for k, v in cols.items()})
    for by in ("channel", "event", "channel_event"):
        assert variants(a, by=by).equals(variants(b, by=by))
        ga, gb = directly_follows(a, by=by), directly_follows(b, by=by)
        assert ga.nodes.tolist() == gb.nodes.tolist()
        assert np.array_equal(ga.counts, gb.counts)
        assert np.array_equal(ga.median_seconds, gb.median_seconds, equal_nan=True)
        assert ga.edges.equals(gb.edges)
    assert step_matrix(a).equals(step_matrix(b))
    assert sankey(a).nodes.equals(sankey(b).nodes)
    assert sankey(a).links.equals(sankey(b).links)
    assert np.array_equal(channel_transitions(a).matrix, channel_transitions(b).matrix)
    if a.touchpoints["event"].size:
        steps = ["product_view", "purchase"]
        for match in ("greedy", "best"):
            fa = funnel(a, steps, within="30min", match=match, per="customer")
            assert fa.equals(funnel(b, steps, within="30min", match=match, per="customer"))


@settings(max_examples=30, deadline=None)
@given(order_sensitive_columns(), st.integers(0, 2**32 - 1))
@pytest.mark.filterwarnings("ignore:funnel step:omnijourney.errors.OmnijourneyWarning")
def test_variant_values_and_step_times_are_the_same_bits_in_any_row_order(cols, seed):
    a, b = (sessionize(t) for t in two_orders(cols, seed))
    for by in ("channel", "event", "channel_event"):
        assert_same_values(variants(a, by=by), variants(b, by=by))
        ga, gb = directly_follows(a, by=by), directly_follows(b, by=by)
        assert_same_values(ga.edges, gb.edges)
        for name in ("median_seconds", "mean_seconds", "p90_seconds"):
            assert np.array_equal(getattr(ga, name), getattr(gb, name), equal_nan=True)
    for per in ("journey", "customer"):
        fa = funnel(a, ["product_view", "purchase"], per=per)
        assert_same_values(fa, funnel(b, ["product_view", "purchase"], per=per))
    assert_same_values(step_matrix(a), step_matrix(b))
    assert_same_values(sankey(a).nodes, sankey(b).nodes)


# --------------------------------------------------------------------------- pm4py


def test_same_counts_as_pm4py(world_jt):
    """pm4py's variants and directly-follows graph of our event log, recorded by
    tests/data/pm4py_golden.py (pm4py is AGPL-3.0: reference figures only)."""
    pytest.importorskip("pandas")
    from omnijourney.journeys import to_event_log

    golden = json.loads((Path(__file__).parent / "data" / "pm4py_golden.json").read_text())
    gen = _pm4py_golden_module()
    theirs = golden["event_log"]
    log = to_event_log(world_jt, activity="channel_event")
    assert gen.frame_digest(log) == theirs["digest"], "export changed: rerun pm4py_golden.py"
    v = variants(world_jt, by="channel_event")
    assert dict(zip(v["variant"].tolist(), v["journeys"].tolist())) == theirs["variants"]
    g = directly_follows(world_jt, by="channel_event")
    nodes = g.nodes.tolist()
    inner = {
        f"{nodes[a]} -> {nodes[b]}": int(g.counts[a, b])
        for a, b in zip(*np.nonzero(g.counts))
        if a > 0 and b < len(nodes) - 1
    }
    assert inner == theirs["dfg"]
    assert {nodes[i]: int(g.counts[0, i]) for i in np.flatnonzero(g.counts[0])} == theirs["start"]
    assert {nodes[i]: int(g.counts[i, -1]) for i in np.flatnonzero(g.counts[:, -1])} == theirs[
        "end"
    ]


def _pm4py_golden_module():
    import importlib.util

    path = Path(__file__).parent / "data" / "pm4py_golden.py"
    spec = importlib.util.spec_from_file_location("pm4py_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_directly_follows_counts_alone_equal_the_counts_with_statistics():
    world = oj.synth.generate(300, seed=5, records=False, prices=False)
    jt = oj.sessionize(world.touchpoints)
    full = oj.journeys.directly_follows(jt)
    counts = oj.journeys.directly_follows(jt, statistics=False)
    assert np.array_equal(full.counts, counts.counts)
    assert np.isnan(counts.median_seconds).all()


def test_every_journey_analysis_names_its_first_argument_journeys():
    jt = sessionize(tp(ROWS))
    calls = [
        (oj.journeys.funnel, (), {"steps": STEPS}),
        (oj.journeys.step_matrix, (), {}),
        (oj.journeys.sankey, (), {}),
        (oj.journeys.channel_transitions, (), {}),
        (oj.journeys.variants, (), {}),
        (oj.journeys.directly_follows, (), {}),
        (oj.journeys.to_event_log, (), {}),
    ]
    for func, args, kwargs in calls:
        assert next(iter(inspect.signature(func).parameters)) == "journeys", func.__name__
        with pytest.warns(DeprecationWarning, match="'jt' parameter is deprecated; use 'journeys'"):
            old = func(*args, jt=jt, **kwargs)
        new = func(jt, *args, **kwargs)
        assert type(old) is type(new)
    assert next(iter(inspect.signature(oj.journeys.to_ocel).parameters)) == "journeys"


def test_the_channel_transitions_of_journeys_have_a_name_of_their_own():
    assert oj.journeys.ChannelTransitions is not oj.attribution.TransitionMatrix
    with pytest.warns(DeprecationWarning, match="use ChannelTransitions"):
        legacy = oj.journeys.TransitionMatrix
    assert legacy is oj.journeys.ChannelTransitions
    assert isinstance(channel_transitions(sessionize(tp(ROWS))), legacy)

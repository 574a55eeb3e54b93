"""Figures people show: one colour per channel in every figure, labels in words, equal prices
side by side, the step matrix and the directly-follows graph drawn with the numbers of their
results (checked against a plain loop, and against pm4py's reading of the same log)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import attribution as A
from omnijourney.errors import ConfigError

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import same_color  # noqa: E402

from omnijourney import plot  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def world():
    return oj.synth.generate(n_customers=150, seed=3)


@pytest.fixture(scope="module")
def journeys(world) -> oj.JourneyTable:
    return oj.sessionize(world.touchpoints)


def _patch(ax, gid):
    return next(p for p in ax.patches if p.get_gid() == gid)


# --------------------------------------------------------------------------- palette


def test_palette_colour_depends_on_the_name_only():
    p = plot.DEFAULT_PALETTE
    assert p.color("web") == p.color("web") != p.color("app")
    assert p.colors(["web", "kiosk"])["kiosk"] == p.colors(["kiosk"])["kiosk"]
    # channels of one kind share a hue family: a kind's colour shades its channels
    mine = plot.ChannelPalette(kinds={"digital": "#000080"})
    assert mine.color("web") == "#000080"
    assert mine.color("app") != mine.color("web")
    assert mine.color("store") == p.color("store")
    assert mine.kind_color("digital") == "#000080"


def test_palette_refuses_what_is_not_a_colour_table():
    with pytest.raises(ConfigError, match="'kinds' parameter of ChannelPalette"):
        plot.ChannelPalette(kinds={"online": "red"})
    with pytest.raises(ConfigError, match="'catalog' parameter"):
        plot.ChannelPalette(catalog={"kiosk": "shop"})
    with pytest.raises(ConfigError, match="'channels' parameter"):
        plot.ChannelPalette(channels=["red"])
    with pytest.raises(ConfigError, match="palette must be a ChannelPalette"):
        plot.set_palette(3)


def test_web_has_one_colour_in_every_figure(world, journeys):
    web = plot.DEFAULT_PALETTE.color("web")
    flows = oj.journeys.sankey(journeys, max_steps=2)
    ax = plot.sankey(flows)
    ids = [int(i) for i, lab in zip(flows.nodes["id"], flows.nodes["label"]) if lab == "web"]
    assert ids and all(same_color(_patch(ax, f"node:{i}").get_facecolor(), web) for i in ids)

    customer = journeys.journeys["customer"][0]
    ax = plot.timeline(journeys, customer)
    touch = next(c for c in ax.collections if c.get_gid() == "touchpoints")
    rows = oj.journeys.timeline(journeys, customer)
    on_web = np.flatnonzero(np.asarray(rows["channel"].tolist()) == "web")
    edges = touch.get_edgecolors()
    assert on_web.size and all(same_color(edges[i], web) for i in on_web)

    result = A.last_touch(A.PathTable.from_journeys(journeys))
    ax = plot.credit(result)
    bars = ax.containers[0]
    at = result.channels.tolist().index("web")
    assert same_color(bars[at].get_facecolor(), web)

    prices = world.prices.prices
    sku = prices["sku"][0]
    ax = plot.prices(prices, sku, channels=["web"])
    assert same_color(ax.get_lines()[0].get_color(), web)

    ax = plot.directly_follows(oj.journeys.directly_follows(journeys))
    node = next(t for t in ax.texts if t.get_gid() == "node:web")
    assert same_color(node.get_bbox_patch().get_facecolor(), web)


def test_set_palette_colours_every_figure_until_set_back(journeys):
    previous = plot.set_palette(plot.ChannelPalette(channels={"web": "#123456"}))
    try:
        flows = oj.journeys.sankey(journeys, max_steps=1)
        ax = plot.sankey(flows)
        web = next(
            int(i) for i, lab in zip(flows.nodes["id"], flows.nodes["label"]) if lab == "web"
        )
        assert same_color(_patch(ax, f"node:{web}").get_facecolor(), "#123456")
        # the figure's own palette wins over the one set
        ax = plot.sankey(flows, palette={"web": "#654321"})
        assert same_color(_patch(ax, f"node:{web}").get_facecolor(), "#654321")
    finally:
        plot.set_palette(previous)
    assert plot.get_palette() is plot.DEFAULT_PALETTE


def test_appetence_takes_the_kind_colours(journeys):
    mine = plot.ChannelPalette(kinds={"physical": "#aa0000"})
    ax = plot.appetence(oj.journeys.appetence(journeys), palette=mine)
    physical = ax.containers[1]
    assert physical.get_label() == "physical"
    assert all(same_color(b.get_facecolor(), "#aa0000") for b in physical)


def test_outcomes_take_the_palette_colours(journeys):
    flows = oj.journeys.sankey(journeys, max_steps=1)
    mine = plot.ChannelPalette(converted="#00ff00", not_converted="#ff00ff")
    ax = plot.sankey(flows, palette=mine)
    colour = {"converted": "#00ff00", "not converted": "#ff00ff"}
    for i, lab in zip(flows.nodes["id"], flows.nodes["label"]):
        if lab in colour:
            assert same_color(_patch(ax, f"node:{int(i)}").get_facecolor(), colour[lab])


# --------------------------------------------------------------------------- labels


def test_labels_are_words_unless_raw_ones_are_asked_for():
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["a", "a", "b"],
            "time": ["2024-05-01T10:00", "2024-05-01T10:20", "2024-05-01T09:00"],
            "channel": ["call_centre", "store", "web"],
            "event": ["product_view", "order", "purchase"],
        }
    )
    jt = oj.sessionize(tp)
    f = oj.journeys.funnel(jt, ["product_view", {"order", "purchase"}])
    ticks = [t.get_text() for t in plot.funnel(f).get_yticklabels()]
    assert ticks == ["product view", "order or purchase"]
    raw = [t.get_text() for t in plot.funnel(f, raw_labels=True).get_yticklabels()]
    assert raw == ["product_view", "order | purchase"]
    texts = [t.get_text() for t in plot.sankey(oj.journeys.sankey(jt)).texts]
    assert any(t.startswith("call centre (") for t in texts)
    assert not any("_" in t for t in texts)
    with pytest.raises(ConfigError, match="raw_labels"):
        plot.funnel(f, raw_labels="yes")


def test_every_audit_rule_has_words():
    from omnijourney.pricing._policy import RULES

    for rule in RULES:
        assert "_" not in plot.readable(rule), rule


# --------------------------------------------------------------------------- prices


def test_equal_prices_are_drawn_side_by_side_with_exact_data():
    table = oj.pricing.PriceTable.from_columns(
        {
            "sku": ["A"] * 4,
            "channel": ["web", "app", "store", "web"],
            "price": [10.0, 10.0, 10.0, 8.0],
            "valid_from": ["2024-05-01", "2024-05-01", "2024-05-01", "2024-05-10"],
            "valid_to": ["2024-05-10", None, None, None],
        }
    )
    ax = plot.prices(table, "A", until="2024-05-20")
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert sorted(lines) == ["price:app", "price:store", "price:web"]
    assert lines["price:web"].get_ydata().tolist() == [10.0, 10.0, 8.0, 8.0]
    assert lines["price:app"].get_ydata().tolist() == [10.0, 10.0]
    # the same data point lands at three different heights on the figure
    shown = {
        gid: line.get_transform().transform((line.get_xdata()[0], 10.0))[1]
        for gid, line in lines.items()
    }
    assert len({round(v, 3) for v in shown.values()}) == 3
    # the lines, drawn with their own transforms, still set the axes' limits
    low, high = ax.get_ylim()
    assert low < 8.0 and high > 10.0
    # lone series stay where their data are
    lone = oj.pricing.PriceTable.from_columns(
        {"sku": ["A", "A"], "channel": ["web", "app"], "price": [10.0, 12.0],
         "valid_from": ["2024-05-01", "2024-05-01"]}
    )  # fmt: skip
    ax = plot.prices(lone, "A", until="2024-05-20")
    for line in ax.get_lines():
        x, y = line.get_xdata()[0], line.get_ydata()[0]
        assert line.get_transform().transform((x, y)) == pytest.approx(
            ax.transData.transform((x, y))
        )


def test_several_locations_of_a_channel_take_shades_of_its_colour():
    table = oj.pricing.PriceTable.from_columns(
        {
            "sku": ["A"] * 3,
            "channel": ["store", "store", "web"],
            "location": ["S1", "S2", None],
            "price": [10.0, 11.0, 12.0],
            "valid_from": ["2024-05-01"] * 3,
        }
    )
    ax = plot.prices(table, "A", until="2024-05-20")
    colour = {line.get_label(): line.get_color() for line in ax.get_lines()}
    store = plot.DEFAULT_PALETTE.color("store")
    assert same_color(colour["store @ S1"], store)
    assert not same_color(colour["store @ S2"], store)


# --------------------------------------------------------------------------- step matrix


def _naive_step_matrix(jt: oj.JourneyTable, n_steps: int) -> dict[str, list[float]]:
    """Share of journeys with each channel at each step, by a loop over the journeys."""
    channels = np.asarray(jt.touchpoints["channel"].tolist(), dtype=object)
    ids = jt.journey_id
    paths: dict[int, list[str]] = {}
    for i in np.argsort(ids, kind="stable").tolist():
        paths.setdefault(int(ids[i]), []).append(str(channels[i]))
    out: dict[str, list[float]] = {}
    for path in paths.values():
        for p in range(n_steps):
            label = path[p] if p < len(path) else "ended"
            out.setdefault(label, [0.0] * n_steps)[p] += 1 / len(paths)
    return out


def test_step_matrix_cells_are_the_shares_of_a_plain_loop(journeys):
    table = oj.journeys.step_matrix(journeys, max_steps=6)
    ax = plot.step_matrix(table, raw_labels=True)
    drawn = ax.images[0].get_array()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    naive = _naive_step_matrix(journeys, 6)
    assert sorted(labels) == sorted(naive)
    for row, label in enumerate(labels):
        np.testing.assert_allclose(drawn[row], naive[label], atol=1e-12)
    np.testing.assert_allclose(drawn.sum(axis=0), 1.0)
    shown = [t.get_text() for t in ax.texts]
    assert len(shown) == int((drawn > 0).sum())
    assert labels[-1] == "ended"


# --------------------------------------------------------------------------- directly-follows


def _edge_labels(ax) -> dict[str, str]:
    return {
        t.get_gid().removeprefix("edge-label:"): t.get_text()
        for t in ax.texts
        if str(t.get_gid()).startswith("edge-label:")
    }


def test_directly_follows_arrows_carry_the_counts_of_a_plain_loop(journeys):
    graph = oj.journeys.directly_follows(journeys)
    ax = plot.directly_follows(graph)
    channels = np.asarray(journeys.touchpoints["channel"].tolist(), dtype=object)
    ids = journeys.journey_id
    order = np.lexsort((np.arange(ids.size), ids))
    naive: dict[str, int] = {}
    for a, b in zip(order[:-1].tolist(), order[1:].tolist()):
        if ids[a] == ids[b]:
            key = f"{channels[a]}->{channels[b]}"
            naive[key] = naive.get(key, 0) + 1
    first = {int(ids[order[0]])}
    starts: dict[str, int] = {str(channels[order[0]]): 1}
    for a, b in zip(order[:-1].tolist(), order[1:].tolist()):
        if ids[a] != ids[b] and int(ids[b]) not in first:
            first.add(int(ids[b]))
            starts[str(channels[b])] = starts.get(str(channels[b]), 0) + 1
    labels = _edge_labels(ax)
    loops = {
        t.get_gid().removeprefix("loop:"): t.get_text()
        for t in ax.texts
        if str(t.get_gid()).startswith("loop:")
    }
    for key, n in naive.items():
        a, b = key.split("->")
        if a == b:
            assert loops[a] == f"↻ {n:,}"
        else:
            assert labels[key] == f"{n:,}"
    for channel, n in starts.items():
        assert labels[f"▶->{channel}"] == f"{n:,}"
    arrows = [p for p in ax.patches if str(p.get_gid()).startswith("edge:")]
    assert len(arrows) == len(labels)
    assert {n for n, _ in (k.split("->") for k in labels)} - {"▶"} <= set(graph.nodes.tolist())


def test_directly_follows_agrees_with_pm4py_on_its_log():
    """pm4py's directly-follows counts of the log exported from this world, recorded by
    tests/data/pm4py_golden.py (pm4py is AGPL-3.0: reference figures only)."""
    golden = json.loads((DATA / "pm4py_golden.json").read_text())["event_log"]
    world = oj.synth.generate(300, seed=11, records=False, prices=False)
    graph = oj.journeys.directly_follows(oj.sessionize(world.touchpoints), by="channel_event")
    ax = plot.directly_follows(graph, raw_labels=True)
    labels = _edge_labels(ax)
    loops = {
        t.get_gid().removeprefix("loop:"): t.get_text()
        for t in ax.texts
        if str(t.get_gid()).startswith("loop:")
    }
    for key, n in golden["dfg"].items():
        a, b = key.split(" -> ")
        assert (loops[a] if a == b else labels[f"{a}->{b}"]) == (
            f"↻ {n:,}" if a == b else f"{n:,}"
        ), key
    for a, n in golden["start"].items():
        assert labels[f"▶->{a}"] == f"{n:,}"
    for a, n in golden["end"].items():
        assert labels[f"{a}->■"] == f"{n:,}"


def test_directly_follows_performance_writes_the_times():
    times = ["2024-05-01T10:00", "2024-05-01T12:05", "2024-05-01T09:00", "2024-05-01T09:30"]
    both = ["web", "store"] * 2
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": list("aabb"),
            "time": times,
            "channel": both,
            "event": ["view", "purchase"] * 2,
        }
    )
    graph = oj.journeys.directly_follows(oj.sessionize(tp))
    labels = _edge_labels(plot.directly_follows(graph, show="performance", statistic="mean"))
    # mean of 2 h 5 min and 30 min; the start and end arrows keep their counts
    assert labels["web->store"] == "1 h 18 min"
    assert labels["▶->web"] == "2"
    with pytest.raises(ConfigError, match="min_share"):
        plot.directly_follows(graph, min_share=2)
    few = _edge_labels(plot.directly_follows(graph, min_share=1.0))
    assert set(few) == {"▶->web", "web->store", "store->■"}


# --------------------------------------------------------------------------- plotly


def test_sankey_to_plotly_is_a_figure_or_says_what_to_install(journeys):
    flows = oj.journeys.sankey(journeys, max_steps=2)
    try:
        import plotly.graph_objects as go
    except ImportError:
        with pytest.raises(oj.errors.MissingDependencyError, match="plotly"):
            flows.to_plotly()
        return
    fig = flows.to_plotly()
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    assert list(trace.link.value) == flows.links["count"].tolist()
    assert list(trace.link.source) == flows.links["source"].tolist()
    web = [i for i, lab in enumerate(flows.nodes["label"].tolist()) if lab == "web"]
    assert all(same_color(trace.node.color[i], plot.DEFAULT_PALETTE.color("web")) for i in web)


def test_sankey_to_plotly_without_plotly_names_the_extra(journeys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "plotly", None)
    monkeypatch.setitem(__import__("sys").modules, "plotly.graph_objects", None)
    flows = oj.journeys.sankey(journeys, max_steps=2)
    with pytest.raises(oj.errors.MissingDependencyError, match=r"omnijourney\[interactive\]"):
        flows.to_plotly()
    assert flows.plotly_data()["link"]["value"] == flows.links["count"].tolist()

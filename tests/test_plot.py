"""Figures: each function draws exactly the numbers of the result it is given."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import attribution as A

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.dates import date2num  # noqa: E402

from omnijourney import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def journeys() -> oj.JourneyTable:
    world = oj.synth.generate(n_customers=80, seed=3, records=False, prices=False)
    return oj.sessionize(world.touchpoints)


@pytest.fixture
def small() -> oj.JourneyTable:
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["a", "a", "a", "a", "b", "b", "c"],
            "time": [
                "2024-05-01T10:00",
                "2024-05-01T10:30",
                "2024-05-01T11:00",
                "2024-05-20T15:00",
                "2024-05-01T09:00",
                "2024-05-01T09:10",
                "2024-05-03T12:00",
            ],
            "channel": ["email", "web", "web", "store", "web", "store", "app"],
            "event": [
                "email_sent",
                "product_view",
                "add_to_cart",
                "purchase",
                "product_view",
                "purchase",
                "product_view",
            ],
            "direction": ["outbound", "inbound", "inbound", "inbound", "inbound", "inbound", None],
        }
    )
    return oj.sessionize(tp)


def bars(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


# --------------------------------------------------------------------------- package


def test_import_does_not_import_matplotlib():
    code = "import sys, omnijourney.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_names_the_extra(monkeypatch, small):
    f = oj.journeys.funnel(small, ["product_view", "purchase"])
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"omnijourney\[plot\]") as info:
        plot.funnel(f)
    assert isinstance(info.value, oj.OmnijourneyError)


def test_draws_on_the_given_axes_and_refuses_other_objects(small):
    f = oj.journeys.funnel(small, ["product_view", "purchase"])
    _, ax = plt.subplots()
    assert plot.funnel(f, ax=ax) is ax
    with pytest.raises(oj.ConfigError, match="ax must be a matplotlib Axes"):
        plot.funnel(f, ax="left")


# --------------------------------------------------------------------------- funnel


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_funnel_bars_are_the_step_counts(journeys, orientation):
    f = oj.journeys.funnel(journeys, ["product_view", "add_to_cart", {"purchase", "order"}])
    ax = plot.funnel(f, orientation=orientation, color="tab:green")
    (container,) = bars(ax)
    assert len(container) == len(f) == 3
    size = [b.get_width() if orientation == "horizontal" else b.get_height() for b in container]
    assert size == f["count"].astype(float).tolist()
    ticks = ax.get_yticklabels() if orientation == "horizontal" else ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == [plot.readable(x) for x in f["label"].tolist()]
    texts = [t.get_text() for t in ax.texts]
    for share in f["share_of_previous"][1:]:
        assert any(f"{100 * share:.1f}%" in t for t in texts)
    assert mpl.colors.same_color(container[0].get_facecolor(), "tab:green")


def test_funnel_refuses_other_results(small):
    with pytest.raises(oj.ConfigError, match="result must be the Table returned by"):
        plot.funnel(oj.journeys.sankey(small))
    with pytest.raises(oj.ConfigError, match="no column 'count'"):
        plot.funnel(oj.Table.from_columns({"step": [1], "label": ["x"]}))
    empty = oj.Table.from_columns(
        {"step": [], "label": [], "count": [], "share_of_previous": []},
        kinds={"step": "int", "label": "category", "count": "int", "share_of_previous": "float"},
    )
    with pytest.raises(oj.ConfigError, match="result is empty"):
        plot.funnel(empty)
    f = oj.journeys.funnel(small, ["product_view"])
    with pytest.raises(oj.ConfigError, match="orientation must be one of"):
        plot.funnel(f, orientation="diagonal")


# --------------------------------------------------------------------------- sankey


def _sankey_geometry(ax):
    nodes = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("node:")}
    links = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("link:")}
    return nodes, links


@pytest.mark.parametrize("order", ["count", "label"])
def test_sankey_heights_and_band_widths_follow_the_counts(journeys, order):
    sk = oj.journeys.sankey(journeys, max_steps=3, collapse_repeats=True)
    ax = plot.sankey(sk, order=order)
    nodes, links = _sankey_geometry(ax)
    count = sk.nodes["count"].astype(float)
    ids = sk.nodes["id"].tolist()
    shown = [i for i, c in zip(ids, count) if c > 0]
    assert sorted(nodes) == sorted(f"node:{i}" for i in shown)
    height = np.array([nodes[f"node:{i}"].get_height() for i in shown])
    scale = height.max() / count[count > 0].max()
    np.testing.assert_allclose(height, count[count > 0] * scale)
    assert len(links) == len(sk.links)
    for k, (src, dst, n) in enumerate(
        zip(sk.links["source"], sk.links["target"], sk.links["count"])
    ):
        v = links[f"link:{k}"].get_path().vertices
        # the band leaves the source's right edge and reaches the target's left edge
        s_node, t_node = nodes[f"node:{src}"], nodes[f"node:{dst}"]
        assert v[0][0] == pytest.approx(s_node.get_x() + s_node.get_width())
        assert v[3][0] == pytest.approx(t_node.get_x())
        # width at both ends is proportional to the link's count, inside the nodes
        assert v[0][1] - v[7][1] == pytest.approx(n * scale)
        assert v[3][1] - v[4][1] == pytest.approx(n * scale)
        assert (
            s_node.get_y() - 1e-9 <= v[7][1]
            and v[0][1] <= s_node.get_y() + s_node.get_height() + 1e-9
        )
        assert (
            t_node.get_y() - 1e-9 <= v[4][1]
            and v[3][1] <= t_node.get_y() + t_node.get_height() + 1e-9
        )
    # the bands leaving a node fill it exactly (every journey goes on or ends)
    for i in shown:
        out = [
            links[f"link:{k}"].get_path().vertices
            for k, s in enumerate(sk.links["source"])
            if s == i
        ]
        if out:
            total = sum(v[0][1] - v[7][1] for v in out)
            assert total == pytest.approx(nodes[f"node:{i}"].get_height())


def test_sankey_columns_are_steps_and_outcomes(small):
    sk = oj.journeys.sankey(small, max_steps=2)
    ax = plot.sankey(sk, node_width=0.2, colors={"web": "black"})
    nodes, _ = _sankey_geometry(ax)
    steps = dict(zip(sk.nodes["id"].tolist(), sk.nodes["step"].tolist()))
    for gid, rect in nodes.items():
        centre = rect.get_x() + rect.get_width() / 2
        assert centre == pytest.approx(steps[int(gid.split(":")[1])] - 1)
        assert rect.get_width() == pytest.approx(0.2)
    web = [i for i, lab in zip(sk.nodes["id"], sk.nodes["label"]) if lab == "web"]
    assert all(mpl.colors.same_color(nodes[f"node:{i}"].get_facecolor(), "black") for i in web)
    assert {"step 1", "step 2", "outcome"} <= {t.get_text() for t in ax.texts}


def test_sankey_refuses_other_results_and_empty_ones(small):
    with pytest.raises(oj.ConfigError, match="result must be the Sankey returned by"):
        plot.sankey(oj.journeys.funnel(small, ["product_view"]))
    tp = oj.TouchpointTable.from_columns({"customer": [], "time": [], "channel": [], "event": []})
    with pytest.raises(oj.ConfigError, match="holds no journey"):
        plot.sankey(oj.journeys.sankey(oj.sessionize(tp)))
    with pytest.raises(oj.ConfigError, match="order must be one of"):
        plot.sankey(oj.journeys.sankey(small), order="random")


# --------------------------------------------------------------------------- transitions


def test_transition_heatmap_is_the_matrix(journeys):
    m = oj.journeys.channel_transitions(journeys)
    ax = plot.transitions(m)
    np.testing.assert_array_equal(ax.images[0].get_array(), m.matrix)
    assert [t.get_text() for t in ax.get_xticklabels()] == [plot.readable(x) for x in m.labels]
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.readable(x) for x in m.labels]
    written = {t.get_text() for t in ax.texts}
    assert {f"{v:,}" for v in m.matrix[m.matrix > 0].tolist()} <= written
    shares = plot.transitions(m, show="shares", annotate=False, colorbar=False)
    rows = m.matrix.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shares.images[0].get_array(), m.matrix / np.maximum(rows, 1))
    assert not shares.texts
    norm = oj.journeys.channel_transitions(journeys, normalize=True)
    np.testing.assert_allclose(plot.transitions(norm).images[0].get_array(), norm.matrix)
    with pytest.raises(oj.ConfigError, match="show='counts' needs counts"):
        plot.transitions(norm, show="counts")


def test_transition_heatmap_of_a_markov_chain():
    pt = A.PathTable.from_strings(["a > b", "b", "a > c"], conversions=[4, 2, 1], nulls=[3, 5, 8])
    chain = A.markov(pt).transitions
    ax = plot.transitions(chain)
    dense = np.zeros((chain.n_states, chain.n_states))
    np.add.at(dense, (chain.source, chain.target), chain.counts)
    np.testing.assert_allclose(ax.images[0].get_array(), dense)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        plot.readable(x) for x in chain.states.tolist()
    ]


def test_transitions_refuses_other_objects(journeys):
    with pytest.raises(oj.ConfigError, match="matrix must be a TransitionMatrix"):
        plot.transitions(np.eye(3))


# --------------------------------------------------------------------------- credit


@pytest.fixture(scope="module")
def paths() -> A.PathTable:
    return A.PathTable.from_strings(
        ["web > store", "email > web", "store", "email > store > web"],
        conversions=[5, 3, 4, 2],
        value=[500.0, 90.0, 200.0, 120.0],
        nulls=[4, 6, 2, 9],
    )


@pytest.mark.parametrize("of", ["conversions", "value", "share", "value_share"])
def test_credit_bars_of_one_model(paths, of):
    res = A.linear(paths)
    ax = plot.credit(res, of=of)
    (container,) = bars(ax)
    np.testing.assert_allclose([b.get_height() for b in container], getattr(res, of))
    assert [t.get_text() for t in ax.get_xticklabels()] == res.channels.tolist()
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_credit_groups_models_side_by_side(paths):
    cmp = A.compare_models(paths, ["first_touch", "last_touch", "markov"])
    ax = plot.credit(cmp, width=0.9)
    groups = bars(ax)
    assert [g.get_label() for g in groups] == list(cmp.models)
    for name, group in zip(cmp.models, groups):
        np.testing.assert_allclose([b.get_height() for b in group], cmp[name].conversions)
        assert all(b.get_width() == pytest.approx(0.3) for b in group)
    centres = np.array([[b.get_x() + b.get_width() / 2 for b in g] for g in groups])
    np.testing.assert_allclose(centres.mean(axis=0), np.arange(len(cmp.channels)), atol=1e-12)
    listed = plot.credit([cmp["first_touch"], cmp["markov"]])
    assert len(bars(listed)) == 2


@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_credit_error_bars_span_the_bootstrap_intervals(paths, orientation):
    cmp = A.compare_models(paths, ["last_touch", "linear"], n_resamples=40, seed=1)
    ax = plot.credit(cmp, of="conversions", orientation=orientation)
    errs = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errs) == 2
    axis = 1 if orientation == "vertical" else 0
    for r, err, group in zip(cmp.results, errs, bars(ax)):
        segments = err.lines[2][0].get_segments()
        low = [min(s[0][axis], s[1][axis]) for s in segments]
        high = [max(s[0][axis], s[1][axis]) for s in segments]
        np.testing.assert_allclose(low, r.conversions_low)
        np.testing.assert_allclose(high, r.conversions_high)
        # each error bar stands on its bar
        at = [s[0][1 - axis] for s in segments]
        if orientation == "vertical":
            centres = [b.get_x() + b.get_width() / 2 for b in group]
        else:
            centres = [b.get_y() + b.get_height() / 2 for b in group]
        np.testing.assert_allclose(at, centres)
    single = plot.credit(cmp["linear"], of="share", intervals=False)
    assert not [c for c in single.containers if isinstance(c, ErrorbarContainer)]


def test_credit_refuses_other_results(paths):
    with pytest.raises(oj.ConfigError, match="result must be an Attribution"):
        plot.credit({"web": 1.0})
    with pytest.raises(oj.ConfigError, match="holds no model"):
        plot.credit([])
    other = A.PathTable.from_strings(["x > y"], conversions=[1])
    with pytest.raises(oj.ConfigError, match="do not credit the same channels"):
        plot.credit([A.linear(paths), A.linear(other)])
    with pytest.raises(oj.ConfigError, match="of must be one of"):
        plot.credit(A.linear(paths), of="roi")


# --------------------------------------------------------------------------- timeline


def _scatter(ax, gid):
    (found,) = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == gid]
    return found


def test_timeline_has_one_marker_per_touchpoint(small):
    ax = plot.timeline(small, "a")
    tl = oj.journeys.timeline(small, "a")
    points = _scatter(ax, "touchpoints").get_offsets()
    assert len(points) == len(tl) == 4
    np.testing.assert_allclose(points[:, 0], date2num(tl["time"]))
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["email", "web", "store"]  # in the order the customer first used them
    assert [names[int(y)] for y in points[:, 1]] == tl["channel"].tolist()
    conv = _scatter(ax, "conversions").get_offsets()
    assert len(conv) == 1 and conv[0][0] == pytest.approx(date2num(tl["time"][3]))
    spans = [p for p in ax.patches if (p.get_gid() or "").startswith("journey:")]
    assert len(spans) == len(np.unique(tl["journey_id"])) == 2
    first = next(p for p in spans if p.get_gid() == f"journey:{tl['journey_id'][0]}")
    assert first.get_x() == pytest.approx(date2num(tl["time"][0]))
    assert first.get_x() + first.get_width() == pytest.approx(date2num(tl["time"][2]))
    # the outbound email is hollow
    faces = _scatter(ax, "touchpoints").get_facecolors()
    assert mpl.colors.same_color(faces[0], "white")


def test_timeline_from_a_timeline_table_with_several_customers(journeys):
    customers = journeys.journeys["customer"][:3].tolist()
    table = oj.journeys.timeline(journeys, customers)
    who = customers[1]
    ax = plot.timeline(table, who, spans=False, conversion_events=["purchase"])
    mine = table["customer"] == who
    assert len(_scatter(ax, "touchpoints").get_offsets()) == int(mine.sum())
    n_purchases = int((mine & (table["event"] == "purchase")).sum())
    assert len(_scatter(ax, "conversions").get_offsets()) == n_purchases
    assert not [p for p in ax.patches if (p.get_gid() or "").startswith("journey:")]


def test_timeline_refuses_unknown_customers(small):
    with pytest.raises(oj.ConfigError, match="unknown customer 'zz'"):
        plot.timeline(small, "zz")
    table = oj.journeys.timeline(small, ["a", "b"])
    with pytest.raises(oj.ConfigError, match="unknown customer 'c'"):
        plot.timeline(table, "c")
    with pytest.raises(oj.ConfigError, match="customer must be one id"):
        plot.timeline(small, ["a", "b"])
    with pytest.raises(oj.ConfigError, match="journeys must be the Table returned by"):
        plot.timeline(small.touchpoints, "a")


# --------------------------------------------------------------------------- prices


@pytest.fixture
def price_table() -> oj.pricing.PriceTable:
    return oj.pricing.PriceTable.from_columns(
        {
            "sku": ["A1", "A1", "A1", "A1", "B2"],
            "channel": ["web", "web", "web", "store", "web"],
            "price": [19.99, 14.99, 17.99, 19.99, 5.0],
            "valid_from": ["2024-05-01", "2024-05-10", "2024-05-20", "2024-05-01", "2024-05-01"],
            "valid_to": ["2024-05-10", "2024-05-15", None, None, "2024-06-01"],
        }
    )


def test_price_steps_are_the_interval_prices(price_table):
    ax = plot.prices(price_table, "A1", until="2024-06-01")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["store", "web"]
    web = lines["web"]
    assert web.get_gid() == "price:web"
    x, y = np.asarray(web.get_xdata(), dtype=float), np.asarray(web.get_ydata(), dtype=float)
    days = date2num(
        np.array(
            ["2024-05-01", "2024-05-10", "2024-05-15", "2024-05-20", "2024-06-01"],
            dtype="datetime64[us]",
        )
    )
    # 05-01..05-10 at 19.99, 05-10..05-15 at 14.99, a gap, 05-20..(open, until) at 17.99
    np.testing.assert_allclose(x[:4], [days[0], days[1], days[1], days[2]])
    np.testing.assert_allclose(y[:4], [19.99, 19.99, 14.99, 14.99])
    assert np.isnan(x[4]) and np.isnan(y[4])
    np.testing.assert_allclose(x[5:], [days[3], days[4]])
    np.testing.assert_allclose(y[5:], [17.99, 17.99])
    np.testing.assert_allclose(lines["store"].get_xdata(), [days[0], days[4]])
    np.testing.assert_allclose(lines["store"].get_ydata(), [19.99, 19.99])


def test_open_intervals_stop_at_the_end_of_the_data(price_table):
    ax = plot.prices(price_table, "A1", channels=["store"])
    (line,) = ax.get_lines()
    # the latest time in the table is B2's end, 2024-06-01
    assert line.get_xdata()[-1] == pytest.approx(date2num(np.datetime64("2024-06-01")))


def test_price_findings_are_shaded_where_they_apply(price_table):
    policy = oj.pricing.Policy(same_price_groups=[["web", "store"]])
    audit = oj.pricing.audit(price_table, policy=policy, as_of="2024-06-10")
    ax = plot.prices(price_table, "A1", audit)
    f = audit.findings
    mine = np.flatnonzero(f["sku"] == "A1")
    assert mine.size > 0
    shaded = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("finding:")}
    assert sorted(shaded) == sorted(f"finding:{i}" for i in mine)
    for i in mine.tolist():
        rect = shaded[f"finding:{i}"]
        end = f["end"][i] if not np.isnat(f["end"][i]) else audit.as_of
        assert rect.get_x() == pytest.approx(date2num(f["start"][i]))
        assert rect.get_x() + rect.get_width() == pytest.approx(date2num(end))
    # open intervals run to the audit's as_of
    store = next(line for line in ax.get_lines() if line.get_label() == "store")
    assert store.get_xdata()[-1] == pytest.approx(date2num(audit.as_of))
    assert "price differs between channels" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_prices_refuses_unknown_skus_and_channels(price_table):
    with pytest.raises(oj.ConfigError, match="unknown sku 'Z9'"):
        plot.prices(price_table, "Z9")
    with pytest.raises(oj.ConfigError, match="no price on channels"):
        plot.prices(price_table, "B2", channels=["store"])
    with pytest.raises(oj.ConfigError, match="findings must be the PriceAudit"):
        plot.prices(price_table, "A1", findings=["price_gap"])
    with pytest.raises(oj.ConfigError, match="table must be the Table returned by"):
        plot.prices({"sku": ["A1"]}, "A1")


def test_prices_of_a_synthetic_world():
    world = oj.synth.generate(n_customers=60, seed=2, records=False)
    table = oj.pricing.PriceTable.from_columns(world.prices.prices)
    sku = table["sku"][0]
    ax = plot.prices(table, sku)
    rows = table.filter(table["sku"] == sku)
    drawn = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()])
    drawn = drawn[~np.isnan(drawn)]
    assert drawn.size == 2 * len(rows)
    np.testing.assert_allclose(np.sort(drawn), np.sort(np.repeat(rows["price"], 2)))


# --------------------------------------------------------------------------- appetence


def test_appetence_bars_are_the_mean_shares(journeys):
    segments = oj.journeys.appetence(journeys)
    ax = plot.appetence(segments)
    groups = bars(ax)
    assert [g.get_label() for g in groups] == ["digital", "physical", "assisted"]
    names = [t.get_text() for t in ax.get_xticklabels()]
    order = [s for s in oj.journeys.APPETENCE_SEGMENTS if s in set(segments["segment"].tolist())]
    assert names == [plot.readable(x) for x in order]
    bottom = np.zeros(len(names))
    for group, column in zip(groups, ["digital_share", "physical_share", "assisted_share"]):
        expected = [segments[column][segments["segment"] == s].mean() for s in order]
        np.testing.assert_allclose([b.get_height() for b in group], expected)
        np.testing.assert_allclose([b.get_y() for b in group], bottom)
        bottom += np.array(expected)
    sizes = [f"n={int((segments['segment'] == s).sum()):,}" for s in order]
    assert sizes == [t.get_text() for t in ax.texts]


def test_appetence_by_another_column_and_horizontal(journeys):
    segments = oj.journeys.appetence(journeys)
    big = np.where(segments["n_touchpoints"] >= 10, "busy", "quiet")
    table = segments.with_column("activity", big)
    ax = plot.appetence(table, by="activity", orientation="horizontal", counts=False)
    digital = bars(ax)[0]
    expected = [segments["digital_share"][big == g].mean() for g in ["busy", "quiet"]]
    np.testing.assert_allclose([b.get_width() for b in digital], expected)


def test_appetence_refuses_other_tables(journeys):
    with pytest.raises(oj.ConfigError, match="segments must be the Table returned by"):
        plot.appetence(journeys)
    segments = oj.journeys.appetence(journeys)
    with pytest.raises(oj.ConfigError, match="by must be a column of segments, got 'tier'"):
        plot.appetence(segments, by="tier")
    with pytest.raises(oj.ConfigError, match="segments is empty"):
        plot.appetence(segments.head(0))

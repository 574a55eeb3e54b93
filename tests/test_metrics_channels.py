"""Harsanyi dividends by their definition, channel usefulness labels, and the multichannel
value against a pandas + numpy least-squares recipe."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import omnijourney as oj
from omnijourney import metrics as M
from omnijourney.attribution import PathTable, harsanyi_dividends, shapley_values
from omnijourney.errors import ConfigError, DataError


def _game_by_definition(pt: PathTable, value: str) -> dict[frozenset, float]:
    sets = [
        frozenset(pt.codes[pt.offsets[i] : pt.offsets[i + 1]].tolist()) for i in range(pt.n_paths)
    ]
    out = {}
    for r in range(pt.n_channels + 1):
        for coalition in itertools.combinations(range(pt.n_channels), r):
            c = frozenset(coalition)
            pick = [(s <= c) if value != "rate_exact" else (s == c) for s in sets]
            conv = sum(x for x, p in zip(pt.conversions, pick) if p)
            journeys = sum(x + y for x, y, p in zip(pt.conversions, pt.nulls, pick) if p)
            out[c] = conv if value == "subset" else (conv / journeys if journeys else 0.0)
    return out


@pytest.mark.parametrize("value", ["rate_subset", "rate_exact", "subset"])
def test_dividends_follow_their_definition(value: str) -> None:
    rng = np.random.default_rng(1)
    channels = ["a", "b", "c", "d"]
    paths = [" > ".join(rng.choice(channels, size=rng.integers(1, 4))) for _ in range(25)]
    pt = PathTable.from_strings(
        paths, conversions=rng.integers(0, 5, 25), nulls=rng.integers(0, 9, 25)
    ).aggregate()
    v = _game_by_definition(pt, value)
    d = harsanyi_dividends(pt, value=value)
    for mask in range(1, 1 << pt.n_channels):
        s = frozenset(k for k in range(pt.n_channels) if mask >> k & 1)
        expected = sum(
            (-1) ** (len(s) - r) * v[frozenset(t)]
            for r in range(len(s) + 1)
            for t in itertools.combinations(sorted(s), r)
        )
        assert d[mask] == pytest.approx(expected, abs=1e-12)
    # the Shapley value is the dividends shared equally among their members
    popcount = np.array([bin(m).count("1") for m in range(d.size)])
    phi = [
        sum(d[m] / popcount[m] for m in range(1, d.size) if m >> k & 1)
        for k in range(pt.n_channels)
    ]
    assert np.allclose(phi, shapley_values(pt, value=value))


def test_usefulness_labels() -> None:
    pt = PathTable.from_strings(
        ["search > store", "store", "search", "social", "email > search > store"],
        conversions=[40, 30, 10, 0, 20],
        nulls=[10, 30, 30, 200, 5],
    )
    res = M.channel_usefulness(pt, negligible=0.02, under_used=1.5)
    labels = res.labels()
    assert labels["social"] == "superfluous"  # no converting path uses it: removal effect 0
    t = res.table.to_pandas().set_index("channel")
    for channel, row in t.iterrows():  # the documented rule, label by label
        expected = (
            "superfluous"
            if row["removal_effect"] < 0.02
            else ("under-used" if not row["index"] < 1.5 else "useful")
        )
        assert labels[channel] == expected
    assert labels["email"] == "under-used"  # few touches, and removing it loses 20 of 100
    assert set(labels.values()) <= set(M.USEFULNESS_LABELS)
    assert res.table["touch_share"].sum() == pytest.approx(1.0)
    assert res.table["removal_share"].sum() == pytest.approx(1.0)
    with_cost = M.channel_usefulness(pt, cost={"search": 1.0, "store": 1.0, "email": 50.0})
    assert with_cost.basis == "cost" and with_cost.labels()["email"] == "useful"
    pair = res.synergies.to_pandas()
    top = pair[(pair["channel_a"] == "search") & (pair["channel_b"] == "store")]
    d = harsanyi_dividends(pt)
    k = {c: i for i, c in enumerate(pt.channels.tolist())}
    assert float(top["dividend"].iloc[0]) == pytest.approx(
        d[(1 << k["search"]) | (1 << k["store"])]
    )
    assert "search: " in res.summary()
    with pytest.raises(ConfigError, match="absent from the paths"):
        M.channel_usefulness(pt, cost={"tv": 1.0})
    with pytest.raises(ConfigError, match="needs a PathTable"):
        M.channel_usefulness(["a > b"])


def _multichannel_world(seed: int, uplift: float = 1.2) -> tuple[oj.JourneyTable, dict[str, str]]:
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("customer", "time", "channel", "event", "value")}
    segments = {}
    start = np.datetime64("2024-01-01T10:00", "us")
    for i in range(400):
        multi = i % 3 == 0
        segments[f"c{i}"] = (
            "multichannel" if multi else ("web_autonomous" if i % 2 else "store_relational")
        )
        n_journeys = rng.integers(1, 6) + (2 if multi else 0)  # multichannel customers do more
        days = np.sort(rng.choice(np.arange(0, 330), size=n_journeys, replace=False))
        for d in days:
            t = start + np.timedelta64(int(d), "D")
            ch = (
                ("web", "store")[int(rng.integers(0, 2))]
                if multi
                else ("web" if i % 2 else "store")
            )
            rows["customer"] += [f"c{i}", f"c{i}"]
            rows["time"] += [t, t + np.timedelta64(5, "m")]
            rows["channel"] += [ch, ch]
            rows["event"] += ["product_view", "purchase"]
            rows["value"] += [np.nan, float(rng.gamma(3.0, 20.0) * (uplift if multi else 1.0))]
    tp = oj.TouchpointTable.from_columns(
        {k: np.array(v, dtype="datetime64[us]" if k == "time" else None) for k, v in rows.items()}
    )
    return oj.sessionize(tp), segments


def test_multichannel_value_matches_a_least_squares_recipe() -> None:
    jt, segments = _multichannel_world(2)
    split = "2024-09-01"
    res = M.multichannel_value(
        jt, segments=segments, split=split, follow_up="120D", n_resamples=200
    )
    tp = jt.touchpoint_table().to_pandas(categorical=False)
    cut = pd.Timestamp(split, tz="UTC")
    before = tp[tp["time"] < cut]
    after = tp[(tp["time"] >= cut) & (tp["time"] < cut + pd.Timedelta(days=120))]
    buys = before[before["event"] == "purchase"]
    per = pd.DataFrame(
        {
            "spend": buys.groupby("customer")["value"].sum(),
            "frequency": buys.groupby("customer").size().astype(float),
        }
    )
    per["retention"] = per.index.isin(after[after["event"] == "purchase"]["customer"]).astype(float)
    per["tenure"] = (cut - before.groupby("customer")["time"].min()).dt.total_seconds() / 86400
    per["journeys"] = before.groupby("customer")["journey_id"].nunique()
    per["multi"] = [segments[c] == "multichannel" for c in per.index]
    x = np.column_stack(
        [np.ones(len(per)), per["multi"], np.log1p(per["tenure"]), np.log1p(per["journeys"])]
    )
    table = res.table.to_pandas().set_index("measure")
    for measure in M.MEASURES:
        y = per[measure].to_numpy()
        single = y[~per["multi"].to_numpy()].mean()
        beta = np.linalg.lstsq(x, y, rcond=None)[0]
        raw = y[per["multi"].to_numpy()].mean() / single - 1
        assert table.loc[measure, "raw"] == pytest.approx(raw)
        assert table.loc[measure, "adjusted"] == pytest.approx(beta[1] / single)
        assert table.loc[measure, "raw_low"] <= raw <= table.loc[measure, "raw_high"]
    # multichannel buyers spend more per order (1.2x) and have more journeys: the raw gap in
    # spend is larger than the gap at equal activity
    assert table.loc["spend", "raw"] > table.loc["spend", "adjusted"] > 0
    assert "the claimed +30%" in res.summary()
    lo, hi = res.interval("spend")
    assert lo <= table.loc["spend", "adjusted"] <= hi
    # matching: the same bins by pandas, strata weighted by their multichannel buyers
    per["t_bin"] = pd.cut(per["tenure"], [0, 30, 90, 180, 365, 730, np.inf], right=False)
    per["j_bin"] = pd.cut(per["journeys"], [1, 2, 3, 5, 9, 17, 33, np.inf], right=False)
    cells = per.groupby(["t_bin", "j_bin", "multi"], observed=True)
    for measure in M.MEASURES:
        means = cells[measure].mean().unstack("multi")
        sizes = cells.size().unstack("multi")
        both = sizes.notna().all(axis=1)
        w = sizes.loc[both, True]
        treated = (w * means.loc[both, True]).sum() / w.sum()
        peers = (w * means.loc[both, False]).sum() / w.sum()
        assert table.loc[measure, "matched"] == pytest.approx(treated / peers - 1)
        assert res.n_matched == int(w.sum())
    assert int(res.strata["multichannel"].sum()) == res.n_multichannel
    assert int(res.strata["single"].sum()) == res.n_single
    lo, hi = res.interval("spend", estimate="matched")
    assert lo <= table.loc["spend", "matched"] <= hi
    assert "against matched peers" in res.summary()


def test_matching_finds_no_gap_where_activity_explains_it_all() -> None:
    # multichannel customers have more journeys, each with one order of the same value
    # distribution as single-channel customers': the raw gaps are activity, and matched
    # on the exact number of journeys the gap in orders is exactly zero
    jt, segments = _multichannel_world(5, uplift=1.0)
    res = M.multichannel_value(
        jt,
        segments=segments,
        split="2024-09-01",
        follow_up="120D",
        journey_bins=(2, 3, 4, 5, 6, 7, 8),
        n_resamples=300,
    )
    table = res.table.to_pandas().set_index("measure")
    assert table.loc["spend", "raw_low"] > 0.2
    assert table.loc["frequency", "matched"] == pytest.approx(0.0, abs=1e-12)
    lo, hi = res.interval("spend", estimate="matched")
    assert lo < 0 < hi


def test_multichannel_value_bad_input() -> None:
    jt, segments = _multichannel_world(3)
    with pytest.raises(ConfigError, match="no segment 'omni'"):
        M.multichannel_value(jt, segments=segments, multichannel="omni")
    with pytest.raises(DataError, match="observation window before the split is empty"):
        M.multichannel_value(jt, segments=segments, split="2023-01-01")
    with pytest.raises(ConfigError, match="'tenure_bins' parameter"):
        M.multichannel_value(jt, segments=segments, tenure_bins=(90, 30))
    with pytest.raises(ConfigError, match="'estimate' parameter"):
        M.multichannel_value(jt, segments=segments, n_resamples=10).interval("spend", estimate="x")
    only_multi = {c: "multichannel" for c in segments}
    with pytest.raises(DataError, match="at least two buyers in each group"):
        M.multichannel_value(jt, segments=only_multi, n_resamples=10)

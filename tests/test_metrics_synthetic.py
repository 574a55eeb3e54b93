"""Synthetic control and synthetic DiD: weights on the simplex (exact against a generic solver),
recovery of an injected effect on stores, placebo inference, KPI tables as input, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

import omnijourney as oj
from omnijourney import metrics as M
from omnijourney.errors import ConfigError, DataError
from omnijourney.metrics._synthetic import simplex_least_squares


@pytest.mark.parametrize("seed", range(12))
def test_simplex_weights_are_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, t = int(rng.integers(2, 30)), int(rng.integers(2, 25))
    a, b = rng.normal(size=(t, n)), rng.normal(size=t)
    ridge = float(rng.choice([0.0, 0.1, 2.0]))
    w = simplex_least_squares(a, b, ridge)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)

    def f(x: np.ndarray) -> float:
        return float(((a @ x - b) ** 2).sum() + ridge * (x @ x))

    ref = minimize(
        f,
        np.full(n, 1 / n),
        method="SLSQP",
        bounds=[(0, 1)] * n,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 5000},
    )
    assert f(w) <= f(ref.x) + 1e-9


def store_panel(effect: float, seed: int, n_stores: int = 12, n_weeks: int = 30, start: int = 20):
    """Stores with their own level and a common seasonal path; store S01 (and S02 when asked)
    gains ``effect`` a week from week ``start`` on."""
    rng = np.random.default_rng(seed)
    level = rng.normal(200, 30, (n_stores, 1))
    season = 10 * np.sin(np.arange(n_weeks) / 4.0)
    trend = rng.normal(0.5, 0.2, (n_stores, 1)) * np.arange(n_weeks)
    y = level + season + trend + rng.normal(0, 2.0, (n_stores, n_weeks))
    y[0, start:] += effect
    rows = {
        "unit": np.repeat([f"S{i + 1:02d}" for i in range(n_stores)], n_weeks).astype(object),
        "period": np.tile([f"W{t:02d}" for t in range(n_weeks)], n_stores).astype(object),
        "value": y.ravel(),
    }
    return rows, y


@pytest.mark.parametrize("method", ["synthetic_did", "synthetic_control"])
def test_recovers_an_injected_effect(method: str) -> None:
    hits = 0
    for seed in range(8):
        rows, _ = store_panel(effect=15.0, seed=seed)
        res = M.synthetic_control(rows, "S01", "W20", method=method)
        hits += abs(res.estimate - 15.0) < 5.0
        assert res.unit_weights["weight"].sum() == pytest.approx(1.0)
        assert (res.unit_weights["weight"] >= 0).all()
        assert len(res.placebos) == 11
    assert hits >= 7


def test_no_effect_is_not_detected_and_an_effect_is() -> None:
    rows, _ = store_panel(effect=0.0, seed=3)
    null = M.synthetic_control(rows, "S01", "W20")
    assert null.low <= 0.0 <= null.high
    rows, _ = store_panel(effect=60.0, seed=3)
    big = M.synthetic_control(rows, "S01", "W20", method="synthetic_control")
    assert big.p_value == pytest.approx(1 / 12)  # the largest post/pre RMSPE ratio of all
    assert "placebo p-value 0.083" in big.summary()


def test_synthetic_did_estimate_is_the_weighted_double_difference() -> None:
    rows, y = store_panel(effect=10.0, seed=4)
    res = M.synthetic_control(rows, "S01", "W20")
    w = res.unit_weights["weight"]
    lam = res.time_weights["weight"]
    treated, controls = y[0], y[1:]
    expected = (treated[20:].mean() - lam @ treated[:20]) - (
        w @ controls[:, 20:].mean(axis=1) - w @ (controls[:, :20] @ lam)
    )
    assert res.estimate == pytest.approx(expected)
    assert res.gap[20:].mean() == pytest.approx(res.estimate)
    frame = res.to_pandas()
    assert list(frame.columns) == ["treated", "synthetic", "gap"] and len(frame) == 30


def test_several_treated_units_and_seeded_placebos() -> None:
    rows, _ = store_panel(effect=12.0, seed=5)
    rows["value"] = rows["value"] + np.where(
        rows["unit"] == "S02",
        np.where(np.char.greater_equal(rows["period"].astype(str), "W20"), 12.0, 0.0),
        0.0,
    )
    a = M.synthetic_control(rows, ["S01", "S02"], "W20", n_placebos=30, seed=1)
    b = M.synthetic_control(rows, ["S01", "S02"], "W20", n_placebos=30, seed=1)
    assert a.estimate == pytest.approx(12.0, abs=5.0)
    assert len(a.placebos) == 30 and a.std_error == b.std_error


def test_from_a_kpi_table_by_store() -> None:
    rng = np.random.default_rng(0)
    rows = {"customer": [], "time": [], "channel": [], "event": [], "value": [], "store": []}
    for week in range(12):
        for s in range(6):
            for k in range(20):
                rows["customer"].append(f"c{s}-{week}-{k}")
                rows["time"].append(
                    np.datetime64("2024-01-01") + np.timedelta64(7 * week + k % 7, "D")
                )
                rows["channel"].append("store")
                rows["event"].append("purchase")
                boost = 30.0 if (s == 0 and week >= 8) else 0.0
                rows["value"].append(float(100 + 10 * s + boost + rng.normal(0, 5)))
                rows["store"].append(f"S{s}")
    tp = oj.TouchpointTable.from_columns(rows, extra=["store"])
    k = M.kpis(oj.sessionize(tp), "basket", by="store", period="week")
    start = k.periods.labels[8]
    res = M.synthetic_control(k, "S0", start)
    assert res.estimate == pytest.approx(30.0, abs=6.0)


def test_bad_input() -> None:
    rows, _ = store_panel(effect=0.0, seed=0)
    with pytest.raises(ConfigError, match="no unit 'S99'"):
        M.synthetic_control(rows, "S99", "W20")
    with pytest.raises(ConfigError, match="no period 'W99'"):
        M.synthetic_control(rows, "S01", "W99")
    with pytest.raises(DataError, match="need a pre-period"):
        M.synthetic_control(rows, "S01", "W00")
    holes = dict(rows)
    holes["value"] = rows["value"].copy()
    holes["value"][5] = np.nan
    with pytest.raises(DataError, match="1 are missing or NaN"):
        M.synthetic_control(holes, "S01", "W20")
    two = {k: v[np.isin(rows["unit"], ["S01", "S02"])] for k, v in rows.items()}
    with pytest.raises(ConfigError, match="at least two control units"):
        M.synthetic_control(two, "S01", "W20")
    with pytest.raises(ConfigError, match="'method' parameter"):
        M.synthetic_control(rows, "S01", "W20", method="augmented")

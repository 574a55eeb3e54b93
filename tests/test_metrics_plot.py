"""Figures of measurement results: what is drawn matches the result, and bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import omnijourney.plot
from metrics_world import spend_panel
from omnijourney import metrics as M
from omnijourney.errors import ConfigError


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


def test_difference_in_differences_figure() -> None:
    res = M.compare(spend_panel(300, 5.0, seed=1), "spend", n_resamples=100)
    ax = omnijourney.plot.comparison(res)
    treated, _control, counter = ax.lines[:3]
    cells = res.cells
    tb = cells["value"][(cells["group"] == "test") & (cells["period"] == "before")][0]
    assert treated.get_ydata()[0] == pytest.approx(tb)
    # the counterfactual plus the effect is the treated group's after value
    ta = cells["value"][(cells["group"] == "test") & (cells["period"] == "after")][0]
    assert counter.get_ydata()[1] + res.estimate == pytest.approx(ta)


@pytest.mark.parametrize("design", ["before_after", "test_control"])
def test_other_designs_draw(design: str) -> None:
    rows = spend_panel(200, 5.0, seed=2)
    if design == "before_after":
        rows = {k: v for k, v in rows.items() if k != "group"}
        res = M.compare(rows, "spend", n_resamples=50)
    else:
        res = M.compare(rows, "spend", after="after", n_resamples=50)
    ax = omnijourney.plot.comparison(res)
    assert len(ax.containers) == 1


def test_lift_rows_and_synthetic_control_path() -> None:
    rows = spend_panel(200, 5.0, seed=3)
    a = M.compare(rows, "spend", after="after", n_resamples=50)
    ax = omnijourney.plot.lift([a, a], labels=["spend", "again"], relative=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["spend", "again"]
    rng = np.random.default_rng(0)
    y = rng.normal(100, 5, (5, 10)) + np.arange(10)
    panel = {
        "unit": np.repeat([f"s{i}" for i in range(5)], 10).astype(object),
        "period": np.tile([f"t{j}" for j in range(10)], 5).astype(object),
        "value": y.ravel(),
    }
    sc = M.synthetic_control(panel, "s0", "t7")
    ax = omnijourney.plot.synthetic_control(sc)
    assert np.allclose(ax.lines[0].get_ydata(), sc.treated_outcome)
    assert np.allclose(ax.lines[1].get_ydata(), sc.synthetic_outcome)


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="must be a Comparison"):
        omnijourney.plot.comparison("not a result")
    with pytest.raises(ConfigError, match="no result"):
        omnijourney.plot.lift([])
    res = M.compare(spend_panel(100, 1.0, seed=0), "spend", n_resamples=20)
    with pytest.raises(ConfigError, match="2 labels for 1 results"):
        omnijourney.plot.lift(res, labels=["a", "b"])
    with pytest.raises(ConfigError, match="must be a SyntheticControl"):
        omnijourney.plot.synthetic_control(res)

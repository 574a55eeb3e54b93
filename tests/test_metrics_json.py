"""Measurement results read back from JSON equal the results written, NaN values included."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from metrics_world import PERIODS, spend_panel, touchpoints
from omnijourney import metrics as M
from omnijourney.attribution import PathTable
from test_metrics_channels import _multichannel_world
from test_metrics_synthetic import store_panel


@pytest.fixture(scope="module")
def journeys_and_groups():
    table, groups = touchpoints(150, uplift=0.1, seed=4)
    return oj.sessionize(table), groups


def _results(journeys_and_groups) -> list:
    jt, groups = journeys_and_groups
    assignment = M.assign_holdout(sorted(groups), share=0.2, strata=groups)
    kpi_table = M.kpis(jt, ["conversion", "basket", "visits"], by="channel")
    comparison = M.compare(spend_panel(300, effect=5.0, seed=1), "spend", n_resamples=50)
    cuped = M.compare(
        spend_panel(300, effect=5.0, seed=2),
        "spend",
        before="before",
        after="after",
        covariate="before",
        n_resamples=50,
        method="bca",
    )
    lift = M.lift(jt, "conversion", assignment, period=PERIODS, after="after", n_resamples=50)
    mc_journeys, segments = _multichannel_world(2)
    value = M.multichannel_value(
        mc_journeys, segments=segments, split="2024-09-01", follow_up="120D", n_resamples=50
    )
    paths = PathTable.from_strings(
        ["search > store", "store", "search", "email > search > store"],
        conversions=[40, 30, 10, 20],
        nulls=[10, 30, 30, 5],
    )
    usefulness = M.channel_usefulness(paths)
    with pytest.warns(oj.OmnijourneyWarning, match="neither a direction nor a campaign"):
        contaminated = M.contamination(jt, assignment)
    synthetic = M.synthetic_control(store_panel(3.0, seed=1)[0], "S01", "W20", n_placebos=20)
    return [
        kpi_table,
        kpi_table.periods,
        comparison,
        cuped,
        lift,
        assignment,
        contaminated,
        value,
        usefulness,
        synthetic,
        M.report_section(comparison),
        M.KPIS["basket"],
    ]


def test_every_result_round_trips_through_json(journeys_and_groups) -> None:
    for result in _results(journeys_and_groups):
        back = oj.from_json(oj.to_json(result), type(result))
        assert back == result, type(result).__name__
        assert back.summary() == result.summary() if hasattr(result, "summary") else True


def test_equality_sees_a_changed_value(journeys_and_groups) -> None:
    import attrs

    comparison = _results(journeys_and_groups)[2]
    assert attrs.evolve(comparison, estimate=comparison.estimate + 1) != comparison
    assert attrs.evolve(comparison, replicates=comparison.replicates + 1) != comparison
    nan = attrs.evolve(comparison, relative=float("nan"))
    assert oj.from_json(oj.to_json(nan), M.Comparison) == nan
    # a seed given as a Generator is not kept: the JSON holds what can be read back
    drawn = M.compare(
        spend_panel(100, effect=1.0, seed=3), "spend", n_resamples=20, seed=np.random.default_rng(1)
    )
    assert drawn.seed is None
    assert oj.from_json(oj.to_json(drawn), M.Comparison) == drawn

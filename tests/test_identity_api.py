"""The API style of identity: results with summary() and to_pandas(), one randomness
convention, one explanation API, modules that depend on the result and not the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.identity import (
    CustomerRecordTable,
    FellegiSunterModel,
    ResolutionRules,
    explain_pair,
    quality_report,
    resolve,
)

IDENTITY = Path(oj.__file__).parent / "identity"


@pytest.fixture(scope="module")
def resolution():
    world = oj.synth.generate(150, seed=5, prices=False, touchpoints_per_customer=1)
    return resolve(CustomerRecordTable.from_columns(world.records, extra=["true_person_id"]))


def _imports(module: str) -> set[str]:
    tree = ast.parse((IDENTITY / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("module", ["_explain", "_golden", "_quality", "_link"])
def test_capabilities_read_the_result_not_the_pipeline(module):
    found = _imports(module)
    assert "omnijourney.identity._resolve" not in found
    assert not {"omnijourney.identity._state", "omnijourney.identity._links"} & found


def test_the_result_module_imports_no_capability_at_load():
    tree = ast.parse((IDENTITY / "_resolution.py").read_text())
    top = {
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("omni")
    }
    assert top <= {
        "omnijourney.identity._fellegi_sunter",
        "omnijourney.identity._incremental",
        # the tombstones and the erasure report are part of the result
        "omnijourney.identity._privacy",
        "omnijourney.identity._records",
        "omnijourney.identity._rules",
        "omnijourney.tables",
    }


def test_summaries_are_text(resolution):
    assert isinstance(resolution.summary(), str)
    assert isinstance(resolution.model.summary(), str)
    assert resolution.model.summary().startswith("Fellegi-Sunter model: prior")
    report = quality_report(resolution)
    assert isinstance(report.summary(), str)
    assert report.summary().splitlines()[0] == repr(report)
    k = int(np.flatnonzero(resolution.link == 2)[0])
    exp = explain_pair(resolution, int(resolution.pair_left[k]), int(resolution.pair_right[k]))
    assert exp.summary() == exp.text == str(exp)


def test_model_levels_are_the_table_the_summary_prints(resolution):
    levels = resolution.model.levels()
    lines = resolution.model.summary().splitlines()[1:]
    assert len(lines) == len(levels)
    for i, line in enumerate(lines):
        row = levels.row(i)
        assert line.split()[:2] == [row["comparison"], row["level"]]
        assert f"{row['weight']:+6.2f}" in line


def test_assignments_are_aligned_with_the_records(resolution):
    table = resolution.assignments()
    assert len(table) == resolution.n_records
    assert np.array_equal(table["person_id"], resolution.person_id)
    assert np.array_equal(table["household_id"], resolution.household_id)
    assert table["source"].tolist() == resolution.records["source"].tolist()


def test_to_pandas_of_every_result(resolution):
    pd = pytest.importorskip("pandas")
    frame = resolution.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert frame["person_id"].tolist() == resolution.person_id.tolist()
    assert len(resolution.model.to_pandas()) == len(resolution.model.levels())
    assert len(quality_report(resolution).to_pandas()) == len(quality_report(resolution).fields)
    k = int(np.flatnonzero(resolution.link == 2)[0])
    exp = explain_pair(resolution, int(resolution.pair_left[k]), int(resolution.pair_right[k]))
    assert len(exp.to_pandas()) == len(exp.table)


def test_seed_takes_an_integer_or_a_generator(resolution):
    records = resolution.records
    a = resolve(records, ResolutionRules(seed=np.random.default_rng(7)))
    # a Generator is drawn from once: the integer it gave seeds the run and is kept
    drawn = int(np.random.default_rng(7).integers(2**62))
    assert a.rules.seed == drawn
    b = resolve(records, ResolutionRules(seed=drawn))
    assert np.array_equal(a.person_id, b.person_id)
    assert a.model == b.model
    # and the resolution still writes to JSON
    assert oj.from_json(oj.to_json(a.rules), ResolutionRules) == a.rules
    with pytest.raises(oj.ConfigError, match="'seed'"):
        ResolutionRules(seed=-1)


def test_models_keep_their_term_frequency_priors_through_json(resolution):
    model = resolution.model
    assert any(p for p in model.tf_priors)
    assert oj.from_json(oj.to_json(model), FellegiSunterModel) == model

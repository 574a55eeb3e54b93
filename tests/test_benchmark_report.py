"""benchmarks/report.py renders the benchmark page from result files, without running anything."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
report = importlib.import_module("report")

MACHINE = {
    "date": "2025-03-01T12:00:00+00:00",
    "python": "3.12.1",
    "platform": "Linux-x86_64",
    "cpu_count": 8,
    "load_average": [0.5, 0.4, 0.3],
    "versions": {"omnijourney": "0.1.0", "numpy": "2.0.0", "pandas": None},
    "git": "abc1234",
}


def row(case: str, tool: str, size: int | None, wall: float, **report_: Any) -> dict[str, Any]:
    return {
        "case": case,
        "tool": tool,
        "size": size,
        "unit": "touchpoints" if size else "",
        "repeats": 1,
        "wall_s": [wall],
        "wall_s_median": wall,
        "peak_rss_mib": 900.0,
        "rss_before_mib": 300.0,
        "rss_increment_mib": 600.0,
        "report": report_,
    }


def write(folder: Path, name: str, rows: list[dict[str, Any]], **extra: Any) -> None:
    doc = {"benchmark": name, "scale": 1.0, "seed": report.SEED, "machine": MACHINE}
    doc |= extra | {"results": rows}
    (folder / f"{name}.json").write_text(json.dumps(doc), "utf-8")


@pytest.fixture
def page(tmp_path: Path) -> str:
    """The page for fake results of two benchmarks, and a third benchmark never run."""
    results, benches = tmp_path / "results", tmp_path / "bench"
    results.mkdir()
    benches.mkdir()
    for name, doc in {
        "journeys": "Sessionization against ``pandas``.\n\n- ``sessionize``: cut journeys.",
        "import": "Import time.",
        "identity": "Identity merging.",
    }.items():
        (benches / f"bench_{name}.py").write_text(f'"""{doc}"""\n', "utf-8")
    n = 10**7
    write(
        results,
        "journeys",
        [
            row("sessionize", "omnijourney", n, 2.0, journeys=12),
            row("sessionize", "pandas", n, 10.0, journeys=12),
            row("sessionize", "retentioneering", n, 10.0),
            {"case": "sessionize", "tool": "polars", "size": n, "unit": "touchpoints"}
            | {"skipped": "pip install polars"},
        ],
    )
    write(
        results,
        "import",
        [
            row("import", "omnijourney", None, 0.2),
            row("import", "numpy+scipy+attrs+cattrs", None, 0.1),
        ],
        scale=0.5,
        seed=7,
    )
    return report.render(results, benches)


def section(page: str, anchor: str) -> str:
    start = page.index(f"{{ #{anchor} }}")
    end = page.find("\n## ", start)
    return page[start : end if end > 0 else None]


def test_page_says_how_it_is_made(page: str) -> None:
    assert page.startswith("# Benchmarks\n")
    assert "`python benchmarks/report.py` after `python benchmarks/run.py all`" in page
    assert "fresh Python process" in page and "median" in page and "+RSS" in page


def test_each_section_has_title_sentence_and_command(page: str) -> None:
    journeys = section(page, "journeys")
    assert journeys.startswith("{ #journeys }\n\nSessionization against `pandas`.\n")
    assert "\n    - `sessionize`: cut journeys.\n" in journeys  # the rest, collapsed
    assert "```bash\npython benchmarks/run.py journeys\n```" in journeys
    imports = section(page, "import")
    assert "```bash\npython benchmarks/run.py import --scale 0.5 --seed 7\n```" in imports
    assert "Measured on 2025-03-01 at revision abc1234. Python 3.12.1" in imports
    assert "8 CPUs, Linux-x86_64; load average 0.5 at start." in imports


def test_table_has_one_line_per_result(page: str) -> None:
    journeys = section(page, "journeys")
    assert "\n".join(report.HEADER) in journeys
    assert (
        "| sessionize | 10^7 touchpoints | omnijourney | 2.000 | - | 900 | 600 | - | journeys=12 |"
        in journeys
    )
    assert (
        "| sessionize | 10^7 touchpoints | pandas | 10.000 | - | 900 | 600 | 5 | journeys=12 |"
        in journeys
    )
    assert "| sessionize | 10^7 touchpoints | polars | skipped (pip install polars) |" in journeys


def test_targets_are_computed_from_the_results(page: str) -> None:
    journeys = section(page, "journeys").split("### Targets", 1)[1]
    assert (
        "| sessionize at least 5x faster than the pandas recipe at 10^7 touchpoints | 5x | met |"
        in journeys
    )
    assert "10x faster than retentioneering at 10^7 touchpoints | 5x | not met |" in journeys
    assert "follow-ups of 10^7 touchpoints under 2 s | - | not measured |" in journeys
    imports = section(page, "import").split("### Targets", 1)[1]
    assert "| 2x | not met |" in imports
    n_journey_targets = len(report.TARGETS["journeys"])
    assert f"| [Sessionization](#journeys) | 2025-03-01 | 1 of {n_journey_targets} |" in page


def test_missing_results_show_as_not_run_yet(page: str) -> None:
    identity = section(page, "identity")
    assert "Not run yet: `python benchmarks/run.py identity` measures it." in identity
    assert "| [Identity merging](#identity) | not run yet |" in page


def test_check_mode_compares_the_page(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    write(results, "import", [row("import", "omnijourney", None, 0.2)])
    out = tmp_path / "benchmarks.md"
    args = ["--results", str(results), "--out", str(out)]
    assert report.main([*args, "--check"]) == 1
    assert report.main(args) == 0
    assert report.main([*args, "--check"]) == 0
    assert "| import | - | omnijourney | 0.200 |" in out.read_text("utf-8")


def test_targets_name_existing_cases_and_known_metrics() -> None:
    for name, targets in report.TARGETS.items():
        if not targets:
            continue
        cases = importlib.import_module(f"bench_{name}").CASES
        for text, case, size, metric, op, _limit in targets:
            sizes = {c.size for c in cases if c.case == case}
            assert sizes, f"{name}: {text!r} names an unknown case {case!r}"
            assert size is None or size in sizes, f"{name}: no {case!r} case of size {size}"
            assert op in ("<=", ">="), text
            assert metric in ("wall s", "peak RSS MiB", "+RSS MiB") or metric.startswith(
                ("speedup over ", "time relative to ", "report ")
            ), text
            if metric.startswith("time relative to case "):
                other = metric.removeprefix("time relative to case ")
                assert any(c.case == other and c.size == size for c in cases), text


def test_repeated_runs_show_their_range_and_cpu_time(tmp_path: Path) -> None:
    results, benches = tmp_path / "results", tmp_path / "bench"
    results.mkdir()
    benches.mkdir()
    (benches / "bench_journeys.py").write_text('"""Sessionization."""\n', "utf-8")
    ours = row("sessionize", "omnijourney", 10**7, 2.0) | {
        "wall_s": [1.9, 2.0, 2.5],
        "cpu_s_median": 1.25,
    }
    peer = row("sessionize", "pandas", 10**7, 10.0) | {"wall_s": [9.5, 10.0, 12.0]}
    write(results, "journeys", [ours, peer])
    journeys = section(report.render(results, benches), "journeys")
    assert "| omnijourney | 2.000 (1.900-2.500) | 1.250 | 900 | 600 | - |" in journeys
    # the ratio's range: the peer's fastest over our slowest, its slowest over our fastest
    assert "| pandas | 10.000 (9.500-12.000) | - | 900 | 600 | 5 (3.8-6.32) |" in journeys

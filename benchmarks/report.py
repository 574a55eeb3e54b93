"""Render the benchmark page of the documentation from the saved results.

    python benchmarks/run.py all        # measure: writes results/<name>.json
    python benchmarks/report.py         # write docs/benchmarks.md from results/*.json
    python benchmarks/report.py --check # exit 1 if docs/benchmarks.md is not up to date

The page has one section per benchmark: what it compares (the first sentence of the
``bench_<name>.py`` docstring, the rest in a collapsed block), the command that produced the
table, the table, the machine it was measured on, and the project's targets with met / not
met computed from the results. The targets are the ``TARGETS`` dict below. Only the standard
library is used.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _endtoend_table  # noqa: E402
from run import (  # noqa: E402
    SEED,
    annotate,
    fmt_notes,
    fmt_num,
    fmt_ratio,
    fmt_report,
    fmt_size,
    machine_line,
)

RESULTS = HERE / "results"
PAGE = HERE.parent / "docs" / "benchmarks.md"

#: Section titles, in page order; benchmarks not listed here follow in name order.
TITLES = {
    "import": "Import",
    "tables": "Touchpoint tables",
    "synth": "Synthetic world",
    "journeys": "Sessionization",
    "spark": "Sessionization on Spark",
    "paths": "Variants and directly-follows graph",
    "lifecycle": "RFM and BG/NBD",
    "identity": "Identity merging",
    "attribution": "Channel attribution",
    "pricing": "Price audit",
    "pricing_accuracy": "Price audit accuracy",
    "metrics": "Measurement",
    "endtoend": "End to end against the synthetic truth",
}

#: The finding kinds of the price audit, in its order (oj.pricing.RULES).
PRICE_FINDING_KINDS = (
    "price_gap", "channel_pair_gap", "overlapping_prices", "coverage_hole", "stale_price",
    "below_map", "promotion_without_price", "promo_not_mirrored", "promo_not_applied",
    "promo_not_below_regular", "promo_not_below_prior", "prior_price_reference",
    "prior_price_percentage", "prior_price_short_history", "overlapping_promotions",
    "stock_shown_unavailable", "negative_stock", "impossible_stock", "stock_mismatch",
)  # fmt: skip

# The project's targets: benchmark -> (target, case, size, metric, comparison, limit).
# ``size`` None checks every size of the case. Metrics, all read from omnijourney's row:
#   "wall s"              median wall time, in seconds
#   "peak RSS MiB"        peak resident memory of the measured section
#   "+RSS MiB"            that peak minus the memory just before the measured section
#   "time relative to case CASE"  omnijourney's wall time / its wall time in CASE (same size)
#   "speedup over TOOL"   TOOL's wall time / omnijourney's (the table's time peer/omnijourney)
#   "time relative to TOOL"  omnijourney's wall time / TOOL's
#   "report KEY"          a figure of the case's report (bytes_per_row...)
TARGETS: dict[str, list[tuple[str, str, int | None, str, str, float]]] = {
    "import": [
        (
            "`import omnijourney` takes about as long as `import numpy, scipy, attrs, cattrs`"
            " (at most 1.25 times)",
            "import", None, "time relative to numpy+scipy+attrs+cattrs", "<=", 1.25,
        ),
    ],
    "tables": [
        (
            "a touchpoint takes about 15-20 bytes in a table (at most 20)",
            "build", None, "report bytes_per_row", "<=", 20,
        ),
    ],
    "synth": [
        (
            "10^7 touchpoints generated in seconds (under 10 s)",
            "touchpoints", 10**7, "wall s", "<=", 10,
        ),
        (
            "the realistic world of 10^6 touchpoints (records and observed rows) under 3 s",
            "realistic", 10**6, "wall s", "<=", 3,
        ),
    ],
    "journeys": [
        (
            "sessionize at least 5x faster than the pandas recipe at 10^7 touchpoints",
            "sessionize", 10**7, "speedup over pandas", ">=", 5,
        ),
        (
            "... and with 15 touchpoints per customer",
            "sessionize_15", 10**7, "speedup over pandas", ">=", 5,
        ),
        (
            "sessionize at least 10x faster than retentioneering at 10^7 touchpoints",
            "sessionize", 10**7, "speedup over retentioneering", ">=", 10,
        ),
        (
            "breaks, segments, a funnel and follow-ups of 10^7 touchpoints under 2 s",
            "breaks_segments_funnel", 10**7, "wall s", "<=", 2,
        ),
        (
            "raw arrays -> journeys -> variants -> breaks -> segments for 10^7 touchpoints"
            " under 4 s",
            "pipeline", 10**7, "wall s", "<=", 4,
        ),
        (
            "... and under 1.5 GiB peak",
            "pipeline", 10**7, "peak RSS MiB", "<=", 1536,
        ),
        (
            "sessionize 10^7 touchpoints in random order within 3x the time of the same rows"
            " already sorted",
            "sessionize_table", 10**7, "time relative to case sessionize_sorted", "<=", 3,
        ),
        (
            "... and with 15 touchpoints per customer",
            "sessionize_table_15", 10**7, "time relative to case sessionize_sorted_15", "<=", 3,
        ),
        (
            "sessionize 10^7 touchpoints in random order in about 1.5 s (at most 2 s)",
            "sessionize_table", 10**7, "wall s", "<=", 2,
        ),
        (
            "... needing at most 400 MiB more memory than its input",
            "sessionize_table", 10**7, "+RSS MiB", "<=", 400,
        ),
        (
            "... and with 15 touchpoints per customer",
            "sessionize_table_15", 10**7, "+RSS MiB", "<=", 400,
        ),
        (
            "... with a peak RSS under 600 MiB, the input table included",
            "sessionize_table", 10**7, "peak RSS MiB", "<=", 600,
        ),
    ],
    "paths": [
        (
            "variants and directly-follows graph at least 40x faster than pm4py at 10^7"
            " touchpoints",
            "variants_dfg", 10**7, "speedup over pm4py", ">=", 40,
        ),
        (
            "variants and directly-follows graph of 10^7 touchpoints under 1 s",
            "variants_dfg", 10**7, "wall s", "<=", 1,
        ),
    ],
    "lifecycle": [
        (
            "BG/NBD fit on 10^5 customers under 1 s",
            "bgnbd_fit", 10**5, "wall s", "<=", 1,
        ),
    ],
    "identity": [
        (
            "FEBRL4 pairwise F1 with default rules within 0.2 points of splink's published 0.9986"
            " (at least 0.9966)",
            "febrl4", 10_000, "report f1", ">=", 0.9966,
        ),
        (
            "FEBRL3 pairwise F1 with default rules at least 0.99 (splink 0.9916 pairwise)",
            "febrl3", 5_000, "report f1", ">=", 0.99,
        ),
        ("FEBRL4 end-to-end under 1 s", "febrl4", 10_000, "wall s", "<=", 1),
        (
            "10^6 synthetic records at least 5x faster than splink",
            "synthetic", 10**6, "speedup over splink", ">=", 5,
        ),
        (
            "... with person precision of at least 0.95",
            "synthetic", 10**6, "report person_p", ">=", 0.95,
        ),
        (
            "... and person recall of at least 0.95",
            "synthetic", 10**6, "report person_r", ">=", 0.95,
        ),
        (
            "household F1 of at least 0.90 at 10^6 records",
            "synthetic", 10**6, "report household_f1", ">=", 0.90,
        ),
        ("normalization of 10^6 records under 3 s", "normalize", 10**6, "wall s", "<=", 3),
    ],
    "attribution": [
        (
            "order-1 Markov on 10^4 paths at least 2.5x faster than ChannelAttribution",
            "markov_o1", 10_000, "speedup over ChannelAttribution", ">=", 2.5,
        ),
        ("order-1 Markov on 10^4 paths under 15 ms", "markov_o1", 10_000, "wall s", "<=", 0.015),
        (
            "order-3 Markov on 10^4 paths at least 5x faster than ChannelAttribution",
            "markov_o3", 10_000, "speedup over ChannelAttribution", ">=", 5,
        ),
        ("order-3 Markov on 10^4 paths under 25 ms", "markov_o3", 10_000, "wall s", "<=", 0.025),
        (
            "order-1 Markov on 750,000 paths from strings under 1.5 s",
            "markov_o1", 750_000, "wall s", "<=", 1.5,
        ),
        (
            "order-1 Markov on 750,000 paths from codes under 0.3 s",
            "markov_o1_codes", 750_000, "wall s", "<=", 0.3,
        ),
        (
            "order-3 Markov on 750,000 paths under 2.5 s",
            "markov_o3", 750_000, "wall s", "<=", 2.5,
        ),
        ("exact Shapley over 12 channels under 15 ms", "shapley", 10_000, "wall s", "<=", 0.015),
        (
            "exact Shapley over 20 channels under 2 s",
            "shapley_20", 100_000, "wall s", "<=", 2,
        ),
        (
            "path table, every model and channel roles from 10^7 touchpoints under 3 s",
            "pipeline", 10**7, "wall s", "<=", 3,
        ),
    ],
    "pricing": [
        (
            "audit of 6.5 million intervals under 5 s",
            "audit", 6_500_000, "wall s", "<=", 5,
        ),
        (
            "audit of 6.5 million intervals under 1 GiB",
            "audit", 6_500_000, "peak RSS MiB", "<=", 1024,
        ),
        (
            "audit of 6.5 million intervals at least 5x faster than the pandas recipe",
            "audit", 6_500_000, "speedup over pandas", ">=", 5,
        ),
        ("audit of 10^7 intervals under 10 s", "audit", 10**7, "wall s", "<=", 10),
    ],
    "metrics": [
        ("KPIs of 10^7 touchpoints under 1 s", "kpis", 10**7, "wall s", "<=", 1),
        (
            "KPIs at least 5x faster than the pandas recipe at 10^7 touchpoints",
            "kpis", 10**7, "speedup over pandas", ">=", 5,
        ),
        (
            "a 1,000-resample customer bootstrap of a DiD over 10^6 customers under 10 s",
            "bootstrap_did", 10**6, "wall s", "<=", 10,
        ),
        ("... and under 1 GiB peak", "bootstrap_did", 10**6, "peak RSS MiB", "<=", 1024),
        (
            "95% DiD intervals cover the injected effect at least 93% of the time (400 seeds)",
            "coverage", 400, "report cover_did_pct", ">=", 93,
        ),
        ("... and at most 97%", "coverage", 400, "report cover_did_pct", "<=", 97),
        (
            "... over 50,000 customers too: at least 93%",
            "coverage", 400, "report cover_did_large_pct", ">=", 93,
        ),
        ("... and at most 97%", "coverage", 400, "report cover_did_large_pct", "<=", 97),
        (
            "... and with Poisson counts: at least 93%",
            "coverage", 400, "report cover_did_poisson_pct", ">=", 93,
        ),
        ("... and at most 97%", "coverage", 400, "report cover_did_poisson_pct", "<=", 97),
    ],
    "pricing_accuracy": [
        (f"`{kind}`: {what} at least 90 % at the default settings", "audit_stories", None,
         f"report {kind}_{key}", ">=", 90)
        for kind in PRICE_FINDING_KINDS
        for what, key in (("precision", "p"), ("recall", "r"))
    ],
    "endtoend": [
        (
            "realistic world, from raw data: person F1 of the records at least 97%",
            "pipeline_realistic",
            10_000,
            "report person_f1",
            ">=",
            97,
        ),
        (
            "... journey (episode) pairwise F1 at least 90% on the rows keys can link",
            "pipeline_realistic",
            10_000,
            "report journey_linkable_f1",
            ">=",
            90,
        ),
        (
            "... break precision at least 90% for every kind",
            "pipeline_realistic",
            10_000,
            "report break_min_p",
            ">=",
            90,
        ),
        (
            "... break recall at least 90% on linkable breaks, for every kind",
            "pipeline_realistic",
            10_000,
            "report break_min_rl",
            ">=",
            90,
        ),
        (
            "raw data to scaled attribution, 10^6 touchpoints and 10^5 records, under 10 s",
            "speed",
            10**6,
            "wall s",
            "<=",
            10,
        ),
        (
            "... 10^7 touchpoints and 10^6 records under 90 s",
            "speed",
            10**7,
            "wall s",
            "<=",
            90,
        ),
        ("... and under 4 GiB", "speed", 10**7, "peak RSS MiB", "<=", 4096),
    ],
}  # fmt: skip

OURS = "omnijourney"
HEADER = (
    "| case | size | tool | wall s | CPU s | peak RSS MiB | +RSS MiB | time peer/omnijourney "
    "| notes |",
    "|---|---|---|--:|--:|--:|--:|--:|---|",
)

INTRO = """\
# Benchmarks

<!-- Generated by `python benchmarks/report.py` from benchmarks/results/*.json: do not edit. -->

Each benchmark runs omnijourney and the tool a user would otherwise reach for (the *peer*: a
pandas recipe, polars, pm4py, retentioneering, lifetimes, splink, recordlinkage,
ChannelAttribution...) on the same generated data, and reports time, memory and their ratio.
This page is generated by `python benchmarks/report.py` after `python benchmarks/run.py all`;
every number on it comes from the result files `benchmarks/results/<name>.json` that
`benchmarks/run.py` writes, and can be measured again with the command given under each table.

How a case is measured:

- every run of every case is a **fresh Python process**: the setup (imports, data generation,
  tables the case starts from) is not timed, freed memory is handed back to the system, then
  the measured code runs once;
- **wall s** is the median wall time of the measured code over the runs (3 by default; 1 for
  cases of 10^7 rows and for the slowest peers, 7 for imports), followed by the range
  (fastest-slowest run) when there were several runs;
- **CPU s** is the median processor time (user and system) of the measured code: on a shared,
  busy machine the wall time grows with the load while the processor time barely moves, so
  it tells noise from a regression;
- **peak RSS MiB** is the peak resident memory of the process during the measured code (the
  largest over the runs; it includes the interpreter, the libraries and the input data), and
  **+RSS MiB** its increment: that peak minus the memory just before the measured code, what
  the operation itself needed;
- **time peer/omnijourney** is the peer's wall time divided by omnijourney's (medians): above
  1, omnijourney is faster; in brackets, its range over the runs (the peer's fastest run over
  omnijourney's slowest, and the peer's slowest over omnijourney's fastest);
- **notes** are what the case reports: `same answer` when every tool produced the same digest
  of its result, the sizes of the answers, their errors against an exact solution.

Timings depend on the machine and on its load: each section gives the machine line of its run
(Python and library versions, CPUs, platform, load average at the start). Ratios measured side
by side in one run compare better than absolute times. `benchmarks/README.md` describes the
harness in detail.
"""


# --------------------------------------------------------------------------- reading


def load_results(results: Path) -> dict[str, dict[str, Any]]:
    """``name -> document`` for every ``<name>.json`` of a results folder."""
    docs = {}
    for path in sorted(results.glob("*.json")):
        doc = json.loads(path.read_text("utf-8"))
        annotate(doc["results"])
        docs[doc.get("benchmark", path.stem)] = doc
    return docs


def bench_docstrings(bench_dir: Path) -> dict[str, str]:
    """``name -> module docstring`` of every ``bench_<name>.py``, read without importing it."""
    out = {}
    for path in sorted(bench_dir.glob("bench_*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        out[path.stem.removeprefix("bench_")] = ast.get_docstring(tree) or ""
    return out


def markdown_text(rst: str) -> str:
    """Docstring text as Markdown: ``code`` becomes `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", rst, flags=re.DOTALL)


def split_docstring(doc: str) -> tuple[str, str]:
    """The first paragraph on one line, and the rest."""
    paragraphs = doc.strip().split("\n\n", 1)
    first = " ".join(line.strip() for line in paragraphs[0].splitlines())
    rest = paragraphs[1].strip("\n") if len(paragraphs) > 1 else ""
    return markdown_text(first), markdown_text(rest)


# --------------------------------------------------------------------------- targets


def _row(rows: list[dict[str, Any]], case: str, size: int | None, tool: str = OURS) -> Any:
    return next(
        (r for r in rows if r["case"] == case and r["tool"] == tool and r["size"] == size), None
    )


def _sizes(rows: list[dict[str, Any]], case: str) -> list[int | None]:
    return sorted({r["size"] for r in rows if r["case"] == case}, key=lambda s: s or 0)


def _wall(row: dict[str, Any] | None) -> float | None:
    return None if row is None else row.get("wall_s_median")


def measure(rows: list[dict[str, Any]], case: str, size: int | None, metric: str) -> Any:
    """The value of ``metric`` for omnijourney's row of (case, size), or None."""
    ours = _row(rows, case, size)
    if ours is None:
        return None
    if metric == "wall s":
        return _wall(ours)
    if metric == "peak RSS MiB":
        return ours.get("peak_rss_mib")
    if metric == "+RSS MiB":
        return ours.get("rss_increment_mib")
    if metric.startswith("time relative to case "):
        other = _wall(_row(rows, metric.removeprefix("time relative to case "), size))
        base = _wall(ours)
        return base / other if base and other else None
    if metric.startswith("report "):
        value = ours.get("report", {}).get(metric.removeprefix("report "))
        try:  # some reports keep figures as formatted text
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None
    for prefix, speedup in (("speedup over ", True), ("time relative to ", False)):
        if metric.startswith(prefix):
            peer = _wall(_row(rows, case, size, metric.removeprefix(prefix)))
            base = _wall(ours)
            if not peer or not base:  # missing, or a zero time
                return None
            return peer / base if speedup else base / peer
    msg = f"unknown metric {metric!r}"
    raise ValueError(msg)


def fmt_value(metric: str, value: float, limit: float) -> str:
    if metric == "wall s":
        return f"{value * 1000:.1f} ms" if limit < 1 else f"{value:.3g} s"
    if metric in ("peak RSS MiB", "+RSS MiB"):
        return f"{value:,.0f} MiB"
    if metric.startswith(("speedup", "time relative")):
        return f"{value:.3g}x"
    return f"{value:g}"


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda value, limit: value <= limit,
    ">=": lambda value, limit: value >= limit,
}


def check_targets(name: str, rows: list[dict[str, Any]] | None) -> list[tuple[str, str, str]]:
    """``(target, measured, status)`` for each target of a benchmark; status is ``met``,
    ``not met``, ``not measured`` (the case is missing from the results) or ``not run yet``."""
    out = []
    for text, case, size, metric, op, limit in TARGETS.get(name, []):
        if rows is None:
            out.append((text, "-", "not run yet"))
            continue
        sizes = [size] if size is not None else _sizes(rows, case)
        values = [(s, measure(rows, case, s, metric)) for s in sizes]
        if not values or any(v is None for _, v in values):
            out.append((text, "-", "not measured"))
            continue
        unit = next((r["unit"] for r in rows if r["case"] == case), "")
        shown = [
            fmt_value(metric, v, limit) + (f" ({fmt_size(s, unit)})" if size is None and s else "")
            for s, v in values
        ]
        met = all(_COMPARE[op](v, limit) for _, v in values)
        out.append((text, ", ".join(shown), "met" if met else "not met"))
    return out


# --------------------------------------------------------------------------- rendering


def title(name: str) -> str:
    return TITLES.get(name, name.replace("_", " ").capitalize())


def fmt_speedup(x: float | None) -> str:
    """A time ratio: three significant digits, whole numbers from 1,000."""
    return fmt_ratio(x) if x is None or x < 1000 else f"{x:,.0f}"


def fmt_spread(median: float, runs: list[float], digits: int) -> str:
    """A median, then the range of the runs when there were several."""
    text = fmt_num(median, digits)
    if len(runs) > 1:
        text += f" ({fmt_num(min(runs), digits)}-{fmt_num(max(runs), digits)})"
    return text


def fmt_ratio_range(x: float | None, spread: list[float | None] | None) -> str:
    text = fmt_speedup(x)
    if x is not None and spread and None not in spread and spread[0] != spread[1]:
        text += f" ({fmt_speedup(spread[0])}-{fmt_speedup(spread[1])})"
    return text


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


#: Benchmarks whose cases report many figures: the keys shown in the notes cell (the others
#: are in a table of their own below it).
NOTES_SHOWN = {"endtoend": _endtoend_table.NOTES_SHOWN}


def table(rows: list[dict[str, Any]], shown: tuple[str, ...] | None = None) -> list[str]:
    lines = list(HEADER)
    for r in rows:
        size = fmt_size(r["size"], r["unit"])
        if "skipped" in r or "error" in r:
            status = f"skipped ({r['skipped']})" if "skipped" in r else f"error: {r['error']}"
            cells = [r["case"], size, r["tool"], status, "-", "-", "-", "-", "-"]
        else:
            cells = [
                r["case"],
                size,
                r["tool"],
                fmt_spread(r["wall_s_median"], r.get("wall_s", []), 3),
                fmt_num(r.get("cpu_s_median"), 3),
                fmt_num(r["peak_rss_mib"], 1),
                fmt_num(r["rss_increment_mib"], 1),
                fmt_ratio_range(r.get("time_ratio"), r.get("time_ratio_range")),
                fmt_notes(r)
                if shown is None
                else fmt_report({k: v for k, v in r.get("report", {}).items() if k in shown}),
            ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def accuracy(name: str, rows: list[dict[str, Any]]) -> list[str]:
    """The end-to-end accuracy table: one column per difficulty, from the cases' reports."""
    if name != "endtoend":
        return []
    by_case = {
        r["case"].removeprefix("pipeline_"): r.get("report", {})
        for r in rows
        if r["case"].startswith("pipeline_") and r.get("report")
    }
    if not by_case:
        return []
    size = next(fmt_size(r["size"], r["unit"]) for r in rows if r["case"].startswith("pipeline_"))
    return [
        f"Accuracy against the story's truth ({size}), in percent unless stated:",
        "",
        *_endtoend_table.markdown(by_case),
        "",
    ]


def command(name: str, doc: dict[str, Any]) -> str:
    """The command line that produced a result file."""
    args = ["python", "benchmarks/run.py", name]
    if doc.get("scale", 1) != 1:
        args += ["--scale", f"{doc['scale']:g}"]
    if doc.get("seed", SEED) != SEED:
        args += ["--seed", str(doc["seed"])]
    return " ".join(args)


def section(name: str, docstring: str, doc: dict[str, Any] | None) -> list[str]:
    summary, details = split_docstring(docstring) if docstring else ("", "")
    lines = [f"## {title(name)} {{ #{name} }}", ""]
    if summary:
        lines += [summary, ""]
    if details:
        lines += ['??? info "What each case runs"', ""]
        lines += [f"    {line}".rstrip() for line in details.splitlines()]
        lines.append("")
    if doc is None:
        lines += [f"Not run yet: `python benchmarks/run.py {name}` measures it.", ""]
    else:
        machine = doc["machine"]
        lines += [f"```bash\n{command(name, doc)}\n```", ""]
        lines += [*table(doc["results"], NOTES_SHOWN.get(name)), ""]
        revision = f" at revision {machine['git']}" if machine.get("git") else ""
        lines += [f"Measured on {machine['date'][:10]}{revision}. {machine_line(machine)}", ""]
        lines += accuracy(name, doc["results"])
    targets = check_targets(name, None if doc is None else doc["results"])
    lines += ["### Targets", ""]
    if not targets:
        lines += ["No target is set for this benchmark.", ""]
    else:
        lines += ["| target | measured | status |", "|---|---|---|"]
        lines += [f"| {_cell(t)} | {_cell(m)} | {s} |" for t, m, s in targets]
        lines.append("")
    return lines


def overview(names: list[str], docs: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Overview", "", "| benchmark | measured on | targets met |", "|---|---|---|"]
    for name in names:
        doc = docs.get(name)
        targets = check_targets(name, None if doc is None else doc["results"])
        met = sum(status == "met" for _, _, status in targets)
        score = f"{met} of {len(targets)}" if targets else "-"
        when = "not run yet" if doc is None else doc["machine"]["date"][:10]
        lines.append(f"| [{title(name)}](#{name}) | {when} | {score} |")
    return [*lines, ""]


def render(results: Path = RESULTS, bench_dir: Path = HERE) -> str:
    """The Markdown page for the results in ``results`` and the benchmarks of ``bench_dir``."""
    docs = load_results(results)
    docstrings = bench_docstrings(bench_dir)
    known = set(docs) | set(docstrings)
    names = [n for n in TITLES if n in known] + sorted(known - set(TITLES))
    lines = [INTRO, *overview(names, docs)]
    for name in names:
        lines += section(name, docstrings.get(name, ""), docs.get(name))
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of <name>.json")
    parser.add_argument("--out", type=Path, default=PAGE, help="page to write")
    parser.add_argument("--check", action="store_true", help="only check the page is current")
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python benchmarks/report.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, "utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

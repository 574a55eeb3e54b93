"""Run omnijourney's benchmarks against the tools a user would otherwise use.

    python benchmarks/run.py --list
    python benchmarks/run.py import tables       # some benchmarks
    python benchmarks/run.py all                 # every benchmark, full sizes
    python benchmarks/run.py all --quick         # sizes / 100, for a smoke run

Every run of every case is a fresh Python process, so import time and memory are not shared
between tools. A Markdown table goes to stdout and the results to ``results/<name>.json``
(``results/quick/`` for scaled-down runs). Only the standard library is imported here: the
parent stays small, which keeps it from inflating the children's memory figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _case import Case

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SEED = 20240501
MARKER = "@@bench-result "
# polars' jemalloc keeps freed pages for seconds; without this its +RSS would reuse the setup's
CHILD_ENV = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
VERSIONED = ("omnijourney", "numpy", "scipy", "pandas", "pyarrow", "polars", "narwhals")

# Runs inside each child. Peak memory: Linux's VmHWM, reset just before the timed section
# (/proc/self/clear_refs), so it covers that section only. ru_maxrss is recorded too, but on
# Linux it starts at the parent's RSS at exec time and cannot be reset.
CHILD = r'''
import gc
import resource
import sys
import time


def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    if field == "VmRSS" and "psutil" in sys.modules:
        return sys.modules["psutil"].Process().memory_info().rss // 1024
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _release_free_memory():
    """Hand freed memory back to the OS, so that the RSS before the timed section is live data:
    pyarrow's pool, then glibc's heap (only if ctypes is already loaded, e.g. by numpy)."""
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if "ctypes" not in sys.modules:
        return
    try:
        sys.modules["ctypes"].CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _maxrss_kib():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r


def digest(*arrays):
    """A short order-sensitive hash of arrays, to check that tools agree."""
    import hashlib

    import numpy as np

    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a)).tobytes())
    return h.hexdigest()[:12]


ns = {"n": SPEC["n"], "seed": SPEC["seed"], "digest": digest, "__name__": "__bench__"}
exec(compile(SPEC["setup"], "<setup>", "exec"), ns)
_release_free_memory()
before = _status_kib("VmRSS")
scoped = _reset_peak()
t0 = time.perf_counter()
c0 = time.process_time()
exec(compile(SPEC["measure"], "<measure>", "exec"), ns)
wall = time.perf_counter() - t0
cpu = time.process_time() - c0
maxrss = _maxrss_kib()
peak = _status_kib("VmHWM") if scoped else maxrss
report = eval(SPEC["report"], ns) if SPEC["report"] else {}
import json

out = {"wall": wall, "cpu": cpu, "before_kib": before, "peak_kib": peak, "maxrss_kib": maxrss,
       "peak_scope": "measured" if scoped else "process", "report": report}
print(MARKER + json.dumps(out, default=str))
'''


# --------------------------------------------------------------------------- registry


def discover() -> dict[str, list[Case]]:
    """Every ``bench_<name>.py`` next to this file, as name -> its ``CASES``."""
    sys.path.insert(0, str(HERE))
    registry = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        registry[path.stem.removeprefix("bench_")] = list(module.CASES)
    return registry


def missing_modules(case: Case) -> list[str]:
    return [m for m in case.requires if importlib.util.find_spec(m) is None]


# --------------------------------------------------------------------------- running


def run_once(case: Case, n: int | None, seed: int) -> dict[str, Any]:
    """One fresh interpreter: setup, timed section, report."""
    spec: dict[str, Any] = {"setup": case.setup, "measure": case.measure, "report": case.report}
    spec |= {"n": n, "seed": seed}
    source = f"SPEC = {spec!r}\nMARKER = {MARKER!r}\n{CHILD}"
    env = CHILD_ENV | dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False, env=env
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line.removeprefix(MARKER))
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail}"}


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def default_repeat(case: Case, n: int | None, scale: float) -> int:
    """The case's own count (import: 7), else 3 runs; 1 at 10^7 rows or in a scaled-down run."""
    if case.repeat:
        return case.repeat
    return 1 if scale < 1 or (n or 0) >= 10**7 else 3


def run_case(case: Case, scale: float, repeat: int | None, seed: int) -> dict[str, Any]:
    """Median wall time and largest peak RSS over ``repeat`` fresh processes."""
    n = None if case.size is None else max(int(case.size * scale), 1)
    row: dict[str, Any] = {"case": case.case, "tool": case.tool, "size": n, "unit": case.unit}
    missing = missing_modules(case)
    if missing:
        return row | {"skipped": f"pip install {case.pip or ' '.join(missing)}"}
    count = repeat or default_repeat(case, n, scale)
    runs = []
    for i in range(count):
        result = run_once(case, n, seed)
        if "error" in result:
            return row | {"error": result["error"]}
        runs.append(result)
        label = f"{case.case} {fmt_size(n, case.unit)} {case.tool}"
        print(
            f"  {label} [{i + 1}/{count}] {result['wall']:.3f} s, cpu {result['cpu']:.3f} s",
            file=sys.stderr,
        )
    peak = max(r["peak_kib"] for r in runs)
    before = runs[0]["before_kib"]
    return row | {
        "repeats": count,
        "wall_s": [round(r["wall"], 4) for r in runs],
        "wall_s_median": round(statistics.median(r["wall"] for r in runs), 4),
        "cpu_s": [round(r["cpu"], 4) for r in runs],
        "cpu_s_median": round(statistics.median(r["cpu"] for r in runs), 4),
        "peak_rss_mib": mib(peak),
        "rss_before_mib": mib(before),
        "rss_increment_mib": None if before is None else mib(peak - before),
        "ru_maxrss_mib": mib(max(r["maxrss_kib"] for r in runs)),
        "peak_scope": runs[0]["peak_scope"],
        "report": runs[-1]["report"],
    }


# --------------------------------------------------------------------------- output


def fmt_size(n: int | None, unit: str) -> str:
    if n is None:
        return "-"
    exp = len(str(n)) - 1
    text = f"10^{exp}" if n == 10**exp and exp >= 3 else f"{n:,}"
    return f"{text} {unit}".strip()


def fmt_num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}f}" if x < 100 else f"{x:,.0f}"


def fmt_report(report: dict[str, Any]) -> str:
    shown = {k: v for k, v in report.items() if k != "check" and (k != "failed" or v)}
    return ", ".join(
        f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
    )


def fmt_notes(row: dict[str, Any]) -> str:
    """The notes cell: whether the tools agreed (when they report a check), then the report."""
    notes = fmt_report(row.get("report", {}))
    if "same_answer" in row:
        agreed = "same answer" if row["same_answer"] else "DIFFERENT ANSWER"
        notes = f"{agreed}; {notes}" if notes else agreed
    return notes


def ratio(peer: float | None, base: float | None) -> float | None:
    if peer is None or not base:
        return None
    return float(f"{peer / base:.3g}")


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def annotate(rows: list[dict[str, Any]]) -> None:
    """Add peer/omnijourney ratios and, where tools report a check, whether they agree."""
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["case"], row["size"]), []).append(row)
    for group in groups.values():
        ours = next((r for r in group if r["tool"] == "omnijourney" and "wall_s_median" in r), {})
        for row in group:
            if ours and row is not ours and "wall_s_median" in row:
                row["time_ratio"] = ratio(row["wall_s_median"], ours["wall_s_median"])
                # over the runs: the peer's fastest / our slowest, and its slowest / our fastest
                row["time_ratio_range"] = [
                    ratio(min(row["wall_s"]), max(ours["wall_s"])),
                    ratio(max(row["wall_s"]), min(ours["wall_s"])),
                ]
                row["rss_ratio"] = ratio(row["rss_increment_mib"], ours["rss_increment_mib"])
        checked = [r for r in group if "check" in r.get("report", {})]
        if len(checked) > 1:
            agree = len({str(r["report"]["check"]) for r in checked}) == 1
            for row in checked:
                row["same_answer"] = agree


def machine_line(machine: dict[str, Any]) -> str:
    v = machine["versions"]
    libs = ", ".join(f"{k} {v[k]}" for k in VERSIONED if v.get(k))
    load = machine["load_average"][0]
    return (
        f"Python {machine['python']}, {libs}; {machine['cpu_count']} CPUs, "
        f"{machine['platform']}; load average {load} at start."
    )


def markdown(name: str, rows: list[dict[str, Any]]) -> str:
    head = (
        "| case | size | tool | wall s | peak RSS MiB | +RSS MiB | time peer/oj | "
        "+RSS peer/oj | notes |"
    )
    lines = [f"### {name}", "", head, "|" + "---|" * 9]
    for r in rows:
        if "skipped" in r or "error" in r:
            status = f"skipped ({r['skipped']})" if "skipped" in r else f"error: {r['error']}"
            cells = [r["case"], fmt_size(r["size"], r["unit"]), r["tool"], status] + ["-"] * 5
        else:
            cells = [
                r["case"],
                fmt_size(r["size"], r["unit"]),
                r["tool"],
                fmt_num(r["wall_s_median"], 3),
                fmt_num(r["peak_rss_mib"], 1),
                fmt_num(r["rss_increment_mib"], 1),
                fmt_ratio(r.get("time_ratio")),
                fmt_ratio(r.get("rss_ratio")),
                fmt_notes(r),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in VERSIONED:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_gib": memory_gib(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "git": git_state(),
        "omnijourney_source_sha1": source_digest("omnijourney"),
    }


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def source_digest(package: str) -> str | None:
    """A hash of the package's .py files (the tree may differ from the git revision)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    h = hashlib.sha1()
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return h.hexdigest()[:12]


def git_state() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=HERE,
        ).stdout.strip()
    except OSError:
        return None
    return f"{head}{' (modified tree)' if dirty else ''}" if head else None


def _key(row: dict[str, Any]) -> tuple[str, str, int | None]:
    return row["case"], row["tool"], row["size"]


def write_json(
    name: str, rows: list[dict[str, Any]], scale: float, machine: dict[str, Any]
) -> Path:
    """Write results; rows of a partial run (``--case``, ``--tool``) replace only their own
    entries."""
    folder = RESULTS if scale == 1 else RESULTS / "quick"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    fresh = {_key(r): r for r in rows}
    merged = []
    if path.exists():
        merged = [fresh.pop(_key(r), r) for r in json.loads(path.read_text())["results"]]
    merged += list(fresh.values())
    annotate(merged)
    doc = {"benchmark": name, "scale": scale, "seed": SEED, "machine": machine, "results": merged}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None, names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: all, {', '.join(names)}")
    parser.add_argument("--list", action="store_true", help="list benchmarks and cases")
    parser.add_argument(
        "--show", action="store_true", help="print the saved results instead of running"
    )
    parser.add_argument("--quick", action="store_true", help="sizes / 100 (same as --scale 0.01)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    parser.add_argument(
        "--repeat", type=int, help="runs per case (default 3; 1 at 10^7 and with --quick; import 7)"
    )
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    parser.add_argument(
        "--tool", action="append", help="only these tools, e.g. omnijourney (repeatable)"
    )
    parser.add_argument(
        "--size", action="append", type=float, help="only cases of this size (repeatable)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = 0.01
    unknown = set(args.names) - {"all", *names}
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from all, {names}")
    if not args.names and not args.list:
        parser.error("name a benchmark, 'all', or --list")
    return args


def list_cases(registry: dict[str, list[Case]]) -> None:
    for name, cases in registry.items():
        print(name)
        for c in cases:
            print(f"  {c.case:<18} {fmt_size(c.size, c.unit):<22} {c.tool}")


def show(names: list[str], scale: float) -> int:
    """Print the Markdown tables of saved results."""
    folder = RESULTS if scale == 1 else RESULTS / "quick"
    for name in names:
        path = folder / f"{name}.json"
        if not path.exists():
            print(f"{path}: no results yet", file=sys.stderr)
            continue
        doc = json.loads(path.read_text())
        print(f"{markdown(name, doc['results'])}\n\n{machine_line(doc['machine'])}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    registry = discover()
    args = parse_args(argv, list(registry))
    if args.list:
        list_cases(registry)
        return 0
    chosen = list(registry) if "all" in args.names else args.names
    if args.show:
        return show(chosen, args.scale)
    machine = machine_info()
    failed = False
    for name in chosen:
        cases = [
            c
            for c in registry[name]
            if (not args.case or c.case in args.case)
            and (not args.tool or c.tool in args.tool)
            and (not args.size or c.size in args.size)
        ]
        print(f"{name}: {len(cases)} cases", file=sys.stderr)
        rows = [run_case(c, args.scale, args.repeat, args.seed) for c in cases]
        annotate(rows)
        failed |= any("error" in r or r.get("report", {}).get("failed") for r in rows)
        failed |= any(r.get("same_answer") is False for r in rows)
        print(f"{markdown(name, rows)}\n\n{machine_line(machine)}\n")
        machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        print(f"  -> {write_json(name, rows, args.scale, machine)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

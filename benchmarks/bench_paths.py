"""Process variants and the directly-follows graph of journeys, against pm4py.

The data is a synthetic world of ``n`` touchpoints (``n / 100`` customers with 100
touchpoints each on average, ``records=False, prices=False``), sessionized with the default
rules; generation and sessionization are not timed. Steps are labelled by channel.

- omnijourney: ``oj.journeys.variants(jt)`` then
  ``oj.journeys.directly_follows(jt, statistics=False)`` (edge counts, as pm4py gives);
  ``variants_dfg_times`` adds the median / mean / p90 time per edge (``statistics=True``).
- pm4py: ``pm4py.get_variants(log)`` then ``pm4py.discover_dfg(log)`` on the same journeys
  exported by ``oj.journeys.to_event_log(jt, activity="channel")`` (export not timed).

Both give the same variants and edge counts (the report's ``check`` is a digest of the sorted
variant counts). Run it through ``run.py paths`` like the other benchmarks, or on its own:

    python benchmarks/bench_paths.py            # 10^7 touchpoints (pm4py takes a minute)
    python benchmarks/bench_paths.py --quick    # 10^6 touchpoints

Standalone runs start one fresh process per tool and print wall time (median of
``--repeat`` runs), the peak RSS of the timed section and the time ratio pm4py / omnijourney.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys

from _case import OMNIJOURNEY, Case

SIZES = (10**6, 10**7)
PEER = "pm4py"

SETUP = """
import numpy as np
import omnijourney as oj
import omnijourney.synth
world = oj.synth.generate(max(n // 100, 1), touchpoints_per_customer=100, records=False,
                          prices=False, seed=seed)
jt = oj.sessionize(world.touchpoints)
del world
"""
SETUP_PEER = (
    SETUP
    + """
import pm4py
log = oj.journeys.to_event_log(jt, activity="channel")
n_touchpoints, n_journeys = len(jt.touchpoints), len(jt)
del jt
"""
)
MEASURE = {
    OMNIJOURNEY: (
        "v = oj.journeys.variants(jt)\ng = oj.journeys.directly_follows(jt, statistics=False)\n"
    ),
    PEER: "v = pm4py.get_variants(log)\ng = pm4py.discover_dfg(log)\n",
}
REPORT = {
    OMNIJOURNEY: (
        "{'check': digest(np.sort(v['journeys'])), 'variants': len(v), 'edges': len(g.edges),"
        " 'touchpoints': len(jt.touchpoints), 'journeys': len(jt)}"
    ),
    PEER: (
        "{'check': digest(np.sort(np.fromiter(v.values(), dtype=np.int64))), 'variants': len(v),"
        " 'edges': len(g[0]) + len(g[1]) + len(g[2]), 'touchpoints': n_touchpoints,"
        " 'journeys': n_journeys}"
    ),
}

CASES = [
    Case(
        case="variants_dfg",
        tool=tool,
        size=n,
        unit="touchpoints",
        setup=SETUP if tool == OMNIJOURNEY else SETUP_PEER,
        measure=MEASURE[tool],
        report=REPORT[tool],
        requires=() if tool == OMNIJOURNEY else (PEER, "pandas"),
        pip="" if tool == OMNIJOURNEY else "pm4py pandas",
        repeat=None if tool == OMNIJOURNEY else 1,
    )
    for n in SIZES
    for tool in (OMNIJOURNEY, PEER)
] + [
    Case(
        case="variants_dfg_times",
        tool=OMNIJOURNEY,
        size=n,
        unit="touchpoints",
        setup=SETUP,
        measure="v = oj.journeys.variants(jt)\ng = oj.journeys.directly_follows(jt)\n",
        report=REPORT[OMNIJOURNEY],
    )
    for n in SIZES
]


# --------------------------------------------------------------------------- standalone

# Runs in a fresh interpreter per tool: setup, then the timed section ``repeat`` times.
CHILD = r"""
import gc, hashlib, json, resource, sys, time

def status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return status_kib("VmHWM") is not None

def maxrss_kib():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r

def digest(*arrays):
    import numpy as np
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a)).tobytes())
    return h.hexdigest()[:12]

def release_free_memory():
    # hand freed memory back to the OS, so that the RSS before the timed section is live data
    gc.collect()
    if "ctypes" not in sys.modules:
        return
    try:
        sys.modules["ctypes"].CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass

ns = {"n": SPEC["n"], "seed": SPEC["seed"], "digest": digest, "__name__": "__bench__"}
exec(compile(SPEC["setup"], "<setup>", "exec"), ns)
walls = []
for _ in range(SPEC["repeat"]):
    ns.pop("v", None), ns.pop("g", None)
    release_free_memory()
    before = status_kib("VmRSS")
    scoped = reset_peak()
    t0 = time.perf_counter()
    exec(compile(SPEC["measure"], "<measure>", "exec"), ns)
    walls.append(time.perf_counter() - t0)
peak = status_kib("VmHWM") if scoped else None
report = eval(SPEC["report"], ns)
print("@@result " + json.dumps({"wall": walls, "before_kib": before, "peak_kib": peak,
                                "maxrss_kib": maxrss_kib(), "report": report}, default=str))
"""


def _run_child(tool: str, n: int, seed: int, repeat: int) -> dict:
    spec = {
        "setup": SETUP if tool == OMNIJOURNEY else SETUP_PEER,
        "measure": MEASURE[tool],
        "report": REPORT[tool],
        "n": n,
        "seed": seed,
        "repeat": repeat,
    }
    proc = subprocess.run(
        [sys.executable, "-c", f"SPEC = {spec!r}\n{CHILD}"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@result ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"{tool} failed (exit status {proc.returncode})")
    return json.loads(lines[-1].removeprefix("@@result "))


def _have_peer(install: bool) -> bool:
    if importlib.util.find_spec(PEER) is not None:
        return True
    if not install:
        print(f"{PEER} is not installed: skipped (pip install {PEER}, or rerun with --install)")
        return False
    print(f"installing {PEER} with pip...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PEER], check=True)
    importlib.invalidate_caches()
    return importlib.util.find_spec(PEER) is not None


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^6 touchpoints instead of 10^7")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of omnijourney")
    parser.add_argument("--peer-repeat", type=int, default=1, help="timed runs of pm4py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--install", action="store_true", help=f"pip install {PEER} if missing")
    parser.add_argument("--no-peer", action="store_true", help=f"skip {PEER}")
    args = parser.parse_args(argv)
    n = SIZES[0] if args.quick else SIZES[1]
    tools = [OMNIJOURNEY]
    if not args.no_peer and _have_peer(args.install):
        tools.append(PEER)
    results = {}
    for tool in tools:
        print(f"running {tool} on {n:,} touchpoints...", flush=True)
        repeat = args.repeat if tool == OMNIJOURNEY else args.peer_repeat
        results[tool] = _run_child(tool, n, args.seed, max(repeat, 1))
    first = results[OMNIJOURNEY]["report"]
    print(
        f"\n{first['touchpoints']:,} touchpoints, {first['journeys']:,} journeys, "
        f"{first['variants']:,} variants by channel\n"
    )
    print("| tool | wall s (median) | runs | peak RSS MiB | +RSS MiB | ru_maxrss MiB |")
    print("|---|---|---|---|---|---|")
    for tool, r in results.items():
        walls = r["wall"]
        extra = None if r["peak_kib"] is None else r["peak_kib"] - r["before_kib"]
        print(
            f"| {tool} | {statistics.median(walls):.3f} | "
            f"{', '.join(f'{w:.3f}' for w in walls)} | {_mib(r['peak_kib'])} | {_mib(extra)} | "
            f"{_mib(r['maxrss_kib'])} |"
        )
    if PEER in results:
        ratio = statistics.median(results[PEER]["wall"]) / statistics.median(
            results[OMNIJOURNEY]["wall"]
        )
        same = results[PEER]["report"]["check"] == first["check"]
        print(
            f"\ntime {PEER} / omnijourney: {ratio:.1f}x; variant counts {'agree' if same else 'DIFFER'}"
        )
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

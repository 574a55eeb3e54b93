"""ChannelAttribution's Monte-Carlo Markov credit converging to omnijourney's exact values.

``python benchmarks/markov_convergence.py [--walks 1e5 1e6 1e7] [--seeds 3] [--data PATH]
[--json benchmarks/results/reference/markov_convergence.json]``

(The saved run lives under ``results/reference/``, apart from the timed benchmarks that
``report.py`` renders.)

On ChannelAttribution's 10,000-path example (``Data.csv`` from its installed package, or
``--data``; the generated paths of ``tests/data/markov_golden.py`` when it is missing), for
orders 1, 2 and 3, runs ChannelAttribution's ``markov_model`` with a growing number of
simulated walks (one fold, several seeds) and prints the L1 distance of its credit (as a share
of the total conversions, and of the total value) from two exact solutions:

- ``full``: ``markov(windows="full", max_steps="observed")``, ChannelAttribution's chain;
- ``growing``: ``markov()`` with its defaults.

The distance to ``full`` should shrink like ``1 / sqrt(walks)`` towards 0; the distance to
``growing`` stops at the difference between the two chains. Needs ``pip install
ChannelAttribution pandas`` (GPL-3.0: used here as a reference, never by omnijourney).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _golden_module() -> Any:
    path = ROOT / "tests" / "data" / "markov_golden.py"
    spec = importlib.util.spec_from_file_location("markov_golden", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    import omnijourney.attribution as A

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data", help="ChannelAttribution's Data.csv (default: found)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    gen = _golden_module()
    path = gen.example_data(args.data)
    if path is None:
        print("ChannelAttribution's example not found: generated example paths")
        pt, source = gen.example_paths(2024), "generated example paths (seed 2024)"
    else:
        pt, source = gen.read_example(path), f"ChannelAttribution's example ({path.name})"
    total, total_value = pt.total_conversions, pt.total_value
    rows: list[dict[str, Any]] = []
    print(f"{source}: {pt.n_paths:,} paths, {total:,.0f} conversions\n")
    print("| order | walks | L1 to full (conversions) | L1 to full (value) | L1 to growing |")
    print("|---|---|---|---|---|")
    for order in args.orders:
        full = A.markov(pt, order=order, windows="full", max_steps="observed")
        growing = A.markov(pt, order=order)
        gap = float(np.abs(full.conversions - growing.conversions).sum() / total)
        for walks in args.walks:
            to_full, to_full_v, to_growing, seconds = [], [], [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                sim = gen.channelattribution(pt, order, int(walks), seed=seed)
                seconds.append(time.perf_counter() - start)
                conv, value = np.array(sim["conversions"]), np.array(sim["value"])
                to_full.append(np.abs(conv - full.conversions).sum() / total)
                to_full_v.append(np.abs(value - full.value).sum() / total_value)
                to_growing.append(np.abs(conv - growing.conversions).sum() / total)
            row = {
                "order": order,
                "walks": int(walks),
                "seeds": args.seeds,
                "l1_full": float(np.mean(to_full)),
                "l1_full_value": float(np.mean(to_full_v)),
                "l1_growing": float(np.mean(to_growing)),
                "full_vs_growing": gap,
                "seconds": float(np.median(seconds)),
            }
            rows.append(row)
            print(
                f"| {order} | {walks:.0e} | {100 * row['l1_full']:.3f} % | "
                f"{100 * row['l1_full_value']:.3f} % | {100 * row['l1_growing']:.3f} % |",
                flush=True,
            )
        print(f"| {order} | exact | 0 | 0 | {100 * gap:.3f} % |")
    if args.json:
        Path(args.json).write_text(json.dumps({"data": source, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Regenerate ``markov_golden.json``: exact Markov values of ChannelAttribution's chain.

``python tests/data/markov_golden.py [--walks N] [--data PATH]``

For orders 1, 2 and 3 the file holds the exact removal effects and credits (conversions and
value) of ``markov(paths, order, windows="full", max_steps="observed")``, the construction of
ChannelAttribution's ``markov_model``, on two data sets:

- ``generated``: 10,000 paths from :func:`example_paths` (seeded, below), shaped like
  ChannelAttribution's example (12 channels, geometric lengths of mean 6 with runs of one
  channel, integer conversions and nulls). The test suite recomputes these values.
- ``channelattribution_example``: ChannelAttribution's own 10,000-path example
  (``Data.csv``, shipped inside the ChannelAttribution package under the GPL-3.0; it is not
  copied here, only figures computed from it and its SHA-256). Found in the installed
  package, or given with ``--data``.

When ChannelAttribution is installed, each is checked against its Monte-Carlo estimate with
``--walks`` simulated walks (default 2 x 10^7, in one fold) and the estimates are stored
beside the exact values with their binomial standard errors. ChannelAttribution is GPL-3.0
software: it is used here to produce reference figures, never by omnijourney or its tests.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from omnijourney.attribution import PathTable, markov

HERE = Path(__file__).parent
OUT = HERE / "markov_golden.json"
ORDERS = (1, 2, 3)
CHANNELS = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta",
    "eta", "theta", "iota", "kappa", "lambda", "mi",
)  # fmt: skip


def example_paths(seed: int = 2024, n: int = 10_000) -> PathTable:
    """``n`` path rows shaped like ChannelAttribution's example, from a seed.

    Lengths are geometric with mean 6 (at most 90 touches); the next touch repeats the last
    channel with probability 0.35 and otherwise follows a random first-order chain; each
    row has 2 to 8 non-converting journeys and a number of conversions that depends on its
    last channel, with a heavy tail; each conversion is worth a log-normal amount.
    """
    rng = np.random.default_rng(seed)
    k = len(CHANNELS)
    step = np.cumsum(rng.dirichlet(np.full(k, 0.5), k), axis=1)
    first = np.cumsum(rng.dirichlet(np.ones(k)))
    close = rng.uniform(0.02, 0.3, k)
    lengths = np.minimum(rng.geometric(1 / 6, n), 90)
    codes = np.zeros((n, int(lengths.max())), dtype=np.int64)
    codes[:, 0] = np.minimum(np.searchsorted(first, rng.random(n) * first[-1]), k - 1)
    for pos in range(1, codes.shape[1]):
        prev = codes[:, pos - 1]
        nxt = (rng.random(n)[:, None] > step[prev]).sum(axis=1)
        codes[:, pos] = np.where(rng.random(n) < 0.35, prev, np.minimum(nxt, k - 1))
    last = codes[np.arange(n), lengths - 1]
    nulls = rng.integers(2, 9, n).astype(float)
    conversions = rng.poisson(close[last] * 2) * rng.choice([1, 1, 1, 1, 3, 20], n)
    value = np.round(conversions * rng.lognormal(1.0, 0.8, n), 3)
    names = np.array(CHANNELS, dtype=object)
    seqs = [names[row[:length]].tolist() for row, length in zip(codes, lengths.tolist())]
    return PathTable.from_sequences(seqs, conversions.astype(float), value, nulls)


def exact(pt: PathTable, order: int) -> dict[str, Any]:
    res = markov(pt, order=order, windows="full", max_steps="observed")
    return {
        "channels": res.channels.tolist(),
        "states": res.params["states"],
        "max_steps": res.params["max_steps"],
        "conversion_probability": res.params["conversion_probability"],
        "removal_effects": res.removal_effects.tolist(),
        "value_removal_effects": res.value_removal_effects.tolist(),
        "conversions": res.conversions.tolist(),
        "value": res.value.tolist(),
    }


def channelattribution(pt: PathTable, order: int, walks: int, seed: int = 0) -> dict[str, Any]:
    """ChannelAttribution's estimate with ``walks`` simulated walks in one fold."""
    import ChannelAttribution as ca
    import pandas as pd

    frame = pd.DataFrame(
        {
            "path": pt.paths().tolist(),
            "conversions": pt.conversions.astype(np.int64),
            "value": pt.value,
            "nulls": pt.nulls.astype(np.int64),
        }
    )
    with contextlib.redirect_stdout(io.StringIO()):  # its banner and progress
        out = ca.markov_model(
            frame, "path", "conversions", var_value="value", var_null="nulls", order=order,
            nsim_start=walks, nfold=1, seed=seed, out_more=True, verbose=False,
        )  # fmt: skip
    result = out["result"].set_index("channel_name")
    removal = out["removal_effects"].set_index("channel_name")
    channels = pt.channels.tolist()
    return {
        "walks": walks,
        "conversions": result.loc[channels, "total_conversions"].tolist(),
        "value": result.loc[channels, "total_conversion_value"].tolist(),
        "removal_effects": removal.loc[channels, "removal_effects_conversion"].tolist(),
        "value_removal_effects": removal.loc[channels, "removal_effects_conversion_value"].tolist(),
    }


def with_errors(sim: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """Binomial standard errors of the simulated removal effects, and the z-scores."""
    converting = sim["walks"] * ref["conversion_probability"]
    re = np.array(ref["removal_effects"])
    se = np.sqrt(np.maximum(re * (1 - re), 1e-300) / converting)
    sim["standard_errors"] = se.tolist()
    sim["max_abs_z"] = float(np.max(np.abs(np.array(sim["removal_effects"]) - re) / se))
    total = sum(ref["conversions"])
    sim["l1_share"] = float(np.abs(np.subtract(sim["conversions"], ref["conversions"])).sum())
    sim["l1_share"] /= total
    return sim


def example_data(path: str | None) -> Path | None:
    """ChannelAttribution's example, given or found in its installed package."""
    if path:
        return Path(path)
    spec = importlib.util.find_spec("cypack")  # the ChannelAttribution wheel's source folder
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "data" / "Data.csv"
    return found if found.exists() else None


def read_example(path: Path) -> PathTable:
    import csv

    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return PathTable.from_strings(
        [r["path"] for r in rows],
        [float(r["total_conversions"]) for r in rows],
        [float(r["total_conversion_value"]) for r in rows],
        [float(r["total_null"]) for r in rows],
    )


def case(pt: PathTable, walks: int, simulate: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "paths": pt.n_paths,
        "total_conversions": pt.total_conversions,
        "total_value": pt.total_value,
        "total_nulls": pt.total_nulls,
        "exact": {},
        "simulated": {},
    }
    for order in ORDERS:
        key = f"order_{order}"
        out["exact"][key] = ref = exact(pt, order)
        if simulate:
            start = time.perf_counter()
            sim = with_errors(channelattribution(pt, order, walks), ref)
            print(
                f"  order {order}: {ref['states']} states, cap {ref['max_steps']}; "
                f"ChannelAttribution with {walks:.0e} walks in {time.perf_counter() - start:.0f} s:"
                f" max |z| {sim['max_abs_z']:.2f}, L1 of credit shares {sim['l1_share']:.5f}"
            )
            out["simulated"][key] = sim
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=float, default=2e7)
    parser.add_argument("--data", help="ChannelAttribution's Data.csv (default: found)")
    args = parser.parse_args()
    walks = int(args.walks)
    simulate = importlib.util.find_spec("ChannelAttribution") is not None
    if not simulate:
        print("ChannelAttribution is not installed: exact values only")
    golden: dict[str, Any] = {
        "about": (
            "Exact removal effects and credits of markov(windows='full', "
            "max_steps='observed'), ChannelAttribution's chain, with ChannelAttribution's "
            "Monte-Carlo estimates; regenerate with tests/data/markov_golden.py."
        ),
        "licence": (
            "Figures only. ChannelAttribution (GPL-3.0) and its example Data.csv are not "
            "distributed here; the generated paths come from example_paths() (MIT)."
        ),
    }
    print("generated example paths (seed 2024)")
    golden["generated"] = {"seed": 2024, **case(example_paths(2024), walks, simulate)}
    path = example_data(args.data)
    if path is not None:
        print(f"ChannelAttribution's example: {path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        golden["channelattribution_example"] = {
            "sha256": digest,
            **case(read_example(path), walks, simulate),
        }
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {OUT} ({math.ceil(OUT.stat().st_size / 1024)} KiB)")


if __name__ == "__main__":
    main()

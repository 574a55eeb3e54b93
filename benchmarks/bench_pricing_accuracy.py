"""Price audit accuracy: each finding kind of `oj.pricing.audit` at its default settings,
scored against the incidents of the synthetic price stories (`oj.synth.prices.price_stories`).

- `audit_stories`: a history of `n` skus over 240 days (3 stores, web, app, call centre,
  marketplace; half the skus get a story of each family, so a sku carries up to four
  incidents at once). The audit runs with `Policy()` as it comes, given only what the retailer
  states and no default could know: the marketplace band it agreed (15 % above the web), its
  suppliers' minimum advertised prices, the capacity of a location (400 units), and the three
  opt-in rules switched on. The notes hold, per kind, precision (`<kind>_p`: findings that
  match a faulty incident of that kind, same sku, channel and location, overlapping in time)
  and recall (`<kind>_r`: faulty incidents found by at least one finding), in percent, and the
  number of faulty incidents (`<kind>_n`). An incident below a limit of the default policy
  (a 0.5 % price gap, a till silent for 5 days, a "-20 %" rounded up by 0.05 point, a count
  multiplied by 12 that stays under the capacity) is a fault of the story that the defaults
  let pass: it lowers recall, and the direct run lists the sizes of the faults missed. A
  benign incident beyond a default limit (3 units in transit between the warehouse and the
  web shop, above the 2-unit stock tolerance when fewer than 30 are in stock) lowers
  precision. The targets below mark every kind under 90 %.

Run it directly for the table alone:
`python benchmarks/bench_pricing_accuracy.py [--skus N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _case import OMNIJOURNEY, Case  # noqa: E402

SIZES = (2_000,)

#: Rules an audit checks only when asked.
OPT_IN = ("promo_not_applied", "promo_not_below_prior", "prior_price_short_history")


def make_world(n: int, seed: int) -> Any:
    from omnijourney.synth.prices import price_stories

    return price_stories(n, seed=seed)


def run_audit(world: Any) -> Any:
    """The audit a user of the retailer would run: defaults, plus what the retailer states."""
    import omnijourney as oj

    pr = oj.pricing
    r = world.retailer
    policy = pr.Policy(
        channel_pairs=[("web", "marketplace", pr.Tolerance(amount=0, pct=r.marketplace_band_pct))],
        map_floors=r.map_floors,
        max_stock=r.shelf_capacity,
        rules=pr.DEFAULT_RULES | set(OPT_IN),
    )
    return pr.audit(
        pr.PriceTable.from_columns(world.prices),
        pr.PromotionTable.from_columns(world.promotions),
        pr.StockTable.from_columns(world.stock),
        policy=policy,
        catalog=pr.CatalogTable.from_columns(world.catalog),
        start=world.start,
        as_of=world.as_of,
    )


def _rows(table: Any, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return list(zip(*(table[c].tolist() for c in columns)))


def score(world: Any, result: Any) -> dict[str, dict[str, Any]]:
    """Per kind: precision and recall in percent, faulty incidents, findings, and the range
    of the sizes (the incidents' ``size``, in the story's unit) of the faults missed.

    A finding matches an incident of its kind with the same sku, channel and location whose
    ``[start, end)`` meets its own (a point incident and a finding at the same instant meet).
    """
    key = ("sku", "channel", "location")
    faults: dict[tuple[Any, ...], list[tuple[int, int, int]]] = {}
    inc = world.incidents
    starts = inc["start"].astype(np.int64)
    ends = inc["end"].astype(np.int64)
    kinds = inc["kind"].tolist()
    fault = inc["fault"]
    sizes = inc["size"]
    for i, k in enumerate(_rows(inc, key)):
        if fault[i]:
            faults.setdefault((kinds[i], *k), []).append((int(starts[i]), int(ends[i]), i))
    found = result.findings
    f_start = found["start"].astype(np.int64)
    f_end = found["end"].astype(np.int64)
    hit: set[int] = set()
    out: dict[str, dict[str, Any]] = {}
    for j, (rule, *k) in enumerate(_rows(found, ("rule", *key))):
        a, b = int(f_start[j]), int(f_end[j])
        matched = [i for s, e, i in faults.get((rule, *k), []) if (s < b and a < e) or s == a]
        hit.update(matched)
        row = out.setdefault(rule, {"findings": 0, "true_findings": 0})
        row["findings"] += 1
        row["true_findings"] += bool(matched)
    for kind in sorted(set(kinds) | set(out)):
        row = out.setdefault(kind, {"findings": 0, "true_findings": 0})
        ids = [i for (k, *_), v in faults.items() if k == kind for *_, i in v]
        row["faults"] = len(ids)
        row["found"] = sum(i in hit for i in ids)
        missed = [float(sizes[i]) for i in ids if i not in hit]
        row["missed_sizes"] = (min(missed), max(missed)) if missed else ()
        row["p"] = round(100 * row["true_findings"] / row["findings"], 1) if row["findings"] else -1
        row["r"] = round(100 * row["found"] / len(ids), 1) if ids else -1
    return out


def notes(world: Any, result: Any) -> dict[str, Any]:
    fig: dict[str, Any] = {}
    for kind, row in score(world, result).items():
        fig[f"{kind}_p"], fig[f"{kind}_r"], fig[f"{kind}_n"] = row["p"], row["r"], row["faults"]
    return fig


# --------------------------------------------------------------------------- benchmark cases

CASES = [
    Case(
        case="audit_stories",
        tool=OMNIJOURNEY,
        size=n,
        unit="skus",
        setup=(
            f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
            "import bench_pricing_accuracy as B\n"
            "world = B.make_world(n, seed)\n"
        ),
        measure="result = B.run_audit(world)",
        report="B.notes(world, result)",
        repeat=1,
    )
    for n in SIZES
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=SIZES[0])
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args(argv)
    world = make_world(args.skus, args.seed)
    table = score(world, run_audit(world))
    print(
        "| kind | faulty incidents | found | recall % | findings | true | precision % | missed sizes |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|---|")
    for kind, r in table.items():
        missed = "-" if not r["missed_sizes"] else "{:g} to {:g}".format(*r["missed_sizes"])
        print(
            f"| {kind} | {r['faults']} | {r['found']} | {r['r']} | {r['findings']} "
            f"| {r['true_findings']} | {r['p']} | {missed} |"
        )


if __name__ == "__main__":
    main()

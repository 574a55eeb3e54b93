"""End to end on the synthetic world: the library's pipeline with its defaults, scored against
the story's truth at each difficulty (a first version: the pipeline starts from the touchpoints
keyed by the true person; linking the observed rows across identities comes next).

- `pipeline_<difficulty>`: on a world of `n` customers (25 touchpoints each on average, no
  prices), sessionize `world.touchpoints` with the default rules, detect breaks, check the two
  follow-ups the brand promises (welcome within 2 days, complaint answered within 24 h),
  channel roles of the converting paths, and resolve the source records; timed together. The
  notes hold each item's precision and recall against the story's truth, in percent: visits
  and journeys as pairwise scores of the partitions, breaks per kind on (kind, from row, to
  row), follow-up statuses, roles against the story's majority and stated roles, persons of the
  records, and the persons of the observed rows (record ids through the resolution, anonymous
  ids alone).

Run it directly for the accuracy table alone:
`python benchmarks/bench_endtoend.py [--customers N] [--seed S] [--difficulty D ...]`.
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

SIZES = (10**4,)
DIFFICULTIES = ("clean", "realistic", "hard")

# --------------------------------------------------------------------------- the pipeline


def make_world(n: int, seed: int, difficulty: str) -> Any:
    import omnijourney as oj

    return oj.synth.generate(n, seed=seed, prices=False, difficulty=difficulty)


def run_pipeline(world: Any) -> dict[str, Any]:
    """The library with its defaults, as a user would run it first."""
    import omnijourney as oj
    from omnijourney.attribution import PathTable, channel_roles
    from omnijourney.identity import CustomerRecordTable, resolve
    from omnijourney.journeys import FollowUpRule, check_followups, detect_breaks, sessionize

    jt = sessionize(world.touchpoints)
    # the brand's promises, as a user would write them: (name, trigger, answer, within, direction)
    promises = (
        ("welcome_after_signup", "signup", "welcome", "2D", None),
        ("answer_to_complaint", "complaint", "complaint_answer", "24h", "outbound"),
    )
    rules = [
        FollowUpRule(
            name=n, trigger_events=[t], response_events=[r], within=w, response_direction=d
        )
        for n, t, r, w, d in promises
    ]
    end = world.start + np.timedelta64(world.days, "D")
    records = CustomerRecordTable.from_columns(
        world.records, extra=["true_person_id", "true_household_id"]
    )
    return {
        "journeys": jt,
        "breaks": detect_breaks(jt),
        "followups": check_followups(jt, rules, as_of=end),
        "roles": channel_roles(PathTable.from_journeys(jt)),
        "records": records,
        "resolution": resolve(records),
        "oj": oj,
    }


# --------------------------------------------------------------------------- scoring


def pair_scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a partition against the true one."""
    _, p = np.unique(np.asarray(predicted), return_inverse=True)
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    p, t = p.ravel().astype(np.int64), t.ravel().astype(np.int64)

    def pairs(counts: np.ndarray) -> float:
        c = counts.astype(np.float64)
        return float((c * (c - 1) / 2).sum())

    both = pairs(np.unique(p * (int(t.max(initial=0)) + 1) + t, return_counts=True)[1])
    pred, true = pairs(np.bincount(p)), pairs(np.bincount(t))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def set_scores(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def score(world: Any, out: dict[str, Any]) -> dict[str, Any]:
    """Every figure against the story's truth, rounded for the table."""
    import omnijourney as oj

    truth = world.truth
    jt = out["journeys"]
    fig: dict[str, Any] = {}

    def put(
        name: str, values: tuple[float, ...], labels: tuple[str, ...] = ("p", "r", "f1")
    ) -> None:
        for label, v in zip(labels, values):  # in percent, so that one decimal says enough
            fig[f"{name}_{label}"] = round(100 * float(v), 1)

    put("visit", pair_scores(jt.visit_id, truth.visit_id))
    put("journey", pair_scores(jt.journey_id, truth.journey_id))
    b, t = out["breaks"], truth.breaks
    for kind in sorted(set(t["kind"].tolist()) | set(b["kind"].tolist())):
        f = b[b["kind"] == kind]
        tt = t[t["kind"] == kind]
        got = set(zip(f["from_row"].tolist(), f["to_row"].tolist()))
        want = set(zip(tt["from_row"].tolist(), tt["to_row"].tolist()))
        put(f"break_{kind}", set_scores(got, want), ("p", "r"))
        fig[f"break_{kind}_n"] = len(want)
    got = set(zip(b["kind"].tolist(), b["from_row"].tolist(), b["to_row"].tolist()))
    want = set(zip(t["kind"].tolist(), t["from_row"].tolist(), t["to_row"].tolist()))
    put("break_all", set_scores(got, want), ("p", "r"))
    f, tf = out["followups"], truth.followups
    status = dict(zip(zip(f["rule"].tolist(), f["trigger_row"].tolist()), f["status"].tolist()))
    true_status = dict(
        zip(zip(tf["rule"].tolist(), tf["trigger_row"].tolist()), tf["status"].tolist())
    )
    fig["followup_status_accuracy"] = round(
        100 * float(np.mean([status.get(k) == s for k, s in true_status.items()])), 1
    )
    flagged = {k for k, s in status.items() if s != "on_time"}
    owed = {k for k, s in true_status.items() if s != "on_time"}
    put("followup_flagged", set_scores(flagged, owed), ("p", "r"))
    # roles: the story's role most of a channel's touches of converting journeys played
    roles = out["roles"].as_dict()
    converted = truth.journeys["converted"][truth.journey_id]
    channel = world.touchpoints.raw("channel")[converted]
    counts = np.zeros((len(world.touchpoints.labels("channel")), len(oj.synth.ROLES)))
    np.add.at(counts, (channel, truth.role[converted]), 1)
    story = {
        c: oj.synth.ROLES[int(np.argmax(row))]
        for c, row in zip(world.touchpoints.labels("channel").tolist(), counts)
        if row.sum()
    }
    fig["roles_agree"] = f"{sum(roles.get(c) == r for c, r in story.items())}/{len(story)}"
    fig["roles_story"] = " ".join(f"{c}:{r}" for c, r in sorted(story.items()))
    stated = oj.synth.CHANNEL_ROLES  # the roles the story gives each channel's design
    fig["roles_stated_agree"] = f"{sum(roles.get(c) == r for c, r in stated.items())}/{len(stated)}"
    res, records = out["resolution"], out["records"]
    put("person", pair_scores(res.person_id, records["true_person_id"]))
    # persons of the observed rows: a record id through the resolution, any other id alone
    obs = world.observed
    person_of = dict(zip(records["record_id"].tolist(), res.person_id.tolist()))
    ids = obs["customer"].tolist()
    group = np.array([f"P{person_of[c]}" if c in person_of else c for c in ids], dtype=object)
    put("observed_person", pair_scores(group, truth.observed["customer"]))
    fig["observed_identified"] = round(100 * float(truth.observed["identified"].mean()), 1)
    return fig


# --------------------------------------------------------------------------- benchmark cases

SETUP = (
    f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
    "import bench_endtoend as E\n"
    "world = E.make_world(n, seed, {difficulty!r})\n"
)
MEASURE = "out = E.run_pipeline(world)"
REPORT = "E.score(world, out)"

CASES = [
    Case(
        case=f"pipeline_{difficulty}",
        tool=OMNIJOURNEY,
        size=n,
        unit="customers",
        setup=SETUP.replace("{difficulty!r}", repr(difficulty)),
        measure=MEASURE,
        report=REPORT,
        repeat=1,
    )
    for difficulty in DIFFICULTIES
    for n in SIZES
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--difficulty", nargs="*", default=list(DIFFICULTIES))
    args = parser.parse_args(argv)
    table: dict[str, dict[str, Any]] = {}
    for d in args.difficulty:
        world = make_world(args.customers, args.seed, d)
        table[d] = score(world, run_pipeline(world))
        print(
            f"{d}: {len(world.touchpoints):,} touchpoints, {len(world.records):,} records",
            flush=True,
        )
    names = list(dict.fromkeys(k for v in table.values() for k in v))
    print(f"\n| figure | {' | '.join(table)} |")
    print(f"|---|{'--:|' * len(table)}")
    for name in names:
        print(f"| {name} | {' | '.join(str(table[d].get(name, '-')) for d in table)} |")


if __name__ == "__main__":
    main()

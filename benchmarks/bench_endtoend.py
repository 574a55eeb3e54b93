"""End to end on the synthetic world: from the source systems' raw records and touchpoints to persons, journeys, breaks and attribution, scored against the story's truth at each difficulty.

- `pipeline_<difficulty>`: a world of `n` customers (25 touchpoints each on average, no
  prices). The raw inputs are what the systems export: `world.observed` (each system's own
  customer ids, labels in its own words, tills writing local times, rows sent twice) and the
  source records, as pandas frames. Timed: load the touchpoints with the world's vocabulary
  maps, the tills' times read as Europe/Paris and exact duplicates dropped; load the records
  (with the SHA-256 of each e-mail, as the e-receipts carry it); `resolve`; `link_touchpoints`
  on the record ids, loyalty cards and e-receipt e-mails, then through the link keys (device,
  payment token, pickup code, e-receipt e-mail, order, cart, quote and reservation ids);
  `sessionize`; `detect_breaks`; the two follow-ups the brand promises; channel roles; Markov
  attribution; and `scale_to_all_buyers` (tills' totals per channel, 200 resamples). The
  notes hold the figures of the accuracy table below, in percent.
- `speed`: the same pipeline on the realistic world of `n` touchpoints (`n / 25`
  customers, about `n / 10` records), timed with its memory.

Scoring (`_endtoend.py`): persons and households as pairwise scores of the partitions;
journeys and visits as pairwise scores over the observed rows (each mapped to the story's
touchpoint), on all rows and on the rows a chain of keys ties to their person (*linkable*);
breaks as crossings: a found break matches a true one of the same kind ending at the same
touchpoint whose `from` is in the same goal (`strict`: the same `from` touchpoint); recall on
*linkable* breaks, those whose two ends a chain of keys ties to their person or a shared
reference id links; follow-ups as the status of each trigger the story owes an answer to,
on all of them and on those whose trigger and answer a chain of keys ties to their person;
attribution as the total variation distance between the pipeline's credit shares and the
same model's on the story's journeys (persons and goals known).

Run it directly for the accuracy table alone (and `--check` to exit 1 when a floor is not
met): `python benchmarks/bench_endtoend.py [--customers N] [--seed S] [--difficulty D ...]`.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _case import OMNIJOURNEY, Case  # noqa: E402

SIZES = (10**4,)
SPEED_SIZES = (10**6, 10**7)
DIFFICULTIES = ("clean", "realistic", "hard")
#: Link keys of the observed touchpoints, strongest first.
KEYS = (
    "device_id", "payment_token", "pickup_code", "receipt_email",
    "order_id", "cart_id", "quote_id", "reservation_id",
)  # fmt: skip
#: Touchpoint column -> record column: the system's own record id, a loyalty card typed with
#: a web order, an e-receipt's hashed e-mail.
ON = {"customer": "record_id", "loyalty_id": "loyalty_id", "receipt_email": "email_hash"}
TIMEZONE = "Europe/Paris"

# --------------------------------------------------------------------------- raw inputs


def make_world(n: int, seed: int, difficulty: str, touchpoints: float = 25.0) -> Any:
    import omnijourney as oj

    return oj.synth.generate(
        n, seed=seed, prices=False, difficulty=difficulty, touchpoints_per_customer=touchpoints
    )


def raw_inputs(world: Any) -> dict[str, Any]:
    """What the systems export: frames of the observed rows and of the records."""
    observed = world.observed.to_pandas()
    records = world.records.to_pandas()
    return {
        "observed": observed,
        "records": records,
        "vocabulary": world.vocabulary,
        "local_time": tuple(world.noise.local_time),
        "end": world.start + np.timedelta64(world.days, "D"),
    }


# --------------------------------------------------------------------------- the pipeline


def _relabel(df: Any, column: str, mapping: dict[str, str]) -> None:
    """Map a categorical column's labels (what ``event_map=``/``channel_map=`` of the
    loaders do, for a library that does not have them yet)."""
    import pandas as pd

    col = df[column].astype("category")
    cats = [mapping.get(c, c) for c in col.cat.categories.tolist()]
    uniq = sorted(set(cats))
    remap = np.array([uniq.index(c) for c in cats] + [-1])
    codes = col.cat.codes.to_numpy()
    df[column] = pd.Categorical.from_codes(remap[np.where(codes >= 0, codes, -1)], uniq)


def _drop_exact_duplicates(tp: Any) -> Any:
    """Later rows equal on every column to an earlier one (what ``duplicates="drop"`` of the
    loaders does, for a library that does not have it yet): a hash of the stored columns,
    then an exact comparison of the rows whose hashes collide."""
    arrays = []
    for c in tp.columns:
        a = tp.raw(c)
        arrays.append(a.view(np.int64) if a.dtype.itemsize == 8 else a.astype(np.int64))
    h = np.zeros(len(tp), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in arrays:
            h = (h * np.uint64(0x100000001B3)) ^ a.astype(np.uint64)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = hs[1:] == hs[:-1]
    for a in arrays:
        same &= a[order][1:] == a[order][:-1]
    drop = np.zeros(len(tp), dtype=bool)
    drop[order[1:][same]] = True
    return tp[~drop]


def load_touchpoints(raw: dict[str, Any]) -> Any:
    """The observed rows as a TouchpointTable in the library's words, times in UTC, each
    double send once (the first copy kept, in the rows' order)."""
    import omnijourney as oj
    from omnijourney.time import local_to_utc

    df = raw["observed"].copy()
    vocab = raw["vocabulary"]
    params = inspect.signature(oj.TouchpointTable.from_columns).parameters
    options: dict[str, Any] = {}
    if "event_map" in params:  # the loaders map the systems' words themselves
        options = {"event_map": vocab["event_map"], "channel_map": vocab["channel_map"]}
    else:
        _relabel(df, "event", vocab["event_map"])
        _relabel(df, "channel", vocab["channel_map"])
    t = df["time"].dt.tz_convert(None).to_numpy().astype("datetime64[us]")
    local = df["source"].isin(list(raw["local_time"])).to_numpy()
    t[local] = local_to_utc(t[local], TIMEZONE)
    df["time"] = t
    std = ("value", "currency", "direction", "source", "order_id", "cart_id", "quote_id")
    std += ("reservation_id", "campaign")
    extra = [c for c in df.columns if c not in (*std, "customer", "time", "channel", "event")]
    if "duplicates" in params:
        options["duplicates"] = "drop"
    tp = oj.TouchpointTable.from_columns(df, **{c: c for c in std}, extra=extra, **options)
    return tp if "duplicates" in params else _drop_exact_duplicates(tp)


def load_records(raw: dict[str, Any]) -> Any:
    from omnijourney.identity import CustomerRecordTable

    df = raw["records"].copy()
    emails = df["email"].astype("category")
    hashes = [
        hashlib.sha256(e.strip().lower().encode()).hexdigest()[:16]
        for e in emails.cat.categories.tolist()
    ]
    codes = emails.cat.codes.to_numpy()
    df["email_hash"] = np.where(codes >= 0, np.array([*hashes, None], dtype=object)[codes], None)
    truth = [c for c in ("true_person_id", "true_household_id") if c in df.columns]
    return CustomerRecordTable.from_columns(df, extra=["email_hash", *truth])


def run_pipeline(raw: dict[str, Any], *, n_resamples: int = 200) -> dict[str, Any]:
    """The library with its defaults, from the raw exports to scaled attribution."""
    from omnijourney.attribution import PathTable, attribute, channel_roles, scale_to_all_buyers
    from omnijourney.identity import link_touchpoints, resolve
    from omnijourney.journeys import FollowUpRule, check_followups, detect_breaks, sessionize

    tp = load_touchpoints(raw)
    records = load_records(raw)
    resolution = resolve(records)
    linked = link_touchpoints(tp, resolution, on=ON, keys=KEYS)
    jt = sessionize(linked)
    breaks = detect_breaks(jt)
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
    paths = PathTable.from_journeys(jt)
    # the tills' and the web's own counts of their sales: every conversion row, anonymous or not
    conv = np.isin(linked["event"], list(jt.rules.conversion_events))
    channels, counts = np.unique(linked["channel"][conv], return_counts=True)
    totals = dict(zip(channels.tolist(), counts.tolist()))
    return {
        "touchpoints": tp,
        "records": records,
        "resolution": resolution,
        "linked": linked,
        "journeys": jt,
        "breaks": breaks,
        "followups": check_followups(jt, rules, as_of=raw["end"]),
        "roles": channel_roles(paths),
        "credit": attribute(paths, "markov"),
        "all_buyers": scale_to_all_buyers(
            jt, totals, breaks=breaks, model="markov", n_resamples=n_resamples
        ),
    }


# --------------------------------------------------------------------------- benchmark cases

SETUP = (
    f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
    "import bench_endtoend as E\n"
    "world = E.make_world(n, seed, {difficulty!r})\n"
    "raw = E.raw_inputs(world)\n"
)
SPEED_SETUP = (
    f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
    "import bench_endtoend as E\n"
    "world = E.make_world(max(n // 25, 1), seed, 'realistic')\n"
    "raw = E.raw_inputs(world)\n"
    "del world\n"
)

CASES = [
    Case(
        case=f"pipeline_{difficulty}",
        tool=OMNIJOURNEY,
        size=n,
        unit="customers",
        setup=SETUP.replace("{difficulty!r}", repr(difficulty)),
        measure="out = E.run_pipeline(raw)",
        report="__import__('_endtoend').score(world, raw, out)",
        repeat=1,
    )
    for difficulty in DIFFICULTIES
    for n in SIZES
] + [
    Case(
        case="speed",
        tool=OMNIJOURNEY,
        size=n,
        unit="touchpoints",
        setup=SPEED_SETUP,
        measure="out = E.run_pipeline(raw)",
        report="__import__('_endtoend').sizes(out)",
        repeat=1,
    )
    for n in SPEED_SIZES
]


def main(argv: list[str] | None = None) -> None:
    import _endtoend
    import _endtoend_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--difficulty", nargs="*", default=list(DIFFICULTIES))
    parser.add_argument("--check", action="store_true", help="exit 1 when a floor is not met")
    args = parser.parse_args(argv)
    table: dict[str, dict[str, Any]] = {}
    for d in args.difficulty:
        world = make_world(args.customers, args.seed, d)
        raw = raw_inputs(world)
        table[d] = _endtoend.score(world, raw, run_pipeline(raw))
        print(
            f"{d}: {len(world.observed):,} observed rows, {len(world.records):,} records",
            flush=True,
        )
    print()
    print("\n".join(_endtoend_table.markdown(table)))
    failed = _endtoend_table.floors_failed(table.get("realistic", {}))
    for f in failed:
        print(f"floor not met on 'realistic': {f}")
    if args.check and failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""``omnijourney demo``: a synthetic world and a short tour of what omnijourney finds in it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from omnijourney._version import __version__
from omnijourney.cli._common import Progress


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [list(map(str, header))] + [[_fmt(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        lines.append(
            "  "
            + "  ".join(
                c.rjust(w) if k and _numeric(c) else c.ljust(w) for c, w in zip(r, widths)
            ).rstrip()
        )
        if k == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("%", "").replace("-", "").isdigit()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _pairwise(found: Any, truth: Any) -> tuple[float, float]:
    """Pairwise precision and recall of a partition against the true one."""
    import numpy as np

    _, f = np.unique(np.asarray(found), return_inverse=True)
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    both = np.unique(f.astype(np.int64) * (t.max() + 1) + t, return_counts=True)[1]

    def pairs(counts: Any) -> float:
        return float((counts * (counts - 1) // 2).sum())

    agree = pairs(both)
    return agree / max(pairs(np.bincount(f)), 1.0), agree / max(pairs(np.bincount(t)), 1.0)


#: The world of the demo by default, the one the tutorials walk through
#: (``oj.synth.generate(n_customers=2_000, seed=7)``), so that their numbers agree.
TUTORIAL_SEED = 7
TUTORIAL_CUSTOMERS = 2_000
#: Where the documentation is published (the ``Documentation`` URL of the package).
DOCS_URL = "https://omnijourney.readthedocs.io"


def _docs_url() -> str:
    """The package's ``Documentation`` URL, as installed (``DOCS_URL`` when unknown)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("omnijourney").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return DOCS_URL
    for entry in urls:
        name, _, url = entry.partition(",")
        if name.strip().lower() == "documentation" and url.strip():
            return url.strip()
    return DOCS_URL


def demo(
    seed: int = TUTORIAL_SEED,
    customers: int = TUTORIAL_CUSTOMERS,
    out: TextIO | None = None,
    *,
    report: str | os.PathLike[str] | None = None,
) -> int:
    """Generate a synthetic world and print a short tour of what omnijourney finds in it;
    with ``report``, also write the HTML report of its results to that file."""
    import numpy as np

    import omnijourney as oj

    out = out if out is not None else sys.stdout
    progress = Progress()
    say: Callable[..., None] = lambda text="": print(text, file=out)  # noqa: E731
    say(f"omnijourney {__version__} demo: a synthetic omnichannel retailer (seed {seed})")
    say()
    with progress.step("generating the world"):
        world = oj.synth.generate(n_customers=customers, seed=seed)
    say(world.summary())
    tp = world.touchpoints
    resolution = audit = None
    say()

    # -- journeys ---------------------------------------------------------------------------
    say("1. Journeys: touchpoints -> visits -> journeys (30 min visits, 14-day journeys)")
    with progress.step("sessionizing"):
        journeys = oj.sessionize(tp)
    for line in journeys.summary().splitlines():
        say(f"   {line}")
    true_journeys = len(set(zip(journeys.journey_id.tolist(), world.truth.journey_id.tolist())))
    say(
        f"   the world's {len(world.truth.journeys):,} true journeys recovered exactly: "
        f"{'yes' if true_journeys == len(journeys) == len(world.truth.journeys) else 'no'}"
    )
    say()
    with progress.step("finding breaks"):
        breaks = oj.journeys.detect_breaks(journeys)
    found = set(
        zip(breaks["kind"].tolist(), breaks["from_row"].tolist(), breaks["to_row"].tolist())
    )
    truth = world.truth.breaks
    expected = set(
        zip(truth["kind"].tolist(), truth["from_row"].tolist(), truth["to_row"].tolist())
    )
    say("2. Where journeys crossed channels (break points)")
    counts = breaks.counts()
    say(_table(sorted(counts.items(), key=lambda kv: -kv[1]), ("break", "count")))
    say(
        f"   {len(found & expected):,} of the {len(expected):,} true breaks found; "
        f"{len(found - expected):,} more: research or forms of an earlier goal within the "
        "30-day windows"
    )
    say()
    segments = oj.journeys.appetence(journeys)
    value = oj.journeys.segment_value(journeys, segments)
    say("3. Channel appetence: who buys where, and what they are worth")
    say(
        _table(
            [
                (
                    value["segment"][i],
                    int(value["customers"][i]),
                    float(value["conversions_per_customer"][i]),
                    float(value["value_per_customer"][i]),
                )
                for i in range(len(value))
            ],
            ("segment", "customers", "purchases/customer", "value/customer (EUR)"),
        )
    )
    say()

    # -- identities -------------------------------------------------------------------------
    if world.records is not None:
        say("4. One customer across systems (identity resolution)")
        with progress.step("resolving identities"):
            records = oj.identity.CustomerRecordTable.from_columns(world.records)
            resolution = oj.identity.resolve(records)
        rec = world.records
        pp, pr = _pairwise(resolution.person_id, rec["true_person_id"])
        hp, hr = _pairwise(resolution.household_id, rec["true_household_id"])
        say(
            f"   {len(rec):,} records in {len(rec.labels('source'))} systems -> "
            f"{resolution.n_persons:,} persons in {resolution.n_households:,} households "
            f"(truth: {np.unique(rec.raw('true_person_id')).size:,} persons, "
            f"{np.unique(rec.raw('true_household_id')).size:,} households)"
        )
        say(
            f"   pairwise precision / recall: persons {pp:.3f} / {pr:.3f}, "
            f"households {hp:.3f} / {hr:.3f}"
        )
        say()

    # -- attribution ------------------------------------------------------------------------
    say("5. Which channels inform, incite and decide (Markov credit and roles)")
    with progress.step("attributing"):
        paths = oj.attribution.PathTable.from_journeys(journeys)
        credit = oj.attribution.markov(paths)
        roles = oj.attribution.channel_roles(journeys)
    role_of = dict(zip(roles.channels, roles.roles))
    order = np.argsort(-credit.conversions)
    say(
        _table(
            [
                (
                    ch,
                    float(credit.conversions[i]),
                    f"{100 * credit.share[i]:.1f}%",
                    role_of.get(ch, ""),
                    oj.synth.CHANNEL_ROLES.get(ch, ""),
                )
                for i, ch in ((i, credit.channels[i]) for i in order)
            ],
            ("channel", "credited conversions", "share", "role found", "true role"),
        )
    )
    say()

    # -- prices -----------------------------------------------------------------------------
    if world.prices is not None:
        p = world.prices
        say("6. Prices and promotions across channels (EU 30-day prior-price rule included)")
        with progress.step("auditing prices"):
            audit = oj.pricing.audit(
                p.prices,
                p.promotions,
                p.stock,
                catalog=p.catalog,
                as_of=world.start + np.timedelta64(world.days, "D"),
            )
        found_rules = {k: v for k, v in audit.counts().items() if v}
        truth_rules = dict(zip(*np.unique(p.violations["rule"].astype(str), return_counts=True)))
        say(
            _table(
                [
                    (rule, n, int(truth_rules.get(rule, 0)))
                    for rule, n in sorted(found_rules.items(), key=lambda kv: -kv[1])
                ],
                ("rule", "findings", "injected"),
            )
        )
        if len(audit.findings):
            say(f"   e.g. {audit.explain(0)}")
        say()
    if report is not None:
        with progress.step("writing the report"):
            oj.reports.report(
                report,
                journeys=journeys,
                breaks=breaks,
                segments=segments,
                resolution=resolution,
                audit=audit,
                prices=world.prices.prices if world.prices is not None else None,
                title=f"omnijourney demo: a synthetic omnichannel retailer (seed {seed})",
            )
        say(f"Report written to {os.fspath(report)}")
    where = _docs_url()
    if seed == TUTORIAL_SEED and customers == TUTORIAL_CUSTOMERS:
        say(
            "Next: the tutorials walk through each step on this same world "
            f"(oj.synth.generate(n_customers={TUTORIAL_CUSTOMERS:_}, seed={TUTORIAL_SEED})):"
        )
    else:
        say(
            "Next: the tutorials walk through each step on the default world of this demo "
            f"(seed {TUTORIAL_SEED}, {TUTORIAL_CUSTOMERS:,} customers):"
        )
    say(f"  {where}/tutorials/  (documentation: {where})")
    return 0

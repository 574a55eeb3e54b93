"""The end-to-end accuracy table: its figures, what limits each, the floors on "realistic".

Standard library only: ``report.py`` renders the table from the saved results with it, and
``bench_endtoend.py`` prints it after a direct run.
"""

from __future__ import annotations

from typing import Any

KINDS = (
    "quote_channel_switch", "click_and_collect", "cart_recovery", "ropo", "showrooming",
    "contact_after_failure", "information_reentered",
)  # fmt: skip
#: The few figures shown in the timing table's notes (the accuracy table has them all).
NOTES_SHOWN = (
    "person_f1", "observed_linked", "journey_linkable_f1", "break_all_p", "break_all_rl",
    "credit_scaled_tvd",
)  # fmt: skip

#: The accuracy table of the documentation: (figure, what it is, what limits it).
FIGURES: tuple[tuple[str, str, str], ...] = (
    (
        "person_p / person_r / person_f1",
        "persons of the records (P / R / F1)",
        "records with typos and shared contacts; anonymous rows are not records",
    ),
    ("household_f1", "households of the records (F1)", "families without a shared address"),
    (
        "observed_named",
        "observed rows naming a record",
        "identification rates of the systems (cards shown, logins)",
    ),
    ("observed_linked", "observed rows linked to a person", "the keys the rows carry"),
    (
        "observed_linkable",
        "observed rows a chain of keys ties to their person",
        "anonymous store visits, contacts and devices that never carry a key",
    ),
    (
        "observed_person_p / observed_person_r / observed_person_f1",
        "persons of the observed rows (P / R / F1)",
        "rows that no key ties to their person",
    ),
    (
        "journey_p / journey_r / journey_f1",
        "journeys over all observed rows (P / R / F1)",
        "unlinkable rows are journeys of their own; parallel goals; pauses over 14 days",
    ),
    (
        "journey_linkable_p / journey_linkable_r / journey_linkable_f1",
        "journeys over linkable rows (P / R / F1)",
        "goals less than 14 days apart merge; pauses over 14 days split a goal",
    ),
    (
        "visit_p / visit_r",
        "visits (P / R)",
        "the story's visit is a sitting: a call or a walk in store is one visit",
    ),
    *(
        (
            f"break_{k}_p / break_{k}_r / break_{k}_pl / break_{k}_rl",
            f"breaks: {k.replace('_', ' ')} (P / R; on linkable breaks P / R)",
            limit,
        )
        for k, limit in (
            ("quote_channel_switch", "quote ids missing or mistyped on one side"),
            ("click_and_collect", "order and reservation ids missing or mistyped"),
            ("cart_recovery", "cart ids missing or mistyped"),
            ("ropo", "research of another goal in the window; research over 30 days"),
            ("showrooming", "store visits of another goal; anonymous store visits"),
            ("contact_after_failure", "calls more than 24 h after the failure"),
            ("information_reentered", "anonymous forms in store"),
        )
    ),
    (
        "break_all_p / break_all_r / break_all_rl",
        "breaks: all (P / R / R on linkable)",
        "both ends must be under one person, or carry one id",
    ),
    (
        "break_all_strict_p / break_all_strict_r",
        "breaks: all, same from row (P / R)",
        "an anonymous last research step leaves an earlier one as the from",
    ),
    (
        "followup_status_accuracy",
        "follow-ups: status as the story's",
        "complaints made from contacts no key ties to the person answered",
    ),
    (
        "followup_linkable / followup_status_linkable",
        "follow-ups whose trigger and answer keys tie to their person; their status as the story's",
        "answers sent to a record the resolution keeps apart",
    ),
    (
        "roles_agree",
        "channel roles equal to the story's majority role",
        "positions in paths, not what a touch did",
    ),
    (
        "credit_tvd_persons_known",
        "Markov credit, persons known: distance to the story's",
        "journeys cut by the 14-day timeout instead of goals",
    ),
    (
        "credit_tvd",
        "Markov credit from raw data: distance to the story's (points)",
        "anonymous store purchases are paths of their own",
    ),
    (
        "credit_scaled_tvd",
        "... scaled to all buyers: distance to the story's (points)",
        "unidentified buyers assumed alike the identified within a channel",
    ),
    (
        "ropo_true / ropo_found / ropo_scaled / ropo_scaled_interval",
        "ROPO: story / found / scaled to all buyers (95% interval)",
        "research on devices no key ties to the buyer",
    ),
)

#: Floors on the realistic world: (figure, at least, what).
FLOORS = (
    ("person_f1", 97.0, "person F1 >= 0.97"),
    ("journey_linkable_f1", 90.0, "episode pairwise F1 >= 0.90 (linkable rows)"),
    *((f"break_{k}_p", 90.0, f"{k} precision >= 0.90") for k in KINDS),
    *((f"break_{k}_rl", 90.0, f"{k} recall on linkable breaks >= 0.90") for k in KINDS),
)


def floors_failed(fig: dict[str, Any]) -> list[str]:
    out = []
    for key, low, text in FLOORS:
        v = fig.get(key)
        if v is None or float(v) < low:
            out.append(f"{text} (measured {v})")
    return out


def markdown(table: dict[str, dict[str, Any]]) -> list[str]:
    """The accuracy table: one row per figure, one column per difficulty."""
    names = list(table)
    lines = [
        f"| figure | {' | '.join(names)} | what limits it |",
        f"|---|{'--:|' * len(names)}---|",
    ]
    for keys, label, limit in FIGURES:
        cells = []
        for d in names:
            vals = [table[d].get(k.strip(), "-") for k in keys.split("/")]
            cells.append(" / ".join(str(v) for v in vals))
        lines.append(f"| {label} | {' | '.join(cells)} | {limit} |")
    return lines

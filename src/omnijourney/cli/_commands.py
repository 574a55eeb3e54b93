"""The commands on the user's files: sessionize, breaks, resolve, attribute, audit, report.

Each command reads its input with the user's column names (``--customer client_id``...),
calls the library as a user would from Python, and writes the result table. Reading problems
(a missing file, a column that is not there or cannot be read, an unknown role) are
:class:`InputError`; the analysis' own refusals stay :class:`OmnijourneyError`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from omnijourney.cli._common import InputError, Progress, count
from omnijourney.cli._files import (
    FORMATS,
    add_reading_options,
    add_role_options,
    add_side_file,
    one_line,
    read_table,
    roles_of,
    write_table,
)
from omnijourney.errors import OmnijourneyError
from omnijourney.tables import Table, TouchpointTable

#: The commands on files, with their one-line help.
COMMANDS = {
    "sessionize": "cut touchpoints into visits and journeys",
    "breaks": "find where journeys cross channels",
    "resolve": "merge customer records into persons and households",
    "attribute": "credit channels with conversions (with bootstrap intervals)",
    "audit": "check prices, promotions and stock across channels",
    "report": "write one self-contained HTML report of the results",
}


def add_commands(sub: Any) -> None:
    """Add the parser of every command on files to the subparsers ``sub``."""
    from omnijourney.attribution import MODELS
    from omnijourney.identity import CustomerRecordTable
    from omnijourney.pricing import PriceTable

    parsers = {}
    for name, help_ in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
        parsers[name] = p
    for name in ("sessionize", "breaks", "attribute", "report"):
        p = parsers[name]
        p.add_argument("touchpoints", metavar="TOUCHPOINTS", help="touchpoints (CSV or parquet)")
        p.add_argument("--visit-timeout", help="inactivity that ends a visit (default 30min)")
        p.add_argument("--journey-timeout", help="inactivity that ends a journey (default 14D)")
    parsers["sessionize"].add_argument(
        "--touchpoints",
        dest="per_touchpoint",
        action="store_true",
        help="write one row per touchpoint with its visit_id and journey_id",
    )
    parsers["breaks"].add_argument(
        "--summary", action="store_true", help="write breaks per kind and channel pair"
    )
    parsers["attribute"].add_argument(
        "--model", choices=MODELS, default="markov", help="the model (default markov)"
    )
    parsers["resolve"].add_argument("records", metavar="RECORDS", help="customer records")
    parsers["resolve"].add_argument(
        "--golden", action="store_true", help="write one golden record per person"
    )
    parsers["audit"].add_argument("prices", metavar="PRICES", help="price intervals")
    parsers["audit"].add_argument("--summary", action="store_true", help="write findings per rule")
    for name in ("audit", "report"):
        p = parsers[name]
        if name == "report":
            add_side_file(p, "records", "customer records")
            add_side_file(p, "prices", "price intervals")
        add_side_file(p, "promotions", "promotions")
        add_side_file(p, "stock", "stock observations")
        p.add_argument("--as-of", help="when the prices were extracted (default: latest time)")
        p.add_argument("--policy", choices=("eu", "france"), default="eu", help="price policy")
    for name in ("attribute", "report"):
        p = parsers[name]
        p.add_argument(
            "--intervals",
            type=count(0),
            default=200 if name == "report" else 0,
            metavar="N",
            help="bootstrap resamples of the intervals (0: none; "
            f"default {200 if name == 'report' else 0})",
        )
        p.add_argument("--seed", type=count(0), default=0, help="seed of the bootstrap")
    parsers["report"].add_argument("--title", default="omnijourney report", help="the title")
    main_table = {"resolve": (CustomerRecordTable, "records"), "audit": (PriceTable, "prices")}
    for name, p in parsers.items():
        table_type, what = main_table.get(name, (TouchpointTable, "touchpoints"))
        add_role_options(p, table_type, what)
        add_reading_options(p)
        out = p.add_argument_group("output")
        out.add_argument(
            "-o", "--output", metavar="FILE", help="where to write (default: standard output)"
        )
        if name != "report":
            out.add_argument(
                "--format", choices=FORMATS, help="csv, parquet or json (default: by extension)"
            )
        p.set_defaults(run=RUNS[name])


def _journeys(args: argparse.Namespace, progress: Progress) -> Any:
    import omnijourney as oj

    with progress.step(f"reading {args.touchpoints}"):
        touchpoints = read_table(TouchpointTable, args.touchpoints, roles_of(args), args)
    rules = {
        key: getattr(args, key)
        for key in ("visit_timeout", "journey_timeout")
        if getattr(args, key) is not None
    }
    try:
        journey_rules = oj.JourneyRules(**rules)
    except OmnijourneyError as exc:
        raise InputError(one_line(exc)) from None
    with progress.step("sessionizing"):
        return oj.sessionize(touchpoints, journey_rules)


def _side(args: argparse.Namespace, name: str, table_type: type[Table], progress: Progress) -> Any:
    path = getattr(args, name)
    if path is None:
        if getattr(args, f"{name}_column"):
            msg = f"--{name}-column is given without --{name} FILE"
            raise InputError(msg)
        return None
    with progress.step(f"reading {path}"):
        roles = dict(getattr(args, f"{name}_column"))
        return read_table(table_type, path, roles, args, main=False)


def run_sessionize(args: argparse.Namespace, progress: Progress) -> None:
    journeys = _journeys(args, progress)
    table = journeys.touchpoint_table() if args.per_touchpoint else journeys.journeys
    write_table(table, args.output, args.format)


def run_breaks(args: argparse.Namespace, progress: Progress) -> None:
    from omnijourney.journeys import detect_breaks

    journeys = _journeys(args, progress)
    with progress.step("finding breaks"):
        breaks = detect_breaks(journeys)
    write_table(breaks.pair_counts() if args.summary else breaks, args.output, args.format)


def run_resolve(args: argparse.Namespace, progress: Progress) -> None:
    from omnijourney.identity import CustomerRecordTable, resolve

    with progress.step(f"reading {args.records}"):
        records = read_table(CustomerRecordTable, args.records, roles_of(args), args)
    with progress.step("resolving identities"):
        resolution = resolve(records)
    write_table(resolved_records(resolution, golden=args.golden), args.output, args.format)


def resolved_records(resolution: Any, *, golden: bool = False) -> Table:
    """The records with their ``person_id`` and ``household_id``, or the golden records."""
    if golden:
        return resolution.golden_records()
    records = resolution.records
    return records.with_column("person_id", resolution.person_id, kind="int").with_column(
        "household_id", resolution.household_id, kind="int"
    )


def run_attribute(args: argparse.Namespace, progress: Progress) -> None:
    from omnijourney.attribution import PathTable, attribute, bootstrap

    journeys = _journeys(args, progress)
    paths = PathTable.from_journeys(journeys)
    result: Any
    with progress.step(f"attributing ({args.model})"):
        if args.intervals:
            result = bootstrap(paths, args.model, n_resamples=args.intervals, seed=args.seed)
        else:
            result = attribute(paths, args.model)
    write_table(credit_table(result), args.output, args.format)


def credit_table(result: Any) -> Table:
    """One row per channel: credit, value and share (and their intervals, when any)."""
    return Table.from_columns({"channel": result.channels, **result.columns()})


def _audit(args: argparse.Namespace, prices: Any, progress: Progress) -> Any:
    from omnijourney.pricing import Policy, PromotionTable, StockTable, audit

    promotions = _side(args, "promotions", PromotionTable, progress)
    stock = _side(args, "stock", StockTable, progress)
    policy = Policy.france() if args.policy == "france" else Policy.eu()
    with progress.step("auditing prices"):
        return audit(prices, promotions, stock, policy=policy, as_of=args.as_of)


def run_audit(args: argparse.Namespace, progress: Progress) -> None:
    from omnijourney.pricing import PriceTable

    with progress.step(f"reading {args.prices}"):
        prices = read_table(PriceTable, args.prices, roles_of(args), args)
    result = _audit(args, prices, progress)
    write_table(
        result.summary_table() if args.summary else result.findings, args.output, args.format
    )


def run_report(args: argparse.Namespace, progress: Progress) -> None:
    import sys

    from omnijourney.identity import CustomerRecordTable, resolve
    from omnijourney.pricing import PriceTable
    from omnijourney.reports import report

    journeys = _journeys(args, progress)
    records = _side(args, "records", CustomerRecordTable, progress)
    prices = _side(args, "prices", PriceTable, progress)
    if prices is None and (args.promotions or args.stock):
        msg = "--promotions and --stock are audited with the prices: pass --prices FILE"
        raise InputError(msg)
    resolution = None
    if records is not None:
        with progress.step("resolving identities"):
            resolution = resolve(records)
    result = None if prices is None else _audit(args, prices, progress)
    with progress.step("writing the report"):
        html = report(
            None,
            journeys=journeys,
            resolution=resolution,
            prices=prices,
            audit=result,
            title=args.title,
            n_resamples=args.intervals,
            seed=args.seed,
        ).html
    if args.output is None or args.output == "-":
        sys.stdout.write(html)
    else:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(html)


RUNS: dict[str, Callable[[argparse.Namespace, Progress], None]] = {
    "sessionize": run_sessionize,
    "breaks": run_breaks,
    "resolve": run_resolve,
    "attribute": run_attribute,
    "audit": run_audit,
    "report": run_report,
}

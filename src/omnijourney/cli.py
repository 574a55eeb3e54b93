"""Command-line interface: ``omnijourney demo`` (or ``python -m omnijourney demo``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from omnijourney._version import __version__


class _Progress:
    """Step messages on stderr when it is a terminal; silent otherwise (pipes, tests)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        if self.enabled:
            self.stream.write(f"  {label}...")
            self.stream.flush()
        yield
        if self.enabled:
            self.stream.write(f" {time.perf_counter() - start:.1f} s\n")
            self.stream.flush()


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


def demo(seed: int = 0, customers: int = 2_000, out: TextIO | None = None) -> int:
    """Generate a synthetic world and print a short tour of what omnijourney finds in it."""
    import numpy as np

    import omnijourney as oj

    out = out if out is not None else sys.stdout
    progress = _Progress()
    say: Callable[[str], None] = lambda text="": print(text, file=out)  # noqa: E731
    say(f"omnijourney {__version__} demo: a synthetic omnichannel retailer (seed {seed})")
    say()
    with progress.step("generating the world"):
        world = oj.synth.generate(n_customers=customers, seed=seed)
    say(world.summary())
    say()
    tp = world.touchpoints
    say(f"Touchpoints: {len(tp):,} rows in {tp.nbytes / len(tp):.0f} bytes a row")
    channel = tp.raw("channel")
    labels = tp.labels("channel")
    counts = np.bincount(channel, minlength=labels.size)
    per_customer = np.zeros((labels.size,), dtype=np.int64)
    cust = tp.raw("customer").astype(np.int64)
    for c in range(labels.size):
        per_customer[c] = np.unique(cust[channel == c]).size
    rows = [
        (labels[c], int(counts[c]), f"{100 * counts[c] / len(tp):.1f}%", int(per_customer[c]))
        for c in np.argsort(-counts)
    ]
    say(_table(rows, ("channel", "touchpoints", "share", "customers")))
    say()
    offsets = tp.customer_offsets()
    sizes = np.diff(offsets)
    k = int(np.argmax(np.where(sizes <= 12, sizes, 0)))
    who = tp.labels("customer")[tp.raw("customer")[offsets[k]]]
    say(f"One customer's touchpoints across channels ({who}):")
    for row in tp[offsets[k] : offsets[k + 1]]:
        ref = next(
            (
                f"{name}={getattr(row, name)}"
                for name in ("order_id", "quote_id", "cart_id", "reservation_id")
                if getattr(row, name)
            ),
            "",
        )
        value = f"{row.value:,.2f} EUR" if row.value is not None else ""
        say(f"  {row.time:%Y-%m-%d %H:%M}  {row.channel:<11} {row.event:<16} {value:>12}  {ref}")
    say()
    if world.records is not None:
        rec = world.records
        persons = np.unique(rec.raw("true_person_id")).size
        say(
            f"Customer records: {len(rec):,} records in {len(rec.labels('source'))} systems "
            f"for {persons:,} real persons ({len(rec) / persons:.2f} records a person)"
        )
    if world.prices is not None:
        v = world.prices.violations
        kinds = v.labels("rule")
        vc = np.bincount(v.raw("rule"), minlength=kinds.size)
        say(f"Prices: {len(world.prices.prices):,} price intervals; injected inconsistencies:")
        say(_table([(kinds[i], int(vc[i])) for i in np.argsort(-vc)], ("rule", "count")))
    say()
    say("Next: see the tutorials in the documentation for journeys, identities, attribution")
    say("and price audits on this same world.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omnijourney`` command."""
    parser = argparse.ArgumentParser(
        prog="omnijourney",
        description="Omnichannel customer modelling: identities, journeys, attribution, prices.",
    )
    parser.add_argument("--version", action="version", version=f"omnijourney {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    p_demo = sub.add_parser(
        "demo", help="generate a synthetic world and print what omnijourney finds in it"
    )
    p_demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p_demo.add_argument(
        "--customers", type=int, default=2_000, help="number of customers (default 2000)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.customers < 1:
            parser.error("--customers must be at least 1")
        return demo(seed=args.seed, customers=args.customers)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

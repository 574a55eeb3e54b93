"""Command-line interface: ``omnijourney <command>`` (or ``python -m omnijourney <command>``).

``demo`` tours a synthetic world; ``sessionize``, ``breaks``, ``resolve``, ``attribute``,
``audit`` and ``report`` run on the user's CSV or parquet files.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from omnijourney._version import __version__
from omnijourney.cli._commands import COMMANDS, add_commands
from omnijourney.cli._common import InputError, Progress, count
from omnijourney.cli._demo import TUTORIAL_CUSTOMERS, TUTORIAL_SEED, _pairwise, demo
from omnijourney.cli._files import one_line

__all__ = ["demo", "main"]

_ = _pairwise  # kept importable from here


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnijourney",
        description="Omnichannel customer modelling: identities, journeys, attribution, prices.",
    )
    parser.add_argument("--version", action="version", version=f"omnijourney {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    p_demo = sub.add_parser(
        "demo", help="generate a synthetic world and print what omnijourney finds in it"
    )
    p_demo.add_argument(
        "--seed",
        type=count(0),
        default=TUTORIAL_SEED,
        help=f"random seed, >= 0 (default {TUTORIAL_SEED}, the tutorials' world)",
    )
    p_demo.add_argument(
        "--customers",
        type=count(1),
        default=TUTORIAL_CUSTOMERS,
        help=f"number of customers (default {TUTORIAL_CUSTOMERS})",
    )
    p_demo.add_argument("--report", metavar="FILE", help="also write the HTML report there")
    add_commands(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return demo(seed=args.seed, customers=args.customers, report=args.report)
    args.run(args, Progress())
    return 0


def _warning_line(command: str) -> Callable[..., None]:
    """Warnings as one line on stderr, without the source line Python adds."""

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = one_line(message)
        print(f"omnijourney {command}: warning: {text}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omnijourney`` command.

    Exit status: 0 on success; 2 for a usage error (no command, a bad option value: one line
    on stderr after the usage) and for input that cannot be read (a missing file, a column
    that is not there or cannot be read, an unknown role or mapping: one line on stderr);
    1 when omnijourney refuses to analyse the data it read (its message on stderr). When the
    reader of the output goes away (``omnijourney demo | head``), the command ends quietly,
    as Python's documentation advises for SIGPIPE.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"a command is required ({', '.join(['demo', *COMMANDS])})")
    from omnijourney.errors import OmnijourneyError

    try:
        with warnings.catch_warnings():
            # the library's warnings once per place; other packages' deprecations are for
            # their callers (the library), not for the person at the terminal
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category)
                warnings.filterwarnings("default", category=category, module="omnijourney")
            warnings.showwarning = _warning_line(args.command)
            code = _run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader closed the pipe: send what is still buffered nowhere, and stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except InputError as exc:
        print(f"omnijourney {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OmnijourneyError as exc:
        print(f"omnijourney {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # an output file that cannot be written
        print(f"omnijourney {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return code

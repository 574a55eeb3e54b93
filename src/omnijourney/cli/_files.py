"""The user's files: reading a table with the user's column names, writing a result table.

Input is CSV (plain or compressed) or parquet, by extension; output is CSV, parquet or JSON (a
list of row objects), by ``--format`` or by extension, CSV on standard output by default.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from omnijourney.cli._common import InputError, pair
from omnijourney.errors import OmnijourneyError
from omnijourney.tables import Table

#: Output formats, and the extensions that choose them.
FORMATS = ("csv", "parquet", "json")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
_PARQUET = (".parquet", ".pq")


def one_line(exc: BaseException) -> str:
    """An error's message on one line (the library's messages may list rows on several)."""
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def command_line_terms(message: str) -> str:
    """A loader's message in the terms of the command line: ``pass customer='<your
    column>'`` becomes ``pass --customer COLUMN``; the advice on a keyword the command line
    does not have is dropped."""
    message = re.sub(
        r"pass (\w+)='<your column>'",
        lambda m: f"pass --{m[1].replace('_', '-')} COLUMN",
        message,
    )
    return re.sub(r"\.? ?Pass errors='quarantine'[^.]*\.?$", "", message)


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that reads a file of the user's."""
    group = parser.add_argument_group("reading the files")
    group.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="COLUMN",
        help="another column to keep (repeat for several)",
    )
    group.add_argument(
        "--event-map",
        action="append",
        type=pair,
        default=[],
        metavar="YOURS=OURS",
        help="map one of your event labels to the library's (achat=purchase)",
    )
    group.add_argument(
        "--channel-map",
        action="append",
        type=pair,
        default=[],
        metavar="YOURS=OURS",
        help="map one of your channel labels to the library's (boutique=store)",
    )
    group.add_argument("--tz", help="time zone of times written without one (default UTC)")
    group.add_argument("--time-format", help="strptime format of times that are not ISO 8601")
    group.add_argument(
        "--time-unit", choices=("s", "ms", "us", "ns"), help="unit of numeric epoch times"
    )
    group.add_argument(
        "--decimal", choices=(".", ","), default=".", help="decimal mark of numbers in text"
    )
    group.add_argument("--delimiter", default=",", help="CSV field separator (default ',')")
    group.add_argument(
        "--rejects",
        metavar="FILE",
        help="keep going without the rows of the input that cannot be read, and write them "
        "there with the reason (CSV, parquet or JSON by extension; default: refuse the file)",
    )


def add_role_options(parser: argparse.ArgumentParser, table_type: type[Table], what: str) -> None:
    """``--<role> COLUMN`` for each role of ``table_type``: which of the user's columns fills
    it (by default the column of the role's own name)."""
    group = parser.add_argument_group(
        f"columns of the {what}",
        "the column of each role, when it is not named after the role",
    )
    for spec in table_type.schema:
        need = "required" if spec.required else "optional"
        group.add_argument(
            f"--{spec.name.replace('_', '-')}",
            dest=f"role_{spec.name}",
            metavar="COLUMN",
            help=f"{spec.kind}, {need}",
        )


def add_side_file(parser: argparse.ArgumentParser, name: str, what: str) -> None:
    """``--<name> FILE`` and ``--<name>-column ROLE=COLUMN`` for another input file."""
    parser.add_argument(f"--{name}", metavar="FILE", help=f"{what} (CSV or parquet)")
    parser.add_argument(
        f"--{name}-column",
        action="append",
        type=pair,
        default=[],
        metavar="ROLE=COLUMN",
        help=f"the column of one role of the {what} (repeat for several)",
    )


def roles_of(args: argparse.Namespace) -> dict[str, str]:
    """The ``--<role>`` options given, as ``from_columns`` keywords."""
    return {
        key[len("role_") :]: value
        for key, value in vars(args).items()
        if key.startswith("role_") and value is not None
    }


def read_table(
    table_type: type[Table],
    path: str | os.PathLike[str],
    roles: Mapping[str, str],
    args: argparse.Namespace,
    *,
    main: bool = True,
) -> Any:
    """Read ``path`` into ``table_type`` with the user's column names and reading options.

    ``--extra`` columns are kept from the ``main`` input only. Raises :class:`InputError`
    (one line naming the file) for a missing or unreadable file, a
    column that is not there or cannot be read, and an unknown role or label mapping.
    """
    file = Path(path)
    if not file.is_file():
        reason = "is a directory" if file.is_dir() else "no such file"
        msg = f"{file}: {reason}"
        raise InputError(msg)
    options: dict[str, Any] = dict(roles)
    if args.extra and main:
        options["extra"] = list(args.extra)
    # the label maps apply to every file that has the column they map
    has = {spec.name for spec in table_type.schema}
    if args.event_map and "event" in has:
        options["event_map"] = dict(args.event_map)
    if args.channel_map and "channel" in has:
        options["channel_map"] = dict(args.channel_map)
    for name in ("tz", "time_format", "time_unit"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.decimal != ".":
        options["decimal"] = args.decimal
    quarantine = main and args.rejects is not None
    if quarantine:
        options["errors"] = "quarantine"
    try:
        if file.name.lower().endswith(_PARQUET):
            loaded = table_type.from_parquet(file, **options)
        else:
            loaded = table_type.from_csv(file, delimiter=args.delimiter, **options)
    # ValueError: a reader's own (pyarrow's ArrowInvalid for a file that is not parquet...)
    except (OmnijourneyError, OSError, ValueError) as exc:
        raise InputError(f"{file}: {command_line_terms(one_line(exc))}") from None
    if not quarantine:
        return loaded
    write_table(loaded.rejects, args.rejects, None)
    if loaded.n_rejected:
        print(
            f"omnijourney {args.command}: {loaded.n_rejected:,} of {loaded.n_in:,} rows of "
            f"{file} refused, written with the reason to {args.rejects}",
            file=sys.stderr,
        )
    return loaded.kept


def output_format(output: str | None, fmt: str | None) -> str:
    """The format asked for, else the one of the output's extension, else CSV."""
    if fmt is not None:
        return fmt
    if output is None or output == "-":
        return "csv"
    name = output.lower().removesuffix(".gz")
    return next((f for ext, f in _EXTENSIONS.items() if name.endswith(ext)), "csv")


def write_table(table: Table, output: str | None, fmt: str | None) -> None:
    """Write ``table`` to ``output`` (standard output when None or ``-``)."""
    kind = output_format(output, fmt)
    to_stdout = output is None or output == "-"
    if kind == "parquet":
        if to_stdout:
            msg = "parquet output needs a file: pass --output FILE.parquet"
            raise InputError(msg)
        assert output is not None
        table.to_parquet(output)
        return
    if to_stdout:
        _write_text(table, kind, sys.stdout)
        return
    assert output is not None
    with open(output, "w", newline="", encoding="utf-8") as fh:
        _write_text(table, kind, fh)


def _write_text(table: Table, kind: str, stream: TextIO) -> None:
    if kind == "csv":
        table.to_csv(stream)
    else:
        json.dump(json_rows(table), stream, indent=1, allow_nan=False)
        stream.write("\n")


def json_rows(table: Table) -> list[dict[str, Any]]:
    """The rows of ``table`` as JSON objects: times in ISO 8601 with ``Z``, nulls and NaN as
    ``null``."""
    columns: list[Sequence[Any]] = []
    for name, kind in table.kinds.items():
        values = table.column_values(name)
        if kind == "time":
            text = np.datetime_as_string(values, unit="us").astype(object) + "Z"
            columns.append([None if np.isnat(t) else s for t, s in zip(values, text)])
        elif kind == "float":
            columns.append([None if math.isnan(v) else v for v in values.tolist()])
        elif kind == "enum":
            columns.append([None if v is None else str(getattr(v, "value", v)) for v in values])
        else:
            columns.append(values.tolist())
    return [dict(zip(table.columns, row)) for row in zip(*columns)]

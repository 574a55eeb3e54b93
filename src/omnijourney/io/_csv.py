"""CSV reading (pyarrow, the standard library, or polars) and writing (the standard library).

Files are read as text, column by column; the table builders then give each column its kind
(roles by their schema, extras by their text), so that every engine gives the same table.
Compressed files (gzip, bzip2, xz, zip) are recognised by their first bytes.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import importlib.util
import io
import lzma
import os
import zipfile
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, TextIO

import attrs
import numpy as np

from omnijourney._columns import TextColumns
from omnijourney._validation import check_choice
from omnijourney.errors import ConfigError, DataError, SchemaError

if TYPE_CHECKING:
    from omnijourney.tables import Table

ENGINES = ("auto", "pyarrow", "polars", "python")
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}


def read_csv_text(
    path: str | os.PathLike[str],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    null_values: Sequence[str] = ("",),
    engine: str = "auto",
) -> TextColumns:
    """The columns of a CSV file as text (strings, None for nulls), with the header's names."""
    check_choice(engine, "engine", ENGINES)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        msg = f"The 'delimiter' parameter must be one character. Got {delimiter!r} instead."
        raise ConfigError(msg)
    if isinstance(null_values, str) or not all(isinstance(v, str) for v in null_values):
        msg = f"The 'null_values' parameter must be a list of strings. Got {null_values!r}."
        raise ConfigError(msg)
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        msg = f"The 'encoding' parameter must be a text encoding. Got {encoding!r} instead."
        raise ConfigError(msg) from None
    name = os.fspath(path)
    where = f"CSV file {name!r}"
    if engine == "auto":
        # polars is not picked unasked: it reads a short row as empty trailing fields
        engine = "pyarrow" if importlib.util.find_spec("pyarrow") is not None else "python"
    with _open(name) as raw:
        header = _header(raw, codec, delimiter, where)
        form = _Format(header, codec, delimiter, tuple(null_values), where)
        if engine == "pyarrow":
            columns = _read_pyarrow(raw, form)
        elif engine == "polars":
            columns = _read_polars(raw, form)
        else:
            columns = _read_python(raw, form)
    return TextColumns(zip(header, columns))


@attrs.frozen
class _Format:
    """What the readers need to know of a file: its header and how its text is written."""

    header: list[str]
    codec: str
    delimiter: str
    null_values: tuple[str, ...]
    where: str


def _open(name: str) -> Any:
    """The file's bytes, decompressed when its first bytes say it is compressed."""
    try:
        fh = open(name, "rb")  # noqa: SIM115 - returned to the caller's with block
    except OSError as exc:
        msg = f"cannot open CSV file {name!r}: {exc.strerror or exc}"
        raise SchemaError(msg) from exc
    head = fh.read(8)
    fh.seek(0)
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind == "gzip":
        return gzip.open(fh)
    if kind == "bzip2":
        return bz2.open(fh)
    if kind == "xz":
        return lzma.open(fh)
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            msg = f"{name!r} starts like a zip file but cannot be opened as one: {exc}"
            raise SchemaError(msg) from exc
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            msg = f"zip file {name!r} must hold one CSV file; it holds {members}"
            raise SchemaError(msg)
        return archive.open(members[0])
    return fh


def _decode_error(where: str, codec: str, exc: Exception) -> DataError:
    detail = f" ({exc.reason} at byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
    return DataError(
        f"cannot be decoded as {codec}{detail}",
        table=where,
        hint="Pass encoding= with the file's encoding (for example encoding='latin-1' or "
        "'cp1252' for many spreadsheet exports)",
    )


def _header(raw: IO[bytes], codec: str, delimiter: str, where: str) -> list[str]:
    try:
        first = raw.readline()
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        msg = f"{where} cannot be read: {exc}"
        raise SchemaError(msg) from exc
    try:
        text = first.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeError as exc:
        raise _decode_error(where, codec, exc) from None
    if not text.strip():
        msg = f"{where} is empty (no header line)"
        raise SchemaError(msg)
    try:
        header = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        msg = f"{where}: its header line cannot be read: {exc}"
        raise SchemaError(msg) from None
    if len(set(header)) != len(header):
        msg = f"{where} has duplicate column names: {header}"
        raise SchemaError(msg)
    return header


def _read_python(raw: IO[bytes], f: _Format) -> list[np.ndarray]:
    nulls = set(f.null_values)
    text = io.TextIOWrapper(raw, encoding=f.codec, newline="")
    try:
        rows = [row for row in csv.reader(text, delimiter=f.delimiter) if row]
    except UnicodeError as exc:
        raise _decode_error(f.where, f.codec, exc) from None
    except (csv.Error, OSError, EOFError, lzma.LZMAError) as exc:
        msg = f"{f.where} cannot be read: {exc}"
        raise SchemaError(msg) from exc
    width = len(f.header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(
                f"has {len(row)} fields, expected {width}",
                table=f.where,
                rows=[i],
                values=[f.delimiter.join(row)],
            )
    columns = []
    for j in range(width):
        col = np.empty(len(rows), dtype=object)
        col[:] = [None if r[j] in nulls else r[j] for r in rows]
        columns.append(col)
    return columns


def _utf8(raw: IO[bytes], f: _Format) -> IO[bytes]:
    """The rest of the stream as UTF-8 bytes (engines that read UTF-8 only)."""
    if f.codec == "utf-8":
        return raw
    try:
        return io.BytesIO(raw.read().decode(f.codec).encode("utf-8"))
    except UnicodeError as exc:
        raise _decode_error(f.where, f.codec, exc) from None
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        msg = f"{f.where} cannot be read: {exc}"
        raise SchemaError(msg) from exc


def _parse_error(f: _Format, exc: Exception) -> Exception:
    text = str(exc)
    if "utf8" in text.lower() or "utf-8" in text.lower():
        return _decode_error(f.where, f.codec, exc)
    return DataError(f"cannot be read as CSV: {text}", table=f.where)


def _read_pyarrow(raw: IO[bytes], f: _Format) -> list[Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            _utf8(raw, f),
            read_options=pacsv.ReadOptions(column_names=f.header),
            parse_options=pacsv.ParseOptions(delimiter=f.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(f.header, pa.string()),
                null_values=list(f.null_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null="" in f.null_values,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _parse_error(f, exc) from None
    except (OSError, EOFError, lzma.LZMAError) as exc:
        msg = f"{f.where} cannot be read: {exc}"
        raise SchemaError(msg) from exc
    return [table.column(j) for j in range(len(f.header))]


def _read_polars(raw: IO[bytes], f: _Format) -> list[np.ndarray]:
    import polars as pl

    try:
        frame = pl.read_csv(
            _utf8(raw, f),
            has_header=False,
            new_columns=f.header,
            separator=f.delimiter,
            infer_schema=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise _parse_error(f, exc) from None
    nulls = set(f.null_values)
    columns = []
    for j in range(len(f.header)):
        values = frame.to_series(j).to_list()
        col = np.empty(len(values), dtype=object)
        col[:] = [None if v is None or v in nulls else v for v in values]
        columns.append(col)
    return columns


def write_csv(table: Table, path: str | os.PathLike[str] | TextIO, *, delimiter: str = ",") -> None:
    """Write ``table`` to a file, or to an open text stream (standard output...)."""
    if not isinstance(path, (str, os.PathLike)):
        _write_rows(table, path, delimiter)
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        _write_rows(table, fh, delimiter)


def _write_rows(table: Table, fh: TextIO, delimiter: str) -> None:
    cols = []
    for name, kind in table.kinds.items():
        values = table.column_values(name)
        if kind == "time":
            text = np.datetime_as_string(values, unit="us").astype(object)
            text = np.where(np.isnat(values), "", text + "Z")
            cols.append(text.tolist())
        elif kind == "float":
            cols.append(["" if np.isnan(v) else repr(float(v)) for v in values.tolist()])
        else:
            cols.append(["" if v is None else str(v) for v in values.tolist()])
    writer = csv.writer(fh, delimiter=delimiter)
    writer.writerow(table.columns)
    writer.writerows(zip(*cols))

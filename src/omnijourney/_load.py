"""Loading the user's columns: the options, which column fills which role, exact duplicate
rows, and the report a table keeps of how it was loaded.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np

from omnijourney._columns import KINDS, ColumnSpec, Source
from omnijourney._convert import ReadOptions, guess_kind
from omnijourney._validation import check_choice
from omnijourney._vocabulary import Vocabulary, vocabulary_from
from omnijourney.errors import ConfigError, OmnijourneyWarning, SchemaError
from omnijourney.model import channel_catalog
from omnijourney.time import _tzinfo

if TYPE_CHECKING:
    from omnijourney._table import Table

ErrorMode = Literal["raise", "quarantine"]
DuplicateMode = Literal["report", "drop", "raise", "keep"]
DUPLICATE_MODES = ("report", "drop", "raise", "keep")
logger = logging.getLogger("omnijourney.tables")

#: Keyword options of ``from_columns`` (every other keyword names a role).
OPTIONS = (
    "extra",
    "extra_kinds",
    "columns",
    "kinds",
    "channels",
    "constants",
    "vocabulary",
    "event_map",
    "channel_map",
    "tz",
    "time_unit",
    "time_format",
    "decimal",
    "duplicates",
    "errors",
)


@attrs.frozen(kw_only=True)
class LoadOptions:
    """The validated options of one load (see ``Table.from_columns``)."""

    extra: tuple[tuple[str, str], ...] | bool = ()
    extra_kinds: tuple[tuple[str, str], ...] = ()
    #: kinds given under their first name (``kinds=`` of a plain Table), which ignored names
    #: that are not columns: kept so for the calls written then
    lenient_kinds: bool = False
    channels: Any = None
    constants: tuple[tuple[str, Any], ...] = ()
    vocabulary: Vocabulary | None = None
    #: the columns mapped by event_map= / channel_map= (a table must have them)
    mapped: tuple[str, ...] = ()
    read: ReadOptions = attrs.field(factory=ReadOptions)
    duplicates: str | None = None
    errors: str = "raise"

    @classmethod
    def from_keywords(cls, options: Mapping[str, Any], *, textual: bool = False) -> LoadOptions:
        opts = dict(options)
        lenient = opts.get("kinds") is not None
        for alias, name in (("columns", "extra"), ("kinds", "extra_kinds")):
            if alias in opts:
                if opts.get(name) is not None:
                    msg = f"pass {name}= or {alias}= (its other name), not both"
                    raise ConfigError(msg)
                opts[name] = opts.pop(alias)
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            msg = f"unknown options {unknown}; the options are {sorted(OPTIONS)}"
            raise ConfigError(msg)
        errors = opts.get("errors", "raise")
        check_choice(errors, "errors", ("raise", "quarantine"))
        duplicates = opts.get("duplicates")
        if duplicates is not None:
            check_choice(duplicates, "duplicates", DUPLICATE_MODES)
        decimal = opts.get("decimal", ".")
        check_choice(decimal, "decimal", (".", ","))
        unit = opts.get("time_unit")
        if unit is not None:
            check_choice(unit, "time_unit", ("s", "ms", "us", "ns"))
        fmt = opts.get("time_format")
        if fmt is not None and not isinstance(fmt, str):
            msg = f"The 'time_format' parameter must be a strptime format. Got {fmt!r} instead."
            raise ConfigError(msg)
        tz = opts.get("tz")
        _tzinfo(tz)  # ConfigError for an unknown zone
        channels = _channels(opts.get("channels"))
        vocabulary = vocabulary_from(
            opts.get("vocabulary"), opts.get("event_map"), opts.get("channel_map")
        )
        return cls(
            extra=_extra(opts.get("extra")),
            extra_kinds=_kinds(opts.get("extra_kinds")),
            lenient_kinds=lenient,
            channels=channels,
            constants=_constants(opts.get("constants")),
            vocabulary=vocabulary,
            mapped=tuple(
                c for c, o in (("event", "event_map"), ("channel", "channel_map")) if opts.get(o)
            ),
            read=ReadOptions(tz, unit, fmt, decimal, textual),
            duplicates=duplicates,
            errors=errors,
        )


def _extra(value: Any) -> tuple[tuple[str, str], ...] | bool:
    if value is None or value is False:
        return ()
    if value is True:
        return True
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = (
            "The 'extra' parameter must be a list of column names, a mapping of new name -> "
            f"input column, or True (every column no role takes). Got {value!r} instead."
        )
        raise ConfigError(msg)
    else:
        pairs = [(v, v) for v in value]
    for name, given in pairs:
        if not isinstance(name, str) or not isinstance(given, str):
            msg = f"The 'extra' parameter must name columns with strings. Got {value!r} instead."
            raise ConfigError(msg)
    return tuple(pairs)


def _kinds(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        msg = f"The 'extra_kinds' parameter must be a mapping of column -> kind. Got {value!r}."
        raise ConfigError(msg)
    allowed = tuple(k for k in KINDS if k != "enum")
    for name, kind in value.items():
        if kind not in allowed:
            msg = (
                f"The kind of extra column {name!r} must be one of {', '.join(allowed)}. "
                f"Got {kind!r} instead."
            )
            raise ConfigError(msg)
    return tuple((str(k), str(v)) for k, v in value.items())


def _constants(value: Any) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    scalar = (str, int, float, bool)
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, scalar) for k, v in value.items()
    ):
        msg = (
            "The 'constants' parameter must map roles to one value each (a str, int, float "
            f"or bool), such as {{'channel': 'store'}}. Got {value!r} instead."
        )
        raise ConfigError(msg)
    return tuple(value.items())


def _channels(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = (
            "The 'channels' parameter must be a list of Channel objects or a mapping of "
            f"name -> kind. Got {value!r} instead."
        )
        raise ConfigError(msg)
    channels = value if isinstance(value, Mapping) else tuple(value)
    channel_catalog([], channels)  # ConfigError for a bad kind or a non-Channel
    return channels


# --------------------------------------------------------------------------- roles


@attrs.frozen
class Plan:
    """Which input column fills which table column, and what the report should say."""

    chosen: tuple[tuple[ColumnSpec, str], ...]
    picked_up: tuple[str, ...]
    unused: tuple[str, ...]


def plan_columns(
    cls: type[Table], src: Source, roles: Mapping[str, Any], options: LoadOptions
) -> Plan:
    """Resolve the roles (explicit, picked up by name, or left out) and the extras."""
    specs = {s.name: s for s in cls.schema}
    bad_roles = sorted(set(roles) - set(specs))
    if bad_roles:
        valid = ", ".join(specs) if specs else "none (a Table without a schema: use columns=)"
        msg = (
            f"{cls.table_name}.from_columns got unknown keyword(s) {bad_roles}; the roles of "
            f"{cls.table_name} are {valid}, and the options are {', '.join(sorted(OPTIONS))}"
        )
        raise ConfigError(msg)
    chosen: list[tuple[ColumnSpec, str]] = []
    picked: list[str] = []
    constants = dict(options.constants)
    for name in sorted(set(constants) - set(specs)):
        msg = f"{cls.table_name}: constants names {name!r}, which is not a role"
        raise ConfigError(msg)
    for spec in cls.schema:
        given = roles.get(spec.name)
        if spec.name in constants:
            if given not in (None, False):
                msg = f"{cls.table_name}: {spec.name!r} is given both a column and a constant"
                raise ConfigError(msg)
            chosen.append((spec, src.add_constant(spec.name, constants[spec.name])))
            continue
        if given is False:
            if spec.required:
                msg = f"{cls.table_name}: {spec.name!r} is required and cannot be left out"
                raise ConfigError(msg)
            continue
        if given is not None and not isinstance(given, str):
            msg = (
                f"The {spec.name!r} parameter must be a column name (str), None (a column "
                f"named {spec.name!r}, if there is one) or False. Got {given!r} instead."
            )
            raise ConfigError(msg)
        if given is None:
            if src.has(spec.name):
                chosen.append((spec, spec.name))
                if not spec.required:
                    picked.append(spec.name)
            elif spec.required:
                _missing(cls, spec.name, src)
            continue
        if not src.has(given):
            if given == spec.name and spec.required:
                _missing(cls, spec.name, src)
            msg = (
                f"{cls.table_name}: column {given!r} (for {spec.name!r}) not found; "
                f"available: {src.names}"
            )
            raise SchemaError(msg, table=cls.table_name, column=spec.name, source_column=given)
        chosen.append((spec, given))
    taken = {given for _, given in chosen}
    extra = options.extra
    if extra is True or (extra == () and not cls.schema):
        pairs = [(n, n) for n in src.names if n not in taken]
    else:
        assert not isinstance(extra, bool)
        pairs = list(extra)
    kinds = dict(options.extra_kinds)
    unknown_kinds = sorted(set(kinds) - {name for name, _ in pairs})
    if unknown_kinds and not options.lenient_kinds:
        msg = f"{cls.table_name}: extra_kinds names columns that are not extras: {unknown_kinds}"
        raise ConfigError(msg)
    names = [spec.name for spec, _ in chosen]
    for name, given in pairs:
        if name in specs or name in names:
            msg = f"{cls.table_name}: extra column {name!r} clashes with a standard column"
            raise ConfigError(msg)
        if not src.has(given):
            msg = f"{cls.table_name}: extra column {given!r} not found; available: {src.names}"
            raise SchemaError(msg, table=cls.table_name, column=name, source_column=given)
        kind = kinds.get(name) or guess_kind(src.raw(given), options.read)
        chosen.append((ColumnSpec(name, kind), given))
        names.append(name)
    if not chosen and src.n:
        msg = (
            f"{cls.table_name}: no column was loaded (roles: {', '.join(specs) or 'none'}; "
            f"input columns: {src.names})"
        )
        raise SchemaError(msg, table=cls.table_name)
    used = {given for _, given in chosen}
    unused = tuple(n for n in src.names if n not in used)
    return Plan(tuple(chosen), tuple(picked), unused)


def _missing(cls: type[Table], role: str, src: Source) -> None:
    msg = (
        f"{cls.table_name}: required column {role!r} not found; pass "
        f"{role}='<your column>' (available: {src.names})"
    )
    raise SchemaError(msg, table=cls.table_name, column=role)


# --------------------------------------------------------------------------- duplicates


def duplicate_rows(
    columns: Sequence[np.ndarray], rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Among ``rows`` (default: all), those equal on every column to an earlier one (a mask
    over ``rows``), and for each row the position (in ``rows``) of the first row equal to it
    (an empty array when there are no duplicates).

    A 64-bit hash of each row is sorted; only rows whose hash occurs twice are compared column
    by column, so that the usual case (no duplicates) costs a pass per column and one sort.
    """
    if rows is not None:
        columns = [c[rows] for c in columns]
    n = len(columns[0]) if columns else 0
    none = np.zeros(n, dtype=bool), np.zeros(0, dtype=np.int64)
    if n < 2:
        return none
    h = _hash_view(columns[0]).astype(np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    for c in columns[1:]:
        h *= mult
        np.add(h, _hash_view(c), out=h, casting="unsafe")
    h ^= h >> np.uint64(29)
    s = np.sort(h)
    twice = s[1:] == s[:-1]
    if not twice.any():
        return none
    del s
    order = np.argsort(h)
    hs = h[order]
    in_run = np.zeros(n, dtype=bool)
    in_run[1:] = hs[1:] == hs[:-1]
    in_run[:-1] |= in_run[1:]
    return _exact_duplicates(columns, np.sort(order[in_run]), n)


def _exact_duplicates(
    columns: Sequence[np.ndarray], candidates: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Duplicates among ``candidates`` (rows whose hashes collide), compared column by column."""
    out = np.zeros(n, dtype=bool)
    twin = np.arange(n)
    sub = [_row_key(c[candidates]) for c in columns]
    order = np.lexsort([candidates, *reversed(sub)])
    same = np.ones(order.size - 1, dtype=bool)
    for k in sub:
        sk = k[order]
        same &= sk[1:] == sk[:-1]
    starts = np.concatenate(([True], ~same))
    group_start = np.flatnonzero(starts)
    firsts = candidates[order[group_start[np.cumsum(starts) - 1]]]
    twin[candidates[order]] = firsts
    out[candidates[order[1:][same]]] = True
    return out, twin


def _hash_view(arr: np.ndarray) -> np.ndarray:
    """The bits of each value as unsigned integers, without a copy where possible."""
    if arr.dtype.kind == "f":
        a = arr + 0.0  # -0.0 becomes 0.0
        nan = np.isnan(a)
        if nan.any():
            a[nan] = np.nan
        return a.view(np.uint64)
    if arr.dtype.kind in "iuM" and arr.dtype.itemsize in (1, 2, 4, 8):
        return arr.view(f"u{arr.dtype.itemsize}")
    return arr.astype(np.int64).view(np.uint64)


def _row_key(arr: np.ndarray) -> np.ndarray:
    """An int64 key equal for equal values (NaN equal to NaN, -0.0 to 0.0)."""
    return _hash_view(arr).astype(np.int64)


# --------------------------------------------------------------------------- the report


@attrs.frozen(kw_only=True)
class LoadReport:
    """How a table was loaded: the input column of each table column, and what was found.

    Kept by the table (:attr:`omnijourney.tables.Table.load_report`) and shown, when something
    deserves attention, at the end of its ``repr``.

    Attributes
    ----------
    table : str
        The table type.
    columns : tuple of (str, str)
        ``(table column, input column)`` pairs, in table order.
    picked_up : tuple of str
        Optional roles filled by an input column of the same name that was not named in the
        call (``value``, ``postcode``...). Pass ``role=False`` to leave such a column out.
    unused : tuple of str
        Input columns that were not loaded (neither a role nor an extra).
    n_in : int
        Rows read.
    n_rejected : int
        Rows rejected (with ``errors="quarantine"``).
    duplicates : str
        The ``duplicates`` mode: ``report``, ``drop``, ``raise`` or ``keep``.
    n_duplicates : int or None
        Rows equal on every loaded column to an earlier row (None with ``keep``: not looked
        for).
    n_dropped : int
        Duplicate rows removed (``duplicates="drop"``). Rows in = rows kept + ``n_dropped`` +
        ``n_rejected``.
    relabelled : tuple of (str, str, str)
        ``(column, input label, library label)`` for each label a vocabulary changed.
    unplaced_channels : tuple of str
        Channel names whose kind the channel catalog does not know (kind ``other``).
    """

    table: str
    columns: tuple[tuple[str, str], ...]
    picked_up: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    n_in: int = 0
    n_rejected: int = 0
    duplicates: str = "report"
    n_duplicates: int | None = None
    n_dropped: int = 0
    relabelled: tuple[tuple[str, str, str], ...] = ()
    unplaced_channels: tuple[str, ...] = ()

    def notes(self) -> list[str]:
        """The lines worth showing under a table: what was done without being asked."""
        out = []
        if self.picked_up:
            out.append(f"picked up by name (not named in the call): {', '.join(self.picked_up)}")
        if self.n_dropped:
            out.append(f"{self.n_dropped:,} exact duplicate rows dropped")
        elif self.n_duplicates:
            out.append(
                f"{self.n_duplicates:,} exact duplicate rows kept (duplicates='drop' removes them)"
            )
        if self.unplaced_channels:
            out.append(f"channels of unknown kind: {', '.join(self.unplaced_channels)}")
        return out

    def summary(self) -> str:
        """A few lines: rows, where each column came from, duplicates, labels mapped."""
        kept = self.n_in - self.n_rejected - self.n_dropped
        lines = [f"{self.table} loaded: {self.n_in:,} rows in, {kept:,} kept"]
        if self.n_rejected:
            lines[0] += f", {self.n_rejected:,} rejected"
        if self.n_dropped:
            lines[0] += f", {self.n_dropped:,} duplicates dropped"
        picked = set(self.picked_up)
        cols = [
            f"{name} <- {given}" + (" (by name)" if name in picked else "")
            for name, given in self.columns
        ]
        lines.append("columns: " + ", ".join(cols))
        if self.unused:
            lines.append("not loaded: " + ", ".join(self.unused))
        if self.n_duplicates is None:
            lines.append("duplicates: not looked for (duplicates='keep')")
        else:
            lines.append(f"exact duplicate rows: {self.n_duplicates:,} ({self.duplicates})")
        for column in dict.fromkeys(c for c, _, _ in self.relabelled):
            pairs = [f"{a} -> {b}" for c, a, b in self.relabelled if c == column]
            lines.append(f"{column} labels mapped: " + ", ".join(pairs))
        if self.unplaced_channels:
            lines.append("channels of unknown kind: " + ", ".join(self.unplaced_channels))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def warn(message: str) -> None:
    """An :class:`OmnijourneyWarning` attributed to the first caller outside the package."""
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    level = 2  # the caller of this function
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, OmnijourneyWarning, stacklevel=level)

"""The exceptions and warnings omnijourney raises.

One root, :class:`OmnijourneyError`; each subclass also inherits the builtin a caller would
naturally catch (``ValueError`` for bad input, ``RuntimeError`` for failed fits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "MissingDependencyError",
    "OmnijourneyError",
    "OmnijourneyWarning",
    "SchemaError",
]

_MAX_SHOWN = 5


class OmnijourneyError(Exception):
    """Root of every error raised by omnijourney."""


class SchemaError(OmnijourneyError, ValueError):
    """A table is missing a column, or a column has a type that cannot be used.

    Attributes
    ----------
    table : str
        Name of the table being built (``"TouchpointTable"``...).
    column : str or None
        The library's name of the column at fault.
    source_column : str or None
        The user's name of that column, when it differs.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        source_column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.source_column = source_column


class DataError(OmnijourneyError, ValueError):
    """Values that cannot be accepted: an unparseable time, a null id, a negative price...

    The message names the table, the column, the first offending rows and their values, and the
    reason. The same facts are kept as attributes so that callers can act on them.

    Attributes
    ----------
    table, column : str or None
        Where the problem is.
    rows : tuple of int
        Input row numbers (0-based) of every offending value.
    values : tuple
        The offending values, aligned with ``rows``.
    reason : str
        What is wrong with them.
    """

    def __init__(
        self,
        reason: str,
        *,
        table: str | None = None,
        column: str | None = None,
        source_column: str | None = None,
        rows: Iterable[int] = (),
        values: Sequence[Any] = (),
        hint: str | None = None,
    ) -> None:
        self.table = table
        self.column = column
        self.source_column = source_column
        self.rows = tuple(int(r) for r in rows)
        self.values = tuple(values)
        self.reason = reason
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.table:
            where.append(self.table)
        if self.column:
            col = f"column {self.column!r}"
            if self.source_column and self.source_column != self.column:
                col += f" (input column {self.source_column!r})"
            where.append(col)
        head = ", ".join(where)
        if self.rows:
            shown = ", ".join(
                f"row {r}: {v!r}"
                for r, v in zip(self.rows[:_MAX_SHOWN], self.values[:_MAX_SHOWN], strict=False)
            )
            more = len(self.rows) - _MAX_SHOWN
            body = f"{shown}{f' (and {more} more rows)' if more > 0 else ''}"
            msg = f"{head}: {self.reason} [{body}]" if head else f"{self.reason} [{body}]"
        else:
            msg = f"{head}: {self.reason}" if head else self.reason
        if self.hint:
            msg += f". {self.hint}"
        return msg


class ConfigError(OmnijourneyError, ValueError):
    """A parameter or configuration object has an invalid value."""


class ConvergenceError(OmnijourneyError, RuntimeError):
    """A statistical fit did not converge; the message says what was tried."""


class MissingDependencyError(OmnijourneyError, ImportError):
    """An optional dependency is needed for this call; the message names the extra to install."""


class OmnijourneyWarning(UserWarning):
    """A statistical or data caveat that does not stop the computation."""

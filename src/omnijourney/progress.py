"""Progress of long steps: records on the ``omnijourney`` loggers and one line on a terminal.

A long call (resolving 10^5 records, generating 10^6 touchpoints, a Spark job) walks through
named steps. Each step is logged at INFO level on the caller's logger (``omnijourney.identity``,
``omnijourney.synth``...), and, when standard error is a terminal, one line on it is rewritten
in place once the call has lasted :data:`DELAY` seconds, so that quick calls print nothing.
:func:`set_progress` (or the environment variable ``OMNIJOURNEY_PROGRESS=0``) turns the line
off; logging is configured as usual (``logging.getLogger("omnijourney")``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from types import TracebackType
from typing import TextIO

from omnijourney._format import duration, plural

__all__ = ["DELAY", "Progress", "progress_enabled", "set_progress"]

#: Seconds a call runs before its progress line appears on the terminal.
DELAY = 1.0
_ENV = "OMNIJOURNEY_PROGRESS"
_enabled: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Show (``True``) or hide (``False``) the progress line of long steps on a terminal.

    The line is written to standard error only when it is a terminal, never into a file or
    a pipe. ``None`` goes back to the default, which is on unless the environment variable
    ``OMNIJOURNEY_PROGRESS`` is ``0``, ``false``, ``no`` or ``off``. Log records (INFO on the
    ``omnijourney`` loggers) do not depend on this switch.

    Examples
    --------
    >>> import omnijourney as oj
    >>> oj.set_progress(False)
    >>> oj.progress_enabled()
    False
    >>> oj.set_progress(None)
    """
    global _enabled
    if enabled is not None and not isinstance(enabled, bool):
        from omnijourney.errors import ConfigError

        msg = f"The 'enabled' parameter must be True, False or None. Got {enabled!r} instead."
        raise ConfigError(msg)
    _enabled = enabled


def progress_enabled() -> bool:
    """Whether long steps may show their progress line (see :func:`set_progress`)."""
    if _enabled is not None:
        return _enabled
    return os.environ.get(_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _stderr() -> TextIO | None:
    return sys.stderr


def _terminal() -> TextIO | None:
    stream = _stderr()
    try:
        return stream if stream is not None and stream.isatty() else None
    except (AttributeError, ValueError):  # closed or replaced by an object without isatty
        return None


class Progress:
    """The steps of one long call, reported as they start.

    Parameters
    ----------
    task : str
        What the call does ("resolving identities").
    steps : int
        How many steps it has (for "step 2 of 5").
    logger : str
        Name of the logger under ``omnijourney`` that receives the records.
    size : int, optional
        How many items it works on, with ``unit`` ("100,000 records").
    unit : str
        Noun of one item ("record"; "records" is written for several).

    Examples
    --------
    >>> with Progress("counting", steps=2, logger="omnijourney.demo", size=3) as p:
    ...     p.step("first half")
    ...     p.step("second half")
    >>> p.done_steps
    2
    """

    def __init__(
        self,
        task: str,
        *,
        steps: int,
        logger: str = "omnijourney",
        size: int | None = None,
        unit: str = "row",
    ) -> None:
        self.task = task
        self.steps = steps
        self.logger = logging.getLogger(logger)
        self.size = size
        self.unit = unit
        self.done_steps = 0
        self._start = time.monotonic()
        self._shown = False
        self._stream = _terminal() if progress_enabled() else None

    def __enter__(self) -> Progress:
        what = "" if self.size is None else f" ({plural(self.size, self.unit)})"
        self.logger.info("%s%s: %d steps", self.task, what, self.steps)
        return self

    def step(self, name: str) -> None:
        """Say that step ``name`` starts."""
        self.done_steps += 1
        elapsed = time.monotonic() - self._start
        self.logger.info(
            "%s: step %d of %d, %s (%s elapsed)",
            self.task,
            self.done_steps,
            self.steps,
            name,
            duration(elapsed),
        )
        self._show(f"{self.task}: step {self.done_steps} of {self.steps}, {name}", elapsed)

    def _show(self, line: str, elapsed: float, *, end: str = "") -> None:
        if self._stream is None or (elapsed < DELAY and not self._shown):
            return
        try:
            self._stream.write(f"\r{line}\x1b[K{end}")
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop writing to it
            self._stream = None
            return
        self._shown = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        elapsed = time.monotonic() - self._start
        verdict = "failed" if exc_type is not None else "done"
        self.logger.info("%s: %s in %s", self.task, verdict, duration(elapsed))
        if self._shown:
            self._show(f"{self.task}: {verdict} in {duration(elapsed)}", elapsed, end="\n")

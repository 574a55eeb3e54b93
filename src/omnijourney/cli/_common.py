"""Pieces every command shares: progress on a terminal, argument types, the usage error."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
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


def count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (a clear error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            msg = f"must be at least {minimum}, got {value}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def pair(text: str) -> tuple[str, str]:
    """An argparse type: ``left=right`` (a label mapping, or role=column)."""
    left, sep, right = text.partition("=")
    if not sep or not left or not right:
        msg = f"expected NAME=VALUE, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return left, right


class InputError(Exception):
    """The user's files or mappings cannot be read: one line on stderr, exit status 2."""

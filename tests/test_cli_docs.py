"""The command-line page runs as written: each ``$ omnijourney ...`` line of its console blocks
is run on a copy of the page's example files, and prints what the page shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from omnijourney.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = DOCS / "cli.md"


def console_blocks() -> list[list[tuple[str, str]]]:
    """Each console block as (command, expected output) pairs; ``\\`` continues a command."""
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", PAGE.read_text("utf-8"), re.DOTALL):
        steps: list[tuple[str, str]] = []
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ "), lines[i]
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            steps.append((command, "".join(f"{line}\n" for line in output)))
        blocks.append(steps)
    return blocks


BLOCKS = console_blocks()


@pytest.mark.parametrize("steps", BLOCKS, ids=[b[0][0].split()[1] for b in BLOCKS])
def test_console_block_prints_what_the_page_shows(steps, tmp_path, monkeypatch, capsys):
    for name in (DOCS / "cli").iterdir():
        shutil.copy(name, tmp_path)
    monkeypatch.chdir(tmp_path)
    code = None
    for command, expected in steps:
        if command == "echo $?":
            assert f"{code}\n" == expected
            continue
        words = shlex.split(command)
        quiet = words[-1] == "2>/dev/null"
        words = words[:-1] if quiet else words
        assert words[0] == "omnijourney"
        code = main(words[1:])
        out, err = capsys.readouterr()
        # CSV lines end with CRLF (RFC 4180), which the page shows as lines
        assert (out + ("" if quiet else err)).replace("\r\n", "\n") == expected
        if "-o" in words:
            assert Path(words[words.index("-o") + 1]).stat().st_size > 0


def test_every_command_is_shown():
    shown = {steps[0][0].split()[1] for steps in BLOCKS}
    assert shown >= {"sessionize", "breaks", "attribute", "resolve", "audit", "report"}


def test_the_example_touchpoints_are_those_of_the_file():
    text = PAGE.read_text("utf-8")
    assert (DOCS / "cli" / "touchpoints.csv").read_text("utf-8") in text

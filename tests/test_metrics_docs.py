"""The measurement tutorial prints what it shows: each ```text block that follows a Python
block is the output of that block, checked here by running the page.

``python tests/test_metrics_docs.py --update`` rewrites the text blocks from a fresh run.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "tutorials" / "measurement.md"
_BLOCK = re.compile(r"```(?P<info>[^\n`]*)\n(?P<body>.*?)\n```", re.DOTALL)


def blocks(text: str) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(code, expected output, span of the output block) for each Python block."""
    found = list(_BLOCK.finditer(text))
    out = []
    for i, m in enumerate(found):
        if m["info"].strip().split()[:1] != ["python"] or "no-run" in m["info"]:
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        between = text[m.end() : nxt.start()] if nxt else ""
        if nxt is not None and nxt["info"].strip() == "text" and not between.strip():
            out.append((m["body"], nxt["body"], (nxt.start("body"), nxt.end("body"))))
        else:
            out.append((m["body"], "", None))
    return out


def run(text: str) -> list[str]:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    printed = []
    for code, _, _ in blocks(text):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, str(PAGE), "exec"), namespace)
        printed.append(buffer.getvalue().rstrip("\n"))
    return printed


@pytest.mark.filterwarnings("ignore::omnijourney.errors.OmnijourneyWarning")
def test_tutorial_output_is_what_the_page_shows(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = PAGE.read_text("utf-8")
    for (code, expected, span), got in zip(blocks(text), run(text)):
        if span is not None:
            assert got == expected, f"the block\n{code}\nprints\n{got}\nnot\n{expected}"


if __name__ == "__main__" and "--update" in sys.argv:
    text = PAGE.read_text("utf-8")
    pieces = []
    last = 0
    for (_, _, span), got in zip(blocks(text), run(text)):
        if span is not None:
            pieces.append(text[last : span[0]] + got)
            last = span[1]
    PAGE.write_text("".join(pieces) + text[last:], "utf-8")

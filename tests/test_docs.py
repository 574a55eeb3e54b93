"""The Python examples of the README and the documentation run against the current code.

Every ```python block of a page runs, in page order, in one fresh namespace: a later block may
use names defined by an earlier one, as a reader following the page would. Blocks fenced as
```python no-run are shown but not executed (output samples, code that needs a cluster...).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


def pages() -> list[Path]:
    """README.md, docs/*.md and docs/tutorials/*.md, in a stable order."""
    found = [ROOT / "README.md"]
    found += sorted(DOCS.glob("*.md"))
    found += sorted((DOCS / "tutorials").glob("*.md"))
    return [p for p in found if p.is_file()]


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """Fenced Python blocks of a Markdown text as (first code line, code, runs) tuples.

    Fences may be indented (inside admonitions or lists); the code is dedented by the fence's
    indentation. A block runs unless its info string holds the word ``no-run``.
    """
    lines = text.splitlines()
    blocks: list[tuple[int, str, bool]] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        words = m["info"].replace("{", " ").replace("}", " ").split()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        language = words[0].lstrip(".").lower() if words else ""
        if language in {"python", "py"}:
            body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]]
            code = textwrap.dedent("\n".join(body))
            blocks.append((i + 2, code, "no-run" not in words))
        i = j + 1
    return blocks


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


RUNNABLE = [p for p in pages() if any(runs for _, _, runs in python_blocks(p.read_text("utf-8")))]


@pytest.mark.parametrize("page", RUNNABLE, ids=_id)
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for line, code, runs in python_blocks(page.read_text("utf-8")):
        if not runs:
            continue
        where = f"{_id(page)}:{line}"
        try:
            exec(compile(code, where, "exec"), namespace)
        except Exception as exc:
            msg = f"the example at {where} failed: {type(exc).__name__}: {exc}"
            raise AssertionError(msg) from exc


def test_readme_and_getting_started_have_examples() -> None:
    assert ROOT / "README.md" in RUNNABLE
    assert DOCS / "getting-started.md" in RUNNABLE


def test_fence_parsing() -> None:
    text = "\n".join(
        [
            "Intro",
            "```python",
            "x = 1",
            "```",
            "```python no-run",
            "spark.stop()",
            "```",
            "!!! note",
            "    ```python",
            "    if x:",
            "        y = 2",
            "    ```",
            "```bash",
            "pip install .",
            "```",
            "````markdown",
            "```python",
            "not_python_here()",
            "```",
            "````",
        ]
    )
    assert python_blocks(text) == [
        (3, "x = 1", True),
        (6, "spark.stop()", False),
        (10, "if x:\n    y = 2", True),
    ]

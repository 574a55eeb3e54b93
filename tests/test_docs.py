"""The Python examples of the README and the documentation run against the current code.

Every ```python block of a page runs, in page order, in one fresh namespace: a later block may
use names defined by an earlier one, as a reader following the page would. Blocks fenced as
```python no-run are shown but not executed (output samples, code that needs a cluster...).
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _hook() -> ModuleType:
    """docs/exec_hook.py, which runs the same blocks when the documentation is built."""
    spec = importlib.util.spec_from_file_location("exec_hook", DOCS / "exec_hook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _hook()


def pages() -> list[Path]:
    """README.md, docs/*.md, docs/tutorials/*.md and the API page of the figures."""
    found = [ROOT / "README.md"]
    found += sorted(DOCS.glob("*.md"))
    found += sorted((DOCS / "tutorials").glob("*.md"))
    found += [DOCS / "api" / "plot.md"]
    return [p for p in found if p.is_file()]


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """Fenced Python blocks of a Markdown text as (first code line, code, runs) tuples.

    Fences may be indented (inside admonitions or lists); the code is dedented by the fence's
    indentation. A block runs unless its info string holds the word ``no-run``. The fences are
    found as the documentation build finds them (docs/exec_hook.py), which runs the same
    blocks of the tutorials and shows what they print and draw.
    """
    lines = text.splitlines()
    blocks: list[tuple[int, str, bool]] = []
    for start, end, indent, _, words in HOOK.fences(text):
        if HOOK.language(words) in {"python", "py"}:
            body = [
                ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[start + 1 : end]
            ]
            blocks.append((start + 2, textwrap.dedent("\n".join(body)), HOOK.runs(words)))
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
        if "matplotlib.pyplot" in sys.modules:  # the build shows and closes them after a block
            sys.modules["matplotlib.pyplot"].close("all")


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


def test_the_build_runs_the_blocks_the_tests_run() -> None:
    page = "\n".join(
        [
            "```python",
            "x = 1",
            "print(x)",
            "```",
            "",
            "```text",
            "1",
            "```",
            "```python no-run",
            "spark.stop()",
            "```",
            "```python hide",
            "y = 2",
            "```",
        ]
    )
    built = HOOK.executable(page, session="p", workdir="/tmp")
    opening = [line for line in built.splitlines() if line.startswith("```python")]
    assert opening == [
        '```python exec="on" session="p" workdir="/tmp"',  # the helpers, hidden
        '```python exec="on" source="above" html="1" session="p" workdir="/tmp"',
        "```python no-run",
        '```python exec="on" html="1" session="p" workdir="/tmp"',
    ]
    assert "```text" not in built  # the output written by hand gives way to the real one
    assert "print = _docs_begin(print)  # markdown-exec: hide" in built
    ran = [code for _, code, runs in python_blocks(page) if runs]
    assert ran == ["x = 1\nprint(x)", "y = 2"]


def test_a_tutorial_whose_claim_is_false_fails_the_build(caplog: pytest.LogCaptureFixture) -> None:
    """markdown-exec reports a block that raises as a warning, which fails a strict build."""
    markdown = pytest.importorskip("markdown")
    markdown_exec = pytest.importorskip("markdown_exec")
    page = "```python\nrecovered = False\nprint('recovered:', recovered)\nassert recovered\n```\n"
    fence = {"name": "python", "class": "python", "validator": markdown_exec.validator}
    fence["format"] = markdown_exec.formatter
    md = markdown.Markdown(
        extensions=["pymdownx.superfences"],
        extension_configs={"pymdownx.superfences": {"custom_fences": [fence]}},
    )
    with caplog.at_level("WARNING"):
        md.convert(HOOK.executable(page, session="claim", workdir=str(ROOT)))
    assert any("AssertionError" in r.getMessage() for r in caplog.records)

"""Run the Python blocks of the tutorials while the documentation is built, and show under each
block what it printed and the figures it drew.

A page listed in ``EXECUTED`` has its ```python blocks (not those marked ``no-run``) executed in
page order, in one namespace per page, by the markdown-exec plugin: this hook turns each such
block into a markdown-exec block, with two hidden lines around the code that collect what it
prints (shown as a text block) and the matplotlib figures it leaves open (shown as SVG images,
then closed). A block marked ``hide`` runs without being shown (data a page needs for its
examples). A ```text block right after a Python block is the output the page used to show by
hand (the tests check that it is the real one): the real output replaces it.

A block that raises fails the build (markdown-exec reports it as a warning, and the build is
strict), so a tutorial that asserts what it claims cannot be published with a false claim.
tests/test_docs.py runs the same blocks, found by the same :func:`fences`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

#: Pages (paths under docs/) whose blocks run at build time.
EXECUTED = ("tutorials/", "getting-started.md", "api/plot.md")

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")

# Defined once per page, in its namespace, by a hidden first block.
_HELPERS = """
def _docs_begin(show):
    import io
    buffer = io.StringIO()
    def collect(*texts, sep=" ", end="\\n", file=None, flush=False):
        if file is not None:  # print(..., file=f) writes where it is told
            import builtins
            return builtins.print(*texts, sep=sep, end=end, file=file, flush=flush)
        buffer.write(sep.join(str(t) for t in texts) + end)
    collect.show, collect.buffer = show, buffer
    return collect


def _docs_end(collect):
    import base64
    import html
    import io
    import sys
    text = collect.buffer.getvalue().rstrip("\\n")
    out = []
    if text:
        out.append(
            '<div class="language-text highlight docs-output"><pre><code>'
            + html.escape(text) + "</code></pre></div>"
        )
    if "matplotlib.pyplot" in sys.modules:
        plt = sys.modules["matplotlib.pyplot"]
        for number in plt.get_fignums():
            figure = plt.figure(number)
            svg = io.BytesIO()
            figure.savefig(svg, format="svg", bbox_inches="tight", facecolor="white")
            data = base64.b64encode(svg.getvalue()).decode("ascii")
            title = next((ax.get_title(loc="left") or ax.get_title() for ax in figure.axes
                          if ax.get_title(loc="left") or ax.get_title()), "figure")
            out.append(
                f'<p class="docs-figure"><img alt="{html.escape(title)}" '
                f'src="data:image/svg+xml;base64,{data}"></p>'
            )
        plt.close("all")
    if out:
        collect.show("\\n".join(out))
    return collect.show
"""


def fences(text: str) -> Iterator[tuple[int, int, str, str, list[str]]]:
    """The fenced blocks of a Markdown text: (opening line, closing line, indentation, fence,
    words of the info string), line numbers from 0.

    Fences may be indented (inside admonitions or lists); a block closes at the first line
    made only of at least as many of the fence's characters; ``{`` and ``}`` of attribute
    lists are read as spaces.
    """
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        words = m["info"].replace("{", " ").replace("}", " ").split()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        yield i, j, m["indent"], fence, words
        i = j + 1


def language(words: list[str]) -> str:
    return words[0].lstrip(".").lower() if words else ""


def runs(words: list[str]) -> bool:
    """Whether a block is Python that runs (the tests and the build run the same blocks)."""
    return language(words) in {"python", "py"} and "no-run" not in words


def executable(markdown: str, session: str, workdir: str) -> str:
    """``markdown`` with its running Python blocks turned into markdown-exec blocks."""
    lines = markdown.splitlines()
    blocks = list(fences(markdown))
    if not any(runs(words) for *_, words in blocks):
        return markdown
    out: list[str] = []
    done = 0
    options = f'session="{session}" workdir="{workdir}"'
    first = True
    previous_ran = False
    for start, end, indent, fence, words in blocks:
        between = lines[done:start]
        if previous_ran and language(words) == "text" and not any(x.strip() for x in between):
            done = end + 1  # the output written by hand: the real one is shown instead
            previous_ran = False
            continue
        out += between
        previous_ran = runs(words)
        if not previous_ran:
            out += lines[start : end + 1]
            done = end + 1
            continue
        if first:
            helpers = [indent + line if line else line for line in _HELPERS.splitlines()]
            out += [f'{indent}{fence}python exec="on" {options}', *helpers, f"{indent}{fence}"]
            first = False
        code = lines[start + 1 : end]
        if "hide" in words:
            out += [f'{indent}{fence}python exec="on" html="1" {options}', *code]
        else:
            out += [
                f'{indent}{fence}python exec="on" source="above" html="1" {options}',
                f"{indent}print = _docs_begin(print)  # markdown-exec: hide",
                *code,
                f"{indent}print = _docs_end(print)  # markdown-exec: hide",
            ]
        out.append(f"{indent}{fence}")
        done = end + 1
    out += lines[done:]
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


_WORKDIR: list[str] = []


def on_config(config: Any) -> Any:
    # figures are drawn off screen, and files the examples write go to a scratch folder
    os.environ["MPLBACKEND"] = "Agg"
    if not _WORKDIR:
        _WORKDIR.append(tempfile.mkdtemp(prefix="omnijourney-docs-"))
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    path = page.file.src_uri
    if not any(path == p or (p.endswith("/") and path.startswith(p)) for p in EXECUTED):
        return markdown
    return executable(markdown, session=path, workdir=_WORKDIR[0])


def on_post_build(config: Any) -> None:
    while _WORKDIR:
        shutil.rmtree(_WORKDIR.pop(), ignore_errors=True)

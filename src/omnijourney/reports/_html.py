"""The report as one self-contained HTML page: styles inline, figures as PNG data, no request.

The page declares a Content-Security-Policy that allows nothing but its own inline styles,
``data:`` images and its one inline script (by hash), so a browser opening it makes no network
request even if some text in it looked like an address. The script marks the page once its
figures have loaded and been laid out (``data-figures="shown/total"`` on the body).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from omnijourney._version import __version__
from omnijourney.tables import Table

#: Rows of a table shown in the page; the rest are counted under it.
MAX_ROWS = 40

# counts the figures decoded (naturalWidth) and laid out (a width on the page) once loaded
_SCRIPT = (
    "window.addEventListener('load',function(){var i=document.images,n=0;"
    "for(var k=0;k<i.length;k++){if(i[k].complete&&i[k].naturalWidth>0&&"
    "i[k].getBoundingClientRect().width>0){n++;}}"
    "document.body.setAttribute('data-figures',n+'/'+i.length);});"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0 auto;max-width:70rem;padding:1.5rem;color:#1f2933;background:#fff;line-height:1.45}
h1{font-size:1.7rem;margin:.2rem 0}h2{font-size:1.3rem;margin:0 0 .5rem;
border-bottom:2px solid #3f51b5;padding-bottom:.2rem}
header p{color:#52606d;margin:.2rem 0}nav ol{columns:2;padding-left:1.2rem}
section{margin:1.8rem 0}pre{background:#f5f7fa;padding:.6rem .8rem;overflow-x:auto;
font-size:.85rem;border-radius:4px;white-space:pre-wrap}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
.wide{overflow-x:auto;max-width:100%}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap}
th{background:#eef0f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;font-size:.8rem;padding:.05rem .5rem;border-radius:1rem;
margin-bottom:.4rem}.results .status{background:#e3f9e5;color:#05400a}
.empty .status{background:#fff3c4;color:#513c06}.not-run .status{background:#e4e7eb;color:#323f4b}
figure{margin:.8rem 0}figure img{max-width:100%;height:auto}
.notes{color:#513c06;font-size:.85rem}figcaption,.more{color:#52606d;font-size:.8rem}footer{color:#7b8794;font-size:.8rem;
margin-top:2.5rem}
"""

_STATUS = {"results": "results", "empty": "empty", "not run": "not-run"}


def png_data(png: bytes) -> str:
    """A ``data:`` address of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def cell(value: Any) -> tuple[str, bool]:
    """A value as the page shows it, and whether it is a number (aligned right)."""
    if value is None:
        return "", False
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", True
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "", True
        if v == round(v) and abs(v) < 1e15:
            return f"{v:,.0f}", True
        return (f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}"), True
    if isinstance(value, np.datetime64):
        text = "" if np.isnat(value) else str(value.astype("datetime64[s]")).replace("T", " ")
        return text, False
    return str(getattr(value, "value", value)), False


def table_html(table: Table, max_rows: int = MAX_ROWS) -> str:
    """A table's first rows as an HTML table, with the count of the others."""
    columns = table.to_dict()
    names = list(columns)
    shown = min(len(table), max_rows)
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    lines = [f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>']
    for i in range(shown):
        cells = []
        for n in names:
            text, number = cell(columns[n][i])
            cells.append(f'<td class="n">{_e(text)}</td>' if number else f"<td>{_e(text)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table></div>")
    if len(table) > shown:
        lines.append(f'<p class="more">{len(table) - shown:,} more rows not shown.</p>')
    return "\n".join(lines)


def page(title: str, sections: Sequence[Any]) -> str:
    """The whole page of a report's sections."""
    toc = "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a> ({_e(s.status)})</li>' for s in sections
    )
    body = "\n".join(_section(s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="omnijourney {_e(__version__)}">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body data-figures="pending">
<header>
<h1>{_e(title)}</h1>
<p>{len(sections)} sections; written by omnijourney {_e(__version__)}.</p>
<nav><ol>{toc}</ol></nav>
</header>
<main>
{body}
</main>
<footer>Self-contained: styles and figures are in this file; it loads nothing.</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _section(s: Any) -> str:
    parts = [
        f'<section id="{_e(s.key)}" class="{_STATUS[s.status]}">',
        f"<h2>{_e(s.title)}</h2>",
        f'<span class="status">{_e(s.status)}</span>',
    ]
    if s.text:
        parts.append(f"<pre>{_e(s.text)}</pre>")
    if s.notes:
        items = "".join(f"<li>{_e(note)}</li>" for note in s.notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    for caption, table in s.tables:
        if caption:
            parts.append(f"<h3>{_e(caption)}</h3>")
        parts.append(table_html(table))
    for caption, png in s.figures:
        parts.append(
            f'<figure><img src="{png_data(png)}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "\n".join(parts)

"""How tables and results show in a notebook (``_repr_html_``) and hand themselves over to
DataFrame libraries: one mixin for results that are a table at heart.

Part of the core, shared on purpose: results of every capability inherit :class:`TableResult`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney import _format as F

if TYPE_CHECKING:
    from omnijourney._table import Table

__all__ = ["TableResult", "edge_rows", "table_html"]

#: Rows shown at each end of a long table.
EDGE_ROWS = 5
_STYLE = (
    "<style>.oj-table td,.oj-table th{text-align:right;font-variant-numeric:tabular-nums;"
    "padding:2px 8px}.oj-table th small{font-weight:normal;opacity:.6}"
    ".oj-table caption{text-align:left;caption-side:top}</style>"
)


def edge_rows(n: int) -> list[int]:
    """Rows shown of a table of ``n`` rows: all of them, or the first and last
    :data:`EDGE_ROWS` with -1 where the rows in between are left out.

    Examples
    --------
    >>> edge_rows(3), edge_rows(12)
    ([0, 1, 2], [0, 1, 2, 3, 4, -1, 7, 8, 9, 10, 11])
    """
    if n <= 2 * EDGE_ROWS:
        return list(range(n))
    return [*range(EDGE_ROWS), -1, *range(n - EDGE_ROWS, n)]


def _cell(table: Table, name: str, i: int) -> str:
    value = table.column_values_at(name, i)
    kind = table.kinds[name]
    if value is None:
        text = "–"
    elif kind == "time":
        text = F.timestamp(np.datetime64(table.raw(name)[i]), seconds=True)
    elif kind == "float":
        text = F.number(value, 4)
    elif kind == "int":
        text = F.count(value)
    else:
        text = str(value)
    return html.escape(text if len(text) <= 40 else text[:39] + "…")


def table_html(table: Table, *, title: str | None = None) -> str:
    """An HTML table: sizes and kinds, the first and last rows, the table's notes.

    Examples
    --------
    >>> from omnijourney.tables import Table
    >>> text = table_html(Table.from_columns({"sku": ["a", "b"], "price": [1250.5, None]}))
    >>> "2 rows × 2 columns" in text, "1,250.5" in text, "<small>float</small>" in text
    (True, True, True)
    """
    n = len(table)
    names = list(table.columns)
    kinds = table.kinds
    rows = edge_rows(n)
    caption = (
        f"<b>{html.escape(title or table.table_name)}</b>: {F.plural(n, 'row')} × "
        f"{F.plural(len(names), 'column')}"
    )
    head = "".join(
        f"<th>{html.escape(c)}<br><small>{html.escape(kinds[c])}</small></th>" for c in names
    )
    body = []
    for i in rows:
        if i < 0:
            body.append(
                f"<tr><th>…</th><td colspan='{len(names)}' style='text-align:center'>"
                f"{F.plural(n - 2 * EDGE_ROWS, 'more row')}</td></tr>"
            )
            continue
        cells = "".join(f"<td>{_cell(table, c, i)}</td>" for c in names)
        body.append(f"<tr><th>{i:,}</th>{cells}</tr>")
    notes = "".join(f"<p><small>note: {html.escape(note)}</small></p>" for note in table.notes)
    report = table.load_report
    if report is not None:
        notes += "".join(f"<p><small>{html.escape(line)}</small></p>" for line in report.notes())
    return (
        f"<div>{_STYLE}<table class='oj-table'><caption>{caption}</caption>"
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{notes}</div>"
    )


class TableResult:
    """For results that are a table at heart: :meth:`to_table` gives the table; this adds
    ``to_arrow``, ``to_polars``, the Arrow C stream and the notebook display.

    Results built around a table attribute (``table``, ``findings``...) override
    :meth:`to_table`; the default reads ``to_pandas()`` (index as columns), which needs pandas.
    """

    __slots__ = ()

    def to_table(self) -> Table:
        """The result as one :class:`~omnijourney.tables.Table` (what the exports hold)."""
        from omnijourney._table import Table

        frame = self.to_pandas()  # type: ignore[attr-defined]
        if any(name is not None for name in frame.index.names):
            frame = frame.reset_index()
        return Table.from_columns(frame)

    def to_arrow(self) -> Any:
        """The result as a ``pyarrow.Table`` (needs the ``arrow`` extra)."""
        return self.to_table().to_arrow()

    def to_polars(self) -> Any:
        """The result as a ``polars.DataFrame`` (needs the ``polars`` extra)."""
        return self.to_table().to_polars()

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The result's table as an Arrow C stream, for ``pyarrow.table(r)``,
        ``polars.DataFrame(r)`` and DuckDB."""
        return self.to_table().__arrow_c_stream__(requested_schema)

    def _repr_html_(self) -> str:
        summary = getattr(self, "summary", None)
        text = summary() if callable(summary) else repr(self)
        pre = f"<pre>{html.escape(text)}</pre>" if isinstance(text, str) else ""
        try:
            table = self.to_table()
        except Exception:  # the summary alone when no table can be made (no pandas...)
            return pre
        return pre + table_html(table, title=type(self).__name__)

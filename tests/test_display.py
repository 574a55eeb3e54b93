"""What people see: tables and results in a notebook, and results handed to DataFrame tools."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import omnijourney as oj
from omnijourney._display import EDGE_ROWS, TableResult, table_html
from omnijourney.tables import Table

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pytest.importorskip("pandas")


def _rows(text: str) -> list[str]:
    return re.findall(r"<tr><th>([^<]*)</th>", text.split("<tbody>")[1])


def test_a_short_table_shows_every_row_with_sizes_and_kinds() -> None:
    t = Table.from_columns(
        {
            "sku": ["<b>a</b>", None],
            "n": [1234567, 2],
            "price": [1250.5, np.nan],
            "at": np.array(["2024-05-01T10:15:30", "NaT"], "datetime64[us]"),
        }
    )
    text = t._repr_html_()
    assert "<b>Table</b>: 2 rows × 4 columns" in text
    assert re.findall(r"<small>(\w+)</small>", text) == [
        "category",
        "int",
        "float",
        "time",
    ]
    assert _rows(text) == ["0", "1"]
    assert html.escape("<b>a</b>") in text and "<b>a</b>" not in text.replace("<b>Table</b>", "")
    assert "1,234,567" in text and "1,250.5" in text
    assert "2024-05-01 10:15:30 UTC" in text
    assert text.count("<td>–</td>") == 3  # the nulls of sku, price and at


def test_a_long_table_shows_its_head_and_tail() -> None:
    n = 1_234
    text = table_html(Table.from_columns({"i": np.arange(n)}))
    shown = [*map(str, range(EDGE_ROWS)), "…", *(f"{i:,}" for i in range(n - EDGE_ROWS, n))]
    assert _rows(text) == shown
    assert f"{n - 2 * EDGE_ROWS:,} more rows" in text


def test_notes_and_load_report_show_under_the_table(small_columns: dict) -> None:
    tp = oj.TouchpointTable.from_columns(
        small_columns, customer="client", time="ts", channel="canal", event="what", extra=True
    )
    assert "picked up by name" in tp._repr_html_() or not tp.load_report.notes()


@pytest.fixture(scope="module")
def results() -> dict[str, TableResult]:
    world = oj.synth.generate(n_customers=80, seed=5, prices=False, records=False)
    jt = oj.sessionize(world.touchpoints)
    paths = oj.attribution.PathTable.from_journeys(jt)
    return {
        "journeys": jt,
        "paths": paths,
        "markov": oj.attribution.markov(paths),
        "roles": oj.attribution.channel_roles(paths),
    }


@pytest.mark.parametrize("name", ["journeys", "paths", "markov", "roles"])
def test_results_show_their_summary_and_table_in_a_notebook(results: dict, name: str) -> None:
    result = results[name]
    summary = result.summary()
    assert isinstance(summary, str) and summary
    text = result._repr_html_()
    assert text.startswith(f"<pre>{html.escape(summary)}</pre>")
    assert f"<b>{type(result).__name__}</b>: {len(result.to_table()):,} row" in text


@pytest.mark.parametrize("name", ["journeys", "paths", "markov", "roles"])
def test_results_hand_their_table_to_arrow_and_polars(results: dict, name: str) -> None:
    result = results[name]
    table = result.to_table()
    assert result.to_arrow().equals(table.to_arrow())
    assert pa.table(result).equals(table.to_arrow())
    assert pl.DataFrame(result).equals(table.to_polars())
    assert result.to_polars().equals(table.to_polars())


def test_markov_credit_table_matches_its_pandas_frame(results: dict) -> None:
    credit = results["markov"]
    frame = credit.to_pandas().reset_index()
    arrow = credit.to_arrow()
    assert arrow.column("channel").to_pylist() == [str(c) for c in frame["channel"]]
    assert np.allclose(arrow.column("conversions").to_numpy(), frame["conversions"].to_numpy())

"""The HTML report: each section against the library called directly, empty results said,
missing inputs said, and a page that holds everything it shows."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.attribution import PathTable, bootstrap
from omnijourney.identity import CustomerRecordTable, resolve
from omnijourney.journeys import appetence, detect_breaks, segment_value
from omnijourney.pricing import Policy, PriceTable, audit
from omnijourney.reports import SECTIONS, Report, report


def touchpoints(**overrides):
    columns = {
        "customer": ["c1", "c1", "c2", "c2", "c3"],
        "time": [
            "2024-05-01 10:00",
            "2024-05-03 18:00",
            "2024-05-02 09:00",
            "2024-05-02 09:10",
            "2024-05-04 12:00",
        ],
        "channel": ["web", "store", "web", "web", "store"],
        "event": ["product_view", "purchase", "page_view", "purchase", "purchase"],
        "value": [None, 59.0, None, 20.0, 35.0],
    }
    columns.update(overrides)
    return oj.TouchpointTable.from_columns(columns)


def records():
    return CustomerRecordTable.from_columns(
        {
            "source": ["web", "store", "web"],
            "record_id": ["1", "2", "3"],
            "first_name": ["Anne", "Anne", "Paul"],
            "last_name": ["Roy", "Roy", "Martin"],
            "email": ["anne@x.fr", "anne@x.fr", "paul@y.fr"],
        }
    )


def prices(store_price: float = 10.0):
    return PriceTable.from_columns(
        {
            "sku": ["A1", "A1"],
            "channel": ["web", "store"],
            "price": [10.0, store_price],
            "valid_from": ["2024-05-01", "2024-05-01"],
        }
    )


POLICY = Policy(same_price_groups=[["web", "store"]])
AS_OF = "2024-05-08"


def rows(table, *names):
    return list(zip(*(table[n].tolist() for n in names)))


@pytest.fixture(scope="module")
def full():
    tp = touchpoints()
    result = audit(prices(12.0), policy=POLICY, as_of=AS_OF)
    return tp, report(
        touchpoints=tp,
        resolution=resolve(records()),
        prices=prices(12.0),
        audit=result,
        n_resamples=30,
    )


def test_every_section_in_order_with_its_status(full):
    _, r = full
    assert [s.key for s in r.sections] == list(SECTIONS)
    assert {s.key: s.status for s in r.sections} == dict.fromkeys(SECTIONS, "results")
    assert r.summary().splitlines()[0] == "omnijourney report: 8 sections"


@pytest.mark.filterwarnings("ignore::omnijourney.errors.OmnijourneyWarning")
def test_sections_hold_what_the_library_computes(full):
    tp, r = full
    journeys = oj.sessionize(tp)
    overview = r["overview"].tables[0][1]
    assert dict(rows(overview, "measure", "count")) == {
        "touchpoints": 5.0,
        "customers": 3.0,
        "channels": 2.0,
        "journeys": 3.0,
        "converted journeys": 3.0,
        "value": 114.0,
    }
    assert r["journeys"].text == journeys.summary()
    breaks = detect_breaks(journeys)
    assert r["breaks"].tables[0][1].equals(breaks.pair_counts())
    assert r["breaks"].text == f"1 breaks: {next(k for k, v in breaks.counts().items() if v)} 1"
    value = segment_value(journeys, appetence(journeys))
    assert r["segments"].tables[0][1].equals(value)
    ci = bootstrap(PathTable.from_journeys(journeys), "markov", n_resamples=30, seed=0)
    credit = r["attribution"].tables[0][1]
    assert credit["channel"].tolist() == ci.channels.tolist()
    np.testing.assert_array_equal(credit["conversions_low"], ci.conversions_low)
    np.testing.assert_array_equal(credit["share_high"], ci.share_high)
    assert r["attribution"].text == ci.summary()
    identity = r["identity"].tables
    assert rows(identity[0][1], "measure", "count")[:3] == [
        ("records", 3),
        ("persons", 2),
        ("households", 2),
    ]
    assert rows(identity[1][1], "source", "records", "persons") == [
        ("store", 1, 1),
        ("web", 2, 2),
    ]
    findings = audit(prices(12.0), policy=POLICY, as_of=AS_OF).findings
    assert len(findings) > 0
    assert r["prices"].tables[1][1].equals(findings)
    assert r["kpis"].text == oj.metrics.kpis(journeys).summary()


def test_caveats_of_the_steps_it_ran_are_notes_not_warnings(full):
    _, r = full
    assert any(
        n.startswith("BreakRules.failure_events matches no event") for n in r["breaks"].notes
    )
    assert '<ul class="notes"><li>BreakRules.failure_events' in r.html


def test_empty_results_are_said_not_left_out():
    one_channel = touchpoints(channel=["web"] * 5, event=["page_view"] * 5, value=[None] * 5)
    with pytest.warns(oj.OmnijourneyWarning):
        journeys = oj.sessionize(one_channel)
    r = report(journeys=journeys, prices=prices(10.0), n_resamples=0)
    status = {s.key: s.status for s in r.sections}
    assert status["breaks"] == status["attribution"] == status["prices"] == "empty"
    assert r["breaks"].text == "No journey crossed channels: no break was found."
    assert r["attribution"].text == "No converting journey: there is no conversion to credit."
    assert r["prices"].text.startswith("No finding: 2 prices, 0 promotions and 0 stock rows")
    for key in ("breaks", "attribution", "prices"):
        assert f'<section id="{key}" class="empty">' in r.html


def test_missing_inputs_are_said_not_left_out():
    r = report()
    assert {s.status for s in r.sections} == {"not run"}
    assert r["identity"].text == "Not run: no customer records given."
    assert r.html.count('class="not-run"') == len(SECTIONS)


def test_the_page_holds_everything_it_shows(full, tmp_path):
    _, r = full
    page = r.html
    addresses = re.findall(r"""(?:src|href)\s*=\s*(["']?)([^"'\s>]*)""", page)
    assert addresses and all(a.startswith(("data:", "#")) for _, a in addresses)
    assert all(quote == '"' for quote, _ in addresses)
    assert not re.search(r"https?://|@import|url\(", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == page.count("<img ") == 4
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    path = r.write(tmp_path / "r.html")
    assert path.read_text("utf-8") == page


def test_same_results_same_page():
    a = report(touchpoints=touchpoints(), n_resamples=10)
    b = report(journeys=oj.sessionize(touchpoints()), n_resamples=10)
    assert a.html == b.html and a == b


def test_report_of_a_top_level_name_and_bad_options(tmp_path):
    assert oj.report is report
    assert isinstance(oj.report(tmp_path / "x.html"), Report)
    assert (tmp_path / "x.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(oj.ConfigError, match="'n_resamples' parameter must be an integer"):
        report(n_resamples=-1)


def test_markup_is_escaped():
    with pytest.warns(oj.OmnijourneyWarning, match="are not known channels"):
        tp = touchpoints(channel=["<b>web</b>", "store", "web", "web", "store"])
    r = report(touchpoints=tp, n_resamples=0, title="A & B <report>")
    assert "<b>web</b>" not in r.html and "&lt;b&gt;web&lt;/b&gt;" in r.html
    assert "<title>A &amp; B &lt;report&gt;</title>" in r.html


def test_no_figure_of_nothing():
    """One touchpoint per customer: no transition to draw, and no converting journey."""
    tp = touchpoints(
        customer=["c1", "c2", "c3", "c4", "c5"], event=["page_view"] * 5, value=[None] * 5
    )
    with pytest.warns(oj.OmnijourneyWarning):
        journeys = oj.sessionize(tp)
    r = report(journeys=journeys, n_resamples=0)
    assert r["journeys"].status == "results" and r["journeys"].figures == ()
    assert r["attribution"].status == "empty"

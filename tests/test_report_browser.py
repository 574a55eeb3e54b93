"""The report opened in a real browser: Chromium, headless, with its own flags.

The page is loaded from a file with a virtual time budget (load events fire, nothing waits
on the wall clock); ``--dump-dom`` gives the DOM after the page's script has counted the
figures decoded and laid out, and ``--log-net-log`` records every request of the network
stack. Chromium's own background requests are told apart from the page's by their initiator
("not an origin"); a control page with an ``http://`` image shows that a page's request is
seen. Skipped, with the reason, only where no Chromium is installed (``.ci/run`` installs
Debian's ``chromium`` where it can).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

import omnijourney as oj

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no headless browser: install Debian's chromium (apt-get install chromium; "
    ".ci/run does where apt-get works)",
)


def open_in_browser(page, tmp_path):
    """The DOM after load and the page's own requests, as Chromium saw them."""
    assert BROWSER is not None
    netlog = tmp_path / "netlog.json"
    done = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,900",
            "--virtual-time-budget=10000",
            f"--log-net-log={netlog}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    log = json.loads(netlog.read_text("utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = []
    for event in log["events"]:
        params = event.get("params", {})
        # requests of the page, not Chromium's own (whose initiator is "not an origin")
        if event["type"] == start and params.get("initiator", "not an origin") != "not an origin":
            requests.append(params["url"])
    return done.stdout, requests


def test_the_report_renders_its_figures_and_requests_nothing(tmp_path):
    world = oj.synth.generate(n_customers=40, seed=2)
    page = tmp_path / "report.html"
    result = oj.report(
        page,
        touchpoints=world.touchpoints,
        resolution=oj.resolve(oj.CustomerRecordTable.from_columns(world.records)),
        prices=world.prices.prices,
        n_resamples=20,
    )
    images = result.html.count("<img ")
    assert images == 4
    dom, requests = open_in_browser(page, tmp_path)
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert f'data-figures="{images}/{images}"' in body.group(0)
    for section in result.sections:
        assert f'<section id="{section.key}" class="results">' in dom
        assert f"<h2>{section.title}</h2>" in dom
    assert [url for url in requests if not url.startswith("file:")] == []


def test_a_request_of_a_page_would_be_seen(tmp_path):
    """The control: without the report's policy, an image on http:// is requested."""
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/figure.png"></body></html>',
        "utf-8",
    )
    _, requests = open_in_browser(page, tmp_path)
    assert "http://127.0.0.1:9/figure.png" in requests

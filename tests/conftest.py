"""Shared fixtures: a seeded generator and small hand-written touchpoint data.

Hypothesis runs derandomized by default, so that the suite gives the same verdict at every
run and on every machine (a property that fails one run in ten would fail a new user's first
try). ``HYPOTHESIS_PROFILE=explore python -m pytest`` draws fresh random examples, to look
for new failures; a failure found that way becomes an ``@example`` of the test.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240501)


@pytest.fixture
def small_columns() -> dict[str, list]:
    """Six touchpoints of two customers, deliberately out of order, with user column names."""
    return {
        "client": ["c2", "c1", "c1", "c2", "c1", "c1"],
        "ts": [
            "2024-05-02T09:00:00Z",
            "2024-05-01T10:05:00Z",
            "2024-05-01T10:00:00Z",
            "2024-05-02T08:00:00Z",
            "2024-05-03T18:30:00Z",
            "2024-05-01T10:05:00Z",
        ],
        "canal": ["store", "web", "web", "web", "call_centre", "web"],
        "what": ["purchase", "add_to_cart", "product_view", "product_view", "call", "product_view"],
        "amount": [120.0, None, None, None, None, None],
        "basket": [None, "K1", None, None, "K1", None],
    }


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the whole test session (tests that use it import
    pyspark first and skip without it)."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the executors run this interpreter
    session = (
        SparkSession.builder.master("local[2]")
        .appName("omnijourney-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# Reference tests compare with peers that are optional (lifetimes, jellyfish, pyspark): they
# skip where a peer is missing. CI runs them in an environment that has every peer, with
# OMNIJOURNEY_NO_SKIP=1, so that a test that would skip there fails instead of passing unseen.
NO_SKIP = os.environ.get("OMNIJOURNEY_NO_SKIP", "") not in ("", "0")


def _refuse_skip(report) -> None:
    if NO_SKIP and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped where every reference must run (OMNIJOURNEY_NO_SKIP): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _refuse_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _refuse_skip(outcome.get_result())

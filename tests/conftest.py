"""Shared fixtures: a seeded generator and small hand-written touchpoint data.

Hypothesis runs derandomized by default, so that the suite gives the same verdict at every
run and on every machine (a property that fails one run in ten would fail a new user's first
try). ``HYPOTHESIS_PROFILE=explore python -m pytest`` draws fresh random examples, to look
for new failures; a failure found that way becomes an ``@example`` of the test.
"""

from __future__ import annotations

import os

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

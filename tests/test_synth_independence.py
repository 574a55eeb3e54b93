"""The synthetic world is independent of the detectors it is used to measure.

Its code imports no detector (journeys, identity, attribution, pricing...): only the public
tables, model types and core helpers. Its behaviour is not tuned to the detectors' defaults:
with continuous pauses every default threshold of the library falls inside the story's
distributions, with draws on both sides of it and close to it. The thresholds are read here,
from the library, never by the generator.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.journeys import BreakRules, detect_breaks, sessionize

SYNTH = Path(oj.__file__).parent / "synth"
ALLOWED = (
    "omnijourney._arrays",
    "omnijourney._random",
    "omnijourney._validation",
    "omnijourney.errors",
    "omnijourney.model",
    "omnijourney.progress",
    "omnijourney.synth",
    "omnijourney.tables",
    "omnijourney.time",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(
                f"{node.module}.{a.name}" for a in node.names if node.module == "omnijourney"
            )
    return {m for m in out if m == "omnijourney" or m.startswith("omnijourney.")}


def test_the_generator_imports_no_detector():
    files = sorted(SYNTH.rglob("*.py"))
    assert len(files) > 10
    bad = {}
    for f in files:
        wrong = {
            m
            for m in imported_modules(f)
            if not any(m == a or m.startswith(a + ".") for a in ALLOWED)
        }
        if wrong:
            bad[str(f.relative_to(SYNTH))] = sorted(wrong)
    assert bad == {}


@pytest.fixture(scope="module")
def world():
    return oj.synth.generate(2000, seed=21, records=False, prices=False, difficulty="realistic")


def seconds(td) -> float:
    return float(np.timedelta64(td, "us").astype(np.int64)) / 1e6


def straddles(values: np.ndarray, threshold: float, *, near: float = 2.0) -> bool:
    """Draws on both sides of the threshold, and close to it on both sides."""
    below = (values < threshold) & (values >= threshold / near)
    above = (values > threshold) & (values <= threshold * near)
    return bool(below.sum() >= 5 and above.sum() >= 5)


def consecutive_gaps(world):
    tp = world.touchpoints
    t = tp.raw("time").view(np.int64) / 1e6
    same = tp.raw("customer")[1:] == tp.raw("customer")[:-1]
    return t[1:] - t[:-1], same


def test_pauses_straddle_the_visit_timeout(world):
    timeout = seconds(oj.JourneyRules().visit_timeout)
    gap, same = consecutive_gaps(world)
    v = world.truth.visit_id
    ch = world.touchpoints["channel"]
    web = np.isin(ch[1:], ["web", "app"]) & (ch[1:] == ch[:-1]) & same
    inside = web & (v[1:] == v[:-1])
    between = web & (v[1:] != v[:-1]) & (world.truth.journey_id[1:] == world.truth.journey_id[:-1])
    assert straddles(gap[inside], timeout) and straddles(gap[between], timeout)
    assert (gap[inside] > timeout).any() and (gap[between] < timeout).any()


def test_pauses_and_goals_straddle_the_journey_timeout(world):
    timeout = seconds(oj.JourneyRules().journey_timeout)
    gap, same = consecutive_gaps(world)
    j = world.truth.journey_id
    ep = world.truth.episode_id
    inside_goal = same & (ep[1:] == ep[:-1])
    new_goal = same & (ep[1:] != ep[:-1])
    assert straddles(gap[inside_goal], timeout, near=3.0)
    assert straddles(gap[new_goal], timeout)
    assert (gap[same & (j[1:] == j[:-1])] > timeout).any()


def test_breaks_straddle_their_windows(world):
    b = world.truth.breaks
    window = seconds(BreakRules().contact_window)
    after_failure = b["delay"][b["kind"] == "contact_after_failure"]
    assert (after_failure > window).any() and (after_failure < window).any()
    timeout = seconds(oj.JourneyRules().journey_timeout)
    ropo = b["delay"][b["kind"] == "ropo"]
    assert (ropo > timeout).any() and (ropo < timeout).any()


def test_followup_delays_straddle_the_deadlines_a_user_would_set(world):
    f = world.truth.followups
    for rule, deadline in (("welcome_after_signup", "2D"), ("answer_to_complaint", "24h")):
        d = f["delay"][(f["rule"] == rule) & ~np.isnan(f["delay"])]
        assert straddles(d, seconds(oj.time.to_timedelta64(deadline))), rule


def test_the_truth_is_not_what_the_detectors_find(world):
    """On the realistic story the default pipeline misses and invents breaks: the truth is
    not the detector's rule applied to the rows (on the clean story they agree exactly)."""
    found = detect_breaks(sessionize(world.touchpoints))
    got = set(zip(found["kind"], found["from_row"].tolist(), found["to_row"].tolist()))
    t = world.truth.breaks
    want = set(zip(t["kind"], t["from_row"].tolist(), t["to_row"].tolist()))
    assert got & want
    assert got - want and want - got

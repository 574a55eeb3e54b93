"""Exports to process-mining formats: pm4py event logs and OCEL 2.0 JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest

from omnijourney import TouchpointTable, sessionize
from omnijourney.errors import ConfigError
from omnijourney.journeys import to_event_log, to_ocel
from strategies import JOURNEY_RULES_UNMATCHED

pytestmark = JOURNEY_RULES_UNMATCHED

pd = pytest.importorskip("pandas")

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def jt():
    cols = {
        "customer": ["b", "a", "a", "a", "b"],
        "time": [
            BASE + dt.timedelta(minutes=m) for m in (10, 0, 5, 60 * 24 * 30, 0)
        ],  # a: web, store | a (a month later): app | b: web, web
        "channel": ["web", "web", "store", "app", "web"],
        "event": ["add_to_cart", "product_view", "order", "product_view", "product_view"],
        "value": [20.0, None, 99.5, None, None],
        "direction": ["inbound", "inbound", "inbound", None, "inbound"],
        "order_id": [None, None, "O1", None, None],
        "cart_id": ["K2", None, "K1", None, "K2"],
    }
    return sessionize(TouchpointTable.from_columns(cols))


def test_event_log_columns_and_values(jt):
    log = to_event_log(jt)
    assert list(log.columns) == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "lifecycle:transition",
        "customer",
    ]
    assert log["case:concept:name"].tolist() == ["0", "0", "1", "2", "2"]
    assert log["concept:name"].tolist() == [
        "web:product_view",
        "store:order",
        "app:product_view",
        "web:product_view",
        "web:add_to_cart",
    ]
    assert log["org:resource"].tolist() == ["web", "store", "app", "web", "web"]
    assert log["customer"].tolist() == ["a", "a", "a", "b", "b"]
    assert set(log["lifecycle:transition"]) == {"complete"}
    assert str(log["time:timestamp"].dt.tz) == "UTC"
    assert log["time:timestamp"].iloc[1] == pd.Timestamp("2024-05-01T09:05:00Z")
    # pm4py needs plain string columns for the case and activity
    for col in ("case:concept:name", "concept:name"):
        assert "str" in str(log[col].dtype).lower() or "obj" in str(log[col].dtype).lower()
    assert to_event_log(jt, activity="event")["concept:name"].tolist()[:2] == [
        "product_view",
        "order",
    ]
    with pytest.raises(ConfigError, match="by must be one of"):
        to_event_log(jt, activity="store")


def test_event_log_needs_pandas(jt, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"omnijourney\[pandas\]"):
        to_event_log(jt)


def test_ocel_structure(jt, tmp_path):
    path = tmp_path / "log.jsonocel"
    doc = to_ocel(jt, path)
    assert json.loads(path.read_text("utf-8")) == doc
    assert set(doc) == {"objectTypes", "eventTypes", "objects", "events"}
    assert [t["name"] for t in doc["objectTypes"]] == ["customer", "journey", "order", "cart"]
    assert [t["name"] for t in doc["eventTypes"]] == ["add_to_cart", "order", "product_view"]
    assert doc["eventTypes"][0]["attributes"] == [
        {"name": "channel", "type": "string"},
        {"name": "value", "type": "float"},
        {"name": "direction", "type": "string"},
    ]
    objects = {o["id"]: o for o in doc["objects"]}
    assert sorted(objects) == [
        "cart:K1",
        "cart:K2",
        "customer:a",
        "customer:b",
        "journey:0",
        "journey:1",
        "journey:2",
        "order:O1",
    ]
    j0 = objects["journey:0"]
    assert j0["type"] == "journey"
    assert {a["name"]: a["value"] for a in j0["attributes"]} == {
        "converted": True,
        "value": 99.5,
        "stage": "purchase",
        "end_reason": "conversion",
        "n_touchpoints": 2,
    }
    assert all(a["time"] == "1970-01-01T00:00:00Z" for a in j0["attributes"])
    assert j0["relationships"] == [{"objectId": "customer:a", "qualifier": "customer"}]
    assert objects["cart:K2"]["relationships"] == [
        {"objectId": "customer:b", "qualifier": "customer"}
    ]
    events = doc["events"]
    assert [e["id"] for e in events] == ["e0", "e1", "e2", "e3", "e4"]
    order = events[1]
    assert order == {
        "id": "e1",
        "type": "order",
        "time": "2024-05-01T09:05:00Z",
        "attributes": [
            {"name": "channel", "value": "store"},
            {"name": "value", "value": 99.5},
            {"name": "direction", "value": "inbound"},
        ],
        "relationships": [
            {"objectId": "customer:a", "qualifier": "customer"},
            {"objectId": "journey:0", "qualifier": "journey"},
            {"objectId": "order:O1", "qualifier": "order"},
            {"objectId": "cart:K1", "qualifier": "cart"},
        ],
    }
    # null value and direction are left out
    assert events[2]["attributes"] == [{"name": "channel", "value": "app"}]


def test_ocel_is_consistent(jt):
    doc = to_ocel(jt)
    ids = {o["id"] for o in doc["objects"]}
    assert len(ids) == len(doc["objects"])
    types = {t["name"] for t in doc["objectTypes"]}
    assert {o["type"] for o in doc["objects"]} == types
    declared = {t["name"]: {a["name"] for a in t["attributes"]} for t in doc["eventTypes"]}
    for e in doc["events"]:
        assert {a["name"] for a in e["attributes"]} <= declared[e["type"]]
        assert all(r["objectId"] in ids for r in e["relationships"])
        dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    for o in doc["objects"]:
        assert all(r["objectId"] in ids for r in o["relationships"])
    json.dumps(doc, allow_nan=False)


def test_ocel_times_keep_fractions_and_minimal_tables():
    tp = TouchpointTable.from_columns(
        {
            "customer": ["a", "a"],
            "time": ["2024-05-01T10:00:00.250", "2024-05-01T10:00:01"],
            "channel": ["web", "web"],
            "event": ["product_view", "product_view"],
        }
    )
    doc = to_ocel(sessionize(tp))
    assert [e["time"] for e in doc["events"]] == [
        "2024-05-01T10:00:00.250000Z",
        "2024-05-01T10:00:01.000000Z",
    ]
    assert [t["name"] for t in doc["objectTypes"]] == ["customer", "journey"]
    assert doc["eventTypes"] == [
        {"name": "product_view", "attributes": [{"name": "channel", "type": "string"}]}
    ]


def test_pm4py_reads_both_exports(tmp_path):
    """What pm4py read from both exports, recorded by tests/data/pm4py_golden.py (pm4py is
    AGPL-3.0: reference figures only); the digests tie the figures to today's exports."""
    import hashlib
    import importlib.util
    from pathlib import Path

    data = Path(__file__).parent / "data"
    spec = importlib.util.spec_from_file_location("pm4py_golden", data / "pm4py_golden.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    theirs = json.loads((data / "pm4py_golden.json").read_text())["ocel"]
    jt = gen.ocel_world()
    log = to_event_log(jt)
    assert gen.frame_digest(log) == theirs["log_digest"], "export changed: rerun pm4py_golden.py"
    assert sorted(set(log["case:concept:name"])) == theirs["case_ids"]
    assert theirs["case_ids"] == sorted(str(i) for i in jt.journeys.raw("journey_id").tolist())
    path = tmp_path / "world.jsonocel"
    to_ocel(jt, path)
    text = path.read_text(encoding="utf-8")
    assert hashlib.sha256(text.encode()).hexdigest() == theirs["ocel_digest"]
    doc = json.loads(text)
    assert theirs["events"] == len(doc["events"]) == len(jt.touchpoints)
    assert theirs["objects"] == len(doc["objects"])
    assert set(theirs["object_types"]) >= {"customer", "journey"}
    assert theirs["object_types"] == sorted(t["name"] for t in doc["objectTypes"])
    relations = [r for e in doc["events"] for r in e.get("relationships", [])]
    assert theirs["relations"] == len(relations)
    assert theirs["qualifiers"] == sorted({r["qualifier"] for r in relations})

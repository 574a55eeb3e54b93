"""JSON documents of earlier versions stay readable; types that register their own JSON state
round-trip; io resolves the types a document names without importing capabilities up front."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.errors import SchemaError
from omnijourney.io._state import _BY_TAG, resolve_tag

GOLDEN = Path(__file__).resolve().parent / "data" / "json"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text("utf-8"))["documents"]


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _written_now(obj) -> dict:
    return json.loads(oj.to_json(obj))


def _drop_tag(doc: dict, cls: type) -> dict:
    """A document without the ``type`` tag that registered types now write."""
    from omnijourney.io._state import json_state_of

    if json_state_of(cls) is None:
        return doc
    return {k: v for k, v in doc.items() if k != "type"}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_documents_of_the_previous_version_read_back_whole(name):
    cls = _class(MANIFEST[name])
    text = (GOLDEN / f"{name}.json").read_text("utf-8")
    obj = oj.from_json(text, cls)
    assert isinstance(obj, cls)
    # written again, the document says the same (registered types add their tag)
    assert _drop_tag(_written_now(obj), cls) == json.loads(text)
    again = oj.from_json(oj.to_json(obj), cls)
    assert oj.to_json(again) == oj.to_json(obj)


def test_golden_documents_hold_what_was_written():
    jt = oj.from_json((GOLDEN / "journey_table.json").read_text("utf-8"), oj.JourneyTable)
    # c1 browses on May 1, calls on May 3 and buys on May 20 (after the 7-day timeout); c2
    # browses and buys on May 2
    assert jt.touchpoints["customer"].tolist() == ["c1", "c1", "c1", "c1", "c2", "c2"]
    assert jt.journey_id.tolist() == [0, 0, 0, 1, 2, 2]
    assert jt.journeys["end_reason"].tolist() == ["timeout", "conversion", "conversion"]
    assert jt.summary().startswith("3 journeys of 2 customers from 6 touchpoints (5 visits)")
    tp = oj.from_json((GOLDEN / "touchpoint_table.json").read_text("utf-8"), oj.TouchpointTable)
    assert tp.is_sorted and tp.extra_columns == ("store",)
    assert dict((c.name, c.kind.value) for c in tp.channel_catalog)["kiosk"] == "physical"
    promos = oj.from_json(
        (GOLDEN / "promotion_table_enums.json").read_text("utf-8"), oj.pricing.PromotionTable
    )
    assert promos["audience"].tolist() == ["public", "loyalty"]
    assert promos.spec("mechanic").enum is oj.pricing.Mechanic
    table = oj.from_json((GOLDEN / "table.json").read_text("utf-8"), oj.Table)
    assert np.array_equal(table["x"], [1.5, np.inf, np.nan], equal_nan=True)


def test_an_enum_whose_private_module_moved_is_found_in_its_package():
    text = (GOLDEN / "promotion_table_enums.json").read_text("utf-8")
    assert '"omnijourney.pricing._tables:Audience"' in text
    moved = text.replace("omnijourney.pricing._tables:", "omnijourney.pricing._gone:")
    table = oj.from_json(moved, oj.Table)  # no schema: the document's enums decide
    assert table.spec("audience").enum is oj.pricing.Audience
    assert table.spec("mechanic").enum is oj.pricing.Mechanic
    assert table.equals(oj.from_json(text, oj.Table))


@pytest.mark.parametrize(
    ("tag", "match"),
    [
        ("os.path:join", "only omnijourney"),
        ("omnijourney.pricing._gone:NoSuchEnum", "does not exist"),
        ("omnijourney.model:Channel", "not an enum"),
    ],
)
def test_an_enum_tag_that_is_not_one_of_ours_is_refused(tag, match):
    doc = json.loads((GOLDEN / "touchpoint_table.json").read_text("utf-8"))
    doc["columns"]["direction"]["enum"] = tag
    with pytest.raises(SchemaError, match=match):
        oj.from_dict(doc, oj.Table)  # no schema: the document's enum decides


# --------------------------------------------------------------------------- registered types


def _journey_table():
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["a", "a", "b"],
            "time": ["2024-01-01T10:00", "2024-01-01T10:10", "2024-01-02T09:00"],
            "channel": ["web", "store", "web"],
            "event": ["product_view", "purchase", "product_view"],
        }
    )
    return oj.sessionize(tp)


def _path_table():
    return oj.attribution.PathTable.from_sequences(
        [["web", "store"], ["sms"]], [1.0, 0.0], [20.0, 0.0], [0.0, 2.0], times=[[60.0, 0.0], [0.0]]
    )


#: One example of every type registered by the package, by tag.
EXAMPLES = {
    "omnijourney.journeys:JourneyTable": _journey_table,
    "omnijourney.attribution:PathTable": _path_table,
}


def _registered_tags() -> set[str]:
    for package in ("journeys", "identity", "attribution", "pricing", "synth", "metrics"):
        importlib.import_module(f"omnijourney.{package}")
    return {tag for tag in _BY_TAG if tag.startswith("omnijourney.")}


def test_every_registered_type_has_an_example():
    assert _registered_tags() == set(EXAMPLES)


@pytest.mark.parametrize("tag", sorted(EXAMPLES))
def test_registered_types_round_trip_and_say_what_they_are(tag):
    obj = EXAMPLES[tag]()
    cls = resolve_tag(tag)
    assert isinstance(obj, cls)
    doc = _written_now(obj)
    assert doc["type"] == tag
    back = oj.from_json(oj.to_json(obj), cls)
    assert oj.to_json(back) == oj.to_json(obj)


def test_a_document_of_another_type_is_refused():
    doc = _written_now(_journey_table())
    doc["type"] = "omnijourney.journeys:SomethingElse"
    with pytest.raises(SchemaError, match="got a document of type"):
        oj.from_dict(doc, oj.JourneyTable)


def test_io_imports_no_capability():
    code = (
        "import sys, omnijourney as oj;"
        "t = oj.TouchpointTable.from_columns({'customer': ['a'], 'time': ['2024-01-01'],"
        " 'channel': ['web'], 'event': ['x']});"
        "oj.from_json(oj.to_json(t), oj.TouchpointTable);"
        "print(sorted(m for m in sys.modules if m.startswith('omnijourney.')"
        " and m.split('.')[1] in ('journeys', 'identity', 'attribution', 'pricing', 'synth',"
        " 'metrics', 'plot', 'spark', 'cli')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

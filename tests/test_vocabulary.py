"""The user's labels mapped to the library's on load, channels of unknown kind, and exact
duplicate rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import ConfigError, DataError, OmnijourneyWarning, TouchpointTable, Vocabulary
from omnijourney.pricing import PriceTable

# a French export: its own words, in more than one case
EXPORT = {
    "client": ["c1", "c1", "c2", "c2", "c3"],
    "horodatage": [
        "2024-05-01T10:00",
        "2024-05-01T10:20",
        "2024-05-02T09:00",
        "2024-05-03T18:00",
        "2024-05-04T11:00",
    ],
    "canal": ["Site", "Magasin", "site", "MAGASIN", "Téléphone"],
    "action": ["vue produit", "Achat", "vue produit", "achat", "ACHAT"],
}
NAMES = {"customer": "client", "time": "horodatage", "channel": "canal", "event": "action"}
FRENCH = Vocabulary(
    events={"achat": "purchase", "vue produit": "product_view"},
    channels={"site": "web", "magasin": "store", "telephone": "call_centre"},
    fold_case=True,
    fold_accents=True,
)


def test_a_vocabulary_maps_labels_whatever_their_case_and_accents():
    t = TouchpointTable.from_columns(EXPORT, **NAMES, vocabulary=FRENCH)
    assert t["event"].tolist() == [
        "product_view",
        "purchase",
        "product_view",
        "purchase",
        "purchase",
    ]
    assert t["channel"].tolist() == ["web", "store", "web", "store", "call_centre"]
    assert t.labels("event").tolist() == ["product_view", "purchase"]  # merged and sorted
    assert [c.kind.value for c in t.channel_catalog] == ["assisted", "physical", "digital"]
    mapped = t.load_report.relabelled
    assert ("event", "Achat", "purchase") in mapped and (
        "channel",
        "Téléphone",
        "call_centre",
    ) in mapped


def test_the_mapped_export_converts_where_the_raw_one_did_not():
    rules = oj.JourneyRules(conversion_events=["purchase"])
    with pytest.warns(OmnijourneyWarning, match="channel names"):
        raw = TouchpointTable.from_columns(EXPORT, **NAMES)
    with pytest.warns(OmnijourneyWarning, match="matches no event"):
        unmapped = oj.sessionize(raw, rules)
    assert unmapped.journeys["converted"].sum() == 0  # 'achat' is not 'purchase'
    mapped = TouchpointTable.from_columns(EXPORT, **NAMES, vocabulary=FRENCH)
    assert oj.sessionize(mapped, rules).journeys["converted"].sum() == 3


def test_event_map_and_channel_map_are_exact_without_folding():
    t = TouchpointTable.from_columns(
        EXPORT,
        **NAMES,
        event_map={"Achat": "purchase", "achat": "purchase", "ACHAT": "purchase"},
        channel_map={"Site": "web", "site": "web", "Magasin": "store", "MAGASIN": "store"},
        channels={"Téléphone": "assisted"},
    )
    assert t.labels("event").tolist() == ["purchase", "vue produit"]
    assert t.labels("channel").tolist() == ["Téléphone", "store", "web"]


def test_unmapped_labels_are_folded_when_folding_is_asked():
    vocab = Vocabulary(fold_case=True)
    t = TouchpointTable.from_columns(
        {**EXPORT, "action": ["Purchase", "purchase", "PURCHASE", "View", "view"]},
        **NAMES,
        vocabulary=vocab,
        channel_map=None,
        channels={"site": "digital", "magasin": "physical", "téléphone": "assisted"},
    )
    assert t.labels("event").tolist() == ["purchase", "view"]


def test_vocabulary_validation():
    with pytest.raises(ConfigError, match="'events' parameter must map labels"):
        Vocabulary(events={"achat": 3})
    with pytest.raises(ConfigError, match="'channels' parameter must be a mapping"):
        Vocabulary(channels=["web"])
    with pytest.raises(ConfigError, match="not both"):
        TouchpointTable.from_columns(EXPORT, **NAMES, vocabulary=FRENCH, event_map={"a": "b"})
    with pytest.raises(ConfigError, match="no 'event' column"):
        PriceTable.from_columns({}, event_map={"achat": "purchase"})
    with pytest.raises(ConfigError, match="'vocabulary' parameter must be a Vocabulary"):
        TouchpointTable.from_columns(EXPORT, **NAMES, vocabulary={"achat": "purchase"})


def test_channel_labels_of_price_tables_are_mapped():
    prices = PriceTable.from_columns(
        {
            "sku": ["A1", "A1"],
            "canal": ["Site", "Magasin"],
            "price": [9.99, 9.99],
            "debut": ["20240501"] * 2,
        },
        channel="canal",
        valid_from="debut",
        vocabulary=FRENCH,
    )
    assert prices["channel"].tolist() == ["web", "store"]


def test_channels_of_unknown_kind_warn_on_load_and_say_how_to_map_them():
    with pytest.warns(OmnijourneyWarning, match=r"'Magasin'.*channel_map=.*channels=") as record:
        t = TouchpointTable.from_columns(EXPORT, **NAMES)
    assert len(record) == 1
    assert t.load_report.unplaced_channels == ("MAGASIN", "Magasin", "Site", "Téléphone", "site")
    assert "channels of unknown kind" in repr(t)
    # described or mapped, they are placed: no warning
    described = TouchpointTable.from_columns(
        {**EXPORT, "canal": ["kiosk"] * 5}, **NAMES, channels={"kiosk": "physical"}
    )
    assert described.load_report.unplaced_channels == ()


def test_integer_labels_map_too():
    data = {
        "customer": ["a", "b"],
        "time": ["2024-01-01"] * 2,
        "channel": [1, 2],
        "event": ["x", "y"],
    }
    t = TouchpointTable.from_columns(data, channel_map={1: "web", 2: "store"})
    assert t["channel"].tolist() == ["web", "store"]


# --------------------------------------------------------------------------- duplicates

ROWS = {
    "customer": ["a", "a", "b", "a", "b"],
    "time": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-01", "2024-01-01"],
    "channel": ["web"] * 5,
    "event": ["purchase"] * 5,
    "value": [10.0, 20.0, 5.0, 10.0, 5.0],
}


def test_duplicates_are_reported_by_default_and_remembered():
    with pytest.warns(OmnijourneyWarning, match="2 rows are exact duplicates.*duplicates='drop'"):
        t = TouchpointTable.from_columns(ROWS)
    assert len(t) == 5 and t.load_report.n_duplicates == 2
    assert "2 exact duplicate rows kept" in repr(t)
    assert "exact duplicate rows: 2 (report)" in t.load_report.summary()


def test_duplicates_drop_keeps_the_first_of_each_and_counts_add_up():
    t = TouchpointTable.from_columns(ROWS, duplicates="drop")
    assert len(t) == 3 and t["value"].sum() == 35.0
    assert t.load_report.n_dropped == 2 and "2 exact duplicate rows dropped" in repr(t)
    bad = {**ROWS, "customer": ["a", "a", "b", "a", None]}
    q = TouchpointTable.from_columns(bad, duplicates="drop", errors="quarantine")
    assert (q.n_in, q.n_kept, q.n_rejected, q.n_duplicates) == (5, 3, 1, 1)
    assert "1 duplicates dropped" in repr(q)


def test_duplicates_raise_names_the_rows_and_their_first_occurrence():
    with pytest.raises(DataError, match="exact duplicate") as err:
        TouchpointTable.from_columns(ROWS, duplicates="raise")
    assert err.value.rows == (3, 4)
    assert err.value.values == ("same as row 0", "same as row 2")


def test_duplicates_keep_does_not_look():
    t = TouchpointTable.from_columns(ROWS, duplicates="keep")
    assert len(t) == 5 and t.load_report.n_duplicates is None


def test_rows_equal_on_loaded_columns_are_duplicates_even_if_the_input_differs():
    # the same instant written twice, and a column that is not loaded
    data = {
        **ROWS,
        "time": [
            "2024-01-01T00:00Z",
            "2024-01-02",
            "2024-01-01",
            "2024-01-01T01:00+01:00",
            "2024-01-01",
        ],
    }
    data["note"] = list("vwxyz")
    t = TouchpointTable.from_columns(data, tz="UTC", duplicates="drop")
    assert len(t) == 3


@given(
    st.lists(
        st.tuples(
            st.sampled_from("abc"),
            st.integers(0, 3),
            st.sampled_from([1.0, float("nan"), -0.0, 0.0]),
        ),
        max_size=40,
    )
)
def test_duplicate_detection_agrees_with_a_set_of_rows(rows):
    data = {
        "customer": [r[0] for r in rows],
        "time": np.array([r[1] for r in rows], dtype="datetime64[D]"),
        "channel": ["web"] * len(rows),
        "event": ["x"] * len(rows),
        "value": [r[2] for r in rows],
    }
    t = TouchpointTable.from_columns(data, duplicates="drop")

    def key(r):  # NaN equals NaN and -0.0 equals 0.0, as in the canonical sort
        return (r[0], r[1], "nan" if r[2] != r[2] else r[2] + 0.0)

    first: dict = {}
    for i, r in enumerate(rows):
        first.setdefault(key(r), i)
    assert len(t) == len(first)
    assert t["customer"].tolist() == [rows[i][0] for i in sorted(first.values())]


def test_the_synthetic_world_has_no_exact_duplicates():
    world = oj.synth.generate(200, seed=3)
    for table in (
        world.touchpoints,
        world.prices.prices,
        world.prices.promotions,
        world.prices.stock,
    ):
        again = type(table).from_columns(table, duplicates="raise")
        assert len(again) == len(table)

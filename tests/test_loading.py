"""One builder for every table type: roles from the schema, options, the load report, and
the surface for authors of new table types."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import omnijourney as oj
from omnijourney import ConfigError, DataError, SchemaError, Table, TouchpointTable
from omnijourney.identity import CustomerRecordTable
from omnijourney.pricing import CatalogTable, PriceTable, PromotionTable, StockTable
from omnijourney.tables import ColumnSpec, LoadReport, Problem, build_table

TP = {
    "client": ["a", "b", "a"],
    "ts": ["2024-05-01T10:00", "2024-05-01T11:00", "2024-05-02T09:00"],
    "canal": ["web", "store", "web"],
    "what": ["product_view", "purchase", "product_view"],
}
ROLES = {"customer": "client", "time": "ts", "channel": "canal", "event": "what"}

# one small valid input per table type, under the library's names
SAMPLES = {
    TouchpointTable: {
        "customer": ["a", "b"],
        "time": ["2024-05-01", "2024-05-02"],
        "channel": ["web", "store"],
        "event": ["product_view", "purchase"],
    },
    CustomerRecordTable: {"email": ["a@x.fr", "b@x.fr"], "last_name": ["Roy", "Lee"]},
    PriceTable: {
        "sku": ["A1", "A1"],
        "channel": ["web", "store"],
        "price": [9.99, 10.5],
        "valid_from": ["2024-05-01", "2024-05-01"],
    },
    PromotionTable: {
        "promo_id": ["P1", "P1"],
        "sku": ["A1", "A1"],
        "channel": ["web", "store"],
        "promo_price": [7.99, 7.99],
        "start": ["2024-05-10", "2024-05-10"],
    },
    StockTable: {
        "sku": ["A1", "A1"],
        "location": ["S01", "online"],
        "time": ["2024-05-01", "2024-05-01"],
        "quantity": [3, 0],
    },
    CatalogTable: {"sku": ["A1", "B2"], "perishable": [False, True]},
}


def test_roles_are_keywords_named_after_the_schema():
    t = TouchpointTable.from_columns(TP, **ROLES)
    assert t.columns == ("customer", "time", "channel", "event")
    assert t.load_report is not None
    assert dict(t.load_report.columns) == {
        "customer": "client",
        "time": "ts",
        "channel": "canal",
        "event": "what",
    }


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_an_unknown_role_names_it_and_the_valid_roles(cls):
    with pytest.raises(ConfigError, match=r"unknown keyword\(s\) \['custmer'\].*roles of") as err:
        cls.from_columns(SAMPLES[cls], custmer="x")
    for spec in cls.schema:
        assert spec.name in str(err.value)


def test_a_plain_table_has_no_roles():
    with pytest.raises(ConfigError, match="a Table without a schema: use columns="):
        Table.from_columns({"x": [1]}, customer="x")


def test_a_role_given_false_leaves_a_column_of_its_name_out():
    data = {**TP, "value": [1.0, 2.0, None]}
    t = TouchpointTable.from_columns(data, **ROLES)
    assert "value" in t.columns and t.load_report.picked_up == ("value",)
    without = TouchpointTable.from_columns(data, **ROLES, value=False)
    assert "value" not in without.columns and without.load_report.unused == ("value",)
    with pytest.raises(ConfigError, match="'customer' is required"):
        TouchpointTable.from_columns(data, **{**ROLES, "customer": False})
    with pytest.raises(ConfigError, match="must be a column name"):
        TouchpointTable.from_columns(data, **{**ROLES, "value": 3})


def test_columns_picked_up_by_name_are_reported_and_logged(caplog):
    data = {
        "sys": ["crm", "web"],
        "id": ["C1", "W9"],
        "mail": ["a@x.fr", "b@x.fr"],
        "postcode": ["75001", "75002"],
        "date_of_birth": ["1980-01-02", None],
        "notes": ["x", "y"],
    }
    with caplog.at_level(logging.INFO, logger="omnijourney.tables"):
        recs = CustomerRecordTable.from_columns(data, source="sys", record_id="id", email="mail")
    report = recs.load_report
    assert report.picked_up == ("postcode", "date_of_birth")
    assert report.unused == ("notes",)
    assert "picked up by name" in caplog.text and "postcode, date_of_birth" in caplog.text
    assert "picked up by name (not named in the call): postcode, date_of_birth" in repr(recs)
    summary = report.summary()
    assert "postcode <- postcode (by name)" in summary and "email <- mail" in summary
    assert "not loaded: notes" in summary


def test_options_are_validated_with_the_parameter_named():
    with pytest.raises(ConfigError, match="'duplicates' parameter must be one of"):
        TouchpointTable.from_columns(SAMPLES[TouchpointTable], duplicates="ignore")
    with pytest.raises(ConfigError, match="'decimal' parameter"):
        TouchpointTable.from_columns(SAMPLES[TouchpointTable], decimal=";")
    with pytest.raises(ConfigError, match="'time_unit' parameter"):
        TouchpointTable.from_columns(SAMPLES[TouchpointTable], time_unit="h")
    with pytest.raises(ConfigError, match="unknown time zone"):
        TouchpointTable.from_columns(SAMPLES[TouchpointTable], tz="Mars/Olympus")
    with pytest.raises(ConfigError, match="'extra_kinds'"):
        TouchpointTable.from_columns(SAMPLES[TouchpointTable], extra_kinds=["x"])
    with pytest.raises(ConfigError, match="does not describe channels"):
        PriceTable.from_columns(SAMPLES[PriceTable], channels={"web": "digital"})
    with pytest.raises(ConfigError, match="no 'event' column"):
        PriceTable.from_columns(SAMPLES[PriceTable], event_map={"achat": "purchase"})


def test_a_plain_table_keeps_its_columns_and_kinds_names():
    t = Table.from_columns({"a": [1, 2], "b": ["x", "y"]}, columns={"n": "a"}, kinds={"n": "float"})
    assert t.columns == ("n",) and t.kinds == {"n": "float"}
    with pytest.raises(ConfigError, match="not both"):
        Table.from_columns({"a": [1]}, columns=["a"], extra=["a"])


def test_extras_take_a_declared_kind():
    data = {**TP, "store_code": ["01", "02", "03"], "visit": ["2024-05-01"] * 3}
    t = TouchpointTable.from_columns(
        data,
        **ROLES,
        extra={"store": "store_code", "visit": "visit"},
        extra_kinds={"store": "int", "visit": "time"},
    )
    assert t.kinds["store"] == "int" and t["store"].tolist() == [1, 2, 3]
    assert t.kinds["visit"] == "time"
    with pytest.raises(ConfigError, match="not extras"):
        TouchpointTable.from_columns(data, **ROLES, extra_kinds={"other": "int"})


# --------------------------------------------------------------------------- authors' surface


class Visits(Table):
    table_name = "Visits"
    schema = (
        ColumnSpec("store", "category", required=True, nullable=False),
        ColumnSpec("day", "time", required=True, nullable=False),
        ColumnSpec("visitors", "int", required=True, nonnegative=True),
    )

    @classmethod
    def check_rows(cls, table):
        closed = table.raw("visitors") == 0
        return [Problem("visitors", None, closed, "is zero (closed stores report nothing)")]


def test_a_new_table_type_gets_every_builder_from_its_schema(tmp_path):
    data = {"magasin": ["S1", "S2", "S1"], "jour": ["20240501"] * 3, "n": [120, 0, 80]}
    kept, rejects = Visits.from_columns(
        data, store="magasin", day="jour", visitors="n", errors="quarantine"
    )
    assert isinstance(kept, Visits) and kept["visitors"].tolist() == [120, 80]
    assert rejects.rows.tolist() == [1]
    assert rejects.row(0)["value"] == "0" and rejects.row(0)["column"] == "visitors"
    with pytest.raises(DataError, match=r"column 'visitors' \(input column 'n'\): is zero"):
        Visits.from_columns(data, store="magasin", day="jour", visitors="n")
    same = build_table(
        Visits,
        {k: v[::2] for k, v in data.items()},
        dict(store="magasin", day="jour", visitors="n"),
    )
    assert same.equals(kept)
    path = tmp_path / "visits.csv"
    kept.to_csv(path)
    assert Visits.from_csv(path).equals(kept)


def test_spec_meta_and_replace_columns():
    t = TouchpointTable.from_columns(SAMPLES[TouchpointTable], channels={"web": "digital"})
    assert t.spec("customer").kind == "category" and not t.spec("customer").nullable
    with pytest.raises(SchemaError):
        t.spec("nope")
    assert isinstance(t.meta["load"], LoadReport)
    assert [c.name for c in t.meta["channels"]] == ["store", "web"]
    with pytest.raises(TypeError):
        t.meta["x"] = 1  # type: ignore[index]
    doubled = t.replace_columns({"sequence": np.array([2, 1])})
    assert isinstance(doubled, TouchpointTable) and doubled.kinds["sequence"] == "int"
    assert doubled.meta["channels"] == t.meta["channels"]
    renamed = t.replace_columns(
        {"channel": np.array([0, 0], dtype=np.int8)},
        labels={"channel": np.array(["app"], dtype=object)},
    )
    assert renamed["channel"].tolist() == ["app", "app"]
    with pytest.raises(SchemaError, match="needs its labels"):
        t.replace_columns(
            {"source": np.array([0, 1], dtype=np.int8)}, specs={"source": t.spec("channel")}
        )
    assert t.replace_columns(drop=["event"]).columns == ("customer", "time", "channel")


def test_building_does_not_change_a_table_after_it_is_built():
    # the channel catalog is part of the table as it is built, not set on it afterwards
    t = TouchpointTable.from_columns(SAMPLES[TouchpointTable])
    again = TouchpointTable.from_columns(t)
    assert again.equals(t) and again.meta["channels"] == t.meta["channels"]


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_every_table_type_reads_csv_and_parquet_the_same_way(cls, tmp_path):
    pytest.importorskip("pyarrow")
    table = cls.from_columns(SAMPLES[cls])
    table.to_csv(tmp_path / "t.csv")
    table.to_parquet(tmp_path / "t.parquet")
    assert cls.from_csv(tmp_path / "t.csv").equals(table)
    assert cls.from_parquet(tmp_path / "t.parquet").equals(table)
    kept, rejects = cls.from_csv(tmp_path / "t.csv", errors="quarantine")
    assert kept.equals(table) and len(rejects) == 0


def test_linking_touchpoints_keeps_the_channel_descriptions():
    from omnijourney.identity import link_touchpoints

    recs = CustomerRecordTable.from_columns(
        {"source": ["crm", "web"], "record_id": ["1", "2"], "email": ["a@x.fr", "a@x.fr"]}
    )
    tp = TouchpointTable.from_columns(
        {
            "customer": ["1", "2"],
            "time": ["2024-01-01"] * 2,
            "channel": ["kiosk", "web"],
            "event": ["x"] * 2,
        },
        channels={"kiosk": "physical"},
    )
    linked = link_touchpoints(tp, oj.resolve(recs), on={"customer": "record_id"})
    assert [c.kind.value for c in linked.channel_catalog] == ["physical", "digital"]

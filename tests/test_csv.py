"""Reading files: engines, encodings, compression, kinds from text, round trips."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

import omnijourney as oj
from omnijourney import DataError, SchemaError, Table, TouchpointTable
from strategies import touchpoint_columns

pd = pytest.importorskip("pandas")
ENGINES = ["python", "pyarrow", "polars"]

TEXT = (
    "client;ts;canal;action;montant;magasin;fidele;visite\n"
    "12346;2024-05-01T10:00:00Z;web;vue;;007;true;2024-05-01T09:59:00Z\n"
    "12346;2024-05-02T10:00:00Z;store;achat;19.9;012;false;2024-05-02T09:00:00Z\n"
    "12347;2024-05-03T10:00:00Z;web;achat;5;;true;\n"
)
NAMES = {
    "customer": "client",
    "time": "ts",
    "channel": "canal",
    "event": "action",
    "value": "montant",
}


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_reads_the_same_table(tmp_path, engine):
    if engine != "python":
        pytest.importorskip(engine)
    path = write(tmp_path / "tp.csv", TEXT)
    t = TouchpointTable.from_csv(path, delimiter=";", engine=engine, **NAMES, extra=True)
    reference = TouchpointTable.from_csv(path, delimiter=";", engine="python", **NAMES, extra=True)
    assert t.equals(reference)
    assert t.labels("customer").tolist() == [12346, 12347]
    assert t.kinds == {
        "customer": "category",
        "time": "time",
        "channel": "category",
        "event": "category",
        "value": "float",
        "magasin": "category",
        "fidele": "bool",
        "visite": "time",
    }
    assert t["magasin"].tolist() == ["007", "012", None]  # leading zeros: text
    assert t["value"].tolist()[1:] == [19.9, 5.0] and np.isnan(t["value"][0])


def test_extras_from_csv_get_the_kinds_pandas_gives_them(tmp_path):
    path = write(
        tmp_path / "x.csv",
        "customer,time,channel,event,qty,price,code\n"
        + "a,2024-01-01,web,x,3,2.5,A\n"
        + "b,2024-01-02,web,x,4,3,B\n",
    )
    from_csv = TouchpointTable.from_csv(path, extra=["qty", "price", "code"])
    from_pandas = TouchpointTable.from_columns(pd.read_csv(path), extra=["qty", "price", "code"])
    assert (
        from_csv.kinds
        == from_pandas.kinds
        == {**from_csv.kinds, "qty": "int", "price": "float", "code": "category"}
    )
    assert from_csv.equals(from_pandas)


def test_a_latin_1_file_reads_with_its_encoding_and_refuses_a_wrong_one(tmp_path):
    text = "customer,time,channel,event\nZoé,2024-01-01,web,achat\nLéa,2024-01-02,web,vue\n"
    path = write(tmp_path / "latin1.csv", text, "latin-1")
    for engine in ENGINES:
        t = TouchpointTable.from_csv(path, encoding="latin-1", engine=engine)
        assert t["customer"].tolist() == ["Zoé", "Léa"]
        with pytest.raises(DataError, match=r"cannot be decoded as utf-8.*encoding="):
            TouchpointTable.from_csv(path, engine=engine)


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer,time,channel,event\na,2024-01-01,web,x\n")
    for engine in ENGINES:
        assert len(TouchpointTable.from_csv(path, engine=engine)) == 1


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
def test_compressed_files_are_read(tmp_path, kind):
    data = TEXT.encode()
    path = tmp_path / f"tp.csv.{kind}"
    if kind == "gz":
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path.write_bytes(bz2.compress(data))
    elif kind == "xz":
        path.write_bytes(lzma.compress(data))
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("tp.csv", data)
    plain = TouchpointTable.from_csv(write(tmp_path / "tp.csv", TEXT), delimiter=";", **NAMES)
    for engine in ENGINES:
        assert TouchpointTable.from_csv(path, delimiter=";", engine=engine, **NAMES).equals(plain)


def test_a_zip_of_several_files_is_refused_naming_them(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", "x\n1\n")
        z.writestr("b.csv", "x\n2\n")
    with pytest.raises(SchemaError, match=r"one CSV file.*a\.csv.*b\.csv"):
        Table.from_csv(path)


def test_bad_files_say_what_is_wrong(tmp_path):
    with pytest.raises(SchemaError, match="cannot open"):
        Table.from_csv(tmp_path / "missing.csv")
    with pytest.raises(SchemaError, match="empty"):
        Table.from_csv(write(tmp_path / "empty.csv", ""))
    with pytest.raises(SchemaError, match="duplicate column names"):
        Table.from_csv(write(tmp_path / "dup.csv", "a,a\n1,2\n"))
    ragged = write(tmp_path / "ragged.csv", "a,b\n1,2\n3\n")
    for engine in ("python", "pyarrow"):
        with pytest.raises(DataError, match=r"expected 2|got 1"):
            Table.from_csv(ragged, engine=engine)
    # polars reads a short row as empty trailing fields (which is why auto does not pick it)
    assert Table.from_csv(ragged, engine="polars")["b"].tolist()[0] == 2
    with pytest.raises(oj.ConfigError, match="'engine' parameter"):
        Table.from_csv(write(tmp_path / "ok.csv", "a\n1\n"), engine="spark")
    with pytest.raises(oj.ConfigError, match="'encoding' parameter"):
        Table.from_csv(tmp_path / "ok.csv", encoding="klingon")


def test_null_values_and_decimal_commas_of_european_exports(tmp_path):
    path = write(tmp_path / "eu.csv", "sku;prix;note\nA1;9,99;NULL\nB2;1 000,5;x\n")
    with pytest.raises(DataError, match="decimal comma"):
        Table.from_csv(path, delimiter=";", kinds={"prix": "float"})
    t = Table.from_csv(
        path,
        delimiter=";",
        decimal=",",
        null_values=["", "NULL"],
        kinds={"prix": "float"},
        errors="quarantine",
    )
    assert t.kept["prix"].tolist() == [9.99] and t.rejects.rows.tolist() == [1]
    assert Table.from_csv(path, delimiter=";", null_values=["NULL"])["note"].tolist() == [None, "x"]


def test_digit_only_dates_of_a_transaction_log(tmp_path):
    # the layout of the CDNOW transaction log: ids with leading zeros, YYYYMMDD dates
    path = write(
        tmp_path / "cdnow.csv",
        "customer_id,date,number_of_cds,dollar_value\n00001,19970101,1,11.77\n00002,19970112,5,77.00\n",
    )
    t = TouchpointTable.from_csv(
        path,
        customer="customer_id",
        time="date",
        value="dollar_value",
        extra={"cds": "number_of_cds"},
        constants={"channel": "web", "event": "purchase"},
    )
    assert t["event"].tolist() == ["purchase", "purchase"]
    assert dict(t.load_report.columns)["channel"] == "='web'"
    assert t["time"][1] == np.datetime64("1997-01-12")
    assert t["customer"].tolist() == ["00001", "00002"] and t.kinds["cds"] == "int"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trips_keep_every_column(tmp_path, fmt):
    pytest.importorskip("pyarrow")
    data = {
        "customer": [12346, 12347],
        "time": ["2024-05-01T10:00Z", "2024-05-02T11:30:15.25Z"],
        "channel": ["web", "store"],
        "event": ["product_view", "purchase"],
        "value": [None, 19.9],
        "direction": ["inbound", None],
        "store": ["S-01", None],
        "qty": [1, 2],
        "share": [0.5, 1.0],
        "member": [True, False],
        "seen": np.array(["2024-05-01T09:00", "NaT"], dtype="datetime64[us]"),
    }
    t = TouchpointTable.from_columns(data, extra=["store", "qty", "share", "member", "seen"])
    path = tmp_path / f"t.{fmt}"
    if fmt == "csv":
        t.to_csv(path)
        back = TouchpointTable.from_csv(path, extra=True)
    else:
        t.to_parquet(path)
        back = TouchpointTable.from_parquet(path, extra=True)
    assert back.columns == t.columns and back.kinds == t.kinds
    assert back.equals(t)


@settings(max_examples=25, deadline=None)
@given(touchpoint_columns(min_rows=1))
def test_csv_round_trip_property(tmp_path_factory, cols):
    t = TouchpointTable.from_columns(cols, duplicates="keep")
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    t.to_csv(path)
    for engine in ENGINES:
        back = TouchpointTable.from_csv(path, engine=engine, duplicates="keep")
        assert back.equals(t)

"""Tables hand themselves to other libraries: the Arrow C stream (pyarrow, polars, DuckDB,
pandas), the dataframe interchange protocol, and exports under the user's column names."""

from __future__ import annotations

import datetime as dt
import gc
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney.io import _capsule
from omnijourney.tables import Table, TouchpointTable

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pd = pytest.importorskip("pandas")

UTC = dt.timezone.utc
BIG = 2**63 + 5  # an id beyond int64: kept as its text


def _table() -> Table:
    return Table.from_columns(
        {
            "sku": ["b", None, "a"],
            "store": [3, 7, None],
            "card": [BIG, 12, None],
            "price": [2.5, np.nan, -0.0],
            "n": [1, -2, 3],
            "ok": [True, False, True],
            "at": np.array(["2024-05-01T10:15:00.123456", "NaT", "1999-12-31"], "datetime64[us]"),
        }
    )


EXPECTED = {
    "sku": ["b", None, "a"],
    "store": [3, 7, None],
    "card": [str(BIG), "12", None],
    "price": [2.5, None, -0.0],
    "n": [1, -2, 3],
    "ok": [True, False, True],
    "at": [
        dt.datetime(2024, 5, 1, 10, 15, 0, 123456, tzinfo=UTC),
        None,
        dt.datetime(1999, 12, 31, tzinfo=UTC),
    ],
}


def _utc(values: list) -> list:
    return [None if v is None else v.astimezone(UTC) for v in values]


def test_pyarrow_reads_values_and_kinds_through_the_capsule() -> None:
    t = _table()
    at = pa.table(t)
    assert at.column_names == list(t.columns)
    got = at.to_pydict()
    got["at"] = _utc(got["at"])
    assert got == EXPECTED
    assert at.schema.field("sku").type == pa.dictionary(pa.int8(), pa.string())
    assert at.schema.field("store").type == pa.dictionary(pa.int8(), pa.int64())
    assert at.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert at.schema.field("ok").type == pa.bool_()
    assert at.schema.field("n").type == pa.int64()
    assert at.equals(t.to_arrow())


def test_polars_reads_it_without_pyarrow_kinds_kept() -> None:
    t = _table()
    df = pl.DataFrame(t)
    assert df.schema["sku"] == pl.Categorical
    assert df.schema["at"] == pl.Datetime("us", "UTC")
    rows = df.to_dict(as_series=False)
    rows["at"] = _utc(rows["at"])
    assert rows == EXPECTED
    assert df.equals(t.to_polars())


def test_polars_needs_no_pyarrow() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pyarrow"] = None  # any import of pyarrow fails
        import polars as pl
        import omnijourney as oj
        t = oj.Table.from_columns({"k": ["x", None, "y"], "v": [1.5, 2.0, None]})
        df = pl.DataFrame(t)
        assert df.to_dict(as_series=False) == {"k": ["x", None, "y"], "v": [1.5, 2.0, None]}
        assert t.to_polars().equals(df)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_duckdb_queries_the_table_by_its_name() -> None:
    duckdb = pytest.importorskip("duckdb")
    t = _table()  # noqa: F841 - found by name by DuckDB
    rows = duckdb.sql('select sku, store, card, price, n, ok, "at" from t').fetchall()
    assert [r[:6] for r in rows] == [
        ("b", 3, str(BIG), 2.5, 1, True),
        (None, 7, "12", None, -2, False),
        ("a", None, None, -0.0, 3, True),
    ]
    assert _utc([r[6] for r in rows]) == EXPECTED["at"]
    assert duckdb.sql("select count(*) from t where sku = 'a'").fetchall() == [(1,)]


def test_pandas_reads_it_through_arrow_and_interchange() -> None:
    t = _table()
    frames = [pa.table(t).to_pandas()]
    # pandas before 2.2 reads categoricals of the interchange protocol from pandas only
    if tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (2, 2):
        frames.append(pd.api.interchange.from_dataframe(t))
    if hasattr(pd.DataFrame, "from_arrow"):  # pandas 3
        frames.append(pd.DataFrame.from_arrow(t))
    for df in frames:
        assert isinstance(df["sku"].dtype, pd.CategoricalDtype)
        assert str(df["at"].dtype) == "datetime64[us, UTC]"
        assert df["sku"].tolist()[0] == "b" and pd.isna(df["sku"].tolist()[1])
        assert df["card"].tolist()[0] == str(BIG)
        assert df["n"].tolist() == [1, -2, 3]


def test_pandas_constructor_refuses_clearly_instead_of_a_column_of_objects() -> None:
    tp = TouchpointTable.from_columns(
        {"customer": ["a"], "time": ["2024-01-01"], "channel": ["web"], "event": ["visit"]}
    )
    with pytest.raises(TypeError, match=r"not one array: use table\.to_pandas\(\)"):
        pd.DataFrame(tp)
    with pytest.raises(TypeError, match="not one array"):
        np.asarray(_table())


@pytest.mark.parametrize("read", [pa.table, pl.DataFrame])
def test_round_trip_back_into_a_table(read) -> None:
    t = _table()
    back = Table.from_columns(read(t))
    # polars has no categorical of integers: "store" comes back as numbers, its null a NaN
    for name in ("sku", "card", "n", "ok", *(("store",) if read is pa.table else ())):
        assert back[name].tolist() == t[name].tolist(), name
    assert np.array_equal(back["price"], t["price"], equal_nan=True)
    assert np.array_equal(back["at"], t["at"], equal_nan=True)


def test_dictionaries_with_nulls_load_back() -> None:
    # pyarrow's own to_numpy of a dictionary array ignores its nulls: [3, 7, None] -> [3, 7, 7]
    t = _table()
    back = Table.from_columns(pa.table(t))
    assert back["store"].tolist() == [3, 7, None]
    assert back["sku"].tolist() == ["b", None, "a"]
    encoded = pa.table({"d": pa.array(["in", None, "out"]).dictionary_encode()})
    assert Table.from_columns(encoded)["d"].tolist() == ["in", None, "out"]


def test_touchpoints_round_trip_through_every_reader() -> None:
    world = oj.synth.generate(n_customers=30, seed=4, prices=False, records=False)
    tp = world.touchpoints
    for frame in (pa.table(tp), pl.DataFrame(tp), tp.to_pandas()):
        back = TouchpointTable.from_columns(frame, duplicates="keep", extra=True)
        assert back.select(list(tp.columns)).equals(tp)


def test_journey_stages_are_ordered_categories_everywhere() -> None:
    world = oj.synth.generate(n_customers=40, seed=2, prices=False, records=False)
    j = oj.sessionize(world.touchpoints).journeys
    stages = list(oj.JourneyRules().stages.stages)
    field = pa.table(j).schema.field("stage").type
    assert field.ordered and pa.table(j)["stage"].combine_chunks().dictionary.to_pylist() == stages
    cat = j.to_pandas()["stage"].cat
    assert cat.ordered and list(cat.categories) == stages
    assert pa.table(j)["stage"].to_pylist() == j["stage"].tolist()
    assert j.to_pandas()["stage"].astype(object).where(lambda s: s.notna(), None).tolist() == (
        j["stage"].tolist()
    )


def test_export_under_the_users_column_names(small_columns: dict) -> None:
    tp = TouchpointTable.from_columns(
        small_columns, customer="client", time="ts", channel="canal", event="what"
    )
    assert tp.to_arrow(names="input").column_names[:4] == ["client", "ts", "canal", "what"]
    assert tp.to_polars(names="input").columns[:4] == ["client", "ts", "canal", "what"]
    assert list(tp.to_pandas(names="input").columns)[:4] == ["client", "ts", "canal", "what"]
    renamed = tp.to_arrow(names={"customer": "who"})
    assert renamed.column_names[0] == "who" and renamed.column_names[1] == "time"
    with pytest.raises(oj.ConfigError, match="no load report"):
        Table.from_arrays({"x": np.arange(2)}).to_arrow(names="input")
    with pytest.raises(oj.ConfigError, match="'names' parameter"):
        tp.to_arrow(names={"nope": "x"})


def test_empty_tables_and_no_columns() -> None:
    t = _table()[:0]
    assert pa.table(t).num_rows == 0 and pa.table(t).schema == pa.table(_table()).schema
    assert pl.DataFrame(t).shape == (0, 7)


def test_schema_capsule_matches_the_stream() -> None:
    t = _table()
    assert pa.schema(t) == pa.table(t).schema


class _CtypesStream:
    """A table handed over by the stream built without pyarrow."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return _capsule.stream_capsule(self.table)

    def __arrow_c_schema__(self) -> object:
        return _capsule.schema_capsule(self.table)


@pytest.mark.parametrize("make", [_table, lambda: _table()[:0]], ids=["rows", "empty"])
def test_the_stream_built_without_pyarrow_equals_pyarrows(make) -> None:
    t = make()
    ours = pa.table(_CtypesStream(t))
    assert ours.schema == t.to_arrow().schema
    assert ours.equals(t.to_arrow())
    assert pa.schema(_CtypesStream(t)) == ours.schema
    assert pl.DataFrame(_CtypesStream(t)).equals(pl.DataFrame(t))
    world = oj.synth.generate(n_customers=40, seed=2, prices=False, records=False)
    j = oj.sessionize(world.touchpoints).journeys
    assert pa.table(_CtypesStream(j)).equals(j.to_arrow())


def test_capsules_built_without_pyarrow_release_what_they_hold() -> None:
    gc.collect()
    before = len(_capsule._KEEP)
    t = _table()
    unused = _capsule.stream_capsule(t)
    del unused
    pa.table(_CtypesStream(t))
    pl.DataFrame(_CtypesStream(t))
    pa.schema(_CtypesStream(t))
    gc.collect()
    assert len(_capsule._KEEP) == before
    assert not _capsule._CAPSULES


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
            st.one_of(st.none(), st.text(max_size=5)),
            st.integers(-(2**63), 2**63 - 1),
        ),
        max_size=30,
    )
)
def test_round_trip_property(rows: list) -> None:
    floats = np.array([np.nan if f is None else f for f, _, _ in rows], dtype=np.float64)
    t = Table.from_columns(
        {
            "f": floats,
            "s": np.array([s or None for _, s, _ in rows], dtype=object),
            "i": np.array([i for _, _, i in rows], dtype=np.int64),
        },
        kinds={"s": "category"},
    )
    got = pa.table(t).to_pydict()
    assert got["f"] == [None if np.isnan(v) else v for v in floats.tolist()]
    assert got["s"] == t["s"].tolist()
    assert got["i"] == t["i"].tolist()
    assert pl.DataFrame(t).to_dict(as_series=False) == got

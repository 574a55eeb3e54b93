"""A fuzz of the loaders: random small tables of random values, names and kinds.

Whatever the input, a builder returns a table (or the kept rows and the rejects) or raises an
``OmnijourneyError`` that says what is wrong; never another exception. Derandomized and small
in the test suite; ``OMNIJOURNEY_FUZZ_EXAMPLES=20000 HYPOTHESIS_PROFILE=explore`` runs it at
length, and ``OMNIJOURNEY_FUZZ_COLLECT=1`` counts the distinct failures instead of stopping
at the first (printed at the end of the session).
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import os
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import OmnijourneyError, OmnijourneyWarning, Table, TouchpointTable
from omnijourney.identity import CustomerRecordTable
from omnijourney.pricing import CatalogTable, PriceTable, PromotionTable, StockTable

pd = pytest.importorskip("pandas")

EXAMPLES = int(os.environ.get("OMNIJOURNEY_FUZZ_EXAMPLES", "25"))
COLLECT = os.environ.get("OMNIJOURNEY_FUZZ_COLLECT") == "1"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TABLES = [
    TouchpointTable,
    CustomerRecordTable,
    PriceTable,
    PromotionTable,
    StockTable,
    CatalogTable,
    Table,
]
ROLE_NAMES = sorted({s.name for cls in TABLES for s in cls.schema})
FAILURES: collections.Counter[str] = collections.Counter()
EXAMPLE_OF: dict[str, str] = {}

# ----------------------------------------------------------------------------- values

texts = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "web",
            "store",
            "purchase",
            "Achat",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "None",
            "NaT",
            "null",
            "true",
            "False",
            "0",
            "1",
            "007",
            "12346",
            "12346.0",
            "9,99",
            "1,999",
            "1e400",
            "-0",
            "19970101",
            "20240501T101500Z",
            "1714557600",
            "2024-05-01",
            "2024-05-01T10:00:00Z",
            "2024-05-01 10:00:00+02:00",
            "2024-02-30",
            "99999-01-01",
            "0000-01-01",
            "2024",
            "EUR",
            "percentage",
            "multi_buy",
            "public",
            "inbound",
            "a@b.fr",
            "06 12 34 56 78",
            "\x00",
            "é",
            "東京",
            "1_000",
            "0x10",
            str(2**64),
            str(-(2**63) - 1),
        ]
    ),
    st.text(max_size=12),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), 19970101, 1714557600]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -0.0, 1e300, 2.0**60, 0.5]),
    texts,
    st.binary(max_size=4),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.datetimes(timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=5))])),
    st.dates(),
    st.sampled_from(
        [
            np.datetime64("NaT", "us"),
            np.datetime64("2024-05-01T10:00"),
            np.datetime64("99999-01-01"),
            np.int64(5),
            np.uint64(2**64 - 1),
            np.float32(1.5),
            np.bool_(True),
            decimal.Decimal("1.5"),
            pd.NaT,
            pd.NA,
            pd.Timestamp("2024-05-01", tz="Europe/Paris"),
            dt.timedelta(days=1),
            np.timedelta64(1, "D"),
        ]
    ),
)
nested = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=3,
)
column_values = st.one_of(
    st.lists(scalars, max_size=8),
    st.lists(nested, max_size=4),
    st.lists(st.integers(-(2**63), 2**64 - 1), max_size=8),
    st.lists(st.floats(), max_size=8),
    st.lists(texts, max_size=8),
    st.lists(st.one_of(st.none(), texts), max_size=8),
    st.lists(st.booleans(), max_size=8),
    st.lists(st.datetimes(), max_size=8),
)
column_names = st.one_of(st.sampled_from(ROLE_NAMES), st.text(max_size=6), st.integers(0, 3))


@st.composite
def frames(draw):
    """A mapping, pandas DataFrame, numpy arrays or a pyarrow table of random columns."""
    n = draw(st.integers(0, 6))
    names = draw(st.lists(column_names, min_size=0, max_size=6, unique_by=str))
    columns = {}
    for name in names:
        values = draw(column_values)
        values = (values * (n // max(len(values), 1) + 1))[:n] if values else [None] * n
        columns[name] = values
    form = draw(st.sampled_from(["lists", "numpy", "pandas", "arrow", "ragged"]))
    if form == "numpy":
        out = {}
        for k, v in columns.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out[k] = np.array(v)
            except (ValueError, TypeError, OverflowError):
                arr = np.empty(len(v), dtype=object)
                arr[:] = v
                out[k] = arr
        return out
    if form == "pandas":
        try:
            return pd.DataFrame({str(k): v for k, v in columns.items()})
        except (ValueError, TypeError, OverflowError):
            return columns
    if form == "arrow":
        pa = pytest.importorskip("pyarrow")
        try:
            return pa.table({str(k): v for k, v in columns.items()})
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            return columns
    if form == "ragged" and columns:
        first = next(iter(columns))
        columns[first] = columns[first][:-1]
    return columns


VALID = {
    "category": st.sampled_from(["web", "store", "A1", "c1", "purchase"]),
    "category_int": st.integers(0, 5),
    "time": st.one_of(
        st.sampled_from(["2024-05-01", "2024-05-01T10:00:00", "20240501", "20240501T101500"]),
        st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    ),
    "float": st.one_of(st.floats(0.01, 1e6), st.sampled_from(["9.99", "12", "0,5"])),
    "int": st.one_of(st.integers(1, 10), st.sampled_from(["3", "2"])),
    "bool": st.one_of(st.booleans(), st.sampled_from(["true", "no", "1"])),
}


@st.composite
def plausible(draw, cls):
    """Columns under the names of ``cls``'s roles, mostly valid, some cells spoilt."""
    n = draw(st.integers(1, 6))
    columns = {}
    for spec in cls.schema:
        if not spec.required and draw(st.booleans()):
            continue
        if spec.kind == "enum":
            assert spec.enum is not None
            good = st.sampled_from([m.value for m in spec.enum])
        elif spec.kind == "category" and draw(st.booleans()):
            good = VALID["category_int"]
        else:
            good = VALID[spec.kind]
        values = [draw(good) for _ in range(n)]
        if draw(st.integers(0, 9)) == 0:
            values[draw(st.integers(0, n - 1))] = draw(scalars)
        columns[spec.name] = values
    if not cls.schema or draw(st.booleans()):
        columns[draw(st.text(max_size=5))] = draw(st.lists(scalars, min_size=n, max_size=n))
    if draw(st.booleans()):
        try:
            return pd.DataFrame(columns)
        except (ValueError, TypeError, OverflowError):
            return columns
    return columns


def any_frame(cls):
    """Random columns in one draw out of four, columns of ``cls``'s roles otherwise."""
    return st.integers(0, 3).flatmap(lambda k: frames() if k == 0 else plausible(cls))


def options(draw, cls, names):
    """Random roles and options for a builder of ``cls`` over columns ``names``."""
    kw = {}
    rare = st.integers(0, 3).map(lambda k: k == 0)  # an option in one draw out of four
    if cls.schema and draw(rare):  # one role given a column, a wrong name or False
        spec = draw(st.sampled_from(cls.schema))
        choice = draw(st.sampled_from(["column", "missing", "false"]))
        if choice == "column" and names:
            kw[spec.name] = str(draw(st.sampled_from(names)))
        elif choice == "missing":
            kw[spec.name] = "no such column"
        elif choice == "false":
            kw[spec.name] = False
    if draw(rare):
        kw["tz"] = draw(st.sampled_from([None, "UTC", "Europe/Paris", "Asia/Kolkata", "Bad/Zone"]))
    if draw(rare):
        kw["time_unit"] = draw(st.sampled_from([None, "s", "ms", "us", "ns", "h"]))
    if draw(rare):
        kw["time_format"] = draw(st.sampled_from([None, "%Y%m%d", "%d/%m/%Y", "%Q"]))
    kw["decimal"] = draw(st.sampled_from([".", ".", ","]))
    kw["duplicates"] = draw(st.sampled_from([None, "report", "drop", "raise", "keep"]))
    kw["errors"] = draw(st.sampled_from(["raise", "quarantine"]))
    if names and draw(st.booleans()):
        extra = draw(st.lists(st.sampled_from([str(n) for n in names]), max_size=3, unique=True))
        kw["extra" if cls.schema else "columns"] = extra
        if extra and draw(st.booleans()):
            kinds = st.sampled_from(["category", "time", "float", "int", "bool", "enum"])
            kw["extra_kinds" if cls.schema else "kinds"] = {e: draw(kinds) for e in extra}
    elif cls.schema and draw(st.booleans()):
        kw["extra"] = True
    if cls is TouchpointTable and draw(rare):
        kw["vocabulary"] = oj.Vocabulary(
            events={"achat": "purchase", "12": "x"},
            channels={"magasin": "store"},
            fold_case=True,
            fold_accents=draw(st.booleans()),
        )
    if cls is TouchpointTable and draw(rare):
        kw["channels"] = draw(
            st.sampled_from([{"kiosk": "physical"}, {"web": "bogus"}, ["web"], "web"])
        )
    free = [s.name for s in cls.schema if s.name not in kw]
    if free and draw(rare):
        role = draw(st.sampled_from(free))
        kw[role] = None
        kw["constants"] = {role: draw(st.one_of(st.text(max_size=3), st.integers(), st.floats()))}
    return kw


def check(call, *args, **kwargs):
    """Run a loader: an OmnijourneyError is an answer; any other exception is a defect."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OmnijourneyWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return call(*args, **kwargs)
        except OmnijourneyError:
            return None
        except Exception as exc:
            if not COLLECT:
                raise
            frames_ = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames_ if "omnijourney" in f.filename] or frames_
            key = f"{type(exc).__name__} at {Path(ours[-1].filename).name}:{ours[-1].lineno}"
            FAILURES[key] += 1
            EXAMPLE_OF.setdefault(key, f"{exc!r:.300} <- {call.__qualname__}")
            return None


def consistent(result, n):
    """A result of a loader: counts add up, and the table survives JSON and a repr."""
    if result is None:
        return
    if isinstance(result, oj.Quarantined):
        if not result.n_kept + result.n_rejected + result.n_duplicates == result.n_in == n:
            defect("counts do not add up", f"{result!r} of {n} rows")
        table = result.kept
    else:
        table = result
    repr(table)
    for name in table.columns:
        table.column_values(name)
    text = check(oj.to_json, table)
    back = check(oj.from_json, text, type(table)) if text is not None else None
    if back is not None and not back.equals(table):
        defect("JSON round trip changes the table", f"{table!r}\n{back!r}")


def defect(key, detail):
    if not COLLECT:
        raise AssertionError(f"{key}: {detail}")
    FAILURES[key] += 1
    EXAMPLE_OF.setdefault(key, f"{detail:.400}")


@FUZZ
@given(st.data())
@pytest.mark.parametrize("cls", TABLES, ids=lambda c: c.__name__)
def test_builders_raise_only_omnijourney_errors(cls, data):
    frame = data.draw(any_frame(cls))
    names = (
        list(frame.columns)
        if hasattr(frame, "columns") and not isinstance(frame, dict)
        else list(frame)
    )
    if hasattr(frame, "column_names"):
        names = list(frame.column_names)
    kw = options(data.draw, cls, names)
    n = len(frame) if not isinstance(frame, dict) else len(next(iter(frame.values()), []))
    consistent(check(cls.from_columns, frame, **kw), n)


@FUZZ
@given(st.data())
def test_csv_files_raise_only_omnijourney_errors(tmp_path_factory, data):
    cls = data.draw(st.sampled_from(TABLES))
    delimiter = data.draw(st.sampled_from([",", ";", "\t"]))
    rows = data.draw(
        st.lists(
            st.lists(
                st.one_of(texts, st.just('"'), st.just(delimiter), st.just("\n")),
                min_size=1,
                max_size=5,
            ),
            min_size=0,
            max_size=6,
        )
    )
    text = "\n".join(delimiter.join(r) for r in rows)
    if cls.schema and data.draw(st.booleans()):
        columns = data.draw(plausible(cls))
        if isinstance(columns, dict):
            frame = pd.DataFrame({str(k): [str(v) for v in vs] for k, vs in columns.items()})
            text = frame.to_csv(index=False, sep=delimiter)
            rows = [list(frame.columns)]
    encoding = data.draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    raw = text.encode(encoding, errors="replace")
    if data.draw(st.booleans()):
        raw = data.draw(st.binary(max_size=40)) + raw
    path = tmp_path_factory.mktemp("fuzz") / "data.csv"
    path.write_bytes(raw)
    names = [str(c) for c in (rows[0] if rows else [])]
    kw = options(data.draw, cls, names)
    kw["engine"] = data.draw(st.sampled_from(["auto", "python", "pyarrow", "polars"]))
    kw["encoding"] = data.draw(st.sampled_from([encoding] * 3 + ["utf-8", "latin-1", "cp1252"]))
    kw["delimiter"] = delimiter
    result = check(cls.from_csv, path, **kw)
    if result is not None:
        consistent(result, result.n_in if isinstance(result, oj.Quarantined) else len(result))


def test_the_fuzz_found_nothing():
    """With OMNIJOURNEY_FUZZ_COLLECT=1, the distinct failures of the session, counted."""
    if FAILURES:
        lines = [
            f"{count:6d}  {key}\n        {EXAMPLE_OF[key]}" for key, count in FAILURES.most_common()
        ]
        pytest.fail(f"{len(FAILURES)} distinct failures:\n" + "\n".join(lines))

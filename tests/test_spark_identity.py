"""Identity on Spark equals the local resolve with the same rules and models, record for
record (person and household ids), for any partitioning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.errors import ConfigError
from omnijourney.identity import CustomerRecordTable, resolve

for module in ("pyspark", "pyarrow", "pandas"):
    pytest.importorskip(module)
import pandas as pd  # noqa: E402

import omnijourney.spark as S  # noqa: E402
from test_identity_febrl import MAPPING  # noqa: E402

pytestmark = [pytest.mark.spark] + [
    pytest.mark.filterwarnings(f"ignore::{w}")
    for w in ("FutureWarning", "DeprecationWarning", "omnijourney.errors.OmnijourneyWarning")
]

DATA = Path(__file__).parent / "data"
FEBRL = {"record_id": "rec_id", **MAPPING}


def _ids(res, frame, source, record_id):
    """Local ids keyed by (source, record id)."""
    src = frame[source] if source else pd.Series(["records"] * len(frame))
    return pd.DataFrame(
        {
            "source": src.astype(str).to_numpy(),
            "record_id": frame[record_id].astype(str).to_numpy(),
            "person_id": res.person_id,
            "household_id": res.household_id,
        }
    )


def _same(got, want):
    got = got.toPandas().astype({"source": str, "record_id": str})
    merged = want.merge(got, on=["source", "record_id"], suffixes=("", "_spark"), how="outer")
    assert len(got) == len(want) == len(merged)
    assert (merged["person_id"] == merged["person_id_spark"]).all()
    assert (merged["household_id"] == merged["household_id_spark"]).all()
    return got


@pytest.fixture(scope="module")
def febrl3():
    frame = pd.read_csv(DATA / "febrl3.csv", dtype=str)
    return frame, CustomerRecordTable.from_columns(frame, **FEBRL)


def test_febrl3_models_fitted_on_the_driver_give_the_local_resolution(spark, febrl3):
    # the sample covers every record: the driver fits what the local run fits
    frame, recs = febrl3
    want = resolve(recs)
    sdf = spark.createDataFrame(frame).repartition(3)
    got = _same(S.resolve(sdf, columns=FEBRL, sample=10**6), _ids(want, frame, None, "rec_id"))
    assert got["person_id"].nunique() == want.n_persons
    assert want.n_persons < 0.7 * len(frame)  # duplicates are found


def test_febrl3_given_models_any_partitioning(spark, febrl3):
    # models of a resolution of the first 2,000 records, applied to all 5,000
    frame, recs = febrl3
    first = CustomerRecordTable.from_columns(frame.iloc[:2000], **FEBRL)
    fitted = resolve(first)
    kw = {"model": fitted.model, "person_model": fitted.person_model}
    want = _ids(resolve(recs, fitted.rules, **kw), frame, None, "rec_id")
    for parts in (1, 4):
        sdf = spark.createDataFrame(frame).repartition(parts)
        _same(S.resolve(sdf, fitted.rules, columns=FEBRL, partitions=parts, **kw), want)


def test_world_records_with_identifiers_and_households(spark):
    world = oj.synth.generate(300, seed=5, prices=False, touchpoints_per_customer=1)
    frame = world.records.to_pandas(categorical=False).drop(
        columns=["true_person_id", "true_household_id"], errors="ignore"
    )
    frame = frame.astype({c: str for c in ("source", "record_id")})
    recs = CustomerRecordTable.from_columns(frame)
    local = resolve(recs)
    assert local.n_households < local.n_persons < len(frame)
    want = _ids(
        resolve(recs, local.rules, model=local.model, person_model=local.person_model),
        frame,
        "source",
        "record_id",
    )
    sdf = spark.createDataFrame(frame.sample(frac=1.0, random_state=2)).repartition(2)
    kw = {"model": local.model, "person_model": local.person_model}
    _same(S.resolve(sdf, local.rules, **kw), want)


def test_bad_input_raises_the_local_errors(spark, febrl3):
    frame = febrl3[0]
    small = frame.iloc[:20].copy()
    sdf = spark.createDataFrame(small)
    with pytest.raises(ConfigError, match="no column 'nope'"):
        S.resolve(sdf, columns={**FEBRL, "city": "nope"})
    with pytest.raises(ConfigError, match="record id"):
        S.resolve(sdf.drop("rec_id"))
    res = resolve(CustomerRecordTable.from_columns(small, **FEBRL))
    with pytest.raises(ConfigError, match="give both"):
        S.resolve(sdf, res.rules, person_model=res.model, columns=FEBRL)
    with pytest.raises(ConfigError, match="rules of the resolution"):
        S.resolve(sdf, model=res.model, person_model=res.person_model, columns=FEBRL)
    for bad in (None, small["rec_id"].iloc[1]):
        broken = small.copy()
        broken.loc[broken.index[0], "rec_id"] = bad
        with pytest.raises(oj.errors.OmnijourneyError) as local:
            CustomerRecordTable.from_columns(broken, **FEBRL)
        with pytest.raises(type(local.value)):
            S.resolve(spark.createDataFrame(broken), columns=FEBRL)


def test_ids_do_not_depend_on_the_order_of_rows():
    # the ids are ranks of each cluster's first record: shuffled input, same ids
    world = oj.synth.generate(60, seed=1, prices=False, touchpoints_per_customer=1)
    frame = world.records.to_pandas(categorical=False)
    a = resolve(CustomerRecordTable.from_columns(frame))
    order = np.random.default_rng(0).permutation(len(frame))
    b = resolve(CustomerRecordTable.from_columns(frame.iloc[order]))
    assert (a.person_id[order] == b.person_id).all()

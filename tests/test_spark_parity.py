"""Breaks, follow-ups and paths on Spark equal the local results, row for row."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.errors import ConfigError
from omnijourney.journeys import FollowUpRule, check_followups, detect_breaks

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
S = pytest.importorskip("omnijourney.spark")

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::omnijourney.errors.OmnijourneyWarning"),
]

COLUMNS = {"value": "value", "order_id": "order_id", "cart_id": "cart_id", "quote_id": "quote_id"}


@pytest.fixture(scope="module")
def world():
    w = oj.synth.generate(120, seed=8, records=False, prices=False)
    tp = w.touchpoints.select(["customer", "time", "channel", "event", *COLUMNS])
    frame = tp.to_pandas(categorical=False)
    return tp, frame.sample(frac=1.0, random_state=4).reset_index(drop=True)


def _positions(jt):
    """Per row of the touchpoints: (customer, position among the customer's touchpoints
    in the journey table's canonical order), counted with pandas."""
    order = np.asarray(jt.order)
    cust = jt.touchpoints.to_pandas(categorical=False)["customer"].to_numpy()
    canonical = pd.DataFrame({"customer": cust[order]})
    rank = canonical.groupby("customer", sort=False).cumcount().to_numpy()
    position = np.empty(order.size, dtype=np.int64)
    position[order] = rank
    return cust, position


def _text(value):
    """A reference id as text, None for a missing one (NaN or None)."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def test_breaks_equal_the_local_breaks(spark, world):
    tp, frame = world
    jt = oj.sessionize(tp)
    want = detect_breaks(jt).to_pandas(categorical=False)
    cust, position = _positions(jt)
    assert len(want) > 20  # the world has breaks of several kinds
    got = S.detect_breaks(spark.createDataFrame(frame), columns=COLUMNS, partitions=3).toPandas()
    assert len(got) == len(want)
    keyed = {
        (c, int(a), int(b)): row
        for c, a, b, row in zip(
            got["customer"], got["from_position"], got["to_position"], got.itertuples()
        )
    }
    for row in want.itertuples():
        key = (cust[row.from_row], int(position[row.from_row]), int(position[row.to_row]))
        spark_row = keyed[key]
        assert spark_row.kind == row.kind
        assert spark_row.from_channel == row.from_channel
        assert spark_row.to_channel == row.to_channel
        assert _text(spark_row.reference) == _text(row.reference)
        assert spark_row.delay == pytest.approx(row.delay)


def test_followups_equal_the_local_followups(spark, world):
    tp, frame = world
    rules = [
        FollowUpRule(
            name="cart_call",
            trigger_events=["add_to_cart"],
            response_events=["call", "purchase"],
            within="2D",
        ),
    ]
    jt = oj.sessionize(tp)
    want = check_followups(jt, rules).to_pandas(categorical=False)
    cust, position = _positions(jt)
    got = S.check_followups(spark.createDataFrame(frame), rules, columns=COLUMNS).toPandas()
    assert len(got) == len(want) > 10
    got_keys = sorted(
        zip(got["customer"], got["trigger_position"].astype(int), got["status"], strict=True)
    )
    want_keys = sorted(
        zip(
            cust[want["trigger_row"]],
            position[want["trigger_row"]].astype(int),
            want["status"],
            strict=True,
        )
    )
    assert got_keys == want_keys
    answered = got["response_position"].notna().sum()
    assert answered == int((want["response_row"] >= 0).sum())


def test_paths_equal_the_local_path_table(spark, world):
    tp, frame = world
    want = oj.attribution.PathTable.from_touchpoints(tp)
    got = S.paths(spark.createDataFrame(frame), columns=COLUMNS, partitions=4)
    assert got.paths().tolist() == want.paths().tolist()
    np.testing.assert_array_equal(got.conversions, want.conversions)
    np.testing.assert_array_equal(got.nulls, want.nulls)
    np.testing.assert_allclose(got.value, want.value, rtol=1e-12)
    # and the models on the driver give the local credit
    np.testing.assert_allclose(oj.attribution.markov(got).share, oj.attribution.markov(want).share)
    dropped = S.paths(spark.createDataFrame(frame), drop=["email"], max_length=3)
    local = oj.attribution.PathTable.from_touchpoints(tp, drop=["email"], max_length=3)
    assert dropped.paths().tolist() == local.paths().tolist()


def test_bad_arguments_are_refused_before_a_job(spark, world):
    _, frame = world
    df = spark.createDataFrame(frame.head(20))
    with pytest.raises(ConfigError, match="no column 'client'"):
        S.detect_breaks(df, customer="client")
    with pytest.raises(ConfigError, match="BreakRules"):
        S.detect_breaks(df, rules={"contact_window": "1D"})
    with pytest.raises(ConfigError, match="FollowUpRule"):
        S.check_followups(df, [])
    with pytest.raises(ConfigError, match="unknown touchpoint column"):
        S.paths(df, columns={"amount": "value"})


@pytest.fixture(scope="module")
def price_world():
    w = oj.synth.generate(80, seed=8, records=False).prices
    frames = {
        name: getattr(w, name).to_pandas(categorical=False)
        for name in ("prices", "promotions", "stock", "catalog")
    }
    return w, frames


def _finding_keys(frame):
    cols = ["rule", "sku", "channel", "location", "other_channel", "promotion", "detail"]
    keys = []
    for row in frame[[*cols, "start", "end", "expected", "actual"]].itertuples(index=False):
        text = tuple(None if v is None or v != v else str(v) for v in row[: len(cols)])
        times = tuple(
            pd.Timestamp(t).tz_localize(None)
            if pd.Timestamp(t).tzinfo is None
            else pd.Timestamp(t).tz_convert(None)
            for t in row[len(cols) : len(cols) + 2]
        )
        numbers = tuple(None if v != v else round(float(v), 9) for v in row[len(cols) + 2 :])
        keys.append((*text, *times, *numbers))
    return sorted(keys, key=repr)


def test_price_audit_equals_the_local_audit(spark, price_world):
    w, frames = price_world
    want = oj.pricing.audit(w.prices, w.promotions, w.stock, catalog=w.catalog)
    dfs = {name: spark.createDataFrame(frame) for name, frame in frames.items()}
    got = S.audit(
        dfs["prices"], dfs["promotions"], dfs["stock"], catalog=dfs["catalog"], partitions=3
    ).toPandas()
    local = want.findings.to_pandas(categorical=False)
    assert len(local) >= 10 and local["rule"].nunique() >= 5
    assert len(got) == len(local)
    assert _finding_keys(got) == _finding_keys(local)


def test_price_audit_refuses_bad_arguments_before_a_job(spark, price_world):
    _, frames = price_world
    prices = spark.createDataFrame(frames["prices"].head(10))
    with pytest.raises(ConfigError, match="no column 'price'"):
        S.audit(prices.drop("price"))
    with pytest.raises(ConfigError, match="Policy"):
        S.audit(prices, policy={"prior_window": "30D"})
    with pytest.raises(ConfigError, match="prices are required"):
        S.audit(None)

"""Online-to-store figures scaled to all buyers: rates, scaled counts and credit, intervals."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.attribution import (
    PathTable,
    attribute,
    identification_rates,
    scale_to_all_buyers,
)
from omnijourney.journeys import BreakRules, detect_breaks

RULES = BreakRules(failure_events=(), reentry_events=(), assisted_kinds=())


def journeys():
    """Two identified store buyers (one researched online), a web buyer, two anonymous
    receipts, and a browser who never bought."""
    rows = [
        ("P1", "2024-05-01", "web", "product_view", "S1", False),
        ("P1", "2024-05-02", "store", "purchase", "S1", False),
        ("P2", "2024-05-02", "store", "purchase", "S2", False),
        ("P3", "2024-05-03", "web", "purchase", None, False),
        ("T-1", "2024-05-03", "store", "purchase", "S1", True),
        ("T-2", "2024-05-04", "store", "purchase", "S2", True),
        ("d9", "2024-05-04", "web", "product_view", None, True),
    ]
    names = ("customer", "time", "channel", "event", "store", "anonymous")
    tp = oj.TouchpointTable.from_columns(
        {n: [r[i] for r in rows] for i, n in enumerate(names)}, extra=["store", "anonymous"]
    )
    return oj.sessionize(tp)


def test_rates_are_identified_conversions_over_the_totals():
    jt = journeys()
    r = identification_rates(jt, {"store": 8, "web": 1})
    assert dict(zip(r["segment"], r["rate"].tolist())) == {"store": 0.25, "web": 1.0}
    by_store = identification_rates(jt, {"S1": 4}, by="store")
    assert by_store["segment"].tolist() == ["S1", "S2"]
    assert by_store["identified"].tolist() == [1, 1]
    assert by_store["rate"][0] == 0.25 and np.isnan(by_store["rate"][1])


def test_counts_and_credit_scale_by_the_segment_of_their_conversion():
    jt = journeys()
    b = detect_breaks(jt, RULES)
    assert b.counts() == {"ropo": 1}
    res = scale_to_all_buyers(jt, {"store": 8, "web": 1}, breaks=b, n_resamples=0)
    assert res.breaks["identified"].tolist() == [1.0] and res.breaks["scaled"].tolist() == [4.0]
    # linear: P1's path web > store splits one conversion, P2's store path one, P3's web one;
    # store conversions count 8 / 2 = 4 times
    credit = dict(zip(res.credit["channel"], res.credit["scaled"].tolist()))
    assert credit == {"store": 6.0, "web": 3.0}
    assert res.credit["identified"].tolist() == [1.5, 1.5]
    assert res.assumption.startswith("Within each segment")
    # per store: S1 has 4 sales for its one identified buyer; S2 has no total (not scaled)
    per_store = scale_to_all_buyers(jt, {"S1": 4}, breaks=b, by="store", n_resamples=0)
    assert per_store.breaks["scaled"].tolist() == [4.0]
    assert any("not scaled" in n for n in per_store.notes)
    assert "Assumption" in per_store.summary()


def test_scaling_with_every_buyer_identified_is_the_model_on_identified_journeys():
    world = oj.synth.generate(300, seed=2, records=False, prices=False)
    jt = oj.sessionize(world.touchpoints)
    conv = np.isin(world.touchpoints["event"], list(jt.rules.conversion_events))
    ch, n = np.unique(world.touchpoints["channel"][conv], return_counts=True)
    res = scale_to_all_buyers(jt, dict(zip(ch.tolist(), n.tolist())), model="markov",
                              n_resamples=0)  # fmt: skip
    ref = attribute(PathTable.from_journeys(jt), "markov")
    got = dict(zip(res.credit["channel"], res.credit["scaled"].tolist()))
    want = dict(zip(ref.channels.tolist(), ref.conversions.tolist()))
    assert got.keys() == want.keys()
    assert all(got[c] == pytest.approx(want[c], rel=1e-9) for c in want)


def test_intervals_come_from_resampled_customers_and_repeat_with_the_seed():
    world = oj.synth.generate(400, seed=3, records=False, prices=False)
    tp = world.touchpoints
    # a third of the store buyers anonymous, at random
    anon = (tp["channel"] == "store") & (np.random.default_rng(0).random(len(tp)) < 0.33)
    tp = oj.TouchpointTable.from_columns(
        {**{c: tp[c] for c in tp.columns}, "anonymous": anon},
        **{c: c for c in ("value", "currency", "direction", "source", "order_id", "cart_id",
                          "quote_id", "reservation_id", "campaign")},
        extra=["store", "anonymous"],
    )  # fmt: skip
    jt = oj.sessionize(tp)
    b = detect_breaks(jt)
    conv = np.isin(tp["event"], list(jt.rules.conversion_events))
    ch, n = np.unique(tp["channel"][conv], return_counts=True)
    totals = dict(zip(ch.tolist(), n.tolist()))
    a = scale_to_all_buyers(jt, totals, breaks=b, n_resamples=60, seed=7)
    again = scale_to_all_buyers(jt, totals, breaks=b, n_resamples=60, seed=7)
    assert a.credit.equals(again.credit) and a.breaks.equals(again.breaks)
    lo, hi, est = a.breaks["low"][0], a.breaks["high"][0], a.breaks["scaled"][0]
    assert lo < est < hi
    assert (a.credit["low"] <= a.credit["scaled"] + 1e-9).all()
    assert (a.credit["scaled"] <= a.credit["high"] + 1e-9).all()
    # the store rate is about two thirds, and ROPO counts grow by its inverse
    rate = a.rates["rate"][a.rates["segment"] == "store"][0]
    assert 0.6 < rate < 0.72
    assert est == pytest.approx(a.breaks["identified"][0] / rate, rel=1e-9)


def test_bad_totals_and_segments_are_named():
    jt = journeys()
    with pytest.raises(oj.DataError, match="below the identified conversions"):
        scale_to_all_buyers(jt, {"store": 1}, n_resamples=0)
    with pytest.raises(oj.ConfigError, match="segments the data does not have: \\['mall'\\]"):
        identification_rates(jt, {"mall": 3})
    with pytest.raises(oj.ConfigError, match="'totals' parameter must give a number"):
        identification_rates(jt, {"store": "many"})
    with pytest.raises(oj.ConfigError, match="'totals' parameter must be a mapping"):
        identification_rates(jt, [3])
    with pytest.raises(oj.ConfigError, match="'by' parameter"):
        identification_rates(jt, {"store": 3}, by="region")
    with pytest.raises(oj.ConfigError, match="'n_resamples' parameter"):
        scale_to_all_buyers(jt, {"store": 8}, n_resamples=-1)

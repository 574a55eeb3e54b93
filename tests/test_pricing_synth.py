"""The synthetic world's injected price, promotion and stock faults are found exactly.

Every truth row of ``world.prices.violations`` is a finding of the default policy, with the same
interval, expected and actual values, and no finding is not in the truth.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.synth.prices import RULES, make_prices

START = np.datetime64("2024-01-01T00:00:00", "us")
PROMO_RULES = {
    "promo_not_mirrored",
    "promo_not_below_regular",
    "prior_price_reference",
    "prior_price_percentage",
    "overlapping_promotions",
}


def rows(table) -> list[tuple]:
    """(rule, sku, channel, location, start, end, expected, actual, detail) of each row."""
    d = table.to_dict()
    out = []
    for i in range(len(table)):
        rule = d["rule"][i]
        out.append(
            (
                rule,
                d["sku"][i],
                d["channel"][i],
                d["location"][i],
                int(d["start"][i].astype(np.int64)),
                int(d["end"][i].astype(np.int64)),
                float(d["expected"][i]),
                float(d["actual"][i]),
                d["detail"][i] if rule in PROMO_RULES else None,
            )
        )
    return sorted(out, key=lambda r: r[:6])


def audit_world(w, days):
    as_of = START + np.timedelta64(days, "D")
    return oj.pricing.audit(
        w.prices, w.promotions, w.stock, catalog=w.catalog, start=START, as_of=as_of
    )


def assert_exactly_the_truth(result, w):
    found, truth = rows(result.findings), rows(w.violations)
    assert [r[:6] for r in found] == [r[:6] for r in truth]
    for f, t in zip(found, truth):
        assert f[6] == pytest.approx(t[6], abs=1e-9), f
        assert f[7] == pytest.approx(t[7], abs=1e-9), f
        assert f[8] == t[8], f


@pytest.mark.parametrize(
    ("seed", "n_skus", "days", "n_stores", "fault_rate"),
    [
        (3, 300, 365, 5, 0.05),
        (11, 300, 365, 5, 0.05),
        (2024, 250, 365, 5, 0.08),
        (12, 200, 120, 1, 0.1),
        (13, 150, 90, 12, 0.1),
    ],
)
def test_every_injected_fault_is_found_and_nothing_else(seed, n_skus, days, n_stores, fault_rate):
    w = make_prices(
        n_skus,
        np.random.default_rng(seed),
        start=START,
        days=days,
        n_stores=n_stores,
        fault_rate=fault_rate,
    )
    result = audit_world(w, days)
    assert_exactly_the_truth(result, w)
    if days == 365:
        assert set(w.violations["rule"]) == set(RULES)


def test_the_generated_world_counts_per_rule():
    world = oj.synth.generate(2_000, seed=7, records=False)
    w = world.prices
    result = oj.pricing.audit(
        w.prices,
        w.promotions,
        w.stock,
        catalog=w.catalog,
        start=world.start,
        as_of=world.start + np.timedelta64(world.days, "D"),
    )
    truth = Counter(w.violations["rule"].tolist())
    assert {r: n for r, n in result.counts().items() if n} == dict(truth)
    assert_exactly_the_truth(result, w)


def test_a_clean_world_has_no_finding():
    w = make_prices(200, np.random.default_rng(8), start=START, days=365, fault_rate=0.0)
    assert len(audit_world(w, 365)) == 0


def test_row_order_does_not_change_the_findings():
    w = make_prices(120, np.random.default_rng(21), start=START, days=365, fault_rate=0.08)
    reference = audit_world(w, 365).findings
    rng = np.random.default_rng(5)
    shuffled = type(w)(
        catalog=w.catalog[rng.permutation(len(w.catalog))],
        prices=w.prices[rng.permutation(len(w.prices))],
        promotions=w.promotions[rng.permutation(len(w.promotions))],
        stock=w.stock[rng.permutation(len(w.stock))],
        violations=w.violations,
    )
    assert audit_world(shuffled, 365).findings.equals(reference)


def test_splitting_intervals_into_equal_price_pieces_changes_nothing():
    w = make_prices(120, np.random.default_rng(22), start=START, days=365, fault_rate=0.08)
    reference = audit_world(w, 365).findings
    p = w.prices
    frm = p["valid_from"].astype(np.int64)
    to = p["valid_to"].astype(np.int64)
    end = np.where(to == np.iinfo(np.int64).min, frm + 400 * 86_400_000_000, to)
    rng = np.random.default_rng(9)
    cut = np.flatnonzero(rng.random(len(p)) < 0.5)
    # cut at any microsecond inside the interval: [from, mid) and [mid, to)
    mid = frm[cut] + (rng.random(cut.size) * (end[cut] - frm[cut] - 2)).astype(np.int64) + 1
    data = {name: p[name] for name in p.columns}
    second = {name: values[cut].copy() for name, values in data.items()}
    data["valid_to"] = data["valid_to"].copy()
    data["valid_to"][cut] = mid.view("datetime64[us]")
    second["valid_from"] = mid.view("datetime64[us]")
    split = {name: np.concatenate((data[name], second[name])) for name in data}
    pieces = oj.pricing.PriceTable.from_columns(split)
    assert len(pieces) == len(p) + cut.size
    result = oj.pricing.audit(
        pieces,
        w.promotions,
        w.stock,
        catalog=w.catalog,
        start=START,
        as_of=START + np.timedelta64(365, "D"),
    )
    assert result.findings.equals(reference)


@pytest.mark.parametrize(("seed", "fault_rate"), [(3, 0.05), (8, 0.0)])
def test_opt_in_promotion_rules_fire_only_on_faulty_skus(seed, fault_rate):
    """Every promotion is applied in its prices (the second one of an overlap too), and a
    clean promotion is always a reduction against its 30-day prior price."""
    w = make_prices(200, np.random.default_rng(seed), start=START, days=365, fault_rate=fault_rate)
    policy = oj.pricing.Policy(
        rules=oj.pricing.DEFAULT_RULES | {"promo_not_applied", "promo_not_below_prior"}
    )
    as_of = START + np.timedelta64(365, "D")
    result = oj.pricing.audit(
        w.prices, w.promotions, w.stock, catalog=w.catalog, start=START, as_of=as_of, policy=policy
    )
    f = result.findings
    assert not (f["rule"] == "promo_not_applied").any()
    not_below = set(f["sku"][f["rule"] == "promo_not_below_prior"].tolist())
    assert not_below <= set(w.violations["sku"].tolist())
    assert bool(not_below) == (fault_rate > 0)
    default = f[np.isin(f["rule"], list(oj.pricing.DEFAULT_RULES))]
    assert len(default) == len(w.violations)

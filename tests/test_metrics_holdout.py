"""Hold-outs: stable assignment under arrivals, balance within strata, power against
statsmodels, contamination by hand, lift, and bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower

import omnijourney as oj
from metrics_world import PERIODS, touchpoints
from omnijourney import metrics as M
from omnijourney.errors import ConfigError, OmnijourneyWarning

IDS = [f"c{i:05d}" for i in range(3000)]


def test_draw_is_the_keyed_blake2b_of_the_id() -> None:
    for ids in (["x1", "x2"], [7, 8]):
        a = M.assign_holdout(ids, share=0.5, salt="s")
        for cid, draw in zip(a.table["customer"].tolist(), a.table["draw"].tolist()):
            key = (f"s:{cid}" if isinstance(cid, str) else f"i:{cid}").encode()
            digest = hashlib.blake2b(key, key=b"s", digest_size=8).digest()
            assert draw == int.from_bytes(digest, "big") / 2.0**64
            assert (draw < 0.5) == (a.groups()[cid] == "holdout")


@settings(max_examples=25)
@given(n_old=st.integers(1, 400), n_new=st.integers(0, 400), seed=st.integers(0, 10**6))
def test_hash_assignment_never_moves_a_customer(n_old: int, n_new: int, seed: int) -> None:
    ids = IDS[: n_old + n_new]
    shuffled = list(np.random.default_rng(seed).permutation(ids))
    old = M.assign_holdout(ids[:n_old], share=0.2).groups()
    new = M.assign_holdout(shuffled, share=0.2).groups()
    assert all(new[c] == g for c, g in old.items())


@settings(max_examples=25)
@given(n_old=st.integers(1, 300), n_new=st.integers(0, 300))
def test_block_assignment_keeps_groups_when_customers_are_appended(n_old: int, n_new: int) -> None:
    ids = IDS[: n_old + n_new]
    strata = {c: ("a" if i % 3 else "b") for i, c in enumerate(ids)}
    old = M.assign_holdout(ids[:n_old], share=0.1, strata=strata, method="blocks").groups()
    new = M.assign_holdout(ids, share=0.1, strata=strata, method="blocks").groups()
    assert all(new[c] == g for c, g in old.items())


def test_blocks_are_balanced_within_strata_and_hash_is_binomial() -> None:
    strata = {c: ("north", "south", "east")[i % 3] for i, c in enumerate(IDS)}
    blocks = M.assign_holdout(IDS, share=0.1, strata=strata, method="blocks").counts()
    for n, held in zip(blocks["customers"].tolist(), blocks["holdout"].tolist()):
        assert abs(held - 0.1 * n) <= 1  # exact up to the last, incomplete block
    hashed = M.assign_holdout(IDS, share=0.1, strata=strata).counts()
    for n, held in zip(hashed["customers"].tolist(), hashed["holdout"].tolist()):
        assert abs(held - 0.1 * n) <= 3.5 * np.sqrt(n * 0.1 * 0.9)


def test_another_salt_another_draw() -> None:
    a = set(M.assign_holdout(IDS, share=0.1, salt="one").holdout.tolist())
    b = set(M.assign_holdout(IDS, share=0.1, salt="two").holdout.tolist())
    assert a != b
    assert 0.05 < len(a & b) / len(a) < 0.2  # independent draws overlap by about the share


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5, "5%"])
def test_share_outside_the_open_unit_interval_is_refused(share) -> None:
    with pytest.raises(ConfigError, match="'share' parameter must be a number in \\(0, 1\\)"):
        M.assign_holdout(IDS[:10], share=share)


def test_other_bad_assignments() -> None:
    with pytest.raises(ConfigError, match="distinct"):
        M.assign_holdout(["a", "a"])
    with pytest.raises(ConfigError, match="strings or integers"):
        M.assign_holdout([1.5])
    with pytest.raises(ConfigError, match="have no stratum"):
        M.assign_holdout(["a", "b"], strata={"a": "x"})
    with pytest.raises(ConfigError, match="'method' parameter"):
        M.assign_holdout(["a"], method="random")


@pytest.mark.parametrize(
    ("n_t", "n_c", "rho"), [(9500, 500, 0.0), (1000, 1000, 0.5), (300, 50, 0.0)]
)
def test_minimum_detectable_effect_matches_statsmodels(n_t: int, n_c: int, rho: float) -> None:
    std = 12.0
    mde = M.minimum_detectable_effect(std, n_t, n_c, correlation=rho)
    effect_size = NormalIndPower().solve_power(nobs1=n_t, ratio=n_c / n_t, alpha=0.05, power=0.8)
    # statsmodels also counts the (negligible) rejections in the wrong direction
    assert mde == pytest.approx(effect_size * std * np.sqrt(1 - rho**2), rel=1e-4)


def test_sample_size_inverts_the_minimum_detectable_effect() -> None:
    n = M.sample_size(1.0, 10.0, holdout_share=0.05)
    n_c = round(0.05 * n)
    assert M.minimum_detectable_effect(10.0, n - n_c, n_c) == pytest.approx(1.0, rel=0.01)
    assert M.sample_size(1.0, 10.0, holdout_share=0.05, correlation=0.6) < n
    with pytest.raises(ConfigError, match="'alpha' parameter"):
        M.sample_size(1.0, 10.0, alpha=0)
    with pytest.raises(ConfigError, match="'correlation' parameter"):
        M.minimum_detectable_effect(1.0, 10, 10, correlation=1.0)


def _contact_world() -> oj.JourneyTable:
    tp = oj.TouchpointTable.from_columns(
        {
            "customer": ["h1", "h1", "h2", "h3", "t1", "h2", "t1"],
            "time": [
                "2024-03-01",
                "2024-03-02",
                "2024-03-05",
                "2024-03-07",
                "2024-03-01",
                "2024-05-01",
                "2024-03-02",
            ],
            "channel": ["email", "web", "web", "call_centre", "email", "sms", "web"],
            "event": [
                "email_sent",
                "product_view",
                "email_click",
                "call",
                "email_sent",
                "sms_sent",
                "purchase",
            ],
            "direction": [
                "outbound",
                "inbound",
                "inbound",
                "outbound",
                "outbound",
                "outbound",
                "inbound",
            ],
            "campaign": [None, None, "spring", None, None, None, None],
        }
    )
    return oj.sessionize(tp)


def test_contamination_counts_outbound_and_campaign_contacts() -> None:
    jt = _contact_world()
    assignment = {
        "h1": "holdout",
        "h2": "holdout",
        "h3": "holdout",
        "h4": "holdout",
        "t1": "target",
    }
    res = M.contamination(jt, assignment)
    assert sorted(res.contacted.tolist()) == ["h1", "h2", "h3"]
    assert res.holdout == 4 and res.share == 0.75
    by = dict(zip(res.by_channel["channel"].tolist(), res.by_channel["customers"].tolist()))
    assert by == {"call_centre": 1, "email": 1, "sms": 1, "web": 1}
    march = M.contamination(
        jt, assignment, start="2024-03-01", end="2024-04-01", channels=["email", "web"]
    )
    assert sorted(march.contacted.tolist()) == ["h1", "h2"]
    assert "2 of 4 hold-out customers (50.0%) were contacted anyway" in march.summary()
    with pytest.raises(ConfigError, match="unknown channels"):
        M.contamination(jt, assignment, channels=["fax"])


def test_contamination_warns_when_no_contact_can_be_seen() -> None:
    tp = oj.TouchpointTable.from_columns(
        {"customer": ["a"], "time": ["2024-01-01"], "channel": ["web"], "event": ["purchase"]}
    )
    with pytest.warns(OmnijourneyWarning, match="neither a direction nor a campaign"):
        res = M.contamination(oj.sessionize(tp), {"a": "holdout"})
    assert res.contacted.size == 0 and "None of the 1" in res.summary()


def test_lift_is_the_target_against_the_holdout() -> None:
    table, _ = touchpoints(800, uplift=0.0, seed=6)
    jt = oj.sessionize(table)
    customers = jt.touchpoints.labels("customer").tolist()
    assignment = M.assign_holdout(customers, share=0.3, salt="lift")
    res = M.lift(jt, "buyer_rate", assignment, period={"after": PERIODS["after"]}, n_resamples=200)
    assert res.treated == "target" and res.control == "holdout"
    assert res.design == "test_control"
    assert res.low <= 0.0 <= res.high  # no pressure was applied: no lift
    did = M.lift(
        jt,
        "spend_per_customer",
        assignment,
        period=PERIODS,
        before="before",
        after="after",
        n_resamples=50,
    )
    assert did.design == "difference_in_differences"

"""Pricing rules on worked examples written by hand: each test is one situation of the rules."""

from __future__ import annotations

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.pricing import (
    CatalogTable,
    Policy,
    PriceTable,
    PromotionTable,
    StockTable,
    Tolerance,
    audit,
)

GROUP = ("web", "app", "store", "call_centre")
AS_OF = "2024-07-01"


def prices(rows, **columns):
    """Price rows: (sku, channel, price, valid_from, valid_to[, price_type[, location[, audience]]])."""
    keys = (
        "sku",
        "channel",
        "price",
        "valid_from",
        "valid_to",
        "price_type",
        "location",
        "audience",
    )
    full = [tuple(r) + (None,) * (len(keys) - len(r)) for r in rows]
    data = {k: [r[i] for r in full] for i, k in enumerate(keys)}
    data["price_type"] = [t or "regular" for t in data["price_type"]]
    data["audience"] = [a or "public" for a in data["audience"]]
    if all(x is None for x in data["location"]):
        del data["location"]
    data.update(columns)
    return PriceTable.from_columns(data)


def promos(rows, **columns):
    """Promotion rows: (promo_id, sku, channel, promo_price, start, end, reference, pct[, location])."""
    keys = (
        "promo_id",
        "sku",
        "channel",
        "promo_price",
        "start",
        "end",
        "reference_price",
        "announced_pct",
        "location",
    )
    full = [tuple(r) + (None,) * (len(keys) - len(r)) for r in rows]
    data = {k: [r[i] for r in full] for i, k in enumerate(keys)}
    if all(x is None for x in data["location"]):
        del data["location"]
    data.update(columns)
    return PromotionTable.from_columns(data)


def found(result, rule=None):
    """Findings as plain dicts (times as ISO strings), optionally of one rule."""
    df = result.findings
    out = []
    for i in range(len(df)):
        row = df.row(i)
        if rule is not None and row["rule"] != rule:
            continue
        for k in ("start", "end"):
            row[k] = None if row[k] is None else row[k].strftime("%Y-%m-%dT%H:%M")
        out.append(row)
    return out


def was_now_with_flash(flash=("2024-04-20T12:00", "2024-04-20T13:00"), reference=19.99):
    """Web only: 19.99, a one-hour flash price of 12.99, then "was 19.99, now 14.99"."""
    p = prices(
        [
            ("A1", "web", 19.99, "2024-04-01", flash[0]),
            ("A1", "web", 12.99, flash[0], flash[1], "promotional"),
            ("A1", "web", 19.99, flash[1], "2024-05-10"),
            ("A1", "web", 14.99, "2024-05-10", "2024-05-20", "promotional"),
            ("A1", "web", 19.99, "2024-05-20", None),
        ]
    )
    q = promos([("P1", "A1", "web", 14.99, "2024-05-10", "2024-05-20", reference, 25.0)])
    return p, q


# --------------------------------------------------------------------------- prior price


def test_one_hour_flash_price_inside_the_30_days_is_the_prior_price():
    p, q = was_now_with_flash()
    result = audit(p, q, as_of=AS_OF)
    (f,) = found(result, "prior_price_reference")
    assert (f["sku"], f["channel"], f["start"], f["end"]) == (
        "A1",
        "web",
        "2024-05-10T00:00",
        "2024-05-20T00:00",
    )
    assert f["expected"] == 12.99 and f["actual"] == 19.99
    assert f["at_stake"] == pytest.approx(7.0)
    assert f["severity"] == "high" and f["detail"] == "P1"
    assert "Directive 98/6/EC art. 6a" in f["reference"]
    # the percentage is computed from the reference shown: that part is consistent
    assert found(result, "prior_price_percentage") == []
    # a daily snapshot at midnight never sees the flash price
    midnights = np.arange("2024-04-10", "2024-05-10", dtype="datetime64[D]")
    assert not any(
        np.datetime64("2024-04-20T12:00") <= m < np.datetime64("2024-04-20T13:00")
        for m in midnights
    )


def test_the_reference_equal_to_the_flash_price_is_compliant():
    p, q = was_now_with_flash(reference=12.99)
    q = promos([("P1", "A1", "web", 11.99, "2024-05-10", "2024-05-20", 12.99, 7.7)])
    assert found(audit(p, q, as_of=AS_OF), "prior_price_reference") == []


@pytest.mark.parametrize(
    ("flash", "inside"),
    [
        (("2024-04-05T12:00", "2024-04-05T13:00"), False),  # 35 days before: outside
        (("2024-04-10T00:00", "2024-04-10T01:00"), True),  # starts exactly 30 days before
        (("2024-04-09T23:00", "2024-04-10T00:00"), False),  # ends exactly 30 days before
        (("2024-04-09T23:00", "2024-04-10T00:00:01"), True),  # one second inside
    ],
)
def test_the_window_is_exactly_the_30_days_before_the_reduction(flash, inside):
    p, q = was_now_with_flash(flash=flash)
    assert len(found(audit(p, q, as_of=AS_OF), "prior_price_reference")) == int(inside)


def test_progressive_reduction_keeps_the_prior_price_of_the_first_step():
    p = prices(
        [
            ("B1", "web", 10.00, "2024-04-01", "2024-05-10"),
            ("B1", "web", 9.00, "2024-05-10", "2024-05-13", "promotional"),
            ("B1", "web", 8.00, "2024-05-13", "2024-05-16", "promotional"),
            ("B1", "web", 7.00, "2024-05-16", "2024-05-19", "promotional"),
            ("B1", "web", 10.00, "2024-05-19", None),
        ]
    )
    q = promos(
        [
            ("P2", "B1", "web", 9.00, "2024-05-10", "2024-05-13", 10.00, 10.0),
            ("P2", "B1", "web", 8.00, "2024-05-13", "2024-05-16", 10.00, 20.0),
            ("P2", "B1", "web", 7.00, "2024-05-16", "2024-05-19", 10.00, 30.0),
        ]
    )
    assert len(audit(p, q, as_of=AS_OF)) == 0
    # judged step by step, the second and third steps see the earlier steps' prices
    each = audit(p, q, policy=Policy(progressive="each_step"), as_of=AS_OF)
    rows = found(each, "prior_price_reference")
    assert [(f["start"][:10], f["expected"]) for f in rows] == [
        ("2024-05-13", 9.00),
        ("2024-05-16", 8.00),
    ]
    # showing the previous step's price as "was" understates the first prior price
    q2 = promos(
        [
            ("P2", "B1", "web", 9.00, "2024-05-10", "2024-05-13", 10.00, 10.0),
            ("P2", "B1", "web", 8.00, "2024-05-13", "2024-05-16", 9.00, 11.1),
        ]
    )
    (f,) = found(audit(p, q2, as_of=AS_OF), "prior_price_reference")
    assert (f["expected"], f["actual"], f["severity"]) == (10.00, 9.00, "low")


def test_new_product_on_sale_for_12_days_takes_the_lowest_price_since_launch():
    p = prices(
        [
            ("N1", "web", 20.00, "2024-05-01", "2024-05-08"),
            ("N1", "web", 18.00, "2024-05-08", "2024-05-13"),
            ("N1", "web", 15.00, "2024-05-13", "2024-05-20", "promotional"),
            ("N1", "web", 20.00, "2024-05-20", None),
        ]
    )
    q = promos([("P3", "N1", "web", 15.00, "2024-05-13", "2024-05-20", 20.00, 25.0)])
    (f,) = found(audit(p, q, as_of=AS_OF), "prior_price_reference")
    assert (f["expected"], f["actual"]) == (18.00, 20.00)
    ok = promos([("P3", "N1", "web", 15.00, "2024-05-13", "2024-05-20", 18.00, 16.7)])
    assert len(audit(p, ok, as_of=AS_OF)) == 0
    # flagging reductions announced on products on sale for less than the window
    cat = CatalogTable.from_columns({"sku": ["N1"], "launched": ["2024-05-01"]})
    flag = Policy(rules=oj.pricing.DEFAULT_RULES | {"prior_price_short_history"})
    (f,) = found(audit(p, ok, catalog=cat, policy=flag, as_of=AS_OF), "prior_price_short_history")
    assert (f["expected"], f["actual"], f["measure"]) == (30.0, 12.0, "days")


def test_loyalty_prices_do_not_enter_the_prior_price():
    p = prices(
        [
            ("L1", "store", 10.00, "2024-04-01", "2024-05-10", None, "S01"),
            ("L1", "store", 8.00, "2024-05-10", "2024-05-17", "promotional", "S01"),
            ("L1", "store", 10.00, "2024-05-17", None, None, "S01"),
            ("L1", "store", 9.00, "2024-04-01", None, None, "S01", "loyalty"),
        ]
    )
    q = promos([("P4", "L1", "store", 8.00, "2024-05-10", "2024-05-17", 10.00, 20.0, "S01")])
    public = Policy(same_price_groups=[["store"]])
    assert len(audit(p, q, policy=public, as_of=AS_OF)) == 0
    members = Policy(same_price_groups=[["store"]], prior_audiences=["public", "loyalty"])
    (f,) = found(audit(p, q, policy=members, as_of=AS_OF), "prior_price_reference")
    assert f["expected"] == 9.00


def test_scope_channel_takes_the_lowest_price_of_every_store():
    p = prices(
        [
            ("S1", "store", 10.00, "2024-04-01", "2024-05-01", None, "S01"),
            ("S1", "store", 7.00, "2024-05-01", "2024-05-02", "promotional", "S01"),
            ("S1", "store", 10.00, "2024-05-02", None, None, "S01"),
            ("S1", "store", 10.00, "2024-04-01", "2024-05-10", None, "S02"),
            ("S1", "store", 8.00, "2024-05-10", "2024-05-15", "promotional", "S02"),
            ("S1", "store", 10.00, "2024-05-15", None, None, "S02"),
        ]
    )
    q = promos([("P6", "S1", "store", 8.00, "2024-05-10", "2024-05-15", 10.00, 20.0, "S02")])
    base = {"same_price_groups": [["store"]], "mirror_channels": []}
    assert found(audit(p, q, policy=Policy(**base), as_of=AS_OF), "prior_price_reference") == []
    wide = Policy(**base, prior_scope="channel")
    (f,) = found(audit(p, q, policy=wide, as_of=AS_OF), "prior_price_reference")
    assert (f["location"], f["expected"]) == ("S02", 7.00)


def test_percentage_must_be_computed_from_the_prior_price_aldi():
    # CJEU C-330/23: prior price 1.69 shown, but -25 % computed from an older 1.99
    p = prices(
        [
            ("BAN", "web", 1.99, "2024-03-01", "2024-04-20"),
            ("BAN", "web", 1.69, "2024-04-20", "2024-05-10"),
            ("BAN", "web", 1.49, "2024-05-10", "2024-05-17", "promotional"),
            ("BAN", "web", 1.69, "2024-05-17", None),
        ]
    )
    q = promos([("P7", "BAN", "web", 1.49, "2024-05-10", "2024-05-17", 1.69, 25.0)])
    result = audit(p, q, as_of=AS_OF)
    assert found(result, "prior_price_reference") == []
    (f,) = found(result, "prior_price_percentage")
    assert (f["expected"], f["actual"], f["measure"]) == (11.8, 25.0, "percent")
    assert f["at_stake"] == pytest.approx(1.69 * (25.0 - 100 * 0.2 / 1.69) / 100)
    assert "C-330/23" in f["reference"]


def test_perishables_are_exempt_in_france_only():
    p, q = was_now_with_flash()
    cat = CatalogTable.from_columns({"sku": ["A1"], "perishable": [True]})
    assert len(found(audit(p, q, catalog=cat, as_of=AS_OF), "prior_price_reference")) == 1
    fr = audit(p, q, catalog=cat, policy=Policy.france(), as_of=AS_OF)
    assert found(fr, "prior_price_reference") == []
    with pytest.raises(oj.ConfigError, match="perishable"):
        audit(p, q, policy=Policy.france(), as_of=AS_OF)


def test_french_profile_cites_the_code_de_la_consommation():
    p, q = was_now_with_flash()
    cat = CatalogTable.from_columns({"sku": ["A1"], "perishable": [False]})
    (f,) = found(
        audit(p, q, catalog=cat, policy=Policy.france(), as_of=AS_OF), "prior_price_reference"
    )
    assert "L112-1-1" in f["reference"]


def test_a_reduction_that_is_no_reduction_is_opt_in():
    p = prices(
        [
            ("R1", "web", 10.00, "2024-04-01", "2024-04-20"),
            ("R1", "web", 6.00, "2024-04-20", "2024-04-25", "promotional"),
            ("R1", "web", 10.00, "2024-04-25", "2024-05-10"),
            ("R1", "web", 8.00, "2024-05-10", "2024-05-15", "promotional"),
            ("R1", "web", 10.00, "2024-05-15", None),
        ]
    )
    q = promos([("P8", "R1", "web", 8.00, "2024-05-10", "2024-05-15", 6.00, -33.3)])
    assert len(audit(p, q, as_of=AS_OF)) == 0  # the reference is the prior price, the % follows
    strict = Policy(rules=oj.pricing.DEFAULT_RULES | {"promo_not_below_prior"})
    (f,) = found(audit(p, q, policy=strict, as_of=AS_OF), "promo_not_below_prior")
    assert (f["expected"], f["actual"]) == (6.00, 8.00)


# --------------------------------------------------------------------------- promotions


def group_prices(sku="M1", regular=20.0, promo=None, on=GROUP, stores=("S01", "S02")):
    """The same regular price on every group series; ``promo`` on the channels ``on``."""
    rows = []
    for ch in GROUP:
        for loc in stores if ch == "store" else ("online",):
            if promo is not None and ch in on:
                rows += [
                    (sku, ch, regular, "2024-04-01", "2024-05-10", None, loc),
                    (sku, ch, promo, "2024-05-10", "2024-05-20", "promotional", loc),
                    (sku, ch, regular, "2024-05-20", None, None, loc),
                ]
            else:
                rows.append((sku, ch, regular, "2024-04-01", None, None, loc))
    return prices(rows)


def group_promos(sku="M1", price=15.0, on=GROUP, stores=("S01", "S02"), **columns):
    rows = []
    for ch in on:
        for loc in stores if ch == "store" else ("online",):
            rows.append(("P5", sku, ch, price, "2024-05-10", "2024-05-20", 20.0, 25.0, loc))
    return promos(rows, **columns)


def test_reduction_announced_on_all_channels_is_mirrored():
    result = audit(group_prices(promo=15.0), group_promos(), as_of=AS_OF)
    assert len(result) == 0


def test_reduction_announced_on_one_channel_is_missing_on_the_others():
    result = audit(group_prices(promo=15.0, on=("web",)), group_promos(on=("web",)), as_of=AS_OF)
    rows = found(result, "promo_not_mirrored")
    assert sorted((f["channel"], f["location"]) for f in rows) == [
        ("app", "online"),
        ("call_centre", "online"),
        ("store", "S01"),
        ("store", "S02"),
    ]
    assert {(f["expected"], f["actual"], f["at_stake"], f["detail"]) for f in rows} == {
        (15.0, 20.0, 5.0, "P5")
    }
    assert {(f["start"], f["end"]) for f in rows} == {("2024-05-10T00:00", "2024-05-20T00:00")}
    assert len(result) == 4
    # an app-only (channel-exclusive) offer, or a narrower mirroring policy
    excl = group_promos(on=("web",), exclusive=[True])
    assert len(audit(group_prices(promo=15.0, on=("web",)), excl, as_of=AS_OF)) == 0
    narrow = Policy(mirror_channels=["web", "app"])
    result = audit(
        group_prices(promo=15.0, on=("web",)), group_promos(on=("web",)), policy=narrow, as_of=AS_OF
    )
    assert [(f["channel"]) for f in found(result, "promo_not_mirrored")] == ["app"]


def test_a_promotion_without_location_covers_every_store():
    q = group_promos(on=("web", "app", "call_centre"))
    store = promos([("P5", "M1", "store", 15.0, "2024-05-10", "2024-05-20", 20.0, 25.0, None)])
    both = oj.concat([q.select(list(store.columns)), store.select(list(store.columns))])
    both = PromotionTable.from_columns(both)
    assert len(audit(group_prices(promo=15.0), both, as_of=AS_OF)) == 0


def test_promotional_price_not_below_the_regular_price():
    p = prices(
        [
            ("E1", "web", 10.00, "2024-04-01", "2024-05-10"),
            ("E1", "web", 10.00, "2024-05-10", "2024-05-15", "promotional"),
            ("E1", "web", 10.00, "2024-05-15", None),
        ]
    )
    q = promos([("P9", "E1", "web", 10.00, "2024-05-10", "2024-05-15", None, None)])
    (f,) = found(audit(p, q, as_of=AS_OF), "promo_not_below_regular")
    assert (f["expected"], f["actual"], f["severity"]) == (10.0, 10.0, "high")


def test_promotional_price_derived_from_the_mechanic():
    p = prices([("D1", "web", 10.00, "2024-04-01", None)])
    q = PromotionTable.from_columns(
        {
            "promo_id": ["PA", "PB", "PC"],
            "sku": ["D1"] * 3,
            "channel": ["web"] * 3,
            "mechanic": ["percentage", "amount_off", "multi_buy"],
            "discount": [20.0, 0.0, None],
            "buy": [None, None, 3],
            "pay": [None, None, 2],
            "start": ["2024-05-01", "2024-05-10", "2024-06-01"],
            "end": ["2024-05-05", "2024-05-12", "2024-06-05"],
        }
    )
    result = audit(p, q, as_of=AS_OF)
    # 0 off is no reduction; 20 % and 3-for-2 are
    assert [(f["detail"], f["actual"]) for f in found(result, "promo_not_below_regular")] == [
        ("PB", 10.0)
    ]


def test_announced_promotion_not_applied_is_opt_in():
    p = prices([("AP", "web", 19.99, "2024-04-01", None)])
    q = promos([("PX", "AP", "web", 14.99, "2024-05-10", "2024-05-20", None, None)])
    assert found(audit(p, q, as_of=AS_OF), "promo_not_applied") == []
    pol = Policy(rules=oj.pricing.DEFAULT_RULES | {"promo_not_applied"})
    (f,) = found(audit(p, q, policy=pol, as_of=AS_OF), "promo_not_applied")
    assert (f["expected"], f["actual"]) == (14.99, 19.99)


def overlapping(stackable=(False, False), mechanic=("percentage", "amount_off")):
    p = prices([("O1", "web", 10.00, "2024-04-01", None)])
    q = PromotionTable.from_columns(
        {
            "promo_id": ["PA", "PB"],
            "sku": ["O1", "O1"],
            "channel": ["web", "web"],
            "promo_price": [8.0, 9.0],
            "mechanic": list(mechanic),
            "discount": [20.0, 1.0],
            "start": ["2024-05-01", "2024-05-04"],
            "end": ["2024-05-06", "2024-05-10"],
            "stackable": list(stackable),
        }
    )
    return p, q


def test_overlapping_non_stackable_promotions():
    p, q = overlapping()
    (f,) = found(audit(p, q, as_of=AS_OF), "overlapping_promotions")
    assert (f["start"], f["end"], f["actual"], f["detail"]) == (
        "2024-05-04T00:00",
        "2024-05-06T00:00",
        2.0,
        "PA|PB",
    )
    p, q = overlapping(stackable=(True, False))
    assert found(audit(p, q, as_of=AS_OF), "overlapping_promotions") == []
    p, q = overlapping()
    matrix = Policy(stacking=[("percentage", "amount_off")])
    assert found(audit(p, q, policy=matrix, as_of=AS_OF), "overlapping_promotions") == []


def test_promotion_on_an_unknown_sku_is_a_finding_or_an_error():
    p = prices([("K1", "web", 10.00, "2024-04-01", None)])
    q = promos([("PU", "ZZ", "web", 8.0, "2024-05-01", "2024-05-05", 10.0, 20.0)])
    (f,) = found(audit(p, q, as_of=AS_OF))  # reported once, not as a prior-price breach too
    assert (f["rule"], f["sku"], f["detail"]) == ("promotion_without_price", "ZZ", "PU")
    with pytest.raises(oj.DataError) as err:
        audit(p, q, policy=Policy(unknown_series="raise"), as_of=AS_OF)
    assert err.value.table == "PromotionTable" and err.value.column == "sku"
    assert err.value.rows == (0,) and err.value.values == ("ZZ",)


# --------------------------------------------------------------------------- price series


def test_one_hour_regular_price_gap_is_found_to_the_hour():
    rows = [(("G1", ch, 9.99, "2024-04-01", None)) for ch in ("web", "store", "call_centre")]
    rows += [
        ("G1", "app", 9.99, "2024-04-01", "2024-05-02T14:00"),
        ("G1", "app", 8.99, "2024-05-02T14:00", "2024-05-02T15:00"),
        ("G1", "app", 9.99, "2024-05-02T15:00", None),
    ]
    (f,) = found(audit(prices(rows), as_of=AS_OF))
    assert (f["rule"], f["channel"], f["start"], f["end"]) == (
        "price_gap",
        "app",
        "2024-05-02T14:00",
        "2024-05-02T15:00",
    )
    assert (f["expected"], f["actual"], f["at_stake"]) == (9.99, 8.99, pytest.approx(1.0))


def test_promotional_prices_do_not_count_as_gaps_and_tolerances_apply():
    rows = [(("G2", ch, 10.00, "2024-04-01", None)) for ch in ("web", "store", "call_centre")]
    rows += [
        ("G2", "app", 10.00, "2024-04-01", "2024-05-02"),
        ("G2", "app", 7.00, "2024-05-02", "2024-05-03", "promotional"),
        ("G2", "app", 10.04, "2024-05-03", None),  # within 5 cents
    ]
    assert len(audit(prices(rows), as_of=AS_OF)) == 0
    strict = Policy(channel_tolerances={"app": Tolerance(amount=0.01, pct=0)})
    (f,) = found(audit(prices(rows), policy=strict, as_of=AS_OF))
    assert (f["channel"], f["start"], f["end"], f["actual"]) == (
        "app",
        "2024-05-03T00:00",
        "2024-07-01T00:00",
        10.04,
    )


def test_marketplace_may_differ_but_a_band_can_be_required():
    rows = [("MK", ch, 10.00, "2024-04-01", None) for ch in GROUP]
    rows.append(("MK", "marketplace", 12.00, "2024-04-01", None))
    assert len(audit(prices(rows), as_of=AS_OF)) == 0
    band = Policy(channel_pairs=[("web", "marketplace", Tolerance(amount=0, pct=15))])
    (f,) = found(audit(prices(rows), policy=band, as_of=AS_OF))
    assert (f["rule"], f["channel"], f["other_channel"], f["expected"], f["actual"]) == (
        "channel_pair_gap",
        "marketplace",
        "web",
        10.0,
        12.0,
    )


def test_coverage_holes_from_launch_to_as_of():
    p = prices(
        [
            ("C1", "web", 5.00, "2024-05-01", "2024-05-10"),
            ("C1", "web", 5.00, "2024-05-12", "2024-06-20"),
        ]
    )
    rows = found(audit(p, as_of=AS_OF), "coverage_hole")
    assert [(f["start"][:10], f["end"][:10], f["actual"]) for f in rows] == [
        ("2024-05-10", "2024-05-12", 2.0),
        ("2024-06-20", "2024-07-01", 11.0),
    ]
    cat = CatalogTable.from_columns(
        {"sku": ["C1"], "launched": ["2024-04-28"], "delisted": ["2024-06-20"]}
    )
    rows = found(audit(p, catalog=cat, start="2024-04-25", as_of=AS_OF), "coverage_hole")
    assert [(f["start"][:10], f["end"][:10]) for f in rows] == [
        ("2024-04-28", "2024-05-01"),
        ("2024-05-10", "2024-05-12"),
    ]
    between = Policy(coverage="between_prices")
    assert len(found(audit(p, policy=between, as_of=AS_OF), "coverage_hole")) == 1


def test_stale_price_limit_depends_on_the_channel():
    p = prices(
        [
            ("T1", "store", 5.00, "2024-04-01", None, None, "S01"),
            ("T1", "web", 5.00, "2024-04-01", None),
        ],
        confirmed=["2024-06-21", "2024-06-29T12:00"],
    )
    (f,) = found(audit(p, as_of=AS_OF), "stale_price")
    assert (f["channel"], f["start"][:10], f["end"][:10], f["expected"], f["actual"]) == (
        "store",
        "2024-06-28",
        "2024-07-01",
        7.0,
        10.0,
    )
    web_strict = Policy(stale_after={"store": "7D", "web": "1D"})
    assert len(found(audit(p, policy=web_strict, as_of=AS_OF), "stale_price")) == 2


def test_minimum_advertised_price_is_off_by_default():
    p = prices([("MP", "web", 8.50, "2024-04-01", None)])
    assert len(audit(p, as_of=AS_OF)) == 0
    (f,) = found(audit(p, policy=Policy(map_floors={"MP": 9.0}), as_of=AS_OF))
    assert (f["rule"], f["expected"], f["actual"]) == ("below_map", 9.0, 8.5)
    assert "2022/720" in f["reference"]


def test_overlapping_prices_are_reported_and_the_latest_start_applies():
    p = prices(
        [
            ("V1", "web", 10.00, "2024-04-01", None),
            ("V1", "web", 7.00, "2024-05-01", "2024-05-03"),
            ("V1", "app", 10.00, "2024-04-01", None),
            ("V1", "store", 10.00, "2024-04-01", None, None, "S01"),
        ]
    )
    result = audit(p, as_of=AS_OF)
    (o,) = found(result, "overlapping_prices")
    assert (o["start"][:10], o["end"][:10], o["expected"], o["actual"]) == (
        "2024-05-01",
        "2024-05-03",
        10.0,
        7.0,
    )
    assert o["detail"] == "input rows 0 and 1"
    # while the overlap lasts the web charges 7.00: a gap against the other channels
    (g,) = found(result, "price_gap")
    assert (g["start"][:10], g["end"][:10], g["actual"]) == ("2024-05-01", "2024-05-03", 7.0)
    with pytest.raises(oj.DataError) as err:
        audit(p, policy=Policy(overlaps="raise"), as_of=AS_OF)
    assert err.value.table == "PriceTable" and err.value.rows == (1,)


# --------------------------------------------------------------------------- stock


def test_stock_shown_available_while_out_of_stock_and_negative_quantities():
    days = [f"2024-05-{d:02d}" for d in range(1, 9)]
    stock = StockTable.from_columns(
        {
            "sku": ["Q1"] * 8 + ["Q1"] * 3,
            "location": ["S01"] * 8 + ["online"] * 3,
            "time": days + days[:3],
            "quantity": [5, 0, 0, 3, 0, -2, -1, 4, 0, 2, 0],
            "shown_available": [
                True,
                True,
                True,
                True,
                False,
                False,
                True,
                True,
                True,
                True,
                False,
            ],
            "click_collect": [
                False,
                False,
                False,
                False,
                True,
                False,
                False,
                False,
                False,
                False,
                False,
            ],
        }
    )
    p = prices([("Q1", "web", 5.0, "2024-05-01", None)])
    result = audit(p, stock=stock, as_of="2024-05-09")
    shown = [
        (f["channel"], f["location"], f["start"][:10], f["end"][:10], f["actual"])
        for f in found(result, "stock_shown_unavailable")
    ]
    assert shown == [
        ("store", "S01", "2024-05-02", "2024-05-04", 0.0),
        ("store", "S01", "2024-05-05", "2024-05-06", 0.0),
        ("store", "S01", "2024-05-07", "2024-05-08", -1.0),
        ("web", "online", "2024-05-01", "2024-05-02", 0.0),
    ]
    neg = [(f["start"][:10], f["end"][:10], f["actual"]) for f in found(result, "negative_stock")]
    assert neg == [("2024-05-06", "2024-05-08", -2.0)]


def test_stock_runs_break_where_observations_are_missing():
    stock = StockTable.from_columns(
        {
            "sku": ["Q2"] * 3,
            "location": ["S01"] * 3,
            "time": ["2024-05-01", "2024-05-02", "2024-05-05"],
            "quantity": [-1, -1, -1],
        }
    )
    p = prices([("Q2", "web", 5.0, "2024-05-01", None)])
    rows = found(audit(p, stock=stock, as_of="2024-05-09"), "negative_stock")
    assert [(f["start"][:10], f["end"][:10]) for f in rows] == [
        ("2024-05-01", "2024-05-03"),
        ("2024-05-05", "2024-05-06"),
    ]


def test_stock_mismatch_between_channels_and_impossible_quantities():
    stock = StockTable.from_columns(
        {
            "sku": ["Q3"] * 4,
            "location": ["S01"] * 4,
            "channel": ["store", "web", "store", "web"],
            "time": [
                "2024-05-01T08:00",
                "2024-05-01T09:00",
                "2024-05-02T08:00",
                "2024-05-02T09:00",
            ],
            "quantity": [10, 10, 2, 9],
        }
    )
    p = prices([("Q3", "web", 5.0, "2024-05-01", None)])
    result = audit(p, stock=stock, policy=Policy(max_stock=9.5), as_of="2024-05-03")
    mism = found(result, "stock_mismatch")
    # from the store's count of 2 (while the web still said 10) until the next day
    assert [
        (f["channel"], f["other_channel"], f["start"], f["end"], f["expected"], f["actual"])
        for f in mism
    ] == [("web", "store", "2024-05-02T08:00", "2024-05-03T08:00", 2.0, 10.0)]
    imp = found(result, "impossible_stock")
    assert [(f["channel"], f["actual"]) for f in imp] == [("store", 10.0), ("web", 10.0)]


# --------------------------------------------------------------------------- the result


def test_every_finding_explains_itself_and_summaries_add_up():
    p, q = was_now_with_flash()
    rows = [("A1", ch, 19.99, "2024-04-01", None) for ch in ("app", "store", "call_centre")]
    rows.append(("A1", "app", 25.0, "2024-06-01", "2024-06-02"))
    extra = prices(rows, **{})
    both = PriceTable.from_columns(oj.concat([p, extra.select(list(p.columns))]))
    result = audit(both, q, as_of=AS_OF)
    text = result.explanations()
    assert len(text) == len(result) and all(t.endswith(".") for t in text)
    assert result.summary_table()["findings"].sum() == len(result)
    assert result.by_channel()["findings"].sum() == len(result)
    assert result.by_sku()["findings"].sum() == len(result)
    assert sum(result.counts().values()) == len(result)
    df = result.to_pandas()
    assert {"rule", "sku", "channel", "start", "end", "expected", "actual"} <= set(df.columns)
    assert "PriceAudit(" in repr(result)


def test_audit_round_trips_through_json():
    p, q = was_now_with_flash()
    result = audit(p, q, policy=Policy.eu(channel_pairs=[("web", "app", (0.1, 5))]), as_of=AS_OF)
    back = oj.from_json(oj.to_json(result), oj.pricing.PriceAudit)
    assert back == result and back.findings.equals(result.findings)
    assert back[0] == result[0]


def test_a_stale_price_sent_again_is_still_stale():
    """A source silent for 22 days, then sending the same price again: the silence counts
    (equal neighbouring intervals are merged only after staleness is judged)."""
    prices = oj.pricing.PriceTable.from_columns(
        {
            "sku": ["A", "A"],
            "channel": ["store", "store"],
            "location": ["S01", "S01"],
            "price": [10.0, 10.0],
            "valid_from": ["2024-01-01", "2024-02-01"],
            "valid_to": ["2024-02-01", None],
            "confirmed": ["2024-01-10", "2024-02-28"],
        }
    )
    found = oj.pricing.audit(prices, as_of="2024-03-01").findings
    assert found["rule"].tolist() == ["stale_price"]
    assert found["actual"].tolist() == [22.0]
    assert str(found["start"][0])[:10] == "2024-01-17"

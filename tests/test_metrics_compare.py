"""Comparisons: difference in differences equal to OLS with interaction (statsmodels),
intervals against scipy.stats.bootstrap, CUPED unbiased with less variance, coverage of the
injected effect, determinism and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import statsmodels.api as sm

import omnijourney as oj
from metrics_world import PERIODS, rate_panel, spend_panel, touchpoints
from omnijourney import metrics as M
from omnijourney.errors import ConfigError, DataError


def _difference_of_means_interval(a: np.ndarray, b: np.ndarray, n: int, seed: int):
    """scipy.stats.bootstrap's percentile interval of mean(a) - mean(b), and its width."""
    ref = scipy.stats.bootstrap(
        (a, b),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        n_resamples=n,
        method="percentile",
        rng=np.random.default_rng(seed),
    ).confidence_interval
    return ref, ref.high - ref.low


def _ols_interaction(rows: dict, weights: np.ndarray | None = None) -> float:
    treated = (rows["group"] == "test").astype(float)
    post = (rows["period"] == "after").astype(float)
    y = rows["numerator"] / rows.get("denominator", 1.0)
    x = sm.add_constant(np.column_stack([treated, post, treated * post]))
    model = sm.OLS(y, x) if weights is None else sm.WLS(y, x, weights=weights)
    return float(model.fit().params[3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_difference_in_differences_equals_ols_interaction(seed: int) -> None:
    rows = spend_panel(800, effect=7.0, seed=seed)
    res = M.compare(rows, "spend", n_resamples=50, seed=seed)
    assert res.design == "difference_in_differences"
    assert res.estimate == pytest.approx(_ols_interaction(rows), abs=1e-9)


def test_ratio_difference_in_differences_equals_weighted_ols() -> None:
    rows = rate_panel(1500, uplift=0.05, seed=4)
    res = M.compare(rows, "conversion", n_resamples=50)
    keep = rows["denominator"] > 0
    sub = {k: v[keep] for k, v in rows.items()}
    assert res.estimate == pytest.approx(_ols_interaction(sub, sub["denominator"]), abs=1e-12)


def test_before_after_and_test_control_are_differences_of_ratios() -> None:
    rows = rate_panel(500, uplift=0.0, seed=5)
    num, den = rows["numerator"], rows["denominator"]
    after, test = rows["period"] == "after", rows["group"] == "test"
    ba = M.compare({k: v for k, v in rows.items() if k != "group"}, "conversion", n_resamples=20)
    assert ba.design == "before_after"
    expected = num[after].sum() / den[after].sum() - num[~after].sum() / den[~after].sum()
    assert ba.estimate == pytest.approx(expected)
    tc = M.compare(rows, "conversion", after="after", n_resamples=20)
    assert tc.design == "test_control"
    m_t = num[after & test].sum() / den[after & test].sum()
    m_c = num[after & ~test].sum() / den[after & ~test].sum()
    assert tc.estimate == pytest.approx(m_t - m_c)
    assert tc.relative == pytest.approx((m_t - m_c) / m_c)


def test_same_seed_same_interval_and_generators_accepted() -> None:
    rows = spend_panel(400, effect=5.0, seed=1)
    a = M.compare(rows, "spend", n_resamples=200, seed=11)
    b = M.compare(rows, "spend", n_resamples=200, seed=11)
    c = M.compare(rows, "spend", n_resamples=200, seed=np.random.default_rng(11))
    assert a.confidence_interval() == b.confidence_interval() == c.confidence_interval()
    d = M.compare(rows, "spend", n_resamples=200, seed=12)
    assert d.confidence_interval() != a.confidence_interval()


@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_interval_agrees_with_scipy_bootstrap(resampling: str) -> None:
    # groups of more than 2,048 customers: multinomial counts made from Poisson ones
    rng = np.random.default_rng(8)
    y_t, y_c = rng.gamma(2.0, 30.0, 12000), rng.gamma(2.0, 28.0, 10000)
    rows = {
        "customer": np.arange(22000),
        "period": np.full(22000, "after", dtype=object),
        "group": np.array(["test"] * 12000 + ["control"] * 10000, dtype=object),
        "numerator": np.concatenate([y_t, y_c]),
    }
    ours = M.compare(rows, "spend", n_resamples=4000, resampling=resampling, seed=2)
    ref, width = _difference_of_means_interval(y_t, y_c, 4000, seed=3)
    assert ours.low == pytest.approx(ref.low, abs=0.06 * width)
    assert ours.high == pytest.approx(ref.high, abs=0.06 * width)


def test_bca_agrees_with_scipy_on_a_paired_before_after() -> None:
    rng = np.random.default_rng(9)
    before = rng.gamma(1.5, 40.0, 2000)
    after = before * rng.lognormal(0.05, 0.3, 2000)
    rows = {
        "customer": np.repeat(np.arange(2000), 2),
        "period": np.tile(np.array(["before", "after"], dtype=object), 2000),
        "numerator": np.stack([before, after], axis=1).ravel(),
    }
    ours = M.compare(
        rows,
        "spend",
        before="before",
        after="after",
        n_resamples=4000,
        method="bca",
        resampling="multinomial",
        seed=5,
    )
    ref = scipy.stats.bootstrap(
        (after - before,), np.mean, n_resamples=4000, method="BCa", rng=np.random.default_rng(6)
    ).confidence_interval
    width = ref.high - ref.low
    assert ours.estimate == pytest.approx((after - before).mean())
    assert ours.low == pytest.approx(ref.low, abs=0.06 * width)
    assert ours.high == pytest.approx(ref.high, abs=0.06 * width)


def test_cuped_is_unbiased_and_reduces_variance_over_seeds() -> None:
    raw, adjusted, reductions = [], [], []
    for seed in range(40):
        rows = spend_panel(600, effect=6.0, seed=100 + seed)
        res = M.compare(
            rows,
            "spend",
            after="after",
            before="before",
            covariate="before",
            n_resamples=100,
            seed=seed,
        )
        assert res.design == "test_control"
        raw.append(res.raw_estimate)
        adjusted.append(res.estimate)
        reductions.append(res.variance_reduction)
    raw_a, adj_a = np.array(raw), np.array(adjusted)
    # unbiased: the mean over seeds is within 3 standard errors of the injected effect
    assert abs(adj_a.mean() - 6.0) < 3 * adj_a.std(ddof=1) / np.sqrt(adj_a.size)
    # the spend before explains most of the spend after: far less variance across seeds
    assert adj_a.var() < 0.5 * raw_a.var()
    assert min(reductions) > 0.5


def test_intervals_cover_the_injected_effect() -> None:
    covered = 0
    for seed in range(60):
        rows = spend_panel(1000, effect=4.0, seed=seed)
        res = M.compare(rows, "spend", n_resamples=300, seed=seed)
        covered += res.low <= 4.0 <= res.high
    assert covered >= 52  # 95% nominal: 57 expected; a binomial 1% lower bound is 52


def test_end_to_end_from_touchpoints() -> None:
    table, groups = touchpoints(600, uplift=0.25, seed=1)
    jt = oj.sessionize(table)
    res = M.compare(jt, "conversion", period=PERIODS, groups=groups, n_resamples=300, seed=0)
    assert res.design == "difference_in_differences"
    assert res.low <= 0.25 <= res.high
    assert res.low > 0
    k = M.kpis(jt, "conversion", period=PERIODS, by="segment", segments=groups)
    tb = k.value("conversion", period="before", segment="test")
    ta = k.value("conversion", period="after", segment="test")
    cb = k.value("conversion", period="before", segment="control")
    ca = k.value("conversion", period="after", segment="control")
    assert res.estimate == pytest.approx((ta - tb) - (ca - cb))
    assert "more for test than for control" in res.summary()
    frame = res.to_pandas()
    assert list(frame.index) == ["effect", "relative_effect"]


def test_customers_of_the_design_without_touchpoints_count_zero() -> None:
    table, groups = touchpoints(200, uplift=0.0, seed=2)
    jt = oj.sessionize(table)
    with_absent = dict(groups)
    with_absent.update({f"z{i}": "control" for i in range(50)})
    a = M.compare(
        jt, "spend_per_customer", period={"after": PERIODS["after"]}, groups=groups, n_resamples=20
    )
    b = M.compare(
        jt,
        "spend_per_customer",
        period={"after": PERIODS["after"]},
        groups=with_absent,
        n_resamples=20,
    )
    n_control = sum(1 for g in groups.values() if g == "control")
    ctrl_a = a.cells["value"][a.cells["group"] == "control"][0]
    ctrl_b = b.cells["value"][b.cells["group"] == "control"][0]
    assert ctrl_b == pytest.approx(ctrl_a * n_control / (n_control + 50))


def test_summary_sentences() -> None:
    rows = rate_panel(3000, uplift=0.0, seed=3)
    res = M.compare({k: v for k, v in rows.items() if k != "group"}, "conversion", n_resamples=200)
    text = res.summary()
    assert text.startswith("Conversion per journey rose from") or text.startswith(
        "Conversion per journey fell from"
    )
    assert "points" in text and "95% interval" in text


def test_bad_input() -> None:
    rows = spend_panel(100, effect=1.0, seed=0)
    with pytest.raises(ConfigError, match="no group 'vip'"):
        M.compare(rows, "spend", treated="vip")
    with pytest.raises(ConfigError, match="no period 'during'"):
        M.compare(rows, "spend", before="during", after="after")
    with pytest.raises(ConfigError, match="'n_resamples' parameter"):
        M.compare(rows, "spend", n_resamples=1)
    with pytest.raises(ConfigError, match="'confidence_level' parameter"):
        M.compare(rows, "spend", confidence_level=95)
    with pytest.raises(ConfigError, match="'method' parameter"):
        M.compare(rows, "spend", method="basic")
    with pytest.raises(ConfigError, match=r"CUPED .* applies to a test/control"):
        M.compare(rows, "spend", design="difference_in_differences", covariate="before")
    ratio = rate_panel(100, uplift=0.0, seed=0)
    with pytest.raises(ConfigError, match="CUPED needs a per-customer KPI"):
        M.compare(ratio, "conversion", after="after", before="before", covariate="before")
    # the treated group has no unit before: no difference in differences
    ratio["denominator"][(ratio["group"] == "test") & (ratio["period"] == "before")] = 0.0
    ratio["numerator"][(ratio["group"] == "test") & (ratio["period"] == "before")] = 0.0
    with pytest.raises(DataError, match="has no conversion unit"):
        M.compare(ratio, "conversion")
    with pytest.raises(ConfigError, match="'customer', 'period' and 'numerator'"):
        M.compare({"customer": [1], "value": [2.0]}, "spend")
    with pytest.raises(DataError, match="empty"):
        M.compare({"customer": [], "period": [], "numerator": []}, "spend")
    one_group = {k: v[rows["group"] == "test"] for k, v in rows.items()}
    with pytest.raises(ConfigError, match="name the control group"):
        M.compare(one_group, "spend", design="test_control", after="after")


def test_bad_input_from_journeys() -> None:
    table, groups = touchpoints(60, uplift=0.0, seed=3)
    jt = oj.sessionize(table)
    with pytest.raises(ConfigError, match="name the KPI"):
        M.compare(jt)
    with pytest.raises(ConfigError, match="not a sum over customers"):
        M.compare(jt, "inactive_share", period=PERIODS)
    empty = {c: "test" for c in groups}
    empty["nobody-here"] = "control"
    with pytest.raises(DataError, match="group 'control' in period"):
        M.compare(jt, "conversion", period=PERIODS, groups=empty)
    late = {"before": ("2030-01-01", "2030-02-01"), "after": ("2030-02-01", "2030-03-01")}
    with pytest.raises(DataError, match="zero denominator"):
        M.compare(jt, "conversion", period=late)


def test_counts_follow_each_scheme() -> None:
    from scipy.special import factorial

    from omnijourney.metrics._bootstrap import multinomial_counts, poisson_counts

    gen = np.random.Generator(np.random.SFC64(3))
    row = np.empty(2_000_000, dtype=np.uint8)
    poisson_counts(gen, row)
    freq = np.bincount(row, minlength=12)[:12]
    expected = row.size * np.exp(-1.0) / factorial(np.arange(12))
    seen = expected > 5
    chi2 = (((freq - expected) ** 2 / expected)[seen]).sum()
    assert chi2 < scipy.stats.chi2.ppf(0.999, seen.sum() - 1)
    # multinomial, drawn directly (40 customers) or from Poisson counts brought to the total
    # (10,000): m draws exactly; each count Binomial(m, 1/m); counts negatively correlated
    for m, rows in ((40, 20_000), (10_000, 200)):
        counts = np.empty((rows, m), dtype=np.uint8)
        for r in range(rows):
            multinomial_counts(gen, counts[r])
        assert (counts.sum(axis=1) == m).all()
        freq = np.bincount(counts.ravel(), minlength=8)[:8]
        expected = counts.size * scipy.stats.binom.pmf(np.arange(8), m, 1 / m)
        seen = expected > 5
        chi2 = (((freq - expected) ** 2 / expected)[seen]).sum()
        assert chi2 < scipy.stats.chi2.ppf(0.999, seen.sum() - 1)
    counts = np.empty((20_000, 40), dtype=np.uint8)
    for r in range(counts.shape[0]):
        multinomial_counts(gen, counts[r])
    cov = np.cov(counts[:, 0], counts[:, 1])[0, 1]
    assert abs(cov - (-1 / 40)) < 4 * np.sqrt(1 / counts.shape[0])


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_resamples_do_not_depend_on_blocks_or_threads(monkeypatch, resampling: str) -> None:
    import omnijourney.metrics._bootstrap as engine

    rng = np.random.default_rng(0)
    n = 5000
    values = np.stack([rng.gamma(2.0, 50.0, n), np.ones(n), rng.normal(size=n)], axis=1)
    strata = rng.integers(0, 3, n)

    def sums(n_resamples: int) -> np.ndarray:
        return engine.bootstrap_sums(
            values,
            strata,
            3,
            n_resamples=n_resamples,
            rng=np.random.default_rng(5),
            resampling=resampling,
        )

    reference = sums(100)
    monkeypatch.setattr(engine, "_BLOCK", 7)
    assert np.array_equal(sums(100), reference)
    monkeypatch.setattr(engine, "_THREADED", 1)  # several threads even for this small case
    assert np.array_equal(sums(100), reference)
    # resample r is the same whatever the number of resamples
    assert np.array_equal(sums(30), reference[:30])
    # with the multinomial each group draws exactly its customers
    if resampling == "multinomial":
        assert (reference[:, :, 1] == np.bincount(strata, minlength=3)).all()


def test_resamples_are_independent() -> None:
    from omnijourney.metrics._bootstrap import bootstrap_sums

    # the mean of each resample: successive resamples are uncorrelated (a rotation of one
    # vector of counts would correlate them)
    rng = np.random.default_rng(1)
    n = 50_000
    values = np.stack([rng.gamma(2.0, 50.0, n), np.ones(n)], axis=1)
    s = bootstrap_sums(
        values, np.zeros(n, dtype=np.int64), 1, n_resamples=2000, rng=np.random.default_rng(2)
    )
    means = s[:, 0, 0] / s[:, 0, 1]
    lag = np.corrcoef(means[:-1], means[1:])[0, 1]
    assert abs(lag) < 4 / np.sqrt(means.size)
    assert means.std() == pytest.approx(values[:, 0].std() / np.sqrt(n), rel=0.1)


@pytest.mark.parametrize(
    ("kpi", "options"),
    [
        ("conversion", {}),
        ("spend_per_customer", {}),
        ("spend_per_customer", {"after": "after", "before": "before", "covariate": "before"}),
    ],
)
def test_customer_panel_passed_back_gives_the_same_comparison(kpi: str, options: dict) -> None:
    table, groups = touchpoints(300, uplift=0.2, seed=6)
    jt = oj.sessionize(table)
    with_absent = {**groups, "z1": "control", "z2": "test"}  # in the design, no touchpoint
    panel = M.customer_panel(jt, kpi, period=PERIODS, groups=with_absent)
    assert len(panel) == len(with_absent) * 2
    assert ("denominator" in panel.columns) == (kpi == "conversion")
    direct = M.compare(jt, kpi, period=PERIODS, groups=with_absent, n_resamples=300, **options)
    back = M.compare(panel, kpi, n_resamples=300, **options)
    assert back.design == direct.design
    assert back.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert back.cells.equals(direct.cells)
    width = direct.high - direct.low
    assert back.low == pytest.approx(direct.low, abs=0.25 * width)
    assert back.high == pytest.approx(direct.high, abs=0.25 * width)
    # an edit between the two: spend capped at its 99th percentile moves the estimate
    if kpi == "spend_per_customer" and not options:
        frame = panel.to_pandas()
        frame["numerator"] = frame["numerator"].clip(upper=frame["numerator"].quantile(0.99))
        capped = M.compare(frame, kpi, n_resamples=50)
        assert capped.estimate != direct.estimate


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_difference_in_differences_interval_agrees_with_scipy(resampling: str) -> None:
    # the per-customer change after - before, and scipy's two-sample bootstrap of the
    # difference of its means: the same interval within Monte Carlo error
    rows = spend_panel(9000, effect=5.0, seed=12)
    change = rows["numerator"][1::2] - rows["numerator"][::2]
    test = rows["group"][::2] == "test"
    ours = M.compare(rows, "spend", n_resamples=3000, resampling=resampling, seed=4)
    ref, width = _difference_of_means_interval(change[test], change[~test], 3000, seed=5)
    assert ours.estimate == pytest.approx(change[test].mean() - change[~test].mean())
    assert ours.low == pytest.approx(ref.low, abs=0.06 * width)
    assert ours.high == pytest.approx(ref.high, abs=0.06 * width)

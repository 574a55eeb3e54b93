"""BG/NBD: the published CDNOW fit, an independent linear-space implementation, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omnijourney as oj
from omnijourney import ConfigError, ConvergenceError, DataError, SchemaError, TouchpointTable
from omnijourney.journeys import BGNBD, fit_bgnbd, rfm
from omnijourney.journeys._bgnbd import _Fit, _objective  # the gradient, checked numerically

CDNOW_PATH = Path(__file__).parent / "data" / "cdnow_customers_summary.csv"
#: Fader, Hardie & Lee (2005), table of the CDNOW estimates (weeks).
PUBLISHED = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
PUBLISHED_LL = -9582.4


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    data = np.genfromtxt(CDNOW_PATH, delimiter=",", names=True)
    return {name: np.asarray(data[name], dtype=float) for name in ("frequency", "recency", "T")}


@pytest.fixture(scope="module")
def cdnow_model(cdnow) -> BGNBD:
    return fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def simulate(rng, n, r=0.25, alpha=4.0, a=0.8, b=2.5, t_max=52.0):
    """(x, t_x, T) of customers drawn from the model itself."""
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(1, t_max, n)
    opportunities = rng.poisson(rate * T)
    x = np.minimum(opportunities, rng.geometric(dropout))
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), opportunities - x + 1), 0.0)
    return x, tx, T


# ----------------------------------------------------------------------- independent formulas


def beta_fn(p, q):
    return math.gamma(p) * math.gamma(q) / math.gamma(p + q)


def linear_loglik(r, alpha, a, b, x, tx, T):
    """FHL 2005 eq. 6, term by term in linear space (small x only)."""
    left = math.gamma(r + x) * alpha**r / math.gamma(r) * beta_fn(a, b + x) / beta_fn(a, b)
    right = (alpha + T) ** -(r + x)
    if x > 0:
        right += a / (b + x - 1) * (alpha + tx) ** -(r + x)
    return math.log(left * right)


def hyp2f1_series(p, q, c, z):
    """Gauss hypergeometric function by its power series (|z| < 1)."""
    term = total = 1.0
    k = 0
    while abs(term) > 1e-17 * abs(total):
        term *= (p + k) * (q + k) / ((c + k) * (k + 1)) * z
        total += term
        k += 1
    return total


def linear_p_alive(r, alpha, a, b, x, tx, T):
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))


def linear_expected(t, r, alpha, a, b, x, tx, T):
    """FHL 2005 eq. 10, directly."""
    z = t / (alpha + T + t)
    inner = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1_series(
        r + x, b + x, a + b + x - 1, z
    )
    return (a + b + x - 1) / (a - 1) * (1 - inner) * linear_p_alive(r, alpha, a, b, x, tx, T)


CASES = [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 12.5, 30.0), (15, 29.0, 31.0)]


# ----------------------------------------------------------------------- CDNOW


def test_cdnow_fit_reproduces_the_published_estimates(cdnow_model):
    for name, value in PUBLISHED.items():
        assert getattr(cdnow_model, name) == pytest.approx(value, abs=1e-3), name
    assert cdnow_model.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.05)
    assert cdnow_model.converged and cdnow_model.n_customers == 2357
    assert cdnow_model.method == "L-BFGS-B"


def test_cdnow_standard_errors_are_those_of_the_inverse_hessian(cdnow_model):
    # values of lifetimes 0.11.3 on the same data (its autograd Hessian)
    expected = (0.012557, 0.378221, 0.185719, 0.705345)
    assert cdnow_model.standard_errors == pytest.approx(expected, rel=1e-3)
    text = cdnow_model.summary()
    assert "2,357" in text and "-9,582.4256" in text and "0.3782" in text


def test_log_likelihood_sums_the_customers_of_the_linear_formula(cdnow, cdnow_model):
    m = cdnow_model
    per = m.log_likelihood_of(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert per.sum() == pytest.approx(m.log_likelihood, rel=1e-12)
    for i in range(0, 2357, 97):
        x, tx, T = (cdnow[k][i] for k in ("frequency", "recency", "T"))
        assert per[i] == pytest.approx(linear_loglik(m.r, m.alpha, m.a, m.b, x, tx, T), rel=1e-10)


@pytest.mark.parametrize(("x", "tx", "T"), CASES)
def test_p_alive_and_expected_purchases_match_the_direct_formulas(cdnow_model, x, tx, T):
    m = cdnow_model
    p = (m.r, m.alpha, m.a, m.b)
    assert m.p_alive(x, tx, T) == pytest.approx(linear_p_alive(*p, x, tx, T), rel=1e-12)
    for t in (0.5, 10.0, 39.0, 52.0):
        want = linear_expected(t, *p, x, tx, T)
        assert m.expected_purchases(t, x, tx, T) == pytest.approx(want, rel=1e-9)


def test_expected_purchases_of_a_new_customer_match_a_simulation(cdnow_model):
    m = cdnow_model
    rng = np.random.default_rng(5)
    n, t = 400_000, 39.0
    rate, dropout = rng.gamma(m.r, 1 / m.alpha, n), rng.beta(m.a, m.b, n)
    purchases = np.minimum(rng.poisson(rate * t), rng.geometric(dropout))
    se = purchases.std() / math.sqrt(n)
    assert abs(m.expected_purchases_new(t) - purchases.mean()) < 4 * se
    assert m.expected_purchases_new(t) == pytest.approx(
        linear_expected(t, *m.params.values(), 0, 0, 0)
    )


def test_lifetimes_agrees_when_installed(cdnow, cdnow_model):
    lifetimes = pytest.importorskip("lifetimes")
    theirs = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name in PUBLISHED:
        assert getattr(cdnow_model, name) == pytest.approx(theirs.params_[name], rel=1e-4)
    x, tx, T = cdnow["frequency"][:50], cdnow["recency"][:50], cdnow["T"][:50]
    m = BGNBD(**{k: theirs.params_[k] for k in PUBLISHED})
    np.testing.assert_allclose(m.p_alive(x, tx, T), theirs.conditional_probability_alive(x, tx, T))
    np.testing.assert_allclose(
        m.expected_purchases(10, x, tx, T),
        theirs.conditional_expected_number_of_purchases_up_to_time(10, x, tx, T),
        rtol=1e-8,
    )
    assert m.expected_purchases_new(10) == pytest.approx(
        theirs.expected_number_of_purchases_up_to_time(10)
    )


# ----------------------------------------------------------------------- properties


def test_weights_are_counts_of_identical_customers(rng):
    x, tx, T = simulate(rng, 600)
    x, tx, T = np.round(x), np.round(tx, 1), np.round(T, 1)
    tx = np.where(x > 0, np.clip(tx, 0.1, T), 0.0)
    counts = rng.integers(1, 4, x.size)
    repeated = fit_bgnbd(np.repeat(x, counts), np.repeat(tx, counts), np.repeat(T, counts))
    weighted = fit_bgnbd(x, tx, T, weights=counts)
    for name in ("r", "alpha", "a", "b", "log_likelihood", "n_customers"):
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-9), name
    zero = fit_bgnbd(
        np.append(x, 3), np.append(tx, 1.0), np.append(T, 2.0), weights=np.append(counts, 0)
    )
    assert zero.r == pytest.approx(weighted.r, rel=1e-12)


def test_the_fit_does_not_depend_on_row_order(cdnow, cdnow_model):
    perm = np.random.default_rng(3).permutation(2357)
    shuffled = fit_bgnbd(*(cdnow[k][perm] for k in ("frequency", "recency", "T")))
    assert shuffled == cdnow_model


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_weighted_fits_are_the_same_bits_in_any_row_order(cdnow, seed):
    # fractional weights on repeated (x, t_x, T) triples: their sums are taken in ascending
    # order, so the collapsed data, the likelihood and the fit do not depend on the row order
    rng = np.random.default_rng(seed)
    rows = rng.choice(2357, 400)
    triples = [cdnow[k][rows] for k in ("frequency", "recency", "T")]
    weights = rng.choice([0.1, 0.2, 0.3, 0.7, 1 / 3], rows.size)
    perm = rng.permutation(rows.size)

    def fit(*columns, weights):
        # some subsamples have no interior maximum: then both orders fail alike
        try:
            return fit_bgnbd(*columns, weights=weights)
        except ConvergenceError as exc:
            return str(exc)

    a = fit(*triples, weights=weights)
    b = fit(*(v[perm] for v in triples), weights=weights[perm])
    assert a == b


def test_the_time_unit_only_scales_alpha(cdnow, cdnow_model):
    days = fit_bgnbd(cdnow["frequency"], cdnow["recency"] * 7, cdnow["T"] * 7)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(cdnow_model, name), rel=1e-5)
    assert days.alpha == pytest.approx(7 * cdnow_model.alpha, rel=1e-5)
    shift = cdnow["frequency"].sum() * math.log(7)  # Jacobian of the change of unit
    assert days.log_likelihood == pytest.approx(cdnow_model.log_likelihood - shift, rel=1e-9)
    assert days.p_alive(2, 30.43 * 7, 38.86 * 7) == pytest.approx(
        cdnow_model.p_alive(2, 30.43, 38.86), rel=1e-5
    )


def test_parameters_are_recovered_from_simulated_customers(rng):
    x, tx, T = simulate(rng, 50_000)
    m = fit_bgnbd(x, tx, T)
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    for (name, value), se in zip(truth.items(), m.standard_errors):
        assert abs(getattr(m, name) - value) < 4 * se, name


def test_gradient_matches_finite_differences(cdnow):
    data = _Fit.of(
        cdnow["frequency"], cdnow["recency"] / 7.8, cdnow["T"] / 7.8, np.ones(2357), 0.01
    )
    theta = np.log([0.3, 0.5, 0.7, 2.0])
    grad = _objective(theta, data)[1]
    step = 1e-6
    for i in range(4):
        e = np.eye(4)[i] * step
        numeric = (_objective(theta + e, data)[0] - _objective(theta - e, data)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_expected_purchases_are_zero_at_zero_and_grow_with_the_horizon(cdnow_model):
    horizons = np.array([0.0, 1.0, 10.0, 100.0, 1000.0])
    values = cdnow_model.expected_purchases(horizons, 3, 20.0, 38.86)
    assert values[0] == 0.0 and np.all(np.diff(values) > 0)


def test_many_repeat_purchases_and_long_horizons_stay_finite(cdnow_model):
    m = cdnow_model
    value = m.expected_purchases(1e5, 500, 38.0, 38.86)  # 2F1 itself overflows here
    assert np.isfinite(value) and value > m.expected_purchases(1e3, 500, 38.0, 38.86) > 0
    # where both forms are finite the Euler-transformed expression gives the same number
    assert m.expected_purchases(40.0, 60, 38.0, 38.86) == pytest.approx(
        linear_expected(40.0, *m.params.values(), 60, 38.0, 38.86), rel=1e-8
    )


def test_a_equal_to_one_is_a_removable_singularity():
    at_one = BGNBD(r=0.3, alpha=4.0, a=1.0, b=2.0).expected_purchases(10.0, 2, 5.0, 20.0)
    near = [
        BGNBD(r=0.3, alpha=4.0, a=1 + h, b=2.0).expected_purchases(10.0, 2, 5.0, 20.0)
        for h in (-1e-3, 1e-3)
    ]
    assert np.isfinite(at_one) and min(near) - 1e-6 < at_one < max(near) + 1e-6


def test_scalars_give_floats_and_arrays_broadcast(cdnow_model):
    assert isinstance(cdnow_model.p_alive(1, 2.0, 10.0), float)
    out = cdnow_model.expected_purchases([[1.0], [2.0]], [0, 1, 2], [0, 1.0, 2.0], 10.0)
    assert out.shape == (2, 3)


def test_an_rfm_table_can_be_fitted_and_scored_directly(rng):
    # 400 customers who buy at their own rate until they leave, plus page views
    n_customers = 400
    rate = rng.gamma(2.0, 1 / 60.0, n_customers)  # purchases per day
    life = rng.exponential(200.0, n_customers)  # days until the customer leaves
    days, who = [], []
    for i in range(n_customers):
        count = rng.poisson(rate[i] * min(life[i], 500)) + 1
        days += rng.uniform(0, min(life[i], 500), count).tolist()
        who += [f"c{i}"] * count
    n = len(days)
    tp = TouchpointTable.from_columns(
        {
            "customer": who + who,
            "time": [
                np.datetime64("2024-01-01") + np.timedelta64(int(d * 1440), "m") for d in days * 2
            ],
            "channel": ["web"] * (2 * n),
            "event": ["purchase"] * n + ["page_view"] * n,
        }
    )
    summary = rfm(tp)
    buyers = summary.filter(~np.isnan(summary["T"]))
    from_table = fit_bgnbd(summary)
    from_arrays = fit_bgnbd(buyers["frequency"], buyers["recency"], buyers["T"])
    assert from_table == from_arrays
    np.testing.assert_array_equal(
        from_table.p_alive(summary),
        from_table.p_alive(buyers["frequency"], buyers["recency"], buyers["T"]),
    )
    with pytest.raises(SchemaError, match="no column 'recency'"):
        fit_bgnbd(summary.select(["customer", "frequency", "T"]))
    with pytest.raises(ConfigError, match="not both"):
        fit_bgnbd(summary, buyers["recency"], buyers["T"])


def test_the_model_round_trips_through_the_converter(cdnow_model):
    assert oj.from_dict(oj.to_dict(cdnow_model), BGNBD) == cdnow_model
    assert oj.from_json(oj.to_json(cdnow_model), BGNBD) == cdnow_model
    by_hand = BGNBD(r=1, alpha=2, a=3, b=4)
    assert oj.from_json(oj.to_json(by_hand), BGNBD) == by_hand
    assert "not fitted" not in by_hand.summary() and "-" in by_hand.summary()


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x", "tx", "T", "column", "reason"),
    [
        ([1, np.nan], [1.0, 0.0], [2.0, 2.0], "frequency", "not a finite number"),
        ([1, 0], [1.0, 0.0], [2.0, np.inf], "T", "not a finite number"),
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "frequency", "negative"),
        ([1, 0], [1.0, 0.0], [2.0, -2.0], "T", "negative"),
        ([1, 1.5], [1.0, 1.0], [2.0, 2.0], "frequency", "whole number"),
        ([1, 1], [1.0, 3.0], [2.0, 2.0], "recency", "greater than T"),
        ([1, 0], [1.0, 1.0], [2.0, 2.0], "recency", "must be 0 when frequency is 0"),
        ([1, 2], [1.0, 0.0], [2.0, 2.0], "recency", "instant of the first one"),
    ],
)
def test_invalid_customers_are_refused_naming_argument_row_and_value(x, tx, T, column, reason):
    with pytest.raises(DataError, match=reason) as err:
        fit_bgnbd(x, tx, T)
    assert err.value.column == column and err.value.rows == (1,)
    assert "row 1" in str(err.value) and column in str(err.value)
    with pytest.raises(DataError, match=reason):
        BGNBD(r=1, alpha=1, a=1, b=1).p_alive(x, tx, T)


def test_other_bad_arguments():
    with pytest.raises(DataError, match="must be numbers"):
        fit_bgnbd(["a", "b"], [0, 0], [1, 1])
    with pytest.raises(DataError, match=r"different lengths: frequency \(2,\), recency \(3,\)"):
        fit_bgnbd([0, 1], [0, 1, 2], [1, 1])
    with pytest.raises(DataError, match="weights has shape"):
        fit_bgnbd([0, 1], [0, 1], [2, 2], weights=[1, 2, 3])
    with pytest.raises(DataError, match="no customers"):
        fit_bgnbd([], [], [])
    with pytest.raises(DataError, match="negative"):
        fit_bgnbd([0, 1], [0, 1], [2, 2], weights=[1, -1])
    with pytest.raises(DataError, match=r"t.*negative"):
        BGNBD(r=1, alpha=1, a=1, b=1).expected_purchases(-1, 0, 0, 1)
    with pytest.raises(ConfigError, match="penalizer"):
        fit_bgnbd([0, 1], [0, 1], [2, 2], penalizer=-1)
    with pytest.raises(ConfigError, match="initial"):
        fit_bgnbd([0, 1], [0, 1], [2, 2], initial=[1, 2, 3])
    with pytest.raises(ConfigError, match="recency and T are required"):
        fit_bgnbd([0, 1])
    with pytest.raises(ConfigError, match="'alpha' parameter must be a finite number > 0"):
        BGNBD(r=1, alpha=0, a=1, b=1)


def test_a_likelihood_without_interior_maximum_raises_a_convergence_error():
    # nobody ever repeats: the likelihood grows as the purchase rates collapse to 0
    with pytest.raises(ConvergenceError, match="no customer made a repeat purchase"):
        fit_bgnbd(np.zeros(100), np.zeros(100), np.linspace(1, 50, 100))
    # Poisson buyers who never drop out: the dropout probability goes to 0
    rng = np.random.default_rng(1)
    T = rng.uniform(20, 40, 3000).round()
    x = rng.poisson(T / 10)
    tx = np.where(x > 0, np.ceil(T * rng.beta(np.maximum(x, 1), 1)), 0.0)
    with pytest.raises(ConvergenceError, match="no interior maximum"):
        fit_bgnbd(x, tx, T)


def test_penalizer_and_initial_values(cdnow, cdnow_model):
    start = {"r": 1.0, "alpha": 10.0, "a": 0.5, "b": 5.0}
    again = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"], initial=start)
    assert again.r == pytest.approx(cdnow_model.r, rel=1e-5)
    shrunk = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"], penalizer=0.1)
    assert shrunk.penalizer == 0.1 and shrunk.log_likelihood < cdnow_model.log_likelihood
    assert shrunk.b < cdnow_model.b


def test_nelder_mead_takes_over_when_l_bfgs_b_fails(cdnow, cdnow_model, monkeypatch):
    import scipy.optimize

    real = scipy.optimize.minimize
    calls = []

    def flaky(fun, x0, *args, method=None, **kwargs):
        calls.append(method)
        result = real(fun, x0, *args, method=method, **kwargs)
        if method == "L-BFGS-B":
            result.success, result.message = False, "ABNORMAL_TERMINATION_IN_LNSRCH"
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", flaky)
    model = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert calls == ["L-BFGS-B", "Nelder-Mead"] and model.method == "Nelder-Mead"
    for name in PUBLISHED:
        assert getattr(model, name) == pytest.approx(getattr(cdnow_model, name), rel=1e-4)


def test_a_failed_optimisation_names_what_was_tried(cdnow, monkeypatch):
    import scipy.optimize

    real = scipy.optimize.minimize

    def failing(fun, x0, *args, method=None, **kwargs):
        result = real(fun, x0, *args, method=method, **{**kwargs, "options": {"maxiter": 2}})
        result.success = False
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", failing)
    with pytest.raises(ConvergenceError, match=r"did not converge \(L-BFGS-B: .*; Nelder-Mead: "):
        fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])

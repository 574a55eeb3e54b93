"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005): fit, P(alive), forecasts.

Each customer buys as a Poisson process of rate λ ~ Gamma(r, α) and, after each purchase,
drops out with probability p ~ Beta(a, b). The data per customer are ``x`` repeat purchases,
``t_x`` the time of the last one and ``T`` the time since the first one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import run_starts
from omnijourney._validation import number
from omnijourney.errors import ConfigError, ConvergenceError, DataError, SchemaError
from omnijourney.tables import Table

__all__ = ["BGNBD", "fit_bgnbd"]

_NAMES = ("r", "alpha", "a", "b")
_COLUMNS = ("frequency", "recency", "T")
#: Search box of the log-parameters, after times are rescaled so that max(T) = 10.
_LOG_BOUND = math.log(1e8)
#: A fitted log-parameter beyond this means the likelihood has no interior maximum.
_LOG_RUNAWAY = math.log(1e5)


def _r(value: Any) -> float:
    return number(value, "r", minimum=0, low_open=True)


def _alpha(value: Any) -> float:
    return number(value, "alpha", minimum=0, low_open=True)


def _a(value: Any) -> float:
    return number(value, "a", minimum=0, low_open=True)


def _b(value: Any) -> float:
    return number(value, "b", minimum=0, low_open=True)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_floats(value: Any) -> tuple[float, ...] | None:
    return None if value is None else tuple(float(v) for v in value)


# --------------------------------------------------------------------------- inputs


def _column(name: str, values: Any, where: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"must be numbers, got {type(values).__name__}"
        raise DataError(msg, table=where, column=name) from None


def _fail(where: str, name: str, mask: np.ndarray, values: np.ndarray, reason: str) -> None:
    rows = np.flatnonzero(mask.ravel())
    if rows.size:
        shown = [float(v) for v in values.ravel()[rows[:5]]]
        raise DataError(reason, table=where, column=name, rows=rows.tolist(), values=shown)


def _triples(
    frequency: Any, recency: Any, T: Any, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) as broadcast float arrays, from arrays or an rfm Table, checked."""
    if isinstance(frequency, Table):
        table = frequency
        if recency is not None or T is not None:
            msg = f"{where}: pass either a Table or the frequency, recency and T arrays, not both"
            raise ConfigError(msg)
        for col in _COLUMNS:
            if col not in table.columns:
                msg = f"{where}: the table has no column {col!r}; columns are {list(table.columns)}"
                raise SchemaError(msg, table=table.table_name, column=col)
        buyers = ~np.isnan(table.raw("T"))  # customers who never purchased are not modelled
        frequency, recency, T = (table.raw(c)[buyers] for c in _COLUMNS)
    elif recency is None or T is None:
        msg = f"{where}: recency and T are required with a frequency array"
        raise ConfigError(msg)
    arrays = [_column(n, v, where) for n, v in zip(_COLUMNS, (frequency, recency, T))]
    try:
        x, tx, age = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(_COLUMNS, arrays))
        raise DataError(f"the arrays have different lengths: {shapes}", table=where) from None
    for name, v in (("frequency", x), ("recency", tx), ("T", age)):
        _fail(where, name, ~np.isfinite(v), v, "is not a finite number")
        _fail(where, name, v < 0, v, "is negative")
    repeats_at_zero = (
        "is 0 with repeat purchases, which then happened at the instant of the first one: "
        "group purchases by period first, as rfm() does"
    )
    for name, mask, values, reason in (
        ("frequency", x != np.floor(x), x, "is not a whole number of repeat purchases"),
        ("recency", tx > age, tx, "is greater than T (the last purchase is after the end)"),
        ("recency", (x == 0) & (tx != 0), tx, "must be 0 when frequency is 0"),
        ("recency", (x > 0) & (tx == 0), tx, repeats_at_zero),
    ):
        _fail(where, name, mask, values, reason)
    return x, tx, age


# --------------------------------------------------------------------------- likelihood


def _loglik(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood (FHL 2005, eq. 6), the two last terms added in log space."""
    from scipy import special  # imported on use: scipy is slow to import

    log_A = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_B = np.where(x > 0, np.log(a / (b + x - 1)) - (r + x) * np.log(alpha + tx), -np.inf)
    gammas = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    betas = special.betaln(a, b + x) - special.betaln(a, b)
    return gammas + betas + np.logaddexp(log_A, log_B)


@attrs.frozen
class _Fit:
    """The data of a fit, arranged for a fast likelihood.

    Terms of x alone (gamma, beta and digamma functions) are computed once per distinct x,
    weighted by the total weight of that x; the dropout term only on the rows with x > 0.
    """

    T: np.ndarray
    w: np.ndarray
    wx: np.ndarray  # w * x
    xr: np.ndarray  # x, t_x, T and w of the rows with x > 0
    txr: np.ndarray
    Tr: np.ndarray
    wr: np.ndarray
    xv: np.ndarray  # distinct x values and their total weights
    wv: np.ndarray
    total: float
    penalizer: float

    @classmethod
    def of(cls, x: Any, tx: Any, T: Any, w: Any, penalizer: float) -> _Fit:
        xv, xi = np.unique(x, return_inverse=True)
        wv = np.bincount(xi.ravel(), weights=w, minlength=xv.size)
        rep = x > 0
        return cls(T, w, w * x, x[rep], tx[rep], T[rep], w[rep], xv, wv, float(w.sum()), penalizer)


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum, not BLAS: threaded BLAS on 1-D vectors costs more than it saves on a busy machine
    return float(np.einsum("i,i->", u, v))


def _objective(theta: np.ndarray, d: _Fit) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (plus penalty) and its gradient in log-parameters.

    With ``ln A = -(r+x) ln(alpha+T)`` and ``ln B = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x)``,
    ``ln(A + B) = ln A + softplus(ln B - ln A)``; the share ``B / (A + B)`` is the
    probability that the customer dropped out after the last purchase.
    """
    from scipy import special

    r, alpha, a, b = np.exp(theta)
    xv, wv, xr = d.xv, d.wv, d.xr
    per_x = special.gammaln(r + xv) + special.betaln(a, b + xv)
    const = -special.gammaln(r) - special.betaln(a, b) + r * np.log(alpha)
    dab = special.digamma(a + b) - special.digamma(a + b + xv)
    log_aT = np.log(alpha + d.T)
    rw = r * d.w + d.wx  # w (r + x)
    log_aTr, log_atx = np.log(alpha + d.Tr), np.log(alpha + d.txr)
    diff = np.log(a) - np.log(b + xr - 1) + (r + xr) * (log_aTr - log_atx)
    ws = d.wr * special.expit(diff)
    ll = _dot(wv, per_x) + d.total * const - _dot(rw, log_aT) + _dot(d.wr, np.logaddexp(0, diff))
    grad = np.array(
        [
            _dot(wv, special.digamma(r + xv))
            + d.total * (np.log(alpha) - special.digamma(r))
            - _dot(d.w, log_aT)
            + _dot(ws, log_aTr - log_atx),
            d.total * r / alpha
            - _dot(rw, 1.0 / (alpha + d.T))
            - _dot(ws, (r + xr) * (1.0 / (alpha + d.txr) - 1.0 / (alpha + d.Tr))),
            _dot(wv, dab) + ws.sum() / a,
            _dot(wv, dab + special.digamma(b + xv))
            - d.total * special.digamma(b)
            - _dot(ws, 1.0 / (b + xr - 1)),
        ]
    )
    params = np.array([r, alpha, a, b])
    value = -ll / d.total + d.penalizer * float(params @ params)
    return value, -grad * params / d.total + 2.0 * d.penalizer * params * params


def _value(theta: np.ndarray, d: _Fit) -> float:
    return _objective(theta, d)[0]


# --------------------------------------------------------------------------- the model


@attrs.frozen(kw_only=True)
class BGNBD:
    """A BG/NBD model: purchase rate λ ~ Gamma(r, alpha), dropout probability p ~ Beta(a, b).

    Made by :func:`fit_bgnbd`, or by hand from known parameters. Times (``recency``, ``T``,
    ``t``) are in the unit of the data the model was fitted on (``alpha`` carries it).

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates.
    a, b : float
        Parameters of the beta distribution of the dropout probability.
    log_likelihood : float, optional
        Log-likelihood of the fit (a sum over customers, without the penalty).
    n_customers : float, optional
        Number of customers fitted (the sum of the weights).
    converged : bool, optional
        Whether the optimiser reported convergence (None for a model made by hand).
    method : str, optional
        The optimiser that produced the fit (``"L-BFGS-B"`` or ``"Nelder-Mead"``).
    penalizer : float
        L2 penalty the fit used.
    standard_errors : tuple of 4 floats, optional
        Standard errors of (r, alpha, a, b) from the inverse Hessian of the log-likelihood.

    Examples
    --------
    >>> m = BGNBD(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)  # CDNOW, in weeks
    >>> round(m.p_alive(2, 30.43, 38.86), 4)
    0.7266
    >>> round(m.expected_purchases(39, 2, 30.43, 38.86), 4)
    1.2259
    >>> round(m.expected_purchases_new(39), 4)
    1.1951
    """

    r: float = attrs.field(converter=_r)
    alpha: float = attrs.field(converter=_alpha)
    a: float = attrs.field(converter=_a)
    b: float = attrs.field(converter=_b)
    log_likelihood: float | None = attrs.field(default=None, converter=_opt_float)
    n_customers: float | None = attrs.field(default=None, converter=_opt_float)
    converged: bool | None = None
    method: str | None = None
    penalizer: float = attrs.field(default=0.0, converter=float)
    standard_errors: tuple[float, float, float, float] | None = attrs.field(
        default=None, converter=_opt_floats
    )

    @property
    def params(self) -> dict[str, float]:
        """The four parameters by name."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def log_likelihood_of(self, frequency: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """Log-likelihood of each customer's (x, t_x, T) under the model (FHL 2005, eq. 6)."""
        x, tx, age = _triples(frequency, recency, T, "BGNBD.log_likelihood_of")
        return _loglik(self.r, self.alpha, self.a, self.b, x, tx, age)

    def p_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> Any:
        """Probability that each customer is still active at ``T``.

        ``1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``. A customer without
        repeat purchase is alive with probability 1 (dropout happens only after a purchase).

        Parameters
        ----------
        frequency, recency, T : array_like, or an rfm Table as ``frequency`` alone
            Repeat purchases, time of the last one and age (broadcast together).

        Returns
        -------
        float or ndarray
            A float for scalar inputs.

        Examples
        --------
        >>> m = BGNBD(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)
        >>> m.p_alive([0, 2, 2], [0, 30.43, 5.0], 38.86).round(3)
        array([1.   , 0.727, 0.124])
        """
        from scipy import special

        x, tx, age = _triples(frequency, recency, T, "BGNBD.p_alive")
        return _out(special.expit(-self._log_dropout_odds(x, tx, age)))

    def expected_purchases(self, t: Any, frequency: Any, recency: Any = None, T: Any = None) -> Any:
        """Expected purchases in the next ``t`` time units: E[Y(t) | x, t_x, T] (FHL 2005, eq. 10).

        Parameters
        ----------
        t : float or array_like
            Length of the forecast period (same unit as ``T``), non-negative.
        frequency, recency, T : array_like, or an rfm Table as ``frequency`` alone

        Returns
        -------
        float or ndarray

        Notes
        -----
        ``(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] /
        (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))`` with ``z = t/(alpha+T+t)``,
        in log space. Where the hypergeometric function overflows (many repeat purchases, long
        horizons) the equal expression from Euler's transformation, ``(1-z)^(a-1)
        2F1(a+b-1-r, a-1; a+b+x-1; z)``, replaces the product. ``a == 1`` is a removable
        singularity, evaluated as the mean of the values on each side.

        Examples
        --------
        >>> m = BGNBD(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)
        >>> m.expected_purchases([10, 52], 2, 30.43, 38.86).round(3)
        array([0.357, 1.559])
        """
        where = "BGNBD.expected_purchases"
        x, tx, age = _triples(frequency, recency, T, where)
        horizon = _column("t", t, where)
        _fail(where, "t", ~np.isfinite(horizon), horizon, "is not a finite number")
        _fail(where, "t", horizon < 0, horizon, "is negative")
        horizon, x, tx, age = np.broadcast_arrays(horizon, x, tx, age)
        if abs(self.a - 1.0) < 1e-5:
            sides = [self._conditional(horizon, x, tx, age, 1.0 + h) for h in (-1e-5, 1e-5)]
            return _out((sides[0] + sides[1]) / 2)
        return _out(self._conditional(horizon, x, tx, age, self.a))

    def expected_purchases_new(self, t: Any) -> Any:
        """Expected purchases of a new customer in a period of length ``t``: E[X(t)] (eq. 9).

        Examples
        --------
        >>> m = BGNBD(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)
        >>> m.expected_purchases_new([0, 10, 78]).round(3)
        array([0.   , 0.432, 1.858])
        """
        return self.expected_purchases(t, 0, 0, 0)

    def _log_dropout_odds(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.log(a / (b + x - 1)) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, odds, -np.inf)

    def _conditional(
        self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, a: float
    ) -> np.ndarray:
        from scipy import special

        r, alpha, b = self.r, self.alpha, self.b
        shape = np.shape(t)
        t, x, tx, T = (np.atleast_1d(v).ravel() for v in (t, x, tx, T))
        c = a + b + x - 1
        log_1mz = np.log(alpha + T) - np.log(alpha + T + t)  # log(1 - z)
        z = t / (alpha + T + t)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_term = (r + x) * log_1mz + np.log(special.hyp2f1(r + x, b + x, c, z))
            bad = ~np.isfinite(log_term)
            if bad.any():  # Euler: 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)
                h = special.hyp2f1(a + b - 1 - r, a - 1, c[bad], z[bad])
                log_term[bad] = (a - 1) * log_1mz[bad] + np.log(h)
        numerator = (c / (a - 1)) * -np.expm1(log_term)
        return (numerator * special.expit(-self._log_dropout_odds(x, tx, T))).reshape(shape)

    def summary(self) -> str:
        """Parameters, standard errors and fit statistics as readable text."""
        lines = ["BG/NBD model (Fader, Hardie & Lee 2005)"]
        if self.n_customers is not None:
            lines.append(f"customers: {self.n_customers:,.0f}")
        if self.log_likelihood is not None:
            status = {True: "converged", False: "did not converge", None: "not fitted"}
            how = f", {self.method}" if self.method else ""
            lines.append(
                f"log-likelihood: {self.log_likelihood:,.4f} ({status[self.converged]}{how})"
            )
        if self.penalizer:
            lines.append(f"penalizer: {self.penalizer:g}")
        lines.append(f"{'parameter':<10}{'estimate':>12}{'std. error':>12}")
        for name, se in zip(_NAMES, self.standard_errors or (None,) * 4):
            shown = "-" if se is None else f"{se:.4f}"
            lines.append(f"{name:<10}{getattr(self, name):>12.4f}{shown:>12}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        ll = "" if self.log_likelihood is None else f", log_likelihood={self.log_likelihood:.4f}"
        params = ", ".join(f"{n}={getattr(self, n):.4g}" for n in _NAMES)
        return f"BGNBD({params}{ll})"


def _out(values: np.ndarray) -> Any:
    return float(values) if values.ndim == 0 else values


# --------------------------------------------------------------------------- fitting


def _initial(initial: Any, scale: float) -> np.ndarray:
    if initial is None:
        return np.zeros(4)  # r = alpha = a = b = 1 on the rescaled times
    keyed = isinstance(initial, Mapping)
    values = [initial.get(k, math.nan) for k in _NAMES] if keyed else list(initial)
    ok = len(values) == 4 and (not keyed or set(initial) == set(_NAMES))
    if not ok or not all(
        isinstance(v, (int, float, np.number)) and 0 < v < math.inf for v in values
    ):
        msg = f"initial must be 4 positive numbers (r, alpha, a, b), got {initial!r}"
        raise ConfigError(msg)
    return np.log(np.asarray(values, dtype=float)) - np.array([0, math.log(scale), 0, 0])


def _standard_errors(theta: np.ndarray, d: _Fit) -> tuple[float, ...] | None:
    """From the inverse of the observed information, by differences of the gradient."""
    step, info = 1e-5, np.empty((4, 4))
    for i in range(4):
        e = np.eye(4)[i] * step
        info[i] = (_objective(theta + e, d)[1] - _objective(theta - e, d)[1]) / (2 * step)
    info = (info + info.T) / 2 * d.total  # Hessian of the summed negative log-likelihood
    if not np.all(np.isfinite(info)) or np.linalg.eigvalsh(info).min() <= 0:
        return None
    se = np.exp(theta) * np.sqrt(np.diag(np.linalg.inv(info)))  # delta method: dp = p dlog p
    return tuple(float(v) for v in se)


def _minimise(data: _Fit, theta0: np.ndarray) -> tuple[np.ndarray, str]:
    """L-BFGS-B with the analytic gradient; Nelder-Mead from where it stopped if it fails."""
    from scipy import optimize

    attempts: list[tuple[str, Any, dict[str, Any]]] = [
        (
            "L-BFGS-B",
            _objective,
            {
                "jac": True,
                "bounds": [(-_LOG_BOUND, _LOG_BOUND)] * 4,
                "options": {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000},
            },
        ),
        ("Nelder-Mead", _value, {"options": {"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12}}),
    ]
    tried, start = [], theta0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for method, fun, extra in attempts:
            res = optimize.minimize(fun, start, args=(data,), method=method, **extra)
            if res.success and np.all(np.isfinite(res.x)) and np.isfinite(res.fun):
                return np.asarray(res.x, dtype=float), method
            tried.append(f"{method}: {res.message}")
            start = res.x if np.all(np.isfinite(res.x)) else theta0
    msg = "the BG/NBD fit did not converge (" + "; ".join(tried) + ")"
    raise ConvergenceError(msg)


def fit_bgnbd(
    frequency: Any,
    recency: Any = None,
    T: Any = None,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    penalizer: float = 0.0,
    initial: Mapping[str, float] | Sequence[float] | None = None,
) -> BGNBD:
    """Fit a BG/NBD model by maximum likelihood (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    frequency : array_like of int, or a Table
        Repeat purchases ``x`` per customer. A :class:`~omnijourney.Table` with ``frequency``,
        ``recency`` and ``T`` columns (such as the result of :func:`rfm`) may be passed alone;
        its customers without any purchase (``T`` is NaN) are skipped.
    recency : array_like of float
        Time of the last repeat purchase ``t_x``, from the first purchase (0 when ``x == 0``).
    T : array_like of float
        Age: time from the first purchase to the end of observation. Any time unit; the fitted
        ``alpha`` is in that unit (days give 7 times the ``alpha`` of weeks).
    weights : array_like of float, optional
        Number of customers each row stands for (non-negative; zero-weight rows are ignored).
    penalizer : float, default 0
        L2 penalty ``penalizer * (r² + alpha² + a² + b²)`` added to the mean negative
        log-likelihood, as lifetimes does (``alpha`` on times rescaled so that
        ``max(T) = 10``). Helps when a parameter runs off.
    initial : mapping or sequence of 4 floats, optional
        Starting (r, alpha, a, b); default 1, 1, 1, 1 on the rescaled times.

    Returns
    -------
    BGNBD
        The fitted model, with ``log_likelihood`` (a sum over customers), ``n_customers`` and
        standard errors (None when the Hessian is not negative definite).

    Raises
    ------
    DataError
        Invalid data, naming the argument, the rows and their values: non-finite or negative
        values; a fractional ``frequency``; ``recency > T``; ``recency != 0`` when
        ``frequency == 0``; ``recency == 0`` when ``frequency > 0`` (repeat purchases at the
        instant of the first one, which the continuous-time model cannot produce: purchases
        were not grouped by period); bad weights; no data.
    ConvergenceError
        Nobody made a repeat purchase; the optimiser failed; or a parameter ran off (beyond
        1e±5 on the rescaled times): the likelihood has no interior maximum (for instance
        nobody seems to drop out).

    Notes
    -----
    Rows are collapsed to their distinct (x, t_x, T) triples with summed weights (added in
    ascending order: the fit does not depend on the row order, bit for bit). Times are
    rescaled so that ``max(T) = 10``; the log-parameters are optimised with L-BFGS-B and the
    analytic gradient, then with Nelder-Mead if that fails. A customer's log-likelihood is
    ``ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b) + ln[(α+T)^-(r+x) + 1{x>0}
    a/(b+x-1) (α+t_x)^-(r+x)]``, the last two terms added with ``logaddexp``.

    Examples
    --------
    Customers simulated from the model itself (r = 0.25, alpha = 4, a = 0.8, b = 2.5):

    >>> rng = np.random.default_rng(7)
    >>> n = 3000
    >>> rate, dropout = rng.gamma(0.25, 1 / 4.0, n), rng.beta(0.8, 2.5, n)
    >>> T = rng.uniform(1, 52, n)
    >>> opportunities = rng.poisson(rate * T)
    >>> x = np.minimum(opportunities, rng.geometric(dropout))  # drops out after a purchase
    >>> tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), opportunities - x + 1), 0.0)
    >>> model = fit_bgnbd(x, tx, T)
    >>> model.converged, model.n_customers, round(model.r, 2)
    (True, 3000.0, 0.26)
    >>> print(model.summary())  # doctest: +SKIP
    BG/NBD model (Fader, Hardie & Lee 2005)
    customers: 3,000
    log-likelihood: -10,994.7781 (converged, L-BFGS-B)
    parameter     estimate  std. error
    r               0.2623      0.0127
    alpha           4.2876      0.3259
    a               1.1727      0.3218
    b               4.2370      1.4451
    """
    where = "fit_bgnbd"
    if not (isinstance(penalizer, (int, float)) and 0 <= penalizer < math.inf):
        msg = f"penalizer must be a non-negative number, got {penalizer!r}"
        raise ConfigError(msg)
    x, tx, age = (v.ravel() for v in _triples(frequency, recency, T, where))
    w = np.ones(x.size)
    if weights is not None:
        w = _column("weights", weights, where)
        if w.shape not in ((), x.shape):
            msg = f"weights has shape {w.shape}, expected {x.shape} (one per customer)"
            raise DataError(msg, table=where, column="weights")
        w = np.broadcast_to(w, x.shape).astype(float)
        _fail(where, "weights", ~np.isfinite(w), w, "is not a finite number")
        _fail(where, "weights", w < 0, w, "is negative")
    keep = w > 0
    if not keep.any():
        msg = "no customers to fit (empty input or all weights zero)"
        raise DataError(msg, table=where)
    x, tx, age, w = x[keep], tx[keep], age[keep], w[keep]
    if not (x > 0).any():
        msg = "no customer made a repeat purchase: the BG/NBD likelihood has no maximum"
        raise ConvergenceError(msg)
    # distinct (x, t_x, T) triples and their summed weights, added in ascending order so
    # that the sums (and the fit) do not depend on the row order
    order = np.lexsort((w, age, tx, x))
    x, tx, age, w = x[order], tx[order], age[order], w[order]
    starts = np.flatnonzero(run_starts(x, tx, age))
    x, tx, age, w = x[starts], tx[starts], age[starts], np.add.reduceat(w, starts)
    scale = float(age.max()) / 10.0 if age.max() > 0 else 1.0
    data = _Fit.of(x, tx / scale, age / scale, w, float(penalizer))
    theta, method = _minimise(data, _initial(initial, scale))
    fitted = dict(zip(_NAMES, np.exp(theta) * np.array([1, scale, 1, 1])))
    runaway = [n for n, v in zip(_NAMES, theta) if abs(v) > _LOG_RUNAWAY]
    if runaway:
        shown = ", ".join(f"{n}={v:.3g}" for n, v in fitted.items())
        msg = (
            f"the BG/NBD fit has no interior maximum: {', '.join(runaway)} ran off ({shown}). "
            "Check that customers make repeat purchases and that some stop buying, or pass "
            "penalizer > 0"
        )
        raise ConvergenceError(msg)
    se = _standard_errors(theta, data)
    return BGNBD(
        **fitted,
        log_likelihood=_dot(
            w, _loglik(fitted["r"], fitted["alpha"], fitted["a"], fitted["b"], x, tx, age)
        ),
        n_customers=float(w.sum()),
        converged=True,
        method=method,
        penalizer=float(penalizer),
        standard_errors=None if se is None else (se[0], se[1] * scale, se[2], se[3]),
    )

"""Few treated units (stores that launched click and collect): synthetic control and
synthetic difference in differences, with placebo inference across the control units.

- Synthetic control (Abadie, Diamond & Hainmueller 2010): non-negative weights summing to one
  over the control units, so that their weighted outcome tracks the treated unit's before the
  change; the effect is the gap after it. Inference: each control unit in turn plays the
  treated one (placebos); the p-value is the rank of the treated unit's ratio of post- to
  pre-period root mean squared gaps among them.
- Synthetic difference in differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021):
  regularized unit weights with an intercept, time weights over the pre-periods, then a
  weighted difference in differences; placebo variance from pseudo-treated control units.

Weights are solved exactly as quadratic programs on the simplex (an active-set method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._display import TableResult
from omnijourney._random import as_generator
from omnijourney._validation import check_choice, check_positive_int
from omnijourney.errors import ConfigError, ConvergenceError, DataError
from omnijourney.metrics._bootstrap import ConfidenceInterval
from omnijourney.metrics._results import result_eq
from omnijourney.tables import Table

__all__ = ["SyntheticControl", "synthetic_control"]


def _signed(value: float) -> str:
    """An effect with its sign and three significant digits: "+1.25", "-0.031"."""
    return f"{value:+,.3g}"


@attrs.frozen(eq=False)
class SyntheticControl(TableResult):
    """The effect on a few treated units, against a synthetic control made of the others.

    Attributes
    ----------
    method : str
        ``"synthetic_control"`` or ``"synthetic_did"``.
    treated : tuple of str
        The treated units (several are averaged into one).
    start : str
        First treated period.
    estimate : float
        Average effect over the treated periods.
    std_error, low, high : float
        Placebo standard error (the standard deviation of the placebo estimates) and the
        normal interval ``estimate -/+ z * std_error`` at ``confidence_level``.
    p_value : float
        Synthetic control: rank of the treated ratio of post- to pre-period RMSPE among all
        units, ``(1 + placebos at least as large) / (1 + placebos)``. Synthetic DiD: share of
        placebo estimates at least as large in absolute value (with the same +1 correction).
    periods : tuple of str
    treated_outcome, synthetic_outcome : ndarray
        The treated units' (mean) outcome and its synthetic counterpart in every period.
    unit_weights : Table
        ``unit``, ``weight`` of each control unit (non-negative, summing to 1).
    time_weights : Table or None
        ``period``, ``weight`` of each pre-period (synthetic DiD).
    pre_rmspe, post_rmspe : float
        Root mean squared gap before and after the start.
    placebos : Table
        ``unit`` (the pseudo-treated units, joined by ``+``), ``estimate``, ``rmspe_ratio``.
    confidence_level : float
    """

    __eq__ = result_eq

    method: str
    treated: tuple[str, ...]
    start: str
    estimate: float
    std_error: float
    low: float
    high: float
    p_value: float
    periods: tuple[str, ...]
    treated_outcome: np.ndarray = attrs.field(repr=False)
    synthetic_outcome: np.ndarray = attrs.field(repr=False)
    unit_weights: Table = attrs.field(repr=False)
    time_weights: Table | None = attrs.field(repr=False)
    pre_rmspe: float
    post_rmspe: float
    placebos: Table = attrs.field(repr=False)
    confidence_level: float

    def confidence_interval(self) -> ConfidenceInterval:
        """The placebo interval of the estimate."""
        return ConfidenceInterval(self.low, self.high)

    @property
    def gap(self) -> np.ndarray:
        """Treated minus synthetic outcome in every period."""
        return self.treated_outcome - self.synthetic_outcome

    def summary(self) -> str:
        names = " + ".join(self.treated)
        label = "Synthetic control" if self.method == "synthetic_control" else "Synthetic DiD"
        top = self.unit_weights.to_dict()
        order = np.argsort(-top["weight"])[:3]
        donors = ", ".join(
            f"{top['unit'][i]} {top['weight'][i]:.2f}"
            for i in order.tolist()
            if top["weight"][i] > 0
        )
        pct = f"{100 * self.confidence_level:g}%"
        span = fmt.interval(self.low, self.high, formatter=_signed)
        text = (
            f"{label}: from {self.start} the outcome of {names} moved by {self.estimate:+,.3g} "
            f"a period against its synthetic control ({pct} placebo interval {span}; "
            f"placebo p-value {self.p_value:.3f} over "
            f"{len(self.placebos)} placebos). Main donors: {donors}. Pre-period fit: RMSPE "
            f"{self.pre_rmspe:,.3g}."
        )
        if self.low <= 0 <= self.high:
            text += " The interval includes zero: no effect is detected."
        return text

    def to_pandas(self) -> Any:
        """Per period: ``treated``, ``synthetic`` and ``gap``."""
        from omnijourney._optional import import_optional

        pd = import_optional("pandas", "pandas")
        return pd.DataFrame(
            {"treated": self.treated_outcome, "synthetic": self.synthetic_outcome, "gap": self.gap},
            index=pd.Index(list(self.periods), name="period"),
        )

    def __repr__(self) -> str:
        return "SyntheticControl: " + self.summary()


# --------------------------------------------------------------------------- solvers


def simplex_least_squares(a: np.ndarray, b: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """``argmin ||a w - b||^2 + ridge ||w||^2`` over ``w >= 0``, ``sum(w) = 1``.

    A primal active-set method (Lawson & Hanson's, with the simplex's equality): the free
    weights solve the equality-constrained problem exactly (KKT system, least squares when
    donors are collinear); a weight leaves when it would turn negative, and a weight enters
    while one has a lower gradient than the free ones. Exact in a finite number of steps.
    """
    n = a.shape[1]
    if n == 1:
        return np.ones(1)
    scale = max(float(np.abs(a).max()), 1e-300)
    a_s, b_s = a / scale, b / scale
    gram = a_s.T @ a_s + (ridge / scale**2) * np.eye(n)
    lin = a_s.T @ b_s
    tol = 1e-12 * max(float(np.abs(gram).max()), 1.0)
    # start at the best single donor
    objective = np.diag(gram) - 2 * lin
    w = np.zeros(n)
    w[int(np.argmin(objective))] = 1.0
    free = w > 0
    for _ in range(50 * n):
        g = gram @ w - lin
        level = float(g[free].mean())
        outside = np.flatnonzero(~free)
        if outside.size == 0 or g[outside].min() >= level - tol:
            break
        free[outside[np.argmin(g[outside])]] = True
        for _ in range(n + 1):
            idx = np.flatnonzero(free)
            k = idx.size
            kkt = np.zeros((k + 1, k + 1))
            kkt[:k, :k] = gram[np.ix_(idx, idx)]
            kkt[:k, k] = kkt[k, :k] = 1.0
            rhs = np.append(lin[idx], 1.0)
            z = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:k]
            if np.all(z > 0):
                w[:] = 0.0
                w[idx] = z
                break
            cur = w[idx]
            neg = z <= 0
            step = np.min(cur[neg] / (cur[neg] - z[neg]))
            w[idx] = cur + step * (z - cur)
            w[w < 1e-15] = 0.0
            free = w > 0
    else:
        msg = "synthetic control weights: the active-set method did not converge"
        raise ConvergenceError(msg)
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def _centred(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An intercept in the fit: centre the rows of the design over the fitted dimension."""
    return a - a.mean(axis=0), b - b.mean()


def _sc_fit(
    y_co: np.ndarray, y_tr: np.ndarray, t0: int
) -> tuple[float, np.ndarray, np.ndarray, None]:
    """Synthetic control: (estimate, synthetic series, unit weights, no time weights)."""
    w = simplex_least_squares(y_co[:, :t0].T, y_tr[:t0], ridge=0.0)
    synth = w @ y_co
    return float((y_tr[t0:] - synth[t0:]).mean()), synth, w, None


def _sdid_fit(
    y_co: np.ndarray, y_tr: np.ndarray, t0: int, n_treated: int
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic DiD (Arkhangelsky et al. 2021, Algorithm 1)."""
    n_co, t = y_co.shape
    t_post = t - t0
    diffs = np.diff(y_co[:, :t0], axis=1)
    noise = float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0
    zeta = (n_treated * t_post) ** 0.25 * noise
    a, b = _centred(y_co[:, :t0].T, y_tr[:t0])
    omega = simplex_least_squares(a, b, ridge=zeta**2 * t0)
    post_mean = y_co[:, t0:].mean(axis=1)
    a_l, b_l = _centred(y_co[:, :t0], post_mean)
    lam = simplex_least_squares(a_l, b_l, ridge=(1e-6 * noise) ** 2 * n_co)
    tr_post = y_tr[t0:].mean()
    co_post = omega @ post_mean
    tau = (tr_post - lam @ y_tr[:t0]) - (co_post - omega @ (y_co[:, :t0] @ lam))
    synth_raw = omega @ y_co
    shift = lam @ (y_tr[:t0] - synth_raw[:t0])
    return float(tau), synth_raw + shift, omega, lam


# --------------------------------------------------------------------------- inputs


def _matrix(
    outcomes: Any, kpi: str | None, unit: str | None
) -> tuple[np.ndarray, list[str], list[str]]:
    """(units x periods) outcomes, unit labels, period labels in time order."""
    from omnijourney.metrics._kpis import KPITable

    if isinstance(outcomes, KPITable):
        table = outcomes.table
        if kpi is None:
            kpis = table["kpi"]
            if np.unique(kpis).size != 1:
                msg = "synthetic_control: name the KPI with kpi= (the KPI table holds several)"
                raise ConfigError(msg)
            kpi = str(kpis[0])
        sel = table["kpi"] == kpi
        if not sel.any():
            msg = f"synthetic_control: no KPI {kpi!r} in the table"
            raise ConfigError(msg)
        keys = [k for k in outcomes.by if k != "period"]
        if unit is None:
            if len(keys) != 1:
                msg = f"synthetic_control: name the unit column with unit= (keys are {keys})"
                raise ConfigError(msg)
            unit = keys[0]
        units = table[unit][sel]
        periods = table["period"][sel]
        values = table["value"][sel]
        order_p = [p for p in outcomes.periods.labels]
    else:
        t = outcomes if isinstance(outcomes, Table) else Table.from_columns(outcomes)
        unit = unit or "unit"
        for col in (unit, "period", "value"):
            if col not in t.columns:
                msg = (
                    "synthetic_control needs a KPITable, or a table with 'unit', 'period' and "
                    f"'value' columns; it has no {col!r} (columns are {list(t.columns)})"
                )
                raise ConfigError(msg)
        units, periods, values = t[unit], t["period"], np.asarray(t["value"], dtype=np.float64)
        order_p = sorted({str(p) for p in periods.tolist()})
    unit_labels = sorted({str(u) for u in units.tolist() if u is not None})
    u_pos = {u: i for i, u in enumerate(unit_labels)}
    p_pos = {p: i for i, p in enumerate(order_p)}
    y = np.full((len(unit_labels), len(order_p)), np.nan)
    for u, p, v in zip(units.tolist(), periods.tolist(), np.asarray(values, dtype=float).tolist()):
        if u is None:
            continue
        y[u_pos[str(u)], p_pos[str(p)]] = v
    holes = np.argwhere(~np.isfinite(y))
    if holes.size:
        shown = ", ".join(f"{unit_labels[i]} in {order_p[j]}" for i, j in holes[:5].tolist())
        msg = (
            f"synthetic_control needs an outcome for every unit and period; {len(holes)} are "
            f"missing or NaN ({shown})"
        )
        raise DataError(msg, table="outcomes", column="value")
    return y, unit_labels, order_p


def synthetic_control(
    outcomes: Any,
    treated: str | Sequence[str],
    start: str,
    *,
    kpi: str | None = None,
    unit: str | None = None,
    method: Literal["synthetic_control", "synthetic_did"] = "synthetic_did",
    confidence_level: float = 0.95,
    n_placebos: int = 200,
    seed: Any = 0,
) -> SyntheticControl:
    """The effect of a change on a few treated units (stores, regions), against the others.

    Parameters
    ----------
    outcomes : KPITable or table
        One outcome per unit and period: a :class:`KPITable` split by the unit column (e.g.
        ``kpis(journeys, "basket", by="store", period="week")``), or rows of ``unit``,
        ``period`` and ``value`` (periods in the order of their sorted labels).
    treated : str or sequence of str
        The treated unit(s); several are averaged into one.
    start : str
        The first period under treatment; every period before it is a pre-period.
    kpi, unit : str, optional
        Which KPI and which key of a KPI table (needed when it holds several).
    method : {"synthetic_did", "synthetic_control"}
        Synthetic difference in differences (default; robust to level differences and to
        trends that parallel trends miss) or the classic synthetic control.
    confidence_level : float
    n_placebos : int
        With several treated units, placebos draw that many random sets of control units
        (seeded); with one, every control unit is a placebo once.
    seed : int or numpy.random.Generator

    Returns
    -------
    SyntheticControl

    Raises
    ------
    ConfigError
        An unknown unit or start period; fewer than two control units.
    DataError
        A missing outcome; no pre-period (``start`` is the first period); no post-period.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(100, 10, (8, 1)) + np.linspace(0, 5, 12) + rng.normal(0, 0.5, (8, 12))
    >>> base[0, 8:] += 4.0  # store s0 gets +4 from period 8 on
    >>> rows = {"unit": [f"s{i}" for i in range(8) for _ in range(12)],
    ...         "period": [f"p{t:02d}" for _ in range(8) for t in range(12)],
    ...         "value": base.ravel()}
    >>> res = synthetic_control(rows, "s0", "p08")
    >>> bool(2.5 < res.estimate < 5.5), round(float(res.unit_weights["weight"].sum()), 6)
    (True, 1.0)
    """
    check_choice(method, "method", ("synthetic_control", "synthetic_did"))
    check_positive_int(n_placebos, "n_placebos")
    if isinstance(confidence_level, bool) or not 0 < confidence_level < 1:
        msg = f"The 'confidence_level' parameter must be a number in (0, 1). Got {confidence_level!r} instead."
        raise ConfigError(msg)
    y, units, periods = _matrix(outcomes, kpi, unit)
    treated_list = [treated] if isinstance(treated, str) else [str(t) for t in treated]
    for t in treated_list:
        if t not in units:
            msg = f"synthetic_control: no unit {t!r}; units are {units}"
            raise ConfigError(msg)
    if str(start) not in periods:
        msg = f"synthetic_control: no period {start!r}; periods are {periods}"
        raise ConfigError(msg)
    t0 = periods.index(str(start))
    if t0 == 0:
        msg = (
            f"synthetic_control: {start!r} is the first period; the treated units need a pre-period"
        )
        raise DataError(msg, table="outcomes", column="period")
    is_tr = np.array([u in treated_list for u in units])
    controls = [u for u in units if u not in treated_list]
    if len(controls) < 2:
        msg = f"synthetic_control needs at least two control units, got {len(controls)}"
        raise ConfigError(msg)
    y_co, y_tr = y[~is_tr], y[is_tr].mean(axis=0)
    k = int(is_tr.sum())

    def fit(yc: np.ndarray, yt: np.ndarray, n_tr: int) -> tuple[float, np.ndarray, np.ndarray, Any]:
        if method == "synthetic_control":
            return _sc_fit(yc, yt, t0)
        return _sdid_fit(yc, yt, t0, n_tr)

    est, synth, w, lam = fit(y_co, y_tr, k)

    def ratio(yt: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
        gap = yt - s
        pre = float(np.sqrt(np.mean(gap[:t0] ** 2)))
        post = float(np.sqrt(np.mean(gap[t0:] ** 2)))
        return pre, post, post / pre if pre > 0 else np.inf

    pre, post, r_tr = ratio(y_tr, synth)
    rng = as_generator(seed)
    n_co = y_co.shape[0]
    if k == 1 or k >= n_co:
        sets = [[j] for j in range(n_co)]
    else:
        sets = [sorted(rng.choice(n_co, size=k, replace=False).tolist()) for _ in range(n_placebos)]
    p_units, p_est, p_ratio = [], [], []
    for s in sets:
        mask = np.zeros(n_co, dtype=bool)
        mask[s] = True
        if (~mask).sum() < 1:
            continue
        e, sy, _, _ = fit(y_co[~mask], y_co[mask].mean(axis=0), len(s))
        p_units.append("+".join(controls[j] for j in s))
        p_est.append(e)
        p_ratio.append(ratio(y_co[mask].mean(axis=0), sy)[2])
    p_est_a, p_ratio_a = np.asarray(p_est), np.asarray(p_ratio)
    se = float(np.std(p_est_a, ddof=1)) if p_est_a.size > 1 else float("nan")
    from scipy.special import ndtri

    z = float(ndtri(0.5 + confidence_level / 2))
    if method == "synthetic_control":
        p_value = (1 + int((p_ratio_a >= r_tr).sum())) / (1 + p_ratio_a.size)
    else:
        p_value = (1 + int((np.abs(p_est_a) >= abs(est)).sum())) / (1 + p_est_a.size)
    return SyntheticControl(
        method=method,
        treated=tuple(treated_list),
        start=str(start),
        estimate=est,
        std_error=se,
        low=est - z * se,
        high=est + z * se,
        p_value=float(p_value),
        periods=tuple(periods),
        treated_outcome=y_tr,
        synthetic_outcome=synth,
        unit_weights=Table.from_columns(
            {"unit": np.array(controls, dtype=object), "weight": w}, kinds={"unit": "category"}
        ),
        time_weights=None
        if lam is None
        else Table.from_columns(
            {"period": np.array(periods[:t0], dtype=object), "weight": lam},
            kinds={"period": "category"},
        ),
        pre_rmspe=pre,
        post_rmspe=post,
        placebos=Table.from_columns(
            {
                "unit": np.array(p_units, dtype=object),
                "estimate": p_est_a,
                "rmspe_ratio": p_ratio_a,
            },
            kinds={"unit": "category"},
        ),
        confidence_level=float(confidence_level),
    )

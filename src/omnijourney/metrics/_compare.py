"""Comparisons with intervals: before/after, test/control, difference in differences, CUPED.

The estimate is a function of per-group sums over customers (see ``_bootstrap``); its interval
comes from resampling the customers, the unit that was assigned, within each group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._display import TableResult
from omnijourney._random import as_generator
from omnijourney._validation import check_choice
from omnijourney.errors import ConfigError, DataError
from omnijourney.metrics._bootstrap import (
    ConfidenceInterval,
    check_bootstrap_options,
    customer_bootstrap,
)
from omnijourney.metrics._kpis import format_value
from omnijourney.metrics._panel import Panel, kpi_kind, panel_from_journeys, panel_from_table
from omnijourney.metrics._results import result_eq
from omnijourney.metrics._source import customer_mapping
from omnijourney.metrics._units import KPIS
from omnijourney.tables import Table

__all__ = ["DESIGNS", "Comparison", "compare"]

#: The designs :func:`compare` runs.
DESIGNS = ("before_after", "test_control", "difference_in_differences")
_CONTROL_NAMES = ("control", "holdout", "hold-out", "hold_out")


def format_effect(kpi: str, value: float, *, relative: bool = False) -> str:
    """A signed difference: points for rates, the KPI's unit otherwise, % for relative."""
    if value != value:
        return "n/a"
    if relative:
        return f"{100 * value:+.1f}%"
    kind = kpi_kind(kpi)
    if kind == "rate":
        return f"{100 * value:+.2f} points"
    return f"{value:+,.2f}"


def _effect(kpi: str, relative: bool = False) -> Any:
    """:func:`format_effect` for one KPI, to write both ends of an interval."""
    return lambda value: format_effect(kpi, value, relative=relative)


def describe(kpi: str) -> str:
    text = KPIS[kpi].description if kpi in KPIS else kpi.replace("_", " ")
    return text[:1].upper() + text[1:]


@attrs.frozen(eq=False)
class Comparison(TableResult):
    """A KPI compared between periods, groups, or both, with a customer-bootstrap interval.

    Attributes
    ----------
    kpi : str
    design : str
        ``"before_after"``, ``"test_control"`` or ``"difference_in_differences"``.
    estimate : float
        The effect: after - before; treated - control; or (treated after - treated before)
        - (control after - control before).
    low, high : float
        Its interval at ``confidence_level``.
    relative, relative_low, relative_high : float
        The effect over the baseline (before; control; for the difference in differences,
        the treated group's counterfactual: treated before + control's change) and its
        interval.
    std_error : float
        Standard deviation of the bootstrap replicates of the estimate.
    cells : Table
        ``group``, ``period``, ``customers``, ``numerator``, ``denominator``, ``value`` of
        each cell of the design.
    replicates : ndarray
        The estimate on each resample (NaN where a group had no unit).
    treated, control, before, after : str or None
        The labels compared.
    covariate : str or None
        CUPED's pre-period covariate (``"before"`` or ``"given"``), None without CUPED.
    theta : float or None
        CUPED's ``cov(X, Y) / var(X)``.
    variance_reduction : float or None
        ``1 - var(CUPED estimate) / var(raw estimate)`` over the same resamples.
    raw_estimate : float or None
        The difference without CUPED.
    confidence_level, method, resampling, n_resamples
        How the interval was computed.
    seed : int or None
        The integer seed (None when a Generator was given).
    """

    __eq__ = result_eq

    kpi: str
    design: str
    estimate: float
    low: float
    high: float
    relative: float
    relative_low: float
    relative_high: float
    std_error: float
    cells: Table
    replicates: np.ndarray = attrs.field(repr=False)
    treated: str | None
    control: str | None
    before: str | None
    after: str | None
    covariate: str | None
    theta: float | None
    variance_reduction: float | None
    raw_estimate: float | None
    confidence_level: float
    method: str
    resampling: str
    n_resamples: int
    seed: int | None = attrs.field(eq=False, repr=False)

    def confidence_interval(self) -> ConfidenceInterval:
        """The interval of the estimate, as ``(low, high)``."""
        return ConfidenceInterval(self.low, self.high)

    def relative_interval(self) -> ConfidenceInterval:
        """The interval of the relative effect."""
        return ConfidenceInterval(self.relative_low, self.relative_high)

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return bool(self.low > 0 or self.high < 0)

    def _cell(self, group: str | None, period: str | None) -> float:
        g = self.cells["group"]
        p = self.cells["period"]
        mask = np.ones(len(self.cells), dtype=bool)
        if group is not None:
            mask &= g == group
        if period is not None:
            mask &= p == period
        return float(self.cells["value"][mask][0])

    def summary(self) -> str:
        """The result in one or two plain sentences."""
        k = self.kpi
        pct = f"{100 * self.confidence_level:g}%"
        ivl = (
            f"{pct} interval {fmt.interval(self.low, self.high, formatter=_effect(k))}; "
            f"{format_effect(k, self.relative, relative=True)}, {pct} interval "
            f"{fmt.interval(self.relative_low, self.relative_high, formatter=_effect(k, True))}"
        )

        def v(x: float) -> str:
            return format_value(k, x)

        if self.design == "before_after":
            vb, va = self._cell(None, self.before), self._cell(None, self.after)
            verb = "rose" if va > vb else ("fell" if va < vb else "stayed")
            text = (
                f"{describe(k)} {verb} from {v(vb)} ({self.before}) to {v(va)} ({self.after}): "
                f"{format_effect(k, self.estimate)} ({ivl})."
            )
        elif self.design == "test_control":
            period = self.after
            vt, vc = self._cell(self.treated, period), self._cell(self.control, period)
            text = (
                f"{describe(k)} is {v(vt)} for {self.treated} against {v(vc)} for "
                f"{self.control}: {format_effect(k, self.estimate)} ({ivl})."
            )
        else:
            tb, ta = self._cell(self.treated, self.before), self._cell(self.treated, self.after)
            cb, ca = self._cell(self.control, self.before), self._cell(self.control, self.after)
            text = (
                f"{describe(k)} changed by {format_effect(k, self.estimate)} more for "
                f"{self.treated} than for {self.control} (difference in differences, {ivl}): "
                f"{self.treated} went from {v(tb)} to {v(ta)}, {self.control} from {v(cb)} "
                f"to {v(ca)}."
            )
        if not self.significant:
            text += " The interval includes zero: no effect is detected."
        if self.theta is not None and self.variance_reduction is not None:
            text += (
                f" CUPED on the {self.covariate} covariate (theta {self.theta:.3g}) cut the "
                f"variance by {100 * self.variance_reduction:.0f}% (without it: "
                f"{format_effect(k, self.raw_estimate or np.nan)})."
            )
        return text

    def __repr__(self) -> str:
        return f"Comparison({self.design}, {self.kpi}): {self.summary()}"

    def to_pandas(self) -> Any:
        """The effect and the relative effect with their intervals, one row each."""
        from omnijourney._optional import import_optional

        pd = import_optional("pandas", "pandas")
        return pd.DataFrame(
            {
                "estimate": [self.estimate, self.relative],
                "low": [self.low, self.relative_low],
                "high": [self.high, self.relative_high],
            },
            index=pd.Index(["effect", "relative_effect"], name=self.kpi),
        )


# --------------------------------------------------------------------------- statistics


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _before_after(s: np.ndarray) -> np.ndarray:
    mb, ma = _ratio(s[:, 0, 0], s[:, 0, 1]), _ratio(s[:, 0, 2], s[:, 0, 3])
    eff = ma - mb
    return np.stack([eff, eff / mb], axis=1)


def _test_control(s: np.ndarray) -> np.ndarray:
    mt, mc = _ratio(s[:, 0, 0], s[:, 0, 1]), _ratio(s[:, 1, 0], s[:, 1, 1])
    eff = mt - mc
    return np.stack([eff, eff / mc], axis=1)


def _did(s: np.ndarray) -> np.ndarray:
    tb, ta = _ratio(s[:, 0, 0], s[:, 0, 1]), _ratio(s[:, 0, 2], s[:, 0, 3])
    cb, ca = _ratio(s[:, 1, 0], s[:, 1, 1]), _ratio(s[:, 1, 2], s[:, 1, 3])
    eff = (ta - tb) - (ca - cb)
    return np.stack([eff, eff / (tb + ca - cb)], axis=1)


def _cuped(s: np.ndarray) -> np.ndarray:
    """Columns y, 1, x, x^2, x*y per group (treated 0, control 1)."""
    n = s[:, :, 1]
    tot = s.sum(axis=1)
    nn = tot[:, 1]
    var_x = tot[:, 3] - tot[:, 2] ** 2 / nn
    cov = tot[:, 4] - tot[:, 2] * tot[:, 0] / nn
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = np.where(var_x > 0, cov / np.where(var_x > 0, var_x, 1.0), 0.0)
        xbar = tot[:, 2] / nn
        my = s[:, :, 0] / n
        mx = s[:, :, 2] / n
    adj = my - theta[:, None] * (mx - xbar[:, None])
    eff = adj[:, 0] - adj[:, 1]
    raw = my[:, 0] - my[:, 1]
    return np.stack([eff, eff / adj[:, 1], raw, raw / my[:, 1], theta], axis=1)


# --------------------------------------------------------------------------- design


def _pick_groups(panel: Panel, treated: Any, control: Any) -> tuple[str, str]:
    labels = [str(x) for x in panel.group_labels.tolist()]
    for name, value in (("treated", treated), ("control", control)):
        if value is not None and str(value) not in labels:
            msg = f"compare: no group {value!r} ({name}); the groups are {labels}"
            raise ConfigError(msg)
    if control is None:
        found = [g for g in labels if g.lower() in _CONTROL_NAMES and str(g) != str(treated)]
        if len(found) == 1:
            control = found[0]
        elif len(labels) == 2 and treated is not None:
            control = next(g for g in labels if g != str(treated))
        else:
            msg = f"compare: name the control group with control= (the groups are {labels})"
            raise ConfigError(msg)
    if treated is None:
        others = [g for g in labels if g != str(control)]
        if len(others) != 1:
            msg = f"compare: name the treated group with treated= (the groups are {labels})"
            raise ConfigError(msg)
        treated = others[0]
    if str(treated) == str(control):
        msg = f"compare: the treated and control groups are both {treated!r}"
        raise ConfigError(msg)
    return str(treated), str(control)


def _pick_periods(panel: Panel, before: Any, after: Any, needed: int) -> tuple[str | None, str]:
    labels = list(panel.periods)
    for name, value in (("before", before), ("after", after)):
        if value is not None and str(value) not in labels:
            msg = f"compare: no period {value!r} ({name}); the periods are {labels}"
            raise ConfigError(msg)
    if needed == 1:
        if after is None:
            if len(labels) != 1:
                msg = f"compare: name the period to compare with after= (the periods are {labels})"
                raise ConfigError(msg)
            after = labels[0]
        return (None if before is None else str(before)), str(after)
    if before is None and after is None:
        if len(labels) != 2:
            msg = (
                "compare: name the periods with before= and after= (or give exactly two "
                f"periods); the periods are {labels}"
            )
            raise ConfigError(msg)
        before, after = labels
    elif before is None or after is None:
        msg = "compare: give both before= and after="
        raise ConfigError(msg)
    if str(before) == str(after):
        msg = f"compare: before and after are both {before!r}"
        raise ConfigError(msg)
    return str(before), str(after)


def _covariate_values(panel: Panel, covariate: Any, before: str | None) -> tuple[np.ndarray, str]:
    if isinstance(covariate, str) and covariate == "before":
        if before is None:
            msg = "compare: covariate='before' needs a before= period (the pre-period)"
            raise ConfigError(msg)
        j = panel.periods.index(before)
        return panel.num[:, j] / np.where(panel.den[:, j] > 0, panel.den[:, j], 1.0), "before"
    if isinstance(covariate, (Mapping, Table)) or hasattr(covariate, "columns"):
        ids, vals = customer_mapping(covariate, "covariate", "compare", "covariate")
        lookup = dict(zip(ids.tolist(), vals.tolist()))
        missing = [c for c in panel.customers.tolist() if c not in lookup]
        if missing:
            msg = f"compare: {len(missing):,} customers have no covariate value (first: {missing[:5]})"
            raise ConfigError(msg)
        return np.array([float(lookup[c]) for c in panel.customers.tolist()]), "given"
    msg = (
        "The 'covariate' parameter must be 'before', a mapping of customer -> value, or a "
        f"table with 'customer' and 'covariate' columns. Got {covariate!r} instead."
    )
    raise ConfigError(msg)


def _cells(panel: Panel, groups: list[str], periods: list[str], code: np.ndarray) -> Table:
    rows: dict[str, list[Any]] = {
        k: [] for k in ("group", "period", "customers", "numerator", "denominator", "value")
    }
    for gi, g in enumerate(groups):
        sel = code == gi
        for p in periods:
            j = panel.periods.index(p)
            num = float(panel.num[sel, j].sum())
            den = float(panel.den[sel, j].sum())
            rows["group"].append(g)
            rows["period"].append(p)
            rows["customers"].append(int(sel.sum()))
            rows["numerator"].append(num)
            rows["denominator"].append(den)
            rows["value"].append(num / den if den > 0 else np.nan)
            if den <= 0:
                what = f"group {g!r} in period {p!r}" if len(groups) > 1 else f"period {p!r}"
                msg = (
                    f"compare: {what} has no {panel.kpi} unit (zero denominator over "
                    f"{int(sel.sum()):,} customers); there is nothing to compare"
                )
                raise DataError(msg, table="panel", column="denominator")
    return Table.from_columns(
        rows, kinds={"group": "category", "period": "category", "customers": "int"}
    )


def compare(
    data: Any,
    kpi: str | None = None,
    *,
    period: Any = None,
    before: str | None = None,
    after: str | None = None,
    groups: Any = None,
    treated: str | None = None,
    control: str | None = None,
    design: Literal["auto", "before_after", "test_control", "difference_in_differences"] = "auto",
    covariate: Any = None,
    tz: str = "UTC",
    responses: Any = None,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    method: Literal["percentile", "bca"] = "percentile",
    resampling: Literal["multinomial", "poisson"] = "multinomial",
    seed: Any = 0,
) -> Comparison:
    """Compare a KPI between periods, groups, or both, with a customer-bootstrap interval.

    Parameters
    ----------
    data : JourneyTable or table of per-customer values
        Journeys (then ``kpi`` names one of :data:`KPIS`), or rows of ``customer``,
        ``period``, ``numerator``, optional ``denominator`` (default 1 per customer and
        period: a per-customer mean in which customers without a row count zero) and
        optional ``group``, as a Table, a mapping of columns or a DataFrame.
    kpi : str
        The KPI (required with journeys).
    period : str or mapping, optional
        With journeys, the periods (as in :func:`kpis`): typically ``{"before": (start,
        end), "after": (start, end)}``; None for the whole data as one period.
    before, after : str, optional
        The periods compared (default: the two periods there are).
    groups : mapping or table, optional
        With journeys, customer -> group (e.g. the table of :func:`assign_holdout`);
        customers of the mapping without touchpoints are part of the design and count zero.
        Customers not in the mapping are left out.
    treated, control : str, optional
        The groups compared; the control defaults to a group named ``control`` or
        ``holdout``.
    design : {"auto", "before_after", "test_control", "difference_in_differences"}
        ``"auto"``: before/after without groups, test/control with groups and one period
        (or with a covariate), the difference in differences with groups and two periods.
    covariate : "before" or mapping, optional
        CUPED (Deng et al. 2013) in a test/control comparison of the ``after`` period:
        ``"before"`` uses each customer's KPI in the ``before`` period, a mapping or a table
        (``customer``, ``covariate``) gives one value per customer. ``Y' = Y - theta (X -
        mean X)`` with ``theta = cov(X, Y) / var(X)`` over both groups, re-estimated on each
        resample. Needs a per-customer KPI (``spend_per_customer``, ``buyer_rate``...).
    tz : str
        Time zone of the periods.
    responses : table, optional
        Survey answers for the survey KPIs.
    confidence_level : float
        Default 0.95.
    n_resamples : int
        Bootstrap resamples of customers (default 1,000).
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (Efron 1987).
    resampling : {"multinomial", "poisson"}
        ``"multinomial"`` (default): the classical bootstrap, each group's customers drawn
        with replacement as many times as there are; ``"poisson"``: an independent
        Poisson(1) count per customer (the Poisson bootstrap, about 25% cheaper; the number
        of customers of a resample varies, and intervals agree with the classical ones to
        ``O(1/n)``). Either way every resample is drawn independently of the others.
    seed : int or numpy.random.Generator
        Same seed, same interval (whatever the machine's number of CPUs: each resample
        has its own random stream).

    Returns
    -------
    Comparison

    Raises
    ------
    ConfigError
        Unknown KPI, period, group or option.
    DataError
        A group or a period of the design without any unit (a zero denominator), a treated
        group without data in the before period.

    Notes
    -----
    The difference in differences (Card & Krueger 1994) equals the interaction coefficient
    of an OLS of the KPI on group, period and group x period (weighted by the
    denominators); it assumes that both groups would have moved in parallel without the
    treatment, which :func:`kpis` per period and group lets you check before the change.

    Examples
    --------
    >>> rows = {"customer": ["a", "a", "b", "b", "c", "c", "d", "d"],
    ...         "period": ["before", "after"] * 4,
    ...         "numerator": [10.0, 14.0, 8.0, 12.0, 9.0, 10.0, 11.0, 12.0],
    ...         "group": ["test"] * 4 + ["control"] * 4}
    >>> res = compare(rows, "spend", n_resamples=200, resampling="multinomial", seed=1)
    >>> res.design, res.estimate
    ('difference_in_differences', 3.0)
    >>> res.low <= 3.0 <= res.high
    True
    """
    check_bootstrap_options(n_resamples, confidence_level, method, resampling)
    check_choice(design, "design", ("auto", *DESIGNS))
    rng = as_generator(seed)
    from omnijourney.journeys import JourneyTable

    if isinstance(data, JourneyTable):
        if kpi is None:
            msg = "compare: name the KPI to compare with kpi= (see omnijourney.metrics.KPIS)"
            raise ConfigError(msg)
        panel, _ = panel_from_journeys(
            data, kpi, period=period, tz=tz, groups=groups, responses=responses
        )
    else:
        if groups is not None or period is not None:
            msg = "compare: groups= and period= apply to journeys; a table of values carries its own 'group' and 'period' columns"
            raise ConfigError(msg)
        panel = panel_from_table(data, kpi)
    has_groups = groups is not None or panel.group_labels.size > 1 or panel.group_labels[0] != "all"
    if design == "auto":
        if not has_groups:
            design = "before_after"
        elif (
            covariate is not None
            or len(panel.periods) == 1
            or (after is not None and before is None)
        ):
            design = "test_control"
        else:
            design = "difference_in_differences"
    if design != "before_after" and not has_groups:
        msg = f"compare: a {design.replace('_', ' ')} comparison needs groups"
        raise ConfigError(msg)
    if covariate is not None and design != "test_control":
        msg = "compare: CUPED (covariate=) applies to a test/control comparison"
        raise ConfigError(msg)
    if covariate is not None and not panel.per_customer:
        msg = (
            f"compare: CUPED needs a per-customer KPI (one denominator per customer), and "
            f"{panel.kpi!r} is a ratio over {KPIS[panel.kpi].unit if panel.kpi in KPIS else 'units'}s"
        )
        raise ConfigError(msg)

    if design == "before_after":
        b, a = _pick_periods(panel, before, after, 2)
        assert b is not None
        t_label = c_label = None
        code = (
            np.where(panel.group >= 0, 0, -1)
            if has_groups
            else np.zeros(panel.customers.size, np.int64)
        )
        group_names = ["all"]
        cols = [b, a]
    else:
        t_label, c_label = _pick_groups(panel, treated, control)
        labels = [str(x) for x in panel.group_labels.tolist()]
        gt, gc = labels.index(t_label), labels.index(c_label)
        code = np.where(panel.group == gt, 0, np.where(panel.group == gc, 1, -1))
        group_names = [t_label, c_label]
        if design == "test_control":
            b, a = _pick_periods(panel, before, after, 1)
            cols = [a]
        else:
            b, a = _pick_periods(panel, before, after, 2)
            assert b is not None
            cols = [b, a]
    keep = code >= 0
    for gi, g in enumerate(group_names):
        if not (code == gi).any():
            msg = f"compare: group {g!r} has no customer"
            raise DataError(msg, table="panel", column="group")
    if design == "difference_in_differences":
        j = panel.periods.index(str(b))
        if panel.den[code == 0, j].sum() <= 0:
            msg = (
                f"compare: the treated group {t_label!r} has no {panel.kpi} unit in the before "
                f"period {b!r}; a difference in differences needs a pre-period for both groups"
            )
            raise DataError(msg, table="panel", column="period")
    cells = _cells(panel, group_names, cols, code)
    idx = [panel.periods.index(p) for p in cols]
    customers = np.flatnonzero(keep)
    strata = code[customers]
    cov_name = None
    if covariate is not None:
        x, cov_name = _covariate_values(panel, covariate, b)
        y = panel.num[customers, idx[0]]
        xx = x[customers]
        values = np.stack([y, np.ones(y.size), xx, xx * xx, xx * y], axis=1)
        statistic = _cuped
    else:
        parts = []
        for j in idx:
            parts += [panel.num[customers, j], panel.den[customers, j]]
        values = np.stack(parts, axis=1)
        statistic = {"before_after": _before_after, "test_control": _test_control}.get(design, _did)
    n_strata = len(group_names)
    point, reps, low, high = customer_bootstrap(
        values,
        strata,
        n_strata,
        statistic,
        columns=2,
        n_resamples=n_resamples,
        rng=rng,
        resampling=resampling,
        confidence_level=confidence_level,
        method=method,
    )
    theta = reduction = raw = None
    if covariate is not None:
        theta, raw = float(point[4]), float(point[2])
        v_adj = np.nanvar(reps[:, 0])
        v_raw = np.nanvar(reps[:, 2])
        reduction = float(1 - v_adj / v_raw) if v_raw > 0 else 0.0
    return Comparison(
        kpi=panel.kpi,
        design=design,
        estimate=float(point[0]),
        low=float(low[0]),
        high=float(high[0]),
        relative=float(point[1]),
        relative_low=float(low[1]),
        relative_high=float(high[1]),
        std_error=float(np.nanstd(reps[:, 0], ddof=1)),
        cells=cells,
        replicates=reps[:, 0].copy(),
        treated=t_label,
        control=c_label,
        before=b,
        after=a,
        covariate=cov_name,
        theta=theta,
        variance_reduction=reduction,
        raw_estimate=raw,
        confidence_level=float(confidence_level),
        method=method,
        resampling=resampling,
        n_resamples=n_resamples,
        seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
    )

"""A KPI per customer and period: what comparisons resample.

A :class:`Panel` holds, for each customer of the design, the numerator and the denominator of
a KPI in each period, and the customer's group. It is built from journeys (any KPI of
:data:`KPIS` but ``inactive_share``) or from the user's own table of per-customer values.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.metrics._periods import Periods, resolve_periods
from omnijourney.metrics._source import Source, customer_groups, table_codes
from omnijourney.metrics._units import KPIS, build_units, check_kpi
from omnijourney.tables import Table

__all__ = ["PER_CUSTOMER", "Panel", "customer_panel", "panel_from_journeys", "panel_from_table"]

#: KPIs whose comparison form is per customer of the design (inactive customers count zero).
PER_CUSTOMER = frozenset(
    ("visits", "customers", "buyer_rate", "spend_per_customer", "purchases_per_customer")
)


@attrs.frozen
class Panel:
    """Numerators and denominators of one KPI per customer (rows) and period (columns)."""

    kpi: str
    customers: np.ndarray  # ids
    group: np.ndarray  # code per customer, -1 outside the design's groups
    group_labels: np.ndarray
    periods: tuple[str, ...]
    num: np.ndarray  # (n, P)
    den: np.ndarray  # (n, P)
    per_customer: bool


def panel_from_journeys(
    journeys: Any,
    kpi: str,
    *,
    period: Any,
    tz: str,
    groups: Any,
    responses: Any = None,
) -> tuple[Panel, Periods]:
    src = Source(journeys, "compare")
    spec = check_kpi(kpi)
    if not spec.comparable:
        msg = (
            f"compare: {kpi!r} is a state of the customer base at the end of each period, "
            "not a sum over customers; compare it with kpis() per period instead"
        )
        raise ConfigError(msg)
    per = resolve_periods(period, tz, src.time, warn=False)
    units = build_units(src, kpi, responses=responses, periods_of=per.index)
    n_c = src.customer_labels.size
    if groups is None:
        present = np.zeros(n_c, dtype=bool)
        present[src.customer] = True
        rows_of_label = np.cumsum(present) - 1
        ids = src.customer_labels[present]
        group = np.zeros(ids.size, dtype=np.int64)
        labels = np.array(["all"], dtype=object)
        extra_ids = np.zeros(0, dtype=object)
    else:
        per_label, labels, extra_ids = customer_groups(
            src, groups, "group", "groups", warn_missing=False
        )
        in_design = per_label >= 0
        rows_of_label = np.where(in_design, np.cumsum(in_design) - 1, -1)
        ids = np.concatenate([src.customer_labels[in_design], extra_ids]).astype(object)
        group = per_label[in_design]
        _, extra_vals = _extra_groups(groups, extra_ids)
        if extra_ids.size:
            pos = np.searchsorted(labels, extra_vals)
            group = np.concatenate([group, pos])
    n = ids.size
    p = units.periods(src, per).astype(np.int64)
    row = rows_of_label[units.customer]
    keep = (p >= 0) & (row >= 0)
    key = row[keep] * len(per) + p[keep]
    size = n * len(per)
    num: np.ndarray
    den: np.ndarray
    if units.num_mode == "sum":
        num = np.bincount(key, weights=units.num[keep], minlength=size)
    else:
        num = (np.bincount(key, weights=units.num[keep] > 0, minlength=size) > 0).astype(float)
    per_customer = kpi in PER_CUSTOMER
    if per_customer:
        den = np.ones(size)
    elif units.den_mode == "sum":
        den = np.bincount(key, weights=units.den[keep], minlength=size)
    else:
        den = (np.bincount(key, minlength=size) > 0).astype(float)
    return (
        Panel(
            kpi=kpi,
            customers=ids,
            group=group.astype(np.int64),
            group_labels=labels,
            periods=per.labels,
            num=num.reshape(n, len(per)),
            den=den.reshape(n, len(per)),
            per_customer=per_customer,
        ),
        per,
    )


def customer_panel(
    journeys: Any,
    kpi: str,
    *,
    period: Any = None,
    groups: Any = None,
    tz: str = "UTC",
    responses: Any = None,
) -> Table:
    """The per-customer values that :func:`compare` resamples, as a table to read, edit or
    pass back.

    One row per customer of the design and period: ``customer``, ``period``, ``group``
    (with ``groups``), ``numerator`` and, for a ratio over units (conversion per journey,
    basket...), ``denominator``. A per-customer KPI (spend, orders, visits per customer,
    buyer rate) has no denominator column: every customer of the design counts once per
    period, with zero when inactive. ``compare(customer_panel(jt, kpi, ...), kpi)`` is
    ``compare(jt, kpi, ...)``: the same cells and estimate, and an interval from resamples
    of the same customers. In between, the table can be capped (winsorized spend), filtered,
    joined with the user's own columns, or handed to another tool.

    Parameters
    ----------
    journeys : JourneyTable
    kpi : str
        One of :data:`KPIS` but ``inactive_share``.
    period, groups, tz, responses
        As in :func:`compare`.

    Returns
    -------
    Table

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b"],
    ...     "time": ["2024-01-03", "2024-02-03", "2024-02-05"],
    ...     "channel": ["web", "web", "store"],
    ...     "event": ["purchase", "purchase", "purchase"],
    ...     "value": [40.0, 60.0, 25.0]})
    >>> windows = {"jan": ("2024-01-01", "2024-02-01"), "feb": ("2024-02-01", "2024-03-01")}
    >>> panel = customer_panel(oj.sessionize(tp), "spend_per_customer", period=windows)
    >>> panel.to_pandas()
      customer period  numerator
    0        a    jan       40.0
    1        a    feb       60.0
    2        b    jan        0.0
    3        b    feb       25.0
    """
    panel, _ = panel_from_journeys(
        journeys, kpi, period=period, tz=tz, groups=groups, responses=responses
    )
    n, p = panel.num.shape
    columns: dict[str, Any] = {
        "customer": np.repeat(panel.customers, p),
        "period": np.tile(np.array(panel.periods, dtype=object), n),
    }
    kinds = {"customer": "category", "period": "category"}
    if groups is not None:
        columns["group"] = np.repeat(panel.group_labels[panel.group], p)
        kinds["group"] = "category"
    columns["numerator"] = panel.num.ravel()
    if not panel.per_customer:
        columns["denominator"] = panel.den.ravel()
    return Table.from_columns(columns, kinds=kinds)


def _extra_groups(groups: Any, extra_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group values of the design's customers that have no touchpoint."""
    from omnijourney.metrics._source import customer_mapping

    if extra_ids.size == 0:
        return extra_ids, np.zeros(0, dtype=object)
    ids, vals = customer_mapping(groups, "group", "compare", "groups")
    lookup = dict(zip(ids.tolist(), vals.tolist()))
    return extra_ids, np.array([lookup[i] for i in extra_ids.tolist()], dtype=object)


def panel_from_table(data: Any, kpi: str | None) -> Panel:
    """A panel from the user's rows: ``customer``, ``period``, ``numerator``, and optionally
    ``denominator`` (default 1 per customer and period: a per-customer mean, customers
    without a row in a period counting zero) and ``group``."""
    if isinstance(data, Table):
        table = data
    else:
        try:
            table = Table.from_columns(
                data, kinds={"customer": "category", "period": "category", "group": "category"}
            )
        except SchemaError:
            table = Table.from_columns(data)
    missing = [c for c in ("customer", "period", "numerator") if c not in table.columns]
    if missing:
        msg = (
            "compare needs a JourneyTable, or a table of per-customer values with 'customer', "
            f"'period' and 'numerator' columns (and optionally 'denominator' and 'group'); "
            f"it has no {missing} (columns are {list(table.columns)})"
        )
        raise ConfigError(msg)
    if len(table) == 0:
        raise DataError("the table of per-customer values is empty", table="panel")
    cust, ids = table_codes(table, "customer")
    if (cust < 0).any():
        rows = np.flatnonzero(cust < 0)
        raise DataError(
            "null customer", table="panel", column="customer", rows=rows, values=[None] * rows.size
        )
    per, per_labels = table_codes(table, "period")
    per_labels = np.array([str(p) for p in per_labels.tolist()], dtype=object)
    # periods in the order they first appear in the rows (the user's order, not the alphabet's)
    first_seen = np.full(per_labels.size, per.size, dtype=np.int64)
    np.minimum.at(first_seen, per, np.arange(per.size))
    rank = np.empty(per_labels.size, dtype=np.int64)
    rank[np.argsort(first_seen, kind="stable")] = np.arange(per_labels.size)
    per, per_labels = rank[per], per_labels[np.argsort(first_seen, kind="stable")]
    num = np.asarray(table["numerator"], dtype=np.float64)
    has_den = "denominator" in table.columns
    den = np.asarray(table["denominator"], dtype=np.float64) if has_den else np.ones(num.size)
    bad = ~np.isfinite(num) | ~np.isfinite(den)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            "numerators and denominators must be finite numbers",
            table="panel",
            column="numerator" if (~np.isfinite(num)).any() else "denominator",
            rows=rows,
            values=num[rows].tolist(),
        )
    n, p = ids.size, per_labels.size
    key = cust * p + per
    num_grid = np.bincount(key, weights=num, minlength=n * p).reshape(n, p)
    den_grid = (
        np.bincount(key, weights=den, minlength=n * p).reshape(n, p) if has_den else np.ones((n, p))
    )
    if "group" in table.columns:
        g_rows, g_labels = table_codes(table, "group")
        group = np.full(n, -1, dtype=np.int64)
        group[cust] = g_rows
        first = np.full(n, -1, dtype=np.int64)
        first[cust[::-1]] = g_rows[::-1]
        if not np.array_equal(first, group):
            msg = "compare: a customer has rows in two groups; a customer belongs to one group"
            raise ConfigError(msg)
    else:
        group = np.zeros(n, dtype=np.int64)
        g_labels = np.array(["all"], dtype=object)
    return Panel(
        kpi=kpi or "value",
        customers=ids,
        group=group,
        group_labels=g_labels,
        periods=tuple(str(x) for x in per_labels.tolist()),
        num=num_grid,
        den=den_grid,
        per_customer=not has_den,
    )


def kpi_kind(kpi: str) -> str:
    return KPIS[kpi].kind if kpi in KPIS else "mean"

"""The units each KPI counts (visits, journeys, orders, quotes, customers, responses), with the
numerator and denominator each unit brings, its customer, its time and its group keys.

A KPI is a ratio of sums over units: conversion per journey sums ``converted`` over journeys
and divides by the journeys; average basket sums the order values over orders. Measures of
customers (buyer rate, spend per customer, repeat rate) count distinct customers instead of
summing. Which channel, store or team a unit belongs to is read from its own touchpoints: the
first non-null value of the column among them (for an order, the order's touchpoint).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import first_per_group, run_starts
from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.metrics._source import Source
from omnijourney.tables import Table
from omnijourney.time import parse_times

__all__ = ["KPIS", "KpiSpec", "Units", "build_units"]


@attrs.frozen
class KpiSpec:
    """What a KPI measures, for documentation, formatting and checks."""

    name: str
    description: str
    #: "count" (value = numerator), "rate" (a share, shown in %), "mean" (an average amount)
    kind: str
    #: what one unit is
    unit: str
    #: whether the KPI can be split by channel / by an extra column of the touchpoints
    by_channel: bool = True
    #: whether compare() can resample it by customer
    comparable: bool = True


#: Every KPI :func:`~omnijourney.metrics.kpis` computes, by name.
KPIS: dict[str, KpiSpec] = {
    s.name: s
    for s in (
        KpiSpec("visits", "visits", "count", "visit"),
        KpiSpec("customers", "customers with a touchpoint", "count", "customer"),
        KpiSpec("conversion", "conversion per journey", "rate", "journey"),
        KpiSpec("visit_conversion", "conversion per visit", "rate", "visit"),
        KpiSpec("basket", "average order value", "mean", "order"),
        KpiSpec("cross_channel", "share of orders started on another channel", "rate", "order"),
        KpiSpec("web_to_store", "share of orders started online, finished in store", "rate", "order"),
        KpiSpec("store_to_web", "share of orders started in store, finished online", "rate", "order"),
        KpiSpec("click_and_collect", "click-and-collect share of orders", "rate", "order"),
        KpiSpec("ropo", "research-online-purchase-offline share of orders", "rate", "order"),
        KpiSpec("quote_to_sale", "quote-to-sale conversion", "rate", "quote"),
        KpiSpec("buyer_rate", "share of customers who bought", "rate", "customer", False),
        KpiSpec("spend_per_customer", "spend per customer", "mean", "customer", False),
        KpiSpec("purchases_per_customer", "orders per customer", "mean", "customer", False),
        KpiSpec("repeat_rate", "share of buyers who had bought before", "rate", "buyer", False),
        KpiSpec("inactive_share", "share of known customers inactive", "rate", "customer", False, False),
        KpiSpec("survey", "mean survey score", "mean", "response", False),
        KpiSpec("survey_new", "mean survey score of new customers", "mean", "response"),
    )
}  # fmt: skip


@attrs.define
class Units:
    """Units of one KPI: arrays aligned on units, and how they add up into a cell."""

    customer: np.ndarray  # label position of the unit's customer
    time: np.ndarray  # int64 microseconds (UTC)
    num: np.ndarray  # float64
    den: np.ndarray  # float64
    #: "sum" adds ``num``; "distinct" counts the distinct customers with ``num > 0``
    num_mode: str = "sum"
    #: "sum" adds ``den``; "distinct" counts distinct customers; "one" makes a count
    den_mode: str = "sum"
    #: group key name -> function giving (codes per unit, labels)
    keys: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = attrs.Factory(dict)
    #: whether units are in canonical (customer, time) order
    sorted: bool = True
    #: whether every ``den`` is 1 (the denominator of a cell is then its number of units)
    den_ones: bool = True
    #: canonical row of each unit (its time is that row's), all rows for ``slice(None)``,
    #: None when units are not rows (survey responses)
    rows: np.ndarray | slice | None = None

    def periods(self, src: Source, periods: Any) -> np.ndarray:
        """Period of each unit: read from the rows' periods when units are rows."""
        if self.rows is None:
            return np.asarray(periods.index(self.time))
        return src.row_periods(periods)[self.rows]


def _ones(n: int) -> np.ndarray:
    """``n`` ones without allocating them (a read-only broadcast)."""
    return np.broadcast_to(np.float64(1.0), (int(n),))


def _keys(
    src: Source, first_rows: np.ndarray | None, extra: Callable[[Source, str, Any], Any]
) -> dict[str, Callable[[], Any]]:
    """Group keys of units: the channel of each unit's first row (every row when None), and
    each extra column of the touchpoints as ``extra`` reads it."""

    def channel() -> tuple[np.ndarray, np.ndarray]:
        ch = src.channel if first_rows is None else src.channel[first_rows]
        return ch, src.channel_labels

    keys: dict[str, Callable[[], Any]] = {"channel": channel}
    for col in src.tp.extra_columns:
        keys[col] = extra(src, col, first_rows)
    return keys


def _rows_keys(src: Source, rows: np.ndarray | None) -> dict[str, Callable[[], Any]]:
    """Keys of units that are single canonical rows (all of them when None): the row's own
    values."""
    return _keys(src, rows, _row_extra)


def _row_extra(src: Source, col: str, rows: np.ndarray | None) -> Callable[[], Any]:
    def make() -> tuple[np.ndarray, np.ndarray]:
        codes, labels = src.extra(col)
        return (codes if rows is None else codes[rows]), labels

    return make


def _run_extra(src: Source, col: str, starts: np.ndarray) -> Callable[[], Any]:
    """First non-null value of ``col`` among the rows of each run ``[starts[k], starts[k+1])``."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        codes, labels = src.extra(col)
        sizes = np.diff(np.append(starts, src.n))
        run = np.repeat(np.arange(starts.size), sizes)
        first = first_per_group(run, codes >= 0, starts.size)
        return np.where(first >= 0, codes[np.maximum(first, 0)], -1), labels

    return make


def _run_keys(src: Source, starts: np.ndarray) -> dict[str, Callable[[], Any]]:
    return _keys(src, starts, _run_extra)


def _reduce_any(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if starts.size == 0:
        return np.zeros(0, dtype=bool)
    return np.add.reduceat(mask.astype(np.int64), starts) > 0


def _conversion_rows(src: Source, kpi: str) -> np.ndarray:
    rows = np.flatnonzero(src.conversion)
    if kpi != "basket" or "value" not in src.tp.columns:
        return rows
    raw = src.jt.in_order("value")[rows]
    missing = np.isnan(raw)
    if missing.any():
        warnings.warn(
            f"{src.who}: {int(missing.sum()):,} of {rows.size:,} orders have no value; the "
            "average basket leaves them out",
            OmnijourneyWarning,
            stacklevel=4,
        )
    return rows[~missing]


def _start_channel(src: Source, rows: np.ndarray) -> np.ndarray:
    """Channel on which the journey of each conversion row started: its first touchpoint on
    a channel the customer chooses (messages and media follow campaigns), else its first."""
    n_j = src.journey_starts.size
    chosen = src.chosen_channel[src.channel]
    first = first_per_group(src.journey, chosen, n_j)
    first = np.where(first >= 0, first, src.journey_starts)
    return src.channel[first[src.journey[rows]]]


def _collected(src: Source, rows: np.ndarray) -> np.ndarray:
    """Whether each conversion row is click & collect: an order or reservation id it carries
    is on a digital channel first and on a physical channel at or after that time."""
    out = np.zeros(rows.size, dtype=bool)
    digital = src.digital_channel[src.channel]
    physical = src.physical_channel[src.channel]
    big = np.iinfo(np.int64).max
    for column in ("order_id", "reservation_id"):
        ref = src.reference(column)
        if ref is None:
            continue
        has = np.flatnonzero(ref >= 0)
        if has.size == 0:
            continue
        n_ids = int(ref[has].max()) + 1
        first_digital = np.full(n_ids, big, dtype=np.int64)
        last_physical = np.full(n_ids, -big, dtype=np.int64)
        d, p = has[digital[has]], has[physical[has]]
        np.minimum.at(first_digital, ref[d], src.time[d])
        np.maximum.at(last_physical, ref[p], src.time[p])
        ok = first_digital <= last_physical
        code = ref[rows]
        out |= (code >= 0) & ok[np.maximum(code, 0)]
    return out


def _order_units(src: Source, kpi: str) -> Units:
    rows = _conversion_rows(src, kpi)
    ones = _ones(rows.size)
    if kpi == "basket":
        num = src.jt.in_order("value")[rows] if "value" in src.tp.columns else np.zeros(rows.size)
    elif kpi in ("cross_channel", "web_to_store", "store_to_web"):
        start = _start_channel(src, rows)
        end = src.channel[rows]
        if kpi == "cross_channel":
            num = start != end
        elif kpi == "web_to_store":
            num = src.digital_channel[start] & src.physical_channel[end]
        else:
            num = src.physical_channel[start] & src.digital_channel[end]
    elif kpi == "click_and_collect":
        num = _collected(src, rows)
    else:  # ropo: bought in store after a digital touchpoint of the same journey, not collected
        n_j = src.journey_starts.size
        first_digital = first_per_group(src.journey, src.digital_channel[src.channel], n_j)
        fd = first_digital[src.journey[rows]]
        num = (
            src.physical_channel[src.channel[rows]]
            & (fd >= 0)
            & (fd < rows)
            & ~_collected(src, rows)
        )
    return Units(
        customer=src.customer[rows],
        time=src.time[rows],
        num=np.asarray(num, dtype=np.float64),
        den=ones,
        keys=_rows_keys(src, rows),
        rows=rows,
    )


def _quote_units(src: Source) -> Units:
    ref = src.reference("quote_id")
    if ref is None:
        msg = f"{src.who}: quote_to_sale needs a quote_id column in the touchpoints"
        raise ConfigError(msg)
    has = np.flatnonzero(ref >= 0)
    rows = has[np.argsort(ref[has], kind="stable")]  # by quote, then canonical order
    q = ref[rows]
    starts = np.flatnonzero(run_starts(q))
    signed = _reduce_any(src.conversion[rows], starts)
    first = rows[starts]

    def channel() -> tuple[np.ndarray, np.ndarray]:
        return src.channel[first], src.channel_labels

    def owner(col: str) -> Callable[[], Any]:
        def make() -> tuple[np.ndarray, np.ndarray]:
            codes, labels = src.extra(col)
            quote_of = np.repeat(np.arange(starts.size), np.diff(np.append(starts, rows.size)))
            f = first_per_group(quote_of, codes[rows] >= 0, starts.size)
            return np.where(f >= 0, codes[rows[np.maximum(f, 0)]], -1), labels

        return make

    keys: dict[str, Callable[[], Any]] = {"channel": channel}
    for col in src.tp.extra_columns:
        keys[col] = owner(col)
    order = np.argsort(first, kind="stable")  # back to canonical order of the first rows
    units = Units(
        customer=src.customer[first][order],
        time=src.time[first][order],
        rows=first[order],
        num=signed[order].astype(np.float64),
        den=_ones(first.size),
        keys={k: _permuted(f, order) for k, f in keys.items()},
    )
    return units


def _permuted(make: Callable[[], Any], order: np.ndarray) -> Callable[[], Any]:
    def wrapped() -> tuple[np.ndarray, np.ndarray]:
        codes, labels = make()
        return codes[order], labels

    return wrapped


def _touch_units(src: Source, kpi: str) -> Units:
    n = src.n
    conv = src.conversion
    if kpi == "customers":
        num, num_mode, den_mode = _ones(n), "distinct", "one"
    elif kpi == "buyer_rate":
        num, num_mode, den_mode = conv.astype(np.float64), "distinct", "distinct"
    elif kpi == "spend_per_customer":
        num, num_mode, den_mode = np.where(conv, src.value, 0.0), "sum", "distinct"
    else:  # purchases_per_customer
        num, num_mode, den_mode = conv.astype(np.float64), "sum", "distinct"
    return Units(
        customer=src.customer,
        time=src.time,
        num=num,
        den=_ones(n),
        num_mode=num_mode,
        den_mode=den_mode,
        keys=_rows_keys(src, None),
        rows=slice(None),
    )


def _repeat_units(src: Source) -> Units:
    rows = np.flatnonzero(src.conversion)
    n_c = src.customer_labels.size
    first = first_per_group(src.customer, src.conversion, n_c)
    repeat = rows != first[src.customer[rows]]
    return Units(
        customer=src.customer[rows],
        time=src.time[rows],
        num=repeat.astype(np.float64),
        den=_ones(rows.size),
        num_mode="distinct",
        den_mode="distinct",
        rows=rows,
    )


def responses_table(src: Source, responses: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer label positions, times, scores) of survey responses of known customers."""
    if responses is None:
        msg = (
            f"{src.who}: the survey KPIs need responses=: a table with 'customer', 'time' and "
            "'score' columns"
        )
        raise ConfigError(msg)
    table = responses if isinstance(responses, Table) else Table.from_columns(responses)
    missing = [c for c in ("customer", "time", "score") if c not in table.columns]
    if missing:
        msg = (
            f"{src.who}: responses needs 'customer', 'time' and 'score' columns; it has no "
            f"{missing} (columns are {list(table.columns)})"
        )
        raise ConfigError(msg)
    ids = np.asarray(table["customer"], dtype=object)
    times, bad, _ = parse_times(np.asarray(table["time"], dtype=object), tz=None)
    scores = np.asarray(table["score"], dtype=np.float64)
    pos = src.customer_positions(ids, "responses", strict=False)
    drop = (pos < 0) | bad | np.isnan(scores)
    if drop.any():
        warnings.warn(
            f"{src.who}: {int(drop.sum()):,} of {ids.size:,} survey responses are left out "
            f"({int((pos < 0).sum()):,} of customers absent from the touchpoints, "
            f"{int((bad | np.isnan(scores)).sum()):,} without a time or a score)",
            OmnijourneyWarning,
            stacklevel=4,
        )
    keep = ~drop
    return pos[keep], times[keep].astype(np.int64), scores[keep]


def _survey_units(src: Source, kpi: str, responses: Any, periods_of: Callable[..., Any]) -> Units:
    cust, t, score = responses_table(src, responses)
    order = np.lexsort((t, cust))
    cust, t, score = cust[order], t[order], score[order]
    outside = int((periods_of(t) < 0).sum())
    if outside:
        warnings.warn(
            f"{src.who}: {outside:,} survey responses fall outside every period; they are left out",
            OmnijourneyWarning,
            stacklevel=4,
        )
    if kpi == "survey":
        return Units(customer=cust, time=t, num=score, den=_ones(cust.size))
    # new customers: the response falls in the period of the customer's first order
    n_c = src.customer_labels.size
    first = first_per_group(src.customer, src.conversion, n_c)
    has = first >= 0
    first_time = np.where(has, src.time[np.maximum(first, 0)], 0)
    first_channel = np.where(has, src.channel[np.maximum(first, 0)], -1)
    p_resp = periods_of(t)
    p_first = periods_of(first_time[cust])
    new = has[cust] & (p_resp == p_first) & (p_resp >= 0)
    keep = np.flatnonzero(new)

    def channel() -> tuple[np.ndarray, np.ndarray]:
        return first_channel[cust[keep]], src.channel_labels

    return Units(
        customer=cust[keep],
        time=t[keep],
        num=score[keep],
        den=_ones(keep.size),
        keys={"channel": channel},
    )


def build_units(
    src: Source, kpi: str, *, responses: Any = None, periods_of: Callable[..., Any] | None = None
) -> Units:
    """The units of ``kpi`` (every KPI but ``inactive_share``, computed apart)."""
    if kpi in ("visits", "visit_conversion"):
        starts = src.visit_starts
        num = _ones(starts.size) if kpi == "visits" else _reduce_any(src.conversion, starts)
        return Units(
            customer=src.customer[starts],
            time=src.time[starts],
            num=np.asarray(num, dtype=np.float64),
            den=_ones(starts.size),
            den_mode="one" if kpi == "visits" else "sum",
            keys=_run_keys(src, starts),
            rows=starts,
        )
    if kpi == "conversion":
        starts = src.journey_starts
        return Units(
            customer=src.customer[starts],
            time=src.time[starts],
            num=_reduce_any(src.conversion, starts).astype(np.float64),
            den=_ones(starts.size),
            keys=_run_keys(src, starts),
            rows=starts,
        )
    if kpi in (
        "basket",
        "cross_channel",
        "web_to_store",
        "store_to_web",
        "click_and_collect",
        "ropo",
    ):
        return _order_units(src, kpi)
    if kpi == "quote_to_sale":
        return _quote_units(src)
    if kpi in ("customers", "buyer_rate", "spend_per_customer", "purchases_per_customer"):
        return _touch_units(src, kpi)
    if kpi == "repeat_rate":
        return _repeat_units(src)
    if kpi in ("survey", "survey_new"):
        assert periods_of is not None
        return _survey_units(src, kpi, responses, periods_of)
    raise AssertionError(kpi)


def check_kpi(name: Any) -> KpiSpec:
    if not isinstance(name, str) or name not in KPIS:
        listed = ", ".join(repr(k) for k in KPIS)
        msg = f"The 'kpi' parameter must be one of {listed}. Got {name!r} instead."
        raise ConfigError(msg)
    return KPIS[name]

"""The customer timeline ("interaction hub"): every touchpoint of a customer, in order."""

from __future__ import annotations

from typing import Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.journeys._breaks import BreakTable
from omnijourney.journeys._table import JourneyTable
from omnijourney.tables import Table

__all__ = ["format_timeline", "timeline"]

_REFS = ("order_id", "quote_id", "cart_id", "reservation_id")


def timeline(
    journeys: JourneyTable,
    customers: Any,
    *,
    breaks: BreakTable | None = None,
) -> Table:
    """All inbound and outbound touchpoints of one or more customers, grouped by journey.

    Parameters
    ----------
    journeys : JourneyTable
    customers : customer id or iterable of ids
    breaks : BreakTable, optional
        When given, each touchpoint that continues a break is marked with its kind.

    Returns
    -------
    Table
        One row per touchpoint, in (customer, time) order: ``customer``, ``journey_id``,
        ``visit_id``, ``time``, ``channel``, ``event``, ``direction``, ``value``,
        ``reference`` (the order, quote, cart or reservation ids it carries), ``break`` (the
        kind of break this touchpoint continues, if any) and ``row`` (its row in
        ``journeys.touchpoints``).

    Raises
    ------
    ConfigError
        A customer that the touchpoints do not know.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-02T15:00", "2024-05-01T09:00"],
    ...     "channel": ["web", "store", "web"], "event": ["order", "pickup", "product_view"],
    ...     "order_id": ["O1", "O1", None]})
    >>> jt = oj.sessionize(tp)
    >>> rules = oj.journeys.BreakRules(failure_events=(), research_events=(),
    ...                                reentry_events=(), assisted_kinds=())
    >>> tl = timeline(jt, "a", breaks=oj.journeys.detect_breaks(jt, rules))
    >>> tl["event"].tolist(), tl["break"].tolist()
    (['order', 'pickup'], [None, 'click_and_collect'])
    """
    tp = journeys.touchpoints
    wanted = [customers] if isinstance(customers, (str, int, np.integer)) else list(customers)
    labels = tp.labels("customer")
    codes = []
    for c in wanted:
        pos = np.flatnonzero(labels == c)
        if pos.size == 0:
            msg = f"timeline: unknown customer {c!r}"
            raise ConfigError(msg)
        codes.append(int(pos[0]))
    order = journeys.order
    in_order_cust = tp.raw("customer")[order]
    keep = np.isin(in_order_cust, codes)
    positions = np.flatnonzero(keep)
    rows = order[positions]
    ref_text = np.full(rows.size, None, dtype=object)
    for col in _REFS:
        if col not in tp.columns:
            continue
        vals = tp.column_values(col)[rows]
        for i, v in enumerate(vals.tolist()):
            if v is not None:
                ref_text[i] = f"{ref_text[i]}, {col}={v}" if ref_text[i] else f"{col}={v}"
    marks = np.full(rows.size, None, dtype=object)
    if breaks is not None and len(breaks):
        to_rows = breaks.raw("to_row")
        kinds = breaks["kind"]
        where = {int(r): str(k) for r, k in zip(to_rows.tolist(), kinds.tolist())}
        for i, r in enumerate(rows.tolist()):
            if r in where:
                marks[i] = where[r]
    data: dict[str, Any] = {
        "customer": tp.column_values("customer")[rows],
        "journey_id": journeys.sorted_journey[positions].astype(np.int64),
        "visit_id": journeys.sorted_visit[positions].astype(np.int64),
        "time": tp.raw("time")[rows],
        "channel": tp.column_values("channel")[rows],
        "event": tp.column_values("event")[rows],
        "direction": tp.column_values("direction")[rows]
        if "direction" in tp.columns
        else np.full(rows.size, None, dtype=object),
        "value": tp.raw("value")[rows] if "value" in tp.columns else np.full(rows.size, np.nan),
        "reference": ref_text,
        "break": marks,
        "row": rows.astype(np.int64),
    }
    kinds_of = {
        "customer": "category",
        "channel": "category",
        "event": "category",
        "direction": "category",
        "reference": "category",
        "break": "category",
    }
    return Table.from_columns(data, kinds=kinds_of)


def format_timeline(table: Table, *, max_rows: int | None = None) -> str:
    """A readable text of a :func:`timeline`: one block per journey, one line per touchpoint.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01T10:00", "2024-05-02T15:00"],
    ...     "channel": ["web", "store"], "event": ["order", "pickup"],
    ...     "order_id": ["O1", "O1"]})
    >>> jt = oj.sessionize(tp)
    >>> rules = oj.journeys.BreakRules(failure_events=(), research_events=(),
    ...                                reentry_events=(), assisted_kinds=())
    >>> print(format_timeline(timeline(jt, "a", breaks=oj.journeys.detect_breaks(jt, rules))))
    customer a
      journey 0
        2024-05-01 10:00  web          order              order_id=O1
      journey 1
        2024-05-02 15:00  store        pickup             order_id=O1  <- click_and_collect
    """
    if not isinstance(table, Table) or "journey_id" not in table.columns:
        msg = "format_timeline needs the Table returned by timeline()"
        raise ConfigError(msg)
    lines: list[str] = []
    last_customer: Any = object()
    last_journey = -1
    n = len(table) if max_rows is None else min(len(table), max_rows)
    times = table["time"]
    for i in range(n):
        customer = table.column_values_at("customer", i)
        journey = int(table.raw("journey_id")[i])
        if customer != last_customer:
            lines.append(f"customer {customer}")
            last_customer, last_journey = customer, -1
        if journey != last_journey:
            lines.append(f"  journey {journey}")
            last_journey = journey
        stamp = str(times[i].astype("datetime64[m]")).replace("T", " ")
        value = table.raw("value")[i]
        parts = [
            f"    {stamp}  {table.column_values_at('channel', i):<12} "
            f"{table.column_values_at('event', i):<18}"
        ]
        if not np.isnan(value):
            parts.append(f"{value:>10,.2f}")
        direction = table.column_values_at("direction", i)
        if direction == "outbound":
            parts.append("(outbound)")
        ref = table.column_values_at("reference", i)
        if ref:
            parts.append(f" {ref}")
        mark = table.column_values_at("break", i)
        if mark:
            parts.append(f"  <- {mark}")
        lines.append("".join(parts).rstrip())
    if n < len(table):
        lines.append(f"... {len(table) - n} more touchpoints")
    return "\n".join(lines)

"""Customer lifecycle: RFM summaries (the inputs of BG/NBD) and inactivity statuses.

:func:`rfm` turns touchpoints into one row per customer with recency, frequency and
monetary value as lifetimes' ``summary_data_from_transaction_data`` defines them;
:func:`lifecycle_status` labels each customer new, active, inactive, lapsed, to archive or
prospect under :class:`InactivityRules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import duration
from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import check_conversions, noted
from omnijourney.tables import ColumnSpec, Table, TouchpointTable, code_dtype
from omnijourney.time import TIME_DTYPE, to_datetime64, to_timedelta64, utc_to_local

__all__ = ["LIFECYCLE_STATUSES", "InactivityRules", "lifecycle_status", "rfm"]

#: Statuses of :func:`lifecycle_status`, in precedence order (the first that applies wins).
LIFECYCLE_STATUSES = ("to_archive", "prospect", "new", "active", "inactive", "lapsed")
_DEFAULT_CONVERSIONS = ("purchase", "order", "quote_signed")
_DAY_US = 86_400_000_000
_WEEK_US = 7 * _DAY_US
_MONDAY_US = 4 * _DAY_US  # 1970-01-05, the first Monday after the epoch
_MAX = np.iinfo(np.int64).max
_MIN = np.iinfo(np.int64).min
_NAT = np.iinfo(np.int64).min
_RFM_COLUMNS = ("first_purchase", "last_purchase", "first_touch", "last_touch")


# --------------------------------------------------------------------------- periods


@attrs.frozen
class _Period:
    """Purchase grouping: fixed steps from an origin, or calendar months."""

    months: bool
    step: int = 0
    origin: int = 0

    @classmethod
    def parse(cls, period: Any) -> _Period:
        if isinstance(period, str):
            text = period.strip()
            if text == "M":
                return cls(months=True)
            if text.endswith("M"):
                msg = (
                    f"period must be 'M' for calendar months (or 'min' for minutes), got {period!r}"
                )
                raise ConfigError(msg)
            if re.fullmatch(r"[A-Za-z]+", text):
                text = "1" + text  # "D" -> "1D", "W" -> "1W", "h" -> "1h"
            period_td = to_timedelta64(text, name="period")
        else:
            period_td = to_timedelta64(period, name="period")
        step = int(period_td.astype(np.int64))
        if step <= 0:
            msg = f"period must be a positive duration, 'W' or 'M', got {period!r}"
            raise ConfigError(msg)
        # whole weeks start on Mondays (as pandas' "W"); other steps at 1970-01-01 00:00
        return cls(months=False, step=step, origin=_MONDAY_US if step % _WEEK_US == 0 else 0)

    def index(self, us: np.ndarray) -> np.ndarray:
        """Period number of each time (microseconds)."""
        if self.months:
            return us.view(TIME_DTYPE).astype("datetime64[M]").astype(np.int64)
        return (us - self.origin) // self.step

    def start(self, index: np.ndarray) -> np.ndarray:
        """Start (microseconds) of each period number."""
        if self.months:
            return index.astype("datetime64[M]").astype(TIME_DTYPE).view(np.int64)
        return index * self.step + self.origin


# --------------------------------------------------------------------------- inputs


def _label_mask(labels: np.ndarray, names: Iterable[str]) -> np.ndarray:
    wanted = {str(n) for n in names}
    return np.array([str(x) in wanted for x in labels.tolist()], dtype=bool)


def _source(
    data: Any, conversion_events: Any, where: str
) -> tuple[TouchpointTable, frozenset[str]]:
    if isinstance(data, JourneyTable):
        tp = data.touchpoints
        default: Iterable[str] = data.rules.conversion_events
    elif isinstance(data, TouchpointTable):
        tp, default = data, _DEFAULT_CONVERSIONS
    else:
        msg = f"{where} needs a TouchpointTable or a JourneyTable, got {type(data).__name__}"
        raise ConfigError(msg)
    if conversion_events is None:
        return tp, frozenset(default)
    if isinstance(conversion_events, str):
        return tp, frozenset([conversion_events])
    try:
        events = frozenset(str(e) for e in conversion_events)
    except TypeError:
        msg = f"conversion_events must be a collection of event names, got {conversion_events!r}"
        raise ConfigError(msg) from None
    return tp, events


def _check_currency(tp: TouchpointTable, conv: np.ndarray) -> None:
    """Summing values in several currencies would be meaningless: refuse it."""
    if "currency" not in tp.columns or "value" not in tp.columns:
        return
    cur = tp.raw("currency")
    used = conv & (cur >= 0) & ~np.isnan(tp.raw("value"))
    counts = np.bincount(cur[used].astype(np.int64), minlength=tp.labels("currency").size)
    if np.count_nonzero(counts) > 1:
        main = int(np.argmax(counts))
        rows = np.flatnonzero(used & (cur != main))
        labels = tp.labels("currency")
        raise DataError(
            f"purchase values are in several currencies ({', '.join(labels[counts > 0])}); "
            f"the rows not in {labels[main]} are listed",
            table=tp.table_name,
            column="currency",
            rows=rows.tolist(),
            values=labels[cur[rows[:5]]].tolist(),
            hint="Convert the values to one currency, or filter the table by currency first",
        )


# --------------------------------------------------------------------------- RFM


def rfm(
    data: TouchpointTable | JourneyTable,
    *,
    as_of: Any = None,
    conversion_events: Iterable[str] | str | None = None,
    period: Any = "D",
    tz: str | None = None,
) -> Table:
    """Recency, frequency and monetary value of each customer, as BG/NBD expects them.

    Parameters
    ----------
    data : TouchpointTable or JourneyTable
        Touchpoints; a JourneyTable contributes its touchpoints (for a batch: the batch and
        the rows carried into it) and its rules' conversion events.
    as_of : time, optional
        End of observation; later touchpoints are ignored. Default: the latest touchpoint.
    conversion_events : collection of str, optional
        Events that are purchases. Default: the JourneyTable's, else purchase, order and
        quote_signed.
    period : str or duration, default "D"
        Purchases in one period count as one (lifetimes' ``freq``): ``"D"`` (days), ``"W"``
        (weeks starting on Monday), ``"M"`` (calendar months), or a duration such as ``"12h"``
        (fixed steps from 1970-01-01 00:00).
    tz : str, optional
        Zone whose calendar defines the periods (default UTC).

    Returns
    -------
    Table
        One row per customer with a touchpoint up to ``as_of``, in customer label order:

        ================  =====  ============================================================
        customer          cat.   the customer
        first_purchase    time   first purchase (NaT for a customer who never purchased)
        last_purchase     time   last purchase (NaT likewise)
        frequency         int    repeat purchases: distinct purchase periods minus one (0
                                 for a customer without any purchase)
        recency           float  days from the start of the first purchase period to the
                                 start of the last one (NaN without purchase)
        T                 float  days from the start of the first purchase period to the start
                                 of the period of ``as_of`` (NaN without purchase)
        monetary          float  mean value of the repeat purchase periods (values summed per
                                 period; 0 without repeat purchase; NaN without ``value``)
        total_value       float  sum of all purchase values (NaN without ``value`` column)
        n_touchpoints     int    touchpoints up to ``as_of``
        first_touch       time   first touchpoint
        last_touch        time   last touchpoint
        channels_used     int    number of distinct channels used
        ================  =====  ============================================================

    Notes
    -----
    Definitions follow lifetimes' ``summary_data_from_transaction_data`` with
    ``freq=period``: purchases are grouped by period (their values summed), the first period
    is not a repeat, and times are measured between period starts. Recency and T are always
    in days (whole days for the ``"D"`` period): divide by 7 for weeks. Missing purchase
    values count as 0, as a pandas sum does. One difference: lifetimes keeps the purchases
    made after ``as_of`` within its period; here nothing after ``as_of`` counts. The values
    of a period are added in ascending order, so that the sums do not depend on the row
    order. The work is a few passes of ``bincount`` and ``ufunc.at`` over the n touchpoints
    and one sort of the p purchases: O(n + p log p).

    Raises
    ------
    ConfigError
        Bad ``as_of``, ``period``, ``tz`` or input type.
    DataError
        Purchase values in more than one currency.

    Warns
    -----
    OmnijourneyWarning
        When no event of the data is one of the conversion events (nobody would have
        purchased); the result's ``notes`` say so too. A JourneyTable's own conversion events
        were checked by :func:`~omnijourney.sessionize`, which warned: they are only noted.

    Examples
    --------
    >>> tp = TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "a", "b"],
    ...     "time": ["2024-01-01T09:00", "2024-01-01T17:00", "2024-01-05T10:00",
    ...              "2024-01-08T08:00", "2024-01-06T12:00"],
    ...     "channel": ["web", "store", "web", "email", "web"],
    ...     "event": ["purchase", "purchase", "purchase", "email_open", "product_view"],
    ...     "value": [10.0, 5.0, 20.0, None, None]})
    >>> s = rfm(tp, as_of="2024-01-10")
    >>> s["customer"], s["frequency"], s["recency"], s["T"]
    (array(['a', 'b'], dtype=object), array([1, 0]), array([ 4., nan]), array([ 9., nan]))
    >>> s["monetary"], s["total_value"], s["channels_used"]
    (array([20., nan]), array([35.,  0.]), array([3, 1]))
    """
    tp, events = _source(data, conversion_events, "rfm")
    unmatched = check_conversions(
        data,
        tp,
        events,
        "rfm",
        conversion_events is not None,
        "Nobody purchased: every frequency is 0 and recency, T and monetary are NaN",
    )
    grouping = _Period.parse(period)
    if tz is not None:
        utc_to_local(np.zeros(0, dtype=TIME_DTYPE), tz)  # raises ConfigError for unknown zones
    t = tp.raw("time").view(np.int64)
    c = tp.raw("customer")
    ch = tp.raw("channel")
    value = tp.raw("value") if "value" in tp.columns else None
    conv = _label_mask(tp.labels("event"), events)[tp.raw("event")]
    _check_currency(tp, conv)
    if as_of is None:
        as_of_us = int(t.max()) if t.size else 0
    else:
        as_of_us = int(to_datetime64(as_of, name="as_of").view(np.int64))
        keep = t <= as_of_us
        if not keep.all():
            c, t, ch, conv = c[keep], t[keep], ch[keep], conv[keep]
            value = value[keep] if value is not None else None
    n_labels = tp.labels("customer").size
    ci = c.astype(np.intp)

    # every touchpoint: counts, first and last times, distinct channels
    n_touch = np.bincount(ci, minlength=n_labels)
    first_touch = np.full(n_labels, _MAX, dtype=np.int64)
    last_touch = np.full(n_labels, _MIN, dtype=np.int64)
    np.minimum.at(first_touch, ci, t)
    np.maximum.at(last_touch, ci, t)
    channels_used = _distinct_per_customer(
        ci, ch.astype(np.intp), n_labels, tp.labels("channel").size
    )

    # purchases: grouped by (customer, period)
    pc, pt = ci[conv], t[conv]
    pv = np.nan_to_num(value[conv], nan=0.0) if value is not None else np.zeros(pc.size)
    local = pt if tz is None else utc_to_local(pt.view(TIME_DTYPE), tz).view(np.int64)
    as_of_local = as_of_us
    if tz is not None:
        as_of_local = int(utc_to_local(np.array([as_of_us]).view(TIME_DTYPE), tz).view(np.int64)[0])
    buy = _purchase_summary(pc, pt, grouping.index(local), pv, grouping)
    buyer, n_periods, first_p, last_p, first_start, last_start, total, rep_sum = buy

    present = np.flatnonzero(n_touch > 0)
    where = np.full(n_labels, -1, dtype=np.int64)
    where[present] = np.arange(present.size)
    rows = where[buyer]
    n = present.size
    has_value = value is not None

    def column(fill: Any, dtype: Any, values: np.ndarray) -> np.ndarray:
        out = np.full(n, fill, dtype=dtype)
        out[rows] = values
        return out

    as_of_start = int(grouping.start(grouping.index(np.array([as_of_local])))[0])
    repeats = n_periods - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(repeats > 0, rep_sum / np.maximum(repeats, 1), 0.0)
    data_out: dict[str, np.ndarray] = {
        "customer": present.astype(code_dtype(n_labels)),
        "first_purchase": column(_NAT, np.int64, first_p).view(TIME_DTYPE),
        "last_purchase": column(_NAT, np.int64, last_p).view(TIME_DTYPE),
        "frequency": column(0, np.int64, repeats),
        "recency": column(np.nan, np.float64, (last_start - first_start) / _DAY_US),
        "T": column(np.nan, np.float64, (as_of_start - first_start) / _DAY_US),
        "monetary": column(np.nan, np.float64, monetary if has_value else monetary * np.nan),
        "total_value": column(
            0.0 if has_value else np.nan, np.float64, total if has_value else total * np.nan
        ),
        "n_touchpoints": n_touch[present].astype(np.int64),
        "first_touch": first_touch[present].view(TIME_DTYPE),
        "last_touch": last_touch[present].view(TIME_DTYPE),
        "channels_used": channels_used[present].astype(np.int64),
    }
    meta = {"as_of": np.datetime64(as_of_us, "us")}
    table = Table.from_arrays(data_out, {"customer": tp.labels("customer")}, meta=meta)
    return noted(table.compact(), unmatched)


def _distinct_per_customer(c: np.ndarray, k: np.ndarray, n_c: int, n_k: int) -> np.ndarray:
    """Number of distinct ``k`` codes per customer code."""
    if n_c * n_k <= 1 << 26:  # a dense (customer, channel) count table fits in memory
        seen = np.bincount(c * n_k + k, minlength=n_c * n_k).reshape(n_c, n_k)
        return np.count_nonzero(seen, axis=1)
    pairs = np.unique(c.astype(np.int64) * n_k + k)
    return np.bincount(pairs // n_k, minlength=n_c)


def _purchase_summary(
    pc: np.ndarray, pt: np.ndarray, pp: np.ndarray, pv: np.ndarray, grouping: _Period
) -> tuple[np.ndarray, ...]:
    """Per buyer: periods, first/last purchase times and period starts, value sums."""
    if pc.size == 0:
        return (np.zeros(0, dtype=np.int64),) * 6 + (np.zeros(0), np.zeros(0))
    span = int(pp.max()) - int(pp.min()) + 1
    # by customer and period, then value: a period's values are added in ascending order,
    # whatever the order of the rows
    if (int(pc.max()) + 1) * span < 1 << 62:
        order = np.lexsort((pv, pc.astype(np.int64) * span + (pp - pp.min())))
    else:  # pragma: no cover - needs an extreme customer count times period span
        order = np.lexsort((pv, pp, pc))
    sc, sp = pc[order], pp[order]
    new = np.ones(sc.size, dtype=bool)
    new[1:] = (sc[1:] != sc[:-1]) | (sp[1:] != sp[:-1])
    g = np.flatnonzero(new)  # one group per (customer, period)
    gc, gp = sc[g], sp[g]
    gval = np.add.reduceat(pv[order], g)
    st = pt[order]
    gmin = np.minimum.reduceat(st, g)
    gmax = np.maximum.reduceat(st, g)
    first = np.ones(g.size, dtype=bool)
    first[1:] = gc[1:] != gc[:-1]
    cs = np.flatnonzero(first)  # one block of groups per customer, periods ascending
    ce = np.append(cs[1:], g.size) - 1
    repeat_val = np.where(first, 0.0, gval)
    return (
        gc[cs],
        np.diff(np.append(cs, g.size)),
        gmin[cs],
        gmax[ce],
        grouping.start(gp[cs]),
        grouping.start(gp[ce]),
        np.add.reduceat(gval, cs),
        np.add.reduceat(repeat_val, cs),
    )


# --------------------------------------------------------------------------- inactivity


def _inactive_after(value: Any) -> np.timedelta64:
    return duration(value, "inactive_after")


def _lapsed_after(value: Any) -> np.timedelta64:
    return duration(value, "lapsed_after")


def _archive_after(value: Any) -> np.timedelta64 | None:
    return duration(value, "archive_after", optional=True)


def _new_within(value: Any) -> np.timedelta64 | None:
    return duration(value, "new_within", optional=True)


def _since(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value not in ("first_touch", "first_purchase"):
        msg = f"new_since must be 'first_touch' or 'first_purchase', got {value!r}"
        raise ConfigError(msg)


@attrs.frozen(kw_only=True)
class InactivityRules:
    """When a customer is new, active, inactive, lapsed or to be archived.

    Parameters
    ----------
    inactive_after : duration, default "180D"
        A buyer with no purchase for at least this long is inactive.
    lapsed_after : duration, default "365D"
        A buyer with no purchase for at least this long is lapsed; longer than
        ``inactive_after``.
    archive_after : duration or None, default "730D"
        Anyone with no contact at all (no touchpoint of any kind) for at least this long is to
        be archived (data retention); None turns the status off.
    new_within : duration or None, default "90D"
        A buyer whose relationship started less than this long ago is new; None turns the
        status off.
    new_since : {"first_touch", "first_purchase"}, default "first_touch"
        Where the relationship starts for ``new_within``.

    Raises
    ------
    ConfigError
        Durations that cannot be read or are not positive, naming the parameter;
        ``lapsed_after <= inactive_after``.

    Examples
    --------
    >>> rules = InactivityRules(inactive_after="90D", lapsed_after="1w")
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: lapsed_after (7 days) must be longer than inactive_after (90 days)
    >>> InactivityRules(archive_after=None).archive_after is None
    True
    """

    inactive_after: np.timedelta64 = attrs.field(
        default=np.timedelta64(180, "D"), converter=_inactive_after
    )
    lapsed_after: np.timedelta64 = attrs.field(
        default=np.timedelta64(365, "D"), converter=_lapsed_after
    )
    archive_after: np.timedelta64 | None = attrs.field(
        default=np.timedelta64(730, "D"), converter=_archive_after
    )
    new_within: np.timedelta64 | None = attrs.field(
        default=np.timedelta64(90, "D"), converter=_new_within
    )
    new_since: str = attrs.field(default="first_touch", validator=_since)

    def __attrs_post_init__(self) -> None:
        if self.lapsed_after <= self.inactive_after:
            msg = (
                f"lapsed_after ({_days(self.lapsed_after)}) must be longer than "
                f"inactive_after ({_days(self.inactive_after)})"
            )
            raise ConfigError(msg)


def _days(td: np.timedelta64) -> str:
    days = int(td.astype(np.int64)) / _DAY_US
    return f"{days:g} days"


def lifecycle_status(
    data: TouchpointTable | JourneyTable | Table,
    rules: InactivityRules | None = None,
    *,
    as_of: Any = None,
    conversion_events: Iterable[str] | str | None = None,
) -> Table:
    """Lifecycle status of each customer at ``as_of``.

    Parameters
    ----------
    data : TouchpointTable, JourneyTable or Table
        Touchpoints, or a table made by :func:`rfm` (its ``as_of`` is the default).
    rules : InactivityRules, optional
        Thresholds; default ``InactivityRules()``.
    as_of : time, optional
        The date of the status; default the latest touchpoint (or the rfm table's ``as_of``).
    conversion_events : collection of str, optional
        Events that are purchases (as in :func:`rfm`).

    Returns
    -------
    Table
        One row per customer: ``customer``, ``status`` (category), ``days_since_purchase``
        (NaN for prospects) and ``days_since_contact`` (days as floats, from exact times).
        The ``notes`` of the RFM summary (no conversion event in the data...) carry over.

    Notes
    -----
    The first status that applies wins (:data:`LIFECYCLE_STATUSES` order):

    1. ``to_archive``: no touchpoint for at least ``archive_after`` (buyers or not);
    2. ``prospect``: never purchased;
    3. ``new``: the relationship (first touch, or first purchase with ``new_since``) started
       less than ``new_within`` ago;
    4. ``active``: last purchase less than ``inactive_after`` ago;
    5. ``inactive``: last purchase at least ``inactive_after`` but less than
       ``lapsed_after`` ago;
    6. ``lapsed``: last purchase at least ``lapsed_after`` ago.

    Thresholds are inclusive: a gap exactly equal to ``inactive_after`` is inactive.

    Examples
    --------
    >>> tp = TouchpointTable.from_columns({
    ...     "customer": ["old", "old", "fresh", "browser", "gone"],
    ...     "time": ["2023-01-01", "2024-06-01", "2024-12-01", "2024-11-01", "2022-01-01"],
    ...     "channel": ["store", "email", "web", "web", "store"],
    ...     "event": ["purchase", "email_open", "purchase", "product_view", "purchase"]})
    >>> s = lifecycle_status(tp, as_of="2025-01-01")
    >>> dict(zip(s["customer"], s["status"]))
    {'browser': 'prospect', 'fresh': 'new', 'gone': 'to_archive', 'old': 'lapsed'}
    >>> s["days_since_purchase"]
    array([ nan,  31., 1096.,  731.])
    """
    rules = InactivityRules() if rules is None else rules
    if not isinstance(rules, InactivityRules):
        msg = f"rules must be an InactivityRules, got {type(rules).__name__}"
        raise ConfigError(msg)
    if isinstance(data, (TouchpointTable, JourneyTable)):
        summary = rfm(data, as_of=as_of, conversion_events=conversion_events)
    elif isinstance(data, Table):
        summary = data
        for col in _RFM_COLUMNS:
            if col not in summary.columns:
                msg = f"lifecycle_status: the table has no column {col!r} (make it with rfm())"
                raise SchemaError(msg, table=summary.table_name, column=col)
    else:
        msg = f"lifecycle_status needs touchpoints, journeys or an rfm table, got {type(data).__name__}"
        raise ConfigError(msg)
    if as_of is not None:
        now = int(to_datetime64(as_of, name="as_of").view(np.int64))
    elif "as_of" in summary.meta:
        now = int(np.datetime64(summary.meta["as_of"], "us").view(np.int64))
    else:
        now = int(summary.raw("last_touch").view(np.int64).max()) if len(summary) else 0
    out = _status(summary, rules, now)
    if summary.notes:
        out = out.replace_columns(meta={"notes": summary.notes})
    return out


def _status(summary: Table, rules: InactivityRules, now: int) -> Table:
    def us(name: str) -> np.ndarray:
        return summary.raw(name).view(np.int64)

    buyer = us("first_purchase") != _NAT
    since_purchase = np.where(buyer, now - us("last_purchase"), 0)
    since_contact = now - us("last_touch")
    start = us("first_touch") if rules.new_since == "first_touch" else us("first_purchase")

    def limit(td: np.timedelta64 | None) -> int:
        return _MAX if td is None else int(td.astype(np.int64))

    conditions = [
        since_contact >= limit(rules.archive_after),
        ~buyer,
        buyer & (now - start < (limit(rules.new_within) if rules.new_within is not None else 0)),
        since_purchase < limit(rules.inactive_after),
        since_purchase < limit(rules.lapsed_after),
    ]
    precedence = np.select(conditions, np.arange(5), default=5)
    labels = np.array(sorted(LIFECYCLE_STATUSES), dtype=object)
    code_of = np.searchsorted(labels, np.array(LIFECYCLE_STATUSES, dtype=object))
    status = code_of[precedence].astype(np.int8)
    data = {
        "customer": summary.raw("customer"),
        "status": status,
        "days_since_purchase": np.where(buyer, since_purchase / _DAY_US, np.nan),
        "days_since_contact": since_contact / _DAY_US,
    }
    labels_of = {"customer": summary.labels("customer"), "status": labels}
    specs = {"status": ColumnSpec("status", "category")}
    return Table.from_arrays(data, labels_of, specs=specs, meta={"as_of": np.datetime64(now, "us")})

"""KPIs per period, channel, segment, store or team: one long table for every KPI.

:func:`kpis` sums each KPI's units into cells (a period and the group keys asked for) and
returns a :class:`KPITable` with one row per (KPI, cell): numerator, denominator and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._arrays import run_starts
from omnijourney._display import TableResult
from omnijourney._validation import duration
from omnijourney.errors import ConfigError
from omnijourney.metrics._periods import Periods, resolve_periods
from omnijourney.metrics._results import result_eq
from omnijourney.metrics._source import Source, customer_groups
from omnijourney.metrics._units import KPIS, Units, build_units, check_kpi
from omnijourney.tables import Table

__all__ = ["KPITable", "kpis"]

_DEFAULT_KPIS = ("visits", "customers", "conversion", "basket")
_DENSE_LIMIT = 1 << 26


def format_value(kpi: str, value: float) -> str:
    """A KPI value as people read it: rates in %, amounts with two decimals, counts whole."""
    if value != value:
        return "n/a"
    kind = KPIS[kpi].kind if kpi in KPIS else "mean"
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


@attrs.frozen(eq=False)
class KPITable(TableResult):
    """KPIs in long format: one row per KPI and cell (period and group keys).

    Attributes
    ----------
    table : Table
        ``kpi``, ``period``, one column per group key of ``by`` (``channel``, ``segment``,
        or a column of the touchpoints), ``numerator``, ``denominator``, ``value``
        (numerator / denominator; the numerator itself for the counts ``visits`` and
        ``customers``, whose denominator is 1). A period that holds no data has one row per
        KPI with zero numerator and denominator and a NaN value.
    by : tuple of str
        The group keys, ``"period"`` first.
    periods : Periods
        The periods and their UTC bounds.
    """

    __eq__ = result_eq

    table: Table
    by: tuple[str, ...]
    periods: Periods

    def __len__(self) -> int:
        return len(self.table)

    @property
    def kpis(self) -> tuple[str, ...]:
        """The KPIs in the table, in the order asked for."""
        seen: dict[str, None] = {}
        for k in self.table["kpi"].tolist():
            seen.setdefault(k, None)
        return tuple(seen)

    def value(self, kpi: str, **keys: Any) -> float:
        """The value of ``kpi`` in the one cell matching ``keys`` (e.g. ``period="2024-03"``).

        Raises ConfigError when no row or several rows match.
        """
        mask = self.table["kpi"] == kpi
        for name, wanted in keys.items():
            if name not in self.table.columns:
                msg = f"no key {name!r} in this KPI table; keys are {list(self.by)}"
                raise ConfigError(msg)
            col = self.table[name]
            mask &= np.array([v == wanted for v in col.tolist()], dtype=bool)
        hits = np.flatnonzero(mask)
        if hits.size != 1:
            msg = f"{hits.size} rows of the KPI table match kpi={kpi!r}, {keys}; give every key"
            raise ConfigError(msg)
        return float(self.table["value"][hits[0]])

    def to_table(self) -> Table:
        """The result's table (``table``), as the exports hand it over."""
        return self.table

    def to_pandas(self) -> Any:
        """The long table as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.table.to_pandas()

    def summary(self) -> str:
        """One sentence per KPI: its value over the first and the last period."""
        lines = [
            f"{fmt.plural(len(self.table), 'KPI value')} over "
            f"{fmt.plural(len(self.periods), 'period')} "
            f"({self.periods.kind}, {self.periods.tz}), by {', '.join(self.by)}"
        ]
        kpi_col = self.table["kpi"]
        periods = self.table["period"]
        for kpi in self.kpis:
            sel = kpi_col == kpi
            num = self.table["numerator"][sel]
            den = self.table["denominator"][sel]
            per = periods[sel]
            labels = [p for p in self.periods.labels if p in set(per.tolist())]
            totals = []
            for p in (labels[0], labels[-1]) if labels else ():
                m = per == p
                n, d = float(num[m].sum()), float(den[m].sum())
                totals.append((p, n if KPIS[kpi].kind == "count" else (n / d if d else np.nan)))
            text = KPIS[kpi].description
            if len(totals) == 2 and totals[0][0] != totals[1][0]:
                (p0, v0), (p1, v1) = totals
                lines.append(
                    f"{text[0].upper()}{text[1:]}: {format_value(kpi, v0)} in {p0}, "
                    f"{format_value(kpi, v1)} in {p1}."
                )
            elif totals:
                p0, v0 = totals[0]
                lines.append(f"{text[0].upper()}{text[1:]}: {format_value(kpi, v0)} in {p0}.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "KPITable: " + self.summary()


# --------------------------------------------------------------------------- cells


def _runs(customer: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Start of each run of units of one customer in one period (units in canonical order)."""
    return np.flatnonzero(run_starts(customer, period))


def distinct_count(
    units: Units,
    period: np.ndarray,
    key: np.ndarray | None,
    n_keys: int,
    n_periods: int,
    has: np.ndarray | None,
) -> np.ndarray:
    """Per cell (period x key), the number of distinct customers among the units (those
    where ``has``, all when None).

    Units in canonical order put each customer's units of a period in one run, so with at
    most 64 keys each run's keys are the bits of one OR of ``1 << key`` over the run: the
    distinct customers of a cell are the runs of its period whose bit is set, found without
    sorting or hashing pairs. Otherwise a dense mark array when it fits, else a sort.
    """
    n_cells = n_periods * n_keys
    if units.customer.size == 0:
        return np.zeros(n_cells)
    if units.sorted and n_keys <= 64:
        starts = _runs(units.customer, period)
        run_period = period[starts]
        inside = run_period >= 0
        if key is None:
            if has is not None:
                inside &= np.logical_or.reduceat(has, starts)
            return np.bincount(run_period[inside], minlength=n_periods).astype(np.float64)
        width = next(w for w in (8, 16, 32, 64) if n_keys <= w)
        dtype = np.dtype(f"uint{width}")
        bits = np.left_shift(dtype.type(1), key.astype(dtype))
        if has is not None:
            bits[~has] = 0
        masks = np.bitwise_or.reduceat(bits, starts)[inside]
        run_period = run_period[inside]
        out = np.zeros((n_periods, n_keys))
        for j in range(n_keys):
            out[:, j] = np.bincount(
                run_period, weights=(masks >> dtype.type(j)) & dtype.type(1), minlength=n_periods
            )
        return out.ravel()
    cell = period.astype(np.int64) * n_keys + (0 if key is None else key)
    keep = cell >= 0 if has is None else (cell >= 0) & has
    c, k = units.customer[keep].astype(np.int64), cell[keep]
    n_customers = int(c.max()) + 1 if c.size else 0
    if n_cells * n_customers <= _DENSE_LIMIT:
        # customer-major marks: units in customer order write to nearby places
        seen = np.zeros(n_cells * n_customers, dtype=bool)
        seen[c * n_cells + k] = True
        return seen.reshape(n_customers, n_cells).sum(axis=0).astype(np.float64)
    pairs = np.unique(k * n_customers + c)
    return np.bincount(pairs // n_customers, minlength=n_cells).astype(np.float64)


@attrs.define
class _Keys:
    """The group keys of a call: names, and for each its codes per unit and labels."""

    names: tuple[str, ...]
    sizes: list[int] = attrs.Factory(list)
    labels: list[np.ndarray] = attrs.Factory(list)


def _segments(src: Source, segments: Any) -> tuple[np.ndarray, np.ndarray]:
    if segments is None:
        from omnijourney.journeys import appetence

        segments = appetence(src.jt)
    per_customer, labels, _ = customer_groups(
        src, segments, "segment", "segments", warn_missing=True
    )
    return per_customer, labels


def _unit_keys(
    src: Source, units: Units, names: Sequence[str], kpi: str, segment_of: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    codes: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for name in names:
        if name == "segment":
            per_customer, lab = segment_of()
            c = per_customer[units.customer]
        elif name in units.keys:
            c, lab = units.keys[name]()
        else:
            what = "channel" if name == "channel" else f"column {name!r}"
            msg = (
                f"{src.who}: {kpi!r} is measured on {KPIS[kpi].unit}s, which have no {what}; "
                "it can be split by period and segment only"
            )
            if name != "channel" and name not in src.tp.columns:
                src.extra(name)  # raises the missing-column error
            raise ConfigError(msg)
        null = c < 0
        if null.any():  # nulls become the last label, None
            lab = np.append(np.asarray(lab, dtype=object), np.array([None], dtype=object))
            c = np.where(null, lab.size - 1, c.astype(np.int64))
        codes.append(c)
        labels.append(np.asarray(lab, dtype=object))
    return codes, labels


def _is_ones(values: np.ndarray) -> bool:
    """Whether ``values`` is the read-only broadcast of ones that units use for counts."""
    return values.ndim == 1 and values.strides == (0,) and (values.size == 0 or values[0] == 1)


def aggregate(
    units: Units,
    period: np.ndarray,
    codes: list[np.ndarray],
    labels: list[np.ndarray],
    n_periods: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cell index, numerator, denominator, present) over every cell of periods x keys.

    The cell of a unit is ``period * n_keys + key``; a unit outside every period (period
    -1) has a negative cell.
    """
    n_keys = int(np.prod([lab.size for lab in labels])) if labels else 1
    n_cells = n_periods * n_keys
    key: np.ndarray | None = None
    for c, lab in zip(codes, labels):
        key = c if key is None else key.astype(np.int64) * lab.size + c
    if n_cells >= 1 << 31:
        period = period.astype(np.int64)
    cell = period if key is None else period * n_keys + key
    outside = bool(period.size) and int(period.min()) < 0
    keep: np.ndarray | slice = cell >= 0 if outside else slice(None)
    inside = cell[keep]
    ones = _is_ones(units.num)
    has = None if ones else units.num > 0
    counts: np.ndarray | None = None
    if units.num_mode == "distinct":
        num = distinct_count(units, period, key, n_keys, n_periods, has)
    else:
        counts = np.bincount(inside, minlength=n_cells)
        num = (
            counts.astype(np.float64)
            if ones
            else np.bincount(inside, weights=units.num[keep], minlength=n_cells)
        )
    den: np.ndarray
    if units.den_mode == "one":
        den = np.ones(n_cells)
    elif units.den_mode == "distinct":
        den = distinct_count(units, period, key, n_keys, n_periods, None)
    elif units.den_ones:
        counts = np.bincount(inside, minlength=n_cells) if counts is None else counts
        den = counts.astype(np.float64)
    else:
        den = np.bincount(inside, weights=units.den[keep], minlength=n_cells)
    if counts is not None:
        present = counts > 0
    elif units.den_mode == "distinct":
        present = den > 0
    elif has is None:
        present = num > 0
    else:
        present = np.bincount(inside, minlength=n_cells) > 0
    return np.arange(n_cells), num, den, present


def _inactive(
    src: Source, periods: Periods, seg: np.ndarray | None, n_seg: int, after: np.timedelta64
) -> tuple[np.ndarray, np.ndarray]:
    """(inactive, known) customers at the end of each period (x segment)."""
    n_c = src.customer_labels.size
    cust, t = src.customer, src.time
    first_row = np.full(n_c, -1, dtype=np.int64)
    if cust.size:
        starts = np.flatnonzero(run_starts(cust))
        first_row[cust[starts]] = starts
    first_time = np.where(first_row >= 0, t[np.maximum(first_row, 0)], np.iinfo(np.int64).max)
    seg_c = seg if seg is not None else np.zeros(n_c, dtype=np.int64)
    gap = int(after.astype(np.int64))
    inactive = np.zeros((len(periods), n_seg))
    known = np.zeros((len(periods), n_seg))
    for i, end in enumerate(periods.ends.astype(np.int64).tolist()):
        is_known = first_time < end
        window = (t >= end - gap) & (t < end)
        active = np.zeros(n_c, dtype=bool)
        active[cust[window]] = True
        known[i] = np.bincount(seg_c[is_known], minlength=n_seg)
        inactive[i] = np.bincount(seg_c[is_known & ~active], minlength=n_seg)
    return inactive.ravel(), known.ravel()


def _check_by(by: Any) -> tuple[str, ...]:
    if isinstance(by, str):
        by = (by,)
    try:
        names = tuple(by)
    except TypeError:
        names = ()
    if not names or not all(isinstance(b, str) for b in names) or len(set(names)) != len(names):
        msg = (
            "The 'by' parameter must be a key name or a sequence of distinct key names "
            f"('period', 'channel', 'segment', or a column of the touchpoints). Got {by!r} instead."
        )
        raise ConfigError(msg)
    return ("period", *[b for b in names if b != "period"])


def kpis(
    journeys: Any,
    names: str | Sequence[str] = _DEFAULT_KPIS,
    *,
    by: str | Sequence[str] = "period",
    period: Any = "month",
    tz: str = "UTC",
    segments: Any = None,
    responses: Any = None,
    inactive_after: Any = "365D",
) -> KPITable:
    """KPIs of journeys per period, channel, segment, store or team.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`omnijourney.sessionize`.
    names : str or sequence of str
        KPIs to compute (see :data:`KPIS` and the table below); default visits, customers,
        conversion and basket.
    by : str or sequence of str
        Group keys besides the period: ``"channel"``, ``"segment"``, or the name of a column
        of the touchpoints (a store, a sales team...). ``"period"`` is always a key.
    period : str, mapping or None
        ``"day"``, ``"week"`` (ISO, from Monday), ``"month"`` (default), ``"quarter"``,
        ``"year"``; a mapping of name -> (start, end) for named windows (``{"before": (...),
        "after": (...)}``, half-open, naive times read in ``tz``); None for the whole data.
    tz : str
        Time zone whose calendar the periods follow (default UTC).
    segments : mapping or Table, optional
        Customer -> segment (a dict, or a table with ``customer`` and ``segment`` columns);
        default the appetence segments of :func:`omnijourney.journeys.appetence`. Customers
        without a segment are counted under segment None, with a warning.
    responses : Table or mapping, optional
        Survey answers for ``survey`` and ``survey_new``: ``customer``, ``time``, ``score``.
    inactive_after : duration
        ``inactive_share``: a known customer is inactive at the end of a period when they had
        no touchpoint during this long before it (default 365 days).

    Returns
    -------
    KPITable

    Notes
    -----
    =======================  ===========  ===============================================
    KPI                      unit         numerator / denominator
    =======================  ===========  ===============================================
    visits                   visit        visits (a count)
    customers                customer     distinct customers with a touchpoint (a count)
    conversion               journey      converted journeys / journeys
    visit_conversion         visit        visits with a conversion / visits
    basket                   order        order value / orders with a value
    cross_channel            order        orders whose journey started on another channel
    web_to_store             order        ... started on a digital channel, bought in store
    store_to_web             order        ... started in store, bought on a digital channel
    click_and_collect        order        orders whose order or reservation id is on a
                                          digital channel, then on a physical one
    ropo                     order        orders in store after a digital touchpoint of the
                                          journey, click and collect excluded
    quote_to_sale            quote        signed quotes / quotes
    buyer_rate               customer     customers with an order / active customers
    spend_per_customer       customer     order value / active customers
    purchases_per_customer   customer     orders / active customers
    repeat_rate              buyer        buyers who had bought before / buyers
    inactive_share           customer     known customers without a touchpoint in
                                          ``inactive_after`` before the period's end / known
    survey                   response     sum of scores / responses
    survey_new               response     the same, for customers whose first order is in
                                          the period of their response
    =======================  ===========  ===============================================

    A journey, visit, order or quote falls in the period of its first touchpoint. Its channel
    is that of its first touchpoint (the order's own for orders; the one where the journey
    started is its first touchpoint on a digital, marketplace, physical or assisted channel,
    since messages and media follow campaigns). Its value of a touchpoint column (a store, a
    team) is the first non-null value among its touchpoints: a quote belongs to the team
    named on its touchpoints, whichever channel it started on. ``survey_new`` splits by the
    channel of the customer's first order.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b", "b"],
    ...     "time": ["2024-01-03", "2024-01-03T00:10", "2024-01-05", "2024-02-01",
    ...              "2024-02-01T00:05"],
    ...     "channel": ["web", "web", "store", "web", "web"],
    ...     "event": ["product_view", "purchase", "store_visit", "product_view", "purchase"],
    ...     "value": [None, 40.0, None, None, 60.0]})
    >>> k = kpis(oj.sessionize(tp), ["conversion", "basket"])
    >>> k.value("conversion", period="2024-01"), k.value("basket", period="2024-02")
    (0.5, 60.0)
    """
    src = Source(journeys, "kpis")
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        msg = "The 'names' parameter must name at least one KPI. Got an empty sequence."
        raise ConfigError(msg)
    for name in names:
        check_kpi(name)
    keys = _check_by(by)
    after = duration(inactive_after, "inactive_after")
    assert after is not None
    per = resolve_periods(period, tz, src.time)
    group_names = keys[1:]
    seg_cache: list[Any] = []

    def segment_of() -> tuple[np.ndarray, np.ndarray]:
        if not seg_cache:
            seg_cache.append(_segments(src, segments))
        return seg_cache[0]

    rows: dict[str, list[Any]] = {k: [] for k in ("kpi", *keys, "numerator", "denominator")}

    for name in names:
        if name == "inactive_share":
            for g in group_names:
                if g != "segment":
                    msg = "kpis: 'inactive_share' is measured on customers; it can be split by period and segment only"
                    raise ConfigError(msg)
            seg, seg_labels = (
                segment_of() if group_names else (None, np.array([None], dtype=object))
            )
            if seg is not None and (seg < 0).any():
                seg_labels = np.append(seg_labels, np.array([None], dtype=object))
                seg = np.where(seg < 0, seg_labels.size - 1, seg)
            num, den = _inactive(src, per, seg, seg_labels.size, after)
            lab_list = [seg_labels] if group_names else []
            cells = np.arange(num.size)
            present = den > 0
        else:
            units = build_units(src, name, responses=responses, periods_of=per.index)
            period_idx = units.periods(src, per)
            codes, lab_list = _unit_keys(src, units, group_names, name, segment_of)

            cells, num, den, present = aggregate(units, period_idx, codes, lab_list, len(per))
        _emit(rows, name, keys, per, lab_list, cells, num, den, present)

    data: dict[str, Any] = {k: v for k, v in rows.items()}
    num = np.asarray(data["numerator"], dtype=np.float64)
    den = np.asarray(data["denominator"], dtype=np.float64)
    is_count = np.array([KPIS[k].kind == "count" for k in data["kpi"]], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(is_count, num, num / den)
    value = np.where(is_count & (den == 0), np.nan, value)
    data["numerator"], data["denominator"], data["value"] = num, den, value
    kinds = {k: "category" for k in ("kpi", *keys)}
    cols: dict[str, Any] = {}
    for k, v in data.items():
        arr = (
            np.empty(len(v), dtype=object) if k not in ("numerator", "denominator", "value") else v
        )
        if arr is not v:
            arr[:] = v
        cols[k] = arr
    table = Table.from_columns(cols, kinds=kinds)
    return KPITable(table=table, by=keys, periods=per)


def _emit(
    rows: dict[str, list[Any]],
    name: str,
    keys: tuple[str, ...],
    per: Periods,
    labels: list[np.ndarray],
    cells: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
    present: np.ndarray,
) -> None:
    sizes = [len(per)] + [lab.size for lab in labels]
    coords = np.unravel_index(cells, sizes)
    shown = present
    periods_with_rows = set(coords[0][shown].tolist())
    for i in np.flatnonzero(shown).tolist():
        rows["kpi"].append(name)
        rows["period"].append(per.labels[coords[0][i]])
        for j, key in enumerate(keys[1:]):
            rows[key].append(labels[j][coords[j + 1][i]])
        rows["numerator"].append(float(num[i]))
        rows["denominator"].append(float(den[i]))
    for p in range(len(per)):
        if p not in periods_with_rows:  # a period without data: one NaN row
            rows["kpi"].append(name)
            rows["period"].append(per.labels[p])
            for key in keys[1:]:
                rows[key].append(None)
            rows["numerator"].append(0.0)
            rows["denominator"].append(0.0)

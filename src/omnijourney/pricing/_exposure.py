"""Exposure: which customers saw or paid a price that a finding concerns, and who paid another
price than the one they saw on another channel.

Touchpoints join findings and price intervals through an ``sku`` column (and, when present,
``location``, ``price`` and ``quantity`` columns) added to the touchpoint table as extra columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._arrays import grouped_search, pack, pack_bits, ranges
from omnijourney._deprecation import renamed_parameters
from omnijourney._validation import names
from omnijourney.errors import ConfigError, DataError, SchemaError
from omnijourney.pricing._checks_promo import _Index
from omnijourney.pricing._findings import FindingTable, PriceAudit
from omnijourney.pricing._policy import RULES, Policy, Tolerance
from omnijourney.pricing._series import Context, build_series, series_key
from omnijourney.pricing._tables import PriceTable, as_table
from omnijourney.tables import Table, TouchpointTable, factorize, remap_codes, union_labels
from omnijourney.time import TIME_DTYPE, to_timedelta64

__all__ = ["EXPOSURE_RULES", "Exposure", "exposure"]

_MARGIN = 1e-9  # money compared with a tolerance: rounding noise of float amounts

#: Rules whose findings customers can be exposed to (prices and promotions they could see):
#: every audit rule but staleness, promotions without a price and the stock-feed ones.
EXPOSURE_RULES = frozenset(RULES) - {
    "stale_price",
    "promotion_without_price",
    "negative_stock",
    "impossible_stock",
    "stock_mismatch",
}


@attrs.frozen(repr=False)
class Exposure:
    """Customers exposed to findings, and prices seen on one channel but paid on another.

    Attributes
    ----------
    exposed : Table
        One row per (touchpoint, finding) where a touchpoint with the finding's sku happened
        on its channel (and location) during its interval: ``customer``, ``time``,
        ``channel``, ``location``, ``sku``, ``event``, ``purchase`` (a purchase event),
        ``quantity``, ``rule``, ``finding`` (row of the findings table), ``severity``,
        ``at_stake`` (the finding's money at stake per unit times the quantity, for purchases;
        0 otherwise), ``row`` (touchpoint row) and ``journey_id`` (-1 without journeys).
    mismatches : Table
        One row per purchase paid at another price than the one the customer saw on another
        channel within ``window`` before: ``customer``, ``sku``, ``seen_channel``,
        ``seen_time``, ``seen_price``, ``paid_channel``, ``paid_time``, ``paid_price``,
        ``quantity``, ``difference`` (``(paid - seen) * quantity``), ``seen_row``,
        ``paid_row`` and ``journey_id``.
    window : numpy.timedelta64
        How far back a view counts for a purchase.
    currency : str or None
        The currency of the money at stake, when the findings have one (None otherwise).
    """

    exposed: Table = attrs.field(eq=False)
    mismatches: Table = attrs.field(eq=False)
    window: np.timedelta64
    currency: str | None = None

    def customers(self, rule: str | None = None) -> np.ndarray:
        """Distinct customers exposed (to ``rule`` only, when given), sorted."""
        t = self.exposed
        if rule is not None:
            t = t[t["rule"] == rule]
        return np.array(sorted(set(t["customer"].tolist())), dtype=object)

    def summary(self) -> str:
        """The exposure in plain language: customers, touchpoints and purchases exposed to
        findings with the money at stake, in all and per rule, then the purchases paid at
        another price than the one seen on another channel. The numbers per rule are
        :meth:`summary_table`."""
        t = self.summary_table()
        rows = len(t) - 1  # the last row is price_mismatch
        e = self.exposed
        if rows:
            whole = _described(
                int(np.unique(e.raw("customer")).size),
                int(np.unique(e["row"]).size),
                int(np.unique(e["row"][e["purchase"]]).size),
                float(np.nansum(e["at_stake"])),
                self.currency,
            )
            lines = [f"Exposed to findings: {whole}."]
            lines += [
                f"  {t['rule'][i]}: "
                + _described(
                    int(t["customers"][i]),
                    int(t["touchpoints"][i]),
                    int(t["purchases"][i]),
                    float(t["money_at_stake"][i]),
                    self.currency,
                )
                for i in range(rows)
            ]
        else:
            lines = ["No customer exposed to a finding."]
        m = self.mismatches
        window = fmt.duration(self.window)
        if len(m):
            lines.append(
                f"Paid at another price than seen on another channel within {window}: "
                f"{fmt.plural(len(m), 'purchase')} by "
                f"{fmt.plural(int(t['customers'][rows]), 'customer')}; paid minus seen: "
                f"{fmt.money(t['money_at_stake'][rows], self.currency)} in all."
            )
        else:
            lines.append(
                f"No purchase paid at another price than seen on another channel within {window}."
            )
        return "\n".join(lines)

    def summary_table(self) -> Table:
        """Per rule: customers, touchpoints and purchases exposed, money at stake; plus a
        ``price_mismatch`` row (customers and purchases paid differently from the price seen
        on another channel, and the total difference)."""
        e, m = self.exposed, self.mismatches
        rules = sorted(set(e["rule"].tolist()))
        rows: dict[str, list[Any]] = {
            k: [] for k in ("rule", "customers", "touchpoints", "purchases", "money_at_stake")
        }
        rule_col, cust, purchase = e["rule"], e.raw("customer"), e["purchase"]
        for r in rules:
            sel = rule_col == r
            rows["rule"].append(r)
            rows["customers"].append(int(np.unique(cust[sel]).size))
            rows["touchpoints"].append(int(np.unique(e["row"][sel]).size))
            rows["purchases"].append(int(np.unique(e["row"][sel & purchase]).size))
            rows["money_at_stake"].append(float(np.nansum(e["at_stake"][sel])))
        rows["rule"].append("price_mismatch")
        rows["customers"].append(int(np.unique(m.raw("customer")).size) if len(m) else 0)
        rows["touchpoints"].append(len(m))
        rows["purchases"].append(len(m))
        rows["money_at_stake"].append(float(np.nansum(m["difference"])) if len(m) else 0.0)
        return Table.from_columns(
            rows,
            kinds={
                "rule": "category",
                "customers": "int",
                "touchpoints": "int",
                "purchases": "int",
                "money_at_stake": "float",
            },
        )

    def __repr__(self) -> str:
        n_c = len(set(self.exposed["customer"].tolist())) if len(self.exposed) else 0
        return (
            f"Exposure({len(self.exposed):,} touchpoints x findings, {n_c:,} customers exposed; "
            f"{len(self.mismatches):,} purchases paid at another price than seen)"
        )


def _described(customers: int, touchpoints: int, purchases: int, money: float, cur: Any) -> str:
    return (
        f"{fmt.plural(customers, 'customer')} through {fmt.plural(touchpoints, 'touchpoint')} "
        f"({fmt.plural(purchases, 'purchase')}), {fmt.money(money, cur)} at stake"
    )


def _mask(labels: np.ndarray, names: Iterable[str]) -> np.ndarray:
    wanted = set(names)
    return np.array([str(x) in wanted for x in labels.tolist()], dtype=bool)


@renamed_parameters(purchase_events="conversion_events")
def exposure(
    result: PriceAudit | FindingTable,
    touchpoints: Any,
    prices: PriceTable | Any | None = None,
    *,
    sku: str = "sku",
    location: str | None = None,
    price: str | None = None,
    quantity: str | None = None,
    window: Any = "7D",
    conversion_events: Iterable[str] | str = ("purchase", "order"),
    rules: Iterable[str] | None = None,
    tolerance: Tolerance | None = None,
    policy: Policy | None = None,
) -> Exposure:
    """Join findings and prices with the touchpoints of customers.

    Parameters
    ----------
    result : PriceAudit or FindingTable
        The audit to join.
    touchpoints : TouchpointTable or JourneyTable
        Touchpoints with an ``sku`` extra column (touchpoints without sku are ignored). With a
        :class:`~omnijourney.JourneyTable` the rows carry their ``journey_id``.
    prices : PriceTable, optional
        Price intervals, for the price a customer saw or paid when the touchpoints have no
        ``price`` column (public price of the sku on that channel and location at that time).
    sku, location, price, quantity : str, optional
        Names of the touchpoint columns. ``location`` (default: a ``location`` column if any)
        matches findings at stores; a touchpoint without one matches findings without a
        location or at an online location. ``price`` (default: a ``price`` column if any) is
        the price seen or paid; ``quantity`` (default: a ``quantity`` column, else 1) the units
        bought.
    window : duration, default "7D"
        How long before a purchase a view on another channel counts.
    conversion_events : collection of str, default ("purchase", "order")
        Events where a customer pays; every other event with a sku is a view. (Named
        ``purchase_events`` before, a name still accepted with a ``DeprecationWarning``.)
    rules : collection of str, optional
        Rules whose findings count (default :data:`EXPOSURE_RULES`).
    tolerance : Tolerance, optional
        How far a paid price may be from the price seen (default: 1 cent); a difference of
        exactly the tolerance is allowed.
    policy : Policy, optional
        For the online locations (default: the audit's policy).

    Returns
    -------
    Exposure

    Notes
    -----
    Touchpoints are matched to findings by one sort and two binary searches per finding,
    O((n + f) log n) plus the matches; each purchase is paired with the latest view of the
    same sku by the same customer on each other channel, one binary search per channel.

    Examples
    --------
    >>> import omnijourney as oj
    >>> prices = oj.pricing.PriceTable.from_columns({
    ...     "sku": ["A1", "A1"], "channel": ["web", "store"], "price": [9.99, 12.99],
    ...     "valid_from": ["2024-05-01", "2024-05-01"]})
    >>> result = oj.pricing.audit(prices, as_of="2024-06-01")
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["c1", "c1"], "time": ["2024-05-03T10:00", "2024-05-04T15:00"],
    ...     "channel": ["web", "store"], "event": ["product_view", "purchase"],
    ...     "sku": ["A1", "A1"]}, extra=["sku"])
    >>> exp = oj.pricing.exposure(result, tp, prices)
    >>> exp.mismatches["seen_price"].tolist(), exp.mismatches["paid_price"].tolist()
    ([9.99], [12.99])
    >>> print(exp.summary())
    Exposed to findings: 1 customer through 2 touchpoints (1 purchase), 1.50 at stake.
      price_gap: 1 customer through 2 touchpoints (1 purchase), 1.50 at stake
    Paid at another price than seen on another channel within 7 d: 1 purchase by 1 customer; paid minus seen: 3.00 in all.
    """
    findings = result.findings if isinstance(result, PriceAudit) else result
    if not isinstance(findings, FindingTable):
        msg = f"result must be a PriceAudit or a FindingTable, got {type(result).__name__}"
        raise ConfigError(msg)
    if policy is None:
        policy = result.policy if isinstance(result, PriceAudit) else Policy()
    tp, journey = _touchpoints(touchpoints)
    if sku not in tp.columns:
        msg = (
            f"exposure needs touchpoints with a {sku!r} column (an extra column of the "
            f"TouchpointTable); columns are {list(tp.columns)}"
        )
        raise SchemaError(msg, table="TouchpointTable", column=sku)
    location = (
        location if location is not None else ("location" if "location" in tp.columns else None)
    )
    price = price if price is not None else ("price" if "price" in tp.columns else None)
    quantity = (
        quantity if quantity is not None else ("quantity" if "quantity" in tp.columns else None)
    )
    for name in (location, price, quantity):
        if name is not None and name not in tp.columns:
            msg = f"touchpoints have no column {name!r}; columns are {list(tp.columns)}"
            raise SchemaError(msg, table="TouchpointTable", column=name)
    win = int(to_timedelta64(window, name="window").astype(np.int64))
    tol = tolerance if tolerance is not None else Tolerance(amount=0.01, pct=0.0)
    kept_rules = EXPOSURE_RULES if rules is None else names(rules, "rules")
    prices_t = as_table(PriceTable, prices, "prices")

    # common dictionaries: the findings' and the touchpoints'
    t = _TP(tp, findings, sku, location, price, quantity, conversion_events, prices_t)
    exposed = _exposed(t, findings, kept_rules, policy, journey)
    mismatches = _mismatches(t, _PriceLookup(t, prices_t, policy), win, tol, journey)
    used = np.unique(findings.raw("currency")[findings.raw("currency") >= 0])
    currency = str(findings.labels("currency")[used[0]]) if used.size == 1 else None
    return Exposure(
        exposed=exposed,
        mismatches=mismatches,
        window=np.timedelta64(win, "us"),
        currency=currency,
    )


def _touchpoints(value: Any) -> tuple[TouchpointTable, np.ndarray | None]:
    from omnijourney.journeys import JourneyTable

    if isinstance(value, JourneyTable):
        tp = value.touchpoints[value.carried :] if value.carried else value.touchpoints
        return tp, np.asarray(value.journey_id, dtype=np.int64)
    if isinstance(value, TouchpointTable):
        return value, None
    msg = f"touchpoints must be a TouchpointTable or a JourneyTable, got {type(value).__name__}"
    raise ConfigError(msg)


class _TP:
    """Touchpoints with a sku, their codes in common dictionaries, prices and quantities."""

    def __init__(
        self,
        tp: TouchpointTable,
        findings: FindingTable,
        sku: str,
        location: str | None,
        price: str | None,
        quantity: str | None,
        conversion_events: Iterable[str] | str,
        prices: PriceTable | None,
    ) -> None:
        self.tp = tp
        tables: list[Table] = [findings] + ([prices] if prices is not None else [])
        sku_raw, sku_lab = _as_category(tp, sku)
        self.sku_labels = union_labels(
            [sku_lab, *(x.labels("sku") for x in tables)], column="sku", table="exposure"
        )
        self.channel_labels = union_labels(
            [tp.labels("channel"), *(x.labels("channel") for x in tables)],
            column="channel",
            table="exposure",
        )
        loc_parts = [x.labels("location") for x in tables if "location" in x.columns]
        if location is not None:
            loc_raw, loc_lab = _as_category(tp, location)
            loc_parts.append(loc_lab)
        self.location_labels = (
            union_labels(loc_parts, column="location", table="exposure")
            if loc_parts
            else np.zeros(0, object)
        )
        rows = np.flatnonzero(sku_raw >= 0)
        self.row = rows
        self.sku = remap_codes(sku_raw, sku_lab, self.sku_labels).astype(np.int64)[rows]
        self.channel = remap_codes(
            tp.raw("channel"), tp.labels("channel"), self.channel_labels
        ).astype(np.int64)[rows]
        if location is not None:
            self.location = remap_codes(loc_raw, loc_lab, self.location_labels).astype(np.int64)[
                rows
            ]
        else:
            self.location = np.full(rows.size, -1, dtype=np.int64)
        self.time = tp.raw("time").view(np.int64)[rows]
        self.customer = tp.raw("customer").astype(np.int64)[rows]
        ev = tp.raw("event").astype(np.int64)[rows]
        self.purchase = _mask(tp.labels("event"), names(conversion_events, "conversion_events"))[ev]
        self.price = (
            tp.raw(price).astype(np.float64)[rows]
            if price is not None
            else np.full(rows.size, np.nan)
        )
        self.quantity = (
            np.nan_to_num(tp.raw(quantity).astype(np.float64)[rows], nan=1.0)
            if quantity is not None
            else np.ones(rows.size)
        )

    def codes_in(self, table: Table, name: str, labels: np.ndarray) -> np.ndarray:
        return remap_codes(table.raw(name), table.labels(name), labels).astype(np.int64)


def _as_category(tp: TouchpointTable, name: str) -> tuple[np.ndarray, np.ndarray]:
    if tp.kinds[name] == "category":
        return tp.raw(name), tp.labels(name)
    try:
        return factorize(tp.column_values(name))
    except DataError as exc:
        raise DataError(
            exc.reason, table=tp.table_name, column=name, rows=exc.rows, values=exc.values
        ) from None


def _exposed(
    t: _TP, f: FindingTable, rules: frozenset[str], policy: Policy, journey: np.ndarray | None
) -> Table:
    """Touchpoints of a finding's sku and channel during its interval (and at its location)."""
    keep = np.flatnonzero(_mask(f.labels("rule"), rules)[f.raw("rule")] & ~np.isnat(f.raw("start")))
    f_sku = t.codes_in(f, "sku", t.sku_labels)[keep]
    f_ch = t.codes_in(f, "channel", t.channel_labels)[keep]
    f_loc = (
        t.codes_in(f, "location", t.location_labels)[keep]
        if t.location_labels.size
        else np.full(keep.size, -1)
    )
    f0 = f.raw("start").view(np.int64)[keep]
    f1 = f.raw("end").view(np.int64)[keep]
    n_ch = t.channel_labels.size
    group_tp = t.sku * n_ch + t.channel
    group_f = f_sku * n_ch + f_ch
    ok = (f_sku >= 0) & (f_ch >= 0)
    lo_t = int(min(t.time.min(initial=0), f0.min(initial=0)))
    hi_t = int(max(t.time.max(initial=0), f1.max(initial=0)))
    n_groups = int(max(group_tp.max(initial=0), group_f.max(initial=0))) + 1
    bits = pack_bits(n_groups, lo_t, hi_t)
    if bits is not None:
        key = pack(group_tp, t.time, lo_t, bits)
        order = np.argsort(key, kind="stable")
        sk = key[order]
        a = np.searchsorted(sk, pack(group_f, f0, lo_t, bits), "left")
        b = np.searchsorted(sk, pack(group_f, f1, lo_t, bits), "left")
    else:  # pragma: no cover - centuries of data
        order = np.lexsort((t.time, group_tp))
        g_sorted = group_tp[order]
        off_lo = np.searchsorted(g_sorted, group_f, "left")
        off_hi = np.searchsorted(g_sorted, group_f, "right")
        ts = t.time[order]
        a = grouped_search(ts, off_lo, off_hi, f0, "left")
        b = grouped_search(ts, off_lo, off_hi, f1, "left")
    a, b = np.where(ok, a, 0), np.where(ok, b, 0)
    pos = ranges(a, b)
    which = np.repeat(np.arange(keep.size), np.maximum(b - a, 0))
    r = order[pos]
    online = np.append(_mask(t.location_labels, policy.online_locations), False)
    tl, fl = t.location[r], f_loc[which]
    loc_ok = (tl == fl) | (fl < 0) | ((tl < 0) & online[fl])  # fl == -1 picks the False
    r, which = r[loc_ok], which[loc_ok]
    fi = keep[which]
    stake = f.raw("at_stake")[fi]
    purchase = t.purchase[r]
    at_stake = np.where(purchase & ~np.isnan(stake), stake * t.quantity[r], 0.0)
    rows = t.row[r]
    tp = t.tp
    out = {
        "customer": tp["customer"][rows] if rows.size else np.zeros(0, object),
        "time": t.time[r].view(TIME_DTYPE),
        "channel": _decode(t.channel_labels, t.channel[r]),
        "location": _decode(t.location_labels, t.location[r]),
        "sku": _decode(t.sku_labels, t.sku[r]),
        "event": tp["event"][rows] if rows.size else np.zeros(0, object),
        "purchase": purchase,
        "quantity": t.quantity[r],
        "rule": f["rule"][fi] if fi.size else np.zeros(0, object),
        "finding": fi.astype(np.int64),
        "severity": f["severity"][fi] if fi.size else np.zeros(0, object),
        "at_stake": at_stake,
        "row": rows.astype(np.int64),
        "journey_id": journey[rows] if journey is not None else np.full(rows.size, -1, np.int64),
    }
    kinds = {
        k: "category"
        for k in ("customer", "channel", "location", "sku", "event", "rule", "severity")
    }
    kinds.update(
        time="time",
        purchase="bool",
        quantity="float",
        finding="int",
        at_stake="float",
        row="int",
        journey_id="int",
    )
    table = Table.from_columns(out, kinds=kinds)
    return table[np.lexsort((table.raw("finding"), table.raw("row")))] if len(table) else table


def _decode(labels: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.empty(codes.size, dtype=object)
    if labels.size:
        out[:] = labels[np.maximum(codes, 0)]
    out[codes < 0] = None
    return out


class _PriceLookup:
    """The price a touchpoint saw or paid: its own ``price``, else the public price of its sku
    on its channel and location at its time (a touchpoint without location takes the series
    without location, else the online one)."""

    def __init__(self, t: _TP, prices: PriceTable | None, policy: Policy) -> None:
        self.t, self.policy = t, policy
        self.ctx: Context | None = None
        if prices is not None:
            tables: dict[str, Table | None] = {"prices": prices}
            self.ctx = Context.build(policy, tables, None, 0, 0)
            self.series, _ = build_series(prices, self.ctx)

    def __call__(self, idx: np.ndarray) -> np.ndarray:
        t = self.t
        out = t.price[idx].copy()
        need = np.flatnonzero(np.isnan(out))
        if self.ctx is None or need.size == 0 or self.series.n == 0:
            return out
        ctx, series = self.ctx, self.series
        j = idx[need]
        sku = _recode(t.sku[j], t.sku_labels, ctx.sku_labels)
        ch = _recode(t.channel[j], t.channel_labels, ctx.channel_labels)
        loc = _recode(t.location[j], t.location_labels, ctx.location_labels)
        online = _mask(ctx.location_labels, self.policy.online_locations)
        n_ch, n_loc = ctx.channel_labels.size, ctx.location_labels.size
        skey = series_key(series.sku, series.channel, series.location, series.audience, n_ch, n_loc)
        sid = np.full(j.size, -1, dtype=np.int64)
        candidates = [loc]
        if online.any():
            candidates.append(np.where(loc < 0, int(np.flatnonzero(online)[0]), loc))
        for cand in candidates:
            todo = np.flatnonzero((sid < 0) & (sku >= 0) & (ch >= 0))
            if todo.size == 0:
                break
            q = series_key(sku[todo], ch[todo], cand[todo], 0, n_ch, n_loc)
            p = np.minimum(np.searchsorted(skey, q), series.n - 1)
            hit = skey[p] == q
            sid[todo[hit]] = p[hit]
        out[need] = _Index(series).price_at(sid, t.time[j])
        return out


def _recode(codes: np.ndarray, labels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Codes into ``labels`` re-expressed into ``target`` (-1 where the label is absent)."""
    if target.size == 0 or labels.size == 0:
        return np.full(codes.size, -1, dtype=np.int64)
    lab = labels.astype(str) if labels.dtype.kind == "O" else labels
    tgt = target.astype(str) if target.dtype.kind == "O" else target
    pos = np.minimum(np.searchsorted(tgt, lab), target.size - 1)
    found = tgt[pos] == lab
    mapped = np.where(found, pos, -1)
    return np.where(codes >= 0, mapped[np.maximum(codes, 0)], -1).astype(np.int64)


def _mismatches(
    t: _TP, price_of: _PriceLookup, window: int, tol: Tolerance, journey: np.ndarray | None
) -> Table:
    """Each purchase against the latest view of its sku by its customer on another channel."""
    buys = np.flatnonzero(t.purchase)
    views = np.flatnonzero(~t.purchase)
    best = np.full(buys.size, -1, dtype=np.int64)
    if buys.size and views.size:
        n_sku = t.sku_labels.size
        g_v = t.customer[views] * n_sku + t.sku[views]
        g_b = t.customer[buys] * n_sku + t.sku[buys]
        lo_t = int(min(t.time.min(), 0))
        bits = pack_bits(int(max(g_v.max(), g_b.max())) + 1, lo_t, int(t.time.max()))
        for c in np.flatnonzero(np.bincount(t.channel[views])).tolist():
            vc = views[t.channel[views] == c]
            other = np.flatnonzero(t.channel[buys] != c)
            if bits is not None:
                key = pack(g_v[t.channel[views] == c], t.time[vc], lo_t, bits)
                order = np.argsort(key, kind="stable")
                vc, key = vc[order], key[order]
                p = (
                    np.searchsorted(key, pack(g_b[other], t.time[buys[other]], lo_t, bits), "right")
                    - 1
                )
            else:  # pragma: no cover - centuries of data
                gv = t.customer[vc] * n_sku + t.sku[vc]
                order = np.lexsort((t.time[vc], gv))
                vc, gv = vc[order], gv[order]
                lo = np.searchsorted(gv, g_b[other], "left")
                hi = np.searchsorted(gv, g_b[other], "right")
                p = grouped_search(t.time[vc], lo, hi, t.time[buys[other]], "right") - 1
                p = np.where(p >= lo, p, -1)
            v = vc[np.maximum(p, 0)]
            b = buys[other]
            hit = (
                (p >= 0)
                & (t.customer[v] == t.customer[b])
                & (t.sku[v] == t.sku[b])
                & (t.time[b] - t.time[v] <= window)
            )
            if journey is not None:
                hit &= journey[t.row[v]] == journey[t.row[b]]
            cur = best[other]
            better = hit & ((cur < 0) | (t.time[v] > t.time[np.maximum(cur, 0)]))
            best[other[better]] = v[better]
    pairs = np.flatnonzero(best >= 0)
    b, v = buys[pairs], best[pairs]
    seen = price_of(v)
    paid = price_of(b)
    with np.errstate(invalid="ignore"):
        # a difference of exactly the tolerance is allowed: |100.01 - 100.00| is above 0.01 in
        # floating point, so compare with a margin far below a cent
        diff = np.abs(paid - seen) > tol.limit(seen) + _MARGIN
    b, v, seen, paid = b[diff], v[diff], seen[diff], paid[diff]
    rows_b, rows_v = t.row[b], t.row[v]
    tp = t.tp
    out = {
        "customer": tp["customer"][rows_b] if rows_b.size else np.zeros(0, object),
        "sku": _decode(t.sku_labels, t.sku[b]),
        "seen_channel": _decode(t.channel_labels, t.channel[v]),
        "seen_time": t.time[v].view(TIME_DTYPE),
        "seen_price": seen,
        "paid_channel": _decode(t.channel_labels, t.channel[b]),
        "paid_time": t.time[b].view(TIME_DTYPE),
        "paid_price": paid,
        "quantity": t.quantity[b],
        "difference": (paid - seen) * t.quantity[b],
        "seen_row": rows_v.astype(np.int64),
        "paid_row": rows_b.astype(np.int64),
        "journey_id": journey[rows_b] if journey is not None else np.full(b.size, -1, np.int64),
    }
    kinds = {k: "category" for k in ("customer", "sku", "seen_channel", "paid_channel")}
    kinds.update(
        seen_time="time", paid_time="time", seen_price="float", paid_price="float",
        quantity="float", difference="float", seen_row="int", paid_row="int", journey_id="int",
    )  # fmt: skip
    table = Table.from_columns(out, kinds=kinds)
    return table[np.argsort(table.raw("paid_row"), kind="stable")] if len(table) else table

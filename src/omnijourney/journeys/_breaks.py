"""Cross-channel break points: where a journey continued on, or fell back to, another channel.

Breaks are found two ways. Reference ids (quote, cart, order, reservation) link steps across
channels exactly; where no id links them, the customer's ordered stream within a journey
(research online then buy in store, and the reverse) or a time window (a call after an online
failure) does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np

from omnijourney._columns import code_dtype
from omnijourney.errors import ConfigError
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import (
    UnmatchedRule,
    check_kinds,
    check_labels,
    conversions_unmatched,
    noted,
    warn,
)
from omnijourney.model import ChannelKind
from omnijourney.tables import Table
from omnijourney.time import TIME_DTYPE, to_timedelta64

__all__ = ["BREAK_KINDS", "BreakRules", "BreakTable", "detect_breaks", "quote_conversion"]

#: The kinds of break, in the order they are reported.
BREAK_KINDS = (
    "quote_channel_switch",
    "click_and_collect",
    "cart_recovery",
    "ropo",
    "showrooming",
    "contact_after_failure",
    "information_reentered",
)
_BIG = np.iinfo(np.int64).max


def _names(value: Any) -> frozenset[str]:
    return frozenset([value]) if isinstance(value, str) else frozenset(str(v) for v in value)


def _kinds(value: Iterable[Any]) -> frozenset[ChannelKind]:
    return frozenset(ChannelKind(k) for k in value)


def _contact_window(value: Any) -> np.timedelta64:
    return to_timedelta64(value, name="contact_window")


@attrs.frozen(kw_only=True)
class BreakRules:
    """What counts as each kind of break.

    Parameters
    ----------
    failure_events : collection of str
        Events that mark an online failure (payment refused, error page...).
    contact_window : duration, default "24h"
        How soon after a failure an inbound contact on an assisted channel counts as caused
        by it.
    reentry_events : collection of str
        Steps whose repetition on another channel within a journey means the customer had to
        enter the same information twice.
    digital_kinds, physical_kinds, assisted_kinds : collection of ChannelKind
        Channel kinds that are "online", "in store" and "assisted" (call centre, chat).

    Notes
    -----
    :func:`detect_breaks` warns when the events or channel kinds of a rule occur nowhere in
    the data (a log in another vocabulary, channels of unknown kind). An empty collection
    (``failure_events=()``) says that the data has none, and turns the check off.

    Break kinds, each with a ``from`` and a ``to`` touchpoint:

    ``quote_channel_switch``
        The first touchpoint carrying a quote id, and the first conversion carrying it, on
        another channel (a quote started on the web and signed in store).
    ``click_and_collect``
        The first online touchpoint carrying an order or reservation id, and the first
        in-store touchpoint carrying it afterwards (order online, pick up or pay in store).
    ``cart_recovery``
        The last online touchpoint carrying a cart id before the first assisted touchpoint
        carrying it (an abandoned cart taken over by the call centre).
    ``ropo``
        Research online, purchase offline: a conversion in store whose journey had online
        touchpoints before it, none of which shares a reference id with it; ``from`` is the
        last of them.
    ``showrooming``
        The reverse: an online conversion after in-store touchpoints of the same journey.
    ``contact_after_failure``
        A failure event online, and the customer's next inbound contact on an assisted
        channel within ``contact_window``.
    ``information_reentered``
        A re-entry event whose previous occurrence in the same journey was on another
        channel.
    """

    failure_events: frozenset[str] = attrs.field(
        default=("payment_failed", "error", "checkout_error", "login_failed", "order_failed"),
        converter=_names,
    )
    contact_window: np.timedelta64 = attrs.field(default="24h", converter=_contact_window)
    reentry_events: frozenset[str] = attrs.field(
        default=("form_submitted", "address_entered", "identity_check"), converter=_names
    )
    digital_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.DIGITAL,), converter=_kinds
    )
    physical_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.PHYSICAL,), converter=_kinds
    )
    assisted_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.ASSISTED,), converter=_kinds
    )


class BreakTable(Table):
    """One row per cross-channel break.

    Columns: ``kind``, ``customer``, ``from_row`` and ``to_row`` (rows of the sessionized
    touchpoints), ``from_channel``, ``to_channel``, ``from_time``, ``to_time``, ``delay``
    (seconds), ``from_journey``, ``to_journey`` and ``reference`` (the linking id, if any).

    ``unmatched`` lists the rules that matched nothing in the data (each noted when the
    table or its summary is printed).
    """

    table_name = "BreakTable"

    @property
    def unmatched(self) -> tuple[UnmatchedRule, ...]:
        """The rules of the detection that no touchpoint matched (see :func:`detect_breaks`)."""
        return tuple(self._meta.get("unmatched", ()))

    def summary(self) -> Table:
        """Breaks per kind and channel pair: count, customers, median and mean delay (hours).

        The rules that matched nothing are noted in the summary (``notes``, printed with it).
        """
        return noted(self._summary(), self.unmatched)

    def _summary(self) -> Table:
        if len(self) == 0:
            return Table.from_columns(
                {k: [] for k in ("kind", "from_channel", "to_channel")}
                | {
                    "breaks": np.zeros(0, np.int64),
                    "customers": np.zeros(0, np.int64),
                    "median_delay_h": np.zeros(0),
                    "mean_delay_h": np.zeros(0),
                },
                kinds={"kind": "category", "from_channel": "category", "to_channel": "category"},
            )
        kind = self.raw("kind").astype(np.int64)
        fc = self.raw("from_channel").astype(np.int64)
        tc = self.raw("to_channel").astype(np.int64)
        nf, nt = self.labels("from_channel").size, self.labels("to_channel").size
        key = (kind * nf + fc) * nt + tc
        uniq, inv = np.unique(key, return_inverse=True)
        delay = self.raw("delay") / 3600.0
        order = np.argsort(inv, kind="stable")
        bounds = np.flatnonzero(np.diff(inv[order])) + 1
        groups = np.split(order, bounds)
        cust = self.raw("customer")
        rows = {
            "kind": self.labels("kind")[uniq // (nf * nt)],
            "from_channel": self.labels("from_channel")[(uniq // nt) % nf],
            "to_channel": self.labels("to_channel")[uniq % nt],
            "breaks": np.array([g.size for g in groups], dtype=np.int64),
            "customers": np.array([np.unique(cust[g]).size for g in groups], dtype=np.int64),
            "median_delay_h": np.array([np.median(delay[g]) for g in groups]),
            "mean_delay_h": np.array([delay[g].mean() for g in groups]),
        }
        out = Table.from_columns(
            rows, kinds={"kind": "category", "from_channel": "category", "to_channel": "category"}
        )
        return out[np.lexsort((-out.raw("breaks"),))]

    def counts(self) -> dict[str, int]:
        """Number of breaks per kind."""
        labels = self.labels("kind")
        counts = np.bincount(self.raw("kind").astype(np.int64), minlength=labels.size)
        return {str(labels[i]): int(counts[i]) for i in range(labels.size) if counts[i]}


def _channel_kinds(jt: JourneyTable, kinds: Iterable[ChannelKind]) -> np.ndarray:
    wanted = set(kinds)
    return np.array([c.kind in wanted for c in jt.touchpoints.channel_catalog], dtype=bool)


class _Sorted:
    """The sessionized touchpoints in canonical order, as plain arrays."""

    def __init__(self, jt: JourneyTable, rules: BreakRules) -> None:
        tp = jt.touchpoints
        self.order = jt.order
        self.n = self.order.size
        self.c = jt.in_order("customer").astype(np.int64)
        self.t = jt.in_order("time").view(np.int64)
        self.ch = jt.in_order("channel").astype(np.int64)
        self.ev = jt.in_order("event").astype(np.int64)
        self.journey = jt.sorted_journey
        ev_labels = tp.labels("event").tolist()
        conv = np.array([e in jt.rules.conversion_events for e in ev_labels], dtype=bool)
        self.conv = conv[self.ev] if self.n else np.zeros(0, dtype=bool)
        self.digital = _channel_kinds(jt, rules.digital_kinds)[self.ch]
        self.physical = _channel_kinds(jt, rules.physical_kinds)[self.ch]
        self.assisted = _channel_kinds(jt, rules.assisted_kinds)[self.ch]
        if "direction" in tp.columns:
            self.inbound = jt.in_order("direction") != 1  # null or inbound
        else:
            self.inbound = np.ones(self.n, dtype=bool)
        self.refs: dict[str, np.ndarray] = {
            col: jt.in_order(col).astype(np.int64)
            for col in ("quote_id", "order_id", "reservation_id", "cart_id")
            if col in tp.columns
        }
        self.ev_labels = ev_labels
        self._groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def groups(self, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows carrying an id of reference column ``col``, grouped by id (computed once)."""
        if col not in self._groups:
            self._groups[col] = _groups(self.refs[col])
        return self._groups[col]


def _groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows carrying a reference id, grouped by id (and in time order within each group)."""
    rows = np.flatnonzero(codes >= 0)
    order = np.argsort(codes[rows], kind="stable")  # stable keeps the time order
    rows = rows[order]
    g = codes[rows]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if rows.size else np.zeros(0, np.int64)
    group_of = np.cumsum(np.r_[True, g[1:] != g[:-1]]) - 1 if rows.size else rows
    return rows, starts, group_of


def _first(rows: np.ndarray, mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group, the first row (in time order) where ``mask`` holds, or -1."""
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    v = np.minimum.reduceat(np.where(mask, rows, _BIG), starts)
    return np.where(v == _BIG, -1, v)


def _last(rows: np.ndarray, mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.maximum.reduceat(np.where(mask, rows, -1), starts)


def _linked_breaks(s: _Sorted) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, str]]:
    out: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, str]] = []
    for col, codes in s.refs.items():
        rows, starts, group_of = s.groups(col)
        if rows.size == 0:
            continue
        if col == "quote_id":
            first = rows[starts]
            conv = _first(rows, s.conv[rows], starts)
            ok = (conv >= 0) & (s.ch[np.maximum(conv, 0)] != s.ch[first])
            out.append(("quote_channel_switch", first[ok], conv[ok], codes[first[ok]], col))
        elif col in ("order_id", "reservation_id"):
            online = _first(rows, s.digital[rows], starts)
            after = s.physical[rows] & (rows > online[group_of]) & (online[group_of] >= 0)
            store = _first(rows, after, starts)
            ok = (online >= 0) & (store >= 0)
            out.append(("click_and_collect", online[ok], store[ok], codes[online[ok]], col))
        else:  # cart_id
            assisted = _first(rows, s.assisted[rows], starts)
            before = s.digital[rows] & (rows < assisted[group_of])
            online = _last(rows, before, starts)
            ok = (assisted >= 0) & (online >= 0)
            out.append(("cart_recovery", online[ok], assisted[ok], codes[online[ok]], col))
    return out


def _unlinked(s: _Sorted, closer: np.ndarray, earlier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conversions on ``closer`` channels after ``earlier`` channels in the same journey."""
    hit = np.flatnonzero(s.conv & closer)
    earlier_rows = np.flatnonzero(earlier)
    if hit.size == 0 or earlier_rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = np.searchsorted(earlier_rows, hit) - 1
    prev = np.where(k >= 0, earlier_rows[np.maximum(k, 0)], -1)
    ok = (prev >= 0) & (s.journey[np.maximum(prev, 0)] == s.journey[hit])
    hit, prev = hit[ok], prev[ok]
    linked = np.zeros(hit.size, dtype=bool)
    for col, codes in s.refs.items():
        rows, starts, _ = s.groups(col)
        if rows.size == 0:
            continue
        # per id, its first row on an "earlier" channel; a hit carrying the id finds its group
        first_earlier = _first(rows, earlier[rows], starts)
        group_codes = codes[rows[starts]]
        code = codes[hit]
        has = code >= 0
        g = np.minimum(np.searchsorted(group_codes, code), group_codes.size - 1)
        fr = np.where(has, first_earlier[g], -1)
        same = (fr >= 0) & (fr < hit) & (s.journey[np.maximum(fr, 0)] == s.journey[hit])
        linked |= has & same
    return prev[~linked], hit[~linked]


def _failures(s: _Sorted, rules: BreakRules) -> tuple[np.ndarray, np.ndarray]:
    is_failure = np.array([e in rules.failure_events for e in s.ev_labels], dtype=bool)
    fail = np.flatnonzero(is_failure[s.ev] & s.digital) if s.n else np.zeros(0, np.int64)
    contacts = np.flatnonzero(s.assisted & s.inbound)
    if fail.size == 0 or contacts.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = np.searchsorted(contacts, fail, side="right")
    has = k < contacts.size
    nxt = np.where(has, contacts[np.minimum(k, max(contacts.size - 1, 0))], -1)
    window = int(rules.contact_window.astype(np.int64))
    ok = has & (s.c[np.maximum(nxt, 0)] == s.c[fail])
    ok &= (s.t[np.maximum(nxt, 0)] - s.t[fail]) <= window
    return fail[ok], nxt[ok]


def _reentries(s: _Sorted, rules: BreakRules) -> tuple[np.ndarray, np.ndarray]:
    is_reentry = np.array([e in rules.reentry_events for e in s.ev_labels], dtype=bool)
    rows = np.flatnonzero(is_reentry[s.ev]) if s.n else np.zeros(0, np.int64)
    if rows.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((rows, s.ev[rows], s.journey[rows]))
    r = rows[order]
    same = (s.journey[r[1:]] == s.journey[r[:-1]]) & (s.ev[r[1:]] == s.ev[r[:-1]])
    switch = same & (s.ch[r[1:]] != s.ch[r[:-1]])
    return r[:-1][switch], r[1:][switch]


def detect_breaks(journeys: JourneyTable, rules: BreakRules | None = None) -> BreakTable:
    """Find the cross-channel break points of sessionized journeys.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`~omnijourney.sessionize`.
    rules : BreakRules, optional
        Failure and re-entry events, contact window, channel kinds (see :class:`BreakRules`
        for the definition of every kind).

    Returns
    -------
    BreakTable
        One row per break, sorted by ``to_row`` time order; ``.summary()`` counts them per kind
        and channel pair.

    Warns
    -----
    OmnijourneyWarning
        For each rule that matches nothing in the data: failure or re-entry events that no
        touchpoint has, channel kinds (digital, physical, assisted) that no channel used is
        of. Each is also in the result's ``unmatched``, with the journey rules' own (a
        conversion event that never occurs leaves no ``ropo``, ``showrooming`` or
        ``quote_channel_switch`` to find).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01T10:00", "2024-05-02T15:00"],
    ...     "channel": ["web", "store"], "event": ["order", "pickup"],
    ...     "order_id": ["O1", "O1"]})
    >>> rules = oj.journeys.BreakRules(failure_events=(), reentry_events=(), assisted_kinds=())
    >>> b = oj.journeys.detect_breaks(oj.sessionize(tp), rules)
    >>> b["kind"].tolist(), b["delay"].tolist()
    (['click_and_collect'], [104400.0])

    With the default rules, the same data warns that it has no failure event, no re-entry
    event and no assisted channel, so that three kinds of break cannot be found in it.
    """
    if not isinstance(journeys, JourneyTable):
        msg = f"detect_breaks needs a JourneyTable, got {type(journeys).__name__}"
        raise ConfigError(msg)
    rules = BreakRules() if rules is None else rules
    unmatched = warn(_unmatched(journeys, rules))
    unmatched += conversions_unmatched(journeys)
    s = _Sorted(journeys, rules)
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, str | None]] = []
    parts.extend(_linked_breaks(s))
    fr, to = _unlinked(s, s.physical, s.digital)
    parts.append(("ropo", fr, to, None, None))
    fr, to = _unlinked(s, s.digital, s.physical)
    parts.append(("showrooming", fr, to, None, None))
    fr, to = _failures(s, rules)
    parts.append(("contact_after_failure", fr, to, None, None))
    fr, to = _reentries(s, rules)
    parts.append(("information_reentered", fr, to, None, None))
    table = _assemble(journeys, s, parts)
    table._meta["unmatched"] = unmatched
    return noted(table, unmatched)


def _unmatched(jt: JourneyTable, rules: BreakRules) -> list[UnmatchedRule | None]:
    """The break rules whose events or channel kinds the touchpoints never have."""
    tp = jt.touchpoints
    no = "No {} break can be found"
    return [
        check_labels(
            tp,
            "event",
            "BreakRules.failure_events",
            rules.failure_events,
            no.format("contact_after_failure"),
        ),
        check_labels(
            tp,
            "event",
            "BreakRules.reentry_events",
            rules.reentry_events,
            no.format("information_reentered"),
        ),
        check_kinds(
            tp,
            "BreakRules.digital_kinds",
            rules.digital_kinds,
            no.format(
                "click_and_collect, cart_recovery, ropo, showrooming or contact_after_failure"
            ),
        ),
        check_kinds(
            tp,
            "BreakRules.physical_kinds",
            rules.physical_kinds,
            no.format("click_and_collect, ropo or showrooming"),
        ),
        check_kinds(
            tp,
            "BreakRules.assisted_kinds",
            rules.assisted_kinds,
            no.format("cart_recovery or contact_after_failure"),
        ),
    ]


def _assemble(
    jt: JourneyTable,
    s: _Sorted,
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, str | None]],
) -> BreakTable:
    tp = jt.touchpoints
    kind = np.concatenate(
        [np.full(p[1].size, BREAK_KINDS.index(p[0]), dtype=np.int64) for p in parts]
    )
    fr = np.concatenate([p[1] for p in parts]).astype(np.int64)
    to = np.concatenate([p[2] for p in parts]).astype(np.int64)
    # the linking ids, as codes into the sorted union of the ids actually used
    used: list[tuple[np.ndarray, np.ndarray]] = []  # per part: used codes, their labels as text
    for _kind, _a, _b, codes, col in parts:
        if codes is not None and col is not None and codes.size:
            u = np.unique(codes)
            text = np.empty(u.size, dtype=object)
            text[:] = [str(v) for v in tp.labels(col)[u].tolist()]
            used.append((u, text))
        else:
            used.append((np.zeros(0, np.int64), np.zeros(0, dtype=object)))
    texts = [t for _, t in used if t.size]
    union = np.unique(np.concatenate(texts)) if texts else np.zeros(0, dtype=object)
    ref_parts = []
    for (u, text), (_kind, a, _b, codes, _col) in zip(used, parts):
        if u.size and codes is not None:
            ref_parts.append(np.searchsorted(union, text)[np.searchsorted(u, codes)])
        else:
            ref_parts.append(np.full(a.size, -1, dtype=np.int64))
    ref_codes = np.concatenate(ref_parts).astype(np.int64)
    order = np.lexsort((kind, fr, to))
    kind, fr, to, ref_codes = kind[order], fr[order], to[order], ref_codes[order]
    labels = np.array(BREAK_KINDS, dtype=object)
    present = np.unique(kind)
    kind_labels = np.sort(labels[present]) if kind.size else np.zeros(0, dtype=object)
    recode = np.zeros(len(BREAK_KINDS), dtype=np.int8)
    recode[present] = np.searchsorted(kind_labels, labels[present])
    data = {
        "kind": recode[kind],
        "customer": tp.raw("customer")[s.order[to]],
        "from_row": s.order[fr],
        "to_row": s.order[to],
        "from_channel": tp.raw("channel")[s.order[fr]],
        "to_channel": tp.raw("channel")[s.order[to]],
        "from_time": s.t[fr].view(TIME_DTYPE),
        "to_time": s.t[to].view(TIME_DTYPE),
        "delay": (s.t[to] - s.t[fr]) / 1e6,
        "from_journey": s.journey[fr],
        "to_journey": s.journey[to],
    }
    data["reference"] = ref_codes.astype(code_dtype(union.size))
    table = BreakTable._from_parts(
        data,
        {
            "kind": kind_labels,
            "customer": tp.labels("customer"),
            "from_channel": tp.labels("channel"),
            "to_channel": tp.labels("channel"),
            "reference": union,
        },
    )
    return table


def quote_conversion(journeys: JourneyTable, *, by: str | None = None) -> Table:
    """Quote-to-sale conversion: quotes started and signed, per starting channel.

    A quote is a distinct ``quote_id``; it starts on the channel of its first touchpoint and is
    signed when a conversion carries its id (on any channel).

    Parameters
    ----------
    journeys : JourneyTable
    by : str, optional
        An extra column of the touchpoints (``"store"``, ``"sales_team"``) to break the rate
        down by, taken from the quote's first touchpoint.

    Returns
    -------
    Table
        ``channel`` (and ``by``), ``quotes``, ``signed``, ``rate``, ``signed_elsewhere`` (signed
        on another channel), ``median_days_to_sign``. Its ``notes`` say when no event of the
        data is a conversion (no quote can be signed).
    """
    tp = journeys.touchpoints
    if "quote_id" not in tp.columns:
        msg = "quote_conversion needs a quote_id column in the touchpoints"
        raise ConfigError(msg)
    if by is not None:
        tp._check_column(by)
    s = _Sorted(journeys, BreakRules())
    rows, starts, _ = _groups(s.refs["quote_id"])
    first = rows[starts]
    signed = _first(rows, s.conv[rows], starts)
    is_signed = signed >= 0
    start_channel = s.ch[first]
    keys = [start_channel]
    by_codes = None
    if by is not None:
        by_codes = tp.raw(by)[s.order[first]].astype(np.int64)
        keys.append(by_codes)
    key = np.stack(keys, axis=1) if keys else np.zeros((0, 1))
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    g = uniq.shape[0]
    quotes = np.bincount(inv, minlength=g)
    n_signed = np.bincount(inv, weights=is_signed, minlength=g).astype(np.int64)
    elsewhere = is_signed & (s.ch[np.maximum(signed, 0)] != start_channel)
    n_else = np.bincount(inv, weights=elsewhere, minlength=g).astype(np.int64)
    days = np.where(is_signed, (s.t[np.maximum(signed, 0)] - s.t[first]) / 86_400e6, np.nan)
    median = np.array([np.nanmedian(days[inv == i]) if n_signed[i] else np.nan for i in range(g)])
    cols: dict[str, Any] = {"channel": tp.labels("channel")[uniq[:, 0]]}
    kinds = {"channel": "category"}
    if by is not None:
        decoded = tp.column_values(by)
        first_vals = decoded[s.order[first]]
        cols[by] = np.array(
            [first_vals[np.flatnonzero(inv == i)[0]] for i in range(g)], dtype=object
        )
        kinds[by] = "category" if tp.kinds[by] == "category" else tp.kinds[by]
    cols.update(
        {
            "quotes": quotes.astype(np.int64),
            "signed": n_signed,
            "rate": n_signed / np.maximum(quotes, 1),
            "signed_elsewhere": n_else,
            "median_days_to_sign": median,
        }
    )
    return noted(Table.from_columns(cols, kinds=kinds), conversions_unmatched(journeys))

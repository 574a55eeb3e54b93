"""Cross-channel break points: where a journey continued on, or fell back to, another channel.

Breaks are found three ways. Reference ids (quote, cart, order, reservation) link steps across
channels exactly, whichever customer ids carry them; where no id links them, the customer's
ordered stream does: research on one kind of channel followed, within a window and before any
other conversion, by a conversion on the other (ROPO, showrooming), a contact soon after an
online failure, the same information entered again on another channel.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._validation import duration, members, names, pairs
from omnijourney.errors import ConfigError, SchemaError
from omnijourney.journeys._break_summary import SummaryText, pair_counts, summary_text
from omnijourney.journeys._sorted import Sorted, first_in, last_in, row_at
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
from omnijourney.tables import Table, code_dtype
from omnijourney.time import TIME_DTYPE

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
#: How the two ends of a break are tied (the ``linked_by`` column), besides the reference
#: columns: the same journey, a research window, a contact window, the same event, the same
#: entered fields.
LINKED_BY = ("journey", "window", "contact_window", "event", "fields")
_REFERENCES = ("quote_id", "order_id", "reservation_id", "cart_id")
#: Events that are research: looking at products, asking, preparing a purchase.
RESEARCH_EVENTS = (
    "add_to_cart", "appointment", "call", "catalogue_request", "chat_message", "checkout",
    "checkout_start", "compare", "page_view", "product_view", "quote_request", "reservation",
    "search", "store_visit", "wishlist",
)  # fmt: skip
#: Research that shows the intent to buy something precise: it counts across journeys.
INTENT_EVENTS = (
    "add_to_cart", "appointment", "checkout", "checkout_start", "quote_request", "reservation",
    "wishlist",
)  # fmt: skip
#: Research steps that make the crossing another kind when no id links it.
IMPLIED_KINDS = {"quote_request": "quote_channel_switch", "reservation": "click_and_collect"}


def _implied(value: Any) -> tuple[tuple[str, str], ...]:
    out = pairs(value, "implied_kinds")
    for event, kind in out:
        if kind not in ("quote_channel_switch", "click_and_collect"):
            msg = (
                "The 'implied_kinds' parameter must map events to 'quote_channel_switch' or "
                f"'click_and_collect'. Got {kind!r} for {event!r}."
            )
            raise ConfigError(msg)
    return out


def _digital_kinds(value: Any) -> frozenset[ChannelKind]:
    return members(value, "digital_kinds", ChannelKind)


def _physical_kinds(value: Any) -> frozenset[ChannelKind]:
    return members(value, "physical_kinds", ChannelKind)


def _assisted_kinds(value: Any) -> frozenset[ChannelKind]:
    return members(value, "assisted_kinds", ChannelKind)


def _fields(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(sorted(names(value, "reentry_fields")))


def _failure_events(value: Any) -> frozenset[str]:
    return names(value, "failure_events")


def _research_events(value: Any) -> frozenset[str]:
    return names(value, "research_events")


def _intent_events(value: Any) -> frozenset[str]:
    return names(value, "intent_events")


def _reentry_events(value: Any) -> frozenset[str]:
    return names(value, "reentry_events")


def _contact_window(value: Any) -> np.timedelta64:
    out = duration(value, "contact_window")
    assert out is not None
    return out


def _research_window(value: Any) -> np.timedelta64 | None:
    return duration(value, "research_window", optional=True)


def _reentry_window(value: Any) -> np.timedelta64 | None:
    return duration(value, "reentry_window", optional=True)


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
    research_events : collection of str, default :data:`RESEARCH_EVENTS`
        Events that are research for ROPO and showrooming: product views, searches, carts,
        quotes, reservations, store visits, calls... (not a sign-up or a form).
    research_window : duration or None, default "30D"
        How long before a conversion research that shows intent may be, across journeys (a
        customer who filled a cart online and bought in store three weeks later). None keeps
        all research to the conversion's own journey.
    intent_events : collection of str, default :data:`INTENT_EVENTS`
        The research events that count across journeys within ``research_window`` (a cart,
        a reservation, a quote request); other research counts within the conversion's
        journey only (a product view weeks before a store purchase says little of it).
    implied_kinds : mapping of str to str, default :data:`IMPLIED_KINDS`
        Research events that make a crossing found without an id another kind: an online
        reservation followed by a purchase in store is a ``click_and_collect`` whose id a
        system lost, a quote requested on one channel and signed on another a
        ``quote_channel_switch``.
    reentry_events : collection of str
        Steps where the customer enters information (a form, an address, an identity check).
    reentry_fields : collection of str, default ()
        Touchpoint columns holding what was entered (a form's id or content hash, the
        product and amount of a quote request): two entries are the same information when
        these columns are equal (a row whose fields are all empty is compared by its event
        name). Empty: the same event is the same information.
    reentry_window : duration or None, default "30D"
        How long before an entry the previous one may be. None keeps both in one journey.
    digital_kinds, physical_kinds, assisted_kinds : collection of ChannelKind
        Channel kinds that are "online", "in store" and "assisted" (call centre, chat).

    Notes
    -----
    :func:`detect_breaks` warns when the events or channel kinds of a rule occur nowhere in
    the data (a log in another vocabulary, channels of unknown kind). An empty collection
    (``failure_events=()``) says that the data has none, and turns the check off.

    Break kinds, each with a ``from`` and a ``to`` touchpoint (``linked_by`` says what ties
    them):

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
        Research online, purchase offline: a conversion in store after online research.
        Either the conversion carries a cart id an online touchpoint carried before it (a
        web cart bought in store: ``linked_by="cart_id"``, ``from`` the last such
        touchpoint), or ``from`` is the customer's last online research touchpoint before
        it and after the customer's previous conversion, in the same journey
        (``linked_by="journey"``) or, for research that shows intent, within
        ``research_window`` (``"window"``). A conversion whose order, reservation or quote
        id an online touchpoint carried before it is a click & collect or a quote switch,
        not a ROPO; so is one whose research is an event of ``implied_kinds``.
    ``showrooming``
        The reverse: an online conversion after research in store.
    ``contact_after_failure``
        A failure event online, and the customer's next inbound contact on an assisted
        channel within ``contact_window``.
    ``information_reentered``
        An entry whose previous occurrence by the customer (same fields, or same event),
        within ``reentry_window``, was on another channel.

    Ids link whoever carries them: a pickup on an anonymous till receipt is a click &
    collect of the web order it carries. The other kinds need both ends under one customer:
    link the customer ids first (:func:`omnijourney.identity.link_touchpoints`).
    """

    failure_events: frozenset[str] = attrs.field(
        default=("payment_failed", "error", "checkout_error", "login_failed", "order_failed"),
        converter=_failure_events,
    )
    contact_window: np.timedelta64 = attrs.field(default="24h", converter=_contact_window)
    research_events: frozenset[str] = attrs.field(
        default=RESEARCH_EVENTS, converter=_research_events
    )
    # attrs' stubs want a default of the field's type; the converter reads the duration string
    research_window: np.timedelta64 | None = attrs.field(  # type: ignore[assignment]
        default="30D", converter=_research_window
    )
    intent_events: frozenset[str] = attrs.field(default=INTENT_EVENTS, converter=_intent_events)
    implied_kinds: tuple[tuple[str, str], ...] = attrs.field(
        default=IMPLIED_KINDS, converter=_implied
    )
    reentry_events: frozenset[str] = attrs.field(
        default=("form_submitted", "address_entered", "identity_check"),
        converter=_reentry_events,
    )
    reentry_fields: tuple[str, ...] = attrs.field(default=(), converter=_fields)
    reentry_window: np.timedelta64 | None = attrs.field(  # type: ignore[assignment]
        default="30D", converter=_reentry_window
    )
    digital_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.DIGITAL,), converter=_digital_kinds
    )
    physical_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.PHYSICAL,), converter=_physical_kinds
    )
    assisted_kinds: frozenset[ChannelKind] = attrs.field(
        default=(ChannelKind.ASSISTED,), converter=_assisted_kinds
    )


class BreakTable(Table):
    """One row per cross-channel break.

    Columns: ``kind``, ``customer``, ``from_row`` and ``to_row`` (rows of the sessionized
    touchpoints), ``from_channel``, ``to_channel``, ``from_time``, ``to_time``, ``delay``
    (seconds), ``from_journey``, ``to_journey``, ``reference`` (the linking id, if any) and
    ``linked_by`` (what ties the two ends: the reference column, ``"journey"``, ``"window"``,
    ``"contact_window"``, ``"event"`` or ``"fields"``; see :class:`BreakRules`).

    ``unmatched`` lists the rules that matched nothing in the data (each noted when the
    table or its summary is printed).
    """

    table_name = "BreakTable"

    @property
    def unmatched(self) -> tuple[UnmatchedRule, ...]:
        """The rules of the detection that no touchpoint matched (see :func:`detect_breaks`)."""
        return tuple(self.meta.get("unmatched", ()))

    def pair_counts(self) -> Table:
        """Breaks per kind and channel pair: ``kind``, ``from_channel``, ``to_channel``,
        ``breaks``, ``customers``, ``median_delay_h`` and ``mean_delay_h`` (hours), the most
        frequent first.

        The rules that matched nothing are noted in the table (``notes``, printed with it).
        """
        return noted(pair_counts(self), self.unmatched)

    def summary(self) -> str:
        """A few readable lines: the breaks and customers, one line per kind of break (count,
        customers, median delay in hours, its most frequent channel pairs) and one line per
        rule that matched no touchpoint.

        Earlier versions returned the table of :meth:`pair_counts`; reading the text as that
        table (``summary()["breaks"]``, ``summary().head()``) still works and raises a
        :class:`DeprecationWarning`.

        Examples
        --------
        >>> import omnijourney as oj
        >>> tp = oj.TouchpointTable.from_columns({
        ...     "customer": ["a", "a", "b", "b"],
        ...     "time": ["2024-05-01T10:00", "2024-05-02T10:00",
        ...              "2024-05-01T09:00", "2024-05-01T15:00"],
        ...     "channel": ["web", "store", "app", "store"],
        ...     "event": ["add_to_cart", "purchase", "add_to_cart", "purchase"]})
        >>> rules = oj.journeys.BreakRules(failure_events=(), reentry_events=(), assisted_kinds=())
        >>> breaks = oj.journeys.detect_breaks(oj.journeys.sessionize(tp), rules)
        >>> print(breaks.summary())
        2 breaks of 2 customers
          ropo: 2 breaks, 2 customers, median delay 15.0 h (app -> store 1, web -> store 1)
        """
        table = self.pair_counts()
        return SummaryText(summary_text(self, table), table)

    def counts(self) -> dict[str, int]:
        """Number of breaks per kind."""
        labels = self.labels("kind")
        counts = np.bincount(self.raw("kind").astype(np.int64), minlength=labels.size)
        return {str(labels[i]): int(counts[i]) for i in range(labels.size) if counts[i]}


class _Part:
    """Breaks of one kind found one way: positions of both ends, the id that links them."""

    def __init__(
        self,
        kind: str,
        fr: np.ndarray,
        to: np.ndarray,
        linked_by: str | np.ndarray,
        codes: np.ndarray | None = None,
        column: str | None = None,
    ) -> None:
        self.kind, self.fr, self.to = kind, fr.astype(np.int64), to.astype(np.int64)
        self.codes, self.column = codes, column
        if isinstance(linked_by, str):
            linked_by = np.full(self.fr.size, linked_by, dtype=object)
        self.linked_by = linked_by


def _id_breaks(s: Sorted) -> list[_Part]:
    """Breaks whose ends carry the same reference id (entries of a group in time order)."""
    out: list[_Part] = []
    for col in s.refs:
        g = s.groups(col)
        if g.rows.size == 0:
            continue
        rows, at = g.rows, g.group_of
        codes = s.refs[col]
        if col == "quote_id":
            first = g.starts
            conv = first_in(g, s.conv[rows])
            ok = (conv >= 0) & (s.ch[row_at(g, conv)] != s.ch[rows[first]])
            fr, to = rows[first[ok]], row_at(g, conv[ok])
            out.append(_Part("quote_channel_switch", fr, to, col, codes[fr], col))
        elif col in ("order_id", "reservation_id"):
            online = first_in(g, s.digital[rows])
            after = s.physical[rows] & (g.pos > online[at]) & (online[at] >= 0)
            store = first_in(g, after)
            ok = (online >= 0) & (store >= 0)
            fr, to = row_at(g, online[ok]), row_at(g, store[ok])
            out.append(_Part("click_and_collect", fr, to, col, codes[fr], col))
        else:  # cart_id
            assisted = first_in(g, s.assisted[rows])
            before = s.digital[rows] & (g.pos < assisted[at])
            online = last_in(g, before)
            ok = (assisted >= 0) & (online >= 0)
            fr, to = row_at(g, online[ok]), row_at(g, assisted[ok])
            out.append(_Part("cart_recovery", fr, to, col, codes[fr], col))
    return out


def _carried_before(s: Sorted, col: str, hit: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """For each row of ``hit`` carrying an id of ``col``: the last ``earlier`` row carrying
    the same id before it in time (-1 if none)."""
    out = np.full(hit.size, -1, dtype=np.int64)
    if col not in s.refs:
        return out
    g = s.groups(col)
    if g.rows.size == 0:
        return out
    code = s.refs[col][hit]
    has = np.flatnonzero(code >= 0)
    if has.size == 0:
        return out
    # entry index of each hit in its group: the group sorted by (time, row)
    where = np.full(s.n, -1, dtype=np.int64)
    where[g.rows] = g.pos
    entry = where[hit[has]]
    # the last earlier entry at or before each entry, within the group
    marked = np.where(earlier[g.rows], g.pos, -1)
    run = np.maximum.accumulate(marked)
    prev = np.where(entry > 0, run[np.maximum(entry - 1, 0)], -1)
    same_group = (prev >= 0) & (g.group_of[np.maximum(prev, 0)] == g.group_of[entry])
    out[has] = np.where(same_group, g.rows[np.maximum(prev, 0)], -1)
    return out


def _crossings(
    s: Sorted, rules: BreakRules, kind: str, closer: np.ndarray, earlier: np.ndarray,
    taken: np.ndarray,
) -> list[_Part]:  # fmt: skip
    """ROPO (``closer`` physical, ``earlier`` digital) or showrooming (the reverse)."""
    hit = np.flatnonzero(s.conv & closer & ~taken)
    if hit.size == 0:
        return []
    # a conversion whose order, reservation or quote id was carried before on the other kind
    # of channel is another kind of break; a cart id makes it this kind, linked by the cart
    explained = np.zeros(hit.size, dtype=bool)
    for col in ("order_id", "reservation_id", "quote_id"):
        explained |= _carried_before(s, col, hit, earlier) >= 0
    hit = hit[~explained]
    cart_from = _carried_before(s, "cart_id", hit, earlier)
    by_cart = cart_from >= 0
    cart_codes = s.refs["cart_id"][hit[by_cart]] if "cart_id" in s.refs else None
    parts = [_Part(kind, cart_from[by_cart], hit[by_cart], "cart_id", cart_codes, "cart_id")]
    hit = hit[~by_cart]
    # the customer's last research on the other kind of channel, after their previous
    # conversion (rows are in customer, time order): in the journey, or showing intent
    idx = np.arange(s.n, dtype=np.int64)
    research = earlier & s.events(rules.research_events)
    last_research = np.maximum.accumulate(np.where(research, idx, -1))
    last_conv = np.maximum.accumulate(np.where(s.conv, idx, -1))
    before = np.maximum(hit - 1, 0)
    prev = np.where(hit > 0, last_research[before], -1)
    bound = np.where(hit > 0, last_conv[before], -1)
    p = np.maximum(prev, 0)
    ok = (prev >= 0) & (prev > bound) & (s.c[p] == s.c[hit])
    same_journey = s.journey[p] == s.journey[hit]
    if rules.research_window is None:
        ok &= same_journey
    else:
        window = int(rules.research_window.astype(np.int64))
        lasting = s.events(rules.intent_events)[p] & ((s.t[hit] - s.t[p]) <= window)
        ok &= same_journey | lasting
    prev, hit, same_journey = prev[ok], hit[ok], same_journey[ok]
    how = np.where(same_journey, "journey", "window").astype(object)
    # research that names another kind of crossing (a reservation collected in store)
    kind_of = np.full(s.n, kind, dtype=object)
    implied = dict(rules.implied_kinds)
    for e, other in implied.items():
        kind_of[s.events([e])] = other
    kinds = kind_of[prev]
    for k in np.unique(kinds).tolist():
        sel = kinds == k
        parts.append(_Part(str(k), prev[sel], hit[sel], how[sel]))
    return parts


def _failures(s: Sorted, rules: BreakRules) -> tuple[np.ndarray, np.ndarray]:
    fail = np.flatnonzero(s.events(rules.failure_events) & s.digital)
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


def _reentries(s: Sorted, rules: BreakRules) -> list[_Part]:
    """Consecutive entries of the same information by a customer on two channels."""
    rows = np.flatnonzero(s.events(rules.reentry_events))
    if rows.size < 2:
        return []
    # what was entered: the fields' codes, or the event where every field is empty
    keys = [s.c[rows]]
    by_fields = np.zeros(rows.size, dtype=bool)
    if rules.reentry_fields:
        codes = [s.jt.in_order(f)[rows].astype(np.int64) for f in rules.reentry_fields]
        by_fields = np.any([c >= 0 for c in codes], axis=0)
        keys.append(by_fields.astype(np.int64))
        keys.extend(np.where(by_fields, c, -2) for c in codes)
    keys.append(np.where(by_fields, -1, s.ev[rows]))
    order = np.lexsort((rows, *reversed(keys)))
    r = rows[order]
    same = np.ones(r.size - 1, dtype=bool)
    for k in keys:
        ks = k[order]
        same &= ks[1:] == ks[:-1]
    if rules.reentry_window is None:
        same &= s.journey[r[1:]] == s.journey[r[:-1]]
    else:
        same &= (s.t[r[1:]] - s.t[r[:-1]]) <= int(rules.reentry_window.astype(np.int64))
    switch = same & (s.ch[r[1:]] != s.ch[r[:-1]])
    how = np.where(by_fields[order][1:][switch], "fields", "event").astype(object)
    return [_Part("information_reentered", r[:-1][switch], r[1:][switch], how)]


def detect_breaks(journeys: JourneyTable, rules: BreakRules | None = None) -> BreakTable:
    """Find the cross-channel break points of sessionized journeys.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`~omnijourney.sessionize` (on linked touchpoints, when customers
        are known under several ids: :func:`omnijourney.identity.link_touchpoints`).
    rules : BreakRules, optional
        Failure, research and re-entry events, windows, channel kinds (see
        :class:`BreakRules` for the definition of every kind).

    Returns
    -------
    BreakTable
        One row per break, sorted by ``to_row`` time order; ``.summary()`` says them in a few lines and ``.pair_counts()`` counts them per kind
        and channel pair.

    Raises
    ------
    SchemaError
        A column of ``rules.reentry_fields`` that the touchpoints lack.

    Warns
    -----
    OmnijourneyWarning
        For each rule that matches nothing in the data: failure, research or re-entry events
        that no touchpoint has, channel kinds (digital, physical, assisted) that no channel
        used is of. Each is also in the result's ``unmatched``, with the journey rules' own (a
        conversion event that never occurs leaves no ``ropo``, ``showrooming`` or
        ``quote_channel_switch`` to find).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01T10:00", "2024-05-02T15:00"],
    ...     "channel": ["web", "store"], "event": ["order", "pickup"],
    ...     "order_id": ["O1", "O1"]})
    >>> rules = oj.journeys.BreakRules(failure_events=(), research_events=(),
    ...                                reentry_events=(), assisted_kinds=())
    >>> b = oj.journeys.detect_breaks(oj.sessionize(tp), rules)
    >>> b["kind"].tolist(), b["delay"].tolist(), b["linked_by"].tolist()
    (['click_and_collect'], [104400.0], ['order_id'])

    A cart started on the web and bought in store under the same id is a ROPO, linked by
    the cart; a cart filled three weeks before a store purchase is one too, through the
    research window:

    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b"],
    ...     "time": ["2024-05-01", "2024-05-03", "2024-05-01", "2024-05-22"],
    ...     "channel": ["web", "store", "web", "store"],
    ...     "event": ["add_to_cart", "purchase", "add_to_cart", "purchase"],
    ...     "cart_id": ["K1", "K1", "K2", None]})
    >>> rules = oj.journeys.BreakRules(failure_events=(), reentry_events=(), assisted_kinds=())
    >>> b = oj.journeys.detect_breaks(oj.sessionize(tp), rules)
    >>> b["kind"].tolist(), b["linked_by"].tolist(), b["reference"].tolist()
    (['ropo', 'ropo'], ['cart_id', 'window'], ['K1', None])

    With the default rules, the same data warns that it has no failure event, no re-entry
    event and no assisted channel, so that some kinds of break cannot be found in it.
    """
    if not isinstance(journeys, JourneyTable):
        msg = f"detect_breaks needs a JourneyTable, got {type(journeys).__name__}"
        raise ConfigError(msg)
    rules = BreakRules() if rules is None else rules
    tp = journeys.touchpoints
    for f in rules.reentry_fields:
        if f not in tp.columns:
            msg = (
                f"BreakRules.reentry_fields names {f!r}, which the touchpoints lack; columns "
                f"are {tp.columns}"
            )
            raise SchemaError(msg, table=tp.table_name, column=f)
    unmatched = warn(_unmatched(journeys, rules))
    unmatched += conversions_unmatched(journeys)
    s = Sorted.of(journeys, rules)
    parts = _id_breaks(s)
    # a conversion that an id already ties to the other kind of channel is no ROPO
    taken = np.zeros(s.n, dtype=bool)
    for p in parts:
        if p.kind in ("click_and_collect", "quote_channel_switch"):
            taken[p.to] = True
    parts += _crossings(s, rules, "ropo", s.physical, s.digital, taken)
    parts += _crossings(s, rules, "showrooming", s.digital, s.physical, taken)
    fr, to = _failures(s, rules)
    parts.append(_Part("contact_after_failure", fr, to, "contact_window"))
    parts += _reentries(s, rules)
    table = _assemble(journeys, s, parts)
    return noted(table.replace_columns(meta={"unmatched": tuple(unmatched)}), unmatched)


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
            "BreakRules.research_events",
            rules.research_events,
            "No ropo or showrooming break can be found, except those linked by a cart id",
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


def _assemble(jt: JourneyTable, s: Sorted, parts: list[_Part]) -> BreakTable:
    tp = jt.touchpoints
    parts = [p for p in parts if p.fr.size] or [
        _Part(BREAK_KINDS[0], np.zeros(0, np.int64), np.zeros(0, np.int64), "journey")
    ]
    kind = np.concatenate([np.full(p.fr.size, BREAK_KINDS.index(p.kind)) for p in parts])
    fr = np.concatenate([p.fr for p in parts])
    to = np.concatenate([p.to for p in parts])
    how = np.concatenate([p.linked_by for p in parts]).astype(object)
    # the linking ids, as codes into the sorted union of the ids actually used
    used: list[tuple[np.ndarray, np.ndarray]] = []  # per part: used codes, their labels as text
    for p in parts:
        if p.codes is not None and p.column is not None and p.codes.size:
            u = np.unique(p.codes)
            text = np.empty(u.size, dtype=object)
            text[:] = [str(v) for v in tp.labels(p.column)[u].tolist()]
            used.append((u, text))
        else:
            used.append((np.zeros(0, np.int64), np.zeros(0, dtype=object)))
    texts = [t for _, t in used if t.size]
    union = np.unique(np.concatenate(texts)) if texts else np.zeros(0, dtype=object)
    ref_parts = []
    for (u, text), p in zip(used, parts):
        if u.size and p.codes is not None:
            ref_parts.append(np.searchsorted(union, text)[np.searchsorted(u, p.codes)])
        else:
            ref_parts.append(np.full(p.fr.size, -1, dtype=np.int64))
    ref_codes = np.concatenate(ref_parts).astype(np.int64)
    order = np.lexsort((kind, fr, to))
    kind, fr, to, ref_codes, how = kind[order], fr[order], to[order], ref_codes[order], how[order]
    labels = np.array(BREAK_KINDS, dtype=object)
    present = np.unique(kind)
    kind_labels = np.sort(labels[present]) if kind.size else np.zeros(0, dtype=object)
    recode = np.zeros(len(BREAK_KINDS), dtype=np.int8)
    recode[present] = np.searchsorted(kind_labels, labels[present])
    how_labels, how_codes = np.unique(how.astype(str), return_inverse=True)
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
        "reference": ref_codes.astype(code_dtype(union.size)),
        "linked_by": how_codes.astype(code_dtype(how_labels.size)),
    }
    return BreakTable.from_arrays(
        data,
        {
            "kind": kind_labels,
            "customer": tp.labels("customer"),
            "from_channel": tp.labels("channel"),
            "to_channel": tp.labels("channel"),
            "reference": union,
            "linked_by": how_labels.astype(object),
        },
    )


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
        tp.require_columns(by)
    s = Sorted.of(journeys, BreakRules())
    g = s.groups("quote_id")
    first = g.rows[g.starts]
    signed = row_at(g, first_in(g, s.conv[g.rows]))
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

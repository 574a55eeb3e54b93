"""Products in the synthetic touchpoints: the sku of each episode, where and at what price it
was seen or paid, and the truth of who met an injected price inconsistency.

Conventions
-----------
Each episode is about one sku, the main product of its basket (or of its quote), drawn by a
per-sku popularity among the skus on sale at the episode's first product touchpoint. The
touchpoints about it carry it in ``sku``: product views, carts, reservations, orders,
purchases, quote requests and signatures, pickups, and the store visits of episodes with a
basket. ``location`` says where a price applies, with the price world's labels: ``"online"``
on the web, the app and the call centre, the store (``"S01"``...) in store, none on the other
channels. ``price`` is the public price of the sku on that channel and location at that
instant (the promotional price while a promotion runs; during a coverage hole, the last price
before it); a signed quote keeps the price of its request. The rows that carry a value (carts,
reservations, orders, purchases, quotes) carry a ``quantity``: the episode's basket (or quote)
amount divided by the sku's base price, rounded, between 1 and 99; their ``value`` is
``price * quantity``.

Injected cases: for each price_gap fault, up to two episodes in which a view on one channel and
a purchase on another within 7 days put one of the two on the faulty series during the fault
are given the fault's sku (preferably a view on the web or the app and a purchase in store or
by phone); for each prior_price_reference fault, up to two episodes with a purchase on the
faulty web or app series during the reduction.

Truth
-----
exposures
    One row per (touchpoint with a sku, violation of a rule that a customer can meet: every
    rule of the price world but stale_price and negative_stock) where the touchpoint has the
    violation's sku, channel and location, and ``start <= time < end``.
price_mismatches
    One row per purchase (``purchase`` or ``order``) whose latest touchpoint of its sku on
    another channel, not a purchase, at most 7 days before it (episodes of a customer are more
    than 15 days apart, so it is in the same episode), showed a price more than one cent away.
    ``cause`` is the rule of the sku's fault when the seen or the paid price is not the sku's
    clean price at that time, else ``price_change`` (a promotion or a regular price change
    happened between the view and the purchase).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney._arrays import pack, run_starts
from omnijourney.synth import _templates as tpl
from omnijourney.synth.prices._base import _CHANNEL_LABELS, NEAR_RULES, RULES, PriceWorld, _Base
from omnijourney.tables import Table, TouchpointTable, code_dtype
from omnijourney.time import TIME_DTYPE

if TYPE_CHECKING:
    from omnijourney.synth._truth import Episodes, TouchpointTruth

__all__ = ["EXPOSURE_RULES", "MISMATCH_WINDOW", "attach_products"]

_SECOND = 1_000_000
_DAY = 86_400 * _SECOND
#: How long before a purchase a view on another channel counts (the exposure default).
MISMATCH_WINDOW = np.timedelta64(7, "D")
_WINDOW_US = int(MISMATCH_WINDOW / np.timedelta64(1, "us"))
#: Rules of the price world a customer can meet: not a missed confirmation, nor a negative
#: stock count (shown unavailable anyway).
EXPOSURE_RULES = tuple(
    r for r in (*RULES, *NEAR_RULES) if r not in ("stale_price", "negative_stock")
)
_PRODUCT_EVENTS = (
    "add_to_cart", "order", "pickup", "product_view", "purchase", "quote_request",
    "quote_signed", "reservation",
)  # fmt: skip
_PAID_EVENTS = ("order", "purchase")
_PRICE_CHANNELS = _CHANNEL_LABELS  # the price world's channel codes
_MAX_QUANTITY = 99
_INJECTED_PER_FAULT = 2


def _template_flags(kind: str) -> np.ndarray:
    return np.array([any(s.value == kind for s in t.steps) for t in tpl.TEMPLATES], dtype=bool)


def _codes_of(labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    wanted = set(names)
    return np.array([str(x) in wanted for x in labels.tolist()], dtype=bool)


@attrs.define(eq=False)
class _Rows:
    """The touchpoints that carry a sku (positions into the table's rows), in row order."""

    row: np.ndarray
    episode: np.ndarray
    time: np.ndarray
    channel: np.ndarray  # touchpoint channel code
    pch: np.ndarray  # price world channel code
    location: np.ndarray  # price world location code
    event: np.ndarray
    paid: np.ndarray


def _locations(table: TouchpointTable, n_stores: int) -> np.ndarray:
    """Location code of every touchpoint: its store in store, ``online`` (``n_stores``) on the
    other channels with prices, -1 elsewhere."""
    online = np.array([c in _PRICE_CHANNELS and c != "store" for c in tpl.CHANNELS])
    channel = table.raw("channel")
    out = np.where(online[channel], n_stores, -1).astype(code_dtype(n_stores + 1))
    store = channel == tpl.CH["store"]
    out[store] = table.raw("store")[store]
    return out


def _sku_rows(table: TouchpointTable, episodes: Episodes, locations: np.ndarray) -> _Rows:
    """The touchpoints about the episode's product (see the module documentation)."""
    event = table.raw("event")
    channel = table.raw("channel")
    ev_labels = table.labels("event")
    product = _codes_of(ev_labels, _PRODUCT_EVENTS)[event]
    visit = event == int(np.flatnonzero(ev_labels == "store_visit")[0])
    product |= visit & _template_flags("basket")[episodes.template][episodes.row]
    rows = np.flatnonzero(product)
    ch = channel[rows].astype(np.int64)
    pch_of = np.array([_code(_PRICE_CHANNELS, c) for c in tpl.CHANNELS], dtype=np.int64)
    pch = pch_of[ch]
    location = locations[rows].astype(np.int64)
    ev = event[rows]
    return _Rows(
        row=rows,
        episode=episodes.row[rows].astype(np.int64),
        time=table.raw("time").view(np.int64)[rows],
        channel=ch,
        pch=pch,
        location=location,
        event=ev,
        paid=_codes_of(ev_labels, _PAID_EVENTS)[ev],
    )


def _code(labels: tuple[str, ...] | list[str], name: str) -> int:
    return labels.index(name) if name in labels else -1


def _seconds(base: _Base, t: Any) -> np.ndarray:
    """Whole seconds since 64 days before the period (price-world instants are whole seconds,
    so ``from <= t`` and ``t < to`` hold on these exactly when on microseconds)."""
    return (np.asarray(t, dtype=np.int64) - (base.t0 - 64 * _DAY)) // _SECOND


def _packed(key: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """(key, seconds) as one sortable int64: the seconds of the world fit in 32 bits."""
    return pack(key, seconds, 0, 32)


# --------------------------------------------------------------------------- skus of episodes


def _episode_skus(
    rng: np.random.Generator, base: _Base, first_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One sku per episode by popularity, among the skus launched by its first product
    touchpoint; and when each sku was launched (microseconds)."""
    popularity = rng.lognormal(0.0, 1.0, base.n)
    launched = base.us(base.launch_day)
    n_ep = first_time.size
    cum = np.cumsum(popularity)
    sku = np.minimum(np.searchsorted(cum, rng.random(n_ep) * cum[-1], "right"), base.n - 1)
    old = np.flatnonzero(base.launch_day <= 0)
    if old.size == 0:  # pragma: no cover - every sku launched inside the period
        old = np.array([int(np.argmin(base.launch_day))])
    cum_old = np.cumsum(popularity[old])
    pick = np.searchsorted(cum_old, rng.random(n_ep) * cum_old[-1], "right")
    alt = old[np.minimum(pick, old.size - 1)]
    return np.where(launched[sku] <= first_time, sku, alt), launched


def _first_times(r: _Rows, n_episodes: int) -> np.ndarray:
    """Time of each episode's first touchpoint with a sku (the largest int64 when none)."""
    first = np.full(n_episodes, np.iinfo(np.int64).max, dtype=np.int64)
    if r.row.size:
        new = run_starts(r.episode)
        first[r.episode[new]] = r.time[new]
    return first


def _pairs(r: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """Each purchase with the latest touchpoint of its episode on another channel, not a
    purchase, at most :data:`MISMATCH_WINDOW` before it: positions (seen, paid) in ``r``."""
    pos = np.arange(r.row.size, dtype=np.int32 if r.row.size < 2**31 else np.int64)
    buys = np.flatnonzero(r.paid)
    view = ~r.paid
    best = np.full(buys.size, -1, dtype=np.int64)
    best_t = np.full(buys.size, np.iinfo(np.int64).min, dtype=np.int64)
    channel = r.channel.astype(np.int8)
    for c in np.unique(channel[view]).tolist():
        last = np.maximum.accumulate(np.where(view & (channel == c), pos, -1))[buys]
        v = np.maximum(last, 0)
        ok = (last >= 0) & (r.channel[buys] != c) & (r.episode[v] == r.episode[buys])
        ok &= r.time[buys] - r.time[v] <= _WINDOW_US
        better = ok & (r.time[v] > best_t)
        best[better] = v[better]
        best_t[better] = r.time[v][better]
    keep = best >= 0
    return best[keep], buys[keep]


# --------------------------------------------------------------------------- injected cases


class _Violations:
    """The price world's violations, then its near misses and opt-in violations, as codes
    (sku, price channel, location, rule); ``near`` marks the latter two (causes of price
    differences, but nothing the default audit reports to a customer)."""

    def __init__(self, world: PriceWorld, base: _Base) -> None:
        tables = [world.violations]
        tables += [t for t in (world.near_misses, world.opt_in_violations) if t is not None]
        locations = [*tpl.store_labels(base.n_stores).tolist(), "online"]
        sku_pos = {s: i for i, s in enumerate(base.sku_labels.tolist())}
        self.rule = np.array([r for v in tables for r in v["rule"].tolist()], dtype=object)
        self.sku = np.array([sku_pos[s] for v in tables for s in v["sku"].tolist()], dtype=np.int64)
        self.pch = np.array(
            [_code(_PRICE_CHANNELS, c) for v in tables for c in v["channel"].tolist()],
            dtype=np.int64,
        )
        self.location = np.array(
            [_code(locations, x) for v in tables for x in v["location"].tolist()], dtype=np.int64
        )
        self.start = np.concatenate([v.raw("start").view(np.int64) for v in tables])
        self.end = np.concatenate([v.raw("end").view(np.int64) for v in tables])
        self.near = np.arange(self.rule.size) >= len(world.violations)


class _Timeline:
    """Items sorted by (series key, time), to find those of a series inside an interval."""

    def __init__(self, base: _Base, idx: np.ndarray, key: np.ndarray, time: np.ndarray) -> None:
        self.base = base
        packed = _packed(key, _seconds(base, time))
        order = np.argsort(packed, kind="stable")
        self.idx, self.packed = idx[order], packed[order]

    def inside(self, key: int, start: int, end: int) -> np.ndarray:
        """Items of series ``key`` with ``start <= time < end``."""
        bounds = _packed(np.array([key, key]), _seconds(self.base, [start, end]))
        lo, hi = np.searchsorted(self.packed, bounds)
        return self.idx[lo:hi]


def _inject(
    rng: np.random.Generator,
    base: _Base,
    faults: _Violations,
    r: _Rows,
    pairs: tuple[np.ndarray, np.ndarray],
    ep_sku: np.ndarray,
    first_time: np.ndarray,
    launched: np.ndarray,
) -> np.ndarray:
    """Give a few fitting episodes the sku of each price_gap and prior_price_reference fault
    (``ep_sku`` is updated); returns which episodes were given one."""
    n_loc = base.n_stores + 1
    seen, paid = pairs
    series = r.pch * n_loc + r.location
    index = np.arange(seen.size)
    seen_line = _Timeline(base, index, series[seen], r.time[seen])
    paid_line = _Timeline(base, index, series[paid], r.time[paid])
    # preferred: a view on the web or the app, then a purchase in store or by phone
    digital = np.isin(r.pch, [_code(_PRICE_CHANNELS, c) for c in ("app", "web")])
    ropo = digital[seen] & ~digital[paid]
    buys = np.flatnonzero(r.paid)
    buy_line = _Timeline(base, buys, series[buys], r.time[buys])
    injected = np.zeros(ep_sku.size, dtype=bool)
    for i in range(faults.rule.size):
        rule = faults.rule[i]
        key = int(faults.pch[i] * n_loc + faults.location[i])
        span = (key, int(faults.start[i]), int(faults.end[i]))
        if rule == "price_gap":  # the view or the purchase on the faulty series
            k = np.concatenate((seen_line.inside(*span), paid_line.inside(*span)))
            k = k[ropo[k]] if ropo[k].any() else k
            pos = paid[k]
        elif rule == "prior_price_reference":
            pos = buy_line.inside(*span)
        else:
            continue
        eps = np.unique(r.episode[pos])
        sku = int(faults.sku[i])
        eps = eps[~injected[eps] & (first_time[eps] >= launched[sku])]
        chosen = rng.choice(eps, size=min(_INJECTED_PER_FAULT, eps.size), replace=False)
        ep_sku[chosen] = sku
        injected[chosen] = True
    return injected


# --------------------------------------------------------------------------- prices


def _public_prices(world: PriceWorld, base: _Base, r: _Rows, sku: np.ndarray) -> np.ndarray:
    """Price of the latest public interval of each row's (sku, channel, location) series
    starting at or before its time (NaN when the series has none)."""
    p = world.prices
    n_ch, n_loc = len(_PRICE_CHANNELS), base.n_stores + 1
    public = p.raw("audience") == int(np.flatnonzero(p.labels("audience") == "public")[0])
    key = (p.raw("sku")[public].astype(np.int64) * n_ch + p.raw("channel")[public]) * n_loc
    key += p.raw("location")[public]
    packed = _packed(key, _seconds(base, p.raw("valid_from").view(np.int64)[public]))
    order = np.argsort(packed, kind="stable")
    packed, price = packed[order], p.raw("price")[public][order]
    q_key = (sku * n_ch + r.pch) * n_loc + r.location
    i = np.searchsorted(packed, _packed(q_key, _seconds(base, r.time)), "right") - 1
    found = (i >= 0) & ((packed[np.maximum(i, 0)] >> 32) == q_key) & (r.pch >= 0)
    return np.where(found, price[np.maximum(i, 0)], np.nan)


def _clean_prices(base: _Base, sku: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The sku's price on its group series before any fault (changes fall on day starts)."""
    packed = _packed(base.g_sku, base.g_from)
    day = (np.asarray(time, dtype=np.int64) - base.t0) // _DAY
    i = np.searchsorted(packed, _packed(sku, day), "right") - 1
    return np.asarray(base.g_price)[np.maximum(i, 0)]


def _lock_quotes(r: _Rows, ev_labels: np.ndarray, price: np.ndarray, n_ep: int) -> None:
    """A signed quote keeps the price of its request."""
    request = np.flatnonzero(r.event == int(np.flatnonzero(ev_labels == "quote_request")[0]))
    signed = np.flatnonzero(r.event == int(np.flatnonzero(ev_labels == "quote_signed")[0]))
    quoted = np.full(n_ep, np.nan)
    quoted[r.episode[request]] = price[request]
    locked = quoted[r.episode[signed]]
    price[signed] = np.where(np.isnan(locked), price[signed], locked)


# --------------------------------------------------------------------------- entry point


def attach_products(
    table: TouchpointTable,
    truth: TouchpointTruth,
    episodes: Episodes,
    world: PriceWorld,
    base: _Base,
    rng: np.random.Generator,
) -> tuple[TouchpointTable, TouchpointTruth]:
    """Add ``sku``, ``location``, ``price`` and ``quantity`` to generated touchpoints, set
    ``value = price * quantity``, and add the exposure truth to ``truth``.

    Parameters
    ----------
    table : TouchpointTable
        Touchpoints as generated (rows aligned with ``episodes``), with a ``store`` column
        whose labels are the price world's store locations.
    truth : TouchpointTruth
        Their truth, returned with ``exposures`` and ``price_mismatches``.
    episodes : Episodes
        The episode of each row.
    world, base : PriceWorld, _Base
        The price world and its clean baseline.
    rng : numpy.random.Generator
        Draws the skus and the injected cases (only this generator is used).

    Returns
    -------
    TouchpointTable, TouchpointTruth
    """
    n_ep = episodes.template.size
    loc_col = _locations(table, base.n_stores)
    r = _sku_rows(table, episodes, loc_col)
    first_time = _first_times(r, n_ep)
    ep_sku, launched = _episode_skus(rng, base, first_time)
    pairs = _pairs(r)
    faults = _Violations(world, base)
    injected = _inject(rng, base, faults, r, pairs, ep_sku, first_time, launched)
    sku = ep_sku[r.episode]
    price = _public_prices(world, base, r, sku)
    _lock_quotes(r, table.labels("event"), price, n_ep)

    amount = np.where(_template_flags("quote")[episodes.template], episodes.quote, episodes.basket)
    qty = np.clip(np.rint(amount / base.base_price[ep_sku]), 1, _MAX_QUANTITY)
    value = table.raw("value").copy()
    priced = ~np.isnan(value[r.row])
    quantity = np.full(len(table), np.nan, dtype=np.float32)
    quantity[r.row[priced]] = qty[r.episode[priced]]
    value[r.row[priced]] = np.round(price[priced] * qty[r.episode[priced]], 2)

    n = len(table)
    data = {c: table.raw(c) for c in table.columns}
    labels = {c: table.labels(c) for c, k in table.kinds.items() if k == "category"}
    data["value"] = value
    sku_col = np.full(n, -1, dtype=code_dtype(base.n))
    sku_col[r.row] = sku
    price_col = np.full(n, np.nan)
    price_col[r.row] = price
    data.update(sku=sku_col, location=loc_col, price=price_col, quantity=quantity)
    labels["sku"] = base.sku_labels
    labels["location"] = np.array([*tpl.store_labels(base.n_stores).tolist(), "online"], object)
    out = TouchpointTable.from_arrays(data, labels, sorted_by=table.sorted_by)

    tables = _Truth(out, r, sku, price, injected[r.episode], base, faults)
    truth = attrs.evolve(
        truth, exposures=tables.exposures(), price_mismatches=tables.mismatches(pairs)
    )
    return out, truth


# --------------------------------------------------------------------------- truth tables


class _Truth:
    def __init__(
        self,
        table: TouchpointTable,
        r: _Rows,
        sku: np.ndarray,
        price: np.ndarray,
        injected: np.ndarray,
        base: _Base,
        faults: _Violations,
    ) -> None:
        self.table, self.r, self.sku, self.price = table, r, sku, price
        self.injected, self.base, self.faults = injected, base, faults

    def _decoded(self, column: str, rows: np.ndarray) -> np.ndarray:
        codes = self.table.raw(column)[rows].astype(np.int64)
        out = np.empty(rows.size, dtype=object)
        out[:] = self.table.labels(column)[np.maximum(codes, 0)] if codes.size else []
        out[codes < 0] = None
        return out

    def exposures(self) -> Table:
        r, f, base = self.r, self.faults, self.base
        n_ch, n_loc = len(_PRICE_CHANNELS), base.n_stores + 1
        seen = np.isin(f.rule, EXPOSURE_RULES) & ~f.near
        faulty = np.zeros(base.n, dtype=bool)
        faulty[f.sku[seen]] = True
        mine = np.flatnonzero(faulty[self.sku])
        key = (self.sku[mine] * n_ch + r.pch[mine]) * n_loc + r.location[mine]
        line = _Timeline(base, mine, key, r.time[mine])
        which = np.flatnonzero(seen)
        parts = [
            line.inside(int((f.sku[i] * n_ch + f.pch[i]) * n_loc + f.location[i]),
                        int(f.start[i]), int(f.end[i]))
            for i in which.tolist()
        ]  # fmt: skip
        pos = np.concatenate([np.zeros(0, np.int64), *parts])
        vio = np.repeat(which, [p.size for p in parts]).astype(np.int64)
        order = np.lexsort((f.start[vio], f.rule[vio].astype(str), r.row[pos]))
        pos, vio = pos[order], vio[order]
        rows = r.row[pos]
        return Table.from_columns(
            {
                "row": rows.astype(np.int64),
                "customer": self._decoded("customer", rows),
                "time": r.time[pos].view(TIME_DTYPE),
                "channel": self._decoded("channel", rows),
                "location": self._decoded("location", rows),
                "sku": self._decoded("sku", rows),
                "event": self._decoded("event", rows),
                "purchase": r.paid[pos],
                "quantity": self.table.raw("quantity")[rows].astype(np.float64),
                "rule": f.rule[vio],
                "start": f.start[vio].view(TIME_DTYPE),
                "end": f.end[vio].view(TIME_DTYPE),
                "injected": self.injected[pos],
            },
            kinds={
                "customer": "category",
                "time": "time",
                "channel": "category",
                "location": "category",
                "sku": "category",
                "event": "category",
                "rule": "category",
                "start": "time",
                "end": "time",
            },
        )

    def mismatches(self, pairs: tuple[np.ndarray, np.ndarray]) -> Table:
        r, f, base = self.r, self.faults, self.base
        v, b = pairs
        seen, paid = self.price[v], self.price[b]
        off = np.abs(np.rint(paid * 100) - np.rint(seen * 100)) > 1
        v, b, seen, paid = v[off], b[off], seen[off], paid[off]
        sku = self.sku[b]
        deviates = np.abs(seen - _clean_prices(base, sku, r.time[v])) > 0.005
        deviates |= np.abs(paid - _clean_prices(base, sku, r.time[b])) > 0.005
        names = np.array(["price_change", *sorted(set(f.rule.tolist()))], dtype=object)
        fault = np.zeros(base.n, dtype=np.int64)  # 0: no fault, else the rule's position
        fault[f.sku] = np.searchsorted(names[1:], f.rule) + 1
        cause = names[np.where(deviates, fault[sku], 0)]
        rows_v, rows_b = r.row[v], r.row[b]
        qty = self.table.raw("quantity")[rows_b].astype(np.float64)
        return Table.from_columns(
            {
                "customer": self._decoded("customer", rows_b),
                "sku": self._decoded("sku", rows_b),
                "seen_channel": self._decoded("channel", rows_v),
                "seen_time": r.time[v].view(TIME_DTYPE),
                "seen_price": seen,
                "paid_channel": self._decoded("channel", rows_b),
                "paid_time": r.time[b].view(TIME_DTYPE),
                "paid_price": paid,
                "quantity": qty,
                "difference": (paid - seen) * qty,
                "seen_row": rows_v.astype(np.int64),
                "paid_row": rows_b.astype(np.int64),
                "cause": cause,
                "injected": self.injected[b],
            },
            kinds={
                "customer": "category",
                "sku": "category",
                "seen_channel": "category",
                "seen_time": "time",
                "paid_channel": "category",
                "paid_time": "time",
                "cause": "category",
            },
        )

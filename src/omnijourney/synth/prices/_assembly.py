"""Assembling the synthetic price world: final price intervals, promotions and the tables.

Part of :mod:`omnijourney.synth.prices`, whose docstring states the rules.
"""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney.synth._templates import store_labels
from omnijourney.synth.prices._base import (
    _CATEGORIES,
    _CHANNEL_LABELS,
    _MECHANICS,
    _PERISHABLE,
    _Base,
    _cents,
    _labels,
    _loyalty_price,
)
from omnijourney.synth.prices._faults import DAY, NAT, SECOND, Faults, Truth
from omnijourney.tables import ColumnSpec, Table, code_dtype
from omnijourney.time import TIME_DTYPE

# --------------------------------------------------------------------------- assembly


@attrs.define(eq=False)
class _Prices:
    """Final price intervals sorted by series key then start, with search keys."""

    key: np.ndarray
    frm: np.ndarray
    to: np.ndarray
    price: np.ndarray
    regular: np.ndarray
    confirmed: np.ndarray
    c_from: np.ndarray
    c_to: np.ndarray


def _rank_columns(base: _Base) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel, location and audience codes of each series slot."""
    ranks = range(base.n_ranks)
    channel = np.array([base.rank_channel(r) for r in ranks], dtype=np.int8)
    location = np.array([base.rank_location(r) for r in ranks], dtype=np.int8)
    audience = np.array([0 if base.rank_is_loyalty(r) else 1 for r in ranks], dtype=np.int8)
    return channel, location, audience


def _search_key(base: _Base, key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``key`` and a time packed in one sortable int64 (seconds since 64 days before start)."""
    origin = base.t0 - 64 * DAY
    rel = np.where(t == NAT, 2**32 - 1, (np.maximum(t, origin) - origin) // SECOND)
    return (key.astype(np.int64) << 32) | rel


def _assemble_prices(base: _Base, faults: Faults, rng: np.random.Generator) -> _Prices:
    r_count, ns = base.n_ranks, base.n_stores
    group = base.group_ranks
    g_to = np.where(base.g_to < 0, NAT, base.us(base.g_to))
    s_to = np.where(base.s_to < 0, NAT, base.us(base.s_to))
    loyal = np.flatnonzero(base.loyalty[base.s_sku])
    l_sku = base.s_sku[loyal]
    parts = [
        (
            (base.g_sku[None, :] * r_count + group[:, None]).ravel(),
            np.tile(base.us(base.g_from), group.size),
            np.tile(g_to, group.size),
            np.tile(base.g_price, group.size),
            np.tile(base.g_regular, group.size),
        ),
        (
            base.s_sku * r_count + 2,
            base.us(base.s_from),
            s_to,
            _cents(base.s_price * base.mkt_factor[base.s_sku]),
            np.ones(base.s_sku.size, dtype=bool),
        ),
        (
            (l_sku[None, :] * r_count + (3 + 2 * np.arange(ns))[:, None]).ravel(),
            np.tile(base.us(base.s_from[loyal]), ns),
            np.tile(s_to[loyal], ns),
            np.tile(_loyalty_price(base.s_price[loyal], base.loyalty_disc[l_sku]), ns),
            np.ones(loyal.size * ns, dtype=bool),
        ),
    ]
    key, frm, to, price, regular = (np.concatenate(cols) for cols in zip(*parts))
    if faults.series:
        keep = ~np.isin(key, np.fromiter(faults.series, dtype=np.int64))
        rows = [(k, *row) for k, iv in faults.series.items() for row in iv]
        key = np.concatenate((key[keep], np.array([r[0] for r in rows], dtype=np.int64)))
        frm = np.concatenate((frm[keep], np.array([r[1] for r in rows], dtype=np.int64)))
        to = np.concatenate((to[keep], np.array([r[2] for r in rows], dtype=np.int64)))
        price = np.concatenate((price[keep], np.array([r[3] for r in rows], dtype=np.float64)))
        regular = np.concatenate((regular[keep], np.array([r[4] for r in rows], dtype=bool)))
    if faults.overlaps:  # intervals sent again inside the current one
        extra = np.array(faults.overlaps, dtype=np.float64)
        key = np.concatenate((key, extra[:, 0].astype(np.int64)))
        frm = np.concatenate((frm, extra[:, 1].astype(np.int64)))
        to = np.concatenate((to, extra[:, 2].astype(np.int64)))
        price = np.concatenate((price, extra[:, 3]))
        regular = np.concatenate((regular, np.ones(len(faults.overlaps), dtype=bool)))
    order = np.lexsort((frm, key))
    key, frm, to, price, regular = key[order], frm[order], to[order], price[order], regular[order]

    # last confirmation: at most 1 day (online) or 3 days (store) before the interval stops
    rank = key % r_count
    store = (rank >= 3) & (rank < 3 + 2 * ns)
    end = np.where(to == NAT, base.t1, np.minimum(to, base.t1))
    span = np.minimum(np.where(store, 3 * DAY, DAY), end - frm) // SECOND
    confirmed = end - np.floor(rng.random(key.size) * (span + 1)).astype(np.int64) * SECOND
    c_from = _search_key(base, key, frm)
    for k, start, when in faults.stale:
        i = int(np.searchsorted(c_from, _search_key(base, np.array([k]), np.array([start]))[0]))
        confirmed[i] = when
    return _Prices(key, frm, to, price, regular, confirmed, c_from, _search_key(base, key, to))


def _prior_prices(p: _Prices, base: _Base, series: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Lowest public price of each series over intervals meeting ``[first - 30 days, first)``."""
    hi = np.searchsorted(p.c_from, _search_key(base, series, first), side="left")
    lo = np.searchsorted(p.c_to, _search_key(base, series, first - 30 * DAY), side="right")
    width = hi - lo
    out = np.full(series.size, np.inf)
    for k in range(int(width.max(initial=0))):
        m = width > k
        out[m] = np.minimum(out[m], p.price[lo[m] + k])
    out[width <= 0] = np.nan
    return out


def _assemble_promotions(base: _Base, faults: Faults, p: _Prices) -> Table:
    r_count = base.n_ranks
    group = base.group_ranks
    n_steps = base.q_pid.size
    step = np.tile(np.arange(n_steps), group.size)
    rank = np.repeat(group, n_steps)
    pid = base.q_pid[step]
    sku = base.p_sku[pid]
    start, end = base.us(base.q_start[step]), base.us(base.q_end[step])
    first = base.us(base.p_start[pid])
    mech, disc, price = base.q_mech[step], base.q_disc[step], base.q_price[step].copy()
    row_key = pid * r_count + rank
    keep = ~np.isin(row_key, np.fromiter(faults.promo_drop, dtype=np.int64))
    for k, value in faults.promo_price.items():
        price[row_key == k] = value
    cols = [pid, sku, rank, start, end, first, mech, disc, price]
    cols = [c[keep] for c in cols]
    if faults.new_promos:
        m = group.size
        new = faults.new_promos
        added = [
            np.repeat([x.pid for x in new], m),
            np.repeat([x.sku for x in new], m),
            np.tile(group, len(new)),
            np.repeat(base.us([x.start for x in new]), m),
            np.repeat(base.us([x.end for x in new]), m),
            np.repeat(base.us([x.start for x in new]), m),
            np.repeat([x.mech for x in new], m),
            np.repeat([x.disc for x in new], m),
            np.repeat([x.price for x in new], m),
        ]
        cols = [np.concatenate((c, a.astype(c.dtype))) for c, a in zip(cols, added)]
    pid, sku, rank, start, end, first, mech, disc, price = cols
    ref = _prior_prices(p, base, sku * r_count + rank, first)
    row_key = pid * r_count + rank
    for k, value in faults.ref_override.items():
        ref[row_key == k] = value
    pct = np.round(100.0 * (ref - price) / ref, 1)
    for k, (kind, value, t) in faults.pct_override.items():
        i = int(np.flatnonzero(row_key == k)[0])
        exact = 100.0 * (ref[i] - price[i]) / ref[i]
        was = value if kind == "price" else round(float(ref[i]) * value, 2)
        announced = round(100.0 * (was - price[i]) / was, 1)
        if abs(announced - exact) <= 0.5:  # too close to tell apart from rounding
            was = round(float(ref[i]) * 1.3, 2)
            announced = round(100.0 * (was - price[i]) / was, 1)
        pct[i] = announced
        faults.truth[t].expected = round(float(exact), 1)
        faults.truth[t].actual = announced
    order = np.lexsort((pid, start, rank, sku))
    channel, location, _ = _rank_columns(base)
    n_promos = base.p_sku.size + len(faults.new_promos)
    rank = rank[order]
    return _table(
        {
            "promo_id": ("category", pid[order], _promo_labels(n_promos)),
            "sku": ("category", sku[order], base.sku_labels),
            "channel": ("category", channel[rank], _labels(_CHANNEL_LABELS)),
            "location": ("category", location[rank], _location_labels(base.n_stores)),
            "mechanic": ("category", mech[order], _labels(_MECHANICS)),
            "discount": ("float", disc[order], None),
            "promo_price": ("float", price[order], None),
            "start": ("time", start[order], None),
            "end": ("time", end[order], None),
            "reference_price": ("float", ref[order], None),
            "announced_pct": ("float", pct[order], None),
            "stackable": ("bool", np.zeros(order.size, dtype=bool), None),
        }
    )


# --------------------------------------------------------------------------- tables


def _promo_labels(n: int) -> np.ndarray:
    width = max(6, len(str(n)))
    return _labels(f"P{i:0{width}d}" for i in range(1, n + 1))


def _location_labels(n_stores: int) -> np.ndarray:
    return _labels([*store_labels(n_stores).tolist(), "online"])


def _table(columns: dict[str, tuple[str, np.ndarray, np.ndarray | None]]) -> Table:
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    specs: dict[str, ColumnSpec] = {}
    for name, (kind, values, lab) in columns.items():
        specs[name] = ColumnSpec(name, kind)
        if kind == "category":
            assert lab is not None
            labels[name] = lab
            data[name] = np.asarray(values).astype(code_dtype(lab.size), copy=False)
        elif kind == "time":
            data[name] = np.asarray(values, dtype=np.int64).view(TIME_DTYPE)
        else:
            data[name] = np.asarray(values)
    return Table(data, labels, specs)


def _catalog_table(base: _Base) -> Table:
    perishable = np.isin(np.asarray(_CATEGORIES)[base.category], _PERISHABLE)
    return _table(
        {
            "sku": ("category", np.arange(base.n), base.sku_labels),
            "category": ("category", base.category, _labels(_CATEGORIES)),
            "base_price": ("float", base.base_price.astype(np.float64), None),
            "perishable": ("bool", perishable, None),
            "launched": ("time", base.us(base.launch_day), None),
        }
    )


def _prices_table(base: _Base, p: _Prices) -> Table:
    channel, location, audience = _rank_columns(base)
    rank = p.key % base.n_ranks
    return _table(
        {
            "sku": ("category", p.key // base.n_ranks, base.sku_labels),
            "channel": ("category", channel[rank], _labels(_CHANNEL_LABELS)),
            "location": ("category", location[rank], _location_labels(base.n_stores)),
            "price": ("float", p.price, None),
            "currency": ("category", np.zeros(p.key.size, dtype=np.int8), _labels(["EUR"])),
            "valid_from": ("time", p.frm, None),
            "valid_to": ("time", p.to, None),
            "audience": ("category", audience[rank], _labels(["loyalty", "public"])),
            "price_type": (
                "category",
                p.regular.astype(np.int8),
                _labels(["promotional", "regular"]),
            ),
            "confirmed": ("time", p.confirmed, None),
        }
    )


def _days_to_us(base: _Base, day: np.ndarray) -> np.ndarray:
    out = np.multiply(day, DAY, dtype=np.int64)
    out += base.t0
    return out


def _stock_table(base: _Base) -> Table:
    return _table(
        {
            "sku": ("category", base.st_sku, base.sku_labels),
            "location": ("category", base.st_loc, _location_labels(base.n_stores)),
            "time": ("time", _days_to_us(base, base.st_day), None),
            "quantity": ("int", base.st_qty, None),
            "shown_available": ("bool", base.st_shown, None),
            "click_collect": ("bool", base.st_cc, None),
        }
    )


def _violations_table(base: _Base, faults: Faults, rows: list[Truth] | None = None) -> Table:
    """The truth rows (``faults.truth`` by default) as a table."""
    promo = _promo_labels(base.p_sku.size + len(faults.new_promos))
    locations = _location_labels(base.n_stores)
    rows = faults.truth if rows is None else rows

    def detail(d: str | tuple[int, ...]) -> str:
        return d if isinstance(d, str) else "|".join(sorted(promo[i] for i in d))

    table = Table.from_columns(
        {
            "rule": [t.rule for t in rows],
            "sku": [base.sku_labels[t.sku] for t in rows],
            "channel": [_CHANNEL_LABELS[t.channel] for t in rows],
            "location": [locations[t.location] for t in rows],
            "start": np.array([t.start for t in rows], dtype=np.int64).view(TIME_DTYPE),
            "end": np.array([t.end for t in rows], dtype=np.int64).view(TIME_DTYPE),
            "expected": np.array([t.expected for t in rows], dtype=np.float64),
            "actual": np.array([t.actual for t in rows], dtype=np.float64),
            "detail": [detail(t.detail) for t in rows],
        },
        kinds={
            "rule": "category",
            "sku": "category",
            "channel": "category",
            "location": "category",
            "start": "time",
            "end": "time",
            "expected": "float",
            "actual": "float",
            "detail": "category",
        },
    )
    return table.sort(["rule", "sku", "channel", "location", "start"])

"""Price series: common labels, canonical order, overlaps resolved, equal neighbours merged.

A series is (sku, channel, location, audience). :func:`build_series` sorts the intervals by
series then start (the same for any row order), reports overlapping intervals (the interval
that started last applies where they overlap), and merges adjacent intervals that carry the
same price, so that splitting an interval in two changes nothing downstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._arrays import code_offsets, dense_rank, grouped_search, pack_bits, run_starts
from omnijourney.errors import DataError
from omnijourney.pricing._findings import Found
from omnijourney.pricing._intervals import NAT, OPEN
from omnijourney.pricing._policy import Policy
from omnijourney.pricing._stock_table import CatalogTable
from omnijourney.pricing._tables import Audience, PriceTable, PriceType
from omnijourney.tables import Table, remap_codes, union_labels

__all__ = ["Context", "Series", "build_series", "merge_equal_neighbours", "series_key"]

DAY = 86_400_000_000
_AUDIENCES = [a.value for a in Audience]


def _codes(
    table: Table | None, name: str, union: np.ndarray, *, wide: bool = True
) -> np.ndarray | None:
    if table is None or name not in table.columns:
        return None
    labels = table.labels(name)
    if labels.size == union.size and np.array_equal(labels, union):
        codes = table.raw(name)  # already codes into the common dictionary
    else:
        codes = remap_codes(table.raw(name), labels, union)
    return codes.astype(np.int64) if wide else codes


def _union(tables: list[Table | None], name: str, extra: Sequence[str] = ()) -> np.ndarray:
    parts = [t.labels(name) for t in tables if t is not None and name in t.columns]
    if extra:
        lab = np.empty(len(extra), dtype=object)
        lab[:] = list(extra)
        parts.append(lab)
    if not parts:
        return np.zeros(0, dtype=object)
    return union_labels(parts, column=name, table="audit")


@attrs.define(eq=False)
class Context:
    """Common label dictionaries of every input table, the period, and the catalogue by sku."""

    policy: Policy
    start: int
    as_of: int
    sku_labels: np.ndarray
    channel_labels: np.ndarray
    location_labels: np.ndarray
    currency_labels: np.ndarray
    launched: np.ndarray  # per sku code, NAT when unknown
    delisted: np.ndarray
    perishable: np.ndarray

    @classmethod
    def build(
        cls,
        policy: Policy,
        tables: dict[str, Table | None],
        catalog: CatalogTable | None,
        start: int,
        as_of: int,
    ) -> Context:
        all_tables = [*tables.values(), catalog]
        skus = _union(all_tables, "sku")
        stock = tables.get("stock")
        named = stock is not None and "channel" not in stock.columns  # stock findings' channels
        channels = _union(list(tables.values()), "channel", policy.stock_channels if named else ())
        locations = _union(list(tables.values()), "location")
        currencies = _union([tables.get("prices")], "currency")
        n = skus.size
        launched = np.full(n, NAT, dtype=np.int64)
        delisted = np.full(n, NAT, dtype=np.int64)
        perishable = np.zeros(n, dtype=bool)
        if catalog is not None:
            code = _codes(catalog, "sku", skus)
            assert code is not None
            if "launched" in catalog.columns:
                launched[code] = catalog.raw("launched").view(np.int64)
            if "delisted" in catalog.columns:
                delisted[code] = catalog.raw("delisted").view(np.int64)
            if "perishable" in catalog.columns:
                perishable[code] = catalog.raw("perishable")
        return cls(
            policy=policy,
            start=start,
            as_of=as_of,
            sku_labels=skus,
            channel_labels=channels,
            location_labels=locations,
            currency_labels=currencies,
            launched=launched,
            delisted=delisted,
            perishable=perishable,
        )

    def codes(self, table: Table, name: str, *, wide: bool = True) -> np.ndarray:
        """Codes of a category column of ``table`` in the common dictionary (-1 for null);
        int64 when ``wide``, else the smallest integer type."""
        union = {
            "sku": self.sku_labels,
            "channel": self.channel_labels,
            "location": self.location_labels,
            "currency": self.currency_labels,
        }[name]
        out = _codes(table, name, union, wide=wide)
        if out is None:
            return np.full(len(table), -1, dtype=np.int64 if wide else np.int8)
        return out

    def channel_mask(self, names: Any) -> np.ndarray:
        """Boolean mask over channel codes of the channels named."""
        wanted = {str(x) for x in names}
        return np.array([str(c) in wanted for c in self.channel_labels.tolist()], dtype=bool)

    def channel_code(self, name: str) -> int:
        """Code of a channel name (-1 when no table has it)."""
        hits = np.flatnonzero(self.channel_labels == name)
        return int(hits[0]) if hits.size else -1


@attrs.define(eq=False)
class Series:
    """Effective price intervals sorted by series then start, and each series' attributes.

    ``to`` is ``OPEN`` for open-ended intervals; ``row`` is the input row an interval (or
    piece) comes from (None when the input was already in order and unchanged: then it is the
    position); ``confirmed`` holds NAT where unknown.
    """

    n: int
    sku: np.ndarray
    channel: np.ndarray
    location: np.ndarray
    audience: np.ndarray
    offsets: np.ndarray
    sid: np.ndarray
    frm: np.ndarray
    to: np.ndarray
    price: np.ndarray
    regular: np.ndarray
    confirmed: np.ndarray | None
    row: np.ndarray | None
    currency: np.ndarray

    def input_row(self, idx: np.ndarray) -> np.ndarray:
        """Input rows of the intervals at positions ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        return idx if self.row is None else self.row[idx]

    def public(self, audiences: Any) -> np.ndarray:
        """Per-series mask of the audiences named."""
        codes = [i for i, a in enumerate(_AUDIENCES) if a in set(audiences)]
        return np.isin(self.audience, np.array(codes, dtype=np.int64))


def series_key(
    sku: Any, channel: Any, location: Any, audience: Any, n_ch: int, n_loc: int
) -> np.ndarray:
    """The int64 key whose order is the order of the series (a null location sorts last)."""
    key = np.array(sku, dtype=np.int64)
    key *= n_ch
    key += channel
    key *= n_loc + 1
    loc = np.array(location, dtype=np.int64)
    loc[loc < 0] = n_loc
    key += loc
    del loc
    key *= len(_AUDIENCES)
    key += audience
    return key


def _rows(table: PriceTable, ctx: Context) -> dict[str, Any]:
    n = len(table)
    cols = table.columns
    to = table.raw("valid_to").view(np.int64) if "valid_to" in cols else np.full(n, NAT)
    return {
        "sku": ctx.codes(table, "sku", wide=False),
        "channel": ctx.codes(table, "channel", wide=False),
        "location": ctx.codes(table, "location", wide=False),
        "audience": table.raw("audience") if "audience" in cols else np.zeros(n, dtype=np.int8),
        "frm": table.raw("valid_from").view(np.int64),
        "to": np.where(to == NAT, OPEN, to),
        "price": table.raw("price").astype(np.float64, copy=False),
        "regular": table.raw("price_type") == list(PriceType).index(PriceType.REGULAR)
        if "price_type" in cols
        else np.ones(n, dtype=bool),
        "confirmed": table.raw("confirmed").view(np.int64) if "confirmed" in cols else None,
        "currency": ctx.codes(table, "currency", wide=False),
    }


def _convert_currency(r: dict[str, np.ndarray], ctx: Context, table: PriceTable) -> None:
    rates = dict(ctx.policy.currency_rates)
    if not rates or "currency" not in table.columns:
        return
    labels = ctx.currency_labels.tolist()
    rate = np.array([rates.get(str(c), np.nan) for c in labels] + [np.nan])
    per_row = rate[r["currency"]]  # -1 (no currency) picks the trailing NaN
    missing = np.isnan(per_row)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise DataError(
            "has no rate in Policy(currency_rates=...)",
            table="PriceTable",
            column="currency",
            rows=rows.tolist(),
            values=[None if r["currency"][i] < 0 else labels[r["currency"][i]] for i in rows[:5]],
            hint=f"rates are given for {sorted(rates)}",
        )
    r["price"] = r["price"] * per_row


def _order(r: dict[str, Any], n_loc: int, n_ch: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Canonical order of the rows (None when already in it) and their sorted series ids."""
    key = series_key(r["sku"], r["channel"], r["location"], r["audience"], n_ch, n_loc)
    rank, n_series = dense_rank(key)
    del key
    frm = r["frm"]
    n = frm.size
    if n == 0:
        return None, rank
    t_min, t_max = int(frm.min()), int(frm.max())
    bits = pack_bits(n_series, t_min, t_max)
    if bits is not None:
        packed = rank  # packed in place: series << bits | start
        packed <<= bits
        packed |= frm - t_min
        order = None if np.all(packed[1:] >= packed[:-1]) else np.argsort(packed, kind="stable")
        if order is not None:
            packed = packed[order]
        tie = packed[1:] == packed[:-1]
        packed >>= bits
        sid = packed
    else:
        order = np.lexsort((frm, rank))
        sid = rank[order]
        tie = (sid[1:] == sid[:-1]) & (frm[order][1:] == frm[order][:-1])
    if tie.any():
        # same series and start: break the tie on the other columns, never on row order
        order = np.arange(n) if order is None else order
        in_tie = np.zeros(n, dtype=bool)
        in_tie[1:] |= tie
        in_tie[:-1] |= tie
        pos = np.flatnonzero(in_tie)
        rows = order[pos]
        keys = [r["to"][rows], r["price"][rows], r["regular"][rows], r["currency"][rows]]
        if r["confirmed"] is not None:
            keys.append(r["confirmed"][rows])
        keys += [frm[rows], sid[pos]]
        order[pos] = rows[np.lexsort(tuple(keys))]
    dtype = np.int32 if n_series < 2**31 else np.int64
    return order, sid.astype(dtype)


def build_series(
    table: PriceTable, ctx: Context, *, merge: bool = True
) -> tuple[Series, list[Found]]:
    """Sort, check and normalize the price intervals of ``table`` into :class:`Series`
    (with ``merge``, touching intervals of one price made one: see
    :func:`merge_equal_neighbours`)."""
    r = _rows(table, ctx)
    _convert_currency(r, ctx, table)
    order, sid = _order(r, ctx.location_labels.size, ctx.channel_labels.size)
    n = len(table)
    row = None
    if order is not None:
        r = {k: (v if v is None else v[order]) for k, v in r.items()}
        row = order.astype(np.int64)
    n_series = int(sid[-1]) + 1 if n else 0
    offsets = code_offsets(sid, n_series)
    first = offsets[:-1]
    s = Series(
        n=n_series,
        sku=r["sku"][first].astype(np.int64),
        channel=r["channel"][first].astype(np.int64),
        location=r["location"][first].astype(np.int64),
        audience=r["audience"][first].astype(np.int64),
        offsets=offsets,
        sid=sid,
        frm=r["frm"],
        to=r["to"],
        price=r["price"],
        regular=r["regular"],
        confirmed=r["confirmed"],
        row=row,
        currency=r["currency"],
    )
    del r
    found: list[Found] = []
    overlap = np.zeros(n, dtype=bool)
    if n > 1:
        overlap[1:] = (s.sid[1:] == s.sid[:-1]) & (s.frm[1:] < s.to[:-1])
    if overlap.any():
        if ctx.policy.overlaps == "raise":
            bad = np.sort(s.input_row(np.flatnonzero(overlap)))
            values = table.raw("valid_from")[bad[:5]]
            raise DataError(
                "overlaps another interval of its series (sku, channel, location, audience)",
                table="PriceTable",
                column="valid_from",
                rows=bad.tolist(),
                values=[str(v) for v in values],
                hint="Policy(overlaps='finding') reports overlaps as findings instead",
            )
        flagged = np.zeros(n_series, dtype=bool)
        flagged[s.sid[overlap]] = True
        found.append(_overlap_findings(s, flagged, ctx))
        s = _resolve(s, flagged)
    return (merge_equal_neighbours(s) if merge else s), found


def _overlap_findings(s: Series, flagged: np.ndarray, ctx: Context) -> Found:
    """One finding per pair of overlapping intervals of a flagged series."""
    n = s.frm.size
    act = np.flatnonzero(flagged[s.sid])
    pi: list[np.ndarray] = []
    pj: list[np.ndarray] = []
    k = 1
    while act.size:
        j = np.minimum(act + k, n - 1)
        ok = (act + k < n) & (s.sid[j] == s.sid[act]) & (s.frm[j] < s.to[act])
        act = act[ok]
        pi.append(act)
        pj.append(act + k)
        k += 1
    i = np.concatenate(pi) if pi else np.zeros(0, dtype=np.int64)
    j = np.concatenate(pj) if pj else np.zeros(0, dtype=np.int64)
    end = np.minimum(s.to[i], s.to[j])
    end = np.where(end >= OPEN, max(ctx.as_of, 0), end)
    diff = np.abs(s.price[j] - s.price[i])
    same = (diff <= ctx.policy.price_tolerance) & (s.regular[i] == s.regular[j])
    sev = np.where(same, "low", ctx.policy.severity("overlapping_prices"))
    detail = [
        f"input rows {a} and {b}{' (same price)' if d else ''}"
        for a, b, d in zip(s.input_row(i).tolist(), s.input_row(j).tolist(), same.tolist())
    ]
    sid = s.sid[i]
    return Found.make(
        "overlapping_prices",
        sku=s.sku[sid],
        channel=s.channel[sid],
        location=s.location[sid],
        start=s.frm[j],
        end=end,
        expected=s.price[i],
        actual=s.price[j],
        at_stake=diff,
        currency=s.currency[i],
        detail=np.array(detail, dtype=object),
        severity=sev,
    )


def _resolve(s: Series, flagged: np.ndarray) -> Series:
    """Rewrite flagged series as non-overlapping pieces: the latest-starting interval wins."""
    rows = np.flatnonzero(flagged[s.sid])
    b_sid = np.concatenate((s.sid[rows], s.sid[rows]))
    b_t = np.concatenate((s.frm[rows], s.to[rows]))
    order = np.lexsort((b_t, b_sid))
    b_sid, b_t = b_sid[order], b_t[order]
    keep = run_starts(b_sid, b_t)
    b_sid, b_t = b_sid[keep], b_t[keep]
    seg = np.flatnonzero(b_sid[:-1] == b_sid[1:])
    g, t0, t1 = b_sid[seg], b_t[seg], b_t[seg + 1]
    lo, hi = s.offsets[g], s.offsets[g + 1]
    win = grouped_search(s.frm, lo, hi, t0, "right") - 1
    act = np.flatnonzero((win >= lo) & (s.to[np.maximum(win, 0)] <= t0))
    while act.size:  # walk back to the latest-starting interval that still covers t0
        win[act] -= 1
        w = win[act]
        act = act[(w >= lo[act]) & (s.to[np.maximum(w, 0)] <= t0[act])]
    ok = win >= lo
    g, t0, t1, win = g[ok], t0[ok], t1[ok], win[ok]
    gap = np.zeros(g.size, dtype=bool)
    gap[1:] = t0[1:] != t1[:-1]
    new = run_starts(g, win, breaks=gap)
    starts = np.flatnonzero(new)
    last = np.append(starts[1:], g.size) - 1
    w = win[starts]
    piece = {
        "sid": g[starts],
        "frm": t0[starts],
        "to": t1[last],
        "price": s.price[w],
        "regular": s.regular[w],
        "row": s.input_row(w),
        "currency": s.currency[w],
    }
    if s.confirmed is not None:
        piece["confirmed"] = s.confirmed[w]
    keep_rows = ~flagged[s.sid]
    out: dict[str, Any] = {}
    for name, values in piece.items():
        old = s.input_row(np.arange(s.frm.size)) if name == "row" else getattr(s, name)
        out[name] = np.concatenate((old[keep_rows], values.astype(old.dtype, copy=False)))
    order2 = np.argsort(out["sid"], kind="stable")  # pieces are in time order within a series
    out = {k: v[order2] for k, v in out.items()}
    return attrs.evolve(
        s,
        offsets=code_offsets(out["sid"], s.n),
        confirmed=out.get("confirmed"),
        **{k: v for k, v in out.items() if k != "confirmed"},
    )


def merge_equal_neighbours(s: Series) -> Series:
    """Merge intervals that touch and carry the same price, type and currency.

    The merged interval keeps the latest confirmation of its pieces, so staleness is judged
    before merging: a price sent again after its source was silent would hide the silence.
    """
    n = s.frm.size
    if n < 2:
        return s
    same = (
        (s.sid[1:] == s.sid[:-1])
        & (s.frm[1:] == s.to[:-1])
        & (s.price[1:] == s.price[:-1])
        & (s.regular[1:] == s.regular[:-1])
        & (s.currency[1:] == s.currency[:-1])
    )
    if not same.any():
        return s
    start = np.ones(n, dtype=bool)
    start[1:] = ~same
    end = np.ones(n, dtype=bool)
    end[:-1] = ~same
    del same
    first = np.flatnonzero(start)
    confirmed = None
    if s.confirmed is not None:
        confirmed = np.maximum.reduceat(s.confirmed, first)
    sid = s.sid[start]
    return attrs.evolve(
        s,
        offsets=code_offsets(sid, s.n),
        sid=sid,
        frm=s.frm[start],
        to=s.to[end],
        price=s.price[start],
        regular=s.regular[start],
        confirmed=confirmed,
        row=s.input_row(first),
        currency=s.currency[start],
    )


def period(
    tables: dict[str, Table | None], start: int | None, as_of: int | None
) -> tuple[int, int]:
    """Default start (earliest price) and as_of (latest time in the data) of an audit."""
    prices = tables["prices"]
    assert prices is not None
    if start is None:
        frm = prices.raw("valid_from").view(np.int64)
        start = int(frm.min()) if frm.size else 0
    if as_of is None:
        latest = [start]
        for t in tables.values():
            if t is None:
                continue
            for name, kind in t.kinds.items():
                if kind == "time" and len(t):
                    latest.append(int(t.raw(name).view(np.int64).max()))  # NaT is the minimum
        as_of = max(latest)
    return start, as_of

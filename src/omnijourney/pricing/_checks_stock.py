"""Checks on stock observations: shown available while out of stock, negative or impossible
quantities, channels that disagree.

An observation holds until the next one of the same (sku, location, channel), for at most the
policy's ``stock_interval``; consecutive bad observations form one finding.
"""

from __future__ import annotations

import numpy as np

from omnijourney._arrays import dense_rank, grouped_search, pack, pack_bits
from omnijourney.pricing._findings import Found
from omnijourney.pricing._series import Context
from omnijourney.pricing._stock_table import StockTable

__all__ = ["stock_checks"]


class _Sorted:
    """Stock rows in (sku, location, channel, time) order, with how long each one holds."""

    def __init__(self, stock: StockTable, ctx: Context) -> None:
        pol = ctx.policy
        n = len(stock)
        cols = stock.columns
        sku = ctx.codes(stock, "sku")
        loc = ctx.codes(stock, "location")
        if "channel" in cols:
            ch = ctx.codes(stock, "channel")
        else:
            online = np.array(
                [str(x) in pol.online_locations for x in ctx.location_labels.tolist()], dtype=bool
            )
            web, store = (ctx.channel_code(c) for c in pol.stock_channels)
            ch = np.where(online[loc], web, store).astype(np.int64)
        t = stock.raw("time").view(np.int64)
        q = stock.raw("quantity").astype(np.float64, copy=False)
        shown = stock.raw("shown_available") if "shown_available" in cols else np.zeros(n, bool)
        cc = stock.raw("click_collect") if "click_collect" in cols else np.zeros(n, bool)
        n_loc, n_ch = ctx.location_labels.size, ctx.channel_labels.size
        place, _ = dense_rank(sku * (n_loc + 1) + loc + 1)
        lane, n_lane = dense_rank(place * (n_ch + 1) + ch + 1)
        order = self._order(lane, n_lane, t, q, shown, cc)
        if order is not None:
            sku, loc, ch, t, q, shown, cc, place, lane = (
                a[order] for a in (sku, loc, ch, t, q, shown, cc, place, lane)
            )
        self.sku, self.loc, self.ch, self.t, self.q = sku, loc, ch, t, q
        self.shown, self.cc, self.place, self.lane = shown, cc, place, lane
        interval = int(pol.stock_interval.astype(np.int64))
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[:-1] = lane[1:] == lane[:-1]
        nxt = np.empty(n, dtype=np.int64)
        if n:
            nxt[:-1] = t[1:]
            nxt[-1] = t[-1]
        self.hold_end = np.where(same, np.minimum(nxt, t + interval), t + interval)
        #: the next row of the lane follows this one closely enough to continue a run
        self.joined = same & (nxt - t <= interval)

    @staticmethod
    def _order(
        lane: np.ndarray,
        n_lane: int,
        t: np.ndarray,
        q: np.ndarray,
        shown: np.ndarray,
        cc: np.ndarray,
    ) -> np.ndarray | None:
        n = t.size
        if n == 0:
            return None
        t_min, t_max = int(t.min()), int(t.max())
        bits = pack_bits(n_lane, t_min, t_max)
        if bits is not None:
            key = pack(lane, t, t_min, bits)
            if np.all(key[1:] > key[:-1]):
                return None
            return np.lexsort((cc, shown, q, key))
        return np.lexsort((cc, shown, q, t, lane))

    def runs(self, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and last rows of each maximal run of consecutive bad rows of one lane."""
        idx = np.flatnonzero(bad)
        if idx.size == 0:
            return idx, idx
        cont = np.zeros(idx.size, dtype=bool)
        cont[1:] = (idx[1:] == idx[:-1] + 1) & self.joined[idx[:-1]]
        starts = np.flatnonzero(~cont)
        ends = np.append(starts[1:], idx.size) - 1
        return idx[starts], idx[ends]

    def found(
        self,
        rule: str,
        bad: np.ndarray,
        expected: float | np.ndarray,
        pick: np.ufunc,
        detail: str,
        other_channel: int | np.ndarray = -1,
    ) -> Found:
        a, b = self.runs(bad)
        idx = np.flatnonzero(bad)
        actual = pick.reduceat(self.q[idx], np.searchsorted(idx, a)) if a.size else np.zeros(0)
        exp = expected if np.ndim(expected) == 0 else np.asarray(expected)[a]
        oth = other_channel if np.ndim(other_channel) == 0 else np.asarray(other_channel)[a]
        return Found.make(
            rule,
            sku=self.sku[a],
            channel=self.ch[a],
            location=self.loc[a],
            start=self.t[a],
            end=self.hold_end[b],
            expected=exp,
            actual=actual,
            other_channel=oth,
            detail=detail,
        )


def stock_checks(stock: StockTable, ctx: Context) -> list[Found]:
    """Every stock rule the policy asks for."""
    pol = ctx.policy
    st = _Sorted(stock, ctx)
    out: list[Found] = []
    if pol.checks("stock_shown_unavailable"):
        bad = (st.q <= 0) & (st.shown | st.cc)
        out.append(
            st.found("stock_shown_unavailable", bad, 1.0, np.maximum,
                     "shown available while out of stock")
        )  # fmt: skip
    if pol.checks("negative_stock"):
        out.append(st.found("negative_stock", st.q < 0, 0.0, np.minimum, "negative quantity"))
    if pol.checks("impossible_stock") and pol.max_stock is not None:
        out.append(
            st.found("impossible_stock", st.q > pol.max_stock, pol.max_stock, np.maximum,
                     "more units than possible")
        )  # fmt: skip
    if pol.checks("stock_mismatch") and "channel" in stock.columns:
        out.extend(_mismatch(st, ctx))
    return out


def _current(
    st: _Sorted, rows: np.ndarray, pool: np.ndarray, t_min: int, bits: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Quantity of the observation among ``pool`` (one lane per place) current at each row's
    time at the same place (NaN when there is none), and when it stops holding."""
    order = np.lexsort((st.t[pool], st.place[pool]))
    pool = pool[order]
    if bits is not None:
        key = pack(st.place[pool], st.t[pool], t_min, bits)
        pos = np.searchsorted(key, pack(st.place[rows], st.t[rows], t_min, bits), "right") - 1
    else:  # pragma: no cover - centuries of data for very many places
        lo = np.searchsorted(st.place[pool], st.place[rows], "left")
        hi = np.searchsorted(st.place[pool], st.place[rows], "right")
        pos = grouped_search(st.t[pool], lo, hi, st.t[rows], "right") - 1
        pos = np.where(pos >= lo, pos, -1)
    r = pool[np.maximum(pos, 0)]
    hit = (pos >= 0) & (st.place[r] == st.place[rows]) & (st.t[rows] < st.hold_end[r])
    return np.where(hit, st.q[r], np.nan), np.where(hit, st.hold_end[r], st.t[rows])


def _mismatch(st: _Sorted, ctx: Context) -> list[Found]:
    """For each pair of channels reporting one (sku, location): at every observation of either,
    their current quantities differ beyond the tolerance."""
    tol = ctx.policy.stock_tolerance
    out: list[Found] = []
    n = st.t.size
    channels = np.flatnonzero(np.bincount(st.ch, minlength=1)).tolist()
    if len(channels) < 2 or n == 0:
        return out
    t_min, t_max = int(st.t.min()), int(st.t.max())
    bits = pack_bits(int(st.place.max()) + 1, t_min, t_max)
    for i, c1 in enumerate(channels):
        for c2 in channels[i + 1 :]:
            a, b = np.flatnonzero(st.ch == c1), np.flatnonzero(st.ch == c2)
            rows = np.concatenate((a, b))
            q2_at_a, end2 = _current(st, a, b, t_min, bits)
            q1_at_b, end1 = _current(st, b, a, t_min, bits)
            q1 = np.concatenate((st.q[a], q1_at_b))
            q2 = np.concatenate((q2_at_a, st.q[b]))
            # the pair of observations holds until the first of them stops holding
            until = np.minimum(st.hold_end[rows], np.concatenate((end2, end1)))
            order = np.lexsort((st.ch[rows], st.t[rows], st.place[rows]))
            rows, q1, q2, until = rows[order], q1[order], q2[order], until[order]
            with np.errstate(invalid="ignore"):
                limit = tol.limit(np.maximum(np.abs(q1), np.abs(q2)))
                bad = np.abs(q1 - q2) > limit
            idx = np.flatnonzero(bad)
            if idx.size == 0:
                continue
            place = st.place[rows]
            cont = np.zeros(idx.size, dtype=bool)
            cont[1:] = (
                (idx[1:] == idx[:-1] + 1)
                & (place[idx[1:]] == place[idx[:-1]])
                & (st.t[rows[idx[1:]]] <= until[idx[:-1]])
            )
            first = idx[~cont]
            last = idx[np.append(np.flatnonzero(~cont)[1:], idx.size) - 1]
            nxt = np.minimum(last + 1, rows.size - 1)
            same = (last + 1 < rows.size) & (place[nxt] == place[last])
            end = np.where(same, np.minimum(st.t[rows[nxt]], until[last]), until[last])
            r = rows[first]
            out.append(
                Found.make(
                    "stock_mismatch",
                    sku=st.sku[r],
                    channel=c2,
                    location=st.loc[r],
                    start=st.t[r],
                    end=end,
                    expected=q1[first],
                    actual=q2[first],
                    other_channel=c1,
                    detail="channels report different quantities",
                )
            )
    return out

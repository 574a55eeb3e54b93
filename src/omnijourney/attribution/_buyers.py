"""Online-to-store figures scaled to all buyers, the ones the systems did not identify included.

A till counts every sale; the customer data knows only the buyers it could identify (a card
shown, a token or an e-mail linked to a person). Figures computed on identified buyers (how
many store purchases followed research online, how much credit each channel earns) describe
them alone. With the totals the tills count, the identification rate of each segment
(identified conversions over all conversions) scales them to all buyers, under one
assumption: within a segment, the buyers the systems did not identify behave like those they
did (they are missing at random within the segment). Intervals come from a bootstrap of
customers (Poisson weights, as for :mod:`omnijourney.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._random import as_generator
from omnijourney._validation import check_fraction, check_positive_int
from omnijourney.attribution._canonical import canonical_groups
from omnijourney.attribution._models import attribute
from omnijourney.attribution._paths import PathTable
from omnijourney.attribution._results import frame
from omnijourney.errors import ConfigError, DataError
from omnijourney.tables import Table

__all__ = ["AllBuyers", "identification_rates", "scale_to_all_buyers"]

ASSUMPTION = (
    "Within each segment, the buyers the systems did not identify research, convert and "
    "credit channels as the identified buyers do (missing at random within the segment)."
)


@attrs.frozen(repr=False)
class AllBuyers:
    """Figures of identified buyers scaled to all buyers, with bootstrap intervals.

    Attributes
    ----------
    rates : Table
        Per segment: ``segment``, ``identified`` (conversions of identified buyers),
        ``total`` (all conversions, as given), ``rate`` (identified / total; 1 for a segment
        without a total, which is not scaled).
    breaks : Table
        Per break kind: ``kind``, ``identified`` (breaks ending at an identified conversion),
        ``scaled`` (to all buyers) and its interval ``low``, ``high``.
    credit : Table
        Per channel: ``channel``, ``identified`` (conversions credited on the identified
        buyers' journeys), ``scaled``, ``low``, ``high``, ``share`` (of the scaled credit),
        ``share_low``, ``share_high``.
    model : str
    by : str
        The column whose values are the segments (``"channel"``, ``"store"``...).
    assumption : str
        What the scaling assumes.
    confidence_level, n_resamples, seed
        How the intervals were made.
    notes : tuple of str
        Segments left unscaled and why.
    """

    rates: Table
    breaks: Table
    credit: Table
    model: str
    by: str
    assumption: str
    confidence_level: float
    n_resamples: int
    seed: int | None
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Rates, scaled breaks and scaled credit, with the assumption."""
        pct = round(100 * self.confidence_level)
        lines = [f"Scaled to all buyers by {self.by} ({pct}% intervals, {self.n_resamples} "
                 f"resamples of customers). Assumption: {self.assumption}"]  # fmt: skip
        r = self.rates
        for seg, i, t, rate in zip(r["segment"], r["identified"], r["total"], r["rate"]):
            lines.append(f"  {seg!s:<16} identified {i:>10,.0f} of {t:>10,.0f}  ({rate:.1%})")
        for k, i, s, lo, hi in zip(
            *(self.breaks[c] for c in ("kind", "identified", "scaled", "low", "high"))
        ):
            lines.append(f"  {k:<22} {i:>9,.0f} -> {s:>11,.1f}  [{lo:,.1f}, {hi:,.1f}]")
        c = self.credit
        for ch, s, lo, hi in zip(c["channel"], c["scaled"], c["low"], c["high"]):
            lines.append(f"  credit {ch!s:<15} {s:>11,.1f}  [{lo:,.1f}, {hi:,.1f}]")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_pandas(self) -> Any:
        """The scaled credit, one row per channel (``rates`` and ``breaks`` are tables too)."""
        cols = {c: self.credit[c] for c in self.credit.columns if c != "channel"}
        return frame(cols, index=self.credit["channel"].tolist())


# --------------------------------------------------------------------------- inputs


def _conversion_rows(jt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per journey, its conversion row (its last conversion; -1 without) and, per row,
    whether a person was identified (the ``anonymous`` column of linked touchpoints)."""
    tp = jt.touchpoints
    ev = tp.labels("event").tolist()
    conv = np.array([e in jt.rules.conversion_events for e in ev], dtype=bool)[tp.raw("event")]
    rows = jt.order
    conv_sorted = conv[rows]
    n_j = len(jt.journeys)
    journey = jt.sorted_journey
    last = np.full(n_j, -1, dtype=np.int64)
    idx = np.flatnonzero(conv_sorted)
    last[journey[idx]] = rows[idx]  # later rows of a journey overwrite earlier ones
    if "anonymous" in tp.columns:
        identified = ~tp.raw("anonymous").astype(bool)
    else:
        identified = np.ones(len(tp), dtype=bool)
    return last, identified


def _segments(jt: Any, by: str) -> tuple[np.ndarray, np.ndarray]:
    tp = jt.touchpoints
    if by not in tp.columns or tp.kinds[by] != "category":
        msg = (
            f"The 'by' parameter must name a category column of the touchpoints (channel, "
            f"store...). Got {by!r}; columns are {tp.columns}."
        )
        raise ConfigError(msg)
    return tp.raw(by).astype(np.int64), tp.labels(by)


def _totals(totals: Any, labels: np.ndarray) -> np.ndarray:
    """Per segment label, the total given (NaN where none)."""
    if not isinstance(totals, Mapping):
        msg = (
            "The 'totals' parameter must be a mapping of segment to its number of conversions "
            f"(the tills' count of sales). Got {totals!r} instead."
        )
        raise ConfigError(msg)
    index = {str(v): i for i, v in enumerate(labels.tolist())}
    out = np.full(labels.size, np.nan)
    unknown = [k for k in totals if str(k) not in index]
    if unknown:
        msg = (
            f"The 'totals' parameter names segments the data does not have: {unknown}; "
            f"segments are {labels.tolist()}."
        )
        raise ConfigError(msg)
    for k, v in totals.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v >= 0:
            msg = f"The 'totals' parameter must give a number >= 0 for {k!r}. Got {v!r} instead."
            raise ConfigError(msg)
        out[index[str(k)]] = float(v)
    return out


# --------------------------------------------------------------------------- rates


def identification_rates(
    journeys: Any, totals: Mapping[str, float], *, by: str = "channel"
) -> Table:
    """Identified conversions over all conversions, per segment.

    Parameters
    ----------
    journeys : JourneyTable
        Sessionized touchpoints, linked to persons (:func:`omnijourney.identity.link_touchpoints`:
        its ``anonymous`` column says which rows no person was found for). Without that
        column every row counts as identified.
    totals : mapping of str to number
        Per segment, all its conversions (a till's count of sales, the web's orders).
    by : str
        Touchpoint column whose values are the segments of the conversion rows.

    Returns
    -------
    Table
        ``segment``, ``identified``, ``total``, ``rate`` per segment with conversions or a
        total (``rate`` NaN without a total).

    Raises
    ------
    ConfigError
        Totals that are not numbers, or name segments the data lacks; ``by`` not a column.
    DataError
        A total below the identified conversions of its segment.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({"customer": ["P1", "P2", "T-9"],
    ...     "time": ["2024-05-01", "2024-05-02", "2024-05-03"],
    ...     "channel": ["store", "store", "store"], "event": ["purchase"] * 3,
    ...     "anonymous": [False, False, True]}, extra=["anonymous"])
    >>> r = identification_rates(oj.sessionize(tp), {"store": 4})
    >>> r["identified"].tolist(), r["rate"].tolist()
    ([2], [0.5])
    """
    seg, labels = _segments(journeys, by)
    last, identified = _conversion_rows(journeys)
    conv_rows = last[last >= 0]
    given = _totals(totals, labels)
    ident = np.bincount(
        seg[conv_rows][identified[conv_rows] & (seg[conv_rows] >= 0)], minlength=labels.size
    )
    return _rate_table(labels, ident, given)


def _rate_table(labels: np.ndarray, ident: np.ndarray, given: np.ndarray) -> Table:
    bad = np.flatnonzero(~np.isnan(given) & (given < ident))
    if bad.size:
        raise DataError(
            "is below the identified conversions of its segment: the totals must count every "
            "conversion, identified or not",
            table="totals",
            column="total",
            rows=bad.tolist(),
            values=[f"{labels[i]}: {given[i]:g} < {ident[i]}" for i in bad[:5].tolist()],
        )
    keep = np.flatnonzero((ident > 0) | ~np.isnan(given))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = ident[keep] / given[keep]
    return Table.from_columns(
        {
            "segment": labels[keep],
            "identified": ident[keep].astype(np.int64),
            "total": given[keep],
            "rate": rate,
        },
        kinds={"segment": "category"},
    )


# --------------------------------------------------------------------------- scaling


class _Setup:
    """What every resample needs: per-customer weights map onto journeys, conversions and
    breaks; paths grouped by (path, segment)."""

    def __init__(self, jt: Any, totals: Any, by: str, breaks: Any, kinds: Sequence[str]) -> None:
        seg, labels = _segments(jt, by)
        last, identified = _conversion_rows(jt)
        self.labels = labels
        n_seg = labels.size
        given = _totals(totals, labels)
        # conversions of identified buyers: they stand for all buyers of their segment
        conv_ok = (last >= 0) & identified[np.maximum(last, 0)]
        j_seg = np.where(last >= 0, seg[np.maximum(last, 0)], -1)
        cust = jt.journeys.raw("customer").astype(np.int64)
        self.n_customers = int(jt.touchpoints.labels("customer").size)
        self.id_cust = cust[conv_ok & (j_seg >= 0)]
        self.id_seg = j_seg[conv_ok & (j_seg >= 0)]
        ident = np.bincount(self.id_seg, minlength=n_seg)
        self.rate_table = _rate_table(labels, ident, given)
        self.total = np.where(np.isnan(given), ident, given).astype(np.float64)
        self.notes: list[str] = []
        unscaled = np.flatnonzero(np.isnan(given) & (ident > 0))
        if unscaled.size:
            self.notes.append(
                "not scaled (no total given): " + ", ".join(str(labels[i]) for i in unscaled)
            )
        empty = np.flatnonzero(~np.isnan(given) & (given > 0) & (ident == 0))
        if empty.size:
            self.notes.append(
                "no identified conversion, left out: " + ", ".join(str(labels[i]) for i in empty)
            )
        # breaks ending at an identified conversion
        self.kinds = list(kinds)
        self.b_cust: list[np.ndarray] = []
        self.b_seg: list[np.ndarray] = []
        if breaks is not None:
            to = breaks.raw("to_row").astype(np.int64)
            kind = breaks["kind"]
            is_conv_end = np.zeros(len(jt.touchpoints), dtype=bool)
            is_conv_end[last[conv_ok]] = True
            row_cust = jt.touchpoints.raw("customer").astype(np.int64)
            for k in self.kinds:
                sel = to[(kind == k) & is_conv_end[to] & (seg[to] >= 0)]
                self.b_cust.append(row_cust[sel])
                self.b_seg.append(seg[sel])
        # journeys: those converting at an anonymous till are replaced by the scaling
        keep = (last < 0) | conv_ok
        pt = PathTable.from_journeys(jt, where=keep, aggregate=False)
        k_seg = np.where(conv_ok[keep], j_seg[keep], -1)
        order, group, _ = canonical_groups(pt.codes, pt.offsets, pt.n_channels)
        path_group = np.empty(order.size, dtype=np.int64)
        path_group[order] = group
        key = path_group * (n_seg + 1) + (k_seg + 1)
        uniq, gid = np.unique(key, return_inverse=True)
        gid = np.asarray(gid, dtype=np.int64).ravel()
        first = np.full(uniq.size, -1, dtype=np.int64)
        first[gid[::-1]] = np.arange(gid.size - 1, -1, -1)
        self.g_seg = (uniq % (n_seg + 1)) - 1
        self.groups = pt.take(first) if first.size else pt
        # counts per (customer, group): what a customer's weight multiplies
        pair, inv = np.unique(cust[keep] * max(uniq.size, 1) + gid, return_inverse=True)
        inv = np.asarray(inv, dtype=np.int64).ravel()
        self.pair_cust = pair // max(uniq.size, 1)
        self.pair_group = pair % max(uniq.size, 1)
        self.counts = np.stack(
            [
                np.bincount(inv, weights=c, minlength=pair.size)
                for c in (pt.conversions, pt.value, pt.nulls)
            ]
        )
        self.n_seg = n_seg
        self._sum: Any = None

    def scale(self, w_cust: np.ndarray) -> np.ndarray:
        """Per segment: total over the (weighted) identified conversions (0 when none)."""
        ident = np.bincount(self.id_seg, weights=w_cust[self.id_cust], minlength=self.n_seg)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ident > 0, self.total / ident, 0.0)

    def breaks_of(self, w_cust: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Per kind: identified and scaled numbers of breaks."""
        out = np.zeros((2, len(self.kinds)))
        for i, (c, s) in enumerate(zip(self.b_cust, self.b_seg)):
            w = w_cust[c]
            out[0, i] = w.sum()
            out[1, i] = (w * factor[s]).sum()
        return out

    def paths(self, w_cust: np.ndarray, factor: np.ndarray) -> tuple[PathTable, PathTable]:
        """The grouped paths, weighted as drawn, as is and scaled to all buyers."""
        counts = self.weighted(w_cust[None, :])
        return self.tables(counts[:, 0, :], factor)

    def weighted(self, w_cust: np.ndarray) -> np.ndarray:
        """Per resample (rows of ``w_cust``): conversions, value and nulls of each group,
        shape (3, n_resamples, n_groups): one sparse product for a batch of resamples."""
        from scipy.sparse import csr_matrix

        if self._sum is None:
            n, p = self.groups.n_paths, self.pair_group.size
            self._sum = csr_matrix((np.ones(p), (self.pair_group, np.arange(p))), shape=(n, p))
        w = w_cust[:, self.pair_cust]  # (b, pairs)
        return np.stack([(self._sum @ (w * c).T).T for c in self.counts])

    def tables(self, counts: np.ndarray, factor: np.ndarray) -> tuple[PathTable, PathTable]:
        conv, value, nulls = counts
        f = np.where(self.g_seg >= 0, factor[np.maximum(self.g_seg, 0)], 1.0)
        as_is = self.groups.with_counts(conv, value, nulls)
        scaled = self.groups.with_counts(conv * f, value * f, nulls)
        return as_is, scaled


def _poisson_table() -> np.ndarray:
    """Poisson(1) counts for each 16-bit integer (the quantile function on a 2^16 grid): a
    count costs two random bytes (Hanley & MacGibbon 2006's Poisson bootstrap)."""
    import math

    k = np.arange(20)
    cdf = np.cumsum(np.exp(-1.0) / np.array([math.factorial(int(i)) for i in k]))
    u = (np.arange(1 << 16) + 0.5) / (1 << 16)
    return np.searchsorted(cdf, u, side="right").astype(np.float64)


def scale_to_all_buyers(
    journeys: Any,
    totals: Mapping[str, float],
    *,
    breaks: Any = None,
    kinds: Sequence[str] = ("ropo",),
    by: str = "channel",
    model: str = "linear",
    model_options: Mapping[str, Any] | None = None,
    n_resamples: int = 200,
    confidence_level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> AllBuyers:
    """Break counts and channel credit of identified buyers, scaled to all buyers.

    Parameters
    ----------
    journeys : JourneyTable
        Sessionized touchpoints linked to persons
        (:func:`omnijourney.identity.link_touchpoints`); rows of its ``anonymous`` column
        are the buyers no person was found for.
    totals : mapping of str to number
        Per segment (a value of ``by``), all its conversions, identified or not: the tills'
        count of sales per store or per channel. Segments without a total are not scaled.
    breaks : BreakTable, optional
        Breaks of ``journeys`` (:func:`omnijourney.journeys.detect_breaks`) whose counts to
        scale.
    kinds : sequence of str
        The break kinds to scale (by the segment of their ``to`` conversion).
    by : str
        Touchpoint column of the segments (``"channel"``; ``"store"`` for per-store rates).
    model : str
        Attribution model (:data:`~omnijourney.attribution.MODELS`).
    model_options : mapping, optional
        Options of the model (``order=2`` for Markov...).
    n_resamples : int
        Bootstrap resamples of customers (each customer drawn a Poisson(1) number of times).
    confidence_level : float
    seed : int or numpy.random.Generator

    Returns
    -------
    AllBuyers

    Notes
    -----
    The rate of a segment is its identified conversions over its total. A journey converting
    at an identified conversion stands for ``total / identified`` journeys of its segment;
    journeys converting at an unidentified one are left out (their research is unknown);
    journeys without conversion count as they are. Each resample draws customers, so the
    rates, counts and credit are recomputed together and the interval reflects the number
    of identified buyers each segment's scaling rests on. The assumption is
    :data:`ASSUMPTION`; segments should group buyers who behave alike (a store, a region).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["P1", "P1", "P2", "T-1", "T-2"],
    ...     "time": ["2024-05-01", "2024-05-02", "2024-05-02", "2024-05-03", "2024-05-03"],
    ...     "channel": ["web", "store", "store", "store", "store"],
    ...     "event": ["product_view", "purchase", "purchase", "purchase", "purchase"],
    ...     "anonymous": [False, False, False, True, True]}, extra=["anonymous"])
    >>> jt = oj.sessionize(tp)
    >>> b = oj.journeys.detect_breaks(jt, oj.journeys.BreakRules(failure_events=(),
    ...     reentry_events=(), assisted_kinds=()))
    >>> res = scale_to_all_buyers(jt, {"store": 4}, breaks=b, n_resamples=20)
    >>> res.rates["rate"].tolist(), res.breaks["scaled"].tolist()
    ([0.5], [2.0])
    >>> dict(zip(res.credit["channel"], res.credit["scaled"].tolist()))
    {'store': 3.0, 'web': 1.0}
    """
    check_positive_int(n_resamples, "n_resamples", minimum=0)
    level = check_fraction(confidence_level, "confidence_level", low_open=True, high_open=True)
    if isinstance(kinds, str):
        kinds = (kinds,)
    options = dict(model_options or {})
    setup = _Setup(journeys, totals, by, breaks, kinds)
    rng = as_generator(seed)
    ones = np.ones(setup.n_customers)
    factor = setup.scale(ones)
    as_is, scaled = setup.paths(ones, factor)
    if scaled.total_conversions <= 0:
        msg = "No identified conversion: nothing to scale to all buyers."
        raise DataError(msg, table="JourneyTable", column="event")
    base = attribute(as_is, model, **options) if as_is.total_conversions > 0 else None
    est = attribute(scaled, model, **options)
    est_breaks = setup.breaks_of(ones, factor)
    reps_credit = np.full((n_resamples, est.channels.size), np.nan)
    reps_breaks = np.full((n_resamples, len(setup.kinds)), np.nan)
    table = _poisson_table()
    batch = max(1, min(n_resamples, (1 << 22) // max(setup.pair_cust.size, 1)))
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        draws = rng.integers(0, 1 << 16, (size, setup.n_customers), dtype=np.uint16)
        w = table[draws]
        counts = setup.weighted(w)
        for i in range(size):
            f = setup.scale(w[i])
            _, sc = setup.tables(counts[:, i, :], f)
            if sc.total_conversions > 0:
                reps_credit[start + i] = attribute(sc, model, **options).conversions
            reps_breaks[start + i] = setup.breaks_of(w[i], f)[1]
    q = [(1 - level) / 2, (1 + level) / 2]

    def bounds(reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if n_resamples == 0 or np.isnan(reps).all():
            nan = np.full(reps.shape[1], np.nan)
            return nan, nan
        lo, hi = np.nanquantile(reps, q, axis=0)
        return lo, hi

    c_lo, c_hi = bounds(reps_credit)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = reps_credit / reps_credit.sum(axis=1, keepdims=True)
    s_lo, s_hi = bounds(shares)
    b_lo, b_hi = bounds(reps_breaks)
    identified_credit = base.conversions if base is not None else np.zeros(est.channels.size)
    credit = Table.from_columns(
        {
            "channel": est.channels,
            "identified": identified_credit,
            "scaled": est.conversions,
            "low": c_lo,
            "high": c_hi,
            "share": est.share,
            "share_low": s_lo,
            "share_high": s_hi,
        },
        kinds={"channel": "category"},
    )
    break_table = Table.from_columns(
        {
            "kind": list(setup.kinds),
            "identified": est_breaks[0],
            "scaled": est_breaks[1],
            "low": b_lo,
            "high": b_hi,
        },
        kinds={"kind": "category"},
    )
    if breaks is None and kinds:
        setup.notes.append("no breaks given: their counts are not scaled")
    return AllBuyers(
        rates=setup.rate_table,
        breaks=break_table if breaks is not None else break_table[:0],
        credit=credit,
        model=model,
        by=by,
        assumption=ASSUMPTION,
        confidence_level=level,
        n_resamples=n_resamples,
        seed=seed if isinstance(seed, int) else None,
        notes=tuple(setup.notes),
    )

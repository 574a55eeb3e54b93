"""Multichannel value, measured honestly: do multichannel customers spend more, buy more often
and stay longer than single-channel ones, raw and at equal activity?

The often-quoted claim is that multichannel customers spend about 30% more and are about 30%
more loyal. Customers who do more touch more channels, so part of any raw gap is activity, not
channels. Here the raw gap comes with two adjusted ones:

- regression adjustment: an OLS of each measure on the multichannel indicator, log tenure and
  log number of journeys, the adjusted relative gap being the indicator's coefficient over
  the single-channel mean;
- coarsened exact matching (Iacus, King & Porro 2012): buyers are put in strata of tenure and
  number-of-journeys bins, and each multichannel buyer is compared with the single-channel
  buyers of the same stratum (the effect on the multichannel buyers; strata without a
  single-channel buyer are left out and counted).

All three get customer-bootstrap intervals from the same resamples. Every estimate is a
function of sums per stratum and group, so each resample costs one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._arrays import first_per_group
from omnijourney._display import TableResult
from omnijourney._random import as_generator
from omnijourney._validation import duration
from omnijourney.errors import ConfigError, DataError
from omnijourney.metrics._bootstrap import (
    ConfidenceInterval,
    check_bootstrap_options,
    customer_bootstrap,
)
from omnijourney.metrics._results import result_eq
from omnijourney.metrics._source import Source, customer_groups
from omnijourney.tables import Table
from omnijourney.time import to_datetime64

__all__ = ["ESTIMATES", "MEASURES", "MultichannelValue", "multichannel_value"]

#: The measures of :func:`multichannel_value`.
MEASURES = ("spend", "frequency", "retention")
#: The estimates of the relative gap: raw, regression-adjusted, matched.
ESTIMATES = ("raw", "adjusted", "matched")
_P = 4  # regressors: intercept, multichannel, log tenure, log journeys
_N_XX = _P * (_P + 1) // 2  # sums of the products of regressors
#: Default edges of the matching bins of tenure, in days before the split.
TENURE_BINS = (30.0, 90.0, 180.0, 365.0, 730.0)
#: Default edges of the matching bins of the number of journeys in the window.
JOURNEY_BINS = (2.0, 3.0, 5.0, 9.0, 17.0, 33.0)


@attrs.frozen(eq=False)
class MultichannelValue(TableResult):
    """Multichannel against single-channel buyers, raw and at equal activity.

    Attributes
    ----------
    table : Table
        One row per measure (``spend``, ``frequency``, ``retention``): ``multichannel`` and
        ``single`` (means), ``raw`` (multichannel / single - 1), ``adjusted`` (the
        regression-adjusted gap over the single-channel mean) and ``matched`` (the matched
        gap over the matched single-channel mean), each with its ``_low`` and ``_high``.
    n_multichannel, n_single : int
        Buyers of the observation window in each group.
    split : numpy.datetime64
        End of the observation window and start of the follow-up.
    claim : float
        The relative gap the summary tests (default 0.30).
    confidence_level : float
    strata : Table
        The matching strata: ``tenure`` and ``journeys`` (bin labels: days before the split,
        journeys in the window), ``multichannel`` and ``single`` (buyers), ``matched``
        (whether both groups are present).
    n_matched : int
        Multichannel buyers in a stratum with single-channel buyers: those the matched gap
        is about.
    """

    __eq__ = result_eq

    table: Table
    n_multichannel: int
    n_single: int
    split: np.datetime64
    claim: float
    confidence_level: float
    strata: Table = attrs.field(factory=lambda: Table.from_columns({}), repr=False)
    n_matched: int = 0

    def interval(
        self, measure: str, *, adjusted: bool = True, estimate: str | None = None
    ) -> ConfidenceInterval:
        """The interval of the relative gap of ``measure``: ``estimate`` one of
        :data:`ESTIMATES` (default ``"adjusted"``, or ``"raw"`` with ``adjusted=False``)."""
        i = MEASURES.index(measure)
        prefix = estimate or ("adjusted" if adjusted else "raw")
        if prefix not in ESTIMATES:
            msg = f"The 'estimate' parameter must be one of {ESTIMATES}. Got {estimate!r} instead."
            raise ConfigError(msg)
        return ConfidenceInterval(
            float(self.table[f"{prefix}_low"][i]), float(self.table[f"{prefix}_high"][i])
        )

    def summary(self) -> str:
        pct = f"{100 * self.confidence_level:g}%"
        words = {
            "spend": "spent",
            "frequency": "bought",
            "retention": "came back to buy",
        }
        lines = [
            f"{self.n_multichannel:,} multichannel and {self.n_single:,} single-channel buyers "
            f"before {self.split.astype('datetime64[D]')!s}; {self.n_matched:,} multichannel "
            "buyers have single-channel peers of the same tenure and number of journeys."
        ]
        t = self.table

        def signed(share: Any) -> str:
            return fmt.percent(share, 0, sign=True)

        def ivl(prefix: str, i: int) -> str:
            low, high = float(t[prefix + "_low"][i]), float(t[prefix + "_high"][i])
            return fmt.interval(low, high, formatter=signed)

        def gap(prefix: str, i: int) -> str:
            return f"{signed(t[prefix][i])} ({ivl(prefix, i)})"

        for i, m in enumerate(MEASURES):
            lo, hi = float(t["adjusted_low"][i]), float(t["adjusted_high"][i])
            verdict = (
                "consistent with"
                if lo <= self.claim <= hi
                else ("above" if lo > self.claim else "below")
            )
            lines.append(
                f"Multichannel buyers {words[m]} {signed(t['raw'][i])} against "
                f"single-channel ones ({pct} interval {ivl('raw', i)}); at equal tenure and "
                f"number of journeys {gap('adjusted', i)} by regression, {verdict} the claimed "
                f"{signed(self.claim)}, and {gap('matched', i)} against matched peers."
            )
        return "\n".join(lines)

    def to_table(self) -> Table:
        """The result's table (``table``), as the exports hand it over."""
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def __repr__(self) -> str:
        return "MultichannelValue: " + self.summary()


def _customer_measures(
    src: Source, split: int, follow_end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer label: spend and orders before ``split``, bought in the follow-up, tenure
    (days before ``split``), journeys before ``split``, and whether they bought before."""
    n_c = src.customer_labels.size
    cust, t, conv = src.customer, src.time, src.conversion
    before = t < split
    after = (t >= split) & (t < follow_end)
    spend = np.bincount(cust, weights=np.where(conv & before, src.value, 0.0), minlength=n_c)
    orders = np.bincount(cust, weights=conv & before, minlength=n_c)
    back = np.bincount(cust, weights=conv & after, minlength=n_c) > 0
    first = first_per_group(cust, np.ones(cust.size, dtype=bool), n_c)
    tenure = np.where(first >= 0, (split - t[np.maximum(first, 0)]) / 86_400e6, 0.0)
    starts = src.journey_starts
    journeys = np.bincount(cust[starts], weights=t[starts] < split, minlength=n_c)
    return spend, orders, back.astype(np.float64), np.maximum(tenure, 0.0), journeys, orders > 0


def _regression(sums: np.ndarray) -> np.ndarray:
    """Raw and regression-adjusted relative gaps of the three measures, from the sums over
    all buyers (``(m, k)``)."""
    m = sums.shape[0]
    xtx = np.zeros((m, _P, _P))
    iu = np.triu_indices(_P)
    xtx[:, iu[0], iu[1]] = sums[:, :_N_XX]
    xtx[:, iu[1], iu[0]] = sums[:, :_N_XX]
    out = np.full((m, 2 * len(MEASURES)), np.nan)
    n = xtx[:, 0, 0]
    n_mc = xtx[:, 0, 1]
    ok = np.linalg.matrix_rank(xtx) == _P
    for j in range(len(MEASURES)):
        xty = sums[:, _N_XX + _P * j : _N_XX + _P * (j + 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_mc = xty[:, 1] / n_mc
            mean_sc = (xty[:, 0] - xty[:, 1]) / (n - n_mc)
            out[:, j] = mean_mc / mean_sc - 1
            beta = np.full((m, _P), np.nan)
            if ok.any():
                beta[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[..., 0]
            out[:, len(MEASURES) + j] = beta[:, 1] / mean_sc
    return out


def _matched(s: np.ndarray) -> np.ndarray:
    """Matched relative gaps of the three measures, and the multichannel buyers matched,
    from the sums per cell (stratum x group, single-channel first): each stratum with both
    groups weighs by its multichannel buyers (the effect on the multichannel buyers)."""
    m, n_cells, _ = s.shape
    n = s[:, :, 0].reshape(m, n_cells // 2, 2)
    weight = np.where((n[:, :, 0] > 0) & (n[:, :, 1] > 0), n[:, :, 1], 0.0)
    total = weight.sum(axis=1)
    out = np.full((m, len(MEASURES) + 1), np.nan)
    out[:, -1] = total
    for j in range(len(MEASURES)):
        y = s[:, :, _N_XX + _P * j].reshape(m, n_cells // 2, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, y / np.where(n > 0, n, 1.0), 0.0)
            treated = (weight * mean[:, :, 1]).sum(axis=1) / total
            peers = (weight * mean[:, :, 0]).sum(axis=1) / total
            out[:, j] = treated / peers - 1
    return out


def _statistic(s: np.ndarray) -> np.ndarray:
    """Raw, adjusted and matched gaps (9 columns), then the matched count."""
    return np.concatenate([_regression(s.sum(axis=1)), _matched(s)], axis=1)


def _bins(edges: Any, name: str) -> np.ndarray:
    arr = np.asarray(edges, dtype=np.float64) if edges is not None else np.zeros(0)
    if (
        arr.ndim != 1
        or not np.all(np.isfinite(arr))
        or (arr <= 0).any()
        or (np.diff(arr) <= 0).any()
    ):
        msg = (
            f"The {name!r} parameter must be increasing positive bin edges. Got {edges!r} instead."
        )
        raise ConfigError(msg)
    return arr


def _bin_labels(edges: np.ndarray, unit: str, first: float) -> list[str]:
    """``0 to under 30 days``, ``730 days or more``; ``1 journey``, ``3 to 4 journeys``,
    ``33 journeys or more`` (days are half-open bins, journeys whole numbers).

    Examples
    --------
    >>> _bin_labels(np.array([30.0, 730.0]), "days", 0)
    ['0 to under 30 days', '30 to under 730 days', '730 days or more']
    >>> _bin_labels(np.array([2.0, 3.0, 5.0]), "journeys", 1)
    ['1 journey', '2 journeys', '3 to 4 journeys', '5 journeys or more']
    """
    lows = [first, *edges.tolist()]
    highs = [*edges.tolist(), None]
    out = []
    for lo, hi in zip(lows, highs):
        if unit == "days":
            out.append(fmt.interval(lo, hi, unit=unit, open_high=True))
        elif hi is not None and hi - lo == 1:
            out.append(fmt.plural(lo, "journey"))
        else:
            out.append(fmt.interval(lo, None if hi is None else hi - 1, unit=unit))
    return out


def multichannel_value(
    journeys: Any,
    *,
    segments: Any = None,
    multichannel: str = "multichannel",
    exclude: Any = ("undetermined",),
    split: Any = None,
    follow_up: Any = "180D",
    claim: float = 0.30,
    tenure_bins: Sequence[float] = TENURE_BINS,
    journey_bins: Sequence[float] = JOURNEY_BINS,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    method: str = "percentile",
    seed: Any = 0,
) -> MultichannelValue:
    """Spend, purchase frequency and retention of multichannel against single-channel buyers.

    Parameters
    ----------
    journeys : JourneyTable
    segments : mapping or Table, optional
        Customer -> segment; default the appetence segments (:func:`omnijourney.journeys.
        appetence`) of the touchpoints before ``split``.
    multichannel : str
        The segment label of multichannel customers; every other label is single-channel,
        except those in ``exclude``.
    split : time, optional
        End of the observation window (spend, frequency, tenure, journeys and segments are
        measured before it) and start of the follow-up (retention: a purchase within
        ``follow_up`` after it). Default: the last touchpoint minus ``follow_up``.
    follow_up : duration
        Length of the follow-up window (default 180 days).
    claim : float
        The relative gap to test (default +30%).
    tenure_bins : sequence of float
        Matching: edges of the tenure bins in days before the split (default 30, 90, 180,
        365 and 730: under a month, one to three months... two years and more).
    journey_bins : sequence of float
        Matching: edges of the bins of journeys in the window (default 2, 3, 5, 9, 17, 33:
        one journey, two, 3-4, 5-8, 9-16, 17-32, 33 and more).
    confidence_level, n_resamples, method, seed
        The customer bootstrap (see :func:`compare`): every estimate from the same
        resamples of buyers.

    Returns
    -------
    MultichannelValue

    Notes
    -----
    Buyers are the customers with at least one order in the observation window. Spend is
    their order value and frequency their number of orders in it; retention is whether they
    ordered again in the follow-up.

    *Regression adjustment*: the coefficient of the multichannel indicator in an OLS of the
    measure on it, ``log(1 + tenure in days)`` and ``log(1 + journeys)``, over the
    single-channel mean. It uses every buyer, and extrapolates where the groups do not
    overlap (the most active multichannel buyers often have no single-channel peer) with a
    model that is linear in the logs and the same gap for everyone.

    *Matching* (coarsened exact matching, Iacus, King & Porro 2012): within each stratum of
    tenure and journey bins, multichannel buyers against single-channel buyers; strata are
    weighted by their multichannel buyers (the effect on the multichannel buyers), and
    multichannel buyers without a single-channel peer are left out (``n_matched`` says how
    many remain). No model, but only as fine as the bins, and only about the matched buyers.

    Prefer matching when most multichannel buyers are matched and the bins are narrow
    enough for activity to be alike within them; the regression when overlap is thin (few
    matched), reading it with its model. When the two disagree, look at ``strata``: the gap
    then depends on how activity is adjusted for, which is worth saying with the result.
    """
    check_bootstrap_options(n_resamples, confidence_level, method, "multinomial")
    tenure_edges = _bins(tenure_bins, "tenure_bins")
    journey_edges = _bins(journey_bins, "journey_bins")
    src = Source(journeys, "multichannel_value")
    follow = duration(follow_up, "follow_up")
    assert follow is not None
    t = src.time
    if t.size == 0:
        raise DataError("multichannel_value: the journeys hold no touchpoint", table="journeys")
    f_us = int(follow.astype(np.int64))
    split_us = (
        int(t.max()) - f_us
        if split is None
        else int(to_datetime64(split, name="split").astype(np.int64))
    )
    if split_us <= int(t.min()):
        msg = (
            "multichannel_value: the observation window before the split is empty; the data "
            "must cover more than the follow-up window"
        )
        raise DataError(msg, table="journeys", column="time")
    if segments is None:
        from omnijourney.journeys import appetence

        segments = appetence(src.tp.filter(src.tp.raw("time").view(np.int64) < split_us))
    per_label, labels, _ = customer_groups(src, segments, "segment", "segments", warn_missing=False)
    names = [str(x) for x in labels.tolist()]
    if multichannel not in names:
        msg = f"multichannel_value: no segment {multichannel!r}; segments are {names}"
        raise ConfigError(msg)
    excluded = {str(e) for e in ((exclude,) if isinstance(exclude, str) else (exclude or ()))}
    mc_code = names.index(multichannel)
    single_codes = [i for i, n in enumerate(names) if n != multichannel and n not in excluded]
    spend, orders, back, tenure, n_journeys, buyer = _customer_measures(
        src, split_us, split_us + f_us
    )
    in_mc = per_label == mc_code
    in_sc = np.isin(per_label, single_codes)
    keep = buyer & (in_mc | in_sc)
    n_mc, n_sc = int((keep & in_mc).sum()), int((keep & in_sc).sum())
    if n_mc < 2 or n_sc < 2:
        msg = (
            f"multichannel_value needs at least two buyers in each group before the split; "
            f"got {n_mc} multichannel and {n_sc} single-channel"
        )
        raise DataError(msg, table="journeys")
    group = in_mc[keep].astype(np.int64)
    x = np.stack(
        [
            np.ones(group.size),
            group.astype(np.float64),
            np.log1p(tenure[keep]),
            np.log1p(n_journeys[keep]),
        ],
        axis=1,
    )
    iu = np.triu_indices(_P)
    cols = [x[:, a] * x[:, b] for a, b in zip(*iu)]
    for y in (spend[keep], orders[keep], back[keep]):
        cols += [x[:, a] * y for a in range(_P)]
    values = np.stack(cols, axis=1)
    t_bin = np.searchsorted(tenure_edges, tenure[keep], side="right")
    j_bin = np.searchsorted(journey_edges, n_journeys[keep], side="right")
    n_strata = (tenure_edges.size + 1) * (journey_edges.size + 1)
    stratum = t_bin * (journey_edges.size + 1) + j_bin
    k = len(MEASURES)
    point, _, low, high = customer_bootstrap(
        values,
        np.zeros(group.size, dtype=np.int64),
        1,
        _statistic,
        columns=3 * k,
        n_resamples=n_resamples,
        rng=as_generator(seed),
        resampling="multinomial",
        confidence_level=confidence_level,
        method=method,
        cells=stratum * 2 + group,
        n_cells=2 * n_strata,
    )
    means_mc = [float(v[keep & in_mc].mean()) for v in (spend, orders, back)]
    means_sc = [float(v[keep & in_sc].mean()) for v in (spend, orders, back)]
    columns: dict[str, Any] = {
        "measure": np.array(MEASURES, dtype=object),
        "multichannel": np.array(means_mc),
        "single": np.array(means_sc),
    }
    for i, name in enumerate(ESTIMATES):
        columns[name] = point[i * k : (i + 1) * k]
        columns[f"{name}_low"] = low[i * k : (i + 1) * k]
        columns[f"{name}_high"] = high[i * k : (i + 1) * k]
    return MultichannelValue(
        table=Table.from_columns(columns, kinds={"measure": "category"}),
        n_multichannel=n_mc,
        n_single=n_sc,
        split=np.datetime64(split_us, "us"),
        claim=float(claim),
        confidence_level=float(confidence_level),
        strata=_strata_table(stratum, group, tenure_edges, journey_edges),
        n_matched=int(point[-1]),
    )


def _strata_table(
    stratum: np.ndarray, group: np.ndarray, tenure_edges: np.ndarray, journey_edges: np.ndarray
) -> Table:
    """Buyers per matching stratum and group, the strata that hold buyers only."""
    n_j = journey_edges.size + 1
    n_strata = (tenure_edges.size + 1) * n_j
    counts = np.bincount(stratum * 2 + group, minlength=2 * n_strata).reshape(n_strata, 2)
    used = np.flatnonzero(counts.sum(axis=1))
    t_labels = np.array(_bin_labels(tenure_edges, "days", 0), dtype=object)
    j_labels = np.array(_bin_labels(journey_edges, "journeys", 1), dtype=object)
    return Table.from_columns(
        {
            "tenure": t_labels[used // n_j],
            "journeys": j_labels[used % n_j],
            "multichannel": counts[used, 1].astype(np.int64),
            "single": counts[used, 0].astype(np.int64),
            "matched": (counts[used] > 0).all(axis=1),
        },
        kinds={"tenure": "category", "journeys": "category"},
    )

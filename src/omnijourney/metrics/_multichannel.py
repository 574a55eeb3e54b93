"""Multichannel value, measured honestly: do multichannel customers spend more, buy more often
and stay longer than single-channel ones, raw and at equal activity?

The often-quoted claim is that multichannel customers spend about 30% more and are about 30%
more loyal. Customers who do more touch more channels, so part of any raw gap is activity, not
channels. Here the raw gap comes with an adjusted one: an OLS of each measure on the
multichannel indicator, log tenure and log number of journeys (regression adjustment), the
adjusted relative gap being the indicator's coefficient over the single-channel mean. Both
get customer-bootstrap intervals; every regression is computed from sums, so each resample
costs one matrix product.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney._random import as_generator
from omnijourney._validation import duration
from omnijourney.errors import ConfigError, DataError
from omnijourney.metrics._bootstrap import (
    ConfidenceInterval,
    check_bootstrap_options,
    customer_bootstrap,
)
from omnijourney.metrics._source import Source, customer_groups, first_per_group
from omnijourney.tables import Table
from omnijourney.time import to_datetime64

__all__ = ["MEASURES", "MultichannelValue", "multichannel_value"]

#: The measures of :func:`multichannel_value`.
MEASURES = ("spend", "frequency", "retention")
_P = 4  # regressors: intercept, multichannel, log tenure, log journeys


@attrs.frozen
class MultichannelValue:
    """Multichannel against single-channel buyers, raw and at equal activity.

    Attributes
    ----------
    table : Table
        One row per measure (``spend``, ``frequency``, ``retention``): ``multichannel`` and
        ``single`` (means), ``raw`` (multichannel / single - 1) with ``raw_low`` and
        ``raw_high``, ``adjusted`` (the regression-adjusted gap over the single-channel mean)
        with ``adjusted_low`` and ``adjusted_high``.
    n_multichannel, n_single : int
        Buyers of the observation window in each group.
    split : numpy.datetime64
        End of the observation window and start of the follow-up.
    claim : float
        The relative gap the summary tests (default 0.30).
    confidence_level : float
    """

    table: Table
    n_multichannel: int
    n_single: int
    split: np.datetime64
    claim: float
    confidence_level: float

    def interval(self, measure: str, *, adjusted: bool = True) -> ConfidenceInterval:
        """The interval of the relative gap of ``measure``."""
        i = MEASURES.index(measure)
        prefix = "adjusted" if adjusted else "raw"
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
            f"before {self.split.astype('datetime64[D]')!s}."
        ]
        t = self.table
        for i, m in enumerate(MEASURES):
            raw, adj = float(t["raw"][i]), float(t["adjusted"][i])
            lo, hi = float(t["adjusted_low"][i]), float(t["adjusted_high"][i])
            verdict = (
                "consistent with"
                if lo <= self.claim <= hi
                else ("above" if lo > self.claim else "below")
            )
            lines.append(
                f"Multichannel buyers {words[m]} {100 * raw:+.0f}% against single-channel ones "
                f"({pct} interval {100 * float(t['raw_low'][i]):+.0f}% to "
                f"{100 * float(t['raw_high'][i]):+.0f}%); at equal tenure and number of "
                f"journeys {100 * adj:+.0f}% ({100 * lo:+.0f}% to {100 * hi:+.0f}%), "
                f"{verdict} the claimed {100 * self.claim:+.0f}%."
            )
        return "\n".join(lines)

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


def _statistic(s: np.ndarray) -> np.ndarray:
    """Raw and adjusted relative gaps of the three measures, from the sums of one stratum."""
    m = s.shape[0]
    sums = s[:, 0, :]
    n_xx = _P * (_P + 1) // 2
    xtx = np.zeros((m, _P, _P))
    iu = np.triu_indices(_P)
    xtx[:, iu[0], iu[1]] = sums[:, :n_xx]
    xtx[:, iu[1], iu[0]] = sums[:, :n_xx]
    out = np.full((m, 2 * len(MEASURES)), np.nan)
    n = xtx[:, 0, 0]
    n_mc = xtx[:, 0, 1]
    for j in range(len(MEASURES)):
        xty = sums[:, n_xx + _P * j : n_xx + _P * (j + 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_mc = xty[:, 1] / n_mc
            mean_sc = (xty[:, 0] - xty[:, 1]) / (n - n_mc)
            out[:, j] = mean_mc / mean_sc - 1
            ok = np.linalg.matrix_rank(xtx) == _P
            beta = np.full((m, _P), np.nan)
            if ok.any():
                beta[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[..., 0]
            out[:, len(MEASURES) + j] = beta[:, 1] / mean_sc
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
    confidence_level, n_resamples, method, seed
        The customer bootstrap (see :func:`compare`).

    Returns
    -------
    MultichannelValue

    Notes
    -----
    Buyers are the customers with at least one order in the observation window. Spend is
    their order value and frequency their number of orders in it; retention is whether they
    ordered again in the follow-up. The adjusted gap is the coefficient of the multichannel
    indicator in an OLS of the measure on it, ``log(1 + tenure in days)`` and ``log(1 +
    journeys)``, divided by the single-channel mean.
    """
    check_bootstrap_options(n_resamples, confidence_level, method, "multinomial")
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
    x = np.stack(
        [
            np.ones(int(keep.sum())),
            in_mc[keep].astype(np.float64),
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
    strata = np.zeros(values.shape[0], dtype=np.int64)
    point, _, low, high = customer_bootstrap(
        values,
        strata,
        1,
        _statistic,
        columns=2 * len(MEASURES),
        n_resamples=n_resamples,
        rng=as_generator(seed),
        resampling="multinomial",
        confidence_level=confidence_level,
        method=method,
    )
    k = len(MEASURES)
    means_mc = [float(v[keep & in_mc].mean()) for v in (spend, orders, back)]
    means_sc = [float(v[keep & in_sc].mean()) for v in (spend, orders, back)]
    table = Table.from_columns(
        {
            "measure": np.array(MEASURES, dtype=object),
            "multichannel": np.array(means_mc),
            "single": np.array(means_sc),
            "raw": point[:k],
            "raw_low": low[:k],
            "raw_high": high[:k],
            "adjusted": point[k:],
            "adjusted_low": low[k:],
            "adjusted_high": high[k:],
        },
        kinds={"measure": "category"},
    )
    return MultichannelValue(
        table=table,
        n_multichannel=n_mc,
        n_single=n_sc,
        split=np.datetime64(split_us, "us"),
        claim=float(claim),
        confidence_level=float(confidence_level),
    )

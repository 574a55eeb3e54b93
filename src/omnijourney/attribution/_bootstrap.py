"""Bootstrap intervals for every attribution model, and all models side by side (the models
by name are in ``_models``).

Resampling is seeded and vectorized: a replicate is the same path table with resampled
counts, so any model runs on it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney import _format as F
from omnijourney._display import TableResult
from omnijourney.attribution._canonical import in_canonical_order
from omnijourney.attribution._encode import ARRAY_EQ
from omnijourney.attribution._heuristics import HEURISTICS
from omnijourney.attribution._models import Model, attribute, run_model
from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import Attribution, clean_params, frame
from omnijourney.errors import ConfigError

__all__ = ["CreditIntervals", "ModelComparison", "bootstrap", "compare_models"]

Unit = Literal["journeys", "paths"]


def resample_counts(
    pt: PathTable, rng: np.random.Generator, unit: Unit
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bootstrap draw of (conversions, value, nulls) for the rows of ``pt``.

    ``unit="journeys"`` draws journeys with replacement: multinomially over the (path,
    outcome) cells when the counts are whole numbers, else with Poisson weights; the value
    of a path follows its conversions (its mean value per conversion). ``unit="paths"``
    draws rows with replacement, each carrying all its counts.
    """
    if unit == "paths":
        k = rng.multinomial(pt.n_paths, np.full(pt.n_paths, 1.0 / pt.n_paths))
        return pt.conversions * k, pt.value * k, pt.nulls * k
    cells = np.concatenate([pt.conversions, pt.nulls])
    total = cells.sum()
    if np.all(cells == np.round(cells)):
        draw = rng.multinomial(round(total), cells / total).astype(np.float64)
    else:
        draw = rng.poisson(cells).astype(np.float64)
    conv, nulls = draw[: pt.n_paths], draw[pt.n_paths :]
    per = np.divide(pt.value, pt.conversions, out=np.zeros(pt.n_paths), where=pt.conversions > 0)
    return conv, per * conv, nulls


@attrs.frozen(kw_only=True, repr=False)
class CreditIntervals(TableResult):
    """An attribution with bootstrap percentile intervals.

    Attributes
    ----------
    estimate : Attribution
        The model on the full path table.
    conversions_low, conversions_high, value_low, value_high, share_low, share_high : ndarray
        Percentile interval bounds per channel at ``level``.
    removal_effect_low, removal_effect_high : ndarray or None
        For Markov.
    replicates : ndarray
        (n_resamples, C) credited conversions of each replicate (NaN for a replicate without
        any conversion).
    level, n_resamples, seed, unit
        How the intervals were made.
    """

    estimate: Attribution
    conversions_low: np.ndarray = attrs.field(eq=ARRAY_EQ)
    conversions_high: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value_low: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value_high: np.ndarray = attrs.field(eq=ARRAY_EQ)
    share_low: np.ndarray = attrs.field(eq=ARRAY_EQ)
    share_high: np.ndarray = attrs.field(eq=ARRAY_EQ)
    removal_effect_low: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    removal_effect_high: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    replicates: np.ndarray = attrs.field(eq=ARRAY_EQ)
    level: float = 0.95
    n_resamples: int = 0
    seed: int | None = 0
    unit: str = "journeys"

    @property
    def model(self) -> str:
        """Name of the model."""
        return self.estimate.model

    @property
    def channels(self) -> np.ndarray:
        """Channel labels."""
        return self.estimate.channels

    def columns(self) -> dict[str, np.ndarray]:
        """Per-channel columns of :meth:`to_pandas`."""
        e = self.estimate
        cols = {
            "conversions": e.conversions,
            "conversions_low": self.conversions_low,
            "conversions_high": self.conversions_high,
            "value": e.value,
            "value_low": self.value_low,
            "value_high": self.value_high,
            "share": e.share,
            "share_low": self.share_low,
            "share_high": self.share_high,
        }
        if e.removal_effects is not None and self.removal_effect_low is not None:
            assert self.removal_effect_high is not None
            cols["removal_effect"] = e.removal_effects
            cols["removal_effect_low"] = self.removal_effect_low
            cols["removal_effect_high"] = self.removal_effect_high
        return cols

    def to_pandas(self) -> Any:
        """One row per channel: estimate and interval of conversions, value and share."""
        return frame(self.columns(), index=self.channels.tolist())

    def summary(self) -> str:
        """The credit with its intervals, one line per channel."""
        e = self.estimate
        pct = round(100 * self.level)
        lines = [
            f"{e.model}: credited conversions with {pct}% bootstrap intervals "
            f"({F.plural(self.n_resamples, 'resample')} of {self.unit}, seed {self.seed})"
        ]
        for i in np.argsort(-e.conversions, kind="stable").tolist():
            span = F.interval(
                self.conversions_low[i], self.conversions_high[i], formatter=_two_decimals
            )
            lines.append(f"  {e.channels[i]!s:<16}{F.number(e.conversions[i]):>12}  ({span})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _two_decimals(x: float) -> str:
    return F.number(x, 2)


def bootstrap(
    paths: PathTable,
    model: Model = "markov",
    *,
    n_resamples: int = 200,
    level: float = 0.95,
    seed: int | None = 0,
    unit: Unit = "journeys",
    **options: Any,
) -> CreditIntervals:
    """Percentile bootstrap intervals of a model's credit.

    Parameters
    ----------
    paths : PathTable
    model : str or callable
        A name from :data:`MODELS` or a function ``PathTable -> Attribution``.
    n_resamples : int
        Bootstrap replicates (200 by default; more for tighter interval ends).
    level : float
        Coverage of the intervals (0.95: the 2.5 % and 97.5 % percentiles).
    seed : int or None
        Seed of the resampling; the same seed gives the same intervals.
    unit : {"journeys", "paths"}
        Resample journeys (each conversion and each null is a unit; the default), or rows of
        the path table with all their counts (when rows are independent units, e.g. one
        per customer). On an aggregated table, resampled conversions carry their path's
        mean value; build the table with one row per journey (``aggregate=False``) to
        resample exact values.
    **options
        Passed to the model (``order=2``, ``value="rate_subset"``...).

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b", "a"], conversions=[20, 10, 5],
    ...                             nulls=[30, 40, 50])
    >>> ci = bootstrap(pt, "markov", n_resamples=50, seed=1)
    >>> bool(np.all(ci.conversions_low <= ci.estimate.conversions))
    True
    >>> ci.to_pandas().columns.tolist()[:3]
    ['conversions', 'conversions_low', 'conversions_high']
    """
    # rows are drawn in an order of their values alone: the same intervals in any row order
    pt = in_canonical_order(as_path_table(paths, "bootstrap"))
    if not isinstance(n_resamples, int) or n_resamples < 2:
        msg = f"n_resamples must be an integer of at least 2, got {n_resamples!r}"
        raise ConfigError(msg)
    if not 0 < level < 1:
        msg = f"level must be in (0, 1), got {level!r}"
        raise ConfigError(msg)
    if unit not in ("journeys", "paths"):
        msg = f"unit must be 'journeys' or 'paths', got {unit!r}"
        raise ConfigError(msg)
    estimate = run_model(pt, model, options)
    rng = np.random.default_rng(seed)
    n_ch = pt.n_channels
    reps = np.full((n_resamples, n_ch), np.nan)
    reps_v = np.full((n_resamples, n_ch), np.nan)
    reps_s = np.full((n_resamples, n_ch), np.nan)
    reps_re = np.full((n_resamples, n_ch), np.nan)
    for b in range(n_resamples):
        conv, val, nulls = resample_counts(pt, rng, unit)
        if conv.sum() <= 0:
            continue
        res = run_model(pt.with_counts(conv, val, nulls), model, options)
        reps[b], reps_v[b], reps_s[b] = res.conversions, res.value, res.share
        if res.removal_effects is not None:
            reps_re[b] = res.removal_effects
    q = [(1 - level) / 2, 1 - (1 - level) / 2]

    def bounds(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.nanquantile(a, q, axis=0)
        return lo, hi

    c_lo, c_hi = bounds(reps)
    v_lo, v_hi = bounds(reps_v)
    s_lo, s_hi = bounds(reps_s)
    re_lo = re_hi = None
    if estimate.removal_effects is not None:
        re_lo, re_hi = bounds(reps_re)
    return CreditIntervals(
        estimate=estimate,
        conversions_low=c_lo,
        conversions_high=c_hi,
        value_low=v_lo,
        value_high=v_hi,
        share_low=s_lo,
        share_high=s_hi,
        removal_effect_low=re_lo,
        removal_effect_high=re_hi,
        replicates=reps,
        level=float(level),
        n_resamples=n_resamples,
        seed=seed,
        unit=unit,
    )


@attrs.frozen(kw_only=True, repr=False)
class ModelComparison(TableResult):
    """Several models on the same path table, side by side.

    Attributes
    ----------
    models : tuple of str
    results : tuple of Attribution or CreditIntervals
        Aligned with ``models`` (with intervals when ``n_resamples`` was given).
    options : dict
        Options passed to each model.
    """

    models: tuple[str, ...]
    results: tuple[Attribution | CreditIntervals, ...]
    options: dict[str, Any] = attrs.field(factory=dict)

    def __getitem__(self, model: str) -> Attribution | CreditIntervals:
        return self.results[self.models.index(model)]

    @property
    def channels(self) -> np.ndarray:
        """Channel labels (the same for every model)."""
        first = self.results[0]
        return first.channels

    def table(self, of: str = "share") -> dict[str, np.ndarray]:
        """Model -> per-channel ``of`` (``"share"``, ``"conversions"`` or ``"value"``)."""
        out = {}
        for name, r in zip(self.models, self.results):
            e = r.estimate if isinstance(r, CreditIntervals) else r
            out[name] = {"share": e.share, "conversions": e.conversions, "value": e.value}[of]
        return out

    def to_pandas(self, *, wide: bool = True, of: str = "share") -> Any:
        """Wide (channels x models, values of ``of``) or long (one row per model and channel,
        with interval columns when available)."""
        if wide:
            return frame(self.table(of), index=self.channels.tolist())
        from omnijourney._optional import import_optional

        pd = import_optional("pandas", "pandas")
        parts = []
        for name, r in zip(self.models, self.results):
            df = r.to_pandas().reset_index()
            df.insert(0, "model", name)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        """Shares of conversions per channel and model (with intervals when available)."""
        names = self.channels.tolist()
        lines = ["  " + f"{'channel':<16}" + "".join(f"{m[:15]:>17}" for m in self.models)]
        for i, c in enumerate(names):
            cells = []
            for r in self.results:
                if isinstance(r, CreditIntervals):
                    cells.append(
                        f"{100 * r.estimate.share[i]:.1f} [{100 * r.share_low[i]:.0f}-"
                        f"{100 * r.share_high[i]:.0f}]"
                    )
                else:
                    cells.append(f"{100 * r.share[i]:.1f}")
            lines.append(f"  {c!s:<16}" + "".join(f"{x:>17}" for x in cells))
        return "share of conversions (%) by model\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compare_models(
    paths: PathTable,
    models: Sequence[str] | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    n_resamples: int = 0,
    level: float = 0.95,
    seed: int | None = 0,
    unit: Unit = "journeys",
) -> ModelComparison:
    """Run several models on one path table, with bootstrap intervals if ``n_resamples``.

    Parameters
    ----------
    paths : PathTable
    models : sequence of str, optional
        Default: every heuristic (``time_decay`` only when the table has times), Markov of
        order 1 and Shapley (subset value).
    options : mapping, optional
        Model name -> its options, e.g. ``{"markov": {"order": 2}, "last_non_direct":
        {"direct": ["web"]}}``.
    n_resamples : int
        0 (default) for point estimates only; otherwise the replicates of :func:`bootstrap`
        (each model resamples with the same seed, hence the same journeys).

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b", "b", "a > c"], conversions=[4, 2, 1],
    ...                             nulls=[3, 5, 8])
    >>> cmp = compare_models(pt, ["first_touch", "last_touch", "markov"])
    >>> {m: v.round(3).tolist() for m, v in cmp.table("conversions").items()}["last_touch"]
    [0.0, 6.0, 1.0]
    """
    pt = as_path_table(paths, "compare_models")
    if models is None:
        models = [m for m in HEURISTICS if m != "time_decay" or pt.times is not None]
        models += ["markov", "shapley"]
    opts = {k: dict(v) for k, v in (options or {}).items()}
    unknown = set(opts) - set(models)
    if unknown:
        msg = f"options given for models that are not run: {sorted(unknown)}"
        raise ConfigError(msg)
    results: list[Attribution | CreditIntervals] = []
    for name in models:
        o = opts.get(name, {})
        if n_resamples:
            results.append(
                bootstrap(pt, name, n_resamples=n_resamples, level=level, seed=seed, unit=unit, **o)
            )
        else:
            results.append(attribute(pt, name, **o))
    return ModelComparison(
        models=tuple(models),
        results=tuple(results),
        options={k: clean_params(v) for k, v in opts.items()},
    )

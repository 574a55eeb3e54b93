"""``report``: a pipeline's results in one self-contained HTML page.

Each part of the pipeline is one section whose status says what it holds: ``results``,
``empty`` (the step ran and found nothing: said so, never left out) or ``not run`` (its input
was not given: said which).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np

from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.reports._html import page
from omnijourney.tables import Table

__all__ = ["Report", "Section", "report"]

T = TypeVar("T")
TRANSITIONS = "transitions between the channels of consecutive touchpoints"
SHARES = "digital, physical and assisted shares per segment"

#: The sections of a report, in order: key -> title.
SECTIONS = {
    "overview": "Overview",
    "identity": "Customers merged across systems",
    "journeys": "Journeys",
    "breaks": "Where journeys cross channels",
    "segments": "Channel appetence segments",
    "attribution": "Channel attribution",
    "prices": "Prices, promotions and stock",
    "kpis": "KPIs",
}
#: What a section holds: results, nothing found by a step that ran, or no input to run on.
STATUSES = ("results", "empty", "not run")


@attrs.frozen(kw_only=True)
class Section:
    """One section of a :class:`Report`.

    Attributes
    ----------
    key : str
        Its name in :data:`SECTIONS` (``"identity"``, ``"breaks"``...), also its HTML id.
    title : str
    status : {"results", "empty", "not run"}
        Whether it holds results, ran and found nothing, or did not run for want of input.
    text : str
        What it says, in plain sentences (the result's ``summary()``, or why it is empty).
    tables : tuple of (str, Table)
        Captioned tables of the numbers behind it.
    figures : tuple of (str, bytes)
        Captioned figures, as PNG bytes.
    notes : tuple of str
        Caveats of the steps the report ran itself (the :class:`~omnijourney.OmnijourneyWarning`
        they raised, such as a rule that matches nothing in the data): written in the
        section rather than warned.
    """

    key: str
    title: str
    status: str = attrs.field(validator=attrs.validators.in_(STATUSES))
    text: str
    tables: tuple[tuple[str, Table], ...] = ()
    figures: tuple[tuple[str, bytes], ...] = ()
    notes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True, repr=False)
class Report:
    """A report: its sections and its HTML page.

    Attributes
    ----------
    title : str
    sections : tuple of Section
        One per key of :data:`SECTIONS`, in that order.
    html : str
        The self-contained page. Two reports are equal when their title and page are.
    """

    title: str
    sections: tuple[Section, ...] = attrs.field(eq=False)
    html: str

    def __getitem__(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        msg = f"no section {key!r}; the sections are {[s.key for s in self.sections]}"
        raise KeyError(msg)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        out = Path(path)
        out.write_text(self.html, encoding="utf-8")
        return out

    def summary(self) -> str:
        """One line per section: its title and status."""
        lines = [f"{self.title}: {len(self.sections)} sections"]
        lines += [f"  {s.title}: {s.status}" for s in self.sections]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _figure(draw: Callable[[Any], Any]) -> bytes | None:
    """PNG bytes of what ``draw(ax)`` draws, or None without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


def _figures(caption: str, draw: Callable[[Any], Any]) -> tuple[tuple[str, bytes], ...]:
    """The captioned figure that ``draw(ax)`` draws (none without matplotlib)."""
    png = _figure(draw)
    return () if png is None else ((caption, png),)


def _part(key: str, status: str, text: str, **parts: Any) -> Section:
    """The section ``key`` (its title from :data:`SECTIONS`)."""
    return Section(key=key, title=SECTIONS[key], status=status, text=text, **parts)


def _not_run(key: str, needs: str) -> Section:
    return _part(key, "not run", f"Not run: no {needs} given.")


def _text(summary: Any) -> str:
    return summary if isinstance(summary, str) else repr(summary)


def _table(columns: dict[str, Any]) -> Table:
    return Table.from_columns(columns)


def _overview(journeys: Any) -> Section:
    if journeys is None:
        return _not_run("overview", "touchpoints or journeys")
    tp = journeys.touchpoints
    j = journeys.journeys
    if len(tp) == 0:
        return _part("overview", "empty", "No touchpoint.")
    times = tp["time"].astype("datetime64[s]")
    rows = {
        "touchpoints": len(tp),
        "customers": int(np.unique(tp.raw("customer")).size),
        "channels": int(np.unique(tp.raw("channel")).size),
        "journeys": len(j),
        "converted journeys": int(j.raw("converted").sum()),
        "value": float(j.raw("value").sum()),
    }
    first, last = (str(t).replace("T", " ") for t in (times.min(), times.max()))
    text = f"Touchpoints from {first} to {last} UTC."
    table = _table({"measure": list(rows), "count": [float(v) for v in rows.values()]})
    return _part("overview", "results", text, tables=(("", table),))


def _identity(resolution: Any) -> Section:
    if resolution is None:
        return _not_run("identity", "customer records")
    n = resolution.n_records
    if n == 0:
        return _part("identity", "empty", "No record.")
    counts = {
        "records": n,
        "persons": resolution.n_persons,
        "households": resolution.n_households,
        "records merged into another's person": n - resolution.n_persons,
    }
    tables = [("", _table({"measure": list(counts), "count": list(counts.values())}))]
    records = resolution.records
    if "source" in records.columns:
        source = records.labels("source")[records.codes("source")] if len(records) else []
        persons = np.asarray(resolution.person_id)
        names, index = np.unique(np.asarray(source, dtype=object).astype(str), return_inverse=True)
        reach = [int(np.unique(persons[index == i]).size) for i in range(names.size)]
        tables.append(
            (
                "records and persons per source system",
                _table(
                    {
                        "source": names.tolist(),
                        "records": np.bincount(index, minlength=names.size),
                        "persons": reach,
                    }
                ),
            )
        )
    return _part("identity", "results", resolution.summary(), tables=tuple(tables))


def _journeys(journeys: Any) -> Section:
    if journeys is None:
        return _not_run("journeys", "touchpoints or journeys")
    if len(journeys) == 0:
        return _part("journeys", "empty", "No journey.")
    from omnijourney import plot
    from omnijourney.journeys import channel_transitions

    ends = journeys.end_reasons
    table = _table({"ended by": list(ends), "journeys": list(ends.values())})
    matrix = channel_transitions(journeys)
    return _part(
        "journeys",
        "results",
        journeys.summary(),
        tables=(("journeys per end reason", table),),
        # no figure of an all-zero matrix (one touchpoint per customer)
        figures=_figures(TRANSITIONS, lambda ax: plot.transitions(matrix, ax))
        if float(np.sum(matrix.matrix)) > 0
        else (),
    )


def _breaks(breaks: Any) -> Section:
    if breaks is None:
        return _not_run("breaks", "journeys")
    if len(breaks) == 0:
        text = "No journey crossed channels: no break was found."
        return _part("breaks", "empty", text)
    counts = breaks.counts()
    text = f"{len(breaks):,} breaks: " + ", ".join(
        f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if v
    )
    return _part(
        "breaks",
        "results",
        text,
        tables=(("breaks per kind and channel pair", breaks.pair_counts()),),
    )


def _segments(segments: Any, value: Any) -> Section:
    if segments is None:
        return _not_run("segments", "journeys")
    if len(segments) == 0:
        text = "No customer to segment."
        return _part("segments", "empty", text)
    from omnijourney import plot

    labels = segments["segment"]
    names, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    text = f"{len(segments):,} customers in {names.size} segments: " + ", ".join(
        f"{n} {c:,}" for n, c in zip(names.tolist(), counts.tolist())
    )
    tables = (("what each segment is worth", value),) if value is not None else ()
    return _part(
        "segments",
        "results",
        text,
        tables=tables,
        figures=_figures(SHARES, lambda ax: plot.appetence(segments, ax)),
    )


def _attribution(result: Any) -> Section:
    if result is None:
        return _not_run("attribution", "journeys or attribution")
    if isinstance(result, str):  # why it could not run
        return _part("attribution", "empty", result)
    from omnijourney import plot

    table = _table({"channel": result.channels, **result.columns()})
    caption = "credited conversions per channel"
    if hasattr(result, "conversions_low"):
        caption += f" with {round(100 * result.level)}% bootstrap intervals"
    return _part(
        "attribution",
        "results",
        result.summary(),
        tables=(("credit per channel", table),),
        figures=_figures(caption, lambda ax: plot.credit(result, ax)),
    )


def _prices(audit: Any, prices: Any) -> Section:
    if audit is None:
        return _not_run("prices", "prices")
    findings = audit.findings
    if len(findings) == 0:
        text = (
            f"No finding: {audit.n_prices:,} prices, {audit.n_promotions:,} promotions and "
            f"{audit.n_stock:,} stock rows passed every rule of the policy."
        )
        return _part("prices", "empty", text)
    by_rule = audit.summary_table()
    text = (
        f"{len(findings):,} findings on {audit.n_prices:,} prices, {audit.n_promotions:,} "
        f"promotions and {audit.n_stock:,} stock rows."
    )
    if hasattr(audit, "explain"):
        text += f"\nFor example: {audit.explain(0)}"
    figures: tuple[tuple[str, bytes], ...] = ()
    if prices is not None:
        from omnijourney import plot

        skus = findings.labels("sku")[findings.codes("sku")]
        known = np.asarray([s for s in skus if s is not None], dtype=object)
        if known.size:
            names, counts = np.unique(known.astype(str), return_counts=True)
            sku = names[int(np.argmax(counts))]
            caption = f"prices of {sku} per channel, with its findings"
            figures = _figures(caption, lambda ax: plot.prices(prices, sku, audit, ax))
    return _part(
        "prices",
        "results",
        text,
        tables=(("findings per rule", by_rule), ("findings", findings)),
        figures=figures,
    )


def _kpis(kpis: Any) -> Section:
    if kpis is None:
        return _not_run("kpis", "journeys or KPIs")
    from omnijourney.metrics import report_section

    part = report_section(kpis)
    status = "results" if len(part.table) else "empty"
    return _part(
        "kpis",
        status,
        part.text if status == "results" else "No KPI value.",
        tables=(("", part.table),) if status == "results" else (),
    )


def _noting(notes: dict[str, list[str]], key: str, make: Callable[[], T]) -> T:
    """``make()``, its OmnijourneyWarnings kept as notes of section ``key``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = make()
    for w in caught:
        if issubclass(w.category, OmnijourneyWarning):
            text = str(w.message)
            if text not in notes.setdefault(key, []):
                notes[key].append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return value


def _credit(journeys: Any, n_resamples: int, seed: int) -> Any:
    from omnijourney.attribution import PathTable, bootstrap, markov

    paths = PathTable.from_journeys(journeys)
    if float(np.sum(paths.conversions)) <= 0:
        return "No converting journey: there is no conversion to credit."
    if n_resamples:
        return bootstrap(paths, "markov", n_resamples=n_resamples, seed=seed)
    return markov(paths)


def report(
    path: str | os.PathLike[str] | None = None,
    *,
    touchpoints: Any = None,
    journeys: Any = None,
    breaks: Any = None,
    segments: Any = None,
    attribution: Any = None,
    resolution: Any = None,
    prices: Any = None,
    audit: Any = None,
    kpis: Any = None,
    title: str = "omnijourney report",
    n_resamples: int = 200,
    seed: int = 0,
) -> Report:
    """The results of a pipeline as one self-contained HTML page.

    Give what you have; what follows from it is computed with the defaults a user would keep:
    journeys from touchpoints (:func:`~omnijourney.sessionize`), then the breaks
    (:func:`~omnijourney.journeys.detect_breaks`), appetence segments and their value, Markov
    attribution with bootstrap intervals and the KPIs; the price audit from prices. A
    section whose input is missing says so ("not run"); a step that ran and found nothing
    says that ("empty"): nothing is left out.

    The page embeds its styles and its figures (PNG data, drawn with :mod:`omnijourney.plot`
    when matplotlib is installed) and loads nothing: its Content-Security-Policy forbids
    every request, so it can be mailed or archived as it is.

    Parameters
    ----------
    path : str or path-like, optional
        Where to write the page (UTF-8); not written when None.
    touchpoints : TouchpointTable, optional
        Sessionized with the default rules when ``journeys`` is not given.
    journeys : JourneyTable, optional
    breaks : BreakTable, optional
    segments : Table, optional
        The result of :func:`~omnijourney.journeys.appetence`.
    attribution : Attribution or CreditIntervals, optional
    resolution : Resolution, optional
        The result of :func:`~omnijourney.resolve`.
    prices : PriceTable, optional
        Audited with the EU policy when ``audit`` is not given; its figure shows the sku with
        the most findings.
    audit : PriceAudit, optional
    kpis : KPITable, optional
    title : str
    n_resamples : int
        Bootstrap resamples of the attribution intervals (0: the estimate alone).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    Report
        The sections (status, text, tables, figures) and the page (``html``).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["c1", "c1", "c2"],
    ...     "time": ["2024-05-01 10:00", "2024-05-03 18:00", "2024-05-02 09:00"],
    ...     "channel": ["web", "store", "web"],
    ...     "event": ["product_view", "purchase", "page_view"],
    ...     "value": [None, 59.0, None]})
    >>> r = oj.report(touchpoints=tp, n_resamples=0)
    >>> r["breaks"].status, r["identity"].status
    ('results', 'not run')
    >>> r.html.startswith("<!DOCTYPE html>") and "http://" not in r.html
    True
    """
    import omnijourney as oj
    from omnijourney import journeys as jr

    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 0:
        msg = f"The 'n_resamples' parameter must be an integer >= 0. Got {n_resamples!r} instead."
        raise ConfigError(msg)
    notes: dict[str, list[str]] = {}
    if journeys is None and touchpoints is not None:
        journeys = _noting(notes, "journeys", lambda: oj.sessionize(touchpoints))
    value = None
    if journeys is not None:
        if breaks is None:
            breaks = _noting(notes, "breaks", lambda: jr.detect_breaks(journeys))
        if segments is None:
            segments = _noting(notes, "segments", lambda: jr.appetence(journeys))
        if len(segments):
            value = _noting(notes, "segments", lambda: jr.segment_value(journeys, segments))
        if attribution is None:
            attribution = _noting(
                notes, "attribution", lambda: _credit(journeys, n_resamples, seed)
            )
        if kpis is None and len(journeys):
            kpis = _noting(notes, "kpis", lambda: oj.metrics.kpis(journeys))
    if audit is None and prices is not None:
        audit = _noting(notes, "prices", lambda: oj.pricing.audit(prices))
    sections = tuple(
        attrs.evolve(s, notes=tuple(notes.get(s.key, ())))
        for s in (
            _overview(journeys),
            _identity(resolution),
            _journeys(journeys),
            _breaks(breaks),
            _segments(segments, value),
            _attribution(attribution),
            _prices(audit, prices),
            _kpis(kpis),
        )
    )
    result = Report(title=title, sections=sections, html=page(title, sections))
    if path is not None:
        result.write(path)
    return result

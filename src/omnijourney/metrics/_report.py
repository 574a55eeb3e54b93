"""Report hooks: every measurement result as a titled section (a sentence, a table, a figure),
the shape an HTML or notebook report assembles without knowing each result type."""

from __future__ import annotations

from typing import Any

import attrs

from omnijourney.errors import ConfigError
from omnijourney.metrics._results import result_eq
from omnijourney.tables import Table

__all__ = ["ReportSection", "report_section"]


@attrs.frozen(eq=False)
class ReportSection:
    """One section of a report.

    Attributes
    ----------
    title : str
    text : str
        The result's plain-language summary.
    table : Table
        The numbers behind it.
    figure : str or None
        The :mod:`omnijourney.plot` function that draws the result, if any.
    """

    __eq__ = result_eq

    title: str
    text: str
    table: Table
    figure: str | None


def report_section(result: Any) -> ReportSection:
    """The report section of a measurement result.

    Examples
    --------
    >>> from omnijourney.metrics import compare
    >>> rows = {"customer": [1, 2, 3, 4], "period": ["after"] * 4,
    ...         "numerator": [12.0, 14.0, 10.0, 9.0],
    ...         "group": ["target", "target", "holdout", "holdout"]}
    >>> s = report_section(compare(rows, "spend", n_resamples=50, resampling="multinomial"))
    >>> s.title, s.figure, s.table.columns[:2]
    ('spend: test/control', 'comparison', ('group', 'period'))
    """
    from omnijourney import metrics as m

    if isinstance(result, m.Comparison):
        design = result.design.replace("_", " ").replace("test control", "test/control")
        design = design.replace("before after", "before/after")
        return ReportSection(
            f"{result.kpi}: {design}", result.summary(), result.cells, "comparison"
        )
    if isinstance(result, m.KPITable):
        return ReportSection("KPIs", result.summary(), result.table, None)
    if isinstance(result, m.SyntheticControl):
        title = f"{' + '.join(result.treated)}: {result.method.replace('_', ' ')}"
        return ReportSection(title, result.summary(), result.placebos, "synthetic_control")
    if isinstance(result, m.HoldoutAssignment):
        return ReportSection("Hold-out", result.summary(), result.counts(), None)
    if isinstance(result, m.Contamination):
        return ReportSection("Hold-out contamination", result.summary(), result.by_channel, None)
    if isinstance(result, m.MultichannelValue):
        return ReportSection("Multichannel value", result.summary(), result.table, None)
    if isinstance(result, m.ChannelUsefulness):
        return ReportSection("Channel usefulness", result.summary(), result.table, None)
    msg = f"report_section: no section for a {type(result).__name__}"
    raise ConfigError(msg)

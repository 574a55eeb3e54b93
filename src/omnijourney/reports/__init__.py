"""Reports: a pipeline's results as one self-contained HTML page.

:func:`report` takes what you have (touchpoints or journeys, a resolution, prices or an
audit...), computes what follows from it with the library's defaults and returns a
:class:`Report` of :class:`Section` objects and the HTML page, written to a file when a path
is given. ``oj.report`` is the same function; ``omnijourney report`` runs it on files.
"""

from omnijourney.reports._report import SECTIONS, STATUSES, Report, Section, report

__all__ = ["SECTIONS", "STATUSES", "Report", "Section", "report"]

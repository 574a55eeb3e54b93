"""Measurement: KPIs, comparisons with intervals, hold-outs, multichannel value and channels.

:func:`kpis` computes KPIs per period, channel, segment, store or team.
"""

from omnijourney.metrics._kpis import KPITable, kpis
from omnijourney.metrics._periods import CALENDAR_PERIODS, Periods
from omnijourney.metrics._units import KPIS, KpiSpec

__all__ = [
    "CALENDAR_PERIODS",
    "KPIS",
    "KPITable",
    "KpiSpec",
    "Periods",
    "kpis",
]

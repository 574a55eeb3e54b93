"""Measurement: KPIs, comparisons with intervals, hold-outs, multichannel value and channels.

- :func:`kpis`: KPIs of journeys per period (calendar periods in a time zone, or named
  windows), channel, segment, store or team, in one long :class:`KPITable`;
- :func:`compare`: a KPI before/after, test/control or by difference in differences, with a
  bootstrap of customers (the unit that was assigned) and CUPED; :class:`Comparison`;
  :func:`customer_panel`, the per-customer values it resamples, to edit and pass back;
- :func:`assign_holdout`, :func:`minimum_detectable_effect`, :func:`sample_size`,
  :func:`contamination`, :func:`lift`: hold-out groups ("blind zones") from the design to
  the lift;
- :func:`synthetic_control`: synthetic DiD or synthetic control for a few treated units
  (stores), with placebo inference;
- :func:`multichannel_value`: spend, frequency and retention of multichannel against
  single-channel customers, raw and at equal activity;
- :func:`channel_usefulness`: useful, under-used and superfluous channels, and the synergies
  of pairs;
- :func:`report_section`: any of these results as a titled section for a report.

Every result has ``summary()`` (plain sentences), ``to_pandas()``, and intervals through
``confidence_interval()`` where it has one. Figures are in :mod:`omnijourney.plot`
(``comparison``, ``lift``, ``synthetic_control``).
"""

from omnijourney.metrics._bootstrap import RESAMPLING, ConfidenceInterval
from omnijourney.metrics._channels import USEFULNESS_LABELS, ChannelUsefulness, channel_usefulness
from omnijourney.metrics._compare import DESIGNS, Comparison, compare
from omnijourney.metrics._holdout import (
    Contamination,
    HoldoutAssignment,
    assign_holdout,
    contamination,
    lift,
    minimum_detectable_effect,
    sample_size,
)
from omnijourney.metrics._kpis import KPITable, kpis
from omnijourney.metrics._multichannel import (
    ESTIMATES,
    JOURNEY_BINS,
    MEASURES,
    TENURE_BINS,
    MultichannelValue,
    multichannel_value,
)
from omnijourney.metrics._panel import customer_panel
from omnijourney.metrics._periods import CALENDAR_PERIODS, Periods
from omnijourney.metrics._report import ReportSection, report_section
from omnijourney.metrics._synthetic import SyntheticControl, synthetic_control
from omnijourney.metrics._units import KPIS, KpiSpec

__all__ = [
    "CALENDAR_PERIODS",
    "DESIGNS",
    "ESTIMATES",
    "JOURNEY_BINS",
    "KPIS",
    "MEASURES",
    "RESAMPLING",
    "TENURE_BINS",
    "USEFULNESS_LABELS",
    "ChannelUsefulness",
    "Comparison",
    "ConfidenceInterval",
    "Contamination",
    "HoldoutAssignment",
    "KPITable",
    "KpiSpec",
    "MultichannelValue",
    "Periods",
    "ReportSection",
    "SyntheticControl",
    "assign_holdout",
    "channel_usefulness",
    "compare",
    "contamination",
    "customer_panel",
    "kpis",
    "lift",
    "minimum_detectable_effect",
    "multichannel_value",
    "report_section",
    "sample_size",
    "synthetic_control",
]

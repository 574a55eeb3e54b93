"""Measurement: KPIs, comparisons with intervals, hold-outs, multichannel value and channels.

:func:`kpis` computes KPIs per period, channel, segment, store or team.
"""

from omnijourney.metrics._bootstrap import ConfidenceInterval
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
from omnijourney.metrics._multichannel import MEASURES, MultichannelValue, multichannel_value
from omnijourney.metrics._periods import CALENDAR_PERIODS, Periods
from omnijourney.metrics._synthetic import SyntheticControl, synthetic_control
from omnijourney.metrics._units import KPIS, KpiSpec

__all__ = [
    "CALENDAR_PERIODS",
    "DESIGNS",
    "KPIS",
    "MEASURES",
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
    "SyntheticControl",
    "assign_holdout",
    "channel_usefulness",
    "compare",
    "contamination",
    "kpis",
    "lift",
    "minimum_detectable_effect",
    "multichannel_value",
    "sample_size",
    "synthetic_control",
]

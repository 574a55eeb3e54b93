"""Journey segmentation: touchpoints -> visits -> journeys, stages, breaks, segments, paths.

The entry point is :func:`sessionize`, which returns a :class:`JourneyTable`. Every analysis
checks its rules against the labels of the data and warns (``OmnijourneyWarning``) about a
rule that matches nothing, naming it in an :class:`UnmatchedRule`.
"""

from omnijourney.journeys._bgnbd import BGNBD, fit_bgnbd
from omnijourney.journeys._breaks import (
    BREAK_KINDS,
    IMPLIED_KINDS,
    INTENT_EVENTS,
    RESEARCH_EVENTS,
    BreakRules,
    BreakTable,
    detect_breaks,
    quote_conversion,
)
from omnijourney.journeys._export import to_event_log, to_ocel
from omnijourney.journeys._flows import (
    ChannelTransitions,
    Sankey,
    channel_transitions,
    sankey,
    step_matrix,
)
from omnijourney.journeys._followups import FollowUpRule, check_followups
from omnijourney.journeys._funnels import funnel
from omnijourney.journeys._hot_carts import hot_carts
from omnijourney.journeys._lifecycle import (
    LIFECYCLE_STATUSES,
    InactivityRules,
    lifecycle_status,
    rfm,
)
from omnijourney.journeys._linkage import break_linkage
from omnijourney.journeys._rules import (
    DEFAULT_STAGE_EVENTS,
    DEFAULT_STAGES,
    JourneyRules,
    StageMap,
)
from omnijourney.journeys._scenarios import (
    InactivityScenario,
    ScenarioStep,
    inactivity_scenarios,
)
from omnijourney.journeys._segments import (
    APPETENCE_SEGMENTS,
    AppetenceRules,
    appetence,
    appetence_clusters,
    appetence_transitions,
    channel_shares,
    segment_value,
)
from omnijourney.journeys._sessionize import sessionize, sessionize_batches
from omnijourney.journeys._table import JourneyTable, SessionState
from omnijourney.journeys._timeline import format_timeline, timeline
from omnijourney.journeys._unmatched import UnmatchedRule
from omnijourney.journeys._variants import DirectlyFollows, directly_follows, variants

__all__ = [
    "APPETENCE_SEGMENTS",
    "BGNBD",
    "BREAK_KINDS",
    "DEFAULT_STAGES",
    "DEFAULT_STAGE_EVENTS",
    "IMPLIED_KINDS",
    "INTENT_EVENTS",
    "LIFECYCLE_STATUSES",
    "RESEARCH_EVENTS",
    "AppetenceRules",
    "BreakRules",
    "BreakTable",
    "ChannelTransitions",
    "DirectlyFollows",
    "FollowUpRule",
    "InactivityRules",
    "InactivityScenario",
    "JourneyRules",
    "JourneyTable",
    "Sankey",
    "ScenarioStep",
    "SessionState",
    "StageMap",
    "UnmatchedRule",
    "appetence",
    "appetence_clusters",
    "appetence_transitions",
    "break_linkage",
    "channel_shares",
    "channel_transitions",
    "check_followups",
    "detect_breaks",
    "directly_follows",
    "fit_bgnbd",
    "format_timeline",
    "funnel",
    "hot_carts",
    "inactivity_scenarios",
    "lifecycle_status",
    "quote_conversion",
    "rfm",
    "sankey",
    "segment_value",
    "sessionize",
    "sessionize_batches",
    "step_matrix",
    "timeline",
    "to_event_log",
    "to_ocel",
    "variants",
]


def __getattr__(name: str) -> object:
    if name == "TransitionMatrix":  # attribution has a TransitionMatrix of its own (Markov)
        import warnings

        warnings.warn(
            "omnijourney.journeys.TransitionMatrix is deprecated: use ChannelTransitions",
            DeprecationWarning,
            stacklevel=2,
        )
        return ChannelTransitions
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

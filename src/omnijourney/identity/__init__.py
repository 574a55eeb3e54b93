"""Identity merging: which records, across systems, are the same person, the same household.

normalize -> block -> compare -> score (Fellegi-Sunter, EM) -> cluster with guards ->
golden records, with explanations, incremental updates and data-quality reports. The entry
points are :meth:`CustomerRecordTable.from_columns` and :func:`resolve`.
"""

from typing import Any

from omnijourney.identity._blocking import (
    BlockingRule,
    CandidatePairs,
    block_pairs,
    pair_completeness,
)
from omnijourney.identity._cluster import cluster_links, components
from omnijourney.identity._compare import Comparison, compare_pairs, jaro_winkler
from omnijourney.identity._defaults import (
    count_pairs,
    default_blocking,
    default_comparisons,
    shows_households,
)
from omnijourney.identity._explain import Explanation, explain_pair, explain_person
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    fit_fellegi_sunter,
    u_by_sampling,
    value_u,
)
from omnijourney.identity._golden import Survivorship, golden_records
from omnijourney.identity._households import households_as_of
from omnijourney.identity._incremental import ResolutionChanges
from omnijourney.identity._link import LINK_STATUSES, key_agreement, link_touchpoints
from omnijourney.identity._normalize import NormalizedField, NormalizeRules
from omnijourney.identity._privacy import (
    CONSENT_CHANNELS,
    ErasureReport,
    Tombstones,
    consent,
    erase,
)
from omnijourney.identity._quality import (
    PairwiseScores,
    QualityReport,
    pairwise_scores,
    quality_report,
)
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords, normalize_records
from omnijourney.identity._resolution import LINK_LEVELS, Resolution
from omnijourney.identity._resolve import resolve
from omnijourney.identity._review import guard_log, review_queue
from omnijourney.identity._rules import Overrides, ResolutionRules

__all__ = [
    "CONSENT_CHANNELS",
    "LINK_LEVELS",
    "LINK_STATUSES",
    "BlockingRule",
    "CandidatePairs",
    "Comparison",
    "CustomerRecordTable",
    "ErasureReport",
    "Explanation",
    "FellegiSunterModel",
    "NormalizeRules",
    "NormalizedField",
    "NormalizedRecords",
    "Overrides",
    "PairwiseScores",
    "QualityReport",
    "Resolution",
    "ResolutionChanges",
    "ResolutionRules",
    "Survivorship",
    "Tombstones",
    "block_pairs",
    "cluster_links",
    "compare_pairs",
    "components",
    "consent",
    "count_pairs",
    "default_blocking",
    "default_comparisons",
    "erase",
    "explain_pair",
    "explain_person",
    "fit_fellegi_sunter",
    "golden_records",
    "guard_log",
    "households_as_of",
    "jaro_winkler",
    "key_agreement",
    "link_touchpoints",
    "normalize_records",
    "pair_completeness",
    "pairwise_scores",
    "quality_report",
    "resolve",
    "review_queue",
    "shows_households",
    "u_by_sampling",
    "value_u",
]


_DEPRECATED = {
    "DEFAULT_BLOCKING": ("LEGACY_BLOCKING", "default_blocking"),
    "DEFAULT_COMPARISONS": ("LEGACY_COMPARISONS", "default_comparisons"),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        import warnings

        from omnijourney.identity import _rules

        legacy, replacement = _DEPRECATED[name]
        msg = (
            f"omnijourney.identity.{name} is deprecated: the default rules are generated from "
            f"the fields the records have (ResolutionRules() with None; see {replacement}). "
            f"{name} keeps the fixed rules of earlier versions."
        )
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return getattr(_rules, legacy)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)

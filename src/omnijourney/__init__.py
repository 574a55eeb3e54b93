"""omnijourney: one model of the customer across channels.

Core types and tables are imported eagerly (they need only numpy, attrs and cattrs); the
capability packages (``journeys``, ``identity``, ``attribution``, ``pricing``, ``synth``,
``metrics``) load on first use, so ``import omnijourney`` stays fast and never imports pandas, pyarrow,
matplotlib or pyspark.
"""

from __future__ import annotations

import importlib
from typing import Any

from omnijourney._version import __version__
from omnijourney.errors import (
    ConfigError,
    ConvergenceError,
    DataError,
    OmnijourneyError,
    OmnijourneyWarning,
    SchemaError,
)
from omnijourney.io import from_dict, from_json, to_dict, to_json
from omnijourney.model import (
    DEFAULT_CHANNELS,
    Channel,
    ChannelKind,
    Customer,
    Direction,
    EndReason,
    FrozenMap,
    Initiator,
    Journey,
    Touchpoint,
    channel_catalog,
)
from omnijourney.progress import progress_enabled, set_progress
from omnijourney.tables import (
    ColumnSpec,
    Quarantined,
    Rejects,
    Table,
    TouchpointTable,
    Vocabulary,
    concat,
)

_SUBMODULES = {
    "journeys",
    "identity",
    "attribution",
    "pricing",
    "synth",
    "metrics",
    "io",
    "plot",
    "spark",
    "time",
    "reports",
    "progress",
}
# Public names that live in lazily imported subpackages.
_LAZY: dict[str, str] = {
    "PathTable": "attribution",
    "CustomerRecordTable": "identity",
    "ResolutionRules": "identity",
    "resolve": "identity",
    "report": "reports",
    "sessionize": "journeys",
    "sessionize_batches": "journeys",
    "JourneyRules": "journeys",
    "JourneyTable": "journeys",
    "StageMap": "journeys",
}

__all__ = [
    "DEFAULT_CHANNELS",
    "Channel",
    "ChannelKind",
    "ColumnSpec",
    "ConfigError",
    "ConvergenceError",
    "Customer",
    "CustomerRecordTable",
    "DataError",
    "Direction",
    "EndReason",
    "FrozenMap",
    "Initiator",
    "Journey",
    "JourneyRules",
    "JourneyTable",
    "OmnijourneyError",
    "OmnijourneyWarning",
    "PathTable",
    "Quarantined",
    "Rejects",
    "ResolutionRules",
    "SchemaError",
    "StageMap",
    "Table",
    "Touchpoint",
    "TouchpointTable",
    "Vocabulary",
    "__version__",
    "channel_catalog",
    "concat",
    "from_dict",
    "from_json",
    "progress_enabled",
    "report",
    "resolve",
    "sessionize",
    "sessionize_batches",
    "set_progress",
    "to_dict",
    "to_json",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"omnijourney.{name}")
    if name in _LAZY:
        module = importlib.import_module(f"omnijourney.{_LAZY[name]}")
        return getattr(module, name)
    msg = f"module 'omnijourney' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(__all__) | _SUBMODULES | set(_LAZY))

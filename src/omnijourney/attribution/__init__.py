"""Channel attribution: which channels inform, incite and decide, and how much credit each deserves.

Build a :class:`PathTable` (from journeys, touchpoints or ``"a > b > c"`` strings), then run a
model: rule-based heuristics, the exact Markov removal effect of any order, or Shapley values
with a choice of coalition value. :func:`channel_roles` measures whether a channel opens,
assists or closes converting journeys; :func:`bootstrap` and :func:`compare_models` give
intervals and all models side by side.
"""

from omnijourney.attribution._bootstrap import (
    CreditIntervals,
    ModelComparison,
    bootstrap,
    compare_models,
)
from omnijourney.attribution._buyers import (
    AllBuyers,
    identification_rates,
    scale_to_all_buyers,
)
from omnijourney.attribution._heuristics import (
    HEURISTICS,
    first_touch,
    heuristic,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    time_decay,
)
from omnijourney.attribution._markov import OrderScore, markov, removal_effects, select_order
from omnijourney.attribution._models import MODELS, attribute
from omnijourney.attribution._paths import PathTable
from omnijourney.attribution._results import Attribution, TransitionMatrix
from omnijourney.attribution._roles import (
    ROLES,
    ChannelRoles,
    RoleComparison,
    channel_roles,
    roles_by,
)
from omnijourney.attribution._shapley import (
    COALITION_VALUES,
    harsanyi_dividends,
    shapley,
    shapley_values,
)

__all__ = [
    "COALITION_VALUES",
    "HEURISTICS",
    "MODELS",
    "ROLES",
    "AllBuyers",
    "Attribution",
    "ChannelRoles",
    "CreditIntervals",
    "ModelComparison",
    "OrderScore",
    "PathTable",
    "RoleComparison",
    "TransitionMatrix",
    "attribute",
    "bootstrap",
    "channel_roles",
    "compare_models",
    "first_touch",
    "harsanyi_dividends",
    "heuristic",
    "identification_rates",
    "last_non_direct",
    "last_touch",
    "linear",
    "markov",
    "position_based",
    "removal_effects",
    "roles_by",
    "scale_to_all_buyers",
    "select_order",
    "shapley",
    "shapley_values",
    "time_decay",
]

"""The attribution models by name: the registry that :func:`attribute`, :func:`bootstrap` and
:func:`compare_models` read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omnijourney.attribution._heuristics import HEURISTICS, heuristic
from omnijourney.attribution._markov import markov
from omnijourney.attribution._paths import PathTable
from omnijourney.attribution._results import Attribution
from omnijourney.attribution._shapley import shapley
from omnijourney.errors import ConfigError

__all__ = ["MODELS", "Model", "attribute", "run_model"]

#: Every model, by name: the heuristics, then ``"markov"`` and ``"shapley"``.
MODELS = (*HEURISTICS, "markov", "shapley")
#: A model: its name, or a callable ``model(paths, **options) -> Attribution``.
Model = str | Callable[..., Attribution]


def attribute(paths: PathTable, model: str = "markov", **options: Any) -> Attribution:
    """Run any model by name (see :data:`MODELS`) with its options.

    Examples
    --------
    >>> pt = PathTable.from_strings(["a > b"], conversions=[2])
    >>> attribute(pt, "linear").as_dict()
    {'a': 1.0, 'b': 1.0}
    """
    if model == "markov":
        return markov(paths, **options)
    if model == "shapley":
        return shapley(paths, **options)
    if model in HEURISTICS:
        return heuristic(paths, model, **options)
    msg = f"model must be one of {list(MODELS)} or a callable, got {model!r}"
    raise ConfigError(msg)


def run_model(paths: PathTable, model: Model, options: Mapping[str, Any]) -> Attribution:
    """Run a model given by name or as a callable ``model(paths, **options)``."""
    if callable(model):
        return model(paths, **options)
    return attribute(paths, model, **options)

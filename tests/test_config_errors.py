"""Every configuration object refuses a value of the wrong type with a ConfigError naming the
field: never a bare TypeError, never a silent acceptance.

Each public configuration class is built with, for each of its fields, an object that no field
accepts and a value of another type than the field's (a number where names are expected, text
where a number is, a list where a duration is...).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import attrs
import pytest

from omnijourney.errors import ConfigError

#: Public configuration classes, with the values their required fields need.
CONFIGS: dict[str, dict[str, object]] = {
    "omnijourney.journeys.JourneyRules": {},
    "omnijourney.journeys.StageMap": {},
    "omnijourney.journeys.BreakRules": {},
    "omnijourney.journeys.FollowUpRule": {
        "name": "quote",
        "trigger_events": ["quote_request"],
        "response_events": ["call"],
        "within": "2D",
    },
    "omnijourney.journeys.AppetenceRules": {},
    "omnijourney.journeys.InactivityRules": {},
    "omnijourney.journeys.InactivityScenario": {},
    "omnijourney.journeys.ScenarioStep": {"name": "reminder", "after": "180D"},
    "omnijourney.identity.ResolutionRules": {},
    "omnijourney.identity.NormalizeRules": {},
    "omnijourney.identity.Survivorship": {},
    "omnijourney.identity.Overrides": {},
    "omnijourney.identity.Comparison": {"name": "email", "field": "email"},
    "omnijourney.identity.BlockingRule": {"fields": ("email",)},
    "omnijourney.pricing.Policy": {},
    "omnijourney.pricing.Tolerance": {},
    "omnijourney.synth.Noise": {},
    "omnijourney.tables.Vocabulary": {},
    "omnijourney.tables.ColumnSpec": {"name": "sku", "kind": "category"},
}

#: Classes whose modules are being reworked elsewhere: their checks move to the shared
#: validators with that work. The test of a pending class fails once the class passes (strict
#: xfail): then move it out of PENDING.
PENDING = {}


#: Public attrs classes with defaults for every field that are results, not configuration.
RESULTS = {"omnijourney.identity.ResolutionChanges", "omnijourney.identity.Tombstones"}


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _Unusable:
    """No field accepts this."""

    def __repr__(self) -> str:
        return "<unusable>"


def _other_type(field: attrs.Attribute) -> object:
    """A value of another type than the field's."""
    t = str(field.type)
    if re.search(r"\bbool\b", t) and "None" not in t:
        return "yes"
    if re.search(r"\b(float|int|Seed)\b", t) and "tuple" not in t:
        return "many"
    if "timedelta64" in t and "tuple" not in t:
        return [1]
    return 5


def _cases(paths):
    for path in paths:
        cls = _class(path)
        for field in attrs.fields(cls):
            if field.init:
                for value in (_Unusable(), _other_type(field)):
                    yield path, cls, field.name, value


def _refusal(cls, required, field, value) -> str | None:
    """None when ``cls`` refuses ``value`` for ``field`` with a ConfigError naming it, else
    what happened."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cls(**{**required, field: value})
        except ConfigError as exc:
            return None if re.search(rf"\b{field}\b", str(exc)) else f"message: {exc}"
        except Exception as exc:  # any other error is what the test reports
            return f"{type(exc).__name__}: {exc}"
    return "accepted"


@pytest.mark.parametrize(
    ("cls", "required", "field", "value"),
    [
        pytest.param(cls, CONFIGS[path], field, value, id=f"{path}.{field}={value!r}")
        for path, cls, field, value in _cases(p for p in CONFIGS if p not in PENDING)
    ],
)
def test_a_wrong_value_is_a_config_error_naming_the_field(cls, required, field, value):
    assert _refusal(cls, required, field, value) is None


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.xfail(reason=PENDING[p], strict=True)) for p in PENDING],
)
def test_pending_classes_still_let_wrong_values_through(path):
    wrong = [
        f"{field}={value!r}: {problem}"
        for _, cls, field, value in _cases([path])
        if (problem := _refusal(cls, CONFIGS[path], field, value)) is not None
    ]
    assert not wrong, "\n".join(wrong)


def test_every_public_configuration_class_is_checked():
    # a public attrs class every field of which has a default is a configuration object
    found = set()
    for package in ("journeys", "identity", "attribution", "pricing", "synth", "metrics"):
        module = importlib.import_module(f"omnijourney.{package}")
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) and attrs.has(obj)):
                continue
            if all(f.default is not attrs.NOTHING for f in attrs.fields(obj) if f.init):
                found.add(f"omnijourney.{package}.{name}")
    assert found - RESULTS <= set(CONFIGS), sorted(found - RESULTS - set(CONFIGS))

"""How messy the synthetic world is: the story's behaviour and the source systems' noise.

A :class:`Noise` holds two kinds of settings. The *story* settings change what customers do
(how long they pause, whether they pursue two goals at once, how long they research before
buying): they change ``world.touchpoints`` and its truth. The *observation* settings change
only how the source systems record it (who is identified, which ids and keys each row carries,
double sends, late loads, clocks, labels): they shape ``world.observed`` and leave the truth
of what happened unchanged.

Every number here describes behaviour or systems; none is taken from a detector's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_choice, check_fraction, duration
from omnijourney.errors import ConfigError
from omnijourney.synth._templates import CHANNELS

__all__ = ["DIFFICULTIES", "KEYS", "SOURCE_SYSTEMS", "Noise", "as_noise"]

#: Presets of :func:`~omnijourney.synth.generate`'s ``difficulty``.
DIFFICULTIES = ("clean", "realistic", "hard")
#: The source systems that record touchpoints (the ``source`` column).
SOURCE_SYSTEMS = ("ads", "contact_centre", "crm", "ecommerce", "till")
#: Link keys the observed touchpoints may carry, besides the customer id of each system.
KEYS = ("device_id", "loyalty_id", "payment_token", "pickup_code", "receipt_email")
_GAPS = ("bounded", "continuous")


def _rates(value: Any, name: str, allowed: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping):
        msg = (
            f"The {name!r} parameter must be a mapping of {', '.join(allowed)} to a number in "
            f"[0, 1]. Got {value!r} instead."
        )
        raise ConfigError(msg)
    out = []
    for key in sorted(value):
        check_choice(key, f"{name} key", allowed)
        out.append((str(key), check_fraction(value[key], f"{name}[{key!r}]")))
    missing = sorted(set(allowed) - {k for k, _ in out})
    if missing:
        msg = f"The {name!r} parameter must give a rate for every key; missing: {missing}."
        raise ConfigError(msg)
    return tuple(out)


def _identification(value: Any) -> dict[str, float]:
    return dict(_rates(value, "identification", CHANNELS))


def _keys(value: Any) -> dict[str, float]:
    return dict(_rates(value, "keys", KEYS))


def _fraction(instance: Any, attribute: Any, value: Any) -> None:
    check_fraction(value, attribute.name)


def _all_channels() -> dict[str, float]:
    return dict.fromkeys(CHANNELS, 1.0)


def _all_keys() -> dict[str, float]:
    return dict.fromkeys(KEYS, 1.0)


def _devices(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        msg = f"The 'devices' parameter must be a number >= 1. Got {value!r} instead."
        raise ConfigError(msg)
    if not float(value) >= 1.0 or not np.isfinite(value):
        msg = f"The 'devices' parameter must be a number >= 1. Got {value!r} instead."
        raise ConfigError(msg)
    return float(value)


def _skew(value: Any) -> np.timedelta64:
    out = duration(value, "clock_skew", positive=False)
    if out is None or out < np.timedelta64(0, "us"):
        msg = f"The 'clock_skew' parameter must be a duration >= 0. Got {value!r} instead."
        raise ConfigError(msg)
    return out


def _local_time(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (tuple, list, set, frozenset)):
        msg = f"The 'local_time' parameter must be a collection of source systems. Got {value!r}."
        raise ConfigError(msg)
    for v in value:
        check_choice(v, "local_time", SOURCE_SYSTEMS)
    return tuple(sorted(value))


def _gaps(value: Any) -> str:
    check_choice(value, "gaps", _GAPS)
    return str(value)


@attrs.frozen(kw_only=True)
class Noise:
    """How the synthetic world departs from a tidy story, and how its systems record it.

    Use a preset (:meth:`clean`, :meth:`realistic`, :meth:`hard`, or their names as
    ``generate(difficulty=...)``), or ``attrs.evolve`` one to change a setting.

    Parameters
    ----------
    gaps : {"bounded", "continuous"}
        *Story.* ``"bounded"``: the pauses of each kind (inside a visit, between visits, before
        a decision...) are drawn log-uniformly between fixed bounds and a customer's goals are
        more than 15 days apart (the tidy world of earlier versions). ``"continuous"``: the
        pauses are log-normal (people sometimes leave a tab open for an hour, sometimes come
        back within minutes), goals arrive at random times at least a day apart, and follow-up
        answers take a log-normal time (see :data:`~omnijourney.synth._story.PAUSES`).
    concurrent_goals : float in [0, 1]
        *Story.* Probability that a goal starts while the customer's previous one is still
        under way (two needs pursued in parallel, their touchpoints interleaved). Needs
        ``gaps="continuous"``.
    long_research : float in [0, 1]
        *Story.* Probability that a customer who researched online and buys in store does so
        three to six weeks later. Needs ``gaps="continuous"``.
    reminders : float in [0, 1]
        *Story.* Share of the browsing steps that are a click on a campaign reminder (email,
        SMS or ad) in the middle of a goal: campaign channels then assist as well as open.
    identification : mapping of channel to float
        *Observation.* Per channel, the share of touchpoints on which the source system knows
        the customer (a logged-in session, a loyalty card shown at the till, a caller whose
        number is on file). Unidentified touchpoints carry the system's own anonymous id: a
        device id on the web and the app, a till transaction on a store purchase, a contact id
        in the contact centre. A customer without a record in a system is never identified
        there.
    devices : float >= 1
        *Observation.* Mean number of web/app device ids (cookies, app installs) per person.
    reference_missing, reference_typo : float in [0, 1]
        *Observation.* Share of reference ids (order, cart, quote, reservation) left empty, and
        share written with one digit wrong.
    keys : mapping of key to float
        *Observation.* Share of the eligible touchpoints that carry each link key of
        :data:`KEYS`: ``device_id`` (web, app and ad clicks), ``loyalty_id`` (the card number
        typed with a web order), ``payment_token`` (a hashed card token on paid rows),
        ``pickup_code`` (click & collect orders and pickups), ``receipt_email`` (a hashed
        e-receipt email on store purchases).
    duplicates : float in [0, 1]
        *Observation.* Share of touchpoints sent twice (exact duplicate rows).
    late_arrival : float in [0, 1]
        *Observation.* Share of touchpoints loaded hours to days after they happened (the
        others within minutes).
    clock_skew : duration
        *Observation.* Typical offset of a store till's clock (each till is off by a normal
        draw of this standard deviation, fixed for the period).
    local_time : collection of source systems
        *Observation.* Systems that record naive local times (Europe/Paris wall clock) instead
        of UTC.
    vocabulary : bool
        *Observation.* Whether each system labels channels and events in its own words (the
        till's ``"VENTE"``, the web's ``"Purchase"``...), mapped back by
        ``world.vocabulary``.
    near_price_faults : bool
        *Prices.* Whether the price world also has faults within a cent or an hour of the
        retailer's own tolerances, on both sides (``prices.near_misses`` lists those inside),
        and store prices sent twice (see :func:`omnijourney.synth.prices.make_prices`).

    Examples
    --------
    >>> from omnijourney.synth import Noise
    >>> Noise.realistic().identification["store"]
    0.55
    >>> import attrs
    >>> attrs.evolve(Noise.clean(), duplicates=0.01).duplicates
    0.01
    >>> Noise(duplicates=1.5)
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'duplicates' parameter must be a number in [0, 1]. Got 1.5 instead.
    """

    gaps: str = attrs.field(default="bounded", converter=_gaps)
    concurrent_goals: float = attrs.field(default=0.0, validator=_fraction)
    long_research: float = attrs.field(default=0.0, validator=_fraction)
    reminders: float = attrs.field(default=0.0, validator=_fraction)
    identification: dict[str, float] = attrs.field(factory=_all_channels, converter=_identification)
    devices: float = attrs.field(default=1.0, converter=_devices)
    reference_missing: float = attrs.field(default=0.0, validator=_fraction)
    reference_typo: float = attrs.field(default=0.0, validator=_fraction)
    keys: dict[str, float] = attrs.field(factory=_all_keys, converter=_keys)
    duplicates: float = attrs.field(default=0.0, validator=_fraction)
    late_arrival: float = attrs.field(default=0.0, validator=_fraction)
    clock_skew: np.timedelta64 = attrs.field(default="0s", converter=_skew)
    local_time: tuple[str, ...] = attrs.field(default=(), converter=_local_time)
    vocabulary: bool = attrs.field(default=False)
    near_price_faults: bool = attrs.field(default=False)

    def __attrs_post_init__(self) -> None:
        for flag in ("vocabulary", "near_price_faults"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                msg = f"The {flag!r} parameter must be a bool. Got {getattr(self, flag)!r} instead."
                raise ConfigError(msg)
        for name in ("concurrent_goals", "long_research"):
            if getattr(self, name) > 0 and self.gaps == "bounded":
                msg = (
                    f"The {name!r} parameter needs gaps='continuous': with bounded gaps a "
                    f"customer's goals are kept more than 15 days apart. Got {name}="
                    f"{getattr(self, name)!r} with gaps='bounded'."
                )
                raise ConfigError(msg)

    @classmethod
    def clean(cls) -> Noise:
        """The tidy world: bounded pauses, goals apart, every system knows every customer it
        has a record of, every id and key present, no duplicates, clocks right, the library's
        labels."""
        return cls()

    @classmethod
    def realistic(cls) -> Noise:
        """A retailer's usual data: continuous pauses, some parallel goals and long research,
        half the store purchases anonymous, several devices per person, a few missing or
        mistyped ids, double sends, late loads, tills a few minutes off and recording local
        time, each system's own labels, near-tolerance price faults."""
        return cls(**_PRESETS["realistic"])

    @classmethod
    def hard(cls) -> Noise:
        """Worse on every count: more parallel goals and long research, most store purchases
        and web visits anonymous, more devices, ids and keys often missing, more duplicates,
        late loads and skew."""
        return cls(**_PRESETS["hard"])


# Per preset: (realistic, hard) values of each setting that departs from the clean world.
_DEPARTS: dict[str, tuple[Any, Any]] = {
    "gaps": ("continuous", "continuous"),
    "concurrent_goals": (0.08, 0.2),
    "long_research": (0.25, 0.5),
    "reminders": (0.04, 0.1),
    "devices": (2.0, 3.0),
    "reference_missing": (0.03, 0.12),
    "reference_typo": (0.01, 0.04),
    "duplicates": (0.01, 0.04),
    "late_arrival": (0.02, 0.08),
    "clock_skew": ("3min", "10min"),
    "local_time": (("till",), ("contact_centre", "till")),
    "vocabulary": (True, True),
    "near_price_faults": (True, True),
}
# Per channel (identification) and key (keys): (realistic, hard).
_IDENTIFIED = {
    "app": (0.75, 0.5), "call_centre": (0.85, 0.6), "chat": (0.6, 0.4), "email": (1.0, 1.0),
    "sms": (1.0, 1.0), "social": (0.0, 0.0), "store": (0.55, 0.3), "web": (0.35, 0.2),
}  # fmt: skip
_KEY_RATES = {
    "device_id": (0.95, 0.8), "loyalty_id": (0.2, 0.1), "payment_token": (0.7, 0.4),
    "pickup_code": (0.9, 0.6), "receipt_email": (0.3, 0.1),
}  # fmt: skip
_PRESETS: dict[str, dict[str, Any]] = {
    name: {
        **{k: v[i] for k, v in _DEPARTS.items()},
        "identification": {c: v[i] for c, v in _IDENTIFIED.items()},
        "keys": {k: v[i] for k, v in _KEY_RATES.items()},
    }
    for i, name in enumerate(("realistic", "hard"))
}


def as_noise(difficulty: Any) -> Noise:
    """A :class:`Noise` from a preset name or a Noise."""
    if isinstance(difficulty, Noise):
        return difficulty
    check_choice(difficulty, "difficulty", DIFFICULTIES)
    made: Noise = getattr(Noise, str(difficulty))()
    return made

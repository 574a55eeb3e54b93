"""The rules that cut touchpoints into visits and journeys, and map events to stages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import (
    check_bool,
    check_positive_int,
    check_text,
    duration,
    names,
    pairs,
    validator,
)
from omnijourney.errors import ConfigError
from omnijourney.model import Channel, ChannelKind

__all__ = ["DEFAULT_STAGES", "DEFAULT_STAGE_EVENTS", "JourneyRules", "StageMap"]

#: Default ordered stages of a journey.
DEFAULT_STAGES = ("awareness", "consideration", "intent", "purchase", "retention")

#: Default event -> stage map, covering common event names (extend it with your own).
DEFAULT_STAGE_EVENTS: dict[str, str] = {
    # awareness: the customer meets the brand or a campaign
    "impression": "awareness", "ad_view": "awareness", "ad_click": "awareness",
    "email_sent": "awareness", "email_open": "awareness", "email_click": "awareness",
    "sms_sent": "awareness", "sms_click": "awareness", "push_open": "awareness",
    "social_view": "awareness", "search_click": "awareness", "newsletter": "awareness",
    # consideration: the customer looks at products and asks
    "page_view": "consideration", "product_view": "consideration", "search": "consideration",
    "store_visit": "consideration", "chat_message": "consideration", "call": "consideration",
    "catalogue_request": "consideration", "compare": "consideration", "wishlist": "consideration",
    # intent: the customer prepares a purchase
    "add_to_cart": "intent", "checkout": "intent", "checkout_start": "intent",
    "quote_request": "intent", "reservation": "intent", "appointment": "intent",
    "form_submitted": "intent", "payment_failed": "intent", "signup": "intent",
    # purchase
    "purchase": "purchase", "order": "purchase", "quote_signed": "purchase",
    "subscription": "purchase",
    # retention: after the purchase
    "pickup": "retention", "delivery": "retention", "return": "retention", "review": "retention",
    "complaint": "retention", "complaint_answer": "retention", "welcome": "retention",
    "satisfaction_survey": "retention", "loyalty_signup": "retention", "repair": "retention",
}  # fmt: skip


def _stages(value: Iterable[Any]) -> tuple[str, ...]:
    if isinstance(value, str):  # one name, not a sequence of characters
        return (value,)
    try:
        out = tuple(value)
    except TypeError:
        out = (None,)
    if isinstance(value, Mapping) or not all(isinstance(s, str) for s in out):
        msg = f"The 'stages' parameter must be a sequence of stage names. Got {value!r} instead."
        raise ConfigError(msg)
    return tuple(str(s) for s in out)


def _stage_events(value: Any) -> tuple[tuple[str, Any], ...]:
    out = pairs(value, "events")
    for event, stage in out:
        if not isinstance(stage, str):
            msg = f"The 'events' parameter must map event names to stage names. Got {stage!r} for {event!r}."
            raise ConfigError(msg)
    return out


@attrs.frozen(kw_only=True)
class StageMap:
    """Ordered stages of a journey and the event that puts a journey in each.

    A journey's stage is the furthest stage its events reach. With ``retention_stage`` set,
    a journey that does not convert, of a customer who converted in an earlier journey, is
    labelled with that stage (post-purchase journeys of returning customers).

    Parameters
    ----------
    stages : sequence of str
        Stage names in order (default awareness, consideration, intent, purchase, retention).
    events : mapping of str -> str
        Event name -> stage name. Events not in the map reach no stage.
    retention_stage : str or None
        Stage for the non-converting journeys of returning customers; None turns it off.
    strict : bool
        If true, events of the data that the map does not know raise a ``DataError``.

    Examples
    --------
    >>> sm = StageMap(stages=("look", "buy"), events={"view": "look", "order": "buy"},
    ...               retention_stage=None)
    >>> sm.rank_of("order"), sm.rank_of("unknown")
    (1, -1)
    """

    stages: tuple[str, ...] = attrs.field(default=DEFAULT_STAGES, converter=_stages)
    events: tuple[tuple[str, str], ...] = attrs.field(
        default=DEFAULT_STAGE_EVENTS, converter=_stage_events
    )
    retention_stage: str | None = attrs.field(
        default="retention", validator=validator(check_text, optional=True)
    )
    strict: bool = attrs.field(default=False, validator=validator(check_bool))

    def __attrs_post_init__(self) -> None:
        if len(set(self.stages)) != len(self.stages) or not self.stages:
            msg = f"stages must be distinct names, got {self.stages!r}"
            raise ConfigError(msg)
        for event, stage in self.events:
            if stage not in self.stages:
                msg = (
                    f"StageMap: event {event!r} maps to unknown stage {stage!r}; "
                    f"stages are {self.stages}"
                )
                raise ConfigError(msg)
        if self.retention_stage is not None and self.retention_stage not in self.stages:
            if self.retention_stage == "retention":
                # the default label, with the user's own stages that have no retention stage
                object.__setattr__(self, "retention_stage", None)
            else:
                msg = f"retention_stage {self.retention_stage!r} is not one of {self.stages}"
                raise ConfigError(msg)

    def rank_of(self, event: str) -> int:
        """Rank of the stage an event reaches (-1 for events the map does not know)."""
        stage = dict(self.events).get(event)
        return -1 if stage is None else self.stages.index(stage)

    def ranks(self, event_labels: Iterable[str]) -> np.ndarray:
        """Stage rank for each event label (-1 when unknown)."""
        lookup = {e: self.stages.index(s) for e, s in self.events}
        return np.array([lookup.get(str(e), -1) for e in event_labels], dtype=np.int64)


def _channel_timeouts(value: Any) -> tuple[tuple[str, np.timedelta64], ...]:
    return tuple(
        (k, duration(v, f"channel_timeouts[{k!r}]")) for k, v in pairs(value, "channel_timeouts")
    )


def _visit_timeout(value: Any) -> np.timedelta64:
    return duration(value, "visit_timeout")


def _journey_timeout(value: Any) -> np.timedelta64 | None:
    return duration(value, "journey_timeout", optional=True)


def _max_duration(value: Any) -> np.timedelta64 | None:
    return duration(value, "max_duration", optional=True)


def _single_touch_channels(value: Any) -> frozenset[str] | None:
    return None if value is None else names(value, "single_touch_channels")


def _conversion_events(value: Any) -> frozenset[str]:
    return names(value, "conversion_events")


def _start_events(value: Any) -> frozenset[str]:
    return names(value, "start_events")


def _stage_map(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, StageMap):
        msg = f"The 'stages' parameter must be a StageMap. Got {value!r} instead."
        raise ConfigError(msg)


#: Channel kinds whose touchpoints are visits of their own by default.
SINGLE_TOUCH_KINDS = (
    ChannelKind.PHYSICAL,
    ChannelKind.ASSISTED,
    ChannelKind.MESSAGING,
    ChannelKind.MEDIA,
)


@attrs.frozen(kw_only=True)
class JourneyRules:
    """How touchpoints are cut into visits and journeys.

    A **visit** is an uninterrupted stretch of activity on one channel; a **journey** is the
    sequence of a customer's visits towards one goal, across channels.

    Parameters
    ----------
    visit_timeout : duration, default "30min"
        Inactivity that ends a visit (as web analytics do).
    channel_timeouts : mapping of channel -> duration, optional
        Per-channel visit timeouts (e.g. ``{"app": "5min"}``).
    single_touch_channels : collection of str, optional
        Channels whose touchpoints are each a visit of their own. Default: the channels of
        kind physical, assisted, messaging and media in the table's channel catalog (store,
        call centre, chat, email, SMS, social, display...); web, app and marketplace
        touchpoints group into visits by inactivity.
    journey_timeout : duration or None, default "14D"
        Inactivity that ends a journey; None never ends one by inactivity.
    timeout_inclusive : bool, default True
        Whether a gap exactly equal to a timeout ends the visit or journey (as Google
        Analytics' "inactive for 30 minutes or more"); False ends it only on longer gaps.
    conversion_events : collection of str, default purchase, order, quote_signed
        Events that count as conversions.
    end_at_conversion : bool, default True
        A conversion ends its journey and stays in it; the next touchpoint opens a new one.
    start_events : collection of str, optional
        Events that always open a new journey (e.g. ``"session_start"``, ``"signup"``).
    max_touchpoints : int, optional
        Longest journey, in touchpoints; the next touchpoint opens a new journey.
    max_duration : duration, optional
        Longest journey, in time from its first touchpoint; a touchpoint at or after
        ``start + max_duration`` opens a new journey.
    split_at_midnight : bool, default False
        Cut journeys (and visits) at local midnight in ``tz``.
    tz : str, default "UTC"
        Time zone of the midnight split.
    split_on_campaign_change : bool, default False
        A touchpoint whose non-null campaign differs from the customer's previous non-null
        campaign opens a new journey (as Universal Analytics did for sessions).
    stages : StageMap
        Event -> stage map.

    Notes
    -----
    When several rules cut at the same touchpoint, the journey's ``end_reason`` is the first
    of: customer change, conversion, timeout, start event, campaign change, midnight, maximum
    touchpoints, maximum duration.

    Examples
    --------
    >>> rules = JourneyRules(visit_timeout="20min", journey_timeout="7D", max_touchpoints=50)
    >>> rules.journey_timeout
    np.timedelta64(604800000000,'us')
    """

    visit_timeout: np.timedelta64 = attrs.field(default="30min", converter=_visit_timeout)
    channel_timeouts: tuple[tuple[str, np.timedelta64], ...] = attrs.field(
        default=(), converter=_channel_timeouts
    )
    single_touch_channels: frozenset[str] | None = attrs.field(
        default=None,
        converter=_single_touch_channels,
    )
    # attrs' stubs want a default of the field's type when the type is optional; the converter
    # reads the duration string
    journey_timeout: np.timedelta64 | None = attrs.field(  # type: ignore[assignment]
        default="14D", converter=_journey_timeout
    )
    timeout_inclusive: bool = attrs.field(default=True, validator=validator(check_bool))
    conversion_events: frozenset[str] = attrs.field(
        default=("purchase", "order", "quote_signed"),
        converter=_conversion_events,
    )
    end_at_conversion: bool = attrs.field(default=True, validator=validator(check_bool))
    start_events: frozenset[str] = attrs.field(default=(), converter=_start_events)
    max_touchpoints: int | None = attrs.field(
        default=None, validator=validator(check_positive_int, optional=True)
    )
    max_duration: np.timedelta64 | None = attrs.field(default=None, converter=_max_duration)
    split_at_midnight: bool = attrs.field(default=False, validator=validator(check_bool))
    tz: str = attrs.field(default="UTC", validator=validator(check_text))
    split_on_campaign_change: bool = attrs.field(default=False, validator=validator(check_bool))
    stages: StageMap = attrs.field(factory=StageMap, validator=_stage_map)

    def __attrs_post_init__(self) -> None:
        from omnijourney.time import _tzinfo

        _tzinfo(self.tz)  # raises ConfigError for unknown zones

    def single_touch(self, catalog: Iterable[Channel]) -> frozenset[str]:
        """Channel names whose touchpoints are visits of their own, given a channel catalog."""
        if self.single_touch_channels is not None:
            return self.single_touch_channels
        return frozenset(c.name for c in catalog if c.kind in SINGLE_TOUCH_KINDS)

    def visit_timeouts(self, channel_labels: Iterable[str]) -> np.ndarray:
        """Visit timeout in microseconds for each channel label."""
        per = dict(self.channel_timeouts)
        default = int(self.visit_timeout.astype(np.int64))
        return np.array(
            [int(per[c].astype(np.int64)) if c in per else default for c in channel_labels],
            dtype=np.int64,
        )

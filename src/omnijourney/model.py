"""The vocabulary of omnichannel data as small, frozen, validated records.

`Channel`, `Customer`, `Touchpoint` and `Journey` are the objects users read and write one at a
time; bulk data lives in the columnar tables of :mod:`omnijourney.tables`, which hand out these
records as views.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, Union

import attrs
import numpy as np

from omnijourney.errors import ConfigError

__all__ = [
    "DEFAULT_CHANNELS",
    "Channel",
    "ChannelKind",
    "Customer",
    "CustomerId",
    "Direction",
    "EndReason",
    "FrozenMap",
    "Initiator",
    "Journey",
    "Touchpoint",
    "channel_catalog",
]

#: A customer (or household, or record) identifier: a string or an integer.
CustomerId = Union[str, int]


class ChannelKind(str, enum.Enum):
    """What kind of channel a touchpoint happens on.

    ``digital`` (web site, app, social pages), ``physical`` (stores, showrooms), ``assisted`` (a
    person helps: call centre, chat, sales rep), ``messaging`` (email, SMS, push), ``media``
    (paid advertising: search, display, social ads), ``marketplace`` (third-party platforms),
    ``other``.
    """

    DIGITAL = "digital"
    PHYSICAL = "physical"
    ASSISTED = "assisted"
    MESSAGING = "messaging"
    MEDIA = "media"
    MARKETPLACE = "marketplace"
    OTHER = "other"


class Initiator(str, enum.Enum):
    """Who usually starts an interaction on a channel: the customer, the brand, or either."""

    CUSTOMER = "customer"
    BRAND = "brand"
    EITHER = "either"


class Direction(str, enum.Enum):
    """Direction of one touchpoint: ``inbound`` (customer to brand) or ``outbound``."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class EndReason(str, enum.Enum):
    """Why a journey ended; see :func:`omnijourney.sessionize`."""

    CUSTOMER_CHANGE = "customer_change"
    TIMEOUT = "timeout"
    CONVERSION = "conversion"
    MAX_TOUCHPOINTS = "max_touchpoints"
    MAX_DURATION = "max_duration"
    START_EVENT = "start_event"
    MIDNIGHT = "midnight"
    CAMPAIGN_CHANGE = "campaign_change"
    END_OF_DATA = "end_of_data"


# --------------------------------------------------------------------------- helpers

_SCALAR = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """Numpy scalars to the Python scalars they stand for (exact)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class FrozenMap(Mapping[str, Any]):
    """An immutable, hashable mapping of names to JSON scalars (str, int, float, bool, None).

    Used for identifiers and free attributes on records, so that records stay frozen and
    hashable.

    Examples
    --------
    >>> m = FrozenMap({"email": "ana@example.com", "tier": "gold"})
    >>> m["tier"], len(m), m == {"tier": "gold", "email": "ana@example.com"}
    ('gold', 2, True)
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        items = data.items() if isinstance(data, Mapping) else data
        clean: dict[str, Any] = {}
        for key, raw in items:
            value = _plain(raw)
            if not isinstance(key, str):
                msg = f"FrozenMap keys must be strings, got {key!r}"
                raise ConfigError(msg)
            if not isinstance(value, _SCALAR):
                msg = (
                    f"FrozenMap value for {key!r} must be a str, int, float, bool or None, "
                    f"got {type(value).__name__}"
                )
                raise ConfigError(msg)
            clean[key] = value
        self._data = dict(sorted(clean.items()))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _to_map(value: Any) -> FrozenMap:
    if isinstance(value, FrozenMap):
        return value
    if value is None:
        return FrozenMap()
    return FrozenMap(value)


def _to_utc(value: Any) -> _dt.datetime:
    """A time as an aware UTC datetime; naive datetimes are read as UTC."""
    if isinstance(value, np.datetime64):
        from omnijourney.time import as_datetime

        if np.isnat(value):
            msg = "a time is required, got NaT"
            raise ConfigError(msg)
        return as_datetime(value)
    if isinstance(value, str):
        from omnijourney.time import as_datetime, to_datetime64

        return as_datetime(to_datetime64(value))
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        value = value.astimezone(_dt.timezone.utc)
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
            value = value.to_pydatetime()
        return value
    msg = f"expected a datetime, a numpy.datetime64 or an ISO 8601 string, got {value!r}"
    raise ConfigError(msg)


def _to_opt_str(value: Any) -> str | None:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _to_id(value: Any) -> CustomerId:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        msg = f"an identifier must be a str or an int, got {value!r}"
        raise ConfigError(msg)
    return value


def _to_opt_id(value: Any) -> CustomerId | None:
    value = _plain(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return _to_id(value)


def _to_opt_float(value: Any) -> float | None:
    value = _plain(value)
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


_E = TypeVar("_E", bound=enum.Enum)


def _enum_member(cls: type[_E], value: Any) -> _E:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        msg = f"{cls.__name__} must be one of {allowed}, got {value!r}"
        raise ConfigError(msg) from None


def _to_channel_kind(value: Any) -> ChannelKind:
    return _enum_member(ChannelKind, value)


def _to_initiator(value: Any) -> Initiator:
    return _enum_member(Initiator, value)


def _to_end_reason(value: Any) -> EndReason:
    return _enum_member(EndReason, value)


def _to_opt_direction(value: Any) -> Direction | None:
    return None if value is None else _enum_member(Direction, value)


def _to_str_tuple(value: Iterable[Any]) -> tuple[str, ...]:
    if isinstance(value, str):  # one name, not a sequence of characters
        return (value,)
    return tuple(str(c) for c in value)


def _non_empty(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, str) and not value.strip():
        msg = f"{type(instance).__name__}.{attribute.name} must not be empty"
        raise ConfigError(msg)


def _fmt_time(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "")


# --------------------------------------------------------------------------- records


@attrs.frozen(kw_only=False)
class Channel:
    """A channel a customer and the brand meet on.

    Parameters
    ----------
    name : str
        Identifier used in touchpoint data (``"web"``, ``"store"``, ``"call_centre"``).
    kind : ChannelKind or str
        ``digital``, ``physical``, ``assisted``, ``messaging``, ``media``, ``marketplace`` or
        ``other``.
    initiator : Initiator or str
        Who usually starts interactions here: ``customer``, ``brand`` or ``either``.

    Examples
    --------
    >>> Channel("store", kind="physical")
    Channel(name='store', kind=physical, initiator=customer)
    """

    name: str = attrs.field(converter=str, validator=_non_empty)
    kind: ChannelKind = attrs.field(default=ChannelKind.OTHER, converter=_to_channel_kind)
    initiator: Initiator = attrs.field(default=Initiator.CUSTOMER, converter=_to_initiator)

    def __repr__(self) -> str:
        return (
            f"Channel(name={self.name!r}, kind={self.kind.value}, initiator={self.initiator.value})"
        )


#: Channels known by name, with their usual kind and initiator. Data may use other names;
#: those get kind ``other`` unless the caller describes them.
DEFAULT_CHANNELS: tuple[Channel, ...] = (
    Channel("web", ChannelKind.DIGITAL, Initiator.CUSTOMER),
    Channel("app", ChannelKind.DIGITAL, Initiator.CUSTOMER),
    Channel("store", ChannelKind.PHYSICAL, Initiator.CUSTOMER),
    Channel("call_centre", ChannelKind.ASSISTED, Initiator.EITHER),
    Channel("chat", ChannelKind.ASSISTED, Initiator.CUSTOMER),
    Channel("sales_rep", ChannelKind.ASSISTED, Initiator.BRAND),
    Channel("email", ChannelKind.MESSAGING, Initiator.BRAND),
    Channel("sms", ChannelKind.MESSAGING, Initiator.BRAND),
    Channel("push", ChannelKind.MESSAGING, Initiator.BRAND),
    Channel("mail", ChannelKind.MESSAGING, Initiator.BRAND),
    Channel("social", ChannelKind.MEDIA, Initiator.EITHER),
    Channel("search", ChannelKind.MEDIA, Initiator.CUSTOMER),
    Channel("display", ChannelKind.MEDIA, Initiator.BRAND),
    Channel("affiliate", ChannelKind.MEDIA, Initiator.BRAND),
    Channel("marketplace", ChannelKind.MARKETPLACE, Initiator.CUSTOMER),
    Channel("direct", ChannelKind.DIGITAL, Initiator.CUSTOMER),
)


def channel_catalog(
    names: Iterable[str],
    channels: Iterable[Channel] | Mapping[str, str | ChannelKind | Channel] | None = None,
) -> tuple[Channel, ...]:
    """Describe every channel name in ``names``.

    ``channels`` (a list of :class:`Channel`, or a mapping of name -> kind) wins over
    :data:`DEFAULT_CHANNELS`; unknown names get kind ``other``.

    Raises
    ------
    ConfigError
        If a given kind is not a :class:`ChannelKind`.

    Examples
    --------
    >>> [c.kind.value for c in channel_catalog(["web", "kiosk"], {"kiosk": "physical"})]
    ['digital', 'physical']
    """
    known = {c.name: c for c in DEFAULT_CHANNELS}
    if channels is not None:
        if isinstance(channels, Mapping):
            for name, spec in channels.items():
                if isinstance(spec, Channel):
                    known[str(name)] = spec
                else:
                    default = known.get(str(name))
                    initiator = default.initiator if default else Initiator.CUSTOMER
                    known[str(name)] = Channel(str(name), spec, initiator)
        else:
            for ch in channels:
                if not isinstance(ch, Channel):
                    msg = f"channels must be Channel objects or a mapping name -> kind, got {ch!r}"
                    raise ConfigError(msg)
                known[ch.name] = ch
    return tuple(known.get(str(n), Channel(str(n), ChannelKind.OTHER)) for n in names)


@attrs.frozen(kw_only=True)
class Customer:
    """A customer as the business knows them: one person, with a household and identifiers.

    Parameters
    ----------
    id : str or int
        The customer (person) identifier.
    household_id : str or int, optional
        The household the person belongs to.
    identifiers : mapping, optional
        Identifiers known for the person in source systems (``{"email": ..., "loyalty": ...}``).
    attributes : mapping, optional
        Other attributes (segment, city, opt-ins), JSON scalars only.

    Examples
    --------
    >>> Customer(id="P1", household_id="H1", identifiers={"email": "ana@example.com"})
    Customer(id='P1', household_id='H1', identifiers={'email': 'ana@example.com'})
    """

    id: CustomerId = attrs.field(converter=_to_id, validator=_non_empty)
    household_id: CustomerId | None = attrs.field(default=None, converter=_to_opt_id)
    identifiers: FrozenMap = attrs.field(factory=FrozenMap, converter=_to_map)
    attributes: FrozenMap = attrs.field(factory=FrozenMap, converter=_to_map)

    def __repr__(self) -> str:
        parts = [f"id={self.id!r}"]
        if self.household_id is not None:
            parts.append(f"household_id={self.household_id!r}")
        if self.identifiers:
            parts.append(f"identifiers={dict(self.identifiers)!r}")
        if self.attributes:
            parts.append(f"attributes={dict(self.attributes)!r}")
        return f"Customer({', '.join(parts)})"


@attrs.frozen(kw_only=True)
class Touchpoint:
    """One interaction between a customer and the brand on one channel.

    Parameters
    ----------
    customer : str or int
        Who.
    time : datetime
        When; stored as an aware UTC datetime (naive input is read as UTC).
    channel : str
        Where (a channel name, see :class:`Channel`).
    event : str
        What happened (``"product_view"``, ``"add_to_cart"``, ``"purchase"``...).
    value : float, optional
        Money involved (order amount, quote amount), in ``currency``.
    currency : str, optional
        ISO 4217 code of ``value``.
    direction : Direction, optional
        ``inbound`` (customer to brand) or ``outbound`` (brand to customer).
    source : str, optional
        The system that recorded it (``"ecommerce"``, ``"till"``, ``"crm"``).
    order_id, quote_id, cart_id, reservation_id : str, optional
        Reference ids that link steps across channels.
    campaign : str, optional
        Campaign or traffic source.
    sequence : int, optional
        A user ordering key (a log offset) that breaks ties on time.
    attributes : mapping, optional
        Other columns (store, sales team, sku...), JSON scalars only.

    Examples
    --------
    >>> Touchpoint(customer="C1", time="2024-05-01T10:00:00Z", channel="web", event="add_to_cart",
    ...            cart_id="K9")
    Touchpoint(C1 @ 2024-05-01 10:00:00 UTC, web/add_to_cart, cart_id='K9')
    """

    customer: CustomerId = attrs.field(converter=_to_id, validator=_non_empty)
    time: _dt.datetime = attrs.field(converter=_to_utc)
    channel: str = attrs.field(converter=str, validator=_non_empty)
    event: str = attrs.field(converter=str, validator=_non_empty)
    value: float | None = attrs.field(default=None, converter=_to_opt_float)
    currency: str | None = attrs.field(default=None, converter=_to_opt_str)
    direction: Direction | None = attrs.field(default=None, converter=_to_opt_direction)
    source: str | None = attrs.field(default=None, converter=_to_opt_str)
    order_id: str | None = attrs.field(default=None, converter=_to_opt_str)
    quote_id: str | None = attrs.field(default=None, converter=_to_opt_str)
    cart_id: str | None = attrs.field(default=None, converter=_to_opt_str)
    reservation_id: str | None = attrs.field(default=None, converter=_to_opt_str)
    campaign: str | None = attrs.field(default=None, converter=_to_opt_str)
    sequence: int | None = attrs.field(default=None, converter=attrs.converters.optional(int))
    attributes: FrozenMap = attrs.field(factory=FrozenMap, converter=_to_map)

    def __repr__(self) -> str:
        extra = []
        if self.value is not None:
            extra.append(f"value={self.value!r}" + (f" {self.currency}" if self.currency else ""))
        if self.direction is not None:
            extra.append(self.direction.value)
        for name in ("order_id", "quote_id", "cart_id", "reservation_id", "campaign", "source"):
            v = getattr(self, name)
            if v is not None:
                extra.append(f"{name}={v!r}")
        if self.sequence is not None:
            extra.append(f"sequence={self.sequence}")
        if self.attributes:
            extra.append(f"attributes={dict(self.attributes)!r}")
        tail = "".join(f", {e}" for e in extra)
        return (
            f"Touchpoint({self.customer} @ {_fmt_time(self.time)} UTC, "
            f"{self.channel}/{self.event}{tail})"
        )


def _check_journey(instance: Journey, attribute: attrs.Attribute, value: Any) -> None:
    if instance.end < instance.start:
        msg = f"Journey {instance.journey_id}: end {instance.end} is before start {instance.start}"
        raise ConfigError(msg)
    previous = None
    for tp in instance.touchpoints:
        if tp.customer != instance.customer:
            msg = (
                f"Journey {instance.journey_id} of customer {instance.customer!r} holds a "
                f"touchpoint of customer {tp.customer!r}"
            )
            raise ConfigError(msg)
        if previous is not None and tp.time < previous:
            msg = f"Journey {instance.journey_id}: touchpoints are not in time order"
            raise ConfigError(msg)
        if not instance.start <= tp.time <= instance.end:
            msg = (
                f"Journey {instance.journey_id}: touchpoint at {tp.time} lies outside "
                f"[{instance.start}, {instance.end}]"
            )
            raise ConfigError(msg)
        previous = tp.time


@attrs.frozen(kw_only=True)
class Journey:
    """A customer's ordered touchpoints towards one goal, across channels.

    Built by :func:`omnijourney.sessionize`; ``touchpoints`` may be empty when only the summary
    is wanted.

    Parameters
    ----------
    journey_id : int
        Position of the journey in its :class:`~omnijourney.journeys.JourneyTable`.
    customer : str or int
    start, end : datetime
        Times of the first and last touchpoints (aware, UTC).
    n_touchpoints : int
    channels : tuple of str
        Channels used, in order of first use.
    converted : bool
        Whether a conversion event happened in the journey.
    value : float
        Sum of conversion values.
    stage : str, optional
        Furthest stage reached.
    end_reason : EndReason
    touchpoints : tuple of Touchpoint
    """

    journey_id: int = attrs.field(converter=int)
    customer: CustomerId = attrs.field(converter=_to_id)
    start: _dt.datetime = attrs.field(converter=_to_utc)
    end: _dt.datetime = attrs.field(converter=_to_utc)
    n_touchpoints: int = attrs.field(converter=int, validator=attrs.validators.ge(0))
    channels: tuple[str, ...] = attrs.field(converter=_to_str_tuple)
    converted: bool = attrs.field(converter=bool)
    value: float = attrs.field(default=0.0, converter=float)
    stage: str | None = attrs.field(default=None, converter=_to_opt_str)
    end_reason: EndReason = attrs.field(default=EndReason.END_OF_DATA, converter=_to_end_reason)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(
        default=(), converter=tuple, validator=_check_journey
    )

    @property
    def duration(self) -> _dt.timedelta:
        """Time from the first to the last touchpoint."""
        return self.end - self.start

    def __repr__(self) -> str:
        status = "converted" if self.converted else "not converted"
        stage = f", stage={self.stage}" if self.stage else ""
        return (
            f"Journey(#{self.journey_id} {self.customer}: {_fmt_time(self.start)} -> "
            f"{_fmt_time(self.end)}, {self.n_touchpoints} touchpoints via "
            f"{' > '.join(self.channels) or '-'}, {status}{stage}, ended by "
            f"{self.end_reason.value})"
        )

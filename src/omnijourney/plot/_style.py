"""What every figure shares for people to read it: one colour per channel, and labels in words.

A channel's colour depends on its name only (never on the other channels of a figure), so that
web is the same blue in the Sankey diagram, the timeline, the credit bars and the price lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from omnijourney.errors import ConfigError
from omnijourney.model import DEFAULT_CHANNELS, ChannelKind

__all__ = [
    "DEFAULT_PALETTE",
    "ChannelPalette",
    "get_palette",
    "readable",
    "set_palette",
]

# Hue families by kind (digital blues, physical oranges, assisted purples, messaging browns,
# media pinks, marketplace teal), so that channels of a kind look related; green and grey are
# kept for converted and not converted.
_KIND_COLORS: dict[str, str] = {
    "digital": "#1f6fb4",
    "physical": "#e8710a",
    "assisted": "#7b5ea7",
    "messaging": "#a6761d",
    "media": "#d6479c",
    "marketplace": "#138d90",
    "other": "#6f6f6f",
}
_CHANNEL_COLORS: dict[str, str] = {
    "web": "#1f6fb4",
    "app": "#5fa8e0",
    "direct": "#0b3d6e",
    "store": "#e8710a",
    "call_centre": "#7b5ea7",
    "chat": "#b19cd9",
    "sales_rep": "#4b2e83",
    "email": "#a6761d",
    "sms": "#d4a94a",
    "push": "#6b4a10",
    "mail": "#e6c98f",
    "social": "#d6479c",
    "search": "#9c1f66",
    "display": "#f19ccb",
    "affiliate": "#5c0f3c",
    "marketplace": "#138d90",
}
# lighter and darker variants of a kind's colour, for channels of that kind without their own
SHADES = (0.0, 0.35, -0.3, 0.6, -0.5, 0.15, -0.15, 0.75)


def _rgb(color: Any) -> tuple[float, float, float]:
    from omnijourney.plot._common import mpl

    r, g, b, _ = mpl().colors.to_rgba(color)
    return float(r), float(g), float(b)


def shade(color: str, amount: float) -> str:
    """``color`` mixed with white (``amount`` > 0) or black (< 0), as ``#rrggbb``."""
    r, g, b = _rgb(color)
    if amount >= 0:
        mixed = [c + (1.0 - c) * amount for c in (r, g, b)]
    else:
        mixed = [c * (1.0 + amount) for c in (r, g, b)]
    return "#" + "".join(f"{round(255 * min(max(c, 0.0), 1.0)):02x}" for c in mixed)


def _mapping(value: Any, name: str, what: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = (
            f"The '{name}' parameter of ChannelPalette must be a mapping of {what}. "
            f"Got {value!r} instead."
        )
        raise ConfigError(msg)
    return value


def _colors(value: Any) -> dict[str, Any]:
    given = _mapping(value, "channels", "name -> colour")
    return {str(getattr(k, "value", k)): v for k, v in given.items()}


def _kind_colors(value: Any) -> dict[str, Any]:
    given = _mapping(value, "kinds", "channel kind -> colour")
    return {str(getattr(k, "value", k)): v for k, v in given.items()}


def _kinds_of(value: Any) -> dict[str, str]:
    out = {}
    for name, kind in _mapping(value, "catalog", "channel -> kind").items():
        try:
            out[str(name)] = ChannelKind(getattr(kind, "value", kind)).value
        except ValueError:
            kinds = [k.value for k in ChannelKind]
            msg = (
                f"The 'catalog' parameter of ChannelPalette must map channels to kinds "
                f"({kinds}). Got {name!r}: {kind!r} instead."
            )
            raise ConfigError(msg) from None
    return out


def _check_kind_names(instance: Any, attribute: Any, value: dict[str, Any]) -> None:
    unknown = sorted(set(value) - {k.value for k in ChannelKind})
    if unknown:
        kinds = [k.value for k in ChannelKind]
        msg = (
            f"The 'kinds' parameter of ChannelPalette must map channel kinds ({kinds}) to "
            f"colours. Got {unknown} instead."
        )
        raise ConfigError(msg)


@attrs.frozen(kw_only=True)
class ChannelPalette:
    """The colour of each channel in every figure, set per channel or per channel kind.

    A channel's colour is, in this order: its own entry in ``channels``; a shade of its
    kind's colour when ``kinds`` sets that kind (the first channel of a kind takes the colour
    itself, the next ones lighter or darker variants); the default colour of the usual
    channels (:data:`~omnijourney.model.DEFAULT_CHANNELS`: digital channels blue, stores
    orange, assisted ones purple, messaging brown, media pink); else a grey chosen from the
    name. The colour depends on the name only, never on the other channels drawn, so a
    channel keeps its colour from one figure to the next.

    Parameters
    ----------
    channels : mapping, optional
        Channel name -> matplotlib colour (``{"web": "tab:blue"}``).
    kinds : mapping, optional
        Channel kind (``"digital"``, ``"physical"``, ``"assisted"``, ``"messaging"``,
        ``"media"``, ``"marketplace"``, ``"other"``) -> colour of its channels.
    catalog : mapping, optional
        Channel name -> kind, for the user's own channels (``{"kiosk": "physical"}``); the
        usual channels have their kind already.
    converted, not_converted : matplotlib colour
        Colours of conversions and of journeys that did not convert.

    Examples
    --------
    >>> import omnijourney.plot as plot
    >>> plot.DEFAULT_PALETTE.color("web")
    '#1f6fb4'
    >>> mine = plot.ChannelPalette(channels={"web": "black"}, kinds={"physical": "#ff0000"},
    ...                            catalog={"kiosk": "physical"})
    >>> mine.color("web"), mine.color("store"), mine.color("kiosk")
    ('black', '#ff0000', '#ff5959')
    """

    channels: dict[str, Any] = attrs.field(factory=dict, converter=_colors)
    kinds: dict[str, Any] = attrs.field(
        factory=dict, converter=_kind_colors, validator=_check_kind_names
    )
    catalog: dict[str, str] = attrs.field(factory=dict, converter=_kinds_of)
    converted: Any = "#2e7d32"
    not_converted: Any = "#9e9e9e"

    def kind_of(self, channel: str) -> str:
        """The kind of ``channel``: the catalog's, the usual channels', else ``"other"``."""
        if channel in self.catalog:
            return self.catalog[channel]
        return _DEFAULT_KIND.get(channel, "other")

    def kind_color(self, kind: str | ChannelKind) -> Any:
        """The colour of a channel kind (used by figures of kinds, such as appetence)."""
        name = str(getattr(kind, "value", kind))
        return self.kinds.get(name, _KIND_COLORS.get(name, _KIND_COLORS["other"]))

    def color(self, channel: Any) -> Any:
        """The colour of one channel."""
        name = str(channel)
        if name in self.channels:
            return self.channels[name]
        kind = self.kind_of(name)
        if kind in self.kinds:
            same = [c for c in _KIND_ORDER if self.kind_of(c) == kind]
            same += sorted(c for c, k in self.catalog.items() if k == kind and c not in same)
            index = same.index(name) if name in same else _stable(name)
            return shade(str(self.kinds[kind]), SHADES[index % len(SHADES)])
        if name in _CHANNEL_COLORS and name not in self.catalog:
            return _CHANNEL_COLORS[name]
        base = _KIND_COLORS[kind]
        return shade(base, SHADES[_stable(name) % len(SHADES)])

    def colors(self, channels: Iterable[Any]) -> dict[Any, Any]:
        """``channel -> colour`` for each of ``channels``."""
        return {c: self.color(c) for c in channels}


def _stable(name: str) -> int:
    """A number from the name alone (the same in every process, unlike ``hash``)."""
    return zlib.crc32(name.encode("utf-8"))


_DEFAULT_KIND = {c.name: c.kind.value for c in DEFAULT_CHANNELS}
_KIND_ORDER = tuple(c.name for c in DEFAULT_CHANNELS)

#: The palette of every figure unless another is given or set with :func:`set_palette`.
DEFAULT_PALETTE = ChannelPalette()

_current: list[ChannelPalette] = [DEFAULT_PALETTE]


def get_palette() -> ChannelPalette:
    """The palette figures use when none is given (:data:`DEFAULT_PALETTE` unless set)."""
    return _current[0]


def set_palette(palette: ChannelPalette | Mapping[str, Any] | None) -> ChannelPalette:
    """Use ``palette`` in every figure drawn from now on that is given none; returns the
    previous one (to set it back). None restores :data:`DEFAULT_PALETTE`.

    A mapping is read as per-channel colours (``{"web": "black"}``) over the default palette.

    Examples
    --------
    >>> import omnijourney.plot as plot
    >>> previous = plot.set_palette({"web": "black"})
    >>> plot.get_palette().color("web")
    'black'
    >>> _ = plot.set_palette(previous)
    """
    previous = _current[0]
    _current[0] = as_palette(palette, "set_palette")
    return previous


def as_palette(value: Any, who: str, colors: Mapping[Any, Any] | None = None) -> ChannelPalette:
    """The palette a figure uses: ``value`` (a palette, a mapping or None for the current
    one), with the figure's own ``colors`` mapping over it."""
    if value is None:
        found = _current[0] if who != "set_palette" else DEFAULT_PALETTE
    elif isinstance(value, ChannelPalette):
        found = value
    elif isinstance(value, Mapping):
        found = attrs.evolve(DEFAULT_PALETTE, channels=value)
    else:
        msg = (
            f"{who}: palette must be a ChannelPalette, a mapping of channel -> colour or None, "
            f"got {type(value).__name__}"
        )
        raise ConfigError(msg)
    if colors:
        found = attrs.evolve(found, channels={**found.channels, **_colors(colors)})
    return found


# --------------------------------------------------------------------------- labels

_WORDS: dict[str, str] = {
    "call_centre": "call centre",
    "sales_rep": "sales rep",
    "sms": "SMS",
    "price_gap": "price differs between channels",
    "channel_pair_gap": "price gap between two channels",
    "overlapping_prices": "two prices at once",
    "coverage_hole": "no price",
    "stale_price": "price not updated",
    "below_map": "below the minimum advertised price",
    "promotion_without_price": "promotion without a price",
    "promo_not_mirrored": "promotion missing on a channel",
    "promo_not_applied": "promotion not applied",
    "promo_not_below_regular": "promotion not below the regular price",
    "promo_not_below_prior": "promotion not below the 30-day prior price",
    "prior_price_reference": "wrong 30-day prior price shown",
    "prior_price_percentage": "discount not computed on the 30-day prior price",
    "prior_price_short_history": "prior price over a short history",
    "overlapping_promotions": "overlapping promotions",
    "stock_shown_unavailable": "shown in stock but unavailable",
    "negative_stock": "negative stock",
    "impossible_stock": "impossible stock",
    "stock_mismatch": "stock differs between channels",
    "not_converted": "not converted",
    "(start)": "start",
    "(conversion)": "conversion",
    "(null)": "no conversion",
}


def readable(label: Any) -> str:
    """A label as words for a figure: ``"call_centre"`` -> ``"call centre"``,
    ``"order | purchase"`` -> ``"order or purchase"``, ``"web:product_view"`` ->
    ``"web: product view"``, audit rule names -> what they mean.

    Examples
    --------
    >>> from omnijourney.plot import readable
    >>> readable("overlapping_promotions"), readable("order | purchase")
    ('overlapping promotions', 'order or purchase')
    >>> readable("call_centre:add_to_cart")
    'call centre: add to cart'
    """
    text = str(label)
    if text in _WORDS:
        return _WORDS[text]
    if " | " in text:
        return " or ".join(readable(part) for part in text.split(" | "))
    if ":" in text and not text.startswith("("):
        head, _, tail = text.partition(":")
        return f"{readable(head)}: {readable(tail)}"
    return text.replace("_", " ")


def label_of(raw: bool) -> Any:
    """The function that writes a figure's labels: :func:`readable`, or ``str`` when the raw
    ids are asked for."""
    if not isinstance(raw, (bool,)):
        msg = f"The 'raw_labels' parameter must be a bool. Got {raw!r} instead."
        raise ConfigError(msg)
    return str if raw else readable

"""The pricing policy: which channels must agree, tolerances, the prior-price rule and its options.

:class:`Policy` gathers every choice an audit depends on, with defaults that follow the EU rules
(Directive 98/6/EC art. 6a as inserted by Directive (EU) 2019/2161) and common retail practice;
:meth:`Policy.eu` and :meth:`Policy.france` are the jurisdiction profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import (
    check_choice,
    check_text,
    duration,
    names,
    number,
    pairs,
    validator,
)
from omnijourney.errors import ConfigError

__all__ = [
    "DEFAULT_RULES",
    "RULES",
    "Policy",
    "Tolerance",
]

#: Every rule an audit knows, in the order findings are reported.
RULES = (
    "price_gap",
    "channel_pair_gap",
    "overlapping_prices",
    "coverage_hole",
    "stale_price",
    "below_map",
    "promotion_without_price",
    "promo_not_mirrored",
    "promo_not_applied",
    "promo_not_below_regular",
    "promo_not_below_prior",
    "prior_price_reference",
    "prior_price_percentage",
    "prior_price_short_history",
    "overlapping_promotions",
    "stock_shown_unavailable",
    "negative_stock",
    "impossible_stock",
    "stock_mismatch",
)

#: Rules checked unless a policy says otherwise (all but the three opt-in ones).
DEFAULT_RULES = frozenset(RULES) - {
    "promo_not_applied",
    "promo_not_below_prior",
    "prior_price_short_history",
}

SEVERITIES = ("high", "medium", "low")

_PRIOR_EU = "Directive 98/6/EC art. 6a(1)-(2), inserted by Directive (EU) 2019/2161"
_PRIOR_FR = "Code de la consommation art. L112-1-1; Directive 98/6/EC art. 6a"
_UCPD_PRICE = "Directive 2005/29/EC art. 6(1)(d) (misleading price advantage)"

# rule -> (default severity, reference, what expected/actual measure)
_RULE_INFO: dict[str, tuple[str, str, str]] = {
    "price_gap": ("medium", "Policy: same price on the channels of a same-price group", "price"),
    "channel_pair_gap": ("medium", "Policy: price band between two channels", "price"),
    "overlapping_prices": ("high", "Data: one price per series at a time", "price"),
    "coverage_hole": ("medium", "Policy: a valid price whenever a product is sold", "days"),
    "stale_price": ("low", "Policy: prices re-confirmed by the source system", "days"),
    "below_map": (
        "low",
        "Supplier minimum advertised price (in the EU, check it is lawful: a minimum resale "
        "price is a hardcore restriction, Regulation (EU) 2022/720 art. 4(a))",
        "price",
    ),
    "promotion_without_price": ("medium", "Data: a promotion needs a price series", "price"),
    "promo_not_mirrored": ("medium", "Policy: promotions mirrored across channels", "price"),
    "promo_not_applied": ("high", _UCPD_PRICE, "price"),
    "promo_not_below_regular": ("high", _UCPD_PRICE, "price"),
    "promo_not_below_prior": ("high", f"{_PRIOR_EU}; {_UCPD_PRICE}", "price"),
    "prior_price_reference": ("high", _PRIOR_EU, "price"),
    "prior_price_percentage": (
        "high",
        "CJEU C-330/23 Aldi Süd (26 Sep 2024); Directive 98/6/EC art. 6a",
        "percent",
    ),
    "prior_price_short_history": ("low", "Directive 98/6/EC art. 6a(4)", "days"),
    "overlapping_promotions": ("medium", "Policy: promotion stacking rules", "days"),
    "stock_shown_unavailable": (
        "medium",
        "Directive 2005/29/EC art. 6(1)(b) (availability of the product)",
        "quantity",
    ),
    "negative_stock": ("low", "Data: stock quantities are not negative", "quantity"),
    "impossible_stock": ("low", "Data: stock quantities within the policy's maximum", "quantity"),
    "stock_mismatch": ("medium", "Policy: stock consistent between channels", "quantity"),
}


def _fail(name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"The {name!r} parameter must be {expected}. Got {value!r} instead.")


def _amount(value: Any) -> float:
    return number(value, "amount", minimum=0)


def _pct(value: Any) -> float:
    return number(value, "pct", minimum=0)


@attrs.frozen(kw_only=True)
class Tolerance:
    """How far two prices (or quantities) may differ: ``max(pct % of the reference, amount)``.

    Parameters
    ----------
    amount : float, default 0.05
        Absolute tolerance, in the currency (or in units for stock).
    pct : float, default 1.0
        Relative tolerance, in percent of the reference value.

    Examples
    --------
    >>> Tolerance(amount=0.05, pct=1.0).limit(np.array([2.0, 20.0]))
    array([0.05, 0.2 ])
    """

    amount: float = attrs.field(default=0.05, converter=_amount)
    pct: float = attrs.field(default=1.0, converter=_pct)

    def limit(self, reference: Any) -> np.ndarray:
        """The largest allowed difference from ``reference`` (array in, array out)."""
        ref = np.abs(np.asarray(reference, dtype=np.float64))
        return np.maximum((self.pct / 100.0) * ref, self.amount)


def _as_tolerance(value: Any, name: str) -> Tolerance:
    if isinstance(value, Tolerance):
        return value
    expected = "a Tolerance, a mapping such as {'amount': 0.05, 'pct': 1} or an (amount, pct) pair"
    try:
        if isinstance(value, Mapping):
            return Tolerance(**value)
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return Tolerance(amount=value[0], pct=value[1])
    except (ConfigError, TypeError) as exc:  # TypeError: a key that is not amount or pct
        msg = f"The {name!r} parameter is not a valid tolerance ({exc}). Got {value!r} instead."
        raise ConfigError(msg) from None
    raise _fail(name, expected, value)


def _collection(value: Any, name: str, expected: str) -> list[Any]:
    """The items of a collection parameter (None: none); a string or a scalar is refused."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        raise _fail(name, expected, value)
    try:
        return list(value)
    except TypeError:
        raise _fail(name, expected, value) from None


def _groups(value: Any) -> tuple[tuple[str, ...], ...]:
    name, expected = "same_price_groups", "a collection of groups of channel names"
    if isinstance(value, str):
        value = [[value]]
    groups = tuple(
        tuple(sorted(names(g, name, allow_none=False))) for g in _collection(value, name, expected)
    )
    seen: dict[str, int] = {}
    for i, g in enumerate(groups):
        if not g:
            raise _fail(name, f"{expected}, none of them empty", value)
        for c in g:
            if c in seen:
                msg = (
                    f"The {name!r} parameter puts channel {c!r} in two same-price groups; a "
                    "channel may be in one only."
                )
                raise ConfigError(msg)
            seen[c] = i
    return tuple(sorted(groups))


def _channel_tolerances(value: Any) -> tuple[tuple[str, Tolerance], ...]:
    name = "channel_tolerances"
    return tuple((k, _as_tolerance(v, f"{name}[{k!r}]")) for k, v in pairs(value, name))


def _channel_pairs(value: Any) -> tuple[tuple[str, str, Tolerance], ...]:
    name, expected = "channel_pairs", "a collection of (reference, channel[, tolerance])"
    out = []
    for item in _collection(value, name, expected):
        if isinstance(item, str):
            raise _fail(name, expected, value)
        try:
            ref, other, *rest = item
        except (TypeError, ValueError):
            raise _fail(name, expected, value) from None
        if not (isinstance(ref, str) and isinstance(other, str)) or len(rest) > 1:
            raise _fail(name, expected, value)
        tol = _as_tolerance(rest[0], name) if rest else Tolerance()
        out.append((ref, other, tol))
    return tuple(sorted(out, key=lambda x: (x[0], x[1])))


def _name_pair(item: Any, name: str, expected: str, value: Any) -> tuple[str, str]:
    if isinstance(item, str):
        raise _fail(name, expected, value)
    pair = tuple(sorted(names(item, name, allow_none=False))) if item is not None else ()
    if len(pair) == 1 and len(list(item)) == 2:  # two equal names
        pair = (pair[0], pair[0])
    if len(pair) != 2:
        raise _fail(name, expected, value)
    return pair[0], pair[1]


def _stacking(value: Any) -> tuple[tuple[str, str], ...]:
    name, expected = "stacking", "a collection of (type, type) pairs"
    return tuple(
        sorted({_name_pair(i, name, expected, value) for i in _collection(value, name, expected)})
    )


def _stale_after(value: Any) -> tuple[tuple[str, np.timedelta64], ...]:
    name = "stale_after"
    return tuple((k, duration(v, f"{name}[{k!r}]")) for k, v in pairs(value, name))


def _money_pairs(value: Any, name: str) -> tuple[tuple[str, float], ...]:
    out = []
    for k, v in pairs(value, name):
        out.append((k, number(v, f"{name}[{k!r}]", minimum=0, low_open=True)))
    return tuple(out)


def _severities(value: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for rule, sev in pairs(value, "severities"):
        check_choice(rule, "severities", RULES)
        check_choice(sev, f"severities[{rule!r}]", SEVERITIES)
        out.append((rule, str(sev)))
    return tuple(out)


def _rules(value: Any) -> frozenset[str]:
    found = names(value, "rules", allow_none=False)
    unknown = sorted(found - set(RULES))
    if unknown:
        msg = f"The 'rules' parameter names unknown rules {unknown}; rules are {list(RULES)}."
        raise ConfigError(msg)
    return found


def _stock_channels(value: Any) -> tuple[str, str]:
    name, expected = "stock_channels", "(online channel, store channel)"
    items = _collection(value, name, expected)
    if len(items) != 2 or not all(isinstance(v, str) for v in items):
        raise _fail(name, expected, value)
    return items[0], items[1]


def _choice(choices: tuple[str, ...]) -> Any:
    return validator(check_choice, choices)


# one converter per field (the attrs plugin of mypy reads named functions only)


def _tolerance(value: Any) -> Tolerance:
    return _as_tolerance(value, "tolerance")


def _stock_tolerance(value: Any) -> Tolerance:
    return _as_tolerance(value, "stock_tolerance")


def _mirror_channels(value: Any) -> frozenset[str]:
    return names(value, "mirror_channels", allow_none=False)


def _prior_audiences(value: Any) -> frozenset[str]:
    return names(value, "prior_audiences", allow_none=False)


def _online_locations(value: Any) -> frozenset[str]:
    return names(value, "online_locations", allow_none=False)


def _stale_after_default(value: Any) -> np.timedelta64:
    return duration(value, "stale_after_default")


def _prior_window(value: Any) -> np.timedelta64:
    return duration(value, "prior_window")


def _stock_interval(value: Any) -> np.timedelta64:
    return duration(value, "stock_interval")


def _map_floors(value: Any) -> tuple[tuple[str, float], ...]:
    return _money_pairs(value, "map_floors")


def _currency_rates(value: Any) -> tuple[tuple[str, float], ...]:
    return _money_pairs(value, "currency_rates")


def _price_tolerance(value: Any) -> float:
    return number(value, "price_tolerance", minimum=0)


def _percentage_tolerance(value: Any) -> float:
    return number(value, "percentage_tolerance", minimum=0)


def _max_stock(value: Any) -> float | None:
    return number(value, "max_stock", minimum=0, low_open=True, optional=True)


@attrs.frozen(kw_only=True)
class Policy:
    """What an audit checks and how: channel groups, tolerances, the prior-price rule, stock.

    Every parameter has a default; the defaults are the EU profile (:meth:`eu`).

    Parameters
    ----------
    jurisdiction : str, default "EU"
        Label of the legal profile; ``"FR"`` cites the French Code de la consommation.
    same_price_groups : sequence of sequence of str, default (("web", "app", "store", "call_centre"),)
        Channels whose public regular prices must be the same (each store location counts as
        one member). Channels in no group (a marketplace, say) may differ.
    tolerance : Tolerance, default Tolerance(amount=0.05, pct=1.0)
        How far a member's regular price may be from the median of its group.
    channel_tolerances : mapping of channel -> Tolerance, optional
        Per-channel overrides of ``tolerance``.
    channel_pairs : sequence of (reference, channel, Tolerance), optional
        Bands between channels outside a group: each series of ``channel`` is compared with the
        median regular price of ``reference`` (rule ``channel_pair_gap``), e.g.
        ``[("web", "marketplace", Tolerance(amount=0, pct=15))]``.
    mirror_channels : collection of str, default web, app, store, call_centre
        A public promotion present on one of these channels must be on all of them (at every
        location of the sku), unless flagged ``exclusive``.
    stacking : sequence of (type, type), optional
        Pairs of promotion types (``stack_type``, else the mechanic) that may overlap; two
        promotions also may when both are flagged ``stackable``.
    stale_after : mapping of channel -> duration, default {"store": "7D"}
        How old the last confirmation of a price may be when it stops being current.
    stale_after_default : duration, default "2D"
        The same, for channels not in ``stale_after``.
    map_floors : mapping of sku -> float, optional
        Minimum advertised prices (rule ``below_map``). Empty by default: in the EU a minimum
        resale price imposed by a supplier is a hardcore restriction (Regulation (EU)
        2022/720 art. 4(a)); use it only for floors you may lawfully apply.
    prior_window : duration, default "30D"
        The period before a reduction over which the prior price is the lowest price applied
        (Directive 98/6/EC art. 6a(2): at least 30 days).
    prior_scope : {"series", "channel", "all_channels"}, default "series"
        Where the lowest price is looked for: the series where the reduction is announced (the
        Commission's guidance 2021/C 526/02 when prices differ by channel or shop), every
        location of its channel, or every channel of the sku.
    prior_audiences : collection of str, default {"public"}
        Audiences whose prices enter the prior price (loyalty and personalised prices are not
        offered to all consumers, so they stay out).
    progressive : {"first_step", "each_step"}, default "first_step"
        Steps of one promotion (rows with the same ``promo_id`` on a series) keep the prior
        price of the first step (art. 6a(5)), or each step is judged alone.
    perishables : {"apply", "exempt"}, default "apply"
        Whether the prior-price rule applies to perishable goods (art. 6a(3) lets member
        states exempt them; France does). Needs a catalog with a ``perishable`` column.
    price_tolerance : float, default 0.005
        Two amounts closer than this are equal (half a cent).
    percentage_tolerance : float, default 0.1
        Percentage points an announced reduction may differ from the computed one.
    currency_rates : mapping of currency -> rate, optional
        Rates to one common currency; without them, comparing series in different currencies
        raises :class:`~omnijourney.DataError`.
    overlaps : {"finding", "raise"}, default "finding"
        Overlapping intervals of one series: report them (rule ``overlapping_prices``; the
        interval that started last applies), or raise.
    unknown_series : {"finding", "raise"}, default "finding"
        Promotions on a sku, channel or location without price series.
    coverage : {"until_as_of", "between_prices"}, default "until_as_of"
        Whether a series must have a price until ``as_of``, or only between its first and last
        prices.
    online_locations : collection of str, default {"online"}
        Locations that are not stores (for stock findings).
    stock_channels : (str, str), default ("web", "store")
        Channel of stock findings online and at stores, when the stock has no channel column.
    stock_interval : duration, default "1D"
        How long a stock observation holds; observations further apart break a run.
    stock_tolerance : Tolerance, default Tolerance(amount=2, pct=10)
        How far two channels' quantities for one sku and location may differ.
    max_stock : float, optional
        Quantities above this are impossible (rule ``impossible_stock``).
    rules : collection of str, default :data:`DEFAULT_RULES`
        Rules to check (``promo_not_applied``, ``promo_not_below_prior`` and
        ``prior_price_short_history`` are opt-in).
    severities : mapping of rule -> {"high", "medium", "low"}, optional
        Overrides of the default severity of rules.

    Examples
    --------
    >>> p = Policy(same_price_groups=[["web", "app"], ["store"]], prior_window="30D")
    >>> p.same_price_groups
    (('app', 'web'), ('store',))
    >>> Policy.france().perishables
    'exempt'
    """

    jurisdiction: str = attrs.field(default="EU", validator=validator(check_text))
    same_price_groups: tuple[tuple[str, ...], ...] = attrs.field(
        default=(("web", "app", "store", "call_centre"),), converter=_groups
    )
    tolerance: Tolerance = attrs.field(factory=Tolerance, converter=_tolerance)
    channel_tolerances: tuple[tuple[str, Tolerance], ...] = attrs.field(
        default=(), converter=_channel_tolerances
    )
    channel_pairs: tuple[tuple[str, str, Tolerance], ...] = attrs.field(
        default=(), converter=_channel_pairs
    )
    mirror_channels: frozenset[str] = attrs.field(
        default=("web", "app", "store", "call_centre"),
        converter=_mirror_channels,
    )
    stacking: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_stacking)
    stale_after: tuple[tuple[str, np.timedelta64], ...] = attrs.field(
        default=(("store", "7D"),), converter=_stale_after
    )
    stale_after_default: np.timedelta64 = attrs.field(default="2D", converter=_stale_after_default)
    map_floors: tuple[tuple[str, float], ...] = attrs.field(default=(), converter=_map_floors)
    prior_window: np.timedelta64 = attrs.field(default="30D", converter=_prior_window)
    prior_scope: str = attrs.field(
        default="series", validator=_choice(("series", "channel", "all_channels"))
    )
    prior_audiences: frozenset[str] = attrs.field(default=("public",), converter=_prior_audiences)
    progressive: str = attrs.field(
        default="first_step", validator=_choice(("first_step", "each_step"))
    )
    perishables: str = attrs.field(default="apply", validator=_choice(("apply", "exempt")))
    price_tolerance: float = attrs.field(default=0.005, converter=_price_tolerance)
    percentage_tolerance: float = attrs.field(default=0.1, converter=_percentage_tolerance)
    currency_rates: tuple[tuple[str, float], ...] = attrs.field(
        default=(), converter=_currency_rates
    )
    overlaps: str = attrs.field(default="finding", validator=_choice(("finding", "raise")))
    unknown_series: str = attrs.field(default="finding", validator=_choice(("finding", "raise")))
    coverage: str = attrs.field(
        default="until_as_of", validator=_choice(("until_as_of", "between_prices"))
    )
    online_locations: frozenset[str] = attrs.field(default=("online",), converter=_online_locations)
    stock_channels: tuple[str, str] = attrs.field(
        default=("web", "store"), converter=_stock_channels
    )
    stock_interval: np.timedelta64 = attrs.field(default="1D", converter=_stock_interval)
    stock_tolerance: Tolerance = attrs.field(
        factory=lambda: Tolerance(amount=2.0, pct=10.0),
        converter=_stock_tolerance,
    )
    max_stock: float | None = attrs.field(
        default=None,
        converter=_max_stock,
    )
    rules: frozenset[str] = attrs.field(default=DEFAULT_RULES, converter=_rules)
    severities: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_severities)

    def __attrs_post_init__(self) -> None:
        for ref, other, _ in self.channel_pairs:
            if ref == other:
                msg = (
                    f"The 'channel_pairs' parameter compares channel {ref!r} with itself; "
                    "each pair names two channels."
                )
                raise ConfigError(msg)
        audiences = ("public", "loyalty", "personalised")
        if set(self.prior_audiences) - set(audiences):
            expected = f"a collection of audiences among {list(audiences)}"
            raise _fail("prior_audiences", expected, sorted(self.prior_audiences))

    # ------------------------------------------------------------------ profiles

    @classmethod
    def eu(cls, **changes: Any) -> Policy:
        """The EU profile: Directive 98/6/EC art. 6a with no member-state option taken.

        30 days, public prices only, progressive reductions keep the first prior price,
        perishables included, the prior price taken where the reduction is announced.
        """
        return cls(**{"jurisdiction": "EU", **changes})

    @classmethod
    def france(cls, **changes: Any) -> Policy:
        """The French profile: Code de la consommation art. L112-1-1.

        As :meth:`eu`, with perishable goods exempt; the lowest price is the one offered to
        all consumers (loyalty and personalised prices stay out), and successive reductions
        keep the prior price of the first one.
        """
        return cls(**{"jurisdiction": "FR", "perishables": "exempt", **changes})

    # ------------------------------------------------------------------ lookups

    def severity(self, rule: str) -> str:
        """Severity of a rule's findings (the default, unless ``severities`` overrides it)."""
        return dict(self.severities).get(rule, _RULE_INFO[rule][0])

    def reference(self, rule: str) -> str:
        """The legal or policy reference cited by a rule's findings."""
        if rule == "prior_price_reference" and self.jurisdiction.upper() == "FR":
            return _PRIOR_FR
        return _RULE_INFO[rule][1]

    def checks(self, rule: str) -> bool:
        """Whether ``rule`` is checked."""
        return rule in self.rules

    def stale_limits(self, channels: Iterable[str]) -> np.ndarray:
        """Staleness threshold in microseconds for each channel label."""
        per = dict(self.stale_after)
        default = self.stale_after_default
        return np.array(
            [int(per.get(str(c), default).astype(np.int64)) for c in channels], dtype=np.int64
        )

    def tolerances(self, channels: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(amount, pct) of the price tolerance for each channel label."""
        per = dict(self.channel_tolerances)
        tols = [per.get(str(c), self.tolerance) for c in channels]
        return (
            np.array([t.amount for t in tols], dtype=np.float64),
            np.array([t.pct for t in tols], dtype=np.float64),
        )


def measure_of(rule: str) -> str:
    """What ``expected`` and ``actual`` measure for a rule: price, percent, days or quantity."""
    return _RULE_INFO[rule][2]

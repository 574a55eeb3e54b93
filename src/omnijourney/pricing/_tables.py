"""Price intervals from the user's columns, and what every pricing table shares.

Each table is built with ``from_columns`` under the user's column names, as touchpoints are;
values that cannot be right (a price of zero, an interval that ends before it starts, an
unknown currency) raise :class:`~omnijourney.DataError` or, with ``errors="quarantine"``, come
back as rejects so that the counts add up.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.errors import ConfigError
from omnijourney.tables import ColumnSpec, Problem, Table

__all__ = [
    "ISO_4217",
    "Audience",
    "Mechanic",
    "PriceTable",
    "PriceType",
    "as_table",
]


#: Active ISO 4217 currency codes (plus the precious-metal and testing codes).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA
    XXX YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 - a block of codes reads better than a 180-item list
)


class Audience(str, enum.Enum):
    """Who a price is offered to: everyone, loyalty members, or one customer."""

    PUBLIC = "public"
    LOYALTY = "loyalty"
    PERSONALISED = "personalised"


class PriceType(str, enum.Enum):
    """Whether a price interval is the regular price or a promotional one."""

    REGULAR = "regular"
    PROMOTIONAL = "promotional"


class Mechanic(str, enum.Enum):
    """How a promotion lowers the price.

    ``percentage`` (``discount`` % off), ``amount_off`` (``discount`` off), ``fixed_price``
    (``promo_price``), ``multi_buy`` (N for M, or a bundle: ``buy`` items for the price of
    ``pay``).
    """

    PERCENTAGE = "percentage"
    AMOUNT_OFF = "amount_off"
    FIXED_PRICE = "fixed_price"
    MULTI_BUY = "multi_buy"


def _ends_before_start(table: Table, start: str, end: str) -> list[tuple[str, np.ndarray, str]]:
    if end not in table.columns:
        return []
    s, e = table.raw(start), table.raw(end)
    bad = ~np.isnat(e) & (e <= s)
    return [(end, bad, f"ends before it starts ({end} <= {start})")] if bad.any() else []


def _positive(table: Table, name: str) -> list[tuple[str, np.ndarray, str]]:
    if name not in table.columns:
        return []
    with np.errstate(invalid="ignore"):
        bad = table.raw(name) <= 0
    return [(name, bad, "is not a positive price")] if bad.any() else []


def _iso_currency(table: Table) -> list[tuple[str, np.ndarray, str]]:
    if "currency" not in table.columns:
        return []
    labels = table.labels("currency")
    unknown = np.array([str(x) not in ISO_4217 for x in labels.tolist()], dtype=bool)
    if not unknown.any():
        return []
    codes = table.raw("currency")
    bad = (codes >= 0) & unknown[np.maximum(codes, 0)] if labels.size else codes < -1
    return [("currency", bad, "is not an ISO 4217 currency code (such as 'EUR')")]


# --------------------------------------------------------------------------- prices


class PriceTable(Table):
    """Price intervals: the price of a sku on a channel (and location) over a period of time.

    Columns (library names; the user's names are given to :meth:`from_columns`):

    ==========  ========  ===========================================================
    column      kind      meaning
    ==========  ========  ===========================================================
    sku         category  product (required)
    channel     category  web, app, store, call_centre, marketplace... (required)
    location    category  store, region or site; null when the channel has one price
    price       float     the price charged, > 0 (required)
    currency    category  ISO 4217 code; one unnamed currency when absent
    valid_from  time      when the price starts to apply (required)
    valid_to    time      when it stops (exclusive); null for open-ended
    audience    enum      ``public`` (default), ``loyalty`` or ``personalised``
    price_type  enum      ``regular`` (default) or ``promotional``
    confirmed   time      last time the source system confirmed the price
    ==========  ========  ===========================================================

    A *series* is (sku, channel, location, audience); its intervals ``[valid_from,
    valid_to)`` should not overlap (an audit reports overlaps). Times are UTC at any
    resolution: a one-hour flash price is an interval like any other.

    Examples
    --------
    >>> prices = PriceTable.from_columns(
    ...     {"article": ["A1", "A1", "A1"], "canal": ["web", "web", "store"],
    ...      "prix": [19.99, 14.99, 19.99],
    ...      "debut": ["2024-05-01", "2024-05-10", "2024-05-01"],
    ...      "fin": ["2024-05-10", None, None]},
    ...     sku="article", channel="canal", price="prix", valid_from="debut", valid_to="fin")
    >>> len(prices), prices.n_series
    (3, 2)
    >>> prices.columns
    ('sku', 'channel', 'price', 'valid_from', 'valid_to')
    """

    table_name = "PriceTable"
    schema = (
        ColumnSpec("sku", "category", required=True, nullable=False, doc="product"),
        ColumnSpec("channel", "category", required=True, nullable=False, doc="channel"),
        ColumnSpec("location", "category", doc="store, region or site"),
        ColumnSpec("price", "float", required=True, nullable=False, doc="price"),
        ColumnSpec("currency", "category", doc="ISO 4217 currency"),
        ColumnSpec("valid_from", "time", required=True, nullable=False, doc="start"),
        ColumnSpec("valid_to", "time", doc="end (exclusive); null when open-ended"),
        ColumnSpec("audience", "enum", enum=Audience, nullable=False, doc="who"),
        ColumnSpec("price_type", "enum", enum=PriceType, nullable=False, doc="regular/promo"),
        ColumnSpec("confirmed", "time", doc="last confirmation"),
    )

    @classmethod
    def check_rows(cls, table: Table) -> list[Problem]:
        """Prices must be positive, intervals must end after they start, currencies must be
        ISO 4217 codes."""
        return as_problems(_check_prices(table))

    @property
    def n_series(self) -> int:
        """Number of distinct (sku, channel, location, audience) series."""
        if len(self) == 0:
            return 0
        keys = [self.raw(c).astype(np.int64) for c in ("sku", "channel")]
        for name in ("location", "audience"):
            if name in self.columns:
                keys.append(self.raw(name).astype(np.int64))
        order = np.lexsort(tuple(reversed(keys)))
        return int(run_starts(*(k[order] for k in keys)).sum())


def as_problems(found: list[tuple[str, np.ndarray, str]]) -> list[Problem]:
    """Row checks as :class:`Problem` objects on the table's columns."""
    return [Problem(column, None, mask, reason) for column, mask, reason in found]


def _check_prices(table: Table) -> list[tuple[str, np.ndarray, str]]:
    out = _positive(table, "price")
    out += _ends_before_start(table, "valid_from", "valid_to")
    out += _iso_currency(table)
    return out


def as_table(cls: type[Table], value: Any, name: str) -> Any:
    """``value`` as a ``cls`` table: kept if it is one, else built with the library's names."""
    if value is None or isinstance(value, cls):
        return value
    try:
        return cls.from_columns(value)
    except TypeError:  # pragma: no cover - from_columns always accepts a table or mapping
        msg = f"{name} must be a {cls.__name__}, got {type(value).__name__}"
        raise ConfigError(msg) from None

"""Price intervals from the user's columns, and what every pricing table shares.

Each table is built with ``from_columns`` under the user's column names, as touchpoints are;
values that cannot be right (a price of zero, an interval that ends before it starts, an
unknown currency) raise :class:`~omnijourney.DataError` or, with ``errors="quarantine"``, come
back as rejects so that the counts add up.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

from omnijourney import _columns as C
from omnijourney._columns import ColumnSpec, Problem
from omnijourney.errors import ConfigError
from omnijourney.tables import Quarantined, Rejects, Table, build_table, concat, raise_problems

__all__ = [
    "ISO_4217",
    "Audience",
    "Mechanic",
    "PriceTable",
    "PriceType",
    "as_table",
]

ErrorMode = Literal["raise", "quarantine"]
Columns = Mapping[str, str] | Sequence[str] | None

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


Check = Callable[[Table], list[tuple[str, np.ndarray, str]]]


def _build(
    cls: type[Table],
    data: Any,
    mapping: dict[str, str | None],
    *,
    extra: Columns,
    tz: str | None,
    time_unit: str | None,
    time_format: str | None,
    errors: str,
    check: Check,
) -> Any:
    """``build_table`` plus the row checks of ``check``, raised or quarantined alike."""
    if errors not in ("raise", "quarantine"):
        msg = f"errors must be 'raise' or 'quarantine', got {errors!r}"
        raise ConfigError(msg)
    kw: dict[str, Any] = {
        "extra": extra,
        "tz": tz,
        "time_unit": time_unit,
        "time_format": time_format,
    }
    result = build_table(cls, data, mapping, errors="quarantine", **kw)
    assert isinstance(result, Quarantined)
    kept, rejects, n_in = result.kept, result.rejects, result.n_in
    if errors == "raise" and len(rejects):
        build_table(cls, data, mapping, errors="raise", **kw)  # raises with the full message
    keep = np.ones(n_in, dtype=bool)
    keep[rejects.rows] = False
    kept_rows = np.flatnonzero(keep)
    problems = []
    for column, mask, reason in check(kept):
        lifted = np.zeros(n_in, dtype=bool)
        lifted[kept_rows[mask]] = True
        problems.append(Problem(column, mapping.get(column) or column, lifted, reason))
    if not problems:
        return kept if errors == "raise" else result
    src = C.Source(data)
    if errors == "raise":
        raise_problems(problems, cls.table_name, src.raw)
    bad = np.zeros(len(kept), dtype=bool)
    for p in problems:
        bad |= p.mask[kept_rows]
    more = Rejects.from_problems(problems, src.raw)
    combined = concat([rejects, more]).sort(["row", "column"])
    return Quarantined(kept.filter(~bad).compact(), combined, n_in)


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

    @overload  # type: ignore[override]
    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        sku: str = ...,
        channel: str = ...,
        price: str = ...,
        valid_from: str = ...,
        location: str | None = ...,
        currency: str | None = ...,
        valid_to: str | None = ...,
        audience: str | None = ...,
        price_type: str | None = ...,
        confirmed: str | None = ...,
        extra: Columns = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        errors: Literal["raise"] = ...,
    ) -> PriceTable: ...

    @overload
    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        sku: str = ...,
        channel: str = ...,
        price: str = ...,
        valid_from: str = ...,
        location: str | None = ...,
        currency: str | None = ...,
        valid_to: str | None = ...,
        audience: str | None = ...,
        price_type: str | None = ...,
        confirmed: str | None = ...,
        extra: Columns = ...,
        tz: str | None = ...,
        time_unit: str | None = ...,
        time_format: str | None = ...,
        errors: Literal["quarantine"],
    ) -> Quarantined: ...

    @classmethod
    def from_columns(
        cls,
        data: Any,
        *,
        sku: str = "sku",
        channel: str = "channel",
        price: str = "price",
        valid_from: str = "valid_from",
        location: str | None = None,
        currency: str | None = None,
        valid_to: str | None = None,
        audience: str | None = None,
        price_type: str | None = None,
        confirmed: str | None = None,
        extra: Columns = None,
        tz: str | None = None,
        time_unit: str | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
    ) -> PriceTable | Quarantined:
        """Build a price table from the user's columns, under the user's names.

        Parameters
        ----------
        data : mapping or DataFrame
            Column name -> values, any DataFrame narwhals reads, or another table.
        sku, channel, price, valid_from : str
            Names of the required columns.
        location, currency, valid_to, audience, price_type, confirmed : str, optional
            Names of optional columns; when not given, a column with the library's name is
            used if there is one.
        extra : mapping or sequence of str, optional
            Other columns to keep.
        tz, time_unit, time_format
            How to read times (see :meth:`omnijourney.TouchpointTable.from_columns`).
        errors : {"raise", "quarantine"}
            Raise :class:`~omnijourney.DataError` on bad rows, or return
            :class:`~omnijourney.Quarantined` with the kept table and the rejects.

        Raises
        ------
        SchemaError
            A required column is missing.
        DataError
            Null ids or times, prices that are not positive numbers, ``valid_to`` not after
            ``valid_from``, unknown currencies, audiences or price types.
        """
        mapping: dict[str, str | None] = {
            "sku": sku,
            "channel": channel,
            "location": location,
            "price": price,
            "currency": currency,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "audience": audience,
            "price_type": price_type,
            "confirmed": confirmed,
        }
        return _build(
            cls,
            data,
            mapping,
            extra=extra,
            tz=tz,
            time_unit=time_unit,
            time_format=time_format,
            errors=errors,
            check=_check_prices,
        )

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
        new = np.zeros(order.size, dtype=bool)
        new[0] = True
        for k in keys:
            sk = k[order]
            new[1:] |= sk[1:] != sk[:-1]
        return int(new.sum())


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

"""Customer records from every source system, and their normalized identifiers.

:class:`CustomerRecordTable` holds one row per source record under the library's column
names; :func:`normalize_records` turns its raw values into comparable keys.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

import attrs
import numpy as np

from omnijourney.identity import _normalize as N
from omnijourney.identity._contacts import (
    country_code,
    infer_phone_country,
    normalize_emails,
    normalize_phones,
)
from omnijourney.identity._dates import normalize_dates
from omnijourney.tables import ColumnSpec, Problem, Table, code_dtype

__all__ = [
    "IDENTIFIER_FIELDS",
    "CustomerRecordTable",
    "NormalizedRecords",
    "normalize_records",
]

#: Fields that can identify a customer (a record with none of them valid is flagged).
IDENTIFIER_FIELDS = ("email", "phone", "account_id", "loyalty_id", "card_id", "last_name")

_TEXT_FIELDS = (
    "first_name", "last_name", "email", "phone", "street_number", "address", "address_2",
    "postcode", "city", "region", "country", "date_of_birth", "loyalty_id", "account_id",
    "card_id",
)  # fmt: skip


class CustomerRecordTable(Table):
    """One row per customer record of a source system (CRM, web, loyalty, till, call centre).

    Columns (library names; the user's names are given to :meth:`from_columns`):

    ====================  ========  ================================================
    column                kind      meaning
    ====================  ========  ================================================
    source                category  system of record (``"records"`` when not given)
    record_id             category  id of the record in its source (row number when
                                    not given); unique within a source
    first_name            category  given name(s)
    last_name             category  family name
    email, phone          category  as typed in the source
    street_number         category  house number, when held apart from the street
    address, address_2    category  address lines
    postcode, city        category
    region, country       category
    date_of_birth         category  as written (ISO, ``DD/MM/YYYY``, ``YYYYMMDD``...)
    loyalty_id            category  loyalty card / programme member id
    account_id            category  e-commerce account id
    card_id               category  payment or other card id
    created, updated      time      when the record was created / last updated (UTC)
    consent_email         bool      opt-in to emails
    consent_sms           bool      opt-in to SMS
    ====================  ========  ================================================

    plus any ``extra`` columns. Raw values are kept as typed; :func:`normalize_records`
    derives the comparable keys.

    Examples
    --------
    >>> recs = CustomerRecordTable.from_columns(
    ...     {"sys": ["crm", "web"], "id": ["C1", "W9"], "prenom": ["Zoé", "zoe"],
    ...      "mail": ["zoe@x.fr", " ZOE@X.FR"]},
    ...     source="sys", record_id="id", first_name="prenom", email="mail")
    >>> len(recs), recs.identifier_columns
    (2, ('first_name', 'email'))
    """

    table_name = "CustomerRecordTable"
    schema = (
        ColumnSpec("source", "category", nullable=False, doc="system of record"),
        ColumnSpec("record_id", "category", nullable=False, doc="record id in its source"),
        *(ColumnSpec(name, "category") for name in _TEXT_FIELDS),
        ColumnSpec("created", "time", doc="creation time"),
        ColumnSpec("updated", "time", doc="last update time"),
        ColumnSpec("consent_email", "bool", doc="email opt-in"),
        ColumnSpec("consent_sms", "bool", doc="SMS opt-in"),
    )

    # identical records are what resolution merges into one person, and a record id used
    # twice in a source is refused anyway: duplicates are kept unless asked
    duplicates_default = "keep"

    @classmethod
    def _prepare_column(cls, name: str, values: Any) -> Any:
        return _dates_as_text(values) if name == "date_of_birth" else values

    @classmethod
    def _complete_load(cls, table: Any, input_rows: np.ndarray) -> Any:
        return _fill_keys(table, input_rows)

    @classmethod
    def check_rows(cls, table: Table) -> list[Problem]:
        """A record id is used once within its source (later uses are the rejected ones)."""
        assert isinstance(table, CustomerRecordTable)
        dup = table.duplicate_mask()
        if not dup.any():
            return []
        reason = "is used by more than one record of the same source (record ids are unique)"
        return [Problem("record_id", None, dup, reason)]

    def duplicate_mask(self) -> np.ndarray:
        """Rows whose (source, record_id) appeared on an earlier row."""
        key = self.raw("source").astype(np.int64) * (len(self.labels("record_id")) + 1)
        key = key + self.raw("record_id").astype(np.int64)
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(self), dtype=bool)
        dup[first] = False
        return dup

    @property
    def identifier_columns(self) -> tuple[str, ...]:
        """The identifying columns present (names, contacts, address, date of birth, ids)."""
        return tuple(c for c in _TEXT_FIELDS if c in self.columns)

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Columns that are not part of the standard schema."""
        std = {s.name for s in self.schema}
        return tuple(c for c in self.columns if c not in std)

    def canonical_order(self) -> np.ndarray:
        """Rows sorted by (source, record_id): the same order for any input row order."""
        return np.lexsort((self.raw("record_id"), self.raw("source")))


def _dates_as_text(values: Any) -> Any:
    """Datetime columns of dates of birth as ISO text (the table keeps dates as written)."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        import narwhals as nw

        # a series of a DataFrame library (narwhals hands anything else back as it is)
        s = nw.from_native(values, series_only=True, pass_through=True)
        if s is not values:
            if s.dtype == nw.Datetime or s.dtype == nw.Date:
                dates = np.asarray(s.cast(nw.Datetime("us")).to_numpy()).astype("datetime64[D]")
                # numpy's stubs do not take None as a scalar operand of np.where
                out = np.where(np.isnat(dates), None, dates.astype(str).astype(object))  # type: ignore[call-overload]
                return out
            return values
    arr = np.asarray(values) if not isinstance(values, (list, tuple)) else None
    if arr is not None and arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]")
        return np.where(np.isnat(days), None, days.astype(str).astype(object))  # type: ignore[call-overload]
    return values


def _fill_keys(table: CustomerRecordTable, input_rows: np.ndarray) -> CustomerRecordTable:
    """Add ``source`` ("records") and ``record_id`` (input row number) when not given."""
    data = {name: table.raw(name) for name in table.columns}
    labels = {name: table.labels(name) for name in table.columns if table.kinds[name] == "category"}
    n = len(table)
    if "source" not in data:
        data = {"source": np.zeros(n, dtype=np.int8), **data}
        labels["source"] = np.array(["records"], dtype=object)
    if "record_id" not in data:
        rest = {k: v for k, v in data.items() if k != "source"}
        ids = input_rows.astype(np.int64)
        data = {"source": data["source"], "record_id": np.arange(n, dtype=np.int64), **rest}
        labels["record_id"] = ids
        data["record_id"] = np.arange(n).astype(code_dtype(n))
    if tuple(data) == table.columns:
        return table
    return CustomerRecordTable.from_arrays(data, labels)


# --------------------------------------------------------------------------- normalized view


@attrs.frozen(eq=False)
class NormalizedRecords:
    """Comparable keys of a record table, one :class:`NormalizedField` per field.

    Attributes
    ----------
    fields : dict of str to NormalizedField
        ``first_name``, ``last_name``, ``full_name`` (both names in alphabetical order, the
        same when they were typed swapped), ``email``, ``email_user`` (local part),
        ``email_domain``, ``phone`` (E.164), ``house_number``, ``street``, ``address``
        (number and street), ``postcode``, ``city``, ``location`` (address and postcode),
        ``date_of_birth`` (ISO), ``loyalty_id``, ``account_id``, ``card_id``, for the
        columns the table has.
    dob_days : numpy.ndarray of int64
        Date of birth as days since 1970-01-01 (``-2**62`` when not valid).
    rules : NormalizeRules
    """

    fields: dict[str, N.NormalizedField]
    dob_days: np.ndarray
    rules: N.NormalizeRules

    def __len__(self) -> int:
        return int(self.dob_days.size)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> N.NormalizedField:
        return self.fields[name]

    def take(self, rows: np.ndarray) -> NormalizedRecords:
        """The same fields for a subset (or permutation) of rows; labels are shared."""
        fields = {
            k: N.NormalizedField(f.name, f.codes[rows], f.labels, f.status[rows])
            for k, f in self.fields.items()
        }
        return NormalizedRecords(fields, self.dob_days[rows], self.rules)

    def usable(self) -> NormalizedRecords:
        """The fields that hold at least one valid value.

        A field whose values are all missing, invalid or placeholders is no evidence: the
        resolution treats it as absent (no blocking key, no comparison).
        """
        fields = {k: f for k, f in self.fields.items() if (f.codes >= 0).any()}
        if len(fields) == len(self.fields):
            return self
        return NormalizedRecords(fields, self.dob_days, self.rules)

    def has_identifier(self) -> np.ndarray:
        """Records with at least one valid identifying field (see :data:`IDENTIFIER_FIELDS`)."""
        out = np.zeros(len(self), dtype=bool)
        for name in (*IDENTIFIER_FIELDS, "address"):
            if name in self.fields:
                out |= self.fields[name].codes >= 0
        return out

    def to_table(self) -> Table:
        """The normalized values as a :class:`~omnijourney.Table` (None when not valid)."""
        cols = {name: f.values() for name, f in self.fields.items()}
        return Table.from_columns(cols, kinds=dict.fromkeys(cols, "category"))


class _Normalizer(Protocol):
    def __call__(
        self, texts: Sequence[str] | np.ndarray, rules: N.NormalizeRules
    ) -> tuple[list[str], np.ndarray]: ...


_NORMALIZERS: dict[str, _Normalizer] = {
    "first_name": N.normalize_names,
    "email": normalize_emails,
    "phone": normalize_phones,
    "address": N.normalize_addresses,
    "address_2": N.normalize_addresses,
    "postcode": N.normalize_postcodes,
    "city": N.normalize_cities,
    "region": N.normalize_cities,
    "date_of_birth": normalize_dates,
    "loyalty_id": N.normalize_ids,
    "account_id": N.normalize_ids,
    "card_id": N.normalize_ids,
    "street_number": N.normalize_ids,
}


def derive_field(field: N.NormalizedField, fn: Any, name: str) -> N.NormalizedField:
    """A field computed from another field's normalized labels: ``fn(label) -> str | None``,
    or the derived value of each label as a list."""
    derived = fn if isinstance(fn, list) else [fn(v) for v in field.labels.tolist()]
    if all(d is not None for d in derived):
        labels, to_new = N.number_values(derived, np.ones(len(derived), dtype=bool))
    else:
        keep = np.array([d is not None for d in derived], dtype=bool)
        labels, to_new = N.number_values([d or "" for d in derived], keep)
    to_new = np.append(to_new, -1)
    codes = to_new[np.where(field.codes >= 0, field.codes, len(derived)).astype(np.int64)]
    return N.NormalizedField(name, codes.astype(code_dtype(labels.size)), labels, field.status)


def _combine(
    a: N.NormalizedField | None,
    b: N.NormalizedField | None,
    name: str,
    sep: str = " ",
    *,
    ordered: bool = True,
) -> N.NormalizedField | None:
    """Concatenation of two fields' values (None when either is missing); with
    ``ordered=False`` the two values in alphabetical order (names typed in either order)."""
    if a is None or b is None:
        return None
    ok = (a.codes >= 0) & (b.codes >= 0)
    ia, ib = a.codes[ok].astype(np.int64), b.codes[ok].astype(np.int64)
    pair = ia * (b.labels.size + 1) + ib
    uniq, inverse = np.unique(pair, return_inverse=True)
    left = a.labels[uniq // (b.labels.size + 1)].tolist()
    right = b.labels[uniq % (b.labels.size + 1)].tolist()
    if ordered:
        texts = [f"{x}{sep}{y}" for x, y in zip(left, right)]
    else:
        texts = [f"{x}{sep}{y}" if x <= y else f"{y}{sep}{x}" for x, y in zip(left, right)]
    labels, rank = N.number_values(texts, np.ones(len(texts), dtype=bool))
    codes = np.full(a.codes.size, -1, dtype=np.int64)
    codes[ok] = rank[inverse.reshape(-1)]
    status = np.where(ok, N.VALID, np.maximum(a.status, b.status)).astype(np.int8)
    return N.NormalizedField(name, codes.astype(code_dtype(labels.size)), labels, status)


class _CountryNormalizer(Protocol):
    def __call__(
        self, texts: Sequence[str] | np.ndarray, rules: N.NormalizeRules, country: str | None
    ) -> tuple[list[str], np.ndarray]: ...


#: Fields read in each record's country (national phone numbers, postcode widths).
_BY_COUNTRY: dict[str, _CountryNormalizer] = {
    "phone": normalize_phones,
    "postcode": N.normalize_postcodes,
}


# distinct phone numbers the country is inferred from
_INFER_SAMPLE = 20_000


def inferred_country(phone_labels: np.ndarray) -> str | None:
    """The country read from a spread sample of the distinct phone numbers (see
    :func:`normalize_records`)."""
    texts = N.as_text(phone_labels)
    return infer_phone_country(texts[:: max(1, len(texts) // _INFER_SAMPLE)])


def _record_countries(
    records: CustomerRecordTable, default: str | None
) -> tuple[np.ndarray, list[str]] | None:
    """Index of each record's country in a list of ISO codes (-1: none, unknown or the default
    country), or None when no record has a known country other than the default."""
    if "country" not in records.columns:
        return None
    iso = [country_code(t) for t in N.as_text(records.labels("country"))]
    iso = [None if c == default else c for c in iso]
    known = sorted({c for c in iso if c is not None})
    if not known:
        return None
    slot = np.array([known.index(c) if c is not None else -1 for c in iso] + [-1], np.int64)
    raw = records.raw("country").astype(np.int64)
    return slot[np.where(raw >= 0, raw, len(iso))], known


def _map_by_country(
    records: CustomerRecordTable,
    name: str,
    fn: _CountryNormalizer,
    rules: N.NormalizeRules,
    country_of: np.ndarray,
    countries: list[str],
) -> N.NormalizedField:
    """A field normalized once per distinct (value, record country), each in its country
    (records without one in ``rules.default_country``)."""
    raw = records.raw(name).astype(np.int64)
    texts = N.as_text(records.labels(name))
    ok = raw >= 0
    k = len(countries) + 1
    key = raw[ok] * k + country_of[ok] + 1
    uniq, inverse = np.unique(key, return_inverse=True)
    label, slot = uniq // k, uniq % k
    values = np.empty(uniq.size, dtype=object)
    status = np.zeros(uniq.size, dtype=np.int8)
    for s in np.unique(slot).tolist():
        at = np.flatnonzero(slot == s)
        country = countries[s - 1] if s else None
        got, st = fn([texts[i] for i in label[at].tolist()], rules, country)
        values[at] = got
        status[at] = st
    labels, to_norm = N.number_values(values.tolist(), status == N.VALID)
    codes = np.full(raw.size, -1, dtype=np.int64)
    codes[ok] = to_norm[inverse.reshape(-1)]
    record_status = np.full(raw.size, N.MISSING, dtype=np.int8)
    record_status[ok] = status[inverse.reshape(-1)]
    return N.NormalizedField(name, codes.astype(code_dtype(labels.size)), labels, record_status)


def normalize_records(
    records: CustomerRecordTable,
    rules: N.NormalizeRules | None = None,
    *,
    infer_country: bool = True,
) -> NormalizedRecords:
    """Normalize every identifying column of ``records`` (distinct values once each).

    Parameters
    ----------
    records : CustomerRecordTable
    rules : NormalizeRules, optional
        Country, provider rules, date order and placeholder lists.
    infer_country : bool
        Without a ``default_country``, infer it from the numbers written with a calling code
        (False: read national numbers without a country, as a batch of records added to a
        resolution whose records showed none).

    Returns
    -------
    NormalizedRecords
        Its ``rules`` are ``rules`` with the country that read national numbers: the
        ``default_country`` given, else the one inferred from the numbers written with a
        calling code (see :func:`~omnijourney.identity._contacts.infer_phone_country`).

    Notes
    -----
    Phones and postcodes are read in each record's ``country`` when the table has that
    column and the value is a known country (a code or a name), else in the default country.

    Examples
    --------
    >>> recs = CustomerRecordTable.from_columns(
    ...     {"phone": ["06 12 34 56 78", "+33612345678", "0000000000"],
    ...      "email": ["A.B@gmail.com", "ab@gmail.com", None]})
    >>> # the national number is read in the country of the other one (+33: France)
    >>> norm = normalize_records(recs)
    >>> norm["phone"].values().tolist(), norm["phone"].status.tolist()
    (['+33612345678', '+33612345678', None], [1, 1, 3])
    >>> norm["email"].values().tolist()
    ['ab@gmail.com', 'ab@gmail.com', None]
    """
    rules = N.NormalizeRules() if rules is None else rules
    fields: dict[str, N.NormalizedField] = {}
    cols = set(records.columns)
    if infer_country and rules.default_country is None and "phone" in cols:
        # a majority is read as well on a spread sample of the distinct numbers
        inferred = inferred_country(records.labels("phone"))
        if inferred is not None:
            rules = attrs.evolve(rules, default_country=inferred)
    countries = _record_countries(records, rules.default_country)
    for name in cols & set(_NORMALIZERS):
        fn = _NORMALIZERS[name]
        if name in _BY_COUNTRY and countries is not None:
            fields[name] = _map_by_country(records, name, _BY_COUNTRY[name], rules, *countries)
            continue
        fields[name] = N.map_labels(
            records.raw(name), records.labels(name), functools.partial(fn, rules=rules), name
        )
    if "last_name" in cols:
        fields["last_name"] = N.map_labels(
            records.raw("last_name"),
            records.labels("last_name"),
            lambda v: N.normalize_names(v, rules, particles=True),
            "last_name",
        )
    if "email" in fields:
        parts = [e.rpartition("@") for e in fields["email"].labels.tolist()]
        fields["email_user"] = derive_field(fields["email"], [p[0] for p in parts], "email_user")
        fields["email_domain"] = derive_field(
            fields["email"], [p[2] for p in parts], "email_domain"
        )
    if "address" in fields:
        numbers, streets = N.split_address(fields["address"].labels)
        addr = fields["address"]
        number_of = dict(zip(addr.labels.tolist(), numbers))
        street_of = dict(zip(addr.labels.tolist(), streets))
        parsed_number = derive_field(addr, number_of.get, "house_number")
        street = derive_field(addr, street_of.get, "street")
        number = fields.pop("street_number", None)
        if number is not None:
            # a separate house-number column wins over a number parsed from the address
            number_text = derive_field(number, lambda s: s.lstrip("0") or s, "house_number")
            use = number_text.codes >= 0
            merged = _merge_fields(number_text, parsed_number, use, "house_number")
        else:
            merged = parsed_number
        fields["house_number"] = merged
        fields["street"] = street
        full = _combine(merged, street, "address")
        if full is not None:
            # records without a number keep the street alone as their address key
            fields["address"] = _merge_fields(full, street, full.codes >= 0, "address")
        else:
            fields["address"] = street
    # the place a household lives: address and postcode (or city) in one key, so that the
    # comparisons do not count the same agreement three times
    place = fields.get("postcode") or fields.get("city")
    if "address" in fields and place is not None:
        loc = _combine(fields["address"], place, "location", sep=" | ")
        if loc is not None:
            fields["location"] = _merge_fields(loc, fields["address"], loc.codes >= 0, "location")
    names = _combine(fields.get("first_name"), fields.get("last_name"), "full_name", ordered=False)
    if names is not None:
        fields["full_name"] = names
    dob = fields.get("date_of_birth")
    dob_days = np.full(len(records), -(2**62), dtype=np.int64)
    if dob is not None and dob.labels.size:
        days = dob.labels.astype("datetime64[D]").astype(np.int64)
        ok = dob.codes >= 0
        dob_days[ok] = days[dob.codes[ok]]
    return NormalizedRecords(fields, dob_days, rules)


def _merge_fields(
    first: N.NormalizedField, second: N.NormalizedField, use_first: np.ndarray, name: str
) -> N.NormalizedField:
    """Per record, ``first`` where ``use_first`` else ``second``, on one dictionary."""
    both = [*first.labels.tolist(), *second.labels.tolist()]
    union, code_of = N.number_values(both, np.ones(len(both), dtype=bool))
    to_a = np.append(code_of[: first.labels.size], -1)
    to_b = np.append(code_of[first.labels.size :], -1)
    a = to_a[np.where(first.codes >= 0, first.codes, first.labels.size).astype(np.int64)]
    b = to_b[np.where(second.codes >= 0, second.codes, second.labels.size).astype(np.int64)]
    codes = np.where(use_first, a, b).astype(code_dtype(union.size))
    status = np.where(use_first, first.status, second.status).astype(np.int8)
    return N.NormalizedField(name, codes, union, status)

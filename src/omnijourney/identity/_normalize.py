"""Vectorized normalization of identifiers: each distinct raw value is normalized once.

Emails, phones (E.164), names, addresses, postcodes, cities, dates of birth and account ids
become comparable keys, with a status per record: missing, valid, invalid or placeholder.
This module holds the rules, the field type and the names, addresses, postcodes and ids;
emails and phones are in ``_contacts``, dates of birth in ``_dates``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import attrs
import numpy as np

from omnijourney._columns import code_dtype, first_seen
from omnijourney._validation import check_bool, check_choice, check_positive_int, validator
from omnijourney.errors import ConfigError
from omnijourney.identity._checks import text_pairs, texts

__all__ = [
    "COUNTRY_PHONE_CODES",
    "STATUS",
    "NormalizeRules",
    "NormalizedField",
    "normalize_addresses",
    "normalize_cities",
    "normalize_ids",
    "normalize_names",
    "normalize_postcodes",
]

#: Record status codes of a normalized field.
STATUS = ("missing", "valid", "invalid", "placeholder")
MISSING, VALID, INVALID, PLACEHOLDER = range(4)

#: ISO country -> (calling code, digits of the national number or 0 when variable, trunk
#: prefix dialled at home or "" when there is none).
COUNTRY_PHONE_CODES: dict[str, tuple[int, int, str]] = {
    "FR": (33, 9, "0"), "BE": (32, 0, "0"), "CH": (41, 9, "0"), "DE": (49, 0, "0"),
    "ES": (34, 9, ""), "IT": (39, 0, ""), "GB": (44, 10, "0"), "IE": (353, 0, "0"),
    "NL": (31, 9, "0"), "LU": (352, 0, ""), "PT": (351, 9, ""), "AT": (43, 0, "0"),
    "US": (1, 10, "1"), "CA": (1, 10, "1"), "AU": (61, 9, "0"), "MA": (212, 9, "0"),
}  # fmt: skip
_POSTCODE_DIGITS = {"FR": 5, "DE": 5, "ES": 5, "IT": 5, "US": 5, "AU": 4, "BE": 4, "CH": 4,
                    "AT": 4, "LU": 4, "MA": 5}  # fmt: skip

_DEFAULT_STREET_TYPES = (
    ("av", "avenue"), ("ave", "avenue"), ("bd", "boulevard"), ("bld", "boulevard"),
    ("blvd", "boulevard"), ("boul", "boulevard"), ("r", "rue"), ("pl", "place"),
    ("ch", "chemin"), ("chem", "chemin"), ("rte", "route"), ("imp", "impasse"),
    ("all", "allee"), ("sq", "square"), ("qu", "quai"), ("crs", "cours"), ("fg", "faubourg"),
    ("st", "saint"), ("ste", "sainte"), ("gal", "general"), ("gen", "general"),
    ("mal", "marechal"), ("pdt", "president"), ("prof", "professeur"), ("dr", "docteur"),
    ("rd", "road"), ("str", "street"), ("cres", "crescent"), ("cct", "circuit"),
    ("cl", "close"), ("ct", "court"), ("hwy", "highway"), ("pde", "parade"), ("tce", "terrace"),
)  # fmt: skip
_DEFAULT_PARTICLES = ("de", "du", "des", "d", "van", "von", "der", "den", "da", "di", "dos")
_DEFAULT_PLACEHOLDER_NAMES = (
    "n/a", "na", "nc", "inconnu", "inconnue", "unknown", "xxx", "xx", "x", "test", "none",
    "null", "nom", "prenom", "client", "mr", "mme", "aucun", "-", ".", "?",
)  # fmt: skip
_DEFAULT_PLACEHOLDER_EMAILS = (
    "test@test.com", "noemail@noemail.com", "no@email.com", "a@a.com", "aucun@aucun.fr",
    "none@none.com", "nomail@nomail.com", "pasdemail@pasdemail.fr", "x@x.com",
)  # fmt: skip
_PLACEHOLDER_EMAIL_LOCALS = ("test", "noemail", "nomail", "pasdemail", "none", "aucun", "no")
_PLACEHOLDER_EMAIL_DOMAINS = ("test.com", "example.com", "noemail.com", "nomail.com")
_DEFAULT_PLACEHOLDER_DATES = ("1900-01-01", "1899-12-31", "1901-01-01")
# Providers that ignore dots in the local part, and those that ignore "+tag" suffixes.
_DOTLESS_PROVIDERS = ("gmail.com", "googlemail.com")
_TAGGED_PROVIDERS = (
    "gmail.com", "googlemail.com", "outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr",
    "live.com", "live.fr", "icloud.com", "me.com", "protonmail.com", "proton.me", "fastmail.com",
)  # fmt: skip


def _upper(value: Any) -> str | None:
    return None if value is None else str(value).upper()


# one converter per field, so that an error names it (one name is a text, not its characters)
def _as_placeholder_emails(value: Any) -> tuple[str, ...]:
    return texts(value, "placeholder_emails")


def _as_placeholder_phones(value: Any) -> tuple[str, ...]:
    return texts(value, "placeholder_phones")


def _as_placeholder_names(value: Any) -> tuple[str, ...]:
    return texts(value, "placeholder_names")


def _as_placeholder_dates(value: Any) -> tuple[str, ...]:
    return texts(value, "placeholder_dates")


def _as_name_particles(value: Any) -> tuple[str, ...]:
    return texts(value, "name_particles")


def _as_street_types(value: Any) -> tuple[tuple[str, str], ...]:
    return text_pairs(value, "street_types")


@attrs.frozen(kw_only=True)
class NormalizeRules:
    """How identifiers are normalized, and which values are placeholders.

    Parameters
    ----------
    default_country : str, optional
        ISO code of the country of national phone numbers and postcodes (``"FR"``; see
        :data:`COUNTRY_PHONE_CODES`) of records whose own ``country`` is not given. None (the
        default): the country most numbers written with a calling code have, when one has
        more than half of them (see :func:`~omnijourney.identity.normalize_records`); with
        none, national numbers stay national keys (their digits) and postcodes are not
        padded.
    email_provider_rules : bool
        Apply the rules of providers that ignore dots (Gmail) and ``+tag`` suffixes (Gmail,
        Outlook, iCloud...) so that every spelling of one mailbox gets one key.
    date_order : {"DMY", "MDY"}
        Order of day and month in dates written with separators (``03/02/1985``).
    two_digit_year_pivot : int
        Two-digit years above it are 19xx, the others 20xx (``5/3/85`` -> 1985).
    placeholder_emails, placeholder_phones, placeholder_names, placeholder_dates : tuple of str
        Values typed to get past a mandatory field: normalized values listed here are
        flagged ``placeholder`` and never used as evidence. Phones made of one or two
        repeated digits (``0000000000``, ``0600000000``) are placeholders too.
    name_particles : tuple of str
        Particles dropped from the start of last names (``de``, ``van``...).
    street_types : tuple of (str, str)
        Abbreviation -> full word of street types and titles (``bd`` -> ``boulevard``).

    Examples
    --------
    >>> NormalizeRules(default_country="be").default_country
    'BE'
    """

    default_country: str | None = attrs.field(default=None, converter=_upper)
    email_provider_rules: bool = attrs.field(default=True, validator=validator(check_bool))
    date_order: str = attrs.field(default="DMY", validator=validator(check_choice, ("DMY", "MDY")))
    two_digit_year_pivot: int = attrs.field(
        default=30, validator=validator(check_positive_int, minimum=0)
    )
    placeholder_emails: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_EMAILS, converter=_as_placeholder_emails
    )
    placeholder_phones: tuple[str, ...] = attrs.field(
        default=("+33123456789",), converter=_as_placeholder_phones
    )
    placeholder_names: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_NAMES, converter=_as_placeholder_names
    )
    placeholder_dates: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_DATES, converter=_as_placeholder_dates
    )
    name_particles: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PARTICLES, converter=_as_name_particles
    )
    street_types: tuple[tuple[str, str], ...] = attrs.field(
        default=_DEFAULT_STREET_TYPES, converter=_as_street_types
    )

    def __attrs_post_init__(self) -> None:
        if self.default_country is not None and self.default_country not in COUNTRY_PHONE_CODES:
            known = ", ".join(sorted(COUNTRY_PHONE_CODES))
            msg = f"default_country must be one of {known}; got {self.default_country!r}"
            raise ConfigError(msg)


@attrs.frozen(eq=False)
class NormalizedField:
    """One normalized field: codes into sorted normalized values, and a status per record.

    Attributes
    ----------
    name : str
        The record table column.
    codes : numpy.ndarray of int
        Code of each record's normalized value in ``labels``; -1 when the value is missing,
        invalid or a placeholder (it is then no evidence).
    labels : numpy.ndarray of str
        Sorted distinct normalized values.
    status : numpy.ndarray of int8
        Per record: 0 missing, 1 valid, 2 invalid, 3 placeholder (see :data:`STATUS`).
    """

    name: str
    codes: np.ndarray
    labels: np.ndarray
    status: np.ndarray

    def values(self) -> np.ndarray:
        """Normalized value of each record (None when not valid)."""
        out = np.full(self.codes.size, None, dtype=object)
        ok = self.codes >= 0
        out[ok] = self.labels[self.codes[ok]]
        return out


def map_labels(
    raw_codes: np.ndarray,
    raw_labels: np.ndarray,
    normalize: Callable[[list[str]], tuple[Sequence[str], np.ndarray]],
    name: str,
) -> NormalizedField:
    """Normalize the distinct raw labels once, then map every record through its code.

    ``normalize(texts)`` takes the labels as stripped, non-empty text and returns the
    normalized text of each and its status (valid, invalid or placeholder). Normalized
    values are numbered in the order of the (sorted) raw labels, so the codes do not depend on
    the order of the records.
    """
    texts = as_text(raw_labels)
    values, status = normalize(texts) if texts else ([], np.zeros(0, dtype=np.int8))
    status = np.asarray(status, dtype=np.int8)
    labels, to_norm = number_values(values, status == VALID)
    to_norm = np.append(to_norm, -1)  # last slot: missing raw values
    raw = np.where(raw_codes >= 0, raw_codes, len(values)).astype(np.int64)
    label_status = np.append(status, np.int8(MISSING)).astype(np.int8)
    codes = to_norm[raw].astype(code_dtype(labels.size))
    return NormalizedField(name, codes, labels, label_status[raw])


def number_values(
    values: Sequence[str] | np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct kept values (in order of first appearance) and the code of each value (-1 when
    not kept)."""
    items = values.tolist() if isinstance(values, np.ndarray) else values
    keep = np.asarray(keep, dtype=bool)
    idx = np.flatnonzero(keep)
    kept = items if idx.size == len(items) else itertools.compress(items, keep.tolist())
    first, kept_codes = first_seen(kept, idx.size)
    codes = np.full(len(items), -1, dtype=np.int64)
    codes[idx] = kept_codes
    labels = np.empty(len(first), dtype=object)
    labels[:] = list(first)
    return labels, codes


def as_text(labels: np.ndarray) -> list[str]:
    """Labels (str or int) as stripped text."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return [str(v) for v in arr.tolist()]
    items = arr.tolist()
    try:
        return list(map(str.strip, items))
    except TypeError:
        return [v.strip() if isinstance(v, str) else (_as_text(v) or "") for v in items]


# numpy >= 2.3 has vectorized string ufuncs (np.strings, with slice); older numpy takes the
# per-value reference path, which gives the same results.
_S: Any = getattr(np, "strings", np.char)
FAST_STRINGS = hasattr(np, "strings") and hasattr(np.strings, "slice")


def _per_value(
    texts: Sequence[str] | np.ndarray, fn: Callable[[str], tuple[str | None, int]]
) -> tuple[list[str], np.ndarray]:
    items = texts.tolist() if isinstance(texts, np.ndarray) else texts
    values: list[str] = []
    status: list[int] = []
    for t in items:
        v, st = fn(t)
        values.append(v or "")
        status.append(st)
    return values, np.array(status, dtype=np.int8)


# --------------------------------------------------------------------------- text helpers

_SEPARATORS = str.maketrans({c: " " for c in "-_'’`.,;:/\\()[]{}\"!?&*#+=|~<>@°"})


def fold(text: str) -> str:
    """Lower case without accents, punctuation and hyphens as spaces, spaces collapsed.

    Examples
    --------
    >>> fold("  Hélène-Marie  D'ARCY ")
    'helene marie d arcy'
    """
    words = text.lower().translate(_SEPARATORS).split()
    if all(w.isascii() for w in words):
        return " ".join(words)
    return " ".join(w if w.isascii() else _fold_word(w) for w in words)


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    """One lower-case word without diacritics (a word may split: "l’ile" -> "l ile")."""
    word = word.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", word)
    ascii_word = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_word.lower().translate(_SEPARATORS).split())


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else str(v)
    text = str(v).strip()
    return text or None


# --------------------------------------------------------------------------- names


def name_key(
    text: str, rules: NormalizeRules, *, particles: bool = False
) -> tuple[str | None, int]:
    """One name (see :func:`normalize_names`)."""
    values, status = normalize_names([text], rules, particles=particles)
    return values[0] or None, int(status[0])


@lru_cache(maxsize=8)
def _placeholder_names(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset({n.lower() for n in names} | {fold(n) for n in names if fold(n)})


def normalize_names(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules, *, particles: bool = False
) -> tuple[list[str], np.ndarray]:
    """Names folded to lower-case ASCII words (``"Jean-Luc"`` -> ``"jean luc"``).

    With ``particles=True`` leading particles are dropped (``"van Dijk"`` -> ``"dijk"``).
    Placeholders (``N/A``, ``inconnu``...) and values without letters are flagged.

    Examples
    --------
    >>> values, status = normalize_names(["Hélène", "N/A", "12", "van Dijk"], NormalizeRules(),
    ...                                  particles=True)
    >>> values, status.tolist()
    (['helene', '', '', 'dijk'], [1, 3, 2, 1])
    """
    items = texts.tolist() if isinstance(texts, np.ndarray) else texts
    placeholders = _placeholder_names(rules.placeholder_names)
    drop = frozenset(rules.name_particles) if particles else frozenset()
    values: list[str] = []
    status: list[int] = []
    for text in items:
        if text.lower() in placeholders:
            values.append("")
            status.append(PLACEHOLDER)
            continue
        folded = fold(text)
        if not folded or not any(c.isalpha() for c in folded):
            values.append("")
            status.append(INVALID)
            continue
        if folded in placeholders:
            values.append("")
            status.append(PLACEHOLDER)
            continue
        if drop:
            words = folded.split()
            while len(words) > 1 and words[0] in drop:
                words = words[1:]
            folded = " ".join(words)
        values.append(folded)
        status.append(VALID)
    return values, np.array(status, dtype=np.int8)


def normalize_cities(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """City names folded, ``st``/``ste`` spelled out (``"ST-DENIS"`` -> ``"saint denis"``)."""
    spelled = {"st": "saint", "ste": "sainte"}

    def key(text: str) -> tuple[str | None, int]:
        name, status = name_key(text, rules)
        if name is None:
            return None, status
        return " ".join(spelled.get(w, w) for w in name.split()), status

    return _per_value(texts, key)


# --------------------------------------------------------------------------- addresses

_NUMBER = re.compile(r"^(\d+)\s*(bis|ter|quater|[a-d])?\b\s*")


def address_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One address line (see :func:`normalize_addresses`)."""
    values, status = normalize_addresses([text], rules)
    return values[0] or None, int(status[0])


def normalize_addresses(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Addresses as ``"<number> <street words>"`` with street types spelled out.

    An address that starts with a plain number (``"12 "``, ``"12, "``) is read as that number
    and its street, whose distinct spellings are folded once each: a city has far fewer
    streets than addresses.

    Examples
    --------
    >>> values, status = normalize_addresses(["12, Av. du Gal de Gaulle",
    ...                                       "12 avenue du général de gaulle", "N/A"],
    ...                                      NormalizeRules())
    >>> values, status.tolist()
    (['12 avenue du general de gaulle', '12 avenue du general de gaulle', ''], [1, 1, 3])
    """
    items = texts.tolist() if isinstance(texts, np.ndarray) else list(texts)
    numbers: list[str] = []
    streets: list[str] = []
    whole: list[int] = []
    for i, text in enumerate(items):
        head, _, tail = text.partition(" ")
        head = head.rstrip(",")
        if head.isdigit() and head.isascii():
            numbers.append(head)
            streets.append(tail)
        else:
            numbers.append("")
            streets.append("")
            whole.append(i)
    # each distinct street once
    lookup: dict[str, int] = {}
    number = lookup.setdefault
    street_code = [number(t, len(lookup)) for t in streets]
    types = dict(rules.street_types)
    spelled = [" ".join([types.get(w, w) for w in fold(t).split()]) for t in lookup]
    values = [
        (f"{n} {spelled[c]}" if spelled[c] else n) if n else ""
        for n, c in zip(numbers, street_code)
    ]
    status = np.full(len(items), VALID, dtype=np.int8)
    if whole:
        rest, rest_status = _address_values([items[i] for i in whole], rules)
        for i, v in zip(whole, rest):
            values[i] = v
        status[np.array(whole, dtype=np.int64)] = rest_status
    return values, status


def _address_values(items: Sequence[str], rules: NormalizeRules) -> tuple[list[str], np.ndarray]:
    """Folded address texts, street types spelled out (one per distinct text)."""
    types = dict(rules.street_types)
    placeholders = _placeholder_names(rules.placeholder_names)
    values: list[str] = []
    status: list[int] = []
    for text in items:
        folded = fold(text)
        if not folded:
            values.append("")
            status.append(INVALID)
        elif folded in placeholders or text.lower() in placeholders:
            values.append("")
            status.append(PLACEHOLDER)
        else:
            values.append(" ".join([types.get(w, w) for w in folded.split()]))
            status.append(VALID)
    return values, np.array(status, dtype=np.int8)


def split_address(normalized: np.ndarray) -> tuple[list[str | None], list[str | None]]:
    """House number (with bis/ter) and street of normalized addresses."""
    numbers: list[str | None] = []
    streets: list[str | None] = []
    suffixes = ("bis", "ter", "quater", "a", "b", "c", "d")
    for a in normalized.tolist():
        head, _, tail = a.partition(" ")
        if head.isdigit() and head.isascii() and tail.partition(" ")[0] not in suffixes:
            # the common case, as the pattern below reads it
            numbers.append(head.lstrip("0") or "0")
            streets.append(tail or None)
            continue
        m = _NUMBER.match(a)
        if m:
            numbers.append((m.group(1).lstrip("0") or "0") + (m.group(2) or ""))
            streets.append(a[m.end() :] or None)
        else:
            numbers.append(None)
            streets.append(a)
    return numbers, streets


# --------------------------------------------------------------------------- postcodes, ids


def postcode_key(
    text: str, rules: NormalizeRules, country: str | None = None
) -> tuple[str | None, int]:
    """One postcode: upper case, blanks removed, numeric ones padded to the country width."""
    width = _POSTCODE_DIGITS.get(country or rules.default_country or "", 0)
    code = "".join(text.upper().split())
    if code.endswith(".0") and code[:-2].isdigit():
        code = code[:-2]
    if not code.isalnum():
        return None, INVALID
    if width and code.isdigit() and len(code) < width:
        code = code.zfill(width)
    return code, VALID


def normalize_postcodes(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules, country: str | None = None
) -> tuple[list[str], np.ndarray]:
    """Postcodes upper case without blanks; numeric ones padded to the width of ``country``
    (else ``rules.default_country``), when it is known.

    Examples
    --------
    >>> values, status = normalize_postcodes(["6000", "75 015", "13008", "?"], NormalizeRules(),
    ...                                      country="FR")
    >>> values, status.tolist()
    (['06000', '75015', '13008', ''], [1, 1, 1, 2])
    """
    return _per_value(texts, lambda t: postcode_key(t, rules, country))


def id_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One account / loyalty / card id: the reference for :func:`normalize_ids`."""
    if text.upper() in _placeholder_names(rules.placeholder_names) or text.lower() in (
        _placeholder_names(rules.placeholder_names)
    ):
        return None, PLACEHOLDER
    key = "".join(c for c in text.upper() if c not in " -./_")
    if not key or not key.isalnum():
        return None, INVALID
    if set(key) == {"0"}:
        return None, PLACEHOLDER
    return key, VALID


def normalize_ids(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Account, loyalty and card ids: upper case, blanks and dashes removed; zeros flagged.

    Examples
    --------
    >>> values, status = normalize_ids(["29-1234 5678", "0000", "42", "n/a"], NormalizeRules())
    >>> values, status.tolist()
    (['2912345678', '', '42', ''], [1, 3, 1, 3])
    """
    texts = np.asarray(texts, dtype=str)
    if not FAST_STRINGS or texts.size == 0:
        return _per_value(texts, lambda t: id_key(t, rules))
    S = np.strings
    a = S.upper(texts)
    ph = np.isin(a, [p.upper() for p in rules.placeholder_names])
    for sep in " -./_":
        a = S.replace(a, sep, "")
    ok = (S.str_len(a) > 0) & S.isalnum(a)
    ph |= ok & (S.str_len(S.lstrip(a, "0")) == 0)
    status = np.where(ph, PLACEHOLDER, np.where(ok, VALID, INVALID)).astype(np.int8)
    return np.where(status == VALID, a, "").tolist(), status

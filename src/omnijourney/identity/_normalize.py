"""Vectorized normalization of identifiers: each distinct raw value is normalized once.

Emails, phones (E.164), names, addresses, postcodes, cities, dates of birth and account ids
become comparable keys, with a status per record: missing, valid, invalid or placeholder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import attrs
import numpy as np

from omnijourney._columns import code_dtype
from omnijourney.errors import ConfigError

__all__ = [
    "COUNTRY_PHONE_CODES",
    "STATUS",
    "NormalizeRules",
    "NormalizedField",
    "normalize_dates",
    "normalize_emails",
    "normalize_names",
    "normalize_phones",
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


def _strings(values: Sequence[str], name: str) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


@attrs.frozen(kw_only=True)
class NormalizeRules:
    """How identifiers are normalized, and which values are placeholders.

    Parameters
    ----------
    default_country : str
        ISO code of the country of national phone numbers and postcodes (``"FR"``); see
        :data:`COUNTRY_PHONE_CODES`.
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
    >>> NormalizeRules(default_country="BE").default_country
    'BE'
    """

    default_country: str = attrs.field(default="FR", converter=lambda v: str(v).upper())
    email_provider_rules: bool = True
    date_order: str = attrs.field(default="DMY", validator=attrs.validators.in_(("DMY", "MDY")))
    two_digit_year_pivot: int = 30
    placeholder_emails: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_EMAILS, converter=lambda v: _strings(v, "emails")
    )
    placeholder_phones: tuple[str, ...] = attrs.field(
        default=("+33123456789",), converter=lambda v: _strings(v, "phones")
    )
    placeholder_names: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_NAMES, converter=lambda v: _strings(v, "names")
    )
    placeholder_dates: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PLACEHOLDER_DATES, converter=lambda v: _strings(v, "dates")
    )
    name_particles: tuple[str, ...] = attrs.field(
        default=_DEFAULT_PARTICLES, converter=lambda v: _strings(v, "particles")
    )
    street_types: tuple[tuple[str, str], ...] = attrs.field(
        default=_DEFAULT_STREET_TYPES, converter=lambda v: tuple((str(a), str(b)) for a, b in v)
    )

    def __attrs_post_init__(self) -> None:
        if self.default_country not in COUNTRY_PHONE_CODES:
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


def number_values(values: Sequence[str], keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct kept values (in order of first appearance) and the code of each value (-1 when
    not kept)."""
    idx = np.flatnonzero(keep)
    kept = [values[i] for i in idx.tolist()] if idx.size < len(values) else list(values)
    lookup: dict[str, Any] = dict.fromkeys(kept)
    for i, key in enumerate(lookup):
        lookup[key] = i
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[idx] = np.fromiter(map(lookup.__getitem__, kept), dtype=np.int64, count=len(kept))
    labels = np.empty(len(lookup), dtype=object)
    labels[:] = list(lookup)
    return labels, codes


def as_text(labels: np.ndarray) -> list[str]:
    """Labels (str or int) as stripped text."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return [str(v) for v in arr.tolist()]
    return [v.strip() if isinstance(v, str) else (_as_text(v) or "") for v in arr.tolist()]


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


# --------------------------------------------------------------------------- emails


def email_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One email (see :func:`normalize_emails`)."""
    values, status = normalize_emails([text], rules)
    return values[0] or None, int(status[0])


_EMAIL_PARTS = re.compile(r"([a-z0-9!#$%&'*+/=?^_`{|}~.-]+)@([a-z0-9-]+(?:\.[a-z0-9-]+)+)")


def normalize_emails(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Emails in lower case without blanks; provider rules applied when asked.

    Examples
    --------
    >>> values, status = normalize_emails([" Jean.Martin+promo@Gmail.com", "test@test.com",
    ...                                    "jean@"], NormalizeRules())
    >>> values, status.tolist()
    (['jeanmartin@gmail.com', '', ''], [1, 3, 2])
    """
    items = texts.tolist() if isinstance(texts, np.ndarray) else list(texts)
    fullmatch = _EMAIL_PARTS.fullmatch
    placeholders = frozenset(p.lower() for p in rules.placeholder_emails)
    bad_locals = frozenset(_PLACEHOLDER_EMAIL_LOCALS)
    bad_domains = frozenset(_PLACEHOLDER_EMAIL_DOMAINS)
    tagged = frozenset(_TAGGED_PROVIDERS) if rules.email_provider_rules else frozenset()
    dotless = frozenset(_DOTLESS_PROVIDERS) if rules.email_provider_rules else frozenset()
    values: list[str] = []
    status: list[int] = []
    add, flag = values.append, status.append
    for text in items:
        email = text.lower()
        if " " in email or "\t" in email:
            email = "".join(email.split())
        m = fullmatch(email)
        if m is None:
            add("")
            flag(PLACEHOLDER if email in placeholders else INVALID)
            continue
        local, domain = m.groups()
        if email in placeholders or local in bad_locals or domain in bad_domains:
            add("")
            flag(PLACEHOLDER)
            continue
        if domain in tagged and "+" in local:
            cut = local.find("+", 1)
            if cut > 0:
                local = local[:cut]
        if domain in dotless:
            local, domain = local.replace(".", ""), "gmail.com"
        if not local or local[0] == "." or local[-1] == "." or ".." in local:
            add("")
            flag(INVALID)
            continue
        add(f"{local}@{domain}")
        flag(VALID)
    return values, np.array(status, dtype=np.int8)


# --------------------------------------------------------------------------- phones


def _e164(text: str, rules: NormalizeRules) -> str:
    """E.164 text of one phone number, or "" when it cannot be read."""
    cc, nsn_len, trunk = COUNTRY_PHONE_CODES[rules.default_country]
    digits = "".join(c for c in text if "0" <= c <= "9")
    if text.startswith("+"):
        full = digits if len(digits) >= 8 else ""
    elif digits.startswith("00") and len(digits) >= 10:
        full = digits[2:]
    elif (
        trunk
        and digits.startswith(trunk)
        and (len(digits) == nsn_len + 1 if nsn_len else 7 <= len(digits) <= 13)
    ):
        full = f"{cc}{digits[1:]}"
    elif nsn_len and len(digits) == nsn_len and not digits.startswith("0"):
        full = f"{cc}{digits}"
    else:
        full = ""
    if not (8 <= len(full) <= 15) or full.startswith("0"):
        return ""
    return "+" + full


def phone_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One phone: the reference for :func:`normalize_phones`."""
    text = text.strip()
    if len(text) > 32:
        return None, INVALID
    digits = "".join(c for c in text if "0" <= c <= "9")
    if len(digits) >= 6 and max(digits.count(d) for d in set(digits)) >= len(digits) - 1:
        return None, PLACEHOLDER
    out = _e164(text, rules)
    if not out:
        return None, INVALID
    if text in rules.placeholder_phones or out in {
        _e164(p, rules) for p in rules.placeholder_phones
    }:
        return None, PLACEHOLDER
    return out, VALID


def normalize_phones(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Phones in E.164 (``"+33612345678"``), national numbers read in ``default_country``.

    Accepts ``+33 6 12 34 56 78``, ``06.12.34.56.78``, ``0033612345678``, ``612345678``
    (national number without its trunk prefix). Numbers of one or two repeated digits are
    placeholders; numbers of a wrong length are invalid. Vectorized over the distinct values.

    Examples
    --------
    >>> values, status = normalize_phones(["06 12 34 56 78", "+33 6.12.34.56.78",
    ...                                    "0033612345678", "0000000000", "12"],
    ...                                   NormalizeRules())
    >>> values, status.tolist()
    (['+33612345678', '+33612345678', '+33612345678', '', ''], [1, 1, 1, 3, 2])
    """
    texts = _S.strip(np.asarray(texts, dtype=str))
    n = texts.size
    if n == 0:
        return texts, np.zeros(0, dtype=np.int8)
    lengths = _S.str_len(texts)
    too_long = lengths > 32
    width = int(max(1, min(32, lengths.max())))
    chars = np.where(too_long, "", texts).astype(f"<U{width}").view(np.uint32).reshape(n, width)
    is_digit = (chars >= 48) & (chars <= 57)
    plus = chars[:, 0] == ord("+")
    cc, nsn_len, trunk = COUNTRY_PHONE_CODES[rules.default_country]
    # the digits read left to right into an integer (15 digits fit in int64)
    value = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    digit = chars.astype(np.int64) - 48
    for k in range(width):
        take = is_digit[:, k] & (count < 17)
        value = np.where(take, value * 10 + digit[:, k], value)
        count += is_digit[:, k]
    kept = np.minimum(count, 17)
    first, second, third = ((value // 10 ** np.maximum(kept - j, 0)) % 10 for j in (1, 2, 3))
    e164 = np.full(n, -1, dtype=np.int64)
    ndig = np.zeros(n, dtype=np.int64)
    intl = plus & (count >= 8) & (first != 0)
    e164[intl], ndig[intl] = value[intl], count[intl]
    dial00 = ~plus & (first == 0) & (second == 0) & (count >= 10) & (third != 0)
    e164[dial00] = value[dial00] % 10 ** np.minimum(count[dial00] - 2, 18)
    ndig[dial00] = count[dial00] - 2
    rest = ~intl & ~dial00 & ~plus
    with_trunk = rest & (first == (int(trunk) if trunk else -1)) & (count >= 2)
    if nsn_len:
        with_trunk &= count == nsn_len + 1
        bare = rest & ~with_trunk & (count == nsn_len) & (first != 0)
    else:
        with_trunk &= (count >= 7) & (count <= 13)
        bare = np.zeros(n, dtype=bool)
    national = np.where(with_trunk, value % 10 ** np.maximum(count - 1, 0), value)
    nat_len = np.where(with_trunk, count - 1, count)
    local = with_trunk | bare
    e164[local] = cc * 10 ** nat_len[local] + national[local]
    ndig[local] = nat_len[local] + len(str(cc))
    valid = (e164 > 0) & (ndig >= 8) & (ndig <= 15) & ~too_long & (count <= 17)
    # placeholders: one or two repeated digits (0000000000, 0600000000) or a listed number
    most = np.zeros(n, dtype=np.int64)
    for d in range(10):
        most = np.maximum(most, np.count_nonzero(chars == 48 + d, axis=1))
    repeated = (most >= count - 1) & (count >= 6)
    values = _S.add("+", np.where(valid, e164, 0).astype(str))
    listed = [v for v in (_e164(p, rules) for p in rules.placeholder_phones) if v]
    ph = repeated | np.isin(texts, list(rules.placeholder_phones))
    ph |= valid & np.isin(values, listed)
    status = np.where(ph, PLACEHOLDER, np.where(valid, VALID, INVALID)).astype(np.int8)
    return np.where(status == VALID, values, "").tolist(), status


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

    Examples
    --------
    >>> values, status = normalize_addresses(["12, Av. du Gal de Gaulle",
    ...                                       "12 avenue du général de gaulle", "N/A"],
    ...                                      NormalizeRules())
    >>> values, status.tolist()
    (['12 avenue du general de gaulle', '12 avenue du general de gaulle', ''], [1, 1, 3])
    """
    items = texts.tolist() if isinstance(texts, np.ndarray) else texts
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
    for a in normalized.tolist():
        m = _NUMBER.match(a)
        if m:
            numbers.append((m.group(1).lstrip("0") or "0") + (m.group(2) or ""))
            streets.append(a[m.end() :] or None)
        else:
            numbers.append(None)
            streets.append(a)
    return numbers, streets


# --------------------------------------------------------------------------- postcodes, ids


def postcode_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One postcode: upper case, blanks removed, numeric ones padded to the country width."""
    width = _POSTCODE_DIGITS.get(rules.default_country, 0)
    code = "".join(text.upper().split())
    if code.endswith(".0") and code[:-2].isdigit():
        code = code[:-2]
    if not code.isalnum():
        return None, INVALID
    if width and code.isdigit() and len(code) < width:
        code = code.zfill(width)
    return code, VALID


def normalize_postcodes(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Postcodes upper case without blanks; numeric ones padded to the country's width.

    Examples
    --------
    >>> values, status = normalize_postcodes(["6000", "75 015", "13008", "?"], NormalizeRules())
    >>> values, status.tolist()
    (['06000', '75015', '13008', ''], [1, 1, 1, 2])
    """
    return _per_value(texts, lambda t: postcode_key(t, rules))


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


# --------------------------------------------------------------------------- dates

_DATE_SEP = re.compile(r"^(\d{1,4})[/.\- ](\d{1,2})[/.\- ](\d{1,4})$")


def _day(year: int, month: int, day: int) -> np.datetime64 | None:
    try:
        return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")
    except ValueError:
        return None


def parse_date(text: str, rules: NormalizeRules) -> np.datetime64 | None:
    """One date from ISO, ``YYYYMMDD``, ``DD/MM/YYYY`` or ``D/M/YY`` text (None if unreadable).

    Examples
    --------
    >>> parse_date("2/3/85", NormalizeRules()), parse_date("1985-03-02", NormalizeRules())
    (np.datetime64('1985-03-02'), np.datetime64('1985-03-02'))
    """
    text = _drop_time(text.strip())
    if text.isdigit() and len(text) == 8:
        return _day(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _DATE_SEP.match(text)
    if not m:
        return None
    a, b, c = m.group(1), m.group(2), m.group(3)
    if len(a) == 4:
        return _day(int(a), int(b), int(c))
    day, month = (int(a), int(b)) if rules.date_order == "DMY" else (int(b), int(a))
    year = int(c)
    if len(c) == 2:
        year += 1900 if year > rules.two_digit_year_pivot else 2000
    elif len(c) != 4:
        return None
    return _day(year, month, day)


def _drop_time(text: str) -> str:
    if ":" not in text:
        return text
    return text.partition(" ")[0].partition("T")[0]


@lru_cache(maxsize=8)
def _placeholder_days(rules: NormalizeRules) -> frozenset[str]:
    return frozenset(str(parse_date(p, rules)) for p in rules.placeholder_dates)


def date_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One date of birth as ISO text: the reference for :func:`normalize_dates`."""
    day = parse_date(text, rules)
    if day is None:
        return None, INVALID
    iso = str(day)
    if iso in _placeholder_days(rules):
        return None, PLACEHOLDER
    if day > np.datetime64("today", "D") or day < np.datetime64("1900-01-01", "D"):
        return None, INVALID
    return iso, VALID


def normalize_dates(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Dates of birth as ISO ``YYYY-MM-DD``; unreadable, future or pre-1900 dates are invalid.

    Vectorized: the digit groups of every distinct text are read at once.

    Examples
    --------
    >>> values, status = normalize_dates(["1985-03-02", "02/03/1985", "2/3/85", "19850302",
    ...                                   "01/01/1900", "31/02/1985"], NormalizeRules())
    >>> values
    ['1985-03-02', '1985-03-02', '1985-03-02', '1985-03-02', '', '']
    >>> status.tolist()
    [1, 1, 1, 1, 3, 2]
    """
    texts = _S.strip(np.asarray(texts, dtype=str))
    n = texts.size
    if n == 0:
        return texts, np.zeros(0, dtype=np.int8)
    # a time part ("1985-03-02T00:00:00", "02/03/1985 00:00") is ignored
    if FAST_STRINGS:
        timed = _S.find(texts, ":") >= 0
        head = _S.partition(_S.partition(texts, " ")[0], "T")[0]
        texts = np.where(timed, head, texts)
    else:
        texts = np.array([_drop_time(t) for t in texts.tolist()], dtype=str)
    width = 10
    rest_ok = _S.str_len(texts) <= width
    chars = texts.astype(f"<U{width}").view(np.uint32).reshape(n, width)
    digit = (chars >= 48) & (chars <= 57)
    sep = np.isin(chars, [ord(c) for c in "/.- "])
    end = chars == 0
    well_formed = np.all(digit | sep | end, axis=1) & rest_ok & digit[:, 0]
    group = np.cumsum(sep, axis=1)
    value = np.zeros((n, 4), dtype=np.int64)
    length = np.zeros((n, 4), dtype=np.int64)
    rows = np.arange(n)
    for k in range(width):
        g = np.minimum(group[:, k], 3)
        d = digit[:, k]
        value[rows[d], g[d]] = value[rows[d], g[d]] * 10 + (chars[d, k].astype(np.int64) - 48)
        length[rows[d], g[d]] += 1
    n_groups = (length > 0).sum(axis=1)
    compact = well_formed & (n_groups == 1) & (length[:, 0] == 8)
    three = well_formed & (n_groups == 3) & (group[:, -1] <= 2) & np.all(length[:, :3] > 0, 1)
    iso_like = three & (length[:, 0] == 4)
    dmy = three & (length[:, 0] <= 2) & ((length[:, 2] == 2) | (length[:, 2] == 4))
    year = np.where(compact, value[:, 0] // 10_000, np.where(iso_like, value[:, 0], value[:, 2]))
    month = np.where(compact, value[:, 0] // 100 % 100, value[:, 1])
    day = np.where(compact, value[:, 0] % 100, np.where(iso_like, value[:, 2], value[:, 0]))
    if rules.date_order == "MDY":
        month, day = np.where(dmy, value[:, 0], month), np.where(dmy, value[:, 1], day)
    short = dmy & (length[:, 2] == 2)
    year = np.where(short, year + np.where(year > rules.two_digit_year_pivot, 1900, 2000), year)
    parsed = compact | iso_like | dmy
    parsed &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1) & (year < 9999)
    months = np.where(parsed, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(parsed, day - 1, 0).astype("timedelta64[D]")
    parsed &= days.astype("datetime64[M]") == months
    iso = np.datetime_as_string(days, unit="D")
    ph = parsed & np.isin(iso, list(_placeholder_days(rules)))
    today = np.datetime64("today", "D")
    ok = parsed & ~ph & (days <= today) & (days >= np.datetime64("1900-01-01", "D"))
    status = np.where(ph, PLACEHOLDER, np.where(ok, VALID, INVALID)).astype(np.int8)
    return np.where(ok, iso, "").tolist(), status

"""Emails and phones as comparable keys: one mailbox, one E.164 number, whatever the spelling.

Part of the normalization (see :mod:`omnijourney.identity._normalize` for the rules and the
field type); each function takes the distinct raw values and returns their keys and statuses.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Sequence
from typing import cast

import numpy as np

from omnijourney.identity._normalize import (
    _DOTLESS_PROVIDERS,
    _PLACEHOLDER_EMAIL_DOMAINS,
    _PLACEHOLDER_EMAIL_LOCALS,
    _S,
    _TAGGED_PROVIDERS,
    COUNTRY_PHONE_CODES,
    FAST_STRINGS,
    INVALID,
    PLACEHOLDER,
    VALID,
    NormalizeRules,
)

__all__ = [
    "country_code",
    "email_key",
    "infer_phone_country",
    "normalize_emails",
    "normalize_phones",
    "phone_key",
]


# --------------------------------------------------------------------------- emails


def email_key(text: str, rules: NormalizeRules) -> tuple[str | None, int]:
    """One email (see :func:`normalize_emails`)."""
    values, status = normalize_emails([text], rules)
    return values[0] or None, int(status[0])


_EMAIL_PARTS = re.compile(r"([a-z0-9!#$%&'*+/=?^_`{|}~.-]+)@([a-z0-9-]+(?:\.[a-z0-9-]+)+)")
# internationalised addresses (RFC 6531): letters and digits of any script
_EMAIL_PARTS_INTL = re.compile(r"([\w!#$%&'*+/=?^`{|}~.-]+)@([\w-]+(?:\.[\w-]+)+)")


def _intl_email(email: str) -> re.Match[str] | None:
    """The parts of an internationalised email (NFC), or None."""
    return _EMAIL_PARTS_INTL.fullmatch(unicodedata.normalize("NFC", email))


def _unicode_domain(domain: str) -> str:
    """A domain with its ``xn--`` (IDNA) labels read as Unicode, so that both spellings of one
    internationalised domain give one key."""
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = unicodedata.normalize("NFC", label.encode("ascii").decode("idna").lower())
        labels.append(label)
    return ".".join(labels)


def normalize_emails(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules
) -> tuple[list[str], np.ndarray]:
    """Emails in lower case without blanks; provider rules applied when asked.

    Internationalised addresses (``zoë@exämple.fr``, RFC 6531) are valid: letters of any
    script in Unicode normal form NFC, and a domain written in IDNA form (``xn--...``) gets the
    same key as its Unicode spelling.

    Examples
    --------
    >>> values, status = normalize_emails([" Jean.Martin+promo@Gmail.com", "test@test.com",
    ...                                    "jean@"], NormalizeRules())
    >>> values, status.tolist()
    (['jeanmartin@gmail.com', '', ''], [1, 3, 2])
    >>> normalize_emails(["Zoë@Exämple.fr", "zoë@xn--exmple-cua.fr"], NormalizeRules())[0]
    ['zoë@exämple.fr', 'zoë@exämple.fr']
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
        if m is None and not email.isascii():
            m = _intl_email(email)
        if m is None:
            add("")
            flag(PLACEHOLDER if email in placeholders else INVALID)
            continue
        local, domain = m.groups()
        if "xn--" in domain:
            domain = _unicode_domain(domain)
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

# calling code -> the country whose rules read national numbers (US and Canada share +1)
_CALLING: dict[int, str] = {}
for _country, _codes in COUNTRY_PHONE_CODES.items():
    _CALLING.setdefault(_codes[0], _country)

_COUNTRY_NAMES = {
    "FRANCE": "FR", "BELGIQUE": "BE", "BELGIUM": "BE", "BELGIE": "BE", "SUISSE": "CH",
    "SCHWEIZ": "CH", "SWITZERLAND": "CH", "DEUTSCHLAND": "DE", "GERMANY": "DE",
    "ALLEMAGNE": "DE", "ESPANA": "ES", "SPAIN": "ES", "ESPAGNE": "ES", "ITALIA": "IT",
    "ITALY": "IT", "ITALIE": "IT", "UNITED KINGDOM": "GB", "UK": "GB", "GREAT BRITAIN": "GB",
    "ROYAUME UNI": "GB", "ENGLAND": "GB", "IRELAND": "IE", "IRLANDE": "IE", "NEDERLAND": "NL",
    "NETHERLANDS": "NL", "PAYS BAS": "NL", "LUXEMBOURG": "LU", "PORTUGAL": "PT",
    "OSTERREICH": "AT", "AUSTRIA": "AT", "AUTRICHE": "AT", "UNITED STATES": "US", "USA": "US",
    "ETATS UNIS": "US", "CANADA": "CA", "AUSTRALIA": "AU", "AUSTRALIE": "AU", "MAROC": "MA",
    "MOROCCO": "MA",
    "FRA": "FR", "BEL": "BE", "CHE": "CH", "DEU": "DE", "ESP": "ES", "ITA": "IT", "GBR": "GB",
    "IRL": "IE", "NLD": "NL", "LUX": "LU", "PRT": "PT", "AUT": "AT", "CAN": "CA", "AUS": "AU",
    "MAR": "MA",
}  # fmt: skip


def country_code(text: str | None) -> str | None:
    """The ISO code of a country written as a code (``"fr"``, ``"FRA"``) or a name in English
    or in its own language (``"France"``, ``"Deutschland"``), among
    :data:`~omnijourney.identity._normalize.COUNTRY_PHONE_CODES`; None when unknown.

    Examples
    --------
    >>> country_code(" fr"), country_code("Australia"), country_code("Atlantis")
    ('FR', 'AU', None)
    """
    if text is None:
        return None
    folded = " ".join(
        "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        .upper()
        .replace("-", " ")
        .replace(".", " ")
        .split()
    )
    if folded in COUNTRY_PHONE_CODES:
        return folded
    return _COUNTRY_NAMES.get(folded)


def _calling_code(digits: str) -> int | None:
    """The known calling code an international number starts with (1 to 3 digits)."""
    for k in (1, 2, 3):
        if len(digits) > k and int(digits[:k]) in _CALLING:
            return int(digits[:k])
    return None


def infer_phone_country(texts: Sequence[str] | np.ndarray) -> str | None:
    """The country of most numbers written with their calling code (``+44...``, ``0044...``),
    when more than half of those numbers have it; None otherwise (no such number, or no clear
    majority). National numbers of records without a country are then read in it.

    Examples
    --------
    >>> infer_phone_country(["+61 2 9876 5432", "0412 345 678", "+61412345678", "+33612345678"])
    'AU'
    >>> infer_phone_country(["0412 345 678"]) is None
    True
    """
    counts: dict[int, int] = {}
    total = 0
    for text in texts.tolist() if isinstance(texts, np.ndarray) else texts:
        head = text.lstrip()[:12]
        if head[:1] != "+" and head[:2] != "00":
            continue
        digits = "".join(c for c in head if "0" <= c <= "9")
        if head[:1] != "+":
            if len(digits) < 10:
                continue
            digits = digits[2:]
        cc = _calling_code(digits)
        if cc is not None:
            counts[cc] = counts.get(cc, 0) + 1
            total += 1
    if not counts:
        return None
    best = max(sorted(counts), key=counts.__getitem__)
    return _CALLING[best] if 2 * counts[best] > total else None


def _phone_value(text: str, country: str | None) -> str:
    """E.164 text of one phone number, its national key (the digits as typed) when it has no
    calling code and cannot be read in ``country``, or "" when it cannot be read."""
    digits = "".join(c for c in text if "0" <= c <= "9")
    if text.startswith("+"):
        full = digits if len(digits) >= 8 else ""
    elif digits.startswith("00") and len(digits) >= 10 and digits[2] != "0":
        full = digits[2:]
    else:
        full = ""
        if country is not None:
            cc, nsn_len, trunk = COUNTRY_PHONE_CODES[country]
            if (
                trunk
                and digits.startswith(trunk)
                and (len(digits) == nsn_len + 1 if nsn_len else 7 <= len(digits) <= 13)
            ):
                full = f"{cc}{digits[1:]}"
            elif nsn_len and len(digits) == nsn_len and not digits.startswith("0"):
                full = f"{cc}{digits}"
        if not full:
            return digits if 6 <= len(digits) <= 15 else ""
    if not (8 <= len(full) <= 15) or full.startswith("0"):
        return ""
    return "+" + full


def phone_key(
    text: str, rules: NormalizeRules, country: str | None = None
) -> tuple[str | None, int]:
    """One phone: the reference for :func:`normalize_phones`."""
    country = country or rules.default_country
    text = text.strip()
    if len(text) > 32:
        return None, INVALID
    digits = "".join(c for c in text if "0" <= c <= "9")
    if len(digits) >= 6 and max(digits.count(d) for d in set(digits)) >= len(digits) - 1:
        return None, PLACEHOLDER
    out = _phone_value(text, country)
    if not out:
        return None, INVALID
    if text in rules.placeholder_phones or out in {
        _phone_value(p.strip(), country) for p in rules.placeholder_phones
    }:
        return None, PLACEHOLDER
    return out, VALID


def normalize_phones(
    texts: Sequence[str] | np.ndarray, rules: NormalizeRules, country: str | None = None
) -> tuple[list[str], np.ndarray]:
    """Phones in E.164 (``"+33612345678"``), or as national keys when no country reads them.

    A number with its calling code (``+33 6 12 34 56 78``, ``0033612345678``) is read as
    such. A national number (``06.12.34.56.78``, or ``612345678`` without its trunk prefix) is
    read in ``country`` (the record's), else ``rules.default_country``; when neither is given,
    or the number does not fit that country's numbering (a 7-digit local number), it stays a
    *national key*: its digits as typed (``"5551234"``), equal for every spelling of the
    number. Numbers of one or two repeated digits are placeholders; numbers of fewer than 6
    digits are invalid. Vectorized over the distinct values.

    Examples
    --------
    >>> fr = NormalizeRules(default_country="FR")
    >>> values, status = normalize_phones(["06 12 34 56 78", "+33 6.12.34.56.78",
    ...                                    "0033612345678", "0000000000", "12"], fr)
    >>> values, status.tolist()
    (['+33612345678', '+33612345678', '+33612345678', '', ''], [1, 1, 1, 3, 2])
    >>> normalize_phones(["(555) 123-4567", "555-1234"], NormalizeRules())[0]
    ['5551234567', '5551234']
    >>> normalize_phones(["(555) 123-4567"], NormalizeRules(), country="US")[0]
    ['+15551234567']
    """
    country = country or rules.default_country
    texts = cast(np.ndarray, _S.strip(np.asarray(texts, dtype=str)))
    n = texts.size
    if n == 0:
        # the empty array itself, not a list
        return texts, np.zeros(0, dtype=np.int8)  # type: ignore[return-value]
    lengths = _S.str_len(texts)
    too_long = lengths > 32
    width = int(max(1, min(32, lengths.max())))
    chars = np.where(too_long, "", texts).astype(f"<U{width}").view(np.uint32).reshape(n, width)
    is_digit = (chars >= 48) & (chars <= 57)
    plus = chars[:, 0] == ord("+")
    # the digits read left to right into an integer (15 digits fit in int64)
    value = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    digit = np.where(is_digit, chars - 48, 0).astype(np.int8)
    # one position at a time, over contiguous rows of the transposed matrices
    digit_t, is_digit_t = np.ascontiguousarray(digit.T), np.ascontiguousarray(is_digit.T)
    for k in range(width):
        take = is_digit_t[k] & (count < 17)
        value = np.where(take, value * 10 + digit_t[k], value)
        count += is_digit_t[k]
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
    local = np.zeros(n, dtype=bool)
    if country is not None:
        cc, nsn_len, trunk = COUNTRY_PHONE_CODES[country]
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
    # numbers no country reads: their digits as typed (leading zeros kept)
    national_key = rest & ~local & (count >= 6) & (count <= 15) & ~too_long
    # placeholders: one or two repeated digits (0000000000, 0600000000) or a listed number
    at = np.flatnonzero(is_digit.ravel())
    per_digit = np.bincount((at // width) * 10 + digit.ravel()[at], minlength=n * 10)
    most = per_digit.reshape(n, 10).max(axis=1)
    repeated = (most >= count - 1) & (count >= 6)
    values = _S.add("+", np.where(valid, e164, 0).astype(str))
    if national_key.any():
        digits = value[national_key].astype(str)
        widths = count[national_key]
        if FAST_STRINGS:
            padded = _S.zfill(digits, widths)
        else:
            padded = np.array([d.zfill(w) for d, w in zip(digits.tolist(), widths.tolist())])
        values = values.astype(f"<U{max(values.dtype.itemsize // 4, 16)}")
        values[national_key] = padded
        valid |= national_key
    listed = [v for v in (_phone_value(p.strip(), country) for p in rules.placeholder_phones) if v]
    ph = repeated | np.isin(texts, list(rules.placeholder_phones))
    ph |= valid & np.isin(values, listed)
    status = np.where(ph, PLACEHOLDER, np.where(valid, VALID, INVALID)).astype(np.int8)
    return np.where(status == VALID, values, "").tolist(), status

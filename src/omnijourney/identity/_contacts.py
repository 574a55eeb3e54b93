"""Emails and phones as comparable keys: one mailbox, one E.164 number, whatever the spelling.

Part of the normalization (see :mod:`omnijourney.identity._normalize` for the rules and the
field type); each function takes the distinct raw values and returns their keys and statuses.
"""

from __future__ import annotations

import re
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
    INVALID,
    PLACEHOLDER,
    VALID,
    NormalizeRules,
)

__all__ = ["email_key", "normalize_emails", "normalize_phones", "phone_key"]


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
    cc, nsn_len, trunk = COUNTRY_PHONE_CODES[rules.default_country]
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
    at = np.flatnonzero(is_digit.ravel())
    per_digit = np.bincount((at // width) * 10 + digit.ravel()[at], minlength=n * 10)
    most = per_digit.reshape(n, 10).max(axis=1)
    repeated = (most >= count - 1) & (count >= 6)
    values = _S.add("+", np.where(valid, e164, 0).astype(str))
    listed = [v for v in (_e164(p, rules) for p in rules.placeholder_phones) if v]
    ph = repeated | np.isin(texts, list(rules.placeholder_phones))
    ph |= valid & np.isin(values, listed)
    status = np.where(ph, PLACEHOLDER, np.where(valid, VALID, INVALID)).astype(np.int8)
    return np.where(status == VALID, values, "").tolist(), status

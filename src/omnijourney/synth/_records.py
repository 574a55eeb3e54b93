"""Noisy source records (web, loyalty, call centre, orders) drawn from a known population."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.synth import _names as N
from omnijourney.synth._population import (
    SEGMENTS,
    STREETS,
    Population,
    digit_text,
    unique_numbers,
)
from omnijourney.tables import ColumnSpec, Table, code_dtype

__all__ = [
    "COLUMNS",
    "PLACEHOLDER_EMAILS",
    "PLACEHOLDER_NAMES",
    "PLACEHOLDER_PHONES",
    "SOURCES",
    "STORE_PHONES",
    "make_records",
]

SOURCES = ("web", "loyalty", "call_centre", "orders")
COLUMNS = (
    "source", "record_id", "first_name", "last_name", "email", "phone", "address", "postcode",
    "city", "country", "date_of_birth", "loyalty_id", "account_id", "created", "updated",
    "consent_email", "true_person_id", "true_household_id",
)  # fmt: skip
_PREFIX = ("WEB", "LOY", "CC", "ORD")
_WEB, _LOY, _CC, _ORD = range(4)

# ----------------------------------------------------------------------------- who is where

# Probability that a person has a record in (web, loyalty, call_centre, orders), by segment.
PRESENCE: dict[str, tuple[float, float, float, float]] = {
    "web_autonomous": (0.95, 0.15, 0.10, 0.85),
    "store_relational": (0.15, 0.92, 0.30, 0.10),
    "multichannel": (0.85, 0.80, 0.35, 0.75),
    "assisted": (0.05, 0.75, 0.92, 0.10),
}
# Source given to a person the draw left without any record (everyone is somewhere).
MAIN_SOURCE: dict[str, str] = {
    "web_autonomous": "web",
    "store_relational": "loyalty",
    "multichannel": "loyalty",
    "assisted": "call_centre",
}
# Mean number of orders of a person who orders (1 + geometric).
MEAN_ORDERS = 1.5
# Second record of the same person in the same source (second web account, lost loyalty card,
# call-centre agent creating a new file instead of finding the existing one).
DUPLICATE_RATE = {"web": 0.02, "loyalty": 0.02, "call_centre": 0.03}
# Share of records never updated after their creation.
NEVER_UPDATED_RATE = 0.4

# ----------------------------------------------------------------------------- fields filled

# Probability that each field is filled, by source (missing values are None).
EMAIL_PRESENT = {"web": 1.0, "loyalty": 0.70, "call_centre": 0.35, "orders": 1.0}
PHONE_PRESENT = {"web": 0.55, "loyalty": 0.85, "call_centre": 0.97, "orders": 0.92}
ADDRESS_PRESENT = {"web": 0.45, "loyalty": 0.90, "call_centre": 0.55, "orders": 1.0}
DOB_PRESENT = {"web": 0.40, "loyalty": 0.80, "call_centre": 0.30, "orders": 0.0}
# Probability that the person opted in to emails, by source.
CONSENT_RATE = {"web": 0.45, "loyalty": 0.60, "call_centre": 0.30, "orders": 0.35}
# Web records quoting the person's loyalty card (cards linked to the account), call-centre
# records quoting it or the web account, orders quoting the card.
LOYALTY_ON_WEB_RATE = 0.15
LOYALTY_ON_CALL_RATE = 0.30
ACCOUNT_ON_CALL_RATE = 0.10
LOYALTY_ON_ORDER_RATE = 0.10
# Orders placed logged in (they carry the web account) when the account already existed.
LOGGED_IN_ORDER_RATE = 0.70

# ----------------------------------------------------------------------------- noise

# Name spelling styles and their shares by source: tills write upper case without accents.
NAME_STYLES = ("proper", "proper_ascii", "lower", "lower_ascii", "upper", "upper_ascii")
NAME_STYLE_SHARES = {
    "web": (0.74, 0.12, 0.06, 0.03, 0.02, 0.03),
    "loyalty": (0.30, 0.10, 0.0, 0.0, 0.05, 0.55),
    "call_centre": (0.55, 0.15, 0.0, 0.0, 0.15, 0.15),
    "orders": (0.70, 0.12, 0.10, 0.04, 0.02, 0.02),
}
# Call-centre agents write the last name in upper case ("DUPONT Jean") in this share of files.
CALL_UPPER_LAST_NAME_RATE = 0.40
# One-letter typo (substitution, deletion or transposition) in the first or the last name.
TYPO_RATE = 0.04
# First and last names swapped.
SWAP_NAMES_RATE = 0.015
# First name left empty, by source.
MISSING_FIRST_NAME = {"web": 0.01, "loyalty": 0.02, "call_centre": 0.08, "orders": 0.005}
# Street type abbreviated ("av.", "bd", "r") and comma after the number.
STREET_ABBREVIATION_RATE = 0.10
ADDRESS_COMMA_RATE = 0.05
# Orders store postcodes as numbers: the leading zero of "06000" is lost this often.
POSTCODE_LOST_ZERO_RATE = 0.30
# Email variants of the same mailbox (applied independently to filled emails).
EMAIL_CASE_RATE = 0.03  # "Jean.Martin@Gmail.com"
GMAIL_DOTS_RATE = 0.05  # of gmail.com addresses: dots removed or inserted (same mailbox)
EMAIL_TAG_RATE = 0.01  # "jean.martin+promo@gmail.com"
EMAIL_WHITESPACE_RATE = 0.01  # leading or trailing blanks
EMAIL_DOMAIN_TYPO_RATE = 0.003  # "gmial.com"
_EMAIL_NOISE = (
    EMAIL_CASE_RATE, GMAIL_DOTS_RATE, EMAIL_TAG_RATE, EMAIL_WHITESPACE_RATE, EMAIL_DOMAIN_TYPO_RATE
)  # fmt: skip
# Probability that a record of a person whose household has a family mailbox (landline)
# carries it instead of the personal email (mobile): the trap that merges family members.
HOUSEHOLD_EMAIL_USE = {"web": 0.0, "loyalty": 0.50, "call_centre": 0.40, "orders": 0.35}
LANDLINE_USE = {"web": 0.05, "loyalty": 0.15, "call_centre": 0.35, "orders": 0.10}
# Phone formats of the same number and their shares by source.
PHONE_FORMATS = (
    "+33#########", "+33 # ## ## ## ##", "0# ## ## ## ##", "0#.##.##.##.##", "0#########",
    "0033#########", "#########",
)  # fmt: skip
PHONE_FORMAT_SHARES = {
    "web": (0.10, 0.10, 0.30, 0.10, 0.40, 0.0, 0.0),
    "loyalty": (0.0, 0.0, 0.15, 0.0, 0.70, 0.0, 0.15),
    "call_centre": (0.60, 0.0, 0.0, 0.0, 0.20, 0.20, 0.0),
    "orders": (0.05, 0.15, 0.35, 0.10, 0.30, 0.05, 0.0),
}
# Placeholders typed to get past mandatory fields, in every source but the web (whose login
# email must be real): share of records, whatever the field held.
PLACEHOLDER_EMAIL_RATE = 0.010
PLACEHOLDER_PHONE_RATE = 0.005
PLACEHOLDER_NAME_RATE = 0.003  # first name
PLACEHOLDER_ADDRESS_RATE = 0.003
PLACEHOLDER_DOB_RATE = 0.003  # loyalty: the till's default date
PLACEHOLDER_EMAILS = ("test@test.com", "noemail@noemail.com")
PLACEHOLDER_PHONES = ("0000000000", "0600000000")
PLACEHOLDER_NAMES = ("N/A", "inconnu", "XXX")
PLACEHOLDER_DOB = "01/01/1900"
# Loyalty records given the store's own number instead of the customer's.
STORE_PHONE_RATE = 0.005
STORE_PHONES = ("0140200500", "0472101010", "0491330000", "0561220202", "0240484848")

_DAY_US = 86_400 * 1_000_000
_SECOND_US = 1_000_000

_EMAIL_TAGS = ("promo", "shop", "news", "achats", "fid")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name_variants(names: tuple[str, ...]) -> np.ndarray:
    """Spellings of each name in the order of :data:`NAME_STYLES`: shape (6, len(names))."""
    rows = []
    for name in names:
        folded = N.fold_accents(name)
        rows.append((name, folded, name.lower(), folded.lower(), name.upper(), folded.upper()))
    return np.array(rows, dtype=object).T.copy()


_FIRST_VARIANTS = _name_variants(N.FIRST_NAMES)
_LAST_VARIANTS = _name_variants(N.SURNAMES)
# Streets: proper, abbreviated, upper ASCII, upper ASCII abbreviated.
_STREET_VARIANTS = np.array(
    [(s, a, N.fold_accents(s).upper(), N.fold_accents(a).upper())
     for s, a in ((s, N.abbreviate_street(s)) for s in STREETS)],
    dtype=object,
).T.copy()  # fmt: skip
_STREET_INDEX = {s: i for i, s in enumerate(STREETS)}
_CITY_NAMES = sorted({c for c, _ in N.CITIES})
_CITY_INDEX = {c: i for i, c in enumerate(_CITY_NAMES)}
_CITY_VARIANTS = np.array(
    [(c, N.fold_accents(c).upper()) for c in _CITY_NAMES], dtype=object
).T.copy()
_NUM = np.array([str(i) for i in range(1000)], dtype=object)
_PLACEHOLDER_KEY = 10**9


def _per_source(table: dict[str, float], src: np.ndarray) -> np.ndarray:
    return np.array([table.get(s, 0.0) for s in SOURCES])[src]


def _draw_styles(
    shares: Mapping[str, Sequence[float]], src: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    out = np.zeros(src.size, dtype=np.int64)
    for k, s in enumerate(SOURCES):
        m = np.flatnonzero(src == k)
        p = np.asarray(shares[s], dtype=np.float64)
        out[m] = rng.choice(p.size, size=m.size, p=p / p.sum())
    return out


def _typo(word: str, kind: int, u: float, letter: int) -> str:
    """One substitution (0), deletion (1) or transposition (2) at relative position ``u``."""
    if len(word) < 3:
        kind = 0
    pos = min(int(u * len(word)), len(word) - 1)
    if kind == 2:
        pos = min(pos, len(word) - 2)
        if word[pos] != word[pos + 1]:
            return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        kind = 0
    if kind == 1:
        return word[:pos] + word[pos + 1 :]
    new = _LETTERS[letter]
    if new == word[pos].lower():
        new = _LETTERS[(letter + 1) % 26]
    return word[:pos] + (new.upper() if word[pos].isupper() else new) + word[pos + 1 :]


def _email_noise(email: str, kinds: np.ndarray, u: float, tag: int) -> str:
    local, _, domain = email.partition("@")
    if kinds[1] and domain == "gmail.com":
        pos = 1 + int(u * (len(local) - 1))
        if ("." in local and u < 0.5) or "." in local[pos - 1 : pos + 1] or len(local) < 2:
            local = local.replace(".", "")
        else:
            local = local[:pos] + "." + local[pos:]
    if kinds[2]:
        local = f"{local}+{_EMAIL_TAGS[tag]}"
    if kinds[4]:
        domain = N.DOMAIN_TYPOS.get(domain, domain)
    if kinds[0]:
        if u < 0.3:
            local, domain = local.upper(), domain.upper()
        else:
            local = ".".join(part.capitalize() for part in local.split("."))
    out = f"{local}@{domain}"
    if kinds[3]:
        out = f" {out}" if u < 0.5 else f"{out} "
    return out


def _short_date(day: np.datetime64) -> str:
    """``"2/3/85"``: day and month without zeros, two-digit year."""
    y, m, d = str(day).split("-")
    return f"{int(d)}/{int(m)}/{y[2:]}"


def _coded(
    key: np.ndarray, text_of: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Category codes and sorted labels of a text column described by integer keys.

    Rows with equal keys hold equal texts (distinct keys may share a text: they are merged);
    -1 marks a null. ``text_of(keys, rows)`` gives the texts of the distinct keys, one row of
    each being in ``rows``. Only distinct keys are turned into text and sorted, so the codes
    and labels equal those :meth:`Table.from_columns` builds, without hashing every row.
    """
    valid = np.flatnonzero(key >= 0)
    uniq, first, inverse = np.unique(key[valid], return_index=True, return_inverse=True)
    texts = np.asarray(text_of(uniq, valid[first]), dtype=object).tolist()
    order = sorted(range(len(texts)), key=texts.__getitem__)
    ordered = np.empty(len(texts), dtype=object)
    ordered[:] = [texts[i] for i in order]
    new = run_starts(ordered)
    rank = np.empty(len(texts), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.cumsum(new) - 1
    labels = ordered[new]
    codes = np.full(key.size, -1, dtype=code_dtype(labels.size))
    codes[valid] = rank[inverse.reshape(-1)]
    return codes, labels


def _phone_text(keys: np.ndarray) -> np.ndarray:
    """Texts of phone keys ``format * 10**10 + number`` (formats 8 and 9: stores, placeholders)."""
    out = np.empty(keys.size, dtype=object)
    fmt, rest = np.divmod(keys, 10**10)
    for k, tpl in enumerate(PHONE_FORMATS):
        sel = fmt == k
        out[sel] = digit_text(tpl, rest[sel])
    out[fmt == 8] = np.array(STORE_PHONES, dtype=object)[rest[fmt == 8]]
    out[fmt == 9] = np.array(PLACEHOLDER_PHONES, dtype=object)[rest[fmt == 9]]
    return out


def _address_text(keys: np.ndarray) -> np.ndarray:
    """Texts of address keys ``((number * 2 + comma) * 4 + variant) * n_streets + street``."""
    out = np.empty(keys.size, dtype=object)
    ph = keys >= _PLACEHOLDER_KEY
    out[ph] = np.array(PLACEHOLDER_NAMES, dtype=object)[keys[ph] - _PLACEHOLDER_KEY]
    rest, street = np.divmod(keys[~ph], len(STREETS))
    rest, variant = np.divmod(rest, 4)
    number, comma = np.divmod(rest, 2)
    sep = np.where(comma == 1, ", ", " ").astype(object)
    out[~ph] = _NUM[number] + sep + _STREET_VARIANTS[variant, street]
    return out


def _dob_text(keys: np.ndarray) -> np.ndarray:
    """Texts of birth-date keys ``format * 10**6 + days since 1970 + 10**5``."""
    out = np.empty(keys.size, dtype=object)
    fmt, rest = np.divmod(keys, 10**6)
    day = (rest - 10**5).astype("datetime64[D]")
    iso = fmt == 0
    out[iso] = np.datetime_as_string(day[iso], unit="D").astype(object)
    sel = fmt == 1
    d = day[sel]
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    out[sel] = digit_text("##/##/####", dom * 1_000_000 + month * 10_000 + year)
    sel = np.flatnonzero(fmt == 2)
    out[sel] = [_short_date(x) for x in day[sel]]
    out[fmt == 3] = PLACEHOLDER_DOB
    return out


def _draw_records(
    pop: Population, rng: np.random.Generator, t0: int, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Person, source, duplicate flag and creation time of every record, by source."""
    n = len(pop)
    code = {s: i for i, s in enumerate(SEGMENTS)}
    seg = np.fromiter(map(code.__getitem__, pop.segment.tolist()), np.int64, n)
    probs = np.array([PRESENCE[s] for s in SEGMENTS])[seg]
    has = rng.random((n, len(SOURCES))) < probs
    main = np.array([SOURCES.index(MAIN_SOURCE[s]) for s in SEGMENTS])[seg]
    nowhere = np.flatnonzero(~has.any(axis=1))
    has[nowhere, main[nowhere]] = True
    since = pop.customer_since.astype(np.int64)

    persons, sources, dups, created = [], [], [], []
    for k, s in enumerate(SOURCES):
        who = np.flatnonzero(has[:, k])
        lo = since[who]
        if k == _ORD:
            lo = np.maximum(lo, t0 - 365 * _DAY_US)
            count = rng.geometric(1.0 / MEAN_ORDERS, size=who.size)
            who = np.repeat(who, count)
            lo = np.repeat(lo, count)
            t = lo + ((end - lo) * rng.random(who.size)).astype(np.int64)
            dup = np.zeros(who.size, dtype=bool)
        else:
            t = lo + ((end - lo) * rng.beta(1.0, 4.0, size=who.size)).astype(np.int64)
            again = rng.random(who.size) < DUPLICATE_RATE[s]
            t2 = t[again] + ((end - t[again]) * rng.random(int(again.sum()))).astype(np.int64)
            who = np.concatenate([who, who[again]])
            t = np.concatenate([t, t2])
            dup = np.concatenate([np.zeros(again.size, bool), np.ones(int(again.sum()), bool)])
        t = t // _SECOND_US * _SECOND_US
        order = np.lexsort((dup, who, t))
        persons.append(who[order])
        sources.append(np.full(who.size, k, dtype=np.int64))
        dups.append(dup[order])
        created.append(t[order])
    return (
        np.concatenate(persons),
        np.concatenate(sources),
        np.concatenate(dups),
        np.concatenate(created),
    )


def _first_of(p: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Row of the first record of each person among ``rows`` (-1 when none)."""
    out = np.full(n, -1, dtype=np.int64)
    persons, first = np.unique(p[rows], return_index=True)
    out[persons] = rows[first]
    return out


def _alternate_emails(pop: Population, who: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A second mailbox for persons opening a second account (other provider or +tag)."""
    taken = set(pop.email.tolist())
    taken.update(e for e in pop.household_email.tolist() if e is not None)
    other = rng.integers(1, len(N.EMAIL_PROVIDERS), size=who.size)
    use_tag = rng.random(who.size) < 0.4
    tags = rng.integers(0, len(_EMAIL_TAGS), size=who.size)
    out = []
    for e, o, t, tg in zip(pop.email[who].tolist(), other.tolist(), use_tag.tolist(), tags):
        local, _, domain = e.partition("@")
        providers = N.EMAIL_PROVIDERS
        if t:
            cand = f"{local}+{_EMAIL_TAGS[tg]}@{domain}"
        else:
            cand = f"{local}@{providers[(providers.index(domain) + o) % len(providers)]}"
        k = 2
        base_local, _, base_domain = cand.partition("@")
        while cand in taken:
            cand = f"{base_local}{k}@{base_domain}"
            k += 1
        taken.add(cand)
        out.append(cand)
    return np.array(out, dtype=object)


def make_records(
    pop: Population, rng: np.random.Generator, *, start: np.datetime64, days: int
) -> tuple[Table, dict[str, np.ndarray]]:
    """Draw the customer records each source holds about the population, with realistic noise.

    Parameters
    ----------
    pop : Population
        The true persons (see :func:`~omnijourney.synth._population.make_population`).
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same records.
    start : numpy.datetime64
        First instant of the observed period.
    days : int
        Length of the period; records are created up to its end.

    Returns
    -------
    records : Table
        One row per source record (ordered by source, then by creation time), with columns
        ``source``, ``record_id``, ``first_name``, ``last_name``, ``email``, ``phone``,
        ``address``, ``postcode``, ``city``, ``country``, ``date_of_birth`` (text as the
        source stores it), ``loyalty_id``, ``account_id``, ``created``, ``updated``,
        ``consent_email`` and the truth ``true_person_id`` and ``true_household_id``.
    primary : dict of str to numpy.ndarray
        For each source, an object array of length ``len(pop)``: the record id of each
        person's main record there (the older one for duplicates, the first order), or None.

    Notes
    -----
    Presence in each source depends on the segment (:data:`PRESENCE`); the noise rates are the
    module constants. The truth columns are exact whatever the noise.
    """
    n = len(pop)
    t0 = int(np.datetime64(start).astype("datetime64[us]").astype(np.int64))
    end = t0 + int(days) * _DAY_US
    p, src, dup, created = _draw_records(pop, rng, t0, end)
    m = p.size

    # --- ids, cards, accounts, primary records
    record_id = np.empty(m, dtype=object)
    for k, prefix in enumerate(_PREFIX):
        rows = np.flatnonzero(src == k)
        width = max(7, len(str(rows.size)))
        record_id[rows] = digit_text(f"{prefix}-{'#' * width}", np.arange(1, rows.size + 1))
    is_loy = src == _LOY
    is_web = src == _WEB
    card = np.full(m, -1, dtype=np.int64)
    card[is_loy] = unique_numbers(0, 10**11, int(is_loy.sum()), rng)
    account = np.full(m, -1, dtype=np.int64)
    account[is_web] = unique_numbers(10**7, 9 * 10**7, int(is_web.sum()), rng)
    first_row = {}
    primary: dict[str, np.ndarray] = {}
    for k, s in enumerate(SOURCES):
        rows = np.flatnonzero((src == k) & ~dup)
        first_row[k] = _first_of(p, rows, n)
        prim = np.full(n, None, dtype=object)
        has = first_row[k] >= 0
        prim[has] = record_id[first_row[k][has]]
        primary[s] = prim
    card_of = np.where(first_row[_LOY] >= 0, card[first_row[_LOY]], -1)
    web_row = first_row[_WEB]
    account_of = np.where(web_row >= 0, account[web_row], -1)
    account_since = np.where(web_row >= 0, created[web_row], np.iinfo(np.int64).max)

    # --- times: updates, and whether the address predates a move
    never = rng.random(m) < NEVER_UPDATED_RATE
    updated = created + ((end - created) * rng.random(m) ** 2).astype(np.int64)
    updated = np.where(never, created, updated // _SECOND_US * _SECOND_US)
    as_of = np.where(src == _ORD, created, updated)
    moved_on = pop.moved_on.astype(np.int64)[p]
    old_address = (~np.isnat(pop.moved_on[p])) & (as_of < moved_on)

    # --- quoted card and account
    u = rng.random(m)
    quote_card = np.where(src == _WEB, u < LOYALTY_ON_WEB_RATE, False) & ~dup
    quote_card |= (src == _CC) & (u < LOYALTY_ON_CALL_RATE)
    quote_card |= (src == _ORD) & (u < LOYALTY_ON_ORDER_RATE)
    loyalty_key = np.where(is_loy, card, np.where(quote_card, card_of[p], -1))
    v = rng.random(m)
    logged_in = (src == _ORD) & (v < LOGGED_IN_ORDER_RATE) & (account_since[p] <= created)
    quote_account = logged_in | ((src == _CC) & (v < ACCOUNT_ON_CALL_RATE))
    account_key = np.where(is_web, account, np.where(quote_account, account_of[p], -1))

    # --- names
    style = _draw_styles(NAME_STYLE_SHARES, src, rng)
    fi = pop.first_name_index[p]
    li = pop.last_name_index[p]
    first = _FIRST_VARIANTS[style, fi]
    last_style = np.where(
        (src == _CC) & (rng.random(m) < CALL_UPPER_LAST_NAME_RATE), 4 + style % 2, style
    )
    last = _LAST_VARIANTS[last_style, li]
    swap = rng.random(m) < SWAP_NAMES_RATE
    first[swap], last[swap] = last[swap], first[swap]
    first[rng.random(m) < _per_source(MISSING_FIRST_NAME, src)] = None
    typo_rows = np.flatnonzero(rng.random(m) < TYPO_RATE)
    typo_kind = rng.integers(0, 3, size=typo_rows.size)
    pos = rng.random(typo_rows.size)
    letters = rng.integers(0, 26, size=typo_rows.size)
    on_first = rng.random(typo_rows.size) < 0.5
    for i, r in enumerate(typo_rows.tolist()):
        target = first if on_first[i] and first[r] is not None else last
        target[r] = _typo(target[r], int(typo_kind[i]), float(pos[i]), int(letters[i]))
    manual = src != _WEB
    name_ph = manual & (rng.random(m) < PLACEHOLDER_NAME_RATE)
    first[name_ph] = np.array(PLACEHOLDER_NAMES, dtype=object)[
        rng.integers(0, len(PLACEHOLDER_NAMES), size=int(name_ph.sum()))
    ]

    # --- emails
    # keys: the person's mailbox p, the family mailbox n + household, any other text 2n + row
    email = pop.email[p]
    email_key = p.copy()
    dup_web = np.flatnonzero(dup & is_web)
    email[dup_web] = _alternate_emails(pop, p[dup_web], rng)
    email_key[dup_web] = 2 * n + dup_web
    family = pop.household_email[p]
    use_family = (
        family.astype(bool) & ~logged_in & (rng.random(m) < _per_source(HOUSEHOLD_EMAIL_USE, src))
    )
    email[use_family] = family[use_family]
    email_key[use_family] = n + pop.household_index[p[use_family]]
    absent = rng.random(m) >= _per_source(EMAIL_PRESENT, src)
    email[absent] = None
    email_key[absent] = -1
    noise = rng.random((m, len(_EMAIL_NOISE))) < np.array(_EMAIL_NOISE)
    noisy = np.flatnonzero(noise.any(axis=1) & email.astype(bool))
    eu = rng.random(noisy.size)
    tags = rng.integers(0, len(_EMAIL_TAGS), size=noisy.size)
    for i, r in enumerate(noisy.tolist()):
        email[r] = _email_noise(email[r], noise[r], float(eu[i]), int(tags[i]))
    email_key[noisy] = 2 * n + noisy
    email_ph = np.flatnonzero(manual & (rng.random(m) < PLACEHOLDER_EMAIL_RATE))
    email[email_ph] = np.array(PLACEHOLDER_EMAILS, dtype=object)[
        rng.integers(0, len(PLACEHOLDER_EMAILS), size=email_ph.size)
    ]
    email_key[email_ph] = 2 * n + email_ph

    # --- phones
    land = pop.landline_nsn[p]
    use_land = (land > 0) & (rng.random(m) < _per_source(LANDLINE_USE, src))
    nsn = np.where(use_land, land, pop.mobile_nsn[p])
    fmt = _draw_styles(PHONE_FORMAT_SHARES, src, rng)
    filled = rng.random(m) < _per_source(PHONE_PRESENT, src)
    phone_key = np.where(filled, fmt * 10**10 + nsn, -1)
    store = is_loy & (rng.random(m) < STORE_PHONE_RATE)
    phone_key[store] = 8 * 10**10 + rng.choice(
        len(STORE_PHONES), size=int(store.sum()), p=N.zipf_weights(len(STORE_PHONES), 1.0, 0.0)
    )
    phone_ph = manual & (rng.random(m) < PLACEHOLDER_PHONE_RATE)
    phone_key[phone_ph] = 9 * 10**10 + rng.integers(
        0, len(PLACEHOLDER_PHONES), size=int(phone_ph.sum())
    )

    # --- addresses
    street_of = np.fromiter(map(_STREET_INDEX.__getitem__, pop.street.tolist()), np.int64, n)
    city_of = np.fromiter(map(_CITY_INDEX.__getitem__, pop.city.tolist()), np.int64, n)
    number = pop.street_number[p]
    street = street_of[p]
    city = city_of[p]
    postcode = pop.postcode[p]
    old = np.flatnonzero(old_address)
    if old.size:
        q = p[old]
        number[old] = pop.previous_street_number[q]
        street[old] = [_STREET_INDEX[s] for s in pop.previous_street[q].tolist()]
        city[old] = [_CITY_INDEX[c] for c in pop.previous_city[q].tolist()]
        postcode[old] = pop.previous_postcode[q]
    upper = (style >= 4) & (src != _WEB)
    abbrev = rng.random(m) < STREET_ABBREVIATION_RATE
    has_address = rng.random(m) < _per_source(ADDRESS_PRESENT, src)
    comma = rng.random(m) < ADDRESS_COMMA_RATE
    variant = 2 * upper + abbrev
    address_key = ((number * 2 + comma) * 4 + variant) * len(STREETS) + street
    city_text = _CITY_VARIANTS[upper.astype(np.int64), city]
    lost_zero = (src == _ORD) & (rng.random(m) < POSTCODE_LOST_ZERO_RATE)
    lost = [r for r in np.flatnonzero(lost_zero).tolist() if postcode[r][0] == "0"]
    postcode[lost] = [postcode[r][1:] for r in lost]
    country = np.array(["FR", "France", "FR", "FR"], dtype=object)[src]
    for arr in (postcode, city_text, country):
        arr[~has_address] = None
    address_key[~has_address] = -1
    address_ph = manual & (rng.random(m) < PLACEHOLDER_ADDRESS_RATE)
    address_key[address_ph] = _PLACEHOLDER_KEY + rng.integers(
        0, len(PLACEHOLDER_NAMES), size=int(address_ph.sum())
    )

    # --- dates of birth as each source writes them
    dob_day = pop.date_of_birth.astype(np.int64)[p] + 10**5
    filled = rng.random(m) < _per_source(DOB_PRESENT, src)
    short = (src == _CC) & (rng.random(m) < 0.5)
    dob_format = np.where(src == _WEB, 0, np.where(short, 2, 1))
    dob_key = np.where(filled, dob_format * 10**6 + dob_day, -1)
    dob_key[is_loy & (rng.random(m) < PLACEHOLDER_DOB_RATE)] = 3 * 10**6

    consent = rng.random(m) < _per_source(CONSENT_RATE, src)
    free = {
        "source": np.array(SOURCES, dtype=object)[src],
        "first_name": first,
        "last_name": last,
        "postcode": postcode,
        "city": city_text,
        "country": country,
        "created": created.view("datetime64[us]"),
        "updated": updated.view("datetime64[us]"),
        "consent_email": consent,
    }
    kinds = dict.fromkeys(COLUMNS, "category")
    kinds.update(created="time", updated="time", consent_email="bool")
    table = Table.from_columns(free, kinds={k: kinds[k] for k in free})
    # High-cardinality texts are known through integer keys: code them without hashing rows.
    coded = {
        "record_id": _coded(np.arange(m), lambda u, r: record_id[r]),
        "email": _coded(email_key, lambda u, r: email[r]),
        "phone": _coded(phone_key, lambda u, r: _phone_text(u)),
        "address": _coded(address_key, lambda u, r: _address_text(u)),
        "date_of_birth": _coded(dob_key, lambda u, r: _dob_text(u)),
        "loyalty_id": _coded(loyalty_key, lambda u, r: digit_text("29###########", u)),
        "account_id": _coded(account_key, lambda u, r: digit_text("########", u)),
        "true_person_id": _coded(p, lambda u, r: pop.person_id[u]),
        "true_household_id": _coded(pop.household_index[p], lambda u, r: pop.household_id[p[r]]),
    }
    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for name in COLUMNS:
        if name in coded:
            data[name], labels[name] = coded[name]
        else:
            data[name] = table.raw(name)
            if kinds[name] == "category":
                labels[name] = table.labels(name)
    specs = {name: ColumnSpec(name, kinds[name]) for name in COLUMNS}
    return Table(data, labels, specs), primary

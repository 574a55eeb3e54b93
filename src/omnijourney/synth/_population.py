"""The true identities behind the synthetic data set: persons, households and their contacts."""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.synth import _names as N

__all__ = [
    "SEGMENTS",
    "SEGMENT_SHARES",
    "STREETS",
    "STREET_WEIGHTS",
    "Population",
    "digit_text",
    "make_population",
    "unique_numbers",
]

SEGMENTS = ("web_autonomous", "store_relational", "multichannel", "assisted")
SEGMENT_SHARES = (0.35, 0.30, 0.25, 0.10)

# Household sizes 1..5 and their shares among households.
HOUSEHOLD_SIZE_SHARES = (0.35, 0.33, 0.14, 0.12, 0.06)
# Members other than the first keep the household surname with this probability.
SHARED_SURNAME_RATE = 0.85
# Share of households with a landline (shared by every member).
LANDLINE_RATE = 0.40
# Share of multi-person households that use a shared family mailbox.
HOUSEHOLD_EMAIL_RATE = 0.25
# Share of households that move during the period (they keep a previous address).
MOVE_RATE = 0.06
# Share of movers who stay in the same commune.
MOVE_SAME_CITY_RATE = 0.5
# Share of customers recruited inside the period (the others were customers before it).
RECRUITED_IN_PERIOD_RATE = 0.25
# Mean seniority, in days, of customers recruited before the period.
MEAN_SENIORITY_DAYS = 3 * 365.0
# Share of mobile numbers in the +337 range (the others are +336).
MOBILE_7_RATE = 0.15

_DAY_US = 86_400 * 1_000_000
# House numbers: 1 + geometric(p), at most the cap (mean about 50, as on long streets).
STREET_NUMBER_P = 0.02
MAX_STREET_NUMBER = 400


def _street_names() -> tuple[tuple[str, ...], np.ndarray]:
    """Street names: every street type (rue, avenue, impasse...) with every name (de la Paix,
    Victor Hugo...) of :data:`~omnijourney.synth._names.STREETS`, weighted by the product of
    the type's and the name's weights there.

    About 1,500 streets instead of 153: with a few hundred communes, a customer base of 10^5
    households would otherwise hold many households at one made-up address (a quarter of them
    at 2 x 10^5 households), far more than the buildings of a real customer base do, and the
    share would keep growing with the population.
    """
    types: dict[str, float] = {}
    names: dict[str, float] = {}
    for street, w in zip(N.STREETS, N.STREET_WEIGHTS.tolist()):
        kind, _, name = street.partition(" ")
        if not name or street.startswith("grande rue"):
            continue
        types[kind] = types.get(kind, 0.0) + w
        names[name] = names.get(name, 0.0) + w
    streets = tuple(f"{t} {m}" for t in types for m in names)
    weights = np.outer(list(types.values()), list(names.values())).ravel()
    return streets, weights / weights.sum()


STREETS, STREET_WEIGHTS = _street_names()

# Email local-part patterns and their shares.
_EMAIL_PATTERNS = (
    ("first.last", 0.30),
    ("firstlast", 0.12),
    ("f.last", 0.08),
    ("last.first", 0.06),
    ("first_last", 0.05),
    ("first.lastYY", 0.12),
    ("firstlastNN", 0.08),
    ("firstYYYY", 0.05),
    ("first.lastNNN", 0.04),
    ("lastNN", 0.05),
    ("flastYY", 0.05),
)
_HOUSEHOLD_EMAIL_PATTERNS = ("famille.last", "last.famille", "leslast", "first.et.first2")

_FIRST_SLUG = np.array([N.slug(x) for x in N.FIRST_NAMES], dtype=object)
_FIRST_INITIAL = np.array([s[0] for s in _FIRST_SLUG], dtype=object)
_LAST_SLUG = np.array([N.slug(x) for x in N.SURNAMES], dtype=object)
_NUM2 = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_NUM3 = np.array([str(i) for i in range(1000)], dtype=object)
_YEAR = np.array([str(i) for i in range(2100)], dtype=object)


@attrs.frozen(eq=False)
class Population:
    """The true persons behind the records, one array element per person.

    Persons are numbered so that the members of a household are contiguous. Every attribute is
    a numpy array of length ``n``; object arrays hold ``str`` or ``None``.

    Attributes
    ----------
    person_id, household_id : numpy.ndarray of str
        ``"P0000001"``... and ``"H000001"``...
    segment : numpy.ndarray of str
        Channel appetence, one of :data:`SEGMENTS` (independent of the household).
    first_name, last_name, gender : numpy.ndarray of str
        Names as registered (with accents), gender ``"F"`` or ``"M"``.
    date_of_birth : numpy.ndarray of datetime64[D]
    email : numpy.ndarray of str
        The person's own mailbox (unique).
    mobile : numpy.ndarray of str
        E.164 mobile number (unique), ``"+336..."`` or ``"+337..."``.
    landline : numpy.ndarray of str or None
        The household's landline in E.164, shared by its members.
    household_email : numpy.ndarray of str or None
        A family mailbox shared by the members of some households.
    street_number, street, postcode, city, country : numpy.ndarray
        The current address, shared by the household.
    previous_address : numpy.ndarray of str or None
        ``"12 rue de la Paix, 75011 Paris"`` for persons whose household moved in the period.
    customer_since : numpy.ndarray of datetime64[us]
        First contact with the brand, before or inside the period.
    first_name_index, last_name_index : numpy.ndarray of int
        Positions in :data:`~omnijourney.synth._names.FIRST_NAMES` and ``SURNAMES``.
    mobile_nsn, landline_nsn : numpy.ndarray of int64
        The 9-digit national numbers behind ``mobile`` and ``landline`` (0 for no landline).
    previous_street_number, previous_street, previous_postcode, previous_city : numpy.ndarray
        Parts of ``previous_address`` (0 / None when the household did not move).
    moved_on : numpy.ndarray of datetime64[us]
        When the household moved (NaT when it did not).
    """

    person_id: np.ndarray
    household_id: np.ndarray
    segment: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    gender: np.ndarray
    date_of_birth: np.ndarray
    email: np.ndarray
    mobile: np.ndarray
    landline: np.ndarray
    household_email: np.ndarray
    street_number: np.ndarray
    street: np.ndarray
    postcode: np.ndarray
    city: np.ndarray
    country: np.ndarray
    previous_address: np.ndarray
    customer_since: np.ndarray
    household_index: np.ndarray
    first_name_index: np.ndarray
    last_name_index: np.ndarray
    mobile_nsn: np.ndarray
    landline_nsn: np.ndarray
    previous_street_number: np.ndarray
    previous_street: np.ndarray
    previous_postcode: np.ndarray
    previous_city: np.ndarray
    moved_on: np.ndarray

    def __len__(self) -> int:
        return int(self.person_id.shape[0])

    @property
    def n_households(self) -> int:
        """Number of distinct households."""
        return int(self.household_index[-1]) + 1 if len(self) else 0


def digit_text(template: str, values: np.ndarray) -> np.ndarray:
    """Fill the ``#`` slots of an ASCII ``template`` with the digits of each value.

    Parameters
    ----------
    template : str
        For example ``"+33 # ## ## ## ##"`` or ``"WEB-#######"``; digits fill the slots from
        the right, zero-padded.
    values : numpy.ndarray of int
        Non-negative integers with no more digits than the template has slots.

    Returns
    -------
    numpy.ndarray of str (object)

    Examples
    --------
    >>> digit_text("0# ## ## ## ##", np.array([612345678])).tolist()
    ['06 12 34 56 78']
    """
    tpl = np.frombuffer(template.encode("ascii"), dtype=np.uint8)
    slots = np.flatnonzero(tpl == ord("#"))
    v = np.asarray(values, dtype=np.int64).copy()
    buf = np.tile(tpl, (v.size, 1))
    for pos in slots[::-1]:
        buf[:, pos] = 48 + v % 10
        v //= 10
    width = tpl.size
    return buf.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _as_us(start: np.datetime64) -> np.datetime64:
    return np.datetime64(start).astype("datetime64[us]")


def _household_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    mean = float(np.dot(np.arange(1, 6), HOUSEHOLD_SIZE_SHARES))
    m = int(n / mean * 1.1) + 16
    sizes = rng.choice(np.arange(1, 6), size=m, p=HOUSEHOLD_SIZE_SHARES)
    while sizes.sum() < n:
        sizes = np.concatenate(
            [sizes, rng.choice(np.arange(1, 6), size=m, p=HOUSEHOLD_SIZE_SHARES)]
        )
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, n))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(total[last]) - n
    return sizes


def _adult_ages(size: int, rng: np.random.Generator, lo: int = 18, hi: int = 90) -> np.ndarray:
    ages = np.arange(lo, hi + 1)
    # Roughly flat between 18 and 64, then thinning out towards 90.
    w = np.where(ages < 65, 1.0, 1.0 - 0.75 * (ages - 65) / 25.0)
    return rng.choice(ages, size=size, p=w / w.sum())


def unique_numbers(lo: int, span: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct integers drawn uniformly in ``[lo, lo + span)``."""
    out = rng.integers(0, span, size=size)
    while True:
        _, first = np.unique(out, return_index=True)
        dup = np.ones(size, dtype=bool)
        dup[first] = False
        if not dup.any():
            return out + lo
        out[dup] = rng.integers(0, span, size=int(dup.sum()))


def _dedupe(emails: list[str], pool: np.ndarray, seen: set[str]) -> list[str]:
    """Make each address unique (and absent from ``seen``) by appending numbers."""
    for i, e in enumerate(emails):
        if e in seen:
            local, domain = e.split("@")
            k = int(pool[i % pool.size])
            while f"{local}{k}@{domain}" in seen:
                k += 1
            e = f"{local}{k}@{domain}"
            emails[i] = e
        seen.add(e)
    return emails


def _personal_emails(
    fi: np.ndarray, li: np.ndarray, birth_year: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = fi.size
    first, last, initial = _FIRST_SLUG[fi], _LAST_SLUG[li], _FIRST_INITIAL[fi]
    yy = _NUM2[birth_year % 100]
    yyyy = _YEAR[birth_year]
    nn = _NUM2[rng.integers(1, 100, size=n)]
    nnn = _NUM3[rng.integers(100, 1000, size=n)]
    shares = np.array([s for _, s in _EMAIL_PATTERNS])
    pattern = rng.choice(len(_EMAIL_PATTERNS), size=n, p=shares / shares.sum())
    local = np.empty(n, dtype=object)
    builders = {
        "first.last": lambda m: first[m] + "." + last[m],
        "firstlast": lambda m: first[m] + last[m],
        "f.last": lambda m: initial[m] + "." + last[m],
        "last.first": lambda m: last[m] + "." + first[m],
        "first_last": lambda m: first[m] + "_" + last[m],
        "first.lastYY": lambda m: first[m] + "." + last[m] + yy[m],
        "firstlastNN": lambda m: first[m] + last[m] + nn[m],
        "firstYYYY": lambda m: first[m] + yyyy[m],
        "first.lastNNN": lambda m: first[m] + "." + last[m] + nnn[m],
        "lastNN": lambda m: last[m] + nn[m],
        "flastYY": lambda m: initial[m] + last[m] + yy[m],
    }
    for k, (name, _) in enumerate(_EMAIL_PATTERNS):
        m = np.flatnonzero(pattern == k)
        if m.size:
            local[m] = builders[name](m)
    domain = np.array(N.EMAIL_PROVIDERS, dtype=object)[
        rng.choice(len(N.EMAIL_PROVIDERS), size=n, p=N.EMAIL_PROVIDER_WEIGHTS)
    ]
    return local + "@" + domain


def _text_or_none(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.full(values.shape[0], None, dtype=object)
    out[mask] = values[mask]
    return out


def make_population(
    n_customers: int, rng: np.random.Generator, *, start: np.datetime64, days: int
) -> Population:
    """Draw ``n_customers`` persons grouped in households, with names, contacts and addresses.

    Parameters
    ----------
    n_customers : int
        Number of persons (at least 1).
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same population.
    start : numpy.datetime64
        First instant of the observed period.
    days : int
        Length of the period in days; moves and recent recruitments happen inside it.

    Returns
    -------
    Population

    Notes
    -----
    Household sizes 1..5 follow :data:`HOUSEHOLD_SIZE_SHARES`. Members share the address, the
    landline when the household has one (:data:`LANDLINE_RATE`), the surname with probability
    :data:`SHARED_SURNAME_RATE`, and, in :data:`HOUSEHOLD_EMAIL_RATE` of multi-person
    households, a family mailbox. The first member is the reference adult, the second the
    partner (of similar age, usually of the other gender), the next ones adult children.

    Examples
    --------
    >>> pop = make_population(10, np.random.default_rng(0), start=np.datetime64("2024-01-01"),
    ...                       days=90)
    >>> len(pop), pop.person_id[0], pop.household_id[0]
    (10, 'P0000001', 'H000001')
    """
    n = int(n_customers)
    if n < 1:
        msg = f"n_customers must be at least 1, got {n_customers!r}"
        raise ConfigError(msg)
    if int(days) < 1:
        msg = f"days must be at least 1, got {days!r}"
        raise ConfigError(msg)
    t0 = _as_us(start)
    period_us = int(days) * _DAY_US

    # --- households and ranks within them
    sizes = _household_sizes(n, rng)
    n_hh = sizes.size
    hh = np.repeat(np.arange(n_hh), sizes)
    first_of_hh = np.cumsum(sizes) - sizes
    rank = np.arange(n) - first_of_hh[hh]

    # --- ages and genders: reference adult, partner, adult children
    head_age = _adult_ages(n_hh, rng)
    parents = sizes >= 3
    head_age[parents] = _adult_ages(int(parents.sum()), rng, lo=42, hi=80)
    head_age[sizes == 2] = np.maximum(head_age[sizes == 2], 20)
    age = head_age[hh].astype(np.int64)
    partner = rank == 1
    age[partner] += np.rint(rng.normal(0.0, 3.5, size=int(partner.sum()))).astype(np.int64)
    child = rank >= 2
    gap = rng.integers(22, 39, size=int(child.sum()))
    age[child] = age[child] - gap
    young = child & (age < 18)
    age[young] = 18 + rng.integers(0, 6, size=int(young.sum()))
    age = np.clip(age, 18, 90)
    head_female = rng.random(n_hh) < 0.5
    female = rng.random(n) < 0.52
    female[rank == 0] = head_female
    opposite = rng.random(n) < 0.92
    female[partner] = np.where(opposite[partner], ~head_female[hh[partner]], female[partner])
    gender = np.where(female, "F", "M").astype(object)
    start_day = t0.astype("datetime64[D]")
    lived = np.ceil(age * 365.25).astype(np.int64) + rng.integers(0, 365, size=n)
    dob = start_day - lived.astype("timedelta64[D]")
    birth_year = dob.astype("datetime64[Y]").astype(np.int64) + 1970

    # --- names
    n_f = len(N.FEMALE_FIRST_NAMES)
    wf = N.FIRST_NAME_WEIGHTS[:n_f] / N.FIRST_NAME_WEIGHTS[:n_f].sum()
    wm = N.FIRST_NAME_WEIGHTS[n_f:] / N.FIRST_NAME_WEIGHTS[n_f:].sum()
    fi = np.where(
        female,
        rng.choice(n_f, size=n, p=wf),
        n_f + rng.choice(len(N.MALE_FIRST_NAMES), size=n, p=wm),
    )
    hh_last = rng.choice(len(N.SURNAMES), size=n_hh, p=N.SURNAME_WEIGHTS)
    own_last = rng.choice(len(N.SURNAMES), size=n, p=N.SURNAME_WEIGHTS)
    keep = (rank == 0) | (rng.random(n) < SHARED_SURNAME_RATE)
    li = np.where(keep, hh_last[hh], own_last)
    first_names = np.array(N.FIRST_NAMES, dtype=object)
    surnames = np.array(N.SURNAMES, dtype=object)

    # --- phones
    mobile_nsn = np.where(rng.random(n) < MOBILE_7_RATE, 700_000_000, 600_000_000)
    mobile_nsn = mobile_nsn + unique_numbers(0, 100_000_000, n, rng)
    mobile_nsn = mobile_nsn.astype(np.int64)
    mobile = digit_text("+33#########", mobile_nsn)

    # --- addresses (per household)
    city_idx = rng.choice(len(N.CITIES), size=n_hh, p=N.CITY_WEIGHTS)
    street_idx = rng.choice(len(STREETS), size=n_hh, p=STREET_WEIGHTS)
    number = np.minimum(1 + rng.geometric(STREET_NUMBER_P, size=n_hh), MAX_STREET_NUMBER)
    cities = np.array([c for c, _ in N.CITIES], dtype=object)
    postcodes = np.array([p for _, p in N.CITIES], dtype=object)
    streets = np.array(STREETS, dtype=object)
    zones = np.array([N.landline_zone(p) for _, p in N.CITIES], dtype=np.int64)

    has_land = rng.random(n_hh) < LANDLINE_RATE
    land_hh = zones[city_idx] * 100_000_000 + unique_numbers(0, 100_000_000, n_hh, rng)
    land_hh = np.where(has_land, land_hh, 0)
    landline = _text_or_none(digit_text("+33#########", land_hh[hh]), has_land[hh])

    moved = rng.random(n_hh) < MOVE_RATE
    moved_on_hh = t0 + rng.integers(0, period_us, size=n_hh).astype("timedelta64[us]")
    moved_on_hh[~moved] = np.datetime64("NaT", "us")
    same_city = rng.random(n_hh) < MOVE_SAME_CITY_RATE
    prev_city = np.where(
        same_city, city_idx, rng.choice(len(N.CITIES), size=n_hh, p=N.CITY_WEIGHTS)
    )
    prev_street = rng.choice(len(STREETS), size=n_hh, p=STREET_WEIGHTS)
    prev_number = np.minimum(1 + rng.geometric(STREET_NUMBER_P, size=n_hh), MAX_STREET_NUMBER)
    prev_text = np.full(n_hh, None, dtype=object)
    mv = np.flatnonzero(moved)
    prev_text[mv] = (
        _NUM3[prev_number[mv]]
        + " "
        + streets[prev_street[mv]]
        + ", "
        + postcodes[prev_city[mv]]
        + " "
        + cities[prev_city[mv]]
    )
    moved_p = moved[hh]

    # --- emails
    email = _personal_emails(fi, li, birth_year, rng)
    seen: set[str] = set()
    pool = rng.integers(2, 100, size=1024)
    email = np.array(_dedupe(email.tolist(), pool, seen), dtype=object)
    multi = sizes >= 2
    uses_family = multi & (rng.random(n_hh) < HOUSEHOLD_EMAIL_RATE)
    fam_idx = np.flatnonzero(uses_family)
    fam_pattern = rng.integers(0, len(_HOUSEHOLD_EMAIL_PATTERNS), size=fam_idx.size)
    fam_domain = rng.choice(len(N.EMAIL_PROVIDERS), size=fam_idx.size, p=N.EMAIL_PROVIDER_WEIGHTS)
    fam: list[str] = []
    for h, pat, dom in zip(fam_idx.tolist(), fam_pattern.tolist(), fam_domain.tolist()):
        p0 = int(first_of_hh[h])
        last = _LAST_SLUG[li[p0]]
        local = {
            "famille.last": f"famille.{last}",
            "last.famille": f"{last}.famille",
            "leslast": f"les{last}",
            "first.et.first2": f"{_FIRST_SLUG[fi[p0]]}.et.{_FIRST_SLUG[fi[p0 + 1]]}",
        }[_HOUSEHOLD_EMAIL_PATTERNS[pat]]
        fam.append(f"{local}@{N.EMAIL_PROVIDERS[dom]}")
    fam = _dedupe(fam, pool, seen)
    fam_hh = np.full(n_hh, None, dtype=object)
    fam_hh[fam_idx] = np.array(fam, dtype=object) if fam else fam_hh[fam_idx]

    # --- segments and seniority
    segment = np.array(SEGMENTS, dtype=object)[
        rng.choice(len(SEGMENTS), size=n, p=np.asarray(SEGMENT_SHARES) / sum(SEGMENT_SHARES))
    ]
    recruited = rng.random(n) < RECRUITED_IN_PERIOD_RATE
    seniority = np.minimum(rng.exponential(MEAN_SENIORITY_DAYS, size=n), 20 * 365.0)
    before = t0 - (seniority * _DAY_US).astype(np.int64).astype("timedelta64[us]")
    inside = t0 + rng.integers(0, period_us, size=n).astype("timedelta64[us]")
    customer_since = np.where(recruited, inside, before)

    person_width = max(7, len(str(n)))
    hh_width = max(6, len(str(n_hh)))
    return Population(
        person_id=digit_text("P" + "#" * person_width, np.arange(1, n + 1)),
        household_id=digit_text("H" + "#" * hh_width, hh + 1),
        segment=segment,
        first_name=first_names[fi],
        last_name=surnames[li],
        gender=gender,
        date_of_birth=dob,
        email=email,
        mobile=mobile,
        landline=landline,
        household_email=fam_hh[hh],
        street_number=number[hh].astype(np.int64),
        street=streets[street_idx][hh],
        postcode=postcodes[city_idx][hh],
        city=cities[city_idx][hh],
        country=np.full(n, "FR", dtype=object),
        previous_address=prev_text[hh],
        customer_since=customer_since.astype("datetime64[us]"),
        household_index=hh.astype(np.int64),
        first_name_index=fi.astype(np.int64),
        last_name_index=li.astype(np.int64),
        mobile_nsn=mobile_nsn,
        landline_nsn=land_hh[hh].astype(np.int64),
        previous_street_number=np.where(moved_p, prev_number[hh], 0).astype(np.int64),
        previous_street=_text_or_none(streets[prev_street][hh], moved_p),
        previous_postcode=_text_or_none(postcodes[prev_city][hh], moved_p),
        previous_city=_text_or_none(cities[prev_city][hh], moved_p),
        moved_on=moved_on_hh[hh],
    )

"""Comparison levels of record pairs: exact, Jaro-Winkler thresholds, dates, shared keys.

Each :class:`Comparison` turns a pair into a level (0 = a value is missing, 1 = exact, then
fuzzy levels, last = different). String similarities are computed once per distinct pair of
values, vectorized over those pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_bool, check_choice, check_fraction, check_text, validator
from omnijourney.errors import ConfigError
from omnijourney.identity._checks import ordered_names, ordered_values
from omnijourney.identity._normalize import NormalizedField
from omnijourney.identity._records import NormalizedRecords

__all__ = ["KINDS", "Comparison", "compare_pairs", "date_close", "jaro_winkler"]

#: Comparison kinds.
KINDS = ("exact", "string", "date", "key", "place")
#: Which level of a two-level resolution reads a comparison.
ROLES = ("both", "person", "household")
# similarities are ratios of small integers: one exactly at a threshold reaches it, whatever
# the rounding of the division
_TIE = 1e-9


def jaro_winkler(a: Sequence[str], b: Sequence[str], *, prefix_scale: float = 0.1) -> np.ndarray:
    """Jaro-Winkler similarity of each pair ``(a[i], b[i])``.

    The usual definition (as in jellyfish, recordlinkage and splink's DuckDB backend): matches
    within ``max(len) // 2 - 1`` positions, half the out-of-order matches rounded down as
    transpositions, and Winkler's boost of up to 4 common leading characters applied above a
    Jaro similarity of 0.7. Two empty strings have similarity 1. Computed by rapidfuzz, pair by
    pair in C++.

    Examples
    --------
    >>> jaro_winkler(["martha", "dwayne", "jean"], ["marhta", "duane", "jean"]).round(4).tolist()
    [0.9611, 0.84, 1.0]
    """
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.process import cpdist

    if len(a) != len(b):
        msg = f"jaro_winkler needs two sequences of the same length, got {len(a)} and {len(b)}"
        raise ConfigError(msg)
    if len(a) == 0:
        return np.zeros(0)
    out: np.ndarray = cpdist(
        a,
        b,
        scorer=JaroWinkler.normalized_similarity,
        scorer_kwargs={"prefix_weight": prefix_scale},
        dtype=np.float64,
        workers=1,
    )
    return out


def _thresholds(value: Any) -> tuple[float, ...]:
    items = ordered_values(value, "thresholds")
    return tuple(check_fraction(v, "thresholds", low_open=True) for v in items)


def _within(value: Any) -> tuple[str, ...]:
    return ordered_names(value, "within")


@attrs.frozen(kw_only=True)
class Comparison:
    """How one field of two records is compared, as ordered levels.

    Parameters
    ----------
    name : str
        Name of the comparison (shown in explanations).
    field : str
        Normalized field compared (see :class:`~omnijourney.identity.NormalizedRecords`).
    kind : {"exact", "string", "date", "key", "place"}
        ``exact``: equal or not. ``string``: equal, then Jaro-Winkler at or above each of
        ``thresholds``. ``date``: equal, then *close* (one digit of ``YYYYMMDD`` differs, two
        adjacent digits are transposed, or day and month are swapped), then *partial* (two
        of year, month and day equal). ``key``: an identifier (email, phone, account): equal,
        equal on a *shared* value (see :func:`~omnijourney.identity.resolve`), then equal
        ``secondary`` field (an email's local part). ``place``: where a record lives, read as
        one hierarchy so that agreeing on a street, its postcode and its city counts once:
        the address (number and street) equal, then close by Jaro-Winkler with the same
        house number, then the same street with another number (neighbours); each of these
        only where the places of ``within`` (postcode, city) do not differ, else
        *other_place*; then, a field of ``within`` equal, *same_area* (two different
        addresses there) and *same_place* (an address on one side only, or none).
    thresholds : tuple of float
        Jaro-Winkler thresholds of a ``string`` comparison, decreasing.
    swap_field : str, optional
        For names: a level *swapped* when this field of one record equals ``field`` of the
        other (first and last names exchanged).
    secondary : str, optional
        For keys: a weaker field whose equality is a level of its own.
    tf_adjust : bool
        Term-frequency adjustment of the exact level: agreeing on a rare value weighs more than
        on a common one.
    disagreement : bool
        Whether two different values are evidence against a match. With ``False`` the level
        ``else`` weighs 0 (its m and u are still estimated): only agreement counts. The
        household model of :func:`~omnijourney.identity.resolve` reads personal identifiers
        this way, since the members of a household each have their own email and mobile.
    within : tuple of str
        For ``place``: the fields of the area the place lies in (``postcode``, ``city``).
    role : {"both", "person", "household"}
        Which model of a two-level resolution reads the comparison: ``person`` fields tell
        the members of a household apart (first name, date of birth), ``household`` fields
        are shared by them (surname, address), identifiers (``both``) are evidence at both
        levels (a personal email links a person, a family mailbox a household).

    Examples
    --------
    >>> Comparison(name="first_name", field="first_name", kind="string",
    ...            thresholds=(0.92, 0.8)).levels
    ('null', 'exact', 'jw>=0.92', 'jw>=0.8', 'else')
    """

    name: str = attrs.field(validator=validator(check_text))
    field: str = attrs.field(validator=validator(check_text))
    kind: str = attrs.field(default="exact", validator=validator(check_choice, KINDS))
    thresholds: tuple[float, ...] = attrs.field(default=(), converter=_thresholds)
    swap_field: str | None = attrs.field(
        default=None, validator=validator(check_text, optional=True)
    )
    secondary: str | None = attrs.field(
        default=None, validator=validator(check_text, optional=True)
    )
    tf_adjust: bool = attrs.field(default=False, validator=validator(check_bool))
    disagreement: bool = attrs.field(default=True, validator=validator(check_bool))
    within: tuple[str, ...] = attrs.field(default=(), converter=_within)
    role: str = attrs.field(default="both", validator=validator(check_choice, ROLES))

    def __attrs_post_init__(self) -> None:
        if list(self.thresholds) != sorted(self.thresholds, reverse=True):
            msg = f"Comparison {self.name!r}: thresholds must decrease, got {self.thresholds}"
            raise ConfigError(msg)
        if self.kind not in ("string", "place") and self.thresholds:
            msg = f"Comparison {self.name!r}: thresholds apply to kinds 'string' and 'place' only"
            raise ConfigError(msg)
        if self.within and self.kind != "place":
            msg = f"Comparison {self.name!r}: 'within' applies to kind='place' only"
            raise ConfigError(msg)

    @property
    def levels(self) -> tuple[str, ...]:
        """Level names, in order: ``null`` first, ``else`` last."""
        out = ["null", "exact"]
        if self.kind == "key":
            out.append("exact_shared")
            if self.secondary:
                out.append(f"{self.secondary}_exact")
        if self.swap_field:
            out.append("swapped")
        if self.kind in ("string", "place"):
            out.extend(f"jw>={t:g}" for t in self.thresholds)
        if self.kind == "place":
            out.extend(("street", "other_place", "same_area", "same_place"))
        if self.kind == "date":
            out.extend(("close", "partial"))
        out.append("else")
        return tuple(out)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every normalized field the comparison reads."""
        extra = tuple(f for f in (self.swap_field, self.secondary) if f)
        if self.kind == "place":
            extra += (*_ADDRESS_PARTS, *self.within)
        return (self.field, *extra)


# the parts of an address key a place comparison reads
_ADDRESS_PARTS = ("address", "house_number", "street")


def _pair_similarity(labels: np.ndarray, codes_l: np.ndarray, codes_r: np.ndarray) -> np.ndarray:
    """Jaro-Winkler of coded pairs, computed once per distinct (code, code) pair."""
    if codes_l.size == 0:
        return np.zeros(0)
    a = np.minimum(codes_l, codes_r).astype(np.int64)
    b = np.maximum(codes_l, codes_r).astype(np.int64)
    key = a * (labels.size + 1) + b
    uniq, inverse = np.unique(key, return_inverse=True)
    ua, ub = uniq // (labels.size + 1), uniq % (labels.size + 1)
    sim = jaro_winkler(labels[ua].tolist(), labels[ub].tolist())
    return sim[inverse.reshape(-1)]


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01, in integer arithmetic (the proleptic
    Gregorian calendar, H. Hinnant's ``civil_from_days``)."""
    z = days.astype(np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def date_close(days_l: np.ndarray, days_r: np.ndarray) -> np.ndarray:
    """One digit of YYYYMMDD differs, two adjacent digits are transposed, or day and month
    are swapped: the typing errors of a date."""
    yl, ml, dl = _ymd(days_l)
    yr, mr, dr = _ymd(days_r)
    swapped = (yl == yr) & (ml == dr) & (dl == mr)
    nl = yl * 10_000 + ml * 100 + dl
    nr = yr * 10_000 + mr * 100 + dr
    dig_l = np.stack([(nl // 10**k) % 10 for k in range(8)], axis=1)
    dig_r = np.stack([(nr // 10**k) % 10 for k in range(8)], axis=1)
    differ = dig_l != dig_r
    n_differ = differ.sum(axis=1)
    # two neighbouring digits exchanged: they differ, each equals the other's
    adjacent = (
        differ[:, :-1]
        & differ[:, 1:]
        & (dig_l[:, :-1] == dig_r[:, 1:])
        & (dig_l[:, 1:] == dig_r[:, :-1])
    ).any(axis=1)
    return swapped | (n_differ == 1) | ((n_differ == 2) & adjacent)


def _date_partial(days_l: np.ndarray, days_r: np.ndarray) -> np.ndarray:
    """Two of year, month and day are equal."""
    yl, ml, dl = _ymd(days_l)
    yr, mr, dr = _ymd(days_r)
    same = (yl == yr).astype(np.int8) + (ml == mr) + (dl == dr)
    return same >= 2


def compare_pairs(
    norm: NormalizedRecords,
    comparisons: Sequence[Comparison],
    left: np.ndarray,
    right: np.ndarray,
    *,
    shared: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Level of every comparison for every pair: an (n_pairs, n_comparisons) int8 matrix.

    Parameters
    ----------
    norm : NormalizedRecords
    comparisons : sequence of Comparison
    left, right : numpy.ndarray of int
        Row numbers of the pairs.
    shared : dict of str to numpy.ndarray of bool, optional
        For ``key`` comparisons: per normalized value (indexed by code), whether it is shared
        (household evidence only). Shared values give the level ``exact_shared``.

    Returns
    -------
    numpy.ndarray of int8
        Level indices into ``comparison.levels`` (0 = null).

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> recs = CustomerRecordTable.from_columns({"first_name": ["Jean", "Jehan", "Marie", None]})
    >>> norm = normalize_records(recs)
    >>> c = Comparison(name="first", field="first_name", kind="string", thresholds=(0.85,))
    >>> compare_pairs(norm, [c], np.array([0, 0, 0]), np.array([1, 2, 3]))[:, 0].tolist()
    [2, 3, 0]
    """
    out = np.zeros((left.size, len(comparisons)), dtype=np.int8)
    for k, comp in enumerate(comparisons):
        if comp.field not in norm:
            continue
        if comp.kind == "place":
            out[:, k] = _place_levels(norm, comp, left, right)
            continue
        f = norm[comp.field]
        cl, cr = f.codes[left].astype(np.int64), f.codes[right].astype(np.int64)
        both = (cl >= 0) & (cr >= 0)
        level = np.zeros(left.size, dtype=np.int8)
        names = comp.levels
        exact = both & (cl == cr)
        if comp.kind == "date":
            dl, dr = norm.dob_days[left], norm.dob_days[right]
            exact = both & (dl == dr)
        level[both] = names.index("else")
        todo = both & ~exact
        if comp.swap_field and comp.swap_field in norm:
            g = norm[comp.swap_field]
            gl, gr = g.codes[left].astype(np.int64), g.codes[right].astype(np.int64)
            if g.labels is f.labels or np.array_equal(g.labels, f.labels):
                swapped = todo & (gl >= 0) & (gr >= 0) & (cl == gr) & (gl == cr)
            else:
                swapped = todo & _cross_equal(f, g, cl, gr) & _cross_equal(f, g, cr, gl)
            level[swapped] = names.index("swapped")
            todo &= ~swapped
        if comp.kind == "string" and comp.thresholds:
            idx = np.flatnonzero(todo)
            sim = _pair_similarity(f.labels, cl[idx], cr[idx])
            assigned = np.zeros(idx.size, dtype=bool)
            for t in comp.thresholds:
                hit = ~assigned & (sim >= t - _TIE)
                level[idx[hit]] = names.index(f"jw>={t:g}")
                assigned |= hit
        elif comp.kind == "date":
            idx = np.flatnonzero(todo)
            dl, dr = norm.dob_days[left[idx]], norm.dob_days[right[idx]]
            close = date_close(dl, dr)
            level[idx[close]] = names.index("close")
            partial = ~close & _date_partial(dl, dr)
            level[idx[partial]] = names.index("partial")
        elif comp.kind == "key" and comp.secondary and comp.secondary in norm:
            s = norm[comp.secondary]
            sl, sr = s.codes[left], s.codes[right]
            sec = todo & (sl >= 0) & (sl == sr)
            if comp.secondary == "email_user" and "email_domain" in norm:
                # same mailbox name at a mistyped provider ("gmial.com"), not at another one
                d = norm["email_domain"]
                idx = np.flatnonzero(sec)
                sim = _pair_similarity(d.labels, d.codes[left[idx]], d.codes[right[idx]])
                sec[idx[sim < 0.88 - _TIE]] = False
            level[sec] = names.index(f"{comp.secondary}_exact")
        level[exact] = 1
        if comp.kind == "key" and shared is not None and comp.field in shared and exact.any():
            is_shared = exact & shared[comp.field][np.maximum(cl, 0)]
            level[is_shared] = names.index("exact_shared")
        out[:, k] = level
    return out


def _place_levels(
    norm: NormalizedRecords, comp: Comparison, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Levels of a ``place`` comparison (see :class:`Comparison`)."""
    names = comp.levels
    level = np.zeros(left.size, dtype=np.int8)
    area_both = np.zeros(left.size, dtype=bool)
    area_equal = np.zeros(left.size, dtype=bool)
    for w in comp.within:
        if w in norm:
            a, b = norm[w].codes[left], norm[w].codes[right]
            both = (a >= 0) & (b >= 0)
            area_both |= both
            area_equal |= both & (a == b)
    area_differs = area_both & ~area_equal
    # the address itself (number and street) when there is one, else the field
    key = "address" if comp.field in ("location", "address") and "address" in norm else comp.field
    f = norm[key]
    a, b = f.codes[left].astype(np.int64), f.codes[right].astype(np.int64)
    has = (a >= 0) & (b >= 0)
    exact = has & (a == b)
    close = np.zeros(left.size, dtype=np.int64)  # index of the threshold reached, 0 = none
    street = np.zeros(left.size, dtype=bool)
    idx = np.flatnonzero(has & ~exact)
    if idx.size:
        same_number = np.ones(idx.size, dtype=bool)
        if key == "address" and "house_number" in norm:
            hn = norm["house_number"].codes
            hl, hr = hn[left[idx]], hn[right[idx]]
            same_number = ~((hl >= 0) & (hr >= 0) & (hl != hr))
        sim = _pair_similarity(f.labels, a[idx], b[idx])
        for i, t in enumerate(comp.thresholds):
            hit = (close[idx] == 0) & same_number & (sim >= t - _TIE)
            close[idx[hit]] = i + 1
        if key == "address" and "street" in norm:
            st = norm["street"]
            sl, sr = st.codes[left[idx]].astype(np.int64), st.codes[right[idx]].astype(np.int64)
            near = (sl >= 0) & (sr >= 0)
            at = np.flatnonzero(near & (sl != sr))
            near[at] = _pair_similarity(st.labels, sl[at], sr[at]) >= 0.9 - _TIE
            street[idx] = near & (close[idx] == 0)
    same_address = exact | (close > 0) | street
    level[has | area_both] = names.index("else")
    # the same area: a different address there, or an address on one side only
    level[area_equal & has & ~same_address] = names.index("same_area")
    level[area_equal & ~has] = names.index("same_place")
    level[same_address & area_differs] = names.index("other_place")
    here = ~area_differs
    level[street & here] = names.index("street")
    for i, t in enumerate(comp.thresholds):
        level[(close == i + 1) & here] = names.index(f"jw>={t:g}")
    level[exact & here] = names.index("exact")
    return level


def _cross_equal(
    f: NormalizedField, g: NormalizedField, codes_f: np.ndarray, codes_g: np.ndarray
) -> np.ndarray:
    """Whether value ``codes_f`` of field ``f`` equals value ``codes_g`` of field ``g``."""
    position = {v: i for i, v in enumerate(g.labels.tolist())}
    # code in g of each label of f (-2: absent, never equal to a code)
    f_in_g = np.fromiter(
        (position.get(v, -2) for v in f.labels.tolist()), dtype=np.int64, count=f.labels.size
    )
    ok = (codes_f >= 0) & (codes_g >= 0)
    out = np.zeros(codes_f.size, dtype=bool)
    out[ok] = f_in_g[codes_f[ok]] == codes_g[ok]
    return out

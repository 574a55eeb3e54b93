"""The configuration of a resolution: comparisons, blocking, thresholds, guards, overrides."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney._random import Seed, as_generator
from omnijourney._validation import check_bool, check_fraction, number, validator
from omnijourney._validation import check_positive_int as _int
from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.identity._blocking import BlockingRule
from omnijourney.identity._checks import check_instance, decision_pairs, instances, ordered_names
from omnijourney.identity._compare import Comparison
from omnijourney.identity._normalize import NormalizeRules

if TYPE_CHECKING:
    from omnijourney.identity._records import NormalizedRecords

__all__ = [
    "KEY_FIELDS",
    "Overrides",
    "ResolutionRules",
    "concrete_rules",
]

#: Identifier fields whose shared values are checked for household use.
KEY_FIELDS = ("email", "phone", "account_id", "loyalty_id", "card_id")

# The fixed rules of earlier versions, kept for the deprecated names DEFAULT_COMPARISONS and
# DEFAULT_BLOCKING of omnijourney.identity (the defaults are now generated from the fields
# present: see default_comparisons and default_blocking).
LEGACY_COMPARISONS: tuple[Comparison, ...] = (
    Comparison(name="first_name", field="first_name", kind="string", thresholds=(0.92, 0.8),
               swap_field="last_name", tf_adjust=True, role="person"),
    Comparison(name="last_name", field="last_name", kind="string", thresholds=(0.92, 0.8),
               swap_field="first_name", tf_adjust=True, role="household"),
    Comparison(name="date_of_birth", field="date_of_birth", kind="date", role="person"),
    Comparison(name="email", field="email", kind="key", secondary="email_user"),
    Comparison(name="phone", field="phone", kind="key"),
    Comparison(name="account_id", field="account_id", kind="key"),
    Comparison(name="loyalty_id", field="loyalty_id", kind="key"),
    Comparison(name="card_id", field="card_id", kind="key"),
    Comparison(name="address", field="location", kind="string", thresholds=(0.9,),
               tf_adjust=True, role="household"),
)  # fmt: skip

LEGACY_BLOCKING: tuple[BlockingRule, ...] = (
    BlockingRule(("email",)),
    BlockingRule(("phone",)),
    BlockingRule(("account_id",)),
    BlockingRule(("loyalty_id",)),
    BlockingRule(("card_id",)),
    BlockingRule(("last_name", "address", "postcode")),
    BlockingRule(("first_name", "last_name", "postcode")),
    BlockingRule(("first_name", "last_name", "date_of_birth")),
    BlockingRule(("email_user",), max_block_size=20),
    BlockingRule(("address", "postcode"), max_block_size=50),
)


Decisions = tuple[tuple[tuple[str, str], tuple[str, str]], ...]


def _must_link(value: Any) -> Decisions:
    return decision_pairs(value, "must_link")


def _cannot_link(value: Any) -> Decisions:
    return decision_pairs(value, "cannot_link")


def _never_merge(value: Any) -> Decisions:
    return decision_pairs(value, "never_merge")


@attrs.frozen(kw_only=True)
class Overrides:
    """Decisions of a person that the matching must respect, by (source, record id).

    Parameters
    ----------
    must_link : tuple of ((source, record_id), (source, record_id))
        Pairs of records that are the same person, whatever the evidence.
    cannot_link : tuple of ((source, record_id), (source, record_id))
        Pairs that are never the same person (an undone merge).
    never_merge : tuple of ((source, record_id), (source, record_id))
        Pairs that are neither the same person nor in the same household (two customers a
        reviewer knows apart, whatever they share).

    Examples
    --------
    >>> o = Overrides(cannot_link=[(("web", "W1"), ("crm", "C7"))])
    >>> o.cannot_link
    ((('web', 'W1'), ('crm', 'C7')),)
    """

    must_link: Decisions = attrs.field(default=(), converter=_must_link)
    cannot_link: Decisions = attrs.field(default=(), converter=_cannot_link)
    never_merge: Decisions = attrs.field(default=(), converter=_never_merge)

    def __add__(self, other: Overrides) -> Overrides:
        return Overrides(
            must_link=self.must_link + other.must_link,
            cannot_link=self.cannot_link + other.cannot_link,
            never_merge=self.never_merge + other.never_merge,
        )

    def __len__(self) -> int:
        return len(self.must_link) + len(self.cannot_link) + len(self.never_merge)


def _seed(_: Any, __: Any, value: Any) -> None:
    as_generator(value, "seed")


def _probability(value: Any, name: str) -> None:
    check_fraction(value, name, low_open=True, high_open=True)


def _comparisons(value: Any) -> tuple[Comparison, ...] | None:
    return instances(value, "comparisons", Comparison)


def _blocking(value: Any) -> tuple[BlockingRule, ...] | None:
    return instances(value, "blocking", BlockingRule)


def _conflicting_fields(value: Any) -> tuple[str, ...]:
    return ordered_names(value, "conflicting_fields")


def _unique_sources(value: Any) -> tuple[str, ...]:
    return ordered_names(value, "unique_sources")


def _optional_bool(value: Any, name: str) -> None:
    if value is not None:
        check_bool(value, name)


def _positive_tol(value: Any, name: str) -> None:
    number(value, name, minimum=0, low_open=True)


@attrs.frozen(kw_only=True)
class ResolutionRules:
    """Everything a resolution is configured with; defaults suit customer records.

    Parameters
    ----------
    normalize : NormalizeRules
        Country, email provider rules, date order and placeholder values.
    comparisons : tuple of Comparison, optional
        Comparison levels. None (the default): one comparison per field the records have (see
        :func:`~omnijourney.identity.default_comparisons`). Comparisons on fields the records
        lack, or whose values are all missing or invalid, are left out with an
        :class:`~omnijourney.OmnijourneyWarning`.
    blocking : tuple of BlockingRule, optional
        Candidate pairs. None (the default): rules generated from the fields the records
        have, each sized to make a few pairs per record (see
        :func:`~omnijourney.identity.default_blocking`). A rule on a field the records lack,
        or whose values are all missing or invalid, is a :class:`~omnijourney.ConfigError`.
    households : bool, optional
        Two levels: persons inside households. Records are first linked into households by a
        Fellegi-Sunter model of the comparisons whose role is ``household`` or ``both``
        (surname, address, identifiers; dates of birth by their agreement); a second model,
        fitted by EM on those links with the comparisons whose role is ``person`` or ``both``
        (first name, date of birth, personal contacts, account ids), decides which of them
        are the same person. With ``False`` a single model links persons directly (records
        without families) and ``household_id`` equals ``person_id``. None (the default): two
        levels when the records show households, that is when records sharing a surname and
        a place, or an email or phone, often have clearly different first names (see
        :func:`~omnijourney.identity.shows_households`).
    link_threshold : float
        Probability from which a pair is linked (household level, or persons when
        ``households`` is false).
    person_threshold : float
        Probability from which a household link is also a person link.
    person_key_max_records : int
        An identifier value (email, phone, id) held by more records is household evidence,
        not person evidence (a family mailbox, a landline).
    key_max_records : int
        An identifier value held by more records is no evidence at all (a store's phone, a
        default email); such values are reported by the quality report.
    shared_key_conflicts : bool
        Also treat as household evidence an identifier value carried by two records whose first
        names or dates of birth clearly differ.
    link_only : bool
        Link records across sources only (files known to hold no duplicates each): pairs
        inside a source are not compared, and a person holds at most one record of each
        source (every source is then a unique source, see ``unique_sources``).
    max_person_records, max_household_persons : int or None
        Cluster size guards: records in a person, persons in a household.
    conflicting_fields : tuple of str
        Normalized fields a person holds only once: a person cluster holding two values is
        split along its weakest links (default: date of birth).
    unique_sources : tuple of str
        Sources that have no duplicates: a person holds at most one of their records.
    u_sample_size : int
        Random pairs drawn to estimate u.
    max_iter, tol : int, float
        EM stopping rules.
    seed : int or numpy.random.Generator
        Seed of the random sampling (the result is the same for any row order). A Generator
        is drawn from once per resolution, for an integer that seeds every random part of it
        (the resolution's rules keep that integer).

    Examples
    --------
    >>> rules = ResolutionRules(link_threshold=0.9)
    >>> rules.households, rules.comparisons, rules.blocking
    (None, None, None)
    """

    normalize: NormalizeRules = attrs.field(
        factory=NormalizeRules, validator=validator(check_instance, NormalizeRules)
    )
    comparisons: tuple[Comparison, ...] | None = attrs.field(default=None, converter=_comparisons)
    blocking: tuple[BlockingRule, ...] | None = attrs.field(default=None, converter=_blocking)
    households: bool | None = attrs.field(default=None, validator=validator(_optional_bool))
    link_threshold: float = attrs.field(default=0.5, validator=validator(_probability))
    person_threshold: float = attrs.field(default=0.5, validator=validator(_probability))
    person_key_max_records: int = attrs.field(default=20, validator=validator(_int, minimum=2))
    key_max_records: int = attrs.field(default=60, validator=validator(_int, minimum=2))
    shared_key_conflicts: bool = attrs.field(default=True, validator=validator(check_bool))
    link_only: bool = attrs.field(default=False, validator=validator(check_bool))
    max_person_records: int | None = attrs.field(
        default=50, validator=validator(_int, optional=True)
    )
    max_household_persons: int | None = attrs.field(
        default=20, validator=validator(_int, optional=True)
    )
    conflicting_fields: tuple[str, ...] = attrs.field(
        default=("date_of_birth",), converter=_conflicting_fields
    )
    unique_sources: tuple[str, ...] = attrs.field(default=(), converter=_unique_sources)
    u_sample_size: int = attrs.field(default=200_000, validator=validator(_int, minimum=100))
    max_iter: int = attrs.field(default=100, validator=validator(_int))
    tol: float = attrs.field(default=1e-6, validator=validator(_positive_tol))
    seed: Seed = attrs.field(default=0, validator=_seed)

    def __attrs_post_init__(self) -> None:
        names = [c.name for c in self.comparisons or ()]
        if len(set(names)) != len(names):
            msg = f"ResolutionRules: comparison names must be distinct, got {names}"
            raise ConfigError(msg)
        if self.key_max_records < self.person_key_max_records:
            msg = (
                "ResolutionRules: key_max_records must be at least person_key_max_records, "
                f"got {self.key_max_records} < {self.person_key_max_records}"
            )
            raise ConfigError(msg)


def concrete_rules(
    rules: ResolutionRules,
    norm: NormalizedRecords,
    norm_all: NormalizedRecords,
    link_groups: np.ndarray | None,
    *,
    strict: bool = True,
) -> ResolutionRules:
    """``rules`` with their comparisons and blocking made explicit for these records.

    With ``strict=False`` (a run given fitted models, whose comparisons they fix) rules on
    fields without usable values are kept: they make no pair and no evidence.

    Generated where None (from the usable fields of ``norm``; households when the records
    show some); given comparisons on fields
    without usable values are dropped with a warning; given blocking rules on such fields are
    a :class:`~omnijourney.ConfigError` naming the field. ``norm_all`` holds every normalized
    field, usable or not (to tell a field never mapped from one without a usable value).
    """
    from omnijourney.identity._defaults import (
        default_blocking,
        default_comparisons,
        shows_households,
    )

    comparisons = rules.comparisons
    if comparisons is None:
        comparisons = default_comparisons(norm)
    else:
        lacking = [c for c in comparisons if any(f not in norm for f in c.fields[:1])]
        if lacking and strict:
            names = ", ".join(f"{c.name} (field {c.field!r})" for c in lacking)
            msg = (
                f"comparisons left out: {names}: the records have no usable value in that "
                f"field; fields with values: {', '.join(sorted(norm.fields))}"
            )
            warnings.warn(msg, OmnijourneyWarning, stacklevel=4)
            comparisons = tuple(c for c in comparisons if c not in lacking)
    blocking = rules.blocking
    if blocking is None:
        blocking, _ = default_blocking(norm, link_groups=link_groups, seed=rules.seed)
    elif blocking == LEGACY_BLOCKING:
        # the fixed rules of earlier versions skip the fields a table lacks
        blocking = tuple(r for r in blocking if all(f in norm for f in r.fields))
    elif strict:
        for rule in blocking:
            for f in rule.fields:
                if f in norm:
                    continue
                if f in norm_all:
                    why = "has no usable value (every value is missing, invalid or a placeholder)"
                else:
                    why = "is not a field of these records"
                msg = (
                    f"BlockingRule {rule.name!r}: the field {f!r} {why}; fields with values: "
                    f"{', '.join(sorted(norm.fields))}"
                )
                raise ConfigError(msg)
    households = shows_households(norm) if rules.households is None else rules.households
    return attrs.evolve(rules, comparisons=comparisons, blocking=blocking, households=households)

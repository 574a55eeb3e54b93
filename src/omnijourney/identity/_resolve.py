"""``resolve``: records -> persons inside households, in one call, and its result.

The pipeline runs in the records' canonical order (by source and record id), so the partition
is the same for any order of the input rows; results are given back aligned with the input.
A resolution can take a new batch of records (:meth:`Resolution.update`) or overrides
(:meth:`Resolution.with_overrides`) and keep its person and household ids.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.identity._blocking import block_pairs
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    exact_u,
    u_by_sampling,
    with_exact_u,
)
from omnijourney.identity._incremental import (
    ResolutionChanges,
    merge_batch,
    old_rows,
    stable_ids,
)
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords, normalize_records
from omnijourney.identity._rules import Overrides, ResolutionRules, concrete_rules
from omnijourney.identity._scoring import (
    Stage,
    cap_keys,
    link_columns,
    mark_conflicting_keys,
    relevel_shared,
)
from omnijourney.progress import Progress
from omnijourney.tables import Table

__all__ = ["LINK_LEVELS", "Resolution", "resolve"]

#: What a pair ended as: not linked, same household, same person.
LINK_LEVELS = ("none", "household", "person")


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Resolution:
    """Persons and households of a set of records, with the evidence that linked them.

    Attributes
    ----------
    records : CustomerRecordTable
        The records resolved, in the order given.
    person_id, household_id : numpy.ndarray of int64
        Person and household of each record, aligned with ``records``. Ids are numbered from 1
        in the canonical order of their first record; a resolution made from an earlier one
        (:meth:`update`, :meth:`with_overrides`) keeps the earlier ids.
    pair_left, pair_right : numpy.ndarray of int64
        Rows of ``records`` of every candidate pair that was scored.
    gamma : numpy.ndarray of int8, shape (n_pairs, n_comparisons)
        Comparison levels of each pair (indices into the levels of the comparisons of
        ``rules`` whose fields the records have, in that order).
    rule : numpy.ndarray of int8
        Blocking rule that found each pair (index into ``rules.blocking``; one past the end
        for must-link overrides).
    match_weight : numpy.ndarray of float64
        Match weight of each pair (log2 odds, term-frequency adjustments included).
    person_weight : numpy.ndarray of float64
        Match weight of the person model (NaN for pairs it did not score).
    link : numpy.ndarray of int8
        Final level of each pair after guards and overrides: 0 none, 1 household, 2 person
        (see :data:`LINK_LEVELS`).
    model : FellegiSunterModel
        The record-level model (household links, or persons without households).
    person_model : FellegiSunterModel or None
        The person model fitted inside household links.
    rules : ResolutionRules
    overrides : Overrides
    no_identifier : numpy.ndarray of bool
        Records without any valid identifier: each stays a person of its own.
    shared_values : Table
        Identifier values treated as household evidence or ignored: ``field``, ``value``,
        ``records``, ``use`` (``household`` or ``ignored``).
    blocking_report : Table
        Pairs found by each blocking rule (see :class:`CandidatePairs`).
    changes : ResolutionChanges
        What changed with respect to the resolution this one was made from (empty for a
        resolution from scratch).
    """

    records: CustomerRecordTable
    person_id: np.ndarray
    household_id: np.ndarray
    pair_left: np.ndarray
    pair_right: np.ndarray
    gamma: np.ndarray
    rule: np.ndarray
    match_weight: np.ndarray
    person_weight: np.ndarray
    link: np.ndarray
    model: FellegiSunterModel
    person_model: FellegiSunterModel | None
    rules: ResolutionRules
    overrides: Overrides
    no_identifier: np.ndarray
    shared_values: Table
    blocking_report: Table
    changes: ResolutionChanges = attrs.field(factory=ResolutionChanges)
    # the normalized records, kept for golden records and reports (not serialized)
    _normalized: NormalizedRecords | None = attrs.field(default=None, init=False)

    @property
    def n_records(self) -> int:
        """Records resolved."""
        return int(self.person_id.size)

    @property
    def n_persons(self) -> int:
        """Distinct persons."""
        return int(np.unique(self.person_id).size)

    @property
    def n_households(self) -> int:
        """Distinct households."""
        return int(np.unique(self.household_id).size)

    def normalized(self) -> NormalizedRecords:
        """The normalized values of ``records`` (aligned with it), computed once."""
        if self._normalized is None:
            object.__setattr__(
                self, "_normalized", normalize_records(self.records, self.rules.normalize)
            )
        assert self._normalized is not None
        return self._normalized

    def summary(self) -> str:
        """A few lines: records, persons, households, pairs scored and linked, the fields
        compared and the blocking rules."""
        links = np.bincount(self.link.astype(np.int64), minlength=3)
        text = (
            f"Resolution: {self.n_records:,} records -> {self.n_persons:,} persons -> "
            f"{self.n_households:,} households\n"
            f"  pairs scored: {self.pair_left.size:,}; linked as person: {links[2]:,}, "
            f"as household only: {links[1]:,}\n"
            f"  records without identifier: {int(self.no_identifier.sum()):,}\n"
            f"  compared on: {', '.join(c.name for c in self.rules.comparisons or ())}; "
            f"{'persons inside households' if self.rules.households else 'one level'}\n"
            f"  blocked on: {', '.join(r.name for r in self.rules.blocking or ())}"
        )
        if self.changes != ResolutionChanges():
            text += f"\n  changes: {self.changes.summary()}"
        return text

    def __repr__(self) -> str:
        return self.summary()

    def records_of(self, person_id: int) -> np.ndarray:
        """Rows of the records of one person."""
        return np.flatnonzero(self.person_id == person_id)

    def household_of(self, household_id: int) -> np.ndarray:
        """Rows of the records of one household."""
        return np.flatnonzero(self.household_id == household_id)

    def record_key(self, row: int) -> tuple[str, str]:
        """``(source, record_id)`` of a row, as overrides name records."""
        return (str(self.records["source"][row]), str(self.records["record_id"][row]))

    # the capabilities built on a resolution live in their own modules
    def golden_records(self, survivorship: Any = None, *, level: str = "person") -> Table:
        """Golden records (see :func:`~omnijourney.identity.golden_records`)."""
        from omnijourney.identity._golden import golden_records

        return golden_records(self, survivorship, level=level)

    def explain(self, a: int, b: int | None = None) -> Any:
        """Why two records are (or are not) linked, or why a person's records are together.

        See :func:`~omnijourney.identity.explain_pair` and
        :func:`~omnijourney.identity.explain_person`.
        """
        from omnijourney.identity._explain import explain_pair, explain_person

        return explain_person(self, a) if b is None else explain_pair(self, a, b)

    def quality_report(self) -> Any:
        """Data-quality report (see :func:`~omnijourney.identity.quality_report`)."""
        from omnijourney.identity._quality import quality_report

        return quality_report(self)

    def with_overrides(self, overrides: Overrides) -> Resolution:
        """The same records resolved again with extra must-link / cannot-link decisions.

        The fitted models are reused and the ids are kept, so only the persons the overrides
        touch change; ``changes`` lists them (the way to undo a wrong merge).

        Examples
        --------
        >>> from omnijourney.identity import CustomerRecordTable, Overrides, resolve
        >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
        ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
        >>> res = resolve(recs)
        >>> undone = res.with_overrides(Overrides(cannot_link=[(("web", "W1"), ("shop", "S1"))]))
        >>> res.person_id.tolist(), undone.person_id.tolist(), undone.changes.split_persons
        ([1, 1], [2, 1], ((1, (1, 2)),))
        """
        return resolve(self.records, overrides=self.overrides + overrides, previous=self)

    def update(self, records: CustomerRecordTable, *, refit: bool = False) -> Resolution:
        """Add a batch of new or updated records; person and household ids stay.

        Records are recognised by (source, record id): a record given again replaces the
        earlier version, the others are added. The result is the resolution of all the
        records (its partition is the one :func:`resolve` finds on them with the same
        rules and models), with the earlier ids kept and ``changes`` listing the persons and
        households created, merged and split.

        Cost: the batch is resolved together with every earlier record (normalization,
        blocking, scoring and clustering run again over all of them; only the fitted models
        are reused unless ``refit``), which is what makes the partition equal to a full run's.
        An update costs about a full resolution without the model fitting.

        Parameters
        ----------
        records : CustomerRecordTable
            The batch, with columns the resolved records have (others are missing values).
        refit : bool
            Fit the models again on all the records instead of reusing them.

        Examples
        --------
        >>> from omnijourney.identity import CustomerRecordTable, resolve
        >>> old = CustomerRecordTable.from_columns({"source": ["web", "shop", "web"],
        ...     "record_id": ["W1", "S1", "W2"],
        ...     "email": ["zoe@mail.fr", "paul@mail.fr", "Paul@Mail.fr"]})
        >>> res = resolve(old)
        >>> batch = CustomerRecordTable.from_columns({"source": ["shop"], "record_id": ["S2"],
        ...     "email": ["ZOE@mail.fr"]})
        >>> new = res.update(batch)
        >>> new.person_id.tolist(), new.changes.added_records, new.changes.new_persons
        ([2, 1, 1, 2], 1, ())
        """
        merged, added, updated = merge_batch(self.records, records)
        out = resolve(merged, previous=self, refit=refit)
        changes = attrs.evolve(out.changes, added_records=added, updated_records=updated)
        return _with_changes(out, changes)


def _with_changes(res: Resolution, changes: ResolutionChanges) -> Resolution:
    new = attrs.evolve(res, changes=changes)
    object.__setattr__(new, "_normalized", res._normalized)
    return new


def _override_rows(
    records: CustomerRecordTable,
    pairs: tuple[tuple[tuple[str, str], tuple[str, str]], ...],
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the records named by override pairs."""
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src_labels, rid_labels = records.labels("source"), records.labels("record_id")
    key = records.raw("source").astype(np.int64) * (rid_labels.size + 1)
    key = key + records.raw("record_id").astype(np.int64)
    order = np.argsort(key, kind="stable")
    rows = []
    for source, rid in (k for pair in pairs for k in pair):
        s = _label_code(src_labels, source)
        r = _label_code(rid_labels, rid)
        row = -1
        if s >= 0 and r >= 0:
            want = s * (rid_labels.size + 1) + r
            pos = int(np.searchsorted(key[order], want))
            if pos < key.size and key[order][pos] == want:
                row = int(order[pos])
        if row < 0:
            msg = f"{what}: no record {rid!r} in source {source!r}"
            raise ConfigError(msg)
        rows.append(row)
    out = np.array(rows, dtype=np.int64)
    return out[0::2], out[1::2]


def _label_code(labels: np.ndarray, text: str) -> int:
    """Code of a label given as text (labels may be numbers), -1 when absent."""
    if labels.dtype.kind in "iu":
        try:
            value: Any = int(text)
        except ValueError:
            return -1
    else:
        value = text
    pos = int(np.searchsorted(labels, value))
    return pos if pos < labels.size and labels[pos] == value else -1


def resolve(
    records: CustomerRecordTable,
    rules: ResolutionRules | None = None,
    *,
    overrides: Overrides | None = None,
    model: FellegiSunterModel | None = None,
    person_model: FellegiSunterModel | None = None,
    previous: Resolution | None = None,
    refit: bool = False,
) -> Resolution:
    """Resolve customer records into persons inside households.

    Normalize -> block -> compare -> Fellegi-Sunter (u by random sampling, m by EM) -> link
    households -> person model (EM inside household links, person-discriminating evidence
    only) -> cluster with guards and overrides.

    Parameters
    ----------
    records : CustomerRecordTable
        Records of every source (see :meth:`CustomerRecordTable.from_columns`).
    rules : ResolutionRules, optional
        Comparisons, blocking, thresholds and guards (defaults for customer data, or those
        of ``previous``).
    overrides : Overrides, optional
        Must-link and cannot-link decisions, always respected (default: those of
        ``previous``).
    model, person_model : FellegiSunterModel, optional
        Models fitted on an earlier run, reused as they are (no EM): the way to re-run on
        more data with the same parameters.
    previous : Resolution, optional
        An earlier resolution of some of these records (recognised by source and record id):
        its models are reused (unless ``refit``) and its person and household ids kept; the
        result's ``changes`` say what moved.
    refit : bool
        With ``previous``: fit the models again instead of reusing them.

    Returns
    -------
    Resolution

    Raises
    ------
    ConfigError
        An override names an unknown record, or must-links join a cannot-link pair.

    Notes
    -----
    Each value's evidence is read against chance agreement between *different* entities. A
    first model (u of exact agreement from value counts over all records) links pairs whose
    connected components are rough entities; u is counted again across them only (the
    records of one household agreeing on their address are matches, not chance) and the
    link model is fitted. Its links give the entities over which term frequencies are
    counted (see :func:`~omnijourney.identity.value_u`), then the final pass scores,
    fits the person model and clusters under the guards. Given models, only the last two
    steps run, so a run with the models of an earlier one reproduces it.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop", "shop", "web"],
    ...     "record_id": ["W1", "S1", "S2", "W2"],
    ...     "first_name": ["Zoé", "ZOE", "Paul", "Paul"],
    ...     "last_name": ["Roy", "ROY", "Roy", "Roy"],
    ...     "email": ["zoe.roy@mail.fr", "Zoe.Roy@mail.fr", "roy@mail.fr", "roy@mail.fr"],
    ...     "address": ["3 rue Vauban", None, "3, r. Vauban", "3 rue Vauban"],
    ...     "postcode": ["21000"] * 4})
    >>> res = resolve(recs)
    >>> res.person_id.tolist(), res.household_id.tolist()
    ([1, 1, 2, 2], [1, 1, 1, 1])
    """
    if not isinstance(records, CustomerRecordTable):
        msg = (
            "resolve needs a CustomerRecordTable; build one with "
            "CustomerRecordTable.from_columns(data, source=..., record_id=..., ...)"
        )
        raise ConfigError(msg)
    if previous is not None:
        rules = previous.rules if rules is None else rules
        overrides = previous.overrides if overrides is None else overrides
        if not refit and model is None and person_model is None:
            model, person_model = previous.model, previous.person_model
    rules = ResolutionRules() if rules is None else rules
    overrides = Overrides() if overrides is None else overrides
    n = len(records)
    with Progress(
        "resolving identities", steps=5, logger="omnijourney.identity", size=n, unit="record"
    ) as progress:
        return _resolve(records, rules, overrides, model, person_model, previous, progress)


def _resolve(
    records: CustomerRecordTable,
    rules: ResolutionRules,
    overrides: Overrides,
    model: FellegiSunterModel | None,
    person_model: FellegiSunterModel | None,
    previous: Resolution | None,
    progress: Progress,
) -> Resolution:
    n = len(records)
    progress.step("normalizing the records")
    perm = records.canonical_order()
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    must = tuple(inv[x] for x in _override_rows(records, overrides.must_link, "must_link"))
    cannot = tuple(inv[x] for x in _override_rows(records, overrides.cannot_link, "cannot_link"))
    normalized = normalize_records(records, rules.normalize)
    norm_all = normalized.take(perm)
    no_identifier = ~norm_all.has_identifier()
    norm, shared, shared_table = cap_keys(norm_all, rules)
    norm = norm.usable()
    groups = records.raw("source")[perm].astype(np.int64) if rules.link_only else None
    rules = attrs.evolve(concrete_rules(rules, norm, norm_all, groups), normalize=normalized.rules)
    comps = list(rules.comparisons or ())
    if model is not None:
        _check_model(model, [comps[c] for c in link_columns(comps, rules.households)])
    progress.step("blocking")
    pairs = block_pairs(norm, rules.blocking or (), link_groups=groups, extra=must)
    # a record without any identifier stays a person of its own (unless a must-link says)
    keep = ~no_identifier[pairs.left] & ~no_identifier[pairs.right]
    keep |= pairs.rule == len(rules.blocking or ())
    left, right, pair_rule = pairs.left[keep], pairs.right[keep], pairs.rule[keep]
    progress.step(f"comparing {left.size:,} pairs")
    gamma = compare_pairs(norm, comps, left, right)
    if rules.shared_key_conflicts:
        mark_conflicting_keys(norm, comps, gamma, left, shared)
    relevel_shared(norm, comps, gamma, left, shared)
    forced = np.zeros(left.size, dtype=bool)
    if must[0].size:
        key = left * max(n, 1) + right
        mkey = np.minimum(*must) * max(n, 1) + np.maximum(*must)
        forced = np.isin(key, mkey)
    stage = Stage(
        n=n,
        rules=rules,
        norm=norm,
        comps=comps,
        left=left,
        right=right,
        gamma=gamma,
        forced=forced,
        must=must,
        cannot=cannot,
        src=records.raw("source")[perm].astype(np.int64),
        src_labels=records.labels("source").tolist(),
        groups=groups,
        shared=shared,
    )
    progress.step("fitting the model" if model is None else "scoring with the given model")
    if model is None:
        # u from random pairs and value counts, then u of exact agreement counted again
        # across the entities of a first model's links only; the link model is fitted on it
        rng = np.random.default_rng(rules.seed)
        u = u_by_sampling(
            norm, comps, size=rules.u_sample_size, rng=rng, link_groups=groups, shared=shared
        )
        entity = stage.entities(u)
        u = [
            with_exact_u(u[c], exact_u(norm, comp, shared=shared, entity=entity))
            for c, comp in enumerate(comps)
        ]
        model = stage.fit(u, link_columns(comps, rules.households))
    progress.step("linking persons and households")
    # term frequencies counted over the entities of the model's links, then the full pass
    entity = stage.entities(None, model)
    out = stage.run(None, model, person_model, entity)
    person_id = np.empty(n, dtype=np.int64)
    household_id = np.empty(n, dtype=np.int64)
    person_id[perm] = out.person + 1
    household_id[perm] = _renumber(out.household) + 1
    changes = ResolutionChanges()
    if previous is not None:
        person_id, household_id, changes = _keep_ids(
            records, previous, person_id, household_id, perm
        )
    no_id_input = np.empty(n, dtype=bool)
    no_id_input[perm] = no_identifier
    res = Resolution(
        records=records,
        person_id=person_id,
        household_id=household_id,
        pair_left=perm[left],
        pair_right=perm[right],
        gamma=gamma,
        rule=pair_rule,
        match_weight=out.weight,
        person_weight=out.person_weight,
        link=out.link,
        model=out.model,
        person_model=out.person_model,
        rules=rules,
        overrides=overrides,
        no_identifier=no_id_input,
        shared_values=shared_table,
        blocking_report=pairs.report,
        changes=changes,
    )
    object.__setattr__(res, "_normalized", normalized)
    if n >= 2 and res.n_persons == n and previous is None:
        _warn_no_links(res, int(left.size))
    return res


def _check_model(model: FellegiSunterModel, comps: list[Comparison]) -> None:
    """A model given to resolve must read the comparisons these rules make."""
    have = [c.name for c in model.comparisons]
    want = [c.name for c in comps]
    if have != want:
        msg = (
            f"the model given compares {have} but the rules make {want}: pass the rules of "
            "the resolution the model comes from (resolve(records, res.rules, model=...))"
        )
        raise ConfigError(msg)


def _warn_no_links(res: Resolution, n_pairs: int) -> None:
    """Say that no two records were linked, and with which fields and rules."""
    rules = res.rules
    msg = (
        f"resolve linked no two of the {res.n_records:,} records: each is a person of its own. "
        f"Fields compared: {', '.join(c.name for c in rules.comparisons or ()) or 'none'}; "
        f"blocking rules: {', '.join(r.name for r in rules.blocking or ()) or 'none'} "
        f"({n_pairs:,} candidate pairs); records without any identifier: "
        f"{int(res.no_identifier.sum()):,}. Map more columns (names, date of birth, address, "
        "postcode, email, phone) or write blocking rules for these fields."
    )
    warnings.warn(msg, OmnijourneyWarning, stacklevel=3)


def _keep_ids(
    records: CustomerRecordTable,
    previous: Resolution,
    person_id: np.ndarray,
    household_id: np.ndarray,
    perm: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, ResolutionChanges]:
    """Person and household ids renamed after those of ``previous``."""
    before = old_rows(records, previous.records)
    had = before >= 0
    old_person = np.where(had, previous.person_id[np.maximum(before, 0)], -1)
    old_household = np.where(had, previous.household_id[np.maximum(before, 0)], -1)
    # labels numbered in canonical order of their first record, as ids from scratch are
    person_label = _renumber(person_id[perm])
    household_label = _renumber(household_id[perm])
    next_person = int(previous.person_id.max(initial=0)) + 1
    next_household = int(previous.household_id.max(initial=0)) + 1
    pid, new_p, merged_p, split_p = stable_ids(person_label, old_person[perm], next_person)
    hid, new_h, merged_h, split_h = stable_ids(household_label, old_household[perm], next_household)
    out_p = np.empty_like(person_id)
    out_h = np.empty_like(household_id)
    out_p[perm] = pid
    out_h[perm] = hid
    changes = ResolutionChanges(
        new_persons=new_p,
        merged_persons=merged_p,
        split_persons=split_p,
        new_households=new_h,
        merged_households=merged_h,
        split_households=split_h,
        added_records=int((~had).sum()),
    )
    return out_p, out_h, changes


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in order of their first row."""
    if labels.size == 0:
        return labels.astype(np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]

"""``resolve``: records -> persons inside households, in one call, and its result.

The pipeline runs in the records' canonical order (by source and record id), so the partition
is the same for any order of the input rows; results are given back aligned with the input.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._blocking import block_pairs
from omnijourney.identity._cluster import cluster_links
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    fit_fellegi_sunter,
    tf_adjustments,
    u_by_sampling,
)
from omnijourney.identity._normalize import NormalizedField
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords, normalize_records
from omnijourney.identity._rules import KEY_FIELDS, Overrides, ResolutionRules
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
        in the canonical order of their first record.
    pair_left, pair_right : numpy.ndarray of int64
        Rows of ``records`` of every candidate pair that was scored.
    gamma : numpy.ndarray of int8, shape (n_pairs, n_comparisons)
        Comparison levels of each pair (indices into ``model.comparisons[c].levels``).
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

    def summary(self) -> str:
        """A few lines: records, persons, households, pairs scored and linked."""
        links = np.bincount(self.link.astype(np.int64), minlength=3)
        return (
            f"Resolution: {self.n_records:,} records -> {self.n_persons:,} persons -> "
            f"{self.n_households:,} households\n"
            f"  pairs scored: {self.pair_left.size:,}; linked as person: {links[2]:,}, "
            f"as household only: {links[1]:,}\n"
            f"  records without identifier: {int(self.no_identifier.sum()):,}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def records_of(self, person_id: int) -> np.ndarray:
        """Rows of the records of one person."""
        return np.flatnonzero(self.person_id == person_id)

    def household_of(self, household_id: int) -> np.ndarray:
        """Rows of the records of one household."""
        return np.flatnonzero(self.household_id == household_id)

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

        The fitted models are reused, so only the overrides change the result.
        """
        return resolve(
            self.records,
            self.rules,
            overrides=self.overrides + overrides,
            model=self.model,
            person_model=self.person_model,
        )


def _record_index(records: CustomerRecordTable) -> dict[tuple[str, str], int]:
    src = records["source"]
    rid = records["record_id"]
    return {(str(s), str(r)): i for i, (s, r) in enumerate(zip(src.tolist(), rid.tolist()))}


def _override_rows(
    pairs: tuple[tuple[tuple[str, str], tuple[str, str]], ...],
    index: dict[tuple[str, str], int],
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    rows_a, rows_b = [], []
    for a, b in pairs:
        for key in (a, b):
            if key not in index:
                msg = f"{what}: no record {key[1]!r} in source {key[0]!r}"
                raise ConfigError(msg)
        rows_a.append(index[a])
        rows_b.append(index[b])
    return np.array(rows_a, dtype=np.int64), np.array(rows_b, dtype=np.int64)


def _cap_keys(
    norm: NormalizedRecords, rules: ResolutionRules
) -> tuple[NormalizedRecords, dict[str, np.ndarray], Table]:
    """Ignore over-common identifier values; flag frequent ones as household evidence."""
    fields = dict(norm.fields)
    shared: dict[str, np.ndarray] = {}
    rows: dict[str, list[Any]] = {"field": [], "value": [], "records": [], "use": []}
    for name in KEY_FIELDS:
        if name not in fields:
            continue
        f = fields[name]
        valid = f.codes[f.codes >= 0].astype(np.int64)
        counts = np.bincount(valid, minlength=f.labels.size)
        ignored = counts > rules.key_max_records
        shared[name] = counts > rules.person_key_max_records
        for code in np.flatnonzero(shared[name]).tolist():
            rows["field"].append(name)
            rows["value"].append(str(f.labels[code]))
            rows["records"].append(int(counts[code]))
            rows["use"].append("ignored" if ignored[code] else "household")
        if ignored.any():
            codes = f.codes.astype(np.int64)
            drop = (codes >= 0) & ignored[np.maximum(codes, 0)]
            new_codes = np.where(drop, -1, codes).astype(f.codes.dtype)
            fields[name] = NormalizedField(f.name, new_codes, f.labels, f.status)
    table = Table.from_columns(
        {**rows, "records": np.array(rows["records"], dtype=np.int64)},
        kinds={"field": "category", "value": "category", "use": "category"},
    )
    return NormalizedRecords(fields, norm.dob_days, norm.rules), shared, table


def _mark_conflicting_keys(
    norm: NormalizedRecords,
    comps: list[Comparison],
    gamma: np.ndarray,
    left: np.ndarray,
    shared: dict[str, np.ndarray],
) -> None:
    """Identifier values carried by records whose first names or birth dates differ are shared."""
    names = [c.name for c in comps]
    conflict = np.zeros(left.size, dtype=bool)
    for c, comp in enumerate(comps):
        if comp.field in ("first_name", "date_of_birth"):
            conflict |= gamma[:, c] == comp.levels.index("else")
    _ = names
    for c, comp in enumerate(comps):
        if comp.kind != "key" or comp.field not in shared:
            continue
        hit = (gamma[:, c] == 1) & conflict
        codes = norm[comp.field].codes[left[hit]].astype(np.int64)
        shared[comp.field][codes] = True


def _relevel_shared(
    norm: NormalizedRecords,
    comps: list[Comparison],
    gamma: np.ndarray,
    left: np.ndarray,
    shared: dict[str, np.ndarray],
) -> None:
    for c, comp in enumerate(comps):
        if comp.kind != "key" or comp.field not in shared:
            continue
        exact = np.flatnonzero(gamma[:, c] == 1)
        codes = norm[comp.field].codes[left[exact]].astype(np.int64)
        gamma[exact[shared[comp.field][codes]], c] = comp.levels.index("exact_shared")


def _initial_person_u(comps: list[Comparison]) -> list[np.ndarray]:
    """Inside a household, other members rarely agree on person fields."""
    out = []
    for comp in comps:
        k = len(comp.levels) - 1
        u = np.full(k, 0.05 / max(k - 1, 1))
        u[-1] = 0.95
        if "exact_shared" in comp.levels:
            u[comp.levels.index("exact_shared") - 1] = 0.3
        out.append(u / u.sum())
    return out


def resolve(
    records: CustomerRecordTable,
    rules: ResolutionRules | None = None,
    *,
    overrides: Overrides | None = None,
    model: FellegiSunterModel | None = None,
    person_model: FellegiSunterModel | None = None,
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
        Comparisons, blocking, thresholds and guards (defaults for customer data).
    overrides : Overrides, optional
        Must-link and cannot-link decisions, always respected.
    model, person_model : FellegiSunterModel, optional
        Models fitted on an earlier run, reused as they are (no EM): the way to re-run on
        more data with the same parameters.

    Returns
    -------
    Resolution

    Raises
    ------
    ConfigError
        An override names an unknown record, or must-links join a cannot-link pair.

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
    rules = ResolutionRules() if rules is None else rules
    overrides = Overrides() if overrides is None else overrides
    if not isinstance(records, CustomerRecordTable):
        msg = (
            "resolve needs a CustomerRecordTable; build one with "
            "CustomerRecordTable.from_columns(data, source=..., record_id=..., ...)"
        )
        raise ConfigError(msg)
    n = len(records)
    perm = records.canonical_order()
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    index = _record_index(records)
    must = tuple(inv[x] for x in _override_rows(overrides.must_link, index, "must_link"))
    cannot = tuple(inv[x] for x in _override_rows(overrides.cannot_link, index, "cannot_link"))
    norm_all = normalize_records(records, rules.normalize).take(perm)
    no_identifier = ~norm_all.has_identifier()
    norm, shared, shared_table = _cap_keys(norm_all, rules)
    comps = [c for c in rules.comparisons if c.field in norm]
    if rules.households:
        hidx = [c for c, comp in enumerate(comps) if comp.role != "person"]
    else:
        hidx = list(range(len(comps)))
    groups = records.raw("source")[perm].astype(np.int64) if rules.link_only else None
    pairs = block_pairs(norm, rules.blocking, link_groups=groups, extra=must)
    left, right = pairs.left, pairs.right
    gamma = compare_pairs(norm, comps, left, right)
    if rules.shared_key_conflicts:
        _mark_conflicting_keys(norm, comps, gamma, left, shared)
    _relevel_shared(norm, comps, gamma, left, shared)
    if model is None:
        rng = np.random.default_rng(rules.seed)
        u = u_by_sampling(
            norm, comps, size=rules.u_sample_size, rng=rng, link_groups=groups, shared=shared
        )
        model = fit_fellegi_sunter(
            gamma[:, hidx],
            [comps[c] for c in hidx],
            [u[c] for c in hidx],
            max_iter=rules.max_iter,
            tol=rules.tol,
            fix_u=True,
            total_pairs=_total_pairs(n, groups),
        )
    u_exact = [float(u[0]) for u in model.u_sampled]
    tf = tf_adjustments(norm, list(model.comparisons), gamma[:, hidx], left, u_exact)
    weight = model.match_weight(gamma[:, hidx], tf)
    prob = 1.0 / (1.0 + np.exp2(-weight))
    forced = np.zeros(left.size, dtype=bool)
    if must[0].size:
        key = left * max(n, 1) + right
        mkey = np.minimum(*must) * max(n, 1) + np.maximum(*must)
        forced = np.isin(key, mkey)
    linked = prob >= rules.link_threshold
    linked |= forced
    # a full name and a date of birth in common are person evidence without any shared contact
    strong = np.zeros(left.size, dtype=bool)
    levels = {comp.field: (c, comp) for c, comp in enumerate(comps)}
    if rules.households and all(f in levels for f in ("first_name", "last_name", "date_of_birth")):
        strong = gamma[:, levels["date_of_birth"][0]] == 1
        for f in ("first_name", "last_name"):
            c, comp = levels[f]
            strong &= (gamma[:, c] > 0) & (gamma[:, c] < len(comp.levels) - 1)
        linked |= strong
    person_w = np.full(left.size, np.nan)
    if rules.households:
        pidx = [c for c, comp in enumerate(comps) if comp.role != "household"]
        pcomps = [comps[c] for c in pidx]
        gp = gamma[:, pidx]
        if person_model is None:
            person_model = fit_fellegi_sunter(
                gp[linked],
                pcomps,
                _initial_person_u(pcomps),
                prior=0.5,
                max_iter=rules.max_iter,
                tol=rules.tol,
            )
        pw = person_model.match_weight(gp[linked])
        person_w[linked] = pw
        evidence = (gp[linked] > 0).any(axis=1)
        person_link = np.zeros(left.size, dtype=bool)
        person_link[np.flatnonzero(linked)] = evidence & (
            1.0 / (1.0 + np.exp2(-pw)) >= rules.person_threshold
        )
        person_link |= forced
    else:
        person_model = None
        person_link = linked
    # persons: cluster person links under the guards
    conflict_codes = [norm[f].codes for f in rules.conflicting_fields if f in norm]
    src = records.raw("source")[perm].astype(np.int64)
    src_labels = records.labels("source").tolist()
    for s in rules.unique_sources:
        if s in src_labels:
            code = src_labels.index(s)
            conflict_codes.append(np.where(src == code, np.arange(n), -1))
    pl = np.flatnonzero(person_link)
    strength = np.where(np.isnan(person_w), weight, person_w)
    person, kept = cluster_links(
        n,
        left[pl],
        right[pl],
        strength[pl],
        max_size=rules.max_person_records,
        conflict_codes=conflict_codes,
        must_link=must,
        cannot_link=cannot,
    )
    final = np.where(linked, 1, 0).astype(np.int8)
    final[pl[kept]] = 2
    if rules.households:
        hl = np.flatnonzero(linked)
        a, b = person[left[hl]], person[right[hl]]
        across = a != b
        household_of_person, _ = cluster_links(
            int(person.max()) + 1 if n else 0,
            a[across],
            b[across],
            weight[hl][across],
            max_size=rules.max_household_persons,
        )
        household = household_of_person[person] if n else person
        same_h = household[left] == household[right]
        final = np.where((final == 1) & ~same_h, 0, final).astype(np.int8)
    else:
        household = person
        final = np.where(final == 1, 0, final).astype(np.int8)
    person_id = np.empty(n, dtype=np.int64)
    household_id = np.empty(n, dtype=np.int64)
    person_id[perm] = person + 1
    household_id[perm] = _renumber(household) + 1
    no_id_input = np.empty(n, dtype=bool)
    no_id_input[perm] = no_identifier
    return Resolution(
        records=records,
        person_id=person_id,
        household_id=household_id,
        pair_left=perm[left],
        pair_right=perm[right],
        gamma=gamma,
        rule=pairs.rule,
        match_weight=weight,
        person_weight=person_w,
        link=final,
        model=model,
        person_model=person_model,
        rules=rules,
        overrides=overrides,
        no_identifier=no_id_input,
        shared_values=shared_table,
        blocking_report=pairs.report,
    )


def _total_pairs(n: int, groups: np.ndarray | None) -> int:
    """Pairs of records that could be compared (across groups only when linking)."""
    if groups is None:
        return max(n * (n - 1) // 2, 1)
    counts = np.bincount(groups).astype(np.float64)
    return max(int((counts.sum() ** 2 - (counts**2).sum()) // 2), 1)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in order of their first row."""
    if labels.size == 0:
        return labels.astype(np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]

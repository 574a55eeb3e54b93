"""``resolve``: records -> persons inside households, in one call.

The pipeline: normalize -> block -> compare (:mod:`._candidates`) -> score (fit the link model
when none is given, then the two passes of :mod:`._links`) -> cluster (persons under the
guards, households of persons) -> ids. Stable ids are one step at the end: a resolution made
from an earlier one renames its clusters after the earlier ids (see :func:`keep_ids`).
Clusters are numbered and ties broken in the records' canonical order (by source and record
id), so the partition is the same for any order of the input rows; results are aligned with
the input.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np

from omnijourney._random import as_generator
from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.identity._candidates import Candidates, build_candidates, cap
from omnijourney.identity._compare import Comparison
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    exact_u,
    u_by_sampling,
    with_exact_u,
)
from omnijourney.identity._households import (
    change_time,
    memberships,
    memberships_after,
    memberships_from_scratch,
)
from omnijourney.identity._incremental import (
    ResolutionChanges,
    id_changes,
    old_rows,
    stable_ids,
)
from omnijourney.identity._known import Known
from omnijourney.identity._links import (
    Context,
    Scores,
    cluster_region,
    entity_pass,
    renumber,
    score_all,
    with_region,
)
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords, normalize_records
from omnijourney.identity._resolution import Resolution
from omnijourney.identity._rules import Overrides, ResolutionRules, concrete_rules
from omnijourney.identity._scoring import Stage, link_columns
from omnijourney.progress import Progress

__all__ = [
    "candidates",
    "fit_link_model",
    "keep_ids",
    "override_rows",
    "resolution_of",
    "resolve",
    "resolve_part",
    "with_ids",
]


def override_rows(
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
    _check_records(records)
    if previous is not None:
        rules = previous.rules if rules is None else rules
        overrides = previous.overrides if overrides is None else overrides
        if not refit and model is None and person_model is None:
            model, person_model = previous.model, previous.person_model
    rules = ResolutionRules() if rules is None else rules
    overrides = Overrides() if overrides is None else overrides
    with Progress(
        "resolving identities", steps=5, logger="omnijourney.identity", size=len(records),
        unit="record",
    ) as progress:  # fmt: skip
        return _resolve(records, rules, overrides, model, person_model, previous, progress)


def _resolve(
    records: CustomerRecordTable,
    rules: ResolutionRules,
    overrides: Overrides,
    model: FellegiSunterModel | None,
    person_model: FellegiSunterModel | None,
    previous: Resolution | None,
    progress: Progress,
    known: Known | None = None,
) -> Resolution:
    progress.step("normalizing the records")
    # a part of the data reads national numbers in the country of the whole (known given)
    normalized = normalize_records(records, rules.normalize, infer_country=known is None)
    progress.step("blocking and comparing")
    cand = candidates(records, normalized, rules, overrides, strict=model is None, known=known)
    progress.step("fitting the model" if model is None else "checking the given model")
    if model is None:
        model = fit_link_model(records, cand)
    else:
        hidx = link_columns(list(cand.comps), cand.rules.households)
        _check_model(model, [cand.comps[c] for c in hidx])
    progress.step(f"scoring {cand.left.size:,} pairs")
    ctx, scores = score_all(Context(cand, records, model, person_model))
    progress.step("linking persons and households")
    region = cluster_region(ctx, scores, np.ones(cand.n, dtype=bool))
    scores = with_region(scores, region, ctx.cand.left)
    res = resolution_of(records, ctx, scores, overrides)
    person_id = np.empty(cand.n, dtype=np.int64)
    household_id = np.empty(cand.n, dtype=np.int64)
    person_id[region.rows] = region.person + 1
    household_id[region.rows] = region.household + 1
    if previous is not None:
        return keep_ids(res, previous, person_id, household_id)
    res = with_ids(res, person_id, household_id, ResolutionChanges())
    res = _with_memberships(res, memberships_from_scratch(res))
    if cand.n >= 2 and res.n_persons == cand.n:
        _warn_no_links(res, int(cand.left.size))
    return res


def resolve_part(
    records: CustomerRecordTable,
    rules: ResolutionRules,
    model: FellegiSunterModel,
    person_model: FellegiSunterModel | None,
    known: Known,
) -> Resolution:
    """:func:`resolve` of a part of the data closed under blocking, with the rules and models
    fixed and the counts over the whole in ``known``: the clusters the whole run makes of
    these records (numbered in the part's canonical order; no warning when nothing links)."""
    progress = Progress("resolving a part", steps=5, logger="omnijourney.identity")
    with progress as p, warnings.catch_warnings():
        warnings.simplefilter("ignore", OmnijourneyWarning)
        return _resolve(records, rules, Overrides(), model, person_model, None, p, known)


def _check_records(records: Any) -> None:
    if not isinstance(records, CustomerRecordTable):
        msg = (
            "resolve needs a CustomerRecordTable; build one with "
            "CustomerRecordTable.from_columns(data, source=..., record_id=..., ...)"
        )
        raise ConfigError(msg)


def candidates(
    records: CustomerRecordTable,
    normalized: NormalizedRecords,
    rules: ResolutionRules,
    overrides: Overrides,
    *,
    strict: bool = True,
    known: Known | None = None,
) -> Candidates:
    """Block and compare: the rules made concrete for these records (generated where None,
    on the records in canonical order), then the candidate pairs and their levels.
    ``strict=False``: a run given models keeps rules on fields without usable values;
    ``known``: counts over a whole of which the records are a part closed under blocking."""
    if not isinstance(rules.seed, (int, np.integer)):
        # a Generator given: one integer drawn from it seeds every random part of the run
        rules = attrs.evolve(rules, seed=int(as_generator(rules.seed).integers(2**62)))
    perm = records.canonical_order()
    groups = records.raw("source").astype(np.int64) if rules.link_only else None
    must = override_rows(records, overrides.must_link, "must_link")
    never = override_rows(records, overrides.never_merge, "never_merge")
    cannot = _joined(override_rows(records, overrides.cannot_link, "cannot_link"), never)
    if (must[0] == must[1]).any():
        msg = "a must-link pair joins a record to itself"
        raise ConfigError(msg)
    in_order = normalized.take(perm)
    capped = cap(in_order, rules)[0].usable()
    concrete = concrete_rules(
        rules, capped, in_order, None if groups is None else groups[perm], strict=strict
    )
    concrete = attrs.evolve(concrete, normalize=normalized.rules)
    return build_candidates(concrete, normalized, groups, must, cannot, never, known)


def _joined(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])


def fit_link_model(records: CustomerRecordTable, cand: Candidates) -> FellegiSunterModel:
    """The link model: u from random pairs (of the records in canonical order) and value
    counts, then u of exact agreement counted again across the entities of a first model's
    links only; m and the prior by EM (see :func:`resolve`, Notes)."""
    rules, comps = cand.rules, list(cand.comps)
    norm = cand.norm
    perm = records.canonical_order()
    groups = cand.groups
    u = u_by_sampling(
        norm.take(perm),
        comps,
        size=rules.u_sample_size,
        rng=as_generator(rules.seed),
        link_groups=None if groups is None else groups[perm],
        shared=cand.shared,
    )
    stage = Stage(
        n=cand.n,
        rules=rules,
        norm=norm,
        comps=comps,
        left=cand.left,
        right=cand.right,
        gamma=cand.gamma,
        groups=groups,
    )
    hidx = link_columns(comps, rules.households)
    entity = entity_pass(Context(cand, records, stage.fit(u, hidx), None)).entity
    u = [
        with_exact_u(u[c], exact_u(norm, comp, shared=cand.shared, entity=entity))
        for c, comp in enumerate(comps)
    ]
    return stage.fit(u, hidx)


def resolution_of(
    records: CustomerRecordTable, ctx: Context, scores: Scores, overrides: Overrides
) -> Resolution:
    """A resolution of the candidates and scores (ids to be set)."""
    from omnijourney.identity._state import State

    cand = ctx.cand
    empty = np.zeros(cand.n, dtype=np.int64)
    res = Resolution(
        records=records,
        person_id=empty,
        household_id=empty,
        pair_left=cand.left,
        pair_right=cand.right,
        gamma=cand.gamma,
        rule=cand.rule,
        match_weight=scores.weight,
        person_weight=scores.person_weight,
        link=scores.link,
        model=ctx.model,
        person_model=ctx.person_model,
        rules=cand.rules,
        overrides=overrides,
        no_identifier=cand.no_identifier,
        shared_values=cand.shared_table(),
        blocking_report=cand.report(),
    )
    object.__setattr__(res, "_state", State(cand, scores))
    return res


def with_ids(
    res: Resolution, person_id: np.ndarray, household_id: np.ndarray, changes: ResolutionChanges
) -> Resolution:
    """``res`` with these ids and changes (its state kept)."""
    new = attrs.evolve(res, person_id=person_id, household_id=household_id, changes=changes)
    object.__setattr__(new, "_state", res._state)
    return new


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


def keep_ids(
    res: Resolution, previous: Resolution, person_id: np.ndarray, household_id: np.ndarray
) -> Resolution:
    """``res`` with its clusters (``person_id``, ``household_id``: numbered in canonical
    order) renamed after the ids of ``previous``, and the changes."""
    records = res.records
    perm = records.canonical_order()
    before = old_rows(records, previous.records)
    had = before >= 0
    old_person = np.where(had, previous.person_id[np.maximum(before, 0)], -1)
    old_household = np.where(had, previous.household_id[np.maximum(before, 0)], -1)
    next_person = int(previous.person_id.max(initial=0)) + 1
    next_household = int(previous.household_id.max(initial=0)) + 1
    pid, *persons = stable_ids(renumber(person_id[perm]), old_person[perm], next_person)
    hid, *households = stable_ids(renumber(household_id[perm]), old_household[perm], next_household)
    out_p = np.empty_like(person_id)
    out_h = np.empty_like(household_id)
    out_p[perm] = pid
    out_h[perm] = hid
    changes = id_changes(persons, households, added_records=int((~had).sum()))
    out = with_ids(res, out_p, out_h, changes)
    from omnijourney.identity._state import feed_of

    feed = feed_of(out, (old_person, old_household), np.zeros(len(records), bool), changes)
    out = with_ids(out, out_p, out_h, attrs.evolve(changes, feed=feed))
    new = attrs.evolve(
        out,
        tombstones=previous.tombstones,
        memberships=memberships_after(memberships(previous), out, change_time(None)),
    )
    object.__setattr__(new, "_state", out._state)
    return new


def _with_memberships(res: Resolution, table: Any) -> Resolution:
    new = attrs.evolve(res, memberships=table)
    object.__setattr__(new, "_state", res._state)
    return new

"""Updating a resolution at the cost of the batch: state, rescoring, re-clustering, ids.

A resolution keeps its candidates (normalized records, counts, pairs and levels) and the
scores of both passes (:class:`State`). :func:`update` adds a batch: the candidates take the
batch (:meth:`Candidates.add`); the pairs whose levels moved, or that agree on a value whose
count moved, are scored again (entity pass); the entities those changes reach are recomputed,
and the pairs touching them scored again (final pass); the components of links that any
change reaches are clustered again, and their clusters take the earlier ids. Everything else
is carried over. The result equals a full run with the same models (tested), whose
term-frequency priors are part of the model.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._candidates import Candidates, Delta, NeedsFullRun
from omnijourney.identity._cluster import components
from omnijourney.identity._fellegi_sunter import record_own
from omnijourney.identity._households import change_time, memberships, memberships_after
from omnijourney.identity._incremental import (
    ResolutionChanges,
    change_feed,
    id_changes,
    merge_batch,
    stable_ids,
)
from omnijourney.identity._labels import flag
from omnijourney.identity._links import (
    Context,
    Scores,
    canonical_rank,
    closure,
    cluster_region,
    with_region,
)
from omnijourney.identity._records import CustomerRecordTable, inferred_country, normalize_records
from omnijourney.identity._resolution import Resolution
from omnijourney.identity._rules import Overrides
from omnijourney.tables import Table

__all__ = ["State", "feed_of", "rebuild_state", "update", "with_overrides"]


@attrs.frozen(eq=False)
class State:
    """What an update continues from: the candidates and the scores of every pair."""

    cand: Candidates
    scores: Scores


def rebuild_state(res: Resolution) -> State:
    """The state of a resolution read without one (from JSON): its records resolved again
    with its rules, overrides and models (which reproduces its partition)."""
    from omnijourney.identity._resolve import resolve

    again = resolve(res.records, res.rules, overrides=res.overrides, model=res.model,
                    person_model=res.person_model)  # fmt: skip
    assert again._state is not None
    return again._state


def update(
    res: Resolution,
    batch: CustomerRecordTable,
    *,
    refit: bool = False,
    new_sources: bool = False,
    key: Any = None,
    at: Any = None,
) -> Resolution:
    """See :meth:`Resolution.update`."""
    from omnijourney.identity._resolve import resolve

    if isinstance(batch, CustomerRecordTable) and not new_sources:
        known = set(res.records.labels("source").tolist())
        used = np.unique(batch.raw("source"))
        unknown = sorted(
            str(s) for s in batch.labels("source")[used[used >= 0]].tolist() if s not in known
        )
        if unknown:
            msg = (
                f"update: the new records come from sources the resolution has not seen: "
                f"{unknown} (known: {sorted(map(str, known))}); pass new_sources=True to add "
                "a source"
            )
            raise ConfigError(msg)
    merged, aligned, rows = merge_batch(res.records, batch)
    if len(res.tombstones):
        erased = res.tombstones.matches(aligned, key, res.rules.normalize)
        if erased.any():
            at = np.flatnonzero(erased)
            names = [f"{aligned['source'][i]}/{aligned['record_id'][i]}" for i in at[:5]]
            msg = (
                f"update: {at.size} records of the batch hold an identifier of an erased "
                f"record ({', '.join(names)}{', ...' if at.size > 5 else ''}): drop them, or "
                "add them once the person has given them anew"
            )
            raise ConfigError(msg)
    updated = int((rows < len(res.records)).sum())
    added = rows.size - updated
    if refit:
        out = resolve(merged, previous=res, refit=True)
    else:
        try:
            out = _add(res, merged, aligned, rows)
        except NeedsFullRun:
            out = resolve(merged, previous=res)
    n_old = len(res.records)
    is_updated = np.zeros(len(merged), dtype=bool)
    is_updated[rows[rows < n_old]] = True
    changes = attrs.evolve(out.changes, added_records=added, updated_records=updated)
    before = (_pad(res.person_id, len(merged)), _pad(res.household_id, len(merged)))
    changes = attrs.evolve(changes, feed=feed_of(out, before, is_updated, changes))
    when = change_time(at, aligned)
    return _evolve(out, changes=changes, memberships=memberships_after(memberships(res), out, when))


def _pad(ids: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([ids, np.full(n - ids.size, -1, dtype=np.int64)])


def feed_of(
    res: Resolution,
    before: tuple[np.ndarray, np.ndarray],
    updated: np.ndarray,
    changes: ResolutionChanges,
) -> Table:
    """The change feed of a resolution whose records had the ids ``before`` (-1: new)."""
    p0, h0 = before
    moved = (p0 != res.person_id) | (h0 != res.household_id) | updated
    rows = np.flatnonzero(moved)
    after = (res.person_id[rows], res.household_id[rows])
    return change_feed(res.records, rows, (p0[rows], h0[rows]), after, updated[rows], changes)


def with_overrides(res: Resolution, overrides: Overrides, *, at: Any = None) -> Resolution:
    """See :meth:`Resolution.with_overrides`."""
    from omnijourney.identity._resolve import resolve

    out = resolve(res.records, overrides=res.overrides + overrides, previous=res)
    return _evolve(out, memberships=memberships_after(memberships(res), out, change_time(at)))


def _evolve(res: Resolution, **changes: Any) -> Resolution:
    new = attrs.evolve(res, **changes)
    object.__setattr__(new, "_state", res._state)
    return new


def _add(
    res: Resolution, merged: CustomerRecordTable, batch: CustomerRecordTable, rows: np.ndarray
) -> Resolution:
    """The resolution of ``merged``: the earlier records and those of ``batch`` at ``rows``."""
    from omnijourney.identity._resolve import resolution_of, with_ids

    state = res.state()
    rules = res.rules
    if (
        rules.normalize.default_country is None
        and "phone" in merged.columns
        and inferred_country(merged.labels("phone")) is not None
    ):
        # the records now show a country for national numbers: every phone reads anew
        raise NeedsFullRun
    normalized = normalize_records(batch, rules.normalize, infer_country=False)
    groups = merged.raw("source").astype(np.int64) if rules.link_only else None
    old = state.cand
    cand, delta = old.add(rows, normalized, groups, old.must, old.cannot, old.never)
    ctx = Context(cand, merged, res.model, res.person_model)
    scores, inside = rescore(ctx, state.scores, delta, res.person_id)
    region = cluster_region(ctx, scores, inside)
    scores = with_region(scores, region, ctx.cand.left)
    out = resolution_of(merged, ctx, scores, res.overrides)
    n_old, n = len(res.records), cand.n
    person_id = np.concatenate([res.person_id, np.zeros(n - n_old, np.int64)])
    household_id = np.concatenate([res.household_id, np.zeros(n - n_old, np.int64)])
    pid, *persons = _stable(res.person_id, region.rows, region.person, n_old)
    hid, *households = _stable(res.household_id, region.rows, region.household, n_old)
    person_id[region.rows] = pid
    household_id[region.rows] = hid
    out = with_ids(out, person_id, household_id, id_changes(persons, households))
    return _evolve(out, tombstones=res.tombstones)


def _stable(
    old_ids: np.ndarray, rows: np.ndarray, labels: np.ndarray, n_old: int
) -> tuple[np.ndarray, tuple[int, ...], list, list]:
    """Ids of a region's clusters (``labels`` of ``rows``, canonical order) after the earlier
    ids of its records."""
    before = np.full(rows.size, -1, dtype=np.int64)
    had = rows < n_old
    before[had] = old_ids[rows[had]]
    return stable_ids(labels, before, int(old_ids.max(initial=0)) + 1)


def _carry(values: np.ndarray, alive: np.ndarray, size: int, fill: object) -> np.ndarray:
    """Per-pair values of the pairs kept (they come first), ``fill`` for the new ones."""
    kept = values[alive]
    return np.concatenate([kept, np.full(size - kept.size, fill, dtype=values.dtype)])


def _extend(labels: np.ndarray, n: int) -> np.ndarray:
    """Per-record labels with a fresh label of its own for each row past the end."""
    extra = n - labels.size
    start = int(labels.max(initial=-1)) + 1
    return np.concatenate([labels, start + np.arange(extra, dtype=labels.dtype)])


def _relabel(
    labels: np.ndarray, inside: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """``labels`` with the rows ``inside`` (a union of components) labelled by the
    components of the pairs (``left``, ``right``: rows inside)."""
    rows = np.flatnonzero(inside)
    if rows.size == 0:
        return labels
    local = np.full(labels.size, -1, dtype=np.int64)
    local[rows] = np.arange(rows.size)
    comp = components(rows.size, local[left], local[right])
    out = labels.copy()
    out[rows] = int(labels.max(initial=-1)) + 1 + comp
    return out


def _reordered(
    ctx: Context,
    inside: np.ndarray,
    component: np.ndarray,
    person: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    linked: np.ndarray,
    person_link: np.ndarray,
) -> np.ndarray:
    """Records of the components (among ``inside``, where no link changed but weights) in
    which the guards read the links in another order than before."""
    cand = ctx.cand
    idx = np.flatnonzero(linked & inside[cand.left])
    rows = np.flatnonzero(inside)
    rank = np.full(cand.n, -1, dtype=np.int64)
    rank[rows] = np.argsort(np.argsort(canonical_rank(ctx.records, rows), kind="stable"))
    a, b = rank[cand.left[idx]], rank[cand.right[idx]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    comp = component[cand.left[idx]]
    changed = np.zeros(int(component.max(initial=-1)) + 1, dtype=bool)
    if not cand.rules.households:
        # persons of one level: links by weight, ties by their records
        on = person_link[idx]
        keys = [(hi[on], lo[on], comp[on], w[idx][on]) for w in (before, after)]
    else:
        # households of persons: links across persons by weight, ties by the persons (their
        # first records); person links are read by the person model, which has no frequency
        first = np.full(int(person.max(initial=0)) + 1, np.iinfo(np.int64).max)
        np.minimum.at(first, person[rows], rank[rows])
        pa, pb = first[person[cand.left[idx]]], first[person[cand.right[idx]]]
        pa, pb = np.where(a < b, pa, pb), np.where(a < b, pb, pa)
        on = pa != pb
        keys = [(pb[on], pa[on], comp[on], w[idx][on]) for w in (before, after)]
    orders = [np.lexsort((k1, k0, -w, c)) for k1, k0, c, w in keys]
    moved = orders[0] != orders[1]
    changed[keys[0][2][orders[0][moved]]] = True
    changed[keys[0][2][orders[1][moved]]] = True
    return changed[component] & inside


def _mark(size: int, *rows: np.ndarray) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    for r in rows:
        out[r] = True
    return out


def rescore(
    ctx: Context, old: Scores, delta: Delta, person: np.ndarray
) -> tuple[Scores, np.ndarray]:
    """Scores after a batch, and the records whose clusters may change (a union of
    components of the links). ``person``: the earlier person of each record."""
    cand = ctx.cand
    n, m = cand.n, cand.left.size
    left, right = cand.left, cand.right
    kept = delta.kept
    gone = kept < 0
    removed_left, removed_right = delta.removed
    # entity pass: pairs whose levels moved, or agreeing on a value whose count moved
    counts = ctx.counts()
    c0 = _mark(m, delta.new, delta.relevelled)
    hidx = ctx.hidx
    for c, count in counts.items():
        before = old.counts.get(c, np.zeros(0, np.int64))
        moved = count != np.append(before, np.zeros(count.size - before.size, np.int64))
        if moved.any():
            codes = cand.norm[ctx.model.comparisons[c].field].codes.astype(np.int64)
            c0 |= (cand.gamma[:, hidx[c]] == 1) & flag(moved, codes[left])
    ones = {c: record_own(cand.norm[ctx.model.comparisons[c].field].codes) for c in counts}
    base = _carry(old.base, delta.alive, m, np.nan)
    levelled = np.concatenate([delta.relevelled, delta.new])
    base[levelled] = ctx.base_weights(levelled)
    weight0 = _carry(old.weight0, delta.alive, m, np.nan)
    linked0 = _carry(old.linked0, delta.alive, m, False)
    i0 = np.flatnonzero(c0)
    weight0[i0] = ctx.weights(i0, base[i0], counts, ones, ctx.priors(None), None)
    now0 = ctx.linked(i0, weight0[i0])
    flip0 = i0[now0 != linked0[i0]]
    linked0[i0] = now0
    # entities reached by a changed link of the entity pass
    entity = _extend(old.entity, n)
    lost0 = old.linked0[gone]
    seeds = delta.dirty | _mark(n, left[flip0], right[flip0], removed_left[lost0],
                                removed_right[lost0])  # fmt: skip
    n0 = closure(entity, seeds)
    within = np.flatnonzero(linked0 & n0[left])
    entity = _relabel(entity, n0, left[within], right[within])
    own = {}
    rows0 = np.flatnonzero(n0)
    for c in counts:
        codes = cand.norm[ctx.model.comparisons[c].field].codes
        own[c] = _extend(old.own[c], n) if c in old.own else record_own(codes, entity)
        own[c][rows0] = record_own(codes[rows0], entity[rows0])
    # final pass: the pairs of the entity pass and those touching a changed entity
    c1 = c0 | n0[left] | n0[right]
    i1 = np.flatnonzero(c1)
    weight = _carry(old.weight, delta.alive, m, np.nan)
    person_weight = _carry(old.person_weight, delta.alive, m, np.nan)
    linked = _carry(old.linked, delta.alive, m, False)
    person_link = _carry(old.person_link, delta.alive, m, False)
    w1 = ctx.weights(i1, base[i1], counts, own, ctx.priors(entity), entity)
    l1 = ctx.linked(i1, w1) | ctx.strong(i1)
    # the person model reads levels only: scored again where levels moved or a pair is
    # newly linked; elsewhere its weight stays (NaN where no longer linked)
    fresh = l1 & (~linked[i1] | _mark(m, levelled)[i1])
    pw1 = np.where(l1, person_weight[i1], np.nan)
    pl1 = l1 & person_link[i1]
    pw1[fresh], pl1[fresh] = ctx.person_weights(i1[fresh], np.ones(int(fresh.sum()), bool))
    same_pw = (pw1 == person_weight[i1]) | (np.isnan(pw1) & np.isnan(person_weight[i1]))
    flipped = (l1 != linked[i1]) | (pl1 != person_link[i1])
    flipped |= _mark(m, delta.new, delta.relevelled)[i1] & (l1 | linked[i1])
    # a new weight alone matters where a guard broke: the clusters depend on the order of
    # the links' weights there
    reweighted = ((w1 != weight[i1]) | ~same_pw) & ~flipped & linked[i1]
    before_w = weight.copy()
    weight[i1], person_weight[i1], linked[i1], person_link[i1] = w1, pw1, l1, pl1
    unsettled = np.append(old.unsettled, np.zeros(n - old.unsettled.size, dtype=bool))
    component = _extend(old.component, n)
    lost = old.linked[gone]
    seeds = delta.dirty | _mark(n, left[i1[flipped]], right[i1[flipped]], removed_left[lost],
                                removed_right[lost])  # fmt: skip
    suspect = i1[reweighted]
    suspect = suspect[unsettled[left[suspect]] & ~closure(component, seeds)[left[suspect]]]
    if suspect.size:
        reordered = _reordered(
            ctx,
            closure(component, _mark(n, left[suspect])),
            component,
            _extend(person, n),
            before_w,
            weight,
            linked,
            person_link,
        )
        seeds |= reordered
    inside = closure(component, seeds)
    within = np.flatnonzero(linked & inside[left])
    component = _relabel(component, inside, left[within], right[within])
    scores = Scores(
        base=base,
        weight0=weight0,
        linked0=linked0,
        entity=entity,
        own=own,
        counts=counts,
        weight=weight,
        person_weight=person_weight,
        linked=linked,
        person_link=person_link,
        component=component,
        link=_carry(old.link, delta.alive, m, 0),
        unsettled=unsettled,
        refused=np.concatenate(
            [old.refused[delta.alive], np.zeros((m - int(delta.alive.sum()), 2), np.int8)]
        ),
    )
    return scores, inside

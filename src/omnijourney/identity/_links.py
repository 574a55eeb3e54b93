"""Scores of candidate pairs and the clusters they make, for every pair or for a region.

Entity pass: the link model's weight with term frequencies counted per record; the components
of its links are the entities. Final pass: term frequencies counted per entity; links, the
person model, persons clustered under the guards, households of persons. A pair's weights
depend on its levels and on the counts of the values it agrees on; a cluster on the links
inside one component. So the same functions serve a full run (every pair, every record) and
an update (the pairs whose levels or counts moved, the components they reach), and give the
same results: clusters are numbered, and links with equal weights taken, in the canonical
order of the records (by source and record id).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from omnijourney.identity._candidates import Candidates
from omnijourney.identity._cluster import components, guarded_clusters
from omnijourney.identity._compare import date_close
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    add_tf,
    fit_fellegi_sunter,
    pair_u,
    pattern_keys,
    record_own,
    tf_prior,
)
from omnijourney.identity._records import CustomerRecordTable
from omnijourney.identity._scoring import (
    initial_person_u,
    link_columns,
    logit2,
    place_only,
)

__all__ = [
    "Context",
    "EntityPass",
    "Region",
    "Scores",
    "canonical_rank",
    "closure",
    "cluster_region",
    "entity_pass",
    "renumber",
    "score_all",
    "with_region",
]


def canonical_rank(records: CustomerRecordTable, rows: np.ndarray) -> np.ndarray:
    """A key per row that sorts like (source, record id) (dictionaries are sorted)."""
    width = np.int64(records.labels("record_id").size + 1)
    src = records.raw("source")[rows].astype(np.int64)
    return src * width + records.raw("record_id")[rows].astype(np.int64)


def closure(labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Rows whose label is the label of a seed row (boolean per row)."""
    if not seeds.any():
        return np.zeros(labels.size, dtype=bool)
    hit = np.zeros(int(labels.max()) + 1, dtype=bool)
    hit[labels[seeds]] = True
    return hit[labels]


def _patterns(gamma: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of levels (sorted by key) and the row of each pair."""
    key = pattern_keys(gamma, sizes)
    span = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
    if span > 4 * key.size + 1_000_000:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return gamma[first], inverse.reshape(-1)
    # few possible patterns: distinct keys by a table instead of a sort
    seen = np.zeros(span, dtype=bool)
    seen[key] = True
    distinct = np.flatnonzero(seen)
    where = np.empty(span, dtype=np.int64)
    where[distinct] = np.arange(distinct.size)
    inverse = where[key]
    first = np.empty(distinct.size, dtype=np.int64)
    first[inverse[::-1]] = np.arange(key.size)[::-1]
    return gamma[first], inverse


@attrs.frozen(eq=False)
class Context:
    """What scoring reads: the candidates, the records and the models."""

    cand: Candidates
    records: CustomerRecordTable
    model: FellegiSunterModel
    person_model: FellegiSunterModel | None

    @property
    def hidx(self) -> list[int]:
        return link_columns(list(self.cand.comps), self.cand.rules.households)

    def tf_columns(self) -> list[int]:
        """Columns of the link model adjusted for term frequencies."""
        norm = self.cand.norm
        return [
            c
            for c, comp in enumerate(self.model.comparisons)
            if comp.tf_adjust and comp.field in norm
        ]

    def counts(self) -> dict[int, np.ndarray]:
        """Records holding each value of each adjusted field (over the whole data when the
        candidates know its counts)."""
        out = {}
        known = self.cand.known
        for c in self.tf_columns():
            name = self.model.comparisons[c].field
            codes, size = self.cand.norm[name].codes, self.cand.norm[name].labels.size
            given = None if known is None else known.per_value(name, codes, size)
            out[c] = (
                np.bincount(codes[codes >= 0].astype(np.int64), minlength=1)
                if given is None
                else given
            )
        return out

    def priors(self, entity: np.ndarray | None) -> dict[int, tuple[float, float, float]]:
        """The term-frequency priors of the model, or fitted on the records (see
        :attr:`FellegiSunterModel.tf_priors`)."""
        stored = self.model.tf_priors
        out = {}
        for c in self.tf_columns():
            if stored:
                p = stored[c]
                out[c] = (p[0], p[1], p[2]) if entity is None else (p[3], p[4], p[5])
            else:
                codes = self.cand.norm[self.model.comparisons[c].field].codes
                out[c] = tf_prior(codes, entity)
        return out

    def base_weights(self, idx: np.ndarray) -> np.ndarray:
        """Link-model weight of the pairs ``idx`` from their levels (prior included, no term
        frequencies): computed once per distinct pattern of levels."""
        g = self.cand.gamma[np.ix_(idx, np.asarray(self.hidx, dtype=np.int64))]
        pats, inv = _patterns(g, [len(c.levels) for c in self.model.comparisons])
        return self.model.match_weight(pats)[inv]

    def weights(
        self,
        idx: np.ndarray,
        base: np.ndarray,
        counts: dict[int, np.ndarray],
        own: dict[int, np.ndarray],
        priors: dict[int, tuple[float, float, float]],
        entity: np.ndarray | None,
    ) -> np.ndarray:
        """Link-model weight of the pairs ``idx`` (``base``: their :meth:`base_weights`),
        term frequencies included."""
        cand, model = self.cand, self.model
        w = base
        left, right = cand.left[idx], cand.right[idx]
        tf = np.zeros(idx.size, dtype=np.float64)
        u_exact = [float(x[0]) for x in model.u_sampled]
        for c in self.tf_columns():
            exact = np.flatnonzero(cand.gamma[idx, self.hidx[c]] == 1)
            lx, rx = left[exact], right[exact]
            codes = cand.norm[model.comparisons[c].field].codes
            same = None if entity is None else entity[lx] == entity[rx]
            u = pair_u(counts[c], own[c], codes[lx].astype(np.int64), lx, rx, same, priors[c])
            add_tf(tf, exact, u, u_exact[c])
        return w + tf

    def enough(self, idx: np.ndarray) -> np.ndarray:
        """Pairs with enough evidence to be linked at all: a model reading a single field
        other than an identifier cannot tell a match from a namesake; its pairs are linked
        only by an identifier or an override."""
        hidx = self.hidx
        if len(hidx) >= 2:
            return np.ones(idx.size, dtype=bool)
        keys = [c for c in hidx if self.cand.comps[c].kind == "key"]
        return (self.cand.gamma[idx][:, keys] == 1).any(axis=1)

    def linked(self, idx: np.ndarray, weight: np.ndarray) -> np.ndarray:
        threshold = logit2(self.cand.rules.link_threshold)
        return (weight >= threshold) & self.enough(idx) | self.cand.forced[idx]

    def strong(self, idx: np.ndarray) -> np.ndarray:
        """A full name and a date of birth in common: person evidence without any contact."""
        cand = self.cand
        levels = {comp.field: (c, comp) for c, comp in enumerate(cand.comps)}
        out = np.zeros(idx.size, dtype=bool)
        if cand.rules.households and all(
            f in levels for f in ("first_name", "last_name", "date_of_birth")
        ):
            g = cand.gamma[idx]
            out = g[:, levels["date_of_birth"][0]] == 1
            for f in ("first_name", "last_name"):
                c, comp = levels[f]
                out &= (g[:, c] > 0) & (g[:, c] < len(comp.levels) - 1)
        return out

    def person_columns(self) -> list[int]:
        return [c for c, comp in enumerate(self.cand.comps) if comp.role != "household"]

    def person_weights(self, idx: np.ndarray, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person-model weight of the linked pairs (NaN elsewhere) and the person links."""
        cand = self.cand
        person_w = np.full(idx.size, np.nan)
        if not cand.rules.households:
            return person_w, linked.copy()
        assert self.person_model is not None
        pidx = self.person_columns()
        gp = cand.gamma[idx][:, pidx][linked]
        pats, inv = _patterns(gp, [len(c.levels) for c in self.person_model.comparisons])
        pw = self.person_model.match_weight(pats)[inv]
        person_w[linked] = pw
        evidence = (gp > 0).any(axis=1)
        person_link = np.zeros(idx.size, dtype=bool)
        person_link[np.flatnonzero(linked)] = evidence & (pw >= logit2(cand.rules.person_threshold))
        return person_w, person_link | cand.forced[idx]

    def fit_person_model(self, linked_idx: np.ndarray) -> FellegiSunterModel:
        """The person model fitted by EM inside the household links."""
        rules = self.cand.rules
        pidx = self.person_columns()
        pcomps = [self.cand.comps[c] for c in pidx]
        return fit_fellegi_sunter(
            self.cand.gamma[linked_idx][:, pidx],
            pcomps,
            initial_person_u(pcomps),
            prior=0.5,
            max_iter=rules.max_iter,
            tol=rules.tol,
        )

    def tolerance(self, field: str) -> Callable[[int, int], bool] | None:
        """Values of a field one person may hold together: dates of birth a typing error
        apart (one digit, two adjacent digits, day and month swapped)."""
        if field != "date_of_birth":
            return None
        days = self.cand.norm[field].labels.astype("datetime64[D]").astype(np.int64)
        known: dict[tuple[int, int], bool] = {}

        def close(a: int, b: int) -> bool:
            if (a, b) not in known:
                known[(a, b)] = bool(date_close(days[[a]], days[[b]])[0])
            return known[(a, b)]

        return close


@attrs.frozen(eq=False)
class Scores:
    """Per pair and per record results of the two passes and the clustering."""

    base: np.ndarray
    weight0: np.ndarray
    linked0: np.ndarray
    entity: np.ndarray
    own: dict[int, np.ndarray]
    counts: dict[int, np.ndarray]
    weight: np.ndarray
    person_weight: np.ndarray
    linked: np.ndarray
    person_link: np.ndarray
    component: np.ndarray
    link: np.ndarray
    unsettled: np.ndarray
    refused: np.ndarray


@attrs.frozen(eq=False)
class EntityPass:
    """The link model's weights with term frequencies counted per record, its links and
    their components (the entities)."""

    weight: np.ndarray
    linked: np.ndarray
    entity: np.ndarray
    counts: dict[int, np.ndarray]
    prior: dict[int, tuple[float, float, float]]
    base: np.ndarray


def entity_pass(ctx: Context) -> EntityPass:
    """The entity pass over every pair."""
    cand = ctx.cand
    idx = np.arange(cand.left.size)
    counts = ctx.counts()
    ones = {c: record_own(cand.norm[ctx.model.comparisons[c].field].codes) for c in counts}
    prior = ctx.priors(None)
    base = ctx.base_weights(idx)
    weight = ctx.weights(idx, base, counts, ones, prior, None)
    linked = ctx.linked(idx, weight)
    entity = components(cand.n, cand.left[linked], cand.right[linked])
    return EntityPass(weight, linked, entity, counts, prior, base)


def score_all(ctx: Context) -> tuple[Context, Scores]:
    """Both passes over every pair (the person model fitted when the context has none; the
    term-frequency priors fitted when the link model has none)."""
    cand = ctx.cand
    idx = np.arange(cand.left.size)
    first = entity_pass(ctx)
    entity, counts = first.entity, first.counts
    prior = ctx.priors(entity)
    if not ctx.model.tf_priors:
        stored = [
            (*first.prior[c], *prior[c]) if c in prior else ()
            for c in range(len(ctx.model.comparisons))
        ]
        ctx = attrs.evolve(ctx, model=attrs.evolve(ctx.model, tf_priors=stored))
    own = {c: record_own(cand.norm[ctx.model.comparisons[c].field].codes, entity) for c in counts}
    weight = ctx.weights(idx, first.base, counts, own, prior, entity)
    linked = ctx.linked(idx, weight) | ctx.strong(idx)
    if ctx.person_model is None and cand.rules.households:
        ctx = attrs.evolve(ctx, person_model=ctx.fit_person_model(np.flatnonzero(linked)))
    person_weight, person_link = ctx.person_weights(idx, linked)
    scores = Scores(
        base=first.base,
        weight0=first.weight,
        linked0=first.linked,
        entity=entity,
        own=own,
        counts=counts,
        weight=weight,
        person_weight=person_weight,
        linked=linked,
        person_link=person_link,
        component=components(cand.n, cand.left[linked], cand.right[linked]),
        link=np.zeros(idx.size, dtype=np.int8),
        unsettled=np.zeros(cand.n, dtype=bool),
        refused=np.zeros((idx.size, 2), dtype=np.int8),
    )
    return ctx, scores


@attrs.frozen(eq=False)
class Region:
    """Clusters of a set of records closed under links: its records in canonical order, the
    person and household of each (numbered 0.. by their first record), the final level of
    its linked pairs, and whether each record's component broke a guard (its clusters then
    depend on the order of the link weights), and which guard refused each of its links, as
    a person link and as a household link (see :data:`REFUSED`)."""

    rows: np.ndarray
    person: np.ndarray
    household: np.ndarray
    pairs: np.ndarray
    link: np.ndarray
    unsettled: np.ndarray
    refused: np.ndarray


def cluster_region(ctx: Context, scores: Scores, inside: np.ndarray) -> Region:
    """Persons then households of the records ``inside`` (boolean per row; a union of
    components of the linked pairs)."""
    cand = ctx.cand
    rules = cand.rules
    rows = np.flatnonzero(inside)
    rows = rows[np.argsort(canonical_rank(ctx.records, rows), kind="stable")]
    k = rows.size
    local = np.full(cand.n, -1, dtype=np.int64)
    local[rows] = np.arange(k)
    idx = np.flatnonzero(scores.linked & inside[cand.left])
    a, b = local[cand.left[idx]], local[cand.right[idx]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    idx, lo, hi = idx[order], lo[order], hi[order]
    weight = scores.weight[idx]
    pw = scores.person_weight[idx]
    pl = np.flatnonzero(scores.person_link[idx])
    strength = np.where(np.isnan(pw), weight, pw)
    held = [f for f in rules.conflicting_fields if f in cand.norm]
    conflict_codes = [cand.norm[f].codes[rows] for f in held]
    compatible = [ctx.tolerance(f) for f in held]
    src = ctx.records.raw("source")[rows].astype(np.int64)
    src_labels = ctx.records.labels("source").tolist()
    unique = src_labels if rules.link_only else rules.unique_sources
    for s in unique:
        if s in src_labels:
            conflict_codes.append(np.where(src == src_labels.index(s), np.arange(k), -1))
    must = _local_pairs(local, cand.must)
    cannot = _local_pairs(local, cand.cannot)
    person, kept, unsettled, why = guarded_clusters(
        k,
        lo[pl],
        hi[pl],
        strength[pl],
        max_size=rules.max_person_records,
        conflict_codes=conflict_codes,
        compatible=compatible,
        must_link=must,
        cannot_link=cannot,
    )
    final = np.ones(idx.size, dtype=np.int8)
    final[pl[kept]] = 2
    refused = np.zeros((idx.size, 2), dtype=np.int8)
    refused[pl, 0] = why
    if rules.households:
        pa, pb = person[lo], person[hi]
        across = pa != pb
        g = cand.gamma[idx][:, ctx.hidx]
        pats, inv = _patterns(g, [len(c.levels) for c in ctx.model.comparisons])
        weak = place_only(ctx.model, pats)[inv[across]]
        never = _local_pairs(local, cand.never)
        household_of_person, _, unsettled_h, why_h = guarded_clusters(
            int(person.max()) + 1 if k else 0,
            pa[across],
            pb[across],
            weight[across],
            max_size=rules.max_household_persons,
            weak=weak,
            cannot_link=(person[never[0]], person[never[1]]),
        )
        household = household_of_person[person] if k else person
        refused[np.flatnonzero(across), 1] = why_h
        if k:
            unsettled = unsettled | unsettled_h[person]
        same = household[lo] == household[hi]
        final = np.where((final == 1) & ~same, 0, final).astype(np.int8)
    else:
        household = person
        final = np.where(final == 1, 0, final).astype(np.int8)
    return Region(rows, person, renumber(household), idx, final, unsettled, refused)


def with_region(scores: Scores, region: Region, left: np.ndarray) -> Scores:
    """The scores with the final levels and guard flags of a region's clustering."""
    link = scores.link.copy()
    link[region.pairs] = region.link
    unsettled = scores.unsettled.copy()
    unsettled[region.rows] = region.unsettled
    refused = scores.refused.copy()
    inside = np.zeros(unsettled.size, dtype=bool)
    inside[region.rows] = True
    refused[inside[left]] = 0
    refused[region.pairs] = region.refused
    return attrs.evolve(scores, link=link, unsettled=unsettled, refused=refused)


def _local_pairs(
    local: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    a, b = local[pairs[0]], local[pairs[1]]
    both = (a >= 0) & (b >= 0)
    return a[both], b[both]


def renumber(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in order of their first row."""
    if labels.size == 0:
        return labels.astype(np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]

"""Scoring of candidate pairs and clustering: the link model, the person model, the guards.

One pass of :class:`Stage` fits (or applies) the record-level Fellegi-Sunter model, the person
model inside its links, and clusters persons, then households of persons, under the guards.
:func:`~omnijourney.identity.resolve` finds rough entities (:meth:`Stage.entities`, the
components of the link model's links) to count agreement across them, then runs one full
pass (see its Notes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from omnijourney.identity._cluster import cluster_links, components
from omnijourney.identity._compare import Comparison, date_close
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    fit_fellegi_sunter,
    pattern_keys,
    tf_adjustments,
)
from omnijourney.identity._normalize import NormalizedField
from omnijourney.identity._records import NormalizedRecords
from omnijourney.identity._rules import KEY_FIELDS, ResolutionRules
from omnijourney.tables import Table

__all__ = [
    "PLACE_FIELDS",
    "Links",
    "Stage",
    "cap_keys",
    "link_columns",
    "mark_conflicting_keys",
    "relevel_shared",
]


def cap_keys(
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


def mark_conflicting_keys(
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


def relevel_shared(
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


@attrs.frozen(kw_only=True, eq=False)
class Links:
    """What one scoring pass decided."""

    model: FellegiSunterModel
    person_model: FellegiSunterModel | None
    weight: np.ndarray
    person_weight: np.ndarray
    link: np.ndarray
    person: np.ndarray
    household: np.ndarray


#: EM training sessions at most (the blocking rules with the most candidate pairs): splink
#: trains on a few rules; each session is an EM run over its pairs.
MAX_SESSIONS = 8


def link_columns(comps: list[Comparison], households: bool | None) -> list[int]:
    """The comparisons the link model reads: all of them for one level; at the household
    level, all but the person fields other than dates of birth (two unrelated people often
    share a first name, and with the surname a namesake would make a household; a full date
    of birth in common is rare between two persons and each person is in one household)."""
    return [
        c
        for c, comp in enumerate(comps)
        if not households or comp.role != "person" or comp.kind == "date"
    ]


def _view(comps: list[Comparison], households: bool | None) -> list[Comparison]:
    """The comparisons of the link model. At the household level, identifiers and dates of
    birth count by their agreement only: household members each have their own email, mobile,
    accounts and date of birth, but two records of one person (who is in one household)
    agree on them."""
    if not households:
        return comps
    return [
        attrs.evolve(comps[c], disagreement=False)
        if comps[c].kind == "key" or comps[c].role == "person"
        else comps[c]
        for c in link_columns(comps, households)
    ]


@attrs.frozen(kw_only=True, eq=False)
class Stage:
    """Candidate pairs and their comparison levels, ready to be scored and clustered."""

    n: int
    rules: ResolutionRules
    norm: NormalizedRecords
    comps: list[Comparison]
    left: np.ndarray
    right: np.ndarray
    gamma: np.ndarray
    forced: np.ndarray
    must: tuple[np.ndarray, np.ndarray]
    cannot: tuple[np.ndarray, np.ndarray]
    src: np.ndarray
    src_labels: list[str]
    groups: np.ndarray | None
    shared: dict[str, np.ndarray]
    _patterns: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = attrs.field(
        factory=dict, init=False
    )
    _sessions: dict[tuple, list[tuple[np.ndarray, np.ndarray]]] = attrs.field(
        factory=dict, init=False
    )

    def patterns(self, cols: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Distinct rows of the levels of ``cols`` and the pattern of each pair (computed
        once): weights are then computed per pattern, not per pair."""
        if cols not in self._patterns:
            g = self.gamma[:, list(cols)]
            key = pattern_keys(g, [len(self.comps[c].levels) for c in cols])
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            self._patterns[cols] = (g[first], inverse.reshape(-1))
        return self._patterns[cols]

    def sessions(self, comps: list[Comparison]) -> list[tuple[np.ndarray, np.ndarray]]:
        """EM training sessions: per blocking rule, its pairs and the comparisons it leaves
        unbiased (see :func:`~omnijourney.identity.fit_fellegi_sunter`); the
        :data:`MAX_SESSIONS` rules with the most pairs (computed once per set of
        comparisons)."""
        key = tuple((c.name, c.disagreement) for c in comps)
        if key not in self._sessions:
            found = self._all_sessions(comps)
            order = sorted(range(len(found)), key=lambda i: -found[i][0].size)
            self._sessions[key] = [found[i] for i in sorted(order[:MAX_SESSIONS])]
        return self._sessions[key]

    def _all_sessions(self, comps: list[Comparison]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for rule in self.rules.blocking or ():
            if not all(f in self.norm for f in rule.fields):
                continue
            agree = np.ones(self.left.size, dtype=bool)
            for f in rule.fields:
                codes = self.norm[f].codes
                cl, cr = codes[self.left], codes[self.right]
                agree &= (cl >= 0) & (cl == cr)
            near = set().union(*(_related(f) for f in rule.fields))
            used = np.array([not (set(c.fields) & near) for c in comps], dtype=bool)
            rows = np.flatnonzero(agree)
            # one comparison alone cannot tell matches from non-matches (EM has nothing to
            # weigh it against): a session reads two at least
            if used.sum() >= 2 and rows.size >= 20 * used.sum():
                out.append((rows, used))
        return out

    def entities(
        self, u: list[np.ndarray] | None, model: FellegiSunterModel | None = None
    ) -> np.ndarray:
        """Entities of a first pass: connected components of the links of the link model
        fitted with ``u`` (no person model, no guards); only used to count agreement
        across entities."""
        rules, comps = self.rules, self.comps
        hidx = link_columns(comps, rules.households)
        if model is None:
            assert u is not None
            model = self.fit(u, hidx)
        hpats, hinv = self.patterns(tuple(hidx))
        u_exact = [float(x[0]) for x in model.u_sampled]
        gh = self.gamma[:, hidx]
        tf = tf_adjustments(self.norm, list(model.comparisons), gh, self.left, self.right, u_exact)
        weight = model.match_weight(hpats)[hinv] + tf
        linked = (weight >= _logit2(rules.link_threshold)) & self.enough(hidx) | self.forced
        return components(self.n, self.left[linked], self.right[linked])

    def enough(self, cols: list[int]) -> np.ndarray:
        """Pairs with enough evidence to be linked at all: a model reading a single field
        other than an identifier (a surname, a first name) cannot tell a match from a
        namesake, since EM has nothing to weigh that field against; its pairs are linked
        only by an identifier or an override."""
        if len(cols) >= 2:
            return np.ones(self.left.size, dtype=bool)
        keys = [c for c in cols if self.comps[c].kind == "key"]
        return (self.gamma[:, keys] == 1).any(axis=1)

    def _tolerance(self, field: str) -> Callable[[int, int], bool] | None:
        """Values of a field one person may hold together: dates of birth a typing error
        apart (one digit, two adjacent digits, day and month swapped)."""
        if field != "date_of_birth":
            return None
        days = self.norm[field].labels.astype("datetime64[D]").astype(np.int64)

        def close(a: int, b: int) -> bool:
            return bool(date_close(days[[a]], days[[b]])[0])

        return close

    def fit(self, u: list[np.ndarray], hidx: list[int]) -> FellegiSunterModel:
        """The link model fitted by EM on the candidate pairs, u held."""
        rules, comps = self.rules, self.comps
        view = _view(comps, rules.households)
        return fit_fellegi_sunter(
            self.gamma[:, hidx],
            view,
            [u[c] for c in hidx],
            max_iter=rules.max_iter,
            tol=rules.tol,
            fix_u=True,
            total_pairs=_total_pairs(self.n, self.groups),
            # one level: a session per blocking rule, as splink trains. Two levels: one EM on
            # all the candidates, whose matches mix persons and households (sessions blocked
            # on an email would only see persons)
            sessions=self.sessions(view),
        )

    def run(
        self,
        u: list[np.ndarray] | None,
        model: FellegiSunterModel | None,
        person_model: FellegiSunterModel | None,
        entity: np.ndarray | None = None,
    ) -> Links:
        """Fit (unless given) and apply the models, then cluster persons and households."""
        rules, comps, gamma, left, right, n = (
            self.rules,
            self.comps,
            self.gamma,
            self.left,
            self.right,
            self.n,
        )
        hidx = link_columns(comps, rules.households)
        gh = gamma[:, hidx]
        if model is None:
            assert u is not None
            model = self.fit(u, hidx)
        u_exact = [float(x[0]) for x in model.u_sampled]
        tf = tf_adjustments(self.norm, list(model.comparisons), gh, left, right, u_exact, entity)
        hpats, hinv = self.patterns(tuple(hidx))
        weight = model.match_weight(hpats)[hinv] + tf
        linked = (weight >= _logit2(rules.link_threshold)) & self.enough(hidx) | self.forced
        # a full name and a date of birth in common are person evidence without any contact
        levels = {comp.field: (c, comp) for c, comp in enumerate(comps)}
        if rules.households and all(
            f in levels for f in ("first_name", "last_name", "date_of_birth")
        ):
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
            ppats, pinv = self.patterns(tuple(pidx))
            pw = person_model.match_weight(ppats)[pinv[linked]]
            person_w[linked] = pw
            evidence = (gp[linked] > 0).any(axis=1)
            person_link = np.zeros(left.size, dtype=bool)
            person_link[np.flatnonzero(linked)] = evidence & (pw >= _logit2(rules.person_threshold))
            person_link |= self.forced
        else:
            person_model = None
            person_link = linked
        # persons: cluster person links under the guards
        held = [f for f in rules.conflicting_fields if f in self.norm]
        conflict_codes = [self.norm[f].codes for f in held]
        compatible = [self._tolerance(f) for f in held]
        # sources without duplicates (every source when linking deduplicated files)
        unique = self.src_labels if rules.link_only else rules.unique_sources
        for s in unique:
            if s in self.src_labels:
                code = self.src_labels.index(s)
                conflict_codes.append(np.where(self.src == code, np.arange(n), -1))
        pl = np.flatnonzero(person_link)
        strength = np.where(np.isnan(person_w), weight, person_w)
        person, kept = cluster_links(
            n,
            left[pl],
            right[pl],
            strength[pl],
            max_size=rules.max_person_records,
            conflict_codes=conflict_codes,
            compatible=compatible,
            must_link=self.must,
            cannot_link=self.cannot,
        )
        final = np.where(linked, 1, 0).astype(np.int8)
        final[pl[kept]] = 2
        if rules.households:
            hl = np.flatnonzero(linked)
            a, b = person[left[hl]], person[right[hl]]
            across = a != b
            weak = _place_only(model, hpats)[hinv[hl][across]]
            household_of_person, _ = cluster_links(
                int(person.max()) + 1 if n else 0,
                a[across],
                b[across],
                weight[hl][across],
                max_size=rules.max_household_persons,
                weak=weak,
            )
            household = household_of_person[person] if n else person
            same_h = household[left] == household[right]
            final = np.where((final == 1) & ~same_h, 0, final).astype(np.int8)
        else:
            household = person
            final = np.where(final == 1, 0, final).astype(np.int8)
        return Links(
            model=model,
            person_model=person_model,
            weight=weight,
            person_weight=person_w,
            link=final,
            person=person,
            household=household,
        )


# normalized fields built from others: agreeing on one biases the comparison of the others
_PARTS = {
    "location": ("address", "postcode", "city", "street", "house_number"),
    "address": ("street", "house_number"),
    "email_user": ("email",),
    "email_domain": ("email",),
    "full_name": ("first_name", "last_name"),
}


def _related(field: str) -> set[str]:
    """A normalized field, its parts and the fields it is part of."""
    out = {field, *_PARTS.get(field, ())}
    out |= {whole for whole, parts in _PARTS.items() if field in parts}
    return out


#: Normalized fields that describe where a record lives.
PLACE_FIELDS = (
    "location", "address", "street", "house_number", "postcode", "city", "address_2", "region",
)  # fmt: skip


def _place_only(model: FellegiSunterModel, gamma: np.ndarray) -> np.ndarray:
    """Pairs whose only positive evidence is a shared place (no surname, no identifier)."""
    partial = model.partial_weights(gamma)
    other = [c for c, comp in enumerate(model.comparisons) if comp.field not in PLACE_FIELDS]
    return np.logical_not((partial[:, other] > 0).any(axis=1))


def _logit2(p: float) -> float:
    """The match weight (log2 odds) of a probability."""
    return float(np.log2(p / (1.0 - p)))


def _total_pairs(n: int, groups: np.ndarray | None) -> int:
    """Pairs of records that could be compared (across groups only when linking)."""
    if groups is None:
        return max(n * (n - 1) // 2, 1)
    counts = np.bincount(groups).astype(np.float64)
    return max(int((counts.sum() ** 2 - (counts**2).sum()) // 2), 1)

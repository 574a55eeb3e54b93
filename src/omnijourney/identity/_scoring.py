"""Fitting the link model, and what scoring shares with it.

:class:`Stage` fits the record-level Fellegi-Sunter model on the candidate pairs (EM sessions
per blocking rule, u held); the comparisons each level reads (:func:`link_columns`), the
starting u of the person model and the test of a link resting on a place only are used by the
scoring of :mod:`omnijourney.identity._links` too.
"""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney.identity._compare import Comparison
from omnijourney.identity._fellegi_sunter import (
    FellegiSunterModel,
    fit_fellegi_sunter,
)
from omnijourney.identity._records import NormalizedRecords
from omnijourney.identity._rules import ResolutionRules

__all__ = [
    "PLACE_FIELDS",
    "Stage",
    "initial_person_u",
    "link_columns",
    "logit2",
    "place_only",
]


def initial_person_u(comps: list[Comparison]) -> list[np.ndarray]:
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
    """Candidate pairs and their comparison levels, ready for the link model to be fitted."""

    n: int
    rules: ResolutionRules
    norm: NormalizedRecords
    comps: list[Comparison]
    left: np.ndarray
    right: np.ndarray
    gamma: np.ndarray
    groups: np.ndarray | None
    _sessions: dict[tuple, list[tuple[np.ndarray, np.ndarray]]] = attrs.field(
        factory=dict, init=False
    )

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


def place_only(model: FellegiSunterModel, gamma: np.ndarray) -> np.ndarray:
    """Pairs whose only positive evidence is a shared place (no surname, no identifier)."""
    partial = model.partial_weights(gamma)
    other = [c for c, comp in enumerate(model.comparisons) if comp.field not in PLACE_FIELDS]
    return np.logical_not((partial[:, other] > 0).any(axis=1))


def logit2(p: float) -> float:
    """The match weight (log2 odds) of a probability."""
    return float(np.log2(p / (1.0 - p)))


def _total_pairs(n: int, groups: np.ndarray | None) -> int:
    """Pairs of records that could be compared (across groups only when linking)."""
    if groups is None:
        return max(n * (n - 1) // 2, 1)
    counts = np.bincount(groups).astype(np.float64)
    return max(int((counts.sum() ** 2 - (counts**2).sum()) // 2), 1)

"""Clustering of accepted links: connected components, then guards against over-merging.

Components come from ``scipy.sparse.csgraph.connected_components`` (O(n + m)). A component
that breaks a guard (too many records, two different values of a field that a person has
only once, two records of a source without duplicates, a cannot-link pair) is rebuilt by a
constrained Kruskal pass: its links are added strongest first, and a link that would join two
parts whose union breaks a guard is dropped. Must-link pairs are added first, unconditionally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._arrays import distinct_per

__all__ = ["REFUSED", "cluster_links", "components", "guarded_clusters"]

#: Why a guard refused a link (after these: the conflicting fields, in order).
REFUSED = ("kept", "size", "weak link", "cannot-link")


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` nodes (labels numbered by their smallest node).

    Examples
    --------
    >>> components(5, np.array([0, 3]), np.array([2, 4])).tolist()
    [0, 1, 0, 2, 2]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    # renumber by smallest member so that labels do not depend on scipy's traversal order
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[labels]


def _violations(
    labels: np.ndarray,
    max_size: int | None,
    conflict_codes: Sequence[np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Components that break a guard (boolean per component label)."""
    n_comp = int(labels.max()) + 1 if labels.size else 0
    bad = np.zeros(n_comp, dtype=bool)
    if max_size is not None:
        bad |= np.bincount(labels, minlength=n_comp) > max_size
    for codes in conflict_codes:
        has = codes >= 0
        if not has.any():
            continue
        bad |= distinct_per(labels[has], codes[has], n_comp) > 1
    a, b = cannot
    if a.size:
        bad[labels[a][labels[a] == labels[b]]] = True
    return bad


def _weak_violations(
    n: int, labels: np.ndarray, left: np.ndarray, right: np.ndarray, weak: np.ndarray
) -> np.ndarray:
    """Components that weak links could make out of two multi-node parts."""
    n_comp = int(labels.max()) + 1 if labels.size else 0
    strong = components(n, left[~weak], right[~weak])
    size = np.bincount(strong, minlength=int(strong.max()) + 1 if n else 0)
    wl, wr = left[weak], right[weak]
    joins_two = (size[strong[wl]] > 1) & (size[strong[wr]] > 1) & (strong[wl] != strong[wr])
    bad = np.zeros(n_comp, dtype=bool)
    bad[labels[wl[joins_two]]] = True
    # two weak links in one component can chain parts through a single node
    across = strong[wl] != strong[wr]
    per_comp = np.bincount(labels[wl[across]], minlength=n_comp)
    return bad | (per_comp > 1)


def _ends(codes: np.ndarray, a: int, b: int) -> set[tuple[int, int]]:
    """The two values the ends of a link hold (both orders), when both hold one."""
    x, y = int(codes[a]), int(codes[b])
    return {(x, y), (y, x)} if x >= 0 and y >= 0 and x != y else set()


def _may_join(
    a: set[int],
    b: set[int],
    compatible: Callable[[int, int], bool] | None,
    linked: set[tuple[int, int]],
) -> bool:
    """Whether clusters holding the values ``a`` and ``b`` of one field may become one."""
    if not a or not b or a == b:
        return True
    if compatible is None:
        return False
    return all(x == y or (x, y) in linked or compatible(x, y) for x in a for y in b)


def cluster_links(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    *,
    max_size: int | None = None,
    conflict_codes: Sequence[np.ndarray] = (),
    must_link: tuple[np.ndarray, np.ndarray] | None = None,
    cannot_link: tuple[np.ndarray, np.ndarray] | None = None,
    weak: np.ndarray | None = None,
    compatible: Sequence[Callable[[int, int], bool] | None] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ``n`` nodes from weighted links, under guards and user overrides.

    Parameters
    ----------
    n : int
        Number of nodes (records).
    left, right, weight : numpy.ndarray
        Accepted links and their strength (match weight).
    max_size : int, optional
        Largest cluster allowed.
    conflict_codes : sequence of numpy.ndarray of int
        Per node, a code (-1 = none) of a value a cluster may hold only once (date of birth,
        loyalty card of one programme, a source without duplicates...).
    must_link, cannot_link : (left, right), optional
        User overrides: must-link pairs always end up together (even against the guards),
        cannot-link pairs never.
    weak : numpy.ndarray of bool, optional
        Links that may only attach a single node to a cluster, never join two clusters of
        several nodes (households: a shared address alone brings a person into a household,
        but does not make one household of two families living in one building).
    compatible : sequence of callables or None, optional
        Per field of ``conflict_codes``: a function of two codes telling whether one cluster
        may hold both (two dates of birth a typing error apart are one person's). Two values
        held by the ends of a link are compatible too: the link was decided knowing them, and
        the guard only stops chains of links from joining values that were never compared. A
        cluster then holds values that are pairwise compatible. None (or left out): one value.

    Returns
    -------
    labels : numpy.ndarray of int64
        Cluster of each node, numbered by smallest member.
    kept : numpy.ndarray of bool
        Which links were kept (False for the links dropped by the guards).

    Raises
    ------
    ConfigError
        A cannot-link pair is joined by must-link pairs.

    Examples
    --------
    Two records with different dates of birth are kept apart; the weaker link goes:

    >>> labels, kept = cluster_links(3, np.array([0, 1]), np.array([1, 2]),
    ...                              np.array([5.0, 9.0]),
    ...                              conflict_codes=[np.array([0, -1, 1])])
    >>> labels.tolist(), kept.tolist()
    ([0, 1, 1], [False, True])

    Unless the two values are compatible (here: codes one apart):

    >>> labels, kept = cluster_links(3, np.array([0, 1]), np.array([1, 2]),
    ...                              np.array([5.0, 9.0]),
    ...                              conflict_codes=[np.array([0, -1, 1])],
    ...                              compatible=[lambda a, b: abs(a - b) == 1])
    >>> labels.tolist(), kept.tolist()
    ([0, 0, 0], [True, True])
    """
    labels, kept, _, _ = guarded_clusters(
        n,
        left,
        right,
        weight,
        max_size=max_size,
        conflict_codes=conflict_codes,
        must_link=must_link,
        cannot_link=cannot_link,
        weak=weak,
        compatible=compatible,
    )
    return labels, kept


def guarded_clusters(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    *,
    max_size: int | None = None,
    conflict_codes: Sequence[np.ndarray] = (),
    must_link: tuple[np.ndarray, np.ndarray] | None = None,
    cannot_link: tuple[np.ndarray, np.ndarray] | None = None,
    weak: np.ndarray | None = None,
    compatible: Sequence[Callable[[int, int], bool] | None] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`cluster_links`, the nodes whose component broke a guard (their clusters depend
    on the order of the links' weights), and why each dropped link was refused (an index
    into :data:`REFUSED`, or ``len(REFUSED) + k`` for the ``k``-th conflicting field; 0 for
    links kept)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    must = must_link if must_link is not None else empty
    cannot = cannot_link if cannot_link is not None else empty
    ml, mr = (np.asarray(x, dtype=np.int64) for x in must)
    cl, cr = (np.asarray(x, dtype=np.int64) for x in cannot)
    all_l = np.concatenate([left, ml]).astype(np.int64)
    all_r = np.concatenate([right, mr]).astype(np.int64)
    labels = components(n, all_l, all_r)
    kept = np.ones(left.size, dtype=bool)
    bad = _violations(labels, max_size, conflict_codes, (cl, cr))
    weak = np.zeros(left.size, dtype=bool) if weak is None else np.asarray(weak, dtype=bool)
    if weak.any():
        never = np.zeros(ml.size, dtype=bool)
        bad |= _weak_violations(n, labels, all_l, all_r, np.concatenate([weak, never]))
    in_bad = bad[labels] if n else np.zeros(0, dtype=bool)
    reason = np.zeros(left.size, dtype=np.int8)
    if not bad.any():
        return labels, kept, in_bad, reason
    nodes = np.flatnonzero(in_bad)
    edges = np.flatnonzero(in_bad[left])
    must_edges = np.flatnonzero(in_bad[ml]) if ml.size else np.zeros(0, np.int64)
    # strongest links first; ties broken by node numbers so the result is deterministic
    order = edges[np.lexsort((right[edges], left[edges], -weight[edges]))]
    parent = {int(v): int(v) for v in nodes.tolist()}
    size = dict.fromkeys(parent, 1)
    tolerant = [compatible[k] if k < len(compatible) else None for k in range(len(conflict_codes))]
    # per tolerant field, the pairs of values the ends of kept links hold
    linked: list[set[tuple[int, int]]] = [set() for _ in conflict_codes]
    values: dict[int, list[set[int]]] = {
        v: [({int(c[v])} if c[v] >= 0 else set()) for c in conflict_codes] for v in parent
    }
    forbid: dict[int, set[int]] = {v: set() for v in parent}
    for a, b in zip(cl.tolist(), cr.tolist()):
        if a in forbid and b in forbid:
            forbid[a].add(b)
            forbid[b].add(a)
    members: dict[int, set[int]] = {v: {v} for v in parent}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(ra: int, rb: int) -> None:
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        for k in range(len(conflict_codes)):
            values[ra][k] |= values[rb][k]
        forbid[ra] |= forbid[rb]
        members[ra] |= members[rb]

    for e in must_edges.tolist():
        ra, rb = find(int(ml[e])), find(int(mr[e]))
        if ra == rb:
            continue
        if forbid[ra] & members[rb]:
            msg = (
                f"must-link ({int(ml[e])}, {int(mr[e])}) joins records that a cannot-link pair "
                "keeps apart"
            )
            raise ConfigError(msg)
        union(ra, rb)
    dropped = np.zeros(left.size, dtype=bool)
    for e in order.tolist():
        ra, rb = find(int(left[e])), find(int(right[e]))
        if ra == rb:
            continue
        why = 0
        if max_size is not None and size[ra] + size[rb] > max_size:
            why = REFUSED.index("size")
        elif weak[e] and size[ra] > 1 and size[rb] > 1:
            why = REFUSED.index("weak link")
        elif forbid[ra] & members[rb]:
            why = REFUSED.index("cannot-link")
        else:
            ends = [
                _ends(conflict_codes[k], int(left[e]), int(right[e])) for k in range(len(linked))
            ]
            for k in range(len(conflict_codes)):
                if not _may_join(values[ra][k], values[rb][k], tolerant[k], linked[k] | ends[k]):
                    why = len(REFUSED) + k
                    break
        if not why:
            for k in range(len(linked)):
                if tolerant[k] is not None:
                    linked[k] |= ends[k]
            union(ra, rb)
        else:
            dropped[e] = True
            reason[e] = why
    kept &= ~dropped
    keep_l = np.concatenate([left[kept], ml]).astype(np.int64)
    keep_r = np.concatenate([right[kept], mr]).astype(np.int64)
    return components(n, keep_l, keep_r), kept, in_bad, reason

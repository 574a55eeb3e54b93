"""Incremental resolution: a batch of new or updated records, ids that stay, what changed.

Records are recognised by (source, record id). A new resolution keeps the ids of an earlier
one: each earlier person (household) lends its id to the new cluster that holds most of its
records; clusters left without an id get fresh ones. :class:`ResolutionChanges` lists the
persons created, merged and split.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._candidates import in_sorted
from omnijourney.identity._labels import append_rows, recode
from omnijourney.identity._records import CustomerRecordTable
from omnijourney.tables import Table, remap_codes, union_labels

__all__ = [
    "FEED_EVENTS",
    "ResolutionChanges",
    "change_feed",
    "find_records",
    "id_changes",
    "merge_batch",
    "old_rows",
    "record_keys",
    "stable_ids",
]


def _ints(values: Iterable[Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _id_groups(value: Iterable[Iterable[Any]]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    return tuple((int(a), _ints(b)) for a, b in value)


@attrs.frozen(kw_only=True)
class ResolutionChanges:
    """What a new resolution changed with respect to an earlier one.

    Attributes
    ----------
    added_records, updated_records : int
        Records that are new, and records of the earlier resolution given again (by source
        and record id) with new values.
    new_persons : tuple of int
        Persons made only of new records.
    merged_persons : tuple of (int, tuple of int)
        ``(kept id, absorbed ids)``: earlier persons now one person, under the kept id.
    split_persons : tuple of (int, tuple of int)
        ``(earlier id, ids now)``: an earlier person whose records are now in several persons
        (the largest part keeps the id).
    new_households, merged_households, split_households
        The same for households.
    feed : Table or None
        The change feed: one row per record added, updated, or whose person or household
        changed, with ``source``, ``record_id``, ``event`` (``added``, ``updated``,
        ``merged``, ``split``, ``household_merged``, ``household_split`` or ``moved``: its
        person went to another household), ``person_before``, ``person``,
        ``household_before`` and ``household`` (-1 before for added records). Records no
        change reached are not listed.

    Examples
    --------
    >>> ResolutionChanges(added_records=1, new_persons=[7]).new_persons
    (7,)
    """

    added_records: int = 0
    updated_records: int = 0
    new_persons: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    merged_persons: tuple[tuple[int, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_id_groups
    )
    split_persons: tuple[tuple[int, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_id_groups
    )
    new_households: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    merged_households: tuple[tuple[int, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_id_groups
    )
    split_households: tuple[tuple[int, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_id_groups
    )
    feed: Table | None = attrs.field(default=None, eq=False)

    def summary(self) -> str:
        """One line of counts."""
        return (
            f"{self.added_records:,} records added, {self.updated_records:,} updated; persons: "
            f"{len(self.new_persons):,} new, {len(self.merged_persons):,} merges, "
            f"{len(self.split_persons):,} splits; households: {len(self.new_households):,} new, "
            f"{len(self.merged_households):,} merges, {len(self.split_households):,} splits"
        )


#: Events of the change feed, the first that applies to a record.
FEED_EVENTS = (
    "added", "updated", "merged", "split", "household_merged", "household_split", "moved",
)  # fmt: skip


def change_feed(
    records: CustomerRecordTable,
    rows: np.ndarray,
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    updated: np.ndarray,
    changes: ResolutionChanges,
) -> Table:
    """The change feed (see :attr:`ResolutionChanges.feed`) of the records at ``rows``.

    ``before``, ``after``: (person, household) of each of those records (-1 before for new
    records); ``updated``: whether each is an updated record.
    """
    p0, h0 = before
    p1, h1 = after
    absorbed = {a for _, olds in changes.merged_persons for a in olds}
    absorbed_h = {a for _, olds in changes.merged_households for a in olds}
    split = {a for a, _ in changes.split_persons}
    split_h = {a for a, _ in changes.split_households}
    event = np.full(rows.size, -1, dtype=np.int64)
    tests = (
        p0 < 0,
        updated,
        np.isin(p0, list(absorbed)) & (p1 != p0),
        np.isin(p0, list(split)) & (p1 != p0),
        np.isin(h0, list(absorbed_h)) & (h1 != h0),
        np.isin(h0, list(split_h)) & (h1 != h0),
        h1 != h0,
    )
    for k, test in enumerate(tests):
        event[(event < 0) & test] = k
    keep = event >= 0
    at = rows[keep]
    return Table.from_columns(
        {
            "source": records["source"][at],
            "record_id": np.array([str(v) for v in records["record_id"][at]], dtype=object),
            "event": [FEED_EVENTS[k] for k in event[keep].tolist()],
            "person_before": p0[keep].astype(np.int64),
            "person": p1[keep].astype(np.int64),
            "household_before": h0[keep].astype(np.int64),
            "household": h1[keep].astype(np.int64),
        },
        kinds={"source": "category", "record_id": "category", "event": "category"},
    )


def id_changes(
    persons: Sequence[Any], households: Sequence[Any], *, added_records: int = 0
) -> ResolutionChanges:
    """The changes of ids: ``persons`` and ``households`` are the new, merged and split ones
    (as :func:`stable_ids` gives them)."""
    (new_p, merged_p, split_p), (new_h, merged_h, split_h) = persons, households
    return ResolutionChanges(
        added_records=added_records,
        new_persons=new_p,
        merged_persons=merged_p,
        split_persons=split_p,
        new_households=new_h,
        merged_households=merged_h,
        split_households=split_h,
    )


def stable_ids(
    labels: np.ndarray, old_ids: np.ndarray, next_id: int
) -> tuple[np.ndarray, tuple[int, ...], list[tuple[int, tuple[int, ...]]], list]:
    """Ids of new clusters that keep the ids of earlier ones.

    Parameters
    ----------
    labels : numpy.ndarray of int
        New cluster of each record, numbered 0.. in canonical order of their first record.
    old_ids : numpy.ndarray of int64
        Earlier id of each record (-1 for new records).
    next_id : int
        First fresh id.

    Returns
    -------
    ids : numpy.ndarray of int64
        Id of each record.
    new : tuple of int
        Fresh ids of clusters without any earlier record.
    merged, split : list of (int, tuple of int)
        See :class:`ResolutionChanges`.

    Examples
    --------
    Records 0-1 were person 5 and record 2 person 6; now 1 and 2 are together, 3 is new:

    >>> ids, new, merged, split = stable_ids(np.array([0, 1, 1, 2]),
    ...                                      np.array([5, 5, 6, -1]), next_id=7)
    >>> ids.tolist(), new, merged, split
    ([5, 6, 6, 7], (7,), [(6, (5, 6))], [(5, (5, 6))])
    """
    labels = np.asarray(labels, dtype=np.int64)
    old_ids = np.asarray(old_ids, dtype=np.int64)
    k = int(labels.max()) + 1 if labels.size else 0
    had = old_ids >= 0
    lab, old = labels[had], old_ids[had]
    width = int(old.max()) + 1 if old.size else 1
    pair, count = np.unique(lab * width + old, return_counts=True)
    p_lab, p_old = pair // width, pair % width
    # each earlier id goes to the cluster holding most of its records (ties: earliest cluster)
    order = np.lexsort((p_lab, -count, p_old))
    heir = order[_run_starts(p_old[order])]
    # a cluster chosen by several earlier ids keeps the one with most records (ties: smallest)
    order = heir[np.lexsort((p_old[heir], -count[heir], p_lab[heir]))]
    kept = order[_run_starts(p_lab[order])]
    cluster_id = np.full(k, -1, dtype=np.int64)
    cluster_id[p_lab[kept]] = p_old[kept]
    fresh = np.flatnonzero(cluster_id < 0)
    cluster_id[fresh] = next_id + np.arange(fresh.size)
    has_old = np.zeros(k, dtype=bool)
    has_old[p_lab] = True
    new = tuple(int(x) for x in cluster_id[fresh[~has_old[fresh]]])
    ids = cluster_id[labels] if labels.size else labels.copy()
    merged: list[tuple[int, tuple[int, ...]]] = []
    split: list[tuple[int, tuple[int, ...]]] = []
    starts = np.flatnonzero(_run_starts(p_lab)).tolist()
    for a, b in zip(starts, [*starts[1:], pair.size]):
        if b - a > 1:
            merged.append((int(cluster_id[p_lab[a]]), _ints(np.sort(p_old[a:b]))))
    order = np.lexsort((p_lab, p_old))
    so, sl = p_old[order], p_lab[order]
    starts = np.flatnonzero(_run_starts(so)).tolist()
    for a, b in zip(starts, [*starts[1:], so.size]):
        if b - a > 1:
            split.append((int(so[a]), _ints(np.sort(cluster_id[sl[a:b]]))))
    return ids, new, merged, split


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the positions where a run of equal values begins."""
    out = np.ones(values.size, dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def record_keys(tables: list[CustomerRecordTable]) -> list[np.ndarray]:
    """One int64 key per record of each table: equal keys = same (source, record id)."""
    src_union = union_labels([t.labels("source") for t in tables], column="source", table="records")
    rid_union = union_labels(
        [t.labels("record_id") for t in tables], column="record_id", table="records"
    )
    keys = []
    for t in tables:
        src = remap_codes(t.raw("source"), t.labels("source"), src_union).astype(np.int64)
        rid = remap_codes(t.raw("record_id"), t.labels("record_id"), rid_union).astype(np.int64)
        keys.append(src * (rid_union.size + 1) + rid)
    return keys


def _find(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position in ``keys`` (distinct) of each wanted key, -1 when absent."""
    out = np.full(wanted.size, -1, dtype=np.int64)
    if keys.size == 0:
        return out
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)
    hit = keys[order][pos] == wanted
    out[hit] = order[pos[hit]]
    return out


def old_rows(records: CustomerRecordTable, previous: CustomerRecordTable) -> np.ndarray:
    """Row of ``previous`` holding each record of ``records`` (-1 for new records)."""
    key_new, key_old = record_keys([records, previous])
    return _find(key_old, key_new)


def _aligned(table: CustomerRecordTable, like: CustomerRecordTable) -> CustomerRecordTable:
    """``table`` with the columns of ``like`` (missing ones empty), in ``like``'s order."""
    data, labels, specs = {}, {}, {}
    n = len(table)
    for name in like.columns:
        spec = like.spec(name)
        specs[name] = spec
        if name in table.columns:
            if table.kinds[name] != spec.kind:
                msg = (
                    f"update: column {name!r} is {table.kinds[name]} in the new records and "
                    f"{spec.kind} in the resolved ones"
                )
                raise ConfigError(msg)
            data[name] = table.raw(name)
            if spec.kind == "category":
                labels[name] = table.labels(name)
            continue
        if spec.kind == "category":
            data[name] = np.full(n, -1, dtype=np.int8)
            labels[name] = np.zeros(0, dtype=like.labels(name).dtype)
        elif spec.kind == "time":
            data[name] = np.full(n, np.datetime64("NaT", "us"), dtype="datetime64[us]")
        else:
            data[name] = np.zeros(n, dtype=like.raw(name).dtype)
    return CustomerRecordTable.from_arrays(data, labels, specs=specs)


def merge_batch(
    records: CustomerRecordTable, batch: CustomerRecordTable
) -> tuple[CustomerRecordTable, CustomerRecordTable, np.ndarray]:
    """``records`` with the records of ``batch`` replacing those of equal (source, record id),
    and the others appended.

    Returns the merged table, the batch with the columns of ``records`` (its own
    dictionaries), and the row of each batch record in the merged table (rows before
    ``len(records)`` are updated records). Costs O(rows) array work and O(batch) dictionary
    work.
    """
    if not isinstance(batch, CustomerRecordTable):
        msg = "update needs a CustomerRecordTable of new records"
        raise ConfigError(msg)
    extra = [c for c in batch.columns if c not in records.columns]
    if extra:
        msg = f"update: the new records have columns the resolved ones lack: {extra}"
        raise ConfigError(msg)
    if batch.duplicate_mask().any():
        msg = "update: the new records name the same (source, record id) twice"
        raise ConfigError(msg)
    aligned = _aligned(batch.compact(), records)
    found = find_records(records, aligned)
    hit = found >= 0
    n = len(records)
    rows = np.where(hit, found, n + np.cumsum(~hit) - 1)
    out = append_rows(records, aligned, rows)
    assert isinstance(out, CustomerRecordTable)
    return out, aligned, rows


def find_records(records: CustomerRecordTable, wanted: CustomerRecordTable) -> np.ndarray:
    """Row of ``records`` holding each record of ``wanted`` (same source and record id), -1
    when none. O(rows + wanted x log(labels))."""
    out = np.full(len(wanted), -1, dtype=np.int64)
    codes = []
    for name in ("source", "record_id"):
        have, want = records.labels(name), wanted.labels(name)
        if have.dtype != want.dtype:
            have, want = have.astype(str).astype(object), want.astype(str).astype(object)
            order = np.argsort(have)
            have = have[order]
        else:
            order = np.arange(have.size)
        pos = np.minimum(np.searchsorted(have, want), max(have.size - 1, 0))
        ok = have[pos] == want if have.size else np.zeros(want.size, dtype=bool)
        code = np.where(ok, order[pos] if have.size else -1, -1)
        codes.append(recode(code, wanted.raw(name)))
    src, rid = codes
    known = np.flatnonzero((src >= 0) & (rid >= 0))
    if known.size == 0:
        return out
    width = np.int64(records.labels("record_id").size + 1)
    key = records.raw("source").astype(np.int64) * width + records.raw("record_id")
    want_key = src[known] * width + rid[known]
    wanted_sorted = np.unique(want_key)
    rows = np.flatnonzero(in_sorted(key, wanted_sorted))
    pos = np.searchsorted(wanted_sorted, key[rows])
    row_of = np.full(wanted_sorted.size, -1, dtype=np.int64)
    row_of[pos] = rows
    out[known] = row_of[np.searchsorted(wanted_sorted, want_key)]
    return out

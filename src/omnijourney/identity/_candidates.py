"""Candidate pairs of a resolution and what they rest on, kept up to date batch by batch.

normalize -> ignore over-common identifiers -> block -> compare -> mark shared identifiers.
:func:`build_candidates` does it for a table of records; :meth:`Candidates.add` for a batch:
only the batch's records are normalized, only the blocks they fall in are paired again, only
the new pairs are compared, and the pairs whose evidence moved (a value of an identifier now
shared) are re-levelled. Rows are those of the resolution's record table (a batch's new
records are appended); pairs are kept sorted by (left, right) row. Each pair keeps the set of
blocking rules that find it, so that a block growing past its cap drops exactly the pairs no
other rule finds.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from omnijourney.identity._blocking import BlockingRule, block_keys, pairs_within_blocks
from omnijourney.identity._compare import Comparison, compare_pairs
from omnijourney.identity._known import Known
from omnijourney.identity._labels import LabelIndex, flag, recode
from omnijourney.identity._normalize import NormalizedField
from omnijourney.identity._records import NormalizedRecords
from omnijourney.identity._rules import KEY_FIELDS, ResolutionRules
from omnijourney.tables import Table, code_dtype

__all__ = ["Candidates", "Delta", "build_candidates", "pair_keys"]

_SHIFT = np.int64(32)
_STATS = ("pairs", "pairs_total", "blocks", "skipped_blocks", "skipped_records")


def pair_keys(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One int64 per pair of rows, ordered as (left, right)."""
    return (left.astype(np.int64) << _SHIFT) | right.astype(np.int64)


class NeedsFullRun(Exception):
    """A batch changed something every pair reads (a field with no usable value before):
    the update runs in full, with the same models."""


@attrs.frozen(eq=False)
class Delta:
    """What :meth:`Candidates.add` changed.

    ``kept``: new index of each earlier pair (-1: removed); ``new``: indices of the pairs that
    are new or whose records changed (compared again); ``relevelled``: indices of kept pairs
    whose levels moved; ``dirty``: records normalized again (the batch's, and those whose
    identifier crossed a cap); ``removed``: rows (left, right) of the removed pairs;
    ``alive``: the earlier pairs kept (they come first, in their order; new pairs follow).
    """

    kept: np.ndarray
    new: np.ndarray
    relevelled: np.ndarray
    dirty: np.ndarray
    removed: tuple[np.ndarray, np.ndarray]
    alive: np.ndarray


@attrs.frozen(eq=False)
class Candidates:
    """Normalized records, identifier counts and candidate pairs with their levels.

    Pairs are in the order they were found (an update keeps the earlier ones in their order
    and appends the new); ``sorted_keys`` are their keys (:func:`pair_keys`) sorted, and
    ``sorted_at`` the position of each.
    """

    rules: ResolutionRules
    comps: tuple[Comparison, ...]
    norm_all: NormalizedRecords
    norm: NormalizedRecords
    key_counts: dict[str, np.ndarray]
    marks: dict[str, np.ndarray]
    shared: dict[str, np.ndarray]
    no_identifier: np.ndarray
    groups: np.ndarray | None
    must: tuple[np.ndarray, np.ndarray]
    cannot: tuple[np.ndarray, np.ndarray]
    never: tuple[np.ndarray, np.ndarray]
    left: np.ndarray
    right: np.ndarray
    bits: np.ndarray
    gamma: np.ndarray
    stats: np.ndarray
    sorted_keys: np.ndarray
    sorted_at: np.ndarray
    known: Known | None = None
    _index: dict[str, LabelIndex] = attrs.field(factory=dict, init=False)
    _blocks: dict[int, tuple[np.ndarray, np.ndarray]] = attrs.field(factory=dict, init=False)

    @property
    def n(self) -> int:
        return len(self.norm)

    @property
    def rule(self) -> np.ndarray:
        """First blocking rule that finds each pair (one past the end: must-link only)."""
        low = self.bits & -self.bits
        return np.log2(np.maximum(low, 1)).astype(np.int8)

    @property
    def forced(self) -> np.ndarray:
        """Pairs a must-link decision names."""
        return (self.bits >> len(self.rules.blocking or ())) & 1 == 1

    def shared_table(self) -> Table:
        """Identifier values treated as household evidence or ignored."""
        rows: dict[str, list] = {"field": [], "value": [], "records": [], "use": []}
        for name in KEY_FIELDS:
            if name not in self.key_counts:
                continue
            counts = self.key_counts[name]
            labels = self.norm_all[name].labels
            over = counts > self.rules.person_key_max_records
            for code in np.flatnonzero(over).tolist():
                rows["field"].append(name)
                rows["value"].append(str(labels[code]))
                rows["records"].append(int(counts[code]))
                ignored = counts[code] > self.rules.key_max_records
                rows["use"].append("ignored" if ignored else "household")
        return Table.from_columns(
            {**rows, "records": np.array(rows["records"], dtype=np.int64)},
            kinds={"field": "category", "value": "category", "use": "category"},
        )

    def report(self) -> Table:
        """Pairs found by each blocking rule (see :class:`CandidatePairs`)."""
        names = [r.name for r in self.rules.blocking or ()] + ["overrides"]
        keep = [*range(len(names) - 1)] + ([len(names) - 1] if self.must[0].size else [])
        data: dict[str, object] = {"rule": [names[k] for k in keep]}
        for c, name in enumerate(_STATS):
            data[name] = self.stats[keep, c].astype(np.int64)
        return Table.from_columns(data, kinds={"rule": "category"})

    def index(self, name: str) -> LabelIndex:
        """A hash index of a normalized field's values (built once, grown with the field)."""
        if name not in self._index:
            self._index[name] = LabelIndex.of(self.norm_all[name].labels)
        return self._index[name]

    def add(
        self,
        rows: np.ndarray,
        batch: NormalizedRecords,
        groups: np.ndarray | None,
        must: tuple[np.ndarray, np.ndarray],
        cannot: tuple[np.ndarray, np.ndarray],
        never: tuple[np.ndarray, np.ndarray],
    ) -> tuple[Candidates, Delta]:
        """The candidates once the batch's records (normalized in ``batch``) are at ``rows``
        (earlier rows are replaced, rows past the end appended)."""
        n_old = self.n
        n = max(n_old, int(rows.max()) + 1 if rows.size else 0)
        norm_all, index = _merge_normalized(self, rows, batch, n)
        dirty = np.zeros(n, dtype=bool)
        dirty[rows] = True
        norm, counts, ignored_moved, shared_count = cap(norm_all, self.rules, self.known)
        for name, moved in ignored_moved.items():
            old = self.key_counts.get(name)
            if old is None:
                continue
            was = old > self.rules.key_max_records
            flip = moved[: was.size] != was
            flip = np.append(flip, np.zeros(moved.size - flip.size, bool))
            dirty |= flag(flip, norm_all[name].codes)
        old_norm = self.norm
        no_identifier = ~norm_all.has_identifier()
        # blocks of the dirty records, before and after
        old_keep = np.ones(self.left.size, dtype=bool)
        old_keep &= ~(dirty[self.left] | dirty[self.right])
        bits = self.bits.copy()
        stats = self.stats.copy()
        new_keys, new_bits = [], []
        n_rules = len(self.rules.blocking or ())
        blocks_by = _block_index(self, norm, dirty, n_old)
        skeys, sorted_at = self.sorted_keys, self.sorted_at
        for r, rule in enumerate(self.rules.blocking or ()):
            if not all(f in norm for f in rule.fields):
                continue
            if n_old == 0:
                rows, keys = block_keys(norm, rule.fields)
                if self.known is not None and r in self.known.skipped:
                    # blocks over the cap in the whole data: skipped here too
                    keep = ~self.known.skipped[r][rows]
                    rows, keys = rows[keep], keys[keep]
                left, right, *found = pairs_within_blocks(rows, keys, rule.max_block_size)
                stats[r, 2:] = found
            else:
                blocks = _Blocks.of(norm, old_norm, blocks_by[r], rule, dirty, n_old)
                stats[r, 2:] += blocks.stats_change(rule.max_block_size)
                # earlier pairs of the touched blocks: this rule's part is found again below
                at = _positions(skeys, pair_keys(*blocks.earlier_pairs(rule.max_block_size)))
                bits[sorted_at[at]] &= ~(np.int64(1) << r)
                left, right = blocks.pairs(rule.max_block_size)
            if groups is not None:
                across = groups[left] != groups[right]
                left, right = left[across], right[across]
            new_keys.append(pair_keys(left, right))
            new_bits.append(np.full(left.size, np.int64(1) << r))
        # must-link pairs are named again each time
        bits &= ~(np.int64(1) << n_rules)
        ml, mr = np.minimum(*must), np.maximum(*must)
        new_keys.append(pair_keys(ml, mr))
        new_bits.append(np.full(ml.size, np.int64(1) << n_rules))
        keys = np.concatenate(new_keys) if new_keys else np.zeros(0, np.int64)
        kbits = np.concatenate(new_bits) if new_bits else np.zeros(0, np.int64)
        keys, kbits = _or_reduce(keys, kbits)
        lk, rk = keys >> _SHIFT, keys & ((np.int64(1) << _SHIFT) - 1)
        ok = ~no_identifier[lk] & ~no_identifier[rk] | ((kbits >> n_rules) & 1 == 1)
        keys, kbits = keys[ok], kbits[ok]
        # merge with the earlier pairs: found again -> their rules added back (pairs of a
        # dirty record are compared again: they come back as new)
        hit = np.zeros(keys.size, dtype=bool)
        pos = np.minimum(np.searchsorted(skeys, keys), max(skeys.size - 1, 0))
        if skeys.size:
            hit = skeys[pos] == keys
        at = sorted_at[pos[hit]]
        alive = old_keep[at]
        bits[at[alive]] |= kbits[hit][alive]
        is_new = ~hit
        is_new[np.flatnonzero(hit)[~alive]] = True
        # earlier pairs no rule finds any more are removed; the others stay in their order and
        # the new pairs follow
        old_keep &= bits != 0
        m_kept = int(old_keep.sum())
        kept = np.where(old_keep, np.cumsum(old_keep) - 1, -1)
        add_keys, add_bits = keys[is_new], kbits[is_new]
        new_at = m_kept + np.arange(add_keys.size)
        kept_bits = bits[old_keep]
        all_bits = np.concatenate([kept_bits, add_bits])
        left = np.concatenate([self.left[old_keep], add_keys >> _SHIFT])
        right = np.concatenate([self.right[old_keep], add_keys & ((np.int64(1) << _SHIFT) - 1)])
        still = old_keep[sorted_at]
        skeys, sorted_at = skeys[still], kept[sorted_at[still]]
        ins = np.searchsorted(skeys, add_keys)
        skeys, sorted_at = np.insert(skeys, ins, add_keys), np.insert(sorted_at, ins, new_at)
        # levels: compare the new pairs, carry the others
        comps = list(self.comps)
        raw_new = compare_pairs(norm, comps, left[new_at], right[new_at])
        gamma = np.concatenate([self.gamma[old_keep], raw_new])
        marks = {}
        for name in KEY_FIELDS:
            if name in norm_all.fields:
                v = self.marks.get(name, np.zeros(0, np.int64))
                marks[name] = np.append(v, np.zeros(norm_all[name].labels.size - v.size, v.dtype))
        if self.rules.shared_key_conflicts:
            gone = ~old_keep
            raw_gone = _raw_levels(self.gamma[gone], comps)
            _count_marks(marks, old_norm, comps, raw_gone, self.left[gone], -1)
            _count_marks(marks, norm, comps, raw_new, left[new_at], 1)
        shared = {k: shared_count[k] | (marks.get(k, 0) > 0) for k in shared_count}
        moved_values = _moved_shared(self.shared, shared)
        relevel = np.zeros(left.size, dtype=bool)
        relevel[new_at] = True
        for c, comp in enumerate(comps):
            if comp.kind != "key" or comp.field not in moved_values:
                continue
            exact = gamma[:, c] == 1
            codes = norm[comp.field].codes.astype(np.int64)
            relevel |= exact & flag(moved_values[comp.field], codes[left])
        _relevel(norm, comps, gamma, left, shared, np.flatnonzero(relevel))
        # the report: pairs by first rule and by every rule that finds them
        k = stats.shape[0]
        moved_bits = np.flatnonzero(kept_bits != self.bits[old_keep])
        before = np.concatenate([self.bits[~old_keep], self.bits[old_keep][moved_bits]])
        after = np.concatenate([add_bits, kept_bits[moved_bits]])
        stats[:, 0] += np.bincount(_rule(after), minlength=k)[:k]
        stats[:, 0] -= np.bincount(_rule(before), minlength=k)[:k]
        stats[:, 1] += _popcounts(after, k) - _popcounts(before, k)
        changed_old = np.flatnonzero(relevel[:m_kept])
        out = Candidates(
            rules=self.rules,
            comps=self.comps,
            norm_all=norm_all,
            norm=norm,
            key_counts=counts,
            marks=marks,
            shared=shared,
            no_identifier=no_identifier,
            groups=groups,
            must=must,
            cannot=cannot,
            never=never,
            left=left,
            right=right,
            bits=all_bits,
            gamma=gamma,
            stats=stats,
            sorted_keys=skeys,
            sorted_at=sorted_at,
            known=self.known,
        )
        out._index.update(index)
        out._blocks.update(blocks_by)
        gone = ~old_keep
        delta = Delta(
            kept, new_at, changed_old, dirty, (self.left[gone], self.right[gone]), old_keep
        )
        return out, delta


def _rule(bits: np.ndarray) -> np.ndarray:
    low = bits & -bits
    return np.log2(np.maximum(low, 1)).astype(np.int64)


def _popcounts(bits: np.ndarray, k: int) -> np.ndarray:
    return np.array([int(((bits >> r) & 1).sum()) for r in range(k)], dtype=np.int64)


def _or_reduce(keys: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and the union of the bits of each."""
    if keys.size == 0:
        return keys, bits
    order = np.argsort(keys, kind="stable")
    keys, bits = keys[order], bits[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.bitwise_or.reduceat(bits, starts)


def in_sorted(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_values`` (sorted): O(len(values) log k)."""
    if sorted_values.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_values, values), sorted_values.size - 1)
    return sorted_values[pos] == values


# odd 64-bit multipliers mixing the codes of a rule's fields into one block key
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)


def _mix(codes: np.ndarray) -> np.ndarray:
    """A 64-bit key per row of codes (one column per field); equal codes, equal keys (and,
    but for a chance of about n^2 / 2^64, the converse: members are checked on their codes)."""
    key = np.zeros(codes.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(codes.shape[1]):
            col = (codes[:, k].astype(np.uint64) + np.uint64(1)) * _MIX[k % _MIX.size]
            key = (key ^ col) * _MIX[(k + 1) % _MIX.size] + np.uint64(k)
    return key.view(np.int64)


def _block_index(
    cand: Candidates, norm: NormalizedRecords, dirty: np.ndarray, n_old: int
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per blocking rule, the rows valid on its fields sorted by block key (keys, rows),
    with the dirty rows at their new values."""
    out = {}
    dirty_rows = np.flatnonzero(dirty)
    for r, rule in enumerate(cand.rules.blocking or ()):
        if not all(f in norm for f in rule.fields):
            continue
        if r not in cand._blocks:
            out[r] = _keyed(norm, rule.fields, np.arange(norm.dob_days.size))
            continue
        keys, rows = cand._blocks[r]
        keep = ~dirty[rows] if n_old else np.ones(rows.size, dtype=bool)
        keys, rows = keys[keep], rows[keep]
        add_keys, add_rows = _keyed(norm, rule.fields, dirty_rows)
        at = np.searchsorted(keys, add_keys, side="right")
        out[r] = (np.insert(keys, at, add_keys), np.insert(rows, at, add_rows))
    return out


def _keyed(
    norm: NormalizedRecords, fields: Sequence[str], rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows valid on every field sorted by block key: (keys, rows)."""
    codes = _codes(norm, fields, rows)
    ok = (codes >= 0).all(axis=1)
    keys, rows = _mix(codes[ok]), rows[ok].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order], rows[order]


@attrs.frozen(eq=False)
class _Blocks:
    """The blocks of one rule that dirty records are in, now or before: the records of those
    under the cap (now or before; ``members``, grouped by ``block``, rows increasing), and
    each block's size now and before."""

    members: np.ndarray
    block: np.ndarray
    size_now: np.ndarray
    size_before: np.ndarray
    clean: np.ndarray

    @classmethod
    def of(
        cls,
        norm: NormalizedRecords,
        old_norm: NormalizedRecords,
        index: tuple[np.ndarray, np.ndarray],
        rule: BlockingRule,
        dirty: np.ndarray,
        n_old: int,
    ) -> _Blocks:
        fields = rule.fields
        cap = rule.max_block_size
        now_rows = np.flatnonzero(dirty)
        old_rows = now_rows[now_rows < n_old]
        now = _codes(norm, fields, now_rows)
        before = _codes(old_norm, fields, old_rows)
        now = now[(now >= 0).all(axis=1)]
        before = before[(before >= 0).all(axis=1)]
        touched = np.unique(np.concatenate([now, before]), axis=0)
        keys, rows_sorted = index
        tkey = _mix(touched)
        lo = np.searchsorted(keys, tkey, side="left")
        hi = np.searchsorted(keys, tkey, side="right")
        length = hi - lo
        n_dirty = np.zeros(touched.shape[0], dtype=np.int64)
        if now.size:
            np.add.at(n_dirty, _tuple_index(touched, now), 1)
        # blocks far over the cap are counted by their keys, not read
        read = length <= 4 * cap + n_dirty
        sel = np.flatnonzero(read)
        size = length[sel]
        block = np.repeat(sel, size)
        starts = np.repeat(lo[sel] - np.cumsum(size) + size, size)
        rows = rows_sorted[starts + np.arange(int(size.sum()))]
        same = np.ones(rows.size, dtype=bool)
        for k, f in enumerate(fields):
            same &= norm[f].codes[rows] == touched[block, k]
        rows, block = rows[same], block[same]
        order = np.lexsort((rows, block))
        rows, block = rows[order], block[order]
        clean = ~dirty[rows]
        size_now = length.copy()
        size_now[sel] = np.bincount(block, minlength=touched.shape[0])[sel]
        size_before = size_now - n_dirty
        size_before[sel] = np.bincount(block[clean], minlength=touched.shape[0])[sel]
        if before.size:
            # the dirty records' earlier blocks
            size_before += np.bincount(_tuple_index(touched, before), minlength=touched.shape[0])
        return cls(rows, block, size_now, size_before, clean)

    def stats_change(self, cap: int) -> np.ndarray:
        """Change of (blocks, skipped blocks, skipped records)."""

        def stats(sizes: np.ndarray) -> np.ndarray:
            big = sizes > cap
            return np.array([int((sizes >= 2).sum()), int(big.sum()), int(sizes[big].sum())])

        return stats(self.size_now) - stats(self.size_before)

    def pairs(self, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """Pairs of the blocks now (blocks over the cap skipped)."""
        left, right, *_ = pairs_within_blocks(self.members, self.block, cap)
        return left, right

    def earlier_pairs(self, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """Pairs of records that were already in these blocks, when the block was under the
        cap (the pairs of earlier records this rule found)."""
        ok = (self.size_before <= cap)[self.block] & self.clean
        left, right, *_ = pairs_within_blocks(self.members[ok], self.block[ok], 2**62)
        return left, right


def _positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions in ``keys`` (sorted) of the wanted keys present."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return at[keys[at] == wanted]


def _codes(norm: NormalizedRecords, fields: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """Codes of ``rows`` on each field (one column per field; -1 where a field is absent)."""
    out = np.full((rows.size, len(fields)), -1, dtype=np.int64)
    for k, f in enumerate(fields):
        if f in norm:
            out[:, k] = norm[f].codes[rows]
    return out


def _tuple_index(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Index in ``table`` (distinct rows, sorted) of each row of ``rows`` (all present)."""
    both = np.concatenate([table, rows])
    _, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return inverse[table.shape[0] :]


def _merge_normalized(
    cand: Candidates, rows: np.ndarray, batch: NormalizedRecords, n: int
) -> tuple[NormalizedRecords, dict[str, LabelIndex]]:
    """The normalized records with the batch's at ``rows`` (old codes kept, new values
    appended to each dictionary)."""
    old = cand.norm_all
    n_old = len(old)
    fields = {}
    index = {}
    for name in [*old.fields, *(f for f in batch.fields if f not in old.fields)]:
        if name not in batch.fields:
            f = old[name]
            codes = np.full(n, -1, dtype=np.int64)
            codes[:n_old] = f.codes
            codes[rows] = -1
            status = np.zeros(n, dtype=np.int8)
            status[:n_old] = f.status
            status[rows] = 0
            fields[name] = NormalizedField(name, codes.astype(f.codes.dtype), f.labels, status)
            continue
        b = batch[name]
        if name in old.fields:
            idx = cand.index(name)
        else:
            idx = LabelIndex.of(np.zeros(0, dtype=object))
        found = idx.find(b.labels)
        new_values = b.labels[found < 0]
        idx = idx.extended(new_values)
        index[name] = idx
        to_code = found.copy()
        to_code[found < 0] = idx.labels.size - new_values.size + np.arange(new_values.size)
        labels = idx.labels
        codes = np.full(n, -1, dtype=np.int64)
        status = np.zeros(n, dtype=np.int8)
        if name in old.fields:
            codes[:n_old] = old[name].codes
            status[:n_old] = old[name].status
        codes[rows] = recode(to_code, b.codes)
        status[rows] = b.status
        fields[name] = NormalizedField(name, codes.astype(code_dtype(labels.size)), labels, status)
    dob = np.full(n, -(2**62), dtype=np.int64)
    dob[:n_old] = old.dob_days
    dob[rows] = batch.dob_days
    return NormalizedRecords(fields, dob, old.rules), index


def cap(
    norm_all: NormalizedRecords, rules: ResolutionRules, known: Known | None = None
) -> tuple[NormalizedRecords, dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Identifier values held by more than ``key_max_records`` records ignored; the counts,
    the ignored values and the values held by more than ``person_key_max_records`` (counts
    over the whole data when ``known`` has them)."""
    fields = dict(norm_all.fields)
    counts, ignored, shared = {}, {}, {}
    for name in KEY_FIELDS:
        if name not in fields:
            continue
        f = fields[name]
        given = None if known is None else known.per_value(name, f.codes, f.labels.size)
        counts[name] = (
            np.bincount(f.codes[f.codes >= 0].astype(np.int64), minlength=f.labels.size)
            if given is None
            else given
        )
        ignored[name] = counts[name] > rules.key_max_records
        shared[name] = counts[name] > rules.person_key_max_records
        if ignored[name].any():
            codes = f.codes.astype(np.int64)
            drop = flag(ignored[name], codes)
            new_codes = np.where(drop, -1, codes).astype(f.codes.dtype)
            fields[name] = NormalizedField(f.name, new_codes, f.labels, f.status)
    return NormalizedRecords(fields, norm_all.dob_days, norm_all.rules), counts, ignored, shared


def _conflict(comps: Sequence[Comparison], gamma: np.ndarray) -> np.ndarray:
    """Pairs whose first names or dates of birth clearly differ."""
    out = np.zeros(gamma.shape[0], dtype=bool)
    for c, comp in enumerate(comps):
        if comp.field in ("first_name", "date_of_birth"):
            out |= gamma[:, c] == comp.levels.index("else")
    return out


def _count_marks(
    marks: dict[str, np.ndarray],
    norm: NormalizedRecords,
    comps: Sequence[Comparison],
    raw: np.ndarray,
    left: np.ndarray,
    sign: int,
) -> None:
    """Add (or remove) the pairs that make an identifier value shared: they agree on it and
    their first names or dates of birth clearly differ."""
    conflict = _conflict(comps, raw)
    for c, comp in enumerate(comps):
        if comp.kind != "key" or comp.field not in marks or comp.field not in norm:
            continue
        hit = (raw[:, c] == 1) & conflict
        codes = norm[comp.field].codes[left[hit]].astype(np.int64)
        np.add.at(marks[comp.field], codes[codes >= 0], sign)


def _raw_levels(gamma: np.ndarray, comps: Sequence[Comparison]) -> np.ndarray:
    """Levels before shared identifier values were re-levelled (exact_shared -> exact)."""
    raw = gamma.copy()
    for c, comp in enumerate(comps):
        if comp.kind == "key" and "exact_shared" in comp.levels:
            col = raw[:, c]
            col[col == comp.levels.index("exact_shared")] = 1
    return raw


def _relevel(
    norm: NormalizedRecords,
    comps: Sequence[Comparison],
    gamma: np.ndarray,
    left: np.ndarray,
    shared: dict[str, np.ndarray],
    rows: np.ndarray,
) -> None:
    """Exact agreement on a shared identifier value is ``exact_shared`` (in place, at
    ``rows``; levels there are taken as not yet re-levelled)."""
    for c, comp in enumerate(comps):
        if comp.kind != "key" or comp.field not in shared:
            continue
        col = gamma[rows, c]
        at = rows[col == comp.levels.index("exact_shared")]
        gamma[at, c] = 1
        exact = rows[gamma[rows, c] == 1]
        codes = norm[comp.field].codes[left[exact]].astype(np.int64)
        gamma[exact[shared[comp.field][codes]], c] = comp.levels.index("exact_shared")


def _moved_shared(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per key field, the values whose shared flag changed."""
    out = {}
    for name, now in new.items():
        before = old.get(name, np.zeros(0, dtype=bool))
        was = np.zeros(now.size, dtype=bool)
        was[: min(before.size, now.size)] = before[: now.size]
        if (was != now).any():
            out[name] = was != now
    return out


def build_candidates(
    rules: ResolutionRules,
    norm_all: NormalizedRecords,
    groups: np.ndarray | None,
    must: tuple[np.ndarray, np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
    never: tuple[np.ndarray, np.ndarray],
    known: Known | None = None,
) -> Candidates:
    """The candidates of every record (rules concrete: comparisons and blocking given;
    ``known``: counts over a whole of which these records are a part closed under blocking)."""
    n = len(norm_all)
    comps = tuple(rules.comparisons or ())
    empty = Candidates(
        rules=rules,
        comps=comps,
        norm_all=NormalizedRecords({}, np.zeros(0, np.int64), norm_all.rules),
        norm=NormalizedRecords({}, np.zeros(0, np.int64), norm_all.rules),
        key_counts={},
        marks={name: np.zeros(0, np.int64) for name in KEY_FIELDS if name in norm_all.fields},
        shared={},
        no_identifier=np.zeros(0, dtype=bool),
        groups=None,
        must=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        cannot=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        never=(np.zeros(0, np.int64), np.zeros(0, np.int64)),
        left=np.zeros(0, np.int64),
        right=np.zeros(0, np.int64),
        bits=np.zeros(0, np.int64),
        gamma=np.zeros((0, len(comps)), np.int8),
        stats=np.zeros((len(rules.blocking or ()) + 1, len(_STATS)), np.int64),
        sorted_keys=np.zeros(0, np.int64),
        sorted_at=np.zeros(0, np.int64),
        known=known,
    )
    out, _ = empty.add(np.arange(n), norm_all, groups, must, cannot, never)
    return out

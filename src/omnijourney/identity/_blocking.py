"""Blocking: candidate pairs of records that share a key, each pair generated once.

A :class:`BlockingRule` names normalized fields; records equal on all of them form a block and
every pair inside a block is a candidate. Rules are unioned: a pair found by an earlier rule is
not counted again, so each pair is scored once, and the report says what each rule added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_positive_int, validator
from omnijourney.errors import ConfigError
from omnijourney.identity._checks import ordered_names
from omnijourney.identity._records import NormalizedRecords
from omnijourney.tables import Table

__all__ = ["BlockingRule", "CandidatePairs", "block_pairs", "pair_completeness"]


def _field_names(value: Any) -> tuple[str, ...]:
    fields = ordered_names(value, "fields")
    if not fields:
        msg = "The 'fields' parameter must name at least one field. Got () instead."
        raise ConfigError(msg)
    return fields


@attrs.frozen
class BlockingRule:
    """Records equal on every field of ``fields`` (all valid) are compared.

    Parameters
    ----------
    fields : tuple of str
        Normalized fields (``"email"``, ``"last_name"``, ``"postcode"``...).
    max_block_size : int
        Blocks with more records are skipped (a value shared by that many records, such as a
        store's phone or a family of common names in a big city, is not a useful key); the
        report counts them.

    Examples
    --------
    >>> BlockingRule(("last_name", "postcode")).name
    'last_name & postcode'
    """

    fields: tuple[str, ...] = attrs.field(converter=_field_names)
    max_block_size: int = attrs.field(
        default=200, validator=validator(check_positive_int, minimum=2)
    )

    @property
    def name(self) -> str:
        """The rule written as its fields joined by ``&``."""
        return " & ".join(self.fields)


@attrs.frozen(eq=False)
class CandidatePairs:
    """Candidate pairs of a blocking run.

    Attributes
    ----------
    left, right : numpy.ndarray of int64
        Row numbers (``left < right``) of each pair, sorted by (left, right).
    rule : numpy.ndarray of int8
        Index of the first rule that found each pair.
    report : Table
        One row per rule: ``rule``, ``pairs`` (new pairs), ``pairs_total`` (with the pairs
        earlier rules had found), ``blocks``, ``skipped_blocks`` and ``skipped_records``
        (blocks over ``max_block_size``).
    """

    left: np.ndarray
    right: np.ndarray
    rule: np.ndarray
    report: Table

    def __len__(self) -> int:
        return int(self.left.size)


def block_keys(norm: NormalizedRecords, fields: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows valid on every field, and one int64 key per row (equal keys = same block)."""
    valid = np.ones(len(norm), dtype=bool)
    for f in fields:
        valid &= norm[f].codes >= 0
    rows = np.flatnonzero(valid)
    key = np.zeros(rows.size, dtype=np.int64)
    span = 1
    packed = True
    for f in fields:
        size = int(norm[f].labels.size) + 1
        if span * size >= 2**62:
            packed = False
            break
        key = key * size + norm[f].codes[rows].astype(np.int64)
        span *= size
    if not packed:
        stacked = np.stack([norm[f].codes[rows].astype(np.int64) for f in fields], axis=1)
        _, key = np.unique(stacked, axis=0, return_inverse=True)
        key = key.reshape(-1).astype(np.int64)
    return rows, key


def pairs_within_blocks(
    rows: np.ndarray, key: np.ndarray, max_block_size: int
) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Every pair of rows (increasing) with equal keys, blocks over the cap skipped.

    Returns ``left, right, n_blocks, skipped_blocks, skipped_records``; ``left < right``.
    """
    if rows.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0, 0
    # rows are increasing: a stable sort of the keys orders rows within a block too
    order = np.argsort(key, kind="stable")
    srows, skey = rows[order], key[order]
    starts = np.flatnonzero(np.concatenate(([True], skey[1:] != skey[:-1])))
    sizes = np.diff(np.append(starts, skey.size))
    multi = sizes >= 2
    big = sizes > max_block_size
    keep = multi & ~big
    n_blocks = int(multi.sum())
    skipped_blocks, skipped_records = int(big.sum()), int(sizes[big].sum())
    b_start, b_size = starts[keep], sizes[keep]
    # position of each row of a kept block, and the number of partners after it
    member_block = np.repeat(np.arange(b_start.size), b_size)
    pos = np.arange(member_block.size) - np.repeat(np.cumsum(b_size) - b_size, b_size)
    global_idx = b_start[member_block] + pos
    partners = b_size[member_block] - 1 - pos
    total = int(partners.sum())
    left_idx = np.repeat(global_idx, partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    right_idx = left_idx + 1 + offset
    a, b = srows[left_idx], srows[right_idx]
    return np.minimum(a, b), np.maximum(a, b), n_blocks, skipped_blocks, skipped_records


def block_pairs(
    norm: NormalizedRecords,
    rules: Sequence[BlockingRule],
    *,
    link_groups: np.ndarray | None = None,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> CandidatePairs:
    """Candidate pairs of the union of ``rules``, each pair once.

    Parameters
    ----------
    norm : NormalizedRecords
    rules : sequence of BlockingRule
        Rules whose fields are missing from ``norm`` are reported with zero pairs.
    link_groups : numpy.ndarray of int, optional
        Group of each record when linking data sets (pairs inside a group are dropped: only
        pairs across groups are candidates).
    extra : (left, right), optional
        Pairs that must be candidates whatever the rules (must-link overrides); reported as
        the rule ``"overrides"``.

    Returns
    -------
    CandidatePairs

    Notes
    -----
    O(sum of squared block sizes): blocks are found by one sort per rule, and pairs are
    generated with ``repeat``/``cumsum`` arithmetic, without a Python loop over blocks.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, normalize_records
    >>> recs = CustomerRecordTable.from_columns(
    ...     {"last_name": ["Roy", "ROY", "Roy", "Lee"], "postcode": ["75001"] * 4})
    >>> pairs = block_pairs(normalize_records(recs), [BlockingRule(("last_name", "postcode"))])
    >>> pairs.left.tolist(), pairs.right.tolist()
    ([0, 0, 1], [1, 2, 2])
    """
    n = len(norm)
    keys: list[np.ndarray] = []
    rule_of: list[np.ndarray] = []
    stats: list[tuple[str, int, int, int, int]] = []
    for r, rule in enumerate(rules):
        if not all(f in norm for f in rule.fields):
            stats.append((rule.name, 0, 0, 0, 0))
            continue
        rows, key = block_keys(norm, rule.fields)
        left, right, n_blocks, skipped, skipped_rows = pairs_within_blocks(
            rows, key, rule.max_block_size
        )
        if link_groups is not None:
            across = link_groups[left] != link_groups[right]
            left, right = left[across], right[across]
        keys.append(left * n + right)
        rule_of.append(np.full(left.size, r, dtype=np.int8))
        stats.append((rule.name, int(left.size), n_blocks, skipped, skipped_rows))
    if extra is not None and len(extra[0]):
        a, b = np.asarray(extra[0], np.int64), np.asarray(extra[1], np.int64)
        if (a == b).any():
            msg = "a must-link pair joins a record to itself"
            raise ConfigError(msg)
        keys.append(np.minimum(a, b) * n + np.maximum(a, b))
        rule_of.append(np.full(a.size, len(rules), dtype=np.int8))
        stats.append(("overrides", int(a.size), 0, 0, 0))
    all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    all_rules = np.concatenate(rule_of) if rule_of else np.zeros(0, np.int8)
    uniq, first = np.unique(all_keys, return_index=True)
    first_rule = all_rules[first]
    new = np.bincount(first_rule.astype(np.int64), minlength=len(stats))
    report = Table.from_columns(
        {
            "rule": [s[0] for s in stats],
            "pairs": new.astype(np.int64),
            "pairs_total": np.array([s[1] for s in stats], dtype=np.int64),
            "blocks": np.array([s[2] for s in stats], dtype=np.int64),
            "skipped_blocks": np.array([s[3] for s in stats], dtype=np.int64),
            "skipped_records": np.array([s[4] for s in stats], dtype=np.int64),
        },
        kinds={"rule": "category"},
    )
    return CandidatePairs(uniq // max(n, 1), uniq % max(n, 1), first_rule, report)


def pair_completeness(pairs: CandidatePairs, truth: np.ndarray) -> float:
    """Share of the true pairs (records with equal ``truth`` labels) that are candidates.

    Examples
    --------
    >>> cp = CandidatePairs(np.array([0]), np.array([1]), np.array([0], np.int8), None)
    >>> pair_completeness(cp, np.array(["a", "a", "a"]))
    0.3333333333333333
    """
    _, inv, counts = np.unique(truth, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    total = int((counts * (counts - 1) // 2).sum())
    if total == 0:
        return 1.0
    found = int((inv[pairs.left] == inv[pairs.right]).sum())
    return found / total

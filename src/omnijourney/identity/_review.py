"""Clerical review: the decisions worth a reviewer's time, and what the guards refused.

:func:`review_queue` lists the candidate pairs nearest a decision boundary (the probability
that decided them between ``low`` and ``high``), ranked by how much a decision would change:
the records (or the value, when given) of the persons a merge would join or a split would
part. Decisions go back as :class:`~omnijourney.identity.Overrides` (``must_link``,
``cannot_link``, ``never_merge``) through :meth:`Resolution.with_overrides`; they are kept by
the resolution, saved with it and applied by every later update.

:func:`guard_log` counts the links each guard refused (as customer-data platforms report the
merges their identifier caps stopped), at the person and at the household level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._validation import check_fraction
from omnijourney.errors import ConfigError
from omnijourney.identity._cluster import REFUSED
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["guard_log", "review_queue"]


def guard_log(resolution: Resolution) -> Table:
    """Links refused by each guard: ``level`` (``person`` or ``household``), ``guard``
    (``size``, ``weak link``, ``cannot-link``, a field a person holds once such as
    ``date_of_birth``, or ``source without duplicates``) and ``refused`` (links).

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, Overrides, resolve
    >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
    ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
    >>> res = resolve(recs).with_overrides(Overrides(cannot_link=[(("web", "W1"),
    ...                                                            ("shop", "S1"))]))
    >>> log = guard_log(res)
    >>> log["guard"].tolist(), log["refused"].tolist()
    (['cannot-link'], [1])
    """
    refused = resolution.state().scores.refused
    held = [f for f in resolution.rules.conflicting_fields if f in resolution.normalized()]
    rows: dict[str, list[Any]] = {"level": [], "guard": [], "refused": []}
    for level, col in (("person", 0), ("household", 1)):
        codes = refused[:, col].astype(np.int64)
        counts = np.bincount(codes[codes > 0])
        for code in np.flatnonzero(counts).tolist():
            if code < len(REFUSED):
                name = REFUSED[code]
            elif code - len(REFUSED) < len(held):
                name = held[code - len(REFUSED)]
            else:
                name = "source without duplicates"
            rows["level"].append(level)
            rows["guard"].append(name)
            rows["refused"].append(int(counts[code]))
    return Table.from_columns(
        {**rows, "refused": np.array(rows["refused"], dtype=np.int64)},
        kinds={"level": "category", "guard": "category"},
    )


def review_queue(
    resolution: Resolution,
    *,
    value: Any = None,
    low: float = 0.2,
    high: float = 0.8,
    limit: int = 100,
    explain: int = 10,
) -> Table:
    """Pairs whose decision was closest, ranked by what deciding them would change.

    Parameters
    ----------
    resolution : Resolution
    value : array-like of float, optional
        Value of each record (aligned with ``resolution.records``, e.g. its sales): the
        queue is then ranked by the value of the customers a decision touches, then by their
        records.
    low, high : float
        The band of probability (of the link model for household links or persons of one
        level, of the person model inside household links) a pair must fall in.
    limit : int
        Rows kept.
    explain : int
        Rows (the first) given the text of their explanation.

    Returns
    -------
    Table
        One row per pair: ``left`` and ``right`` (``source/record_id``), ``person_left``,
        ``person_right``, ``decided`` (``person``, ``household`` or ``none``: what the
        resolution says now), ``boundary`` (``link`` or ``person``), ``probability``,
        ``records`` (records of the persons a decision would merge or split), ``value``
        (their value, 0 without ``value``) and ``explanation``. Pairs named by an override
        are left out.
    """
    check_fraction(low, "low")
    check_fraction(high, "high")
    if not low < high:
        msg = f"review_queue: 'low' must be below 'high'. Got {low} and {high} instead."
        raise ConfigError(msg)
    from omnijourney.identity._explain import explain_pair

    res = resolution
    n = res.n_records
    if value is None:
        per_record = np.zeros(n)
    else:
        per_record = np.asarray(value, dtype=np.float64)
        if per_record.shape != (n,):
            msg = f"review_queue: 'value' must hold one number per record ({n}). Got shape {per_record.shape} instead."
            raise ConfigError(msg)
    scores = res.state().scores
    p_link = 1.0 / (1.0 + np.exp2(-res.match_weight))
    p_person = 1.0 / (1.0 + np.exp2(-res.person_weight))
    two = res.rules.households and res.person_model is not None
    use_person = two & scores.linked & ~np.isnan(res.person_weight)
    prob = np.where(use_person, p_person, p_link)
    near = np.flatnonzero((prob >= low) & (prob <= high))
    decided_keys = {frozenset(p) for group in (res.overrides.must_link, res.overrides.cannot_link,
                    res.overrides.never_merge) for p in group}  # fmt: skip
    if decided_keys:
        near = np.array(
            [
                k
                for k in near.tolist()
                if frozenset(
                    (res.record_key(int(res.pair_left[k])), res.record_key(int(res.pair_right[k])))
                )
                not in decided_keys
            ],
            dtype=np.int64,
        )
    pid = res.person_id
    size = np.bincount(pid)
    worth = np.bincount(pid, weights=per_record)
    a, b = pid[res.pair_left[near]], pid[res.pair_right[near]]
    same = a == b
    records = np.where(same, size[a], size[a] + size[b])
    worth_pair = np.where(same, worth[a], worth[a] + worth[b])
    order = np.lexsort((np.abs(prob[near] - 0.5), -records, -worth_pair))[:limit]
    near, a, b, records, worth_pair = (
        near[order],
        a[order],
        b[order],
        records[order],
        worth_pair[order],
    )
    from omnijourney.identity._resolution import LINK_LEVELS

    label = [f"{s}/{r}" for s, r in zip(res.records["source"], res.records["record_id"])]
    texts = [
        explain_pair(res, int(res.pair_left[k]), int(res.pair_right[k])).text if i < explain
        else None
        for i, k in enumerate(near.tolist())
    ]  # fmt: skip
    return Table.from_columns(
        {
            "left": [label[int(r)] for r in res.pair_left[near]],
            "right": [label[int(r)] for r in res.pair_right[near]],
            "person_left": a.astype(np.int64),
            "person_right": b.astype(np.int64),
            "decided": [LINK_LEVELS[int(x)] for x in res.link[near]],
            "boundary": ["person" if u else "link" for u in use_person[near]],
            "probability": prob[near].astype(np.float64),
            "records": records.astype(np.int64),
            "value": worth_pair.astype(np.float64),
            "explanation": texts,
        },
        kinds={"left": "category", "right": "category", "decided": "category",
               "boundary": "category", "explanation": "category"},
    )  # fmt: skip

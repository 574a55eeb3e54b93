"""Which break ends linking could not attach to a person, per kind of break, and why.

ROPO, showrooming, a contact after a failure and information entered twice need both ends
under one customer: a store purchase on an anonymous till receipt cannot be the end of a
ROPO, whatever research its buyer did online. After
:func:`~omnijourney.identity.link_touchpoints`, each row says why it is still anonymous: no
key at all, a key no linked row shares (the key is missing on the other side), or keys that
lead to several persons. The breaks that reference ids link (quote switches, click & collect,
cart recoveries) are found whoever carries the id, and are not counted here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omnijourney.errors import SchemaError
from omnijourney.journeys._breaks import BreakRules
from omnijourney.journeys._sorted import Sorted
from omnijourney.journeys._table import JourneyTable
from omnijourney.tables import Table

__all__ = ["break_linkage"]

_REASONS = ("no_key", "unmatched_key", "ambiguous")


def break_linkage(journeys: JourneyTable, rules: BreakRules | None = None) -> Table:
    """Per kind of break and end, the candidate touchpoints left anonymous, and why.

    Parameters
    ----------
    journeys : JourneyTable
        Sessionized touchpoints linked by :func:`omnijourney.identity.link_touchpoints`
        (its ``link_status`` column).
    rules : BreakRules, optional
        The break rules (research, failure and re-entry events, channel kinds).

    Returns
    -------
    Table
        One row per (kind, end): ``kind``, ``end`` (``"from"`` or ``"to"``), ``candidates``
        (touchpoints that could be that end: store conversions for the ``to`` of a ROPO,
        online research for its ``from``...), ``linked`` (under a person), and the others by
        reason: ``no_key``, ``unmatched_key`` (a key no linked touchpoint shares: missing on
        the other side), ``ambiguous`` (keys of several persons).

    Raises
    ------
    SchemaError
        Touchpoints without a ``link_status`` column.

    Examples
    --------
    >>> import omnijourney as oj
    >>> from omnijourney.identity import CustomerRecordTable, link_touchpoints, resolve
    >>> recs = CustomerRecordTable.from_columns({"record_id": ["W1"], "email": ["a@b.fr"]})
    >>> tp = oj.TouchpointTable.from_columns({"customer": ["W1", "T-1", "T-2"],
    ...     "time": ["2024-05-01", "2024-05-02", "2024-05-03"],
    ...     "channel": ["web", "store", "store"],
    ...     "event": ["product_view", "purchase", "purchase"],
    ...     "token": [None, "pt_9", None]}, extra=["token"])
    >>> linked = link_touchpoints(tp, resolve(recs), on={"customer": "record_id"}, keys=["token"])
    >>> t = break_linkage(oj.sessionize(linked))
    >>> row = (t["kind"] == "ropo") & (t["end"] == "to")
    >>> t["candidates"][row].tolist(), t["no_key"][row].tolist(), t["unmatched_key"][row].tolist()
    ([2], [1], [1])
    """
    rules = BreakRules() if rules is None else rules
    tp = journeys.touchpoints
    if "link_status" not in tp.columns:
        msg = (
            "break_linkage needs touchpoints linked by link_touchpoints (a 'link_status' "
            f"column); columns are {tp.columns}"
        )
        raise SchemaError(msg, table=tp.table_name, column="link_status")
    s = Sorted.of(journeys, rules)
    status = np.asarray(tp["link_status"], dtype=object)[s.order]
    research = s.events(rules.research_events)
    failure = s.events(rules.failure_events) & s.digital
    reentry = s.events(rules.reentry_events)
    ends: list[tuple[str, str, np.ndarray]] = [
        ("ropo", "from", research & s.digital),
        ("ropo", "to", s.conv & s.physical),
        ("showrooming", "from", research & s.physical),
        ("showrooming", "to", s.conv & s.digital),
        ("contact_after_failure", "from", failure),
        ("contact_after_failure", "to", s.assisted & s.inbound),
        ("information_reentered", "from", reentry),
        ("information_reentered", "to", reentry),
    ]
    cols: dict[str, list[Any]] = {k: [] for k in ("kind", "end", "candidates", "linked", *_REASONS)}
    for kind, end, mask in ends:
        st = status[mask]
        cols["kind"].append(kind)
        cols["end"].append(end)
        cols["candidates"].append(int(mask.sum()))
        cols["linked"].append(int(np.isin(st, ["record", "key"]).sum()))
        for r in _REASONS:
            cols[r].append(int((st == r).sum()))
    return Table.from_columns(cols, kinds={"kind": "category", "end": "category"})

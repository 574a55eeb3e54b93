"""Touchpoint linking: give touchpoints the person (or household) their identifiers resolve to."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney.errors import ConfigError, SchemaError
from omnijourney.identity._normalize import NormalizedField, map_labels
from omnijourney.identity._records import _NORMALIZERS
from omnijourney.tables import TouchpointTable

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["link_touchpoints"]


def link_touchpoints(
    touchpoints: TouchpointTable,
    resolution: Resolution,
    on: Mapping[str, str],
    *,
    level: str = "person",
    as_of: Any = None,
) -> TouchpointTable:
    """Touchpoints whose ``customer`` is the resolved person (or household) id.

    Parameters
    ----------
    touchpoints : TouchpointTable
    resolution : Resolution
    on : mapping of str to str
        Touchpoint column -> record field it carries: ``{"record_id": "record_id"}``,
        ``{"account": "account_id", "email": "email"}``. Identifiers are normalized like the
        records'; the first column (in the order given) that finds a person wins.
    level : {"person", "household"}
    as_of : date or time, optional
        With ``level="household"``: the household each person belonged to at that date (see
        :func:`~omnijourney.identity.households_as_of`), not the current one: journeys and
        segments of households as they were then. Persons without a household at that date
        keep a household of their own (their current one).

    Returns
    -------
    TouchpointTable
        The same rows, with ``customer`` = ``"P<id>"`` (or ``"H<id>"``) where an identifier
        matched, the original customer otherwise, an extra column ``original_customer`` and a
        boolean ``anonymous`` column (True where nothing matched). No row is dropped.

    Examples
    --------
    >>> import omnijourney as oj
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({"record_id": ["W1", "S1"],
    ...     "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
    >>> tp = oj.TouchpointTable.from_columns({"customer": ["c1", "c2", "c3"],
    ...     "time": ["2024-01-01", "2024-01-02", "2024-01-03"],
    ...     "channel": ["web", "store", "web"], "event": ["view", "purchase", "view"],
    ...     "mail": ["zoe@mail.fr", " ZOE@mail.fr", None]}, extra=["mail"])
    >>> out = link_touchpoints(tp, resolve(recs), on={"mail": "email"})
    >>> out["customer"].tolist(), out["anonymous"].tolist()
    (['P1', 'P1', 'c3'], [False, False, True])
    """
    if level not in ("person", "household"):
        msg = f"level must be 'person' or 'household', got {level!r}"
        raise ConfigError(msg)
    records = resolution.records
    ids = resolution.person_id if level == "person" else resolution.household_id
    if as_of is not None and level == "household":
        from omnijourney.identity._households import households_as_of

        then = households_as_of(resolution, as_of)
        persons = np.asarray(then["person_id"], dtype=np.int64)
        homes = np.asarray(then["household_id"], dtype=np.int64)
        if persons.size:
            at = np.minimum(np.searchsorted(persons, resolution.person_id), persons.size - 1)
            ids = np.where(persons[at] == resolution.person_id, homes[at], ids)
    prefix = "P" if level == "person" else "H"
    norm = resolution.normalized()
    n = len(touchpoints)
    found = np.full(n, -1, dtype=np.int64)
    for column, field in on.items():
        if column not in touchpoints.columns:
            msg = f"TouchpointTable has no column {column!r}; columns are {touchpoints.columns}"
            raise SchemaError(msg, table="TouchpointTable", column=column)
        if field == "record_id":
            rec_labels = records.labels("record_id")
            rec_key = {str(v): i for i, v in enumerate(rec_labels.tolist())}
            tp_labels = touchpoints.labels(column).tolist()
            to_rec = np.array([rec_key.get(str(v), -1) for v in tp_labels] + [-1], np.int64)
            rec_rows = np.full(rec_labels.size, -1, dtype=np.int64)
            rec_rows[records.raw("record_id").astype(np.int64)] = np.arange(len(records))
            codes = touchpoints.raw(column).astype(np.int64)
            rec = to_rec[np.where(codes >= 0, codes, len(tp_labels))]
            row = np.where(rec >= 0, rec_rows[np.maximum(rec, 0)], -1)
        else:
            if field not in _NORMALIZERS or field not in norm:
                msg = f"cannot link on record field {field!r}"
                raise ConfigError(msg)
            fn = _NORMALIZERS[field]
            tp_field: NormalizedField = map_labels(
                touchpoints.raw(column),
                touchpoints.labels(column),
                functools.partial(fn, rules=resolution.rules.normalize),
                field,
            )
            rec_field = norm[field]
            lookup = {v: i for i, v in enumerate(rec_field.labels.tolist())}
            to_rec_code = np.array([lookup.get(v, -1) for v in tp_field.labels.tolist()] + [-1])
            # one record per normalized value: the first in canonical order
            order = records.canonical_order()
            first_row = np.full(rec_field.labels.size, -1, dtype=np.int64)
            rc = rec_field.codes[order].astype(np.int64)
            ok = rc >= 0
            first_row[rc[ok][::-1]] = order[ok][::-1]
            code = to_rec_code[np.where(tp_field.codes >= 0, tp_field.codes, -1)]
            row = np.where(code >= 0, first_row[np.maximum(code, 0)], -1)
        fill = (found < 0) & (row >= 0)
        found[fill] = row[fill]
    original = touchpoints["customer"]
    customer = original.astype(object).copy()
    hit = found >= 0
    customer[hit] = np.char.add(prefix, ids[found[hit]].astype(str)).astype(object)
    cols = {name: touchpoints[name] for name in touchpoints.columns}
    cols["customer"] = customer
    cols["original_customer"] = original
    cols["anonymous"] = ~hit
    extra = [c for c in touchpoints.extra_columns] + ["original_customer", "anonymous"]
    std: dict[str, Any] = {c: c for c in touchpoints.columns if c not in touchpoints.extra_columns}
    # the input was loaded (and reported) already: keep its channel descriptions, and do not
    # count again rows that linking made equal
    out = TouchpointTable.from_columns(
        cols, extra=extra, channels=touchpoints.channel_catalog, duplicates="keep", **std
    )
    assert isinstance(out, TouchpointTable)
    return out

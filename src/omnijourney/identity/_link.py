"""Touchpoint linking: give touchpoints the person (or household) their identifiers resolve to.

Two kinds of evidence, applied in order:

1. **Records.** A touchpoint column that holds a record field (the record id a system knows
   the customer by, a loyalty card typed with a web order, a hashed e-mail) finds the record,
   whose person the resolution gives.
2. **Link keys.** A touchpoint column that holds an identifier shared between touchpoints of
   different systems (a device id, a payment-card token, a click & collect pickup code, a
   hashed e-receipt e-mail, an order id) attaches the customer ids that carry it to the person
   of the other customer ids that carry it. Keys chain, hop by hop (an anonymous till receipt
   shares a pickup code with an anonymous web order, whose device a logged-in session used),
   up to ``max_hops``.

The unit of linking is the customer id of the source (``customer`` as loaded): a device, a
till receipt, a contact, a web account. Every row of a customer id gets the person the id is
linked to, with the evidence kept on the row (``link_key``, ``link_value``,
``link_confidence``, ``link_status``) so that each link can be audited.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._validation import check_choice, check_fraction, check_positive_int
from omnijourney.errors import ConfigError, SchemaError
from omnijourney.identity._normalize import NormalizedField, map_labels
from omnijourney.identity._records import _NORMALIZERS
from omnijourney.tables import Table, TouchpointTable, code_dtype

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["LINK_STATUSES", "key_agreement", "link_touchpoints"]

#: What linking did for a customer id, in the order of the codes of ``link_status``:
#: found through a record field, attached through a link key, left alone because its keys
#: lead to several persons, because no linked id shares its keys (the key is missing on the
#: other side), or because it carries no key at all.
LINK_STATUSES = ("record", "key", "ambiguous", "unmatched_key", "no_key")
#: Key values checked against the resolution below which a key's agreement is not estimated.
_MIN_CHECKED = 30
_NONE = np.iinfo(np.int64).max


def link_touchpoints(
    touchpoints: TouchpointTable,
    resolution: Resolution,
    on: Mapping[str, str],
    *,
    level: str = "person",
    as_of: Any = None,
    keys: Sequence[str] | Mapping[str, float | None] = (),
    min_confidence: float = 0.5,
    max_hops: int = 3,
    max_ids_per_key: int = 20,
) -> TouchpointTable:
    """Touchpoints whose ``customer`` is the resolved person (or household) id.

    Parameters
    ----------
    touchpoints : TouchpointTable
    resolution : Resolution
    on : mapping of str to str
        Touchpoint column -> record column it carries: ``{"customer": "record_id"}``,
        ``{"account": "account_id", "email": "email"}``. Record fields that resolution
        normalizes (email, phone, loyalty_id...) are normalized like the records'; other
        columns (``record_id``, an extra column such as a hashed e-mail) are compared as
        text. The first column (in the order given) that finds a record wins.
    level : {"person", "household"}
    as_of : date or time, optional
        With ``level="household"``: the household each person belonged to at that date (see
        :func:`~omnijourney.identity.households_as_of`), not the current one: journeys and
        segments of households as they were then. Persons without a household at that date
        keep a household of their own (their current one).
    keys : sequence of str or mapping of str to float or None
        Touchpoint columns holding link keys shared between touchpoints (``"device_id"``,
        ``"payment_token"``, ``"pickup_code"``, ``"order_id"``...). As a mapping, the
        confidence of each key (None: estimated, see :func:`key_agreement`).
    min_confidence : float in [0, 1]
        Links through keys whose confidence (the product of the keys' confidences along the
        chain) is below this are not made. The default, 0.5, makes the links that are more
        likely right than wrong.
    max_hops : int
        Longest chain of keys from a customer id found through a record.
    max_ids_per_key : int
        A key value carried by more customer ids than this (a shop's terminal, a shared
        tablet, a placeholder) links nothing.

    Returns
    -------
    TouchpointTable
        The same rows, with ``customer`` = ``"P<id>"`` (or ``"H<id>"``) where linked, the
        original customer otherwise, and extra columns ``original_customer``, ``anonymous``
        (True where nothing linked), ``link_key`` (the column that linked the row's customer
        id), ``link_value`` (its value), ``link_confidence`` (1 through a record, the chain's
        confidence through keys, NaN when not linked) and ``link_status`` (one of
        :data:`LINK_STATUSES`). No row is dropped. The keys' agreement table is in the
        result's ``notes`` (one line per key).

    Raises
    ------
    SchemaError
        A column of ``on`` or ``keys`` that the touchpoints lack, or a key column that does
        not hold ids.
    ConfigError
        A record column that cannot be linked on, or a bad parameter.

    Notes
    -----
    A customer id is linked through a record when one of its rows finds a record, and
    through keys when the key values it carries lead to exactly one person: first those of
    the ids found through records, then those of the ids linked at the previous hop. A key
    value whose ids lead to several persons (a family's card) leads nowhere; a customer id
    whose keys lead to several persons stays unlinked (``ambiguous``). Each customer id keeps
    the evidence of highest confidence. The work is a few sorts and ``ufunc.at`` passes over
    the rows and the distinct (customer id, key value) pairs per hop.

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

    An anonymous till receipt that paid with the card token a logged-in web session used:

    >>> tp = oj.TouchpointTable.from_columns({"customer": ["W1", "T-9", "T-8"],
    ...     "time": ["2024-01-01", "2024-01-05", "2024-01-06"],
    ...     "channel": ["web", "store", "store"], "event": ["order", "purchase", "purchase"],
    ...     "token": ["pt_1", "pt_1", None]}, extra=["token"])
    >>> out = link_touchpoints(tp, resolve(recs), on={"customer": "record_id"}, keys=["token"])
    >>> out["customer"].tolist(), out["link_status"].tolist()
    (['P1', 'P1', 'T-8'], ['record', 'key', 'no_key'])
    >>> out["link_key"].tolist(), out["link_value"].tolist()
    (['customer', 'token', None], ['W1', 'pt_1', None])
    """
    min_conf = check_fraction(min_confidence, "min_confidence")
    check_positive_int(max_hops, "max_hops", minimum=0)
    key_conf, node_of_row, record, graph, start, agreement = _prepare(
        touchpoints, resolution, on, keys, level, max_ids_per_key, as_of
    )
    conf = np.array(
        [
            c if c is not None else (a if a is not None else 1.0)
            for c, a in zip(key_conf.values(), agreement["agreement_or_none"])
        ],
        dtype=np.float64,
    )
    linked = _propagate(graph, start, conf, min_conf, max_hops)
    out = _linked_table(touchpoints, level, on, graph, linked, node_of_row, record)
    notes = [
        f"link key {k!r}: confidence {c:.3f} ({src})"
        for k, c, src in zip(key_conf, conf, _sources(key_conf, agreement))
    ]
    if notes:
        out = out.replace_columns(meta={"notes": (*out.notes, *notes)})
    return out


def key_agreement(
    touchpoints: TouchpointTable,
    resolution: Resolution,
    on: Mapping[str, str],
    keys: Sequence[str],
    *,
    level: str = "person",
    max_ids_per_key: int = 20,
) -> Table:
    """How often each link key agrees with the resolution: its estimated confidence.

    A key value carried by two or more customer ids found through records is a check: the
    resolution says whether those ids are one person. The agreement of a key is the share
    of its checked values whose ids are one person (a shared family card, a reused device
    or a mistyped order id lower it).

    Parameters
    ----------
    touchpoints, resolution, on, level, max_ids_per_key
        As for :func:`link_touchpoints`.
    keys : sequence of str
        Touchpoint columns holding link keys.

    Returns
    -------
    Table
        One row per key: ``key``, ``values`` (distinct values carried by at most
        ``max_ids_per_key`` customer ids), ``shared_values`` (carried by several ids),
        ``too_common`` (values left out), ``checked``, ``agreeing`` and ``agreement``
        (``agreeing / checked``; NaN with fewer than 30 checked values: the key is then
        trusted by :func:`link_touchpoints` unless given a confidence).

    Examples
    --------
    >>> import omnijourney as oj
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({"record_id": ["W1", "L1"],
    ...     "email": ["zoe@mail.fr", "zoe@mail.fr"]})
    >>> tp = oj.TouchpointTable.from_columns({"customer": ["W1", "L1"],
    ...     "time": ["2024-01-01", "2024-01-05"], "channel": ["web", "store"],
    ...     "event": ["order", "purchase"], "token": ["pt_1", "pt_1"]}, extra=["token"])
    >>> t = key_agreement(tp, resolve(recs), {"customer": "record_id"}, ["token"])
    >>> t["checked"].tolist(), t["agreeing"].tolist()
    ([1], [1])
    """
    key_conf, _, _, _, _, a = _prepare(touchpoints, resolution, on, keys, level, max_ids_per_key)
    return Table.from_columns(
        {
            "key": list(key_conf),
            "values": a["values"],
            "shared_values": a["shared"],
            "too_common": a["too_common"],
            "checked": a["checked"],
            "agreeing": a["agreeing"],
            "agreement": a["agreement"],
        },
        kinds={"key": "category"},
    )


# --------------------------------------------------------------------------- inputs


def _prepare(
    touchpoints: TouchpointTable,
    resolution: Resolution,
    on: Mapping[str, str],
    keys: Sequence[str] | Mapping[str, float | None],
    level: str,
    max_ids_per_key: int,
    as_of: Any = None,
) -> tuple[dict[str, float | None], np.ndarray, Any, _KeyGraph, _Start, dict[str, Any]]:
    """Checked parameters, the records found per row, the key graph, the customer ids found
    through records and the keys' agreement with the resolution."""
    check_choice(level, "level", ("person", "household"))
    key_conf = _key_columns(touchpoints, keys)
    check_positive_int(max_ids_per_key, "max_ids_per_key")
    n_nodes = touchpoints.labels("customer").size
    node_of_row = touchpoints.raw("customer").astype(np.int64)
    record = _record_entities(touchpoints, resolution, on, level, as_of)
    graph = _KeyGraph(touchpoints, list(key_conf), max_ids_per_key, n_nodes, node_of_row)
    start = _start_nodes(record[0], node_of_row, n_nodes)
    return (
        key_conf,
        node_of_row,
        record,
        graph,
        start,
        _agreement(graph, start.entity, list(key_conf)),
    )


def _key_columns(
    touchpoints: TouchpointTable, keys: Sequence[str] | Mapping[str, float | None]
) -> dict[str, float | None]:
    """The key columns and their given confidences (None: estimated)."""
    if isinstance(keys, str) or not isinstance(keys, (Sequence, Mapping)):
        msg = (
            "The 'keys' parameter must be a sequence of column names or a mapping of column "
            f"name to a confidence in [0, 1] or None. Got {keys!r} instead."
        )
        raise ConfigError(msg)
    items = keys.items() if isinstance(keys, Mapping) else ((k, None) for k in keys)
    out: dict[str, float | None] = {}
    for column, confidence in items:
        if not isinstance(column, str):
            msg = f"The 'keys' parameter must name columns (strings). Got {column!r} instead."
            raise ConfigError(msg)
        _check_id_column(touchpoints, column, "keys")
        out[column] = (
            None if confidence is None else check_fraction(confidence, f"keys[{column!r}]")
        )
    return out


def _check_id_column(touchpoints: TouchpointTable, column: str, parameter: str) -> None:
    if column not in touchpoints.columns:
        msg = (
            f"TouchpointTable has no column {column!r} (named in {parameter!r}); columns are "
            f"{touchpoints.columns}"
        )
        raise SchemaError(msg, table="TouchpointTable", column=column)
    if touchpoints.kinds[column] != "category":
        msg = (
            f"Column {column!r} of the TouchpointTable (named in {parameter!r}) holds "
            f"{touchpoints.kinds[column]} values; link keys are ids (text or whole numbers, "
            "loaded as a category column)"
        )
        raise SchemaError(msg, table="TouchpointTable", column=column)


def _text_lookup(labels: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each of ``wanted`` among ``labels`` compared as text (-1 when absent)."""
    if labels.size == 0 or wanted.size == 0:
        return np.full(wanted.size, -1, dtype=np.int64)
    text = labels.astype(str)
    order = np.argsort(text, kind="stable")
    sorted_text = text[order]
    w = wanted.astype(str)
    pos = np.minimum(np.searchsorted(sorted_text, w), sorted_text.size - 1)
    return np.where(sorted_text[pos] == w, order[pos], -1).astype(np.int64)


def _record_rows(
    touchpoints: TouchpointTable, resolution: Resolution, column: str, field: str
) -> np.ndarray:
    """Per touchpoint row, the record row its ``column`` finds through record ``field``."""
    records = resolution.records
    codes = touchpoints.raw(column).astype(np.int64)
    tp_labels = touchpoints.labels(column)
    norm = resolution.normalized()
    if field in _NORMALIZERS and field in norm:
        fn = _NORMALIZERS[field]
        tp_field: NormalizedField = map_labels(
            codes, tp_labels, functools.partial(fn, rules=resolution.rules.normalize), field
        )
        rec_field = norm[field]
        rec_code = rec_field.codes.astype(np.int64)
        to_rec_code = _text_lookup(rec_field.labels, tp_field.labels)
        row_code = tp_field.codes.astype(np.int64)
    elif field in records.columns and records.kinds[field] == "category":
        rec_code = records.raw(field).astype(np.int64)
        to_rec_code = _text_lookup(records.labels(field), tp_labels)
        row_code = codes
    else:
        msg = (
            f"cannot link on record field {field!r}: the records have no such text column "
            f"(columns: {records.columns})"
        )
        raise ConfigError(msg)
    # one record per value: the first in canonical order
    order = records.canonical_order()
    first_row = np.full(int(rec_code.max(initial=-1)) + 1, -1, dtype=np.int64)
    rc = rec_code[order]
    ok = rc >= 0
    first_row[rc[ok][::-1]] = order[ok][::-1]
    code = np.append(to_rec_code, -1)[np.where(row_code >= 0, row_code, to_rec_code.size)]
    return np.where(code >= 0, first_row[np.maximum(code, 0)], -1)


def _record_entities(
    touchpoints: TouchpointTable,
    resolution: Resolution,
    on: Mapping[str, str],
    level: str,
    as_of: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the person (household) found through ``on`` (-1), the index of the column
    of ``on`` that found it and the record row."""
    if not isinstance(on, Mapping):
        msg = f"The 'on' parameter must be a mapping of touchpoint column to record column. Got {on!r} instead."
        raise ConfigError(msg)
    n = len(touchpoints)
    found = np.full(n, -1, dtype=np.int64)
    found_col = np.full(n, -1, dtype=np.int64)
    for i, (column, field) in enumerate(on.items()):
        _check_id_column(touchpoints, column, "on")
        row = _record_rows(touchpoints, resolution, column, str(field))
        fill = (found < 0) & (row >= 0)
        found[fill] = row[fill]
        found_col[fill] = i
    ids = _entity_ids(resolution, level, as_of)
    entity = np.where(found >= 0, np.asarray(ids, dtype=np.int64)[np.maximum(found, 0)], -1)
    return entity, found_col, found


def _entity_ids(resolution: Resolution, level: str, as_of: Any) -> np.ndarray:
    """Per record, its person id, or its household id (as of a date when given)."""
    if level == "person":
        return np.asarray(resolution.person_id, dtype=np.int64)
    ids = np.asarray(resolution.household_id, dtype=np.int64)
    if as_of is None:
        return ids
    from omnijourney.identity._households import households_as_of

    then = households_as_of(resolution, as_of)
    persons = np.asarray(then["person_id"], dtype=np.int64)
    homes = np.asarray(then["household_id"], dtype=np.int64)
    if persons.size:
        person = np.asarray(resolution.person_id, dtype=np.int64)
        at = np.minimum(np.searchsorted(persons, person), persons.size - 1)
        ids = np.where(persons[at] == person, homes[at], ids)
    return ids


# --------------------------------------------------------------------------- the key graph


class _KeyGraph:
    """Distinct (customer id, key value) pairs; values numbered across the key columns."""

    def __init__(
        self,
        tp: TouchpointTable,
        keys: list[str],
        max_ids: int,
        n_nodes: int,
        node_of_row: np.ndarray,
    ) -> None:
        self.keys = keys
        self.n_nodes = n_nodes
        offsets = [0]
        nodes, values = [], []
        for k in keys:
            code = tp.raw(k).astype(np.int64)
            rows = np.flatnonzero(code >= 0)
            nodes.append(node_of_row[rows])
            values.append(code[rows] + offsets[-1])
            offsets.append(offsets[-1] + tp.labels(k).size)
        self.offsets = np.array(offsets, dtype=np.int64)
        self.n_values = int(self.offsets[-1])
        self.key_of_value = np.repeat(np.arange(len(keys)), np.diff(self.offsets))
        node = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
        value = np.concatenate(values) if values else np.zeros(0, np.int64)
        pair = np.unique(value * max(n_nodes, 1) + node)
        value, node = pair // max(n_nodes, 1), pair % max(n_nodes, 1)
        self.ids_per_value = np.bincount(value, minlength=self.n_values)
        self.has_key = np.zeros(n_nodes, dtype=bool)
        self.has_key[node] = True
        usable = self.ids_per_value[value] <= max_ids
        self.node, self.value = node[usable], value[usable]
        self.too_common = self.ids_per_value > max_ids
        self.labels = [tp.labels(k) for k in keys]


class _Start:
    """Customer ids found through records: the entity of each (-1 none, -2 several)."""

    def __init__(self, entity: np.ndarray) -> None:
        self.entity = entity


def _start_nodes(entity: np.ndarray, node_of_row: np.ndarray, n_nodes: int) -> _Start:
    """Per customer id: its entity when all its rows found through records agree (-1 when
    none did, -2 when they disagree)."""
    rows = np.flatnonzero(entity >= 0)
    lo = np.full(n_nodes, _NONE, dtype=np.int64)
    hi = np.full(n_nodes, -1, dtype=np.int64)
    np.minimum.at(lo, node_of_row[rows], entity[rows])
    np.maximum.at(hi, node_of_row[rows], entity[rows])
    return _Start(np.where(hi < 0, -1, np.where(lo == hi, lo, -2)))


def _per_value_entities(
    graph: _KeyGraph, node_entity: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per key value: lowest and highest entity of its linked ids, their number, and the
    highest ``weight`` among them."""
    e = node_entity[graph.node]
    ok = e >= 0
    lo = np.full(graph.n_values, _NONE, dtype=np.int64)
    hi = np.full(graph.n_values, -1, dtype=np.int64)
    np.minimum.at(lo, graph.value[ok], e[ok])
    np.maximum.at(hi, graph.value[ok], e[ok])
    count = np.bincount(graph.value[ok], minlength=graph.n_values)
    best = np.zeros(graph.n_values, dtype=np.float64)
    if weight is not None:
        np.maximum.at(best, graph.value[ok], weight[graph.node[ok]])
    return lo, hi, count, best


def _agreement(graph: _KeyGraph, node_entity: np.ndarray, keys: list[str]) -> dict[str, Any]:
    lo, hi, count, _ = _per_value_entities(graph, node_entity)
    checked = count >= 2
    agree = checked & (lo == hi)
    k = graph.key_of_value
    n_k = len(keys)
    used = graph.ids_per_value > 0
    n_checked = np.bincount(k[checked], minlength=n_k)
    n_agree = np.bincount(k[agree], minlength=n_k)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_checked >= _MIN_CHECKED, n_agree / np.maximum(n_checked, 1), np.nan)
    return {
        "values": np.bincount(k[used & ~graph.too_common], minlength=n_k),
        "shared": np.bincount(k[(graph.ids_per_value >= 2) & ~graph.too_common], minlength=n_k),
        "too_common": np.bincount(k[graph.too_common], minlength=n_k),
        "checked": n_checked,
        "agreeing": n_agree,
        "agreement": agreement,
        "agreement_or_none": [None if np.isnan(a) else float(a) for a in agreement],
    }


def _sources(key_conf: Mapping[str, float | None], agreement: dict[str, Any]) -> list[str]:
    out = []
    for given, n, a in zip(key_conf.values(), agreement["checked"], agreement["agreement"]):
        if given is not None:
            out.append("given")
        elif np.isnan(a):
            out.append(f"trusted: {int(n)} values checked against the resolution")
        else:
            out.append(f"agreement with the resolution on {int(n)} values")
    return out


class _Linked:
    """Per customer id: entity (-1 none), status code, key value (-1: a record column) and
    confidence."""

    def __init__(self, n: int) -> None:
        self.entity = np.full(n, -1, dtype=np.int64)
        self.status = np.full(n, LINK_STATUSES.index("no_key"), dtype=np.int8)
        self.value = np.full(n, -1, dtype=np.int64)
        self.confidence = np.full(n, np.nan, dtype=np.float64)


def _propagate(
    graph: _KeyGraph, start: _Start, conf: np.ndarray, min_conf: float, max_hops: int
) -> _Linked:
    """Attach customer ids to entities through key values, hop by hop."""
    out = _Linked(graph.n_nodes)
    found = start.entity >= 0
    out.entity[found] = start.entity[found]
    out.status[found] = LINK_STATUSES.index("record")
    out.confidence[found] = 1.0
    fixed = start.entity == -2  # its rows found records of several persons
    out.status[fixed] = LINK_STATUSES.index("ambiguous")
    out.status[~found & (start.entity != -2) & graph.has_key] = LINK_STATUSES.index("unmatched_key")
    weight = np.where(found, 1.0, 0.0)
    for _ in range(max_hops):
        lo, hi, count, best = _per_value_entities(graph, out.entity, weight)
        ok_value = (count > 0) & (lo == hi)
        conflict = (count > 0) & (lo != hi)
        # each unlinked id: the entities its usable values lead to, and the best of them
        open_ = (out.entity[graph.node] < 0) & ~fixed[graph.node]
        e_ok = open_ & ok_value[graph.value]
        e_conflict = open_ & conflict[graph.value]
        nodes = graph.node[e_ok]
        vals = graph.value[e_ok]
        ent = lo[vals]
        strength = conf[graph.key_of_value[vals]] * best[vals]
        n_lo = np.full(graph.n_nodes, _NONE, dtype=np.int64)
        n_hi = np.full(graph.n_nodes, -1, dtype=np.int64)
        np.minimum.at(n_lo, nodes, ent)
        np.maximum.at(n_hi, nodes, ent)
        # values shared by several persons are left aside; an id that has only such values,
        # or whose other values lead to several persons, is ambiguous
        many = np.zeros(graph.n_nodes, dtype=bool)
        many[graph.node[e_conflict]] = True
        many = (many & (n_hi < 0)) | ((n_hi >= 0) & (n_lo != n_hi))
        # the strongest value of each node: sort by node, then strength descending
        order = np.lexsort((-strength, nodes))
        first = np.ones(order.size, dtype=bool)
        first[1:] = nodes[order][1:] != nodes[order][:-1]
        pick = order[first]
        cand = nodes[pick]
        good = ~many[cand] & (strength[pick] >= min_conf) & (strength[pick] > 0)
        new = cand[good]
        newly_ambiguous = np.flatnonzero(many & (out.entity < 0))
        out.status[newly_ambiguous] = LINK_STATUSES.index("ambiguous")
        if new.size == 0:
            break
        out.entity[new] = ent[pick][good]
        out.status[new] = LINK_STATUSES.index("key")
        out.value[new] = vals[pick][good]
        out.confidence[new] = strength[pick][good]
        weight[new] = strength[pick][good]
    # ids left ambiguous at a hop may have been linked at a later one: the link stands
    return out


# --------------------------------------------------------------------------- the result


def _slot_codes(slot: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Category codes and sorted labels of the slot names (-1: null)."""
    text = np.array(names, dtype=object)
    labels, inverse = np.unique(text.astype(str), return_inverse=True) if names else (text, text)
    recode = np.append(np.asarray(inverse, dtype=np.int64), -1)
    return recode[slot].astype(code_dtype(labels.size)), labels.astype(object)


def _value_codes(
    slot: np.ndarray, value: np.ndarray, slot_labels: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Category codes and sorted labels of the values used, as text (-1: null)."""
    sizes = np.array([lab.size for lab in slot_labels], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    has = slot >= 0
    gid = np.where(has, offsets[np.maximum(slot, 0)] + value, -1)
    used = np.unique(gid[has])
    which = np.searchsorted(offsets, used, side="right") - 1
    text = np.empty(used.size, dtype=object)
    for i, lab in enumerate(slot_labels):
        sel = np.flatnonzero(which == i)
        text[sel] = lab[used[sel] - offsets[i]].astype(str)
    labels, inverse = np.unique(text.astype(str), return_inverse=True)
    codes = np.full(slot.size, -1, dtype=np.int64)
    codes[has] = np.asarray(inverse, dtype=np.int64)[np.searchsorted(used, gid[has])]
    return codes.astype(code_dtype(labels.size)), labels.astype(object)


def _linked_table(
    tp: TouchpointTable,
    level: str,
    on: Mapping[str, str],
    graph: _KeyGraph,
    linked: _Linked,
    node_of_row: np.ndarray,
    record: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> TouchpointTable:
    """The touchpoints with their links: a row found through a record keeps its own person
    (rows of one customer id may find several when the resolution splits them); the other
    rows take their customer id's."""
    prefix = "P" if level == "person" else "H"
    row_entity, row_col, _ = record
    own = row_entity >= 0
    entity = np.where(own, row_entity, linked.entity[node_of_row])
    hit = entity >= 0
    # customer labels: the ids of unlinked rows, and the linked entities
    original = tp.labels("customer")
    ents = np.unique(entity[hit])
    ent_text = np.char.add(prefix, ents.astype(str)).astype(object)
    kept = np.zeros(original.size, dtype=bool)
    kept[node_of_row[~hit]] = True
    labels, inverse = np.unique(
        np.concatenate([original[kept].astype(str), ent_text.astype(str)]), return_inverse=True
    )
    code_of_node = np.full(original.size, -1, dtype=np.int64)
    code_of_node[np.flatnonzero(kept)] = inverse[: int(kept.sum())]
    code_of_ent = inverse[int(kept.sum()) :]
    customer = np.where(
        hit, code_of_ent[np.searchsorted(ents, np.maximum(entity, 0))], code_of_node[node_of_row]
    )
    # evidence: the row's record column, or its customer id's key value; as slots (the on
    # columns, then the keys) and value ids numbered across the slots
    on_cols = list(on)
    first = np.full(original.size, -1, dtype=np.int64)  # a record row of each customer id
    rows = np.flatnonzero(own)
    first[node_of_row[rows[::-1]]] = rows[::-1]
    by_record = own | (linked.status[node_of_row] == 0)
    source = np.where(own, np.arange(len(tp)), first[node_of_row])
    slot = np.full(len(tp), -1, dtype=np.int64)
    value = np.full(len(tp), -1, dtype=np.int64)
    rec = np.flatnonzero(by_record & (source >= 0))
    slot[rec] = row_col[source[rec]]
    for i, column in enumerate(on_cols):
        sel = rec[slot[rec] == i]
        value[sel] = tp.raw(column)[source[sel]].astype(np.int64)
    node_value = linked.value[node_of_row]
    by_key = np.flatnonzero(~by_record & (node_value >= 0))
    slot[by_key] = len(on_cols) + graph.key_of_value[node_value[by_key]]
    value[by_key] = node_value[by_key] - graph.offsets[graph.key_of_value[node_value[by_key]]]
    slot_labels = [tp.labels(c) for c in on_cols] + graph.labels
    k_codes, k_labels = _slot_codes(slot, [*on_cols, *graph.keys])
    v_codes, v_labels = _value_codes(slot, value, slot_labels)
    s_labels = np.array(sorted(LINK_STATUSES), dtype=object)
    s_code = np.searchsorted(s_labels, np.array(LINK_STATUSES, dtype=object)).astype(np.int8)
    status = np.where(own, 0, linked.status[node_of_row])
    confidence = np.where(own, 1.0, linked.confidence[node_of_row])
    data = {c: tp.raw(c) for c in tp.columns}
    labels_of = {c: tp.labels(c) for c in tp.columns if tp.kinds[c] == "category"}
    data["customer"] = customer.astype(code_dtype(labels.size))
    labels_of["customer"] = labels.astype(object)
    data["original_customer"] = tp.raw("customer")
    labels_of["original_customer"] = original
    data["anonymous"] = ~hit
    data["link_key"] = k_codes
    labels_of["link_key"] = k_labels
    data["link_value"] = v_codes
    labels_of["link_value"] = v_labels
    data["link_confidence"] = confidence
    data["link_status"] = s_code[status]
    labels_of["link_status"] = s_labels
    specs = {c: tp.spec(c) for c in tp.columns}
    meta = {k: v for k, v in tp.meta.items() if k != "notes"}
    return TouchpointTable.from_arrays(data, labels_of, meta=meta, specs=specs)

"""Exports of sessionized journeys to process-mining formats: a pm4py event log and OCEL 2.0.

``to_event_log`` gives the flat (one case notion) log pm4py and most process-mining tools
read, with journeys as cases. ``to_ocel`` gives an object-centric log in the OCEL 2.0 JSON
format, where an event (touchpoint) relates to its customer, its journey and the orders,
quotes, carts and reservations it carries.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from omnijourney._deprecation import renamed_parameters
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._variants import StepBy, check_by, check_journeys, in_order, step_labels

__all__ = ["REFERENCE_TYPES", "to_event_log", "to_ocel"]

#: Reference-id columns of the touchpoints and the OCEL object type of their ids.
REFERENCE_TYPES = {
    "order_id": "order",
    "quote_id": "quote",
    "cart_id": "cart",
    "reservation_id": "reservation",
}
_EPOCH = "1970-01-01T00:00:00Z"


def _strings(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.size, dtype=object)
    out[:] = [str(x) for x in values.tolist()]
    return out


@renamed_parameters(jt="journeys")
def to_event_log(journeys: JourneyTable, *, activity: StepBy = "channel_event") -> Any:
    """The touchpoints as a flat event log with pm4py's column names, journeys as cases.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`~omnijourney.sessionize`.
    activity : {"channel_event", "channel", "event"}
        What names an activity: ``"web:add_to_cart"`` by default.

    Returns
    -------
    pandas.DataFrame
        One row per touchpoint in canonical (customer, time) order, so that each case's
        events are contiguous and in time order. Columns: ``case:concept:name`` (the journey
        id, as a string), ``concept:name`` (the activity), ``time:timestamp`` (tz-aware
        UTC), ``org:resource`` (the channel), ``lifecycle:transition`` (``"complete"``) and
        ``customer``. Needs the ``pandas`` extra.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01T10:00", "2024-05-01T10:05"],
    ...     "channel": ["web", "store"], "event": ["product_view", "purchase"]})
    >>> log = oj.journeys.to_event_log(oj.sessionize(tp))
    >>> log["concept:name"].tolist()
    ['web:product_view', 'store:purchase']
    >>> log["case:concept:name"].tolist(), str(log["time:timestamp"].dt.tz)
    (['0', '0'], 'UTC')
    """
    from omnijourney._optional import import_optional

    pd = import_optional("pandas", "pandas")
    jt = check_journeys(journeys, "to_event_log")
    codes, labels = step_labels(jt, check_by(activity))
    tp = jt.touchpoints
    lengths = np.diff(jt.offsets)
    case = np.repeat(_strings(jt.journeys.raw("journey_id")), lengths)
    return pd.DataFrame(
        {
            "case:concept:name": case,
            "concept:name": _strings(labels)[codes],
            "time:timestamp": pd.DatetimeIndex(in_order(jt, "time")).tz_localize("UTC"),
            "org:resource": _strings(tp.labels("channel"))[in_order(jt, "channel")],
            "lifecycle:transition": np.full(len(tp), "complete", dtype=object),
            "customer": tp.labels("customer")[in_order(jt, "customer")],
        }
    )


def _iso(times: np.ndarray) -> list[str]:
    """ISO 8601 UTC texts (``...Z``), to the second unless some time has a fraction."""
    us = times.astype("datetime64[us]")
    whole = bool(np.all(us.view(np.int64) % 1_000_000 == 0)) if us.size else True
    return np.datetime_as_string(us, unit="s" if whole else "us", timezone="UTC").tolist()


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@renamed_parameters(jt="journeys")
def to_ocel(journeys: JourneyTable, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The journeys as an object-centric event log in the OCEL 2.0 JSON format.

    Parameters
    ----------
    journeys : JourneyTable
    path : str or path-like, optional
        Also write the log there (UTF-8 JSON).

    Returns
    -------
    dict
        ``objectTypes``, ``eventTypes``, ``objects`` and ``events`` as in the OCEL 2.0 JSON
        specification.

    Notes
    -----
    Object types: ``customer``; ``journey`` (attributes ``converted``, ``value``,
    ``stage``, ``end_reason``, ``n_touchpoints``, related to its customer with qualifier
    ``"customer"``); and one type per reference column present (``order``, ``quote``,
    ``cart``, ``reservation``), related to the customers whose touchpoints carry them.
    Object ids are ``"<type>:<id>"``. Object attributes are static, so their values are
    stamped ``1970-01-01T00:00:00Z`` as the specification does for initial values.

    Events are the touchpoints, in canonical order, with ids ``"e0"``, ``"e1"``...: type =
    the event name, ``time`` in ISO 8601 UTC, attributes ``channel``, ``value`` and
    ``direction`` (left out when null), and relationships to the customer, the journey and
    each reference id, qualified by the object type.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01T10:00", "2024-05-02T15:00"],
    ...     "channel": ["web", "store"], "event": ["order", "pickup"],
    ...     "order_id": ["O1", "O1"]})
    >>> log = oj.journeys.to_ocel(oj.sessionize(tp))
    >>> [t["name"] for t in log["objectTypes"]]
    ['customer', 'journey', 'order']
    >>> log["events"][1]["time"], log["events"][1]["relationships"]
    ('2024-05-02T15:00:00Z', [{'objectId': 'customer:a', 'qualifier': 'customer'}, \
{'objectId': 'journey:1', 'qualifier': 'journey'}, {'objectId': 'order:O1', 'qualifier': 'order'}])
    """
    jt = check_journeys(journeys, "to_ocel")
    tp = jt.touchpoints
    ids = _OcelIds(jt)
    event_attrs = [{"name": "channel", "type": "string"}]
    event_attrs += [{"name": c, "type": _EVENT_ATTRS[c]} for c in _EVENT_ATTRS if c in tp.columns]
    used_events = tp.labels("event")[np.unique(in_order(jt, "event"))]
    doc = {
        "objectTypes": [
            {"name": "customer", "attributes": []},
            {"name": "journey", "attributes": [{"name": k, "type": v} for k, v in _JOURNEY_ATTRS]},
            *({"name": name, "attributes": []} for name in ids.refs.values()),
        ],
        "eventTypes": [
            {"name": name, "attributes": event_attrs}
            for name in sorted({str(x) for x in used_events.tolist()})
        ],
        "objects": _ocel_objects(jt, ids),
        "events": _ocel_events(jt, ids),
    }
    if path is not None:
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, allow_nan=False)
    return doc


_EVENT_ATTRS = {"value": "float", "direction": "string"}
_JOURNEY_ATTRS = (
    ("converted", "boolean"),
    ("value", "float"),
    ("stage", "string"),
    ("end_reason", "string"),
    ("n_touchpoints", "integer"),
)


class _OcelIds:
    """Object ids (``"<type>:<id>"``) and, per touchpoint in canonical order, its objects."""

    def __init__(self, jt: JourneyTable) -> None:
        tp = jt.touchpoints
        #: reference column -> object type, for the columns with at least one id
        self.refs = {
            col: name
            for col, name in REFERENCE_TYPES.items()
            if col in tp.columns and bool(np.any(in_order(jt, col) >= 0))
        }
        self.customer = [f"customer:{x}" for x in tp.labels("customer").tolist()]
        self.journey = [f"journey:{x}" for x in jt.journeys.raw("journey_id").tolist()]
        self.ref = {
            col: [f"{name}:{x}" for x in tp.labels(col).tolist()] for col, name in self.refs.items()
        }
        self.customer_of_row = in_order(jt, "customer").astype(np.int64)
        self.ref_of_row = {col: in_order(jt, col).astype(np.int64) for col in self.refs}


def _ocel_objects(jt: JourneyTable, ids: _OcelIds) -> list[dict[str, Any]]:
    j = jt.journeys
    objects: list[dict[str, Any]] = [
        {"id": ids.customer[c], "type": "customer", "attributes": [], "relationships": []}
        for c in np.unique(ids.customer_of_row).tolist()
    ]
    columns = {name: j[name].tolist() for name, _ in _JOURNEY_ATTRS}
    for k, (jid, cust) in enumerate(zip(ids.journey, j.raw("customer").tolist())):
        objects.append(
            {
                "id": jid,
                "type": "journey",
                "attributes": [
                    {"name": name, "time": _EPOCH, "value": _py(values[k])}
                    for name, values in columns.items()
                    if values[k] is not None
                ],
                "relationships": [{"objectId": ids.customer[cust], "qualifier": "customer"}],
            }
        )
    for col, name in ids.refs.items():
        codes = ids.ref_of_row[col]
        has = codes >= 0
        pairs = np.unique(np.stack([codes[has], ids.customer_of_row[has]], axis=1), axis=0)
        bounds = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            customers = pairs[a:b, 1].tolist()
            objects.append(
                {
                    "id": ids.ref[col][int(pairs[a, 0])],
                    "type": name,
                    "attributes": [],
                    "relationships": [
                        {"objectId": ids.customer[c], "qualifier": "customer"} for c in customers
                    ],
                }
            )
    return objects


def _ocel_events(jt: JourneyTable, ids: _OcelIds) -> list[dict[str, Any]]:
    tp = jt.touchpoints
    types = _strings(tp.labels("event"))[in_order(jt, "event")].tolist()
    times = _iso(in_order(jt, "time"))
    channel = _strings(tp.labels("channel"))[in_order(jt, "channel")].tolist()
    value = in_order(jt, "value").tolist() if "value" in tp.columns else None
    direction = None
    if "direction" in tp.columns:
        names = tp.labels("direction").tolist()
        direction = [names[c] if c >= 0 else None for c in in_order(jt, "direction").tolist()]
    journey_of = np.repeat(np.arange(len(jt)), np.diff(jt.offsets)).tolist()
    customer_of = ids.customer_of_row.tolist()
    refs = [(name, ids.ref[col], ids.ref_of_row[col].tolist()) for col, name in ids.refs.items()]
    events: list[dict[str, Any]] = []
    for i in range(len(tp)):
        attributes: list[dict[str, Any]] = [{"name": "channel", "value": channel[i]}]
        if value is not None and not math.isnan(value[i]):
            attributes.append({"name": "value", "value": value[i]})
        if direction is not None and direction[i] is not None:
            attributes.append({"name": "direction", "value": direction[i]})
        relationships = [
            {"objectId": ids.customer[customer_of[i]], "qualifier": "customer"},
            {"objectId": ids.journey[journey_of[i]], "qualifier": "journey"},
        ]
        relationships += [
            {"objectId": ref_ids[codes[i]], "qualifier": name}
            for name, ref_ids, codes in refs
            if codes[i] >= 0
        ]
        events.append(
            {
                "id": f"e{i}",
                "type": types[i],
                "time": times[i],
                "attributes": attributes,
                "relationships": relationships,
            }
        )
    return events

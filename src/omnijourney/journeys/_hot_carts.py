"""Hot carts: carts abandoned online that nobody has followed up yet, with tiered deadlines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from omnijourney._validation import duration
from omnijourney.errors import ConfigError
from omnijourney.journeys._breaks import BreakRules
from omnijourney.journeys._sorted import Sorted, first_in, last_in, row_at
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import (
    UnmatchedRule,
    check_kinds,
    conversions_unmatched,
    describe_labels,
    noted,
    warn,
)
from omnijourney.tables import Table, code_dtype
from omnijourney.time import TIME_DTYPE

__all__ = ["hot_carts"]

_DEFAULT_TIER = "default"


def _tiers_by_value(tiers: Sequence[Any]) -> list[tuple[str, float, np.timedelta64]]:
    """``(name, min customer value, deadline)`` triples, highest threshold first."""
    out = []
    for t in tiers:
        if isinstance(t, (str, bytes)) or not isinstance(t, Sequence) or len(t) != 3:
            msg = (
                "The 'tiers' parameter must be a mapping of segment to deadline, or a sequence "
                f"of (name, min_customer_value, deadline) triples. Got {t!r} in {tiers!r}."
            )
            raise ConfigError(msg)
        name, low, within = t
        if isinstance(low, bool) or not isinstance(low, (int, float, np.number)):
            msg = f"The 'tiers' parameter needs a number as the min_customer_value of {name!r}. Got {low!r}."
            raise ConfigError(msg)
        td = duration(within, f"tiers[{name!r}]")
        assert td is not None
        out.append((str(name), float(low), td))
    return sorted(out, key=lambda x: -x[1])


def _segments(segments: Any) -> dict[str, str]:
    """Customer label -> segment name, from a mapping or a table with ``customer`` and
    ``segment`` columns (such as :func:`appetence`'s)."""
    if isinstance(segments, Table):
        if "customer" not in segments.columns or "segment" not in segments.columns:
            msg = (
                "The 'segments' parameter must be a mapping of customer to segment or a table "
                f"with 'customer' and 'segment' columns. Got a table with {segments.columns}."
            )
            raise ConfigError(msg)
        keys, vals = segments["customer"].tolist(), segments["segment"].tolist()
        return {str(k): str(v) for k, v in zip(keys, vals) if v is not None}
    if isinstance(segments, Mapping):
        return {str(k): str(v) for k, v in segments.items()}
    msg = (
        "The 'segments' parameter must be a mapping of customer to segment or a table with "
        f"'customer' and 'segment' columns. Got {segments!r} instead."
    )
    raise ConfigError(msg)


def _tier_of(
    tiers: Any,
    segments: Any,
    customer_labels: np.ndarray,
    customer_value: np.ndarray,
    within: np.timedelta64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[UnmatchedRule | None]]:
    """Per customer code: tier index, the tiers' names and deadlines (the last is the
    default), and the unmatched segments rule."""
    if tiers is None:
        if segments is not None:
            msg = "The 'segments' parameter needs 'tiers' (a mapping of segment to deadline)."
            raise ConfigError(msg)
        n = customer_labels.size
        return (
            np.zeros(n, np.int64),
            np.array([_DEFAULT_TIER], dtype=object),
            np.array([within]),
            [],
        )
    if isinstance(tiers, Mapping):
        if segments is None:
            msg = (
                "The 'tiers' parameter, a mapping of segment to deadline, needs 'segments' (the "
                "segment of each customer)."
            )
            raise ConfigError(msg)
        names = sorted(str(k) for k in tiers)
        deadlines = [duration(tiers[k], f"tiers[{k!r}]") for k in sorted(tiers, key=str)]
        seg = _segments(segments)
        index = {n: i for i, n in enumerate(names)}
        labels = [str(c) for c in customer_labels.tolist()]
        tier = np.array([index.get(seg.get(c, ""), len(names)) for c in labels], dtype=np.int64)
        known = np.array([c in seg for c in labels], dtype=bool)
        unmatched: list[UnmatchedRule | None] = []
        if seg and labels and not known.any():
            unmatched.append(
                describe_labels(
                    labels,
                    np.ones(len(labels), dtype=np.int64),
                    "hot_carts(segments=...)",
                    "customer",
                    sorted(seg)[:50],
                    "Every cart gets the default deadline ('within')",
                    close=False,
                )
            )
        all_names = np.array([*names, _DEFAULT_TIER], dtype=object)
        return tier, all_names, np.array([*deadlines, within]), unmatched
    if segments is not None:
        msg = "The 'segments' parameter goes with 'tiers' as a mapping of segment to deadline."
        raise ConfigError(msg)
    by_value = _tiers_by_value(tiers)
    tier = np.full(customer_value.size, len(by_value), dtype=np.int64)
    for i in range(len(by_value) - 1, -1, -1):  # the highest threshold reached wins
        tier[customer_value >= by_value[i][1]] = i
    all_names = np.array([*(t[0] for t in by_value), _DEFAULT_TIER], dtype=object)
    return tier, all_names, np.array([*(t[2] for t in by_value), within]), []


def hot_carts(
    journeys: JourneyTable,
    *,
    as_of: Any = None,
    max_age: Any = "24h",
    within: Any = "4h",
    min_value: float | None = None,
    tiers: Mapping[str, Any] | Sequence[tuple[str, float, Any]] | None = None,
    segments: Mapping[str, str] | Table | None = None,
) -> Table:
    """Carts abandoned online that nobody has followed up yet: the call centre's hand-off list.

    A cart (a ``cart_id``) is hot when it was touched on a digital channel during the last
    ``max_age`` before ``as_of``, no conversion carries it and no assisted channel (call
    centre, chat) has touched it.

    Parameters
    ----------
    journeys : JourneyTable
    as_of : time, optional
        Now (default: the latest touchpoint).
    max_age : duration
        Older carts are not hot any more.
    within : duration
        Hand-off deadline after the cart's last activity; carts past it are ``overdue``. With
        ``tiers``, the deadline of the customers no tier takes.
    min_value : float, optional
        Only carts worth at least this much.
    tiers : mapping or sequence, optional
        Deadlines by customer: a mapping of segment to deadline (``{"vip": "4h"}``, read
        with ``segments``), or a sequence of ``(name, min_customer_value, deadline)``
        triples (``[("vip", 1000, "4h"), ("known", 1, "12h")]``): a customer takes the tier
        of the highest threshold their converted value reaches.
    segments : mapping or Table, optional
        The segment of each customer: a mapping of customer to segment, or a table with
        ``customer`` and ``segment`` columns (:func:`appetence`, a CRM export).

    Returns
    -------
    Table
        ``cart_id``, ``customer``, ``channel``, ``last_activity``, ``cart_value`` (the latest
        value seen on the cart), ``customer_value`` (the customer's converted value so far),
        ``tier`` (``"default"`` without tiers), ``deadline``, ``overdue``; ordered by cart
        value, then customer value, descending. Its ``notes`` say when no channel is
        digital, no event is a conversion or no customer has a segment.

    Raises
    ------
    ConfigError
        Bad durations or tiers, ``tiers`` by segment without ``segments`` (or the reverse).

    Warns
    -----
    OmnijourneyWarning
        When no channel used is of a digital kind (no cart can be hot), or when ``segments``
        names none of the customers (every cart would get the default deadline).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b"],
    ...     "time": ["2024-05-01T08:00", "2024-05-02T09:00", "2024-05-02T09:30"],
    ...     "channel": ["store", "web", "web"],
    ...     "event": ["purchase", "add_to_cart", "add_to_cart"],
    ...     "value": [1500.0, 80.0, 60.0], "cart_id": [None, "K1", "K2"]})
    >>> carts = hot_carts(oj.sessionize(tp), as_of="2024-05-02T14:00", within="24h",
    ...                   tiers=[("vip", 1000, "4h")])
    >>> carts["cart_id"].tolist(), carts["tier"].tolist(), carts["overdue"].tolist()
    (['K1', 'K2'], ['vip', 'default'], [True, False])
    """
    tp = journeys.touchpoints
    if "cart_id" not in tp.columns:
        msg = "hot_carts needs a cart_id column in the touchpoints"
        raise ConfigError(msg)
    age_td = duration(max_age, "max_age")
    within_td = duration(within, "within")
    assert age_td is not None
    assert within_td is not None
    unmatched = warn(
        [
            check_kinds(
                tp,
                "BreakRules.digital_kinds (of hot_carts)",
                BreakRules().digital_kinds,
                "No cart is touched online, so none is hot",
            )
        ]
    )
    unmatched += conversions_unmatched(journeys)
    s = Sorted.of(journeys, BreakRules())
    now = s.now(as_of)
    age = int(age_td.astype(np.int64))
    g = s.groups("cart_id")
    rows = g.rows
    seen = s.t[rows] <= now
    converted = first_in(g, s.conv[rows] & seen) >= 0
    assisted = first_in(g, s.assisted[rows] & seen) >= 0
    last_online = row_at(g, last_in(g, s.digital[rows] & seen))
    value = tp.raw("value")[s.order] if "value" in tp.columns else np.full(s.n, np.nan)
    last_valued = row_at(g, last_in(g, ~np.isnan(value[rows]) & seen))
    cart_value = np.where(last_valued >= 0, value[np.maximum(last_valued, 0)], np.nan)
    hot = (last_online >= 0) & ~converted & ~assisted
    hot &= (now - s.t[np.maximum(last_online, 0)]) <= age
    if min_value is not None:
        hot &= cart_value >= min_value
    idx = np.flatnonzero(hot)
    last = last_online[idx]
    conv_value = np.where(s.conv & (s.t <= now) & ~np.isnan(value), value, 0.0)
    per_customer = np.bincount(s.c, weights=conv_value, minlength=tp.labels("customer").size)
    tier_of, tier_names, deadlines, no_segment = _tier_of(
        tiers, segments, tp.labels("customer"), per_customer, within_td
    )
    unmatched += warn(no_segment)
    cust = s.c[last]
    cv = np.where(np.isnan(cart_value[idx]), -np.inf, cart_value[idx])
    order = np.lexsort((-per_customer[cust], -cv))
    idx, last, cust = idx[order], last[order], cust[order]
    tier = tier_of[cust]
    deadline_us = deadlines.astype("timedelta64[us]").astype(np.int64)[tier]
    tier_labels, tier_codes = np.unique(tier_names.astype(str), return_inverse=True)
    data = {
        "cart_id": s.refs["cart_id"][last].astype(tp.raw("cart_id").dtype),
        "customer": cust.astype(tp.raw("customer").dtype),
        "channel": s.ch[last].astype(tp.raw("channel").dtype),
        "last_activity": s.t[last].view(TIME_DTYPE),
        "cart_value": cart_value[idx],
        "customer_value": per_customer[cust],
        "tier": tier_codes[tier].astype(code_dtype(tier_labels.size)),
        "deadline": (s.t[last] + deadline_us).view(TIME_DTYPE),
        "overdue": (now - s.t[last]) > deadline_us,
    }
    table = Table.from_arrays(
        data,
        {
            "cart_id": tp.labels("cart_id"),
            "customer": tp.labels("customer"),
            "channel": tp.labels("channel"),
            "tier": tier_labels.astype(object),
        },
    )
    return noted(table, unmatched)

"""Channel appetence: how much each customer uses each channel, and the segments it implies.

A customer's appetence is measured on the channels they choose (digital, physical, assisted);
messaging and media touchpoints follow the brand's campaigns and are left out by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._sums import group_sums
from omnijourney._validation import (
    check_choice,
    check_positive_int,
    members,
    number,
    validator,
)
from omnijourney.errors import ConfigError
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import (
    UnmatchedRule,
    check_conversions,
    check_kinds,
    noted,
    warn,
)
from omnijourney.model import ChannelKind
from omnijourney.tables import Table, TouchpointTable

__all__ = [
    "APPETENCE_SEGMENTS",
    "AppetenceRules",
    "appetence",
    "appetence_clusters",
    "appetence_transitions",
    "channel_shares",
    "segment_value",
]

#: Segment labels, in order.
APPETENCE_SEGMENTS = (
    "web_autonomous",
    "store_relational",
    "assisted",
    "multichannel",
    "undetermined",
)
_GROUPS = ("digital", "physical", "assisted")
_KIND_GROUP = {
    ChannelKind.DIGITAL: "digital",
    ChannelKind.MARKETPLACE: "digital",
    ChannelKind.PHYSICAL: "physical",
    ChannelKind.ASSISTED: "assisted",
}
_WEIGHTS = ("touchpoints", "conversions", "value")


def _conv_mask(tp: TouchpointTable, events: Any) -> np.ndarray:
    labels = tp.labels("event").tolist()
    wanted = set(events)
    return np.array([e in wanted for e in labels], dtype=bool)[tp.raw("event")]


def _source(data: TouchpointTable | JourneyTable) -> tuple[TouchpointTable, frozenset[str]]:
    if isinstance(data, JourneyTable):
        return data.touchpoints, data.rules.conversion_events
    if isinstance(data, TouchpointTable):
        return data, frozenset(("purchase", "order", "quote_signed"))
    msg = f"expected a TouchpointTable or a JourneyTable, got {type(data).__name__}"
    raise ConfigError(msg)


def _weights(tp: TouchpointTable, weight: str, conv_events: Any, rows: np.ndarray) -> np.ndarray:
    if weight not in _WEIGHTS:
        msg = f"weight must be one of {_WEIGHTS}, got {weight!r}"
        raise ConfigError(msg)
    if weight == "touchpoints":
        return np.ones(rows.size)
    conv = _conv_mask(tp, conv_events)[rows]
    if weight == "conversions":
        return conv.astype(np.float64)
    value = tp.raw("value")[rows] if "value" in tp.columns else np.zeros(rows.size)
    return np.where(conv & ~np.isnan(value), value, 0.0)


def channel_shares(
    data: TouchpointTable | JourneyTable,
    *,
    weight: str = "touchpoints",
    conversion_events: Any = None,
) -> Table:
    """Per customer, the weight of each channel: counts and shares.

    Parameters
    ----------
    data : TouchpointTable or JourneyTable
    weight : {"touchpoints", "conversions", "value"}
        What is counted on each channel: touchpoints, conversions, or converted value.
    conversion_events : collection of str, optional
        Conversion events (default: the journey rules', or purchase/order/quote_signed).

    Returns
    -------
    Table
        ``customer``, then for each channel ``<channel>`` (total weight) and
        ``<channel>_share``, and ``total``. Weights are summed per customer and channel in
        ascending order, so the sums do not depend on the row order.

    Warns
    -----
    OmnijourneyWarning
        With ``weight="conversions"`` or ``"value"``, when no event of the data is a
        conversion (every weight is 0).

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "a", "b"], "time": ["2024-01-01", "2024-01-02"] * 2,
    ...     "channel": ["web", "web", "store", "store"], "event": ["view"] * 4})
    >>> s = channel_shares(tp)
    >>> s["web_share"].tolist(), s["store_share"].tolist()
    ([0.666..., 0.0], [0.333..., 1.0])
    """
    tp, conv_events = _source(data)
    if conversion_events is not None:
        conv_events = frozenset(conversion_events)
    w = _weights(tp, weight, conv_events, np.arange(len(tp)))
    unmatched: tuple[UnmatchedRule, ...] = ()
    if weight != "touchpoints":
        unmatched = check_conversions(
            data,
            tp,
            conv_events,
            "channel_shares",
            conversion_events is not None,
            f"Every {weight} weight is 0",
        )
    n_c = tp.labels("customer").size
    ch_labels = tp.labels("channel")
    cust = tp.raw("customer").astype(np.int64)
    (matrix,) = _per_key_channel(tp, cust, n_c, [w])
    present = np.bincount(cust, minlength=n_c) > 0
    matrix = matrix[present]
    total = matrix.sum(axis=1)
    shares = np.divide(matrix, total[:, None], out=np.zeros_like(matrix), where=total[:, None] > 0)
    data_cols: dict[str, np.ndarray] = {"customer": np.flatnonzero(present)}
    for j, name in enumerate(ch_labels.tolist()):
        data_cols[str(name)] = matrix[:, j]
    for j, name in enumerate(ch_labels.tolist()):
        data_cols[f"{name}_share"] = shares[:, j]
    data_cols["total"] = total
    codes = data_cols["customer"].astype(tp.raw("customer").dtype)
    data_cols["customer"] = codes
    return noted(Table.from_arrays(data_cols, {"customer": tp.labels("customer")}), unmatched)


def _kinds(value: Iterable[Any]) -> frozenset[ChannelKind]:
    return members(value, "kinds", ChannelKind)


def _dominance(value: Any) -> float:
    return number(value, "dominance")


def _min_share(value: Any) -> float:
    return number(value, "min_share")


@attrs.frozen(kw_only=True)
class AppetenceRules:
    """A transparent rule that labels customers by the channels they choose.

    Channels are grouped by kind: digital (web, app, marketplace), physical (stores) and
    assisted (call centre, chat, sales reps). A customer is labelled with the group whose
    share reaches ``dominance``, or that is the only group reaching ``min_share``
    (``web_autonomous``, ``store_relational``, ``assisted``); ``multichannel`` when two or
    more groups reach ``min_share`` and none dominates; ``undetermined`` with fewer than
    ``min_touchpoints`` counted touchpoints.

    Parameters
    ----------
    dominance : float, default 0.8
    min_share : float, default 0.15
    min_touchpoints : int, default 3
    weight : {"touchpoints", "conversions", "value"}, default "touchpoints"
        What the shares count.
    kinds : collection of ChannelKind
        Channel kinds that count (messaging and media follow campaigns and are left out).

    Notes
    -----
    The functions that apply these rules warn when no channel of the data is of a counted
    kind (every customer would be ``undetermined``): declare the kinds of the data's
    channels when loading them (``channels={"Magasin": "physical"}``).
    """

    dominance: float = attrs.field(default=0.8, converter=_dominance)
    min_share: float = attrs.field(default=0.15, converter=_min_share)
    min_touchpoints: int = attrs.field(default=3, validator=validator(check_positive_int))
    weight: str = attrs.field(default="touchpoints", validator=validator(check_choice, _WEIGHTS))
    kinds: frozenset[ChannelKind] = attrs.field(
        default=(
            ChannelKind.DIGITAL,
            ChannelKind.MARKETPLACE,
            ChannelKind.PHYSICAL,
            ChannelKind.ASSISTED,
        ),
        converter=_kinds,
    )

    def __attrs_post_init__(self) -> None:
        if not 0 < self.min_share <= self.dominance <= 1:
            msg = (
                "The 'min_share' and 'dominance' parameters must satisfy 0 < min_share <= "
                f"dominance <= 1. Got min_share={self.min_share!r}, dominance={self.dominance!r} "
                "instead."
            )
            raise ConfigError(msg)


def _group_matrix(
    tp: TouchpointTable, rules: AppetenceRules, conv_events: Any, n_c: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_customers x 3) weights per channel group, the counted touchpoints, and the
    (n_customers x n_channels) touchpoint counts."""
    key = tp.raw("customer").astype(np.int64)
    return _group_matrix_keyed(tp, rules, conv_events, key, n_c, per_key_channel=True)


def _appetence_unmatched(
    data: TouchpointTable | JourneyTable, tp: TouchpointTable, rules: AppetenceRules, conv: Any
) -> tuple[UnmatchedRule, ...]:
    """Warn when no channel is of a counted kind, or (for conversion weights) no event is a
    conversion: every customer would be undetermined."""
    every = "Every customer is undetermined"
    found = warn([check_kinds(tp, "AppetenceRules.kinds", rules.kinds, every)])
    if rules.weight != "touchpoints":
        found += check_conversions(
            data, tp, conv, "appetence", False, f"{every} (weight={rules.weight!r})"
        )
    return found


def _label(m: np.ndarray, counted: np.ndarray, rules: AppetenceRules) -> np.ndarray:
    total = m.sum(axis=1)
    shares = np.divide(m, total[:, None], out=np.zeros_like(m), where=total[:, None] > 0)
    top = shares.argmax(axis=1)
    top_share = shares.max(axis=1)
    n_sig = (shares >= rules.min_share).sum(axis=1)
    label = np.where(
        (top_share >= rules.dominance) | (n_sig <= 1),
        top,  # 0, 1, 2: the three single-group segments
        APPETENCE_SEGMENTS.index("multichannel"),
    )
    undetermined = (counted < rules.min_touchpoints) | (total <= 0)
    return np.where(undetermined, APPETENCE_SEGMENTS.index("undetermined"), label)


def appetence(data: TouchpointTable | JourneyTable, rules: AppetenceRules | None = None) -> Table:
    """Label each customer web-autonomous, store-relational, assisted or multichannel.

    Parameters
    ----------
    data : TouchpointTable or JourneyTable
    rules : AppetenceRules, optional

    Returns
    -------
    Table
        ``customer``, ``segment``, ``digital_share``, ``physical_share``, ``assisted_share``,
        ``n_touchpoints`` (counted), ``n_channels`` (distinct channels used, all kinds).

    Warns
    -----
    OmnijourneyWarning
        When no channel used is of a kind the rules count (channels of unknown kind are
        ``other``), or, for conversion weights, when no event is a conversion: every
        customer would be ``undetermined``. The result's ``notes`` say so too.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a"] * 4 + ["b"] * 4,
    ...     "time": [f"2024-01-0{d}" for d in (1, 2, 3, 4)] * 2,
    ...     "channel": ["web", "app", "web", "web", "store", "web", "store", "call_centre"],
    ...     "event": ["view"] * 8})
    >>> appetence(tp)["segment"].tolist()
    ['web_autonomous', 'multichannel']
    """
    rules = AppetenceRules() if rules is None else rules
    tp, conv_events = _source(data)
    unmatched = _appetence_unmatched(data, tp, rules, conv_events)
    n_c = tp.labels("customer").size
    m, counted, per_channel = _group_matrix(tp, rules, conv_events, n_c)
    present = np.flatnonzero(per_channel.sum(axis=1) > 0)
    label = _label(m, counted, rules)[present]
    m = m[present]
    total = m.sum(axis=1)
    shares = np.divide(m, total[:, None], out=np.zeros_like(m), where=total[:, None] > 0)
    used = per_channel > 0
    seg_labels = np.array(sorted(APPETENCE_SEGMENTS), dtype=object)
    seg_code = np.searchsorted(seg_labels, np.array(APPETENCE_SEGMENTS, dtype=object))
    table = Table.from_arrays(
        {
            "customer": present.astype(tp.raw("customer").dtype),
            "segment": seg_code[label].astype(np.int8),
            "digital_share": shares[:, 0],
            "physical_share": shares[:, 1],
            "assisted_share": shares[:, 2],
            "n_touchpoints": counted[present].astype(np.int64),
            "n_channels": used[present].sum(axis=1).astype(np.int64),
        },
        {"customer": tp.labels("customer"), "segment": seg_labels},
    )
    return noted(table, unmatched)


def appetence_clusters(
    data: TouchpointTable | JourneyTable,
    *,
    k: int = 4,
    seed: int = 0,
    rules: AppetenceRules | None = None,
) -> tuple[Table, np.ndarray]:
    """Data-driven segments: k-means on the customers' channel-group shares.

    Parameters
    ----------
    k : int
        Number of clusters.
    seed : int
        Seed of the k-means++ initialisation (same seed, same clusters).

    Returns
    -------
    Table
        ``customer``, ``cluster`` (0..k-1, ordered by decreasing size) and ``name`` (the
        rule-based segment of the cluster's centroid).
    numpy.ndarray
        Centroids, shape (k, 3): digital, physical and assisted shares.
    """
    from scipy.cluster.vq import kmeans2

    rules = AppetenceRules() if rules is None else rules
    if not isinstance(k, (int, np.integer)) or k < 1:
        msg = f"k must be a positive integer, got {k!r}"
        raise ConfigError(msg)
    base = appetence(data, rules)
    x = np.stack([base["digital_share"], base["physical_share"], base["assisted_share"]], axis=1)
    valid = base.raw("n_touchpoints") >= rules.min_touchpoints
    if int(valid.sum()) < k:
        msg = f"k={k} clusters need at least {k} customers with enough touchpoints"
        raise ConfigError(msg)
    centroids, assigned = kmeans2(x[valid], k, minit="++", seed=np.random.default_rng(seed))
    sizes = np.bincount(assigned, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(k)
    cluster = np.full(len(base), -1, dtype=np.int64)
    cluster[valid] = rank[assigned]
    centroids = centroids[np.argsort(-sizes, kind="stable")]
    names = _label(centroids, np.full(k, rules.min_touchpoints), rules)
    name_of = np.where(cluster >= 0, names[np.maximum(cluster, 0)], len(APPETENCE_SEGMENTS) - 1)
    out = Table.from_columns(
        {
            "customer": base["customer"],
            "cluster": cluster,
            "name": np.array(APPETENCE_SEGMENTS, dtype=object)[name_of],
        },
        kinds={"customer": "category", "cluster": "int", "name": "category"},
    )
    if base.notes:
        out = out.replace_columns(meta={"notes": base.notes})
    return out, centroids


def segment_value(
    data: TouchpointTable | JourneyTable, segments: Table, *, column: str = "segment"
) -> Table:
    """Spend and purchase frequency per segment (multichannel against single-channel).

    Parameters
    ----------
    data : TouchpointTable or JourneyTable
    segments : Table
        One row per customer with ``customer`` and ``column`` (e.g. :func:`appetence`).

    Returns
    -------
    Table
        Per segment: ``customers``, ``buyers``, ``conversions_per_customer``,
        ``value_per_customer``, ``median_value``, ``value_per_conversion``.

    Warns
    -----
    OmnijourneyWarning
        When no event of the data is a conversion (every value would be 0).

    Notes
    -----
    Values are summed per customer in ascending order, and customers are taken in label
    order, so the figures do not depend on the row order of ``data`` or ``segments``.
    """
    tp, conv_events = _source(data)
    segments.require_columns("customer", column)
    unmatched = check_conversions(
        data, tp, conv_events, "segment_value", False, "No customer has a conversion or a value"
    )
    conv = _conv_mask(tp, conv_events)
    value = tp.raw("value") if "value" in tp.columns else np.zeros(len(tp))
    cust_labels = tp.labels("customer")
    seg_cust = segments["customer"]
    pos = np.searchsorted(cust_labels, seg_cust)
    pos = np.minimum(pos, max(cust_labels.size - 1, 0))
    if cust_labels.size == 0 or not np.all(cust_labels[pos] == seg_cust):
        msg = "segments has customers that the touchpoints do not have"
        raise ConfigError(msg)
    n_c = cust_labels.size
    cust = tp.raw("customer").astype(np.int64)
    by_customer = np.argsort(pos, kind="stable")  # customers in label order
    pos = pos[by_customer]
    n_conv = np.bincount(cust, weights=conv, minlength=n_c)[pos]
    spend = group_sums(cust, np.where(conv & ~np.isnan(value), value, 0.0), n_c)[pos]
    seg = segments.raw(column).astype(np.int64)[by_customer]
    labels = segments.labels(column)
    rows = []
    for s in np.unique(seg):
        sel = seg == s
        rows.append(
            (
                labels[s],
                int(sel.sum()),
                int((n_conv[sel] > 0).sum()),
                float(n_conv[sel].mean()),
                float(spend[sel].mean()),
                float(np.median(spend[sel])),
                float(spend[sel].sum() / max(n_conv[sel].sum(), 1)),
            )
        )
    names = (
        "segment",
        "customers",
        "buyers",
        "conversions_per_customer",
        "value_per_customer",
        "median_value",
        "value_per_conversion",
    )
    table = Table.from_columns(
        {n: [r[i] for r in rows] for i, n in enumerate(names)},
        kinds={"segment": "category", "customers": "int", "buyers": "int"},
    )
    return noted(table, unmatched)


def appetence_transitions(
    data: TouchpointTable | JourneyTable,
    *,
    period: str = "Q",
    rules: AppetenceRules | None = None,
) -> tuple[Table, Table]:
    """Segments per period and the transition matrix between consecutive periods.

    Parameters
    ----------
    period : {"M", "Q", "Y"}
        Calendar month, quarter or year (UTC).

    Returns
    -------
    per_period : Table
        ``customer``, ``period`` (e.g. ``"2024-Q2"``), ``segment`` for every customer active
        in a period.
    transitions : Table
        ``from_segment``, ``to_segment``, ``customers`` and ``share`` (of the from-segment)
        over every pair of consecutive periods in which the customer was active in both.
    """
    rules = AppetenceRules() if rules is None else rules
    if period not in ("M", "Q", "Y"):
        msg = f"period must be 'M', 'Q' or 'Y', got {period!r}"
        raise ConfigError(msg)
    tp, conv_events = _source(data)
    unmatched = _appetence_unmatched(data, tp, rules, conv_events)
    month = tp.raw("time").astype("datetime64[M]").astype(np.int64)
    step = {"M": 1, "Q": 3, "Y": 12}[period]
    pcode = (month + 24_000 * 12) // step  # non-negative before dividing
    uniq_p, p_inv = np.unique(pcode, return_inverse=True)
    n_c = tp.labels("customer").size
    n_p = uniq_p.size
    cust = tp.raw("customer").astype(np.int64)
    # one pseudo-customer per (customer, period)
    key = cust * n_p + p_inv
    m, counted, _ = _group_matrix_keyed(tp, rules, conv_events, key, n_c * n_p)
    label = _label(m, counted, rules)
    active = np.bincount(key, minlength=n_c * n_p) > 0
    idx = np.flatnonzero(active)
    c_of, p_of = idx // n_p, idx % n_p
    names = [_period_name(int(p) * step - 24_000 * 12, period) for p in uniq_p]
    per = Table.from_columns(
        {
            "customer": tp.labels("customer")[c_of],
            "period": np.array(names, dtype=object)[p_of],
            "segment": np.array(APPETENCE_SEGMENTS, dtype=object)[label[idx]],
        },
        kinds={"customer": "category", "period": "category", "segment": "category"},
    )
    nxt = np.flatnonzero((c_of[1:] == c_of[:-1]) & (p_of[1:] == p_of[:-1] + 1))
    a = label[idx[nxt]]
    b = label[idx[nxt + 1]]
    s = len(APPETENCE_SEGMENTS)
    counts = np.bincount(a * s + b, minlength=s * s).reshape(s, s)
    rows_total = counts.sum(axis=1)
    fi, ti = np.nonzero(counts)
    trans = Table.from_columns(
        {
            "from_segment": np.array(APPETENCE_SEGMENTS, dtype=object)[fi],
            "to_segment": np.array(APPETENCE_SEGMENTS, dtype=object)[ti],
            "customers": counts[fi, ti].astype(np.int64),
            "share": counts[fi, ti] / rows_total[fi],
        },
        kinds={"from_segment": "category", "to_segment": "category"},
    )
    return noted(per, unmatched), noted(trans, unmatched)


def _per_key_channel(
    tp: TouchpointTable, key: np.ndarray, n_keys: int, weights: Sequence[np.ndarray | None]
) -> list[np.ndarray]:
    """For each of ``weights``, the (n_keys x n_channels) sums of the rows' weights per key and
    channel (touchpoint counts for ``None``), in one key computation; sums in ascending order
    of the weights, whatever the row order."""
    k = max(tp.labels("channel").size, 1)
    flat = key.astype(np.int64, copy=False) * k
    flat += tp.raw("channel")
    return [
        np.bincount(flat, minlength=n_keys * k).reshape(n_keys, k)
        if w is None
        else group_sums(flat, w, n_keys * k).reshape(n_keys, k)
        for w in weights
    ]


def _group_matrix_keyed(
    tp: TouchpointTable,
    rules: AppetenceRules,
    conv_events: Any,
    key: np.ndarray,
    n_keys: int,
    *,
    per_key_channel: bool = False,
    compact: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group weights and counted touchpoints per key; with ``per_key_channel``, also the
    (n_keys x n_channels) touchpoint counts (else an empty array)."""
    # one pass over the rows counts (key, channel) pairs; the channel groups are then a
    # small matrix product, whatever the number of rows
    group_of_channel = np.array(
        [
            _GROUPS.index(_KIND_GROUP[c.kind])
            if c.kind in rules.kinds and c.kind in _KIND_GROUP
            else -1
            for c in tp.channel_catalog
        ],
        dtype=np.int64,
    )
    k = max(group_of_channel.size, 1)
    if not compact and n_keys * k > 2 * len(tp) + 4096:
        # sparse keys (customer x period): count over the keys present
        present, dense = np.unique(key, return_inverse=True)
        m_c, counted_c, per_c = _group_matrix_keyed(
            tp,
            rules,
            conv_events,
            dense,
            present.size,
            per_key_channel=per_key_channel,
            compact=True,
        )
        m = np.zeros((n_keys, 3))
        m[present] = m_c
        counted = np.zeros(n_keys, dtype=np.int64)
        counted[present] = counted_c
        per_channel = np.zeros((n_keys if per_key_channel else 0, k), dtype=per_c.dtype)
        if per_key_channel:
            per_channel[present] = per_c
        return m, counted, per_channel
    if rules.weight == "touchpoints":
        (per_channel,) = _per_key_channel(tp, key, n_keys, [None])
        weighted = per_channel.astype(np.float64)
    else:
        w = _weights(tp, rules.weight, conv_events, np.arange(len(tp)))
        per_channel, weighted = _per_key_channel(tp, key, n_keys, [None, w])
    onehot = np.zeros((k, 3))
    counts_in = group_of_channel >= 0
    onehot[np.flatnonzero(counts_in), group_of_channel[counts_in]] = 1.0
    m = weighted @ onehot
    counted = per_channel[:, counts_in].sum(axis=1) if counts_in.any() else np.zeros(n_keys, int)
    if not per_key_channel:
        per_channel = per_channel[:0]
    return m, counted.astype(np.int64), per_channel


def _period_name(month_index: int, period: str) -> str:
    year, month = divmod(month_index, 12)
    year += 1970
    if period == "Y":
        return f"{year}"
    if period == "Q":
        return f"{year}-Q{month // 3 + 1}"
    return f"{year}-{month + 1:02d}"

"""Expected follow-ups: a welcome after a sign-up, an answer to a complaint, a call-back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_choice, check_text, names, number, validator
from omnijourney.errors import ConfigError
from omnijourney.journeys._breaks import BreakRules
from omnijourney.journeys._sorted import Sorted
from omnijourney.journeys._table import JourneyTable
from omnijourney.journeys._unmatched import (
    UnmatchedRule,
    check_labels,
    noted,
    warn,
)
from omnijourney.model import Direction
from omnijourney.tables import Table
from omnijourney.time import TIME_DTYPE, to_timedelta64

__all__ = ["FollowUpRule", "check_followups"]

_STATUS = ("late", "missing", "on_time", "pending")


def _trigger_events(value: Any) -> frozenset[str]:
    return names(value, "trigger_events", allow_none=False)


def _response_events(value: Any) -> frozenset[str]:
    return names(value, "response_events", allow_none=False)


def _trigger_channels(value: Any) -> frozenset[str] | None:
    return None if value is None else names(value, "trigger_channels")


def _response_channels(value: Any) -> frozenset[str] | None:
    return None if value is None else names(value, "response_channels")


def _within(value: Any) -> np.timedelta64:
    return to_timedelta64(value, name="within")


def _direction(value: Any) -> Direction | None:
    if value is None:
        return None
    check_choice(value, "response_direction", (*Direction, *(d.value for d in Direction)))
    return Direction(value)


def _min_value(value: Any) -> float | None:
    return number(value, "min_value", optional=True)


@attrs.frozen(kw_only=True)
class FollowUpRule:
    """A follow-up the customer should get after a trigger, and how soon.

    Parameters
    ----------
    name : str
        Name reported in the results (``"welcome_after_signup"``).
    trigger_events, response_events : collection of str
        Events that call for a follow-up, and events that are one.
    within : duration
        Deadline after the trigger (inclusive).
    trigger_channels, response_channels : collection of str, optional
        Restrict triggers and responses to these channels.
    response_direction : {"inbound", "outbound"}, optional
        Required direction of the response (e.g. outbound for a call-back).
    link : str, optional
        A reference column (``"cart_id"``, ``"order_id"``) the response must share with the
        trigger.
    min_value : float, optional
        Only triggers whose ``value`` is at least this much (high-value carts).

    Notes
    -----
    A trigger's response is the customer's first response after it and before their next
    trigger of the same rule (with the same link id when ``link`` is set): a response can
    answer only one trigger. Status: ``on_time`` (within the deadline), ``late``,
    ``missing`` (no response, and the deadline has passed at ``as_of``) or ``pending`` (no
    response yet, deadline not reached).

    Examples
    --------
    >>> FollowUpRule(name="welcome_after_signup", trigger_events=["signup"],
    ...              response_events=["welcome"], within="2D").within
    np.timedelta64(172800000000,'us')
    """

    name: str = attrs.field(validator=validator(check_text))
    trigger_events: frozenset[str] = attrs.field(converter=_trigger_events)
    response_events: frozenset[str] = attrs.field(converter=_response_events)
    within: np.timedelta64 = attrs.field(converter=_within)
    trigger_channels: frozenset[str] | None = attrs.field(default=None, converter=_trigger_channels)
    response_channels: frozenset[str] | None = attrs.field(
        default=None, converter=_response_channels
    )
    response_direction: Direction | None = attrs.field(default=None, converter=_direction)
    link: str | None = attrs.field(default=None, validator=validator(check_text, optional=True))
    min_value: float | None = attrs.field(default=None, converter=_min_value)


def _mask(labels: np.ndarray, names: frozenset[str] | None, codes: np.ndarray) -> np.ndarray:
    if names is None:
        return np.ones(codes.size, dtype=bool)
    lookup = np.array([str(x) in names for x in labels.tolist()], dtype=bool)
    return lookup[codes] if codes.size else np.zeros(0, dtype=bool)


def _next_in_group(key_trig: np.ndarray, key_resp: np.ndarray) -> np.ndarray:
    """For each trigger key, index of the first response key after it (or -1)."""
    if key_resp.size == 0:  # no response at all: every trigger is unanswered
        return np.full(key_trig.size, -1, dtype=np.int64)
    order = np.argsort(key_resp, kind="stable")
    sorted_resp = key_resp[order]
    k = np.searchsorted(sorted_resp, key_trig, side="right")
    return np.where(k < sorted_resp.size, order[np.minimum(k, max(sorted_resp.size - 1, 0))], -1)


def _rule_rows(jt: JourneyTable, s: Sorted, rule: FollowUpRule, as_of_us: int) -> dict[str, Any]:
    tp = jt.touchpoints
    ev_labels, ch_labels = tp.labels("event"), tp.labels("channel")
    trig = _mask(ev_labels, rule.trigger_events, s.ev) & _mask(
        ch_labels, rule.trigger_channels, s.ch
    )
    if rule.min_value is not None:
        value = tp.raw("value")[s.order] if "value" in tp.columns else np.full(s.n, np.nan)
        trig &= value >= rule.min_value
    resp = _mask(ev_labels, rule.response_events, s.ev) & _mask(
        ch_labels, rule.response_channels, s.ch
    )
    if rule.response_direction is not None:
        if "direction" not in tp.columns:
            msg = f"rule {rule.name!r} needs a direction column in the touchpoints"
            raise ConfigError(msg)
        want = list(Direction).index(rule.response_direction)
        resp &= tp.raw("direction")[s.order] == want
    if rule.link is not None:
        tp.require_columns(rule.link)
        group = tp.raw(rule.link)[s.order].astype(np.int64)
        trig &= group >= 0
        resp &= group >= 0
    else:
        group = s.c
    t_rows = np.flatnonzero(trig)
    r_rows = np.flatnonzero(resp)
    # rows are in (customer, time) order; group by customer or link id, then by position
    n = max(s.n, 1)
    key_t = group[t_rows] * n + t_rows
    key_r = group[r_rows] * n + r_rows
    nxt = _next_in_group(key_t, key_r)
    cand = np.append(r_rows, -1)[nxt]  # -1 (no response) picks the appended -1
    valid = (cand >= 0) & (group[np.maximum(cand, 0)] == group[t_rows])
    if rule.link is not None:
        valid &= s.c[np.maximum(cand, 0)] == s.c[t_rows]
    # the response must come before the next trigger of the same group
    t_order = np.argsort(key_t, kind="stable")
    next_trig = np.full(t_rows.size, np.iinfo(np.int64).max)
    same = group[t_rows[t_order][1:]] == group[t_rows[t_order][:-1]]
    next_trig[t_order[:-1][same]] = t_rows[t_order][1:][same]
    valid &= cand < next_trig
    response = np.where(valid, cand, -1)
    delay = np.where(valid, (s.t[np.maximum(response, 0)] - s.t[t_rows]), -1)
    limit = int(rule.within.astype(np.int64))
    status = np.where(
        valid,
        np.where(delay <= limit, _STATUS.index("on_time"), _STATUS.index("late")),
        np.where(
            as_of_us - s.t[t_rows] > limit, _STATUS.index("missing"), _STATUS.index("pending")
        ),
    )
    return {
        "trigger": t_rows,
        "response": response,
        "delay": np.where(valid, delay / 1e6, np.nan),
        "status": status,
    }


def check_followups(
    journeys: JourneyTable, rules: Sequence[FollowUpRule], *, as_of: Any = None
) -> Table:
    """Check that each trigger got its follow-up in time.

    Parameters
    ----------
    journeys : JourneyTable
    rules : sequence of FollowUpRule
    as_of : time, optional
        When the check is made (default: the latest touchpoint); triggers whose deadline is
        after it and that have no response yet are ``pending``.

    Returns
    -------
    Table
        One row per trigger: ``rule``, ``customer``, ``trigger_row``, ``response_row`` (-1 if
        none), ``trigger_time``, ``deadline``, ``delay`` (seconds, NaN if none), ``status``
        (``on_time``, ``late``, ``missing``, ``pending``) and the trigger's ``journey_id``.
        Its ``notes`` list the rules that matched nothing.

    Warns
    -----
    OmnijourneyWarning
        For each rule whose trigger or response events, channels or direction occur nowhere
        in the data. Without any response event in the data, every trigger of the rule is
        ``missing`` (or ``pending``), which is what the check is for; the warning says that
        the rule's responses were not found at all, in case they are named otherwise.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b", "b"],
    ...     "time": ["2024-05-01T10:00", "2024-05-01T18:00", "2024-05-01T10:00",
    ...              "2024-05-01T10:30"],
    ...     "channel": ["web", "email", "web", "web"],
    ...     "event": ["signup", "welcome", "signup", "purchase"]})
    >>> rule = oj.journeys.FollowUpRule(name="welcome", trigger_events=["signup"],
    ...                                 response_events=["welcome"], within="2D")
    >>> res = oj.journeys.check_followups(oj.sessionize(tp), [rule], as_of="2024-05-10")
    >>> res["status"].tolist()
    ['on_time', 'missing']
    """
    if isinstance(rules, FollowUpRule):
        rules = [rules]
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        msg = f"follow-up rule names must be distinct, got {names}"
        raise ConfigError(msg)
    tp = journeys.touchpoints
    unmatched = warn(u for rule in rules for u in _unmatched(tp, rule))
    s = Sorted.of(journeys, BreakRules())
    as_of_us = s.now(as_of)
    parts = [_rule_rows(journeys, s, rule, as_of_us) for rule in rules]
    rule_idx = (
        np.concatenate([np.full(p["trigger"].size, i) for i, p in enumerate(parts)])
        if parts
        else np.zeros(0, np.int64)
    )
    trig = np.concatenate([p["trigger"] for p in parts]) if parts else np.zeros(0, np.int64)
    resp = np.concatenate([p["response"] for p in parts]) if parts else np.zeros(0, np.int64)
    delay = np.concatenate([p["delay"] for p in parts]) if parts else np.zeros(0)
    status = np.concatenate([p["status"] for p in parts]) if parts else np.zeros(0, np.int64)
    within = np.array([int(r.within.astype(np.int64)) for r in rules], dtype=np.int64)
    sorted_rules = np.array(sorted(names), dtype=object)
    rule_code = np.searchsorted(sorted_rules, np.array(names, dtype=object))
    data = {
        "rule": rule_code[rule_idx].astype(np.int16) if trig.size else np.zeros(0, np.int16),
        "customer": tp.raw("customer")[s.order[trig]],
        "trigger_row": s.order[trig],
        "response_row": np.where(resp >= 0, s.order[np.maximum(resp, 0)], -1),
        "trigger_time": s.t[trig].view(TIME_DTYPE),
        "deadline": (s.t[trig] + within[rule_idx]).view(TIME_DTYPE),
        "delay": delay,
        "status": status.astype(np.int8),
        "journey_id": journeys.sorted_journey[trig],
    }
    table = Table.from_arrays(
        data,
        {
            "rule": sorted_rules,
            "customer": tp.labels("customer"),
            "status": np.array(_STATUS, dtype=object),
        },
    )
    return noted(table, unmatched)


def _unmatched(tp: Any, rule: FollowUpRule) -> list[UnmatchedRule | None]:
    """The parts of a follow-up rule that no touchpoint matches."""
    name = f"FollowUpRule({rule.name!r})"
    none = "The rule finds no trigger: it has no row in the result"
    missed = "Every trigger of the rule is missing (or pending): no response can be found"
    direction = None if rule.response_direction is None else [rule.response_direction.value]
    return [
        check_labels(tp, "event", f"{name}.trigger_events", rule.trigger_events, none),
        check_labels(tp, "event", f"{name}.response_events", rule.response_events, missed),
        check_labels(tp, "channel", f"{name}.trigger_channels", rule.trigger_channels, none),
        check_labels(tp, "channel", f"{name}.response_channels", rule.response_channels, missed),
        check_labels(tp, "direction", f"{name}.response_direction", direction, missed),
    ]

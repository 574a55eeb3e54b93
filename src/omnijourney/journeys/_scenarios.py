"""Inactivity scenarios: the dated steps a brand takes with customers who stop buying.

A status (:func:`~omnijourney.journeys.lifecycle_status`) says where a customer stands; a
scenario says what happens next and when: a reminder six months after the last purchase, a
second one three months later, the archive of the file after two years without contact, its
deletion after three (the French data-protection authority's guidance for prospecting data:
three years after the last contact from the customer). Each step is dated from the
customer's last purchase or last contact, so the table is the brand's calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_choice, duration
from omnijourney.errors import ConfigError
from omnijourney.journeys._lifecycle import InactivityRules, lifecycle_status, rfm
from omnijourney.journeys._table import JourneyTable
from omnijourney.tables import Table, TouchpointTable
from omnijourney.time import TIME_DTYPE

__all__ = ["InactivityScenario", "ScenarioStep", "inactivity_scenarios"]

_SINCE = ("last_purchase", "last_contact")
_NAT = np.iinfo(np.int64).min


def _since(instance: Any, attribute: Any, value: Any) -> None:
    check_choice(value, "since", _SINCE)


def _after(value: Any) -> np.timedelta64:
    out = duration(value, "after")
    assert out is not None
    return out


def _name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.isidentifier():
        msg = f"The 'name' parameter must be a name usable as a column (letters, digits, _). Got {value!r} instead."
        raise ConfigError(msg)


@attrs.frozen(kw_only=True)
class ScenarioStep:
    """One step of an inactivity scenario.

    Parameters
    ----------
    name : str
        The step (``"reminder"``), also the stem of its date column (``reminder_on``).
    after : duration
        How long after ``since`` it happens.
    since : {"last_purchase", "last_contact"}
        What starts the clock: the customer's last purchase (customers who never bought have
        no date for the step), or their last touchpoint of any kind.

    Examples
    --------
    >>> ScenarioStep(name="reminder", after="180D").after
    np.timedelta64(15552000000000,'us')
    """

    name: str = attrs.field(validator=_name)
    after: np.timedelta64 = attrs.field(converter=_after)
    since: str = attrs.field(default="last_purchase", validator=_since)


def _steps(value: Iterable[Any]) -> tuple[ScenarioStep, ...]:
    try:
        out = () if isinstance(value, (str, bytes)) else tuple(value)
    except TypeError:
        out = ()
    if not out or not all(isinstance(s, ScenarioStep) for s in out):
        msg = f"The 'steps' parameter must be a non-empty sequence of ScenarioStep. Got {value!r}."
        raise ConfigError(msg)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        msg = f"The 'steps' parameter must name each step once. Got {names}."
        raise ConfigError(msg)
    return out


def _rules(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, InactivityRules):
        msg = f"The 'rules' parameter must be an InactivityRules. Got {value!r} instead."
        raise ConfigError(msg)


#: The default scenario: two reminders after the last purchase, archive and deletion after the
#: last contact (see :class:`InactivityScenario`).
DEFAULT_STEPS = (
    ScenarioStep(name="reminder", after="180D", since="last_purchase"),
    ScenarioStep(name="second_reminder", after="270D", since="last_purchase"),
    ScenarioStep(name="archive", after="730D", since="last_contact"),
    ScenarioStep(name="deletion", after="1095D", since="last_contact"),
)


@attrs.frozen(kw_only=True)
class InactivityScenario:
    """The dated steps for customers who stop buying.

    Parameters
    ----------
    steps : sequence of ScenarioStep
        Default: a ``reminder`` 180 days after the last purchase (when
        :class:`InactivityRules` calls a buyer inactive), a ``second_reminder`` 90 days
        later, the ``archive`` of the file 730 days after the last contact (its
        ``archive_after``) and its ``deletion`` after 1,095 days (three years without
        contact, the retention limit the French data-protection authority sets for
        prospecting data).
    rules : InactivityRules
        The statuses reported beside the dates.

    Examples
    --------
    >>> [s.name for s in InactivityScenario().steps]
    ['reminder', 'second_reminder', 'archive', 'deletion']
    """

    steps: tuple[ScenarioStep, ...] = attrs.field(default=DEFAULT_STEPS, converter=_steps)
    rules: InactivityRules = attrs.field(factory=InactivityRules, validator=_rules)


def inactivity_scenarios(
    data: TouchpointTable | JourneyTable,
    scenario: InactivityScenario | None = None,
    *,
    as_of: Any = None,
    conversion_events: Iterable[str] | str | None = None,
) -> Table:
    """Each customer's inactivity scenario: the date of every step, the last reached, the next.

    Parameters
    ----------
    data : TouchpointTable or JourneyTable
    scenario : InactivityScenario, optional
        The steps (default :class:`InactivityScenario`).
    as_of : time, optional
        Today (default: the latest touchpoint); later touchpoints are ignored.
    conversion_events : collection of str, optional
        Events that are purchases (as in :func:`rfm`).

    Returns
    -------
    Table
        One row per customer: ``customer``, ``status`` (:func:`lifecycle_status` under the
        scenario's rules), ``last_purchase``, ``last_contact``, ``<step>_on`` for each step
        (NaT for a step after a purchase, for customers who never bought), ``reached`` (the
        latest step whose date has come, None if none), ``next_step`` and ``next_on`` (the
        earliest step still to come, None and NaT when every step has passed) and
        ``days_to_next``. The ``notes`` of the RFM summary carry over.

    Notes
    -----
    Dates follow the data up to ``as_of``: a purchase or a contact after it moves every
    later date, so the table is recomputed on each run rather than kept. A step whose date is
    exactly ``as_of`` has been reached.

    Examples
    --------
    >>> tp = TouchpointTable.from_columns({
    ...     "customer": ["a", "a", "b"],
    ...     "time": ["2024-01-10", "2024-06-01", "2023-01-01"],
    ...     "channel": ["store", "email", "store"],
    ...     "event": ["purchase", "email_open", "purchase"]})
    >>> s = inactivity_scenarios(tp, as_of="2024-09-01")
    >>> s["customer"].tolist(), s["reached"].tolist(), s["next_step"].tolist()
    (['a', 'b'], ['reminder', 'second_reminder'], ['second_reminder', 'archive'])
    >>> [str(d)[:10] for d in s["next_on"]], s["status"].tolist()
    (['2024-10-06', '2024-12-31'], ['inactive', 'lapsed'])
    """
    scenario = InactivityScenario() if scenario is None else scenario
    if not isinstance(scenario, InactivityScenario):
        msg = f"The 'scenario' parameter must be an InactivityScenario. Got {type(scenario).__name__}."
        raise ConfigError(msg)
    summary = rfm(data, as_of=as_of, conversion_events=conversion_events)
    now = int(np.datetime64(summary.meta["as_of"], "us").view(np.int64))
    status = lifecycle_status(summary, scenario.rules, as_of=summary.meta["as_of"])
    clocks = {
        "last_purchase": summary.raw("last_purchase").view(np.int64),
        "last_contact": summary.raw("last_touch").view(np.int64),
    }
    n = len(summary)
    names = [st.name for st in scenario.steps]
    dates = np.empty((len(names), n), dtype=np.int64)
    for i, st in enumerate(scenario.steps):
        start = clocks[st.since]
        dates[i] = np.where(start == _NAT, _NAT, start + int(st.after.astype(np.int64)))
    valid = dates != _NAT
    passed = valid & (dates <= now)
    coming = valid & (dates > now)
    big = np.iinfo(np.int64).max
    last_passed = np.where(passed, dates, _NAT).max(axis=0, initial=_NAT)
    next_date = np.where(coming, dates, big).min(axis=0, initial=big)
    # ties between steps: the one listed last is the latest reached, the first the next
    reached_i = np.where(last_passed != _NAT, _last_index(passed & (dates == last_passed)), -1)
    next_i = np.where(next_date != big, _first_index(coming & (dates == next_date)), -1)
    step_labels = np.array(sorted(names), dtype=object)
    code = np.append(np.searchsorted(step_labels, np.array(names, dtype=object)), -1)
    out: dict[str, np.ndarray] = {
        "customer": summary.raw("customer"),
        "status": status.raw("status"),
        "last_purchase": summary.raw("last_purchase"),
        "last_contact": summary.raw("last_touch"),
    }
    for i, name in enumerate(names):
        out[f"{name}_on"] = dates[i].view(TIME_DTYPE)
    out["reached"] = code[reached_i].astype(np.int8)
    out["next_step"] = code[next_i].astype(np.int8)
    out["next_on"] = np.where(next_i >= 0, next_date, _NAT).view(TIME_DTYPE)
    out["days_to_next"] = np.where(next_i >= 0, (next_date - now) / 86_400e6, np.nan)
    labels = {
        "customer": summary.labels("customer"),
        "status": status.labels("status"),
        "reached": step_labels,
        "next_step": step_labels,
    }
    meta: dict[str, Any] = {"as_of": summary.meta["as_of"]}
    if summary.notes:
        meta["notes"] = summary.notes
    return Table.from_arrays(out, labels, meta=meta)


def _first_index(mask: np.ndarray) -> np.ndarray:
    return np.argmax(mask, axis=0)


def _last_index(mask: np.ndarray) -> np.ndarray:
    return mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0)

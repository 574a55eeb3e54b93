"""Households over time: each person's household membership with dates.

A resolution keeps ``memberships``: one row per (person, household) period, ``since`` and
``until`` (NaT while it lasts). A resolution from scratch opens one period per person, since
its earliest record (``created``, else ``updated``). Each later resolution made from it
(:meth:`Resolution.update`, :meth:`Resolution.with_overrides`, an erasure) closes the periods
whose person left the household (a move, a child leaving, a couple separating, as the records
or a reviewer's decision say) and opens the new ones, at the date of the change (the batch's
latest record time, or the date given). :func:`households_as_of` reads the household of each
person at a date: journeys and segments at the household level as of a date map persons
through it (:func:`~omnijourney.identity.link_touchpoints` with ``as_of``), and a person's
former households stay listed.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = [
    "change_time",
    "households_as_of",
    "memberships",
    "memberships_after",
    "memberships_from_scratch",
]

_NAT = np.datetime64("NaT", "us")


def _table(
    person: np.ndarray, household: np.ndarray, since: np.ndarray, until: np.ndarray
) -> Table:
    order = np.lexsort((since, person))
    return Table.from_columns(
        {
            "person_id": person[order].astype(np.int64),
            "household_id": household[order].astype(np.int64),
            "since": since[order].astype("datetime64[us]"),
            "until": until[order].astype("datetime64[us]"),
        },
        kinds={"since": "time", "until": "time"},
    )


def _pairs(res: Resolution) -> tuple[np.ndarray, np.ndarray]:
    """Each person id (increasing) and its household."""
    person = np.asarray(res.person_id, dtype=np.int64)
    household = np.asarray(res.household_id, dtype=np.int64)
    if person.size and person.min() >= 0:
        # a person is inside one household: read it by id, in one pass (no sort)
        home = np.zeros(int(person.max()) + 1, dtype=np.int64)
        home[person] = household
        if np.array_equal(home[person], household):
            seen = np.zeros(home.size, dtype=bool)
            seen[person] = True
            ids = np.flatnonzero(seen)
            return ids, home[ids]
    key = np.unique(np.stack([person, household], axis=1), axis=0)
    return key[:, 0], key[:, 1]


def _first_time(res: Resolution, person: np.ndarray) -> np.ndarray:
    """Earliest record time of each person (``created``, else ``updated``)."""
    t = np.full(res.n_records, _NAT)
    for col in ("updated", "created"):
        if col in res.records.columns:
            x = res.records.raw(col).astype("datetime64[us]")
            t = np.where(np.isnat(x), t, x)
    out = np.full(person.size, _NAT)
    ok = ~np.isnat(t)
    if ok.any():
        ids = res.person_id[ok]
        order = np.lexsort((t[ok], ids))
        first = np.ones(order.size, dtype=bool)
        first[1:] = ids[order][1:] != ids[order][:-1]
        at = np.searchsorted(person, ids[order][first])
        out[at] = t[ok][order][first]
    return out


def memberships(res: Resolution) -> Table:
    """The memberships of a resolution (from scratch when it has none: read from JSON of an
    earlier version)."""
    return res.memberships if res.memberships is not None else memberships_from_scratch(res)


def memberships_from_scratch(res: Resolution) -> Table:
    """One open period per person, since its earliest record."""
    person, household = _pairs(res)
    return _table(person, household, _first_time(res, person), np.full(person.size, _NAT))


def change_time(at: Any, records: Any = None) -> np.datetime64:
    """The date of a change: ``at`` when given, else the latest time of ``records``, else
    now (UTC)."""
    if at is not None:
        try:
            return np.datetime64(at, "us")
        except (ValueError, TypeError) as exc:
            msg = f"The 'at' parameter must be a date or time. Got {at!r} instead."
            raise ConfigError(msg) from exc
    if records is not None:
        latest = _NAT
        for col in ("updated", "created"):
            if col in records.columns:
                x = records.raw(col).astype("datetime64[us]")
                x = x[~np.isnat(x)]
                if x.size and (np.isnat(latest) or x.max() > latest):
                    latest = x.max()
        if not np.isnat(latest):
            return latest
    return np.datetime64(_dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None), "us")


def memberships_after(previous: Table, res: Resolution, at: np.datetime64) -> Table:
    """``previous`` periods with those that ended at ``at`` closed and the new ones opened."""
    person, household = _pairs(res)
    p0 = np.asarray(previous["person_id"], dtype=np.int64)
    h0 = np.asarray(previous["household_id"], dtype=np.int64)
    since = previous.raw("since").astype("datetime64[us]")
    until = previous.raw("until").astype("datetime64[us]").copy()
    open_ = np.isnat(until)
    width = int(max(h0.max(initial=0), household.max(initial=0))) + 1
    now_key = person * width + household
    old_key = p0 * width + h0
    ended = open_ & ~np.isin(old_key, now_key)
    until[ended] = at
    started = ~np.isin(now_key, old_key[open_])
    return _table(
        np.concatenate([p0, person[started]]),
        np.concatenate([h0, household[started]]),
        np.concatenate([since, np.full(int(started.sum()), at)]),
        np.concatenate([until, np.full(int(started.sum()), _NAT)]),
    )


def households_as_of(resolution: Resolution, at: Any) -> Table:
    """The household of each person at a date: ``person_id``, ``household_id`` (persons
    without a period covering the date are left out).

    Examples
    --------
    A couple separates: a reviewer says they are no household from June 2024 on.

    >>> from omnijourney.identity import CustomerRecordTable, Overrides, resolve
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop", "web", "shop"], "record_id": ["W1", "S1", "W2", "S2"],
    ...     "first_name": ["Zoe", "Zoe", "Paul", "Paul"], "last_name": ["Roy"] * 4,
    ...     "email": ["zoe@mail.fr", "zoe@mail.fr", "paul@mail.fr", "paul@mail.fr"],
    ...     "address": ["3 rue Vauban"] * 4, "postcode": ["21000"] * 4,
    ...     "date_of_birth": ["1980-02-03", "1980-02-03", "1979-05-06", "1979-05-06"],
    ...     "created": ["2020-01-01"] * 4})
    >>> res = resolve(recs)
    >>> apart = res.with_overrides(Overrides(never_merge=[(("web", "W1"), ("web", "W2"))]),
    ...                            at="2024-06-01")
    >>> households_as_of(apart, "2023-01-01")["household_id"].tolist()
    [1, 1]
    >>> households_as_of(apart, "2024-07-01")["household_id"].tolist()
    [1, 2]
    """
    t = change_time(at)
    m = memberships(resolution)
    since = m.raw("since").astype("datetime64[us]")
    until = m.raw("until").astype("datetime64[us]")
    covers = (np.isnat(since) | (since <= t)) & (np.isnat(until) | (t < until))
    person = np.asarray(m["person_id"], dtype=np.int64)[covers]
    household = np.asarray(m["household_id"], dtype=np.int64)[covers]
    # a person has one household at a time; a period opened at the date wins
    order = np.lexsort((-since[covers].astype(np.int64), person))
    first = np.ones(order.size, dtype=bool)
    first[1:] = person[order][1:] != person[order][:-1]
    keep = order[first]
    return Table.from_columns(
        {"person_id": person[keep], "household_id": household[keep]},
    )

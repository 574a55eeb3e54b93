"""Consent and erasure through merges.

**Consent.** Each record may carry decisions per channel (``email``, ``sms``, ``phone``,
``post``, ``profiling``): its own ``consent_email`` / ``consent_sms`` columns (dated by the
record's ``updated``, else ``created`` time) and any dated decisions given in a table. A
person's consent on a channel is the *latest* decision among all its records; at equal dates
a refusal wins over a grant; a person without any decision on a channel has not consented.
The decision kept names its source, record and date. This follows GDPR art. 7: consent must
be demonstrable (hence the source and date kept, and no consent without a decision) and as
easy to withdraw as to give (a withdrawal in any system overrides an earlier grant in
another); and ePrivacy art. 13: email and SMS marketing need prior consent.

**Erasure.** :func:`erase` removes the records of persons (or single records): the
resolution of the remaining records is computed with the same models (ids kept), so no pair,
normalized value, dictionary entry or golden value of an erased record remains in it, in its
JSON or in its saved file. A *tombstone* is kept: a keyed hash (HMAC-SHA256) of each erased
identifier (email, phone, account, loyalty and card ids), not the identifier; a later batch
holding one of them is refused until the caller decides (GDPR art. 17: the identifiers of an
erased person do not silently rebuild a profile). The report says what was removed, for the
caller to erase downstream (touchpoints and features keyed by the person ids).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney.errors import ConfigError
from omnijourney.identity._records import CustomerRecordTable, normalize_records
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = [
    "CONSENT_CHANNELS",
    "ErasureReport",
    "Tombstones",
    "consent",
    "erase",
]

#: Channels a consent decision is about.
CONSENT_CHANNELS = ("email", "sms", "phone", "post", "profiling")

#: Normalized identifier fields whose values an erasure keeps as keyed hashes.
TOMBSTONE_FIELDS = ("email", "phone", "account_id", "loyalty_id", "card_id")

_CHECK = b"omnijourney identity tombstones"


def _digest(key: bytes, field: str, value: str) -> str:
    return hmac.new(key, f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _key(key: Any) -> bytes:
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or len(key) < 16:
        msg = (
            "The 'key' parameter must be a secret of 16 bytes or more (bytes or str), kept "
            f"by the caller. Got {type(key).__name__} instead."
            if not isinstance(key, bytes)
            else "The 'key' parameter must be a secret of 16 bytes or more."
        )
        raise ConfigError(msg)
    return key


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values}))


@attrs.frozen(kw_only=True)
class Tombstones:
    """Keyed hashes (HMAC-SHA256, hex) of the identifiers of erased records.

    Attributes
    ----------
    digests : tuple of str
        One per erased identifier value (field and normalized value).
    check : str
        The hash of a fixed text under the key: tells whether a key given later is the one
        the tombstones were made with (empty while there is none).
    """

    digests: tuple[str, ...] = attrs.field(default=(), converter=_distinct)
    check: str = ""

    def __len__(self) -> int:
        return len(self.digests)

    def matches(self, records: CustomerRecordTable, key: Any, rules: Any) -> np.ndarray:
        """Rows of ``records`` holding an identifier of an erased record."""
        out = np.zeros(len(records), dtype=bool)
        if not self.digests:
            return out
        key = self.verified(key)
        norm = normalize_records(records, rules, infer_country=False)
        wanted = set(self.digests)
        for field in TOMBSTONE_FIELDS:
            if field not in norm:
                continue
            f = norm[field]
            hit = np.array([_digest(key, field, str(v)) in wanted for v in f.labels.tolist()])
            if hit.size:
                out |= (f.codes >= 0) & np.append(hit, False)[f.codes.astype(np.int64)]
        return out

    def verified(self, key: Any) -> bytes:
        """``key`` as bytes, checked against the key of the tombstones."""
        if key is None:
            msg = (
                f"this resolution holds {len(self.digests):,} tombstones of erased records: "
                "pass the key they were made with (key=...) so that a batch holding an "
                "erased identifier is found"
            )
            raise ConfigError(msg)
        key = _key(key)
        if self.check and not hmac.compare_digest(self.check, _digest(key, "", "check")):
            msg = "the key given is not the one the tombstones of this resolution were made with"
            raise ConfigError(msg)
        return key

    def added(self, key: bytes, values: Iterable[tuple[str, str]]) -> Tombstones:
        digests = [_digest(key, f, v) for f, v in values]
        return Tombstones(digests=[*self.digests, *digests], check=_digest(key, "", "check"))


@attrs.frozen(kw_only=True, eq=False)
class ErasureReport:
    """What an erasure removed.

    Attributes
    ----------
    records : Table
        The erased records: ``source`` and ``record_id`` (for the caller to erase them in
        the systems of record; this table is not kept by the resolution).
    persons, households : tuple of int
        Ids of the persons erased, and of the households that lost members (their golden
        records and features are to be recomputed or dropped downstream).
    pairs : int
        Candidate pairs removed.
    values : dict of str to int
        Distinct normalized values removed per field (no remaining record held them).
    overrides : int
        Must-link and cannot-link decisions dropped (they named an erased record).
    tombstones : int
        Keyed hashes of identifiers added.
    """

    records: Table
    persons: tuple[int, ...]
    households: tuple[int, ...]
    pairs: int
    values: dict[str, int]
    overrides: int
    tombstones: int

    def summary(self) -> str:
        """One line of counts."""
        removed = sum(self.values.values())
        return (
            f"Erased {len(self.records):,} records of {len(self.persons):,} persons: "
            f"{self.pairs:,} pairs, {removed:,} normalized values, {self.overrides:,} "
            f"overrides removed; {self.tombstones:,} tombstones kept; households touched: "
            f"{len(self.households):,}"
        )

    def to_pandas(self) -> Any:
        """The erased records as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.records.to_pandas()


def erase(
    resolution: Resolution,
    *,
    persons: Iterable[int] = (),
    records: Iterable[tuple[str, str]] = (),
    key: Any,
    at: Any = None,
) -> tuple[Resolution, ErasureReport]:
    """Erase persons (every record of each) or single records from a resolution.

    Parameters
    ----------
    resolution : Resolution
    persons : iterable of int
        Person ids.
    records : iterable of (source, record_id)
        Single records.
    key : bytes or str
        The secret (16 bytes or more) the tombstones are made with; kept by the caller, never
        stored.
    at : date or time, optional
        When, for the household memberships (default: now).

    Returns
    -------
    (Resolution, ErasureReport)
        The resolution of the remaining records (same models, ids kept) and what was removed.

    Raises
    ------
    ConfigError
        An unknown person id or record, or a key other than the tombstones'. The resolution
        is unchanged.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop", "web"],
    ...     "record_id": ["W1", "S1", "W2"],
    ...     "email": ["zoe@mail.fr", "Zoe@Mail.fr", "paul@mail.fr"]})
    >>> res = resolve(recs)
    >>> kept, report = erase(res, persons=[1], key=b"a secret of 16 bytes")
    >>> kept.records["record_id"].tolist(), report.records["record_id"].tolist()
    (['W2'], ['S1', 'W1'])
    >>> "zoe@mail.fr" in kept.normalized()["email"].labels.tolist(), len(kept.tombstones)
    (False, 1)
    """
    from omnijourney.identity._resolve import override_rows, resolve

    key = resolution.tombstones.verified(key) if len(resolution.tombstones) else _key(key)
    persons = [int(p) for p in persons]
    known = set(np.unique(resolution.person_id).tolist())
    unknown = [p for p in persons if p not in known]
    if unknown:
        msg = f"erase: no person {unknown[0]} in this resolution ({len(unknown)} unknown ids)"
        raise ConfigError(msg)
    recs = resolution.records
    gone = np.isin(resolution.person_id, persons)
    pairs = tuple((tuple(map(str, r)), tuple(map(str, r))) for r in records)
    if pairs:
        gone[override_rows(recs, pairs, "erase")[0]] = True  # type: ignore[arg-type]
    if not gone.any():
        msg = "erase: name at least one person or record"
        raise ConfigError(msg)
    norm = resolution.normalized()
    values = [
        (f, str(norm[f].labels[c]))
        for f in TOMBSTONE_FIELDS
        if f in norm
        for c in np.unique(norm[f].codes[gone][norm[f].codes[gone] >= 0]).tolist()
    ]
    remaining = recs.filter(~gone).compact()
    assert isinstance(remaining, CustomerRecordTable)
    erased_keys = {resolution.record_key(int(r)) for r in np.flatnonzero(gone)}
    overrides = resolution.overrides
    kept_must = tuple(p for p in overrides.must_link if not (set(p) & erased_keys))
    kept_cannot = tuple(p for p in overrides.cannot_link if not (set(p) & erased_keys))
    kept_never = tuple(p for p in overrides.never_merge if not (set(p) & erased_keys))
    new_overrides = attrs.evolve(
        overrides, must_link=kept_must, cannot_link=kept_cannot, never_merge=kept_never
    )
    dropped = len(overrides) - len(new_overrides)
    out = resolve(remaining, resolution.rules, overrides=new_overrides, model=resolution.model,
                  person_model=resolution.person_model, previous=resolution)  # fmt: skip
    tombstones = resolution.tombstones.added(key, values)
    from omnijourney.identity._households import change_time, memberships, memberships_after

    # the erased persons' periods end; no other trace of them is kept
    periods = memberships_after(memberships(resolution), out, change_time(at))
    alive = np.isin(np.asarray(periods["person_id"]), np.unique(out.person_id))
    out = _with(out, tombstones=tombstones, memberships=periods.filter(alive))
    new_norm = out.normalized()
    removed = {f: _lost(norm[f], new_norm[f]) for f in norm.fields if f in new_norm}
    rows = np.flatnonzero(gone)
    order = np.lexsort((recs.raw("record_id")[rows], recs.raw("source")[rows]))
    rows = rows[order]
    report = ErasureReport(
        records=Table.from_columns(
            {
                "source": recs["source"][rows],
                "record_id": np.array([str(v) for v in recs["record_id"][rows]], dtype=object),
            },
            kinds={"source": "category", "record_id": "category"},
        ),
        persons=tuple(
            sorted(
                set(resolution.person_id[gone].tolist()) - set(resolution.person_id[~gone].tolist())
            )
        ),
        households=tuple(sorted(set(resolution.household_id[gone].tolist()))),
        pairs=int(resolution.pair_left.size - _pairs_kept(resolution, gone)),
        values={f: n for f, n in removed.items() if n},
        overrides=dropped,
        tombstones=len(tombstones) - len(resolution.tombstones),
    )
    return out, report


def _used(field: Any) -> set[Any]:
    return set(field.labels[np.unique(field.codes[field.codes >= 0])].tolist())


def _lost(before: Any, after: Any) -> int:
    """Distinct values of a field no remaining record holds."""
    return len(_used(before) - _used(after))


def _pairs_kept(res: Resolution, gone: np.ndarray) -> int:
    return int((~gone[res.pair_left] & ~gone[res.pair_right]).sum())


def _with(res: Resolution, **changes: Any) -> Resolution:
    new = attrs.evolve(res, **changes)
    object.__setattr__(new, "_state", res._state)
    return new


def consent(resolution: Resolution, decisions: Table | None = None) -> Table:
    """Each person's consent per channel, combined over its records.

    Parameters
    ----------
    resolution : Resolution
    decisions : Table, optional
        Dated decisions: ``source``, ``record_id``, ``channel`` (one of
        :data:`CONSENT_CHANNELS`), ``granted`` (bool) and ``at`` (time). The records' own
        ``consent_email`` / ``consent_sms`` columns are decisions too, dated by the record's
        ``updated`` (else ``created``) time (a missing value reads as a refusal).

    Returns
    -------
    Table
        One row per person and channel: ``person_id``, ``channel``, ``granted``, and the
        deciding decision's ``at``, ``source`` and ``record_id`` (empty when the person has
        no decision on the channel: not granted).

    Notes
    -----
    The latest decision wins; at equal dates a refusal wins (see the module notes: GDPR
    art. 7, ePrivacy art. 13).

    Examples
    --------
    >>> import numpy as np
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
    ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"],
    ...     "consent_email": [True, False],
    ...     "updated": ["2024-03-01", "2024-05-02"]})
    >>> table = consent(resolve(recs))
    >>> row = table.row(int(np.flatnonzero(table["channel"] == "email")[0]))
    >>> row["granted"], row["source"], str(row["at"])[:10]
    (False, 'shop', '2024-05-02')
    """
    recs = resolution.records
    src = np.asarray(recs["source"], dtype=object)
    rid = np.array([str(v) for v in recs["record_id"]], dtype=object)
    rows_l, chan_l, granted_l, at_l = [], [], [], []
    when = _record_time(recs)
    for channel in ("email", "sms"):
        col = f"consent_{channel}"
        if col not in recs.columns:
            continue
        # a missing value reads as False in the table: a refusal, the restrictive reading
        values = recs.raw(col)
        rows = np.flatnonzero(~np.isnat(when))
        rows_l.append(rows)
        chan_l.append(np.full(rows.size, CONSENT_CHANNELS.index(channel)))
        granted_l.append(values[rows].astype(bool))
        at_l.append(when[rows])
    if decisions is not None:
        rows, chan, granted, at = _given(resolution, decisions)
        rows_l.append(rows)
        chan_l.append(chan)
        granted_l.append(granted)
        at_l.append(at)
    rows = np.concatenate(rows_l) if rows_l else np.zeros(0, np.int64)
    chan = np.concatenate(chan_l) if chan_l else np.zeros(0, np.int64)
    granted = np.concatenate(granted_l) if granted_l else np.zeros(0, bool)
    at = np.concatenate(at_l) if at_l else np.zeros(0, "datetime64[us]")
    person = resolution.person_id[rows]
    persons = np.unique(resolution.person_id)
    k = len(CONSENT_CHANNELS)
    # latest first, then refusals first: the first decision of each (person, channel) wins
    order = np.lexsort((granted, -at.astype(np.int64), chan, person))
    sp, sc = person[order], chan[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (sp[1:] != sp[:-1]) | (sc[1:] != sc[:-1])
    win = order[first]
    slot = np.searchsorted(persons, resolution.person_id[rows[win]]) * k + chan[win]
    out_granted = np.zeros(persons.size * k, dtype=bool)
    out_at = np.full(persons.size * k, np.datetime64("NaT", "us"), dtype="datetime64[us]")
    out_src = np.full(persons.size * k, None, dtype=object)
    out_rid = np.full(persons.size * k, None, dtype=object)
    out_granted[slot] = granted[win]
    out_at[slot] = at[win]
    out_src[slot] = src[rows[win]]
    out_rid[slot] = rid[rows[win]]
    return Table.from_columns(
        {
            "person_id": np.repeat(persons, k).astype(np.int64),
            "channel": list(CONSENT_CHANNELS) * persons.size,
            "granted": out_granted,
            "at": out_at,
            "source": out_src,
            "record_id": out_rid,
        },
        kinds={"channel": "category", "source": "category", "record_id": "category",
               "at": "time"},
    )  # fmt: skip


def _record_time(recs: CustomerRecordTable) -> np.ndarray:
    """Per record, when its own decisions were made: ``updated``, else ``created``."""
    out = np.full(len(recs), np.datetime64("NaT", "us"), dtype="datetime64[us]")
    for col in ("created", "updated"):
        if col in recs.columns:
            t = recs.raw(col).astype("datetime64[us]")
            out = np.where(np.isnat(t), out, t)
    return out


def _given(resolution: Resolution, decisions: Table) -> tuple[np.ndarray, ...]:
    """Rows, channels, decisions and dates of a table of decisions (checked)."""
    from omnijourney.identity._resolve import override_rows

    need = ("source", "record_id", "channel", "granted", "at")
    lacking = [c for c in need if c not in decisions.columns]
    if lacking:
        msg = f"consent: the decisions lack the columns {lacking} (need {list(need)})"
        raise ConfigError(msg)
    channels = [str(c) for c in decisions["channel"]]
    bad = sorted({c for c in channels if c not in CONSENT_CHANNELS})
    if bad:
        msg = f"consent: unknown channels {bad}; channels are {list(CONSENT_CHANNELS)}"
        raise ConfigError(msg)
    keys = [(str(s), str(r)) for s, r in zip(decisions["source"], decisions["record_id"])]
    rows = override_rows(resolution.records, tuple((k, k) for k in keys), "consent")[0]
    chan = np.array([CONSENT_CHANNELS.index(c) for c in channels], dtype=np.int64)
    granted = np.asarray(decisions["granted"], dtype=bool)
    at = np.asarray(decisions.raw("at")).astype("datetime64[us]")
    return rows, chan, granted, at

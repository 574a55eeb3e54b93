"""What the source systems recorded of the story: ``world.observed`` and its truth.

``world.touchpoints`` is keyed by the true person: what a perfect identity resolution would
give. ``world.observed`` is what a retailer actually exports, one table for all systems:

- ``customer`` is the id the recording system knows: the web account's record id when the
  session is logged in, else the device id (cookie or app install); the loyalty record id when
  a card is shown at the till, else the till's transaction id; the contact centre's customer
  file when the caller is identified, else the contact's id; the recipient's record for
  campaign clicks; a device id for ad clicks. ``id_kind`` says which. Record ids are those of
  ``world.records``;
- link keys where the system has them: ``device_id``, ``loyalty_id`` (the card number, at the
  till and typed with some web orders), ``payment_token`` (a hashed card token on paid rows),
  ``pickup_code`` (click & collect orders, reservations and pickups), ``receipt_email`` (a
  hash of the customer's email: always on online orders, at a rate on store and phone
  purchases);
- reference ids (order, cart, quote, reservation) with some left empty or mistyped;
- ``time`` as the system's clock wrote it: each till off by its own skew, systems of
  ``local_time`` writing the Europe/Paris wall clock without a zone; ``loaded_at`` when the row
  reached the warehouse (UTC), and the rows in that order;
- double sends (exact duplicate rows) and each system's own labels (``vocabulary``).

The truth (``world.truth.observed``) gives for each observed row the touchpoint of
``world.touchpoints`` it records, hence its person; nothing of the story changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from omnijourney.synth import _templates as tpl
from omnijourney.synth._noise import SOURCE_SYSTEMS, Noise
from omnijourney.synth._population import Population, digit_text, unique_numbers
from omnijourney.synth._vocabulary import word_table
from omnijourney.tables import Table, TouchpointTable, code_dtype

__all__ = ["ID_KINDS", "observe"]

_US = 1_000_000
_HOUR_US = 3600 * _US
#: What the ``customer`` of an observed row is.
ID_KINDS = ("account", "contact", "crm", "device", "loyalty", "recipient", "till_receipt")
# which customer file each system looks the customer up in (crm: any of the person's files)
_FILE_OF_SYSTEM = {"contact_centre": "call_centre", "ecommerce": "web", "till": "loyalty"}
_RECIPIENT_FILES = ("web", "loyalty", "call_centre")
_KNOWN_KIND = {
    "contact_centre": "crm",
    "crm": "recipient",
    "ecommerce": "account",
    "till": "loyalty",
}
_ANON_KIND = {"ads": "device", "contact_centre": "contact", "crm": "device", "ecommerce": "device"}
_ANON_KIND["till"] = "till_receipt"
_REF_COLUMNS = ("cart_id", "order_id", "quote_id", "reservation_id")
_PAID = ("order", "purchase")
_COLLECT_GOALS = ("click_and_collect", "reserve_and_collect")
_COLLECT_EVENTS = ("order", "reservation", "pickup", "purchase")
# When rows reach the warehouse: minutes after the event, or (late) a log-normal of hours
_LOAD_MEDIAN_S, _LATE_MEDIAN_S, _LATE_SIGMA = 120.0, 20 * 3600.0, 1.0


def _paris_offset_us(t_us: np.ndarray) -> np.ndarray:
    """UTC offset of Europe/Paris at each UTC instant: +2 h from the last Sunday of March to
    the last Sunday of October (01:00 UTC both), +1 h otherwise (EU rule since 1996)."""
    day = (t_us // (86_400 * _US)).astype("datetime64[D]")
    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    years = np.arange(int(year.min(initial=2000)), int(year.max(initial=2000)) + 1)

    def last_sunday(month_end: str) -> np.ndarray:
        ends = np.array([np.datetime64(f"{y}-{month_end}") for y in years]).astype(np.int64)
        weekday = (ends + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        return (ends - (weekday - 6) % 7) * 86_400 * _US + _HOUR_US

    summer_from, summer_to = last_sunday("03-31"), last_sunday("10-31")
    k = year - years[0]
    summer = (t_us >= summer_from[k]) & (t_us < summer_to[k])
    return np.where(summer, 2 * _HOUR_US, _HOUR_US)


def _email_hashes(emails: np.ndarray) -> np.ndarray:
    """First 16 hex digits of the SHA-256 of each trimmed, lower-case email."""
    return np.array(
        [hashlib.sha256(e.strip().lower().encode()).hexdigest()[:16] for e in emails.tolist()],
        dtype=object,
    )


def _per_person_ids(
    rng: np.random.Generator, n_persons: int, mean: float, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """1 + Poisson(mean - 1) distinct numbers per person: (first index per person, numbers)."""
    count = 1 + rng.poisson(max(mean - 1.0, 0.0), n_persons)
    first = np.cumsum(count) - count
    numbers = unique_numbers(0, span, int(count.sum()), rng)
    return np.stack([first, count]), numbers


def _pick(u: np.ndarray, owner: np.ndarray, per_person: np.ndarray) -> np.ndarray:
    """Index among ``numbers`` of the id chosen by ``u`` in [0, 1) among the owner's ids."""
    first, count = per_person
    return first[owner] + np.minimum((u * count[owner]).astype(np.int64), count[owner] - 1)


def _dense_coded(key: np.ndarray, size: int, text_of: Any) -> tuple[np.ndarray, np.ndarray]:
    """Category codes and sorted labels of keys in ``[0, size)`` (-1 for null), without
    sorting the rows: ``text_of(keys)`` gives the text of each used key (distinct texts)."""
    used = np.zeros(size + 1, dtype=bool)
    used[key] = True  # -1 marks the extra slot
    uniq = np.flatnonzero(used[:size])
    texts = np.asarray(text_of(uniq), dtype=object)
    order = np.argsort(texts.astype(str), kind="stable")
    rank = np.full(size + 1, -1, dtype=np.int64)
    rank[uniq[order]] = np.arange(uniq.size)
    return rank[key].astype(code_dtype(uniq.size)), texts[order]


def _lookup(labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.isin(labels.astype(str), names)


def observe(
    touchpoints: TouchpointTable,
    visit_id: np.ndarray,
    episode_id: np.ndarray,
    template: np.ndarray,
    noise: Noise,
    primary: Mapping[str, np.ndarray],
    records: Table,
    population: Population,
    rng: np.random.Generator,
) -> tuple[TouchpointTable, Table]:
    """The observed touchpoints and, per observed row, its truth (see the module notes).

    ``template`` is the template of each episode; ``primary`` the record id of each person in
    each customer file (None where absent); ``records`` the source records (card numbers).
    """
    tp = touchpoints
    n = len(tp)
    person = tp.raw("customer").astype(np.int64)
    n_persons = len(tp.labels("customer"))
    channel = tp.raw("channel").astype(np.int64)
    channel_labels = tp.labels("channel")
    event = tp.raw("event").astype(np.int64)
    event_labels = tp.labels("event")
    system_labels = tp.labels("source").tolist()
    system = np.array([SOURCE_SYSTEMS.index(s) for s in system_labels])[tp.raw("source")]
    sys_code = {s: i for i, s in enumerate(SOURCE_SYSTEMS)}
    t_true = tp.raw("time").view(np.int64)

    # -- who the system knows ---------------------------------------------------------------
    files = sorted(primary)
    ids = np.array(sorted({r for f in files for r in primary[f].tolist() if r is not None}))
    lookup = {r: i for i, r in enumerate(ids.tolist())}
    file_of = np.full((len(files), n_persons), -1, dtype=np.int64)
    for i, f in enumerate(files):
        file_of[i] = [lookup[r] if r is not None else -1 for r in primary[f].tolist()]
    known = np.full(n, -1, dtype=np.int64)  # record index the system would use
    for s, f in _FILE_OF_SYSTEM.items():
        rows = np.flatnonzero(system == sys_code[s])
        known[rows] = file_of[files.index(f), person[rows]]
    recipient = np.full(n_persons, -1, dtype=np.int64)
    for f in reversed(_RECIPIENT_FILES):
        if f in files:
            has = file_of[files.index(f)]
            recipient = np.where(has >= 0, has, recipient)
    crm = np.flatnonzero(system == sys_code["crm"])
    known[crm] = recipient[person[crm]]
    rate = np.array([noise.identification[c] for c in channel_labels.tolist()])
    u_visit = rng.random(int(visit_id.max()) + 1 if n else 0)
    identified = (known >= 0) & (u_visit[visit_id] < rate[channel])

    # -- anonymous ids: devices per person, one per goal; a receipt or contact per visit ------
    devices, device_numbers = _per_person_ids(rng, n_persons, noise.devices, 16**10)
    u_goal = rng.random(int(episode_id.max()) + 1 if n else 0)
    device = _pick(u_goal[episode_id], person, devices)
    is_anonymous = np.zeros(u_visit.size, dtype=bool)
    is_anonymous[visit_id[~identified]] = True
    anonymous_visit = np.flatnonzero(is_anonymous)
    anon_number = np.cumsum(is_anonymous) - 1  # per visit: its rank among anonymous visits
    anon_number = anon_number[visit_id]  # meaningful where not identified

    # customer keys in disjoint ranges: records, devices, receipts and contacts (per visit)
    n_rec, n_dev = len(ids), device_numbers.size
    key = np.where(identified, known, -1)
    digital = np.zeros(len(SOURCE_SYSTEMS), dtype=bool)
    digital[[sys_code["ecommerce"], sys_code["ads"], sys_code["crm"]]] = True
    digital = digital[system]
    anon = ~identified
    key[anon & digital] = n_rec + device[anon & digital]
    key[anon & ~digital] = n_rec + n_dev + anon_number[anon & ~digital]
    first_of_visit = np.zeros(u_visit.size, dtype=np.int64)
    first_of_visit[visit_id[::-1]] = np.arange(n - 1, -1, -1)
    anon_system = system[first_of_visit[anonymous_visit]]

    def customer_text(u: np.ndarray) -> np.ndarray:
        out = np.empty(u.size, dtype=object)
        rec = u < n_rec
        out[rec] = ids[u[rec]]
        dev = (u >= n_rec) & (u < n_rec + n_dev)
        out[dev] = np.char.add(
            "d", np.char.mod("%010x", device_numbers[u[dev] - n_rec]).astype(str)
        )
        other = np.flatnonzero(u >= n_rec + n_dev)
        k = u[other] - n_rec - n_dev
        till = anon_system[k] == sys_code["till"]
        out[other[till]] = digit_text("T-##########", k[till])
        out[other[~till]] = digit_text("CT-##########", k[~till])
        return out

    n_keys = n_rec + n_dev + anonymous_visit.size
    customer, customer_labels = _dense_coded(key, n_keys, customer_text)
    kinds = np.array(ID_KINDS, dtype=object)
    known_kind = np.array([ID_KINDS.index(_KNOWN_KIND.get(s, "device")) for s in SOURCE_SYSTEMS])
    anon_kind = np.array([ID_KINDS.index(_ANON_KIND[s]) for s in SOURCE_SYSTEMS])
    id_kind = np.where(identified, known_kind[system], anon_kind[system]).astype(np.int8)

    data: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for c in tp.columns:
        if c in ("record_id",):
            continue
        data[c] = tp.raw(c)
        if tp.kinds[c] == "category":
            labels[c] = tp.labels(c)
    data["customer"], labels["customer"] = customer, customer_labels
    data["id_kind"], labels["id_kind"] = id_kind, kinds

    # -- link keys ------------------------------------------------------------------------------
    paid = _lookup(event_labels, _PAID)[event]
    online = system == sys_code["ecommerce"]
    keys = noise.keys

    def present(name: str, eligible: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(eligible)
        out = np.zeros(n, dtype=bool)
        out[rows[rng.random(rows.size) < keys[name]]] = True
        return out

    on_device = online | (system == sys_code["ads"])
    has = present("device_id", on_device)
    data["device_id"], labels["device_id"] = _dense_coded(
        np.where(has, device, -1),
        n_dev,
        lambda u: np.char.add("d", np.char.mod("%010x", device_numbers[u]).astype(str)),
    )
    cards = _card_numbers(records, primary, n_persons)
    till = system == sys_code["till"]
    typed = present("loyalty_id", online & paid)
    card_key = np.where(((till & identified) | typed) & (cards[person] >= 0), person, -1)
    data["loyalty_id"], labels["loyalty_id"] = _dense_coded(
        card_key, n_persons, lambda u: _card_text(cards[u])
    )
    tokens, token_numbers = _per_person_ids(rng, n_persons, 1.3, 16**12)
    token = _pick(rng.random(n), person, tokens)
    has = present("payment_token", paid)
    data["payment_token"], labels["payment_token"] = _dense_coded(
        np.where(has, token, -1),
        token_numbers.size,
        lambda u: np.char.add("pt_", np.char.mod("%012x", token_numbers[u]).astype(str)),
    )
    collect_goal = _lookup(np.asarray(tpl.TEMPLATE_NAMES), _COLLECT_GOALS)[template]
    collect = collect_goal[episode_id] & _lookup(event_labels, _COLLECT_EVENTS)[event]
    n_goals = int(episode_id.max()) + 1 if n else 0
    codes = unique_numbers(0, 10**8, n_goals, rng)
    has = present("pickup_code", collect)
    data["pickup_code"], labels["pickup_code"] = _dense_coded(
        np.where(has, episode_id, -1), n_goals, lambda u: digit_text("PU-########", codes[u])
    )
    email = _email_hashes(population.email)
    receipt = (paid & online) | present("receipt_email", paid & ~online)
    data["receipt_email"], labels["receipt_email"] = _dense_coded(
        np.where(receipt, person, -1), n_persons, lambda u: email[u]
    )

    # -- reference ids: missing or mistyped ---------------------------------------------------
    for c in _REF_COLUMNS:
        if c in data:
            data[c], labels[c] = _noisy_reference(data[c], labels[c], noise, rng)

    # -- clocks and loading ---------------------------------------------------------------------
    t = t_true.copy()
    skew_us = float(noise.clock_skew / np.timedelta64(1, "us"))
    if "store" in data:  # drawn whatever the skew: a clock changes nothing else
        n_stores = len(tp.labels("store"))
        offset = (rng.standard_normal(n_stores) * skew_us).astype(np.int64)
        rows = np.flatnonzero(till & (data["store"] >= 0))
        t[rows] += offset[data["store"][rows]]
    local = np.zeros(len(SOURCE_SYSTEMS), dtype=bool)
    local[[sys_code[s] for s in noise.local_time]] = True
    local = local[system]
    t[local] += _paris_offset_us(t_true[local])
    data["time"] = t.view("datetime64[us]")
    late = rng.random(n) < noise.late_arrival
    lag = rng.exponential(_LOAD_MEDIAN_S / np.log(2), n)
    lag[late] = _LATE_MEDIAN_S * np.exp(_LATE_SIGMA * rng.standard_normal(int(late.sum())))
    loaded = t_true + (lag * _US).astype(np.int64)
    data["loaded_at"] = loaded.view("datetime64[us]")

    # -- each system's words --------------------------------------------------------------------
    if noise.vocabulary:
        old_till = till & (data.get("store", np.zeros(n, np.int64)) % 3 == 2)
        outbound = tp.raw("direction") == 1
        variant = np.where(till, old_till, outbound).astype(np.int64)
        for col, kind, lab in (
            ("channel", "channel", channel_labels),
            ("event", "event", event_labels),
        ):
            table, words = word_table(lab, SOURCE_SYSTEMS, kind)
            word = table[system, variant if kind == "event" else 0, data[col].astype(np.int64)]
            data[col], labels[col] = _dense_coded(
                word, len(words), lambda u, w=words: np.asarray(w, dtype=object)[u]
            )

    # -- double sends, then the load order -------------------------------------------------------
    dup = np.flatnonzero(rng.random(n) < noise.duplicates)
    rows = np.concatenate([np.arange(n), dup])
    order = np.argsort(loaded[rows], kind="stable")
    rows = rows[order]
    duplicate = np.concatenate([np.zeros(n, bool), np.ones(dup.size, bool)])[order]
    observed = TouchpointTable.from_arrays(
        {c: a[rows] for c, a in data.items()},
        labels,
    )
    truth = Table.from_arrays(
        {
            "row": rows.astype(np.int64),
            "customer": person[rows].astype(code_dtype(n_persons)),
            "duplicate": duplicate,
            "identified": identified[rows],
        },
        {"customer": tp.labels("customer")},
    )
    return observed, truth


def _card_numbers(records: Table, primary: Mapping[str, np.ndarray], n_persons: int) -> np.ndarray:
    """Each person's loyalty card number (as an integer, -1 without a card)."""
    rid = records["record_id"]
    card = records["loyalty_id"]
    number = {r: int(c) for r, c in zip(rid.tolist(), card.tolist()) if r and c and r[:3] == "LOY"}
    prim = primary.get("loyalty", np.full(n_persons, None, dtype=object))
    return np.array([number.get(r, -1) if r is not None else -1 for r in prim.tolist()], np.int64)


def _card_text(numbers: np.ndarray) -> np.ndarray:
    return digit_text("29###########", numbers - 29 * 10**11)


def _noisy_reference(
    codes: np.ndarray, labels: np.ndarray, noise: Noise, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Reference codes with a share left empty and a share with one digit changed."""
    key = codes.astype(np.int64)
    has = np.flatnonzero(key >= 0)
    u = rng.random(has.size)
    key[has[u < noise.reference_missing]] = -1
    typo = has[
        (u >= noise.reference_missing) & (u < noise.reference_missing + noise.reference_typo)
    ]
    texts = labels[key[typo]].astype(str) if typo.size else np.zeros(0, dtype=str)
    position = rng.integers(1, 10, typo.size)  # the prefix letter stays
    shift = rng.integers(1, 10, typo.size)
    wrong = [
        s[:p] + str((int(s[p]) + d) % 10) + s[p + 1 :]
        for s, p, d in zip(texts.tolist(), position.tolist(), shift.tolist())
    ]
    key[typo] = labels.size + np.arange(typo.size)
    all_texts = np.concatenate([labels.astype(object), np.array(wrong, dtype=object)])
    codes_, texts = _dense_coded(key, all_texts.size, lambda v: all_texts[v])
    # a mistyped id may spell another real id: one label for both
    uniq, inverse = np.unique(texts.astype(str), return_inverse=True)
    if uniq.size == texts.size:
        return codes_, texts
    merged = np.where(codes_ >= 0, inverse[np.maximum(codes_.astype(np.int64), 0)], -1)
    return merged.astype(code_dtype(uniq.size)), uniq.astype(object)

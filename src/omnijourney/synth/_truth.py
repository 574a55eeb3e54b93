"""The truth of the synthetic touchpoints, read from the story that generated them.

Every figure here comes from what the generator decided, never from a rule applied to the rows:

- a *journey* is a goal (an episode) up to and including its conversion; the steps after the
  conversion (a pickup) open the next journey of the same goal;
- a *visit* is one sitting of the story: a new one starts with a journey, on a change of
  channel, and at every step whose pause kind takes the customer away (a return later, a
  decision, a trip to the store) rather than keeping them where they are (a click, a word on
  the phone, a walk to the next aisle: :data:`~omnijourney.synth._templates.IN_VISIT_PAUSES`);
- a *break* is a step of the goal that the story moves to another channel: the templates name
  them (click & collect, a quote signed elsewhere, a call after a failed payment...), and a
  goal researched online and bought in store (or the reverse) without carrying one of the
  research's ids to the purchase is a ROPO (showrooming) break from its last research step;
- a *follow-up* is owed when the story's trigger happens; it is answered after the delay the
  story drew (or not at all), on time when within the brand's promise;
- a touchpoint's *role* is what it did for the goal: the campaign click that opened it
  (``opener``), the conversion (``closer``), anything in between (``assist``).
"""

from __future__ import annotations

import attrs
import numpy as np

from omnijourney._arrays import run_starts
from omnijourney.synth import _templates as tpl
from omnijourney.tables import Table, TouchpointTable, code_dtype

__all__ = ["ROLES", "Episodes", "Story", "TouchpointTruth", "in_canonical_order", "story_truth"]

#: Story roles of touchpoints, in the order of the codes of :attr:`TouchpointTruth.role`.
ROLES = ("opener", "assist", "closer")


@attrs.frozen
class Episodes:
    """The episode structure of generated touchpoint rows.

    Attributes
    ----------
    row : ndarray of int
        Episode of each touchpoint row.
    template : ndarray of int
        Template of each episode.
    basket, quote : ndarray of float
        Basket and quote amount of each episode (EUR).
    """

    row: np.ndarray
    template: np.ndarray
    basket: np.ndarray
    quote: np.ndarray


@attrs.frozen
class Story:
    """What the generator decided for each row (rows in episode order).

    ``status`` and ``template`` are per episode (0 on time, 1 late, 2 missing); ``step`` is the
    position among the template's fixed steps (< 0 before them); ``stays`` whether the pause
    before the row kept the customer in the same visit; ``refs`` the per-episode reference
    codes of each reference kind (-1 where the step carries none).
    """

    episode: np.ndarray
    template: np.ndarray
    status: np.ndarray
    conversion: np.ndarray
    channel: np.ndarray
    step: np.ndarray
    stays: np.ndarray
    opener: np.ndarray
    refs: dict[str, np.ndarray]


@attrs.frozen
class TouchpointTruth:
    """What really happened, aligned with the generated touchpoint rows.

    Attributes
    ----------
    journey_id, visit_id, episode_id : ndarray of int64
        True journey, visit and goal (episode) of each touchpoint (see
        :mod:`omnijourney.synth`). A goal is one journey, or two when steps follow its
        conversion.
    journeys : Table
        One row per true journey: ``journey_id``, ``customer``, ``template``, ``converted``.
    breaks : Table
        One row per true cross-channel break: ``customer``, ``kind``, ``from_row``,
        ``to_row``, ``from_channel``, ``to_channel``, ``from_journey``, ``to_journey``,
        ``delay`` (seconds) and ``template`` (the goal's story, which says why).
    followups : Table
        One row per follow-up owed: ``customer``, ``rule``, ``trigger_row``, ``response_row``
        (-1 when missing), ``status`` (``on_time``, ``late``, ``missing`` against the brand's
        promise, :data:`~omnijourney.synth._templates.FOLLOWUPS`) and ``delay`` (seconds, NaN
        when missing).
    role : ndarray of int8
        The story role of each touchpoint: a code into :data:`ROLES`.
    active_from, active_until : ndarray of datetime64[us]
        Per customer, when they became active and when they stopped (the period end for
        customers who did not lapse).
    exposures : Table or None
        With prices: one row per (touchpoint, injected price inconsistency) where a
        touchpoint of the inconsistency's sku happened on its channel and location during
        its interval (see :mod:`omnijourney.synth.prices`).
    price_mismatches : Table or None
        With prices: one row per purchase paid at another price than the one seen on
        another channel in the 7 days before, with its ``cause``.
    observed : Table or None
        With source records: one row per row of ``world.observed``: ``row`` (the touchpoint
        of ``world.touchpoints`` it records), ``customer`` (the true person), ``duplicate``
        (a second copy of the same event), ``identified`` (the system knew the customer).
    """

    journey_id: np.ndarray
    visit_id: np.ndarray
    journeys: Table
    breaks: Table
    followups: Table
    active_from: np.ndarray | None = None
    active_until: np.ndarray | None = None
    exposures: Table | None = None
    price_mismatches: Table | None = None
    episode_id: np.ndarray | None = None
    role: np.ndarray | None = None
    observed: Table | None = None


def _channel_mask(channels: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(len(tpl.CHANNELS), dtype=bool)
    mask[list(channels)] = True
    return mask


def _coded(table: Table, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return table.raw(column)[rows], table.labels(column)


def story_truth(table: TouchpointTable, s: Story) -> TouchpointTruth:
    """The truth of ``table`` (rows in episode order) from the story ``s`` of its rows."""
    n = s.episode.size
    ep = s.episode
    new_ep = run_starts(ep)
    j_start = new_ep.copy()
    j_start[1:] |= s.conversion[:-1]
    journey_id = np.cumsum(j_start, dtype=np.int64) - 1
    v_start = j_start | ~s.stays
    v_start[1:] |= s.channel[1:] != s.channel[:-1]
    visit_id = np.cumsum(v_start, dtype=np.int64) - 1
    role = np.ones(n, dtype=np.int8)
    role[s.opener] = 0
    role[s.conversion] = 2

    n_j = int(journey_id[-1]) + 1 if n else 0
    j_first = np.flatnonzero(j_start)
    j_conv = np.zeros(n_j, dtype=bool)
    j_conv[journey_id[s.conversion]] = True
    cust_codes, cust_labels = _coded(table, "customer", j_first)
    journeys = Table.from_arrays(
        {
            "journey_id": np.arange(n_j, dtype=np.int64),
            "customer": cust_codes,
            "template": s.template[ep[j_first]].astype(code_dtype(len(tpl.TEMPLATES))),
            "converted": j_conv,
        },
        {"customer": cust_labels, "template": np.array(tpl.TEMPLATE_NAMES, dtype=object)},
    )
    # template labels must be sorted to be category codes: remap onto sorted names
    journeys = journeys.with_column("template", journeys["template"])
    breaks = _breaks(table, s, journey_id, cust_labels)
    followups = _followups(table, s, cust_labels)
    return TouchpointTruth(
        journey_id=journey_id,
        visit_id=visit_id,
        journeys=journeys,
        breaks=breaks,
        followups=followups,
        episode_id=ep.astype(np.int64),
        role=role,
    )


def _template_breaks(s: Story) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The breaks the templates name, located by their step positions."""
    te = s.template[s.episode]
    kinds: list[np.ndarray] = []
    from_rows: list[np.ndarray] = []
    to_rows: list[np.ndarray] = []
    with_breaks = [i for i, t_ in enumerate(tpl.TEMPLATES) if t_.breaks]
    has_breaks = np.zeros(len(tpl.TEMPLATES), dtype=bool)
    has_breaks[with_breaks] = True
    cand = np.flatnonzero(has_breaks[te] & (s.step >= 0))
    for t_i in with_breaks:
        sub = cand[te[cand] == t_i]
        for kind, q_from, q_to in tpl.TEMPLATES[t_i].breaks:
            a = sub[s.step[sub] == q_from]
            b = sub[s.step[sub] == q_to]
            a = a[np.isin(s.episode[a], s.episode[b])]
            b = b[np.isin(s.episode[b], s.episode[a])]
            kinds.append(np.full(a.size, kind, dtype=object))
            from_rows.append(a)
            to_rows.append(b)
    return kinds, from_rows, to_rows


def _breaks(
    table: TouchpointTable, s: Story, journey_id: np.ndarray, cust_labels: np.ndarray
) -> Table:
    n = s.episode.size
    kinds, from_rows, to_rows = _template_breaks(s)
    # a goal researched on one kind of channel and bought on the other, the purchase carrying
    # none of the research's ids: from its last research step (rows are in story order)
    digital = _channel_mask(tpl.DIGITAL_CHANNELS)[s.channel]
    store = s.channel == tpl.CH["store"]
    idx = np.arange(n, dtype=np.int64)
    n_j = int(journey_id[-1]) + 1 if n else 0
    for kind, closer, research in (("ropo", store, digital), ("showrooming", digital, store)):
        buy = np.flatnonzero(s.conversion & closer)
        last = np.maximum.accumulate(np.where(research, idx, -1))
        last = np.where(buy > 0, last[np.maximum(buy - 1, 0)], -1)
        ok = (last >= 0) & (journey_id[np.maximum(last, 0)] == journey_id[buy])
        buy, last = buy[ok], last[ok]
        carried = np.zeros(buy.size, dtype=bool)
        for codes in s.refs.values():
            researched_with = np.zeros(n_j, dtype=bool)
            researched_with[journey_id[research & (codes >= 0)]] = True
            carried |= (codes[buy] >= 0) & researched_with[journey_id[buy]]
        kinds.append(np.full(int((~carried).sum()), kind, dtype=object))
        from_rows.append(last[~carried])
        to_rows.append(buy[~carried])
    fr_all = np.concatenate(from_rows).astype(np.int64)
    to_all = np.concatenate(to_rows).astype(np.int64)
    kind_all = np.concatenate(kinds)
    order = np.lexsort((fr_all, to_all))
    fr_all, to_all, kind_all = fr_all[order], to_all[order], kind_all[order]
    t = table.raw("time").view(np.int64)
    channels = np.array(tpl.CHANNELS, dtype=object)
    b_cust, _ = _coded(table, "customer", to_all)
    breaks = Table.from_columns(
        {
            "kind": kind_all,
            "from_row": fr_all,
            "to_row": to_all,
            "from_channel": channels[s.channel[fr_all]],
            "to_channel": channels[s.channel[to_all]],
            "from_journey": journey_id[fr_all].astype(np.int64),
            "to_journey": journey_id[to_all].astype(np.int64),
            "delay": ((t[to_all] - t[fr_all]) / 1e6).astype(np.float64),
            "template": np.array(tpl.TEMPLATE_NAMES, dtype=object)[s.template[s.episode[to_all]]],
        },
        kinds={
            "kind": "category",
            "from_channel": "category",
            "to_channel": "category",
            "template": "category",
        },
    )
    return _with_customer(breaks, b_cust, cust_labels)


def _followups(table: TouchpointTable, s: Story, cust_labels: np.ndarray) -> Table:
    """The trigger is the step before the answering step, which may be missing."""
    te = s.template[s.episode]
    rule_names = list(tpl.FOLLOWUPS)
    f_rule, f_trig, f_resp, f_status = [], [], [], []
    n_ep = int(s.episode.max()) + 1 if s.episode.size else 0
    for t_i, template in enumerate(tpl.TEMPLATES):
        steps = [k for k, st in enumerate(template.steps) if st.followup]
        if not steps:
            continue
        k = steps[0]
        sub = np.flatnonzero(te == t_i)
        trig = sub[s.step[sub] == k - 1]
        resp = sub[s.step[sub] == k]
        resp_of = np.full(n_ep, -1, dtype=np.int64)
        resp_of[s.episode[resp]] = resp
        f_rule.append(np.full(trig.size, rule_names.index(template.steps[k].followup or "")))
        f_trig.append(trig)
        f_resp.append(resp_of[s.episode[trig]])
        f_status.append(s.status[s.episode[trig]])
    trig_all = np.concatenate(f_trig).astype(np.int64) if f_trig else np.zeros(0, np.int64)
    resp_all = np.concatenate(f_resp).astype(np.int64) if f_resp else np.zeros(0, np.int64)
    t = table.raw("time").view(np.int64)
    delay = np.where(resp_all >= 0, (t[np.maximum(resp_all, 0)] - t[trig_all]) / 1e6, np.nan)
    f_cust, _ = _coded(table, "customer", trig_all)
    followups = Table.from_columns(
        {
            "rule": np.array(rule_names, dtype=object)[np.concatenate(f_rule).astype(np.int64)],
            "trigger_row": trig_all,
            "response_row": resp_all,
            "status": np.array(["on_time", "late", "missing"], dtype=object)[
                np.concatenate(f_status).astype(np.int64)
            ],
            "delay": delay.astype(np.float64),
        },
        kinds={"rule": "category", "status": "category"},
    )
    return _with_customer(followups, f_cust, cust_labels)


def _with_customer(table: Table, codes: np.ndarray, labels: np.ndarray) -> Table:
    data = {"customer": codes, **{c: table.raw(c) for c in table.columns}}
    lab = {
        "customer": labels,
        **{c: table.labels(c) for c in table.columns if table.kinds[c] == "category"},
    }
    return Table.from_arrays(data, lab)


def _row_columns(table: Table) -> list[str]:
    return [c for c in table.columns if c == "row" or c.endswith("_row")]


def _remap_rows(table: Table, new_of_old: np.ndarray) -> Table:
    """``table`` with its row columns pointing at the rows' new positions (-1 stays -1)."""
    out = table
    for c in _row_columns(table):
        old = table.raw(c).astype(np.int64)
        out = out.with_column(c, np.where(old >= 0, new_of_old[np.maximum(old, 0)], -1))
    return out


def in_canonical_order(
    table: TouchpointTable, truth: TouchpointTruth
) -> tuple[TouchpointTable, TouchpointTruth]:
    """Touchpoints sorted by (customer, time), and their truth following the rows.

    Goals pursued in parallel interleave their rows; without them the rows are already in
    order and nothing changes.
    """
    if table.sorted_by[:2] == ("customer", "time"):
        return table, truth
    t = table.raw("time").view(np.int64)
    order = np.lexsort((t, table.raw("customer")))
    new_of_old = np.empty(order.size, dtype=np.int64)
    new_of_old[order] = np.arange(order.size, dtype=np.int64)
    sorted_table = table.take(order).replace_columns(sorted_by=("customer", "time"))

    def along(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[order]

    def remap(t: Table | None) -> Table | None:
        return None if t is None else _remap_rows(t, new_of_old)

    truth = attrs.evolve(
        truth,
        journey_id=truth.journey_id[order],
        visit_id=truth.visit_id[order],
        episode_id=along(truth.episode_id),
        role=along(truth.role),
        breaks=_remap_rows(truth.breaks, new_of_old),
        followups=_remap_rows(truth.followups, new_of_old),
        exposures=remap(truth.exposures),
        price_mismatches=remap(truth.price_mismatches),
    )
    return sorted_table, truth

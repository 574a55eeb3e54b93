"""Scoring of the end-to-end pipeline against the synthetic world's story (see bench_endtoend).

Every observed row records one touchpoint of the story (``world.truth.observed["row"]``), so
each figure of the pipeline is compared with the story's truth of that touchpoint. Only this
module reads the truth; the pipeline never does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from _endtoend_table import KINDS

#: id kinds of the observed rows that name a record (the others are anonymous ids).
RECORD_KINDS = ("account", "crm", "loyalty", "recipient")
#: Reference columns that link each id-linked kind of break.
ID_KINDS = {
    "quote_channel_switch": ("quote_id",),
    "click_and_collect": ("order_id", "reservation_id"),
    "cart_recovery": ("cart_id",),
}

# --------------------------------------------------------------------------- primitives


def pair_scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a partition against the true one."""
    _, p = np.unique(np.asarray(predicted), return_inverse=True)
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    p, t = p.ravel().astype(np.int64), t.ravel().astype(np.int64)

    def pairs(counts: np.ndarray) -> float:
        c = counts.astype(np.float64)
        return float((c * (c - 1) / 2).sum())

    both = pairs(np.unique(p * (int(t.max(initial=0)) + 1) + t, return_counts=True)[1])
    pred, true = pairs(np.bincount(p)), pairs(np.bincount(t))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def ratio(a: float, b: float) -> float:
    return a / b if b else 1.0


# --------------------------------------------------------------------------- linkability


def linkable_rows(world: Any, linked: Any, person: np.ndarray) -> np.ndarray:
    """Per linked row: whether its customer id is a record id of its person, or a chain of
    link keys (values shared by ids of that same person) leads from it to such an id.

    ``person`` is the true person code of each row. The chain is the one any linking could
    follow at best: unlimited hops, every key, no ambiguity (values are split by person).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from bench_endtoend import KEYS

    len(linked)
    node = linked.raw("original_customer").astype(np.int64)
    n_nodes = linked.labels("original_customer").size
    kind = linked["id_kind"]
    named = np.isin(kind, RECORD_KINDS) | (linked.raw("loyalty_id") >= 0)
    # an e-receipt's e-mail is its person's when one of the person's records has that e-mail
    hashes = _record_hashes(world)
    email = linked["receipt_email"]
    labels = world.truth.observed.labels("customer")
    has = np.flatnonzero(linked.raw("receipt_email") >= 0)
    named[has] |= [(str(labels[p]), e) in hashes for p, e in zip(person[has], email[has])]
    edges_a, edges_b = [], []
    offset = n_nodes
    for k in KEYS:
        code = linked.raw(k).astype(np.int64)
        rows = np.flatnonzero(code >= 0)
        size = linked.labels(k).size
        key = person[rows].astype(np.int64) * size + code[rows]
        uniq, inv = np.unique(key, return_inverse=True)
        edges_a.append(node[rows])
        edges_b.append(offset + inv.ravel())
        offset += uniq.size
    a, b = np.concatenate(edges_a), np.concatenate(edges_b)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(offset, offset))
    _, comp = connected_components(graph, directed=False)
    good = np.zeros(comp.max(initial=0) + 1, dtype=bool)
    good[comp[node[named]]] = True
    return named | good[comp[node]]


def _record_hashes(world: Any) -> set[tuple[str, str]]:
    import hashlib

    r = world.records
    out = set()
    for p, e in zip(r["true_person_id"].tolist(), r["email"].tolist()):
        if e:
            out.add((str(p), hashlib.sha256(e.strip().lower().encode()).hexdigest()[:16]))
    return out


# --------------------------------------------------------------------------- scoring


class _Rows:
    """The linked rows and the story's touchpoints they record."""

    def __init__(self, world: Any, out: dict[str, Any]) -> None:
        linked = out["linked"]
        truth = world.truth.observed
        # the pipeline kept the first copy of each double send, in the rows' order
        obs = np.flatnonzero(~truth["duplicate"])
        assert obs.size == len(linked), "the loaded rows are not the observed rows once"
        self.row = truth["row"][obs].astype(np.int64)  # touchpoint of each linked row
        self.person = truth.raw("customer")[obs].astype(np.int64)
        self.pos = np.full(len(world.touchpoints), -1, dtype=np.int64)
        self.pos[self.row] = np.arange(self.row.size)
        self.linkable = linkable_rows(world, linked, self.person)
        self.status = linked["link_status"]


def score(world: Any, raw: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Every figure against the story's truth, in percent with one decimal."""
    del raw
    fig: dict[str, Any] = {}

    def put(name: str, values: tuple[float, ...], labels: tuple[str, ...] = ("p", "r", "f1")):
        for label, v in zip(labels, values):
            fig[f"{name}_{label}" if label else name] = round(100 * float(v), 1)

    rows = _Rows(world, out)
    truth = world.truth
    # persons and households of the records
    res, records = out["resolution"], out["records"]
    put("person", pair_scores(res.person_id, records["true_person_id"]))
    put("household", pair_scores(res.household_id, records["true_household_id"]))
    # persons of the observed rows
    linked = out["linked"]
    put("observed_person", pair_scores(linked.raw("customer"), rows.person))
    put("observed_named", (float(np.isin(linked["id_kind"], RECORD_KINDS).mean()),), ("",))
    put("observed_linked", (float((~linked["anonymous"]).mean()),), ("",))
    put("observed_linkable", (float(rows.linkable.mean()),), ("",))
    # journeys and visits
    jt = out["journeys"]
    tj, tv = truth.journey_id[rows.row], truth.visit_id[rows.row]
    put("journey", pair_scores(jt.journey_id, tj))
    ok = rows.linkable
    put("journey_linkable", pair_scores(jt.journey_id[ok], tj[ok]))
    put("visit", pair_scores(jt.visit_id, tv))
    _breaks(fig, put, world, out, rows)
    _followups(fig, put, world, out, rows)
    _roles(fig, world, out)
    _credit(fig, put, world, out)
    return fig


def _breaks(fig: dict[str, Any], put: Any, world: Any, out: dict[str, Any], rows: _Rows) -> None:
    t = world.truth.breaks
    ep = world.truth.episode_id
    b = out["breaks"]
    linked = out["linked"]
    kind_t = t["kind"]
    fr_t, to_t = t["from_row"].astype(np.int64), t["to_row"].astype(np.int64)
    # linkable: both ends tied to their person by keys, or (id kinds) one id on both ends
    f_pos, t_pos = rows.pos[fr_t], rows.pos[to_t]
    both = rows.linkable[f_pos] & rows.linkable[t_pos]
    for kind, cols in ID_KINDS.items():
        sel = np.flatnonzero(kind_t == kind)
        for c in cols:
            code = linked.raw(c).astype(np.int64)
            same = (code[f_pos[sel]] >= 0) & (code[f_pos[sel]] == code[t_pos[sel]])
            both[sel] |= same
    found_k = b["kind"]
    found_f = rows.row[b["from_row"].astype(np.int64)]
    found_t = rows.row[b["to_row"].astype(np.int64)]
    true_by_end: dict[tuple[str, int], list[int]] = {}
    for i, (k, to) in enumerate(zip(kind_t.tolist(), to_t.tolist())):
        true_by_end.setdefault((k, to), []).append(i)
    matched_true = np.zeros(len(t), dtype=bool)
    matched_found = np.zeros(len(b), dtype=bool)
    strict_found = np.zeros(len(b), dtype=bool)
    for j, (k, f, to) in enumerate(zip(found_k.tolist(), found_f.tolist(), found_t.tolist())):
        for i in true_by_end.get((k, to), ()):
            if ep[fr_t[i]] == ep[f]:
                matched_true[i] = matched_found[j] = True
                strict_found[j] |= fr_t[i] == f
    strict_true = np.zeros(len(t), dtype=bool)
    strict = set(zip(found_k.tolist(), found_f.tolist(), found_t.tolist()))
    strict_true[:] = [x in strict for x in zip(kind_t.tolist(), fr_t.tolist(), to_t.tolist())]
    # why the breaks that keys cannot tie were not linked: the link status of their
    # untied end (the purchase end first)
    end = np.where(~rows.linkable[t_pos], t_pos, f_pos)
    why = np.where(both, "", rows.status[end].astype(object))
    found_both = rows.linkable[b["from_row"].astype(np.int64)]
    found_both &= rows.linkable[b["to_row"].astype(np.int64)]
    for kind in KINDS:
        tk = kind_t == kind
        fk = found_k == kind
        put(f"break_{kind}", (ratio(matched_found[fk].sum(), fk.sum()),), ("p",))
        fl = fk & found_both
        put(f"break_{kind}", (ratio(matched_found[fl].sum(), fl.sum()),), ("pl",))
        put(f"break_{kind}", (ratio(matched_true[tk].sum(), tk.sum()),), ("r",))
        put(f"break_{kind}", (ratio(matched_true[tk & both].sum(), (tk & both).sum()),), ("rl",))
        fig[f"break_{kind}_n"] = int(tk.sum())
        fig[f"break_{kind}_linkable"] = int((tk & both).sum())
        reasons = Counter(why[tk & ~both].tolist())
        fig[f"break_{kind}_unlinked"] = " ".join(f"{r}:{n}" for r, n in sorted(reasons.items()))
    put("break_all", (ratio(matched_found.sum(), len(b)), ratio(matched_true.sum(), len(t))),
        ("p", "r"))  # fmt: skip
    put("break_all", (ratio(matched_true[both].sum(), both.sum()),), ("rl",))
    put("break_all_strict", (ratio(strict_found.sum(), len(b)), ratio(strict_true.sum(), len(t))),
        ("p", "r"))  # fmt: skip
    fig["break_all_n"] = len(t)
    fig["break_all_linkable"] = int(both.sum())
    fig["break_min_p"] = min(fig[f"break_{k}_p"] for k in KINDS)
    fig["break_min_rl"] = min(fig[f"break_{k}_rl"] for k in KINDS)
    both_keyed = both & rows.linkable[f_pos] & rows.linkable[t_pos]
    put("break_keyed", (ratio(matched_true[both_keyed].sum(), both_keyed.sum()),), ("r",))


def _followups(fig: dict[str, Any], put: Any, world: Any, out: dict[str, Any], rows: _Rows) -> None:
    f, tf = out["followups"], world.truth.followups
    trig = rows.row[f["trigger_row"].astype(np.int64)]
    status = dict(zip(zip(f["rule"].tolist(), trig.tolist()), f["status"].tolist()))
    true_status = dict(
        zip(zip(tf["rule"].tolist(), tf["trigger_row"].tolist()), tf["status"].tolist())
    )
    fig["followup_status_accuracy"] = round(
        100 * float(np.mean([status.get(k) == s for k, s in true_status.items()])), 1
    )
    # linkable: the trigger and the story's response (when there is one) tied to their person
    resp = tf["response_row"].astype(np.int64)
    ends = np.where(resp >= 0, resp, tf["trigger_row"].astype(np.int64))
    ok = rows.linkable[rows.pos[tf["trigger_row"].astype(np.int64)]] & rows.linkable[rows.pos[ends]]
    rows_true = zip(tf["rule"].tolist(), tf["trigger_row"].tolist(), tf["status"].tolist())
    same = np.array([status.get((r, t)) == s for r, t, s in rows_true], dtype=bool)
    put("followup_status_linkable", (ratio(same[ok].sum(), ok.sum()),), ("",))
    put("followup_linkable", (ratio(ok.sum(), ok.size),), ("",))
    flagged = {k for k, s in status.items() if s != "on_time"}
    owed = {k for k, s in true_status.items() if s != "on_time"}
    hit = len(flagged & owed)
    put("followup_flagged", (ratio(hit, len(flagged)), ratio(hit, len(owed))), ("p", "r"))


def _roles(fig: dict[str, Any], world: Any, out: dict[str, Any]) -> None:
    import omnijourney as oj

    truth = world.truth
    roles = out["roles"].as_dict()
    converted = truth.journeys["converted"][truth.journey_id]
    channel = world.touchpoints.raw("channel")[converted]
    labels = world.touchpoints.labels("channel")
    counts = np.zeros((len(labels), len(oj.synth.ROLES)))
    np.add.at(counts, (channel, truth.role[converted]), 1)
    story = {
        c: oj.synth.ROLES[int(np.argmax(row))]
        for c, row in zip(labels.tolist(), counts)
        if row.sum()
    }
    fig["roles_agree"] = f"{sum(roles.get(c) == r for c, r in story.items())}/{len(story)}"
    stated = oj.synth.CHANNEL_ROLES
    fig["roles_stated_agree"] = f"{sum(roles.get(c) == r for c, r in stated.items())}/{len(stated)}"


def story_paths(world: Any) -> Any:
    """The story's journeys (persons and goals known) as a path table."""
    from omnijourney.attribution import PathTable

    tp = world.touchpoints
    j = world.truth.journey_id
    order = np.lexsort((tp.raw("time").view(np.int64), j))
    counts = np.bincount(j, minlength=len(world.truth.journeys))
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    conv = world.truth.journeys["converted"].astype(np.float64)
    return PathTable.from_codes(
        tp.raw("channel")[order].astype(np.int64), offsets, tp.labels("channel").tolist(),
        conversions=conv, nulls=1.0 - conv, collapse_repeats=True,
    )  # fmt: skip


def _shares(channels: np.ndarray, share: np.ndarray) -> dict[str, float]:
    return {str(c): float(s) for c, s in zip(channels.tolist(), share.tolist())}


def tvd(a: dict[str, float], b: dict[str, float]) -> float:
    """Total variation distance between two share vectors (half the L1 distance)."""
    return 0.5 * sum(abs(a.get(c, 0.0) - b.get(c, 0.0)) for c in set(a) | set(b))


def _credit(fig: dict[str, Any], put: Any, world: Any, out: dict[str, Any]) -> None:
    from omnijourney.attribution import PathTable, attribute
    from omnijourney.journeys import sessionize

    story = attribute(story_paths(world), "markov")
    ref = _shares(story.channels, story.share)
    known = attribute(PathTable.from_journeys(sessionize(world.touchpoints)), "markov")
    put("credit_tvd_persons_known", (tvd(_shares(known.channels, known.share), ref),), ("",))
    got = out["credit"]
    put("credit_tvd", (tvd(_shares(got.channels, got.share), ref),), ("",))
    ab = out["all_buyers"]
    put("credit_scaled_tvd", (tvd(_shares(ab.credit["channel"], ab.credit["share"]), ref),),
        ("",))  # fmt: skip
    fig["credit_story"] = " ".join(f"{c}:{100 * s:.1f}" for c, s in sorted(ref.items()))
    # ROPO counts: the story's, those found at identified purchases, scaled to all buyers
    fig["ropo_true"] = int((world.truth.breaks["kind"] == "ropo").sum())
    fig["ropo_found"] = int((out["breaks"]["kind"] == "ropo").sum())
    r = ab.breaks
    if len(r):
        fig["ropo_identified"] = round(float(r["identified"][0]), 1)
        fig["ropo_scaled"] = round(float(r["scaled"][0]), 1)
        fig["ropo_scaled_interval"] = f"{r['low'][0]:.0f}-{r['high'][0]:.0f}"
    rates = ab.rates
    fig["store_identified"] = round(
        100 * float(rates["rate"][rates["segment"] == "store"][0]), 1
    ) if "store" in rates["segment"] else None  # fmt: skip


def sizes(out: dict[str, Any]) -> dict[str, Any]:
    """What the speed cases report: sizes of the inputs and of what the pipeline found."""
    linked = out["linked"]
    return {
        "touchpoints": len(out["touchpoints"]),
        "records": len(out["records"]),
        "persons": out["resolution"].n_persons,
        "linked_pct": round(100 * float((~linked["anonymous"]).mean()), 1),
        "journeys": len(out["journeys"].journeys),
        "breaks": len(out["breaks"]),
    }

"""Sessionization of the synthetic world against the pandas recipe and retentioneering.

Data: the touchpoints of ``oj.synth.generate(n // 100 customers, touchpoints_per_customer=105)``
(about ``n`` rows), shuffled (logs do not arrive sorted by customer), as a pandas DataFrame
with categorical channel and event columns. Generation is setup, not timed.

The ``_15`` cases run the same on logs shaped like most retailers': ``n // 15`` customers with
15 touchpoints each (``touchpoints_per_customer=15``), so that customer codes and times no
longer fit one 62-bit key.

Cases, each from the same DataFrame:

- ``sessionize``: omnijourney ``TouchpointTable.from_columns(df)`` + ``oj.sessionize``
  (visits and journeys, per-journey table); pandas: the idiomatic recipe (sort, per-customer
  time difference with ``groupby().diff()``, boundary flags, ``cumsum``) for visits (30 min)
  and journeys (14 days, ended by a purchase); retentioneering: ``Eventstream(df)`` +
  ``split_sessions(timeout="30m")`` (visits only).
- ``sessionize_table``: ``oj.sessionize`` alone, on a TouchpointTable already built (the
  usual case inside a pipeline), shuffled or already in time order per customer
  (``sessionize_sorted``).
- ``breaks_segments_funnel``: on sessionized journeys, ``detect_breaks`` + ``appetence`` +
  a three-step ``funnel`` + ``check_followups`` (stages come with ``sessionize``; no peer
  does these).
- ``pipeline``: from raw arrays (integer customer ids, times, channel and event names, in
  arbitrary row order) to ``TouchpointTable``, journeys, variants, breaks and segments.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

SIZES = (10**6, 10**7)

WORLD = """
import numpy as np
import omnijourney as oj
world = oj.synth.generate(max(n // 100, 10), seed=seed, touchpoints_per_customer=105,
                          records=False, prices=False)
tp = world.touchpoints.select(["customer", "time", "channel", "event"])
del world
perm = np.random.default_rng(seed).permutation(len(tp))
"""
FRAME = """
import pandas as pd
df = tp.take(perm).to_pandas()
del tp, perm
"""
RULES = "rules = oj.JourneyRules(visit_timeout='30min', journey_timeout='14D')\n"

MEASURE = {
    OMNIJOURNEY: """
table = oj.TouchpointTable.from_columns(df)
jt = oj.sessionize(table, rules)
""",
    "pandas": """
d = df.sort_values(["customer", "time"], kind="stable")
gap = d.groupby("customer", observed=True)["time"].diff()
first = gap.isna()
visit = first | (gap >= pd.Timedelta("30min")) | d["channel"].ne(d["channel"].shift())
after_purchase = d["event"].eq("purchase").shift(fill_value=False)
journey = first | (gap >= pd.Timedelta("14D")) | (after_purchase & ~first)
d["visit_id"] = visit.cumsum() - 1
d["journey_id"] = journey.cumsum() - 1
""",
    "retentioneering": """
es = Eventstream(df.rename(columns={"customer": "user_id", "time": "timestamp"})[
    ["user_id", "event", "timestamp"]])
out = es.split_sessions(timeout="30m")
""",
}
REPORT = {
    OMNIJOURNEY: "{'journeys': len(jt), 'visits': int(jt.visit_id.max()) + 1}",
    "pandas": "{'journeys': int(d['journey_id'].max()) + 1, 'visits': int(d['visit_id'].max()) + 1}",
    "retentioneering": "{}",
}
IMPORTS = {
    OMNIJOURNEY: "",
    "pandas": "",
    "retentioneering": (
        "import os\nos.environ['RETENTIONEERING_NO_TRACK'] = '1'\n"
        "from retentioneering.eventstream import Eventstream\n"
    ),
}


#: Suffix of the case names -> (customers per touchpoint, touchpoints per customer).
SHAPES = {"": (100, 105), "_15": (15, 15)}


def _world(shape: str) -> str:
    per, length = SHAPES[shape]
    return WORLD.replace("n // 100", f"n // {per}").replace("=105", f"={length}")


def _cases(n: int, shape: str = "") -> list[Case]:
    world = _world(shape)
    out = []
    for tool, measure in MEASURE.items():
        needs = ("pandas",) if tool != "retentioneering" else ("pandas", "retentioneering")
        out.append(
            Case(
                case="sessionize" + shape,
                tool=tool,
                size=n,
                unit="touchpoints",
                setup=world + FRAME + RULES + IMPORTS[tool],
                measure=measure,
                report=REPORT[tool],
                requires=needs,
                pip=" ".join(needs),
                repeat=1 if n >= 10**7 else None,
            )
        )
    out.append(
        Case(
            case="sessionize_table" + shape,
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=world + "tp = tp.take(perm)\ndel perm\n" + RULES,
            measure="jt = oj.sessionize(tp, rules)",
            report="{'journeys': len(jt), 'bytes_per_row': tp.nbytes / len(tp)}",
        )
    )
    out.append(
        Case(
            case="sessionize_sorted" + shape,
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=world + RULES,
            measure="jt = oj.sessionize(tp, rules)",
            report="{'journeys': len(jt)}",
        )
    )
    if shape:
        return out
    out.append(
        Case(
            case="breaks_segments_funnel",
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=WORLD.replace('.select(["customer", "time", "channel", "event"])', "")
            + RULES
            + "jt = oj.sessionize(tp, rules)\n"
            + "from omnijourney.journeys import FollowUpRule\n"
            + "rule = FollowUpRule(name='welcome', trigger_events=['signup'], "
            + "response_events=['welcome'], within='2D')\n",
            measure=(
                "b = oj.journeys.detect_breaks(jt)\n"
                "s = oj.journeys.appetence(jt)\n"
                "u = oj.journeys.funnel(jt, ['product_view', 'add_to_cart', "
                "{'purchase', 'order'}])\n"
                "f = oj.journeys.check_followups(jt, [rule])\n"
            ),
            report="{'breaks': len(b), 'customers': len(s), 'triggers': len(f)}",
        )
    )
    out.append(
        Case(
            case="pipeline",
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=WORLD
            + "raw = {'customer': tp.raw('customer')[perm].astype(np.int64),\n"
            + "       'time': tp.raw('time')[perm], 'channel': tp['channel'][perm],\n"
            + "       'event': tp['event'][perm]}\n"
            + "del tp, perm\n",
            measure=(
                "table = oj.TouchpointTable.from_columns(raw)\n"
                "jt = oj.sessionize(table)\n"
                "v = oj.journeys.variants(jt)\n"
                "b = oj.journeys.detect_breaks(jt)\n"
                "s = oj.journeys.appetence(jt)\n"
            ),
            report="{'journeys': len(jt), 'variants': len(v), 'breaks': len(b)}",
        )
    )
    return out


CASES = [case for n in SIZES for case in _cases(n)] + _cases(10**7, "_15")

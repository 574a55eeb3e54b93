"""Channel attribution: exact Markov, Shapley and the whole pipeline, against ChannelAttribution,
marketing-attribution-models (``mam``) and ``mta``.

The path tables are generated inside each process from the seed (not timed): ``n`` distinct
paths over 12 channels (about 2 conversions and 20 non-converting journeys a path, lengths
geometric with mean 3, channels following a random first-order chain, so that channels
repeat with loops), like ChannelAttribution's 10,000-path example, whose data is not shipped
here; and 750,000 distinct paths over 20 channels for the large cases.

- ``markov_o1`` / ``markov_o3``: removal-effect attribution of order 1 and 3 from the
  ``"a > b"`` strings (omnijourney: ``PathTable.from_strings`` + ``markov``; ChannelAttribution:
  ``markov_model`` with its defaults, a Monte-Carlo estimate; mam: ``run_markov``, which
  re-splits credit per journey). The report gives each tool's largest error, in
  conversions, against the exact solution.
- ``markov_o1_codes``: the same from integer-encoded paths (``PathTable.from_codes``);
  ``markov_o3_codes_full``: order 3 with ``windows="full"`` (every path's first steps are
  states of their own, read from the start).
- ``shapley``: exact Shapley over 12 channels (omnijourney, subset value), against mta's
  ``shapley`` (same value) and mam's ``run_shapley`` (conversion rate of exact sets, at most
  4 channels per coalition); ``shapley_20``: 20 channels, omnijourney only.
- ``pipeline``: sessionized journeys of ``n`` touchpoints (synthetic world, 100 touchpoints a
  customer; sessionizing is setup) -> ``PathTable.from_journeys`` -> every model
  (``compare_models``) and ``channel_roles``.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

SMALL = 10_000
LARGE = 750_000
PIPELINE = 10**7

DATA = """
import numpy as np

def make_paths(n, n_channels, seed):
    rng = np.random.default_rng(seed)
    step = rng.dirichlet(np.full(n_channels, 0.6), n_channels)
    np.fill_diagonal(step, 0.0)
    step /= step.sum(axis=1, keepdims=True)
    cum = np.cumsum(step, axis=1)
    first = np.cumsum(rng.dirichlet(np.ones(n_channels)))
    close = rng.uniform(0.02, 0.25, n_channels)  # conversion propensity of the last channel
    names = np.array([f"ch{i:02d}" for i in range(n_channels)], dtype=object)
    seen, rows = set(), []
    while len(rows) < n:
        m = int((n - len(rows)) * 1.3) + 16
        length = np.minimum(rng.geometric(1 / 3, m), 30)
        cur = np.searchsorted(first, rng.random(m) * first[-1])
        seqs = [[c] for c in cur.tolist()]
        for pos in range(1, int(length.max())):
            live = np.flatnonzero(length > pos)
            u = rng.random(live.size)[:, None]
            cur[live] = np.minimum((u > cum[cur[live]]).sum(axis=1), n_channels - 1)
            for i, c in zip(live.tolist(), cur[live].tolist()):
                seqs[i].append(c)
        for s in seqs:
            key = tuple(s)
            if key not in seen and len(rows) < n:
                seen.add(key)
                rows.append(s)
    lengths = np.array([len(s) for s in rows])
    codes = np.array([c for s in rows for c in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    last = codes[offsets[1:] - 1]
    journeys = rng.poisson(22.0, n) + 1
    conversions = rng.binomial(journeys, close[last]).astype(float)
    nulls = (journeys - conversions).astype(float)
    value = conversions * rng.lognormal(4.0, 0.4, n)
    paths = [" > ".join(names[s].tolist()) for s in rows]
    return names.tolist(), codes, offsets, paths, conversions, value, nulls

def exact_credit(paths, conversions, value, nulls, order):
    import omnijourney.attribution as A
    pt = A.PathTable.from_strings(paths, conversions, value, nulls)
    return A.markov(pt, order=order).as_dict()

def max_error(credit, paths, conversions, value, nulls, order):
    exact = exact_credit(paths, conversions, value, nulls, order)
    return round(max(abs(credit.get(k, 0.0) - v) for k, v in exact.items()), 3)
"""

# scipy.sparse is imported on first use; like the peers' imports, that one-time cost is setup
OJ = "import omnijourney.attribution as A\nimport scipy.sparse.linalg\n"
CA = """
import pandas as pd
import ChannelAttribution as ca
df = pd.DataFrame({"path": paths, "total_conversions": conversions,
                   "total_conversion_value": value, "total_null": nulls})
"""
MAM = """
import pandas as pd
from mam import MAM
df = pd.DataFrame({"path": paths * 2, "occ": np.concatenate([conversions, nulls]).astype(int),
                   "conv": [True] * len(paths) + [False] * len(paths)})
df = df[df["occ"] > 0]
"""
MTA = """
import pandas as pd
from mta import MTA
df = pd.DataFrame({"path": paths, "total_conversions": conversions, "total_null": nulls})
"""
ERR = "max_error({credit}, paths, conversions, value, nulls, {order})"


def _data(n: str, channels: int) -> str:
    return DATA + (
        f"names, codes, offsets, paths, conversions, value, nulls = make_paths({n}, {channels}, seed)\n"
    )


def _markov_cases(case: str, size: int, channels: int, order: int) -> list[Case]:
    data = _data("n", channels)
    oj_credit = "res.as_dict()"
    ca_credit = "dict(zip(res['channel_name'], res['total_conversions']))"
    out = [
        Case(
            case=case,
            tool=OMNIJOURNEY,
            size=size,
            unit="paths",
            setup=data + OJ,
            measure=(
                "pt = A.PathTable.from_strings(paths, conversions, value, nulls)\n"
                f"res = A.markov(pt, order={order})"
            ),
            report=f"{{'max_abs_error': {ERR.format(credit=oj_credit, order=order)}, "
            "'states': res.params['states']}",
        ),
        Case(
            case=case,
            tool="ChannelAttribution",
            size=size,
            unit="paths",
            setup=data + CA,
            measure=(
                "res = ca.markov_model(df, 'path', 'total_conversions', "
                "var_value='total_conversion_value', var_null='total_null', "
                f"order={order}, verbose=0)"
            ),
            report=f"{{'max_abs_error': {ERR.format(credit=ca_credit, order=order)}}}",
            requires=("ChannelAttribution", "pandas"),
            pip="ChannelAttribution",
        ),
    ]
    if order == 1 and size <= SMALL:
        out.append(
            Case(
                case=case,
                tool="mam",
                size=size,
                unit="paths",
                setup=data + MAM,
                measure=(
                    "m = MAM(df, format_type='format_3', channels_colname='path', "
                    "journey_with_conv_colname='conv', occurrences_colname='occ')\n"
                    "res = m.run_markov()"
                ),
                report="{'note': 'credit re-split per journey (another quantity)'}",
                requires=("mam", "pandas"),
                pip="marketing-attribution-models",
            )
        )
    return out


def _codes_case(size: int, channels: int, order: int, windows: str = "growing") -> Case:
    full = windows == "full"
    return Case(
        case=f"markov_o{order}_codes" + ("_full" if full else ""),
        tool=OMNIJOURNEY,
        size=size,
        unit="paths",
        setup=_data("n", channels) + OJ,
        measure=(
            "pt = A.PathTable.from_codes(codes, offsets, names, conversions, value, nulls)\n"
            f"res = A.markov(pt, order={order}" + (", windows='full')" if full else ")")
        ),
        report="{'states': res.params['states']}",
    )


def _shapley_cases() -> list[Case]:
    data = _data("n", 12)
    return [
        Case(
            case="shapley",
            tool=OMNIJOURNEY,
            size=SMALL,
            unit="paths",
            setup=data + OJ + "pt = A.PathTable.from_strings(paths, conversions, value, nulls)\n",
            measure="res = A.shapley(pt, value='subset', method='exact')",
            report="{'channels': pt.n_channels}",
        ),
        Case(
            case="shapley",
            tool="mta",
            size=SMALL,
            unit="paths",
            setup=data + MTA,
            measure="m = MTA(data=df, allow_loops=False, add_timepoints=False)\nm.shapley()",
            report="{'note': 'same subset value'}",
            requires=("mta", "pandas"),
            pip="mta",
        ),
        Case(
            case="shapley",
            tool="mam",
            size=SMALL,
            unit="paths",
            setup=data + MAM,
            measure=(
                "m = MAM(df, format_type='format_3', channels_colname='path', "
                "journey_with_conv_colname='conv', occurrences_colname='occ')\n"
                "res = m.run_shapley()"
            ),
            report="{'note': 'rate of exact sets, coalitions of at most 4'}",
            requires=("mam", "pandas"),
            pip="marketing-attribution-models",
        ),
        Case(
            case="shapley_20",
            tool=OMNIJOURNEY,
            size=100_000,
            unit="paths",
            setup=_data("n", 20) + OJ + "pt = A.PathTable.from_codes(codes, offsets, names, "
            "conversions, value, nulls)\n",
            measure="res = A.shapley(pt, value='rate_subset', method='exact')",
            report="{'channels': pt.n_channels}",
        ),
    ]


PIPELINE_SETUP = """
import omnijourney as oj
import omnijourney.attribution as A
world = oj.synth.generate(max(n // 100, 10), seed=seed, touchpoints_per_customer=100,
                          records=False, prices=False)
jt = oj.sessionize(world.touchpoints, oj.JourneyRules(journey_timeout="14D"))
del world
"""
PIPELINE_MEASURE = """
pt = A.PathTable.from_journeys(jt)
cmp = A.compare_models(pt)
roles = A.channel_roles(pt)
"""

CASES = [
    *_markov_cases("markov_o1", SMALL, 12, 1),
    *_markov_cases("markov_o3", SMALL, 12, 3),
    _codes_case(SMALL, 12, 1),
    *_markov_cases("markov_o1", LARGE, 20, 1),
    *_markov_cases("markov_o3", LARGE, 20, 3),
    _codes_case(LARGE, 20, 1),
    _codes_case(LARGE, 20, 3),
    _codes_case(LARGE, 20, 3, windows="full"),
    *_shapley_cases(),
    Case(
        case="pipeline",
        tool=OMNIJOURNEY,
        size=PIPELINE,
        unit="touchpoints",
        setup=PIPELINE_SETUP,
        measure=PIPELINE_MEASURE,
        report="{'journeys': len(jt), 'paths': pt.n_paths, 'models': len(cmp.models)}",
    ),
]

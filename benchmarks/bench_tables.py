"""Touchpoint tables: build, sort, and read from pandas, against pandas and polars recipes.

The data is ``n`` touchpoints over ``n / 100`` customers, generated with numpy from the seed
inside each process (not timed): integer customer ids, ``datetime64[us]`` times spread over
a year, and channel and event names as object arrays of 8 and 20 distinct strings.

- ``build``: a table from those arrays. omnijourney: ``TouchpointTable.from_columns``;
  pandas: ``DataFrame`` + ``pd.to_datetime`` + ``astype("category")`` on the string columns;
  polars: ``DataFrame`` + ``cast(pl.Categorical)``. Reports bytes per row of the result.
- ``sort``: the built table by (customer, time). omnijourney: ``table.sort()`` (canonical
  order: remaining ties broken by the other columns); pandas:
  ``sort_values(["customer", "time"], kind="stable")``; polars: ``sort(..., maintain_order=True)``.
- ``from_pandas_cat`` / ``from_pandas_str``: ``TouchpointTable.from_columns(df)`` on the
  pandas frame above (categorical string columns) or on one with plain string columns.
- ``from_csv``: the same touchpoints written to a CSV file (not timed: integer ids, ISO 8601
  times with ``Z``), read into a touchpoint table. omnijourney: ``TouchpointTable.from_csv``
  (pyarrow engine; ``from_csv_stdlib``: the standard-library engine, for installs without
  pyarrow); pyarrow: ``pyarrow.csv.read_csv`` + ``TouchpointTable.from_columns``; pandas:
  ``pd.read_csv(engine="pyarrow")`` + ``TouchpointTable.from_columns``.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

SIZES = (10**6, 10**7)

DATA = """
import numpy as np
rng = np.random.default_rng(seed)
CHANNELS = np.array(["web", "app", "store", "call_centre", "email", "sms", "social",
                     "marketplace"], dtype=object)
EVENTS = np.array(["page_view", "product_view", "search", "add_to_cart", "remove_from_cart",
                   "checkout", "purchase", "quote", "quote_signed", "reservation", "pickup",
                   "return", "call", "chat", "email_open", "email_click", "sms_click",
                   "store_visit", "appointment", "review"], dtype=object)
customer = rng.integers(0, max(n // 100, 1), n)
time = np.datetime64("2024-01-01", "us") + rng.integers(
    0, 366 * 86_400_000_000, n).astype("timedelta64[us]")
channel = CHANNELS[rng.integers(0, CHANNELS.size, n)]
event = EVENTS[rng.integers(0, EVENTS.size, n)]
columns = {"customer": customer, "time": time, "channel": channel, "event": event}
"""
DROP_INPUT = "\ndel columns, customer, time, channel, event\n"

# tool -> (import, build the frame from the arrays, bytes per row of the frame)
RECIPES = {
    OMNIJOURNEY: (
        "import omnijourney as oj\n",
        "table = oj.TouchpointTable.from_columns(columns)\n",
        "table.nbytes / len(table)",
    ),
    "pandas": (
        "import pandas as pd\n",
        """
df = pd.DataFrame({"customer": customer, "time": pd.to_datetime(time),
                   "channel": channel, "event": event})
df["channel"] = df["channel"].astype("category")
df["event"] = df["event"].astype("category")
""",
        "df.memory_usage(deep=True).sum() / len(df)",
    ),
    "polars": (
        "import polars as pl\n",
        """
df = pl.DataFrame(columns).with_columns(
    pl.col("channel").cast(pl.Categorical), pl.col("event").cast(pl.Categorical))
""",
        "df.estimated_size() / df.height",
    ),
}
SORTS = {
    OMNIJOURNEY: "out = table.sort()",
    "pandas": 'out = df.sort_values(["customer", "time"], kind="stable")',
    "polars": 'out = df.sort(["customer", "time"], maintain_order=True)',
}


def _digest(frame: str, tool: str) -> str:
    """Expression hashing (customer, time) of ``frame`` in row order."""
    if tool == OMNIJOURNEY:
        return f"digest({frame}['customer'], {frame}['time'])"
    return f"digest({frame}['customer'].to_numpy(), {frame}['time'].to_numpy())"


def _case(case: str, tool: str, n: int, setup: str, measure: str, report: str) -> Case:
    needs: tuple[str, ...] = ("pandas",) if case.startswith("from_pandas") else ()
    needs += () if tool == OMNIJOURNEY else (tool,)
    return Case(
        case=case,
        tool=tool,
        size=n,
        unit="rows",
        setup=DATA + setup,
        measure=measure,
        report=report,
        requires=needs,
        pip=" ".join(needs),
    )


def _build_and_sort(n: int) -> list[Case]:
    out = []
    for tool, (imports, build, nbytes) in RECIPES.items():
        frame = "table" if tool == OMNIJOURNEY else "df"
        report = f"{{'bytes_per_row': {nbytes}, 'check': {_digest(frame, tool)}}}"
        out.append(_case("build", tool, n, imports, build, report))
        sort_report = f"{{'check': {_digest('out', tool)}}}"
        out.append(_case("sort", tool, n, imports + build + DROP_INPUT, SORTS[tool], sort_report))
    return sorted(out, key=lambda c: c.case)


def _from_pandas(n: int) -> list[Case]:
    oj_import, _, oj_bytes = RECIPES[OMNIJOURNEY]
    pd_import, pd_build, pd_bytes = RECIPES["pandas"]
    report = f"{{'bytes_per_row': {oj_bytes}, 'pandas_bytes_per_row': {pd_bytes}}}"
    frames = {"from_pandas_cat": pd_build, "from_pandas_str": "df = pd.DataFrame(columns)\n"}
    measure = "table = oj.TouchpointTable.from_columns(df)"
    return [
        _case(case, OMNIJOURNEY, n, oj_import + pd_import + build + DROP_INPUT, measure, report)
        for case, build in frames.items()
    ]


CSV_FILE = """
import os
import tempfile
csv_path = os.path.join(tempfile.mkdtemp(prefix="oj-bench-"), "touchpoints.csv")
stamps = np.char.add(np.datetime_as_string(time, unit="s").astype(str), "Z")
with open(csv_path, "w") as f:
    f.write("customer,time,channel,event\\n")
    for lo in range(0, n, 100_000):
        rows = zip(customer[lo:lo + 100_000].tolist(), stamps[lo:lo + 100_000].tolist(),
                   channel[lo:lo + 100_000].tolist(), event[lo:lo + 100_000].tolist())
        f.write("".join(f"{c},{t},{ch},{e}\\n" for c, t, ch, e in rows))
del stamps, rows
"""
# tool -> (measured code, modules needed beyond omnijourney)
CSV_READS = {
    OMNIJOURNEY: ("table = oj.TouchpointTable.from_csv(csv_path)", ("pyarrow",)),
    "pyarrow": (
        "import pyarrow.csv as pacsv\n"
        "table = oj.TouchpointTable.from_columns(pacsv.read_csv(csv_path))",
        ("pyarrow",),
    ),
    "pandas": (
        "import pandas as pd\n"
        "table = oj.TouchpointTable.from_columns(pd.read_csv(csv_path, engine='pyarrow'))",
        ("pandas", "pyarrow"),
    ),
}


def _from_csv(n: int) -> list[Case]:
    setup = DATA + CSV_FILE + DROP_INPUT + "import omnijourney as oj\n"
    report = "{'check': digest(table['customer'], table['time'])}"
    out = [
        Case(case="from_csv", tool=tool, size=n, unit="rows", setup=setup, measure=measure,
             report=report, requires=needs, pip=" ".join(needs))
        for tool, (measure, needs) in CSV_READS.items()
    ]  # fmt: skip
    stdlib = "table = oj.TouchpointTable.from_csv(csv_path, engine='python')"
    out.append(
        Case(case="from_csv_stdlib", tool=OMNIJOURNEY, size=n, unit="rows", setup=setup,
             measure=stdlib, report=report)
    )  # fmt: skip
    return out


CASES = [
    case for n in SIZES for make in (_build_and_sort, _from_pandas, _from_csv) for case in make(n)
]

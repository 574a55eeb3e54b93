"""Import time: ``import omnijourney`` against its own dependencies and against pandas.

Each import runs in a fresh interpreter (seven times, median), with every package compiled to
bytecode beforehand, as ``pip install`` leaves it (an editable checkout run with
``PYTHONDONTWRITEBYTECODE`` would otherwise recompile omnijourney's sources at every import,
while the peers' installed bytecode is read). The report lists which heavy
optional modules the import pulled in: for omnijourney, pandas, pyarrow, polars and
matplotlib must not be among them (the run fails if they are).
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

WATCHED = ("numpy", "scipy", "narwhals", "pandas", "pyarrow", "polars", "matplotlib")
FORBIDDEN = ("pandas", "pyarrow", "polars", "matplotlib")

SETUP = "import sys\nbaseline = len(sys.modules)"
REPORT = (
    "{'modules': len(sys.modules) - baseline, "
    f"'loaded': '+'.join(m for m in {WATCHED!r} if m in sys.modules) or 'none'"
    "}"
)
# 'failed' names the forbidden modules that were imported (empty when none)
OURS_REPORT = REPORT[:-1] + (
    f", 'failed': ' '.join(m for m in {FORBIDDEN!r} if m in sys.modules)" + "}"
)


def _compile_omnijourney() -> None:
    """Write the bytecode of omnijourney's sources, found without importing the package.

    Runs in the parent process, so that the timed children import nothing more for it.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("omnijourney")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)


_compile_omnijourney()


def _case(tool: str, statement: str, report: str, requires: tuple[str, ...]) -> Case:
    return Case(
        case="import",
        tool=tool,
        size=None,
        unit="",
        setup=SETUP,
        measure=statement,
        report=report,
        requires=requires,
        pip=" ".join(requires),
        repeat=7,
    )


CASES = [
    _case(OMNIJOURNEY, "import omnijourney", OURS_REPORT, ("omnijourney",)),
    _case(
        "numpy+scipy+attrs+cattrs",
        "import numpy, scipy, attrs, cattrs",
        REPORT,
        ("numpy", "scipy", "attrs", "cattrs"),
    ),
    _case("pandas", "import pandas", REPORT, ("pandas",)),
]

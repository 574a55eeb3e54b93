"""Print pip constraints that pin every dependency to the floor pyproject.toml declares.

``python .ci/min_constraints.py [extra ...]`` reads ``[project].dependencies`` and the named
optional extras (default: ``test``) and prints ``name==floor`` for each ``name>=floor``, so
that ``pip install -c <this output> -e ".[test]"`` installs the oldest versions the project
claims to support. A dependency without a ``>=`` floor is an error: every floor is tested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?$")


def constraints(extras: list[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    out: dict[str, str] = {}
    for req in requirements:
        if req.startswith("omnijourney"):
            continue  # an extra made of other extras
        match = _FLOOR.match(req)
        if match is None:
            raise SystemExit(f"no '>=' floor in {req!r}: every dependency needs one")
        name, version = match.group(1).lower(), match.group(3)
        out[name] = f"{name}=={version}"
    return sorted(out.values())


if __name__ == "__main__":
    print("\n".join(constraints(sys.argv[1:] or ["test"])))

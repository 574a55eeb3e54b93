"""The package surface: light import, public names documented, CLI entry points."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import omnijourney as oj


def test_import_does_not_pull_optional_dependencies():
    code = (
        "import sys, omnijourney;"
        "heavy = [m for m in ('pandas', 'pyarrow', 'polars', 'matplotlib', 'pyspark', 'narwhals',"
        " 'scipy.sparse', 'scipy.optimize') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


ROOT = Path(__file__).resolve().parent.parent
API_INDEX = (ROOT / "docs" / "api" / "omnijourney.md").read_text()


@pytest.mark.parametrize("name", oj.__all__)
def test_every_public_name_imports_and_is_documented(name):
    """Classes, functions and modules carry their own docstring; data (constants, the
    version) carry a ``#:`` comment where they are defined, or are described on the API
    page: a tuple's or a string's ``__doc__`` is its type's, which says nothing."""
    obj = getattr(oj, name)
    assert name in dir(oj)
    if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
        assert f"[`{name}`]" in API_INDEX or inspect.ismodule(obj), f"{name} not on the API page"
        return
    if name == "__version__":
        assert obj == importlib.metadata.version("omnijourney")
        assert re.fullmatch(r"\d+\.\d+\.\d+(\.?(a|b|rc|dev|post)\d+)*", obj)
        assert "`oj.__version__`" in API_INDEX
        return
    # a constant: described on the API page and by a "#:" comment at its definition
    assert f"[`{name}`]" in API_INDEX, f"{name} is not on the API page"
    module = importlib.import_module(obj_module(name))
    source = inspect.getsource(module).splitlines()
    at = next(i for i, line in enumerate(source) if re.match(rf"{name}\b.*=", line))
    assert source[at - 1].startswith("#:"), f"{name} has no '#:' comment in {module.__name__}"


def obj_module(name: str) -> str:
    """The module that defines a public constant (the first submodule that has it)."""
    for mod in ("omnijourney.model", "omnijourney.tables", "omnijourney.time", "omnijourney"):
        if name in vars(importlib.import_module(mod)):
            return mod
    raise AssertionError(f"{name} is defined nowhere")


def test_errors_inherit_the_natural_builtins():
    assert issubclass(oj.DataError, ValueError) and issubclass(oj.SchemaError, ValueError)
    assert issubclass(oj.ConfigError, ValueError)
    assert issubclass(oj.ConvergenceError, RuntimeError)
    assert all(
        issubclass(e, oj.OmnijourneyError)
        for e in (oj.DataError, oj.SchemaError, oj.ConfigError, oj.ConvergenceError)
    )


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        oj.nope  # noqa: B018

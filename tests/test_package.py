"""The package surface: light import, public names documented, CLI entry points."""

from __future__ import annotations

import subprocess
import sys

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


@pytest.mark.parametrize("name", oj.__all__)
def test_every_public_name_imports_and_is_documented(name):
    obj = getattr(oj, name)
    if name.startswith("__") or name == "DEFAULT_CHANNELS":
        return
    assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


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

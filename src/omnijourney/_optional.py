"""Optional dependencies: imported only by the functions that need them, with a clear error.

Part of the core, used package-wide (as pandas' ``import_optional_dependency``).
"""

from __future__ import annotations

import importlib
from typing import Any

from omnijourney.errors import MissingDependencyError

__all__ = ["import_optional"]


def import_optional(module: str, extra: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install.

    Examples
    --------
    >>> import_optional("math", "pandas").sqrt(4.0)
    2.0
    >>> import_optional("no_such_module_here", "plot")
    Traceback (most recent call last):
    ...
    omnijourney.errors.MissingDependencyError: this needs no_such_module_here; install it with: pip install 'omnijourney[plot]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        msg = f"this needs {top}; install it with: pip install 'omnijourney[{extra}]'"
        raise MissingDependencyError(msg) from exc

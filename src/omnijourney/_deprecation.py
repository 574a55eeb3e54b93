"""Deprecations shared by the capabilities: a parameter that was renamed keeps its old name.

Public names are deprecated, never broken: an old keyword still works and says, in a
:class:`DeprecationWarning`, which name replaces it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["renamed_parameters"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_parameters(**renamed: str) -> Callable[[F], F]:
    """Accept the old keyword name of renamed parameters (``old="new"``), with a
    :class:`DeprecationWarning` naming the new one; passing both is a ``TypeError``.

    The signature shown by ``help`` and the documentation is the function's own (new names).

    Examples
    --------
    >>> @renamed_parameters(jt="journeys")
    ... def count(journeys):
    ...     return len(journeys)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     n = count(jt=[1, 2])
    >>> n, str(caught[0].message)
    (2, "count(): the 'jt' parameter is deprecated; use 'journeys'")
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        msg = f"{func.__name__}() got both {old!r} (deprecated) and {new!r}"
                        raise TypeError(msg)
                    warnings.warn(
                        f"{func.__name__}(): the {old!r} parameter is deprecated; use {new!r}",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return cast(F, inner)

    return wrap

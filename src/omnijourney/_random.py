"""One randomness convention: every random part takes ``seed``, an int or a numpy Generator.

An integer seeds a new :class:`numpy.random.Generator` (the same integer gives the same draws on
every run and machine); a Generator is used as given, so that a caller can thread one generator
through several calls (SPEC 7 of the scientific Python ecosystem). Defaults are fixed integers,
so that two runs of the same call agree unless the caller asks otherwise.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from omnijourney.errors import ConfigError

__all__ = ["Seed", "as_generator"]

#: What a ``seed`` parameter accepts.
Seed = Union[int, np.random.Generator]


def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from an int (>= 0) or a Generator.

    Examples
    --------
    >>> as_generator(7).integers(100) == as_generator(7).integers(100)
    np.True_
    >>> g = np.random.default_rng(1)
    >>> as_generator(g) is g
    True
    >>> as_generator(-1)
    Traceback (most recent call last):
    ...
    omnijourney.errors.ConfigError: The 'seed' parameter must be an integer >= 0 or a numpy.random.Generator. Got -1 instead.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.default_rng(int(seed))
    msg = (
        f"The {name!r} parameter must be an integer >= 0 or a numpy.random.Generator. "
        f"Got {seed!r} instead."
    )
    raise ConfigError(msg)

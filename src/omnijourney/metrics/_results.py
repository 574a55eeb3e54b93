"""Equality of measurement results: tables by content, arrays and floats with NaN equal to NaN,
so that a result read back from JSON (``oj.from_json(oj.to_json(r), type(r))``) equals ``r``."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from omnijourney.tables import Table

__all__ = ["result_eq"]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Table) or isinstance(b, Table):
        return isinstance(a, Table) and a.equals(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        floats = a.dtype.kind == "f" and b.dtype.kind == "f"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=floats))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def result_eq(self: Any, other: Any) -> Any:
    """``==`` of two results of one attrs class, field by field (fields with ``eq=False``
    left out)."""
    if type(other) is not type(self):
        return NotImplemented
    return all(
        _same(getattr(self, f.name), getattr(other, f.name))
        for f in attrs.fields(type(self))
        if f.eq
    )

"""What every Spark entry point shares: the optional import and checks of a DataFrame's
columns made on the driver, before any job is launched."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError


def require_spark() -> Any:
    """The ``pyspark.sql`` module, or a MissingDependencyError naming the ``spark`` extra."""
    import_optional("pyspark", "spark")
    from pyspark import sql

    return sql


def require_columns(df: Any, columns: Iterable[str], *, where: str) -> None:
    """Refuse a DataFrame that lacks one of ``columns`` (checked on the schema, no job)."""
    if not hasattr(df, "schema") or not hasattr(df, "columns"):
        msg = f"{where}: expected a pyspark.sql.DataFrame, got {type(df).__name__}"
        raise ConfigError(msg)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{where}: the DataFrame has no column {missing[0]!r} (columns: {df.columns})"
        raise ConfigError(msg)

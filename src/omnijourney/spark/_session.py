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


def spark_schema(frame: Any, given: dict[str, Any] | None = None) -> Any:
    """The Spark schema of a local result's pandas frame (its columns and kinds); ``given``
    sets the type of some columns (a key column as the input DataFrame holds it)."""
    import pandas as pd
    from pyspark.sql import types as T

    if frame is None:
        msg = "the DataFrame has no rows to read the result's columns from"
        raise ConfigError(msg)
    given = given or {}
    fields = []
    for name, dtype in frame.dtypes.items():
        if name in given:
            kind: Any = given[name]
        elif pd.api.types.is_bool_dtype(dtype):
            kind = T.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = T.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = T.DoubleType()
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = T.TimestampType()
        else:
            kind = T.StringType()
        fields.append(T.StructField(str(name), kind, True))
    return T.StructType(fields)

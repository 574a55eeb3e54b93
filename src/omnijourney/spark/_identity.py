"""Identity resolution on Spark: the clusters of :func:`omnijourney.resolve`, part by part.

What depends on the whole data is fixed on the driver first: the rules and both models
(given, or fitted by the local resolve on a sample of the records chosen by a hash of their
ids), and the country national phone numbers are read in. The records are then normalized
per partition with the local normalization; the counts over all records that scoring reads
(identifier values, term frequencies, block sizes) are counted in Spark. Records sharing a
block key under its cap, or a value of an identifier held by few enough records to be read,
are joined by an edge: the connected components of that graph hold every candidate pair and
every count a pair's levels depend on, so each group of components is resolved by the local
pipeline (given those counts) and finds the clusters the local run on all records finds.
Ids are ranks of each cluster's first record in the canonical order (source, record id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._validation import check_positive_int
from omnijourney.errors import ConfigError
from omnijourney.identity._contacts import infer_phone_country
from omnijourney.identity._fellegi_sunter import FellegiSunterModel
from omnijourney.identity._known import Known
from omnijourney.identity._records import CustomerRecordTable, normalize_records
from omnijourney.identity._resolve import resolve as local_resolve
from omnijourney.identity._resolve import resolve_part
from omnijourney.identity._rules import KEY_FIELDS, ResolutionRules
from omnijourney.spark._components import connected_components
from omnijourney.spark._session import require_columns, require_spark

__all__ = ["resolve"]

_FIELDS = tuple(spec.name for spec in CustomerRecordTable.schema)
# distinct phone numbers the country is inferred from (as the local normalization does)
_INFER_SAMPLE = 20_000


@attrs.frozen
class _Plan:
    """What every part reads: rules, models and the fields counted over the whole."""

    rules: ResolutionRules
    model: FellegiSunterModel
    person_model: FellegiSunterModel | None
    fields: tuple[str, ...]
    keys: tuple[str, ...]
    counted: tuple[str, ...]


def resolve(
    records: Any,
    rules: ResolutionRules | None = None,
    *,
    model: FellegiSunterModel | None = None,
    person_model: FellegiSunterModel | None = None,
    columns: Mapping[str, str] | None = None,
    sample: int = 100_000,
    partitions: int | None = None,
) -> Any:
    """Resolve a Spark DataFrame of customer records into persons inside households, as
    :func:`omnijourney.resolve` does with the same rules and models.

    Parameters
    ----------
    records : pyspark.sql.DataFrame
        One row per record of any source, with a record id unique within its source.
    rules : ResolutionRules, optional
        With models: the rules of the resolution they come from (``res.rules``, comparisons
        and blocking concrete). Without: the rules the models are fitted with on the sample.
    model, person_model : FellegiSunterModel, optional
        Models of an earlier resolution (``res.model``, ``res.person_model``), used as they
        are. Default: both fitted on the driver by the local :func:`omnijourney.resolve` of
        a sample of the records.
    columns : mapping of str to str, optional
        Library column (``source``, ``record_id``, ``first_name``, ``email``...; see
        :class:`~omnijourney.identity.CustomerRecordTable`) -> column of ``records``.
        Default: the columns of ``records`` named as library columns. ``record_id`` is
        required; without ``source`` every record is of the source ``"records"``.
    sample : int
        About how many records the models are fitted on when none are given: records are
        chosen by a hash of their source and id, so the sample is the same for any
        partitioning.
    partitions : int, optional
        How many groups of components are resolved in parallel (default: the
        DataFrame's partitions). The result does not depend on it.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per record: ``source``, ``record_id`` (as ``records`` holds them),
        ``person_id`` and ``household_id`` (those of :func:`omnijourney.resolve`: clusters
        numbered from 1 in the order of their first record by source and record id) and
        ``component`` (the blocking component the record was resolved in, named by the
        rank of its first record from 0).

    Raises
    ------
    ConfigError
        A column is missing, only one model is given, or models are given without the
        concrete rules of their resolution (checked on the driver, before any job).
    SchemaError, DataError
        A source or record id is null, or a record id is used twice in a source: the error
        the local table raises, on the offending rows (found by one aggregation).

    Notes
    -----
    See :doc:`/spark` for what runs on the driver and for the size of the blocking
    components: chains of records through block keys and identifiers make them, and every
    component is resolved on one executor.

    Examples
    --------
    >>> res = resolve(records_df, columns={"record_id": "id"})  # doctest: +SKIP
    >>> res.groupBy("person_id").count().orderBy("count", ascending=False).show()  # doctest: +SKIP
    """
    sql = require_spark()
    F = sql.functions
    check_positive_int(sample, "sample")
    if partitions is not None:
        check_positive_int(partitions, "partitions")
    mapping = _mapping(records, columns)
    if person_model is not None and model is None:
        msg = "spark.resolve: a person_model is read with the link model: give both"
        raise ConfigError(msg)
    if model is not None and (rules is None or rules.comparisons is None or not rules.blocking):
        msg = (
            "spark.resolve: models are read with the rules of the resolution they come from; "
            "pass them too (spark.resolve(df, res.rules, model=res.model, "
            "person_model=res.person_model))"
        )
        raise ConfigError(msg)
    if model is not None and person_model is None and rules is not None and rules.households:
        msg = "spark.resolve: rules with households read a person model: give person_model too"
        raise ConfigError(msg)
    frame = records.select(*(F.col(c).alias(name) for name, c in mapping.items()))
    if "source" not in mapping:
        frame = frame.withColumn("source", F.lit("records"))
    fields = tuple(c for c in frame.columns if c not in ("source", "record_id"))
    frame = frame.select("source", "record_id", *fields)
    _check_ids(frame, F)
    plan = _plan(frame, rules, model, person_model, sample, F)
    # checkpoints: each of these is read several times and would be recomputed each time
    nodes = _ranked(frame, ["source", "record_id"], "node").localCheckpoint(eager=True)
    normalized = nodes.mapInPandas(_normalizer(plan), _normalized_schema(plan, sql))
    stats, edges = _stats(normalized, plan, F, sql)
    comps = connected_components(edges, nodes=nodes.select("node")).localCheckpoint(eager=True)
    parts = partitions or max(1, records.rdd.getNumPartitions())
    work = nodes.join(stats, on="node").join(comps, on="node")
    work = work.withColumn("part", F.pmod(F.xxhash64("component"), F.lit(parts)))
    schema = "node long, person_first long, household_first long"
    clusters = work.groupBy("part").applyInPandas(_resolver(plan), schema)
    clusters = clusters.localCheckpoint(eager=True)
    person = _ranked(clusters.select("person_first").distinct(), ["person_first"], "person_id")
    household = _ranked(
        clusters.select("household_first").distinct(), ["household_first"], "household_id"
    )
    out = (
        nodes.select("node", "source", "record_id")
        .join(clusters, on="node")
        .join(person, on="person_first")
        .join(household, on="household_first")
        .join(comps, on="node")
    )
    return out.select(
        "source",
        "record_id",
        (F.col("person_id") + 1).alias("person_id"),
        (F.col("household_id") + 1).alias("household_id"),
        F.col("component"),
    )


def _mapping(records: Any, columns: Mapping[str, str] | None) -> dict[str, str]:
    """Library column -> DataFrame column, checked on the schema (no job)."""
    require_columns(records, (), where="spark.resolve")
    if columns is None:
        mapping = {c: c for c in records.columns if c in _FIELDS}
    else:
        unknown = [name for name in columns if name not in _FIELDS]
        if unknown:
            msg = (
                f"spark.resolve: {unknown[0]!r} is not a column of customer records "
                f"(columns: {', '.join(_FIELDS)})"
            )
            raise ConfigError(msg)
        mapping = dict(columns)
    require_columns(records, list(mapping.values()), where="spark.resolve")
    if "record_id" not in mapping:
        msg = (
            "spark.resolve: the records need a record id (columns={'record_id': ...}); "
            "row numbers depend on the partitioning"
        )
        raise ConfigError(msg)
    return mapping


def _check_ids(frame: Any, F: Any) -> None:
    """Null ids and ids used twice in a source raise the local table's error, read on the
    offending rows (one aggregation)."""
    null = frame.where(F.col("source").isNull() | F.col("record_id").isNull()).limit(3)
    twice = (
        frame.groupBy("source", "record_id")
        .count()
        .where(F.col("count") > 1)
        .limit(3)
        .join(frame, on=["source", "record_id"])
        .select(*frame.columns)
    )
    bad = null.unionByName(twice).limit(6).toPandas()
    if len(bad):
        CustomerRecordTable.from_columns(bad)


def _plan(
    frame: Any,
    rules: ResolutionRules | None,
    model: FellegiSunterModel | None,
    person_model: FellegiSunterModel | None,
    sample: int,
    F: Any,
) -> _Plan:
    """Rules and models fixed on the driver, and the phone country of the whole data."""
    if model is None or rules is None:
        total = frame.count()
        keep = F.pmod(F.xxhash64("source", "record_id"), F.lit(1_000_003))
        chosen = frame.where(keep < F.lit(int(1_000_003 * min(1.0, sample / max(total, 1)))))
        local = chosen.toPandas().sort_values(["source", "record_id"], ignore_index=True)
        fitted = local_resolve(CustomerRecordTable.from_columns(local), rules)
        rules, model, person_model = fitted.rules, fitted.model, fitted.person_model
    if rules.normalize.default_country is None and "phone" in frame.columns:
        country = _phone_country(frame, F)
        if country is not None:
            normalize = attrs.evolve(rules.normalize, default_country=country)
            rules = attrs.evolve(rules, normalize=normalize)
    fields = tuple(c for c in frame.columns if c not in ("source", "record_id"))
    blocked = {f for rule in rules.blocking or () for f in rule.fields}
    tf = {c.field for c in model.comparisons if c.tf_adjust}
    if tf and not model.tf_priors:
        msg = (
            "spark.resolve: the model has no term-frequency priors; pass the model of a "
            "resolution (res.model), which stores them"
        )
        raise ConfigError(msg)
    keys = tuple(f for f in KEY_FIELDS if f in fields)
    counted = tuple(sorted((set(keys) | tf | blocked) & _normalized_fields(fields)))
    return _Plan(rules, model, person_model, fields, keys, counted)


def _normalized_fields(fields: tuple[str, ...]) -> set[str]:
    """Normalized fields made from these columns (read on one empty record)."""
    empty = CustomerRecordTable.from_columns(
        {"source": ["s"], "record_id": ["r"], **{f: [None] for f in fields}}
    )
    return set(normalize_records(empty, infer_country=False).fields)


def _phone_country(frame: Any, F: Any) -> str | None:
    """The country of the whole data's phone numbers, read as the local normalization does:
    on a spread sample of the distinct numbers in sorted order."""
    phones = frame.select(F.col("phone").cast("string").alias("phone")).where(
        F.col("phone").isNotNull()
    )
    distinct = _ranked(phones.distinct(), ["phone"], "at")
    n = distinct.count()
    step = max(1, n // _INFER_SAMPLE)
    texts = distinct.where(F.col("at") % step == 0).orderBy("at").toPandas()["phone"]
    return infer_phone_country(texts.tolist())


def _ranked(df: Any, order: list[str], name: str) -> Any:
    """``df`` with the rank of each row (from 0) in the order of ``order`` (a distributed
    sort; ties are not expected)."""
    from pyspark.sql import types as T

    ordered = df.orderBy(*order)
    rows = ordered.rdd.zipWithIndex().map(lambda p: (*p[0], p[1]))
    schema = T.StructType([*ordered.schema.fields, T.StructField(name, T.LongType(), False)])
    return df.sparkSession.createDataFrame(rows, schema)


def _normalized_schema(plan: _Plan, sql: Any) -> Any:
    T = sql.types
    return T.StructType(
        [T.StructField("node", T.LongType(), False)]
        + [T.StructField(f"n_{f}", T.StringType(), True) for f in plan.counted]
    )


def _normalizer(plan: _Plan) -> Any:
    """Per partition: each record's normalized value of the counted fields (as text)."""

    def run(chunks: Any) -> Any:
        import pandas as pd

        for chunk in chunks:
            if not len(chunk):
                continue
            table = CustomerRecordTable.from_columns(chunk.drop(columns=["node"]))
            norm = normalize_records(table, plan.rules.normalize, infer_country=False)
            out = {"node": chunk["node"].to_numpy()}
            for f in plan.counted:
                values = norm[f].values()
                out[f"n_{f}"] = [None if v is None else str(v) for v in values.tolist()]
            yield pd.DataFrame(out)

    return run


def _stats(normalized: Any, plan: _Plan, F: Any, sql: Any) -> tuple[Any, Any]:
    """Per record, the counts over the whole of its counted values (``c_<field>``) and
    whether its block of each rule is over the cap (``skip_<rule>``); the edges of records
    sharing a block key under its cap or an identifier value that is read."""
    W = sql.Window
    rules = plan.rules
    df = normalized
    for f in plan.counted:
        n = F.col(f"n_{f}")
        count = F.count(F.lit(1)).over(W.partitionBy(n))
        df = df.withColumn(f"c_{f}", F.when(n.isNull(), F.lit(0)).otherwise(count))
    capped = {}
    for f in plan.counted:
        n = F.col(f"n_{f}")
        if f in plan.keys:
            n = F.when(F.col(f"c_{f}") <= rules.key_max_records, n)
        capped[f] = n
    edges = []
    for f in plan.keys:
        if f in plan.counted:
            edges.append(_star(df, capped[f], F, W))
    for r, rule in enumerate(rules.blocking or ()):
        if not all(f in plan.counted for f in rule.fields):
            df = df.withColumn(f"skip_{r}", F.lit(False))
            continue
        parts = [capped[f] for f in rule.fields]
        valid = parts[0].isNotNull()
        for p in parts[1:]:
            valid = valid & p.isNotNull()
        key = F.when(valid, F.concat_ws("\x1f", *parts))
        size = F.count(F.lit(1)).over(W.partitionBy(key))
        df = df.withColumn(f"b_{r}", key)
        df = df.withColumn(f"skip_{r}", F.col(f"b_{r}").isNotNull() & (size > rule.max_block_size))
        edges.append(_star(df.where(~F.col(f"skip_{r}")), F.col(f"b_{r}"), F, W))
    df = df.localCheckpoint(eager=True)
    n_rules = len(rules.blocking or ())
    stats = df.select(
        "node", *(f"c_{f}" for f in plan.counted), *(f"skip_{r}" for r in range(n_rules))
    )
    all_edges = edges[0]
    for e in edges[1:]:
        all_edges = all_edges.unionByName(e)
    return stats, all_edges


def _star(df: Any, key: Any, F: Any, W: Any) -> Any:
    """Edges from each record with a key to the first record (smallest node) of its key."""
    keyed = df.select("node", key.alias("key")).where(F.col("key").isNotNull())
    first = F.min("node").over(W.partitionBy("key"))
    return keyed.select(F.col("node").alias("src"), first.alias("dst"))


def _resolver(plan: _Plan) -> Any:
    """Per group of components: the local resolution given the counts over the whole; each
    record's cluster named by its first record (smallest node)."""
    n_rules = len(plan.rules.blocking or ())
    lib = ["source", "record_id", *plan.fields]

    def run(part: Any) -> Any:
        import pandas as pd

        part = part.sort_values("node", ignore_index=True)
        table = CustomerRecordTable.from_columns(part[lib])
        known = Known(
            counts={f: part[f"c_{f}"].to_numpy(np.int64) for f in plan.counted},
            skipped={r: part[f"skip_{r}"].to_numpy(bool) for r in range(n_rules)},
        )
        res = resolve_part(table, plan.rules, plan.model, plan.person_model, known)
        node = part["node"].to_numpy(np.int64)
        person = pd.Series(node).groupby(res.person_id).transform("min")
        household = pd.Series(node).groupby(res.household_id).transform("min")
        return pd.DataFrame(
            {
                "node": node,
                "person_first": person.to_numpy(np.int64),
                "household_first": household.to_numpy(np.int64),
            }
        )

    return run

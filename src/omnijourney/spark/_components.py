"""Connected components of a graph held in a Spark DataFrame of edges, with DataFrame
operations only: the large-star / small-star method of Kiveris et al. (2014).

Every node ends up labelled with the smallest node id of its component, which is what
:func:`scipy.sparse.csgraph.connected_components` finds up to the numbering of the
components.
"""

from __future__ import annotations

from typing import Any

from omnijourney._validation import check_positive_int
from omnijourney.errors import ConvergenceError, DataError
from omnijourney.spark._session import require_columns, require_spark

__all__ = ["connected_components"]


def connected_components(
    edges: Any,
    *,
    src: str = "src",
    dst: str = "dst",
    nodes: Any = None,
    node: str = "node",
    max_iterations: int = 100,
) -> Any:
    """Label every node of an undirected graph with the smallest node id of its component.

    Parameters
    ----------
    edges : pyspark.sql.DataFrame
        One row per edge, with two integer columns (``src`` and ``dst``); direction,
        duplicates and self-loops do not matter.
    src, dst : str
        The names of the edge columns.
    nodes : pyspark.sql.DataFrame, optional
        The nodes, in a column named ``node``: nodes without an edge are their own
        component. Default: the nodes that appear in ``edges``.
    node : str
        The node column of ``nodes``, and of the result.
    max_iterations : int
        Rounds of large-star and small-star before giving up with a ConvergenceError. The
        method needs O(log^2 n) rounds at worst, a handful in practice.

    Returns
    -------
    pyspark.sql.DataFrame
        Two columns: ``node`` and ``component`` (the smallest node id of the component),
        one row per node.

    Raises
    ------
    ConfigError
        A column is missing or a parameter is not a positive integer.
    DataError
        A node id is null (checked with one aggregation before the rounds start).
    ConvergenceError
        No fixed point after ``max_iterations`` rounds.

    Notes
    -----
    Large-star links every neighbour larger than a node to the smallest node of its
    neighbourhood; small-star links a node and its smaller neighbours to the smallest of
    them. Both keep the components, and their alternation ends with every component a
    star around its smallest node (Kiveris, Lattanzi, Mirrokni, Rastogi and
    Vassilvitskii, "Connected Components in MapReduce and Beyond", SoCC 2014). The
    fixed point is tested after each small-star: no edge points to a node that itself
    points further down.

    Examples
    --------
    >>> edges = spark.createDataFrame([(1, 2), (2, 3), (7, 5)], ["src", "dst"])  # doctest: +SKIP
    >>> connected_components(edges).orderBy("node").show()  # doctest: +SKIP
    """
    sql = require_spark()
    F = sql.functions
    check_positive_int(max_iterations, "max_iterations")
    require_columns(edges, (src, dst), where="connected_components")
    if nodes is not None:
        require_columns(nodes, (node,), where="connected_components (nodes)")

    # (u, v) with u > v: each undirected edge once, self-loops dropped
    pairs = edges.select(F.col(src).cast("long").alias("a"), F.col(dst).cast("long").alias("b"))
    nulls = pairs.where(F.col("a").isNull() | F.col("b").isNull()).limit(1).collect()
    if nulls:
        column = src if nulls[0]["a"] is None else dst
        msg = f"connected_components: null node id in column {column!r} of the edges"
        raise DataError(msg, column=column)
    current = (
        pairs.where(F.col("a") != F.col("b"))
        .select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v"))
        .distinct()
    )
    for _ in range(max_iterations):
        # a local checkpoint per round: each round reads the last one twice, so a plan
        # left to grow would double with every round
        current = _small_star(_large_star(current, F), F).localCheckpoint(eager=True)
        if _is_star_forest(current, F):
            break
    else:
        msg = f"connected_components: no fixed point after {max_iterations} rounds"
        raise ConvergenceError(msg)

    labels = current.select(F.col("u").alias(node), F.col("v").alias("component"))
    roots = current.select(F.col("v").alias(node)).distinct()
    roots = roots.select(node, F.col(node).alias("component"))
    labelled = labels.unionByName(roots)
    if nodes is None:
        return labelled
    alone = (
        nodes.select(F.col(node).cast("long").alias(node))
        .where(F.col(node).isNotNull())
        .distinct()
        .join(labelled.select(node), on=node, how="left_anti")
        .select(node, F.col(node).alias("component"))
    )
    return labelled.unionByName(alone)


def _large_star(edges: Any, F: Any) -> Any:
    """Each node u links its neighbours larger than u to m(u), the smallest node of u's
    neighbourhood (u included). Edges in, edges out, as (u, v) with u > v."""
    both = edges.select("u", "v").unionByName(
        edges.select(F.col("v").alias("u"), F.col("u").alias("v"))
    )
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.first("u")).alias("m"))
    larger = both.where(F.col("v") > F.col("u")).join(smallest, on="u")
    out = larger.select(F.col("v").alias("u"), F.col("m").alias("v"))
    return out.where(F.col("u") != F.col("v")).distinct()


def _small_star(edges: Any, F: Any) -> Any:
    """Each node u links itself and its neighbours smaller than u to the smallest of them.
    Edges (u, v) with u > v in and out."""
    smallest = edges.groupBy("u").agg(F.min("v").alias("m"))
    linked = edges.join(smallest, on="u").select(F.col("v").alias("a"), F.col("m").alias("b"))
    own = smallest.select(F.col("u").alias("a"), F.col("m").alias("b"))
    out = linked.unionByName(own).where(F.col("a") != F.col("b"))
    return out.select(F.col("a").alias("u"), F.col("b").alias("v")).distinct()


def _is_star_forest(edges: Any, F: Any) -> bool:
    """True when no edge points to a node that has an edge of its own down: every node
    then points straight to its component's smallest node, and each node points once."""
    down = edges.select(F.col("u").alias("v")).distinct()
    chained = edges.join(down, on="v", how="inner").limit(1).count()
    if chained:
        return False
    several = edges.groupBy("u").count().where(F.col("count") > 1).limit(1).count()
    return several == 0

"""Connected components on Spark equal scipy's on random graphs, node for node."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from omnijourney.errors import ConfigError, DataError

pytest.importorskip("pyspark")
pd = pytest.importorskip("pandas")
S = pytest.importorskip("omnijourney.spark")

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _reference(n: int, src: np.ndarray, dst: np.ndarray) -> dict[int, int]:
    """Each node's smallest component member, from scipy's labels."""
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, labels = scipy_components(graph, directed=False)
    smallest = np.full(labels.max() + 1 if n else 0, n)
    np.minimum.at(smallest, labels, np.arange(n))
    return {i: int(smallest[labels[i]]) for i in range(n)}


def _run(spark, n, src, dst, **kwargs):
    edges = spark.createDataFrame(pd.DataFrame({"src": src, "dst": dst}, dtype="int64"))
    nodes = spark.createDataFrame(pd.DataFrame({"node": np.arange(n, dtype=np.int64)}))
    got = S.connected_components(edges, nodes=nodes, **kwargs).collect()
    return {int(r["node"]): int(r["component"]) for r in got}, len(got)


def test_a_hand_drawn_graph(spark):
    # 0-1-2 chain, 3 alone, 4-5 and 5-6 and a loop 6-6, 9-8 written backwards, 7 alone
    src = np.array([0, 1, 4, 5, 6, 9])
    dst = np.array([1, 2, 5, 6, 6, 8])
    got, rows = _run(spark, 10, src, dst)
    assert rows == 10
    assert got == {0: 0, 1: 0, 2: 0, 3: 3, 4: 4, 5: 4, 6: 4, 7: 7, 8: 8, 9: 8}


def _graphs(seed: int, count: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``count`` random graphs of 1 to 40 nodes and 0 to 2 edges per node, as one graph
    (their disjoint union: node ids offset), so that one Spark run checks them all."""
    rng = np.random.default_rng(seed)
    n, src, dst = 0, [], []
    for _ in range(count):
        size = int(rng.integers(1, 41))
        m = int(rng.uniform(0.0, 2.0) * size)
        src.append(n + rng.integers(0, size, m))
        dst.append(n + rng.integers(0, size, m))
        n += size
    # and a path of 120 nodes whose ids are shuffled along it: the worst case for
    # propagating labels one hop per round
    order = n + rng.permutation(120)
    src.append(order[:-1])
    dst.append(order[1:])
    return n + 120, np.concatenate(src), np.concatenate(dst)


def test_components_equal_scipys_on_sixty_random_graphs(spark):
    n, src, dst = _graphs(11, 60)
    got, rows = _run(spark, n, src, dst)
    assert rows == n
    assert got == _reference(n, src, dst)


@settings(max_examples=3)
@given(seed=st.integers(0, 2**16))
def test_components_equal_scipys_on_random_graphs(spark, seed):
    n, src, dst = _graphs(seed, 8)
    got, rows = _run(spark, n, src, dst)
    assert rows == n
    assert got == _reference(n, src, dst)


def test_without_nodes_only_the_nodes_of_edges_are_labelled(spark):
    edges = spark.createDataFrame([(10, 20), (30, 20), (40, 50)], "src long, dst long")
    got = {r["node"]: r["component"] for r in S.connected_components(edges).collect()}
    assert got == {10: 10, 20: 10, 30: 10, 40: 40, 50: 40}


def test_bad_input_is_refused_before_the_rounds(spark):
    edges = spark.createDataFrame([(1, None)], "src long, dst long")
    with pytest.raises(DataError, match="null node id in column 'dst'"):
        S.connected_components(edges)
    with pytest.raises(ConfigError, match="no column 'a'"):
        S.connected_components(edges, src="a")
    with pytest.raises(ConfigError, match="max_iterations"):
        S.connected_components(edges, max_iterations=0)
    with pytest.raises(ConfigError, match=r"pyspark\.sql\.DataFrame"):
        S.connected_components([(1, 2)])

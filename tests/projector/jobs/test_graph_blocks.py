"""Large kNN graphs are built in row blocks into the graph cache, here as on a cluster (test_dask_executor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from projector.data.graphs import load_graph
from projector.data.layout import DatasetFiles
from projector.jobs import graph_blocks
from projector.jobs.graphs import GraphSource
from reducers.knn_blocks import build_graph


def mixture(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.normal(size=(12, dim)) * 4)[rng.integers(0, 12, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_a_graph_above_one_block_is_built_in_blocks_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_blocks, "BLOCK_ROWS", 1024)
    X = mixture(3000, 8)
    files = DatasetFiles(tmp_path)
    graph = GraphSource(files, X).get("euclidean", 15)
    assert files.graph_ks("euclidean") == [90]
    indices, distances = build_graph(X, 90, max_block_rows=1024)
    np.testing.assert_array_equal(graph.indices, indices[:, :15])
    np.testing.assert_array_equal(graph.distances, distances[:, :15])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knn-euclidean-90-distances.npy", "knn-euclidean-90-indices.npy"]


def test_blocks_that_leave_rows_out_leave_no_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_blocks, "BLOCK_ROWS", 1024)
    files = DatasetFiles(tmp_path)

    def first_block_only(X: np.ndarray, tensor: Path, plan: graph_blocks.GraphPlan) -> list[graph_blocks.Rows]:
        return [next(iter(graph_blocks.run_blocks_here(X, tensor, plan)))]

    with pytest.raises(RuntimeError, match="unfilled"):
        graph_blocks.build_graph_cache(files, mixture(3000, 8), 15, "euclidean", 0, first_block_only)
    assert load_graph(files, "euclidean", 15) is None and not list(tmp_path.iterdir())

"""Builds a dataset's kNN graph on first use and caches it for every later consumer.

It is built once with GRAPH_K neighbours (enough for t-SNE at perplexity 30) or more when a
request needs more; the cache itself (file names, reading a prefix of columns) is projector.data.graphs.
Large graphs are built in row blocks (projector.jobs.graph_blocks): in this process by default, as
cluster tasks in a job process that a Dask worker started (it sets `use_block_runner`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from projector.data.graphs import load_graph
from projector.data.layout import DatasetFiles
from projector.jobs.graph_blocks import BlockRunner, build_graph_cache, run_blocks_here
from reducers.knn import KNNGraph

GRAPH_K = 90
_run_blocks: BlockRunner = run_blocks_here


def use_block_runner(runner: BlockRunner) -> None:
    """Where this process runs the blocks of the graphs it builds (set once, by a job process's entry)."""
    global _run_blocks
    _run_blocks = runner


class GraphSource:
    """Hands out the dataset's kNN graphs, building and caching them on first use; records what it did."""

    def __init__(self, files: DatasetFiles, X: np.ndarray, random_state: int = 0) -> None:
        self.files = files
        self.X = X
        self.random_state = random_state
        self.used: dict[str, Any] = {}

    def get(self, metric: str, k: int) -> KNNGraph:
        n = self.X.shape[0]
        k = min(k, n - 1)
        started = time.perf_counter()
        graph = load_graph(self.files, metric, k)
        reused = graph is not None
        if graph is None:
            build_graph_cache(self.files, self.X, min(n - 1, max(k, GRAPH_K)), metric, self.random_state, _run_blocks)
            graph = load_graph(self.files, metric, k)
            assert graph is not None
        self.used = {"metric": metric, "k": k, "reused": reused, "seconds": round(time.perf_counter() - started, 3)}
        return graph

"""One kNN graph per dataset and metric, cached beside the tensor and shared by every consumer.

t-SNE's affinities, UMAP's fuzzy graph, the quality metrics and the neighbour lookup of large
datasets all read the same graph. It is built once with GRAPH_K neighbours (enough for t-SNE at
perplexity 30) or more when a request needs more; a request needing fewer reads the first columns.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

GRAPH_K = 90
_NAME = re.compile(r"^knn-(cosine|euclidean)-(\d+)-indices\.npy$")


def _paths(folder: Path, metric: str, k: int) -> tuple[Path, Path]:
    return folder / f"knn-{metric}-{k}-indices.npy", folder / f"knn-{metric}-{k}-distances.npy"


def cached_k(folder: Path, metric: str) -> list[int]:
    """The neighbour counts of the graphs cached for `metric`, smallest first."""
    found = []
    for path in folder.glob(f"knn-{metric}-*-indices.npy"):
        match = _NAME.match(path.name)
        if match and _paths(folder, metric, int(match.group(2)))[1].exists():
            found.append(int(match.group(2)))
    return sorted(found)


def load_graph(folder: Path, metric: str, k: int) -> Any | None:
    """A cached graph with at least k neighbours, cut to its first k columns; None if there is none."""
    from reducers.knn import KNNGraph

    for available in cached_k(folder, metric):
        if available >= k:
            indices_path, distances_path = _paths(folder, metric, available)
            indices = np.load(indices_path, mmap_mode="r")[:, :k]
            distances = np.load(distances_path, mmap_mode="r")[:, :k]
            return KNNGraph(np.ascontiguousarray(indices), np.ascontiguousarray(distances), metric)
    return None


def graph_row(folder: Path, metric: str, k: int, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row `index` of a cached graph with at least k neighbours: (indices, distances), or None.

    Reads only that row from the memory-mapped files, so a lookup costs microseconds at any n.
    """
    for available in cached_k(folder, metric):
        if available >= k:
            indices_path, distances_path = _paths(folder, metric, available)
            indices = np.load(indices_path, mmap_mode="r")
            distances = np.load(distances_path, mmap_mode="r")
            return np.array(indices[index, :k]), np.array(distances[index, :k])
    return None


def _save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


class GraphSource:
    """Hands out the dataset's kNN graphs, building and caching them on first use; records what it did."""

    def __init__(self, folder: Path, X: np.ndarray, random_state: int = 0) -> None:
        self.folder = folder
        self.X = X
        self.random_state = random_state
        self.used: dict[str, Any] = {}

    def get(self, metric: str, k: int) -> Any:
        from reducers.knn import knn_graph

        n = self.X.shape[0]
        k = min(k, n - 1)
        started = time.perf_counter()
        graph = load_graph(self.folder, metric, k)
        reused = graph is not None
        if graph is None:
            full = knn_graph(self.X, min(n - 1, max(k, GRAPH_K)), metric=metric, random_state=self.random_state)
            indices_path, distances_path = _paths(self.folder, metric, full.k)
            _save(distances_path, full.distances)
            _save(indices_path, full.indices)  # written last: its presence marks a complete graph
            graph = load_graph(self.folder, metric, k)
        self.used = {"metric": metric, "k": k, "reused": reused, "seconds": round(time.perf_counter() - started, 3)}
        return graph

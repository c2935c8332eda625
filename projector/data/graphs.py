"""The kNN graph cache of a dataset: one graph per metric, stored beside the tensor and shared.

t-SNE's affinities, UMAP's fuzzy graph, the quality metrics and the neighbour lookup of large
datasets all read the same graph (built by projector.jobs.graphs). A request needing fewer
neighbours than cached reads the first columns.
"""

from __future__ import annotations

import numpy as np

from projector.data.atomic import atomic_write
from projector.data.layout import DatasetFiles
from reducers.knn import KNNGraph


def load_graph(files: DatasetFiles, metric: str, k: int) -> KNNGraph | None:
    """A cached graph with at least k neighbours, cut to its first k columns; None if there is none."""
    for available in files.graph_ks(metric):
        if available >= k:
            indices_path, distances_path = files.graph(metric, available)
            indices = np.load(indices_path, mmap_mode="r")[:, :k]
            distances = np.load(distances_path, mmap_mode="r")[:, :k]
            return KNNGraph(np.ascontiguousarray(indices), np.ascontiguousarray(distances), metric)
    return None


def graph_row(files: DatasetFiles, metric: str, k: int, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row `index` of a cached graph with at least k neighbours: (indices, distances), or None.

    Reads only that row from the memory-mapped files, so a lookup costs microseconds at any n.
    """
    for available in files.graph_ks(metric):
        if available >= k:
            indices_path, distances_path = files.graph(metric, available)
            indices = np.load(indices_path, mmap_mode="r")
            distances = np.load(distances_path, mmap_mode="r")
            return np.array(indices[index, :k]), np.array(distances[index, :k])
    return None


def save_graph(files: DatasetFiles, graph: KNNGraph) -> None:
    """Cache a complete graph; the indices file is written last, its presence marks the graph complete."""
    indices_path, distances_path = files.graph(graph.metric, graph.k)
    atomic_write(distances_path, lambda f: np.save(f, graph.distances))
    atomic_write(indices_path, lambda f: np.save(f, graph.indices))

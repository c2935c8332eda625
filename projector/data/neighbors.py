"""Exact nearest neighbours in the original space: BLAS products over the memory-mapped tensor.

Candidates are chosen with float32 scores, then re-ranked with float64 distances, so the
reported order and distances are those of exact arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from projector.data.graphs import graph_row
from projector.data.store import Store
from projector.errors import InvalidParameter
from reducers.knn import METRICS

CHUNK_ROWS = 65536
RERANK_MARGIN = 16  # extra float32 candidates re-ranked in float64, for near-ties
APPROXIMATE_FROM = 200_000  # rows from which a cached kNN graph answers instead of a full scan


def _build_unit(X: np.ndarray, dest: Path) -> None:
    out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=X.shape)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        chunk = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out[start : start + len(chunk)] = chunk / norms
    out.flush()


def _build_sq_norms(X: np.ndarray, dest: Path) -> None:
    out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=(X.shape[0],))
    for start in range(0, X.shape[0], CHUNK_ROWS):
        chunk = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
        out[start : start + len(chunk)] = np.einsum("ij,ij->i", chunk, chunk)
    out.flush()


def check_k(k: int, n: int) -> int:
    if not 1 <= k <= n - 1:
        raise InvalidParameter(f"`k` must be between 1 and {n - 1} (the other points of the dataset), got {k}")
    return k


def nearest(store: Store, dataset_id: str, index: int, k: int, metric: str, exact: bool = False) -> tuple[list[tuple[int, float]], bool]:
    """The k nearest other points of row `index`, nearest first, as (row, distance); and whether exact.

    Large datasets answer from their cached kNN graph when one with enough neighbours exists
    (built for t-SNE or UMAP; recall measured in benchmarks/bench_scale.py), unless `exact`.
    """
    if metric not in METRICS:
        raise InvalidParameter(f"`metric` must be one of {list(METRICS)}, got {metric!r}")
    X = store.tensor(dataset_id)
    n = X.shape[0]
    if not 0 <= index < n:
        raise InvalidParameter(f"`index` must be between 0 and {n - 1}, got {index}")
    check_k(k, n)
    if not exact and n >= APPROXIMATE_FROM:
        row = graph_row(store.files(dataset_id), metric, k, index)
        if row is not None:
            return [(int(i), float(d)) for i, d in zip(*row)], False
    return _exact(store, dataset_id, X, index, k, metric), True


def _exact(store: Store, dataset_id: str, X: np.ndarray, index: int, k: int, metric: str) -> list[tuple[int, float]]:
    n = X.shape[0]
    if metric == "cosine":
        base = store.derived(dataset_id, "unit", lambda dest: _build_unit(X, dest))
        scores = base @ base[index]
        scores[index] = -np.inf
        order_key = -scores
    else:
        base = X
        sq = store.derived(dataset_id, "sqnorm", lambda dest: _build_sq_norms(X, dest))
        order_key = sq - 2.0 * (X @ X[index])
        order_key[index] = np.inf
    wanted = min(n - 1, k + RERANK_MARGIN)
    candidates = np.argpartition(order_key, wanted - 1)[:wanted] if wanted < n else np.arange(n)
    candidates = candidates[candidates != index]
    rows = np.asarray(base[np.sort(candidates)], dtype=np.float64)
    candidates = np.sort(candidates)
    query = np.asarray(base[index], dtype=np.float64)
    if metric == "cosine":
        distances = 1.0 - rows @ query
    else:
        distances = np.sqrt(np.maximum(np.square(rows - query).sum(axis=1), 0.0))
    order = np.lexsort((candidates, distances))[:k]
    return [(int(candidates[i]), float(distances[i])) for i in order]

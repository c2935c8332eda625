"""k-nearest-neighbour graphs shared by t-SNE, UMAP and the neighbour lookup.

One graph is built per dataset and metric and handed to every consumer, so the most
expensive step of a neighbour-based reducer is paid once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from reducers._validation import check_embedding

__all__ = ["KNNGraph", "knn_graph", "as_knn_graph", "EXACT_MAX_SAMPLES"]

METRICS = ("euclidean", "cosine")
METHODS = ("auto", "exact", "blocks", "nndescent")

# Up to this many points "auto" uses brute force, above it the block graph
# (`reducers.knn_blocks`, exact within blocks of nearby rows).
EXACT_MAX_SAMPLES = 20_000

# Bytes of one block of the distance matrix; bounds the memory of brute force.
_BLOCK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class KNNGraph:
    """The k nearest neighbours of every point, the point itself excluded.

    Attributes
    ----------
    indices : ndarray of shape (n_samples, k), int32
        Neighbour indices, each row sorted by increasing distance.
    distances : ndarray of shape (n_samples, k), float32
        Euclidean distance, or cosine distance ``1 - cos`` when ``metric="cosine"``.
    metric : str
        ``"euclidean"`` or ``"cosine"``.
    """

    indices: np.ndarray
    distances: np.ndarray
    metric: str = "euclidean"

    @property
    def n_samples(self) -> int:
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])


def as_knn_graph(knn: object, n_samples: int | None = None, metric: str = "euclidean") -> KNNGraph:
    """Coerce a `KNNGraph` or an ``(indices, distances)`` pair to a checked `KNNGraph`."""
    if isinstance(knn, KNNGraph):
        indices, distances, metric = knn.indices, knn.distances, knn.metric
    elif isinstance(knn, tuple) and len(knn) == 2:
        indices, distances = knn
    else:
        raise ValueError("`knn` must be a KNNGraph or an (indices, distances) tuple")
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    distances = np.ascontiguousarray(distances, dtype=np.float32)
    if indices.ndim != 2 or indices.shape != distances.shape:
        raise ValueError(f"`knn` indices and distances must be 2-D of the same shape, got {indices.shape} and {distances.shape}")
    n = indices.shape[0] if n_samples is None else n_samples
    if indices.shape[0] != n:
        raise ValueError(f"`knn` has {indices.shape[0]} rows but X has {n} samples")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"`knn` indices must lie in [0, {n})")
    if not np.isfinite(distances).all() or (distances < 0).any():
        raise ValueError("`knn` distances must be finite and non-negative")
    return KNNGraph(indices, distances, metric)


def knn_graph(X, k, metric="euclidean", method="auto", random_state=None, n_jobs=None) -> KNNGraph:
    """Build the k-nearest-neighbour graph of `X`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Neighbours per point, ``1 <= k < n_samples``; the point itself is not counted.
    metric : {"euclidean", "cosine"}
    method : {"auto", "exact", "blocks", "nndescent"}
        ``"exact"`` is blocked brute force; ``"blocks"`` is `reducers.knn_blocks` (exact up to
        one block of rows, recall@10 about 0.97 above); ``"nndescent"`` is pynndescent's
        approximate search; ``"auto"`` is exact up to `EXACT_MAX_SAMPLES` points, else blocks.
    random_state : None, int or RandomState
        Seeds the block plan's k-means and NN-descent; exact search ignores it.
    n_jobs : int or None
        Threads; None means all cores.

    Returns
    -------
    KNNGraph
    """
    X = check_embedding(X)
    n = X.shape[0]
    if metric not in METRICS:
        raise ValueError(f"`metric` must be one of {METRICS}, got {metric!r}")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise ValueError(f"`k` must be an integer in [1, n_samples - 1] = [1, {n - 1}], got {k!r}")
    k = int(k)
    if method == "auto":
        method = "exact" if n <= EXACT_MAX_SAMPLES else "blocks"
    if method == "exact":
        indices, distances = _exact(X, k, metric, _resolve_n_jobs(n_jobs))
    elif method == "blocks":
        from reducers.knn_blocks import build_graph

        seed = int(_random_state(random_state).randint(np.iinfo(np.int32).max))
        with _threads(n_jobs):
            indices, distances = build_graph(X, k, metric, seed, n_jobs=n_jobs)
    else:
        indices, distances = _nndescent(X, k, metric, random_state, n_jobs)
    return KNNGraph(indices, distances, metric)


@contextmanager
def _threads(n_jobs: int | None) -> Iterator[None]:
    """Numba's and BLAS's thread counts limited to `n_jobs` (None: leave them) for the block."""
    if n_jobs is None or n_jobs < 0:
        yield
        return
    import numba
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    before = numba.get_num_threads()
    numba.set_num_threads(min(max(1, int(n_jobs)), numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        with threadpool_limits(max(1, int(n_jobs))):
            yield
    finally:
        numba.set_num_threads(before)


def _resolve_n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs < 0:
        return os.cpu_count() or 1
    return max(1, int(n_jobs))


def _exact(X: np.ndarray, k: int, metric: str, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    n = X.shape[0]
    zero = np.zeros(n, dtype=bool)
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        zero = norms[:, 0] == 0
        X = np.ascontiguousarray(X / np.where(norms > 0, norms, 1), dtype=np.float32)
    sq_norms = np.einsum("ij,ij->i", X, X)
    block = max(1, min(n, _BLOCK_BYTES // (4 * n)))
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)

    def run(start: int) -> None:
        stop = min(n, start + block)
        rows = np.arange(stop - start)
        gram = X[start:stop] @ X.T
        if metric == "euclidean":
            # Squared distances up to a per-row constant are enough to rank candidates.
            gram *= -2
            gram += sq_norms[None, :]
        else:
            np.negative(gram, out=gram)
        gram[rows, start + rows] = np.inf
        cand = np.argpartition(gram, k - 1, axis=1)[:, :k]
        # Recompute the k winners directly: the expanded form loses digits for close pairs.
        diff = X[cand] - X[start:stop, None, :]
        if metric == "euclidean":
            d = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff, dtype=np.float64))
        else:
            # 1 - cos = |a - b|^2 / 2 for unit vectors, without the cancellation of 1 - a.b.
            d = 0.5 * np.einsum("ijk,ijk->ij", diff, diff, dtype=np.float64)
            if zero.any():
                # A zero vector has no direction: cosine distance 1 to and from it.
                d[zero[start:stop, None] | zero[cand]] = 1.0
        order = np.argsort(d, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(cand, order, axis=1)
        distances[start:stop] = np.take_along_axis(d, order, axis=1)

    starts = range(0, n, block)
    if n_jobs == 1 or len(starts) == 1:
        for s in starts:
            run(s)
    else:
        # BLAS, argpartition and einsum release the GIL, so threads overlap the blocks.
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, starts))
    return indices, distances


def _nndescent(X: np.ndarray, k: int, metric: str, random_state, n_jobs) -> tuple[np.ndarray, np.ndarray]:
    from pynndescent import NNDescent

    seed = _random_state(random_state).randint(np.iinfo(np.int32).max)
    index = NNDescent(
        X,
        metric=metric,
        n_neighbors=k + 1,
        random_state=seed,
        n_jobs=-1 if n_jobs is None else n_jobs,
        low_memory=True,
        compressed=True,
    )
    ind, dist = index.neighbor_graph
    n = X.shape[0]
    # The point itself is usually, but not always (duplicates), in column 0: push it last.
    key = np.where(ind == np.arange(n)[:, None], np.inf, dist.astype(np.float64))
    key = np.where(ind < 0, np.inf, key)
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    indices = np.take_along_axis(ind, order, axis=1).astype(np.int32)
    distances = np.take_along_axis(dist, order, axis=1).astype(np.float32)
    return indices, np.maximum(distances, 0.0)


def _random_state(seed: object) -> np.random.RandomState:
    # Imported on use: the server reads METRICS and KNNGraph from here and must not pay for scikit-learn.
    from sklearn.utils import check_random_state

    return check_random_state(seed)

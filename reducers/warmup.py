"""Pay the Numba compile cost of the reducers before the first request does.

A new process compiles umap-learn's and our kernels on first use. Measured on a loaded
2-core machine: importing umap-learn plus a first fit took 28 s with an empty Numba cache
and 3.5 s once the cache held the kernels (`reducers.umap_adapter._cache_umap_kernels`
turns it on for the umap-learn kernels that lack it); all of `warm_up` took 50 s and
2.5 s. A server calls `warm_up` in a background thread at start-up; every step is a fit
on a few hundred points.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["warm_up"]


def warm_up(nndescent: bool = False) -> dict[str, float]:
    """Compile, or load from Numba's cache, the kernels behind UMAP, t-SNE and the quality metrics.

    Parameters
    ----------
    nndescent : bool
        Also warm pynndescent's NN-descent, which `reducers.knn` uses for large inputs and
        umap-learn for inputs over 4,096 points without a precomputed graph. It builds its
        kernels as closures at run time, so Numba cannot cache them: about 25 s of CPU in
        every new process.

    Returns
    -------
    dict
        Seconds spent per step, for the start-up log.
    """
    seconds: dict[str, float] = {}

    def step(name: str, start: float) -> float:
        now = time.perf_counter()
        seconds[name] = round(now - start, 3)
        return now

    clock = time.perf_counter()
    from reducers import quality
    from reducers.umap_adapter import UMAP

    clock = step("import", clock)
    X = _blobs(300, 8)
    knn = _exact_knn(X, 15)
    # Seeded runs use umap-learn's serial SGD kernel, unseeded ones its parallel kernel.
    UMAP(n_neighbors=16, n_epochs=20, random_state=0, knn=knn).fit(X)
    UMAP(n_neighbors=16, n_epochs=20, knn=knn).fit(X)
    clock = step("umap", clock)
    # Without a graph, umap-learn computes an exact one below 4,096 points.
    UMAP(n_neighbors=16, n_epochs=20, random_state=0).fit(X)
    clock = step("umap_own_knn", clock)
    Y = X[:, :2]
    quality.knn_preservation(X, Y, k=5)
    quality.trustworthiness(X, Y, k=5)
    clock = step("quality", clock)
    try:
        from reducers.tsne import TSNE
    except ImportError:
        pass
    else:
        from reducers.tsne.gradients import warm_kernels

        TSNE(perplexity=10.0, exaggeration_iter=10, n_iter=20, random_state=0).fit(X)
        warm_kernels()  # the tree and grid paths of larger inputs
        clock = step("tsne", clock)
    from reducers.knn_blocks import build_graph
    from reducers.quantized import QuantizedIndex

    blobs = _blobs(3000, 8)
    build_graph(blobs, 10, max_block_rows=600, n_jobs=1)  # many blocks: plan, probes, heaps
    build_graph(blobs[:500], 10, n_jobs=2)  # one block shared by threads: their heaps merged
    QuantizedIndex.build(blobs, "cosine").search(blobs[:1], 5)  # the server's lookup scan
    clock = step("knn_blocks", clock)
    if nndescent:
        from pynndescent import NNDescent

        _ = NNDescent(_blobs(5000, 8), n_neighbors=16, random_state=0, n_jobs=1).neighbor_graph
        clock = step("nndescent", clock)
    return seconds


def _blobs(n: int, d: int) -> np.ndarray:
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=10.0, size=(4, d))
    return (centres[rng.randint(4, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


def _exact_knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force kNN graph in `reducers.knn`'s format, for a few hundred points."""
    d2 = np.maximum(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1), 0.0)
    np.fill_diagonal(d2, np.inf)
    indices = np.argsort(d2, axis=1, kind="stable")[:, :k]
    distances = np.sqrt(np.take_along_axis(d2, indices, axis=1))
    return indices.astype(np.int32), distances.astype(np.float32)

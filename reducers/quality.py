"""How well a 2-D or 3-D embedding keeps each point's neighbourhood from the input space.

Both metrics look at a random sample of points, but measure each sampled point against all
points, so they are unbiased estimates of the full-data values. The high-dimensional side
is exact: blocks of the sample-by-all distance matrix come from one BLAS product each and
are scanned by a Numba kernel, so memory stays at one block (`BLOCK_BYTES`) whatever n is.
The low-dimensional side uses a k-d tree on the embedding.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba
import numpy as np
from sklearn.neighbors import KDTree
from sklearn.utils import check_random_state

from reducers._validation import check_embedding

__all__ = ["knn_preservation", "trustworthiness"]

METRICS = ("euclidean", "cosine")

# Bytes of one block of the sample-by-all distance matrix.
BLOCK_BYTES = 64 * 2**20
# Sampled rows per block; more rows per BLAS call is faster, up to the block budget.
ROW_BLOCK = 8192


def knn_preservation(
    X_high: object,
    Y_low: object,
    k: int = 10,
    sample: int | None = 5000,
    metric: str = "euclidean",
    random_state: int | np.random.RandomState | None = 0,
    knn: object = None,
) -> float:
    """Mean fraction of a point's k nearest input-space neighbours that stay among its k nearest in `Y_low`.

    Parameters
    ----------
    X_high : array of shape (n_samples, n_features)
    Y_low : array of shape (n_samples, n_components)
        The embedding, compared with Euclidean distance.
    k : int, 1 <= k < n_samples
    sample : int or None
        Number of points averaged over, drawn without replacement; None or ``>= n_samples``
        uses every point. Neighbours are always searched among all points.
    metric : {"euclidean", "cosine"}
        Distance in the input space.
    random_state : None, int or RandomState
        Draws the sample.
    knn : None, ``(indices, distances)`` or an object with ``.indices`` (n_samples, >= k)
        The input-space kNN graph (``reducers.knn.knn_graph``), point itself excluded; its
        first k columns replace the exact search (and `metric` is then not used).

    Returns
    -------
    float in [0, 1]; 1 means every neighbourhood is kept.
    """
    X, Y = _check_pair(X_high, Y_low)
    n = X.shape[0]
    k = _check_k(k, n - 1)
    _check_metric(metric)
    rows = _sample_rows(n, sample, random_state)
    if knn is None:
        high = _high_neighbours(X, rows, k, metric)
    else:
        high = _knn_rows(knn, n, k)[rows]
    low = _low_neighbours(Y, rows, k)
    shared = (high[:, :, None] == low[:, None, :]).sum(axis=(1, 2))
    return float(shared.mean(dtype=np.float64) / k)


def trustworthiness(
    X_high: object,
    Y_low: object,
    k: int = 10,
    sample: int | None = 5000,
    metric: str = "euclidean",
    random_state: int | np.random.RandomState | None = 0,
) -> float:
    """Trustworthiness (Venna & Kaski 2001): are a point's embedding neighbours also its input neighbours?

    For a point i let ``U(i)`` be its k nearest neighbours in `Y_low` that are not among its
    k nearest in `X_high`, and ``r(i, j)`` the rank of j among all other points by input-
    space distance from i (1 = nearest; tied points share the best rank). Over the sample
    S of points,

        T = 1 - 2 / (|S| k (2n - 3k - 1)) * sum_{i in S} sum_{j in U(i)} (r(i, j) - k),

    so each point is charged for how far outside its true neighbourhood its embedding
    neighbours lie. With S all n points this is ``sklearn.manifold.trustworthiness``; a
    sample gives an unbiased estimate of it, since ranks are always taken against all n
    points. Cost is one pass of |S| x n input-space distances.

    Parameters
    ----------
    X_high, Y_low, sample, metric, random_state
        As for `knn_preservation`.
    k : int, 1 <= k < n_samples / 2

    Returns
    -------
    float, at most 1; 1 means no embedding neighbour is a stranger in the input.
    """
    X, Y = _check_pair(X_high, Y_low)
    n = X.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n / 2:
        raise ValueError(f"`k` must be an integer with 1 <= k < n_samples / 2 = {n / 2}, got {k!r}")
    k = int(k)
    _check_metric(metric)
    rows = _sample_rows(n, sample, random_state)
    low = _low_neighbours(Y, rows, k)
    ranks = _high_ranks(X, rows, low, metric)
    penalty = np.maximum(ranks - k, 0).sum(dtype=np.float64)
    return float(1.0 - penalty * (2.0 / (rows.shape[0] * k * (2.0 * n - 3.0 * k - 1.0))))


def _check_pair(X_high: object, Y_low: object) -> tuple[np.ndarray, np.ndarray]:
    X = check_embedding(X_high, name="X_high")
    Y = check_embedding(Y_low, name="Y_low")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"`Y_low` has {Y.shape[0]} rows but `X_high` has {X.shape[0]}")
    return X, Y


def _check_k(k: object, high: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= high:
        raise ValueError(f"`k` must be an integer in [1, n_samples - 1] = [1, {high}], got {k!r}")
    return int(k)


def _check_metric(metric: object) -> None:
    if metric not in METRICS:
        raise ValueError(f"`metric` must be one of {METRICS}, got {metric!r}")


def _sample_rows(n: int, sample: object, random_state: object) -> np.ndarray:
    if sample is None:
        return np.arange(n)
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1:
        raise ValueError(f"`sample` must be a positive integer or None, got {sample!r}")
    if sample >= n:
        return np.arange(n)
    return np.sort(check_random_state(random_state).choice(n, size=int(sample), replace=False))


def _knn_rows(knn: object, n: int, k: int) -> np.ndarray:
    indices = np.asarray(knn[0] if isinstance(knn, tuple) else getattr(knn, "indices", None))
    if indices.ndim != 2 or indices.shape[0] != n or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"`knn` indices must be an integer array of shape ({n}, >= {k}), got {indices.shape}")
    if indices.shape[1] < k:
        raise ValueError(f"`knn` has {indices.shape[1]} neighbours per point, fewer than k={k}")
    return indices[:, :k]


def _low_neighbours(Y: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Indices (len(rows), k) of each sampled point's k nearest others in the embedding."""
    dist, ind = KDTree(Y).query(Y[rows], k=k + 1)
    # The point itself is normally first, but a duplicate may displace it: push it last.
    key = np.where(ind == rows[:, None], np.inf, dist)
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(ind, order, axis=1)


def _centre(X: np.ndarray, metric: str) -> np.ndarray | None:
    """The column mean for Euclidean scores (centring keeps |x|^2 - 2 x.y well conditioned), else None."""
    if metric == "cosine":
        return None
    total = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, X.shape[0], 65536):
        total += X[start : start + 65536].sum(axis=0, dtype=np.float64)
    return (total / X.shape[0]).astype(np.float32)


def _prepare(block: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """Rows centred (Euclidean) or scaled to unit length (cosine; zero rows stay zero)."""
    if mean is not None:
        return block - mean
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return block / np.where(norms > 0, norms, 1)


def _score_blocks(
    X: np.ndarray, rows: np.ndarray, metric: str, mean: np.ndarray | None
) -> Iterator[tuple[slice, int, np.ndarray, np.ndarray]]:
    """Yield ``(row_block, start, dots, offset)`` covering the sampled rows against all points.

    The score of point ``l = start + c`` from ``i = rows[row_block][r]`` is
    ``dots[r, c] + offset[c]``: ``|x_l|^2 - 2 x_i . x_l`` (the squared Euclidean distance
    less a per-row constant) or ``-cos(x_i, x_l)``. Either orders points as the distance
    does. The kernels add `offset` as they scan, which saves two passes over the block.
    `mean` is `_centre`'s.
    """
    n = X.shape[0]
    for r0 in range(0, rows.shape[0], ROW_BLOCK):
        block = slice(r0, min(r0 + ROW_BLOCK, rows.shape[0]))
        queries = _prepare(X[rows[block]], mean) * np.float32(-2.0 if metric == "euclidean" else -1.0)
        width = max(256, BLOCK_BYTES // (4 * queries.shape[0]))
        for start in range(0, n, width):
            points = _prepare(X[start : start + width], mean)
            if metric == "euclidean":
                offset = np.einsum("ij,ij->i", points, points)
            else:
                offset = np.zeros(points.shape[0], dtype=np.float32)
            yield block, start, queries @ points.T, offset


def _high_neighbours(X: np.ndarray, rows: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Indices (len(rows), k) of each sampled point's exact k nearest others in `X`."""
    best_score = np.full((rows.shape[0], k), np.inf, dtype=np.float32)
    best_index = np.full((rows.shape[0], k), -1, dtype=np.int64)
    for block, start, dots, offset in _score_blocks(X, rows, metric, _centre(X, metric)):
        _merge_smallest(dots, offset, start, rows[block], best_score[block], best_index[block])
    return best_index


def _high_ranks(X: np.ndarray, rows: np.ndarray, low: np.ndarray, metric: str) -> np.ndarray:
    """Rank (1 = nearest) in `X` of ``low[r, j]`` among all points other than ``rows[r]``.

    One pass over the blocks histograms, per sampled row, the scores of all points against
    the targets' scores (the thresholds), computed directly. BLAS rounds a target's block
    score a little differently from its threshold, so the pass also reads back the block
    scores of each target and of the row's own point and takes out exactly what they added.
    """
    m = low.shape[1]
    mean = _centre(X, metric)
    queries = _prepare(X[rows], mean)
    targets = _prepare(X[low.ravel()], mean).reshape(low.shape[0], m, X.shape[1])
    if metric == "euclidean":
        thresholds = np.einsum("rjd,rjd->rj", targets, targets) - 2.0 * np.einsum("rjd,rd->rj", targets, queries)
    else:
        thresholds = -np.einsum("rjd,rd->rj", targets, queries)
    thresholds = thresholds.astype(np.float32)
    order = np.argsort(thresholds, axis=1, kind="stable")
    sorted_thresholds = np.ascontiguousarray(np.take_along_axis(thresholds, order, axis=1))

    below = np.zeros((rows.shape[0], m + 1), dtype=np.int64)
    target_scores = np.zeros(low.shape, dtype=np.float32)
    own_scores = np.zeros(rows.shape[0], dtype=np.float32)
    for block, start, dots, offset in _score_blocks(X, rows, metric, mean):
        _histogram_below(dots, offset, sorted_thresholds[block], below[block])
        local = np.arange(block.start, block.stop)
        r, j = np.nonzero((low[block] >= start) & (low[block] < start + dots.shape[1]))
        cols = low[block][r, j] - start
        target_scores[local[r], j] = dots[r, cols] + offset[cols]
        (r,) = np.nonzero((rows[block] >= start) & (rows[block] < start + dots.shape[1]))
        cols = rows[block][r] - start
        own_scores[local[r]] = dots[r, cols] + offset[cols]
    # below[r, p] counts points scoring in [t_(p-1), t_p) of the sorted thresholds, so
    # cumsum(below)[p] is the number scoring under t_p.
    closer = np.empty((rows.shape[0], m), dtype=np.int64)
    np.put_along_axis(closer, order, np.cumsum(below[:, :m], axis=1), axis=1)
    closer -= own_scores[:, None] < thresholds
    closer -= target_scores < thresholds
    return 1 + closer


@numba.njit(parallel=True, nogil=True, cache=True)
def _merge_smallest(dots, offset, start, query, best_score, best_index):  # type: ignore[no-untyped-def]
    """Merge one block of scores into each row's running k smallest, skipping the row's own point.

    Parameters
    ----------
    dots : array of shape (n_rows, n_block), float32
    offset : array of shape (n_block,), float32
        Score of point ``start + c`` for row r is ``dots[r, c] + offset[c]``.
    start : int
    query : array of shape (n_rows,)
        The point each row belongs to, excluded from its own neighbours.
    best_score, best_index : arrays of shape (n_rows, k), updated in place
        Sorted ascending; unfilled slots hold ``inf`` and -1.
    """
    k = best_score.shape[1]
    for r in numba.prange(dots.shape[0]):
        worst = best_score[r, k - 1]
        for c in range(dots.shape[1]):
            s = dots[r, c] + offset[c]
            if s < worst and start + c != query[r]:
                pos = k - 1
                while pos > 0 and best_score[r, pos - 1] > s:
                    best_score[r, pos] = best_score[r, pos - 1]
                    best_index[r, pos] = best_index[r, pos - 1]
                    pos -= 1
                best_score[r, pos] = s
                best_index[r, pos] = start + c
                worst = best_score[r, k - 1]


@numba.njit(parallel=True, nogil=True, cache=True)
def _histogram_below(dots, offset, thresholds, below):  # type: ignore[no-untyped-def]
    """Bin one block's scores between each row's sorted thresholds.

    Parameters
    ----------
    dots : array of shape (n_rows, n_block), float32
    offset : array of shape (n_block,), float32
        Score of point c for row r is ``dots[r, c] + offset[c]``.
    thresholds : array of shape (n_rows, m), float32, each row sorted ascending
    below : array of shape (n_rows, m + 1), int64, incremented in place
        ``below[r, p] += 1`` for a score s with ``thresholds[r, p - 1] <= s < thresholds[r, p]``;
        scores at or above the last threshold are not counted.
    """
    m = thresholds.shape[1]
    for r in numba.prange(dots.shape[0]):
        top = thresholds[r, m - 1]
        for c in range(dots.shape[1]):
            s = dots[r, c] + offset[c]
            if s < top:
                p = 0
                while thresholds[r, p] <= s:
                    p += 1
                below[r, p] += 1

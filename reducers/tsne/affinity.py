"""Input affinities: the symmetric, sparse P of t-SNE from a k-nearest-neighbour graph."""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from reducers.knn import KNNGraph, knn_graph

__all__ = ["n_neighbors_for", "conditional_probabilities", "joint_probabilities", "perplexity_affinities"]


def n_neighbors_for(perplexity: float, n_samples: int) -> int:
    """Neighbours needed for `perplexity`: ``min(n - 1, 3 * perplexity)``, as in van der Maaten 2014."""
    return int(min(n_samples - 1, max(1, int(np.ceil(3 * perplexity)))))


@numba.njit(parallel=True, cache=True, nogil=True, fastmath=False)
def _binary_search_perplexity(sq_distances, target_entropy, tol, max_iter):
    """Per-point Gaussian bandwidths that hit a target entropy.

    Parameters
    ----------
    sq_distances : ndarray of shape (n_samples, k)
        Squared distances to the k neighbours (float64).
    target_entropy : float
        ``log(perplexity)`` in nats.
    tol : float
        Stop when the row entropy is within `tol` nats of the target.
    max_iter : int

    Returns
    -------
    P : ndarray of shape (n_samples, k), float64
        Conditional probabilities p_{j|i}, rows summing to 1.
    """
    n, k = sq_distances.shape
    P = np.empty((n, k), dtype=np.float64)
    for i in numba.prange(n):
        d_min = np.inf
        for j in range(k):
            d_min = min(d_min, sq_distances[i, j])
        beta = 1.0
        lo = 0.0
        hi = np.inf
        for _ in range(max_iter):
            total = 0.0
            weighted = 0.0
            for j in range(k):
                # Shifting by the nearest distance changes nothing after normalising and
                # keeps exp() from underflowing for far-away neighbourhoods.
                d = sq_distances[i, j] - d_min
                e = np.exp(-beta * d)
                P[i, j] = e
                total += e
                weighted += d * e
            entropy = np.log(total) + beta * weighted / total
            diff = entropy - target_entropy
            if abs(diff) < tol:
                break
            if diff > 0:
                lo = beta
                beta = beta * 2.0 if hi == np.inf else 0.5 * (beta + hi)
            else:
                hi = beta
                beta = 0.5 * (beta + lo)
        for j in range(k):
            P[i, j] /= total
    return P


def conditional_probabilities(distances: np.ndarray, perplexity: float) -> np.ndarray:
    """Conditional p_{j|i} over each point's neighbours, at the target perplexity.

    Parameters
    ----------
    distances : ndarray of shape (n_samples, k)
        Distances to the neighbours (the Gaussian is taken of the squared distance).
    perplexity : float

    Returns
    -------
    ndarray of shape (n_samples, k), float64, rows summing to 1.
    """
    d = np.asarray(distances, dtype=np.float64)
    sq = np.ascontiguousarray(d * d, dtype=np.float64)
    return _binary_search_perplexity(sq, float(np.log(perplexity)), 1e-10, 200)


def joint_probabilities(indices: np.ndarray, conditional: np.ndarray) -> sp.csr_matrix:
    """Symmetrise: ``P = (P_cond + P_cond.T) / sum``, a CSR matrix summing to 1.

    Parameters
    ----------
    indices : ndarray of shape (n_samples, k)
    conditional : ndarray of shape (n_samples, k)

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_samples, n_samples), float64, symmetric.
    """
    n, k = indices.shape
    rows = np.repeat(np.arange(n, dtype=np.int32), k)
    P = sp.csr_matrix((conditional.ravel(), (rows, indices.ravel())), shape=(n, n))
    P = (P + P.T).tocsr()
    P.sum_duplicates()
    P.sort_indices()
    P.data /= P.data.sum(dtype=np.float64)
    P.indices = P.indices.astype(np.int32, copy=False)
    P.indptr = P.indptr.astype(np.int64, copy=False)
    return P


def perplexity_affinities(
    X=None,
    perplexity=30.0,
    *,
    knn: KNNGraph | None = None,
    metric="euclidean",
    method="auto",
    random_state=None,
    n_jobs=None,
) -> sp.csr_matrix:
    """Symmetric t-SNE affinities of `X` (or of a precomputed kNN graph) at `perplexity`.

    Uses ``k = min(n - 1, 3 * perplexity)`` neighbours; a precomputed `knn` with more
    columns is truncated to k, one with fewer is used as it is.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_samples, n_samples), float64, summing to 1.
    """
    if knn is None:
        X = np.asarray(X)
        k = n_neighbors_for(perplexity, X.shape[0])
        knn = knn_graph(X, k, metric=metric, method=method, random_state=random_state, n_jobs=n_jobs)
    k = min(knn.k, n_neighbors_for(perplexity, knn.n_samples))
    indices = np.ascontiguousarray(knn.indices[:, :k])
    cond = conditional_probabilities(knn.distances[:, :k], perplexity)
    return joint_probabilities(indices, cond)

"""Clusters of a finished 2-D or 3-D layout: HDBSCAN, cluster centroids, and class-based TF-IDF scores.

HDBSCAN is fast_hdbscan's (the UMAP authors'): on 2-D layouts it measured far faster than
scikit-learn's at 100,000 and 1,000,000 points with matching clusters (benchmarks/bench_clusters.py).
Numeric code only: turning text into word counts is the caller's business.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from reducers._validation import check_embedding

__all__ = ["MIN_SAMPLES", "auto_min_cluster_size", "cluster_layout", "centroids", "class_tfidf"]

MIN_SAMPLES = 10  # neighbours behind each point's core distance: small keeps noise low on map-like layouts


def auto_min_cluster_size(n: int) -> int:
    """The default smallest cluster: grows like sqrt(n), so a map yields tens of clusters, not thousands."""
    return max(5, round(math.sqrt(n) / 2))


def cluster_layout(Y: object, min_cluster_size: int, min_samples: int = MIN_SAMPLES) -> np.ndarray:
    """HDBSCAN labels of the rows of `Y` (n × dims), int32, noise -1; cluster 0 is the largest.

    fast_hdbscan's reproducible mode measured 10× slower; the default mode gave identical labels
    over repeated runs here (only exact ties between threads could differ).
    """
    import fast_hdbscan  # Numba kernels: imported only when clustering runs

    points = check_embedding(Y, min_samples=2, name="Y")
    if min_cluster_size < 2:
        raise ValueError(f"`min_cluster_size` must be at least 2, got {min_cluster_size}")
    samples = max(1, min(min_samples, min_cluster_size, points.shape[0] - 1))
    model = fast_hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=samples)
    raw = np.asarray(model.fit_predict(points), dtype=np.int64)
    return _by_size(raw)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters largest first (ties by first appearance); noise stays -1."""
    found = labels >= 0
    if not found.any():
        return np.full(labels.shape, -1, dtype=np.int32)
    sizes = np.bincount(labels[found])
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    out = np.full(labels.shape, -1, dtype=np.int32)
    out[found] = rank[labels[found]]
    return out


def centroids(Y: np.ndarray, labels: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """(sizes (n_clusters,), mean position of each cluster (n_clusters × dims), float64); noise ignored."""
    found = labels >= 0
    sizes = np.bincount(labels[found], minlength=n_clusters)
    sums = np.zeros((n_clusters, Y.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[found], np.asarray(Y[found], dtype=np.float64))
    return sizes, sums / np.maximum(sizes, 1)[:, None]


def class_tfidf(counts: sp.spmatrix | np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Class-based TF-IDF: how distinctive each term is of each cluster (n_clusters × n_terms).

    `counts` is documents × terms (term counts), `labels` each document's cluster (noise -1 is
    left out). A cluster's documents are joined into one; a term scores its frequency in that
    cluster, times log(1 + average words per cluster / the term's frequency over all clusters).
    """
    docs = sp.csr_matrix(counts, dtype=np.float64)
    found = np.flatnonzero(labels >= 0)
    membership = sp.csr_matrix(
        (np.ones(len(found)), (labels[found], found)), shape=(n_clusters, docs.shape[0])
    )  # fmt: skip
    per_cluster = np.asarray((membership @ docs).todense())
    words = per_cluster.sum(axis=1, keepdims=True)
    term_frequency = per_cluster / np.maximum(words, 1.0)
    term_totals = per_cluster.sum(axis=0)
    average_words = words.mean() if n_clusters else 0.0
    idf = np.log1p(average_words / np.maximum(term_totals, 1.0))
    return term_frequency * idf[None, :]

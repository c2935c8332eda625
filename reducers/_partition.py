"""Seeded k-means and the split of its lists into row blocks, for the block kNN graph.

Rows are grouped into lists by k-means, and lists into blocks by recursive bisection of the
list centroids, so a block holds rows that are close together: most of a row's neighbours are
then in its own block, where every pair is compared.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

CHUNK_ROWS = 65536


def kmeans(sample: np.ndarray, n_clusters: int, rng: np.random.Generator, n_iter: int = 10) -> np.ndarray:
    """Lloyd's k-means on `sample` (float32, already prepared); returns float32 centroids."""
    m = sample.shape[0]
    centroids = sample[rng.choice(m, n_clusters, replace=False)].astype(np.float32)
    for _ in range(n_iter):
        labels = nearest(sample, centroids)
        counts = np.bincount(labels, minlength=n_clusters)
        members = sp.csr_matrix((np.ones(m), (labels, np.arange(m))), shape=(n_clusters, m))
        sums = members @ sample.astype(np.float64)
        empty = counts == 0
        centroids = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        if empty.any():
            # An emptied centroid restarts on a random sample point.
            centroids[empty] = sample[rng.choice(m, int(empty.sum()), replace=False)]
    return centroids


def nearest(rows: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each prepared row (int32)."""
    c_s = np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty(rows.shape[0], dtype=np.int32)
    for start in range(0, rows.shape[0], CHUNK_ROWS):
        dots = rows[start : start + CHUNK_ROWS] @ centroids.T
        out[start : start + len(dots)] = np.argmin(c_s[None, :] - 2.0 * dots, axis=1)
    return out


def group_lists(centroids: np.ndarray, sizes: np.ndarray, max_rows: int, min_rows: int) -> list[np.ndarray]:
    """Lists grouped into blocks of at most `max_rows` rows (unless one list is larger), in order.

    A group of lists too large for a block is cut in two where a weighted 2-means of its
    centroids cuts it, moved if needed so both sides keep at least `min_rows` rows.
    """
    groups: list[np.ndarray] = []
    stack = [np.arange(len(sizes))]
    while stack:
        lists = stack.pop()
        total = int(sizes[lists].sum())
        if total <= max_rows or len(lists) == 1:
            groups.append(lists)
            continue
        order, cut = _two_means_cut(centroids[lists], sizes[lists].astype(np.float64))
        cumulative = np.cumsum(sizes[lists][order])
        least = min(min_rows, total // 2)
        low = int(np.searchsorted(cumulative, least)) + 1  # first cut leaving >= least rows before it
        high = int(np.searchsorted(cumulative, total - least, side="right"))  # last cut leaving >= least after
        cut = int(np.clip(cut, 1, len(lists) - 1))
        if low <= high:
            cut = int(np.clip(cut, low, high))
        # Depth first, second half pushed first, so the groups come out in axis order.
        stack.append(lists[order[cut:]])
        stack.append(lists[order[:cut]])
    return groups


def _two_means_cut(points: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, int]:
    """Order of `points` along the axis of a weighted 2-means, and how many fall on its first side.

    The 2-means boundary is the hyperplane halfway between the two centres, across that
    axis, so its first side is a prefix of the order.
    """
    mean = weights @ points / weights.sum()
    a = points[np.argmax(((points - mean) ** 2).sum(1))]
    b = points[np.argmax(((points - a) ** 2).sum(1))]
    for _ in range(20):
        side = ((points - b) ** 2).sum(1) < ((points - a) ** 2).sum(1)
        if side.all() or not side.any():
            break
        a = weights[~side] @ points[~side] / weights[~side].sum()
        b = weights[side] @ points[side] / weights[side].sum()
    axis = (b - a).astype(np.float64)
    projection = (points - (a + b) / 2).astype(np.float64) @ axis
    order = np.argsort(projection, kind="stable")
    return order, int((projection < 0).sum())

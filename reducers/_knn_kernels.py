"""Compiled kernels of the block kNN graph: bounded per-row heaps fed from tiles of keys.

A tile holds the keys of rows against columns (squared Euclidean or cosine distances, made
by one matrix product, see `reducers.knn_blocks`). A row's candidates live in a max-heap of
fixed size ordered by ``(key, index)``, so the set it ends with is the smallest pairs whatever
order the tiles arrive in: that is what makes a graph built in blocks equal to one built in
one piece. An empty slot holds a finite sentinel, not infinity, because fastmath lets the
compiler assume there are no infinities.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

EMPTY_KEY = np.float32(3.0e38)
_RUN = 32  # keys tested together before any heap is touched


@njit(cache=True, nogil=True, inline="always")
def _before(key_a: float, id_a: int, key_b: float, id_b: int) -> bool:
    return key_a < key_b or (key_a == key_b and id_a < id_b)


@njit(cache=True, nogil=True)
def _push(keys: np.ndarray, ids: np.ndarray, key: float, index: int) -> None:
    """Replace the root (the largest pair) by (key, index) and sift it down."""
    size = keys.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(keys[child], ids[child], keys[right], ids[right]):
            child = right
        if _before(keys[child], ids[child], key, index):
            break
        keys[pos] = keys[child]
        ids[pos] = ids[child]
        pos = child
    keys[pos] = key
    ids[pos] = index


@njit(cache=True, nogil=True, fastmath=True, parallel=True, boundscheck=False)
def update_rows(
    tile: np.ndarray, row_slots: np.ndarray, col_ids: np.ndarray, keys: np.ndarray, ids: np.ndarray, skip_diagonal: bool
) -> None:
    """Offer the keys of each row of `tile` to heap ``row_slots[r]``, column j standing for row ``col_ids[j]``.

    ``skip_diagonal`` leaves out entry (r, r) (a tile of rows against themselves). A run of
    `_RUN` keys is first tested against the heap's root in one vectorised pass; only a run
    with a key that may enter the heap is walked key by key.
    """
    n_rows, n_cols = tile.shape
    for r in prange(n_rows):
        slot = row_slots[r]
        hk = keys[slot]
        hi = ids[slot]
        for c0 in range(0, n_cols, _RUN):
            c1 = min(n_cols, c0 + _RUN)
            root = hk[0]
            hit = False
            for j in range(c0, c1):
                hit |= tile[r, j] <= root
            if not hit:
                continue
            for j in range(c0, c1):
                key = tile[r, j]
                if key <= hk[0] and not (skip_diagonal and j == r) and _before(key, col_ids[j], hk[0], hi[0]):
                    _push(hk, hi, key, col_ids[j])


@njit(cache=True, nogil=True, fastmath=True, parallel=True, boundscheck=False)
def update_columns(tile: np.ndarray, row_ids: np.ndarray, col_slots: np.ndarray, keys: np.ndarray, ids: np.ndarray) -> None:
    """Offer the keys of each column of `tile` to heap ``col_slots[j]`` (the other half of a symmetric tile).

    Each thread owns `_RUN` consecutive columns and walks all rows, testing a row's run against
    the roots (copied aside) in one vectorised pass before touching any heap.
    """
    n_rows, n_cols = tile.shape
    n_runs = (n_cols + _RUN - 1) // _RUN
    for c in prange(n_runs):
        start = c * _RUN
        stop = min(n_cols, start + _RUN)
        roots = np.empty(stop - start, dtype=np.float32)
        for j in range(start, stop):
            roots[j - start] = keys[col_slots[j], 0]
        for r in range(n_rows):
            hit = False
            for j in range(start, stop):
                hit |= tile[r, j] <= roots[j - start]
            if not hit:
                continue
            index = row_ids[r]
            for j in range(start, stop):
                key = tile[r, j]
                slot = col_slots[j]
                if key <= roots[j - start] and _before(key, index, keys[slot, 0], ids[slot, 0]):
                    _push(keys[slot], ids[slot], key, index)
                    roots[j - start] = keys[slot, 0]


@njit(cache=True, nogil=True, parallel=True, boundscheck=False)
def merge(keys: np.ndarray, ids: np.ndarray, other_keys: np.ndarray, other_ids: np.ndarray) -> None:
    """Offer every entry of the heaps `other_*` to the heaps `keys`/`ids` of the same rows."""
    n, k = keys.shape
    for r in prange(n):
        for j in range(k):
            if other_ids[r, j] >= 0 and _before(other_keys[r, j], other_ids[r, j], keys[r, 0], ids[r, 0]):
                _push(keys[r], ids[r], other_keys[r, j], other_ids[r, j])


@njit(cache=True, nogil=True, parallel=True, boundscheck=False)
def finish(rows: np.ndarray, slots: np.ndarray, ids: np.ndarray, cosine: bool) -> tuple[np.ndarray, np.ndarray]:
    """Distances of the heaps' rows recomputed from the rows themselves, and each heap sorted by them.

    `rows` holds the prepared block rows first (row r of the block is ``rows[r]``), then the
    other rows the heaps name; ``slots[r, j]`` is where ``ids[r, j]`` is in `rows`. The
    difference form keeps the digits the product form loses for close pairs: a copy of a row
    is at distance 0. Cosine distance is ``|u - v|^2 / 2`` on unit rows, 1 to and from a zero row.
    """
    n, k = ids.shape
    d = rows.shape[1]
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for r in prange(n):
        dist = np.empty(k, dtype=np.float64)
        own_zero = True
        for t in range(d):
            own_zero = own_zero and rows[r, t] == 0
        for j in range(k):
            other = slots[r, j]
            total = 0.0
            other_zero = True
            for t in range(d):
                diff = np.float64(rows[r, t]) - np.float64(rows[other, t])
                total += diff * diff
                other_zero = other_zero and rows[other, t] == 0
            if cosine:
                dist[j] = 1.0 if own_zero or other_zero else 0.5 * total
            else:
                dist[j] = np.sqrt(total)
        order = np.argsort(ids[r].astype(np.int64), kind="mergesort")
        order = order[np.argsort(dist[order], kind="mergesort")]
        for j in range(k):
            indices[r, j] = ids[r, order[j]]
            distances[r, j] = dist[order[j]]
    return indices, distances


@njit(cache=True, nogil=True, parallel=True, boundscheck=False)
def smallest(tile: np.ndarray, excluded: np.ndarray, count: int) -> np.ndarray:
    """For each row of `tile`, the columns of its `count` smallest keys, `excluded` columns left out; nearest first."""
    n, m = tile.shape
    out = np.empty((n, count), dtype=np.int32)
    for r in prange(n):
        hk = np.full(count, EMPTY_KEY, dtype=np.float32)
        hi = np.full(count, -1, dtype=np.int32)
        for j in range(m):
            if not excluded[j] and _before(tile[r, j], j, hk[0], hi[0]):
                _push(hk, hi, tile[r, j], j)
        order = np.argsort(hi, kind="mergesort")
        order = order[np.argsort(hk[order], kind="mergesort")]
        for j in range(count):
            out[r, j] = hi[order[j]]
    return out

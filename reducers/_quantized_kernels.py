"""The int8 scan behind `reducers.quantized`: integer dot products, best candidates per thread."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from reducers._knn_kernels import EMPTY_KEY, _before, _push

_ROWS_PER_TASK = 16384


@njit(cache=True, nogil=True, fastmath=True, parallel=True, boundscheck=False)
def scan(codes: np.ndarray, terms: np.ndarray, w: np.ndarray, step: float, cosine: bool, count: int) -> np.ndarray:
    """Rows of the `count` smallest approximate keys, unordered (-1 where there are fewer rows).

    The key of row i is ``terms[i] - 2 * step * (w . codes[i])`` (Euclidean) or
    ``-step * (w . codes[i])`` (cosine), the dot product summed in int32.
    """
    n, d = codes.shape
    n_tasks = (n + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK
    keys = np.full((n_tasks, count), EMPTY_KEY, dtype=np.float32)
    ids = np.full((n_tasks, count), -1, dtype=np.int32)
    factor = np.float32(-step if cosine else -2.0 * step)
    for t in prange(n_tasks):
        hk = keys[t]
        hi = ids[t]
        for i in range(t * _ROWS_PER_TASK, min(n, (t + 1) * _ROWS_PER_TASK)):
            acc = np.int32(0)
            for j in range(d):
                acc += np.int32(w[j]) * np.int32(codes[i, j])
            key = factor * np.float32(acc)
            if not cosine:
                key += terms[i]
            if key <= hk[0] and _before(key, i, hk[0], hi[0]):
                _push(hk, hi, key, i)
    # Merge the per-task bests.
    flat_k = keys.ravel()
    flat_i = ids.ravel()
    best_k = np.full(count, EMPTY_KEY, dtype=np.float32)
    best_i = np.full(count, -1, dtype=np.int32)
    for e in range(flat_k.shape[0]):
        if flat_i[e] >= 0 and _before(flat_k[e], flat_i[e], best_k[0], best_i[0]):
            _push(best_k, best_i, flat_k[e], flat_i[e])
    return best_i.astype(np.int64)

"""Principal component analysis for tall embedding matrices, float32 in and out.

Works in row chunks, so a memory-mapped tensor of a million rows is never copied whole.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from sklearn.utils import check_random_state

from reducers._validation import check_embedding, check_n_components

# Above this many features the d × d covariance stops being cheap to decompose.
EXACT_MAX_FEATURES = 2048
CHUNK_ROWS = 65536


def _chunks(n: int, size: int = CHUNK_ROWS) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _column_mean(X: np.ndarray) -> np.ndarray:
    total = np.zeros(X.shape[1], dtype=np.float64)
    for rows in _chunks(X.shape[0]):
        total += X[rows].sum(axis=0, dtype=np.float64)
    return total / X.shape[0]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of each component positive, for a deterministic sign."""
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), biggest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _exact(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Top-k eigenpairs of the scatter matrix, in one pass over X.

    Rows are shifted by the first chunk's mean (so float32 products lose little to cancellation),
    multiplied in float32 BLAS per chunk, and accumulated across chunks in float64.
    """
    n, d = X.shape
    shift = np.asarray(X[:CHUNK_ROWS], dtype=np.float64).mean(axis=0).astype(np.float32)
    scatter = np.zeros((d, d), dtype=np.float64)
    total = np.zeros(d, dtype=np.float64)
    for rows in _chunks(n):
        shifted = X[rows] - shift
        scatter += shifted.T @ shifted
        total += shifted.sum(axis=0, dtype=np.float64)
    offset = total / n
    scatter -= n * np.outer(offset, offset)
    eigvals, eigvecs = np.linalg.eigh(scatter)
    order = np.argsort(eigvals)[::-1][:k]
    return np.clip(eigvals[order], 0.0, None), eigvecs[:, order].T, float(np.trace(scatter)), shift + offset


def _randomized(
    X: np.ndarray, mean: np.ndarray, k: int, rng: np.random.RandomState, n_oversamples: int = 10, n_iter: int = 4
) -> tuple[np.ndarray, np.ndarray, float]:
    """Randomized range finder (Halko et al. 2011) with every pass over X done in chunks."""
    n, d = X.shape
    width = min(k + n_oversamples, d)

    def times(right: np.ndarray) -> np.ndarray:  # (X - mean) @ right, shape (n, width)
        out = np.empty((n, right.shape[1]), dtype=np.float64)
        shift = mean @ right
        for rows in _chunks(n):
            out[rows] = X[rows] @ right - shift
        return out

    def transposed_times(left: np.ndarray) -> np.ndarray:  # (X - mean).T @ left, shape (d, width)
        out = np.zeros((d, left.shape[1]), dtype=np.float64)
        for rows in _chunks(n):
            out += X[rows].T.astype(np.float64) @ left[rows]
        return out - np.outer(mean, left.sum(axis=0))

    basis, _ = np.linalg.qr(times(rng.standard_normal((d, width))))
    for _ in range(n_iter):
        back, _ = np.linalg.qr(transposed_times(basis))
        basis, _ = np.linalg.qr(times(back))
    small = transposed_times(basis).T  # (width, d) = basis.T @ (X - mean)
    _, singular, vt = np.linalg.svd(small, full_matrices=False)
    total = 0.0
    for rows in _chunks(n):
        total += float(np.square(X[rows].astype(np.float64) - mean).sum())
    return singular[:k] ** 2, vt[:k], total


class PCA:
    """Principal component analysis (scikit-learn style).

    Parameters
    ----------
    n_components : int
        Number of components to keep.
    svd_solver : {"auto", "exact", "randomized"}
        "exact" decomposes the d × d covariance; "randomized" uses a randomized range finder.
        "auto" is exact up to 2,048 features, randomized above.
    random_state : int, RandomState or None
        Seed for the randomized solver.

    Attributes
    ----------
    components_ : float32 array (n_components, n_features)
    explained_variance_ : float64 array (n_components,)
    explained_variance_ratio_ : float64 array (n_components,)
    mean_ : float64 array (n_features,)
    """

    def __init__(self, n_components: int = 2, svd_solver: str = "auto", random_state: object = None) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def fit(self, X: object, y: object = None) -> "PCA":
        X = check_embedding(X)
        n, d = X.shape
        k = check_n_components(self.n_components, min(n, d))
        if self.svd_solver not in ("auto", "exact", "randomized"):
            raise ValueError(f"`svd_solver` must be 'auto', 'exact' or 'randomized', got {self.svd_solver!r}")
        solver = self.svd_solver
        if solver == "auto":
            solver = "exact" if d <= EXACT_MAX_FEATURES else "randomized"
        if solver == "exact":
            scatter_vals, components, total, mean = _exact(X, k)
        else:
            mean = _column_mean(X)
            scatter_vals, components, total = _randomized(X, mean, k, check_random_state(self.random_state))
        self.mean_ = mean
        self.components_ = _flip_signs(components).astype(np.float32)
        self.explained_variance_ = scatter_vals / max(n - 1, 1)
        self.explained_variance_ratio_ = scatter_vals / total if total > 0 else np.zeros(k)
        self.n_features_in_ = d
        self.solver_ = solver
        return self

    def transform(self, X: object) -> np.ndarray:
        X = check_embedding(X, min_samples=1)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` has {X.shape[1]} features, the PCA was fitted on {self.n_features_in_}")
        weights = self.components_.T  # float32 products; the mean is removed once per component
        shift = (self.mean_ @ weights.astype(np.float64)).astype(np.float32)
        out = np.empty((X.shape[0], weights.shape[1]), dtype=np.float32)
        for rows in _chunks(X.shape[0]):
            out[rows] = X[rows] @ weights - shift
        return out

    def fit_transform(self, X: object, y: object = None) -> np.ndarray:
        X = check_embedding(X)
        return self.fit(X).transform(X)

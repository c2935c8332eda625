"""Principal component analysis for tall embedding matrices, float32 in and out.

Works in row chunks, so a memory-mapped tensor of a million rows is never copied whole.
Sparse input (any scipy.sparse format, taken as CSR) is densified one chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import Tags, check_random_state
from sklearn.utils.validation import check_is_fitted

from reducers._validation import check_n_components, reducer_tags, validate_input

# Above this many features the d × d covariance stops being cheap to decompose.
EXACT_MAX_FEATURES = 2048
CHUNK_ROWS = 65536
# A densified chunk of sparse input stays under this many bytes, however wide the input.
SPARSE_CHUNK_BYTES = 64 << 20

Matrix = Any  # a float32 ndarray (maybe a memory map) or a float32 CSR matrix


def _chunks(X: Matrix) -> Iterator[tuple[slice, np.ndarray]]:
    """Consecutive row blocks of `X` as dense float32 arrays, with the rows they cover."""
    n, d = X.shape
    size = CHUNK_ROWS
    if sp.issparse(X):
        size = max(1, min(size, SPARSE_CHUNK_BYTES // (4 * d)))
    for start in range(0, n, size):
        rows = slice(start, min(start + size, n))
        yield rows, (X[rows].toarray() if sp.issparse(X) else X[rows])


def _column_mean(X: Matrix) -> np.ndarray:
    total = np.zeros(X.shape[1], dtype=np.float64)
    for _, block in _chunks(X):
        total += block.sum(axis=0, dtype=np.float64)
    return total / X.shape[0]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of each component positive, for a deterministic sign."""
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), biggest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _exact(X: Matrix, k: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Top-k eigenpairs of the scatter matrix, in one pass over X.

    Rows are shifted by the first chunk's mean (so float32 products lose little to cancellation),
    multiplied in float32 BLAS per chunk, and accumulated across chunks in float64.
    """
    n, d = X.shape
    shift = None
    scatter = np.zeros((d, d), dtype=np.float64)
    total = np.zeros(d, dtype=np.float64)
    for _, block in _chunks(X):
        if shift is None:
            shift = block.mean(axis=0, dtype=np.float64).astype(np.float32)
        shifted = block - shift
        scatter += shifted.T @ shifted
        total += shifted.sum(axis=0, dtype=np.float64)
        del shifted  # so the next chunk's rows do not sit beside these
    offset = total / n
    scatter -= n * np.outer(offset, offset)
    eigvals, eigvecs = np.linalg.eigh(scatter)
    order = np.argsort(eigvals)[::-1][:k]
    assert shift is not None  # X has rows
    return np.clip(eigvals[order], 0.0, None), eigvecs[:, order].T, float(np.trace(scatter)), shift + offset


def _randomized(
    X: Matrix, mean: np.ndarray, k: int, rng: np.random.RandomState, n_oversamples: int = 10, n_iter: int = 4
) -> tuple[np.ndarray, np.ndarray, float]:
    """Randomized range finder (Halko et al. 2011) with every pass over X done in chunks."""
    n, d = X.shape
    width = min(k + n_oversamples, d)

    def times(right: np.ndarray) -> np.ndarray:  # (X - mean) @ right, shape (n, width)
        out = np.empty((n, right.shape[1]), dtype=np.float64)
        shift = mean @ right
        for rows, block in _chunks(X):
            out[rows] = block @ right - shift
        return out

    def transposed_times(left: np.ndarray) -> np.ndarray:  # (X - mean).T @ left, shape (d, width)
        out = np.zeros((d, left.shape[1]), dtype=np.float64)
        for rows, block in _chunks(X):
            out += block.T.astype(np.float64) @ left[rows]
        return out - np.outer(mean, left.sum(axis=0))

    basis, _ = np.linalg.qr(times(rng.standard_normal((d, width))))
    for _ in range(n_iter):
        back, _ = np.linalg.qr(transposed_times(basis))
        basis, _ = np.linalg.qr(times(back))
    small = transposed_times(basis).T  # (width, d) = basis.T @ (X - mean)
    _, singular, vt = np.linalg.svd(small, full_matrices=False)
    total = 0.0
    for _, block in _chunks(X):
        total += float(np.square(block.astype(np.float64) - mean).sum())
    return singular[:k] ** 2, vt[:k], total


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis (scikit-learn style).

    Takes dense or sparse input (sparse is densified in row chunks of at most 64 MB, so the
    exact solver suits it up to 2,048 features and the randomized one above). Output is
    float32 whatever the input dtype.

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
    n_features_in_ : int
    feature_names_in_ : array of str, only when fitted on a DataFrame with string column names
    solver_ : str
        The solver "auto" resolved to.
    """

    def __init__(self, n_components: int = 2, svd_solver: str = "auto", random_state: object = None) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def fit(self, X: object, y: object = None) -> PCA:
        """Fit the components on `X` of shape (n_samples, n_features); `y` is ignored."""
        return self._fit(validate_input(self, X, reset=True, accept_sparse=True))

    def transform(self, X: object) -> np.ndarray:
        """Project `X` onto the components: float32 of shape (n_samples, n_components)."""
        check_is_fitted(self)
        return self._transform(validate_input(self, X, reset=False, min_samples=1, accept_sparse=True))

    def fit_transform(self, X: object, y: object = None) -> np.ndarray:
        """Fit on `X` and project it, validating `X` once."""
        X = validate_input(self, X, reset=True, accept_sparse=True)
        return self._fit(X)._transform(X)

    def _fit(self, X: Matrix) -> PCA:
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
        self.solver_ = solver
        return self

    def _transform(self, X: Matrix) -> np.ndarray:
        weights = self.components_.T  # float32 products; the mean is removed once per component
        shift = (self.mean_ @ weights.astype(np.float64)).astype(np.float32)
        out = np.empty((X.shape[0], weights.shape[1]), dtype=np.float32)
        for rows, block in _chunks(X):
            out[rows] = block @ weights - shift
        return out

    @property
    def _n_features_out(self) -> int:
        return int(self.components_.shape[0])

    def __sklearn_tags__(self) -> Tags:
        return reducer_tags(super().__sklearn_tags__(), sparse=True)

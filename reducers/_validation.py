"""Input checks shared by every reducer: done once, at the boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.utils import Tags


def validate_input(
    estimator: BaseEstimator, X: object, *, reset: bool, min_samples: int = 2, accept_sparse: bool = False
) -> np.ndarray | sp.csr_matrix:
    """`X` as C-contiguous float32 (CSR when `accept_sparse`), through scikit-learn's `validate_data`.

    `reset=True` (in `fit`) records `n_features_in_` and, from a DataFrame, `feature_names_in_`;
    `reset=False` checks them. Object-dtype numbers are converted, complex, NaN and infinite
    values refused. A float32 C-contiguous array (a memory map included) is used as is, not
    copied; the finiteness check sums it, falling back to a compiled scan without temporaries.
    """
    # scikit-learn is imported here, not at the top: the server uses `check_embedding` and must start fast.
    from sklearn.utils.validation import validate_data

    return validate_data(  # type: ignore[no-any-return]
        estimator,
        X,
        reset=reset,
        accept_sparse="csr" if accept_sparse else False,
        dtype=np.float32,
        order="C",
        copy=False,
        ensure_min_samples=min_samples,
    )


def reducer_tags(tags: Tags, *, sparse: bool = False) -> Tags:
    """Tags every reducer shares: float32 output whatever the input (the first preserved dtype is the default)."""
    tags.input_tags.sparse = sparse
    if tags.transformer_tags is not None:
        tags.transformer_tags.preserves_dtype = ["float32"]
    return tags


def check_embedding(X: object, *, min_samples: int = 2, name: str = "X") -> np.ndarray:
    """Return `X` as a C-contiguous float32 matrix, or raise ValueError saying what is wrong.

    For the functions that are not estimators (kNN graph, quality scores). Accepts any dense
    array-like of rank 2 holding real numbers (object dtype included) that are all finite.
    """
    if sp.issparse(X):
        raise ValueError(f"`{name}` must be a dense array, got a scipy.sparse matrix: convert it with `.toarray()`")
    arr = np.asarray(X)
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"`{name}` must be numeric, got dtype object with non-numeric values") from None
    if np.iscomplexobj(arr):
        raise ValueError(f"`{name}` must be real, got complex dtype {arr.dtype}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] < min_samples:
        raise ValueError(f"`{name}` needs at least {min_samples} rows, got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise ValueError(f"`{name}` needs at least 1 column, got {arr.shape[1]}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    # Row chunks keep the temporary boolean mask small for memory-mapped inputs.
    for start in range(0, arr.shape[0], 65536):
        if not np.isfinite(arr[start : start + 65536]).all():
            raise ValueError(f"`{name}` contains NaN or infinite values")
    return arr


def check_n_components(n_components: object, n_features: int | None = None, *, allowed: tuple[int, ...] | None = None) -> int:
    """Validate `n_components` as a positive int (optionally one of `allowed`, at most `n_features`)."""
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise ValueError(f"`n_components` must be an integer, got {n_components!r}")
    value = int(n_components)
    if allowed is not None and value not in allowed:
        raise ValueError(f"`n_components` must be one of {allowed}, got {value}")
    if value < 1:
        raise ValueError(f"`n_components` must be at least 1, got {value}")
    if n_features is not None and value > n_features:
        raise ValueError(f"`n_components`={value} exceeds the number of features ({n_features})")
    return value

"""Input checks shared by every reducer: done once, at the boundary."""

from __future__ import annotations

import numpy as np


def check_embedding(X: object, *, min_samples: int = 2, name: str = "X") -> np.ndarray:
    """Return `X` as a C-contiguous float32 matrix, or raise ValueError saying what is wrong.

    Accepts any array-like of rank 2 with a numeric dtype and only finite values.
    """
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
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

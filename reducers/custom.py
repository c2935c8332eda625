"""TensorBoard's custom projection: two axes, each from one group of points' centroid to another's.

Numeric only: the caller chooses the groups (TensorBoard finds them by metadata search).
"""

from __future__ import annotations

import numpy as np

__all__ = ["custom_axes", "group_centroid"]

CHUNK_ROWS = 65536


def group_centroid(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean of `X[rows]` in float64, gathered in chunks (X may be a memory map)."""
    if len(rows) == 0:
        raise ValueError("a group needs at least one row")
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    total = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, len(rows), CHUNK_ROWS):
        total += np.asarray(X[rows[start : start + CHUNK_ROWS]], dtype=np.float64).sum(axis=0)
    return total / len(rows)


def custom_axes(X: np.ndarray, x_left: np.ndarray, x_right: np.ndarray, y_down: np.ndarray, y_up: np.ndarray) -> np.ndarray:
    """Coordinates of every row of `X` (n × dim) on two axes, n × 2 float32.

    The x axis runs from the centroid of rows `x_left` to that of rows `x_right`, the y axis from
    `y_down` to `y_up`. Each coordinate is the row's offset along its axis's unit direction,
    measured from the midpoint of the axis's two centroids (so the two groups sit at ±half
    their distance). The axes are used as given, not made orthogonal (as in TensorBoard).
    """
    axes = []
    for name, (low, high) in {"x": (x_left, x_right), "y": (y_down, y_up)}.items():
        first, second = group_centroid(X, low), group_centroid(X, high)
        direction = second - first
        length = float(np.linalg.norm(direction))
        if not length > 1e-12 * max(1.0, float(np.linalg.norm(first))):
            raise ValueError(f"the two groups of the {name} axis have the same centroid: the axis has no direction")
        unit = direction / length
        axes.append((unit, float(unit @ (first + second) / 2)))
    basis = np.stack([unit for unit, _ in axes], axis=1)  # dim × 2
    origin = np.array([offset for _, offset in axes])
    coords = np.empty((X.shape[0], 2), dtype=np.float32)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        block = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
        coords[start : start + len(block)] = block @ basis - origin
    return coords

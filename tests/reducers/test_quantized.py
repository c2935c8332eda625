"""reducers.quantized: the int8 scan plus exact re-ranking returns the exact top-k."""

from __future__ import annotations

import numpy as np
import pytest

from reducers.quantized import QuantizedIndex, code_terms, encode, value_range


def exact_top_k(X: np.ndarray, queries: np.ndarray, k: int, metric: str, exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X64, Q64 = X.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        xn, qn = np.linalg.norm(X64, axis=1), np.linalg.norm(Q64, axis=1)
        cos = (Q64 @ X64.T) / np.where(qn > 0, qn, 1)[:, None] / np.where(xn > 0, xn, 1)[None, :]
        D = 1.0 - np.where((qn[:, None] > 0) & (xn[None, :] > 0), cos, 0.0)
    else:
        D = np.sqrt(((Q64[:, None, :] - X64[None, :, :]) ** 2).sum(-1))
    rows = np.flatnonzero(exclude >= 0)
    D[rows, exclude[rows]] = np.inf
    order = np.argsort(D, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(D, order, axis=1)


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, d)) * 4
    return (centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_row_queries_return_the_exact_top_k(metric):
    X = clustered(3000, 24)
    index = QuantizedIndex.build(X, metric)
    rows = np.arange(0, 3000, 37)
    indices, distances = index.search(X[rows], 10, exclude=rows)
    ref_idx, ref_dist = exact_top_k(X, X[rows], 10, metric, rows)
    np.testing.assert_array_equal(indices, ref_idx)
    np.testing.assert_allclose(distances, ref_dist, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_arbitrary_vectors(metric):
    X = clustered(2000, 16, seed=1)
    queries = np.random.default_rng(2).normal(size=(20, 16)).astype(np.float32) * 3
    index = QuantizedIndex.build(X, metric)
    indices, distances = index.search(queries, 7)
    ref_idx, ref_dist = exact_top_k(X, queries, 7, metric, np.full(20, -1))
    np.testing.assert_array_equal(indices, ref_idx)
    np.testing.assert_allclose(distances, ref_dist, rtol=1e-9)


def test_codes_are_int8_and_a_quarter_of_the_rows():
    X = clustered(500, 32)
    index = QuantizedIndex.build(X, "euclidean")
    assert index.codes.dtype == np.int8 and index.codes.nbytes * 4 == X.nbytes
    decoded = index.offset + index.scale * index.codes
    assert np.abs(decoded - X).max() <= index.scale.max() / 2 * 1.0001


def test_built_piece_by_piece_into_a_memory_map(tmp_path):
    X = clustered(800, 12)
    whole = QuantizedIndex.build(X, "cosine")
    offset, scale = value_range(X, "cosine")
    codes = np.lib.format.open_memmap(tmp_path / "codes.npy", mode="w+", dtype=np.int8, shape=X.shape)
    encode(X, "cosine", offset, scale, codes)
    pieces = QuantizedIndex("cosine", X, np.load(tmp_path / "codes.npy", mmap_mode="r"), offset, scale, code_terms(codes, scale))
    np.testing.assert_array_equal(pieces.codes, whole.codes)
    first = whole.search(X[:5], 4, exclude=np.arange(5))
    again = pieces.search(X[:5], 4, exclude=np.arange(5))
    np.testing.assert_array_equal(first[0], again[0])


def test_zero_vector_and_constant_column_under_cosine():
    X = clustered(300, 6)
    X[:, 2] = 1.5  # a constant column has zero range
    X[7] = 0.0
    index = QuantizedIndex.build(X, "cosine")
    _, distances = index.search(X[7:8], 3, exclude=np.array([7]))
    np.testing.assert_allclose(distances, 1.0)
    indices, _ = index.search(X[:4], 5, exclude=np.arange(4))
    np.testing.assert_array_equal(indices, exact_top_k(X, X[:4], 5, "cosine", np.arange(4))[0])


def test_bad_arguments():
    X = clustered(100, 4)
    with pytest.raises(ValueError, match="metric"):
        QuantizedIndex.build(X, "manhattan")
    with pytest.raises(ValueError, match="columns"):
        QuantizedIndex.build(X, "euclidean").search(np.zeros((1, 5)), 3)
    with pytest.raises(ValueError, match="k"):
        QuantizedIndex.build(X, "euclidean").search(X[:1], 100)

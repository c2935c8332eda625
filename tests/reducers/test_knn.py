"""reducers.knn: exact brute force against a naive reference, NN-descent recall."""

from __future__ import annotations

import numpy as np
import pytest

from reducers.knn import KNNGraph, as_knn_graph, knn_graph


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 12)).astype(np.float32)


def naive_knn(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    X = X.astype(np.float64)
    if metric == "euclidean":
        D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    else:
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        D = 1.0 - U @ U.T
    np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, axis=1)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_matches_naive(data, metric):
    graph = knn_graph(data, 10, metric=metric, method="exact")
    ref_idx, ref_dist = naive_knn(data, 10, metric)
    assert graph.indices.dtype == np.int32 and graph.distances.dtype == np.float32
    assert graph.indices.shape == (300, 10) and graph.metric == metric
    np.testing.assert_array_equal(graph.indices, ref_idx)
    np.testing.assert_allclose(graph.distances, ref_dist, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_exact_blocks_and_threads_agree(data, n_jobs, monkeypatch):
    import reducers.knn as knn

    whole = knn_graph(data, 7, method="exact", n_jobs=1)
    # Force many small blocks to exercise the block boundaries.
    monkeypatch.setattr(knn, "_BLOCK_BYTES", 4 * 300 * 17)
    blocked = knn_graph(data, 7, method="exact", n_jobs=n_jobs)
    np.testing.assert_array_equal(blocked.indices, whole.indices)
    np.testing.assert_array_equal(blocked.distances, whole.distances)


def test_exact_rows_sorted_and_self_excluded(data):
    graph = knn_graph(data, 15, method="exact")
    assert (np.diff(graph.distances, axis=1) >= 0).all()
    assert not (graph.indices == np.arange(300)[:, None]).any()


def test_cosine_zero_vector_has_distance_one():
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
    graph = knn_graph(X, 3, metric="cosine", method="exact")
    np.testing.assert_allclose(graph.distances[0], 1.0)


def test_nndescent_recall():
    # pynndescent compiles its NN-descent closures in every process (they cannot be cached): a
    # small input and one thread keep that compile, which is most of this test's time, short.
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(6, 8)) * 3
    X = (centers[rng.integers(0, 6, 600)] + rng.normal(size=(600, 8))).astype(np.float32)
    exact = knn_graph(X, 10, method="exact")
    approx = knn_graph(X, 10, method="nndescent", random_state=0, n_jobs=1)
    assert approx.indices.shape == (600, 10)
    assert not (approx.indices == np.arange(600)[:, None]).any()
    hits = [len(np.intersect1d(a, e)) for a, e in zip(approx.indices, exact.indices)]
    assert np.mean(hits) / 10 >= 0.95


class _FakeNNDescent:
    """pynndescent.NNDescent's neighbour graph with a row's self out of column 0, a duplicate row and padding."""

    def __init__(self, X, **kwargs):
        self.kwargs = kwargs
        ind = np.array([[0, 1, 2, 3], [2, 1, 0, 3], [2, 3, 1, 0], [3, 0, -1, 1]])
        dist = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 1.0, 2.0], [0.0, 1.0, 1.5, 2.0], [0.0, 3.0, 0.0, 2.0]], dtype=np.float32)
        self.neighbor_graph = ind, dist


def test_nndescent_wrapper_drops_self_and_padding(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("pynndescent")
    fake.NNDescent = _FakeNNDescent
    monkeypatch.setitem(sys.modules, "pynndescent", fake)
    graph = knn_graph(np.zeros((4, 2), dtype=np.float32), 2, method="nndescent", random_state=0)
    # Row 1 is at distance 0 from row 2 (a duplicate): row 2 stays, row 1 itself goes.
    np.testing.assert_array_equal(graph.indices, [[1, 2], [2, 0], [3, 1], [1, 0]])
    np.testing.assert_array_equal(graph.distances, [[1.0, 2.0], [0.0, 1.0], [1.0, 1.5], [2.0, 3.0]])
    assert graph.indices.dtype == np.int32 and graph.distances.dtype == np.float32


def test_as_knn_graph_accepts_tuple(data):
    graph = knn_graph(data, 5)
    again = as_knn_graph((graph.indices.astype(np.int64), graph.distances.astype(np.float64)), 300)
    assert isinstance(again, KNNGraph)
    np.testing.assert_array_equal(again.indices, graph.indices)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"k": 0}, "k"),
        ({"k": 300}, "k"),
        ({"k": 2.5}, "k"),
        ({"k": 5, "metric": "manhattan"}, "metric"),
        ({"k": 5, "method": "annoy"}, "method"),
    ],
)
def test_invalid_parameters(data, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        knn_graph(data, **kwargs)


def test_as_knn_graph_rejects_out_of_range_indices():
    with pytest.raises(ValueError, match="`knn`"):
        as_knn_graph((np.full((4, 2), 9), np.ones((4, 2))), 4)

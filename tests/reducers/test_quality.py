"""Projection-quality metrics against naive references on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sklearn_trustworthiness

from reducers import quality
from reducers.quality import knn_preservation, trustworthiness


def _pair(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    Y = (X[:, :2] + 0.5 * rng.normal(size=(n, 2))).astype(np.float32)
    return X, Y


def _naive_neighbours(Z: np.ndarray, k: int, metric: str = "euclidean") -> np.ndarray:
    Z = Z.astype(np.float64)
    if metric == "cosine":
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
        dist = 1.0 - Z @ Z.T
    else:
        dist = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    return np.argsort(dist, axis=1)[:, :k]


def _naive_preservation(X: np.ndarray, Y: np.ndarray, k: int, metric: str = "euclidean") -> float:
    high, low = _naive_neighbours(X, k, metric), _naive_neighbours(Y, k)
    return float(np.mean([len(set(h) & set(lo)) / k for h, lo in zip(high, low)]))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize(("n", "d", "k"), [(40, 3, 1), (120, 10, 5), (300, 20, 10)])
def test_trustworthiness_matches_sklearn_on_all_points(metric: str, n: int, d: int, k: int) -> None:
    X, Y = _pair(n, d, seed=n)
    expected = sklearn_trustworthiness(X.astype(np.float64), Y.astype(np.float64), n_neighbors=k, metric=metric)
    assert trustworthiness(X, Y, k=k, sample=None, metric=metric) == expected
    assert trustworthiness(X, Y, k=k, sample=10 * n, metric=metric) == expected


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_knn_preservation_matches_naive_reference(metric: str) -> None:
    X, Y = _pair(200, 12, seed=1)
    assert knn_preservation(X, Y, k=7, sample=None, metric=metric) == pytest.approx(
        _naive_preservation(X, Y, 7, metric), abs=1e-12
    )


def test_sample_averages_the_same_per_point_values() -> None:
    X, Y = _pair(400, 8, seed=2)
    rows = np.sort(np.random.RandomState(5).choice(400, size=50, replace=False))
    high, low = _naive_neighbours(X, 10)[rows], _naive_neighbours(Y, 10)[rows]
    expected = np.mean([len(set(h) & set(lo)) / 10 for h, lo in zip(high, low)])
    assert knn_preservation(X, Y, k=10, sample=50, random_state=5) == pytest.approx(expected, abs=1e-12)


def test_sampled_trustworthiness_estimates_the_full_value() -> None:
    X, Y = _pair(1000, 10, seed=3)
    full = trustworthiness(X, Y, k=10, sample=None)
    assert abs(trustworthiness(X, Y, k=10, sample=300, random_state=1) - full) < 0.02


def test_blocked_computation_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    X, Y = _pair(500, 16, seed=4)
    one_block = (knn_preservation(X, Y, k=8, sample=None), trustworthiness(X, Y, k=8, sample=None))
    monkeypatch.setattr(quality, "BLOCK_BYTES", 4 * 64 * 300)
    monkeypatch.setattr(quality, "ROW_BLOCK", 64)
    assert (knn_preservation(X, Y, k=8, sample=None), trustworthiness(X, Y, k=8, sample=None)) == one_block


def test_precomputed_graph_gives_the_exact_answer() -> None:
    X, Y = _pair(300, 10, seed=6)
    indices = _naive_neighbours(X, 12).astype(np.int32)
    graph = (indices, np.zeros(indices.shape, dtype=np.float32))
    assert knn_preservation(X, Y, k=10, sample=100, knn=graph) == knn_preservation(X, Y, k=10, sample=100)


def test_perfect_embedding_scores_one() -> None:
    Y = np.random.RandomState(7).normal(size=(200, 2)).astype(np.float32)
    assert knn_preservation(Y, Y, k=10) == 1.0
    assert trustworthiness(Y, Y, k=10) == 1.0


def test_duplicate_points_do_not_count_themselves() -> None:
    X, Y = _pair(100, 5, seed=8)
    X = np.vstack([X, X[:10]])
    Y = np.vstack([Y, Y[:10]])
    value = knn_preservation(X, Y, k=5, sample=None)
    assert 0.0 <= value <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k": 0}, "k"),
        ({"k": 100}, "k"),
        ({"k": 2.5}, "k"),
        ({"sample": 0}, "sample"),
        ({"sample": "all"}, "sample"),
        ({"metric": "manhattan"}, "metric"),
    ],
)
def test_invalid_arguments(kwargs: dict, name: str) -> None:
    X, Y = _pair(100, 5, seed=9)
    for metric_fn in (knn_preservation, trustworthiness):
        with pytest.raises(ValueError, match=f"`{name}`"):
            metric_fn(X, Y, **kwargs)


def test_trustworthiness_needs_k_below_half_n() -> None:
    X, Y = _pair(20, 5, seed=10)
    with pytest.raises(ValueError, match="`k`"):
        trustworthiness(X, Y, k=10)


def test_mismatched_rows_are_rejected() -> None:
    X, Y = _pair(50, 5, seed=11)
    with pytest.raises(ValueError, match="`Y_low`"):
        knn_preservation(X, Y[:-1])


def test_short_knn_graph_is_rejected() -> None:
    X, Y = _pair(50, 5, seed=12)
    graph = (np.zeros((50, 3), dtype=np.int32), np.zeros((50, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="`knn`"):
        knn_preservation(X, Y, k=5, knn=graph)

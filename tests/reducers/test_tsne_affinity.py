"""reducers.tsne.affinity: perplexity calibration and the symmetric P."""

from __future__ import annotations

import numpy as np
import pytest

from reducers.knn import knn_graph
from reducers.tsne.affinity import conditional_probabilities, n_neighbors_for, perplexity_affinities


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8))
    X[:100] *= 0.05  # a dense clump next to a diffuse cloud: very different bandwidths
    return X.astype(np.float32)


@pytest.mark.parametrize("perplexity", [5.0, 30.0])
def test_each_row_reaches_target_perplexity(X, perplexity):
    graph = knn_graph(X, n_neighbors_for(perplexity, len(X)), method="exact")
    P = conditional_probabilities(graph.distances, perplexity)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    entropy = -np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1)), 0), axis=1)
    np.testing.assert_allclose(np.exp(entropy), perplexity, atol=1e-3)


def test_joint_p_symmetric_and_normalised(X):
    P = perplexity_affinities(X, 10.0)
    assert P.shape == (400, 400)
    assert abs(P.sum() - 1.0) < 1e-12
    assert abs(P - P.T).max() < 1e-15
    assert P.diagonal().sum() == 0
    assert (P.data > 0).all()


def test_joint_p_is_average_of_conditionals(X):
    graph = knn_graph(X, 30, method="exact")
    cond = conditional_probabilities(graph.distances, 10.0)
    dense = np.zeros((400, 400))
    dense[np.repeat(np.arange(400), 30), graph.indices.ravel()] = cond.ravel()
    expected = (dense + dense.T) / (2 * 400)
    np.testing.assert_allclose(perplexity_affinities(X, 10.0).toarray(), expected, rtol=1e-10, atol=1e-18)


def test_precomputed_graph_is_used_and_truncated(X):
    wide = knn_graph(X, 60, method="exact")
    P = perplexity_affinities(perplexity=10.0, knn=wide)
    np.testing.assert_allclose(P.toarray(), perplexity_affinities(X, 10.0).toarray(), rtol=1e-12, atol=1e-18)


def test_neighbour_count_rule():
    assert n_neighbors_for(30, 10_000) == 90
    assert n_neighbors_for(30, 50) == 49

"""reducers.TSNE: convergence, quality floor, determinism, callback, parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

from reducers import TSNE
from reducers.knn import knn_graph


def gaussian_mixture(n: int, dim: int, n_clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, dim)) * 8
    labels = rng.integers(0, n_clusters, n)
    return (centers[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def knn_accuracy(Y: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    D = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    nn = np.argsort(D, axis=1)[:, :k]
    votes = np.array([np.bincount(labels[row], minlength=labels.max() + 1).argmax() for row in nn])
    return float((votes == labels).mean())


@pytest.fixture(scope="module")
def mixture() -> tuple[np.ndarray, np.ndarray]:
    return gaussian_mixture(400, 10, 5, seed=0)


@pytest.mark.parametrize("n_components", [2, 3])
def test_kl_falls_and_clusters_separate(mixture, n_components):
    X, labels = mixture
    kls = []
    model = TSNE(
        n_components=n_components, perplexity=20, random_state=0, callback_every=25,
        callback=lambda it, Y, kl: kls.append(kl),
    )
    Y = model.fit_transform(X)
    assert Y.shape == (400, n_components) and Y.dtype == np.float32
    assert model.n_iter_ == 750 and len(kls) == 30
    # Exaggeration inflates the KL; from the end of it on, it must keep falling overall.
    after = kls[10:]
    assert after[-1] < after[0]
    assert kls[-1] < kls[0]
    assert model.kl_divergence_ == pytest.approx(kls[-1], rel=1e-9)
    assert knn_accuracy(Y, labels) > 0.95


def test_kl_divergence_is_exact_kl_of_the_embedding(mixture):
    # Few points: the repulsion is the exact sum, so kl_divergence_ is the exact KL.
    from reducers.tsne.affinity import perplexity_affinities

    X, _ = mixture
    model = TSNE(perplexity=20, random_state=0, n_iter=200).fit(X)
    P = perplexity_affinities(X, 20.0).toarray()
    Y = model.embedding_.astype(np.float64)
    W = 1.0 / (1.0 + ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    mask = P > 0
    expected = float(np.sum(P[mask] * np.log(P[mask] / Q[mask])))
    assert model.kl_divergence_ == pytest.approx(expected, rel=1e-4)


def test_same_seed_same_result(mixture):
    X, _ = mixture
    a = TSNE(random_state=7, n_iter=300).fit_transform(X)
    b = TSNE(random_state=7, n_iter=300).fit_transform(X)
    np.testing.assert_array_equal(a, b)


def test_random_init_depends_on_seed(mixture):
    X, _ = mixture
    a = TSNE(init="random", random_state=1, n_iter=50).fit_transform(X)
    b = TSNE(init="random", random_state=2, n_iter=50).fit_transform(X)
    assert not np.array_equal(a, b)


def test_callback_stops_early(mixture):
    X, _ = mixture
    seen = []

    def stop_at_40(iteration, Y, kl):
        seen.append((iteration, Y.shape, Y.dtype, kl))
        return iteration >= 40

    model = TSNE(random_state=0, callback=stop_at_40, callback_every=20).fit(X)
    assert model.n_iter_ == 40
    assert [s[0] for s in seen] == [20, 40]
    assert seen[0][1] == (400, 2) and seen[0][2] == np.float32 and seen[0][3] > 0


def test_precomputed_knn_gives_the_same_embedding(mixture):
    X, _ = mixture
    graph = knn_graph(X, 60, method="exact")
    a = TSNE(perplexity=20, random_state=0, n_iter=100).fit_transform(X)
    b = TSNE(perplexity=20, random_state=0, n_iter=100).fit_transform(X, knn=graph)
    c = TSNE(perplexity=20, random_state=0, n_iter=100, knn=(graph.indices, graph.distances)).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_array_init_and_cosine(mixture):
    X, labels = mixture
    init = np.random.default_rng(0).normal(size=(400, 2)) * 1e-4
    Y = TSNE(init=init, metric="cosine", perplexity=20, random_state=0).fit_transform(X)
    assert np.isfinite(Y).all()
    assert knn_accuracy(Y, labels) > 0.9


def test_fixed_learning_rate_and_no_exaggeration(mixture):
    X, _ = mixture
    model = TSNE(learning_rate=100.0, exaggeration_iter=0, n_iter=100, random_state=0).fit(X)
    assert model.n_iter_ == 100 and np.isfinite(model.kl_divergence_)


def test_init_only_stores_parameters():
    model = TSNE(perplexity=-1, metric="nope", n_components=7)
    assert model.perplexity == -1 and model.metric == "nope" and model.n_components == 7
    assert not hasattr(model, "embedding_")


X_SMALL = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"perplexity": 40}, "perplexity"),
        ({"perplexity": 0}, "perplexity"),
        ({"perplexity": "30"}, "perplexity"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"n_components": 1}, "n_components"),
        ({"n_components": 4}, "n_components"),
        ({"n_components": 2.0}, "n_components"),
        ({"metric": "manhattan"}, "metric"),
        ({"init": "spectral"}, "init"),
        ({"init": np.zeros((40, 3))}, "init"),
        ({"early_exaggeration": 0.5}, "early_exaggeration"),
        ({"exaggeration_iter": -1}, "exaggeration_iter"),
        ({"n_iter": 0}, "n_iter"),
        ({"callback_every": 0}, "callback_every"),
        ({"callback": 3}, "callback"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"knn": "graph"}, "knn"),
        ({"knn": (np.zeros((39, 5), int), np.ones((39, 5)))}, "knn"),
    ],
)
def test_invalid_parameter_raises(params, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        TSNE(**params).fit(X_SMALL)


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TSNE().fit(np.array([[1.0, np.nan], [0.0, 1.0]]))

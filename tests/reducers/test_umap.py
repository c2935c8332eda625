"""UMAP adapter: quality against umap-learn, determinism, precomputed graphs, progress, validation."""

from __future__ import annotations

import numpy as np
import pytest
import umap
from sklearn.neighbors import KNeighborsClassifier

from reducers import UMAP
from reducers.quality import trustworthiness

# Ten separate clusters make a disconnected graph; umap-learn lays components out itself.
pytestmark = pytest.mark.filterwarnings("ignore:Graph is not fully connected:UserWarning")


@pytest.fixture(scope="session")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Ten well-separated Gaussian clusters in 10-D, 40 points each."""
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=8.0, size=(10, 10))
    labels = np.repeat(np.arange(10), 40)
    X = (centres[labels] + rng.normal(size=(400, 10))).astype(np.float32)
    return X, labels


def _exact_graph(X: np.ndarray, k: int, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """The exact kNN graph in `reducers.knn`'s format: self excluded, rows sorted."""
    Z = X.astype(np.float64)
    if metric == "cosine":
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
        dist = np.maximum(1.0 - Z @ Z.T, 0.0)
    else:
        dist = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    indices = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return indices.astype(np.int32), np.take_along_axis(dist, indices, axis=1).astype(np.float32)


def _knn_accuracy(Y: np.ndarray, labels: np.ndarray) -> float:
    classifier = KNeighborsClassifier(n_neighbors=11).fit(Y, labels)
    # Leave-one-out: the nearest neighbour of each point is itself, so drop it.
    neighbours = classifier.kneighbors(Y, return_distance=False)[:, 1:]
    votes = labels[neighbours]
    return float(np.mean([np.bincount(v).argmax() for v in votes] == labels))


def test_seeded_run_matches_umap_learn_in_quality_on_any_thread_count(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, labels = blobs
    ours = UMAP(n_epochs=100, random_state=3).fit_transform(X)
    one_thread = UMAP(n_epochs=100, random_state=3, n_jobs=1).fit_transform(X)
    np.testing.assert_array_equal(ours, one_thread)
    theirs = umap.UMAP(n_epochs=100, random_state=3, n_jobs=1).fit_transform(X)
    assert _knn_accuracy(ours, labels) >= _knn_accuracy(theirs, labels) - 0.02
    assert trustworthiness(X, ours, k=10) >= trustworthiness(X, theirs, k=10) - 0.01


def test_separates_a_gaussian_mixture(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, labels = blobs
    Y = UMAP(n_epochs=100, random_state=0).fit_transform(X)
    assert Y.dtype == np.float32 and Y.shape == (400, 2) and Y.flags.c_contiguous
    assert _knn_accuracy(Y, labels) > 0.95


def test_three_components_with_cosine_and_pca_init(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, labels = blobs
    Y = UMAP(n_components=3, metric="cosine", init="pca", n_epochs=60, random_state=0).fit_transform(X)
    assert Y.shape == (400, 3) and np.isfinite(Y).all()
    assert _knn_accuracy(Y, labels) > 0.95


def test_same_seed_same_result(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    first = UMAP(n_epochs=30, random_state=7, init="random").fit_transform(X)
    second = UMAP(n_epochs=30, random_state=7, init="random").fit_transform(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, UMAP(n_epochs=30, random_state=8, init="random").fit_transform(X))


def test_precomputed_graph_is_umap_learns_precomputed_knn_with_self_prepended(
    blobs: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    import reducers.umap_adapter as adapter

    X, _ = blobs
    indices, distances = _exact_graph(X, 9)
    with_self = (np.hstack([np.arange(400)[:, None], indices]), np.hstack([np.zeros((400, 1)), distances]))
    seen = []
    layout = adapter.optimize_layout
    monkeypatch.setattr(
        adapter, "optimize_layout", lambda Y, head, tail, *a, **kw: seen.append((head, tail)) or layout(Y, head, tail, *a, **kw)
    )
    UMAP(n_neighbors=10, n_epochs=30, random_state=2, knn=(indices, distances)).fit_transform(X)
    with pytest.warns(UserWarning, match="knn_search_index"):
        theirs = umap.UMAP(n_neighbors=10, n_epochs=30, random_state=2, n_jobs=1, precomputed_knn=with_self).fit(X)
    # The fuzzy graph our layout optimises is umap-learn's for that precomputed graph.
    graph = theirs.graph_.tocoo()
    graph.sum_duplicates()
    graph.data[graph.data < graph.data.max() / 30] = 0.0
    graph.eliminate_zeros()
    np.testing.assert_array_equal(seen[0][0], graph.row)
    np.testing.assert_array_equal(seen[0][1], graph.col)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_precomputed_graph_matches_umaps_own_exact_graph(blobs: tuple[np.ndarray, np.ndarray], metric: str) -> None:
    X, labels = blobs
    own = UMAP(n_neighbors=10, metric=metric, n_epochs=60, random_state=1).fit_transform(X)
    given = UMAP(n_neighbors=10, metric=metric, n_epochs=60, random_state=1, knn=_exact_graph(X, 9, metric))
    Y = given.fit_transform(X)
    # umap-learn's small-data path finds the same neighbours, but its graph weights differ
    # in the last float32 bits and SGD amplifies that; so compare quality, not coordinates.
    assert _knn_accuracy(Y, labels) == pytest.approx(_knn_accuracy(own, labels), abs=0.02)
    assert trustworthiness(X, Y, k=10, metric=metric) == pytest.approx(trustworthiness(X, own, k=10, metric=metric), abs=0.02)


def test_graph_object_with_extra_columns(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs

    class Graph:
        def __init__(self, indices: np.ndarray, distances: np.ndarray) -> None:
            self.indices, self.distances, self.metric = indices, distances, "euclidean"

    wide = Graph(*_exact_graph(X, 20))
    narrow = _exact_graph(X, 14)
    first = UMAP(n_epochs=20, random_state=0, knn=wide).fit_transform(X)
    np.testing.assert_array_equal(first, UMAP(n_epochs=20, random_state=0, knn=narrow).fit_transform(X))


def test_callback_gets_frames_and_can_stop(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    calls: list[tuple[int, np.ndarray, object]] = []

    def callback(epoch: int, Y: np.ndarray, error: object) -> bool:
        assert not Y.flags.writeable
        calls.append((epoch, Y.copy(), error))
        return epoch >= 20

    model = UMAP(n_epochs=50, random_state=0, callback=callback, callback_every=5).fit(X)
    assert [epoch for epoch, _, _ in calls] == [0, 5, 10, 15, 20]
    assert all(error is None for _, _, error in calls)
    assert model.n_iter_ == 20
    np.testing.assert_array_equal(model.embedding_, calls[-1][1])


def test_callback_sees_the_last_epoch(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    epochs: list[int] = []
    model = UMAP(n_epochs=23, random_state=0, callback=lambda e, Y, _: epochs.append(e), callback_every=10).fit(X)
    assert epochs == [0, 10, 20, 23] and model.n_iter_ == 23


def test_callback_does_not_change_the_result(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    plain = UMAP(n_epochs=30, random_state=0).fit_transform(X)
    watched = UMAP(n_epochs=30, random_state=0, callback=lambda *args: None, callback_every=1).fit_transform(X)
    np.testing.assert_array_equal(plain, watched)


def test_init_array_is_used(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    start = X[:, :2].copy()
    frames: list[np.ndarray] = []
    UMAP(init=start, n_epochs=5, random_state=0, callback=lambda e, Y, _: frames.append(Y.copy())).fit(X)
    # The first frame is the start rescaled to [0, 10] per axis, as umap-learn does.
    expected = 10.0 * (start - start.min(0)) / (start.max(0) - start.min(0))
    np.testing.assert_allclose(frames[0], expected, rtol=1e-5, atol=1e-4)


def test_constructor_only_stores_parameters() -> None:
    model = UMAP(n_neighbors=-3, metric="nope")
    assert model.get_params()["n_neighbors"] == -3 and model.metric == "nope"
    assert model.set_params(n_neighbors=5).n_neighbors == 5


_X = np.random.RandomState(1).normal(size=(30, 4)).astype(np.float32)
_GOOD_GRAPH = _exact_graph(_X, 14)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_components": 4}, "n_components"),
        ({"n_components": 2.0}, "n_components"),
        ({"n_neighbors": 1}, "n_neighbors"),
        ({"n_neighbors": 30}, "n_neighbors"),
        ({"n_neighbors": 7.5}, "n_neighbors"),
        ({"min_dist": -0.1}, "min_dist"),
        ({"min_dist": 1.5}, "min_dist"),
        ({"min_dist": "small"}, "min_dist"),
        ({"metric": "manhattan"}, "metric"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"n_epochs": 10.0}, "n_epochs"),
        ({"init": "tswspectral"}, "init"),
        ({"init": np.zeros((30, 3))}, "init"),
        ({"init": np.full((30, 2), np.nan)}, "init"),
        ({"random_state": "seed"}, "random_state"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_jobs": -2}, "n_jobs"),
        ({"callback": 3}, "callback"),
        ({"callback_every": 0}, "callback_every"),
        ({"knn": "graph"}, "knn"),
        ({"knn": (_GOOD_GRAPH[0][:, :5], _GOOD_GRAPH[1][:, :5])}, "knn"),
        ({"knn": (_GOOD_GRAPH[0][:-1], _GOOD_GRAPH[1][:-1])}, "knn"),
        ({"knn": (_GOOD_GRAPH[0] + 100, _GOOD_GRAPH[1])}, "knn"),
        ({"knn": (np.tile(np.arange(30)[:, None], 14), _GOOD_GRAPH[1])}, "knn"),
        ({"knn": (_GOOD_GRAPH[0], -_GOOD_GRAPH[1])}, "knn"),
        ({"knn": (_GOOD_GRAPH[0], _GOOD_GRAPH[1][:, ::-1].copy())}, "knn"),
        ({"knn": (_GOOD_GRAPH[0].astype(float), _GOOD_GRAPH[1])}, "knn"),
    ],
)
def test_invalid_parameter_is_named(params: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"`{name}`"):
        UMAP(**params).fit(_X)


def test_graph_metric_must_match() -> None:
    class Graph:
        indices, distances, metric = _GOOD_GRAPH[0], _GOOD_GRAPH[1], "cosine"

    with pytest.raises(ValueError, match="`knn`.*cosine"):
        UMAP(knn=Graph()).fit(_X)


def test_invalid_input_is_named() -> None:
    with pytest.raises(ValueError, match="Input X contains infinity"):
        UMAP().fit(np.full((30, 4), np.inf))

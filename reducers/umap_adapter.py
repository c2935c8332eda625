"""UMAP as a scikit-learn style estimator over umap-learn, with live progress and a shared kNN graph.

umap-learn builds the fuzzy graph and the initial layout; the layout is then optimised by
`reducers.umap_layout` on every core, one epoch at a time, so the service gets a frame (and a
chance to cancel) every few epochs. A seed makes the result reproducible on any number of
threads (umap-learn would run a seeded layout on one thread).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import umap
import umap.spectral
import umap.umap_
import umap.utils
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.neighbors import KDTree
from sklearn.utils import Tags, check_random_state

from reducers._validation import check_embedding, check_n_components, reducer_tags, validate_input
from reducers.umap_layout import MAX_CALLBACK_INTERVAL, optimize_layout

__all__ = ["UMAP", "MAX_CALLBACK_INTERVAL"]


METRICS = ("euclidean", "cosine")
INITS = ("spectral", "pca", "random")


def _cache_umap_kernels() -> None:
    """Turn on Numba's disk cache for the umap-learn kernels that it compiles without one.

    umap-learn compiles these on the first fit of every process (about 4 s for a fit on a
    precomputed graph, 7 s with its own exact kNN); cached, a new process loads them in
    milliseconds. Caching changes no result. The cache goes next to umap-learn's sources
    when that is writable, else to ``NUMBA_CACHE_DIR`` or the user cache directory, and is
    invalidated when umap-learn is upgraded. pynndescent's NN-descent closures are built at
    run time and cannot be cached; pass a precomputed `knn` to avoid them.
    """
    for kernel in (
        umap.umap_.smooth_knn_dist,
        umap.umap_.compute_membership_strengths,
        umap.utils.fast_knn_indices,
    ):
        kernel.enable_caching()


_cache_umap_kernels()

Callback = Callable[[int, np.ndarray, None], Any]


class UMAP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Uniform Manifold Approximation and Projection (McInnes, Healy & Melville 2018).

    Parameters
    ----------
    n_components : {2, 3}
    n_neighbors : int
        Size of the local neighbourhood, the point itself included (umap-learn's convention).
    min_dist : float in [0, 1]
        How tightly points may pack in the embedding.
    metric : {"euclidean", "cosine"}
    n_epochs : int or None
        SGD epochs; None means umap-learn's default (500 up to 10,000 points, else 200).
    init : {"spectral", "pca", "random"} or array of shape (n_samples, n_components)
    random_state : None, int or RandomState
        A seed makes the result reproducible, whatever `n_jobs`; None draws one.
    n_jobs : int or None
        Threads for the layout; None or -1 means all cores. (umap-learn's own steps run on
        one thread when seeded.)
    callback : callable or None
        ``callback(epoch, Y, None)`` is called with the layout after initialisation
        (epoch 0), then every `callback_every` epochs, after the last epoch, and whenever
        `MAX_CALLBACK_INTERVAL` seconds have passed since the previous call. `Y` is a
        read-only view of the live layout, so copy it to keep it. Returning True stops the
        optimisation; `embedding_` is then the layout at that epoch.
    callback_every : int
    knn : None, ``(indices, distances)`` or an object with ``.indices`` and ``.distances``
        A precomputed kNN graph (``reducers.knn.knn_graph``): int32/float32 arrays of shape
        (n_samples, k), the point itself excluded, rows sorted by increasing distance in
        `metric`, with ``k >= n_neighbors - 1``. None lets umap-learn compute the graph
        (exactly below 4,096 points, by NN-descent above).

    Input is dense (sparse is refused: reduce it with `reducers.PCA` first); output is
    float32 whatever the input dtype. There is no `transform`: only the fitted data is embedded.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when fitted on a DataFrame with string column names
    n_iter_ : int
        Epochs run (fewer than planned when the callback stopped the run).
    """

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        n_epochs: int | None = None,
        init: str | np.ndarray = "spectral",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        callback: Callback | None = None,
        callback_every: int = 10,
        knn: object = None,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.n_epochs = n_epochs
        self.init = init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.callback = callback
        self.callback_every = callback_every
        self.knn = knn

    def fit(self, X: object, y: object = None) -> UMAP:
        """Embed `X`, an array of shape (n_samples, n_features); `y` is ignored."""
        X = validate_input(self, X, reset=True)
        n = X.shape[0]
        n_components = check_n_components(self.n_components, allowed=(2, 3))
        n_neighbors = _check_int("n_neighbors", self.n_neighbors, low=2)
        if n_neighbors >= n:
            raise ValueError(f"`n_neighbors` must be less than the number of samples ({n}), got {n_neighbors}")
        if isinstance(self.min_dist, bool) or not isinstance(self.min_dist, (int, float, np.number)):
            raise ValueError(f"`min_dist` must be a number, got {self.min_dist!r}")
        if not 0.0 <= float(self.min_dist) <= 1.0:
            raise ValueError(f"`min_dist` must be in [0, 1], got {self.min_dist}")
        if self.metric not in METRICS:
            raise ValueError(f"`metric` must be one of {METRICS}, got {self.metric!r}")
        n_epochs = None if self.n_epochs is None else _check_int("n_epochs", self.n_epochs, low=1)
        init = _check_init(self.init, n, n_components)
        try:
            check_random_state(self.random_state)
        except ValueError:
            raise ValueError(f"`random_state` must be None, an int or a RandomState, got {self.random_state!r}") from None
        n_jobs = -1 if self.n_jobs is None else _check_int("n_jobs", self.n_jobs, low=-1)
        if n_jobs == 0:
            raise ValueError("`n_jobs` must be a positive int, -1 or None, got 0")
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"`callback` must be callable or None, got {self.callback!r}")
        callback_every = _check_int("callback_every", self.callback_every, low=1)
        knn = _check_knn(self.knn, n, n_neighbors, self.metric)

        seeded = self.random_state is not None
        model = _SteppedUMAP(
            n_neighbors=n_neighbors,
            n_components=n_components,
            min_dist=float(self.min_dist),
            metric=self.metric,
            n_epochs=n_epochs,
            init=init,
            random_state=self.random_state,
            # umap-learn itself forces one thread when seeded, with a warning; say it here.
            n_jobs=1 if seeded else n_jobs,
            precomputed_knn=(None, None, None) if knn is None else knn,
        )
        with warnings.catch_warnings():
            # A kNN graph from elsewhere has no pynndescent index; that only matters for
            # umap-learn's transform(), which this estimator does not offer.
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            model.fit(X, callback=self.callback, callback_every=callback_every, n_jobs=n_jobs)
        self.embedding_ = np.ascontiguousarray(model.embedding_, dtype=np.float32)
        self.n_iter_ = model.n_iter_
        return self

    def fit_transform(self, X: object, y: object = None) -> np.ndarray:
        """Embed `X` and return `embedding_`, float32 of shape (n_samples, n_components)."""
        return self.fit(X, y).embedding_

    @property
    def _n_features_out(self) -> int:
        return int(self.embedding_.shape[1])

    def __sklearn_tags__(self) -> Tags:
        return reducer_tags(super().__sklearn_tags__())


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"`{name}` must be at least {low}, got {value}")
    return int(value)


def _check_init(init: object, n: int, n_components: int) -> str | np.ndarray:
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"`init` must be one of {INITS} or an array, got {init!r}")
        return init
    try:
        array = check_embedding(init, min_samples=1, name="init")
    except ValueError as error:
        raise ValueError(f"`init` must be one of {INITS} or a finite numeric array: {error}") from None
    if array.shape != (n, n_components):
        raise ValueError(f"`init` must have shape (n_samples, n_components) = {(n, n_components)}, got {array.shape}")
    return array


def _check_knn(knn: object, n: int, n_neighbors: int, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Return `knn` as umap-learn's ``precomputed_knn``: the point itself prepended as neighbour 0.

    umap-learn's `n_neighbors` counts the point itself, ours and `reducers.knn` do not; so
    `n_neighbors - 1` columns of `knn` are used and each row gets ``(i, 0.0)`` in front.
    """
    if knn is None:
        return None
    if isinstance(knn, tuple) and len(knn) == 2:
        indices, distances = knn
    elif hasattr(knn, "indices") and hasattr(knn, "distances"):
        indices, distances = knn.indices, knn.distances
        graph_metric = getattr(knn, "metric", metric)
        if graph_metric != metric:
            raise ValueError(f"`knn` was built with metric {graph_metric!r} but `metric` is {metric!r}")
    else:
        raise ValueError("`knn` must be None, an (indices, distances) tuple or have .indices and .distances")
    indices, distances = np.asarray(indices), np.asarray(distances)
    if indices.ndim != 2 or indices.shape != distances.shape or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"`knn` needs integer indices and distances of one 2-D shape, got {indices.shape} and {distances.shape}")
    if indices.shape[0] != n:
        raise ValueError(f"`knn` has {indices.shape[0]} rows but X has {n} samples")
    k = n_neighbors - 1
    if indices.shape[1] < k:
        raise ValueError(f"`knn` has {indices.shape[1]} neighbours per point; n_neighbors={n_neighbors} needs {k}")
    indices = indices[:, :k].astype(np.int64)
    distances = distances[:, :k].astype(np.float32)
    rows = np.arange(n)
    if indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"`knn` indices must lie in [0, {n})")
    if (indices == rows[:, None]).any():
        raise ValueError("`knn` rows must not contain the point itself")
    if not np.isfinite(distances).all() or (distances < 0).any():
        raise ValueError("`knn` distances must be finite and non-negative")
    if (np.diff(distances, axis=1) < 0).any():
        raise ValueError("`knn` rows must be sorted by increasing distance")
    with_self = np.empty((n, k + 1), dtype=np.int64)
    with_self[:, 0] = rows
    with_self[:, 1:] = indices
    dists = np.zeros((n, k + 1), dtype=np.float32)
    dists[:, 1:] = distances
    return with_self, dists


class _SteppedUMAP(umap.UMAP):  # type: ignore[misc]
    """umap-learn's estimator with the layout optimised here, one epoch at a time."""

    def _fit_embed_data(self, X, n_epochs, init, random_state, callback=None, callback_every=10, n_jobs=-1):  # type: ignore[no-untyped-def]
        # umap-learn documents this method as the one subclasses replace. fit() has built
        # graph_ and hands over the RandomState that drew the kNN graph, so the draws
        # below continue umap-learn's own sequence. A seeded fit() has set Numba to one
        # thread; the layout is reproducible on any number, so it gets `n_jobs`.
        before = numba.get_num_threads()
        limit = numba.config.NUMBA_NUM_THREADS
        numba.set_num_threads(limit if n_jobs < 0 else min(n_jobs, limit))
        try:
            Y, self.n_iter_ = _embed(self, X, n_epochs, init, random_state, callback, callback_every)
        finally:
            numba.set_num_threads(before)
        return Y, {}


def _embed(
    model: _SteppedUMAP,
    X: np.ndarray,
    n_epochs: int | None,
    init: str | np.ndarray,
    random_state: np.random.RandomState,
    callback: Callback | None,
    callback_every: int,
) -> tuple[np.ndarray, int]:
    """umap-learn's `simplicial_set_embedding` for Euclidean output without densMAP, with our layout step.

    The graph pruning, initial layout, epochs-per-sample and draws are umap-learn's; the
    optimisation is `reducers.umap_layout.optimize_layout`, seeded from the same RandomState.
    """
    graph = model.graph_.tocoo()
    graph.sum_duplicates()
    default_epochs = 500 if graph.shape[0] <= 10000 else 200
    if n_epochs is None:
        n_epochs = default_epochs
    # Edges too weak to be sampled even once in the whole run are dropped.
    prune_epochs = n_epochs if n_epochs > 10 else default_epochs
    graph.data[graph.data < (graph.data.max() / float(prune_epochs))] = 0.0
    graph.eliminate_zeros()

    Y = _initial_layout(model, X, graph, init, random_state)
    epochs_per_sample = umap.umap_.make_epochs_per_sample(graph.data, n_epochs)
    seed = int(random_state.randint(np.iinfo(np.int64).max, dtype=np.int64))
    Y = (10.0 * (Y - np.min(Y, 0)) / (np.max(Y, 0) - np.min(Y, 0))).astype(np.float32, order="C")
    n_iter = optimize_layout(
        Y, graph.row, graph.col, n_epochs, epochs_per_sample, model._a, model._b, seed, gamma=model.repulsion_strength,
        initial_alpha=model._initial_alpha, negative_sample_rate=model.negative_sample_rate, callback=callback,
        callback_every=callback_every,
    )  # fmt: skip
    return Y, n_iter


def _initial_layout(
    model: _SteppedUMAP, X: np.ndarray, graph: Any, init: str | np.ndarray, random_state: np.random.RandomState
) -> np.ndarray:
    n, dim = graph.shape[0], model.n_components
    if isinstance(init, str) and init == "random":
        return random_state.uniform(low=-10.0, high=10.0, size=(n, dim)).astype(np.float32)
    if isinstance(init, str) and init == "pca":
        Y = PCA(n_components=dim, random_state=random_state).fit_transform(X).astype(np.float32)
        return umap.umap_.noisy_scale_coords(Y, random_state, max_coord=10, noise=0.0001)
    if isinstance(init, str):
        Y = umap.spectral.spectral_layout(X, graph, dim, random_state, metric=model._input_distance_func, metric_kwds=model._metric_kwds)
        # A little noise keeps the optimisation out of the spectral layout's exact symmetries.
        return umap.umap_.noisy_scale_coords(Y, random_state, max_coord=10, noise=0.0001)
    Y = np.array(init)
    if np.unique(Y, axis=0).shape[0] < n:
        # Coincident starting points would never separate: jitter by a little of the spacing.
        spacing = np.mean(KDTree(Y).query(Y, k=2)[0][:, 1])
        Y = Y + random_state.normal(scale=0.001 * spacing, size=Y.shape).astype(np.float32)
    return Y

"""The `TSNE` estimator: validation, "auto" resolution and the two optimisation phases."""

from __future__ import annotations

import numbers
import os
from typing import Any

import numba
import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import Tags, check_random_state

from reducers._validation import check_n_components, reducer_tags, validate_input
from reducers.knn import KNNGraph, as_knn_graph, knn_graph
from reducers.tsne import affinity, gradients, initialization
from reducers.tsne.optimizer import Phase, kl_divergence, optimize

__all__ = ["TSNE"]

_METRICS = ("euclidean", "cosine")
_INITS = ("pca", "random")


class TSNE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """t-distributed Stochastic Neighbor Embedding (van der Maaten & Hinton 2008).

    Affinities from a k-nearest-neighbour graph, attraction over the sparse P, repulsion
    by FFT-accelerated interpolation (FIt-SNE, Linderman et al. 2019) in 2-D and 3-D.

    Parameters
    ----------
    n_components : {2, 3}
    perplexity : float
        Effective number of neighbours, ``0 < perplexity < n_samples``.
    early_exaggeration : float
        Factor on P during the first `exaggeration_iter` iterations (>= 1).
    exaggeration_iter : int
        Iterations of early exaggeration; counted in `n_iter`.
    n_iter : int
        All iterations, exaggeration phase included (openTSNE's 250 + 500 by default).
    learning_rate : float or "auto"
        ``"auto"`` is ``max(n_samples / exaggeration, 200)`` per phase (Belkina et al.
        2019), in the gradient convention without the factor 4, so four times
        scikit-learn's numbers.
    metric : {"euclidean", "cosine"}
    init : {"pca", "random"} or ndarray of shape (n_samples, n_components)
        PCA and random layouts are scaled to standard deviation 1e-4; an array is used as is.
    random_state : None, int or RandomState
    n_jobs : int or None
        Threads for the kNN search, the kernels and the FFTs; None means all cores.
    callback : callable or None
        ``callback(iteration, Y, kl) -> bool`` every `callback_every` iterations, with
        ``Y`` a float32 copy of the layout; returning True stops early.
    callback_every : int
    knn : KNNGraph, (indices, distances) or None
        A precomputed neighbour graph (at least ``min(n - 1, 3 * perplexity)`` columns
        are used when present); `fit` also accepts it.

    Input is dense (sparse is refused: reduce it with `reducers.PCA` first); output is
    float32 whatever the input dtype. There is no `transform`: t-SNE embeds the data it
    was fitted on.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when fitted on a DataFrame with string column names
    kl_divergence_ : float
    n_iter_ : int
        Iterations run (fewer than `n_iter` when the callback stopped early).
    """

    def __init__(
        self,
        n_components=2,
        perplexity=30.0,
        early_exaggeration=12.0,
        exaggeration_iter=250,
        n_iter=750,
        learning_rate="auto",
        metric="euclidean",
        init="pca",
        random_state=None,
        n_jobs=None,
        callback=None,
        callback_every=10,
        knn=None,
    ):
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.exaggeration_iter = exaggeration_iter
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.metric = metric
        self.init = init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.callback = callback
        self.callback_every = callback_every
        self.knn = knn

    def fit_transform(self, X, y=None, knn=None) -> np.ndarray:
        """Fit and return the embedding, float32 of shape (n_samples, n_components)."""
        return self.fit(X, y, knn=knn).embedding_

    def fit(self, X, y=None, knn=None) -> TSNE:
        """Embed `X` of shape (n_samples, n_features); returns self."""
        X = validate_input(self, X, reset=True)
        n = X.shape[0]
        params = self._validate(n)
        rng = check_random_state(self.random_state)
        Y0 = self._initial_layout(X, rng)
        knn = knn if knn is not None else self.knn
        k = affinity.n_neighbors_for(params["perplexity"], n)
        if knn is None:
            knn = knn_graph(X, k, metric=self.metric, random_state=rng, n_jobs=params["n_jobs"])
        else:
            knn = as_knn_graph(knn, n, self.metric)
            if knn.metric != self.metric:
                raise ValueError(f"`knn` was built with metric {knn.metric!r} but `metric` is {self.metric!r}")
        # Renumber the points along a Z-order curve of the starting layout, so neighbours in
        # P and on the grid sit close in memory: the gradient loops are bound by those reads.
        order = _z_order(Y0)
        inv = np.empty_like(order)
        inv[order] = np.arange(n)
        knn = KNNGraph(inv[knn.indices[order]].astype(np.int32), knn.distances[order], knn.metric)
        threads = numba.get_num_threads()
        numba.set_num_threads(min(params["n_jobs"], numba.config.NUMBA_NUM_THREADS))
        try:
            P = affinity.perplexity_affinities(perplexity=params["perplexity"], knn=knn)
            P.data = P.data.astype(np.float32)
            Y, kl, n_iter = self._optimize(P, Y0[order], params, inv)
            if kl is None or n_iter % self.callback_every != 0:
                ws_grid = gradients.DEFAULT_GRID[params["n_components"]]
                kl = kl_divergence(P, Y, gradients.Workspace(n, Y.shape[1], ws_grid), _p_log_p(P), params["n_jobs"])
            Y = Y[inv]
        finally:
            numba.set_num_threads(threads)
        self.embedding_ = np.ascontiguousarray(Y - Y.mean(axis=0), dtype=np.float32)
        self.kl_divergence_ = float(kl)
        self.n_iter_ = int(n_iter)
        return self

    @property
    def _n_features_out(self) -> int:
        return int(self.embedding_.shape[1])

    def __sklearn_tags__(self) -> Tags:
        return reducer_tags(super().__sklearn_tags__())

    def _optimize(self, P, Y, params, inv):
        n, d = Y.shape
        lr = params["learning_rate"]
        exag_iter = min(params["exaggeration_iter"], params["n_iter"])

        def rate(exaggeration: float) -> float:
            return max(n / exaggeration, 200.0) if lr == "auto" else float(lr)

        phases = [
            Phase(exag_iter, params["early_exaggeration"], 0.5, rate(params["early_exaggeration"])),
            Phase(params["n_iter"] - exag_iter, 1.0, 0.8, rate(1.0)),
        ]
        callback = None
        if self.callback is not None:
            user = self.callback

            def callback(it, Y, kl):
                return bool(user(it, Y[inv].astype(np.float32), kl))

        return optimize(
            P,
            Y,
            phases,
            grid=gradients.DEFAULT_GRID[d],
            workers=params["n_jobs"],
            callback=callback,
            callback_every=params["callback_every"],
        )

    def _initial_layout(self, X, rng) -> np.ndarray:
        n, d = X.shape[0], self.n_components
        if isinstance(self.init, str):
            if self.init == "pca":
                return initialization.pca(X, d, rng)
            return initialization.random(n, d, rng)
        Y = np.array(self.init, dtype=np.float64)
        if Y.shape != (n, d):
            raise ValueError(f"`init` array must have shape (n_samples, n_components) = {(n, d)}, got {Y.shape}")
        if not np.isfinite(Y).all():
            raise ValueError("`init` array contains NaN or infinite values")
        return Y

    def _validate(self, n: int) -> dict[str, Any]:
        out: dict[str, Any] = {"n_components": check_n_components(self.n_components, allowed=(2, 3))}
        p = self.perplexity
        if not _is_real(p) or not 0 < p < n:
            raise ValueError(f"`perplexity` must be a number in (0, n_samples) = (0, {n}), got {p!r}")
        out["perplexity"] = float(p)
        ee = self.early_exaggeration
        if not _is_real(ee) or not ee >= 1:
            raise ValueError(f"`early_exaggeration` must be a number >= 1, got {ee!r}")
        out["early_exaggeration"] = float(ee)
        for name in ("exaggeration_iter", "n_iter", "callback_every"):
            v = getattr(self, name)
            low = 0 if name == "exaggeration_iter" else 1
            if not _is_int(v) or v < low:
                raise ValueError(f"`{name}` must be an integer >= {low}, got {v!r}")
            out[name] = int(v)
        lr = self.learning_rate
        if not (isinstance(lr, str) and lr == "auto") and not (_is_real(lr) and lr > 0):
            raise ValueError(f"`learning_rate` must be 'auto' or a positive number, got {lr!r}")
        out["learning_rate"] = lr if isinstance(lr, str) else float(lr)
        if self.metric not in _METRICS:
            raise ValueError(f"`metric` must be one of {_METRICS}, got {self.metric!r}")
        if isinstance(self.init, str) and self.init not in _INITS:
            raise ValueError(f"`init` must be one of {_INITS} or an array, got {self.init!r}")
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"`callback` must be callable or None, got {self.callback!r}")
        nj = self.n_jobs
        if nj is not None and (not _is_int(nj) or nj == 0):
            raise ValueError(f"`n_jobs` must be None, a positive integer or -1, got {nj!r}")
        out["n_jobs"] = (os.cpu_count() or 1) if nj is None or nj < 0 else int(nj)
        return out


def _z_order(Y: np.ndarray) -> np.ndarray:
    """Permutation sorting the rows of `Y` (n, d) along a Z-order curve, 10 bits per axis."""
    lo = Y.min(axis=0)
    span = float((Y.max(axis=0) - lo).max()) or 1.0
    q = np.clip(((Y - lo) * (1023.0 / span)).astype(np.int64), 0, 1023)
    code = np.zeros(len(Y), dtype=np.int64)
    d = Y.shape[1]
    for bit in range(10):
        for c in range(d):
            code |= ((q[:, c] >> bit) & 1) << (bit * d + c)
    return np.argsort(code, kind="stable")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and bool(np.isfinite(float(v)))


def _p_log_p(P) -> float:
    data = P.data.astype(np.float64)
    return float(np.sum(data * np.log(np.where(data > 0, data, 1.0))))

"""How each projection method runs on a tensor: the reducers behind the method table (projector.jobs.methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from projector.data.search import search
from projector.errors import InvalidParameter
from reducers import PCA, TSNE, UMAP
from reducers.custom import custom_axes

PCA_REPORTED = 10  # components whose explained variance the page can show


class Reporter(Protocol):
    """Where a running projection reports to: progress and live frames (cancel kills the worker)."""

    def progress(self, fraction: float, iteration: int = 0) -> None: ...

    def frame(self, coords: np.ndarray, iteration: int) -> None: ...


class Graphs(Protocol):
    """Where a method gets the dataset's shared kNN graph (see projector.jobs.graphs)."""

    def get(self, metric: str, k: int) -> Any: ...


Result = tuple[np.ndarray, dict[str, Any]]
Runner = Callable[[np.ndarray, int, dict[str, Any], Reporter, Graphs], Result]


def _run_pca(X: np.ndarray, dims: int, params: dict[str, Any], reporter: Reporter, graphs: Graphs) -> Result:
    components = params["components"]
    k = max(max(components) + 1, min(PCA_REPORTED, *X.shape))
    reporter.progress(0.05)
    pca = PCA(n_components=k, random_state=0).fit(X)
    reporter.progress(0.6)
    coords = np.ascontiguousarray(pca.transform(X)[:, components])
    ratios = pca.explained_variance_ratio_
    return coords, {
        "explained_variance_ratio": [float(ratios[c]) for c in components],
        "explained_variance_ratio_all": [float(r) for r in ratios[:PCA_REPORTED]],
    }


def _iterative_callback(reporter: Reporter, total: int) -> Callable[[int, np.ndarray, Any], bool]:
    def callback(iteration: int, coords: np.ndarray, _loss: Any = None) -> bool:
        reporter.frame(coords, iteration)
        reporter.progress(min(iteration / max(total, 1), 1.0), iteration)
        return False  # keep going: a cancelled job's process is killed

    return callback


def _run_tsne(X: np.ndarray, dims: int, params: dict[str, Any], reporter: Reporter, graphs: Graphs) -> Result:
    knn = graphs.get(params["metric"], int(min(X.shape[0] - 1, 3 * params["perplexity"])))
    callback = _iterative_callback(reporter, params["n_iter"])
    kwargs = {name: value for name, value in params.items() if name != "init_from"}
    if isinstance(params.get("init_array"), np.ndarray):
        # Continue from an earlier layout as it is (aligned training steps); shrinking it to the
        # usual 1e-4 starting scale lets early exaggeration reshuffle the clusters (measured).
        kwargs["init"] = params["init_array"]
    kwargs.pop("init_array", None)
    tsne = TSNE(n_components=dims, callback=callback, callback_every=10, knn=knn, **kwargs)
    coords = tsne.fit_transform(X)
    return coords, {"kl_divergence": float(getattr(tsne, "kl_divergence_", float("nan")))}


def _run_umap(X: np.ndarray, dims: int, params: dict[str, Any], reporter: Reporter, graphs: Graphs) -> Result:
    epochs = params["n_epochs"] or (500 if X.shape[0] <= 10000 else 200)  # umap-learn's own default
    kwargs = {name: value for name, value in params.items() if name not in ("init_from", "init_array")}
    kwargs["n_epochs"] = params["n_epochs"] or None
    if isinstance(params.get("init_array"), np.ndarray):
        kwargs["init"] = params["init_array"]  # umap-learn rescales an array start itself
    knn = graphs.get(params["metric"], params["n_neighbors"] - 1)  # umap-learn counts the point itself
    umap = UMAP(
        n_components=dims,
        callback=_iterative_callback(reporter, epochs),
        callback_every=10,
        knn=knn,
        **kwargs,
    )
    return umap.fit_transform(X), {}


CUSTOM_SEARCH_SECONDS = 60.0  # a job may search longer than a request


def _run_custom(X: np.ndarray, dims: int, params: dict[str, Any], reporter: Reporter, graphs: Graphs) -> Result:
    """TensorBoard's custom projection: the rows each query finds (metadata search) set the two axes' ends."""
    metadata, column = params["metadata"], params["column"] or None
    groups = {}
    for step, name in enumerate(("x_left", "x_right", "y_down", "y_up")):
        count, rows = search(metadata, params[name], column, X.shape[0], budget=CUSTOM_SEARCH_SECONDS)
        if count == 0:
            where = f"column {column!r}" if column else "any column"
            raise InvalidParameter(f"parameter `{name}`: the pattern {params[name]!r} matches no row in {where}", code="no_match")
        groups[name] = np.asarray(rows, dtype=np.int64)
        reporter.progress(0.2 * (step + 1))
    try:
        coords = custom_axes(X, groups["x_left"], groups["x_right"], groups["y_down"], groups["y_up"])
    except ValueError as exc:
        raise InvalidParameter(str(exc)) from None
    return coords, {"matches": {name: len(rows) for name, rows in groups.items()}}


RUNNERS: dict[str, Runner] = {"pca": _run_pca, "tsne": _run_tsne, "umap": _run_umap, "custom": _run_custom}

"""Running one projection: the single code path shared by the job workers and `projector project`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from projector.jobs.graphs import GraphSource, load_graph
from projector.jobs.methods import Reporter, get_method

QUALITY_K = 10
QUALITY_SAMPLE = 5000
QUALITY_FLOOR = 1000
QUALITY_WORK = 2e10  # sample × n × dim budget: large datasets are scored on a smaller sample


def execute(tensor_path: Path, method: str, dims: int, params: dict[str, Any], out_path: Path, reporter: Reporter) -> dict[str, Any]:
    """Project the float32 tensor at `tensor_path`, write the coordinates to `out_path` atomically.

    Returns the method's extra results (explained variance, KL divergence, the kNN graph used…).
    """
    X = np.load(tensor_path, mmap_mode="r")
    graphs = GraphSource(tensor_path.parent, X, random_state=int(params.get("random_state", 0)))
    if params.get("init_from"):
        params = {**params, "init_array": np.load(out_path.parent / f"{params['init_from']}.npy")}
    coords, extras = get_method(method).run(X, dims, params, reporter, graphs)
    coords = np.ascontiguousarray(coords, dtype="<f4")
    if coords.shape != (X.shape[0], dims) or not np.isfinite(coords).all():
        raise RuntimeError(f"{method} produced invalid coordinates (shape {coords.shape})")
    tmp = out_path.with_name(f".{out_path.name}.partial")
    with open(tmp, "wb") as f:  # a file object, so np.save does not append ".npy"
        np.save(f, coords)
    os.replace(tmp, out_path)
    if graphs.used:
        extras["knn_graph"] = graphs.used
    reporter.progress(1.0, int(extras.get("iterations", 0)))
    return extras


def measure_quality(tensor_path: Path, coords_path: Path, metric: str = "euclidean") -> dict[str, Any]:
    """How faithful a layout is: 10-NN preservation and trustworthiness on a sample of points.

    Uses the dataset's cached kNN graph for the input-space neighbours when there is one.
    """
    from reducers.quality import knn_preservation, trustworthiness

    X = np.load(tensor_path, mmap_mode="r")
    Y = np.load(coords_path)
    n, dim = X.shape
    k = min(QUALITY_K, (n - 1) // 2)
    if k < 1:
        return {}
    sample = int(min(n, QUALITY_SAMPLE, max(QUALITY_FLOOR, QUALITY_WORK / (n * dim))))
    graph = load_graph(tensor_path.parent, metric, k)
    return {
        "knn_preservation": knn_preservation(X, Y, k=k, sample=sample, metric=metric, knn=graph),
        "trustworthiness": trustworthiness(X, Y, k=k, sample=sample, metric=metric),
        "k": k,
        "sample": sample,
        "metric": metric,
    }

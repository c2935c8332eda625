"""Running one projection and scoring it: the code a job worker executes, wherever it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from projector.data.atomic import atomic_write
from projector.data.graphs import load_graph
from projector.data.layout import DataDir
from projector.data.metadata import read_metadata_json
from projector.jobs.cluster_run import run_clusters
from projector.jobs.executors.base import JobSpec
from projector.jobs.graphs import GraphSource
from projector.jobs.runners import RUNNERS, Reporter
from reducers.quality import knn_preservation, trustworthiness

QUALITY_K = 10
QUALITY_SAMPLE = 5000
QUALITY_FLOOR = 1000
QUALITY_WORK = 2e10  # sample × n × dim budget: large datasets are scored on a smaller sample
# Jobs that are not projections: they write their own result file and have no quality score.
TASKS = {"clusters": run_clusters}
METADATA_METHODS = ("custom",)  # methods that read the dataset's metadata


def execute(spec: JobSpec, reporter: Reporter) -> dict[str, Any]:
    """Project the dataset's tensor and write the coordinates atomically to the projection's file.

    Returns the method's extra results (explained variance, KL divergence, the kNN graph used…).
    Tasks (TASKS, e.g. clusters) run instead and return their result.
    """
    if spec.method in TASKS:
        return TASKS[spec.method](spec, reporter)
    data = DataDir(Path(spec.data_dir))
    files = data.dataset(spec.dataset)
    X = np.load(files.tensor, mmap_mode="r")
    params = spec.params
    graphs = GraphSource(files, X, random_state=int(params.get("random_state", 0)))
    if params.get("init_from"):
        params = {**params, "init_array": np.load(data.coords(params["init_from"]))}
    if spec.method in METADATA_METHODS:
        params = {**params, "metadata": read_metadata_json(files.metadata)}
    coords, extras = RUNNERS[spec.method](X, spec.dims, params, reporter, graphs)
    coords = np.ascontiguousarray(coords, dtype="<f4")
    if coords.shape != (X.shape[0], spec.dims) or not np.isfinite(coords).all():
        raise RuntimeError(f"{spec.method} produced invalid coordinates (shape {coords.shape})")
    atomic_write(data.coords(spec.pid), lambda f: np.save(f, coords))
    if graphs.used:
        extras["knn_graph"] = graphs.used
    reporter.progress(1.0, int(extras.get("iterations", 0)))
    return extras


def measure_quality(spec: JobSpec) -> dict[str, Any]:
    """How faithful a layout is: 10-NN preservation and trustworthiness on a sample of points.

    Uses the dataset's cached kNN graph for the input-space neighbours when there is one.
    A task (not a layout) has no score: {}.
    """
    if spec.method in TASKS:
        return {}
    data = DataDir(Path(spec.data_dir))
    files = data.dataset(spec.dataset)
    metric = str(spec.params.get("metric", "euclidean"))
    X = np.load(files.tensor, mmap_mode="r")
    Y = np.load(data.coords(spec.pid))
    n, dim = X.shape
    k = min(QUALITY_K, (n - 1) // 2)
    if k < 1:
        return {}
    sample = int(min(n, QUALITY_SAMPLE, max(QUALITY_FLOOR, QUALITY_WORK / (n * dim))))
    graph = load_graph(files, metric, k)
    return {
        "knn_preservation": knn_preservation(X, Y, k=k, sample=sample, metric=metric, knn=graph),
        "trustworthiness": trustworthiness(X, Y, k=k, sample=sample, metric=metric),
        "k": k,
        "sample": sample,
        "metric": metric,
    }

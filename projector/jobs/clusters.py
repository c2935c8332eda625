"""Clusters of a finished projection, as a job: the request, the result's shape, and what happens when it is done.

A clusters job is a job like a projection (same lifecycle, executor, cache and status values),
with method "clusters" and params {"projection", "min_cluster_size", "label_column", "column"}.
Its worker (projector.jobs.cluster_run) writes the labels to the job's file; `finish_clusters`
then adds them to the dataset's metadata as the categorical column `column` (noise: -1).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from projector.data.edits import set_column
from projector.data.store import Store
from projector.errors import Conflict, InvalidParameter, NotFound
from reducers.clusters import auto_min_cluster_size

CLUSTERS = "clusters"
BODY_KEYS = ("min_cluster_size", "label_column")


class JobStarter(Protocol):
    """The part of projector.jobs.lifecycle.Jobs a clusters request uses."""

    store: Store

    def get(self, pid: str) -> dict[str, Any]: ...

    def start(self, dataset_id: str, method: str, dims: int, params: dict[str, Any]) -> dict[str, Any]: ...


def request_clusters(jobs: JobStarter, pid: str, body: Any) -> dict[str, Any]:
    """Validate `{"min_cluster_size"?, "label_column"?}` for projection `pid` and start (or find) its clusters job."""
    projection = jobs.get(pid)
    if projection["method"] == CLUSTERS:
        raise NotFound(f"no projection with id {pid!r}")
    if projection["status"] != "done":
        raise Conflict(f"projection {pid} is {projection['status']}: clusters need a finished layout", code="not_done")
    if not isinstance(body, dict) or set(body) - set(BODY_KEYS):
        raise InvalidParameter(f"the body must be a JSON object with optional keys {list(BODY_KEYS)}")
    dataset = jobs.store.get_dataset(projection["dataset"])
    n, auto = dataset["n"], auto_min_cluster_size(dataset["n"])
    size = body.get("min_cluster_size")
    if size is None:
        size = auto
    elif isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= n:
        raise InvalidParameter(f"`min_cluster_size` must be an integer from 2 to {n} (the number of points), got {size!r}")
    label_column = body.get("label_column") or ""
    if label_column and label_column not in dataset["columns"]:
        raise InvalidParameter(f"`label_column`: no metadata column {label_column!r}; columns: {dataset['columns']}")
    column = f"cluster_{projection['method']}_{pid[:6]}" + ("" if size == auto else f"_m{size}")
    params = {"projection": pid, "min_cluster_size": size, "label_column": label_column, "column": column}
    return jobs.start(dataset["id"], CLUSTERS, projection["dims"], params)


def clusters_job(jobs: JobStarter, pid: str, job_id: str) -> dict[str, Any]:
    """The clusters job `job_id` of projection `pid` (404 when it is not one)."""
    try:
        job = jobs.get(job_id)
    except NotFound:
        job = None
    if job is None or job["method"] != CLUSTERS or job["params"].get("projection") != pid:
        raise NotFound(f"projection {pid} has no clusters job {job_id!r}")
    return job


def clusters_view(job: dict[str, Any]) -> dict[str, Any]:
    """What the API answers: the job's state, and once done `column`, `clusters` (id, size, centroid, label), `noise`."""
    params = job["params"]
    view = {
        "id": job["id"], "projection": params["projection"], "status": job["status"], "progress": job["progress"],
        "error": job["error"], "min_cluster_size": params["min_cluster_size"], "label_column": params["label_column"] or None,
        "column": params["column"],
    }  # fmt: skip
    if job["status"] == "done":
        view.update({key: job.get(key) for key in ("label_column", "noise", "clusters")})
    return view


def finish_clusters(store: Store, job: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Add a done job's labels to its dataset's metadata (as categorical text, noise "-1"); returns the result."""
    labels = np.load(store.coords_path(job["id"]))
    n = store.get_dataset(job["dataset"])["n"]
    if labels.shape != (n,):
        raise RuntimeError(f"the clusters job wrote {labels.shape} labels for {n} points")
    set_column(store, job["dataset"], result["column"], [str(v) for v in labels.tolist()], kind="categorical")
    return result


FINISHERS = {CLUSTERS: finish_clusters}

"""A clusters job, worker side: HDBSCAN on a finished layout, each cluster's size, centroid and name.

The labels (int32, noise -1) are written to the job's own file in the data dir; the server adds
them to the dataset's metadata when the job is done (projector.jobs.clusters.finish_clusters).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from projector.data.atomic import atomic_write
from projector.data.layout import DataDir
from projector.data.metadata import read_metadata_json
from projector.jobs.cluster_labels import default_label_column, label_clusters
from projector.jobs.executors.base import JobSpec
from projector.jobs.runners import Reporter
from reducers.clusters import centroids, cluster_layout


def run_clusters(spec: JobSpec, reporter: Reporter) -> dict[str, Any]:
    """Cluster the layout of projection `spec.params["projection"]`; returns the result the API serves."""
    data = DataDir(Path(spec.data_dir))
    params = spec.params
    Y = np.load(data.coords(params["projection"]))
    reporter.progress(0.05)
    labels = cluster_layout(Y, int(params["min_cluster_size"]))
    reporter.progress(0.7)
    n_clusters = int(labels.max()) + 1
    sizes, centres = centroids(Y, labels, n_clusters)
    metadata = read_metadata_json(data.dataset(spec.dataset).metadata)
    label_column = params["label_column"] or default_label_column(metadata)
    names = label_clusters(metadata.column(label_column), labels, n_clusters) if label_column else [""] * n_clusters
    reporter.progress(0.95)
    atomic_write(data.coords(spec.pid), lambda f: np.save(f, labels.astype("<i4")))
    clusters = [
        {"id": i, "size": int(sizes[i]), "centroid": [float(v) for v in centres[i]], "label": names[i] or f"cluster {i}"}
        for i in range(n_clusters)
    ]
    return {"column": params["column"], "label_column": label_column, "noise": int(np.sum(labels < 0)), "clusters": clusters}

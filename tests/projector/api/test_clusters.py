"""Clusters of a finished layout: a job like a projection, whose result names the clusters and whose labels join the metadata."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from starlette.testclient import TestClient

from tests.conftest import npy_bytes, wait_done

TOPICS = {
    "g0": "apple banana cherry fruit orchard",
    "g1": "guitar violin drum music concert",
    "g2": "python compiler code program software",
    "g3": "football goal match team stadium",
}
FILLER = ["the", "and", "with", "some", "many", "small", "large", "great", "new", "old"]


def wait_clusters(api: TestClient, pid: str, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/projections/{pid}/clusters/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"clusters job {job_id} did not finish in {timeout} s")


def finished_layout(api: TestClient, dataset_id: str, method: str = "pca", **params: Any) -> dict[str, Any]:
    projection = api.post(f"/api/datasets/{dataset_id}/projections", json={"method": method, "dims": 2, "params": params}).json()
    projection = wait_done(api, projection["id"], timeout=300)
    assert projection["status"] == "done", projection
    return projection


@pytest.fixture
def text_dataset(api: TestClient, vectors: np.ndarray) -> dict[str, Any]:
    """The blob mixture with a free-text column whose distinctive words depend on the blob."""
    rng = np.random.default_rng(3)
    lines = ["group\tsummary"]
    for i in range(len(vectors)):
        group = f"g{i % 4}"
        words = [*rng.choice(TOPICS[group].split(), 3, replace=False), *rng.choice(FILLER, 4)]
        lines.append(f"{group}\t{' '.join(rng.permutation(words))}")
    files = {"tensor": ("t.npy", npy_bytes(vectors)), "metadata": ("m.tsv", ("\n".join(lines) + "\n").encode())}
    response = api.post("/api/datasets?name=topics", files=files)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_clusters_find_the_blobs_and_join_the_metadata(api: TestClient, dataset: dict[str, Any]) -> None:
    projection = finished_layout(api, dataset["id"])
    started = api.post(f"/api/projections/{projection['id']}/clusters", json={"label_column": "group"})
    assert started.status_code == 202, started.text
    assert {"id", "status"} <= set(started.json()) and started.json()["status"] in ("queued", "running")
    job = wait_clusters(api, projection["id"], started.json()["id"])
    assert job["status"] == "done", job
    column = job["column"]
    assert column.startswith("cluster_pca_") and job["label_column"] == "group"

    metadata = api.get(f"/api/datasets/{dataset['id']}/metadata").json()
    labels = np.array([int(row[metadata["columns"].index(column)]) for row in metadata["rows"]])
    groups = np.arange(200) % 4
    assert adjusted_rand_score(groups, labels) > 0.9  # chance is 0
    assert api.get(f"/api/datasets/{dataset['id']}").json()["column_types"][column] == "categorical"

    clusters = job["clusters"]
    assert [c["id"] for c in clusters] == list(range(len(clusters))) and len(clusters) == 4
    assert sum(c["size"] for c in clusters) + job["noise"] == 200
    assert [c["size"] for c in clusters] == sorted((c["size"] for c in clusters), reverse=True)
    coords = np.frombuffer(api.get(f"/api/projections/{projection['id']}/coords").content, "<f4").reshape(200, 2)
    for cluster in clusters:
        members = labels == cluster["id"]
        assert cluster["size"] == members.sum()
        np.testing.assert_allclose(cluster["centroid"], coords[members].mean(axis=0), rtol=1e-5, atol=1e-5)
        majority = np.bincount(groups[members]).argmax()
        assert cluster["label"] == f"g{majority}"  # the dominant category of the label column

    again = api.post(f"/api/projections/{projection['id']}/clusters", json={"label_column": "group"})
    assert again.status_code == 200 and again.json() == job  # cached: the result at once

    # The column works like any other: search, subsets, TSV.
    found = api.get(f"/api/datasets/{dataset['id']}/search", params={"q": "^0$", "column": column, "limit": 500}).json()
    assert found["count"] == clusters[0]["size"]
    subset = api.post(f"/api/datasets/{dataset['id']}/subsets", json={"q": "^1$", "column": column}).json()
    assert subset["n"] == clusters[1]["size"]
    tsv = api.get(f"/api/datasets/{dataset['id']}/metadata.tsv").text.splitlines()
    assert tsv[0].split("\t") == ["group", "word", column] and tsv[1].split("\t")[2] == str(labels[0])


def test_text_labels_are_the_most_distinctive_words(api: TestClient, text_dataset: dict[str, Any]) -> None:
    projection = finished_layout(api, text_dataset["id"])
    job = api.post(f"/api/projections/{projection['id']}/clusters", json={}).json()
    job = wait_clusters(api, projection["id"], job["id"])
    assert job["status"] == "done" and job["label_column"] == "summary"  # the default: the first text column
    metadata = api.get(f"/api/datasets/{text_dataset['id']}/metadata").json()
    labels = np.array([int(row[-1]) for row in metadata["rows"]])
    for cluster in job["clusters"]:
        group = f"g{np.bincount(np.arange(200)[labels == cluster['id']] % 4).argmax()}"
        words = cluster["label"].split(", ")
        assert len(words) == 3 and set(words) <= set(TOPICS[group].split()), (cluster, group)


def test_min_cluster_size_names_its_own_column(api: TestClient, dataset: dict[str, Any]) -> None:
    projection = finished_layout(api, dataset["id"])
    job = wait_clusters(
        api, projection["id"], api.post(f"/api/projections/{projection['id']}/clusters", json={"min_cluster_size": 60}).json()["id"]
    )
    assert job["status"] == "done" and job["column"].endswith("_m60") and job["min_cluster_size"] == 60
    assert all(c["size"] >= 60 for c in job["clusters"])  # the 50-point blobs cannot be clusters of their own


def test_clusters_need_a_finished_projection(api: TestClient, dataset: dict[str, Any]) -> None:
    failing = {"column": "group", "x_left": "^nothing$", "x_right": "^g1$", "y_down": "^g2$", "y_up": "^g3$"}
    failed = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "custom", "dims": 2, "params": failing}).json()
    assert wait_done(api, failed["id"], timeout=300)["status"] == "failed"
    response = api.post(f"/api/projections/{failed['id']}/clusters", json={})
    assert (response.status_code, response.json()["error"]) == (409, "not_done")
    assert "failed" in response.json()["detail"]

    running = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "tsne", "dims": 2, "params": {"n_iter": 5000}}).json()
    response = api.post(f"/api/projections/{running['id']}/clusters", json={})
    assert response.status_code == 409 and response.json()["error"] == "not_done"
    api.delete(f"/api/projections/{running['id']}")
    assert api.post("/api/projections/nope/clusters", json={}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"min_cluster_size": 1},
        {"min_cluster_size": 201},
        {"min_cluster_size": "5"},
        {"min_cluster_size": True},
        {"label_column": "nope"},
        {"k": 3},
        [],
    ],
)
def test_bad_parameters_are_422(api: TestClient, dataset: dict[str, Any], body: Any) -> None:
    projection = finished_layout(api, dataset["id"])
    response = api.post(f"/api/projections/{projection['id']}/clusters", json=body)
    assert response.status_code == 422, response.text


def test_a_clusters_job_is_not_a_projection(api: TestClient, dataset: dict[str, Any]) -> None:
    projection = finished_layout(api, dataset["id"])
    job = wait_clusters(api, projection["id"], api.post(f"/api/projections/{projection['id']}/clusters", json={}).json()["id"])
    assert [p["id"] for p in api.get(f"/api/datasets/{dataset['id']}/projections").json()] == [projection["id"]]
    assert api.get(f"/api/projections/{job['id']}/coords").status_code == 404
    assert api.get(f"/api/projections/{projection['id']}/clusters/nope").status_code == 404
    assert api.get(f"/api/projections/{job['id']}/clusters/{job['id']}").status_code == 404
    assert api.post(f"/api/projections/{job['id']}/clusters", json={}).status_code == 404

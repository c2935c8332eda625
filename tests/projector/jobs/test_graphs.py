"""The shared kNN graph: built once per dataset and metric, reused by t-SNE, UMAP, quality and lookups."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.data import neighbors
from projector.data.graphs import load_graph
from projector.data.layout import DatasetFiles
from projector.jobs.graphs import GraphSource
from tests.conftest import npy_bytes, wait_done


def project(api: TestClient, dataset_id: str, method: str, dims: int = 2, **params: Any) -> dict[str, Any]:
    response = api.post(f"/api/datasets/{dataset_id}/projections", json={"method": method, "dims": dims, "params": params})
    assert response.status_code in (200, 202), response.text
    projection = wait_done(api, response.json()["id"], timeout=180)
    assert projection["status"] == "done", projection
    return projection


def wait_quality(api: TestClient, pid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        quality = api.get(f"/api/projections/{pid}").json()["quality"]
        if quality:
            return quality  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("no quality score")


def test_umap_then_tsne_share_one_graph(api: TestClient, dataset: dict[str, Any]) -> None:
    umap = project(api, dataset["id"], "umap", n_neighbors=10, n_epochs=50)
    assert umap["knn_graph"]["reused"] is False and umap["knn_graph"]["k"] == 9
    tsne = project(api, dataset["id"], "tsne", perplexity=10.0, n_iter=300, exaggeration_iter=100)
    assert tsne["knn_graph"] == {**tsne["knn_graph"], "reused": True, "k": 30, "metric": "euclidean"}
    files = api.app.state.store.files(dataset["id"])  # type: ignore[attr-defined]
    assert files.graph_ks("euclidean") == [90]
    cosine = project(api, dataset["id"], "umap", n_neighbors=10, n_epochs=50, metric="cosine")
    assert cosine["knn_graph"]["reused"] is False and files.graph_ks("cosine") == [90]


def test_tsne_through_the_service_separates_clusters(api: TestClient, dataset: dict[str, Any]) -> None:
    projection = project(api, dataset["id"], "tsne", perplexity=10.0, n_iter=300, exaggeration_iter=100)
    coords = np.frombuffer(api.get(f"/api/projections/{projection['id']}/coords").content, "<f4").reshape(-1, 2)
    labels = np.arange(len(coords)) % 4
    distances = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argsort(axis=1)[:, :10]
    assert (labels[nearest] == labels[:, None]).mean() > 0.95
    quality = wait_quality(api, projection["id"])
    assert quality["k"] == 10 and 0.0 < quality["knn_preservation"] <= 1.0 and quality["trustworthiness"] > 0.8


def test_pca_reports_quality(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    from reducers.quality import knn_preservation, trustworthiness

    projection = project(api, dataset["id"], "pca")
    quality = wait_quality(api, projection["id"])
    coords = np.frombuffer(api.get(f"/api/projections/{projection['id']}/coords").content, "<f4").reshape(-1, 2)
    assert quality["sample"] == 200
    assert quality["trustworthiness"] == pytest.approx(trustworthiness(vectors, coords, k=10, sample=None), abs=1e-6)
    assert quality["knn_preservation"] == pytest.approx(knn_preservation(vectors, coords, k=10, sample=None), abs=1e-6)


def test_large_datasets_answer_neighbours_from_the_graph(api: TestClient, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"/api/datasets/{dataset['id']}/neighbors"
    assert api.get(url, params={"index": 5}).json()["exact"] is True
    project(api, dataset["id"], "umap", n_neighbors=10, n_epochs=20, metric="cosine")
    monkeypatch.setattr(neighbors, "APPROXIMATE_FROM", 100)
    monkeypatch.setattr(neighbors, "compact_copy", lambda *args, **kwargs: None)  # the int8 copy still being built
    from_graph = api.get(url, params={"index": 5, "k": 12}).json()
    exact = api.get(url, params={"index": 5, "k": 12, "exact": "true"}).json()
    assert from_graph["exact"] is False and exact["exact"] is True
    # below 20,000 points the graph is exact, so both answers agree
    assert [n["index"] for n in from_graph["neighbors"]] == [n["index"] for n in exact["neighbors"]]
    np.testing.assert_allclose([n["distance"] for n in from_graph["neighbors"]], [n["distance"] for n in exact["neighbors"]], atol=1e-5)
    too_many = api.get(url, params={"index": 5, "k": 150}).json()
    assert too_many["exact"] is True and len(too_many["neighbors"]) == 150


def test_half_written_graphs_are_ignored(tmp_path: Path, vectors: np.ndarray) -> None:
    np.save(tmp_path / "knn-euclidean-90-indices.npy", np.zeros((200, 90), dtype=np.int32))  # no distances file
    (tmp_path / ".knn-euclidean-50-distances.npy.partial").write_bytes(b"junk")
    files = DatasetFiles(tmp_path)
    assert files.graph_ks("euclidean") == [] and load_graph(files, "euclidean", 10) is None
    source = GraphSource(files, vectors)
    graph = source.get("euclidean", 10)
    assert source.used["reused"] is False and graph.indices.shape == (200, 10)
    again = GraphSource(files, vectors)
    np.testing.assert_array_equal(again.get("euclidean", 20).indices[:, :10], graph.indices)
    assert again.used["reused"] is True


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_layout_can_start_from_an_earlier_one(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray, method: str) -> None:
    settings = {"tsne": {"perplexity": 10.0, "n_iter": 300, "exaggeration_iter": 100}, "umap": {"n_neighbors": 10, "n_epochs": 50}}[method]
    first = project(api, dataset["id"], method, **settings)
    shifted = api.post(
        "/api/datasets?name=next-step", content=npy_bytes(vectors + 0.01),
        headers={"Content-Type": "application/x-npy"},
    ).json()  # fmt: skip
    aligned = project(api, shifted["id"], method, init_from=first["id"], **settings)
    fresh = project(api, shifted["id"], method, random_state=7, **({"init": "random"} if method == "tsne" else {}), **settings)
    assert aligned["params"]["init_from"] == first["id"]

    def coords(pid: str) -> np.ndarray:
        return np.frombuffer(api.get(f"/api/projections/{pid}/coords").content, "<f4").reshape(-1, 2).astype(np.float64)

    def misalignment(a: np.ndarray, b: np.ndarray) -> float:  # after centring and scaling only: no rotation allowed
        a, b = a - a.mean(0), b - b.mean(0)
        return float(np.linalg.norm(a / np.linalg.norm(a) - b / np.linalg.norm(b)))

    drift = misalignment(coords(aligned["id"]), coords(first["id"]))
    if method == "tsne":
        assert drift < misalignment(coords(fresh["id"]), coords(first["id"]))
    else:  # UMAP's spectral start is nearly the same layout every time, so compare with a random start's ~1.7
        assert drift < 0.6


def test_init_from_must_fit(api: TestClient, dataset: dict[str, Any]) -> None:
    pca3 = project(api, dataset["id"], "pca", dims=3)
    for init_from, fragment in ((pca3["id"], "3D"), ("nothere", "no projection"), ("../x", "finished projection")):
        response = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "tsne", "dims": 2, "params": {"init_from": init_from, "perplexity": 10.0}})
        assert response.status_code == 422 and fragment in response.json()["detail"], response.text


def test_a_restart_removes_caches_cut_short(make_client: Any, tmp_path: Path, vectors: np.ndarray) -> None:
    first = make_client(data_dir=tmp_path / "d")
    dataset = first.post("/api/datasets", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"}).json()
    folder = first.app.state.store.files(dataset["id"]).folder  # type: ignore[attr-defined]
    first.__exit__(None, None, None)
    (folder / ".knn-euclidean-90-indices.npy.partial").write_bytes(b"half")  # killed mid-build
    (folder / ".unit-0123.npy").write_bytes(b"half")
    second = make_client(data_dir=tmp_path / "d")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "tensor.npy"]
    assert second.get(f"/api/datasets/{dataset['id']}/neighbors", params={"index": 0}).status_code == 200

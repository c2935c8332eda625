"""A real server process: the Python client end to end, and kill -9 at bad moments."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA as SklearnPCA

from projector import Client
from projector.errors import ProjectorError
from tests.conftest import npy_bytes


def test_client_end_to_end(server_factory) -> None:  # type: ignore[no-untyped-def]
    client = Client(server_factory("--no-demo").url)
    X = np.random.default_rng(0).normal(size=(300, 24)).astype(np.float32)
    labels = [f"item{i}" for i in range(300)]
    dataset_id = client.upload(X, metadata={"word": labels, "bucket": [i % 3 for i in range(300)]}, name="client test")
    assert client.dataset(dataset_id)["columns"] == ["word", "bucket"]
    np.testing.assert_array_equal(client.tensor(dataset_id), X)
    coords = client.project(dataset_id, "pca", dims=3)
    np.testing.assert_allclose(np.abs(coords), np.abs(SklearnPCA(3).fit_transform(X)), atol=1e-4)
    found = client.neighbors(dataset_id, column="word", value="item7", k=4)
    assert found["query"]["index"] == 7 and len(found["neighbors"]) == 4
    assert client.search(dataset_id, "^item1", column="word")["count"] == 111
    single = client.upload(X, metadata=labels)
    assert client.metadata(single) == {"columns": ["label"], "rows": [[w] for w in labels]}
    with pytest.raises(ProjectorError) as info:
        client.upload(np.zeros((1, 5)))
    assert info.value.status == 400 and info.value.code == "invalid_tensor"


def start_upload(url: str, total: int) -> http.client.HTTPConnection:
    """Begin a raw .npy upload and send only half of it."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    body = npy_bytes(np.ones((total, 64), dtype=np.float32))
    connection.putrequest("POST", "/api/datasets?name=partial")
    connection.putheader("Content-Type", "application/x-npy")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body[: len(body) // 2])
    return connection


def test_kill_during_upload_leaves_no_partial_dataset(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "crash"
    server = server_factory("--no-demo", data_dir=data_dir)
    client = Client(server.url)
    kept = client.upload(np.eye(4, dtype=np.float32), name="kept")
    connection = start_upload(server.url, 200_000)
    deadline = time.monotonic() + 10
    while not any(p.stat().st_size > 0 for p in (data_dir / "tmp").rglob("*") if p.is_file()) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    connection.close()
    assert any((data_dir / "tmp").iterdir()), "the upload should have been in flight"
    restarted = Client(server_factory("--no-demo", data_dir=data_dir).url)
    assert [d["id"] for d in restarted.datasets()] == [kept]
    assert not any((data_dir / "tmp").iterdir())
    np.testing.assert_array_equal(restarted.tensor(kept), np.eye(4, dtype=np.float32))


def test_kill_during_a_projection_does_not_leave_it_running(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "crash"
    server = server_factory("--no-demo", data_dir=data_dir)
    client = Client(server.url)
    X = np.random.default_rng(0).normal(size=(1500, 8)).astype(np.float32)
    dataset_id = client.upload(X)
    done = client.project(dataset_id, "pca", dims=2)
    running = client.start_projection(dataset_id, "tsne", 2, perplexity=20.0, n_iter=5000, exaggeration_iter=250)
    deadline = time.monotonic() + 60
    while client.projection(running["id"])["iteration"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.projection(running["id"])["status"] == "running"
    server.kill()  # the server, its forkserver and the t-SNE worker all die at once
    restarted = Client(server_factory("--no-demo", data_dir=data_dir).url)
    stuck = restarted.projection(running["id"])
    assert stuck["status"] == "failed" and "interrupted" in stuck["error"]
    np.testing.assert_array_equal(restarted.project(dataset_id, "pca", dims=2), done)
    again = restarted.start_projection(dataset_id, "tsne", 2, perplexity=20.0, n_iter=5000, exaggeration_iter=250)
    assert again["id"] == running["id"] and again["status"] in ("queued", "running")
    restarted.cancel(again["id"])
    assert not list((data_dir / "projections").glob(".*"))  # no half-written coordinates left


def test_served_page_and_api_share_one_port(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory()
    parsed = urllib.parse.urlparse(server.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    connection.request("GET", "/")
    page = connection.getresponse()
    assert page.status == 200 and b"<html" in page.read().lower()
    connection.request("GET", "/api/datasets")
    datasets = json.loads(connection.getresponse().read())
    assert [d["source"] for d in datasets] == ["demo"]


def test_a_stalled_upload_is_dropped_and_others_are_served(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory("--no-demo", "--body-timeout", "0.5")
    connection = start_upload(server.url, 1000)  # sends half, then nothing
    client = Client(server.url)
    assert client.health()["status"] == "ok"  # the server keeps serving meanwhile
    response = connection.getresponse()
    assert response.status == 408 and json.loads(response.read())["error"] == "upload_timeout"
    assert client.datasets() == []

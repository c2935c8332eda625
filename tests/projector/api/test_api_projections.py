"""Projection jobs through the HTTP API: PCA results, the cache, cancel, events, restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from sklearn.decomposition import PCA as SklearnPCA
from starlette.testclient import TestClient

from tests.conftest import npy_bytes, wait_done


def request_projection(api: TestClient, dataset_id: str, **body: Any) -> Any:
    return api.post(f"/api/datasets/{dataset_id}/projections", json=body)


def coords_of(api: TestClient, pid: str) -> np.ndarray:
    response = api.get(f"/api/projections/{pid}/coords")
    assert response.status_code == 200, response.text
    n, dims = (int(v) for v in response.headers["x-shape"].split(","))
    assert response.headers["content-type"] == "application/octet-stream"
    return np.frombuffer(response.content, dtype="<f4").reshape(n, dims)


@pytest.mark.parametrize("dims", [2, 3])
def test_pca_matches_scikit_learn(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray, dims: int) -> None:
    response = request_projection(api, dataset["id"], method="pca", dims=dims)
    assert response.status_code == 202
    projection = wait_done(api, response.json()["id"])
    assert projection["status"] == "done" and projection["progress"] == 1.0
    reference = SklearnPCA(n_components=dims).fit(vectors)
    np.testing.assert_allclose(projection["explained_variance_ratio"], reference.explained_variance_ratio_, atol=1e-6)
    assert len(projection["explained_variance_ratio_all"]) == 10
    coords = coords_of(api, projection["id"])
    expected = reference.transform(vectors)
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), atol=1e-3)


def test_pca_component_choice(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    pid = request_projection(api, dataset["id"], method="pca", dims=2, params={"components": [2, 0]}).json()["id"]
    projection = wait_done(api, pid)
    full = SklearnPCA(n_components=3).fit(vectors)
    np.testing.assert_allclose(projection["explained_variance_ratio"], full.explained_variance_ratio_[[2, 0]], atol=1e-6)
    np.testing.assert_allclose(np.abs(coords_of(api, pid)), np.abs(full.transform(vectors)[:, [2, 0]]), atol=1e-3)


def test_same_request_is_served_from_the_cache(api: TestClient, dataset: dict[str, Any]) -> None:
    jobs = api.app.state.jobs  # type: ignore[attr-defined]
    first = request_projection(api, dataset["id"], method="pca", dims=2).json()
    wait_done(api, first["id"])
    assert jobs.started == 1
    again = request_projection(api, dataset["id"], method="pca", dims=2, params={"components": [0, 1]})
    assert again.status_code == 200 and again.json()["id"] == first["id"] and again.json()["status"] == "done"
    assert jobs.started == 1
    listed = api.get(f"/api/datasets/{dataset['id']}/projections").json()
    assert [p["id"] for p in listed] == [first["id"]]


def test_concurrent_requests_share_one_job(api: TestClient, dataset: dict[str, Any]) -> None:
    ids = {request_projection(api, dataset["id"], method="pca", dims=3).json()["id"] for _ in range(5)}
    assert len(ids) == 1
    wait_done(api, ids.pop())
    assert api.app.state.jobs.started == 1  # type: ignore[attr-defined]


def test_cache_survives_a_restart(make_client: Callable[..., TestClient], tmp_path: Path, vectors: np.ndarray) -> None:
    first = make_client(data_dir=tmp_path / "d")
    dataset = first.post("/api/datasets", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"}).json()
    pid = request_projection(first, dataset["id"], method="pca", dims=3).json()["id"]
    wait_done(first, pid)
    before = coords_of(first, pid)
    first.__exit__(None, None, None)
    second = make_client(data_dir=tmp_path / "d")
    again = request_projection(second, dataset["id"], method="pca", dims=3)
    assert again.status_code == 200 and again.json()["id"] == pid
    assert second.app.state.jobs.started == 0  # type: ignore[attr-defined]
    np.testing.assert_array_equal(coords_of(second, pid), before)


def test_events_stream_ends_with_the_final_state(api: TestClient, dataset: dict[str, Any]) -> None:
    pid = request_projection(api, dataset["id"], method="pca", dims=2).json()["id"]
    with api.stream("GET", f"/api/projections/{pid}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert events and events[-1]["status"] == "done" and events[-1]["id"] == pid
    assert len({orjson.dumps(e) for e in events}) == len(events)  # one event per change


def test_events_of_a_finished_projection_end_at_once(api: TestClient, dataset: dict[str, Any]) -> None:
    pid = wait_done(api, request_projection(api, dataset["id"], method="pca", dims=2).json()["id"])["id"]
    with api.stream("GET", f"/api/projections/{pid}/events") as response:
        events = [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert [e["status"] for e in events] == ["done"]
    assert api.get("/api/projections/nothere/events").status_code == 404


def test_deleting_a_dataset_cancels_its_jobs(api: TestClient, dataset: dict[str, Any]) -> None:
    jobs = api.app.state.jobs  # type: ignore[attr-defined]
    pid = request_projection(api, dataset["id"], method="tsne", params={"perplexity": 10.0, "n_iter": 10000}).json()["id"]
    assert api.delete(f"/api/datasets/{dataset['id']}").status_code == 204
    assert jobs.live(pid) is None or jobs.live(pid)["status"] == "cancelled"
    assert api.get(f"/api/projections/{pid}").status_code == 404


def test_a_failed_job_is_reported_and_can_be_retried(api: TestClient, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = api.app.state.jobs  # type: ignore[attr-defined]
    store = api.app.state.store  # type: ignore[attr-defined]
    good_tensor = store.files(dataset["id"]).tensor
    hidden = good_tensor.with_name("hidden.npy")
    good_tensor.rename(hidden)  # the worker cannot read it: the job must fail, the server must not
    pid = request_projection(api, dataset["id"], method="pca", dims=2).json()["id"]
    failed = wait_done(api, pid)
    assert failed["status"] == "failed" and "No such file" in failed["error"]
    conflict = api.get(f"/api/projections/{pid}/coords")
    assert conflict.status_code == 409 and conflict.json()["error"] == "failed"
    hidden.rename(good_tensor)
    retried = request_projection(api, dataset["id"], method="pca", dims=2)
    assert retried.json()["id"] == pid and retried.status_code == 202
    assert wait_done(api, pid)["status"] == "done" and jobs.started == 2


def test_cancel_a_queued_job(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    first = request_projection(api, dataset["id"], method="pca", dims=2).json()["id"]
    second = request_projection(api, dataset["id"], method="pca", dims=3).json()["id"]
    cancelled = api.delete(f"/api/projections/{second}")
    assert cancelled.status_code == 200
    assert wait_done(api, first)["status"] == "done"
    assert wait_done(api, second)["status"] == "cancelled"
    assert api.get(f"/api/projections/{second}/coords").status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"method": "magic"}, 422, "unknown_method"),
        ({"method": "pca", "dims": 4}, 422, "invalid_parameter"),
        ({"method": "pca", "dims": "2"}, 422, "invalid_parameter"),
        ({"method": "pca", "params": {"components": [0, 99]}}, 422, "invalid_parameter"),
        ({"method": "pca", "params": {"components": [0]}}, 422, "invalid_parameter"),
        ({"method": "pca", "params": {"whiten": True}}, 422, "invalid_parameter"),
        ({"method": "pca", "params": [1]}, 422, "invalid_parameter"),
        ([1, 2], 422, "invalid_parameter"),
    ],
)
def test_bad_projection_requests(api: TestClient, dataset: dict[str, Any], body: Any, status: int, code: str) -> None:
    response = api.post(f"/api/datasets/{dataset['id']}/projections", json=body)
    assert response.status_code == status and response.json()["error"] == code, response.text


def test_invalid_json_body(api: TestClient, dataset: dict[str, Any]) -> None:
    response = api.post(f"/api/datasets/{dataset['id']}/projections", content=b"{nope")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_methods_describe_their_parameters(api: TestClient) -> None:
    methods = api.get("/api/methods").json()
    assert set(methods) == {"pca", "tsne", "umap", "custom"}
    assert methods["pca"]["available"] is True
    assert methods["tsne"]["params"]["perplexity"]["default"] == 30.0


def test_warm_up_runs_in_the_background(make_client: Callable[..., TestClient]) -> None:
    api = make_client(warm_up=True)
    assert api.get("/api/health").status_code == 200  # serving does not wait for it
    process = api.app.state.jobs.executor.warm_up_process  # type: ignore[attr-defined]
    process.join(timeout=300)
    assert process.exitcode == 0

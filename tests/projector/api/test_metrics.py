"""Operating the service: /metrics, liveness vs readiness, and what the server logs."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from tests.conftest import wait_done


def scrape(api: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_requests_jobs_and_storage(api: TestClient, dataset: dict[str, Any]) -> None:
    api.get("/api/datasets/000000000000")
    api.get("/api/datasets/111111111111")
    pid = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "pca"}).json()["id"]
    assert wait_done(api, pid)["status"] == "done"
    samples = scrape(api)
    assert samples[("projector_http_requests_total", (("method", "GET"), ("route", "/api/datasets/{id}"), ("status", "404")))] == 2
    assert samples[("projector_http_requests_total", (("method", "POST"), ("route", "/api/datasets"), ("status", "201")))] == 1
    latency = ("projector_http_request_duration_seconds_count", (("method", "GET"), ("route", "/api/datasets/{id}")))
    assert samples[latency] == 2
    assert samples[("projector_jobs", (("method", "pca"), ("state", "done")))] == 1
    assert samples[("projector_job_duration_seconds_count", (("method", "pca"), ("state", "done")))] == 1
    assert samples[("projector_jobs_queued", ())] == 0
    assert samples[("projector_datasets", ())] == 1
    assert samples[("projector_stored_tensor_bytes", ())] == 200 * 12 * 4


def test_metrics_need_the_token_and_count_refusals_by_route(make_client: Any) -> None:
    api = make_client(token="s3cret")
    assert api.get("/api/datasets").status_code == 401
    assert api.get("/metrics").status_code == 401  # protected like /api
    samples = scrape(TestClient(api.app, base_url="http://127.0.0.1", headers={"Authorization": "Bearer s3cret"}))
    assert samples[("projector_http_requests_total", (("method", "GET"), ("route", "/api/datasets"), ("status", "401")))] == 1


def test_liveness_and_readiness(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.get("/api/health").json() == {"status": "ok", "version": api.get("/api/health").json()["version"]}
    ready = api.get("/api/health?ready=1")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["checks"] == {"catalog": "ok", "executor": "ok"}
    monkeypatch.setattr(api.app.state.jobs.executor, "problem", lambda: "the scheduler at tcp://x:8786 does not answer")
    executor_down = api.get("/api/health?ready=1")
    assert executor_down.status_code == 503 and executor_down.headers["retry-after"] == "5"
    body = executor_down.json()
    assert body["error"] == "not_ready" and body["detail"] == "not ready: executor: the scheduler at tcp://x:8786 does not answer"

    def closed() -> int:
        raise sqlite3.ProgrammingError("Cannot operate on a closed database.")

    monkeypatch.setattr(api.app.state.store, "dataset_count", closed)
    both = api.get("/api/health?ready=true").json()
    assert both["checks"]["catalog"] == "ProgrammingError: Cannot operate on a closed database."
    assert api.get("/api/health").status_code == 200  # alive all the same


def test_failed_requests_and_jobs_are_logged(api: TestClient, dataset: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="projector")
    api.get("/api/datasets/000000000000")
    api.get(f"/api/datasets/{dataset['id']}")
    failed = [r.getMessage() for r in caplog.records if r.name == "projector.http"]
    assert failed == ["GET /api/datasets/{id} (/api/datasets/000000000000) -> 404 in " + failed[0].rsplit(" in ", 1)[1]]
    pid = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "pca", "dims": 3}).json()["id"]
    wait_done(api, pid)
    jobs = [r.getMessage() for r in caplog.records if r.name == "projector.jobs"]
    assert any(m.startswith(f"projection {pid} started: pca 3D of dataset {dataset['id']}") for m in jobs)
    assert any(m.startswith(f"projection {pid} done: pca 3D in ") and m.endswith(" s") for m in jobs)

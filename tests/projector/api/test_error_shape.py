"""Every route answers errors with the one JSON shape, and the OpenAPI document lists every route."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from projector.api.routes import ENDPOINTS


def assert_error_shape(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] and body["detail"]


def concrete(path: str) -> str:
    return re.sub(r"{\w+}", "doesnotexist", path)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "{" in e.path], ids=lambda e: f"{e.method} {e.path}")
def test_unknown_ids_are_404_json(api: TestClient, endpoint: Any) -> None:
    response = api.request(endpoint.method, concrete(endpoint.path), json={"method": "pca"} if endpoint.method == "POST" else None)
    assert_error_shape(response, 404)


@pytest.mark.parametrize("path", ["/api/datasets/../../etc/passwd", "/api/datasets/a%2Fb", "/api/projections/..%2F..%2Fcatalog"])
def test_path_like_ids_are_404(api: TestClient, path: str) -> None:
    assert_error_shape(api.get(path), 404)


def test_unknown_route_and_wrong_method(api: TestClient) -> None:
    assert_error_shape(api.get("/api/nothing-here"), 404)
    assert_error_shape(api.put("/api/datasets"), 405)


def test_unexpected_errors_are_500_json(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    store = api.app.state.store  # type: ignore[attr-defined]

    def broken() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "list_datasets", broken)
    response = api.get("/api/datasets")
    assert_error_shape(response, 500)
    assert response.json()["error"] == "internal_error"
    assert "fire" not in response.text and "RuntimeError" not in response.text  # exception text stays in the server log


def test_openapi_describes_every_route(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    served = {
        (method, route.path)
        for route in api.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert served == described
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["summary"] and operation["responses"]


def test_health(api: TestClient) -> None:
    body = api.get("/api/health").json()
    assert body["status"] == "ok" and body["version"]


def test_no_cors_headers_unless_asked(make_client: Callable[..., TestClient]) -> None:
    closed = make_client().get("/api/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in closed.headers
    opened = make_client(cors_origins=("http://notebook.local",)).get("/api/health", headers={"Origin": "http://notebook.local"})
    assert opened.headers["access-control-allow-origin"] == "http://notebook.local"

"""The OpenAPI document says exactly what the API does: checked over the whole document against the app (no server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator.validation import OpenAPIV30SpecValidator
from starlette.testclient import TestClient

from tests.conftest import wait_done

Operation = tuple[str, str, dict[str, Any]]  # path, method, operation
# Optional resources: a dataset need not have them, so no answer links to them (schemathesis would follow to a 404).
UNLINKED = {("GET", "/api/datasets/{id}/sprite"), ("GET", "/api/datasets/{id}/bookmarks")}


@pytest.fixture
def document(api: TestClient) -> dict[str, Any]:
    return api.get("/api/openapi.json").json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def test_the_document_is_valid_openapi_3_0(document: dict[str, Any]) -> None:
    assert [error.message[:200] for error in OpenAPIV30SpecValidator(document).iter_errors()] == []


def test_every_status_of_every_operation_has_its_schema(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        where = f"{method} {path}"
        assert operation["responses"].get("default"), where
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response, where
                continue
            assert response["content"], f"{where} {status}"
            for media, content in response["content"].items():
                assert content["schema"], f"{where} {status} {media}: an empty schema says nothing"
            if not status.startswith("2"):
                assert response["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}} or status == "503"
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["required"], where
        if any(p["in"] == "query" for p in operation["parameters"]):
            assert "422" in operation["responses"], f"{where}: a bad query parameter is a 422"
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            assert {"400", "413", "429"} <= set(operation["responses"]), f"{where}: invalid, oversized or too many bodies"


def test_parameters_have_exact_schemas(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        names = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
        assert names == re.findall(r"{(\w+)}", path), f"{method} {path}"
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            assert schema.get("type") in ("string", "integer", "boolean"), (path, parameter)
            if parameter["in"] == "path":
                assert parameter["required"] and schema["pattern"], (path, parameter)
            if schema["type"] == "integer":
                assert "minimum" in schema, (path, parameter)
            if schema["type"] == "string" and parameter["in"] == "query" and parameter["name"] in ("format", "metric"):
                assert schema["enum"], (path, parameter)


def test_every_json_body_has_a_valid_example(document: dict[str, Any]) -> None:
    for *_, operation in operations(document):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            if media == "application/json":
                _validator(document, content["schema"]).validate(content["schema"]["example"])


def test_405_allow_lists_exactly_the_documented_methods(api: TestClient, document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        documented = {method.upper() for method in methods} | ({"HEAD"} if "get" in methods else set())
        url = re.sub(r"{\w+}", "doesnotexist", path)
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"} - documented):
            response = api.request(method, url)
            assert response.status_code == 405, (method, path, response.status_code)
            assert {m.strip() for m in response.headers["allow"].split(",")} == documented, (method, path)
            assert response.json()["error"] == "method_not_allowed"


def links(document: dict[str, Any]) -> Iterator[tuple[Operation, str, dict[str, Any]]]:
    for source in operations(document):
        for status, response in source[2]["responses"].items():
            for link in response.get("links", {}).values():
                yield source, status, link


def test_links_lead_from_an_upload_to_every_dataset_and_projection_operation(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: (path, method, operation) for path, method, operation in operations(document)}
    for (path, method, operation), status, link in links(document):
        target_path = by_id[link["operationId"]][0]
        assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", target_path)), (method, path, link)
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        properties = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        for expression in link["parameters"].values():
            if expression.startswith("$response.body#/"):  # a field the answer always carries
                assert expression.removeprefix("$response.body#/") in properties["required"], (method, path, expression)
            else:
                assert expression.removeprefix("$request.path.") in re.findall(r"{(\w+)}", path), (method, path, expression)
    reached_ids = {"create_dataset"}
    frontier = ["create_dataset"]
    while frontier:
        operation = by_id[frontier.pop()][2]
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                if link["operationId"] not in reached_ids:
                    reached_ids.add(link["operationId"])
                    frontier.append(link["operationId"])
    reached = {(method, path) for operation_id, (path, method, _) in by_id.items() if operation_id in reached_ids}
    with_ids = {(method, path) for path, method, _ in operations(document) if "{" in path}
    assert with_ids - reached == UNLINKED


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    return OAS30Validator({**schema, "components": document["components"]})


@pytest.fixture
def finished(api: TestClient, dataset: dict[str, Any]) -> dict[str, Any]:
    created = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "pca"}).json()
    projection = wait_done(api, created["id"])
    assert projection["status"] == "done", projection
    api.post(f"/api/datasets/{dataset['id']}/selections", json={"name": "picked", "rows": [1, 2]})
    return projection


# Query parameters a request needs to succeed (the rest take their defaults).
NEEDED = {"/api/datasets/{id}/neighbors": {"index": "3"}, "/api/datasets/{id}/search": {"q": "word1"}}


def test_answers_have_the_documented_status_media_type_headers_and_schema(
    api: TestClient, document: dict[str, Any], dataset: dict[str, Any], finished: dict[str, Any]
) -> None:
    ids = {"id": dataset["id"], "pid": finished["id"], "name": "picked"}
    checked = 0
    for path, method, operation in operations(document):
        if method != "GET" or (method, path) in UNLINKED or path.startswith("/api/projections/{pid}/clusters"):
            continue
        url = path.format(**ids)
        variants = [NEEDED.get(path, {})]
        for parameter in operation["parameters"]:
            for value in parameter["schema"].get("enum", []) if parameter["name"] == "format" else []:
                variants.append({parameter["name"]: value})
        for params in variants:
            response = api.get(url, params=params)
            where = f"{method} {path} {params}"
            documented = operation["responses"].get(str(response.status_code))
            assert documented is not None and response.status_code < 400, (where, response.status_code, response.text[:300])
            if response.status_code == 204:
                continue
            media = response.headers["content-type"].split(";")[0].strip()
            assert media in documented["content"], (where, media, list(documented["content"]))
            for header, spec in documented.get("headers", {}).items():
                assert not spec["required"] or header in response.headers, (where, header)
            if media == "application/json":
                _validator(document, documented["content"][media]["schema"]).validate(response.json())
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/datasets/{id}/search", {"q": "w", "limit": "-1"}),
        ("/api/datasets/{id}/search", {"q": "w", "limit": "1000001"}),
        ("/api/datasets/{id}/search", {"q": "w", "rows": "maybe"}),
        ("/api/datasets/{id}/neighbors", {"index": "0", "k": "0"}),
        ("/api/datasets/{id}/neighbors", {"index": "-1"}),
        ("/api/datasets/{id}/neighbors", {"index": "0", "metric": "manhattan"}),
        ("/api/datasets/{id}/export", {"format": "csv"}),
        ("/api/datasets/{id}/export", {"embedding": ""}),
        ("/api/projections/{pid}/export", {"format": "xlsx"}),
        ("/api/health", {"ready": "perhaps"}),
    ],
)
def test_values_outside_a_parameter_schema_are_422(
    api: TestClient, document: dict[str, Any], dataset: dict[str, Any], finished: dict[str, Any], path: str, params: dict[str, str]
) -> None:
    operation = document["paths"][path]["get"]
    for name, value in params.items():
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
        converted: Any = value
        if schema["type"] == "integer":
            converted = int(value)
        if name in NEEDED.get(path, {}) or (name == "q"):
            continue
        assert not _validator(document, schema).is_valid(converted), (path, name, value, schema)
    response = api.get(path.format(id=dataset["id"], pid=finished["id"]), params=params)
    assert response.status_code == 422, (path, params, response.text)


def test_a_required_query_parameter_is_documented_required(api: TestClient, document: dict[str, Any], dataset: dict[str, Any]) -> None:
    search = document["paths"]["/api/datasets/{id}/search"]["get"]
    assert next(p for p in search["parameters"] if p["name"] == "q")["required"]
    assert api.get(f"/api/datasets/{dataset['id']}/search").status_code == 422


def test_health_documents_liveness_and_readiness(api: TestClient, document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/health"]["get"]
    assert operation["security"] == [] and [p["name"] for p in operation["parameters"]] == ["ready"]
    alive, ready = api.get("/api/health"), api.get("/api/health", params={"ready": "1"})
    _validator(document, operation["responses"]["200"]["content"]["application/json"]["schema"]).validate(alive.json())
    _validator(document, operation["responses"]["200"]["content"]["application/json"]["schema"]).validate(ready.json())
    assert alive.json()["status"] == "ok" and ready.json()["status"] == "ready"
    not_ready = {"error": "not_ready", "detail": "not ready: executor: down", "checks": {"catalog": "ok", "executor": "down"}}
    _validator(document, operation["responses"]["503"]["content"]["application/json"]["schema"]).validate(not_ready)

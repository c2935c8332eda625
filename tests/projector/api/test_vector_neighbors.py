"""Nearest neighbours of arbitrary query vectors: raw float32 or JSON bodies, one result per vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, metric: str) -> tuple[list[int], np.ndarray]:
    X, q = vectors.astype(np.float64), query.astype(np.float64)
    if metric == "cosine":
        distances = 1.0 - (X / np.linalg.norm(X, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
    else:
        distances = np.linalg.norm(X - q, axis=1)
    order = np.argsort(distances, kind="stable")[:k]
    return order.tolist(), distances[order]


def post_raw(api: TestClient, dataset_id: str, queries: np.ndarray, shape: str | None = None, **params: Any) -> Any:
    headers = {"Content-Type": "application/octet-stream", "X-Shape": shape or f"{queries.shape[0]},{queries.shape[1]}"}
    return api.post(f"/api/datasets/{dataset_id}/neighbors", params=params, content=queries.astype("<f4").tobytes(), headers=headers)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_a_perturbed_vector_finds_its_own_row_first(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray, metric: str) -> None:
    rows = [0, 57, 123, 199]
    queries = vectors[rows] + np.random.default_rng(1).normal(scale=0.01, size=(4, 12)).astype(np.float32)
    response = post_raw(api, dataset["id"], queries, k=8, metric=metric)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metric"] == metric and len(body["results"]) == 4
    for row, query, result in zip(rows, queries, body["results"]):
        found = [n["index"] for n in result["neighbors"]]
        assert found[0] == row
        expected, distances = brute_force(vectors, query, 8, metric)
        assert found == expected
        np.testing.assert_allclose([n["distance"] for n in result["neighbors"]], distances, rtol=1e-6, atol=1e-7)


def test_json_vectors_answer_as_raw_ones(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    queries = np.stack([vectors[:50].mean(axis=0), vectors[9]])
    as_json = api.post(f"/api/datasets/{dataset['id']}/neighbors", params={"k": 5}, json={"vectors": queries.tolist()})
    assert as_json.status_code == 200, as_json.text
    assert as_json.json() == post_raw(api, dataset["id"], queries, k=5).json()
    first = as_json.json()["results"][1]["neighbors"][0]
    assert first["index"] == 9 and first["distance"] == 0.0  # a row itself is not left out: a vector is not a row
    assert len(as_json.json()["results"][0]["neighbors"]) == 5


def test_k_may_be_every_row(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    body = post_raw(api, dataset["id"], vectors[:1], k=200, metric="euclidean").json()
    assert sorted(n["index"] for n in body["results"][0]["neighbors"]) == list(range(200))


@pytest.mark.parametrize(
    ("shape", "values", "status", "code"),
    [
        ("1,11", np.ones((1, 11)), 400, "dimension_mismatch"),
        ("2,12", np.ones((1, 12)), 400, "invalid_vectors"),  # body shorter than X-Shape says
        ("12", np.ones((1, 12)), 400, "invalid_vectors"),
        ("a,b", np.ones((1, 12)), 400, "invalid_vectors"),
        ("1001,12", np.ones((1001, 12)), 413, "too_many_vectors"),
        ("0,12", np.ones((0, 12)), 400, "invalid_vectors"),
        ("1,12", np.full((1, 12), np.nan), 400, "invalid_vectors"),
        ("2,12", np.vstack([np.ones(12), np.full(12, np.inf)]), 400, "invalid_vectors"),
        ("1,12", np.zeros((1, 12)), 400, "invalid_vectors"),
    ],
)
def test_bad_raw_bodies(api: TestClient, dataset: dict[str, Any], shape: str, values: np.ndarray, status: int, code: str) -> None:
    response = post_raw(api, dataset["id"], values, shape=shape)
    assert (response.status_code, response.json()["error"]) == (status, code), response.text


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ({"vectors": [[1.0] * 11]}, "dimension_mismatch", "dimension 11"),
        ({"vectors": [[1.0] * 12, [1.0] * 13]}, "dimension_mismatch", "query vector 1"),
        ({"vectors": [[1.0] * 11 + ["x"]]}, "invalid_vectors", "query vector 0"),
        ({"vectors": [1.0] * 12}, "invalid_vectors", "one list per query vector"),
        ({"vector": [[1.0] * 12]}, "invalid_vectors", "vectors"),
        ({"vectors": [[1e39] * 12]}, "invalid_vectors", "infinity"),
    ],
)
def test_bad_json_bodies(api: TestClient, dataset: dict[str, Any], body: Any, code: str, text: str) -> None:
    response = api.post(f"/api/datasets/{dataset['id']}/neighbors", json=body)
    assert (response.status_code, response.json()["error"]) == (400, code), response.text
    assert text in response.json()["detail"]


def test_bad_parameters(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    assert post_raw(api, dataset["id"], vectors[:1], k=0).status_code == 422
    assert post_raw(api, dataset["id"], vectors[:1], k=201).status_code == 422
    assert post_raw(api, dataset["id"], vectors[:1], metric="manhattan").status_code == 422
    wrong_type = api.post(f"/api/datasets/{dataset['id']}/neighbors", content=b"1,2", headers={"Content-Type": "text/csv"})
    assert wrong_type.status_code == 415
    assert post_raw(api, "nope", vectors[:1]).status_code == 404

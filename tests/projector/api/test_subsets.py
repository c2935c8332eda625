"""Subsets (isolate): a new dataset of some rows, copied in the order given, that outlives its parent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from tests.conftest import wait_done


def tensor(api: TestClient, dataset_id: str) -> np.ndarray:
    response = api.get(f"/api/datasets/{dataset_id}/tensor")
    shape = tuple(int(v) for v in response.headers["X-Shape"].split(","))
    return np.frombuffer(response.content, "<f4").reshape(shape)


def test_rows_are_the_parents_rows_in_the_order_given(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    rows = [150, 3, 199, 0, 42]
    response = api.post(f"/api/datasets/{dataset['id']}/subsets", json={"rows": rows, "name": "picked"})
    assert response.status_code == 201, response.text
    subset = response.json()
    assert subset["parent"] == dataset["id"] and subset["source"] == "subset"
    assert (subset["n"], subset["dim"], subset["name"]) == (5, 12, "picked")
    assert tensor(api, subset["id"]).tobytes() == vectors[rows].tobytes()
    metadata = api.get(f"/api/datasets/{subset['id']}/metadata").json()
    assert metadata == {"columns": ["group", "word"], "rows": [[f"g{i % 4}", f"word{i}"] for i in rows]}
    assert api.get(f"/api/datasets/{dataset['id']}").json()["parent"] is None


def test_a_search_keeps_the_matching_rows_in_search_order(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    response = api.post(f"/api/datasets/{dataset['id']}/subsets", json={"q": "^g[12]$", "column": "group"})
    assert response.status_code == 201, response.text
    subset = response.json()
    expected = [i for i in range(200) if i % 4 in (1, 2)]
    assert subset["n"] == len(expected) and "g[12]" in subset["name"]
    assert tensor(api, subset["id"]).tobytes() == vectors[expected].tobytes()
    found = api.get(f"/api/datasets/{dataset['id']}/search", params={"q": "^g[12]$", "column": "group", "limit": 200}).json()
    assert found["indices"] == expected


def test_a_subset_outlives_its_parent_and_projects(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    subset = api.post(f"/api/datasets/{dataset['id']}/subsets", json={"rows": list(range(0, 200, 2))}).json()
    assert api.delete(f"/api/datasets/{dataset['id']}").status_code == 204
    assert api.get(f"/api/datasets/{subset['id']}").json()["parent"] == dataset["id"]  # the record stays, the parent is gone
    assert tensor(api, subset["id"]).tobytes() == vectors[::2].tobytes()
    projection = api.post(f"/api/datasets/{subset['id']}/projections", json={"method": "pca", "dims": 2}).json()
    assert wait_done(api, projection["id"], timeout=300)["status"] == "done"
    assert api.get(f"/api/datasets/{subset['id']}/neighbors", params={"index": 0, "k": 3}).status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "names"),
    [
        ({"rows": [1, "2"]}, "invalid_rows", ["entry 1", "'2'"]),
        ({"rows": [1, 2.0]}, "invalid_rows", ["entry 1"]),
        ({"rows": [1, True]}, "invalid_rows", ["entry 1"]),
        ({"rows": [4, 7, 4]}, "invalid_rows", ["row 4 appears twice", "entries 0 and 2"]),
        ({"rows": [3, 200, -1]}, "invalid_rows", ["row 200", "entry 1", "0 to 199"]),
        ({"rows": [3, -1]}, "invalid_rows", ["row -1", "entry 1"]),
        ({"rows": [3]}, "invalid_rows", ["at least 2"]),
        ({"rows": []}, "invalid_rows", ["at least 2"]),
        ({"rows": "0,1"}, "invalid_rows", ["list"]),
        ({"q": "^nothing$"}, "no_match", ["matches no row"]),
        ({"q": "^word7$", "column": "word"}, "invalid_rows", ["only row 7"]),
        ({"q": "(", "column": "word"}, "invalid_regex", []),
        ({"q": "x", "column": "nope"}, "invalid_parameter", ["nope"]),
        ({"rows": [0, 1], "q": "g"}, "invalid_body", ["either"]),
        ({}, "invalid_body", ["either"]),
        ({"rows": [0, 1], "name": 7}, "invalid_name", []),
    ],
)
def test_bad_requests_say_what_is_wrong(
    api: TestClient, dataset: dict[str, Any], body: dict[str, Any], code: str, names: list[str]
) -> None:
    response = api.post(f"/api/datasets/{dataset['id']}/subsets", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] == code
    for name in names:
        assert name in response.json()["detail"]
    assert len(api.get("/api/datasets").json()) == 1  # nothing was created


def test_unknown_parent_and_oversized_body(api: TestClient, dataset: dict[str, Any]) -> None:
    assert api.post("/api/datasets/nope/subsets", json={"rows": [0, 1]}).status_code == 404
    huge = b'{"rows": [' + b"0, " * 600_000 + b"1]}"
    response = api.post(f"/api/datasets/{dataset['id']}/subsets", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413

"""Saved selections: named row lists per dataset."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient


def save(api: TestClient, dataset_id: str, name: Any, rows: Any) -> Any:
    return api.post(f"/api/datasets/{dataset_id}/selections", json={"name": name, "rows": rows})


def test_save_list_get_replace_delete(api: TestClient, dataset: dict[str, Any]) -> None:
    assert api.get(f"/api/datasets/{dataset['id']}/selections").json() == []
    response = save(api, dataset["id"], "outliers 2", [17, 3, 120])
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "outliers 2" and response.json()["count"] == 3
    save(api, dataset["id"], "Ünïcode_名前", [0, 1])
    listed = api.get(f"/api/datasets/{dataset['id']}/selections").json()
    assert [(s["name"], s["count"]) for s in listed] == [("outliers 2", 3), ("Ünïcode_名前", 2)]
    assert api.get(f"/api/datasets/{dataset['id']}/selections/outliers 2").json() == {
        "name": "outliers 2",
        "count": 3,
        "rows": [17, 3, 120],
    }
    assert api.get(f"/api/datasets/{dataset['id']}/selections/Ünïcode_名前").json()["rows"] == [0, 1]

    assert save(api, dataset["id"], "outliers 2", [5]).status_code == 201  # same name: replaced
    assert api.get(f"/api/datasets/{dataset['id']}/selections/outliers 2").json()["rows"] == [5]
    assert api.delete(f"/api/datasets/{dataset['id']}/selections/outliers 2").status_code == 204
    assert api.get(f"/api/datasets/{dataset['id']}/selections/outliers 2").status_code == 404
    assert [s["name"] for s in api.get(f"/api/datasets/{dataset['id']}/selections").json()] == ["Ünïcode_名前"]


def test_selections_go_with_their_dataset(api: TestClient, dataset: dict[str, Any]) -> None:
    save(api, dataset["id"], "a", [1, 2])
    api.delete(f"/api/datasets/{dataset['id']}")
    assert api.get(f"/api/datasets/{dataset['id']}/selections").status_code == 404


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", " lead", "trail ", "dot.", "x" * 101, 7, None])
def test_names_are_checked(api: TestClient, dataset: dict[str, Any], name: Any) -> None:
    response = save(api, dataset["id"], name, [1])
    assert (response.status_code, response.json()["error"]) == (400, "invalid_name"), response.text


@pytest.mark.parametrize(("rows", "text"), [([1, 1], "appears twice"), ([200], "row 200"), ([], "at least 1"), ([0.5], "entry 0")])
def test_rows_are_checked(api: TestClient, dataset: dict[str, Any], rows: Any, text: str) -> None:
    response = save(api, dataset["id"], "s", rows)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_rows") and text in response.json()["detail"]


def test_missing(api: TestClient, dataset: dict[str, Any]) -> None:
    assert api.get(f"/api/datasets/{dataset['id']}/selections/none").status_code == 404
    assert api.delete(f"/api/datasets/{dataset['id']}/selections/none").status_code == 404
    assert api.get("/api/datasets/nope/selections").status_code == 404
    assert save(api, "nope", "s", [1]).status_code == 404
    assert api.post(f"/api/datasets/{dataset['id']}/selections", json={"rows": [1]}).json()["error"] == "invalid_body"

"""TensorBoard's custom projection: axes between the centroids of the rows two searches find."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from tests.conftest import wait_done

AXES = {"column": "group", "x_left": "^g0$", "x_right": "^g1$", "y_down": "^g2$", "y_up": "^g3$"}


def project(api: TestClient, dataset_id: str, params: dict[str, Any], dims: int = 2) -> Any:
    return api.post(f"/api/datasets/{dataset_id}/projections", json={"method": "custom", "dims": dims, "params": params})


def test_each_axis_separates_its_two_queries(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray) -> None:
    response = project(api, dataset["id"], AXES)
    assert response.status_code == 202, response.text
    projection = wait_done(api, response.json()["id"], timeout=300)
    assert projection["status"] == "done", projection
    assert projection["matches"] == {"x_left": 50, "x_right": 50, "y_down": 50, "y_up": 50}
    coords = np.frombuffer(api.get(f"/api/projections/{projection['id']}/coords").content, "<f4").reshape(200, 2)
    group = np.arange(200) % 4
    assert coords[group == 0, 0].max() < coords[group == 1, 0].min()  # every left row left of every right row
    assert coords[group == 2, 1].max() < coords[group == 3, 1].min()

    # The same numbers as the definition: offsets along the unit direction, from the midpoint of the two centroids.
    X = vectors.astype(np.float64)
    c = [X[group == g].mean(axis=0) for g in range(4)]
    ux, uy = (c[1] - c[0]) / np.linalg.norm(c[1] - c[0]), (c[3] - c[2]) / np.linalg.norm(c[3] - c[2])
    expected = np.stack([(X - (c[0] + c[1]) / 2) @ ux, (X - (c[2] + c[3]) / 2) @ uy], axis=1)
    np.testing.assert_allclose(coords, expected, rtol=1e-4, atol=1e-4)


def test_listed_in_methods(api: TestClient) -> None:
    custom = api.get("/api/methods").json()["custom"]
    assert custom["dims"] == [2] and set(custom["params"]) == {"column", "x_left", "x_right", "y_down", "y_up"}


def test_queries_search_every_column_by_default(api: TestClient, dataset: dict[str, Any]) -> None:
    params = {"x_left": "^word1?0$", "x_right": "^g1$", "y_down": "^g2$", "y_up": "^word199$"}  # rows 0 and 10; row 199
    projection = wait_done(api, project(api, dataset["id"], params).json()["id"], timeout=300)
    assert projection["status"] == "done" and projection["matches"] == {"x_left": 2, "x_right": 50, "y_down": 50, "y_up": 1}


@pytest.mark.parametrize(
    ("params", "dims", "text"),
    [
        (AXES, 3, "dims 2"),
        ({**AXES, "y_up": ""}, 2, "y_up"),
        ({"x_left": "a"}, 2, "missing"),
        ({**AXES, "x_right": "("}, 2, "x_right"),
        ({**AXES, "x_left": 3}, 2, "x_left"),
        ({**AXES, "z": "a"}, 2, "unknown parameter"),
    ],
)
def test_bad_requests_are_422(api: TestClient, dataset: dict[str, Any], params: dict[str, Any], dims: int, text: str) -> None:
    response = project(api, dataset["id"], params, dims)
    assert response.status_code == 422, response.text
    assert text in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({**AXES, "y_down": "^g9$"}, "`y_down`"),
        ({**AXES, "column": "nope"}, "nope"),
        ({**AXES, "x_right": "^g0$"}, "same centroid"),
    ],
)
def test_queries_that_cannot_make_an_axis_fail_the_job(api: TestClient, dataset: dict[str, Any], params: dict[str, Any], text: str) -> None:
    projection = wait_done(api, project(api, dataset["id"], params).json()["id"], timeout=300)
    assert projection["status"] == "failed" and text in projection["error"], projection

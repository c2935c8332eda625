"""Nearest neighbours and metadata search through the HTTP API."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient


def exact_neighbours(vectors: np.ndarray, index: int, k: int, metric: str) -> tuple[list[int], np.ndarray]:
    X = vectors.astype(np.float64)
    if metric == "cosine":
        unit = X / np.linalg.norm(X, axis=1, keepdims=True)
        distances = 1.0 - unit @ unit[index]
    else:
        distances = np.linalg.norm(X - X[index], axis=1)
    distances[index] = np.inf
    order = np.argsort(distances, kind="stable")[:k]
    return order.tolist(), distances[order]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("index", [0, 57, 199])
def test_neighbours_are_exact(api: TestClient, dataset: dict[str, Any], vectors: np.ndarray, metric: str, index: int) -> None:
    response = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"index": index, "k": 15, "metric": metric})
    assert response.status_code == 200
    body = response.json()
    expected_order, expected_distances = exact_neighbours(vectors, index, 15, metric)
    assert body["metric"] == metric and body["query"] == {"index": index, "row": [f"g{index % 4}", f"word{index}"]}
    assert [n["index"] for n in body["neighbors"]] == expected_order
    np.testing.assert_allclose([n["distance"] for n in body["neighbors"]], expected_distances, rtol=1e-6, atol=1e-7)


def test_neighbours_default_to_cosine_and_ten(api: TestClient, dataset: dict[str, Any]) -> None:
    body = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"index": 3}).json()
    assert body["metric"] == "cosine" and len(body["neighbors"]) == 10
    assert all(n["index"] != 3 for n in body["neighbors"])


def test_neighbours_by_label(api: TestClient, dataset: dict[str, Any]) -> None:
    by_label = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"column": "word", "value": "word42", "k": 5}).json()
    by_index = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"index": 42, "k": 5}).json()
    assert by_label["query"].pop("matches") == 1 and by_label == by_index
    first_g2 = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"column": "group", "value": "g2", "k": 1}).json()
    assert first_g2["query"]["index"] == 2


def test_k_may_be_everything_else(api: TestClient, dataset: dict[str, Any]) -> None:
    body = api.get(f"/api/datasets/{dataset['id']}/neighbors", params={"index": 0, "k": 199}).json()
    assert sorted(n["index"] for n in body["neighbors"]) == list(range(1, 200))


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"index": 0, "k": 200}, 422, "invalid_parameter"),
        ({"index": 0, "k": 0}, 422, "invalid_parameter"),
        ({"index": 200}, 422, "invalid_parameter"),
        ({"index": -1}, 422, "invalid_parameter"),
        ({"index": "x"}, 422, "invalid_parameter"),
        ({"index": 0, "metric": "manhattan"}, 422, "invalid_parameter"),
        ({}, 422, "invalid_parameter"),
        ({"column": "nope", "value": "x"}, 422, "invalid_parameter"),
        ({"column": "word", "value": "absent"}, 404, "no_match"),
    ],
)
def test_bad_neighbour_queries(api: TestClient, dataset: dict[str, Any], params: dict[str, Any], status: int, code: str) -> None:
    response = api.get(f"/api/datasets/{dataset['id']}/neighbors", params=params)
    assert response.status_code == status and response.json()["error"] == code, response.text


@pytest.mark.parametrize(
    ("pattern", "column"),
    [("^word1", "word"), ("g[12]", None), ("^g0$", "group"), ("WORD", None), ("1$", None), ("", "word")],
)
def test_search_counts_are_exact(api: TestClient, dataset: dict[str, Any], pattern: str, column: str | None) -> None:
    rows = [(f"g{i % 4}", f"word{i}") for i in range(200)]
    position = {"group": 0, "word": 1}
    expected = [
        i for i, row in enumerate(rows)
        if (re.search(pattern, row[position[column]]) if column else any(re.search(pattern, cell) for cell in row))
    ]  # fmt: skip
    params = {"q": pattern, **({"column": column} if column else {})}
    body = api.get(f"/api/datasets/{dataset['id']}/search", params=params).json()
    assert body["count"] == len(expected) and body["indices"] == expected


def test_search_limit_and_case(api: TestClient, dataset: dict[str, Any]) -> None:
    body = api.get(f"/api/datasets/{dataset['id']}/search", params={"q": "word", "limit": 7}).json()
    assert body["count"] == 200 and body["indices"] == list(range(7)) and body["truncated"] is True
    folded = api.get(f"/api/datasets/{dataset['id']}/search", params={"q": r"WORD\d*1$", "ignore_case": "true"}).json()
    assert folded["count"] == len([i for i in range(200) if str(i).endswith("1")])


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": "("}, 400, "invalid_regex"),
        ({"q": "[a-"}, 400, "invalid_regex"),
        ({"q": "a" * 1001}, 400, "invalid_regex"),
        ({}, 422, "invalid_parameter"),
        ({"q": "a", "column": "nope"}, 422, "invalid_parameter"),
        ({"q": "a", "limit": -1}, 422, "invalid_parameter"),
        ({"q": "a", "limit": "many"}, 422, "invalid_parameter"),
        ({"q": "a", "ignore_case": "perhaps"}, 422, "invalid_parameter"),
    ],
)
def test_bad_searches(api: TestClient, dataset: dict[str, Any], params: dict[str, Any], status: int, code: str) -> None:
    response = api.get(f"/api/datasets/{dataset['id']}/search", params=params)
    assert response.status_code == status and response.json()["error"] == code, response.text


def test_catastrophic_regex_is_linear_and_bombs_are_refused(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from projector.data import search as search_module

    rows = "".join("a" * 28 + "!\n" for _ in range(4))
    created = api.post("/api/datasets", files={"tensor": ("t.tsv", b"1\t2\n3\t4\n5\t6\n7\t8\n"), "metadata": ("m.tsv", rows.encode())})
    url = f"/api/datasets/{created.json()['id']}/search"
    started = time.monotonic()
    backtracking = api.get(url, params={"q": "(a|aa)+$"})  # exponential for a backtracking engine
    assert backtracking.status_code == 200 and backtracking.json()["count"] == 0
    assert api.get(url, params={"q": "(a|aa)+!$"}).json()["count"] == 4
    # counted repeats that would expand to gigabytes at compile time are refused before any memory is taken
    for bomb in ("(?:(?:a{1000}){1000}){1000}", "[\\pL\\pN]{1000}" * 50):
        refused = api.get(url, params={"q": bomb})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_regex", refused.text
    assert time.monotonic() - started < 10
    # the time budget still holds for the whole search
    monkeypatch.setattr(search_module.search, "__defaults__", (None, 1000, False, 0.0))
    timed_out = api.get(url, params={"q": "a"})
    assert timed_out.status_code == 400 and timed_out.json()["error"] == "regex_timeout"


def test_search_syntax_the_page_uses(api: TestClient, dataset: dict[str, Any]) -> None:
    """The page escapes plain text with a backslash before each of .*+?^${}()|[]\\/- and searches all columns."""
    url = f"/api/datasets/{dataset['id']}/search"
    assert api.get(url, params={"q": r"word1\d\/?$"}).json()["count"] == 10
    assert api.get(url, params={"q": r"\-|\(|\{"}).json()["count"] == 0
    assert api.get(url, params={"q": "G0$", "ignore_case": "true"}).json()["count"] == 50

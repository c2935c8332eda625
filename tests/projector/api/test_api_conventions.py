"""Fewer surprises: misplaced parameters refused, lookups that carry their rows, TensorBoard's metadata rule, one error style."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from tests.conftest import npy_bytes


def test_top_level_method_parameters_are_refused(api: TestClient, dataset: dict[str, Any]) -> None:
    url = f"/api/datasets/{dataset['id']}/projections"
    response = api.post(url, json={"method": "tsne", "perplexity": 1000})
    assert response.status_code == 422 and response.json()["error"] == "unknown_field"
    detail = response.json()["detail"]
    assert "unknown field ['perplexity']" in detail and '{"method":"tsne","params":{"perplexity":1000}}' in detail
    other = api.post(url, json={"method": "pca", "dim": 3, "colour": "red"})
    assert other.status_code == 422 and "unknown fields ['dim', 'colour']" in other.json()["detail"]
    assert "['method', 'dims', 'params']" in other.json()["detail"] and "components" in other.json()["detail"]
    assert api.get(f"/api/datasets/{dataset['id']}/projections").json() == []  # nothing was started


def test_neighbors_carry_their_rows(api: TestClient, dataset: dict[str, Any]) -> None:
    url = f"/api/datasets/{dataset['id']}/neighbors"
    body = api.get(url, params={"index": 5, "k": 3}).json()
    assert body["columns"] == ["group", "word"] and body["query"] == {"index": 5, "row": ["g1", "word5"]}
    assert [n["row"] for n in body["neighbors"]] == [["g" + str(n["index"] % 4), f"word{n['index']}"] for n in body["neighbors"]]
    lean = api.get(url, params={"index": 5, "k": 3, "rows": "false"}).json()
    assert "columns" not in lean and all(set(n) == {"index", "distance"} for n in lean["neighbors"])
    assert [n["index"] for n in lean["neighbors"]] == [n["index"] for n in body["neighbors"]]


def test_lookup_by_value_says_how_many_rows_matched(api: TestClient, dataset: dict[str, Any]) -> None:
    url = f"/api/datasets/{dataset['id']}/neighbors"
    several = api.get(url, params={"column": "group", "value": "g2", "k": 2}).json()
    assert several["query"]["index"] == 2 and several["query"]["matches"] == 50
    one = api.get(url, params={"column": "word", "value": "word7", "k": 2}).json()
    assert one["query"]["matches"] == 1
    assert "matches" not in api.get(url, params={"index": 7, "k": 2}).json()["query"]
    missing = api.get(url, params={"column": "word", "value": "nope"})
    assert missing.status_code == 404 and missing.json()["detail"] == "no row has word = 'nope'"


def test_search_carries_its_rows(api: TestClient, dataset: dict[str, Any]) -> None:
    url = f"/api/datasets/{dataset['id']}/search"
    body = api.get(url, params={"q": "^word1[0-2]$", "column": "word"}).json()
    assert body["indices"] == [10, 11, 12] and body["columns"] == ["group", "word"]
    assert body["rows"] == [["g2", "word10"], ["g3", "word11"], ["g0", "word12"]]
    lean = api.get(url, params={"q": "word", "limit": 5, "rows": "0"}).json()
    assert lean["count"] == 200 and len(lean["indices"]) == 5 and "rows" not in lean and lean["truncated"]


def test_one_column_metadata_with_a_header_line_is_refused(api: TestClient, vectors: np.ndarray) -> None:
    labels = "".join(f"item{i}\n" for i in range(200))
    response = api.post("/api/datasets", files={"tensor": ("t.npy", npy_bytes(vectors)), "metadata": ("m.tsv", b"name\n" + labels.encode())})
    assert response.status_code == 400 and response.json()["error"] == "metadata_mismatch"
    assert "201 lines but the tensor has 200 rows: a one-column metadata file has no header line" in response.json()["detail"]
    assert api.get("/api/datasets").json() == []
    plain = api.post("/api/datasets", files={"tensor": ("t.npy", npy_bytes(vectors)), "metadata": ("m.tsv", labels.encode())})
    assert plain.status_code == 201 and plain.json()["columns"] == ["label"]


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        ("search", {"q": "a", "limit": "-1"}, "query parameter `limit` must be between 0 and 1000000, got -1"),
        ("search", {"q": "a", "limit": "1e3"}, "query parameter `limit` must be an integer, got '1e3'"),
        ("neighbors", {"index": "200"}, "`index` must be between 0 and 199, got 200"),
        ("neighbors", {"index": "0", "metric": "cosinus"}, "`metric` must be one of ['euclidean', 'cosine'], got 'cosinus'"),
    ],
)
def test_error_details_name_the_value_as_sent(api: TestClient, dataset: dict[str, Any], path: str, params: dict[str, str], detail: str) -> None:
    response = api.get(f"/api/datasets/{dataset['id']}/{path}", params=params)
    assert 400 <= response.status_code < 500 and response.json()["detail"] == detail


def test_plurals_in_details(api: TestClient) -> None:
    response = api.post("/api/datasets", content=b"1\t2\n3\n", headers={"Content-Type": "text/tab-separated-values"})
    assert response.status_code == 400 and "line 2 has 1 value, earlier lines have 2" in response.json()["detail"]
    short = api.post("/api/datasets", files={"tensor": ("t.tsv", b"1\t2\n3\t4\n5\t6\n"), "metadata": ("m.tsv", b"a\tb\n1\t2\n")})
    assert short.status_code == 400 and short.json()["detail"] == "metadata has 1 row but the tensor has 3"
    cells = api.post("/api/datasets", files={"tensor": ("t.tsv", b"1\t2\n3\t4\n"), "metadata": ("m.tsv", b"a\tb\n1\t2\nlonely\n")})
    assert cells.status_code == 400 and cells.json()["detail"] == "metadata line 3 has 1 cell but the header has 2"

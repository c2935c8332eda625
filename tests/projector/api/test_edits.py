"""Metadata edits (PATCH) and the edited metadata as TensorBoard's TSV."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.data.metadata import parse_metadata_tsv
from projector.logdir import log_embedding
from tests.conftest import npy_bytes


def patch(api: TestClient, dataset_id: str, body: Any) -> Any:
    return api.patch(f"/api/datasets/{dataset_id}/metadata", json=body)


def test_a_new_column_is_created_and_comes_back_in_the_tsv(api: TestClient, dataset: dict[str, Any]) -> None:
    response = patch(api, dataset["id"], {"column": "reviewed", "rows": [5, 0, 199], "value": "yes"})
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True and response.json()["rows"] == 3
    assert api.get(f"/api/datasets/{dataset['id']}").json()["columns"] == ["group", "word", "reviewed"]
    metadata = api.get(f"/api/datasets/{dataset['id']}/metadata").json()
    assert [row[2] for row in metadata["rows"]] == ["yes" if i in (0, 5, 199) else "" for i in range(200)]

    tsv = api.get(f"/api/datasets/{dataset['id']}/metadata.tsv")
    assert tsv.status_code == 200 and tsv.headers["content-type"].startswith("text/tab-separated-values")
    parsed = parse_metadata_tsv(tsv.content, 200)
    assert parsed.columns == ["group", "word", "reviewed"] and parsed.rows == metadata["rows"]


def test_an_existing_column_is_changed_and_typed(api: TestClient, dataset: dict[str, Any]) -> None:
    assert patch(api, dataset["id"], {"column": "word", "rows": [1, 2], "value": "changed"}).json()["created"] is False
    assert patch(api, dataset["id"], {"column": "score", "rows": list(range(200)), "value": 0.5}).status_code == 200
    assert patch(api, dataset["id"], {"column": "score", "rows": [3], "value": None}).status_code == 200
    body = api.get(f"/api/datasets/{dataset['id']}/metadata").json()
    assert [row[1] for row in body["rows"][:4]] == ["word0", "changed", "changed", "word3"]
    assert [row[2] for row in body["rows"][:5]] == ["0.5", "0.5", "0.5", "", "0.5"]
    assert api.get(f"/api/datasets/{dataset['id']}").json()["column_types"]["score"] == "numeric"
    found = api.get(f"/api/datasets/{dataset['id']}/search", params={"q": "^changed$", "column": "word"}).json()
    assert found["indices"] == [1, 2]


def test_edits_survive_a_restart(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    api = make_client(data_dir=tmp_path / "d")
    dataset = api.post(
        "/api/datasets", content=npy_bytes(np.eye(4, dtype=np.float32)), headers={"Content-Type": "application/x-npy"}
    ).json()
    patch(api, dataset["id"], {"column": "label", "rows": [2], "value": "two"})
    api.__exit__(None, None, None)
    again = make_client(data_dir=tmp_path / "d")
    assert again.get(f"/api/datasets/{dataset['id']}/metadata").json()["rows"][2] == ["2", "two"]
    assert again.get(f"/api/datasets/{dataset['id']}/metadata.tsv").text == "index\tlabel\n0\t\n1\t\n2\ttwo\n3\t\n"


def test_one_column_tsv_has_no_header(api: TestClient) -> None:
    dataset = api.post(
        "/api/datasets", files={"tensor": ("t.npy", npy_bytes(np.eye(3, dtype=np.float32))), "metadata": ("m.tsv", b"a\nb\nc\n")}
    ).json()
    assert api.get(f"/api/datasets/{dataset['id']}/metadata.tsv").text == "a\nb\nc\n"
    patch(api, dataset["id"], {"column": "label", "rows": [1], "value": "B"})
    assert api.get(f"/api/datasets/{dataset['id']}/metadata.tsv").text == "a\nB\nc\n"


def test_logdir_datasets_are_edited_in_the_data_dir_only(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    log_embedding(
        logdir, np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32), metadata=[f"w{i}" for i in range(30)], tag="words", step=0
    )
    before = _hashes(logdir)
    api = make_client(logdir=logdir)
    deadline = time.monotonic() + 30
    while not (datasets := api.get("/api/datasets").json()) and time.monotonic() < deadline:
        time.sleep(0.1)
    (dataset,) = datasets
    assert dataset["source"] == "logdir"
    assert patch(api, dataset["id"], {"column": "mood", "rows": [4], "value": "happy"}).status_code == 200
    assert api.get(f"/api/datasets/{dataset['id']}/metadata").json()["rows"][4] == ["w4", "happy"]
    assert "mood" in api.get(f"/api/datasets/{dataset['id']}/metadata.tsv").text.splitlines()[0]
    assert _hashes(logdir) == before


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ({"column": "", "rows": [1], "value": "x"}, "invalid_edit", "column"),
        ({"column": " pad", "rows": [1], "value": "x"}, "invalid_edit", "spaces"),
        ({"column": "a\tb", "rows": [1], "value": "x"}, "invalid_edit", "tabs"),
        ({"column": 3, "rows": [1], "value": "x"}, "invalid_edit", "column"),
        ({"column": "c", "rows": [1], "value": {"a": 1}}, "invalid_edit", "value"),
        ({"column": "c", "rows": [1], "value": "two\nlines"}, "invalid_edit", "line breaks"),
        ({"column": "c", "rows": [1], "value": True}, "invalid_edit", "value"),
        ({"column": "c", "rows": [1, 200], "value": "x"}, "invalid_rows", "row 200"),
        ({"column": "c", "rows": ["1"], "value": "x"}, "invalid_rows", "entry 0"),
        ({"column": "c", "rows": [], "value": "x"}, "invalid_rows", "at least 1"),
        ({"column": "c", "rows": [1]}, "invalid_edit", "value"),
    ],
)
def test_bad_edits_change_nothing(api: TestClient, dataset: dict[str, Any], body: Any, code: str, text: str) -> None:
    response = patch(api, dataset["id"], body)
    assert (response.status_code, response.json()["error"]) == (400, code), response.text
    assert text in response.json()["detail"]
    assert api.get(f"/api/datasets/{dataset['id']}").json()["columns"] == ["group", "word"]


def test_unknown_dataset(api: TestClient) -> None:
    assert patch(api, "nope", {"column": "c", "rows": [0], "value": "x"}).status_code == 404
    assert api.get("/api/datasets/nope/metadata.tsv").status_code == 404


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}

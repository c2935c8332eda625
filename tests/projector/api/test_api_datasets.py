"""Uploads, reads and deletes through the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.data.demo import digits_sprite
from projector.data.sprite import write_png
from tests.conftest import npy_bytes


def stored_datasets(api: TestClient) -> list[dict[str, Any]]:
    return api.get("/api/datasets").json()  # type: ignore[no-any-return]


def test_raw_npy_upload(api: TestClient, vectors: np.ndarray) -> None:
    response = api.post("/api/datasets?name=raw", content=npy_bytes(vectors.astype(np.float64)), headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 201
    dataset = response.json()
    assert {k: dataset[k] for k in ("name", "n", "dim", "columns", "source")} == {
        "name": "raw", "n": 200, "dim": 12, "columns": ["index"], "source": "upload",
    }  # fmt: skip
    tensor = api.get(f"/api/datasets/{dataset['id']}/tensor")
    assert tensor.headers["x-shape"] == "200,12"
    np.testing.assert_array_equal(np.frombuffer(tensor.content, dtype="<f4").reshape(200, 12), vectors)
    assert api.get(f"/api/datasets/{dataset['id']}/metadata").json() == {"columns": ["index"], "rows": [[str(i)] for i in range(200)]}
    assert stored_datasets(api) == [dataset]


def test_tsv_body_upload(api: TestClient) -> None:
    response = api.post("/api/datasets", content=b"1\t2\t3\n4\t5\t6\n", headers={"Content-Type": "text/tab-separated-values"})
    assert response.status_code == 201
    assert (response.json()["n"], response.json()["dim"]) == (2, 3)


def test_multipart_with_metadata_and_sprite(api: TestClient, tmp_path: Path) -> None:
    tensor = np.random.default_rng(0).normal(size=(9, 4)).astype(np.float32)
    write_png(tmp_path / "s.png", digits_sprite(np.random.default_rng(1).integers(0, 17, size=(9, 8, 8))))
    response = api.post(
        "/api/datasets",
        files={
            "tensor": ("vectors.npy", npy_bytes(tensor)),
            "metadata": ("m.tsv", b"name\tsize\n" + b"".join(b"p%d\t%d.5\n" % (i, i) for i in range(9))),
            "sprite": ("s.png", (tmp_path / "s.png").read_bytes()),
        },
        data={"sprite_dim": "8,8"},
    )
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["name"] == "vectors.npy"
    assert dataset["columns"] == ["name", "size"] and dataset["column_types"] == {"name": "categorical", "size": "numeric"}
    assert dataset["sprite"] == {"dim": [8, 8]}
    sprite = api.get(f"/api/datasets/{dataset['id']}/sprite")
    assert sprite.headers["x-sprite-dim"] == "8,8" and sprite.content == (tmp_path / "s.png").read_bytes()
    assert api.get(f"/api/datasets/{dataset['id']}/metadata").json()["rows"][3] == ["p3", "3.5"]


def test_multipart_npz_and_tsv_tensors(api: TestClient, tmp_path: Path, vectors: np.ndarray) -> None:
    np.savez_compressed(tmp_path / "v.npz", embeddings=vectors)
    response = api.post("/api/datasets", files={"tensor": ("v.npz", (tmp_path / "v.npz").read_bytes())})
    assert response.status_code == 201
    tsv = "\n".join("\t".join(repr(float(x)) for x in row) for row in vectors[:5]).encode()
    response = api.post("/api/datasets", files={"tensor": ("v.tsv", tsv)})
    assert response.status_code == 201 and response.json()["n"] == 5


def test_sprite_404_when_absent(api: TestClient, dataset: dict[str, Any]) -> None:
    response = api.get(f"/api/datasets/{dataset['id']}/sprite")
    assert response.status_code == 404 and response.json()["error"] == "no_sprite"


BAD_UPLOADS: list[tuple[str, dict[str, Any], int, str]] = [
    ("nan", {"content": npy_bytes(np.array([[1.0, np.nan], [2.0, 3.0]])), "headers": {"Content-Type": "application/x-npy"}}, 400, "invalid_tensor"),
    ("inf", {"content": b"1\t2\n3\tinf\n", "headers": {"Content-Type": "text/tab-separated-values"}}, 400, "invalid_tensor"),
    ("ragged", {"content": b"1\t2\n3\n", "headers": {"Content-Type": "text/tab-separated-values"}}, 400, "invalid_tensor"),
    ("text", {"content": b"1\tx\n3\t4\n", "headers": {"Content-Type": "text/tab-separated-values"}}, 400, "invalid_tensor"),
    ("empty", {"content": b"", "headers": {"Content-Type": "application/x-npy"}}, 400, "empty_body"),
    ("1-D", {"content": npy_bytes(np.zeros(5)), "headers": {"Content-Type": "application/x-npy"}}, 400, "invalid_tensor"),
    ("3-D", {"content": npy_bytes(np.zeros((3, 3, 3))), "headers": {"Content-Type": "application/x-npy"}}, 400, "invalid_tensor"),
    ("object", {"content": npy_bytes(np.array([[None, 1]], dtype=object)), "headers": {"Content-Type": "application/x-npy"}}, 400, "invalid_tensor"),
    ("json", {"content": b"[[1,2]]", "headers": {"Content-Type": "application/json"}}, 415, "unsupported_media_type"),
    ("mismatch", {"files": {"tensor": ("t.npy", npy_bytes(np.zeros((3, 2)))), "metadata": ("m.tsv", b"a\nb\n")}}, 400, "metadata_mismatch"),
    ("no tensor", {"files": {"metadata": ("m.tsv", b"a\nb\n")}}, 400, "missing_tensor"),
    ("bad sprite", {"files": {"tensor": ("t.npy", npy_bytes(np.zeros((3, 2)))), "sprite": ("s.png", b"GIF89a....")}}, 400, "invalid_sprite"),
    ("bad sprite_dim", {"files": {"tensor": ("t.npy", npy_bytes(np.zeros((3, 2))))}, "data": {"sprite_dim": "big"}}, 400, "invalid_sprite"),
]


@pytest.mark.parametrize(("case", "request_kwargs", "status", "code"), BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_bad_uploads_store_nothing(api: TestClient, case: str, request_kwargs: dict[str, Any], status: int, code: str) -> None:
    response = api.post("/api/datasets", **request_kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["detail"]
    assert stored_datasets(api) == []
    store = api.app.state.store  # type: ignore[attr-defined]
    assert list(store.dir.tmp.iterdir()) == [] and list(store.dir.datasets.iterdir()) == []


def test_body_limit_gives_413(make_client: Callable[..., TestClient]) -> None:
    api = make_client(max_upload_bytes=1000)
    big = npy_bytes(np.zeros((100, 10), dtype=np.float32))
    response = api.post("/api/datasets", content=big, headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    streamed = api.post("/api/datasets", content=iter([big[:600], big[600:]]), headers={"Content-Type": "application/x-npy"})
    assert streamed.status_code == 413
    assert stored_datasets(api) == []


def test_delete(api: TestClient, dataset: dict[str, Any]) -> None:
    assert api.delete(f"/api/datasets/{dataset['id']}").status_code == 204
    assert api.get(f"/api/datasets/{dataset['id']}").status_code == 404
    assert api.delete(f"/api/datasets/{dataset['id']}").status_code == 404
    assert stored_datasets(api) == []


def test_datasets_survive_a_restart(make_client: Callable[..., TestClient], tmp_path: Path, vectors: np.ndarray) -> None:
    first = make_client(data_dir=tmp_path / "d")
    created = first.post("/api/datasets?name=keep", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"}).json()
    first.__exit__(None, None, None)
    second = make_client(data_dir=tmp_path / "d")
    assert stored_datasets(second) == [created]


def test_demo_dataset_on_an_empty_data_dir(make_client: Callable[..., TestClient]) -> None:
    api = make_client(demo=True)
    (demo,) = stored_datasets(api)
    assert (demo["n"], demo["dim"], demo["source"], demo["columns"], demo["sprite"]) == (1797, 64, "demo", ["label"], {"dim": [8, 8]})
    assert demo["column_types"] == {"label": "categorical"}  # digit classes, not quantities
    sprite = api.get(f"/api/datasets/{demo['id']}/sprite")
    assert sprite.status_code == 200 and sprite.content.startswith(b"\x89PNG")


def test_disk_full_is_a_clean_507(api: TestClient, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from projector.data import ingest as ingest_module

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ingest_module, "write_metadata_json", full)
    response = api.post("/api/datasets", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 507 and response.json()["error"] == "disk_full"
    store = api.app.state.store  # type: ignore[attr-defined]
    assert stored_datasets(api) == [] and list(store.dir.tmp.iterdir()) == [] and list(store.dir.datasets.iterdir()) == []

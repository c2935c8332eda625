"""Parquet over HTTP: uploads (raw body or multipart part), refusals, and the export routes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from tests.conftest import npy_bytes, wait_done

PARQUET = {"Content-Type": "application/vnd.apache.parquet"}
PYPI = Path("/work/shared/data/pypi-summaries")


def parquet_bytes(table: pa.Table | pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    if isinstance(table, pd.DataFrame):
        table.to_parquet(buffer, index=False)
    else:
        pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 10)).astype(np.float32)
    return pd.DataFrame(
        {
            "vec": list(X),
            "word": [f"w{i}" for i in range(120)],
            "count": np.arange(120, dtype=np.int64) * 1000,
            "score": rng.random(120).astype(np.float32),
            "ok": np.arange(120) % 3 == 0,
        }
    )


def upload(api: TestClient, body: bytes, query: str = "") -> Any:
    return api.post(f"/api/datasets{query}", content=body, headers=PARQUET)


def export_frame(api: TestClient, path: str) -> pd.DataFrame:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    return pq.read_table(io.BytesIO(response.content)).to_pandas()


def test_upload_and_export_round_trip(api: TestClient, frame: pd.DataFrame) -> None:
    response = upload(api, parquet_bytes(frame), "?name=frame")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert (dataset["n"], dataset["dim"], dataset["columns"]) == (120, 10, ["word", "count", "score", "ok"])
    assert dataset["column_types"] == {"word": "categorical", "count": "numeric", "score": "numeric", "ok": "categorical"}
    tensor = np.frombuffer(api.get(f"/api/datasets/{dataset['id']}/tensor").content, "<f4").reshape(120, 10)
    assert tensor.tobytes() == np.stack(frame["vec"]).tobytes()
    back = export_frame(api, f"/api/datasets/{dataset['id']}/export?format=parquet&embedding=vec")
    assert list(back.columns) == list(frame.columns)
    assert np.stack(back["vec"]).dtype == np.float32 and np.stack(back["vec"]).tobytes() == np.stack(frame["vec"]).tobytes()
    pd.testing.assert_frame_equal(back.drop(columns="vec"), frame.drop(columns="vec"))  # dtypes included


def test_multipart_part_is_sniffed(api: TestClient, frame: pd.DataFrame) -> None:
    response = api.post("/api/datasets", files={"tensor": ("data.parquet", parquet_bytes(frame))})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "data.parquet" and response.json()["columns"] == ["word", "count", "score", "ok"]
    both = api.post("/api/datasets", files={"tensor": ("d.parquet", parquet_bytes(frame)), "metadata": ("m.tsv", b"a\n" * 120)})
    assert both.status_code == 400 and "carries its metadata in its columns" in both.json()["detail"]


def test_embedding_chooses_the_column(api: TestClient, frame: pd.DataFrame) -> None:
    frame["other"] = [v[:4] for v in frame["vec"]]
    body = parquet_bytes(frame)
    several = upload(api, body)
    assert several.status_code == 400 and several.json()["error"] == "invalid_parquet"
    assert "2 list columns ['vec', 'other']" in several.json()["detail"]
    chosen = upload(api, body, "?embedding=other")
    assert chosen.status_code == 201 and chosen.json()["dim"] == 4
    not_parquet = api.post("/api/datasets?embedding=vec", content=npy_bytes(np.eye(3)), headers={"Content-Type": "application/x-npy"})
    assert not_parquet.status_code == 422 and "not Parquet" in not_parquet.json()["detail"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"a": [1, 2, 3]}), "no list column"),
        (pa.table({"a": [[1.0, 2.0], [1.0]]}), "1 value in row 1 but 2 in row 0"),
        (pa.table({"a": [[1.0, 2.0], None]}), "null in row 1"),
        (pa.table({"a": [["x"], ["y"]]}), "hold no numbers"),
    ],
    ids=["no-list", "ragged", "null", "strings"],
)
def test_bad_files_are_400(api: TestClient, table: pa.Table, message: str) -> None:
    response = upload(api, parquet_bytes(table))
    assert response.status_code == 400 and message in response.json()["detail"]
    assert api.get("/api/datasets").json() == []  # nothing stored
    garbage = upload(api, b"PAR1" + b"\0" * 100)
    assert garbage.status_code == 400 and "not a valid Parquet file" in garbage.json()["detail"]


def test_projection_exports(api: TestClient, frame: pd.DataFrame) -> None:
    dataset = upload(api, parquet_bytes(frame)).json()
    pid = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "pca", "dims": 3}).json()["id"]
    assert wait_done(api, pid)["status"] == "done"
    coords = np.frombuffer(api.get(f"/api/projections/{pid}/coords").content, "<f4").reshape(120, 3)
    table = export_frame(api, f"/api/projections/{pid}/export?format=parquet")
    assert list(table.columns) == ["word", "count", "score", "ok", "x", "y", "z"]
    assert table[["x", "y", "z"]].to_numpy().tobytes() == coords.tobytes()
    pd.testing.assert_frame_equal(table.drop(columns=["x", "y", "z"]), frame.drop(columns="vec"))
    text = api.get(f"/api/projections/{pid}/export?format=csv")
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text.text)))
    assert rows[0] == ["word", "count", "score", "ok", "x", "y", "z"] and len(rows) == 121
    assert np.array([[np.float32(v) for v in row[4:]] for row in rows[1:]]).tobytes() == coords.tobytes()  # shortest exact text
    npy = api.get(f"/api/projections/{pid}/export?format=npy")
    assert npy.headers["content-disposition"] == f'attachment; filename="projection-{pid}.npy"'
    assert np.load(io.BytesIO(npy.content)).tobytes() == coords.tobytes()
    bad = api.get(f"/api/projections/{pid}/export?format=xlsx")
    assert bad.status_code == 422 and "['parquet', 'csv', 'npy']" in bad.json()["detail"]
    assert api.get(f"/api/datasets/{dataset['id']}/export?format=csv").status_code == 422
    assert api.get("/api/projections/000000000000/export").status_code == 404


def test_unfinished_projection_is_409(api: TestClient, dataset: dict[str, Any]) -> None:
    pid = api.post(f"/api/datasets/{dataset['id']}/projections", json={"method": "tsne", "params": {"n_iter": 10000}}).json()["id"]
    api.delete(f"/api/projections/{pid}")
    response = api.get(f"/api/projections/{pid}/export?format=csv")
    assert response.status_code == 409 and response.json()["error"] == "not_ready"


def test_tsv_dataset_exports_numbers_and_text(api: TestClient, dataset: dict[str, Any]) -> None:
    back = export_frame(api, f"/api/datasets/{dataset['id']}/export")
    assert list(back.columns) == ["embedding", "group", "word"] and back["word"][5] == "word5"
    assert np.stack(back["embedding"]).shape == (200, 12)


@pytest.mark.skipif(not PYPI.exists(), reason="the shared PyPI embeddings are not on this machine")
def test_real_text_embeddings(api: TestClient, tmp_path: Path) -> None:
    """A slice of real sentence embeddings (float16, 384-d) with real metadata, as a Parquet file a user would write."""
    n = 400
    X = np.load(PYPI / "embeddings.npy", mmap_mode="r")[:n].astype(np.float32)
    meta = pd.read_csv(PYPI / "metadata.tsv", sep="\t", nrows=n, keep_default_na=False, quoting=csv.QUOTE_NONE, dtype=str)
    frame = pd.DataFrame(
        {
            "name": meta["name"],
            "month": meta["month"],
            "year": pd.to_numeric(meta["year"], errors="coerce").astype("Int64"),  # some are "unknown"
            "rank": pd.array([int(r) if r else None for r in meta["rank"]], dtype="Int64"),
            "topic": meta["topic"],
            "summary": meta["summary"],
            "embedding": list(X),
        }
    )
    path = tmp_path / "pypi.parquet"
    frame.to_parquet(path, index=False, row_group_size=150)
    dataset = upload(api, path.read_bytes(), "?name=pypi").json()
    assert (dataset["n"], dataset["dim"]) == (n, 384) and dataset["column_types"]["topic"] == "categorical"
    back = export_frame(api, f"/api/datasets/{dataset['id']}/export")
    assert np.stack(back["embedding"]).tobytes() == X.tobytes()
    assert back["name"].tolist() == frame["name"].tolist() and back["summary"].tolist() == frame["summary"].tolist()
    for column in ("year", "rank"):  # integers with nulls: int64 with nulls again
        assert back[column].isna().tolist() == frame[column].isna().tolist()
        assert back[column].dropna().astype(np.int64).tolist() == frame[column].dropna().tolist()
    numpy_row = frame.index[frame["name"] == "numpy"]
    if len(numpy_row):  # the neighbours of numpy are scientific packages
        found = api.get(f"/api/datasets/{dataset['id']}/neighbors?column=name&value=numpy&k=5").json()
        assert found["query"]["index"] == int(numpy_row[0])

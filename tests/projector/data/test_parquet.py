"""Parquet in (projector.data.parquet) and out (projector.data.export): exact tensors, typed metadata, clear refusals."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from projector.data import export, parquet
from projector.data.export import dataset_batches, parquet_stream, projection_batches, typed_column
from projector.data.metadata import column_types
from projector.data.parquet import read_parquet
from projector.errors import InvalidInput, PayloadTooLarge


def write(tmp_path: Path, table: pa.Table, **options: object) -> Path:
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, **options)  # type: ignore[arg-type]
    return path


def vectors(n: int = 50, dim: int = 6, dtype: type = np.float32) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, dim)).astype(dtype)


def list_column(X: np.ndarray, fixed: bool = False) -> pa.Array:
    values = pa.array(X.reshape(-1))
    if fixed:
        return pa.FixedSizeListArray.from_arrays(values, X.shape[1])
    return pa.ListArray.from_arrays(pa.array(np.arange(0, X.size + 1, X.shape[1], dtype=np.int32)), values)


@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int16])
def test_embedding_is_read_exactly(tmp_path: Path, fixed: bool, dtype: type) -> None:
    X = vectors(dtype=dtype) if dtype is not np.int16 else np.arange(300, dtype=np.int16).reshape(50, 6)
    path = write(tmp_path, pa.table({"vec": list_column(X, fixed), "name": [f"p{i}" for i in range(50)]}))
    metadata = read_parquet(path, None, tmp_path / "t.npy")
    stored = np.load(tmp_path / "t.npy")
    assert stored.dtype == np.float32 and stored.shape == (50, 6)
    assert stored.tobytes() == X.astype(np.float32).tobytes()  # float64 rounds as NumPy does
    assert metadata.columns == ["name"] and metadata.rows[3] == ["p3"]


def test_metadata_keeps_its_types(tmp_path: Path) -> None:
    X = vectors(4)
    table = pa.table(
        {
            "count": pa.array([1, None, 3, 2**60], pa.int64()),
            "small": pa.array([1, 2, 3, 4], pa.int8()),
            "score": pa.array([0.1, 1 / 3, 1e-30, None], pa.float32()),
            "ratio": pa.array([0.1, 1 / 3, 2.5e300, -0.0]),
            "word": ["a\tb", "", None, "ü"],
            "flag": [True, False, None, True],
            "kind": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
            "when": pa.array([datetime.date(2024, 1, d) for d in range(1, 5)]),
            "tags": [["a", "b"], [], None, ["c"]],
            "other_embedding": list_column(X),
            "embedding": list_column(X),
        }
    )
    metadata = read_parquet(write(tmp_path, table), "embedding", tmp_path / "t.npy")
    assert metadata.columns == ["count", "small", "score", "ratio", "word", "flag", "kind", "when", "tags"]  # other vectors left out
    assert metadata.dtypes == {
        "count": "int64", "small": "int8", "score": "float32", "ratio": "float64", "word": "string", "flag": "bool",
        "kind": "string", "when": "string", "tags": "string",
    }  # fmt: skip
    assert metadata.rows[0] == ["1", "1", "0.1", "0.1", "a\tb", "true", "x", "2024-01-01", '["a","b"]']
    assert metadata.rows[1][0] == "" and metadata.rows[3][2] == ""  # nulls
    types = column_types(metadata)
    assert types["small"] == "numeric" and types["word"] == "categorical" and types["flag"] == "categorical"
    # and back: every column has its type again, numbers bit for bit
    columns = export.metadata_columns(metadata, types, ())
    for name in ("count", "small", "score", "ratio", "flag"):
        assert columns[name].equals(table.column(name).combine_chunks()), name
    assert columns["word"].to_pylist() == ["a\tb", "", "", "ü"]  # a null text cell comes back empty


def test_many_batches_and_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "BATCH_BYTES", 1000)  # a few rows per batch
    X = vectors(1000, 16)
    path = write(tmp_path, pa.table({"e": list_column(X), "i": np.arange(1000)}), row_group_size=77)
    seen: list[int] = []
    metadata = read_parquet(path, None, tmp_path / "t.npy", progress=seen.append)
    assert np.load(tmp_path / "t.npy").tobytes() == X.tobytes()
    assert len(seen) > 20 and sum(seen) == 1000
    assert [row[0] for row in metadata.rows] == [str(i) for i in range(1000)]


def bad_tables() -> list[tuple[str, pa.Table, str | None, str]]:
    X = vectors(5, 3)
    ok = list_column(X)
    return [
        ("no list column", pa.table({"a": [1, 2], "b": ["x", "y"]}), None, "no list column"),
        ("several lists", pa.table({"a": ok, "b": ok}), None, "name the embedding with embedding=COL"),
        ("unknown name", pa.table({"a": ok}), "vec", "no column 'vec'"),
        ("named column not a list", pa.table({"a": ok, "b": list(range(5))}), "b", "not a list of numbers"),
        ("strings", pa.table({"a": [["x", "y"]] * 5}), None, "hold no numbers"),
        ("named strings", pa.table({"a": [["x", "y"]] * 5}), "a", "lists of string"),
        ("ragged", pa.table({"a": [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 2.0]]}), None, "3 values in row 2 but 2 in row 0"),
        ("null row", pa.table({"a": [[1.0, 2.0], [1.0, 2.0], None]}), None, "null in row 2"),
        ("null value", pa.table({"a": [[1.0, 2.0], [1.0, None]]}), None, "null value in row 1"),
        ("NaN", pa.table({"a": [[1.0, 2.0], [1.0, float("nan")], [0.0, 0.0]]}), None, "non-finite value (NaN or infinity) in row 1"),
        ("one row", pa.table({"a": [[1.0, 2.0]]}), None, "at least 2 rows and 2 columns, got 1 × 2"),
        ("one dimension", pa.table({"a": [[1.0], [2.0]]}), None, "at least 2 rows and 2 columns, got 2 × 1"),
        ("empty", pa.table({"a": pa.array([], pa.list_(pa.float32()))}), None, "at least 2 rows"),
    ]


@pytest.mark.parametrize(("table", "embedding", "message"), [case[1:] for case in bad_tables()], ids=[case[0] for case in bad_tables()])
def test_bad_files_are_refused_clearly(tmp_path: Path, table: pa.Table, embedding: str | None, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_parquet(write(tmp_path, table), embedding, tmp_path / "t.npy")
    assert message in info.value.detail and info.value.status == 400


def test_not_parquet_and_truncated(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b"PAR1 but nothing else")
    with pytest.raises(InvalidInput, match="not a valid Parquet file"):
        read_parquet(tmp_path / "x.parquet", None, tmp_path / "t.npy")
    whole = write(tmp_path, pa.table({"a": list_column(vectors())})).read_bytes()
    (tmp_path / "cut.parquet").write_bytes(whole[: len(whole) // 2] + whole[-8:])
    with pytest.raises(InvalidInput, match="Parquet"):
        read_parquet(tmp_path / "cut.parquet", None, tmp_path / "t.npy")


def test_size_limit_is_checked_before_writing(tmp_path: Path) -> None:
    path = write(tmp_path, pa.table({"a": list_column(np.zeros((1000, 64), np.float32))}))
    with pytest.raises(PayloadTooLarge):
        read_parquet(path, None, tmp_path / "t.npy", limit=100_000)
    assert not (tmp_path / "t.npy").exists()


def read_back(chunks: list[bytes]) -> pa.Table:
    return pq.read_table(io.BytesIO(b"".join(chunks)))


def test_exports_stream_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "BATCH_BYTES", 4000)
    X = vectors(500, 20)
    table = pa.table({"embedding": list_column(X), "x": np.arange(500), "label": [f"l{i % 7}" for i in range(500)]})
    metadata = read_parquet(write(tmp_path, table), None, tmp_path / "t.npy")
    schema, batches = dataset_batches(metadata, column_types(metadata), np.load(tmp_path / "t.npy", mmap_mode="r"))
    chunks = list(parquet_stream(schema, batches))
    assert len(chunks) > 10 and pq.ParquetFile(io.BytesIO(b"".join(chunks))).metadata.num_row_groups == len(chunks) - 1
    back = read_back(chunks)
    assert back.schema.field("embedding").type == pa.list_(pa.float32(), 20)
    assert np.stack(back.column("embedding").to_numpy(zero_copy_only=False)).tobytes() == X.tobytes()
    assert back.column("x").type == pa.int64() and back.column("label").to_pylist() == table.column("label").to_pylist()
    coords = np.arange(1000, dtype=np.float32).reshape(500, 2)
    schema, batches = projection_batches(metadata, column_types(metadata), coords)
    back = read_back(list(parquet_stream(schema, batches)))
    assert back.column_names == ["x_1", "label", "x", "y"]  # a metadata column named x yields to the coordinate
    assert back.column("x").to_numpy().tobytes() == coords[:, 0].tobytes()


def test_untyped_columns_export_as_numbers_or_text() -> None:
    assert typed_column(["1", "", "3"], None, "numeric").to_pylist() == [1, None, 3]
    assert typed_column(["1.5", "2"], None, "numeric").type == pa.float64()
    assert typed_column(["1", "2"], None, "categorical").to_pylist() == ["1", "2"]
    assert typed_column(["1", "edited"], "int64", "numeric").to_pylist() == ["1", "edited"]  # no longer fits: text

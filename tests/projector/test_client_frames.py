"""pandas through the Python client (a real server), and `projector load FILE.parquet`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from projector import Client
from projector.cli import main
from projector.client import Coordinates
from projector.data.store import Store
from projector.errors import ProjectorError


def make_frame(n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int32),
            "text": [f"doc {i}" for i in range(n)],
            "vector": list(rng.normal(size=(n, 16)).astype(np.float32)),
            "weight": rng.random(n),
            "tagged": pd.array([None if i % 10 == 0 else i % 2 == 0 for i in range(n)], dtype="boolean"),
            "votes": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        }
    )


def test_dataframe_round_trip_and_projection_id(server_factory) -> None:  # type: ignore[no-untyped-def]
    client = Client(server_factory("--no-demo").url)
    frame = make_frame()
    dataset_id = client.upload(frame, embedding="vector", name="frame")
    assert client.dataset(dataset_id)["columns"] == ["id", "text", "weight", "tagged", "votes"]
    back = client.to_pandas(dataset_id, embedding="vector")
    assert np.stack(back["vector"]).tobytes() == np.stack(frame["vector"]).tobytes()  # float32, bit for bit
    pd.testing.assert_frame_equal(back.drop(columns="vector"), frame.drop(columns="vector"))  # values and dtypes

    coords = client.project(dataset_id, "pca", dims=2)
    assert isinstance(coords, np.ndarray) and isinstance(coords, Coordinates)
    assert coords.shape == (150, 2) and coords.dtype == np.float32
    assert coords.dataset_id == dataset_id and client.projection(coords.projection_id)["method"] == "pca"
    laid_out = client.to_pandas(dataset_id, projection=coords)
    assert list(laid_out.columns) == ["id", "text", "weight", "tagged", "votes", "x", "y"]
    assert laid_out[["x", "y"]].to_numpy().tobytes() == np.asarray(coords).tobytes()
    assert client.to_pandas(dataset_id, projection=coords.projection_id).equals(laid_out)

    other = client.upload(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="belongs to dataset"):
        client.to_pandas(other, projection=coords)
    with pytest.raises(ValueError, match="carries its metadata"):
        client.upload(frame, metadata=["x"] * 150)
    with pytest.raises(ProjectorError) as info:
        client.upload(frame.assign(other=frame["vector"]))  # two vector columns, none named
    assert info.value.status == 400 and "embedding=COL" in info.value.detail


def test_cli_loads_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = make_frame(40)
    frame["second"] = [v[:3] for v in frame["vector"]]
    frame.to_parquet(tmp_path / "docs.parquet", index=False)
    data = tmp_path / "data"
    assert main(["load", str(tmp_path / "docs.parquet"), "--data-dir", str(data)]) == 2
    assert "2 list columns" in capsys.readouterr().err
    assert main(["load", str(tmp_path / "docs.parquet"), "--embedding", "second", "--data-dir", str(data)]) == 0
    dataset_id = capsys.readouterr().out.strip().splitlines()[-1]
    store = Store(data)
    dataset = store.get_dataset(dataset_id)
    assert (dataset["name"], dataset["n"], dataset["dim"]) == ("docs", 40, 3)
    assert store.tensor(dataset_id).tobytes() == np.stack(frame["second"]).tobytes()
    store.close()
    assert main(["load", str(tmp_path / "docs.parquet"), "--metadata", str(tmp_path / "docs.parquet"), "--data-dir", str(data)]) == 2

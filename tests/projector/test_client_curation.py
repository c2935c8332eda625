"""The Python client's exploration tools against a real server: subsets, vector queries, clusters, edits, selections."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from projector import Client
from projector.errors import ProjectorError


def test_every_tool_from_python(server_factory: Callable[..., object]) -> None:
    client = Client(server_factory("--no-demo").url)  # type: ignore[attr-defined]
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 6
    X = (centres[np.arange(150) % 3] + rng.normal(size=(150, 8))).astype(np.float32)
    dataset = client.upload(X, metadata={"kind": [f"k{i % 3}" for i in range(150)], "name": [f"n{i}" for i in range(150)]})

    subset = client.subset(dataset, [9, 4, 100], name="three")
    assert client.dataset(subset)["parent"] == dataset and client.tensor(subset).tobytes() == X[[9, 4, 100]].tobytes()
    by_search = client.subset(dataset, q="^k2$", column="kind")
    assert client.dataset(by_search)["n"] == 50
    with pytest.raises(ProjectorError) as error:
        client.subset(dataset, [1, 1])
    assert error.value.status == 400 and error.value.code == "invalid_rows"

    found = client.neighbors_of_vectors(dataset, X[[7, 8]] + 0.001, k=3)
    assert [r["neighbors"][0]["index"] for r in found["results"]] == [7, 8]
    assert client.neighbors_of_vectors(dataset, X[20], k=1, metric="euclidean")["results"][0]["neighbors"][0]["index"] == 20

    coords = client.project(dataset, "pca", dims=2)
    result = client.clusters(coords, label_column="kind")
    assert result["status"] == "done" and {c["label"] for c in result["clusters"]} == {"k0", "k1", "k2"}
    assert result["column"] in client.dataset(dataset)["columns"]
    assert client.clusters(coords.projection_id, label_column="kind") == result  # cached

    assert client.edit_metadata(dataset, "flag", [0, 3], "on")["created"] is True
    assert client.metadata_tsv(dataset).splitlines()[1].split("\t")[-1] == "on"

    assert client.save_selection(dataset, "picked", np.array([30, 5, 12]))["count"] == 3
    assert [s["name"] for s in client.selections(dataset)] == ["picked"]
    rows = client.selection(dataset, "picked")
    assert isinstance(rows, np.ndarray) and rows.tolist() == [30, 5, 12]
    frame = client.selection(dataset, "picked", as_frame=True)
    assert isinstance(frame, pd.DataFrame) and frame.index.tolist() == [30, 5, 12]
    assert frame["name"].tolist() == ["n30", "n5", "n12"] and frame.loc[12, "kind"] == "k0"

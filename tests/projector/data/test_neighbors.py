"""projector.data.neighbors: lookups on the int8 copy return the exact top-k; `exact` and the fallbacks."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

import projector.data.neighbors as neighbors
from projector.data.ingest import ingest
from projector.data.store import Store


def mixture(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, d)) * 4
    return (centres[rng.integers(0, 6, n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbors, "APPROXIMATE_FROM", 100)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


def add(store: Store, X: np.ndarray) -> str:
    return str(ingest(store, name="x", source="upload", array=X)["id"])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_int8_copy_answers_the_exact_top_k(store: Store, small_threshold: None, metric: str) -> None:
    X = mixture(3000, 24)
    dataset = add(store, X)
    assert neighbors.compact_copy(store, dataset, metric, wait=True) is not None
    for index in range(0, 3000, 151):
        found, exact = neighbors.nearest(store, dataset, index, 10, metric)
        truth, truly_exact = neighbors.nearest(store, dataset, index, 10, metric, exact=True)
        assert not exact and truly_exact
        assert [i for i, _ in found] == [i for i, _ in truth]
        np.testing.assert_allclose([d for _, d in found], [d for _, d in truth], rtol=1e-5, atol=1e-6)
        assert index not in [i for i, _ in found]


def test_copy_is_built_in_the_background_and_scanned_once_ready(store: Store, small_threshold: None) -> None:
    dataset = add(store, mixture(500, 8))
    files = store.files(dataset)
    assert not any(files.folder.glob("int8-*"))
    found, exact = neighbors.nearest(store, dataset, 3, 5, "euclidean")  # starts the build, answers exactly
    assert exact and len(found) == 5
    deadline = time.monotonic() + 30
    while neighbors.compact_copy(store, dataset, "euclidean") is None:
        assert time.monotonic() < deadline, "the int8 copy was never built"
        time.sleep(0.05)
    assert sorted(p.name for p in files.folder.glob("int8-*")) == [
        "int8-euclidean-codes.npy",
        "int8-euclidean-range.npy",
        "int8-euclidean-terms.npy",
    ]
    assert np.load(files.derived("int8-euclidean-codes"), mmap_mode="r").dtype == np.int8
    assert not any(p.name.endswith(".partial") for p in files.folder.iterdir())
    again, exact = neighbors.nearest(store, dataset, 3, 5, "euclidean")
    assert not exact and [i for i, _ in again] == [i for i, _ in found]


def test_small_datasets_get_no_copy(store: Store) -> None:
    dataset = add(store, mixture(300, 8))
    neighbors.prepare_lookups(store, dataset)
    _, exact = neighbors.nearest(store, dataset, 0, 5, "cosine")
    assert exact
    assert not any(store.files(dataset).folder.glob("int8-*"))


def test_one_build_at_a_time(store: Store, small_threshold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = add(store, mixture(400, 8))
    release = threading.Event()
    calls = []

    def slow_build(*args: object) -> None:
        calls.append(args)
        release.wait(10)

    monkeypatch.setattr(neighbors, "_build_compact", slow_build)
    for _ in range(3):
        neighbors.prepare_lookups(store, dataset, "cosine")
    release.set()
    time.sleep(0.1)
    assert len(calls) == 1


def test_a_failed_build_is_not_retried_at_once(store: Store, small_threshold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = add(store, mixture(400, 8))
    calls = []

    def failing_build(*args: object) -> None:
        calls.append(args)
        raise OSError("disk full")

    monkeypatch.setattr(neighbors, "_build_compact", failing_build)
    monkeypatch.setattr(neighbors, "_failed", {})
    for _ in range(3):
        found, exact = neighbors.nearest(store, dataset, 0, 5, "euclidean")
        assert exact and len(found) == 5
        time.sleep(0.1)
    assert len(calls) == 1


def test_a_large_k_scans_exactly(store: Store, small_threshold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbors, "COMPACT_MAX_K", 20)
    dataset = add(store, mixture(400, 8))
    assert neighbors.compact_copy(store, dataset, "cosine", wait=True) is not None
    assert neighbors.nearest(store, dataset, 0, 20, "cosine")[1] is False
    assert neighbors.nearest(store, dataset, 0, 21, "cosine")[1] is True

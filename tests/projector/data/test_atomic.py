"""Durability (issue 11): every commit fsyncs the file and its directory, temp names are unique per
writer, a failed write leaves the old file, and the catalog commits with SQLite's synchronous=FULL."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from projector.data import atomic
from projector.data.atomic import atomic_path, atomic_write, move_into, temp_name
from projector.data.graphs import load_graph, save_graph
from projector.data.store import Store
from reducers.knn import KNNGraph


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each fsync as (the path the descriptor names, whether it is a directory)."""
    calls: list[tuple[str, bool]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append((os.readlink(f"/proc/self/fd/{fd}"), stat.S_ISDIR(os.fstat(fd).st_mode)))
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return calls


def test_atomic_write_syncs_the_file_then_its_directory(tmp_path: Path, synced: list[tuple[str, bool]]) -> None:
    dest = tmp_path / "catalog.bin"
    atomic_write(dest, b"new")
    assert dest.read_bytes() == b"new"
    (file_path, file_is_dir), (dir_path, dir_is_dir) = synced
    assert not file_is_dir and Path(file_path).name.startswith(".catalog.bin.") and file_path.endswith(".partial")
    assert dir_is_dir and Path(dir_path) == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.bin"]


def test_atomic_path_and_move_into_sync_too(tmp_path: Path, synced: list[tuple[str, bool]]) -> None:
    with atomic_path(tmp_path / "coords.npy") as tmp:
        np.zeros(3, np.float32).tofile(tmp)
    assert [is_dir for _, is_dir in synced] == [False, True]
    synced.clear()
    (tmp_path / "staged").write_bytes(b"x")
    (tmp_path / "datasets").mkdir()
    move_into(tmp_path / "staged", tmp_path / "datasets" / "tensor.npy")
    assert synced == [(str(tmp_path / "staged"), False), (str(tmp_path / "datasets"), True)]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "metadata.tsv"
    atomic_write(dest, b"old")

    def half(f: object) -> None:
        f.write(b"partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(dest, half)
    assert dest.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["metadata.tsv"]


def test_temp_names_are_unique_per_writer_and_concurrent_writers_never_mix(tmp_path: Path) -> None:
    dest = tmp_path / "graph.npy"
    assert len({temp_name(dest) for _ in range(1000)}) == 1000
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    start = threading.Barrier(len(payloads))

    def write(data: bytes) -> None:
        start.wait()
        for _ in range(5):
            atomic_write(dest, data)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dest.read_bytes() in payloads  # one writer's whole file, never a mix or a truncation
    assert [p.name for p in tmp_path.iterdir()] == ["graph.npy"]


def test_two_jobs_saving_the_same_knn_graph_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    files = store.dir.dataset("abc")
    files.folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    graphs = [KNNGraph(rng.integers(0, 500, (500, 10)).astype(np.int32), rng.random((500, 10), np.float32), "cosine") for _ in range(4)]
    start = threading.Barrier(len(graphs))

    def save(graph: KNNGraph) -> None:
        start.wait()
        save_graph(files, graph)

    threads = [threading.Thread(target=save, args=(g,)) for g in graphs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = load_graph(files, "cosine", 10)
    assert loaded is not None and any(np.array_equal(loaded.indices, g.indices) for g in graphs)
    assert not [p for p in files.folder.iterdir() if p.name.endswith(".partial")]
    store.close()


def test_the_catalog_commits_with_synchronous_full(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    store.close()

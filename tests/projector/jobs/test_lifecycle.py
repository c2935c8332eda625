"""The lifecycle owner: states from executor messages, crashes, cancel, delete, waiting, async watchers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from projector.data.ingest import ingest
from projector.data.store import Store
from projector.jobs.executors.base import Emit, Executor, JobSpec
from projector.jobs.executors.local import LocalExecutor
from projector.jobs.lifecycle import Jobs
from tests.projector.jobs import entries


class ScriptedExecutor(Executor):
    """Runs nothing: the test drives each job's messages through `emit`."""

    def __init__(self) -> None:
        self.emits: dict[str, Emit] = {}
        self.specs: dict[str, JobSpec] = {}
        self.cancelled: list[str] = []

    def submit(self, spec: JobSpec, emit: Emit) -> None:
        self.specs[spec.pid], self.emits[spec.pid] = spec, emit

    def cancel(self, pid: str) -> None:
        self.cancelled.append(pid)

    def shutdown(self) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def dataset(store: Store) -> dict[str, Any]:
    return ingest(store, name="x", source="upload", array=np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32))


def test_messages_drive_the_states(store: Store, dataset: dict[str, Any]) -> None:
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
    spec, emit = executor.specs[pid], executor.emits[pid]
    assert spec.dataset == dataset["id"] and spec.data_dir == str(store.root) and jobs.get(pid)["status"] == "queued"
    emit(("running",))
    emit(("progress", 0.5, 7))
    emit(("frame", 7, (40, 2), np.ones((40, 2), "<f4").tobytes()))
    assert jobs.get(pid)["status"] == "running" and jobs.get(pid)["progress"] == 0.5 and jobs.started == 1
    data, shape, iteration = jobs.coords(pid)
    assert shape == (40, 2) and iteration == 7 and len(data) == 40 * 2 * 4
    assert store.get_projection(pid)["status"] == "running"  # progress stays in memory, status is in the catalog
    np.save(store.coords_path(pid), np.zeros((40, 2), "<f4"))
    emit(("done", {"explained_variance_ratio": [0.5, 0.2]}))
    emit(("quality", {"k": 10}))
    emit(("ended", None))
    final = store.get_projection(pid)
    assert final["status"] == "done" and final["quality"] == {"k": 10} and final["explained_variance_ratio"] == [0.5, 0.2]
    assert jobs.live(pid) is None and jobs.get(pid) == final


def test_an_ending_without_a_result_is_a_failure(store: Store, dataset: dict[str, Any]) -> None:
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
    executor.emits[pid](("running",))
    executor.emits[pid](("ended", "exit code 3"))
    failed = jobs.get(pid)
    assert failed["status"] == "failed" and "exit code 3" in failed["error"]


def test_cancel_and_delete(store: Store, dataset: dict[str, Any]) -> None:
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
    assert jobs.cancel(pid)["status"] == "cancelled" and executor.cancelled == [pid]
    executor.emits[pid](("progress", 0.9, 1))  # late messages change nothing
    assert jobs.get(pid)["status"] == "cancelled"
    other = jobs.request(dataset["id"], "pca", 3, {})["id"]
    jobs.delete_dataset(dataset["id"])
    assert other in executor.cancelled and store.list_datasets() == []


def test_async_watchers_wake_on_changes(store: Store, dataset: dict[str, Any]) -> None:
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    pid = jobs.request(dataset["id"], "pca", 2, {})["id"]

    running_seen = threading.Event()

    async def follow() -> list[Any]:
        seen = []
        async for projection in jobs.changes(pid, keepalive=30):
            seen.append(projection and projection["status"])
            if len(seen) == 1:  # change the job from another thread, as an executor does
                threading.Thread(target=drive).start()
            if seen[-1] == "running":
                running_seen.set()
        return seen

    def drive() -> None:
        executor.emits[pid](("running",))
        # Changes that come faster than the loop wakes are coalesced (the latest state is sent): wait for this one.
        running_seen.wait(10)
        executor.emits[pid](("error", "boom"))

    seen = asyncio.run(asyncio.wait_for(follow(), 10))
    assert seen[0] == "queued" and seen[-1] == "failed" and "running" in seen


def test_a_crashing_worker_is_marked_failed(store: Store, dataset: dict[str, Any]) -> None:
    jobs = Jobs(store, LocalExecutor(entry=entries.crash))
    try:
        pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
        failed = jobs.wait(pid, timeout=60)
        assert failed["status"] == "failed" and "exit code 3" in failed["error"]
    finally:
        jobs.shutdown()


def test_cancel_a_running_worker_within_a_second(store: Store, dataset: dict[str, Any]) -> None:
    executor = LocalExecutor(entry=entries.sleep_forever)
    jobs = Jobs(store, executor)
    try:
        pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
        deadline = time.monotonic() + 60
        while jobs.get(pid)["progress"] != 0.1 and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        assert jobs.cancel(pid)["status"] == "cancelled"
        while executor._stop and time.monotonic() - started < 5:  # the process is gone once its job leaves
            time.sleep(0.02)
        assert not executor._stop and time.monotonic() - started < 1.0
        assert store.get_projection(pid)["status"] == "cancelled"
    finally:
        jobs.shutdown()


def test_a_worker_error_is_reported(store: Store, dataset: dict[str, Any]) -> None:
    jobs = Jobs(store, LocalExecutor(entry=entries.fail))
    try:
        pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
        assert jobs.wait(pid, timeout=60)["error"] == "told to fail"
    finally:
        jobs.shutdown()

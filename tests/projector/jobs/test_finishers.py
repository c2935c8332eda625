"""A task's server-side last step (clusters: the metadata column) runs on a thread of its own: the
executor's emit thread is not held while it runs, messages that arrive meanwhile are delivered
after its outcome and in order, and the job is done only once the step has finished."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from projector.data.atomic import atomic_write
from projector.data.ingest import ingest
from projector.data.store import Store
from projector.jobs import clusters, lifecycle
from projector.jobs.lifecycle import Jobs
from tests.projector.jobs.test_lifecycle import ScriptedExecutor


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "data")
    yield store
    store.close()


def _join_finishers() -> None:
    """Wait for the finisher threads (they deliver the deferred messages after the outcome)."""
    for thread in threading.enumerate():
        if thread.name.startswith("projector-finish-"):
            thread.join(10)


def _finished_projection(store: Store, jobs: Jobs, executor: ScriptedExecutor) -> tuple[str, str]:
    dataset = ingest(store, name="x", source="upload", array=np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32))
    pid = jobs.request(dataset["id"], "pca", 2, {})["id"]
    atomic_write(store.coords_path(pid), lambda f: np.save(f, np.zeros((40, 2), "<f4")))
    for message in [("running",), ("done", {}), ("ended", None)]:
        executor.emits[pid](message)
    return dataset["id"], pid


def test_the_finisher_runs_off_the_emit_thread(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    release, entered = threading.Event(), threading.Event()
    threads: list[str] = []

    def slow_finish(store: Store, job: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        entered.set()
        assert release.wait(10)
        return clusters.finish_clusters(store, job, result)

    monkeypatch.setitem(lifecycle.FINISHERS, clusters.CLUSTERS, slow_finish)
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    dataset_id, pid = _finished_projection(store, jobs, executor)
    cid = clusters.request_clusters(jobs, pid, {"min_cluster_size": 5})["id"]
    emit = executor.emits[cid]
    atomic_write(store.coords_path(cid), lambda f: np.save(f, (np.arange(40) % 3 - 1).astype("<i4")))
    emit(("running",))
    result = {"column": jobs.get(cid)["params"]["column"], "label_column": None, "noise": 14, "clusters": []}
    emit(("done", result))  # returns at once: the finisher waits on `release` on its own thread
    assert entered.wait(10) and threads[0] != threading.current_thread().name
    emit(("quality", {}))
    emit(("ended", None))
    assert jobs.get(cid)["status"] == "running"  # not done before its column is written
    release.set()
    _join_finishers()
    final = jobs.get(cid)
    assert final["status"] == "done" and final["quality"] == {}
    column = result["column"]
    assert column in store.get_dataset(dataset_id)["columns"]
    assert store.metadata(dataset_id).column(column)[:4] == ["-1", "0", "1", "-1"]


def test_a_failing_finisher_fails_the_job(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(store: Store, job: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        raise OSError("disk full")

    monkeypatch.setitem(lifecycle.FINISHERS, clusters.CLUSTERS, broken)
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor)
    _, pid = _finished_projection(store, jobs, executor)
    cid = clusters.request_clusters(jobs, pid, {})["id"]
    for message in [("running",), ("done", {"column": "c"}), ("quality", {}), ("ended", None)]:
        executor.emits[cid](message)
    _join_finishers()
    final = jobs.get(cid)
    assert final["status"] == "failed" and "disk full" in final["error"]

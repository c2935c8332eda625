"""The Dask executor on a LocalCluster of two single-thread worker processes, through the API:
PCA, t-SNE and UMAP run on the workers with progress and frames; cancel kills the work; a killed
worker is retried elsewhere or reported; the start-up checks; no `distributed` without a scheduler."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.api.app import create_app
from projector.settings import Settings
from tests.conftest import npy_bytes, wait_done

distributed = pytest.importorskip("distributed")

from projector import cli  # noqa: E402
from projector.data.layout import DataDir  # noqa: E402
from projector.jobs import graphs, run, worker  # noqa: E402
from projector.jobs.executors import dask as dask_executor  # noqa: E402
from projector.jobs.executors.base import JobSpec  # noqa: E402
from projector.jobs.executors.dask_worker import GRAPH_BLOCKS, ClusterBlocks, JobContext  # noqa: E402
from projector.jobs.graph_blocks import run_blocks_here, write_graph  # noqa: E402
from reducers.knn_blocks import plan_graph  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
TSNE = {"perplexity": 10.0, "n_iter": 300, "exaggeration_iter": 100}
LONG_TSNE = {"perplexity": 30.0, "n_iter": 5000, "exaggeration_iter": 250}  # runs far longer than a test waits


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def probe(cluster: Any) -> Iterator[Any]:
    """The test's own client, to look at the workers' processes."""
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        yield client


@pytest.fixture
def make_api(cluster: Any, tmp_path: Path) -> Iterator[Callable[[], TestClient]]:
    opened: list[TestClient] = []

    def make() -> TestClient:
        settings = Settings(data_dir=tmp_path / "data", demo=False, scheduler=cluster.scheduler_address)
        api = TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False)
        api.__enter__()
        opened.append(api)
        return api

    yield make
    for api in opened:
        api.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[[], TestClient]) -> TestClient:
    return make_api()


def upload(api: TestClient, vectors: np.ndarray) -> str:
    response = api.post("/api/datasets", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def start(api: TestClient, dataset_id: str, method: str, **params: Any) -> str:
    response = api.post(f"/api/datasets/{dataset_id}/projections", json={"method": method, "dims": 2, "params": params})
    assert response.status_code in (200, 202), response.text
    return str(response.json()["id"])


def settled(api: TestClient, pid: str, timeout: float = 600) -> dict[str, Any]:
    projection = wait_done(api, pid, timeout)
    deadline = time.monotonic() + 30
    while projection["status"] == "done" and not projection["quality"] and time.monotonic() < deadline:
        time.sleep(0.05)
        projection = api.get(f"/api/projections/{pid}").json()
    return projection


def running_on(api: TestClient, pid: str, timeout: float = 600) -> str:
    """The worker the job runs on, once its process has made progress there."""
    executor = api.app.state.jobs.executor  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        projection = api.get(f"/api/projections/{pid}").json()
        assert projection["status"] in ("queued", "running"), projection
        where = executor.where(pid)
        if where is not None and projection["progress"] > 0:
            return str(where)
        time.sleep(0.05)
    raise AssertionError(f"projection {pid} did not start in {timeout} s")


def job_processes(probe: Any, worker: str) -> list[int]:
    return list(probe.run(lambda: [p.pid for p in multiprocessing.active_children()], workers=[worker])[worker])


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pca_tsne_and_umap_run_on_the_workers(api: TestClient, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    executor = api.app.state.jobs.executor  # type: ignore[attr-defined]
    assert isinstance(executor, dask_executor.DaskExecutor)

    def not_here(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("heavy work ran in the server process")

    for module, name in ((worker, "execute"), (worker, "measure_quality"), (run, "execute"), (run, "measure_quality")):
        monkeypatch.setattr(module, name, not_here)  # the job, its quality score...
    monkeypatch.setattr(graphs, "build_graph_cache", not_here)  # ...and its kNN graph run on the workers only
    seen: list[tuple[Any, ...]] = []
    submit = executor.submit

    def recording(spec: Any, emit: Callable[[Any], None]) -> None:
        submit(spec, lambda message: (seen.append((spec.method, message[0], *message[1:3])), emit(message)))

    monkeypatch.setattr(executor, "submit", recording)
    dataset_id = upload(api, vectors)
    for method, params in (("pca", {}), ("tsne", TSNE), ("umap", {"n_neighbors": 10, "n_epochs": 100})):
        projection = settled(api, start(api, dataset_id, method, **params))
        assert projection["status"] == "done", projection
        assert set(projection["quality"]) >= {"knn_preservation", "trustworthiness"}
        coords = np.frombuffer(api.get(f"/api/projections/{projection['id']}/coords").content, "<f4")
        assert coords.shape == (2 * len(vectors),) and np.isfinite(coords).all()
        assert wait_for(lambda method=method: (method, "ended") in [(m, kind) for m, kind, *_ in seen], timeout=30)
        kinds = [kind for m, kind, *_ in seen if m == method]
        assert kinds[0] == "running" and kinds[-1] == "ended" and kinds.count("ended") == 1
        assert kinds.index("done") < kinds.index("quality") and "progress" in kinds
    tsne = [rest for m, kind, *rest in seen if m == "tsne" and kind == "frame"]
    assert tsne and all(shape == (len(vectors), 2) for _, shape in tsne)  # live frames came through the data dir
    assert settled(api, start(api, dataset_id, "tsne", **TSNE))["status"] == "done"  # the cache answers
    assert not list((api.app.state.store.root / "tmp").iterdir())  # type: ignore[attr-defined]


def test_cancel_kills_the_job_process_on_its_worker(api: TestClient, probe: Any) -> None:
    rng = np.random.default_rng(1)
    dataset_id = upload(api, rng.normal(size=(3000, 16)).astype(np.float32))
    pid = start(api, dataset_id, "tsne", **LONG_TSNE)
    worker = running_on(api, pid)
    children = job_processes(probe, worker)
    assert children
    cancelled = time.monotonic()
    assert api.delete(f"/api/projections/{pid}").json()["status"] == "cancelled"
    assert wait_for(lambda: all(gone(child) for child in children), timeout=2.0), "the job's process still runs 2 s after the cancel"
    assert wait_for(lambda: probe.run(lambda dask_worker: dask_worker.state.executing_count, workers=[worker])[worker] == 0, 2.0)
    print(f"cancel → job process gone in {time.monotonic() - cancelled:.2f} s")


def test_graph_blocks_run_as_cluster_tasks_and_equal_the_local_graph(cluster: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(12, 8)) * 4)[rng.integers(0, 12, 3000)] + rng.normal(size=(3000, 8))
    data = DataDir(tmp_path)
    files = data.dataset("blocks")
    files.folder.mkdir(parents=True)
    np.save(files.tensor, X.astype(np.float32))
    X = np.load(files.tensor, mmap_mode="r")
    plan = plan_graph(X, 15, max_block_rows=1024)
    assert len(plan.blocks) > 2
    sent: list[tuple[Any, ...]] = []
    key = "projector-job-blocks-0001"
    write_graph(
        files,
        "euclidean",
        15,
        len(X),
        ClusterBlocks(JobContext(os.getpid(), cluster.scheduler_address, key), data, sent.append)(X, files.tensor, plan),
    )
    assert sent == [(GRAPH_BLOCKS, True), (GRAPH_BLOCKS, False)]  # the job task left its thread to the blocks meanwhile
    assert not data.graph_work(key).folder.exists()
    indices = np.load(files.graph("euclidean", 15)[0])
    local = np.empty_like(indices)
    for rows, block_indices, _ in run_blocks_here(X, files.tensor, plan):
        local[rows] = block_indices
    np.testing.assert_array_equal(indices, local)


def test_a_worker_that_cannot_see_the_data_dir_is_named(cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_executor, "atomic_write", lambda path, content: None)  # the token never lands
    with pytest.raises(dask_executor.ClusterError) as error:
        dask_executor.DaskExecutor(cluster.scheduler_address, tmp_path / "data")
    assert "cannot see the data dir" in error.value.detail and "tcp://" in error.value.detail


def test_serve_with_an_unreachable_scheduler_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dask_executor, "CONNECT_SECONDS", 0.5)
    monkeypatch.setenv("PROJECTOR_SCHEDULER", "tcp://127.0.0.1:9")
    assert cli.main(["serve", "--data-dir", str(tmp_path / "data"), "--port", "0", "--no-warm-up"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("projector: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9") and err.count("\n") == 1


def test_without_a_scheduler_distributed_is_never_imported(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys
        from starlette.testclient import TestClient
        from projector.api.app import create_app
        from projector.settings import Settings
        from tests.conftest import npy_bytes, wait_done
        import numpy as np
        with TestClient(create_app(Settings(data_dir={str(tmp_path)!r}, demo=False, warm_up=False)), base_url="http://127.0.0.1") as api:
            body = npy_bytes(np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32))
            dataset = api.post("/api/datasets", content=body, headers={{"Content-Type": "application/x-npy"}}).json()
            pid = api.post(f"/api/datasets/{{dataset['id']}}/projections", json={{"method": "pca", "dims": 2}}).json()["id"]
            assert wait_done(api, pid, timeout=600)["status"] == "done"
        assert "distributed" not in sys.modules, "distributed was imported"
        import projector.jobs.executors.dask  # with --scheduler the server imports it: still no numeric stack
        heavy = set(sys.modules) & set(["numba", "sklearn", "umap", "projector.jobs.executors.dask_worker"])
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_killed_worker_is_retried_elsewhere_or_reported(api: TestClient, probe: Any) -> None:
    rng = np.random.default_rng(2)
    dataset_id = upload(api, rng.normal(size=(3000, 16)).astype(np.float32))
    pid = start(api, dataset_id, "tsne", **LONG_TSNE)
    lost = running_on(api, pid)
    children = job_processes(probe, lost)
    os.kill(probe.run(os.getpid, workers=[lost])[lost], signal.SIGKILL)
    executor = api.app.state.jobs.executor  # type: ignore[attr-defined]

    def retried_or_failed() -> bool:
        projection = api.get(f"/api/projections/{pid}").json()
        return projection["status"] == "failed" or executor.where(pid) not in (None, lost)

    assert wait_for(retried_or_failed, timeout=60), api.get(f"/api/projections/{pid}").json()
    projection = api.get(f"/api/projections/{pid}").json()
    assert projection["status"] == "running" or "a worker was lost" in projection["error"], projection
    assert wait_for(lambda: all(gone(child) for child in children), timeout=5.0), "the lost worker's job process outlived it"
    api.delete(f"/api/projections/{pid}")


class Scheduler:
    """A Dask scheduler in a thread of the test, stopped and started again at the same address."""

    def __init__(self) -> None:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = free.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.stopped = asyncio.Event()

        async def serve() -> None:
            async with distributed.Scheduler(host="127.0.0.1", port=self.port, dashboard_address=None):
                ready.set()
                await self.stopped.wait()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(serve(),), daemon=True)
        self.thread.start()
        assert ready.wait(30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopped.set)
        self.thread.join(30)


def test_a_lost_scheduler_fails_jobs_keeps_reads_and_is_reconnected(tmp_path: Path) -> None:
    scheduler = Scheduler()
    scheduler.start()
    settings = Settings(data_dir=tmp_path / "data", demo=False, scheduler=scheduler.address, warm_up=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as api:
        executor = api.app.state.jobs.executor  # type: ignore[attr-defined]
        dataset_id = upload(api, np.random.default_rng(4).normal(size=(50, 4)).astype(np.float32))
        pid = start(api, dataset_id, "pca")  # no worker: it waits on the scheduler
        scheduler.stop()
        projection = wait_done(api, pid, timeout=30)
        assert projection["status"] == "failed" and "connection to the Dask scheduler" in projection["error"], projection
        assert api.get(f"/api/datasets/{dataset_id}").status_code == 200  # reads go on
        assert api.get("/api/health?ready=1").status_code == 503
        failed = wait_done(api, start(api, dataset_id, "pca", components=[1, 2]), timeout=30)
        assert failed["status"] == "failed" and "is unreachable" in failed["error"], failed
        scheduler.start()
        assert wait_for(lambda: api.get("/api/health?ready=1").status_code == 200, timeout=30)
        received: list[Any] = []
        key = "projector-job-reconnected-0001"
        executor._runs[key] = dask_executor._Run(JobSpec("p", "d", str(tmp_path), "pca", 2), received.append, key)
        with distributed.Client(scheduler.address, set_as_default=False) as other:
            assert wait_for(lambda: (other.log_event(executor.topic, [key, "progress", 0.5, 7]), received)[1] != [], timeout=10)
        assert received[0] == ("progress", 0.5, 7)  # events reach the server again
        scheduler.stop()

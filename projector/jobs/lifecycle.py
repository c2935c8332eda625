"""Projection jobs: a bounded pool, each job in its own process, with progress, frames and cancel.

A job runs in a child process forked from a forkserver that has numpy and the reducers already
imported, so it starts in milliseconds, cannot block the event loop, and can be killed at once.
The server keeps each live job's state in memory and writes only status changes to the catalog.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from projector.data.store import INTERRUPTED, Store

POLL_SECONDS = 0.1
TERMINAL = ("done", "failed", "cancelled")


@dataclass
class Job:
    pid: str
    spec: dict[str, Any]
    status: str = "queued"
    progress: float = 0.0
    iteration: int = 0
    error: str | None = None
    frame: bytes | None = None
    frame_shape: tuple[int, int] | None = None
    frame_iteration: int = 0
    version: int = 0
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def snapshot(self) -> dict[str, Any]:
        return {"status": self.status, "progress": self.progress, "iteration": self.iteration, "error": self.error}


# Imported once by the forkserver, so every job process starts with them loaded (imports only:
# nothing runs there, so no thread pool exists yet when a job is forked).
PRELOAD = ["projector.jobs.worker", "reducers.tsne", "reducers.umap_adapter", "reducers.quality"]


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class JobManager:
    """Runs at most `workers` projections at once; the rest wait in a queue."""

    def __init__(self, store: Store, workers: int = 1, warm_up: bool = False) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="projector-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ctx = _context()
        self._stopping = threading.Event()
        self.started = 0  # jobs that actually ran a worker process (tests count cache hits with it)
        self.warm_up_process: multiprocessing.process.BaseProcess | None = None
        if warm_up:
            # Starts the forkserver now (so the first job does not pay its imports) and fills
            # Numba's on-disk cache in a throwaway process, off the request path.
            self.warm_up_process = self._ctx.Process(target=_warm_up_entry, name="projector-warm-up", daemon=True)
            self.warm_up_process.start()

    def submit(self, projection: dict[str, Any]) -> None:
        pid = projection["id"]
        dataset = projection["dataset"]
        spec = {
            "tensor": str(self.store.dataset_dir(dataset) / "tensor.npy"),
            "method": projection["method"],
            "dims": projection["dims"],
            "params": projection["params"],
            "out": str(self.store.coords_path(pid)),
        }
        job = Job(pid, spec)
        with self._lock:
            self._jobs[pid] = job
        self._pool.submit(self._run, job)

    def get(self, pid: str) -> Job | None:
        with self._lock:
            return self._jobs.get(pid)

    def cancel(self, pid: str) -> bool:
        """Ask a queued or running job to stop; True if there was one."""
        job = self.get(pid)
        if job is None or job.status in TERMINAL:
            return False
        job.cancel_requested.set()
        if job.status == "queued":
            self._finish(job, "cancelled", None)
        return True

    def wait(self, pid: str, timeout: float | None = None) -> str:
        """Block until a job ends; returns its final status (for the CLI and tests)."""
        job = self.get(pid)
        if job is None:
            return str(self.store.get_projection(pid)["status"])
        with _changes:
            _changes.wait_for(lambda: job.status in TERMINAL, timeout)
        return job.status

    def shutdown(self) -> None:
        """Stop every worker now; unfinished jobs are recorded as interrupted."""
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.status == "queued":
                self._finish(job, "failed", INTERRUPTED)
        if self.warm_up_process is not None and self.warm_up_process.is_alive():
            self.warm_up_process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- inside the pool ----------------------------------------------------------------------

    def _update(self, job: Job, **fields: Any) -> None:
        with _changes:
            for name, value in fields.items():
                setattr(job, name, value)
            job.version += 1
            _changes.notify_all()

    def _finish(self, job: Job, status: str, error: str | None, result: dict[str, Any] | None = None) -> None:
        if job.status in TERMINAL:
            return
        fields: dict[str, Any] = {"status": status, "error": error, "progress": 1.0 if status == "done" else job.progress}
        update = {**fields, "iteration": job.iteration}
        if result is not None:
            update["result"] = result
        self.store.update_projection(job.pid, **update)
        self._update(job, **fields)
        if status != "cancelled":
            job.frame = None  # the finished coordinates are on disk now

    def _run(self, job: Job) -> None:
        if job.cancel_requested.is_set() or job.status in TERMINAL or self._stopping.is_set():
            return
        self.store.update_projection(job.pid, status="running")
        self._update(job, status="running")
        self.started += 1
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_worker_entry, args=(sender, job.spec), daemon=True)
        try:
            process.start()
            sender.close()
            self._pump(job, process, receiver)
        except Exception as exc:  # the pipe or the process itself failed
            self._finish(job, "failed", f"the projection worker failed: {exc}")
        finally:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            receiver.close()
            if job.status not in TERMINAL:
                code = process.exitcode
                self._finish(job, "failed", f"the projection worker stopped unexpectedly (exit code {code})")
            if job.status != "cancelled":  # a cancelled job keeps its last frame to show; others are on disk
                with self._lock:
                    self._jobs.pop(job.pid, None)

    def _pump(self, job: Job, process: multiprocessing.process.BaseProcess, receiver: Any) -> None:
        while True:
            if job.cancel_requested.is_set() or self._stopping.is_set():
                process.kill()
                if job.cancel_requested.is_set():
                    self._finish(job, "cancelled", None)
                else:
                    self._finish(job, "failed", INTERRUPTED)
                return
            if not receiver.poll(POLL_SECONDS):
                if not process.is_alive() and not receiver.poll(0):
                    return
                continue
            try:
                message = receiver.recv()
            except EOFError:
                return
            kind = message[0]
            if kind == "progress":
                self._update(job, progress=message[1], iteration=max(job.iteration, message[2]))
            elif kind == "frame":
                _, iteration, shape, data = message
                self._update(job, frame=data, frame_shape=tuple(shape), frame_iteration=iteration, iteration=max(job.iteration, iteration))
            elif kind == "done":
                self._finish(job, "done", None, message[1])  # keep listening: the quality score follows
            elif kind == "quality":
                self.store.update_projection(job.pid, result={"quality": message[1]})
                self._update(job)
                return
            elif kind == "error":
                self._finish(job, "failed", message[1])
                return


# One condition for all job changes: waiters (SSE streams, `wait`) re-check their own job.
_changes = threading.Condition()


def _worker_entry(conn: Any, spec: dict[str, Any]) -> None:
    from projector.jobs.worker import run

    run(conn, spec)


def _warm_up_entry() -> None:
    import logging

    from reducers.warmup import warm_up

    seconds = warm_up()
    logging.getLogger("projector").info("warm-up done: %s", seconds)

"""The one owner of a projection's life: queued → running → done / failed / cancelled.

`Jobs` validates a request, claims its catalog row (the cache), hands the work to an executor
(projector.jobs.executors), turns the executor's messages into states, progress, frames, results
and quality, and is the one place where the catalog row and the live state are merged. The
server and `projector project` both use it. Waiters are woken on every change: threads through
a condition, asyncio tasks (the SSE stream) through an event set on their own loop.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from projector.data.store import INTERRUPTED, Store
from projector.errors import Conflict, InvalidParameter, NotFound, ProjectorError, TooManyRequests
from projector.jobs.clusters import FINISHERS
from projector.jobs.executors.base import Executor, JobSpec, Message
from projector.jobs.methods import check_dims, get_method

TERMINAL = ("done", "failed", "cancelled")
log = logging.getLogger("projector.jobs")
STORE_POLL_SECONDS = 0.5  # only for a job another process runs (e.g. `projector project` beside a server)
KEPT_CANCELLED = 16  # cancelled jobs whose last frame stays in memory to be shown; older ones are dropped
QUEUE_RETRY_SECONDS = 10


@dataclass(frozen=True)
class Frame:
    """The latest coordinates of a running (or cancelled) job: little-endian float32 bytes."""

    data: bytes
    shape: tuple[int, int]
    iteration: int


@dataclass
class Job:
    """A projection this process runs: its catalog object (`row`) kept current with the live state."""

    row: dict[str, Any]
    frame: Frame | None = None
    version: int = 0  # bumped on every change; waiters compare it
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None  # when its work started (time.monotonic)
    watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)
    finishing: bool = False  # its server-side last step (FINISHERS) runs on its own thread
    deferred: list[Message] = field(default_factory=list)  # messages that arrived meanwhile, delivered after it

    @property
    def status(self) -> str:
        return str(self.row["status"])


class Jobs:
    """Projection jobs of one data dir, run by `executor`; at most `max_queued` wait for a worker."""

    def __init__(self, store: Store, executor: Executor, max_queued: int | None = None) -> None:
        self.store = store
        self.executor = executor
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._cancelled: collections.deque[tuple[str, Job]] = collections.deque()
        self._admission = threading.Lock()  # between counting the queue and taking a place in it
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.started = 0  # jobs whose work actually started (tests count cache hits with it)
        self.on_finish: list[Callable[[dict[str, Any], float], None]] = []  # (projection, seconds it ran), e.g. metrics

    # -- requests -----------------------------------------------------------------------------

    def request(self, dataset_id: str, method_name: Any, dims: Any, params: Any) -> dict[str, Any]:
        """Validate a projection request and start it unless the cache has it; returns the projection."""
        dataset = self.store.get_dataset(dataset_id)
        method = get_method(method_name)
        dims = check_dims(dims)
        if not isinstance(params, dict):
            raise InvalidParameter("`params` must be a JSON object")
        params = method.normalize(dims, params, dataset["n"], dataset["dim"])
        if params.get("init_from"):
            self._check_init_from(params["init_from"], dataset["n"], dims)
        return self.start(dataset["id"], method.name, dims, params)

    def start(self, dataset_id: str, method: str, dims: int, params: dict[str, Any]) -> dict[str, Any]:
        """Start a validated job (a projection, or a task such as clusters) unless the cache has it; returns it."""
        with self._admission:
            if self.max_queued is not None and self.queued() >= self.max_queued:
                cached = self.store.cached_projection(dataset_id, method, dims, params)
                if cached is None:
                    raise TooManyRequests(
                        f"{self.queued()} projections are already waiting (--max-queued-jobs); try again later",
                        code="queue_full", retry_after=QUEUE_RETRY_SECONDS,
                    )  # fmt: skip
                return self.get(cached["id"])
            projection, needs_run = self.store.claim_projection(dataset_id, method, dims, params)
            if needs_run:
                self.submit(projection)
        return self.get(projection["id"])

    def queued(self) -> int:
        """Jobs of this process waiting for a worker."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.status == "queued")

    def _check_init_from(self, pid: str, n: int, dims: int) -> None:
        """A layout to start from must be a finished projection with the same number of points and dims."""
        try:
            start = self.store.get_projection(pid)
        except NotFound:
            raise InvalidParameter(f"parameter `init_from`: no projection {pid!r}") from None
        start_n = self.store.get_dataset(start["dataset"])["n"]
        if start["status"] != "done" or start_n != n or start["dims"] != dims:
            raise InvalidParameter(
                f"parameter `init_from`: projection {pid} must be done with {n} points in {dims}D"
                f" (it is {start['status']}, {start_n} points in {start['dims']}D)"
            )

    def submit(self, projection: dict[str, Any]) -> None:
        """Hand a claimed (queued) projection to the executor."""
        pid = projection["id"]
        job = Job(dict(projection))
        with self._lock:
            self._jobs[pid] = job
        spec = JobSpec(pid, projection["dataset"], str(self.store.root), projection["method"], projection["dims"], projection["params"])
        self.executor.submit(spec, lambda message: self._on_message(job, message))

    # -- reads --------------------------------------------------------------------------------

    def live(self, pid: str) -> dict[str, Any] | None:
        """The projection object of a job this process runs, from memory (no catalog read)."""
        with self._lock:
            job = self._jobs.get(pid)
            return dict(job.row) if job is not None else None

    def get(self, pid: str) -> dict[str, Any]:
        """The projection object: the live job's if this process runs it, else the catalog's."""
        return self.live(pid) or self.store.get_projection(pid)

    def list(self, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's projections (tasks such as clusters jobs are not listed)."""
        return [self.live(p["id"]) or p for p in self.store.projections_for(dataset_id) if p["method"] not in FINISHERS]

    def coords(self, pid: str) -> tuple[bytes | np.ndarray, tuple[int, ...], int]:
        """(float32 coordinates, shape, iteration): the result once done, else the latest frame."""
        projection = self.get(pid)
        if projection["method"] in FINISHERS:
            raise NotFound(f"{pid} is a {projection['method']} job, not a projection")
        if projection["status"] == "done":
            coords = self.store.load_coords(pid)
            return coords, coords.shape, int(projection["iteration"])
        with self._lock:
            job = self._jobs.get(pid)
            frame = job.frame if job is not None else None
        if frame is not None:
            return frame.data, frame.shape, frame.iteration
        state = projection["status"]
        detail = f"projection {pid} is {state}" + (f": {projection['error']}" if projection["error"] else "; no frame yet")
        raise Conflict(detail, code="not_ready" if state in ("queued", "running") else state)

    # -- cancel and delete --------------------------------------------------------------------

    def cancel(self, pid: str) -> dict[str, Any]:
        """Stop a queued or running job now; returns the projection."""
        self.store.get_projection(pid)
        with self._lock:
            job = self._jobs.get(pid)
            running = job is not None and job.status not in TERMINAL
            if running:
                self._finish(pid, "cancelled", None)
        if running:
            self.executor.cancel(pid)
        return self.get(pid)

    def delete_dataset(self, dataset_id: str) -> None:
        """Cancel the dataset's jobs, then delete it and its projections' files."""
        pids = [projection["id"] for projection in self.store.projections_for(dataset_id)]
        for pid in pids:
            self.cancel(pid)
        self.store.delete_dataset(dataset_id)
        with self._lock:
            for pid in pids:
                job = self._jobs.pop(pid, None)
                if job is not None:
                    self._notify(job)

    def shutdown(self) -> None:
        """Stop every job now; unfinished ones are recorded as interrupted."""
        with self._lock:
            for pid, job in list(self._jobs.items()):
                if job.status not in TERMINAL:
                    self._finish(pid, "failed", INTERRUPTED)
        self.executor.shutdown()

    # -- waiting ------------------------------------------------------------------------------

    def wait(
        self, pid: str, timeout: float | None = None, on_change: Callable[[dict[str, Any]], None] | None = None,
        settled: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Block until the job ends (with `settled`, until its quality score is in too); returns the projection."""
        deadline = None if timeout is None else time.monotonic() + timeout
        version = -1
        while True:
            with self._lock:
                job = self._jobs.get(pid)
                if job is not None and job.version == version:
                    self._changed.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
                    job = self._jobs.get(pid)
                current = dict(job.row) if job is not None else None
                version = job.version if job is not None else -1
                done = job is None or (job.status in TERMINAL and not (settled and job.status == "done"))
            if current is None:
                current = self.store.get_projection(pid)
                done = current["status"] in TERMINAL
                if not done:
                    time.sleep(STORE_POLL_SECONDS)
            if on_change is not None:
                on_change(current)
            if done:
                return current
            if deadline is not None and time.monotonic() >= deadline:
                return current

    async def changes(self, pid: str, keepalive: float) -> AsyncIterator[dict[str, Any] | None]:
        """The projection now and after every change, until it ends; None after `keepalive` quiet seconds."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        watcher = (loop, event)
        with self._lock:
            job = self._jobs.get(pid)
            if job is not None:
                job.watchers.add(watcher)
        try:
            while True:
                event.clear()
                try:
                    current = self.live(pid)
                    if current is None:
                        current = await asyncio.to_thread(self.store.get_projection, pid)
                except NotFound:  # deleted with its dataset
                    return
                yield current
                if current["status"] in TERMINAL:
                    return
                if job is None:  # another process runs it: look again at the keep-alive pace
                    await asyncio.sleep(keepalive)
                    yield None
                    continue
                try:
                    await asyncio.wait_for(event.wait(), keepalive)
                except asyncio.TimeoutError:
                    yield None
        finally:
            if job is not None:
                with self._lock:
                    job.watchers.discard(watcher)

    # -- messages from the executor -----------------------------------------------------------

    def _on_message(self, job: Job, message: Message, finished: bool = False) -> None:
        kind = message[0]
        pid = job.row["id"]
        if kind == "done" and not finished and job.row["method"] in FINISHERS and job.status not in TERMINAL:
            # Its last step (clusters: a metadata column, seconds at 1M rows) on a thread of its own:
            # the executor's emit thread (one for every Dask job) goes on delivering meanwhile.
            with self._lock:
                job.finishing = True
            threading.Thread(target=self._run_finisher, args=(job, message[1]), name=f"projector-finish-{pid}", daemon=True).start()
            return
        if not finished:
            with self._lock:
                if job.finishing:  # after the finisher's outcome, in order
                    job.deferred.append(message)
                    return
        with self._lock:
            if self._jobs.get(pid) is not job:  # gone, or a retry of the same projection has replaced it
                return
            if kind == "ended":
                if job.status not in TERMINAL:
                    self._finish(pid, "failed", f"the projection worker stopped unexpectedly ({message[1] or 'no reason given'})")
                if job.status != "cancelled":  # finished coordinates are on disk
                    self._jobs.pop(pid, None)
                else:  # a cancelled job keeps its last frame to show, for the last few only
                    self._cancelled.append((pid, job))
                    while len(self._cancelled) > KEPT_CANCELLED:
                        old_pid, old_job = self._cancelled.popleft()
                        if self._jobs.get(old_pid) is old_job:
                            del self._jobs[old_pid]
                self._notify(job)
                return
            if kind == "quality":
                self.store.update_projection(pid, result={"quality": message[1]})
                job.row["quality"] = message[1]
            elif job.status in TERMINAL:
                return  # late messages of a cancelled job
            elif kind == "running":
                self.store.update_projection(pid, status="running")
                job.row["status"] = "running"
                self.started += 1
                job.started_at = time.monotonic()
                waited = job.started_at - job.queued_at
                log.info("projection %s started: %s of dataset %s, queued %.2f s", pid, _title(job.row), job.row["dataset"], waited)
            elif kind == "progress":
                job.row["progress"] = message[1]
                job.row["iteration"] = max(job.row["iteration"], message[2])
            elif kind == "frame":
                _, iteration, shape, data = message
                job.frame = Frame(data, (int(shape[0]), int(shape[1])), iteration)
                job.row["iteration"] = max(job.row["iteration"], iteration)
            elif kind == "done":
                self._finish(pid, "done", None, message[1])
                return
            elif kind == "error":
                self._finish(pid, "failed", message[1])
                return
            self._notify(job)

    def _run_finisher(self, job: Job, result: dict[str, Any]) -> None:
        self._on_message(job, self._finish_task(job, result), finished=True)
        while True:
            with self._lock:
                if not job.deferred:
                    job.finishing = False
                    return
                message = job.deferred.pop(0)
            self._on_message(job, message, finished=True)

    def _finish_task(self, job: Job, result: dict[str, Any]) -> Message:
        """A task's own last step on the server (e.g. clusters add a metadata column)."""
        try:
            return ("done", FINISHERS[job.row["method"]](self.store, job.row, result))
        except ProjectorError as exc:
            return ("error", exc.detail)
        except Exception as exc:
            return ("error", f"{job.row['method']} could not be saved: {type(exc).__name__}: {exc}")

    def _finish(self, pid: str, status: str, error: str | None, result: dict[str, Any] | None = None) -> None:
        """Record a terminal state in the catalog and in memory (caller holds the lock)."""
        job = self._jobs[pid]
        progress = 1.0 if status == "done" else job.row["progress"]
        update: dict[str, Any] = {"status": status, "error": error, "progress": progress, "iteration": job.row["iteration"]}
        if result is not None:
            update["result"] = result
        self.store.update_projection(pid, **update)
        job.row = self.store.get_projection(pid)
        if status != "cancelled":
            job.frame = None  # the finished coordinates are on disk now
        seconds = time.monotonic() - (job.started_at if job.started_at is not None else job.queued_at)
        level = logging.WARNING if status == "failed" else logging.INFO
        log.log(level, "projection %s %s: %s in %.2f s%s", pid, status, _title(job.row), seconds, f" ({error})" if error else "")
        for listener in self.on_finish:
            listener(job.row, seconds)
        self._notify(job)

    def _notify(self, job: Job) -> None:
        job.version += 1
        self._changed.notify_all()
        for loop, event in list(job.watchers):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed
                job.watchers.discard((loop, event))


def _title(row: dict[str, Any]) -> str:
    return f"{row['method']} {row['dims']}D"

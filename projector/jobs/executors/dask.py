"""The Dask executor: projection jobs, their kNN graphs and quality scores on a Dask cluster.

`projector serve --scheduler ADDRESS` uses it. Each job is one task
(projector.jobs.executors.dask_worker.run_job_task) that runs the job in a child process on a
worker and sends its messages back as scheduler events on this server's topic; live frames come
through the data dir, which every worker must see at the same path (checked at start-up).

Cancel broadcasts the job's key to the workers (its task kills the job's process at once) and
cancels the task in case it has not started. A worker lost mid-job: the scheduler runs the task
again on another worker (its `allowed-failures` times), else the job fails saying a worker was
lost; so does a started job when no worker at all is left for `LOST_GRACE` seconds. A lost
scheduler: running jobs fail, new ones fail at once, reads go on, and the executor reconnects
when the scheduler is back.

`distributed` is imported when the executor is created, never by merely importing this module.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projector.data.atomic import atomic_write
from projector.data.layout import DataDir
from projector.errors import ProjectorError
from projector.jobs.executors.base import Emit, Executor, JobSpec, Message
from projector.jobs.executors.named import call_named

# What runs on the workers, named so that the server never imports it (nor the numeric stack behind it).
_WORKER = "projector.jobs.executors.dask_worker"
RUN_JOB = f"{_WORKER}:run_job_task"
CANCEL = f"{_WORKER}:cancel_on_worker"
CHECK_DATA_DIR = f"{_WORKER}:check_data_dir"
WARM_UP = f"{_WORKER}:warm_up_worker"

logger = logging.getLogger("projector")

CONNECT_SECONDS = 10.0  # to reach the scheduler at start-up
RECONNECT_SECONDS = 2.0  # per attempt once it was lost
WATCH_SECONDS = 1.0  # how often the connection and the workers are looked at
LOST_GRACE = 30.0  # seconds a started job may wait for any worker to be back before it fails
FINISHED = "finished"  # inbox marker: the job's task is over (done, failed, cancelled or lost)
WORKER_LOST = "a worker was lost: every Dask worker that ran this projection died ({detail}); see the workers' logs"
UNREACHABLE = "the Dask scheduler at {address} is unreachable; request the projection again once it is back"
NO_WORKER = "a worker was lost: the Dask worker running this projection died and no worker was left for {grace:.0f} s"


class ClusterError(ProjectorError):
    """The Dask cluster cannot be used (unreachable scheduler, a worker that does not see the data dir)."""

    status = 503
    code = "cluster_unavailable"


@dataclass
class _Run:
    """One submission of a job to the cluster (a job requested again is a new run with a new key)."""

    spec: JobSpec
    emit: Emit
    key: str
    future: Any = None
    worker: str | None = None  # where it last started
    cancelled: bool = False


class DaskExecutor(Executor):
    """Projection jobs as tasks on the Dask cluster whose scheduler is at `address`.

    Parameters:
        address: the scheduler, e.g. ``tcp://10.0.0.5:8786``.
        data_dir: the data dir, which every worker sees at this same path.
        connect_timeout: seconds to reach the scheduler before giving up (ClusterError); CONNECT_SECONDS by default.
        warm_up: have every worker start its job-process server and fill Numba's cache now.
    """

    def __init__(self, address: str, data_dir: Path, connect_timeout: float | None = None, warm_up: bool = False) -> None:
        import distributed

        self._distributed = distributed
        self.address = address
        self.data = DataDir(Path(data_dir).expanduser().resolve())
        self.topic = f"projector-{secrets.token_hex(6)}"  # this server's events only
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._inbox: queue.Queue[tuple[str, Message] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._no_workers_since: float | None = None
        self._comm: Any = None
        self._client: Any = self._connect(CONNECT_SECONDS if connect_timeout is None else connect_timeout)
        try:
            verify_data_dir(self._client, self.data)
        except BaseException:
            self._client.close()
            raise
        self._threads = [
            threading.Thread(target=self._dispatch, name="projector-dask-relay", daemon=True),
            threading.Thread(target=self._watch, name="projector-dask-watch", daemon=True),
        ]
        self._warm_up = warm_up
        for thread in self._threads:
            thread.start()
        if warm_up:
            self._background(self._warm_up_workers, self._client)

    # -- the executor seam --------------------------------------------------------------------

    def submit(self, spec: JobSpec, emit: Emit) -> None:
        key = f"projector-job-{spec.pid}-{secrets.token_hex(4)}"
        run = _Run(spec, emit, key)
        with self._lock:
            self._runs[key] = run
        client = self._live_client()
        try:
            if client is None:
                raise ConnectionError("not connected")
            future = client.submit(call_named, RUN_JOB, spec, key, self.topic, key=key, pure=False)
        except Exception:
            self._inbox.put((key, ("error", UNREACHABLE.format(address=self.address))))
            self._inbox.put((key, (FINISHED,)))
            return
        with self._lock:
            run.future = future
            cancelled = run.cancelled
        future.add_done_callback(lambda _: self._inbox.put((key, (FINISHED,))))
        if cancelled:
            self._background(self._stop_on_cluster, [run])

    def cancel(self, pid: str) -> None:
        with self._lock:
            runs = [run for run in self._runs.values() if run.spec.pid == pid and not run.cancelled]
            for run in runs:
                run.cancelled = True
        if runs:
            self._background(self._stop_on_cluster, runs)

    def shutdown(self) -> None:
        self._stopping.set()
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
        if runs:
            self._stop_on_cluster(runs)
        for run in runs:
            run.emit(("ended", "the server stopped"))
        self._inbox.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        try:
            self._client.close(timeout=5)
        except Exception:  # already gone with its scheduler
            logger.debug("closing the Dask client failed", exc_info=True)

    def problem(self) -> str | None:
        """The scheduler unreachable (no worker connected is not a problem: jobs wait for one)."""
        return None if self._live_client() is not None else f"the Dask scheduler at {self.address} is unreachable"

    def where(self, pid: str) -> str | None:
        """The address of the worker running job `pid` (None if none does yet)."""
        with self._lock:
            return next((run.worker for run in self._runs.values() if run.spec.pid == pid and run.worker), None)

    # -- the cluster --------------------------------------------------------------------------

    def _connect(self, timeout: float) -> Any:
        try:
            client = self._distributed.Client(self.address, timeout=timeout, set_as_default=False)
        except Exception as exc:
            reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: {reason}") from None
        self._subscribe(client)
        return client

    def _subscribe(self, client: Any) -> None:
        client.subscribe_topic(self.topic, self._on_event)
        self._comm = client.scheduler_comm

    def _live_client(self) -> Any:
        client = self._client
        return client if client.status == "running" else None

    def _stop_on_cluster(self, runs: list[_Run]) -> None:
        """Kill the runs' processes wherever they run, and drop their tasks if not started."""
        client = self._live_client()
        if client is None:
            return  # their tasks were cancelled with the connection
        try:
            client.run(call_named, CANCEL, [run.key for run in runs], on_error="ignore")
            client.cancel([run.future for run in runs if run.future is not None])
        except Exception:
            logger.warning("could not cancel %d job(s) on the Dask cluster", len(runs), exc_info=True)

    def _background(self, function: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=function, args=args, name="projector-dask-cancel", daemon=True).start()

    def _warm_up_workers(self, client: Any) -> None:
        try:
            client.run(call_named, WARM_UP, on_error="ignore")
        except Exception:
            logger.debug("warming the Dask workers up failed", exc_info=True)

    def _watch(self) -> None:
        """Reconnect when the scheduler is back; fail started jobs that no worker is left to run."""
        while not self._stopping.wait(WATCH_SECONDS):
            try:
                self._check_connection()
                self._check_workers()
            except Exception:
                logger.debug("checking the Dask cluster failed", exc_info=True)

    def _check_connection(self) -> None:
        client = self._client
        if client.status in ("closing", "closed"):  # it gave up reconnecting: start afresh
            try:
                fresh = self._connect(RECONNECT_SECONDS)
            except ClusterError:
                return
            self._client = fresh
            logger.warning("reconnected to the Dask scheduler at %s", self.address)
            self._background(_check_quietly, fresh, self.data)
            if self._warm_up:
                self._background(self._warm_up_workers, fresh)
        elif client.status == "running" and client.scheduler_comm is not self._comm:
            self._subscribe(client)  # it reconnected by itself; the scheduler forgot our topic

    def _check_workers(self) -> None:
        with self._lock:
            started = [run for run in self._runs.values() if run.worker is not None and not run.cancelled]
        client = self._live_client()
        if not started or client is None:
            self._no_workers_since = None
            return
        if client.nthreads():
            self._no_workers_since = None
            return
        now = time.monotonic()
        self._no_workers_since = self._no_workers_since or now
        if now - self._no_workers_since < LOST_GRACE:
            return
        for run in started:
            self._inbox.put((run.key, ("error", NO_WORKER.format(grace=LOST_GRACE))))
            run.cancelled = True
        self._stop_on_cluster(started)

    # -- messages -----------------------------------------------------------------------------

    def _on_event(self, event: tuple[float, list[Any]]) -> None:
        """A job task's message, on the Dask client's event loop: hand it to the relay thread."""
        message = event[1]
        self._inbox.put((str(message[0]), tuple(message[1:])))

    def _dispatch(self) -> None:
        """The relay thread: every job's messages in the order they came, frames read from the data dir."""
        while (item := self._inbox.get()) is not None:
            key, message = item
            with self._lock:
                run = self._runs.get(key)
            if run is None:
                continue
            try:
                self._deliver(run, message)
            except Exception:
                logger.exception("relaying a message of job %s failed", run.spec.pid)

    def _deliver(self, run: _Run, message: Message) -> None:
        kind = message[0]
        if kind == FINISHED:
            with self._lock:
                self._runs.pop(run.key, None)
            self.data.frame(run.key).unlink(missing_ok=True)
            detail = self._ending(run)
            if detail is not None and detail[0] == "error":
                run.emit(detail)
            run.emit(("ended", None if detail is None else detail[1]))
        elif kind == "running":
            run.worker = str(message[1])
            run.emit(("running",))
        elif kind == "frame-file":
            iteration, (n, dims) = message[1], message[2]
            try:
                data = self.data.frame(run.key).read_bytes()
            except OSError:
                return  # the job has just ended
            if len(data) == 4 * n * dims:
                run.emit(("frame", iteration, (n, dims), data))
        else:
            run.emit(message)

    def _ending(self, run: _Run) -> tuple[str, str | None] | None:
        """How a finished task ended: ("error", why) for the job, or ("ended", detail), or None."""
        future = run.future
        if future is None or run.cancelled:
            return None
        if future.status == "finished":
            try:
                return ("ended", future.result(timeout=RECONNECT_SECONDS))
            except Exception as exc:
                return ("ended", f"its result was lost: {exc}")
        if future.status == "error":
            failure = future.exception(timeout=RECONNECT_SECONDS)
            if isinstance(failure, self._distributed.KilledWorker):
                return ("error", WORKER_LOST.format(detail=f"{failure.allowed_failures + 1} in a row"))
            return ("error", f"the Dask task failed: {type(failure).__name__}: {failure}")
        return ("error", f"the connection to the Dask scheduler at {self.address} was lost while this projection ran; request it again")


def verify_data_dir(client: Any, data: DataDir) -> None:
    """Every worker must see the data dir at the same path: each reads a token the server just wrote there."""
    token = secrets.token_hex(8)
    probe = data.probe(token)
    probe.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(probe, token.encode())
    try:
        answers = client.run(call_named, CHECK_DATA_DIR, str(probe), token, on_error="return")
    finally:
        probe.unlink(missing_ok=True)
    for address, answer in sorted(answers.items()):
        if answer is not None:
            reason = answer if isinstance(answer, str) else f"{type(answer).__name__}: {answer}"
            raise ClusterError(
                f"Dask worker {address} cannot see the data dir {data.root} at the same path ({reason}); "
                "the workers need it on a shared filesystem"
            )
    if not answers:
        logger.warning("no Dask worker is connected to the scheduler yet; jobs wait for one")


def _check_quietly(client: Any, data: DataDir) -> None:
    try:
        verify_data_dir(client, data)
    except ClusterError as exc:
        logger.error("%s", exc.detail)

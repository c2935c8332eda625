"""What runs on the Dask workers for the Dask executor (projector.jobs.executors.dask).

A job task runs the job in a child process exactly as local jobs run (a LocalExecutor on the
worker with the same entry, projector.jobs.worker), relays the child's messages to the server as
scheduler events, and kills the child when the server cancels the job (`cancel_on_worker`,
broadcast to every worker) or the worker is closing. Live frames travel through the shared data
dir, so only small messages pass through the scheduler.

A kNN graph of more than one block is fanned out by the job's process (`ClusterBlocks`): one task
per block, each again in a child process that a cancel kills. The job task leaves its worker
thread (secede) while the job process waits for them, so that a one-thread worker runs blocks too.

Every child process watches the worker and exits when it dies, so a killed worker leaves no work
running. That is also why children may be started from a nanny's worker, a daemonic process that
multiprocessing otherwise forbids to have children (so that none outlive it).

`distributed` is imported inside the functions that run on a worker: the server imports this
module without it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from projector.data.atomic import temp_name
from projector.data.layout import DataDir
from projector.jobs import graphs
from projector.jobs import worker as job_worker
from projector.jobs.executors.base import Emit, JobSpec, Message
from projector.jobs.executors.local import LocalExecutor, process_context
from projector.jobs.graph_blocks import Rows, build_block_file, read_block_file
from reducers.knn_blocks import GraphPlan

POLL_SECONDS = 0.1  # how often a task looks at its cancel flag
WATCH_SECONDS = 0.2  # how often a child process looks for its worker
CLOSING = ("closing", "closed", "failed")  # worker states in which a task's child is killed
GRAPH_BLOCKS = "graph-blocks"  # private message of a job process: (GRAPH_BLOCKS, waiting for block tasks?)
FRAME_INTERVAL = 0.05  # seconds between frames at least, as for local jobs...
FRAME_WRITE_SHARE = 5.0  # ...and at least this many times the last frame's write time (large layouts)
BLOCK_PRIORITY = 10  # graph blocks before jobs that have not started: a started job waits for them
BLOCK_RETRIES = 1
CONNECT_SECONDS = 10.0
FLAGS_KEPT = 4096

_flags: OrderedDict[str, threading.Event] = OrderedDict()
_flags_lock = threading.Lock()


def cancel_flag(key: str) -> threading.Event:
    """The cancel flag of job `key` in this worker process (kept for the most recent keys)."""
    with _flags_lock:
        flag = _flags.pop(key, None) or threading.Event()
        _flags[key] = flag
        while len(_flags) > FLAGS_KEPT:
            _flags.popitem(last=False)
        return flag


def cancel_on_worker(keys: list[str]) -> None:
    """Stop these jobs' work in this worker now (the server runs it on every worker)."""
    for key in keys:
        cancel_flag(key).set()


def check_data_dir(probe: str, token: str) -> str | None:
    """Whether this worker sees the server's data dir: None, or why not (the server wrote `token` to `probe`)."""
    try:
        found = Path(probe).read_text()
    except OSError as exc:
        return f"{exc.strerror or exc}: {probe}"
    return None if found == token else f"{probe} holds another server's token"


_warming: list[LocalExecutor] = []  # kept while its warm-up process runs
_warm_lock = threading.Lock()


def warm_up_worker() -> None:
    """Start this worker's job-process server and fill the kernels' disk cache in the background,
    once (the server runs it on every worker at start-up, as the local executor warms up its own)."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    threading.Thread(target=_warm_up, name="projector-warm-up", daemon=True).start()


_warm_started = False


def _warm_up() -> None:
    _allow_children()
    _warming.append(LocalExecutor(1, warm_up=True))


def _allow_children() -> None:
    process = multiprocessing.current_process()
    if process.daemon:
        process.daemon = False  # see the module docstring: our children watch the worker instead


def _closing(worker: Any) -> bool:
    return str(worker.status.name) in CLOSING


def _stop_when_cancelled(worker: Any, flag: threading.Event, finished: threading.Event, stop: Callable[[], None]) -> None:
    """Call `stop` as soon as `flag` is set or the worker is closing, unless `finished` first (a thread of its own)."""

    def watch() -> None:
        while not finished.is_set():
            if flag.wait(POLL_SECONDS) or _closing(worker):
                stop()
                return

    threading.Thread(target=watch, name="projector-cancel-watch", daemon=True).start()


# -- job tasks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a job process on a worker knows beyond its spec: its worker, its scheduler, its key."""

    worker_pid: int
    scheduler: str
    key: str


def run_job_task(spec: JobSpec, key: str, topic: str) -> str | None:
    """The task of one job: run it in a child process and relay its messages; returns why it ended."""
    import distributed

    worker = distributed.get_worker()
    relay = Relay(worker, topic, key, DataDir(Path(spec.data_dir)).frame(key))
    if not Path(spec.data_dir).is_dir():
        relay.send(("error", f"Dask worker {worker.address} cannot see the data dir {spec.data_dir}; the workers need it at the same path"))
        return None
    _allow_children()
    inbox: queue.Queue[Message] = queue.Queue()
    executor = LocalExecutor(1, entry=partial(job_entry, JobContext(os.getpid(), worker.scheduler.address, key)))
    finished = threading.Event()
    _stop_when_cancelled(worker, cancel_flag(key), finished, partial(executor.cancel, spec.pid))
    executor.submit(spec, inbox.put)
    seceded = False
    try:
        while True:
            message = inbox.get()
            if message[0] == "ended":
                return str(message[1]) if message[1] is not None else None
            if message[0] == GRAPH_BLOCKS:
                if message[1] and not seceded:
                    distributed.secede()
                elif not message[1] and seceded:
                    distributed.rejoin()
                seceded = bool(message[1])
            elif message[0] == "running":
                relay.send(("running", worker.address))
            else:
                relay.send(message)
    finally:
        finished.set()
        executor.shutdown()
        relay.close()


class Relay:
    """Sends a job's messages to the server as events on its topic; frames go through the data dir."""

    def __init__(self, worker: Any, topic: str, key: str, frame_path: Path) -> None:
        self.worker = worker
        self.topic = topic
        self.key = key
        self.frame_path = frame_path
        self._next_frame = 0.0

    def send(self, message: Message) -> None:
        if message[0] == "frame":
            self._frame(*message[1:])
            return
        event = [self.key, *message]
        try:
            self.worker.log_event(self.topic, event)
        except TypeError:  # numpy scalars in a result: make them plain JSON values
            self.worker.log_event(self.topic, orjson.loads(orjson.dumps(event, option=orjson.OPT_SERIALIZE_NUMPY)))

    def _frame(self, iteration: int, shape: tuple[int, int], data: bytes) -> None:
        started = time.monotonic()
        if started < self._next_frame:
            return
        # Replaced whole (rename) but not fsynced: a frame is worthless after a crash.
        tmp = temp_name(self.frame_path)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, self.frame_path)
        except OSError:  # a full or failing disk costs the frame, not the job
            tmp.unlink(missing_ok=True)
            return
        self._next_frame = started + max(FRAME_INTERVAL, FRAME_WRITE_SHARE * (time.monotonic() - started))
        self.worker.log_event(self.topic, [self.key, "frame-file", int(iteration), [int(shape[0]), int(shape[1])]])

    def close(self) -> None:
        self.frame_path.unlink(missing_ok=True)


def job_entry(context: JobContext, conn: Connection, spec: JobSpec) -> None:
    """A job process on a worker: the local job entry, watching its worker, with graph blocks run as cluster tasks."""
    watch_worker(context.worker_pid)
    graphs.use_block_runner(ClusterBlocks(context, DataDir(Path(spec.data_dir)), conn.send))
    job_worker.main(conn, spec)


def watch_worker(worker_pid: int) -> None:
    """Exit this process as soon as the worker that started it is gone (killed, or closed without us)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent or not _alive(worker_pid):
                os._exit(1)

    threading.Thread(target=watch, name="projector-watch-worker", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- kNN graph blocks -----------------------------------------------------------------------------


class ClusterBlocks:
    """A job process's block runner (projector.jobs.graph_blocks.BlockRunner): one cluster task per block."""

    def __init__(self, context: JobContext, data: DataDir, send: Emit) -> None:
        self.context = context
        self.data = data
        self.send = send

    def __call__(self, X: np.ndarray, tensor: Path, plan: GraphPlan) -> Iterator[Rows]:
        import distributed

        key = self.context.key
        work = self.data.graph_work(key)
        work.folder.mkdir(parents=True, exist_ok=True)
        try:
            plan.save(work.plan)
            blocks = plan.blocks
            count = len(blocks)
            self.send((GRAPH_BLOCKS, True))
            try:
                with distributed.Client(self.context.scheduler, timeout=CONNECT_SECONDS, set_as_default=False) as client:
                    futures = client.map(
                        block_task, [key] * count, [str(tensor)] * count, [str(work.plan)] * count,
                        [start for start, _ in blocks], [stop for _, stop in blocks], [str(work.block(i)) for i in range(count)],
                        key=[f"projector-graph-{key}-{i}" for i in range(count)], pure=False, retries=BLOCK_RETRIES, priority=BLOCK_PRIORITY,
                    )  # fmt: skip
                    for future in distributed.as_completed(futures, loop=client.loop):
                        yield read_block_file(Path(future.result()))
            finally:
                self.send((GRAPH_BLOCKS, False))
        finally:
            shutil.rmtree(work.folder, ignore_errors=True)


def block_task(key: str, tensor: str, plan: str, start: int, stop: int, out: str) -> str:
    """The task of one graph block of job `key`: the block in a child process, killed if the job is cancelled."""
    import distributed

    worker = distributed.get_worker()
    _allow_children()
    flag = cancel_flag(key)
    args = (os.getpid(), tensor, plan, start, stop, out)
    process = process_context().Process(target=block_entry, args=args, name="projector-graph-block", daemon=True)
    process.start()
    finished = threading.Event()
    _stop_when_cancelled(worker, flag, finished, process.kill)
    try:
        process.join()
    finally:
        finished.set()
        if process.is_alive():
            process.kill()
            process.join()
    if flag.is_set():
        raise RuntimeError(f"graph block {start}:{stop} stopped: its job was cancelled")
    if process.exitcode != 0:
        raise RuntimeError(f"graph block {start}:{stop} failed in its process (exit code {process.exitcode}); see the worker's log")
    return out


def block_entry(worker_pid: int, tensor: str, plan: str, start: int, stop: int, out: str) -> None:
    watch_worker(worker_pid)
    build_block_file(tensor, plan, start, stop, out)

"""The local executor: each job in its own child process, at most `workers` at once.

Children fork from a forkserver that has numpy and the reducers already imported, so a job
starts in milliseconds, never blocks the event loop, and can be killed at once (cancel = SIGKILL).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from projector.jobs.executors.base import Emit, Executor, JobSpec
from projector.jobs.executors.named import WARM_UP_MAIN, WORKER_MAIN, call_named

POLL_SECONDS = 0.1
STOP_GRACE_SECONDS = 0.5  # after SIGTERM, before SIGKILL
# Imported once by the forkserver, so every job process starts with them loaded (imports only:
# nothing runs there, so no thread pool exists yet when a job is forked).
PRELOAD = ["projector.jobs.worker", "reducers.tsne", "reducers.umap_adapter", "reducers.quality"]
Entry = Callable[[Connection, JobSpec], None] | str  # a function, or its "module:function" name


def process_context() -> Any:  # a forkserver (or spawn) multiprocessing context
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class LocalExecutor(Executor):
    """Job processes on this machine.

    Parameters:
        workers: jobs that run at once; the rest wait in a queue.
        warm_up: start the forkserver now and fill Numba's cache in a throwaway process.
        entry: the function a job process runs, `entry(conn, spec)`, or its name (tests pass their own);
            by default the job worker, named so that this process never imports it.
    """

    def __init__(self, workers: int = 1, warm_up: bool = False, entry: Entry = WORKER_MAIN) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="projector-job")
        self._ctx = process_context()
        self._entry = entry
        self._stop: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.warm_up_process: BaseProcess | None = None
        if warm_up:
            self.warm_up_process = self._ctx.Process(target=call_named, args=(WARM_UP_MAIN,), name="projector-warm-up", daemon=True)
            self.warm_up_process.start()

    def submit(self, spec: JobSpec, emit: Emit) -> None:
        stop = threading.Event()
        with self._lock:
            self._stop[spec.pid] = stop
        self._pool.submit(self._run, spec, emit, stop)

    def cancel(self, pid: str) -> None:
        with self._lock:
            stop = self._stop.get(pid)
        if stop is not None:
            stop.set()

    def shutdown(self) -> None:
        self._stopping.set()
        with self._lock:
            for stop in self._stop.values():
                stop.set()
        if self.warm_up_process is not None:
            stop_process(self.warm_up_process)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def problem(self) -> str | None:
        return "the executor is shutting down" if self._stopping.is_set() else None

    def _run(self, spec: JobSpec, emit: Emit, stop: threading.Event) -> None:
        detail: str | None = None
        try:
            if not (stop.is_set() or self._stopping.is_set()):
                detail = self._run_process(spec, emit, stop)
        except Exception as exc:  # the pipe or the process itself failed
            detail = f"the projection worker failed: {exc}"
        finally:
            with self._lock:
                if self._stop.get(spec.pid) is stop:  # a retry of the same projection may have replaced it
                    del self._stop[spec.pid]
            emit(("ended", detail))

    def _run_process(self, spec: JobSpec, emit: Emit, stop: threading.Event) -> str | None:
        receiver, sender = self._ctx.Pipe(duplex=False)
        target, args = (call_named, (self._entry, sender, spec)) if isinstance(self._entry, str) else (self._entry, (sender, spec))
        process = self._ctx.Process(target=target, args=args, daemon=True)
        try:
            process.start()
            sender.close()
            emit(("running",))
            self._pump(process, receiver, emit, stop)
        finally:
            stop_process(process)
            process.join(timeout=5)
            receiver.close()
        return None if stop.is_set() else f"exit code {process.exitcode}"

    def _pump(self, process: BaseProcess, receiver: Any, emit: Emit, stop: threading.Event) -> None:
        while not stop.is_set():
            if not receiver.poll(POLL_SECONDS):
                if not process.is_alive() and not receiver.poll(0):
                    return
                continue
            try:
                message = receiver.recv()
            except EOFError:
                return
            emit(message)
            if message[0] in ("quality", "error"):
                return


def stop_process(process: BaseProcess) -> None:
    """Stop a job process now: SIGTERM so it exits cleanly (see worker.exit_on_sigterm), SIGKILL after a grace."""
    if process.is_alive():
        process.terminate()
        process.join(STOP_GRACE_SECONDS)
    if process.is_alive():
        process.kill()

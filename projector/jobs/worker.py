"""What a job process runs: the projection, then its quality score, reported over a pipe.

Isolated in its own process, so a crash or a kill never takes the server down; cancelling is
done by stopping it: SIGTERM first (it exits cleanly), SIGKILL if it has not after a grace.
"""

from __future__ import annotations

import logging
import signal
import time
import traceback
from multiprocessing.connection import Connection
from types import FrameType

import numpy as np

from projector.errors import ProjectorError
from projector.jobs.executors.base import Emit, JobSpec
from projector.jobs.run import execute, measure_quality
from reducers.warmup import warm_up

FRAME_INTERVAL = 0.05  # seconds; frames arriving faster than this are dropped


class MessageReporter:
    """Turns progress and frames into executor messages (see projector.jobs.executors.base)."""

    def __init__(self, send: Emit) -> None:
        self.send = send
        self._last_frame = 0.0

    def progress(self, fraction: float, iteration: int = 0) -> None:
        self.send(("progress", float(fraction), int(iteration)))

    def frame(self, coords: np.ndarray, iteration: int) -> None:
        now = time.monotonic()
        if now - self._last_frame < FRAME_INTERVAL:
            return
        self._last_frame = now
        data = np.ascontiguousarray(coords, dtype="<f4")
        self.send(("frame", int(iteration), data.shape, data.tobytes()))


def run_job(spec: JobSpec, send: Emit) -> None:
    """Run one projection and send how it ended: ("done", extras) then ("quality", ...), or ("error", detail)."""
    try:
        extras = execute(spec, MessageReporter(send))
    except ProjectorError as exc:
        send(("error", exc.detail))
        return
    except Exception as exc:
        traceback.print_exc()
        send(("error", f"{spec.method} failed: {type(exc).__name__}: {exc}"))
        return
    send(("done", extras))
    # The coordinates are served from here on; the quality score follows when it is ready.
    try:
        send(("quality", measure_quality(spec)))
    except Exception as exc:
        traceback.print_exc()
        send(("quality", {"error": f"{type(exc).__name__}: {exc}"}))


def exit_on_sigterm() -> None:
    """Make SIGTERM end this process through SystemExit, so its finalizers run.

    Numba's thread pool creates a named multiprocessing semaphore; a process killed outright
    leaves it to the resource tracker, which warns about it when the server stops.
    """

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


def main(conn: Connection, spec: JobSpec) -> None:
    """Entry point of a local job process."""
    exit_on_sigterm()
    try:
        run_job(spec, conn.send)
    finally:
        conn.close()


def warm_up_main() -> None:
    """Entry of the throwaway warm-up process: fill Numba's cache before the first job needs it."""
    exit_on_sigterm()
    seconds = warm_up()
    logging.getLogger("projector").info("warm-up done: %s", seconds)

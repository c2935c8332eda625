"""The child process a projection job runs in: isolated, so a crash or a kill never takes the server down."""

from __future__ import annotations

import os
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

import reducers  # noqa: F401  (imported here so the forkserver preloads it)
from projector.errors import ProjectorError
from projector.jobs.run import execute, measure_quality

FRAME_INTERVAL = 0.05  # seconds; frames arriving faster than this are dropped


class PipeReporter:
    """Sends progress and frames to the server over a pipe; cancelling is done by killing us."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._last_frame = 0.0

    def progress(self, fraction: float, iteration: int = 0) -> None:
        self.conn.send(("progress", float(fraction), int(iteration)))

    def frame(self, coords: np.ndarray, iteration: int) -> None:
        now = time.monotonic()
        if now - self._last_frame < FRAME_INTERVAL:
            return
        self._last_frame = now
        data = np.ascontiguousarray(coords, dtype="<f4")
        self.conn.send(("frame", int(iteration), data.shape, data.tobytes()))

    def cancelled(self) -> bool:
        return False


def run(conn: Connection, spec: dict[str, Any]) -> None:
    """Entry point of the job process: run the projection and report how it ended."""
    if spec["method"] == "__crash__":  # test hook: a worker that dies without a word
        os._exit(3)
    if spec["method"] == "__sleep__":  # test hook: a worker that only stops when killed
        time.sleep(3600)
    try:
        extras = execute(Path(spec["tensor"]), spec["method"], spec["dims"], spec["params"], Path(spec["out"]), PipeReporter(conn))
        conn.send(("done", extras))
    except ProjectorError as exc:
        conn.send(("error", exc.detail))
        return
    except Exception as exc:
        traceback.print_exc()
        conn.send(("error", f"{spec['method']} failed: {type(exc).__name__}: {exc}"))
        return
    # The coordinates are served from here on; the quality score follows when it is ready.
    try:
        metric = spec["params"].get("metric", "euclidean")
        conn.send(("quality", measure_quality(Path(spec["tensor"]), Path(spec["out"]), metric)))
    except Exception as exc:
        traceback.print_exc()
        conn.send(("quality", {"error": f"{type(exc).__name__}: {exc}"}))
    finally:
        conn.close()


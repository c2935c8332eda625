"""Job-process entries for tests, run by LocalExecutor(entry=...) in place of projector.jobs.worker.main."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection

from projector.jobs.executors.base import JobSpec


def crash(conn: Connection, spec: JobSpec) -> None:
    """A worker that dies without a word."""
    os._exit(3)


def sleep_forever(conn: Connection, spec: JobSpec) -> None:
    """A worker that reports a little progress, then only stops when killed."""
    conn.send(("progress", 0.1, 1))
    time.sleep(3600)


def fail(conn: Connection, spec: JobSpec) -> None:
    conn.send(("error", "told to fail"))

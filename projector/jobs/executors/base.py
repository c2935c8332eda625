"""The executor seam: where projection work runs (local processes today, a Dask cluster next).

The lifecycle owner (projector.jobs.lifecycle.Jobs) hands an executor a `JobSpec` and an `emit`
callback. The executor runs the spec somewhere and calls `emit(message)` (from any thread) with
plain picklable tuples, in this order:

    ("running",)                              the work started
    ("progress", fraction, iteration)         any number of times
    ("frame", iteration, (n, dims), bytes)    live coordinates, little-endian float32
    ("done", extras)  then  ("quality", dict)  the coordinates are written (data dir), then scored
    ("error", detail)                         the work failed with a readable reason
    ("ended", detail | None)                  always, exactly once, last: nothing more will come

The executor never touches the catalog; the lifecycle owner turns messages into states.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Message = tuple[Any, ...]
Emit = Callable[[Message], None]


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to run one projection; picklable, paths found through the data dir."""

    pid: str
    dataset: str
    data_dir: str  # the data dir's root, at the same path wherever the work runs
    method: str
    dims: int
    params: dict[str, Any] = field(default_factory=dict)


class Executor(ABC):
    """Runs job specs and reports their messages; see the module docstring for the protocol."""

    @abstractmethod
    def submit(self, spec: JobSpec, emit: Emit) -> None:
        """Queue `spec`; returns at once. `emit` receives the job's messages, ending with "ended"."""

    @abstractmethod
    def cancel(self, pid: str) -> None:
        """Stop the job's work now (a queued job never starts); "ended" still follows."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop every job's work now and release the executor's resources."""

    def problem(self) -> str | None:
        """Why jobs cannot run now (e.g. a cluster that cannot be reached), or None; for the readiness check."""
        return None

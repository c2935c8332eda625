"""Functions named "module:attribute", imported only in the process that calls them.

The server names worker-side code (projector.jobs.worker and the Numba kernels behind it, the
Dask executor) instead of importing it, so that it starts in a fraction of a second: a job
process imports what it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

WORKER_MAIN = "projector.jobs.worker:main"
WARM_UP_MAIN = "projector.jobs.worker:warm_up_main"
DASK_EXECUTOR = "projector.jobs.executors.dask:DaskExecutor"


def resolve(target: str) -> Any:
    """The attribute a "module:attribute" name points at, importing its module."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def call_named(target: str, *args: Any) -> Any:
    """Call the function named `target` with `args` (a picklable process target for any name)."""
    return resolve(target)(*args)

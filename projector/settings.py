"""Service settings, resolved once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_MB = 4096


def default_data_dir() -> Path:
    return Path(os.environ.get("PROJECTOR_DATA_DIR") or Path.home() / ".projector").expanduser()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    logdir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 6006
    demo: bool = True
    token: str | None = None
    protect_reads: bool = False
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    job_workers: int = 1
    cors_origins: tuple[str, ...] = ()
    body_timeout: float = 30.0  # seconds an upload may send nothing before it is dropped
    warm_up: bool = False  # compile the reducers' kernels in the background at start-up (the CLI turns it on)
    scheduler: str | None = None  # a Dask scheduler's address: projection work runs on its cluster (README "Dask")

"""Service settings, resolved once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_MAX_UPLOAD_MB = 4096
DEFAULT_MAX_METADATA_MB = 512
DEFAULT_MAX_QUEUED_JOBS = 64


def default_data_dir() -> Path:
    return Path(os.environ.get("PROJECTOR_DATA_DIR") or Path.home() / ".projector").expanduser()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    logdir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 6006
    demo: bool = True
    # Access (README "Access"): with a token every /api route but /api/health needs it; without
    # one, only requests naming a loopback host, `host` or one of `allow_hosts` are served.
    token: str | None = None
    protect_reads: bool = False  # deprecated no-op: a token protects reads too
    allow_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ()  # origins that may embed the page, besides its own and loopback ones
    # Bounds on what one client can make the server hold.
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * MiB
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_MB * MiB
    body_timeout: float = 30.0  # seconds an upload may send nothing before it is dropped
    upload_deadline: float = 3600.0  # seconds an upload may take in all
    max_uploads: int = 4  # uploads received at once
    max_streams: int = 64  # event streams open at once
    max_queued_jobs: int = DEFAULT_MAX_QUEUED_JOBS  # projections waiting for a worker
    job_workers: int = 1
    warm_up: bool = False  # compile the reducers' kernels in the background at start-up (the CLI turns it on)
    scheduler: str | None = None  # a Dask scheduler's address: projection work runs on its cluster (README "Dask")

"""Helpers for benchmarks that talk to a real `projector serve` process."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from projector.serve_process import ServeProcess


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server(ServeProcess):
    """`projector serve --no-demo` on a free port with a throwaway data dir."""

    def __init__(self, *args: str) -> None:
        super().__init__("--no-demo", *args, data_dir=tempfile.mkdtemp(prefix="projector-bench-"))

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)  # type: ignore[arg-type]


def clustered(n: int, dim: int, clusters: int = 20, seed: int = 0) -> np.ndarray:
    """A float32 Gaussian mixture, built in chunks so a million rows stay cheap to make."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32) * 4
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = min(100_000, n - start)
        out[start : start + rows] = centres[rng.integers(0, clusters, rows)] + rng.standard_normal((rows, dim), dtype=np.float32)
    return out


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, q))

"""Helpers for benchmarks that talk to a real `projector serve` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """`projector serve --no-demo` on a free port with a throwaway data dir."""

    def __init__(self, *args: str) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="projector-bench-"))
        command = [sys.executable, "-m", "projector", "serve", "--port", "0", "--no-demo", "--data-dir", str(self.data_dir), *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"(http://\S+?)/?$", line.strip())
        if not match:
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = match.group(1)
        self.host, port = self.url.split("//")[1].split(":")
        self.port = int(port)

    @property
    def pid(self) -> int:
        return self.process.pid

    def close(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        subprocess.run(["rm", "-rf", str(self.data_dir)], check=False)


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

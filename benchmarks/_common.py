"""Small helpers shared by the benchmark scripts: timing, peak RSS, workers, markdown."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["peak_rss_mb", "timed", "run_worker", "emit", "markdown_table", "write_results"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DATA_DIR = Path(__file__).resolve().parent / "data"
_MARK = "@@RESULT@@ "


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def timed() -> Iterator[dict]:
    """``with timed() as t: ...`` then ``t["seconds"]`` holds the wall time."""
    out: dict = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start


def emit(result: dict) -> None:
    """Print a worker's result where `run_worker` will find it."""
    print(_MARK + json.dumps(result), flush=True)


def run_worker(script: str | Path, args: Sequence[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``python script args...`` in a fresh process and return the dict it `emit`-ted.

    A fresh process per measurement keeps peak RSS and JIT state separate.
    """
    full_env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=full_env, timeout=timeout
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"worker {args} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def markdown_table(rows: list[dict], columns: Sequence[str]) -> str:
    """Rows of dicts as a GitHub markdown table; floats get 3 significant decimals."""

    def fmt(v) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_results(name: str, text: str) -> Path:
    """Write `text` to ``benchmarks/results/<name>`` (a gitignored folder) and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(text)
    return path

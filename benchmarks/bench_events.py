"""Progress latency: from a job's change in the lifecycle owner to a client seeing it.

Compares the SSE stream (`GET /api/projections/{pid}/events`, woken by the change) with the
page's former way, polling `GET /api/projections/{pid}` every 250 ms. The server runs in this
process (uvicorn in a thread) with a scripted executor, so both ends share one clock and only the
path lifecycle → HTTP → client is measured.

Usage: python -m benchmarks.bench_events [--changes 60]
"""

from __future__ import annotations

import argparse
import io
import random
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import uvicorn

from projector.api.app import create_app
from projector.jobs.executors.base import Emit, Executor, JobSpec
from projector.settings import Settings

POLL_SECONDS = 0.25


class ScriptedExecutor(Executor):
    """Runs nothing; the benchmark emits each job's messages itself."""

    def __init__(self) -> None:
        self.emits: dict[str, Emit] = {}

    def submit(self, spec: JobSpec, emit: Emit) -> None:
        self.emits[spec.pid] = emit

    def cancel(self, pid: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


def serve() -> tuple[str, ScriptedExecutor, uvicorn.Server]:
    executor = ScriptedExecutor()
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="projector-bench-")), demo=False), executor=lambda _: executor)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", executor, server


def start_job(url: str, executor: ScriptedExecutor, dims: int) -> tuple[str, Emit]:
    buffer = io.BytesIO()
    np.save(buffer, np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32))
    dataset = httpx.post(f"{url}/api/datasets", content=buffer.getvalue(), headers={"Content-Type": "application/x-npy"}).json()
    pid = httpx.post(f"{url}/api/datasets/{dataset['id']}/projections", json={"method": "pca", "dims": dims}).json()["id"]
    emit = executor.emits[pid]
    emit(("running",))
    return pid, emit


def drive(emit: Emit, changes: int, sent: dict[int, float]) -> None:
    """Change the job's progress `changes` times at irregular intervals, then fail it (terminal)."""
    time.sleep(0.5)
    rng = random.Random(0)
    for i in range(1, changes + 1):
        sent[i] = time.perf_counter()
        emit(("progress", i / 1000, i))
        time.sleep(rng.uniform(0.1, 0.3))
    emit(("error", "benchmark over"))
    emit(("ended", None))


def follow_sse(url: str, pid: str, sent: dict[int, float]) -> list[float]:
    latencies = []
    with httpx.stream("GET", f"{url}/api/projections/{pid}/events", timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                now = time.perf_counter()
                projection: dict[str, Any] = orjson.loads(line[6:])
                if projection["status"] == "running" and projection["iteration"] in sent:
                    latencies.append(now - sent[projection["iteration"]])
    return latencies


def follow_poll(url: str, pid: str, sent: dict[int, float]) -> list[float]:
    latencies, seen = [], 0
    with httpx.Client() as client:
        while True:
            projection = client.get(f"{url}/api/projections/{pid}").json()
            now = time.perf_counter()
            if projection["status"] != "running":
                return latencies
            if projection["iteration"] != seen and projection["iteration"] in sent:
                seen = projection["iteration"]
                latencies.append(now - sent[seen])
            time.sleep(POLL_SECONDS)


def report(name: str, latencies: list[float], changes: int) -> float:
    ms = sorted(v * 1000 for v in latencies)
    median = statistics.median(ms)
    print(
        f"| {name} | {len(ms)}/{changes} | {median:.1f} | {statistics.mean(ms):.1f} | {ms[int(0.95 * (len(ms) - 1))]:.1f} | {ms[-1]:.1f} |"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()
    url, executor, server = serve()
    print("| channel | changes seen | median ms | mean ms | p95 ms | max ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    medians = {}
    for name, follow, dims in (("SSE (events)", follow_sse, 2), (f"poll every {POLL_SECONDS * 1000:.0f} ms", follow_poll, 3)):
        pid, emit = start_job(url, executor, dims)
        sent: dict[int, float] = {}
        driver = threading.Thread(target=drive, args=(emit, args.changes, sent))
        driver.start()
        medians[name] = report(name, follow(url, pid, sent), args.changes)
        driver.join()
    sse, poll = medians.values()
    print(f"\nSSE median latency is {poll / sse:.0f}× lower than polling")
    server.should_exit = True


if __name__ == "__main__":
    main()

"""The service at scale: upload, PCA, kNN graph, UMAP and neighbour queries on one big tensor,
the event loop's latency while two projections run, and cold versus warm first requests.

Usage:
    python -m benchmarks.bench_scale [--rows 1000000] [--dim 128] [--skip-umap] [--concurrent-rows 70000]

Every step goes through the HTTP API of a real `projector serve` (2 job workers). Peak RSS is
the high-water mark of every process the server started (server, forkserver, job workers),
sampled while the step runs. Targets (issue 4): peak RSS at most 3x the tensor, PCA at most
30 s, neighbour p99 at most 50 ms, /api/health p99 at most 50 ms under two running jobs.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from benchmarks._service import Server, clustered, percentile_ms


def group_peak_mb(leader: int) -> float:
    """Largest VmHWM among the processes in the server's session."""
    peak = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[3]) != leader:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (OSError, IndexError, ValueError):
            continue
    return peak


class PeakSampler:
    """Samples the server group's peak RSS in the background while a step runs."""

    def __init__(self, leader: int) -> None:
        self.leader = leader
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_peak_mb(self.leader))
            time.sleep(0.2)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, group_peak_mb(self.leader))


class Api:
    def __init__(self, server: Server) -> None:
        self.server = server

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=3600)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def upload(self, X: np.ndarray) -> str:
        buffer = io.BytesIO()
        np.save(buffer, X)
        return str(self.call("POST", "/api/datasets", buffer.getvalue(), {"Content-Type": "application/x-npy"})["id"])

    def project(self, dataset: str, method: str, dims: int = 2, wait_quality: bool = False, **params: Any) -> dict[str, Any]:
        body = json.dumps({"method": method, "dims": dims, "params": params}).encode()
        pid = self.call("POST", f"/api/datasets/{dataset}/projections", body, {"Content-Type": "application/json"})["id"]
        while True:
            projection = self.call("GET", f"/api/projections/{pid}")
            if projection["status"] in ("failed", "cancelled"):
                raise RuntimeError(projection)
            if projection["status"] == "done" and (projection["quality"] or not wait_quality):
                return projection  # type: ignore[no-any-return]
            time.sleep(0.1)


def timed(step: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = step()
    return time.perf_counter() - started, result


def neighbour_latencies(api: Api, dataset: str, n: int, metric: str, count: int = 200) -> list[float]:
    connection = http.client.HTTPConnection(api.server.host, api.server.port, timeout=60)
    times = []
    for index in np.random.default_rng(3).integers(0, n, count):
        started = time.perf_counter()
        connection.request("GET", f"/api/datasets/{dataset}/neighbors?index={index}&k=10&metric={metric}")
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
    return times


def recall_of_graph(api: Api, dataset: str, n: int, metric: str, count: int = 100) -> float:
    hits = 0
    for index in np.random.default_rng(4).integers(0, n, count):
        approx = api.call("GET", f"/api/datasets/{dataset}/neighbors?index={index}&k=10&metric={metric}")
        exact = api.call("GET", f"/api/datasets/{dataset}/neighbors?index={index}&k=10&metric={metric}&exact=true")
        hits += len({x["index"] for x in approx["neighbors"]} & {x["index"] for x in exact["neighbors"]})
    return hits / (10 * count)


def scale_run(rows: int, dim: int, skip_umap: bool, umap_epochs: int = 0) -> None:
    X = clustered(rows, dim)
    size_mb = X.nbytes / 1e6
    print(f"\n## {rows:,} x {dim} float32 ({size_mb:,.0f} MB)\n")
    print("| step | seconds | peak RSS of server + workers (MB) | RSS / tensor | notes |")
    print("|---|---|---|---|---|")
    server = Server("--workers", "2")
    api = Api(server)
    try:

        def row(step: str, seconds: float, peak: float, note: str = "") -> None:
            print(f"| {step} | {seconds:.1f} | {peak:,.0f} | {peak / size_mb:.2f}x | {note} |", flush=True)

        with PeakSampler(server.pid) as sampler:
            seconds, dataset = timed(lambda: api.upload(X))
        row("upload", seconds, sampler.peak, f"{size_mb / seconds:,.0f} MB/s")
        X = None  # free the client-side copy before the long steps
        with PeakSampler(server.pid) as sampler:
            seconds, pca = timed(lambda: api.project(dataset, "pca", 3))
            quality_seconds, pca = timed(lambda: api.project(dataset, "pca", 3, wait_quality=True))
        row("PCA 3D", seconds, sampler.peak, f"quality ready {quality_seconds:.1f} s later: {json.dumps(pca['quality'])}")
        times = neighbour_latencies(api, dataset, rows, "cosine", 50)
        print(
            f"| neighbours, exact cosine (50 queries) | p50 {percentile_ms(times, 50):.0f} ms | | | p99 {percentile_ms(times, 99):.0f} ms |"
        )
        if skip_umap:
            return
        with PeakSampler(server.pid) as sampler:
            seconds, umap = timed(lambda: api.project(dataset, "umap", 2, n_epochs=umap_epochs))
        graph = umap["knn_graph"]
        row("kNN graph (k=90, euclidean, inside the UMAP job)", graph["seconds"], sampler.peak, "pynndescent" if rows > 20000 else "exact")
        row(f"UMAP 2D, {umap_epochs or 'default'} epochs (graph included)", seconds, sampler.peak, "")
        times = neighbour_latencies(api, dataset, rows, "euclidean")
        recall = recall_of_graph(api, dataset, rows, "euclidean")
        print(
            f"| neighbours from the graph (200 queries) | p50 {percentile_ms(times, 50):.1f} ms | | | p99 {percentile_ms(times, 99):.1f} ms; recall@10 vs exact {recall:.3f} |"
        )
    finally:
        server.close()


def concurrent_run(rows: int) -> None:
    X = clustered(rows, 50, clusters=10)
    server = Server("--workers", "2")
    api = Api(server)
    print(f"\n## Event loop while t-SNE and UMAP of {rows:,} x 50 run at once\n")
    try:
        dataset = api.upload(X)
        api.project(dataset, "pca", 2)  # the forkserver is up
        jobs = [threading.Thread(target=api.project, args=(dataset, m, 2)) for m in ("tsne", "umap")]
        for job in jobs:
            job.start()
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        times = []
        while any(job.is_alive() for job in jobs):
            started = time.perf_counter()
            connection.request("GET", "/api/health")
            connection.getresponse().read()
            times.append(time.perf_counter() - started)
            time.sleep(0.05)
        print(
            f"/api/health over {len(times)} requests: p50 {percentile_ms(times, 50):.1f} ms, p99 {percentile_ms(times, 99):.1f} ms, max {max(times) * 1000:.1f} ms"
        )
    finally:
        server.close()


def cold_start_run(warm_wait: float) -> None:
    """Each server gets an empty Numba cache (NUMBA_CACHE_DIR), as on a new machine."""
    import os
    import tempfile

    X = clustered(5000, 32)
    print("\n## First projection request of a new server with an empty Numba cache (5,000 x 32)\n")
    print("| server | method | first request (s) | second request, other seed (s) |")
    print("|---|---|---|---|")
    for label, args in (("--no-warm-up", ("--no-warm-up",)), (f"warm-up at start, request {warm_wait:.0f} s later", ())):
        for method in ("umap", "tsne"):
            os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-")
            try:
                server = Server(*args)
            finally:
                del os.environ["NUMBA_CACHE_DIR"]
            api = Api(server)
            try:
                dataset = api.upload(X)
                if not args:
                    time.sleep(warm_wait)
                first, _ = timed(lambda: api.project(dataset, method, 2))
                second, _ = timed(lambda: api.project(dataset, method, 2, random_state=1))
                print(f"| {label} | {method} | {first:.1f} | {second:.1f} |", flush=True)
            finally:
                server.close()


_KERNEL_PROBE = """
import json, sys, time
started = time.perf_counter()
import numpy as np
import projector.jobs.worker  # what the forkserver preloads for every job process
from reducers.knn_blocks import build_graph
from reducers._quantized_kernels import scan
imported = time.perf_counter()
tiny = np.random.default_rng(0).normal(size=(3000, 16)).astype(np.float32)
build_graph(tiny, 10, max_block_rows=600, n_jobs=1)  # every block kernel, loaded from the cache
loaded = time.perf_counter()
build_graph(tiny, 10, max_block_rows=600, n_jobs=1)
again = time.perf_counter()
X = np.load(sys.argv[1], mmap_mode="r")
build_graph(X, int(sys.argv[2]), n_jobs=None)
built = time.perf_counter()
print(json.dumps({"import": imported - started, "first_tiny": loaded - imported, "second_tiny": again - loaded, "graph": built - again}))
"""


def cold_graph_run(rows: int) -> None:
    """Target 6: the first UMAP above the exact-graph threshold in a new server, kernels cached.

    Compares the graph seconds the job reports with the same graph built in a process that has
    already loaded the kernels, and times loading them (a tiny graph's first call minus its second).
    """
    import os
    import subprocess
    import sys
    import tempfile

    from projector.jobs.graphs import GRAPH_K
    from reducers.knn import EXACT_MAX_SAMPLES

    X = clustered(rows, 128)
    print(
        f"\n## First UMAP of a new server on {rows:,} x 128 (above the exact-graph threshold, {EXACT_MAX_SAMPLES:,}); Numba cache filled\n"
    )
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores, shared)\n")
    server = Server()
    api = Api(server)
    try:
        dataset = api.upload(X)
        seconds, umap = timed(lambda: api.project(dataset, "umap", 2, n_epochs=10))
        first_graph = umap["knn_graph"]["seconds"]
        dataset2 = api.upload(X + np.float32(1e-3))
        seconds2, umap2 = timed(lambda: api.project(dataset2, "umap", 2, n_epochs=10))
        second_graph = umap2["knn_graph"]["seconds"]
    finally:
        server.close()
    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
        np.save(f.name, X)
        probe = subprocess.run([sys.executable, "-c", _KERNEL_PROBE, f.name, str(GRAPH_K)], capture_output=True, text=True, check=True)
    p = json.loads(probe.stdout.strip().splitlines()[-1])
    print("| what | seconds |")
    print("|---|---|")
    print(f"| first UMAP job after start (10 epochs): whole request / its kNN graph (k={GRAPH_K}) | {seconds:.1f} / {first_graph:.1f} |")
    print(
        f"| second job, another dataset of the same size (also a new job process): request / graph | {seconds2:.1f} / {second_graph:.1f} |"
    )
    print(f"| new process like a job's: imports (the forkserver pays these once) | {p['import']:.2f} |")
    print(
        f"| ... block-graph kernels loaded from the cache: a tiny graph's first call minus its second | {p['first_tiny'] - p['second_tiny']:.2f} |"
    )
    print(f"| ... then the same {rows:,}-row graph, kernels loaded | {p['graph']:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--skip-umap", action="store_true")
    parser.add_argument("--umap-epochs", type=int, default=0, help="0: umap-learn's default (200 above 10,000 points)")
    parser.add_argument("--concurrent-rows", type=int, default=70_000)
    parser.add_argument("--only", choices=["scale", "concurrent", "cold", "cold-graph"], default=None)
    parser.add_argument("--cold-graph-rows", type=int, default=30_000)
    parser.add_argument("--warm-wait", type=float, default=90.0, help="seconds between start-up and the first request")
    args = parser.parse_args()
    if args.only in (None, "cold"):
        cold_start_run(args.warm_wait)
    if args.only in (None, "cold-graph"):
        cold_graph_run(args.cold_graph_rows)
    if args.only in (None, "concurrent"):
        concurrent_run(args.concurrent_rows)
    if args.only in (None, "scale"):
        scale_run(args.rows, args.dim, args.skip_umap, args.umap_epochs)


if __name__ == "__main__":
    main()

"""The kNN graph of a big tensor in row blocks: in one process (a local job) against block tasks on a
Dask cluster of 1 and 2 single-thread workers; seconds, peak RSS per worker, and the per-block cost
that the README's scaling model starts from.

Usage:
    python -m benchmarks.bench_dask [--rows 1000000] [--dim 128] [--k 90] [--workers 1,2] [--skip-local]
                                    [--layout-rows 50000,200000]

The graph is the one the service builds (projector.jobs.graph_blocks, k = GRAPH_K): a plan made
in the job's process (k-means lists grouped into blocks, probes chosen on a sample), the blocks,
then the rows assembled into the cached graph files. Locally the job's process runs every block
(BLAS may use every core); on the cluster each block is a task that a worker runs in a child
process, reading the memory-mapped tensor from the data dir and writing its rows back there.
Each configuration runs in fresh processes; peak RSS is the high-water mark of the job process
and of each worker; block_cpu_s is the CPU time of one block (on the cluster: of the block processes).

What stays on one node is the optimisation of one layout: `--layout-rows` measures the peak RSS
of a t-SNE and a UMAP job process (the service's runners and defaults, a few iterations, on a
given random kNN graph of the size the method asks for) at two sizes, for the bytes per point.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import emit, markdown_table, peak_rss_mb, run_worker, timed, write_results
from benchmarks._service import clustered
from projector.data.layout import DataDir
from projector.jobs.executors.dask_worker import ClusterBlocks, JobContext
from projector.jobs.graph_blocks import run_blocks_here, write_graph
from projector.jobs.graphs import GRAPH_K
from projector.jobs.methods import get_method
from projector.jobs.runners import RUNNERS
from reducers.knn import KNNGraph
from reducers.knn_blocks import plan_graph

DATASET = "bench"


def prepare(root: Path, rows: int, dim: int) -> DataDir:
    data = DataDir(root)
    files = data.dataset(DATASET)
    files.folder.mkdir(parents=True, exist_ok=True)
    if not files.tensor.exists():
        np.save(files.tensor, clustered(rows, dim))
    return data


def job(root: Path, k: int, scheduler: str | None, max_blocks: int = 0) -> dict[str, Any]:
    """What a job's process does: plan, blocks (here or on the cluster), assembly into the cache.

    With `max_blocks`, only the plan's first blocks run and nothing is assembled: the per-block cost alone.
    """
    data = DataDir(root)
    files = data.dataset(DATASET)
    X = np.load(files.tensor, mmap_mode="r")
    with timed() as plan_time:
        plan = plan_graph(X, k, metric="euclidean", random_state=0)
    planned = len(plan.blocks)
    if max_blocks:
        plan = dataclasses.replace(plan, block_offsets=plan.block_offsets[: max_blocks + 1])
    durations: list[float] = []

    def timed_blocks(*args: Any) -> Iterator[Any]:
        last = time.perf_counter()
        for block in run_blocks_here(*args):
            durations.append(time.perf_counter() - last)
            yield block
            last = time.perf_counter()

    if scheduler is None:
        runner: Any = timed_blocks
    else:
        runner = ClusterBlocks(JobContext(os.getpid(), scheduler, f"projector-job-bench-{os.getpid()}"), data, lambda message: None)
    cpu = time.process_time()
    with timed() as blocks_time:
        if max_blocks:
            for _ in runner(X, files.tensor, plan):
                pass
        else:
            write_graph(files, "euclidean", k, X.shape[0], runner(X, files.tensor, plan))
    cpu = time.process_time() - cpu
    for path in files.graph("euclidean", k):
        path.unlink(missing_ok=True)
    return {
        "plan_s": plan_time["seconds"],
        "blocks_s": blocks_time["seconds"],
        "blocks": len(plan.blocks),
        "planned_blocks": planned,
        "probe": plan.n_probe,
        "job_rss_mb": peak_rss_mb(),
        **(
            {"block_s_mean": statistics.mean(durations), "block_s_max": max(durations), "block_cpu_s": cpu / len(plan.blocks)}
            if durations
            else {}
        ),
    }


class _Quiet:
    def progress(self, fraction: float, iteration: int = 0) -> None: ...

    def frame(self, coords: np.ndarray, iteration: int) -> None: ...


class _RandomGraphs:
    """A kNN graph of the size a method asks for, random rows: the layout's memory, not its quality."""

    def __init__(self, n: int) -> None:
        self.n = n

    def get(self, metric: str, k: int) -> KNNGraph:
        rng = np.random.default_rng(0)
        indices = (np.arange(self.n)[:, None] + rng.integers(1, self.n, (self.n, k))) % self.n
        distances = np.sort(rng.random((self.n, k), dtype=np.float32), axis=1)
        return KNNGraph(indices.astype(np.int32), distances, metric)


def layout(root: Path, method: str) -> dict[str, Any]:
    """A t-SNE or UMAP job process's peak RSS on the tensor at `root`, graph given."""
    X = np.load(DataDir(root).dataset(DATASET).tensor, mmap_mode="r")
    short = {"tsne": {"n_iter": 60, "exaggeration_iter": 30}, "umap": {"n_epochs": 5}}[method]
    params = get_method(method).normalize(2, short, X.shape[0], X.shape[1])
    with timed() as took:
        RUNNERS[method](X, 2, params, _Quiet(), _RandomGraphs(X.shape[0]))
    return {"peak_mb": peak_rss_mb(), "seconds": took["seconds"]}


def layout_memory(sizes: list[int], dim: int) -> str:
    rows = []
    for method in ("tsne", "umap"):
        peaks = {}
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="bench-dask-layout-") as tmp:
                prepare(Path(tmp), n, dim)
                peaks[n] = run_worker(__file__, ["--layout", tmp, method])["peak_mb"]
        small, large = min(sizes), max(sizes)
        per_point = (peaks[large] - peaks[small]) * 2**20 / (large - small)
        rows.append({"method": method, **{f"peak MB at {n:,}": peaks[n] for n in sizes}, "bytes per point": per_point})
        print(rows[-1], file=sys.stderr)
    return markdown_table(rows, list(rows[0]))


def worker_peaks() -> tuple[float, float]:
    """(this worker's peak RSS in MiB, the CPU seconds of the block processes it ran): run on each worker.

    Block processes are children of the worker's forkserver, which reaps them: their CPU time is
    the forkserver's children time in /proc. Their peak RSS is not recorded anywhere we can read.
    """
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and b"forkserver" in (stat.parent / "cmdline").read_bytes():
                ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, ticks / os.sysconf("SC_CLK_TCK")


def on_cluster(root: Path, k: int, workers: int, max_blocks: int) -> dict[str, Any]:
    import distributed

    with (
        distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(workers)
        client.get_task_stream()  # starts recording
        started = time.time()
        result = run_worker(__file__, ["--job", str(root), str(k), str(max_blocks), cluster.scheduler_address])
        stream = [t for t in client.get_task_stream(start=started) if str(t["key"]).startswith("projector-graph-")]
        peaks = client.run(worker_peaks)
    durations = [max(s["stop"] for s in t["startstops"]) - min(s["start"] for s in t["startstops"]) for t in stream]
    return {
        **result,
        "config": f"Dask, {workers} worker{'s' if workers > 1 else ''} × 1 thread",
        "block_s_mean": statistics.mean(durations) if durations else None,
        "block_s_max": max(durations) if durations else None,
        "block_cpu_s": sum(p[1] for p in peaks.values()) / result["blocks"],
        "worker_rss_mb": max(p[0] for p in peaks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--k", type=int, default=GRAPH_K)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--suffix", default="", help="results go to benchmarks/results/bench_dask{SUFFIX}.md")
    parser.add_argument("--layout-rows", default="", help="also measure one layout's memory at these sizes, e.g. 50000,200000")
    parser.add_argument("--max-blocks", type=int, default=0, help="run only the plan's first N blocks (the per-block cost), no assembly")
    parser.add_argument("--root", type=Path, default=None, help="keep the generated tensor in this folder (reused when there)")
    parser.add_argument("--job", nargs="+", help=argparse.SUPPRESS)  # internal: ROOT K MAX_BLOCKS [SCHEDULER]
    parser.add_argument("--layout", nargs=2, help=argparse.SUPPRESS)  # internal: ROOT METHOD
    args = parser.parse_args()
    if args.job:
        emit(job(Path(args.job[0]), int(args.job[1]), args.job[3] if len(args.job) > 3 else None, int(args.job[2])))
        return
    if args.layout:
        emit(layout(Path(args.layout[0]), args.layout[1]))
        return
    if args.layout_rows:
        table = layout_memory([int(n) for n in args.layout_rows.split(",")], args.dim)
        print(table)
        write_results("bench_dask_layout.md", table + "\n")
    if not args.rows:
        return
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = args.root or Path(tmp)
        with timed() as made:
            prepare(root, args.rows, args.dim)
        print(f"{args.rows:,} × {args.dim} float32 Gaussian mixture written in {made['seconds']:.1f} s; k = {args.k}", file=sys.stderr)
        rows: list[dict[str, Any]] = []
        if not args.skip_local:
            load = os.getloadavg()[0]
            result = run_worker(__file__, ["--job", str(root), str(args.k), str(args.max_blocks)])
            rows.append({**result, "config": "local job process (blocks one after another)", "load": _load(load)})
            print(rows[-1], file=sys.stderr)
        for workers in (int(w) for w in args.workers.split(",") if w):
            load = os.getloadavg()[0]
            rows.append({**on_cluster(root, args.k, workers, args.max_blocks), "load": _load(load)})
            print(rows[-1], file=sys.stderr)
    for row in rows:  # with --max-blocks, the blocks' share of the whole graph is scaled up to it
        row["total_s"] = row["plan_s"] + row["blocks_s"] * row["planned_blocks"] / row["blocks"]
    base = rows[0]["total_s"]
    for row in rows:
        row["speed-up"] = base / row["total_s"]
    table = markdown_table(
        rows,
        [
            "config",
            "total_s",
            "plan_s",
            "blocks_s",
            "blocks",
            "planned_blocks",
            "probe",
            "block_s_mean",
            "block_s_max",
            "block_cpu_s",
            "speed-up",
            "job_rss_mb",
            "worker_rss_mb",
            "load",
        ],
    )
    print(table)
    note = "total_s is plan_s + blocks_s scaled to all planned blocks when only some ran (--max-blocks); seconds are wall time; block_cpu_s is CPU seconds per block; load = 1-minute load average at the start → end of the run"
    write_results(f"bench_dask{args.suffix}.md", f"kNN graph, {args.rows:,} × {args.dim}, k = {args.k}\n\n{table}\n\n{note}\n")


def _load(start: float) -> str:
    return f"{start:.1f} → {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()

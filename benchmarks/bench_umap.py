"""UMAP: ours (in-process on a shared kNN graph, and through the service) vs umap-learn alone, plus cold start.

Usage:
    python -m benchmarks.bench_umap                          # 70,000 x 50, 10 clusters
    python -m benchmarks.bench_umap --n 20000 --runs 3 --threads 2
    python -m benchmarks.bench_umap --skip-cold --out bench_umap-70k.md
    NUMBA_CACHE_DIR=/tmp/empty python -m benchmarks.bench_umap   # cold numbers with no disk cache

Cold start runs a child process that imports and fits 2,000 points once (with our
adapter on a precomputed graph), first with an empty NUMBA_CACHE_DIR, then again with the
cache that run left. Then, after a warm-up fit, each method runs `--runs` times on the
full data:
- ours in-process: the graph from `reducers.knn.knn_graph`, timed on its own line, then our
  adapter on it (seed 0: reproducible, and parallel through `reducers.umap_layout`);
- ours through the service: a `projector serve` process (default settings, its start-up
  warm-up and one 5,000-row UMAP done first), the array uploaded, then a default UMAP
  request timed from POST to `done`: graph, layout and the job's overheads included;
- umap-learn alone with its defaults: unseeded (so its layout runs on every core), its own
  NN-descent graph.
Quality is kNN preservation and trustworthiness (k=10, 5,000 sampled points) on the input
space. Prints a markdown table, also written to benchmarks/results/<--out>.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import write_results  # noqa: E402

_COLD_CHILD = """
import time
t0 = time.perf_counter()
import numpy as np
from reducers.umap_adapter import UMAP
from reducers.warmup import _blobs, _exact_knn
t1 = time.perf_counter()
X = _blobs(2000, 50)
knn = _exact_knn(X, 15)
t2 = time.perf_counter()
UMAP(n_neighbors=16, n_epochs=50, random_state=0, knn=knn).fit(X)
t3 = time.perf_counter()
UMAP(n_neighbors=16, n_epochs=50, random_state=0, knn=knn).fit(X)
t4 = time.perf_counter()
print(t1 - t0, t3 - t2, t4 - t3)
"""


def mixture(n: int, d: int, clusters: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=6.0, size=(clusters, d))
    labels = rng.randint(clusters, size=n)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


def cold_start(cache_dir: str) -> tuple[float, float, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, "-c", _COLD_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    imp, first, second = (float(v) for v in out.stdout.split())
    return imp, first, second


def timed(fn, runs: int) -> tuple[np.ndarray, list[float]]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def fmt(times: list[float]) -> str:
    a = np.asarray(times)
    return f"{a.mean():.2f} ± {a.std():.2f} (min {a.min():.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=70_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="n_jobs for the kNN graph (default: all cores)")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--out", default="bench_umap.md", help="file name under benchmarks/results/")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)

    print(f"n={args.n} d={args.d} clusters={args.clusters} runs={args.runs} cores={os.cpu_count()} "
          f"threads={args.threads}", flush=True)  # fmt: skip
    if not args.skip_cold:
        with tempfile.TemporaryDirectory() as cache:
            cold = cold_start(cache)
            warm_cache = cold_start(cache)
        print("\n| process | import s | first fit s | second fit s |\n|---|---|---|---|")
        print(f"| fresh, empty Numba cache | {cold[0]:.2f} | {cold[1]:.2f} | {cold[2]:.2f} |")
        print(f"| fresh, cache from the run above | {warm_cache[0]:.2f} | {warm_cache[1]:.2f} | {warm_cache[2]:.2f} |",
              flush=True)  # fmt: skip

    import umap

    from reducers.knn import knn_graph
    from reducers.quality import knn_preservation, trustworthiness
    from reducers.umap_adapter import UMAP
    from reducers.warmup import warm_up

    start = time.perf_counter()
    warm_up()
    # umap-learn's own path above 4,096 points: NN-descent, whose kernels are not cached.
    umap.UMAP(n_epochs=5, random_state=0, n_jobs=1).fit(mixture(5000, args.d, args.clusters)[0])
    print(f"\nwarm-up {time.perf_counter() - start:.1f} s", flush=True)

    X, _ = mixture(args.n, args.d, args.clusters)
    loads = {}
    graph, knn_times = timed(lambda: knn_graph(X, 15, random_state=0, n_jobs=args.threads), args.runs)
    ours, our_times = timed(lambda: UMAP(random_state=0, knn=graph).fit_transform(X), args.runs)
    loads["ours"] = os.getloadavg()[0]
    served, served_times = [], []
    if not args.skip_service:
        for _ in range(args.runs):
            Y, seconds = service_umap(X)
            served, served_times = Y, [*served_times, seconds]
        loads["service"] = os.getloadavg()[0]
    theirs, their_times = timed(lambda: umap.UMAP().fit_transform(X), args.runs)
    loads["umap-learn"] = os.getloadavg()[0]
    total = [a + b for a, b in zip(knn_times, our_times)]

    rows = [
        ("kNN graph (reducers.knn, k=15)", knn_times, None),
        ("ours: UMAP on that graph (seed 0)", our_times, ours),
        ("ours: graph + UMAP", total, None),
        ("ours through the service: upload done → UMAP done (default request, seed 0)", served_times, served),
        ("umap-learn alone, defaults (unseeded, every core; NN-descent + UMAP)", their_times, theirs),
    ]
    base = float(np.mean(their_times))
    lines = [
        f"n={args.n} d={args.d} clusters={args.clusters} runs={args.runs} cores={os.cpu_count()}; 1-minute load "
        f"average after each arm: {', '.join(f'{k} {v:.1f}' for k, v in loads.items())}\n",
        "| step | seconds | vs umap-learn | kNN preservation | trustworthiness |",
        "|---|---|---|---|---|",
    ]
    for name, times, Y in rows:
        if not times:
            continue
        ratio = f"{np.mean(times) / base:.2f}x"
        if Y is None or len(Y) == 0:
            lines.append(f"| {name} | {fmt(times)} | {ratio} | | |")
        else:
            pres = knn_preservation(X, Y, k=10, knn=graph)
            trust = trustworthiness(X, Y, k=10)
            lines.append(f"| {name} | {fmt(times)} | {ratio} | {pres:.4f} | {trust:.4f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    path = write_results(args.out, "# UMAP benchmark\n\n" + text)
    print(f"written to {path}")


def service_umap(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Seconds from a default UMAP request on the uploaded `X` to its `done`, through a fresh server."""
    from benchmarks._service import Server
    from projector.client import Client

    server = Server()
    try:
        client = Client(server.url, token=server.token, timeout=7200)
        warm = client.upload(X[:5000])
        client.project(warm, "umap", 2, n_epochs=20)  # the job process has loaded its kernels
        dataset = client.upload(X)
        start = time.perf_counter()
        Y = client.project(dataset, "umap", 2, timeout=7200)
        return np.asarray(Y), time.perf_counter() - start
    finally:
        server.close()


if __name__ == "__main__":
    main()

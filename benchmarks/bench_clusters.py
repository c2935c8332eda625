"""HDBSCAN on a 2-D layout: scikit-learn's HDBSCAN next to fast_hdbscan (the UMAP authors'), same parameters.

Usage:
    python -m benchmarks.bench_clusters [--sizes 100000,1000000] [--runs 1] [--timeout 1800]

The data stands in for a finished t-SNE/UMAP map: 60 anisotropic Gaussian clumps of very
different sizes plus 5% uniform background. Each (library, size) runs in a fresh process after
a warm-up fit on 2,000 points (Numba compile time is not counted); reported: wall seconds
(mean and min over --runs), peak RSS, clusters found, noise share, adjusted Rand index against
the clumps (background points excluded) and between the two libraries' labels.
Parameters are the service's: min_cluster_size = reducers.clusters.auto_min_cluster_size(n),
min_samples = reducers.clusters.MIN_SAMPLES.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._common import emit, markdown_table, peak_rss_mb, run_worker, write_results

LIBRARIES = ("sklearn", "fast_hdbscan")


def layout(n: int, clumps: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n × 2 float32 points, clump id per point with -1 for the background)."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(clumps, 0.7))
    background = int(n * 0.05)
    truth = np.full(n, -1, dtype=np.int64)
    truth[background:] = rng.choice(clumps, size=n - background, p=weights)
    centres = rng.uniform(-50, 50, size=(clumps, 2))
    scales = rng.uniform(0.4, 2.5, size=(clumps, 2))
    angles = rng.uniform(0, np.pi, size=clumps)
    rotations = np.stack([np.stack([np.cos(angles), -np.sin(angles)], -1), np.stack([np.sin(angles), np.cos(angles)], -1)], -2)
    points = np.empty((n, 2), dtype=np.float32)
    points[:background] = rng.uniform(-60, 60, size=(background, 2))
    inside = truth[background:]
    local = rng.standard_normal((n - background, 2)) * scales[inside]
    points[background:] = np.einsum("nij,nj->ni", rotations[inside], local) + centres[inside]
    order = rng.permutation(n)
    return points[order], truth[order]


def fit(library: str, X: np.ndarray) -> np.ndarray:
    from reducers.clusters import MIN_SAMPLES, auto_min_cluster_size, cluster_layout

    size = auto_min_cluster_size(X.shape[0])
    if library == "sklearn":
        from sklearn.cluster import HDBSCAN

        return HDBSCAN(min_cluster_size=size, min_samples=MIN_SAMPLES, copy=True).fit_predict(X)  # type: ignore[no-any-return]
    return cluster_layout(X, size, MIN_SAMPLES)  # fast_hdbscan, as the service runs it


def worker(library: str, n: int, runs: int, labels_out: str) -> None:
    from sklearn.metrics import adjusted_rand_score

    fit(library, layout(2000, seed=1)[0])  # compile / warm caches
    X, truth = layout(n)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        labels = fit(library, X)
        seconds.append(time.perf_counter() - start)
    np.save(labels_out, labels)
    kept = truth >= 0
    emit(
        {
            "library": library, "n": n, "mean_s": float(np.mean(seconds)), "min_s": float(np.min(seconds)),
            "peak_rss_mb": peak_rss_mb(), "clusters": int(labels.max() + 1), "noise": float(np.mean(labels < 0)),
            "ari_truth": float(adjusted_rand_score(truth[kept], labels[kept])),
        }
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    args = parser.parse_args()
    from sklearn.metrics import adjusted_rand_score

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        labels: dict[str, np.ndarray] = {}
        for library in args.libraries.split(","):
            out = f"/tmp/bench_clusters_{library}_{n}.npy"
            try:
                row = run_worker(Path(__file__), ["--worker", library, str(n), str(args.runs), out], timeout=args.timeout)
                labels[library] = np.load(out)
            except Exception as exc:  # a timeout is a result too
                row = {"library": library, "n": n, "note": str(exc).splitlines()[0][:80]}
            rows.append(row)
            print(row, flush=True)
        if len(labels) == 2:
            a, b = (labels[name] for name in LIBRARIES)
            rows[-1]["ari_between"] = float(adjusted_rand_score(a, b))
            rows[-1]["speed_vs_sklearn"] = rows[-2]["mean_s"] / rows[-1]["mean_s"]
    table = markdown_table(
        rows,
        ["library", "n", "mean_s", "min_s", "peak_rss_mb", "clusters", "noise", "ari_truth", "ari_between", "speed_vs_sklearn", "note"],
    )
    print(table)
    write_results("bench_clusters.md", table + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main()

"""PCA 3D of a large tensor: our reducers.PCA on the memory-mapped file vs scikit-learn's PCA.

Usage:
    python -m benchmarks.bench_pca [--rows 1000000] [--dim 128]

Each method runs in its own process, so each peak RSS is its own. Target (issue 4): PCA at most 30 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._service import clustered


def run_one(method: str, path: str) -> None:
    X = np.load(path, mmap_mode="r")
    started = time.perf_counter()
    if method == "ours":
        from reducers import PCA

        model = PCA(n_components=3)
        coords = model.fit_transform(X)
    else:
        from sklearn.decomposition import PCA as SklearnPCA

        model = SklearnPCA(n_components=3)
        coords = model.fit_transform(np.asarray(X))  # scikit-learn needs the array in memory
    seconds = time.perf_counter() - started
    ratio = [float(r) for r in model.explained_variance_ratio_]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "ratio": ratio, "shape": list(coords.shape)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.npy"
        np.save(path, clustered(args.rows, args.dim))
        size_mb = args.rows * args.dim * 4 / 1e6
        print(f"tensor: {args.rows:,} x {args.dim} float32 = {size_mb:,.0f} MB")
        results = {}
        for method in ("ours", "scikit-learn"):
            out = subprocess.run([sys.executable, "-m", "benchmarks.bench_pca", "--child", method, str(path)], capture_output=True, text=True, check=True)
            results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    print("| method | seconds | peak RSS (MB) | explained variance ratio |")
    print("|---|---|---|---|")
    for method, r in results.items():
        print(f"| {method} | {r['seconds']:.2f} | {r['rss_mb']:,.0f} | {', '.join(f'{v:.5f}' for v in r['ratio'])} |")
    diff = max(abs(a - b) for a, b in zip(results["ours"]["ratio"], results["scikit-learn"]["ratio"]))
    print(f"\nspeed ratio ours/scikit-learn: {results['ours']['seconds'] / results['scikit-learn']['seconds']:.2f}x; max |ratio difference| {diff:.2e}")


if __name__ == "__main__":
    main()

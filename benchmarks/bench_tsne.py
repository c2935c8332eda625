"""t-SNE: ours vs openTSNE (FFT) vs scikit-learn (Barnes-Hut), same data and schedule.

Usage:
    python benchmarks/bench_tsne.py                         # digits and 70,000 x 50
    python benchmarks/bench_tsne.py --sizes digits,70k,250k # add 250,000 x 128 (ours, openTSNE)
    python benchmarks/bench_tsne.py --sizes digits --skip-extra
    python benchmarks/bench_tsne.py --threads 2 --methods ours,opentsne --out tsne-250k.md

Every method runs in its own child process (so peak RSS is its own), after a warm-up fit
on 2,000 points in that process so JIT compile time is not counted; the timed fit then
includes the neighbour search, affinities and 250 + 500 iterations at perplexity 30.
scikit-learn is skipped above 70,000 points. Quality: KL divergence as each library
reports it, kNN preservation (k=10, 5,000 sampled points, `reducers.quality`) and 10-NN
label accuracy of the same sample. Extras: our 3-D vs 2-D time on 20,000 points, and the
compile time a second process pays (first minus second fit of 2,000 points in a fresh
process whose Numba disk cache is warm). Writes the markdown to benchmarks/results/tsne.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, emit, markdown_table, peak_rss_mb, run_worker, timed, write_results  # noqa: E402

SCRIPT = Path(__file__).resolve()
PERPLEXITY = 30.0
SIZES = {"digits": None, "20k": 20_000, "70k": 70_000, "250k": 250_000}
SKLEARN_MAX = 70_000


def make_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """digits, or a Gaussian mixture with 10 clusters of different spreads (seeded, cached)."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return X.astype(np.float32), y
    n = SIZES[name]
    dim = 128 if n > 100_000 else 50
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"tsne_mixture_{n}x{dim}.npz"
    if path.exists():
        f = np.load(path)
        return f["X"], f["y"]
    if name == "20k":
        X, y = make_dataset("70k")
        X, y = X[:n], y[:n]
    else:
        rng = np.random.default_rng(42)
        centers = rng.normal(size=(10, dim)) * 3.0
        spreads = np.linspace(0.5, 2.0, 10)
        y = rng.integers(0, 10, n)
        X = (centers[y] + rng.normal(size=(n, dim)) * spreads[y, None]).astype(np.float32)
    np.savez(path, X=X, y=y)
    return X, y


# ----------------------------------------------------------------------------- workers


def _fit(method: str, X: np.ndarray, n_components: int, threads: int, n_iter: int = 750):
    if method == "ours":
        from reducers import TSNE

        m = TSNE(n_components=n_components, perplexity=PERPLEXITY, n_iter=n_iter,
                 exaggeration_iter=min(250, n_iter), random_state=0, n_jobs=threads)
        Y = m.fit_transform(X)
        return Y, m.kl_divergence_
    if method == "opentsne":
        from openTSNE import TSNE

        e = TSNE(n_components=n_components, perplexity=PERPLEXITY, n_iter=n_iter - min(250, n_iter),
                 early_exaggeration_iter=min(250, n_iter), negative_gradient_method="fft",
                 n_jobs=threads, random_state=0, verbose=False).fit(X)
        return np.asarray(e), float(e.kl_divergence)
    if method == "sklearn":
        from sklearn.manifold import TSNE

        m = TSNE(n_components=n_components, perplexity=PERPLEXITY, max_iter=max(n_iter, 250), init="pca",
                 learning_rate="auto", method="barnes_hut", n_jobs=threads, random_state=0)
        Y = m.fit_transform(X)
        return Y, float(m.kl_divergence_)
    raise ValueError(method)


def worker_fit(method: str, dataset: str, n_components: int, threads: int, out: str) -> None:
    X, _ = make_dataset(dataset)
    rng = np.random.default_rng(0)
    warm = X[rng.choice(len(X), min(2000, len(X)), replace=False)]
    _fit(method, warm, n_components, threads, n_iter=30)
    if method == "ours" and len(X) > 20_000:
        from reducers.knn import knn_graph

        knn_graph(warm, 10, method="nndescent", n_jobs=threads)  # pynndescent compiles per process
    with timed() as t:
        Y, kl = _fit(method, X, n_components, threads)
    np.save(out, np.asarray(Y, dtype=np.float32))
    emit({"seconds": t["seconds"], "rss_mb": peak_rss_mb(), "kl": kl})


def worker_compile(threads: int) -> None:
    # Two fits of the same small problem in one fresh process: the first also loads (or
    # compiles) every kernel, 2-D FFT and 3-D Barnes-Hut paths included.
    X, _ = make_dataset("20k")
    X = X[:2000]
    start = time.perf_counter()
    from reducers import TSNE

    import_s = time.perf_counter() - start
    times = []
    for _ in range(2):
        with timed() as t:
            for d in (2, 3):
                TSNE(n_components=d, n_iter=30, exaggeration_iter=10, random_state=0, n_jobs=threads).fit(X)
        times.append(t["seconds"])
    emit({"import": import_s, "first": times[0], "second": times[1]})


# ----------------------------------------------------------------------------- parent


def label_accuracy(Y: np.ndarray, labels: np.ndarray, rows: np.ndarray, k: int = 10) -> float:
    """10-NN majority vote in the embedding for the sampled rows (the point itself left out)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(Y)
    idx = nn.kneighbors(Y[rows], return_distance=False)
    idx = np.array([r[r != i][:k] for r, i in zip(idx, rows)])
    votes = np.array([np.bincount(labels[r]).argmax() for r in idx])
    return float((votes == labels[rows]).mean())


def run_method(method: str, dataset: str, n_components: int, threads: int) -> dict:
    from reducers.quality import knn_preservation

    X, y = make_dataset(dataset)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "Y.npy")
        res = run_worker(SCRIPT, ["--worker", "fit", method, dataset, str(n_components), str(threads), out])
        Y = np.load(out)
    rows = np.random.default_rng(0).choice(len(X), min(5000, len(X)), replace=False)
    res.update(
        method=method, dataset=f"{dataset} ({X.shape[0]}x{X.shape[1]})", d=n_components,
        knn_pres=knn_preservation(X, Y, k=10, sample=5000, random_state=0),
        acc10=label_accuracy(Y, y, rows),
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="digits,70k", help="comma list of digits,20k,70k,250k")
    ap.add_argument("--methods", default="ours,opentsne,sklearn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-extra", action="store_true", help="skip 3-D vs 2-D and compile cost")
    ap.add_argument("--out", default="tsne.md", help="file name under benchmarks/results/")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "fit":
            worker_fit(rest[0], rest[1], int(rest[2]), int(rest[3]), rest[4])
        else:
            worker_compile(int(rest[0]))
        return

    rows: list[dict] = []
    methods = args.methods.split(",")
    for dataset in args.sizes.split(","):
        n = len(make_dataset(dataset)[0])
        for method in methods:
            if method == "sklearn" and n > SKLEARN_MAX:
                continue
            res = run_method(method, dataset, 2, args.threads)
            rows.append(res)
            print(res, flush=True)
        base = {r["method"]: r["seconds"] for r in rows if r["dataset"].startswith(dataset + " ")}
        for r in rows:
            if r["dataset"].startswith(dataset + " ") and "ours" in base:
                r["ours_vs_this"] = base["ours"] / r["seconds"]
    columns = ["dataset", "method", "d", "seconds", "ours_vs_this", "rss_mb", "kl", "knn_pres", "acc10"]
    text = [
        f"# t-SNE benchmark\n\n{platform.platform()}, {os.cpu_count()} cores, threads={args.threads}, "
        f"perplexity {PERPLEXITY:g}, 250 exaggerated + 500 normal iterations. "
        "`ours_vs_this` = our seconds / this method's seconds (below 1: ours is faster).\n",
        markdown_table(rows, columns),
    ]
    if not args.skip_extra:
        extra = [run_method("ours", "20k", d, args.threads) for d in (2, 3)]
        for r in extra:
            print(r, flush=True)
        ratio = extra[1]["seconds"] / extra[0]["seconds"]
        text += ["\n## Ours, 3-D vs 2-D, 20,000 points\n", markdown_table(extra, columns),
                 f"\n3-D / 2-D time: {ratio:.2f}\n"]
        comp = run_worker(SCRIPT, ["--worker", "compile", str(args.threads)])
        text += [
            "\n## Second-process compile cost (warm Numba disk cache)\n",
            f"Fresh process, 2,000 points, 2-D and 3-D fits of 30 iterations: import {comp['import']:.2f} s, "
            f"first {comp['first']:.2f} s, second {comp['second']:.2f} s; "
            f"compile/cache-load cost = first - second = {comp['first'] - comp['second']:.2f} s.\n",
        ]
    out = "\n".join(text)
    print(out)
    print(f"written to {write_results(args.out, out)}")


if __name__ == "__main__":
    main()

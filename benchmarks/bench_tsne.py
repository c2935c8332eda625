"""t-SNE: ours vs scikit-learn (Barnes-Hut) vs openTSNE (FFT), same data and schedule, side by side.

Usage:
    python -m benchmarks.bench_tsne                                # digits, text 5k/10k/20k
    python -m benchmarks.bench_tsne --sizes digits,text5k --methods ours,sklearn
    python -m benchmarks.bench_tsne --sizes mix70k,mix250k         # Gaussian mixtures
    python -m benchmarks.bench_tsne --sizes mix1m --methods ours,opentsne --opentsne-rows 500000 \
        --timeout 2700 --out bench_tsne-1m.md                            # 1,000,000 x 128 (long)
    python -m benchmarks.bench_tsne --extra                        # also 3-D vs 2-D and compile cost

Datasets: `digits` (scikit-learn's 1,797 x 64); `textN` (the first N rows of the 384-d
sentence embeddings in /work/shared/data/pypi-summaries, float16 read as float32, labelled by
their `topic` column); `mixN` (10 Gaussian clusters of different spreads, 50-d below 100,000
rows, 128-d from there; seeded, cached under benchmarks/data). N takes k/m suffixes.

Schedule: every method of a dataset runs the same iterations at perplexity 30, each with its
own defaults otherwise (learning rate "auto", PCA start, its own neighbour search). Up to
10,000 rows that is scikit-learn's default, max_iter=1000 (250 exaggerated + 750); above, it
is openTSNE's default, 250 + 500. `--n-iter` overrides both.

Each method runs in its own child process (so peak RSS is its own), after a warm-up on
2,000 rows in that process so compile time is not counted (ours also loads every repulsion
path and, above 20,000 rows, pynndescent's kernels). The timed fit includes the neighbour
search, affinities and all iterations. One run per cell: on a shared machine compare the
ratios within one invocation. Quality: KL divergence as each library reports it, kNN
preservation (k=10, 5,000 sampled rows, `reducers.quality`) and 10-NN label accuracy of the
same rows. `--opentsne-rows` runs openTSNE (and scikit-learn) on the first rows only when a
dataset is larger (the 1M run: openTSNE on 500,000 if it cannot finish in `--timeout`).
Writes the markdown to benchmarks/results/<--out> (bench_tsne*.md). On a machine shared with
other work, wall times swing with the load: `cpu_s` (CPU seconds of the fit) and the load
average are recorded beside them.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import DATA_DIR, emit, markdown_table, peak_rss_mb, run_worker, timed, write_results  # noqa: E402

SCRIPT = Path(__file__).resolve()
PERPLEXITY = 30.0
TEXT_DIR = Path("/work/shared/data/pypi-summaries")
DEFAULT_SIZES = "digits,text5k,text10k,text20k"
SKLEARN_MAX = 20_000
NAMES = {"ours": "ours", "sklearn": "scikit-learn", "opentsne": "openTSNE"}


def parse_rows(text: str) -> int:
    """'20k' -> 20000, '1m' -> 1000000, '5000' -> 5000."""
    text = text.lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def make_dataset(name: str, rows: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The named dataset (optionally its first `rows` rows) and its labels."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X, labels = X.astype(np.float32), y
    elif name.startswith("text"):
        n = parse_rows(name[4:])
        X = np.asarray(np.load(TEXT_DIR / "embeddings.npy", mmap_mode="r")[:n], dtype=np.float32)
        with open(TEXT_DIR / "metadata.tsv", newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t")
            topics = [row["topic"] for _, row in zip(range(n), reader)]
        labels = np.unique(topics, return_inverse=True)[1]
    elif name.startswith("mix"):
        X, labels = _mixture(parse_rows(name[3:]))
    else:
        raise ValueError(f"unknown dataset {name!r}")
    if rows is not None and rows < len(X):
        X, labels = X[:rows], labels[:rows]
    return X, labels


def _mixture(n: int) -> tuple[np.ndarray, np.ndarray]:
    dim = 128 if n >= 100_000 else 50
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"tsne_mixture_{n}x{dim}.npy"
    rng = np.random.default_rng(42)
    centers = rng.normal(size=(10, dim)) * 3.0
    spreads = np.linspace(0.5, 2.0, 10)
    y = rng.integers(0, 10, n)
    if path.exists():
        return np.load(path, mmap_mode="r"), y
    X = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):  # bounded temporaries at 1M rows
        stop = min(n, start + 100_000)
        X[start:stop] = centers[y[start:stop]] + rng.normal(size=(stop - start, dim)) * spreads[y[start:stop], None]
    np.save(path, X)
    return X, y


def default_iters(n: int) -> int:
    return 1000 if n <= 10_000 else 750


# ----------------------------------------------------------------------------- workers


def _fit(method: str, X: np.ndarray, n_components: int, threads: int, n_iter: int):
    exaggerated = min(250, n_iter)
    if method == "ours":
        from reducers import TSNE

        m = TSNE(
            n_components=n_components, perplexity=PERPLEXITY, n_iter=n_iter, exaggeration_iter=exaggerated,
            random_state=0, n_jobs=threads,
        )  # fmt: skip
        Y = m.fit_transform(X)
        return Y, m.kl_divergence_
    if method == "opentsne":
        from openTSNE import TSNE

        e = TSNE(
            n_components=n_components, perplexity=PERPLEXITY, n_iter=n_iter - exaggerated,
            early_exaggeration_iter=exaggerated, negative_gradient_method="fft", n_jobs=threads, random_state=0,
            verbose=False,
        ).fit(X)  # fmt: skip
        return np.asarray(e), float(e.kl_divergence)
    if method == "sklearn":
        from sklearn.manifold import TSNE

        m = TSNE(
            n_components=n_components, perplexity=PERPLEXITY, max_iter=max(n_iter, 250), init="pca",
            learning_rate="auto", method="barnes_hut", n_jobs=threads, random_state=0,
        )  # fmt: skip
        Y = m.fit_transform(X)
        return Y, float(m.kl_divergence_)
    raise ValueError(method)


def worker_fit(method: str, dataset: str, rows: int, n_components: int, threads: int, n_iter: int, out: str) -> None:
    X, _ = make_dataset(dataset, rows)
    X = np.ascontiguousarray(X, dtype=np.float32)
    rng = np.random.default_rng(0)
    warm = X[np.sort(rng.choice(len(X), min(2000, len(X)), replace=False))]
    _fit(method, warm, n_components, threads, n_iter=250 if method == "sklearn" else 30)
    if method == "ours":
        from reducers.tsne.gradients import warm_kernels

        warm_kernels()
        if len(X) > 20_000:
            from reducers.knn import knn_graph

            knn_graph(warm, 10, method="nndescent", n_jobs=threads)  # pynndescent compiles per process
    cpu = time.process_time()
    with timed() as t:
        Y, kl = _fit(method, X, n_components, threads, n_iter)
    cpu = time.process_time() - cpu
    np.save(out, np.asarray(Y, dtype=np.float32))
    emit({"seconds": t["seconds"], "cpu_s": cpu, "rss_mb": peak_rss_mb(), "kl": kl, "load": os.getloadavg()[0]})


def worker_compile(threads: int) -> None:
    # Two fits of the same small problem in one fresh process: the first also loads (or
    # compiles) every kernel, 2-D and 3-D paths included.
    X, _ = make_dataset("mix20k")
    X = np.ascontiguousarray(X[:2000])
    start = time.perf_counter()
    from reducers import TSNE
    from reducers.tsne.gradients import warm_kernels

    import_s = time.perf_counter() - start
    times = []
    for _ in range(2):
        with timed() as t:
            warm_kernels()
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


def run_method(method: str, dataset: str, rows: int, n_components: int, threads: int, n_iter: int, timeout: float | None) -> dict:
    from reducers.quality import knn_preservation

    X, labels = make_dataset(dataset, rows)
    row = {
        "dataset": f"{dataset} ({X.shape[0]:,}×{X.shape[1]})",
        "method": NAMES[method],
        "d": n_components,
        "iters": f"{min(250, n_iter)}+{n_iter - min(250, n_iter)}",
    }
    args = ["--worker", "fit", method, dataset, str(rows), str(n_components), str(threads), str(n_iter)]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "Y.npy")
        try:
            res = run_worker(SCRIPT, [*args, out], timeout=timeout)
        except subprocess.TimeoutExpired:
            return {**row, "seconds": None, "note": f"did not finish in {timeout:g} s"}
        Y = np.load(out)
    sample = np.random.default_rng(0).choice(len(X), min(5000, len(X)), replace=False)
    spread = np.sqrt(np.linalg.eigvalsh(np.cov(Y.T.astype(np.float64))))
    return {
        **row,
        **res,
        "knn_pres": knn_preservation(np.asarray(X), Y, k=10, sample=5000, random_state=0),
        "acc10": label_accuracy(Y, labels, sample) if labels is not None else None,
        "note": "degenerate layout" if not spread[0] > 1e-3 * spread[-1] else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="comma list: digits, textN (N <= 30k), mixN (e.g. mix70k, mix1m)")
    ap.add_argument("--methods", default="ours,opentsne,sklearn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-iter", type=int, default=0, help="iterations including 250 exaggerated (0: per dataset, see above)")
    ap.add_argument("--sklearn-max", type=int, default=SKLEARN_MAX, help="skip scikit-learn above this many rows")
    ap.add_argument("--opentsne-rows", type=int, default=0, help="run the peers on the first rows only (0: all)")
    ap.add_argument("--timeout", type=float, default=0, help="seconds before a method's run is given up (0: none)")
    ap.add_argument("--extra", action="store_true", help="also ours 3-D vs 2-D on text20k and the compile cost")
    ap.add_argument("--out", default="bench_tsne.md", help="file name under benchmarks/results/")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "fit":
            worker_fit(rest[0], rest[1], int(rest[2]), int(rest[3]), int(rest[4]), int(rest[5]), rest[6])
        else:
            worker_compile(int(rest[0]))
        return

    timeout = args.timeout or None
    rows: list[dict] = []
    for dataset in args.sizes.split(","):
        n = len(make_dataset(dataset)[0])
        n_iter = args.n_iter or default_iters(n)
        block = []
        for method in args.methods.split(","):
            m_rows = n if method == "ours" or not args.opentsne_rows else min(n, args.opentsne_rows)
            if method == "sklearn" and m_rows > args.sklearn_max:
                continue
            res = run_method(method, dataset, m_rows, 2, args.threads, n_iter, timeout)
            block.append(res)
            print(res, flush=True)
        ours = next((r for r in block if r["method"] == "ours"), None)
        for r in block:
            # Seconds per row when the peer ran on fewer rows (the 1M run): a lower bound on its ratio.
            if ours and ours.get("seconds") and r.get("seconds"):
                same_rows = r["dataset"] == ours["dataset"]
                r["ours_vs_this"] = ours["seconds"] / r["seconds"] if same_rows else None
                r["cpu_ratio"] = ours["cpu_s"] / r["cpu_s"] if same_rows and r.get("cpu_s") else None
        rows += block
    columns = ["dataset", "method", "d", "iters", "seconds", "ours_vs_this", "cpu_s", "cpu_ratio", "load", "rss_mb", "kl"]
    columns += ["knn_pres", "acc10", "note"]
    text = [
        f"# t-SNE benchmark\n\n{platform.platform()}, {os.cpu_count()} cores, threads={args.threads}, "
        f"perplexity {PERPLEXITY:g}, one run per cell. `iters` = exaggerated + normal iterations, the same for "
        "every method of a dataset. `ours_vs_this` = our seconds / this method's seconds (below 1: ours is "
        "faster). `cpu_s`: CPU seconds of the fit, every thread (a spinning OpenMP wait counts too), and "
        "`cpu_ratio` ours / this; `load`: 1-minute load average when the fit ended. `knn_pres`: 10-NN preservation of 5,000 sampled rows; `acc10`: 10-NN label accuracy "
        "(digit, topic or cluster).\n",
        markdown_table(rows, columns),
    ]
    if args.extra:
        extra = [run_method("ours", "text20k", 20_000, d, args.threads, 750, timeout) for d in (2, 3)]
        ratio = extra[1]["seconds"] / extra[0]["seconds"]
        text += ["\n## Ours, 3-D vs 2-D, text20k\n", markdown_table(extra, columns), f"\n3-D / 2-D time: {ratio:.2f}\n"]
        comp = run_worker(SCRIPT, ["--worker", "compile", str(args.threads)])
        text += [
            "\n## Second-process compile cost (warm Numba disk cache)\n",
            f"Fresh process, every repulsion path plus 2,000-row 2-D and 3-D fits of 30 iterations: import "
            f"{comp['import']:.2f} s, first {comp['first']:.2f} s, second {comp['second']:.2f} s; "
            f"cache-load cost = first - second = {comp['first'] - comp['second']:.2f} s.\n",
        ]
    out = "\n".join(text)
    print(out)
    print(f"written to {write_results(args.out, out)}")


if __name__ == "__main__":
    main()

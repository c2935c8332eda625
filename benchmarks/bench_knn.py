"""kNN graph: our block graph vs pynndescent (today's path), hnswlib and faiss, side by side.

Usage:
    python -m benchmarks.bench_knn                                   # mix100k, text30k
    python -m benchmarks.bench_knn --sizes mix1m --methods blocks,pynndescent --k 15
    python -m benchmarks.bench_knn --sizes text30k --methods blocks,exact,pynndescent,hnswlib,faiss

Datasets: `mixN` is the 20-cluster 128-d Gaussian mixture of `benchmarks._service.clustered`
(the service benchmarks' data; N with k/m suffixes; cached as .npy under benchmarks/data);
`textN` the first N rows of the 384-d sentence embeddings in /work/shared/data/pypi-summaries
(cosine). Methods: `blocks` (`reducers.knn_blocks`, the service's default above the exact
threshold), `service` (what a job runs: `projector.jobs.graphs.GraphSource` writing the
graph cache of a dataset folder, blocks one after the other, the graph's k as the service
chooses it), `blocks@N` (blocks of at most N rows, to run the block path on a small input
such as the 30,000 rows of text), `exact` (`reducers.knn`'s brute force), `pynndescent` (what the service used
before, `low_memory`, `compressed`), `hnswlib` (M=16, ef_construction=200, ef=max(2k, 50)),
`faiss` (IVF-Flat, 4*sqrt(n) lists trained on 64 rows a list, nprobe 10% of the lists).

Each method runs in a fresh child process on the memory-mapped .npy, after a warm-up on
5,000 rows in that process (so compile time is not counted; `compile s` shows it), with
every core. Peak RSS is the child's high-water mark, the mapped tensor included. Recall@10 is
measured on 1,000 sampled rows against exact search in float64, ties counted as hits (a
returned neighbour at the true 10th distance is correct: the text has duplicate rows). CPU s
is the child's CPU time for the timed build: on a shared machine it moves less than wall
time. Writes the markdown to benchmarks/results/knn.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import DATA_DIR, emit, markdown_table, peak_rss_mb, run_worker, write_results  # noqa: E402

SCRIPT = Path(__file__).resolve()
TEXT = Path("/work/shared/data/pypi-summaries/embeddings.npy")
SAMPLE = 1000


def parse_rows(text: str) -> int:
    text = text.lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def dataset(name: str) -> tuple[Path, str]:
    """Path of the dataset's float32 .npy (made once) and its metric."""
    DATA_DIR.mkdir(exist_ok=True)
    n = parse_rows(name[4:] if name.startswith("text") else name[3:])
    if name.startswith("text"):
        path = DATA_DIR / f"knn_text_{n}.npy"
        if not path.exists():
            np.save(path, np.asarray(np.load(TEXT, mmap_mode="r")[:n], dtype=np.float32))
        return path, "cosine"
    path = DATA_DIR / f"knn_mixture_{n}x128.npy"
    if not path.exists():
        from benchmarks._service import clustered

        np.save(path, clustered(n, 128))
    return path, "euclidean"


def ground_truth(X: np.ndarray, rows: np.ndarray, metric: str, k: int = 10) -> np.ndarray:
    """Exact distance of each sampled row's k-th nearest other row (float32 scan, float64 re-rank)."""
    queries = np.asarray(X[rows], dtype=np.float64)
    if metric == "cosine":
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    q32 = queries.astype(np.float32)
    best = np.full((len(rows), 64), np.inf, dtype=np.float32)
    best_id = np.zeros((len(rows), 64), dtype=np.int64)
    for start in range(0, X.shape[0], 65536):
        chunk = np.asarray(X[start : start + 65536], dtype=np.float32)
        if metric == "cosine":
            key = -(q32 @ (chunk / np.linalg.norm(chunk, axis=1, keepdims=True)).T)
        else:
            key = np.einsum("ij,ij->i", chunk, chunk)[None, :] - 2 * (q32 @ chunk.T)
        inside = np.flatnonzero((rows >= start) & (rows < start + len(chunk)))
        key[inside, rows[inside] - start] = np.inf
        top = np.argpartition(key, 63, axis=1)[:, :64]
        merged = np.concatenate([best, np.take_along_axis(key, top, 1)], 1)
        merged_id = np.concatenate([best_id, top + start], 1)
        keep = np.argpartition(merged, 63, axis=1)[:, :64]
        best, best_id = np.take_along_axis(merged, keep, 1), np.take_along_axis(merged_id, keep, 1)
    return np.array([np.sort(exact_distances(X, r, ids, metric))[k - 1] for r, ids in zip(rows, best_id)])


def exact_distances(X: np.ndarray, row: int, ids: np.ndarray, metric: str) -> np.ndarray:
    q = np.asarray(X[row], dtype=np.float64)
    others = np.asarray(X[np.asarray(ids)], dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(others, axis=1) * np.linalg.norm(q)
        return 1.0 - (others @ q) / np.where(norms > 0, norms, 1.0)
    return np.sqrt(((others - q) ** 2).sum(1))


def recall_at_10(X: np.ndarray, rows: np.ndarray, kth: np.ndarray, indices: np.ndarray, metric: str) -> float:
    hits = 0
    for row, neighbours, limit in zip(rows, indices[:, :10], kth):
        hits += int((exact_distances(X, row, neighbours, metric) <= limit * (1 + 1e-6) + 1e-9).sum())
    return hits / (10 * len(rows))


# ----------------------------------------------------------------------------- workers


def build(method: str, X: np.ndarray, k: int, metric: str) -> np.ndarray:
    """The k-neighbour graph's indices (self excluded) by `method`."""
    n = X.shape[0]
    if method == "service":
        import shutil
        import tempfile

        from projector.data.layout import DatasetFiles
        from projector.jobs.graphs import GraphSource

        folder = Path(tempfile.mkdtemp(prefix="bench-knn-", dir=DATA_DIR))
        try:
            return np.array(GraphSource(DatasetFiles(folder), X, random_state=0).get(metric, k).indices)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if method.startswith("blocks@"):  # blocks of at most this many rows: the block path on a small input
        from reducers.knn_blocks import build_graph

        return build_graph(X, k, metric, 0, max_block_rows=int(method[7:]))[0]
    if method in ("blocks", "exact", "pynndescent"):
        from reducers.knn import knn_graph

        return knn_graph(X, k, metric=metric, method={"pynndescent": "nndescent"}.get(method, method), random_state=0).indices
    if method == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="l2" if metric == "euclidean" else "cosine", dim=X.shape[1])
        index.init_index(max_elements=n, ef_construction=200, M=16, random_seed=0)
        index.set_num_threads(os.cpu_count() or 1)
        index.add_items(X, np.arange(n))
        index.set_ef(max(2 * k, 50))
        labels, _ = index.knn_query(X, k + 1)
        return _drop_self(labels, k)
    if method == "faiss":
        import faiss

        Z = np.ascontiguousarray(X, dtype=np.float32)
        if metric == "cosine":
            Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-30)
        n_lists = max(1, int(4 * np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(Z.shape[1]), Z.shape[1], n_lists)
        index.train(Z[np.random.default_rng(0).choice(n, min(n, 64 * n_lists), replace=False)])
        index.add(Z)
        index.nprobe = max(1, n_lists // 10)
        _, labels = index.search(Z, k + 1)
        return _drop_self(labels, k)
    raise ValueError(f"unknown method {method!r}")


def _drop_self(labels: np.ndarray, k: int) -> np.ndarray:
    n = labels.shape[0]
    is_self = labels == np.arange(n)[:, None]
    # Rows where the point itself is missing keep their first k; others drop it.
    order = np.argsort(is_self, axis=1, kind="stable")
    return np.take_along_axis(labels, order, axis=1)[:, :k]


def _rss_parts() -> tuple[float, float]:
    """(anonymous, file-backed) resident MiB of this process: the mapped tensor and graph files are the latter."""
    parts = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
            parts[line.split(":")[0]] = int(line.split()[1]) / 1024
    return parts.get("RssAnon", 0.0), parts.get("RssFile", 0.0) + parts.get("RssShmem", 0.0)


def worker(method: str, path: str, k: int, metric: str, truth_path: str) -> None:
    import threading

    X = np.load(path, mmap_mode="r")
    start = time.perf_counter()
    build(method, np.ascontiguousarray(X[:5000]), min(k, 15), metric)
    compile_s = time.perf_counter() - start
    peaks = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            anon, mapped = _rss_parts()
            peaks[0], peaks[1] = max(peaks[0], anon), max(peaks[1], mapped)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = time.process_time()
    start = time.perf_counter()
    indices = build(method, X, k, metric)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    done.set()
    sampler.join()
    peak = peak_rss_mb()
    truth = np.load(truth_path)
    recall = recall_at_10(X, truth["rows"], truth["kth"], indices[truth["rows"]], metric)
    emit({"seconds": seconds, "cpu": cpu, "compile": compile_s, "recall": recall, "peak": peak, "anon": peaks[0], "mapped": peaks[1]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="mix100k,text30k")
    parser.add_argument("--methods", default="blocks,pynndescent,hnswlib,faiss")
    parser.add_argument("--k", type=int, default=15, help="neighbours per row (UMAP's default needs 14; t-SNE at perplexity 30, 90)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", default="knn.md")
    parser.add_argument("--worker", nargs=5, metavar=("METHOD", "PATH", "K", "METRIC", "TRUTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, path, k, metric, truth = args.worker
        worker(method, path, int(k), metric, truth)
        return
    rows = []
    for name in args.sizes.split(","):
        path, metric = dataset(name)
        X = np.load(path, mmap_mode="r")
        truth_path = path.with_name(path.stem + f".truth-{SAMPLE}.npz")
        if not truth_path.exists():
            sample = np.sort(np.random.default_rng(7).choice(X.shape[0], SAMPLE, replace=False))
            np.savez(truth_path, rows=sample, kth=ground_truth(X, sample, metric))
        tensor_mb = X.nbytes / 2**20
        for method in args.methods.split(","):
            try:
                r = run_worker(SCRIPT, ["--worker", method, str(path), str(args.k), metric, str(truth_path)], timeout=args.timeout)
            except Exception as error:  # a peer that fails or times out is reported, not fatal
                print(f"{name} {method}: {str(error).splitlines()[0][:200]}", file=sys.stderr, flush=True)
                continue
            row = {
                "data": f"{name} ({X.shape[0]:,} x {X.shape[1]}, {metric})", "method": method, "k": args.k,
                "seconds": r["seconds"], "CPU s": r["cpu"], "compile s": r["compile"], "recall@10": r["recall"],
                "peak RSS MB": r["peak"], "RSS / tensor": r["peak"] / tensor_mb,
                "of it anonymous / mapped files MB": f"{r.get('anon', 0):,.0f} / {r.get('mapped', 0):,.0f}",
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    columns = [
        "data",
        "method",
        "k",
        "seconds",
        "CPU s",
        "compile s",
        "recall@10",
        "peak RSS MB",
        "RSS / tensor",
        "of it anonymous / mapped files MB",
    ]
    table = markdown_table(rows, columns) + f"\n\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores, shared)"
    print(table)
    write_results(args.out, table + "\n")


if __name__ == "__main__":
    main()

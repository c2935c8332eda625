"""Neighbour lookups over HTTP: the service's default (int8 copy + exact re-ranking) beside `exact=true`.

Usage:
    python -m benchmarks.bench_neighbors [--sizes mix1m,text30k] [--queries 200] [--k 10]

One invocation, one server per dataset: upload, wait for the int8 copy the upload starts (the
time it took is reported), then the same query rows three ways: default lookups, `exact=true`
lookups (the full float32 scan), and numpy brute force in this process (the floor of a scan).
Recall@10 of the default against the exact answers, ties counted as hits (a neighbour at the
true 10th distance is correct). `mixN`: the 20-cluster 128-d Gaussian mixture; `textN`: the
first N rows of the 384-d sentence embeddings in /work/shared/data/pypi-summaries (30,000 rows
there; below `APPROXIMATE_FROM` the service scans exactly, so for text the int8 search is also
run in this process, exactly as the service runs it). Writes benchmarks/results/neighbors.md.

Target (issue 13, 1): p99 <= 50 ms at 1,000,000 x 128 over HTTP with recall@10 >= 0.99.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import time

import numpy as np

from benchmarks._common import markdown_table, write_results
from benchmarks._service import Server, clustered, percentile_ms
from projector.data.neighbors import APPROXIMATE_FROM, CANDIDATES_PER_K
from reducers.quantized import QuantizedIndex

TEXT = "/work/shared/data/pypi-summaries/embeddings.npy"


def load(name: str) -> tuple[np.ndarray, list[str]]:
    """The float32 rows of dataset `name` and the metrics to measure on it."""
    digits = name[4:] if name.startswith("text") else name[3:]
    n = int(float(digits.rstrip("km")) * {"k": 1_000, "m": 1_000_000}.get(digits[-1:], 1))
    if name.startswith("text"):
        return np.asarray(np.load(TEXT, mmap_mode="r")[:n], dtype=np.float32), ["cosine"]
    return clustered(n, 128), ["cosine", "euclidean"]


def lookups(server: Server, dataset: str, rows: np.ndarray, k: int, metric: str, exact: bool) -> tuple[list[float], list[dict]]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=120)
    times, answers = [], []
    for index in rows:
        started = time.perf_counter()
        connection.request(
            "GET", f"/api/datasets/{dataset}/neighbors?index={index}&k={k}&metric={metric}&rows=false&exact={str(exact).lower()}"
        )
        response = connection.getresponse()
        body = response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, body
        answers.append(json.loads(body))
    return times, answers


def recall(approx: list[list[float]], approx_ids: list[list[int]], truth: list[list[float]], truth_ids: list[list[int]]) -> float:
    """Share of returned neighbours that are true ones (same row, or at most the true k-th distance)."""
    hits = total = 0
    for dist, ids, true_dist, true_ids in zip(approx, approx_ids, truth, truth_ids):
        limit = true_dist[-1] * (1 + 1e-6) + 1e-9
        hits += sum(1 for i, d in zip(ids, dist) if i in true_ids or d <= limit)
        total += len(true_ids)
    return hits / max(total, 1)


def numpy_floor(X: np.ndarray, rows: np.ndarray, k: int, metric: str) -> list[float]:
    """One query at a time: products with every float32 row, then argpartition (no re-ranking)."""
    base = X / np.linalg.norm(X, axis=1, keepdims=True) if metric == "cosine" else X
    sq = np.einsum("ij,ij->i", X, X)
    times = []
    for index in rows:
        started = time.perf_counter()
        scores = base @ base[index]
        key = -scores if metric == "cosine" else sq - 2 * scores
        np.argpartition(key, k + 1)[: k + 1]
        times.append(time.perf_counter() - started)
    return times


def wait_for_copy(server: Server, dataset: str, metric: str, timeout: float = 900) -> float:
    """Seconds until lookups stop being exact scans (the int8 copy is ready)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        _, [answer] = lookups(server, dataset, np.array([0]), 10, metric, False)
        if not answer["exact"]:
            return time.perf_counter() - started
        time.sleep(0.5)
    raise TimeoutError(f"no int8 copy for {metric} after {timeout} s")


def upload(server: Server, X: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, X)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=900)
    connection.request("POST", "/api/datasets", body=buffer.getvalue(), headers={"Content-Type": "application/x-npy"})
    return str(json.loads(connection.getresponse().read())["id"])


def in_process(X: np.ndarray, rows: np.ndarray, k: int, metric: str) -> tuple[list[float], float, list[float]]:
    """The service's int8 search run here (for data below the service's threshold): times, recall, exact-scan times."""
    index = QuantizedIndex.build(X, metric)
    index.search(X[rows[:2]], k, rows[:2])
    times, got, got_ids, truth, truth_ids, exact_times = [], [], [], [], [], []
    full = QuantizedIndex(metric, X, index.codes, index.offset, index.scale, index.terms)
    for row in rows:
        started = time.perf_counter()
        ids, dist = index.search(X[row : row + 1], k, np.array([row]), CANDIDATES_PER_K * k + 16)
        times.append(time.perf_counter() - started)
        got_ids.append(ids[0].tolist())
        got.append(dist[0].tolist())
        started = time.perf_counter()
        ids, dist = full.search(X[row : row + 1], k, np.array([row]), X.shape[0] - 1)  # every row re-ranked: exact
        exact_times.append(time.perf_counter() - started)
        truth_ids.append(ids[0].tolist())
        truth.append(dist[0].tolist())
    return times, recall(got, got_ids, truth, truth_ids), exact_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="mix1m,text30k")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", default="neighbors.md")
    args = parser.parse_args()
    table = []
    notes = [f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)"]
    for name in args.sizes.split(","):
        X, metrics = load(name)
        n, dim = X.shape
        label = f"{name} ({n:,} x {dim})"
        rows = np.random.default_rng(1).integers(0, n, args.queries)
        for metric in metrics:
            floor = numpy_floor(X, rows, args.k, metric)
            table.append(
                {
                    "data": label,
                    "metric": metric,
                    "what": "numpy brute force in-process (floor of a scan)",
                    "p50 ms": percentile_ms(floor, 50),
                    "p99 ms": percentile_ms(floor, 99),
                }
            )
        if n < APPROXIMATE_FROM:
            for metric in metrics:
                times, r, exact_times = in_process(X, rows, args.k, metric)
                table.append(
                    {
                        "data": label,
                        "metric": metric,
                        "what": "int8 scan + re-rank, in-process",
                        "p50 ms": percentile_ms(times, 50),
                        "p99 ms": percentile_ms(times, 99),
                        "recall@10": r,
                    }
                )
                table.append(
                    {
                        "data": label,
                        "metric": metric,
                        "what": "every row re-ranked in float64, in-process",
                        "p50 ms": percentile_ms(exact_times, 50),
                        "p99 ms": percentile_ms(exact_times, 99),
                        "recall@10": 1.0,
                    }
                )
        server = Server()
        try:
            started = time.perf_counter()
            dataset = upload(server, X)
            notes.append(f"{label}: upload {time.perf_counter() - started:.1f} s")
            del X
            for metric in metrics:
                if n >= APPROXIMATE_FROM:
                    notes.append(f"{label}: int8 copy ({metric}) ready {wait_for_copy(server, dataset, metric):.1f} s after asking")
                lookups(server, dataset, rows[:3], args.k, metric, True)  # the unit rows / norms cache
                approx_t, approx = lookups(server, dataset, rows, args.k, metric, False)
                exact_t, exact = lookups(server, dataset, rows, args.k, metric, True)
                r = recall(
                    [[x["distance"] for x in a["neighbors"]] for a in approx], [[x["index"] for x in a["neighbors"]] for a in approx],
                    [[x["distance"] for x in a["neighbors"]] for a in exact], [[x["index"] for x in a["neighbors"]] for a in exact],
                )  # fmt: skip
                how = "int8 copy + re-rank" if not approx[0]["exact"] else "exact scan (below the threshold)"
                table.append(
                    {
                        "data": label,
                        "metric": metric,
                        "what": f"projector over HTTP, default ({how})",
                        "p50 ms": percentile_ms(approx_t, 50),
                        "p99 ms": percentile_ms(approx_t, 99),
                        "recall@10": r,
                    }
                )
                table.append(
                    {
                        "data": label,
                        "metric": metric,
                        "what": "projector over HTTP, exact=true",
                        "p50 ms": percentile_ms(exact_t, 50),
                        "p99 ms": percentile_ms(exact_t, 99),
                        "recall@10": 1.0,
                    }
                )
                table.append(
                    {
                        "data": label,
                        "metric": metric,
                        "what": "ratio default / exact=true (p99)",
                        "p99 ms": percentile_ms(approx_t, 99) / percentile_ms(exact_t, 99),
                    }
                )
                print(json.dumps(table[-3:]), flush=True)
        finally:
            server.close()
    notes.append(f"load average at end: {os.getloadavg()[0]:.1f}")
    text = (
        markdown_table(table, ["data", "metric", "what", "p50 ms", "p99 ms", "recall@10"])
        + "\n\n"
        + "\n".join(f"- {n}" for n in notes)
        + "\n"
    )
    print(text)
    write_results(args.out, text)


if __name__ == "__main__":
    main()

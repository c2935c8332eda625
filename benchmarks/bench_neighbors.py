"""Exact neighbour query latency over HTTP, next to numpy brute force in-process (the floor).

Usage:
    python -m benchmarks.bench_neighbors [--sizes 100000x384,1000000x128] [--queries 200]

Target (issue 2): p99 at most 50 ms at 1,000,000 x 128 (this measures exact search).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import time

import numpy as np

from benchmarks._service import Server, clustered, percentile_ms


def numpy_floor(X: np.ndarray, queries: np.ndarray, k: int) -> list[float]:
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    times = []
    for index in queries:
        started = time.perf_counter()
        scores = unit @ unit[index]
        top = np.argpartition(-scores, k + 1)[: k + 1]
        top[np.argsort(-scores[top])]
        times.append(time.perf_counter() - started)
    return times


def http_queries(server: Server, dataset_id: str, queries: np.ndarray, k: int, metric: str) -> list[float]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    times = []
    for index in queries:
        started = time.perf_counter()
        connection.request("GET", f"/api/datasets/{dataset_id}/neighbors?index={index}&k={k}&metric={metric}")
        response = connection.getresponse()
        body = response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, body
    return times


def upload(server: Server, X: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, X)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
    connection.request("POST", "/api/datasets", body=buffer.getvalue(), headers={"Content-Type": "application/x-npy"})
    return str(json.loads(connection.getresponse().read())["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000x384,1000000x128")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    print("| data | what | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for size in args.sizes.split(","):
        n, dim = (int(v) for v in size.split("x"))
        X = clustered(n, dim)
        queries = np.random.default_rng(1).integers(0, n, args.queries)
        floor = numpy_floor(X, queries, args.k)
        print(f"| {n:,} x {dim} | numpy brute force, in-process (cosine) | {percentile_ms(floor, 50):.1f} | {percentile_ms(floor, 99):.1f} |")
        server = Server()
        try:
            dataset_id = upload(server, X)
            del X
            for metric in ("cosine", "euclidean"):
                http_queries(server, dataset_id, queries[:3], args.k, metric)  # builds the normalised copy / norms once
                times = http_queries(server, dataset_id, queries, args.k, metric)
                print(f"| {n:,} x {dim} | projector over HTTP ({metric}) | {percentile_ms(times, 50):.1f} | {percentile_ms(times, 99):.1f} |")
        finally:
            server.close()


if __name__ == "__main__":
    main()

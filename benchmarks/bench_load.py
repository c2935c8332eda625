"""A bounded load test on loopback: neighbour queries, metadata and coordinate reads, and uploads,
mixed from several client threads at once.

Usage:
    python -m benchmarks.bench_load [--rows 100000] [--dim 128] [--clients 8] [--seconds 30]

Reports requests/s and latency per kind, the error count, and how many uploaded datasets are
missing afterwards. Targets (issue 7): zero errors, zero lost datasets.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import random
import threading
import time
from collections import defaultdict

import numpy as np

from benchmarks._service import Server, clustered, percentile_ms

MIX = (("neighbors", 0.4), ("coords", 0.3), ("metadata", 0.2), ("upload", 0.1))


def small_upload() -> tuple[bytes, str]:
    X = np.random.default_rng().normal(size=(1000, 64)).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, X)
    boundary = "benchboundary"
    labels = "".join(f"item{i}\n" for i in range(1000)).encode()
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"tensor\"; filename=\"t.npy\"\r\n\r\n".encode()
        + buffer.getvalue()
        + f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"m.tsv\"\r\n\r\n".encode()
        + labels
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    server = Server("--workers", "2")
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
        buffer = io.BytesIO()
        np.save(buffer, clustered(args.rows, args.dim))
        labels = "".join(f"row{i}\n" for i in range(args.rows)).encode()
        body = (
            b"--b\r\nContent-Disposition: form-data; name=\"tensor\"; filename=\"t.npy\"\r\n\r\n" + buffer.getvalue()
            + b"\r\n--b\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"m.tsv\"\r\n\r\n" + labels + b"\r\n--b--\r\n"
        )  # fmt: skip
        connection.request("POST", "/api/datasets?name=load", body=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
        dataset = json.loads(connection.getresponse().read())["id"]
        request = json.dumps({"method": "pca", "dims": 3}).encode()
        connection.request("POST", f"/api/datasets/{dataset}/projections", body=request, headers={"Content-Type": "application/json"})
        pid = json.loads(connection.getresponse().read())["id"]
        while True:
            connection.request("GET", f"/api/projections/{pid}")
            if json.loads(connection.getresponse().read())["status"] == "done":
                break
            time.sleep(0.2)

        latencies: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        uploaded: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        payload, content_type = small_upload()

        def client(seed: int) -> None:
            rng = random.Random(seed)
            conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
            while time.monotonic() < deadline:
                kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
                if kind == "neighbors":
                    method, path, body, headers = "GET", f"/api/datasets/{dataset}/neighbors?index={rng.randrange(args.rows)}&k=10", None, {}
                elif kind == "coords":
                    method, path, body, headers = "GET", f"/api/projections/{pid}/coords", None, {}
                elif kind == "metadata":
                    method, path, body, headers = "GET", f"/api/datasets/{dataset}/metadata", None, {}
                else:
                    method, path, body, headers = "POST", "/api/datasets?name=load-upload", payload, {"Content-Type": content_type}
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    status = response.status
                except OSError as exc:
                    status, data = 0, str(exc).encode()
                    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[kind].append(elapsed)
                    if status >= 400 or status == 0:
                        errors.append(f"{kind}: {status} {data[:120]!r}")
                    elif kind == "upload":
                        uploaded.append(json.loads(data)["id"])

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)  # the old one idled out
        connection.request("GET", "/api/datasets")
        listed = {d["id"] for d in json.loads(connection.getresponse().read())}
        lost = [i for i in uploaded if i not in listed]
        total = sum(len(v) for v in latencies.values())
        print(f"{args.clients} clients for {wall:.1f} s on a {args.rows:,} x {args.dim} dataset: {total / wall:,.0f} requests/s")
        print("| kind | requests | req/s | p50 ms | p99 ms |")
        print("|---|---|---|---|---|")
        for kind, _ in MIX:
            samples = latencies[kind]
            if samples:
                print(f"| {kind} | {len(samples)} | {len(samples) / wall:,.1f} | {percentile_ms(samples, 50):.1f} | {percentile_ms(samples, 99):.1f} |")
        print(f"errors: {len(errors)}; uploads: {len(uploaded)}, lost: {len(lost)}")
        for error in errors[:5]:
            print("  ", error)
    finally:
        server.close()


if __name__ == "__main__":
    main()

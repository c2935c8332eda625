"""Upload throughput and the server's peak memory for a large raw .npy over loopback HTTP.

Usage:
    python -m benchmarks.bench_ingest [--rows 1000000] [--dim 128] [--repeats 2]

Targets (issue 2): at least 150 MB/s, server peak RSS at most 3x the tensor's size.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import time

import numpy as np

from benchmarks._service import Server, clustered, peak_rss_mb

CHUNK = 1 << 22


def upload(server: Server, array: np.ndarray) -> tuple[float, dict]:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    raw = memoryview(array.reshape(-1)).cast("B")
    connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
    started = time.perf_counter()
    connection.putrequest("POST", "/api/datasets?name=bench")
    connection.putheader("Content-Type", "application/x-npy")
    connection.putheader("Content-Length", str(len(header.getvalue()) + len(raw)))
    connection.endheaders()
    connection.send(header.getvalue())
    for start in range(0, len(raw), CHUNK):
        connection.send(raw[start : start + CHUNK])
    response = connection.getresponse()
    body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if response.status != 201:
        raise RuntimeError(body)
    return elapsed, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    array = clustered(args.rows, args.dim)
    size_mb = array.nbytes / 1e6
    print(f"tensor: {args.rows:,} x {args.dim} float32 = {size_mb:,.0f} MB")
    print("| run | seconds | MB/s | server peak RSS (MB) | RSS / tensor |")
    print("|---|---|---|---|---|")
    for run in range(1, args.repeats + 1):
        server = Server()  # a fresh process each run, so its peak RSS is this upload's alone
        try:
            baseline = peak_rss_mb(server.pid)
            seconds, _ = upload(server, array)
            peak = peak_rss_mb(server.pid)
        finally:
            server.close()
        print(f"| {run} | {seconds:.2f} | {size_mb / seconds:,.0f} | {peak:,.0f} (idle {baseline:,.0f}) | {peak / size_mb:.2f}x |")


if __name__ == "__main__":
    main()

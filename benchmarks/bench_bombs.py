"""Hostile requests against a real `projector serve`: each bomb's answer, its time and the server's memory.

Every bomb of issue 11 ("Bounded resources") is sent to one fresh server; for each the script prints
the status and error code the server answered with, the wall time until that answer, and how far the
server's peak resident memory (Linux VmHWM, reset before each bomb) rose above its RSS before it.
The floods (jobs, event streams, uploads) count how many were accepted and how many got 429. At the
end the server must still answer and hold only the honest dataset. The bomb builders are the tests'
(tests/projector/api/bombs.py), so the tests and this script send the same bytes; the tests assert
the memory bound, this script records the numbers.

Usage: python -m benchmarks.bench_bombs   (writes benchmarks/results/bench_bombs.md)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import struct
import tempfile
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks._common import markdown_table, write_results
from benchmarks._service import Server
from tests.projector.api.bombs import Memory, MiB, multipart, npy_header, npz_bomb, parquet_bomb, safetensors_bomb, send_raw

Answer = tuple[int, dict[str, str], bytes]


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def stored_npz(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("embeddings.npy", member)
    return buffer.getvalue()


def error_code(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError):
        return body[:40].decode("latin-1")


class Bench:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url
        self.memory = Memory(server.pid)
        self.rows: list[dict[str, Any]] = []

    def post(self, path: str, content_type: str, body: bytes | Iterator[bytes], length: int | None = None, **kw: Any) -> Answer:
        chunks = [body] if isinstance(body, bytes) else body
        headers = {"Content-Type": content_type}
        if length is not None or isinstance(body, bytes):
            headers["Content-Length"] = str(length if length is not None else len(body))  # type: ignore[arg-type]
        return send_raw(self.url, "POST", path, headers, chunks, **kw)

    def measure(self, name: str, send: Callable[[], Answer | tuple[int, str]], expect: int) -> None:
        """Send one bomb (or one flood, answering its decisive status and a summary) and record the cost."""
        self.memory.reset()
        started = time.monotonic()
        answer = send()
        seconds = time.monotonic() - started
        status, code = (answer[0], error_code(answer[2])) if len(answer) == 3 else answer  # type: ignore[misc]
        row = {
            "bomb": name,
            "status": status,
            "error": code,
            "seconds": seconds,
            "rss_before_mib": self.memory.base / MiB,
            "peak_growth_mib": self.memory.growth() / MiB,
            "ok": "yes" if status == expect and self.server.alive() else f"NO (expected {expect})",
        }
        self.rows.append(row)
        print(
            f"{name:52s} {status} {code:22s} {seconds:7.2f} s  rss {row['rss_before_mib']:6.0f} MiB"
            f"  peak +{row['peak_growth_mib']:6.1f} MiB  {row['ok']}",
            flush=True,
        )


def quietly(send: Callable[..., Answer]) -> Callable[..., None]:
    """`send` for a background thread: the server dropping the connection is expected, not news."""

    def run(*args: Any) -> None:
        try:
            send(*args)
        except (OSError, IndexError):
            pass

    return run


def trickle(count: int, pause: float) -> Iterator[bytes]:
    """One byte every `pause` seconds: never idle long, but slow in all."""
    for _ in range(count):
        yield b"1"
        time.sleep(pause)


def floods(bench: Bench, dataset: str) -> None:
    """The job queue, event streams and concurrent uploads, each pushed past its limit."""
    url = bench.url
    pids: list[str] = []

    def job_flood() -> tuple[int, str]:
        statuses: dict[int, int] = {}
        retry_after = set()
        for seed in range(100):  # distinct seeds: no cache hit, each one a new job
            body = json.dumps({"method": "tsne", "params": {"random_state": seed, "n_iter": 5000}}).encode()
            status, headers, answer = bench.post(f"/api/datasets/{dataset}/projections", "application/json", body)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                pids.append(json.loads(answer)["id"])
            if status == 429:
                retry_after.add(headers.get("retry-after"))
        summary = f"{statuses.get(202, 0)}x202 {statuses.get(429, 0)}x429 Retry-After={','.join(sorted(map(str, retry_after)))}"
        return (429 if 429 in statuses else max(statuses)), summary

    bench.measure("job flood: 100 t-SNE requests (--max-queued-jobs 64)", job_flood, 429)

    def stream_flood() -> tuple[int, str]:
        port = int(url.rsplit(":", 1)[1])
        held: list[socket.socket] = []
        try:
            for _ in range(64):
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                sock.sendall(f"GET /api/projections/{pids[-1]}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                assert sock.recv(64).startswith(b"HTTP/1.1 200"), "an event stream within the limit was refused"
                held.append(sock)
            status, headers, body = send_raw(url, "GET", f"/api/projections/{pids[-1]}/events", {}, [])
            return status, f"65th: {error_code(body)} Retry-After={headers.get('retry-after')}"
        finally:
            for sock in held:
                sock.close()

    bench.measure("event streams: 65 open at once (--max-streams 64)", stream_flood, 429)

    for pid in pids:
        send_raw(url, "DELETE", f"/api/projections/{pid}", {}, [])

    def upload_flood() -> tuple[int, str]:
        stop = threading.Event()

        def drip() -> Iterator[bytes]:
            yield b"1\t2\n"
            while not stop.wait(0.2):
                yield b"3"

        slow = [
            threading.Thread(
                target=quietly(send_raw),
                args=(url, "POST", "/api/datasets", {"Content-Type": "text/tab-separated-values", "Content-Length": str(10 * MiB)}, drip()),
                daemon=True,
            )
            for _ in range(4)
        ]
        for thread in slow:
            thread.start()
        time.sleep(1.0)
        status, headers, body = bench.post("/api/datasets", "text/tab-separated-values", b"1\t2\n3\t4\n")
        stop.set()
        return status, f"5th: {error_code(body)} Retry-After={headers.get('retry-after')}"

    bench.measure("uploads: 5 at once (--max-uploads 4)", upload_flood, 429)


def hostile_logdir(root: Path) -> int:
    """A logdir of one good run (a tensorboardX fixture) beside hostile ones; returns how many are hostile."""
    import h5py

    from tests.logdir_fixtures import LOGDIRS, write_keras_weights

    shutil.copytree(LOGDIRS / "tensorboardx", root / "good")
    secret = root.parent / "secret.tsv"
    secret.write_text("9\t9\n9\t9\n")
    tsv = "1\t2\n3\t4\n"
    runs: dict[str, tuple[str, dict[str, str]]] = {
        "absolute": (f'embeddings {{ tensor_path: "{secret}" }}', {}),
        "dotdot": ('embeddings { tensor_path: "../../secret.tsv" }', {}),
        "deep": ("embeddings {" * 100_000, {}),
        "long-string": ('embeddings { tensor_path: "' + "a" * 10_000_000 + '" }', {}),
        "token-flood": ("{" * (16 * MiB - 1), {}),
        "huge-shape": ('embeddings { tensor_path: "t.tsv" tensor_shape: [1000000000, 1000000000] }', {"t.tsv": tsv}),
        "dev-zero": ('embeddings { tensor_path: "t.tsv" sprite { image_path: "/dev/zero" single_image_dim: [1, 1] } }', {"t.tsv": tsv}),
        "bookmarks": ('embeddings { tensor_path: "t.tsv" bookmarks_path: "b.json" }', {"t.tsv": tsv, "b.json": "[" * 1_000_000}),
        "symlink": ('embeddings { tensor_path: "t.tsv" metadata_path: "m.tsv" }', {"t.tsv": tsv}),
        "fifo": ('embeddings { tensor_path: "t.tsv" metadata_path: "m.tsv" }', {"t.tsv": tsv}),
        "hdf5-link": ('embeddings { tensor_name: "tokens" }', {}),
    }
    for name, (config, files) in runs.items():
        run = root / name
        run.mkdir()
        (run / "projector_config.pbtxt").write_text(config)
        for file, text in files.items():
            (run / file).write_text(text)
    (root / "symlink" / "m.tsv").symlink_to(secret)
    os.mkfifo(root / "fifo" / "m.tsv")
    write_keras_weights(root / "hdf5-link" / "model.weights.h5", np.ones((4, 3), np.float32))
    with h5py.File(root / "hdf5-link" / "model.weights.h5", "a") as handle:
        handle["sneaky"] = h5py.ExternalLink(str(secret), "/x")
    return len(runs)


def logdir_scan(bench: Bench, base_rss: float) -> None:
    """A second server reading the hostile logdir: its first scan's time, problems and peak RSS."""
    root = Path(tempfile.mkdtemp(prefix="projector-bench-logdir-")) / "logs"
    root.mkdir()
    hostile = hostile_logdir(root)

    def scan() -> tuple[int, str]:
        server = Server("--no-warm-up", "--logdir", str(root))
        try:
            while True:
                status, _, body = send_raw(server.url, "GET", "/api/logdir", {}, [])
                state = json.loads(body)
                if state.get("scans", 0) >= 1:
                    break
                time.sleep(0.2)
            datasets = json.loads(send_raw(server.url, "GET", "/api/datasets", {}, [])[2])
            good = sum(d["name"].startswith("good/") for d in datasets)
            peaks.append(Memory(server.pid).peak() / MiB)
            longest = max(map(len, state["problems"]), default=0)
            return status, f"{len(state['problems'])} problems (longest {longest} chars), {good} good datasets"
        finally:
            server.close()
            shutil.rmtree(root.parent, ignore_errors=True)

    peaks: list[float] = []
    bench.measure(f"logdir: {hostile} hostile runs beside a good one, first scan", scan, 200)
    # this server's whole life is the scan: its peak against the first server's RSS at start (no logdir)
    bench.rows[-1].update(rss_before_mib=base_rss, peak_growth_mib=peaks[0] - base_rss)
    print(f"  logdir server: peak RSS {peaks[0]:.0f} MiB, {peaks[0] - base_rss:.1f} MiB above a fresh server without a logdir")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    server = Server("--no-warm-up", "--upload-deadline", "10", "--body-timeout", "30")
    try:
        bench = Bench(server)
        base_rss = bench.memory.rss() / MiB
        honest = bench.post("/api/datasets", "application/x-npy", npy(np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)))
        assert honest[0] == 201, honest
        dataset = json.loads(honest[2])["id"]
        projections = f"/api/datasets/{dataset}/projections"

        bomb = npz_bomb(2**19, 1024)
        bench.measure(f"npz deflate {len(bomb) / MiB:.1f} MB -> 2 GiB", lambda: bench.post("/api/datasets", "application/zip", bomb), 413)
        liar = stored_npz(npy_header((2**20, 2**20)) + bytes(16))
        bench.measure("npz stored member declaring 4 TiB", lambda: bench.post("/api/datasets", "application/zip", liar), 413)
        many = npz_bomb(256, 1024, members=2000)
        bench.measure("npz 2000 members", lambda: bench.post("/api/datasets", "application/zip", many), 400)
        huge = npy_header((10**9, 10**6)) + bytes(16)
        bench.measure("npy header declaring 10^15 values", lambda: bench.post("/api/datasets", "application/x-npy", huge), 400)

        tensor = npy(np.ones((10, 4), np.float32))
        chunks, length, content_type = multipart([("tensor", tensor, 1), ("metadata", b"\n" * MiB, 150)])
        bench.measure("metadata 150 MB of newlines, 10-row tensor", lambda: bench.post("/api/datasets", content_type, chunks, length), 400)
        crs, cr_length, cr_type = multipart([("tensor", tensor, 1), ("metadata", b"a\n" + b"\r" * (16 * MiB - 2) + b"\n", 1)])
        bench.measure("metadata: a 16 MB line of carriage returns", lambda: bench.post("/api/datasets", cr_type, crs, cr_length), 400)
        wide = b"1\t" * (3 * MiB) + b"1\n"
        bench.measure("tensor TSV: a 6 MB line", lambda: bench.post("/api/datasets", "text/tab-separated-values", wide * 2), 400)
        wide = b"1\t" * (2 * MiB - 1) + b"1\n"

        def wide_upload() -> Answer:
            answer = bench.post("/api/datasets", "text/tab-separated-values", wide * 8)
            if answer[0] == 201:  # a real dataset, if an odd one: removed so only the honest one stays
                send_raw(bench.url, "DELETE", f"/api/datasets/{json.loads(answer[2])['id']}", {}, [])
            return answer

        bench.measure("tensor TSV: eight 4 MB lines (accepted, 8 x 2M)", wide_upload, 201)
        parquet = parquet_bomb()
        bench.measure(
            f"Parquet {len(parquet) / 1024:.0f} KB -> 2 GB of label text",
            lambda: bench.post("/api/datasets", "application/vnd.apache.parquet", parquet),
            413,
        )
        header = safetensors_bomb(16 * MiB - 16)
        bench.measure("safetensors 16 MB header of {}", lambda: bench.post("/api/datasets", "application/x-safetensors", header), 400)
        shape = orjson.dumps({"x": {"dtype": "F32", "shape": "a" * (16 * MiB - 100), "data_offsets": [0, 16]}})
        shape_bomb = struct.pack("<Q", len(shape)) + shape + bytes(16)
        bench.measure(
            "safetensors 16 MB header: a string as the shape",
            lambda: bench.post("/api/datasets", "application/x-safetensors", shape_bomb),
            400,
        )
        big = safetensors_bomb(100 * MiB)
        bench.measure("safetensors 100 MB header", lambda: bench.post("/api/datasets", "application/x-safetensors", big), 400)
        bench.measure(
            "upload declaring Content-Length 1 PB",
            lambda: bench.post("/api/datasets", "application/x-npy", iter([b"x" * 100]), length=10**15),
            413,
        )
        bench.measure(
            "upload trickling past --upload-deadline 10 s",
            lambda: bench.post("/api/datasets", "text/tab-separated-values", trickle(100, 0.15), 100),
            408,
        )

        line = b"0.5\t" * 99_999 + b"0.5\n"
        wide_answer = bench.post("/api/datasets", "text/tab-separated-values", line * 2)
        wide_id = json.loads(wide_answer[2])["id"]
        spaces = (b" " * MiB for _ in range(1500))
        bench.measure(
            "JSON query vectors, 100,000-dim dataset: 1.5 GB body",
            lambda: bench.post(f"/api/datasets/{wide_id}/neighbors", "application/json", spaces, chunked=True),
            413,
        )
        send_raw(bench.url, "DELETE", f"/api/datasets/{wide_id}", {}, [])

        json_chunks = (b"[" * MiB for _ in range(256))
        bench.measure(
            "JSON 256 MiB chunked, no Content-Length",
            lambda: bench.post(projections, "application/json", json_chunks, chunked=True),
            413,
        )
        bench.measure(
            "JSON declaring Content-Length 1 PB", lambda: bench.post(projections, "application/json", iter([b"{}"]), length=10**15), 413
        )
        nested = b"[" * 100_000 + b"]" * 100_000
        bench.measure("JSON nested 100,000 deep", lambda: bench.post(projections, "application/json", nested), 400)

        for name, pattern in (
            ("regex (?:(?:a{1000}){1000}){1000}", "(?:(?:a{1000}){1000}){1000}"),
            ("regex ([\\pL\\pN]{1000}) x 50", "[\\pL\\pN]{1000}" * 50),
            ("regex (a+)+$ (backtracking)", "(a+)+$"),
        ):
            query = urllib.parse.quote(pattern, safe="")
            expect = 200 if "+)+" in pattern else 400  # RE2 runs it in linear time: an answer, not an error
            bench.measure(name, lambda q=query: send_raw(bench.url, "GET", f"/api/datasets/{dataset}/search?q={q}", {}, []), expect)

        floods(bench, dataset)
        logdir_scan(bench, base_rss)

        status, _, body = send_raw(bench.url, "GET", "/api/datasets", {}, [])
        stored = body.count(b'"id"')
        alive = status == 200 and stored == 1
        print(f"after all bombs: server answers {status}, datasets stored: {stored} (expected 1)")
        columns = ["bomb", "status", "error", "seconds", "rss_before_mib", "peak_growth_mib", "ok"]
        text = (
            "# bench_bombs: hostile requests against one `projector serve`\n\n"
            + markdown_table(bench.rows, columns)
            + f"\n\nAfter all bombs the server answered {status} and held {stored} dataset(s), 1 expected (the honest one): "
            + ("ok" if alive else "NOT OK")
            + ".\npeak_growth_mib: the server's peak RSS (VmHWM, reset before each bomb) above its RSS before it.\n"
        )
        print(f"written to {write_results('bench_bombs.md', text)}")
    finally:
        server.close()


if __name__ == "__main__":
    main()

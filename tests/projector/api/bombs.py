"""Hostile request bodies for the limit tests, and the server-side memory they cost."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import psutil

MiB = 1 << 20


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def npz_bomb(rows: int, dim: int, declared: int | None = None, name: str = "embeddings.npy", method: int = 8, members: int = 1) -> bytes:
    """A deflate `.npz` whose one member inflates to a float32 rows × dim `.npy` (~1000× its size).

    Written by hand (zipfile would deflate every byte): the zero blocks are deflated once with a
    full flush, which makes each block's bytes independent of the ones before, and repeated.
    `declared` overrides the member's declared size (to lie about it). The CRC is right for
    members up to 64 MiB (larger ones must be refused before their end is ever read).
    """
    head = npy_header((rows, dim))
    zeros = bytes(MiB)
    total = rows * dim * 4
    assert total % len(zeros) == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    data = first + block * (total // len(zeros)) + deflate.flush()
    size = len(head) + total if declared is None else declared
    crc = zlib.crc32(head)
    for _ in range(total // len(zeros) if total <= 64 * MiB else 0):
        crc = zlib.crc32(zeros, crc)
    out = io.BytesIO()
    directory = b""
    for i in range(members):
        fname = (name if i == 0 else f"m{i}.npy").encode()
        local_at = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc, len(data), size, len(fname), 0) + fname)
        out.write(data)
        directory += (
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, crc, len(data), size, len(fname), 0, 0, 0, 0, 0, local_at)
            + fname
        )
    at = out.tell()
    out.write(directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, members, members, len(directory), at, 0))
    return out.getvalue()


def multipart(parts: Iterable[tuple[str, bytes, int]], boundary: str = "bombboundary") -> tuple[Iterator[bytes], int, str]:
    """A multipart/form-data body streamed from parts (name, chunk, times): (chunks, length, content type)."""
    parts = list(parts)

    def head(name: str) -> bytes:
        return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n\r\n'.encode()

    def chunks() -> Iterator[bytes]:
        for name, chunk, times in parts:
            yield head(name)
            for _ in range(times):
                yield chunk
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    length = sum(len(head(name)) + len(chunk) * times + 2 for name, chunk, times in parts) + len(f"--{boundary}--\r\n")
    return chunks(), length, f"multipart/form-data; boundary={boundary}"


def send_raw(
    url: str, method: str, path: str, headers: dict[str, str], body: Iterable[bytes], chunked: bool = False, timeout: float = 120
) -> tuple[int, dict[str, str], bytes]:
    """Send a request over a plain socket, reading the answer while the body is still being sent.

    The server may answer (413, 400) before the body ends and close the connection: the body's
    sender then stops at the broken pipe, and the answer has already been read.
    """
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else "\r\n"
    received = bytearray()
    done = threading.Event()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
        except OSError:
            pass
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        sock.sendall(head.encode())
        for piece in body:
            if done.is_set():
                break
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        if chunked and not done.is_set():
            sock.sendall(b"0\r\n\r\n")
    except OSError:  # the server answered and closed: that answer is what the test looks at
        pass
    done.wait(timeout)
    sock.close()
    status_line, _, rest = bytes(received).partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    parsed = dict(line.decode("latin-1").split(": ", 1) for line in header_block.split(b"\r\n") if b": " in line)
    return int(status_line.split()[1]), {k.lower(): v for k, v in parsed.items()}, content


class Memory:
    """A server process's resident memory: now, and its peak since `reset()` (Linux's VmHWM)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.base = 0

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def peak(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024

    def reset(self) -> None:
        """Start counting the peak from now (writing 5 to clear_refs resets VmHWM to the current RSS)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        self.base = self.rss()

    def growth(self) -> int:
        """How far the peak rose above the RSS at `reset()`."""
        return max(0, self.peak() - self.base)


def parquet_bomb(rows: int = 20_000, cell: int = 100_000) -> bytes:
    """A Parquet file of a few KB whose text column decodes to rows × cell bytes (one dictionary value on every row)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    embedding = pa.array([[0.0, 1.0]] * rows, pa.list_(pa.float32()))
    label = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array(["x" * cell]))
    buffer = io.BytesIO()
    pq.write_table(pa.table({"embedding": embedding, "label": label}), buffer, compression="zstd")
    return buffer.getvalue()


def safetensors_bomb(header_bytes: int) -> bytes:
    """A `.safetensors` file whose JSON header is `header_bytes` of empty objects (millions of Python dicts if parsed)."""
    items = (header_bytes - 10) // 3
    header = b'{"x":[' + b"{}," * (items - 1) + b"{}]}"
    return struct.pack("<Q", len(header)) + header + bytes(16)

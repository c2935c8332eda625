"""Time reading one big float32 tensor from a TensorFlow checkpoint (CRC check included).

Usage:
    python -m benchmarks.bench_checkpoint [--rows 1000000] [--dim 128] [--runs 5]

Writes a one-tensor bundle (our own minimal writer, no TensorFlow) to benchmarks/data/
(gitignored), warms up once (JIT compile of the CRC kernel, page cache), then reports
mean/std/min seconds and MB/s of ``Checkpoint(prefix).read(name)``, plus the CRC alone.
"""

from __future__ import annotations

import argparse
import struct
import time
from pathlib import Path

import numpy as np

from projector.logdir import Checkpoint
from projector.logdir._crc32c import crc32c, mask

MAGIC = 0xDB4775248B80FB57


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    restarts, pos = [], 0
    for k, v in entries:
        restarts.append(pos)
        pos += len(_varint(0) + _varint(len(k)) + _varint(len(v))) + len(k) + len(v)
    return body + b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))


def _trailer(contents: bytes) -> bytes:
    return contents + b"\x00" + struct.pack("<I", mask(crc32c(contents + b"\x00")))


def write_bundle(prefix: Path, name: str, array: np.ndarray) -> None:
    """A minimal single-tensor float32 bundle in TensorFlow's format."""
    raw = memoryview(np.ascontiguousarray(array, dtype="<f4")).cast("B")
    dims = b"".join(b"\x12" + bytes([len(d)]) + d for d in (b"\x08" + _varint(s) for s in array.shape))
    entry = (b"\x08\x01\x12" + _varint(len(dims)) + dims + b"\x28" + _varint(len(raw))
             + b"\x35" + struct.pack("<I", mask(crc32c(raw))))
    data_block = _block([(b"", b"\x08\x01\x1a\x02\x08\x01"), (name.encode(), entry)])
    out = bytearray(_trailer(data_block))
    meta_off = len(out)
    out += _trailer(_block([]))
    index = _block([(name.encode() + b"\x00", _varint(0) + _varint(len(data_block)))])
    index_off = len(out)
    out += _trailer(index)
    handles = _varint(meta_off) + _varint(8) + _varint(index_off) + _varint(len(index))
    out += handles + bytes(40 - len(handles)) + struct.pack("<Q", MAGIC)
    Path(f"{prefix}.index").write_bytes(bytes(out))
    with open(f"{prefix}.data-00000-of-00001", "wb") as fh:
        fh.write(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data_dir = Path(__file__).resolve().parent / "data"
    data_dir.mkdir(exist_ok=True)
    prefix = data_dir / f"bench-{args.rows}x{args.dim}"
    name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    array = np.random.default_rng(0).standard_normal((args.rows, args.dim), dtype=np.float32)
    write_bundle(prefix, name, array)
    megabytes = array.nbytes / 1e6

    assert np.array_equal(Checkpoint(prefix).read(name), array)  # warm-up and check
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        Checkpoint(prefix).read(name)
        timings.append(time.perf_counter() - start)
    crc_timings = []
    raw = array.view(np.uint8).reshape(-1)
    for _ in range(args.runs):
        start = time.perf_counter()
        crc32c(raw)
        crc_timings.append(time.perf_counter() - start)
    t, c = np.array(timings), np.array(crc_timings)
    print(f"tensor {args.rows}x{args.dim} float32 = {megabytes:.0f} MB, {args.runs} runs (page cache warm)")
    print(f"read+crc: mean {t.mean():.3f}s std {t.std():.3f}s min {t.min():.3f}s -> {megabytes / t.min():.0f} MB/s")
    print(f"crc only: mean {c.mean():.3f}s std {c.std():.3f}s min {c.min():.3f}s -> {megabytes / c.min():.0f} MB/s")
    for path in data_dir.glob(f"{prefix.name}.*"):
        path.unlink()


if __name__ == "__main__":
    main()

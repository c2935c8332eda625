"""Time reading one big float32 tensor from a TensorFlow checkpoint (CRC check included).

Usage:
    python -m benchmarks.bench_checkpoint [--rows 1000000] [--dim 128] [--runs 5]

Writes a one-tensor bundle (our own minimal writer, no TensorFlow) to benchmarks/data/
(gitignored), warms up once (JIT compile of the CRC kernel, page cache), then reports
mean/std/min seconds and MB/s of ``Checkpoint(prefix).read(name)``, plus the CRC alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from projector.logdir import Checkpoint
from projector.logdir._crc32c import crc32c
from tests.logdir_fixtures import write_bundle

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
    write_bundle(prefix, {name: (1, array)})  # dtype 1 = DT_FLOAT
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

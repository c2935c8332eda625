"""The checked-in logdir fixtures (made by tests/fixtures/make_logdir_fixtures.py) and their expected tensors."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from projector.logdir._crc32c import crc32c, mask

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOGDIRS = FIXTURES / "logdirs"


def expected_tensors(name: str) -> dict[str, np.ndarray]:
    """The tensors a fixture holds, as the real tool wrote them."""
    with np.load(FIXTURES / "expected" / f"{name}.npz") as data:
        return {k: data[k] for k in data.files}


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """float32 with the same shape and the very same bits (NaN payloads and -0.0 included)."""
    return a.dtype == np.float32 and a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


# -- hand-built checkpoints (LevelDB table + BundleEntryProto), for tests and benchmarks ------------


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def table_block(entries: list[tuple[bytes, bytes]], restart_interval: int = 16) -> bytes:
    """One LevelDB table block: prefix-compressed keys with a restart point every `restart_interval` keys."""
    out = bytearray()
    restarts = []
    prev = b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        prev = key
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _with_trailer(contents: bytes, kind: int) -> bytes:
    return contents + bytes([kind]) + struct.pack("<I", mask(crc32c(contents + bytes([kind]))))


def _literal_only_snappy(data: bytes) -> bytes:
    """A valid (uncompressing) Snappy encoding: the length, then literals of <= 60 bytes."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 60):
        chunk = data[i : i + 60]
        out.append((len(chunk) - 1) << 2)
        out += chunk
    return bytes(out)


def _table(entries: list[tuple[bytes, bytes]], compress: bool = False, per_block: int = 3) -> bytes:
    out = bytearray()
    index_entries = []
    for start in range(0, len(entries), per_block):
        chunk = entries[start : start + per_block]
        contents = table_block(chunk, restart_interval=2)
        kind = 0
        if compress:
            contents, kind = _literal_only_snappy(contents), 1
        index_entries.append((chunk[-1][0], varint(len(out)) + varint(len(contents))))
        out += _with_trailer(contents, kind)
    meta = len(out)
    out += _with_trailer(table_block([]), 0)
    index = table_block(index_entries, restart_interval=1)
    index_off = len(out)
    out += _with_trailer(index, 0)
    handles = varint(meta) + varint(8) + varint(index_off) + varint(len(index))
    return bytes(out + handles + bytes(40 - len(handles)) + struct.pack("<Q", 0xDB4775248B80FB57))


def _entry_proto(dtype: int, shape: tuple[int, ...], offset: int, size: int, crc: int) -> bytes:
    dims = b"".join(b"\x12" + bytes([len(d)]) + d for d in (b"\x08" + varint(s) for s in shape))
    return (
        b"\x08"
        + varint(dtype)
        + b"\x12"
        + varint(len(dims))
        + dims
        + b"\x20"
        + varint(offset)
        + b"\x28"
        + varint(size)
        + b"\x35"
        + struct.pack("<I", crc)
    )


def write_bundle(prefix: Path, tensors: dict[str, tuple[int, np.ndarray]], compress: bool = False) -> Path:
    """A TensorFlow V2 checkpoint written by hand: {name: (dtype code, array)}, one data shard.

    With `compress`, the index's data blocks are Snappy-encoded. Tensor bytes are streamed to the
    shard without copies, so benchmarks can write large ones.
    """
    entries = [(b"", b"\x08\x01\x1a\x02\x08\x01")]  # BundleHeaderProto: 1 shard, little-endian
    offset = 0
    with open(f"{prefix}.data-00000-of-00001", "wb") as shard:
        for name in sorted(tensors):
            dtype, array = tensors[name]
            raw = memoryview(np.ascontiguousarray(array)).cast("B")
            entries.append((name.encode(), _entry_proto(dtype, array.shape, offset, len(raw), mask(crc32c(raw)))))
            shard.write(raw)
            offset += len(raw)
    Path(f"{prefix}.index").write_bytes(_table(entries, compress=compress))
    return prefix


def write_index(prefix: Path, declared: dict[str, tuple[int, tuple[int, ...], int, int]], data: bytes) -> Path:
    """A checkpoint whose index says what `declared` says ({name: (dtype, shape, offset, size)}),
    whatever the data shard (`data`) really holds: for tests of lying or hostile indexes."""
    entries = [(b"", b"\x08\x01\x1a\x02\x08\x01")]
    for name in sorted(declared):
        dtype, shape, offset, size = declared[name]
        entries.append((name.encode(), _entry_proto(dtype, shape, offset, size, 0)))
    Path(f"{prefix}.data-00000-of-00001").write_bytes(data)
    Path(f"{prefix}.index").write_bytes(_table(entries))
    return prefix


def write_keras_weights(path: Path, array: np.ndarray | None, layer: str = "tokens", **dataset_options: object) -> Path:
    """A Keras 3 `.weights.h5` holding one Embedding layer (the layout keras.Model.save_weights writes)."""
    import h5py

    with h5py.File(path, "w") as handle:
        group = handle.create_group("layers/embedding/vars")
        group.attrs["name"] = layer
        group.create_dataset("0", data=array, **dataset_options)  # type: ignore[arg-type]
    return path

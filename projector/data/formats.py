"""Tensor file readers: .npy, .npz, .safetensors and TensorBoard's tensor TSV.

Every reader returns a 2-D numeric array (often memory-mapped) or raises `InvalidInput`;
`write_float32_npy` then validates and stores it as the one on-disk form, float32 `.npy`.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from projector.data.atomic import atomic_path
from projector.errors import InvalidInput, PayloadTooLarge
from projector.logdir.errors import LogdirError
from projector.logdir.tensor_tsv import parse_tensor_tsv

CHUNK_ROWS = 65536
MAX_ARCHIVE_MEMBERS = 256
MAX_CENTRAL_DIRECTORY = 1024 * 1024  # 256 members with long names fit in far less
NPZ_CHUNK = 1024 * 1024
# Deflate can inflate ~1000×; real embeddings compress a few times at most. Like Apache POI's zip
# reader, an uploaded member inflating more than this (beyond a small floor) is taken for a bomb.
MAX_INFLATE_RATIO = 100
INFLATE_RATIO_FLOOR = 16 * 1024 * 1024
PREFERRED_MEMBERS = ("embeddings", "embedding", "tensor", "vectors", "weights", "arr_0")
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"

Progress = Callable[[int], None]


def invalid_tensor(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_tensor")


def sniff_format(path: Path) -> str:
    """Guess a tensor file's format from its first bytes: "npy", "npz", "safetensors" or "tsv"."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(ZIP_MAGIC):
        return "npz"
    if len(head) >= 9:
        (header_len,) = struct.unpack("<Q", head[:8])
        if head[8:9] == b"{" and 0 < header_len < os.path.getsize(path):
            return "safetensors"
    return "tsv"


def read_tensor(
    path: Path, fmt: str | None = None, member: str | None = None, *, limit: int | None = None, scratch: Path | None = None
) -> np.ndarray:
    """Open a tensor file as a 2-D numeric array, checking rank and size but not values.

    An `.npz` member is inflated into `scratch` (default: the file's folder), at most `limit` bytes.
    """
    fmt = fmt or sniff_format(path)
    if fmt == "npy":
        array = read_npy(path)
    elif fmt == "npz":
        array = read_npz(path, member, limit=limit, scratch=scratch)
    elif fmt == "safetensors":
        array = read_safetensors(path, member)
    elif fmt == "tsv":
        array = read_tensor_tsv(path)
    else:
        raise invalid_tensor(f"unknown tensor format {fmt!r}; expected one of ['npy', 'npz', 'safetensors', 'tsv']")
    check_shape(array.shape)
    return array


def check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise invalid_tensor(f"the tensor must be 2-D (n × dim), got shape {tuple(shape)}")
    n, dim = shape
    if n < 2 or dim < 2:
        raise invalid_tensor(f"the tensor needs at least 2 rows and 2 columns, got {n} × {dim}")


def check_dtype(dtype: np.dtype) -> None:
    if dtype.fields is not None or dtype.hasobject or dtype.kind not in "biuf":
        raise invalid_tensor(f"the tensor must hold numbers (float or integer), got dtype {dtype}")


def _read_npy_header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(f)
    raise invalid_tensor(f"unsupported .npy format version {version}")


def read_npy(path: Path) -> np.ndarray:
    """A `.npy` file, memory-mapped; its header is checked against the file size first."""
    try:
        with open(path, "rb") as f:
            shape, fortran, dtype = _read_npy_header(f)
            offset = f.tell()
    except InvalidInput:
        raise
    except Exception as exc:  # numpy raises ValueError, SyntaxError and others for bad headers
        raise invalid_tensor(f"not a valid .npy file: {exc}") from None
    check_dtype(dtype)
    check_shape(shape)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a declared shape cannot overflow it
    available = os.path.getsize(path) - offset
    if available < expected:
        raise invalid_tensor(f".npy header declares shape {shape} ({expected} bytes) but the file holds {available} bytes")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def _pick_member(shapes: dict[str, tuple[int, ...]], member: str | None, kind: str) -> str:
    if member is not None:
        if member not in shapes:
            raise invalid_tensor(f"{kind} has no array named {member!r}; it holds {sorted(shapes)}")
        return member
    matrices = [name for name, shape in shapes.items() if len(shape) == 2]
    if len(matrices) == 1:
        return matrices[0]
    for name in PREFERRED_MEMBERS:
        if name in matrices:
            return name
    if not matrices:
        raise invalid_tensor(f"{kind} holds no 2-D array (arrays: {sorted(shapes)[:20]})")
    raise invalid_tensor(f"{kind} holds several 2-D arrays {sorted(matrices)[:20]}; name one (e.g. call it 'embeddings')")


def _zip_directory_size(path: Path) -> tuple[int, int]:
    """(members, central directory bytes) as the archive's end record declares them, before zipfile reads them."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - 65557))  # the end record (22 bytes) follows at most a 64 KiB comment
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise invalid_tensor("not a valid .npz file: no zip end record")
        _, _, _, _, members, directory, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
        locator = tail[at - 20 : at] if at >= 20 else b""
        if locator.startswith(b"PK\x06\x07"):  # zip64: the real counts are in the zip64 end record
            (record_at,) = struct.unpack("<Q", locator[8:16])
            f.seek(record_at)
            record = f.read(56)
            if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
                raise invalid_tensor("not a valid .npz file: bad zip64 end record")
            members, directory = struct.unpack("<2Q", record[32:48])
    return members, directory


def _npz_member_bytes(info: zipfile.ZipInfo, shape: tuple[int, ...], dtype: np.dtype, limit: int | None) -> None:
    """Refuse a member whose declared size or header shape is over `limit`, or whose shape does not fit its size."""
    name = info.filename[:-4]
    data_bytes = math.prod(shape) * dtype.itemsize if all(d >= 0 for d in shape) else -1
    if limit is not None and (info.file_size > limit or data_bytes > limit):
        raise PayloadTooLarge(
            f".npz member {name!r} inflates to {max(info.file_size, data_bytes):,} bytes, more than the limit of"
            f" {limit // (1024 * 1024)} MiB (--max-upload-mb)"
        )
    if limit is not None and info.file_size > max(INFLATE_RATIO_FLOOR, MAX_INFLATE_RATIO * info.compress_size):
        raise PayloadTooLarge(
            f".npz member {name!r} inflates {info.file_size // max(info.compress_size, 1):,} times (from"
            f" {info.compress_size:,} to {info.file_size:,} bytes), more than {MAX_INFLATE_RATIO} times; save it with"
            " np.savez (uncompressed) or as .npy"
        )
    if data_bytes < 0 or data_bytes > info.file_size:
        raise invalid_tensor(f".npz member {name!r} declares shape {shape} but holds only {info.file_size:,} bytes")


def read_npz(path: Path, member: str | None = None, *, limit: int | None = None, scratch: Path | None = None) -> np.ndarray:
    """One 2-D array from an `.npz` archive (the only one, or one with a conventional name).

    Every size is checked before it is allocated: the archive's member count, each member's
    compression method (stored or deflate), declared size and header shape against `limit`. The
    chosen member is then inflated to a file in `scratch` (never to memory), stopping at its declared
    size, and memory-mapped; the file is unlinked at once, so nothing is left behind.
    """
    members, directory = _zip_directory_size(path)
    if members > MAX_ARCHIVE_MEMBERS or directory > MAX_CENTRAL_DIRECTORY:
        raise invalid_tensor(f".npz holds {members} members; at most {MAX_ARCHIVE_MEMBERS} are read")
    extracted = (scratch or path.parent) / f".npz-{os.getpid()}-{os.urandom(4).hex()}.npy"
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            shapes: dict[str, tuple[int, ...]] = {}
            for name, info in infos.items():
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise invalid_tensor(
                        f".npz member {name!r} uses compression method {info.compress_type}; only stored and deflate are read"
                    )
                if name.endswith(".npy"):
                    with archive.open(info) as f:
                        shape, _, dtype = _read_npy_header(f)
                    _npz_member_bytes(info, shape, dtype, limit)
                    shapes[name[:-4]] = shape
            chosen = infos[_pick_member(shapes, member, ".npz") + ".npy"]
            budget = chosen.file_size if limit is None else min(limit, chosen.file_size)
            written = 0
            with archive.open(chosen) as source, open(extracted, "wb") as out:
                while block := source.read(NPZ_CHUNK):
                    written += len(block)
                    if written > budget:
                        raise invalid_tensor(f".npz member {chosen.filename!r} inflates past its declared size")
                    out.write(block)
        array = read_npy(extracted)
    except (InvalidInput, PayloadTooLarge):
        raise
    except Exception as exc:
        raise invalid_tensor(f"not a valid .npz file: {exc}") from None
    finally:
        extracted.unlink(missing_ok=True)  # a memory map keeps the data until it is closed
    return array


SAFETENSORS_DTYPES = {
    "F16": "<f2", "F32": "<f4", "F64": "<f8", "BF16": "<u2",
    "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
    "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
}  # fmt: skip
# A header names each tensor in ~150 bytes (100,000 tensors fit in 16 MiB); reading and parsing one
# costs ~3x its size (a 90 MB string as a "shape" took 270 MB), so the cap bounds the memory.
MAX_SAFETENSORS_HEADER = 16 * 1024 * 1024
# JSON values in the header, bounded by its commas before it is parsed: 16 MB of "{}," would
# otherwise become 35 million Python dicts (2 GB). A real header has ~10 per tensor.
MAX_SAFETENSORS_ITEMS = 1_000_000


def _declared_shape(name: str, value: object) -> tuple[int, ...]:
    """A header entry's shape: a short list of non-negative integers (a 90 MB string is not 90 million dims)."""
    if not isinstance(value, list) or len(value) > 32 or not all(isinstance(d, int) and d >= 0 for d in value):
        raise invalid_tensor(f".safetensors tensor {name[:100]!r} declares a shape that is not a list of at most 32 sizes")
    return tuple(value)


def read_safetensors(path: Path, member: str | None = None) -> np.ndarray:
    """One 2-D tensor of a `.safetensors` file, memory-mapped (bfloat16 widened to float32)."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > size - 8:
                raise invalid_tensor(f".safetensors header length {header_len} is larger than the file")
            if header_len > MAX_SAFETENSORS_HEADER:
                raise invalid_tensor(f".safetensors header is {header_len:,} bytes; at most {MAX_SAFETENSORS_HEADER:,} are read")
            header_bytes = f.read(header_len)
            if header_bytes.count(b",") > MAX_SAFETENSORS_ITEMS:
                raise invalid_tensor(f".safetensors header has more than {MAX_SAFETENSORS_ITEMS:,} entries")
            header = json.loads(header_bytes)
    except InvalidInput:
        raise
    except Exception as exc:
        raise invalid_tensor(f"not a valid .safetensors file: {exc}") from None
    if not isinstance(header, dict):
        raise invalid_tensor(".safetensors header is not a JSON object")
    entries = {k: v for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    shapes = {k: _declared_shape(k, v.get("shape", ())) for k, v in entries.items()}
    chosen = _pick_member(shapes, member, ".safetensors")
    entry = entries[chosen]
    dtype_name = entry.get("dtype")
    if not isinstance(dtype_name, str) or dtype_name not in SAFETENSORS_DTYPES:
        raise invalid_tensor(f".safetensors tensor {chosen!r} has unsupported dtype {dtype_name!r}")
    dtype = np.dtype(SAFETENSORS_DTYPES[dtype_name])
    shape = shapes[chosen]
    check_shape(shape)
    offsets = entry.get("data_offsets")
    begin, end = offsets if isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets) else (0, -1)
    data_start = 8 + header_len
    if not (0 <= begin <= end and data_start + end <= size and end - begin == shape[0] * shape[1] * dtype.itemsize):
        raise invalid_tensor(f".safetensors tensor {chosen!r} has data offsets that do not fit its shape or the file")
    raw = np.memmap(path, dtype=dtype, mode="r", offset=data_start + begin, shape=shape)
    if dtype_name == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    return raw


def read_tensor_tsv(path: Path) -> np.ndarray:
    """TensorBoard's tensor TSV: one row per point, tab-separated numbers, no header (the logdir's parser)."""
    try:
        with open(path, "rb") as f:
            return parse_tensor_tsv(f, where="the tensor TSV")
    except LogdirError as exc:
        raise invalid_tensor(str(exc)) from None


def check_finite_rows(chunk: np.ndarray, first_row: int = 0) -> None:
    """Reject a block of rows holding NaN or infinity, naming the first bad row."""
    finite = np.isfinite(chunk).all(axis=1)
    if not finite.all():
        bad = first_row + int(np.argmin(finite))
        raise invalid_tensor(f"the tensor has a non-finite value (NaN or infinity) in row {bad}")


def check_finite(array: np.ndarray, progress: Progress | None = None) -> None:
    """Reject a tensor holding NaN or infinity, reading it in row chunks (memory stays bounded)."""
    for start in range(0, array.shape[0], CHUNK_ROWS):
        chunk = array[start : start + CHUNK_ROWS]
        check_finite_rows(chunk, start)
        if progress is not None:
            progress(len(chunk))


def write_float32_npy(array: np.ndarray, dest: Path, progress: Progress | None = None) -> tuple[int, int]:
    """Store `array` as a C-order little-endian float32 `.npy` at `dest`, atomically.

    Rejects non-finite values (naming the first bad row); converts in row chunks so memory
    stays bounded for memory-mapped inputs.
    """
    check_dtype(array.dtype)
    check_shape(array.shape)
    n, dim = array.shape
    with atomic_path(dest) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=(n, dim))
        for start in range(0, n, CHUNK_ROWS):
            chunk = np.asarray(array[start : start + CHUNK_ROWS], dtype=np.float32)
            check_finite_rows(chunk, start)
            out[start : start + len(chunk)] = chunk
            if progress is not None:
                progress(len(chunk))
        out.flush()
        del out
    return n, dim

"""Tensor file readers: .npy, .npz, .safetensors and TensorBoard's tensor TSV.

Every reader returns a 2-D numeric array (often memory-mapped) or raises `InvalidInput`;
`write_float32_npy` then validates and stores it as the one on-disk form, float32 `.npy`.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from projector.data.atomic import atomic_path
from projector.errors import InvalidInput
from projector.logdir.errors import LogdirError
from projector.logdir.tensor_tsv import parse_tensor_tsv

CHUNK_ROWS = 65536
MAX_ARCHIVE_MEMBERS = 256
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


def read_tensor(path: Path, fmt: str | None = None, member: str | None = None) -> np.ndarray:
    """Open a tensor file as a 2-D numeric array, checking rank and size but not values."""
    fmt = fmt or sniff_format(path)
    if fmt == "npy":
        array = read_npy(path)
    elif fmt == "npz":
        array = read_npz(path, member)
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
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
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


def read_npz(path: Path, member: str | None = None) -> np.ndarray:
    """One 2-D array from an `.npz` archive (the only one, or one with a conventional name)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".npy")]
            if len(archive.namelist()) > MAX_ARCHIVE_MEMBERS:
                raise invalid_tensor(f".npz holds {len(archive.namelist())} members; at most {MAX_ARCHIVE_MEMBERS} are read")
            shapes: dict[str, tuple[int, ...]] = {}
            for name in names:
                with archive.open(name) as f:
                    shapes[name[:-4]] = _read_npy_header(f)[0]
            chosen = _pick_member(shapes, member, ".npz")
            with archive.open(chosen + ".npy") as f:
                array = np.lib.format.read_array(f, allow_pickle=False)
    except InvalidInput:
        raise
    except Exception as exc:
        raise invalid_tensor(f"not a valid .npz file: {exc}") from None
    check_dtype(array.dtype)
    return array


SAFETENSORS_DTYPES = {
    "F16": "<f2", "F32": "<f4", "F64": "<f8", "BF16": "<u2",
    "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
    "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
}  # fmt: skip
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024


def read_safetensors(path: Path, member: str | None = None) -> np.ndarray:
    """One 2-D tensor of a `.safetensors` file, memory-mapped (bfloat16 widened to float32)."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > min(MAX_SAFETENSORS_HEADER, size - 8):
                raise invalid_tensor(f".safetensors header length {header_len} is larger than the file")
            header = json.loads(f.read(header_len))
    except InvalidInput:
        raise
    except Exception as exc:
        raise invalid_tensor(f"not a valid .safetensors file: {exc}") from None
    if not isinstance(header, dict):
        raise invalid_tensor(".safetensors header is not a JSON object")
    entries = {k: v for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    shapes = {k: tuple(v.get("shape", ())) for k, v in entries.items()}
    chosen = _pick_member(shapes, member, ".safetensors")
    entry = entries[chosen]
    dtype_name = entry.get("dtype")
    if dtype_name not in SAFETENSORS_DTYPES:
        raise invalid_tensor(f".safetensors tensor {chosen!r} has unsupported dtype {dtype_name!r}")
    dtype = np.dtype(SAFETENSORS_DTYPES[dtype_name])
    shape = shapes[chosen]
    check_shape(shape)
    begin, end = entry.get("data_offsets", (0, -1))
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

"""Tensor files named by `tensor_path`: tab-separated text, or raw little-endian float32."""

from __future__ import annotations

import codecs
import os
from collections.abc import Sequence
from io import BufferedReader
from itertools import chain
from pathlib import Path

import numpy as np

from ._cache import FileCache
from ._paths import open_inside, read_chunks
from .errors import LogdirError
from .limits import MAX_TENSOR_BYTES, MAX_TENSOR_VALUES
from .tensor_tsv import TsvTooLarge, parse_tensor_tsv, tsv_shape

__all__ = ["file_tsv_shape", "is_raw_float32", "read_tensor_file", "sniff_raw"]

Shape = Sequence[int] | None
SNIFF_BYTES = 65536


def is_raw_float32(data: bytes, tensor_shape: Shape, complete: bool = True) -> bool:
    """TensorBoard's rule: a file that is not UTF-8 text holds raw float32 (with a given shape).

    ``complete=False`` means ``data`` is only the start of the file (it may end mid-character).
    """
    if b"\x00" in data[:SNIFF_BYTES] and tensor_shape:
        return True  # NUL bytes never occur in a TSV; zeros are valid UTF-8 but not text
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return True
    return False


def _root_of(path: Path, root: Path | None) -> Path:
    return Path(os.path.realpath(root if root is not None else path.parent))


def sniff_raw(path: str | Path, tensor_shape: Shape, root: Path | None = None) -> bool:
    """Whether a tensor file holds raw float32, judged from its first 64 KiB."""
    path = Path(path)
    with open_inside(_root_of(path, root), path, "tensor file") as fh:
        head = fh.read(SNIFF_BYTES)
        complete = len(head) < SNIFF_BYTES or not fh.read(1)
    return is_raw_float32(head, tensor_shape, complete=complete)


def _raw(fh: BufferedReader, size: int, path: Path, tensor_shape: Shape) -> np.ndarray:
    if not tensor_shape or len(tensor_shape) != 2:
        raise LogdirError(f"{path}: binary tensor file needs tensor_shape [rows, dims] in the projector config")
    rows, dims = int(tensor_shape[0]), int(tensor_shape[1])
    needed = rows * dims * 4
    if needed > MAX_TENSOR_BYTES:
        raise LogdirError(f"{path}: tensor_shape {rows}x{dims} is {needed:,} bytes; at most {MAX_TENSOR_BYTES:,}")
    if size != needed:
        raise LogdirError(f"{path}: raw float32 file has {size} bytes but tensor_shape {rows}x{dims} needs {needed}")
    out = np.empty((rows, dims), dtype="<f4")
    got = fh.readinto(out.data.cast("B")) if needed else 0
    if got != needed:
        raise LogdirError(f"{path}: raw float32 file shrank while being read")
    return out.astype(np.float32, copy=False)


def read_tensor_file(path: str | Path, tensor_shape: Shape = None, root: Path | None = None) -> np.ndarray:
    """Read a `tensor_path` file as float32 (n, dim): TSV, or raw float32 when not UTF-8.

    The file must lie inside ``root`` (default: its own folder) when it is opened.
    """
    path = Path(path)
    with open_inside(_root_of(path, root), path, "tensor file") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(SNIFF_BYTES)
        complete = len(head) < SNIFF_BYTES or size <= SNIFF_BYTES
        if is_raw_float32(head, tensor_shape, complete=complete):
            fh.seek(0)
            return _raw(fh, size, path, tensor_shape)
        declared = int(tensor_shape[0]) * int(tensor_shape[1]) if tensor_shape and len(tensor_shape) == 2 else None
        limit = MAX_TENSOR_VALUES if declared is None else min(MAX_TENSOR_VALUES, declared)
        try:
            array = parse_tensor_tsv(chain([head], read_chunks(fh)), max_values=limit, where=str(path))
        except TsvTooLarge:
            if declared is None or declared >= MAX_TENSOR_VALUES:
                raise
            raise LogdirError(
                f"{path}: has more values than the config's tensor_shape {tensor_shape[0]}x{tensor_shape[1]}"  # type: ignore[index]
            ) from None
    if tensor_shape and len(tensor_shape) == 2 and tuple(array.shape) != tuple(tensor_shape):
        raise LogdirError(
            f"{path}: has {array.shape[0]}x{array.shape[1]} values but the config's tensor_shape says {tensor_shape[0]}x{tensor_shape[1]}"
        )
    return array


_shapes: FileCache[tuple[int, int]] = FileCache()


def file_tsv_shape(path: str | Path, root: Path | None = None) -> tuple[int, int]:
    """(rows, columns) of a tensor TSV file, counted without parsing the numbers (cached per file version)."""
    path = Path(path)
    return _shapes.get(path, lambda: _count_tsv(path, root), context=root)


def _count_tsv(path: Path, root: Path | None) -> tuple[int, int]:
    with open_inside(_root_of(path, root), path, "tensor file") as fh:
        head = fh.read(SNIFF_BYTES)
        if is_raw_float32(head, None, complete=len(head) < SNIFF_BYTES):
            raise LogdirError(f"{path}: binary tensor file needs tensor_shape in the projector config")
        fh.seek(0)
        return tsv_shape(fh, where=str(path))

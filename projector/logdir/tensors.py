"""Tensor files named by `tensor_path`: tab-separated text, or raw little-endian float32."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np

from .errors import LogdirError

__all__ = ["is_raw_float32", "read_tensor_file", "tsv_shape"]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LogdirError(f"{path}: tensor file not found") from None
    except OSError as exc:
        raise LogdirError(f"{path}: cannot read ({exc.strerror})") from None


def is_raw_float32(
    data: bytes, tensor_shape: list[int] | tuple[int, ...] | None, complete: bool = True
) -> bool:
    """TensorBoard's rule: a file that is not UTF-8 text holds raw float32 (with a given shape).

    ``complete=False`` means ``data`` is only the start of the file (it may end mid-character).
    """
    if b"\x00" in data[:65536] and tensor_shape:
        return True  # NUL bytes never occur in a TSV; zeros are valid UTF-8 but not text
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return True
    return False


def _raw(data: bytes, path: Path, tensor_shape: list[int] | tuple[int, ...] | None) -> np.ndarray:
    if not tensor_shape or len(tensor_shape) != 2:
        raise LogdirError(
            f"{path}: binary tensor file needs tensor_shape [rows, dims] in the projector config"
        )
    rows, dims = int(tensor_shape[0]), int(tensor_shape[1])
    if len(data) != rows * dims * 4:
        raise LogdirError(
            f"{path}: raw float32 file has {len(data)} bytes but tensor_shape {rows}x{dims} "
            f"needs {rows * dims * 4}"
        )
    return np.frombuffer(data, dtype="<f4").astype(np.float32).reshape(rows, dims)


def _tsv(text: str, path: Path) -> np.ndarray:
    rows: list[list[str]] = []
    width = -1
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line:
            continue
        cells = line.split("\t")
        if width < 0:
            width = len(cells)
        elif len(cells) != width:
            raise LogdirError(f"{path}: line {lineno} has {len(cells)} values, earlier lines have {width}")
        rows.append(cells)
    if not rows:
        raise LogdirError(f"{path}: tensor file is empty")
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError:
        for lineno, line in enumerate(text.split("\n"), 1):
            for cell in line.rstrip("\r").split("\t") if line.rstrip("\r") else []:
                try:
                    float(cell)
                except ValueError:
                    raise LogdirError(f"{path}: line {lineno}: {cell.strip()!r} is not a number") from None
        raise LogdirError(f"{path}: tensor file holds values that are not numbers") from None
    return values.astype(np.float32)  # float64 -> float32 is exact for float32-valued text


def read_tensor_file(path: str | Path, tensor_shape: list[int] | tuple[int, ...] | None = None) -> np.ndarray:
    """Read a `tensor_path` file as float32 (n, dim): TSV, or raw float32 when not UTF-8."""
    path = Path(path)
    data = _read(path)
    if is_raw_float32(data, tensor_shape):
        return _raw(data, path, tensor_shape)
    array = _tsv(data.decode("utf-8"), path)
    if tensor_shape and len(tensor_shape) == 2 and tuple(array.shape) != tuple(tensor_shape):
        raise LogdirError(
            f"{path}: has {array.shape[0]}x{array.shape[1]} values but the config's tensor_shape "
            f"says {tensor_shape[0]}x{tensor_shape[1]}"
        )
    return array


def tsv_shape(path: str | Path) -> tuple[int, int]:
    """(rows, columns) of a tensor TSV, counted without parsing the numbers."""
    path = Path(path)
    data = _read(path)
    if is_raw_float32(data, None):
        raise LogdirError(f"{path}: binary tensor file needs tensor_shape in the projector config")
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 0x0A)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(arr)]))
    lengths = stops - starts
    last = arr[np.maximum(stops - 1, 0)] if len(arr) else np.zeros(len(stops), np.uint8)
    lengths = lengths - ((lengths > 0) & (last == 0x0D))
    content = np.flatnonzero(lengths > 0)
    if not len(content):
        raise LogdirError(f"{path}: tensor file is empty")
    first = int(content[0])
    cols = data[starts[first]:starts[first] + lengths[first]].count(b"\t") + 1
    return len(content), int(cols)

"""TensorBoard's tensor TSV: one row per point, tab-separated numbers, blank lines skipped, no header.

The one parser for it, shared by the logdir reader and the upload path. Pure: it reads bytes
(a buffer, a binary file or an iterable of chunks), streams them in bounded blocks and raises
LogdirError (a ValueError) with the 1-based line of the first problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np

from .errors import LogdirError, plural
from .limits import MAX_TENSOR_VALUES, MAX_TSV_LINE_BYTES

__all__ = ["TsvSource", "TsvTooLarge", "parse_tensor_tsv", "tsv_shape"]

TsvSource = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]
_BLOCK = 4 << 20  # no larger than MAX_TSV_LINE_BYTES: a line within one block is short enough unchecked


class TsvTooLarge(LogdirError):
    """The TSV holds more values than the caller allows."""


def _blocks(source: TsvSource) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        for start in range(0, len(view), _BLOCK):
            yield bytes(view[start : start + _BLOCK])
    elif hasattr(source, "read"):
        while block := source.read(_BLOCK):  # type: ignore[union-attr]
            yield block
    else:
        for block in source:  # type: ignore[union-attr]
            yield bytes(block)


def _line_blocks(source: TsvSource, where: str) -> Iterator[tuple[int, bytes]]:
    """(number of the first line, bytes of whole lines without the last newline), in order."""
    pending = b""
    line = 1
    for block in _blocks(source):
        data = pending + block if pending else block
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
        else:
            if pending and data.find(b"\n", 0, MAX_TSV_LINE_BYTES + 1) < 0:  # the line carried over ends too late
                raise LogdirError(f"{where}: line {line} is longer than {MAX_TSV_LINE_BYTES:,} bytes")
            pending = data[cut + 1 :]
            yield line, data[:cut]
            line += data.count(b"\n", 0, cut) + 1
        if len(pending) > MAX_TSV_LINE_BYTES:
            raise LogdirError(f"{where}: line {line} is longer than {MAX_TSV_LINE_BYTES:,} bytes")
    if pending:
        yield line, pending


def _text(chunk: bytes, first: int, where: str) -> list[str]:
    if first == 1 and chunk.startswith(b"\xef\xbb\xbf"):
        chunk = chunk[3:]  # a byte-order mark
    try:
        return chunk.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = first + chunk.count(b"\n", 0, exc.start)
        raise LogdirError(f"{where}: line {line} is not UTF-8 text") from None


def _bad_cell(lines: list[str], first: int, where: str) -> LogdirError:
    for offset, line in enumerate(lines):
        for cell in line.rstrip("\r").split("\t") if line.rstrip("\r") else ():
            try:
                float(cell)
            except ValueError:
                return LogdirError(f"{where}: line {first + offset}: {cell.strip()!r} is not a number")
    return LogdirError(f"{where}: lines {first}-{first + len(lines) - 1} hold values that are not numbers")


def parse_tensor_tsv(source: TsvSource, *, max_values: int = MAX_TENSOR_VALUES, where: str = "tensor TSV") -> np.ndarray:
    """The TSV as float32 (rows, columns): each value parsed as a double and rounded once to
    float32, as TensorBoard does. NaN and infinities are kept; the caller decides about them.
    """
    parts: list[np.ndarray] = []
    width = -1
    rows = 0
    for first, chunk in _line_blocks(source, where):
        lines = _text(chunk, first, where)
        kept = [s for s in (line.rstrip("\r") for line in lines) if s]
        if not kept:
            continue
        tabs = {s.count("\t") for s in kept}
        if width < 0:
            width = kept[0].count("\t") + 1
        if tabs != {width - 1}:
            for offset, line in enumerate(lines):
                line = line.rstrip("\r")
                if line and line.count("\t") + 1 != width:
                    raise LogdirError(
                        f"{where}: line {first + offset} has {plural(line.count(chr(9)) + 1, 'value')}, earlier lines have {width}"
                    )
        if (rows + len(kept)) * width > max_values:
            raise TsvTooLarge(f"{where}: more than {max_values:,} values; refused")
        try:  # NumPy parses each value as a double and rounds it once to float32
            values = np.loadtxt(kept, delimiter="\t", dtype=np.float32, comments=None, quotechar=None, ndmin=2)
        except ValueError:
            raise _bad_cell(lines, first, where) from None
        parts.append(values)
        rows += len(kept)
    if not parts:
        raise LogdirError(f"{where}: the tensor file is empty")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def tsv_shape(source: TsvSource, *, where: str = "tensor TSV") -> tuple[int, int]:
    """(rows, columns) of a tensor TSV, counted without parsing the numbers."""
    rows = 0
    width = -1
    for _, chunk in _line_blocks(source, where):
        for line in chunk.split(b"\n"):
            line = line.rstrip(b"\r")
            if line:
                rows += 1
                if width < 0:
                    width = line.count(b"\t") + 1
    if rows == 0:
        raise LogdirError(f"{where}: the tensor file is empty")
    return rows, width

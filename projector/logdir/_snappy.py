"""Decompressor for raw Snappy blocks (the format LevelDB tables use for compressed blocks)."""

from __future__ import annotations

from .errors import LogdirError
from .limits import MAX_INDEX_BYTES


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise LogdirError("Snappy block: bad length header")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def snappy_decompress(data: bytes, max_length: int = MAX_INDEX_BYTES) -> bytes:
    """Decompress one raw Snappy block; raise LogdirError if it is malformed or longer than ``max_length``."""
    length, pos = _varint(data, 0)
    if length > max_length:
        raise LogdirError(f"Snappy block: header says {length:,} bytes; at most {max_length:,} are decompressed")
    out = bytearray()
    end = len(data)
    while pos < end:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                if pos + extra > end:
                    raise LogdirError("Snappy block: truncated literal length")
                n = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            n += 1
            if pos + n > end:
                raise LogdirError("Snappy block: literal runs past the end")
            out += data[pos : pos + n]
            pos += n
            continue
        if kind == 1:
            if pos + 1 > end:
                raise LogdirError("Snappy block: truncated copy")
            n = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            if pos + width > end:
                raise LogdirError("Snappy block: truncated copy")
            n = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + width], "little")
            pos += width
        if offset == 0 or offset > len(out):
            raise LogdirError("Snappy block: copy offset points before the start")
        start = len(out) - offset
        if offset >= n:
            out += out[start : start + n]
        else:  # overlapping copy repeats the last `offset` bytes
            pattern = bytes(out[start:])
            reps = -(-n // offset)
            out += (pattern * reps)[:n]
        if len(out) > length:
            raise LogdirError("Snappy block: output longer than its header says")
    if len(out) != length:
        raise LogdirError(f"Snappy block: got {len(out)} bytes, header says {length}")
    return bytes(out)

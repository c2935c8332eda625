"""A minimal protobuf wire-format decoder: enough for BundleHeaderProto and BundleEntryProto."""

from __future__ import annotations

from collections.abc import Iterator

from .errors import LogdirError


def read_varint(buf: bytes, pos: int, where: str = "message") -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise LogdirError(f"{where}: truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise LogdirError(f"{where}: varint longer than 10 bytes")


def as_int64(value: int) -> int:
    """Reinterpret a decoded varint as a signed 64-bit integer."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(buf: bytes, where: str = "message") -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value): ints for varint/fixed, bytes for length-delimited."""
    pos = 0
    end = len(buf)
    while pos < end:
        tag, pos = read_varint(buf, pos, where)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise LogdirError(f"{where}: field number 0")
        value: int | bytes
        if wire == 0:
            value, pos = read_varint(buf, pos, where)
        elif wire == 1:
            if pos + 8 > end:
                raise LogdirError(f"{where}: truncated fixed64 field {number}")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == 2:
            length, pos = read_varint(buf, pos, where)
            if pos + length > end:
                raise LogdirError(f"{where}: field {number} runs past the end of the message")
            value = bytes(buf[pos : pos + length])
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise LogdirError(f"{where}: truncated fixed32 field {number}")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise LogdirError(f"{where}: unsupported wire type {wire} for field {number}")
        yield number, wire, value

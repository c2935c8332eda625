"""A minimal PNG encoder (8-bit grey, RGB or RGBA) for sprite atlases."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_COLOR_TYPE = {1: 0, 3: 2, 4: 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image of shape (H, W) or (H, W, C) with C in 1, 3, 4."""
    if image.ndim == 2:
        image = image[:, :, None]
    height, width, channels = image.shape
    if channels not in _COLOR_TYPE:
        raise ValueError(f"image must have 1, 3 or 4 channels, got {channels}")
    pixels = np.ascontiguousarray(image, dtype=np.uint8).reshape(height, width * channels)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels], axis=1)  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )

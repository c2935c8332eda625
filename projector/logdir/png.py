"""PNG thumbnails atlases: tile images into TensorBoard's sprite grid and encode them as PNG (numpy only)."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels → PNG colour type (grey, RGB, RGBA)


def tile_atlas(images: np.ndarray) -> np.ndarray:
    """Tile (n, h, w[, c]) uint8 thumbnails row-major into a grid ceil(sqrt(n)) wide, padded at the bottom.

    This is the layout TensorBoard's writers produce and the service assumes for an atlas without a size.
    """
    n, h, w = images.shape[:3]
    per_row = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / per_row)
    atlas = np.zeros((rows * h, per_row * w, *images.shape[3:]), dtype=np.uint8)
    for i in range(n):
        row, col = divmod(i, per_row)
        atlas[row * h : (row + 1) * h, col * w : (col + 1) * w] = images[i]
    return atlas


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an 8-bit grey (h, w), or (h, w, c) image with c = 1, 3 (RGB) or 4 (RGBA)."""
    if image.ndim == 2:
        image = image[:, :, None]
    height, width, channels = image.shape
    if channels not in PNG_COLOUR_TYPES:
        raise ValueError(f"image must have 1, 3 or 4 channels, got {channels}")
    raw = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = np.ascontiguousarray(image, dtype=np.uint8).reshape(height, width * channels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_TYPES[channels], 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b"")

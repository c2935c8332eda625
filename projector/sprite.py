"""Sprite atlases: PNG size checks, thumbnail grid geometry, and a small PNG writer."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np

from projector.errors import InvalidInput

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SPRITE_SIDE = 16384
PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels → PNG colour type (grey, RGB, RGBA)


def invalid_sprite(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_sprite")


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or not head.startswith(PNG_MAGIC) or head[12:16] != b"IHDR":
        raise invalid_sprite("the sprite must be a PNG image")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def parse_sprite_dim(text: str) -> tuple[int, int]:
    """`"W,H"` → (W, H), each a positive integer."""
    try:
        width, height = (int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        raise invalid_sprite(f"sprite_dim must be 'W,H' in pixels, got {text!r}") from None
    if width < 1 or height < 1:
        raise invalid_sprite(f"sprite_dim must be positive, got {text!r}")
    return width, height


def check_sprite(path: Path, n: int, single_dim: tuple[int, int] | None) -> tuple[int, int]:
    """Validate a sprite for `n` thumbnails and return the single image size (W, H).

    Without a given size, the atlas is taken as a square grid of ceil(sqrt(n)) per row,
    the layout TensorBoard's writers use.
    """
    width, height = png_size(path)
    if width > MAX_SPRITE_SIDE or height > MAX_SPRITE_SIDE:
        raise invalid_sprite(f"the sprite is {width}×{height} px; at most {MAX_SPRITE_SIDE} px a side")
    if single_dim is None:
        per_row = math.ceil(math.sqrt(n))
        single_dim = (width // per_row, height // per_row)
        if min(single_dim) < 1:
            raise invalid_sprite(f"a {width}×{height} sprite cannot hold {n} thumbnails")
    w, h = single_dim
    capacity = (width // w) * (height // h)
    if capacity < n:
        raise invalid_sprite(f"the sprite holds {capacity} thumbnails of {w}×{h} px but the tensor has {n} rows")
    return single_dim


def tile_atlas(images: np.ndarray) -> np.ndarray:
    """Tile (n, h, w[, c]) uint8 thumbnails row-major into a grid ceil(sqrt(n)) wide, padded at the bottom.

    This is the layout TensorBoard's writers produce and `check_sprite` assumes without a size.
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


def write_png(path: Path, image: np.ndarray) -> None:
    path.write_bytes(encode_png(image))

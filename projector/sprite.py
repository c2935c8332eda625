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


def write_png(path: Path, pixels: np.ndarray) -> None:
    """Write an 8-bit grey (h, w), RGB (h, w, 3) or RGBA (h, w, 4) image as PNG."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    height, width = pixels.shape[:2]
    raw = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = pixels.reshape(height, width * channels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b"")
    path.write_bytes(data)

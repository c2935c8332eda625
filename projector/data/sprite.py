"""Sprite atlases: PNG size checks and thumbnail grid geometry (the PNG writer is projector.logdir.png)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from projector.data.atomic import atomic_write
from projector.errors import InvalidInput
from projector.logdir.png import PNG_MAGIC, encode_png

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


def write_png(path: Path, image: np.ndarray) -> None:
    atomic_write(path, encode_png(image))

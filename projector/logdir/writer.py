"""Write embeddings in the add_embedding layout that TensorBoard's projector reads."""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LogdirError, plural
from .metadata_tsv import metadata_tsv
from .pbtxt import (
    EmbeddingInfo,
    ProjectorConfig,
    SpriteInfo,
    format_projector_config,
    read_projector_config,
)
from .png import encode_png, tile_atlas

__all__ = ["encode_tag", "log_embedding"]

MAX_SPRITE_PX = 8192  # TensorBoard's projector refuses larger atlases
_CONFIG_LOCK = threading.Lock()


def encode_tag(tag: str) -> str:
    """A tag as a single folder name: ``%``, ``/`` and ``\\`` percent-encoded (tensorboardX's rule)."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _atomic_write(path: Path, data: bytes) -> None:
    """Temp name, fsync, rename, fsync the folder: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _check_finite(array: np.ndarray) -> None:
    """TensorBoard's page turns NaN and infinities into garbage projections: refuse them."""
    finite = np.isfinite(array)
    if not finite.all():
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"tensor has a non-finite value ({array[row, col]}) at row {row}, column {col}; "
            "TensorBoard cannot show it: replace or drop non-finite rows first"
        )


def _tensor_tsv(tensor: np.ndarray) -> bytes:
    # repr of the float32 value widened to float64 is exact: parsing it back and casting
    # to float32 gives the same bits
    lines = ["\t".join(map(repr, row)) for row in tensor.astype(np.float64).tolist()]
    return ("\n".join(lines) + "\n").encode("ascii")


def _sprite_atlas(images: np.ndarray) -> tuple[bytes, tuple[int, int]]:
    """PNG atlas of (N, H, W) or (N, H, W, C) images in row-major order, padded at the bottom."""
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError("sprite images must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4")
    if images.dtype != np.uint8:
        images = np.clip(np.rint(np.asarray(images, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    n, h, w, _ = images.shape
    per_row = max(1, math.ceil(math.sqrt(n)))
    n_rows = math.ceil(n / per_row)
    if per_row * w > MAX_SPRITE_PX or n_rows * h > MAX_SPRITE_PX:
        raise ValueError(
            f"sprite atlas would be {per_row * w}x{n_rows * h} px; TensorBoard shows at most "
            f"{MAX_SPRITE_PX}x{MAX_SPRITE_PX}: use smaller or fewer images"
        )
    return encode_png(tile_atlas(images)), (w, h)


def _sprite_file(sprite: Any, sprite_dim: Sequence[int] | None, n: int) -> tuple[bytes, str, tuple[int, int]]:
    if isinstance(sprite, (str, os.PathLike)):
        sprite = Path(sprite).read_bytes()
    if isinstance(sprite, (bytes, bytearray)):
        if sprite_dim is None or len(sprite_dim) != 2:
            raise ValueError("a ready-made sprite image needs sprite_dim=(width, height) of one thumbnail")
        data = bytes(sprite)
        if data.startswith(b"\x89PNG"):
            name = "sprite.png"
        elif data.startswith(b"\xff\xd8"):
            name = "sprite.jpg"
        else:
            raise ValueError("sprite bytes are neither PNG nor JPEG")
        return data, name, (int(sprite_dim[0]), int(sprite_dim[1]))
    images = np.asarray(sprite)
    if images.shape[0] != n:
        raise ValueError(f"sprite has {plural(images.shape[0], 'image')} but the tensor has {plural(n, 'row')}")
    data, dim = _sprite_atlas(images)
    return data, "sprite.png", dim


def log_embedding(
    logdir: str | Path,
    tensor: Any,
    metadata: Any = None,
    tag: str = "embedding",
    step: int = 0,
    sprite: Any = None,
    sprite_dim: Sequence[int] | None = None,
    metadata_header: Sequence[str] | None = None,
) -> Path:
    """Write one embedding as ``<logdir>/<step:05d>/<tag>/`` and register it in the projector config.

    ``metadata`` is a list of labels, a dict of columns, a DataFrame, or a list of rows with
    ``metadata_header``; it is written by :func:`~projector.logdir.metadata_tsv.metadata_tsv` so
    that TensorBoard's page reads one line per point (empty labels become ``<empty>``). Non-finite
    values are refused (ValueError naming the first). ``sprite`` is an (N, H, W[, C]) image array, or PNG/JPEG bytes or a
    path of a ready atlas together with ``sprite_dim=(width, height)``. Other entries of an
    existing projector_config.pbtxt are kept; one with the same tag and step is replaced.
    Returns the folder written.
    """
    with np.errstate(over="ignore"):  # values beyond float32 become inf and are refused below
        array = np.asarray(tensor, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"tensor must be 2-D (points x dimensions), got shape {list(array.shape)}")
    if not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"step must be a non-negative integer, got {step!r}")
    if not tag:
        raise ValueError("tag must not be empty")
    root = Path(logdir)
    subdir = f"{int(step):05d}/{encode_tag(tag)}"
    folder = root / subdir
    n = array.shape[0]
    info = EmbeddingInfo(
        tensor_name=f"{tag}:{int(step):05d}",
        tensor_path=f"{subdir}/tensors.tsv",
        tensor_shape=[int(array.shape[0]), int(array.shape[1])],
    )
    # validate and encode everything before touching the disk
    _check_finite(array)
    meta_bytes = metadata_tsv(metadata, n, metadata_header) if metadata is not None else None
    sprite_parts = _sprite_file(sprite, sprite_dim, n) if sprite is not None else None
    tsv = _tensor_tsv(array)

    _atomic_write(folder / "tensors.tsv", tsv)
    if meta_bytes is not None:
        _atomic_write(folder / "metadata.tsv", meta_bytes)
        info.metadata_path = f"{subdir}/metadata.tsv"
    if sprite_parts is not None:
        data, name, dim = sprite_parts
        _atomic_write(folder / name, data)
        info.sprite = SpriteInfo(image_path=f"{subdir}/{name}", single_image_dim=[dim[0], dim[1]])

    config_path = root / "projector_config.pbtxt"
    with _CONFIG_LOCK:
        if config_path.exists():
            try:
                config = read_projector_config(config_path)
            except LogdirError as exc:
                raise LogdirError(f"{exc}; not overwriting it, fix or remove the file first") from None
        else:
            config = ProjectorConfig()
        config.embeddings = [e for e in config.embeddings if e.tensor_name != info.tensor_name]
        config.embeddings.append(info)
        _atomic_write(config_path, format_projector_config(config).encode("utf-8"))
    return folder

"""Turn uploaded or local files into a stored dataset: validate everything, then commit once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from projector.data.atomic import atomic_write, move_into
from projector.data.formats import Progress, check_finite, read_tensor, sniff_format, write_float32_npy
from projector.data.metadata import Metadata, column_types, index_metadata, parse_metadata_tsv, write_metadata_json
from projector.data.sprite import check_sprite
from projector.data.store import Store
from projector.errors import InvalidInput
from projector.logdir.errors import plural

MAX_NAME_LENGTH = 200


def clean_name(name: str | None, fallback: str) -> str:
    name = (name or "").strip() or fallback
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"a dataset name is at most {MAX_NAME_LENGTH} printable characters", code="invalid_name")
    return name


def _is_stored_form(array: np.ndarray, tensor_file: Path) -> bool:
    """Whether `array` maps `tensor_file` itself and that file is already a float32 C-order `.npy`."""
    return (
        isinstance(array, np.memmap) and array.dtype == np.dtype("<f4") and array.flags.c_contiguous
        and array.filename == str(tensor_file.resolve()) and sniff_format(tensor_file) == "npy"
    )  # fmt: skip


def ingest(
    store: Store,
    *,
    name: str,
    source: str,
    tensor_file: Path | None = None,
    array: np.ndarray | None = None,
    fmt: str | None = None,
    member: str | None = None,
    metadata: bytes | Path | Metadata | None = None,
    sprite_file: Path | bytes | None = None,
    sprite_dim: tuple[int, int] | None = None,
    progress: Progress | None = None,
    consume: bool = False,
    dataset_id: str | None = None,
    logdir_state: dict[str, Any] | None = None,
    bookmarks: bytes | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Validate and store one dataset; returns the dataset object.

    With `consume=True` the tensor file is a temp file the caller owns: a float32 `.npy`
    is then moved into place instead of copied. Nothing is listed unless everything is valid.
    `max_bytes` bounds what a compressed tensor file may inflate to. Metadata (TSV bytes or a
    TSV file, parsed as a stream) and the sprite (a PNG file or its bytes) are optional.
    `logdir_state` and `bookmarks` record where a logdir dataset came from (see `Store.logdir_state`).
    """
    if (tensor_file is None) == (array is None):
        raise ValueError("pass exactly one of tensor_file and array")
    staging = store.staging()
    try:
        if array is None:
            assert tensor_file is not None
            array = read_tensor(tensor_file, fmt, member, limit=max_bytes, scratch=store.dir.tmp)
        n, dim = array.shape
        if consume and tensor_file is not None and _is_stored_form(array, tensor_file):
            check_finite(array, progress)
            del array
            move_into(tensor_file, staging.tensor)
        else:
            write_float32_npy(array, staging.tensor, progress)
            del array
        if metadata is None:
            table = index_metadata(n)
        elif isinstance(metadata, Metadata):
            table = metadata
            if len(table.rows) != n:
                raise InvalidInput(f"metadata has {plural(len(table.rows), 'row')} but the tensor has {n}", code="metadata_mismatch")
        else:
            table = parse_metadata_tsv(metadata, n)
        write_metadata_json(table, staging.metadata)
        if logdir_state is not None:
            atomic_write(staging.logdir_state, orjson.dumps(logdir_state))
        if bookmarks is not None:
            atomic_write(staging.bookmarks, bookmarks)
        single_dim = None
        if isinstance(sprite_file, bytes):
            atomic_write(staging.sprite, sprite_file)
            single_dim = check_sprite(staging.sprite, n, sprite_dim)
        elif sprite_file is not None:
            single_dim = check_sprite(sprite_file, n, sprite_dim)
            with open(sprite_file, "rb") as sprite_in:
                atomic_write(staging.sprite, lambda out: shutil.copyfileobj(sprite_in, out))
        return store.commit_dataset(
            staging,
            name=name,
            n=n,
            dim=dim,
            columns=table.columns,
            column_types=column_types(table),
            source=source,
            sprite_dim=single_dim,
            dataset_id=dataset_id,
        )
    except BaseException:
        shutil.rmtree(staging.folder, ignore_errors=True)
        raise

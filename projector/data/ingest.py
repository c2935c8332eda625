"""Turn uploaded or local files into a stored dataset: validate everything, then commit once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from projector.errors import InvalidInput
from projector.data.metadata import Metadata, column_types, index_metadata, parse_metadata_tsv, write_metadata_json
from projector.data.formats import CHUNK_ROWS, Progress, invalid_tensor, read_tensor, write_float32_npy
from projector.data.sprite import check_sprite
from projector.data.store import Store

MAX_NAME_LENGTH = 200


def clean_name(name: str | None, fallback: str) -> str:
    name = (name or "").strip() or fallback
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"a dataset name is at most {MAX_NAME_LENGTH} printable characters", code="invalid_name")
    return name


def _is_stored_form(array: np.ndarray) -> bool:
    return isinstance(array, np.memmap) and array.dtype == np.dtype("<f4") and array.flags.c_contiguous


def _check_finite(array: np.ndarray, progress: Progress | None) -> None:
    for start in range(0, array.shape[0], CHUNK_ROWS):
        chunk = array[start : start + CHUNK_ROWS]
        finite = np.isfinite(chunk).all(axis=1)
        if not finite.all():
            raise invalid_tensor(f"the tensor has a non-finite value (NaN or infinity) in row {start + int(np.argmin(finite))}")
        if progress is not None:
            progress(len(chunk))


def ingest(
    store: Store,
    *,
    name: str,
    source: str,
    tensor_file: Path | None = None,
    array: np.ndarray | None = None,
    fmt: str | None = None,
    member: str | None = None,
    metadata: bytes | Metadata | None = None,
    sprite_file: Path | None = None,
    sprite_dim: tuple[int, int] | None = None,
    progress: Progress | None = None,
    consume: bool = False,
    dataset_id: str | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """Validate and store one dataset; returns the dataset object.

    With `consume=True` the tensor file is a temp file the caller owns: a float32 `.npy`
    is then moved into place instead of copied. Nothing is listed unless everything is valid.
    """
    if (tensor_file is None) == (array is None):
        raise ValueError("pass exactly one of tensor_file and array")
    staging = store.staging_dir()
    try:
        if array is None:
            assert tensor_file is not None
            array = read_tensor(tensor_file, fmt, member)
        n, dim = array.shape
        if consume and tensor_file is not None and _is_stored_form(array):
            _check_finite(array, progress)
            del array
            os.replace(tensor_file, staging / "tensor.npy")
        else:
            write_float32_npy(array, staging / "tensor.npy", progress)
            del array
        if metadata is None:
            table = index_metadata(n)
        elif isinstance(metadata, Metadata):
            table = metadata
            if len(table.rows) != n:
                raise InvalidInput(f"metadata has {len(table.rows)} rows but the tensor has {n}", code="metadata_mismatch")
        else:
            table = parse_metadata_tsv(metadata, n)
        write_metadata_json(table, staging / "metadata.json")
        for file_name, content in (extra_files or {}).items():
            (staging / file_name).write_bytes(content)
        single_dim = None
        if sprite_file is not None:
            single_dim = check_sprite(sprite_file, n, sprite_dim)
            shutil.copyfile(sprite_file, staging / "sprite.png")
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
        shutil.rmtree(staging, ignore_errors=True)
        raise

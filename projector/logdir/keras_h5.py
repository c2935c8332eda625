"""Keras 3 `*.weights.h5` files written by `keras.callbacks.TensorBoard(embeddings_freq=...)`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LogdirError

__all__ = ["KerasEmbedding", "h5_step", "keras_embeddings", "read_keras_weight"]

# Keras 3 names a layer's group after its class in snake case: embedding, embedding_1, ...
_EMBEDDING_GROUP = re.compile(r"^embedding(?:_(\d+))?$")
_STEP = re.compile(r"-(\d+)\.weights\.h5$")


@dataclass(frozen=True)
class KerasEmbedding:
    """One Embedding layer's matrix inside a weights file."""

    dataset: str  # e.g. "layers/embedding/vars/0"
    layer_name: str  # the layer's own name, e.g. "tokens"
    shape: tuple[int, ...]


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:  # pragma: no cover - depends on the environment
        raise LogdirError("reading Keras .weights.h5 files needs the h5py package (pip install h5py)") from None
    return h5py


def _open(path: Path) -> Any:
    h5py = _h5py()
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise LogdirError(f"{path}: weights file not found") from None
    except OSError as exc:
        raise LogdirError(f"{path}: not a readable HDF5 weights file ({exc})") from None


def h5_step(path: str | Path) -> int | None:
    """The epoch in ``keras_embedding.ckpt-<epoch>.weights.h5``, or None."""
    match = _STEP.search(Path(path).name)
    return int(match.group(1)) if match else None


def keras_embeddings(path: str | Path) -> list[KerasEmbedding]:
    """Embedding layers found in a Keras 3 weights file, in creation order."""
    path = Path(path)
    h5py = _h5py()
    found: list[tuple[tuple[str, int], KerasEmbedding]] = []
    with _open(path) as handle:

        def visit(name: str, obj: object) -> None:
            if not isinstance(obj, h5py.Group):
                return
            parts = name.split("/")
            match = _EMBEDDING_GROUP.match(parts[-1])
            if match is None or len(parts) < 2 or parts[-2] != "layers":
                return
            data = obj.get("vars/0")
            if not isinstance(data, h5py.Dataset) or len(data.shape) != 2:
                return
            vars_group = obj.get("vars")
            layer_name = vars_group.attrs.get("name", parts[-1]) if vars_group is not None else parts[-1]
            if isinstance(layer_name, bytes):
                layer_name = layer_name.decode("utf-8", "replace")
            order = ("/".join(parts[:-1]), int(match.group(1) or 0))
            found.append((order, KerasEmbedding(f"{name}/vars/0", str(layer_name), tuple(data.shape))))

        try:
            handle.visititems(visit)
        except (OSError, RuntimeError, KeyError) as exc:
            raise LogdirError(f"{path}: corrupt HDF5 weights file ({exc})") from None
    return [emb for _, emb in sorted(found, key=lambda item: item[0])]


def read_keras_weight(path: str | Path, dataset: str) -> np.ndarray:
    """One weight of a weights file as float32; floating-point dtypes only."""
    path = Path(path)
    h5py = _h5py()
    with _open(path) as handle:
        data = handle.get(dataset)
        if not isinstance(data, h5py.Dataset):
            raise LogdirError(f"{path}: no weight {dataset!r} in the file")
        if data.dtype.kind != "f":
            raise LogdirError(f"{path}: weight {dataset!r} has dtype {data.dtype}; only floating point can be shown")
        try:
            value = data[()]
        except (OSError, RuntimeError) as exc:
            raise LogdirError(f"{path}: cannot read weight {dataset!r} ({exc})") from None
    return np.ascontiguousarray(value, dtype=np.float32)

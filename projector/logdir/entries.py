"""What a scan finds: embedding entries with their assets, problems per run, and the whole discovery."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._paths import read_inside
from .errors import LogdirError
from .limits import MAX_BOOKMARKS_BYTES, MAX_METADATA_BYTES, MAX_SPRITE_BYTES

__all__ = ["Discovery", "EmbeddingEntry", "RunError"]


@dataclass
class EmbeddingEntry:
    """One embedding tensor (at one step) found in a logdir, with its assets.

    The ``*_path`` fields say where things are; read them with :meth:`load_tensor` and the
    ``read_*`` methods, which check again, at read time, that each file lies inside the logdir.
    """

    key: str
    run: str
    tensor_name: str
    name: str
    step: int | None
    sequence: str
    shape: tuple[int, int] | None
    kind: str  # "checkpoint", "tsv", "raw" or "keras_h5"
    source_path: Path  # checkpoint prefix, tensor file or weights file
    config_path: Path | None = None
    metadata_path: Path | None = None
    sprite_path: Path | None = None
    sprite_dim: tuple[int, int] | None = None
    bookmarks_path: Path | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    signature: tuple[tuple[str, int, int], ...] = ()
    root: Path | None = None  # the logdir (resolved) every file must stay in
    _loader: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def load_tensor(self) -> np.ndarray:
        """The tensor as a float32 (n, dim) array; LogdirError when it cannot be read."""
        if self.error is not None or self._loader is None:
            raise LogdirError(self.error or f"{self.name}: no loader")
        array = self._loader()
        if array.ndim != 2:
            raise LogdirError(f"{self.source_path}: tensor {self.tensor_name!r} has shape {list(array.shape)}, not 2-D")
        return np.ascontiguousarray(array, dtype=np.float32)

    def _read(self, path: Path | None, limit: int, what: str) -> bytes | None:
        if path is None:
            return None
        root = self.root if self.root is not None else Path(os.path.realpath(path.parent))
        return read_inside(root, path, limit, what)

    def read_metadata(self) -> bytes | None:
        """The metadata TSV as stored (at most ``MAX_METADATA_BYTES``), or None without one."""
        return self._read(self.metadata_path, MAX_METADATA_BYTES, "metadata file")

    def read_sprite(self) -> bytes | None:
        """The sprite atlas image as stored (at most ``MAX_SPRITE_BYTES``), or None without one."""
        return self._read(self.sprite_path, MAX_SPRITE_BYTES, "sprite image")

    def read_bookmarks(self) -> bytes | None:
        """The bookmarks file as stored (at most ``MAX_BOOKMARKS_BYTES``), or None without one.

        LogdirError unless it is a JSON array (TensorBoard's list of saved states).
        """
        data = self._read(self.bookmarks_path, MAX_BOOKMARKS_BYTES, "bookmarks file")
        if data is None:
            return None
        try:
            states = json.loads(data)
        except (ValueError, RecursionError):
            raise LogdirError(f"{self.bookmarks_path}: bookmarks file is not JSON") from None
        if not isinstance(states, list):
            raise LogdirError(f"{self.bookmarks_path}: bookmarks file is not a JSON array of saved states")
        return data


@dataclass
class RunError:
    """A problem that kept (part of) a run from being read."""

    run: str
    path: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Discovery:
    """What :func:`discover` found: the entries, and the problems met on the way."""

    logdir: Path
    entries: list[EmbeddingEntry]
    errors: list[RunError]

    def messages(self) -> list[str]:
        """Every problem as readable text: run errors, entry errors and warnings."""
        out = [f"{e.run}: {e.message}" for e in self.errors]
        for entry in self.entries:
            if entry.error:
                out.append(f"{entry.name}: {entry.error}")
            out.extend(f"{entry.name}: {w}" for w in entry.warnings)
        return out

    def sequences(self) -> dict[str, list[EmbeddingEntry]]:
        """Entries grouped by sequence key, each group ordered by step."""
        groups: dict[str, list[EmbeddingEntry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.sequence, []).append(entry)
        for group in groups.values():
            group.sort(key=lambda e: (e.step is None, e.step or 0))
        return groups

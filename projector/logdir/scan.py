"""The state of one scan of a logdir: entries found so far, problems met, and the assets of an entry."""

from __future__ import annotations

import os
from pathlib import Path

from ._paths import file_signature, resolve_inside
from .entries import EmbeddingEntry, RunError
from .errors import LogdirError
from .pbtxt import EmbeddingInfo


class Scan:
    """Collects entries and problems while :func:`~projector.logdir.discover` walks a logdir."""

    def __init__(self, root: Path) -> None:
        self.root = root  # resolved
        self.entries: dict[str, EmbeddingEntry] = {}
        self.errors: list[RunError] = []
        self.used_dirs: set[Path] = set()  # checkpoint folders some config already read

    def rel(self, path: Path) -> str:
        """``path`` relative to the logdir, as a run name ("." for the logdir itself)."""
        rel = os.path.relpath(path, self.root)
        return "." if rel == "." else Path(rel).as_posix()

    def error(self, run: str, path: Path | None, message: str) -> None:
        self.errors.append(RunError(run, "" if path is None else os.fspath(path), message))

    def name(self, run: str, display: str) -> str:
        return display if run == "." else f"{run}/{display}"

    def new_entry(self, **fields: object) -> EmbeddingEntry:
        return EmbeddingEntry(root=self.root, **fields)  # type: ignore[arg-type]

    def assets(self, entry: EmbeddingEntry, info: EmbeddingInfo | None, base: Path, source: Path | None) -> None:
        """Attach the metadata, bookmarks and sprite a config entry names; problems become warnings."""
        if info is None:
            return
        where = source or base
        for attr, value in (("metadata_path", info.metadata_path), ("bookmarks_path", info.bookmarks_path)):
            if not value:
                continue
            try:
                path = resolve_inside(self.root, base, value, attr, where)
            except LogdirError as exc:
                entry.warnings.append(str(exc))
                continue
            if path.is_file():
                setattr(entry, attr, path)
            else:
                entry.warnings.append(f"{where}: {attr} {value!r} not found")
        sprite = info.sprite
        if sprite is not None and sprite.image_path:
            try:
                path = resolve_inside(self.root, base, sprite.image_path, "sprite image_path", where)
            except LogdirError as exc:
                entry.warnings.append(str(exc))
                return
            dims = sprite.single_image_dim
            if not path.is_file():
                entry.warnings.append(f"{where}: sprite image {sprite.image_path!r} not found")
            elif not dims or any(d <= 0 for d in dims):
                entry.warnings.append(f"{where}: sprite without single_image_dim; ignored")
            else:
                entry.sprite_path = path
                entry.sprite_dim = (dims[0], dims[1] if len(dims) > 1 else dims[0])

    def finish(self, entry: EmbeddingEntry, files: list[Path]) -> None:
        """Record ``entry`` with the signature of every file it depends on (first one seen wins)."""
        extra = [p for p in (entry.config_path, entry.metadata_path, entry.sprite_path, entry.bookmarks_path) if p]
        entry.signature = file_signature([*files, *extra])
        if entry.key not in self.entries:  # the same tensor seen through two configs: keep the first
            self.entries[entry.key] = entry

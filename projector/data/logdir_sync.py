"""Keep the catalog in step with a TensorBoard logdir: every embedding found there is a read-only dataset.

The logdir is only ever read, each file through the logdir reader's checks (inside the logdir, no
symlinks, bounded sizes). Each embedding is converted once into the data dir's float32 form (so it
can be memory-mapped like any dataset), with copies of its metadata, sprite and bookmarks, and
converted again only when its files change. Problems name paths relative to the logdir.
Datasets are removed through the `delete_dataset` callable it is given, so that the service can
cancel their projection jobs first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from projector.data.ingest import ingest
from projector.data.store import Store
from projector.errors import ProjectorError
from projector.logdir import EmbeddingEntry, discover

log = logging.getLogger("projector.logdir")
RESCAN_SECONDS = 5.0


def dataset_id_for(key: str) -> str:
    return f"log-{key}"


class LogdirSync:
    """Scans `logdir` now and every few seconds in a background thread."""

    def __init__(self, store: Store, logdir: Path, delete_dataset: Callable[[str], Any]) -> None:
        self.store = store
        self.delete_dataset = delete_dataset
        self.given = Path(logdir).absolute()
        self.logdir = Path(logdir).resolve()
        self.problems: list[str] = []
        self.scans = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="projector-logdir", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # a scan must never take the server down
                log.exception("scanning %s failed", self.logdir)
            self._stop.wait(RESCAN_SECONDS)

    def scan(self) -> None:
        """Add new embeddings, refresh changed ones, drop vanished ones."""
        found = discover(self.logdir)
        problems = [self.relative(message) for message in found.messages()]
        wanted: dict[str, Any] = {}
        for entry in found.entries:
            if entry.error is None:
                wanted[dataset_id_for(entry.key)] = entry
        for dataset in self.store.list_datasets():
            if dataset["source"] == "logdir" and dataset["id"] not in wanted:
                self.delete_dataset(dataset["id"])
        for dataset_id, entry in wanted.items():
            signature = [list(s) for s in entry.signature]
            if self._stored_signature(dataset_id) == signature:
                continue
            try:
                self._import(dataset_id, entry, signature)
            except (ProjectorError, ValueError, OSError) as exc:  # LogdirError is a ValueError
                problems.append(self.relative(f"{entry.name}: {getattr(exc, 'detail', exc)}"))
            except Exception:  # one bad embedding never stops the others
                log.exception("importing %s failed", entry.name)
                problems.append(f"{entry.name}: could not be imported (unexpected error; see the server log)")
        self.problems = problems
        self.scans += 1

    def relative(self, message: str) -> str:
        """`message` with the logdir's absolute path taken out: clients see paths relative to it."""
        for prefix in {str(self.logdir), str(self.given)}:
            message = message.replace(prefix + "/", "").replace(prefix, ".")
        return message

    def _stored_signature(self, dataset_id: str) -> Any:
        return (self.store.logdir_state(dataset_id) or {}).get("signature")

    def _import(self, dataset_id: str, entry: EmbeddingEntry, signature: list[Any]) -> None:
        array = entry.load_tensor()
        metadata, sprite, bookmarks = entry.read_metadata(), entry.read_sprite(), entry.read_bookmarks()
        state = {
            "signature": signature, "run": entry.run, "tensor_name": entry.tensor_name, "step": entry.step,
            "sequence": entry.sequence, "bookmarks": bookmarks is not None,
        }  # fmt: skip
        if dataset_id in {d["id"] for d in self.store.list_datasets()}:
            self.delete_dataset(dataset_id)
        ingest(
            self.store,
            name=entry.name,
            source="logdir",
            array=array,
            metadata=metadata,
            sprite_file=sprite,
            sprite_dim=entry.sprite_dim,
            dataset_id=dataset_id,
            logdir_state=state,
            bookmarks=bookmarks,
        )

"""`projector load DIR`: copy every good embedding of a TensorBoard logdir (or a checkpoint) into the data dir.

Each embedding is imported on its own: a bad one is reported and skipped, never stopping the
others. Each is recorded in the store by its source (the resolved logdir, the run, the tensor and
the step), so loading the same logdir again finds what is already there instead of copying it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projector.data.ingest import clean_name, ingest
from projector.data.store import Store, new_id
from projector.logdir import Checkpoint, discover


@dataclass
class ImportReport:
    """What one load did: datasets made now, datasets found from an earlier load, and one line per problem."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    existing: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _import_one(store: Store, report: ImportReport, key: str, label: str, load: Callable[[str], dict[str, Any]]) -> None:
    """Import one embedding under source `key` unless a dataset already comes from there; a failure is reported."""
    existing = store.dataset_by_source(key)
    if existing is not None:
        report.existing.append(existing)
        return
    dataset_id = new_id()
    try:
        already = store.claim_source(key, dataset_id)
        if already is not None:  # another load took it meanwhile
            report.existing.append(store.get_dataset(already))
            return
        report.imported.append(load(dataset_id))
    except Exception as exc:  # one bad embedding never stops the others
        report.skipped.append(_one_line(f"{label}: {getattr(exc, 'detail', None) or exc}"))


def import_logdir(store: Store, logdir: Path, name: str | None = None) -> ImportReport:
    """Import every embedding TensorBoard's projector would show under `logdir`."""
    found = discover(logdir)
    report = ImportReport()
    report.skipped += [_one_line(f"{e.run or '.'}: {e.message}") for e in found.errors]
    for entry in found.entries:
        report.warnings += [_one_line(f"{entry.name}: {w}") for w in entry.warnings]
        if entry.error is not None:
            report.skipped.append(_one_line(f"{entry.name}: {entry.error}"))
            continue

        def load(dataset_id: str, entry: Any = entry) -> dict[str, Any]:
            return ingest(
                store, name=clean_name(name and f"{name}/{entry.name}", entry.name), source="upload", array=entry.load_tensor(),
                metadata=entry.read_metadata(), sprite_file=entry.read_sprite(), sprite_dim=entry.sprite_dim, dataset_id=dataset_id,
            )  # fmt: skip

        _import_one(store, report, f"logdir:{found.logdir}:{entry.key}", entry.name, load)
    return report


def import_checkpoint(store: Store, prefix: Path, name: str | None = None) -> ImportReport:
    """Import every 2-D float variable of one TensorFlow checkpoint (optimizer slots left out)."""
    checkpoint = Checkpoint(prefix)
    report = ImportReport()
    for variable, (dtype, shape) in sorted(checkpoint.variables().items()):
        if len(shape) != 2 or "OPTIMIZER_SLOT" in variable or not dtype.startswith(("float", "bfloat")):
            continue

        def load(dataset_id: str, variable: str = variable) -> dict[str, Any]:
            return ingest(
                store, name=clean_name(name, f"{prefix.name}/{variable}"), source="upload", array=checkpoint.read(variable),
                dataset_id=dataset_id,
            )  # fmt: skip

        _import_one(store, report, f"checkpoint:{prefix.resolve()}:{variable}", variable, load)
    return report

"""Find every embedding under a logdir: projector configs, checkpoints, TSVs, Keras weights.

The walk finds runs (folders with a config, and config-less checkpoint folders); each run is
scanned under a catch-all, so one hostile or broken run is a reported problem and never hides
the others. Checkpoint and Keras entries come from :mod:`.scan_checkpoints`.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from ._paths import is_inside, resolve_inside
from .entries import Discovery
from .errors import LogdirError
from .naming import digest, split_step
from .pbtxt import EmbeddingInfo, ProjectorConfig, read_projector_config
from .scan import Scan
from .scan_checkpoints import checkpoint_entries, unexpected
from .tensors import file_tsv_shape, read_tensor_file, sniff_raw

__all__ = ["discover"]

CONFIG_NAME = "projector_config.pbtxt"
PLUGIN_DIR = ("plugins", "org_tensorflow_tensorboard_projector")


def _tensor_file_entry(scan: Scan, run: str, base: Path, config_path: Path | None, info: EmbeddingInfo) -> None:
    tensor_name = info.tensor_name or Path(info.tensor_path).name
    tag, step = split_step(tensor_name, info.tensor_path)
    if step is None and tensor_name.endswith(":0"):
        tensor_name = tensor_name[:-2]
    shape = (info.tensor_shape[0], info.tensor_shape[1]) if len(info.tensor_shape) == 2 else None
    entry = scan.new_entry(
        key=digest(run, "file", tag, step),
        run=run,
        tensor_name=tensor_name,
        name=scan.name(run, tag),
        step=step,
        sequence=digest(run, "file", tag),
        shape=shape,
        kind="tsv",
        source_path=base / info.tensor_path,
        config_path=config_path,
    )
    try:
        path = resolve_inside(scan.root, base, info.tensor_path, "tensor_path", config_path or base)
        entry.source_path = path
        if not path.is_file():
            raise LogdirError(f"{path}: tensor file {'is not a regular file' if path.exists() else 'not found'}")
        if sniff_raw(path, info.tensor_shape, scan.root):
            entry.kind = "raw"
            if len(info.tensor_shape) != 2:
                raise LogdirError(f"{path}: binary tensor file needs tensor_shape [rows, dims] in the config")
        elif entry.shape is None:
            entry.shape = file_tsv_shape(path, scan.root)
        entry._loader = partial(read_tensor_file, path, list(info.tensor_shape), scan.root)
    except LogdirError as exc:
        entry.error = str(exc)
    except Exception as exc:  # one bad file never hides the others
        entry.error = f"{entry.source_path}: {unexpected(exc)}"
    scan.assets(entry, info, base, config_path)
    scan.finish(entry, [entry.source_path])


def _scan_run(scan: Scan, run_dir: Path, config_path: Path | None) -> None:
    run = scan.rel(run_dir)
    base = config_path.parent if config_path else run_dir
    config = ProjectorConfig()
    if config_path is not None:
        if not is_inside(scan.root, config_path):
            scan.error(run, config_path, f"{config_path}: symlink to outside the logdir; refused")
            return
        try:
            config = read_projector_config(config_path, scan.root)
        except LogdirError as exc:
            scan.error(run, config_path, str(exc))
            return
    template: EmbeddingInfo | None = None
    named: list[EmbeddingInfo] = []
    for i, info in enumerate(config.embeddings):
        if info.tensor_path:
            _tensor_file_entry(scan, run, base, config_path, info)
        elif info.tensor_name:
            named.append(info)
        elif i == 0:
            template = info
    checkpoint_entries(scan, run, run_dir, base, config_path, config, named, template)


def _walk(root: Path) -> list[tuple[Path, Path | None]]:
    """(run directory, config path or None) for every config and every config-less checkpoint dir."""
    runs: list[tuple[Path, Path | None]] = []
    configured: set[Path] = set()
    candidates: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        directory = Path(dirpath)
        if CONFIG_NAME in filenames:
            is_plugin = directory.parts[-2:] == PLUGIN_DIR
            run_dir = directory.parent.parent if is_plugin else directory
            runs.append((run_dir, directory / CONFIG_NAME))
            configured.add(run_dir)
        elif "checkpoint" in filenames:
            candidates.append(directory)  # a checkpoint directory without a config
    runs.sort(key=lambda r: (os.fspath(r[0]), os.fspath(r[1] or "")))
    # config-less checkpoint folders last, so configs that point into them claim them first
    runs.extend((d, None) for d in sorted(candidates) if d not in configured)
    return runs


def discover(logdir: str | Path) -> Discovery:
    """Find every embedding under ``logdir``.

    Problems with one run or entry are collected (``Discovery.errors``, ``entry.error``,
    ``entry.warnings``) and never raised; only a missing logdir raises LogdirError.
    """
    root = Path(logdir).resolve()
    if not root.is_dir():
        raise LogdirError(f"{logdir}: logdir not found or not a directory")
    scan = Scan(root)
    for run_dir, config_path in _walk(root):
        if config_path is None and run_dir in scan.used_dirs:
            continue  # a checkpoint folder that a config elsewhere already points to
        try:
            _scan_run(scan, run_dir, config_path)
        except Exception as exc:  # anything unforeseen stays with its run
            scan.error(scan.rel(run_dir), config_path, f"{config_path or run_dir}: {unexpected(exc)}")
    entries = sorted(scan.entries.values(), key=lambda e: (e.run, e.name, e.step is None, e.step or 0))
    return Discovery(root, entries, scan.errors)

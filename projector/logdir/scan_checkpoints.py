"""Entries from a run's checkpoints: TensorFlow tensor bundles, or Keras 3 `.weights.h5` files."""

from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path

import numpy as np

from ._paths import is_inside, resolve_inside
from .checkpoint import FLOAT_DTYPES, Checkpoint
from .checkpoint_files import checkpoint_prefixes, checkpoint_step
from .errors import LogdirError
from .keras_h5 import h5_step, keras_embeddings, read_keras_weight
from .limits import MAX_TENSOR_VALUES
from .naming import digest, display_name, is_embedding_variable, match_tensor_name
from .pbtxt import EmbeddingInfo, ProjectorConfig
from .scan import Scan

__all__ = ["checkpoint_entries"]

_CKPT_STEP = re.compile(r"-\d+$")


def unexpected(exc: BaseException) -> str:
    """A problem nobody foresaw, as one line for the problems list."""
    return f"unexpected {type(exc).__name__} while reading: {exc}"


def _read_checkpoint_tensor(prefix: Path, key: str, root: Path) -> np.ndarray:
    return Checkpoint(prefix, root=root).read(key)  # reopened so a rewritten index is picked up


def _prefixes_in(scan: Scan, run: str, directory: Path) -> list[Path]:
    try:
        return checkpoint_prefixes(directory, scan.root)
    except LogdirError as exc:
        scan.error(run, directory / "checkpoint", str(exc))
        return sorted((p.with_suffix("") for p in directory.glob("*.index")), key=os.fspath)


def _find_checkpoints(
    scan: Scan, run: str, run_dir: Path, base: Path, config_path: Path | None, config: ProjectorConfig
) -> list[Path] | None:
    """Checkpoint prefixes of a run, oldest first; None after an error was recorded."""
    where = config_path or base
    if config.model_checkpoint_path:
        recorded = config.model_checkpoint_path
        candidates = [recorded]
        if os.path.isabs(recorded):
            candidates.append(str(base / Path(recorded).name))  # written on another machine
        found = None
        for candidate in candidates:
            try:
                index = resolve_inside(scan.root, base, candidate + ".index", "model_checkpoint_path", where)
            except LogdirError as exc:
                if candidate is candidates[-1]:
                    scan.error(run, where, str(exc))
                    return None
                continue
            if index.is_file():
                found = index.with_suffix("")
                break
        if found is None:
            scan.error(run, where, f"{where}: model_checkpoint_path {recorded!r}: no such checkpoint")
            return None
        stem = _CKPT_STEP.sub("", found.name)
        siblings = [p for p in _prefixes_in(scan, run, found.parent) if _CKPT_STEP.sub("", p.name) == stem]
        return siblings if found in siblings else [*siblings, found]
    if config.model_checkpoint_dir:
        try:
            directory = resolve_inside(scan.root, base, config.model_checkpoint_dir, "model_checkpoint_dir", where)
        except LogdirError as exc:
            scan.error(run, where, str(exc))
            return None
        return _prefixes_in(scan, run, directory)
    prefixes = _prefixes_in(scan, run, run_dir)
    if not prefixes and run_dir != scan.root:
        prefixes = _prefixes_in(scan, run, run_dir.parent)  # TensorBoard also looks one level up
    return prefixes


def checkpoint_entries(
    scan: Scan,
    run: str,
    run_dir: Path,
    base: Path,
    config_path: Path | None,
    config: ProjectorConfig,
    named: list[EmbeddingInfo],
    template: EmbeddingInfo | None,
) -> None:
    """Entries for the run's checkpoints (or, without any, its Keras weights files)."""
    prefixes = _find_checkpoints(scan, run, run_dir, base, config_path, config)
    if prefixes is None:
        return
    safe = []
    for prefix in prefixes:
        index = Path(f"{prefix}.index")
        if is_inside(scan.root, index):
            safe.append(prefix)
        else:
            scan.error(run, index, f"{index}: symlink to outside the logdir; refused")
    if not safe:
        weights = _find_weights(scan, run_dir, base)
        has_files = any(info.tensor_path for info in config.embeddings)
        if weights:
            _keras_entries(scan, run, base, config_path, weights, named, template)
        elif named or (not has_files and config_path is not None and not prefixes):
            what = ", ".join(repr(i.tensor_name) for i in named) or "no tensor_path"
            scan.error(
                run, config_path or run_dir,
                f"{config_path or run_dir}: config names {what} but no checkpoint was found "
                f"(no `checkpoint` file, *.index or *.weights.h5 in {run_dir})",
            )  # fmt: skip
        return
    scan.used_dirs.update(p.parent for p in safe)
    for prefix in safe:
        try:
            _one_checkpoint(scan, run, base, config_path, prefix, named, template)
        except Exception as exc:  # one bad checkpoint never hides the others
            scan.error(run, Path(f"{prefix}.index"), f"{prefix}.index: {unexpected(exc)}")


def _check_tensor(scan: Scan, ckpt: Checkpoint, key: str, files: list[Path]) -> tuple[int, int]:
    """The 2-D shape of a float tensor whose declared bytes fit its data files; LogdirError otherwise."""
    index = ckpt.index_path
    dtype, shape = ckpt.variables()[key]
    if len(shape) != 2:
        raise LogdirError(f"{index}: tensor {key!r} has shape {list(shape)}; embeddings must be 2-D")
    if dtype not in FLOAT_DTYPES:
        raise LogdirError(f"{index}: tensor {key!r} has dtype {dtype}; only float16, bfloat16, float32 and float64 can be shown")
    for shard in ckpt.shards_of(key):
        data = ckpt.data_path(shard)
        files.append(data)
        if not data.is_file():
            raise LogdirError(f"{data}: missing data file (shard {shard + 1} of {ckpt.num_shards}) of checkpoint {ckpt.prefix.name}")
        if not is_inside(scan.root, data):
            raise LogdirError(f"{data}: symlink to outside the logdir; refused")
    ckpt.check(key)  # declared sizes against the limit and the data files' sizes
    return shape[0], shape[1]


def _one_checkpoint(
    scan: Scan,
    run: str,
    base: Path,
    config_path: Path | None,
    prefix: Path,
    named: list[EmbeddingInfo],
    template: EmbeddingInfo | None,
) -> None:
    index = Path(f"{prefix}.index")
    try:
        ckpt = Checkpoint(prefix, verify=True, root=scan.root)
    except LogdirError as exc:
        scan.error(run, index, str(exc))
        return
    variables = ckpt.variables()
    step = checkpoint_step(prefix)
    stem = _CKPT_STEP.sub("", prefix.name)
    state_file = prefix.parent / "checkpoint"
    chosen: list[tuple[str, EmbeddingInfo | None, bool]] = []
    for info in named:
        key = match_tensor_name(info.tensor_name, variables)
        chosen.append((key or info.tensor_name, info, key is not None))
    taken = {k for k, _, ok in chosen if ok}
    for key, (dtype, shape) in variables.items():
        if key not in taken and is_embedding_variable(key, dtype, shape):
            chosen.append((key, template, True))
    for key, chosen_info, exists in chosen:
        entry = scan.new_entry(
            key=digest(run, "ckpt", stem, key, step),
            run=run,
            tensor_name=key,
            name=scan.name(run, display_name(key.removesuffix(":0"))),
            step=step,
            sequence=digest(run, "ckpt", stem, key),
            shape=None,
            kind="checkpoint",
            source_path=prefix,
            config_path=config_path,
        )
        files = [index, *([state_file] if state_file.is_file() else [])]
        try:
            if not exists:
                sample = ", ".join(sorted(k for k in variables if not k.startswith("_"))[:8])
                raise LogdirError(f"{index}: no tensor {key!r} in checkpoint {prefix.name} (it has: {sample})")
            entry.shape = _check_tensor(scan, ckpt, key, files)
            entry._loader = partial(_read_checkpoint_tensor, prefix, key, scan.root)
        except LogdirError as exc:
            entry.error = str(exc)
        except Exception as exc:  # one bad tensor never hides the others
            entry.error = f"{index}: {unexpected(exc)}"
        scan.assets(entry, chosen_info, base, config_path)
        scan.finish(entry, files)


def _find_weights(scan: Scan, run_dir: Path, base: Path) -> list[Path]:
    found: dict[Path, None] = {}
    for directory in (base, run_dir, run_dir / "train", base / "train"):
        if directory.is_dir():
            for path in directory.glob("*.weights.h5"):
                if is_inside(scan.root, path):
                    found[path] = None
    return sorted(found, key=lambda p: (h5_step(p) is None, h5_step(p) or 0, p.name))


def _keras_entries(
    scan: Scan,
    run: str,
    base: Path,
    config_path: Path | None,
    weights: list[Path],
    named: list[EmbeddingInfo],
    template: EmbeddingInfo | None,
) -> None:
    for path in weights:
        try:
            layers = keras_embeddings(path, scan.root)
        except LogdirError as exc:
            scan.error(run, path, str(exc))
            continue
        except Exception as exc:  # one bad file never hides the others
            scan.error(run, path, f"{path}: {unexpected(exc)}")
            continue
        step = h5_step(path)
        stem = re.sub(r"-\d+\.weights\.h5$", "", path.name)
        for i, layer in enumerate(layers):
            # Keras 3 writes one config entry per Embedding layer, in layer order
            info = named[i] if i < len(named) else template
            entry = scan.new_entry(
                key=digest(run, "h5", stem, layer.dataset, step),
                run=run,
                tensor_name=layer.dataset,
                name=scan.name(run, layer.layer_name),
                step=step,
                sequence=digest(run, "h5", stem, layer.dataset),
                shape=(layer.shape[0], layer.shape[1]),
                kind="keras_h5",
                source_path=path,
                config_path=config_path,
                _loader=partial(read_keras_weight, path, layer.dataset, scan.root),
            )
            if layer.shape[0] * layer.shape[1] > MAX_TENSOR_VALUES:
                entry.error = f"{path}: weight {layer.dataset!r} declares shape {list(layer.shape)}; too large to read"
            scan.assets(entry, info, base, config_path)
            scan.finish(entry, [path])

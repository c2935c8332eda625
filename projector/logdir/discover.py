"""Find every embedding under a logdir: projector configs, checkpoints, TSVs, Keras weights."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from ._paths import file_signature, is_inside, resolve_inside
from .checkpoint import FLOAT_DTYPES, Checkpoint, checkpoint_prefixes, checkpoint_step
from .errors import LogdirError
from .keras_h5 import h5_step, keras_embeddings, read_keras_weight
from .pbtxt import EmbeddingInfo, ProjectorConfig, read_projector_config
from .tensors import is_raw_float32, read_tensor_file, tsv_shape

__all__ = ["Discovery", "EmbeddingEntry", "RunError", "discover", "match_tensor_name"]

CONFIG_NAME = "projector_config.pbtxt"
PLUGIN_DIR = ("plugins", "org_tensorflow_tensorboard_projector")
VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
# TF1 optimizer slots are stored as "<variable>/<Optimizer>[_1]"
_TF1_SLOT = re.compile(r"/(Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad|AdagradDA|Adadelta|Adadelta_1|Ftrl|Ftrl_1|Nadam|Nadam_1)$")
_STEPPED_NAME = re.compile(r"^(.*):(\d+)$")
_CKPT_STEP = re.compile(r"-\d+$")


@dataclass
class EmbeddingEntry:
    """One embedding tensor (at one step) found in a logdir, with its assets."""

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
    _loader: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def load_tensor(self) -> np.ndarray:
        """The tensor as a float32 (n, dim) array; LogdirError when it cannot be read."""
        if self.error is not None or self._loader is None:
            raise LogdirError(self.error or f"{self.name}: no loader")
        array = self._loader()
        if array.ndim != 2:
            raise LogdirError(f"{self.source_path}: tensor {self.tensor_name!r} has shape {list(array.shape)}, not 2-D")
        return np.ascontiguousarray(array, dtype=np.float32)


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


def _digest(*parts: object) -> str:
    text = "\x00".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _display(key: str) -> str:
    return key.removesuffix(VARIABLE_SUFFIX)


def match_tensor_name(name: str, variables: dict[str, tuple[str, tuple[int, ...]]]) -> str | None:
    """The checkpoint key a config's `tensor_name` means, or None.

    Tries the name itself (trailing ``:0`` dropped), then ``<name>/.ATTRIBUTES/VARIABLE_VALUE``,
    then a unique key whose path ends with ``/<name>``.
    """
    name = name.removesuffix(":0")
    for candidate in (name, name + VARIABLE_SUFFIX):
        if candidate in variables:
            return candidate
    tail = "/" + _display(name)
    matches = [
        k for k in variables
        if _display(k).endswith(tail) and ".OPTIMIZER_SLOT" not in k and k.endswith(VARIABLE_SUFFIX)
    ]
    return matches[0] if len(matches) == 1 else None


def is_embedding_variable(key: str, dtype: str, shape: tuple[int, ...]) -> bool:
    """TensorBoard's rule (2-D, not an optimizer slot), limited to floating-point tensors.

    Keras 3 optimizer state (``optimizer/_variables/...``) and TF1 slots (``var/Adam``) are
    slots too, though they lack the ``.OPTIMIZER_SLOT`` marker.
    """
    if len(shape) != 2 or dtype not in FLOAT_DTYPES:
        return False
    if ".OPTIMIZER_SLOT" in key or key.startswith("optimizer/") or _TF1_SLOT.search(key):
        return False
    return not key.startswith("\x00")


def _read_checkpoint_tensor(prefix: Path, key: str) -> np.ndarray:
    return Checkpoint(prefix).read(key)  # reopened so a rewritten index is picked up


def _split_step(tensor_name: str, tensor_path: str) -> tuple[str, int | None]:
    """``tag:00005`` (add_embedding's naming) -> ("tag", 5); other names have no step."""
    match = _STEPPED_NAME.match(tensor_name)
    if match:
        digits = match.group(2)
        first_dir = Path(tensor_path).parts[0] if tensor_path else ""
        if len(digits) >= 5 or first_dir == digits:
            return match.group(1), int(digits)
        if digits == "0":
            return match.group(1), None
    return tensor_name, None


class _Scanner:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, EmbeddingEntry] = {}
        self.errors: list[RunError] = []
        self.used_dirs: set[Path] = set()  # checkpoint folders some config already read

    # --- helpers ---

    def _rel(self, path: Path) -> str:
        rel = os.path.relpath(path, self.root)
        return "." if rel == "." else Path(rel).as_posix()

    def _error(self, run: str, path: Path | None, message: str) -> None:
        self.errors.append(RunError(run, "" if path is None else os.fspath(path), message))

    def _add(self, entry: EmbeddingEntry) -> None:
        if entry.key not in self.entries:  # the same tensor seen through two configs: keep the first
            self.entries[entry.key] = entry

    def _name(self, run: str, display: str) -> str:
        return display if run == "." else f"{run}/{display}"

    def _assets(self, entry: EmbeddingEntry, info: EmbeddingInfo | None, base: Path, source: Path | None) -> None:
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

    def _finish(self, entry: EmbeddingEntry, files: list[Path]) -> None:
        extra = [p for p in (entry.config_path, entry.metadata_path, entry.sprite_path, entry.bookmarks_path) if p]
        entry.signature = file_signature([*files, *extra])
        self._add(entry)

    # --- runs ---

    def scan_run(self, run_dir: Path, config_path: Path | None) -> None:
        run = self._rel(run_dir)
        base = config_path.parent if config_path else run_dir
        config = ProjectorConfig()
        if config_path is not None:
            if not is_inside(self.root, config_path):
                self._error(run, config_path, f"{config_path}: symlink to outside the logdir; refused")
                return
            try:
                config = read_projector_config(config_path)
            except LogdirError as exc:
                self._error(run, config_path, str(exc))
                return
        template: EmbeddingInfo | None = None
        named: list[EmbeddingInfo] = []
        for i, info in enumerate(config.embeddings):
            if info.tensor_path:
                self._tensor_file_entry(run, base, config_path, info)
            elif info.tensor_name:
                named.append(info)
            elif i == 0:
                template = info
        has_files = any(info.tensor_path for info in config.embeddings)
        self._checkpoint_entries(run, run_dir, base, config_path, config, named, template, has_files)

    def _tensor_file_entry(self, run: str, base: Path, config_path: Path | None, info: EmbeddingInfo) -> None:
        tensor_name = info.tensor_name or Path(info.tensor_path).name
        tag, step = _split_step(tensor_name, info.tensor_path)
        if step is None and tensor_name.endswith(":0"):
            tensor_name = tensor_name[:-2]
        shape = tuple(info.tensor_shape) if len(info.tensor_shape) == 2 else None
        entry = EmbeddingEntry(
            key=_digest(run, "file", tag, step),
            run=run,
            tensor_name=tensor_name,
            name=self._name(run, tag),
            step=step,
            sequence=_digest(run, "file", tag),
            shape=shape,  # type: ignore[arg-type]
            kind="tsv",
            source_path=base / info.tensor_path,
            config_path=config_path,
        )
        try:
            path = resolve_inside(self.root, base, info.tensor_path, "tensor_path", config_path or base)
            entry.source_path = path
            if not path.is_file():
                raise LogdirError(f"{path}: tensor file not found")
            with open(path, "rb") as fh:
                head = fh.read(65536)
            if is_raw_float32(head, info.tensor_shape, complete=False):
                entry.kind = "raw"
                if len(info.tensor_shape) != 2:
                    raise LogdirError(f"{path}: binary tensor file needs tensor_shape [rows, dims] in the config")
            elif entry.shape is None:
                entry.shape = tsv_shape(path)
            tensor_shape = list(info.tensor_shape)
            entry._loader = partial(read_tensor_file, path, tensor_shape)
        except LogdirError as exc:
            entry.error = str(exc)
        self._assets(entry, info, base, config_path)
        self._finish(entry, [entry.source_path])

    # --- checkpoints ---

    def _prefixes_in(self, run: str, directory: Path) -> list[Path]:
        try:
            return checkpoint_prefixes(directory)
        except LogdirError as exc:
            self._error(run, directory / "checkpoint", str(exc))
            return sorted((p.with_suffix("") for p in directory.glob("*.index")), key=os.fspath)

    def _find_checkpoints(
        self, run: str, run_dir: Path, base: Path, config_path: Path | None, config: ProjectorConfig
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
                    index = resolve_inside(self.root, base, candidate + ".index", "model_checkpoint_path", where)
                except LogdirError as exc:
                    if candidate is candidates[-1]:
                        self._error(run, where, str(exc))
                        return None
                    continue
                if index.is_file():
                    found = index.with_suffix("")
                    break
            if found is None:
                self._error(run, where, f"{where}: model_checkpoint_path {recorded!r}: no such checkpoint")
                return None
            stem = _CKPT_STEP.sub("", found.name)
            siblings = [p for p in self._prefixes_in(run, found.parent) if _CKPT_STEP.sub("", p.name) == stem]
            return siblings if found in siblings else [*siblings, found]
        if config.model_checkpoint_dir:
            try:
                directory = resolve_inside(self.root, base, config.model_checkpoint_dir, "model_checkpoint_dir", where)
            except LogdirError as exc:
                self._error(run, where, str(exc))
                return None
            return self._prefixes_in(run, directory)
        prefixes = self._prefixes_in(run, run_dir)
        if not prefixes and run_dir != self.root:
            prefixes = self._prefixes_in(run, run_dir.parent)  # TensorBoard also looks one level up
        return prefixes

    def _checkpoint_entries(
        self,
        run: str,
        run_dir: Path,
        base: Path,
        config_path: Path | None,
        config: ProjectorConfig,
        named: list[EmbeddingInfo],
        template: EmbeddingInfo | None,
        has_files: bool,
    ) -> None:
        prefixes = self._find_checkpoints(run, run_dir, base, config_path, config)
        if prefixes is None:
            return
        safe = []
        for prefix in prefixes:
            index = Path(f"{prefix}.index")
            if is_inside(self.root, index):
                safe.append(prefix)
            else:
                self._error(run, index, f"{index}: symlink to outside the logdir; refused")
        if not safe:
            weights = self._find_weights(run_dir, base)
            if weights:
                self._keras_entries(run, base, config_path, weights, named, template)
            elif named or (not has_files and config_path is not None and not prefixes):
                what = ", ".join(repr(i.tensor_name) for i in named) or "no tensor_path"
                self._error(
                    run, config_path or run_dir,
                    f"{config_path or run_dir}: config names {what} but no checkpoint was found "
                    f"(no `checkpoint` file, *.index or *.weights.h5 in {run_dir})",
                )
            return
        self.used_dirs.update(p.parent for p in safe)
        for prefix in safe:
            self._one_checkpoint(run, base, config_path, prefix, named, template, many=len(safe) > 1)

    def _one_checkpoint(
        self,
        run: str,
        base: Path,
        config_path: Path | None,
        prefix: Path,
        named: list[EmbeddingInfo],
        template: EmbeddingInfo | None,
        many: bool,
    ) -> None:
        index = Path(f"{prefix}.index")
        try:
            ckpt = Checkpoint(prefix, verify=True)
        except LogdirError as exc:
            self._error(run, index, str(exc))
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
            display = _display(key.removesuffix(":0"))
            entry = EmbeddingEntry(
                key=_digest(run, "ckpt", stem, key, step),
                run=run,
                tensor_name=key,
                name=self._name(run, display),
                step=step,
                sequence=_digest(run, "ckpt", stem, key),
                shape=None,
                kind="checkpoint",
                source_path=prefix,
                config_path=config_path,
            )
            files = [index, *([state_file] if state_file.is_file() else [])]
            try:
                if not exists:
                    sample = ", ".join(sorted(k for k in variables if not k.startswith("_"))[:8])
                    raise LogdirError(f"{index}: no tensor {key!r} in checkpoint {prefix.name} "
                                      f"(it has: {sample})")
                dtype, shape = variables[key]
                if len(shape) != 2:
                    raise LogdirError(f"{index}: tensor {key!r} has shape {list(shape)}; embeddings must be 2-D")
                if dtype not in FLOAT_DTYPES:
                    raise LogdirError(f"{index}: tensor {key!r} has dtype {dtype}; only float16, bfloat16, "
                                      "float32 and float64 can be shown")
                entry.shape = (shape[0], shape[1])
                for shard in ckpt.shards_of(key):
                    data = ckpt.data_path(shard)
                    files.append(data)
                    if not data.is_file():
                        raise LogdirError(f"{data}: missing data file (shard {shard + 1} of {ckpt.num_shards}) "
                                          f"of checkpoint {prefix.name}")
                    if not is_inside(self.root, data):
                        raise LogdirError(f"{data}: symlink to outside the logdir; refused")
                entry._loader = partial(_read_checkpoint_tensor, prefix, key)
            except LogdirError as exc:
                entry.error = str(exc)
            self._assets(entry, chosen_info, base, config_path)
            self._finish(entry, files)

    # --- Keras 3 weights ---

    def _find_weights(self, run_dir: Path, base: Path) -> list[Path]:
        found: dict[Path, None] = {}
        for directory in (base, run_dir, run_dir / "train", base / "train"):
            if directory.is_dir():
                for path in directory.glob("*.weights.h5"):
                    if is_inside(self.root, path):
                        found[path] = None
        return sorted(found, key=lambda p: (h5_step(p) is None, h5_step(p) or 0, p.name))

    def _keras_entries(
        self,
        run: str,
        base: Path,
        config_path: Path | None,
        weights: list[Path],
        named: list[EmbeddingInfo],
        template: EmbeddingInfo | None,
    ) -> None:
        for path in weights:
            try:
                layers = keras_embeddings(path)
            except LogdirError as exc:
                self._error(run, path, str(exc))
                continue
            step = h5_step(path)
            stem = re.sub(r"-\d+\.weights\.h5$", "", path.name)
            for i, layer in enumerate(layers):
                # Keras 3 writes one config entry per Embedding layer, in layer order
                info = named[i] if i < len(named) else template
                entry = EmbeddingEntry(
                    key=_digest(run, "h5", stem, layer.dataset, step),
                    run=run,
                    tensor_name=layer.dataset,
                    name=self._name(run, layer.layer_name),
                    step=step,
                    sequence=_digest(run, "h5", stem, layer.dataset),
                    shape=(layer.shape[0], layer.shape[1]),
                    kind="keras_h5",
                    source_path=path,
                    config_path=config_path,
                    _loader=partial(read_keras_weight, path, layer.dataset),
                )
                self._assets(entry, info, base, config_path)
                self._finish(entry, [path])


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
    scanner = _Scanner(root)
    for run_dir, config_path in _walk(root):
        if config_path is None and run_dir in scanner.used_dirs:
            continue  # a checkpoint folder that a config elsewhere already points to
        try:
            scanner.scan_run(run_dir, config_path)
        except (LogdirError, OSError) as exc:  # anything unforeseen stays with its run
            scanner._error(scanner._rel(run_dir), config_path, str(exc))
    entries = sorted(scanner.entries.values(), key=lambda e: (e.run, e.name, e.step is None, e.step or 0))
    return Discovery(root, entries, scanner.errors)

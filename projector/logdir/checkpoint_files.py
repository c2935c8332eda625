"""Finding checkpoints in a folder: the `checkpoint` state file, `*.index` files and their steps."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .checkpoint import normalise_prefix
from .pbtxt import parse_checkpoint_state, read_text_file

__all__ = ["checkpoint_prefixes", "checkpoint_step", "latest_checkpoint"]

_STEP = re.compile(r"-(\d+)$")


def checkpoint_step(prefix: str | Path) -> int | None:
    """The trailing ``-<number>`` of a prefix (``model.ckpt-10`` -> 10), or None."""
    match = _STEP.search(normalise_prefix(prefix).name)
    return int(match.group(1)) if match else None


def _state_prefix(directory: Path, recorded: str) -> Path:
    """Resolve a prefix from a `checkpoint` file against its directory."""
    path = Path(recorded)
    if not path.is_absolute():
        return directory / path
    # An absolute prefix was written on the training machine (TF1 Saver's default). When the
    # logs were moved or copied, the same file beside the state file is the one meant.
    beside = directory / path.name
    if Path(f"{beside}.index").exists() or not Path(f"{path}.index").exists():
        return beside
    return path


def _read_state(directory: Path, root: Path | None) -> tuple[Path | None, list[Path]]:
    state_file = directory / "checkpoint"
    if not state_file.is_file():
        return None, []
    state = parse_checkpoint_state(read_text_file(state_file, root), str(state_file))
    latest = _state_prefix(directory, state.model_checkpoint_path) if state.model_checkpoint_path else None
    return latest, [_state_prefix(directory, p) for p in state.all_model_checkpoint_paths]


def _sort_key(prefix: Path) -> tuple[int, int, str]:
    step = checkpoint_step(prefix)
    return (0 if step is None else 1, step or 0, prefix.name)


def checkpoint_prefixes(directory: str | Path, root: Path | None = None) -> list[Path]:
    """All existing checkpoints of a directory, oldest step first.

    Uses the `checkpoint` state file's lists plus any other ``*.index`` with the same stem.
    The state file must lie inside ``root`` (default: ``directory``).
    """
    directory = Path(directory)
    latest, listed = _read_state(directory, root)
    found: dict[str, Path] = {}
    for prefix in [*listed, *([latest] if latest else [])]:
        if Path(f"{prefix}.index").is_file():
            found[os.fspath(prefix)] = prefix
    stems = {_STEP.sub("", p.name) for p in found.values()}
    for index in directory.glob("*.index"):
        prefix = index.with_suffix("")
        if not stems or _STEP.sub("", prefix.name) in stems:
            found.setdefault(os.fspath(prefix), prefix)
    return sorted(found.values(), key=_sort_key)


def latest_checkpoint(directory: str | Path, root: Path | None = None) -> Path | None:
    """The newest checkpoint prefix in ``directory`` (the `checkpoint` file first), or None."""
    directory = Path(directory)
    latest, _ = _read_state(directory, root)
    if latest is not None and Path(f"{latest}.index").is_file():
        return latest
    prefixes = checkpoint_prefixes(directory, root)
    return prefixes[-1] if prefixes else None

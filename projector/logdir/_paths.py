"""Path containment: assets named by a config must stay inside the logdir."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LogdirError


def _lexical(path: Path) -> Path:
    return Path(os.path.normpath(os.fspath(path)))


def resolve_inside(root: Path, base: Path, name: str, what: str, source: Path) -> Path:
    """Resolve ``name`` (relative to ``base``) and refuse it unless it stays under ``root``.

    ``root`` must already be resolved. Absolute paths, ``..`` and symlinks are allowed only
    when the real path they lead to is inside ``root`` (TensorBoard #7115 refuses them too).
    """
    if "\x00" in name:
        raise LogdirError(f"{source}: {what} {name!r} contains a NUL byte")
    candidate = Path(name) if os.path.isabs(name) else base / name
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # symlink loop
        raise LogdirError(f"{source}: {what} {name!r} cannot be resolved ({exc})") from None
    if real == root or real.is_relative_to(root):
        return real
    if _lexical(candidate).is_relative_to(root):
        raise LogdirError(
            f"{source}: {what} {name!r} is a symlink to {real}, outside the logdir {root}; refused"
        )
    raise LogdirError(f"{source}: {what} {name!r} points outside the logdir {root}; refused")


def is_inside(root: Path, path: Path) -> bool:
    """True when the real path of ``path`` is under ``root`` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def file_signature(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of each file; (path, -1, -1) for missing ones."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((os.fspath(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((os.fspath(path), -1, -1))
    return tuple(out)

"""Path containment: every file named by a log is checked to stay inside the logdir, at scan and at read time."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from io import BufferedReader
from pathlib import Path
from typing import BinaryIO

from .errors import LogdirError

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_CHUNK = 8 << 20


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
        # where it leads is not named: /api/logdir shows problems to every client, the server's paths to none
        raise LogdirError(f"{source}: {what} {name!r} is a symlink leading outside the logdir {root}; refused")
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


def _descriptor_path(fd: int) -> str | None:
    """The path the kernel has for an open descriptor, or None where it cannot be asked."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")  # Linux
    except OSError:
        pass
    try:
        import fcntl

        getpath = getattr(fcntl, "F_GETPATH", None)  # macOS
        if getpath is not None:
            raw = fcntl.fcntl(fd, getpath, bytes(1024))
            return os.fsdecode(raw.split(b"\0", 1)[0])
    except (ImportError, OSError):
        pass
    return None


def open_inside(root: Path, path: str | os.PathLike[str], what: str = "file") -> BufferedReader:
    """Open a regular file for reading only if what is opened really lies inside ``root``.

    The final component is opened with O_NOFOLLOW (a symlink swapped in after the scan fails),
    and the descriptor's own path is checked against ``root`` (a swapped parent directory is
    caught too). FIFOs and devices are refused without blocking. LogdirError on any refusal.
    """
    path = Path(path)
    root = Path(os.path.realpath(root))
    real = os.path.realpath(path)  # symlinks that stay inside the logdir are fine
    if not Path(real).is_relative_to(root):
        raise LogdirError(f"{path}: {what} resolves to a path outside the logdir {root}; refused")
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise LogdirError(f"{path}: {what} not found") from None
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "EMLINK", -1)):
            raise LogdirError(f"{path}: {what} became a symlink after the scan; refused") from None
        raise LogdirError(f"{path}: cannot open {what} ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LogdirError(f"{path}: {what} is not a regular file; refused")
        opened = _descriptor_path(fd)
        if opened is None:  # no way to ask the kernel: the file must still be the one resolved
            again = os.stat(os.path.realpath(real))
            inside = Path(os.path.realpath(real)).is_relative_to(root)
            inside = inside and (again.st_dev, again.st_ino) == (st.st_dev, st.st_ino)
        else:
            inside = Path(opened).is_relative_to(root)
        if not inside:
            raise LogdirError(f"{path}: {what} was moved outside the logdir {root} after the scan; refused")
        if os.O_NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")  # type: ignore[return-value]  # buffered binary reader
    except BaseException:
        os.close(fd)
        raise


def read_inside(root: Path, path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The whole of a file inside ``root`` (see :func:`open_inside`), refused above ``limit`` bytes."""
    with open_inside(root, path, what) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise LogdirError(f"{path}: {what} is {size:,} bytes; at most {limit:,} are read")
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise LogdirError(f"{path}: {what} is larger than {limit:,} bytes; refused")
    return data


def read_chunks(fh: BinaryIO, chunk: int = _READ_CHUNK) -> Iterator[bytes]:
    """An open file's bytes, in chunks."""
    while True:
        block = fh.read(chunk)
        if not block:
            return
        yield block

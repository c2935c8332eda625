"""Durable writes: the one way a file lands in the data dir (temp name, fsync, rename, fsync the directory).

A reader sees either the old file or the whole new one, after a kill -9 or a power cut alike.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

Writer = Callable[[BinaryIO], None]


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(dest: Path) -> Path:
    """A hidden name beside `dest`, unique per writer (start-up recovery removes leftovers)."""
    return dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.partial")


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temp path to write `dest` through (for writers that need a file name, e.g. np.memmap)."""
    tmp = temp_name(dest)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def atomic_write(dest: Path, content: bytes | Writer) -> None:
    """Write `content` (bytes, or a function that writes to a binary file) to `dest` atomically and durably."""
    with atomic_path(dest) as tmp, open(tmp, "wb") as f:
        if callable(content):
            content(f)
        else:
            f.write(content)


def move_into(src: Path, dest: Path) -> None:
    """Rename a finished file or folder to `dest` durably (same filesystem)."""
    if src.is_file():
        fsync_file(src)
    os.replace(src, dest)
    fsync_dir(dest.parent)

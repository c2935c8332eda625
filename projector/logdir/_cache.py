"""Results computed from a file, remembered while the file is unchanged (rescans stay cheap)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def file_identity(path: Path) -> tuple[Any, ...] | None:
    """What changes when a file is replaced or rewritten; None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class FileCache(Generic[T]):
    """A bounded LRU of ``compute(path)`` keyed by the file's identity; errors are not cached."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, compute: Callable[[], T], context: Any = None) -> T:
        """``compute()``'s result for this version of ``path`` (and ``context``, e.g. the logdir)."""
        identity = file_identity(path)
        key = None if identity is None else (*identity, context)
        with self._lock:
            if key is not None and key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        if key is not None and identity == file_identity(path):  # unchanged while computing
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value

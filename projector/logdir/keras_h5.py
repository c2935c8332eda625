"""Keras 3 `*.weights.h5` files written by `keras.callbacks.TensorBoard(embeddings_freq=...)`.

libhdf5 is C code parsing untrusted files, so it never runs in this process: each call opens the
file here (inside the logdir, no symlinks) and hands the descriptor to one child process
(:mod:`._h5_child`) with a time limit and an address-space limit. Links to other objects or
files, external storage and virtual datasets are refused. Listings are cached per file version.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._cache import FileCache
from ._paths import open_inside
from .errors import LogdirError
from .limits import H5_BASE_MEMORY, H5_TIMEOUT_SECONDS, MAX_TENSOR_BYTES, MAX_TENSOR_VALUES

__all__ = ["KerasEmbedding", "h5_step", "keras_embeddings", "read_keras_weight"]

_STEP = re.compile(r"-(\d+)\.weights\.h5$")
_CHILD = Path(__file__).with_name("_h5_child.py")


@dataclass(frozen=True)
class KerasEmbedding:
    """One Embedding layer's matrix inside a weights file."""

    dataset: str  # e.g. "layers/embedding/vars/0"
    layer_name: str  # the layer's own name, e.g. "tokens"
    shape: tuple[int, ...]


_listings: FileCache[tuple[KerasEmbedding, ...]] = FileCache()


def h5_step(path: str | Path) -> int | None:
    """The epoch in ``keras_embedding.ckpt-<epoch>.weights.h5``, or None."""
    match = _STEP.search(Path(path).name)
    return int(match.group(1)) if match else None


def child_command() -> list[str]:
    """The command that runs the HDF5 child (tests replace it to simulate a crash)."""
    return [sys.executable, os.fspath(_CHILD)]


def _child_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HDF5_PLUGIN_PRELOAD": "::",  # no filter plugins: a file cannot make libhdf5 load code
        "HDF5_USE_FILE_LOCKING": "FALSE",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LC_ALL": "C.UTF-8",
    }


def _read_exact(stream: IO[bytes], buf: memoryview) -> int:
    got = 0
    while got < len(buf):
        n = stream.readinto(buf[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def _died(path: Path, returncode: int, timed_out: bool, stderr: IO[bytes]) -> LogdirError:
    if timed_out:
        return LogdirError(f"{path}: reading the HDF5 file took longer than {H5_TIMEOUT_SECONDS:g} s; refused")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return LogdirError(f"{path}: the HDF5 reader crashed on this file ({name}); refused")
    stderr.seek(0)
    lines = stderr.read(1 << 16).decode("utf-8", "replace").strip().splitlines()
    detail = lines[-1] if lines else f"exit status {returncode}"
    return LogdirError(f"{path}: the HDF5 reader failed ({detail})")


def _ask(path: Path, root: Path | None, request: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run one child on ``path``: its JSON answer, and for a read the float32 weight."""
    real_root = Path(os.path.realpath(root if root is not None else path.parent))
    with open_inside(real_root, path, "weights file") as fh, tempfile.TemporaryFile() as stderr:
        fd = fh.fileno()
        request = {
            **request,
            "fd": fd,
            "sys_path": [p for p in sys.path if p],
            "memory": H5_BASE_MEMORY,
            "hard_memory": H5_BASE_MEMORY + 3 * 2 * MAX_TENSOR_BYTES,
            "max_values": MAX_TENSOR_VALUES,
            "cpu_seconds": int(H5_TIMEOUT_SECONDS) + 1,
        }
        proc = subprocess.Popen(
            child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            pass_fds=(fd,), env=_child_env(), cwd="/",
        )  # fmt: skip
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(H5_TIMEOUT_SECONDS, kill)
        timer.start()
        array = None
        try:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            head = proc.stdout.readline(1 << 24)
            try:
                reply = json.loads(head)
            except ValueError:
                reply = None
            if isinstance(reply, dict) and "shape" in reply:
                shape = tuple(int(d) for d in reply["shape"])
                if len(shape) != 2 or shape[0] * shape[1] > MAX_TENSOR_VALUES:
                    raise LogdirError(f"{path}: the HDF5 reader sent shape {list(shape)}; refused")
                array = np.empty(shape, dtype="<f4")
                if _read_exact(proc.stdout, array.data.cast("B")) != array.nbytes:
                    reply = None
            proc.stdout.close()
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if not isinstance(reply, dict) or returncode != 0:
            raise _died(path, returncode, timed_out.is_set(), stderr)
    if "error" in reply:
        raise LogdirError(f"{path}: {reply['error']}")
    return reply, array


def _list(path: Path, root: Path | None) -> tuple[KerasEmbedding, ...]:
    reply, _ = _ask(path, root, {"op": "list"})
    try:
        return tuple(KerasEmbedding(str(d), str(n), tuple(int(x) for x in s)) for d, n, s in reply["layers"])
    except (KeyError, TypeError, ValueError):
        raise LogdirError(f"{path}: the HDF5 reader sent an unexpected answer") from None


def keras_embeddings(path: str | Path, root: Path | None = None) -> list[KerasEmbedding]:
    """Embedding layers found in a Keras 3 weights file, in creation order.

    The file must lie inside ``root`` (default: its own folder). A file seen before, unchanged,
    is not parsed again.
    """
    path = Path(path)
    return list(_listings.get(path, lambda: _list(path, root), context=root))


def read_keras_weight(path: str | Path, dataset: str, root: Path | None = None) -> np.ndarray:
    """One weight of a weights file inside ``root`` as float32; floating-point dtypes only."""
    path = Path(path)
    _, array = _ask(path, root, {"op": "read", "dataset": dataset})
    if array is None:
        raise LogdirError(f"{path}: the HDF5 reader sent no data for {dataset!r}")
    return array.astype(np.float32, copy=False)

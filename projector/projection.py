"""Running one projection: the single code path shared by the job workers and `projector project`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from projector.methods import Reporter, get_method


def execute(tensor_path: Path, method: str, dims: int, params: dict[str, Any], out_path: Path, reporter: Reporter) -> dict[str, Any]:
    """Project the float32 tensor at `tensor_path`, write the coordinates to `out_path` atomically.

    Returns the method's extra results (explained variance, KL divergence…).
    """
    X = np.load(tensor_path, mmap_mode="r")
    coords, extras = get_method(method).run(X, dims, params, reporter)
    coords = np.ascontiguousarray(coords, dtype="<f4")
    if coords.shape != (X.shape[0], dims) or not np.isfinite(coords).all():
        raise RuntimeError(f"{method} produced invalid coordinates (shape {coords.shape})")
    tmp = out_path.with_name(f".{out_path.name}.partial")
    with open(tmp, "wb") as f:  # a file object, so np.save does not append ".npy"
        np.save(f, coords)
    os.replace(tmp, out_path)
    reporter.progress(1.0, int(extras.get("iterations", 0)))
    return extras

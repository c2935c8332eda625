"""The checked-in logdir fixtures (made by tests/fixtures/make_logdir_fixtures.py) and their expected tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOGDIRS = FIXTURES / "logdirs"


def expected_tensors(name: str) -> dict[str, np.ndarray]:
    """The tensors a fixture holds, as the real tool wrote them."""
    with np.load(FIXTURES / "expected" / f"{name}.npz") as data:
        return {k: data[k] for k in data.files}


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """float32 with the same shape and the very same bits (NaN payloads and -0.0 included)."""
    return a.dtype == np.float32 and a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))

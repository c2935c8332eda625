"""UMAP's layout optimisation on every core, with a result that depends only on the seed.

umap-learn's parallel epoch moves both ends of an edge from whichever thread holds it, without
locks, and shares each vertex's random stream between threads: fast, but two runs differ.
Seeded, it falls back to one thread. Here each epoch reads the layout as it was when the
epoch began and each vertex writes only its own row, so threads never race:

- a vertex walks its own edges (the fuzzy graph is symmetric, so every edge is seen from both
  ends); the pull toward a neighbour counts twice, standing for umap-learn's move of the other
  end of the edge, which here that other vertex makes in its own turn;
- its negative samples come from a stream seeded by (seed, vertex, epoch), not by thread.

The gradients, clipping, learning-rate schedule and sampling clocks are umap-learn's. The
result is the same whatever the number of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

__all__ = ["optimize_layout", "MAX_CALLBACK_INTERVAL"]

# Whatever `callback_every` says, call back at least this often (seconds), so a cancel is
# seen within about one epoch even when ten epochs of a million points take half a minute.
MAX_CALLBACK_INTERVAL = 2.0

Callback = Callable[[int, np.ndarray, None], Any]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    """splitmix64's finaliser: a well-spread 64-bit hash of `z`."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _clip(value: float) -> float:
    return 4.0 if value > 4.0 else (-4.0 if value < -4.0 else value)


@njit(cache=True, nogil=True, fastmath=True, parallel=True, boundscheck=False)
def _epoch(
    Y: np.ndarray,
    out: np.ndarray,
    indptr: np.ndarray,
    tail: np.ndarray,
    epochs_per_sample: np.ndarray,
    epochs_per_negative_sample: np.ndarray,
    next_sample: np.ndarray,
    next_negative_sample: np.ndarray,
    a: float,
    b: float,
    gamma: float,
    alpha: float,
    epoch: int,
    seed: np.uint64,
) -> None:
    """One epoch: `out` gets every vertex's row moved by its due edges, reading only `Y`."""
    n, dim = Y.shape
    for i in prange(n):
        current = out[i]  # this vertex's own row: no other thread writes it
        for d in range(dim):
            current[d] = Y[i, d]
        state = _mix(seed ^ _mix(np.uint64(i) * _GOLDEN + np.uint64(epoch)))
        for e in range(indptr[i], indptr[i + 1]):
            if next_sample[e] > epoch:
                continue
            other = Y[tail[e]]
            dist_squared = np.float32(0.0)
            for d in range(dim):
                diff = current[d] - other[d]
                dist_squared += diff * diff
            coeff = 0.0
            if dist_squared > 0.0:
                coeff = -2.0 * a * b * dist_squared ** (b - 1.0) / (a * dist_squared**b + 1.0)
            for d in range(dim):
                current[d] += 2.0 * _clip(coeff * (current[d] - other[d])) * alpha
            next_sample[e] += epochs_per_sample[e]
            n_negative = int((epoch - next_negative_sample[e]) / epochs_per_negative_sample[e])
            for _ in range(n_negative):
                state += _GOLDEN
                k = np.int64(_mix(state) % np.uint64(n))
                if k == i:
                    continue
                other = Y[k]
                dist_squared = np.float32(0.0)
                for d in range(dim):
                    diff = current[d] - other[d]
                    dist_squared += diff * diff
                if dist_squared > 0.0:
                    coeff = 2.0 * gamma * b / ((0.001 + dist_squared) * (a * dist_squared**b + 1.0))
                    for d in range(dim):
                        current[d] += _clip(coeff * (current[d] - other[d])) * alpha
            next_negative_sample[e] += n_negative * epochs_per_negative_sample[e]


def optimize_layout(
    Y: np.ndarray,
    head: np.ndarray,
    tail: np.ndarray,
    n_epochs: int,
    epochs_per_sample: np.ndarray,
    a: float,
    b: float,
    seed: int,
    gamma: float = 1.0,
    initial_alpha: float = 1.0,
    negative_sample_rate: float = 5.0,
    callback: Callback | None = None,
    callback_every: int = 10,
) -> int:
    """Optimise the layout `Y` (float32, C order, changed in place) of the fuzzy graph (head, tail).

    Returns the epochs run: fewer than `n_epochs` when `callback` returned True. The
    callback gets ``(epoch, Y, None)`` with a read-only view of `Y` after initialisation
    (epoch 0), every `callback_every` epochs, after the last one and at least every
    `MAX_CALLBACK_INTERVAL` seconds.
    """
    n = Y.shape[0]
    order = np.argsort(head, kind="stable")
    tail = np.ascontiguousarray(tail[order], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(head, minlength=n), out=indptr[1:])
    per_sample = np.ascontiguousarray(epochs_per_sample[order], dtype=np.float64)
    per_negative = per_sample / negative_sample_rate
    next_sample = per_sample.copy()
    next_negative = per_negative.copy()
    scratch = np.empty_like(Y)
    frame = Y.view()
    frame.flags.writeable = False
    seed64 = np.uint64(seed % 2**64)

    last_call = time.monotonic()
    if callback is not None and callback(0, frame, None):
        return 0
    alpha = initial_alpha
    for epoch in range(n_epochs):
        _epoch(Y, scratch, indptr, tail, per_sample, per_negative, next_sample, next_negative, a, b, gamma, alpha, epoch, seed64)
        Y[...] = scratch
        alpha = initial_alpha * (1.0 - float(epoch) / float(n_epochs))
        done = epoch + 1
        due = done % callback_every == 0 or done == n_epochs or time.monotonic() - last_call >= MAX_CALLBACK_INTERVAL
        if callback is not None and due:
            if callback(done, frame, None):
                return done
            last_call = time.monotonic()
    return n_epochs

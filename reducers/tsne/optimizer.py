"""Gradient descent for t-SNE: momentum, per-coordinate gains, step clipping, cheap KL.

A layout whose spread falls below `MIN_SPREAD` along some direction is stretched back to
it. When P spreads over many neighbours (a perplexity near n / 3), exaggerated attraction
beats repulsion along every direction of a small layout, which then shrinks geometrically
(a power iteration towards P's leading eigenvectors); left alone it reaches the rounding
error of its coordinates within ~100 iterations, every point lands on the same spot and
the normal phase cannot pull them apart again. The gradient of a layout this small is
linear in it, so stretching changes its scale, not where it is heading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reducers.tsne import _kernels, gradients
from reducers.tsne.threads import ThreadChooser

__all__ = ["Phase", "DegenerateLayoutError", "kl_divergence", "optimize", "keep_spread", "check_layout"]

# Smallest spread (standard deviation along any principal direction) kept during the
# optimisation: a tenth of the starting layouts' (`initialization.INIT_STD`), so normal
# runs never reach it.
MIN_SPREAD = 1e-5
# A finished layout whose smallest spread is below this fraction of its largest is
# degenerate: in float32 its points lie on a line (or a plane, in 3-D) or on one spot.
DEGENERATE_RATIO = 1e-6


class DegenerateLayoutError(RuntimeError):
    """The optimisation ended on a layout with non-finite coordinates or no spread along some axis."""


@dataclass(frozen=True)
class Phase:
    """A stretch of iterations with fixed exaggeration, momentum and learning rate."""

    n_iter: int
    exaggeration: float
    momentum: float
    learning_rate: float


def kl_divergence(P, Y: np.ndarray, ws: gradients.Workspace, p_log_p: float, workers: int = 1) -> float:
    """KL(P || Q) of layout `Y`, with Q's normaliser from the interpolated repulsion.

    ``KL = sum p log p - sum p log w + log Z`` since P sums to 1; costs one gradient.
    """
    gradients.attractive(P, Y, ws, with_kl=True)
    _, Z = gradients.repulsive(Y, ws, workers)
    return float(p_log_p - ws.kl_terms.sum(dtype=np.float64) + np.log(Z))


def optimize(
    P,
    Y: np.ndarray,
    phases: list[Phase],
    *,
    grid: gradients.GridParams | gradients.BarnesHutParams,
    workers: int = 1,
    callback=None,
    callback_every: int = 10,
    min_gain: float = 0.01,
    max_step_norm: float = 5.0,
    iteration_offset: int = 0,
) -> tuple[np.ndarray, float | None, int]:
    """Run the phases on `Y` in place.

    Parameters
    ----------
    P : scipy.sparse.csr_matrix of shape (n, n)
        Symmetric affinities summing to 1; ``P.data`` float32 or float64.
    Y : ndarray of shape (n, d), float64
        Starting layout, updated in place.
    phases : list of Phase
    callback : callable or None
        ``callback(iteration, Y, kl)`` every `callback_every` iterations, with ``kl`` the
        KL divergence (computed there, from that iteration's gradient); a true return
        value stops the optimization.

    Returns
    -------
    Y : ndarray of shape (n, d)
    kl : float or None
        KL divergence of the last callback iteration, if any.
    n_iter : int
        Iterations run.
    """
    n, d = Y.shape
    ws = gradients.Workspace(n, d, grid)
    data = P.data.astype(np.float64)
    p_log_p = float(np.sum(data * np.log(np.where(data > 0, data, 1.0))))
    # The gradient ignores translation: centring keeps the coordinates' rounding error
    # relative to the layout's spread rather than to its offset.
    Y -= Y.mean(axis=0)
    update = np.zeros_like(Y)
    gains = np.ones_like(Y)
    grad = np.empty_like(Y)
    moments = np.zeros((d + 1, d))
    kl = None
    it = iteration_offset
    threads = ThreadChooser(workers)
    try:
        for phase in phases:
            for _ in range(phase.n_iter):
                it += 1
                report = callback is not None and it % callback_every == 0
                fft_workers = threads.start()
                attr = gradients.attractive(P, Y, ws, with_kl=report)
                rep, Z = gradients.repulsive(Y, ws, fft_workers)
                if report:
                    # The exaggerated gradient leaves Q unchanged, so KL of the true P is free here.
                    kl = float(p_log_p - ws.kl_terms.sum(dtype=np.float64) + np.log(Z))
                np.multiply(attr, phase.exaggeration, out=grad)
                grad -= rep * (1.0 / Z)
                _kernels.gradient_step(Y, grad, update, gains, phase.momentum, phase.learning_rate, min_gain, max_step_norm, moments)
                keep_spread(Y, moments, MIN_SPREAD)
                threads.stop()
                if report and callback(it, Y, kl):
                    check_layout(Y)
                    return Y, kl, it
    finally:
        threads.restore()
    check_layout(Y)
    return Y, kl, it


def _principal_spreads(moments: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, principal standard deviations (ascending) and directions from `gradient_step`'s moments."""
    mean = moments[0] / n
    cov = moments[1:] / n - np.outer(mean, mean)
    var, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    return mean, np.sqrt(np.maximum(var, 0.0)), vecs


def _smallest_variance_bound(moments: np.ndarray, n: int) -> float:
    """A lower bound on the smallest principal variance, in plain floats (no LAPACK call per iteration).

    For a covariance C with eigenvalues l_1 <= ... <= l_d: l_1 = det C / (l_2 ... l_d) >= det C / trace(C)^(d-1).
    """
    m = moments.tolist()
    d = len(m[0])
    mean = [v / n for v in m[0]]
    c = [[m[1 + a][b] / n - mean[a] * mean[b] for b in range(d)] for a in range(d)]
    trace = sum(c[a][a] for a in range(d))
    if d == 2:
        det = c[0][0] * c[1][1] - c[0][1] * c[1][0]
    else:
        det = (
            c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
            - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
            + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0])
        )
    return det / trace ** (d - 1) if trace > 0 else 0.0


def keep_spread(Y: np.ndarray, moments: np.ndarray, floor: float) -> bool:
    """Centre `Y` and stretch it along every principal direction whose spread is below `floor`.

    Parameters
    ----------
    Y : ndarray of shape (n, d), float64
        Changed in place, only when some spread is below `floor`.
    moments : ndarray of shape (d + 1, d)
        Sum of the rows of Y, then the sum of their outer products (see `gradient_step`).
    floor : float

    Returns
    -------
    bool
        Whether Y was changed.
    """
    n = Y.shape[0]
    if _smallest_variance_bound(moments, n) >= floor * floor:
        return False
    _, spread, _ = _principal_spreads(moments, n)
    if spread[0] >= floor:
        return False
    # The moments lose a small spread next to a large one or to a far offset: measure again.
    Y -= Y.mean(axis=0)
    spread, vecs = _svd_spreads(Y)
    # A direction with no spread at all cannot be stretched; `check_layout` reports it.
    low = (spread < floor) & (spread > 0)
    if low.any():
        scale = np.where(low, floor / np.where(low, spread, 1.0), 1.0)
        Y[:] = Y @ ((vecs * scale) @ vecs.T)
    return True


def _svd_spreads(Yc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal standard deviations (ascending) and directions (columns) of the centred `Yc`.

    From the singular values of `Yc`, which resolve spreads down to the rounding error of
    the largest, where the covariance's eigenvalues stop at its square root.
    """
    _, sv, vt = np.linalg.svd(Yc, full_matrices=False)
    return sv[::-1] / np.sqrt(Yc.shape[0]), vt[::-1].T


def check_layout(Y: np.ndarray) -> None:
    """Raise `DegenerateLayoutError` if `Y` has non-finite values or collapsed along some direction."""
    if not np.isfinite(Y).all():
        raise DegenerateLayoutError("t-SNE diverged: the layout has non-finite coordinates (try a smaller learning_rate)")
    n, d = Y.shape
    spread, _ = _svd_spreads(Y - Y.mean(axis=0))
    if n > d and not spread[0] > DEGENERATE_RATIO * spread[-1]:
        raise DegenerateLayoutError(
            f"t-SNE collapsed: the layout's spread along its principal axes is {', '.join(f'{s:.3g}' for s in spread)}"
            " (every point on one spot or on a line); try a smaller perplexity or early_exaggeration"
        )

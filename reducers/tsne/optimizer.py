"""Gradient descent for t-SNE: momentum, per-coordinate gains, step clipping, cheap KL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reducers.tsne import _kernels, gradients

__all__ = ["Phase", "kl_divergence", "optimize"]


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
    P, Y: np.ndarray, phases: list[Phase], *, grid: gradients.GridParams, workers: int = 1,
    callback=None, callback_every: int = 10, min_gain: float = 0.01, max_step_norm: float = 5.0,
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
    update = np.zeros_like(Y)
    gains = np.ones_like(Y)
    grad = np.empty_like(Y)
    kl = None
    it = iteration_offset
    for phase in phases:
        for _ in range(phase.n_iter):
            it += 1
            report = callback is not None and it % callback_every == 0
            attr = gradients.attractive(P, Y, ws, with_kl=report)
            rep, Z = gradients.repulsive(Y, ws, workers)
            if report:
                # The exaggerated gradient leaves Q unchanged, so KL of the true P is free here.
                kl = float(p_log_p - ws.kl_terms.sum(dtype=np.float64) + np.log(Z))
            np.multiply(attr, phase.exaggeration, out=grad)
            grad -= rep * (1.0 / Z)
            _kernels.gradient_step(Y, grad, update, gains, phase.momentum, phase.learning_rate, min_gain, max_step_norm)
            if report and callback(it, Y, kl):
                return Y, kl, it
    return Y, kl, it

"""Numba kernels of the t-SNE gradient and optimizer step.

Every kernel assumes valid, C-contiguous input (checked once in `TSNE.fit`). Parallel
loops write only their own row, so results do not depend on thread scheduling; the one
scatter (charges onto the interpolation grid) is serial for the same reason.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, fastmath=True)


@numba.njit(parallel=True, **_JIT)
def attractive_forces(indptr, indices, data, Y, out, kl_terms, with_kl):
    """Attractive term ``sum_j p_ij w_ij (y_i - y_j)`` with ``w_ij = 1 / (1 + |y_i - y_j|^2)``.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of P, shape (n + 1,), (nnz,), (nnz,)
    Y : ndarray of shape (n, d), float64, d in (2, 3)
    out : ndarray of shape (n, d), float64
        Overwritten with the forces.
    kl_terms : ndarray of shape (n,), float64
        Overwritten with ``sum_j p_ij log w_ij`` when `with_kl` (for the KL divergence).
    with_kl : bool
    """
    n, d = Y.shape
    # One body per dimension, with the sums in registers: the loop is bound by the
    # random reads of Y[j], so anything else it touches in memory shows in the time.
    for i in numba.prange(n):
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        s = 0.0
        y0 = Y[i, 0]
        y1 = Y[i, 1]
        if d == 2:
            for jj in range(indptr[i], indptr[i + 1]):
                j = indices[jj]
                d0 = y0 - Y[j, 0]
                d1 = y1 - Y[j, 1]
                w = 1.0 / (1.0 + d0 * d0 + d1 * d1)
                pw = data[jj] * w
                a0 += pw * d0
                a1 += pw * d1
                if with_kl:
                    s += data[jj] * np.log(w)
        else:
            y2 = Y[i, 2]
            for jj in range(indptr[i], indptr[i + 1]):
                j = indices[jj]
                d0 = y0 - Y[j, 0]
                d1 = y1 - Y[j, 1]
                d2 = y2 - Y[j, 2]
                w = 1.0 / (1.0 + d0 * d0 + d1 * d1 + d2 * d2)
                pw = data[jj] * w
                a0 += pw * d0
                a1 += pw * d1
                a2 += pw * d2
                if with_kl:
                    s += data[jj] * np.log(w)
        out[i, 0] = a0
        out[i, 1] = a1
        if d == 3:
            out[i, 2] = a2
        if with_kl:
            kl_terms[i] = s


# Interpolation kernels are O(n p^d) and memory-bound: serial, because a parallel region
# costs more than the work when other processes share the cores.
@numba.njit(**_JIT)
def lagrange_weights(Y, y_min, box_width, n_boxes, n_nodes, boxes, weights):
    """Box of each point and the Lagrange weights of the box's interpolation nodes.

    Nodes sit at the centres of `n_nodes` equal sub-intervals of each box, so all nodes
    together form one uniform grid of spacing ``box_width / n_nodes`` per axis.

    Parameters
    ----------
    Y : ndarray of shape (n, d), float64
    y_min : float
        Lower corner of the (cubic) grid, the same on every axis.
    box_width : float
    n_boxes : int
        Boxes per axis.
    n_nodes : int
        Interpolation nodes per box and axis.
    boxes : ndarray of shape (n, d), int64
        Output: box index of each point along each axis.
    weights : ndarray of shape (n, d, n_nodes), float64
        Output: weight of each node along each axis.
    """
    n, d = Y.shape
    denom = np.empty(n_nodes)
    for a in range(n_nodes):
        prod = 1.0
        for m in range(n_nodes):
            if m != a:
                prod *= (a - m) / n_nodes
        denom[a] = prod
    for i in range(n):
        for c in range(d):
            t = (Y[i, c] - y_min) / box_width
            b = min(int(t), n_boxes - 1)
            boxes[i, c] = b
            t -= b
            for a in range(n_nodes):
                prod = 1.0
                for m in range(n_nodes):
                    if m != a:
                        prod *= t - (m + 0.5) / n_nodes
                weights[i, c, a] = prod / denom[a]


@numba.njit(**_JIT)
def scatter_charges_2d(Y, center, boxes, weights, grid):
    """Spread the charges ``(1, y)`` of every point onto the 2-D node grid.

    Parameters
    ----------
    Y : ndarray of shape (n, 2), float64
    center : ndarray of shape (2,)
        Subtracted from Y, so the normaliser's terms in `gather_forces_2d` stay small.
    boxes, weights : from `lagrange_weights`
    grid : ndarray of shape (3, M, M), float64
        Zeroed and filled; ``M = n_boxes * n_nodes``.
    """
    n = Y.shape[0]
    p = weights.shape[2]
    grid[:] = 0.0
    for i in range(n):
        y0 = Y[i, 0] - center[0]
        y1 = Y[i, 1] - center[1]
        g0 = boxes[i, 0] * p
        g1 = boxes[i, 1] * p
        for a in range(p):
            wa = weights[i, 0, a]
            for b in range(p):
                w = wa * weights[i, 1, b]
                grid[0, g0 + a, g1 + b] += w
                grid[1, g0 + a, g1 + b] += w * y0
                grid[2, g0 + a, g1 + b] += w * y1


@numba.njit(**_JIT)
def gather_forces_2d(Y, center, boxes, weights, potentials, rep, z):
    """Interpolate the potentials back to the points; repulsive force and normaliser terms.

    Parameters
    ----------
    Y : ndarray of shape (n, 2), float64
    center : ndarray of shape (2,)
    boxes, weights : from `lagrange_weights`
    potentials : ndarray of shape (3, M, M), float64
        The charge grids convolved with ``w^2 = (1 + r^2)^-2``.
    rep : ndarray of shape (n, 2), float64
        Output: ``sum_j w_ij^2 (y_i - y_j)`` (not yet divided by Z).
    z : ndarray of shape (n,), float64
        Output: terms summing to ``sum_{i, j} w_ij`` including ``j = i`` (which adds n).
    """
    n = Y.shape[0]
    p = weights.shape[2]
    for i in range(n):
        phi0 = 0.0
        phi1 = 0.0
        phi2 = 0.0
        g0 = boxes[i, 0] * p
        g1 = boxes[i, 1] * p
        for a in range(p):
            wa = weights[i, 0, a]
            for b in range(p):
                w = wa * weights[i, 1, b]
                phi0 += w * potentials[0, g0 + a, g1 + b]
                phi1 += w * potentials[1, g0 + a, g1 + b]
                phi2 += w * potentials[2, g0 + a, g1 + b]
        y0 = Y[i, 0] - center[0]
        y1 = Y[i, 1] - center[1]
        rep[i, 0] = y0 * phi0 - phi1
        rep[i, 1] = y1 * phi0 - phi2
        # w = w^2 (1 + |y_i|^2 - 2 y_i.y_j + |y_j|^2) summed over i and j; the interpolated
        # kernel is symmetric, so the |y_j|^2 terms sum to those of |y_i|^2.
        z[i] = (1.0 + 2.0 * (y0 * y0 + y1 * y1)) * phi0 - 2.0 * (y0 * phi1 + y1 * phi2)


@numba.njit(**_JIT)
def scatter_charges_3d(Y, center, boxes, weights, grid):
    """3-D `scatter_charges_2d`: grid of shape (4, M, M, M)."""
    n = Y.shape[0]
    p = weights.shape[2]
    grid[:] = 0.0
    for i in range(n):
        y0 = Y[i, 0] - center[0]
        y1 = Y[i, 1] - center[1]
        y2 = Y[i, 2] - center[2]
        g0 = boxes[i, 0] * p
        g1 = boxes[i, 1] * p
        g2 = boxes[i, 2] * p
        for a in range(p):
            wa = weights[i, 0, a]
            for b in range(p):
                wab = wa * weights[i, 1, b]
                for c in range(p):
                    w = wab * weights[i, 2, c]
                    grid[0, g0 + a, g1 + b, g2 + c] += w
                    grid[1, g0 + a, g1 + b, g2 + c] += w * y0
                    grid[2, g0 + a, g1 + b, g2 + c] += w * y1
                    grid[3, g0 + a, g1 + b, g2 + c] += w * y2


@numba.njit(**_JIT)
def gather_forces_3d(Y, center, boxes, weights, potentials, rep, z):
    """3-D `gather_forces_2d`: potentials of shape (4, M, M, M), rep of shape (n, 3)."""
    n = Y.shape[0]
    p = weights.shape[2]
    for i in range(n):
        phi0 = 0.0
        phi1 = 0.0
        phi2 = 0.0
        phi3 = 0.0
        g0 = boxes[i, 0] * p
        g1 = boxes[i, 1] * p
        g2 = boxes[i, 2] * p
        for a in range(p):
            wa = weights[i, 0, a]
            for b in range(p):
                wab = wa * weights[i, 1, b]
                for c in range(p):
                    w = wab * weights[i, 2, c]
                    phi0 += w * potentials[0, g0 + a, g1 + b, g2 + c]
                    phi1 += w * potentials[1, g0 + a, g1 + b, g2 + c]
                    phi2 += w * potentials[2, g0 + a, g1 + b, g2 + c]
                    phi3 += w * potentials[3, g0 + a, g1 + b, g2 + c]
        y0 = Y[i, 0] - center[0]
        y1 = Y[i, 1] - center[1]
        y2 = Y[i, 2] - center[2]
        rep[i, 0] = y0 * phi0 - phi1
        rep[i, 1] = y1 * phi0 - phi2
        rep[i, 2] = y2 * phi0 - phi3
        z[i] = (1.0 + 2.0 * (y0 * y0 + y1 * y1 + y2 * y2)) * phi0 - 2.0 * (y0 * phi1 + y1 * phi2 + y2 * phi3)


@numba.njit(**_JIT)
def gradient_step(Y, grad, update, gains, momentum, learning_rate, min_gain, max_step_norm, moments):
    """One momentum step with per-coordinate gains (delta-bar-delta, Jacobs 1988), in place.

    Parameters
    ----------
    Y, grad, update, gains : ndarray of shape (n, d), float64
    momentum, learning_rate, min_gain : float
    max_step_norm : float
        Each point's step is clipped to this length (0 disables); keeps points from
        being flung far away by the large learning rates of big datasets.
    moments : ndarray of shape (d + 1, d), float64
        Output: row 0 the sum of the new rows of Y, rows 1.. the sum of their outer
        products (the layout's spread, read by `optimizer.keep_spread`).
    """
    n, d = Y.shape
    moments[:] = 0.0
    for i in range(n):
        norm2 = 0.0
        for c in range(d):
            g = grad[i, c]
            u = update[i, c]
            # Gradient and last step of opposite sign means we keep going downhill: speed up.
            if (g > 0.0) != (u > 0.0):
                gain = gains[i, c] + 0.2
            else:
                gain = max(gains[i, c] * 0.8, min_gain)
            gains[i, c] = gain
            u = momentum * u - learning_rate * gain * g
            update[i, c] = u
            norm2 += u * u
        scale = 1.0
        if max_step_norm > 0.0 and norm2 > max_step_norm * max_step_norm:
            scale = max_step_norm / np.sqrt(norm2)
        for c in range(d):
            update[i, c] *= scale
            Y[i, c] += update[i, c]
        for a in range(d):
            moments[0, a] += Y[i, a]
            for b in range(d):
                moments[1 + a, b] += Y[i, a] * Y[i, b]

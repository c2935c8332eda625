"""Barnes-Hut octree for the 3-D repulsive term (van der Maaten 2014).

In 3-D an interpolation grid accurate enough for t-SNE has M^3 nodes and its FFTs cost
more than walking a tree; `benchmarks/bench_tsne.py` measures both.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, fastmath=True)

# Points closer than 2^-MAX_DEPTH of the root cell share a leaf instead of splitting forever.
MAX_DEPTH = 48


@numba.njit(**_JIT)
def build_octree(Y, center, half, children, com, count, point, leaf_of):
    """Insert every point into an octree; serial, so the tree is the same on every run.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
    center : ndarray of shape (cap, 3), float64
        Output: cell centres; ``center[0]`` and ``half[0]`` (the root cube) must be set.
    half : ndarray of shape (cap,), float64
        Output: half side of each cell.
    children : ndarray of shape (cap, 8), int32
        Output: child cell per octant, -1 where empty.
    com : ndarray of shape (cap, 3), float64
        Output: sum of the positions of the points under each cell.
    count : ndarray of shape (cap,), int64
        Output: points under each cell.
    point : ndarray of shape (cap,), int64
        Output: the point of a one-point leaf, -1 for an empty leaf, -2 for an inner cell.
    leaf_of : ndarray of shape (n,), int64
        Output: the leaf holding each point.

    Returns
    -------
    int
        Cells used, or -1 when `cap` was too small (call again with more room).
    """
    n = Y.shape[0]
    cap = half.shape[0]
    children[0, :] = -1
    com[0, :] = 0.0
    count[0] = 0
    point[0] = -1
    used = 1
    for i in range(n):
        node = 0
        depth = 0
        while True:
            count[node] += 1
            for c in range(3):
                com[node, c] += Y[i, c]
            if point[node] == -1:
                point[node] = i
                leaf_of[i] = node
                break
            if point[node] >= 0:
                if depth >= MAX_DEPTH:
                    # A duplicate (or near enough): the leaf keeps the first index and the count.
                    leaf_of[i] = node
                    break
                # Push the resident point one level down, then keep descending with i.
                j = point[node]
                point[node] = -2
                octant = _octant(Y, j, center, node)
                if used >= cap:
                    return -1
                _new_cell(node, octant, used, center, half, children, com, count, point)
                child = used
                used += 1
                count[child] = 1
                point[child] = j
                leaf_of[j] = child
                for c in range(3):
                    com[child, c] = Y[j, c]
            octant = _octant(Y, i, center, node)
            child = children[node, octant]
            if child == -1:
                if used >= cap:
                    return -1
                _new_cell(node, octant, used, center, half, children, com, count, point)
                child = used
                used += 1
            node = child
            depth += 1
    return used


@numba.njit(**_JIT)
def _octant(Y, i, center, node):
    o = 0
    if Y[i, 0] > center[node, 0]:
        o |= 1
    if Y[i, 1] > center[node, 1]:
        o |= 2
    if Y[i, 2] > center[node, 2]:
        o |= 4
    return o


@numba.njit(**_JIT)
def _new_cell(parent, octant, cell, center, half, children, com, count, point):
    h = 0.5 * half[parent]
    half[cell] = h
    center[cell, 0] = center[parent, 0] + (h if octant & 1 else -h)
    center[cell, 1] = center[parent, 1] + (h if octant & 2 else -h)
    center[cell, 2] = center[parent, 2] + (h if octant & 4 else -h)
    children[cell, :] = -1
    com[cell, :] = 0.0
    count[cell] = 0
    point[cell] = -1
    children[parent, octant] = cell


@numba.njit(parallel=True, **_JIT)
def repulsive_bh(Y, theta, half, children, com, count, point, leaf_of, rep, z):
    """Barnes-Hut estimate of ``sum_j w_ij^2 (y_i - y_j)`` and ``sum_{j != i} w_ij``.

    A cell of side s at distance r from the point is summarised by its centre of mass
    when ``s < theta * r``.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
    theta : float
    half, children, com, count, point, leaf_of : the tree from `build_octree`
    rep : ndarray of shape (n, 3), float64
        Output.
    z : ndarray of shape (n,), float64
        Output.
    """
    n = Y.shape[0]
    theta2 = theta * theta
    for i in numba.prange(n):
        stack = np.empty(8 * MAX_DEPTH + 8, dtype=np.int64)
        top = 0
        stack[0] = 0
        top = 1
        r0 = 0.0
        r1 = 0.0
        r2 = 0.0
        s = 0.0
        yi0 = Y[i, 0]
        yi1 = Y[i, 1]
        yi2 = Y[i, 2]
        while top > 0:
            top -= 1
            node = stack[top]
            cnt = count[node]
            if cnt == 0:
                continue
            inv = 1.0 / cnt
            d0 = yi0 - com[node, 0] * inv
            d1 = yi1 - com[node, 1] * inv
            d2 = yi2 - com[node, 2] * inv
            dist2 = d0 * d0 + d1 * d1 + d2 * d2
            leaf = point[node] >= 0
            side = 2.0 * half[node]
            if leaf or side * side < theta2 * dist2:
                mult = float(cnt)
                if node == leaf_of[i]:
                    mult -= 1.0
                if mult <= 0.0:
                    continue
                w = 1.0 / (1.0 + dist2)
                s += mult * w
                mw2 = mult * w * w
                r0 += mw2 * d0
                r1 += mw2 * d1
                r2 += mw2 * d2
            else:
                for o in range(8):
                    c = children[node, o]
                    if c >= 0:
                        stack[top] = c
                        top += 1
        rep[i, 0] = r0
        rep[i, 1] = r1
        rep[i, 2] = r2
        z[i] = s

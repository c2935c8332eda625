"""Barnes-Hut octree for the 3-D repulsive term (van der Maaten 2014).

In 3-D an interpolation grid accurate enough for t-SNE has M^3 nodes and its FFTs cost
more than walking a tree (see `gradients.DEFAULT_GRID`).

Layout: the eight children of a cell are allocated together, so a cell stores only its
first child; ``cells[c] = (x, y, z, count, side^2)`` keeps what a walk reads about a cell
in one cache line.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, fastmath=True)

# Points closer than 2^-MAX_DEPTH of the root cell share a leaf instead of splitting forever.
MAX_DEPTH = 48


@numba.njit(**_JIT)
def build_octree(Y, root_center, root_half, center, half, cells, first_child, point, leaf_of):
    """Insert every point into an octree; serial, so the tree is the same on every run.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
    root_center : ndarray of shape (3,)
    root_half : float
        Half side of the root cube, which must contain every point.
    center : ndarray of shape (cap, 3), float64
        Scratch: cell centres.
    half : ndarray of shape (cap,), float64
        Scratch: half sides.
    cells : ndarray of shape (cap, 5), float64
        Output: position sums (then centres of mass, see `finalize_octree`), count, side^2.
    first_child : ndarray of shape (cap,), int64
        Output: index of the first of 8 consecutive children, -1 for a leaf.
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
    for c in range(3):
        center[0, c] = root_center[c]
        cells[0, c] = 0.0
    half[0] = root_half
    cells[0, 3] = 0.0
    first_child[0] = -1
    point[0] = -1
    used = 1
    for i in range(n):
        node = 0
        depth = 0
        while True:
            cells[node, 3] += 1.0
            for c in range(3):
                cells[node, c] += Y[i, c]
            if first_child[node] == -1:
                if point[node] == -1:
                    point[node] = i
                    leaf_of[i] = node
                    break
                if depth >= MAX_DEPTH:
                    # A duplicate (or near enough): the leaf keeps the first index and the count.
                    leaf_of[i] = node
                    break
                # Split the leaf and push its resident point one level down.
                if used + 8 > cap:
                    return -1
                first_child[node] = used
                h = 0.5 * half[node]
                for o in range(8):
                    c = used + o
                    half[c] = h
                    center[c, 0] = center[node, 0] + (h if o & 1 else -h)
                    center[c, 1] = center[node, 1] + (h if o & 2 else -h)
                    center[c, 2] = center[node, 2] + (h if o & 4 else -h)
                    for k in range(4):
                        cells[c, k] = 0.0
                    first_child[c] = -1
                    point[c] = -1
                used += 8
                j = point[node]
                point[node] = -2
                c = first_child[node] + _octant(Y, j, center, node)
                cells[c, 3] = 1.0
                for k in range(3):
                    cells[c, k] = Y[j, k]
                point[c] = j
                leaf_of[j] = c
            node = first_child[node] + _octant(Y, i, center, node)
            depth += 1
    for node in range(used):
        cnt = cells[node, 3]
        if cnt > 0:
            for c in range(3):
                cells[node, c] /= cnt
        cells[node, 4] = 4.0 * half[node] * half[node]
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
def morton_order(Y, lo, scale):
    """Permutation sorting points along a 3-D Z-order curve (10 bits per axis).

    Walking points in this order makes consecutive tree walks touch the same cells,
    which keeps them in cache.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
    lo : ndarray of shape (3,)
    scale : float
        ``1023 / span``.

    Returns
    -------
    ndarray of shape (n,), int64
    """
    n = Y.shape[0]
    codes = np.empty(n, dtype=np.int64)
    for i in range(n):
        code = 0
        for c in range(3):
            v = np.int64((Y[i, c] - lo[c]) * scale)
            v = min(max(v, 0), 1023)
            # Spread the 10 bits of v to every third bit.
            v = (v | (v << 16)) & 0x030000FF
            v = (v | (v << 8)) & 0x0300F00F
            v = (v | (v << 4)) & 0x030C30C3
            v = (v | (v << 2)) & 0x09249249
            code |= v << c
        codes[i] = code
    return np.argsort(codes, kind="mergesort")


@numba.njit(parallel=True, **_JIT)
def repulsive_bh(Y, theta, cells, first_child, leaf_of, rep, z):
    """Barnes-Hut estimate of ``sum_j w_ij^2 (y_i - y_j)`` and ``sum_{j != i} w_ij``.

    A cell of side s at distance r from the point is summarised by its centre of mass
    when ``s < theta * r``.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
    theta : float
    cells, first_child, leaf_of : the tree from `build_octree`
    rep : ndarray of shape (n, 3), float64
        Output.
    z : ndarray of shape (n,), float64
        Output.
    """
    n = Y.shape[0]
    theta2 = theta * theta
    for i in numba.prange(n):
        r0 = 0.0
        r1 = 0.0
        r2 = 0.0
        s = 0.0
        if first_child[0] >= 0:
            stack = np.empty(8 * MAX_DEPTH + 8, dtype=np.int64)
            stack[0] = 0
            top = 1
            yi0 = Y[i, 0]
            yi1 = Y[i, 1]
            yi2 = Y[i, 2]
            own = leaf_of[i]
            while top > 0:
                top -= 1
                fc = first_child[stack[top]]
                for c in range(fc, fc + 8):
                    cnt = cells[c, 3]
                    if cnt == 0.0:
                        continue
                    d0 = yi0 - cells[c, 0]
                    d1 = yi1 - cells[c, 1]
                    d2 = yi2 - cells[c, 2]
                    dist2 = d0 * d0 + d1 * d1 + d2 * d2
                    if first_child[c] < 0 or cells[c, 4] < theta2 * dist2:
                        if c == own:
                            cnt -= 1.0
                            if cnt == 0.0:
                                continue
                        w = 1.0 / (1.0 + dist2)
                        s += cnt * w
                        cw2 = cnt * w * w
                        r0 += cw2 * d0
                        r1 += cw2 * d1
                        r2 += cw2 * d2
                    else:
                        stack[top] = c
                        top += 1
        rep[i, 0] = r0
        rep[i, 1] = r1
        rep[i, 2] = r2
        z[i] = s


@numba.njit(parallel=True, **_JIT)
def repulsive_bh_grouped(Y, theta, cells, first_child, leaf_of, group_size, rep, z):
    """`repulsive_bh` walking the tree once per group of consecutive (Z-ordered) points.

    A cell is summarised for the whole group when ``s < theta * r`` with r its distance to
    the group's bounding box, which is never more than its distance to any member, so the
    error is at most that of the per-point walk. The walk fills an interaction list that
    every member then sums in a tight loop over contiguous memory.

    Parameters
    ----------
    Y : ndarray of shape (n, 3), float64
        Points in Z-order (see `morton_order`).
    group_size : int
        Consecutive points sharing one walk.
    Other parameters as `repulsive_bh`.
    """
    n = Y.shape[0]
    theta2 = theta * theta
    n_groups = (n + group_size - 1) // group_size
    cap = 4096
    for g in numba.prange(n_groups):
        start = g * group_size
        stop = min(n, start + group_size)
        for i in range(start, stop):
            rep[i, 0] = 0.0
            rep[i, 1] = 0.0
            rep[i, 2] = 0.0
            z[i] = 0.0
        if first_child[0] < 0:
            continue
        lo0 = Y[start, 0]
        lo1 = Y[start, 1]
        lo2 = Y[start, 2]
        hi0 = lo0
        hi1 = lo1
        hi2 = lo2
        for i in range(start + 1, stop):
            lo0 = min(lo0, Y[i, 0])
            lo1 = min(lo1, Y[i, 1])
            lo2 = min(lo2, Y[i, 2])
            hi0 = max(hi0, Y[i, 0])
            hi1 = max(hi1, Y[i, 1])
            hi2 = max(hi2, Y[i, 2])
        lx = np.empty(cap)
        ly = np.empty(cap)
        lz = np.empty(cap)
        lc = np.empty(cap)
        lid = np.empty(cap, dtype=np.int64)
        size = 0
        stack = np.empty(8 * MAX_DEPTH + 8, dtype=np.int64)
        stack[0] = 0
        top = 1
        while top > 0 or size > 0:
            if top > 0:
                top -= 1
                fc = first_child[stack[top]]
                for c in range(fc, fc + 8):
                    cnt = cells[c, 3]
                    if cnt == 0.0:
                        continue
                    cx = cells[c, 0]
                    cy = cells[c, 1]
                    cz = cells[c, 2]
                    e0 = max(lo0 - cx, 0.0, cx - hi0)
                    e1 = max(lo1 - cy, 0.0, cy - hi1)
                    e2 = max(lo2 - cz, 0.0, cz - hi2)
                    if first_child[c] < 0 or cells[c, 4] < theta2 * (e0 * e0 + e1 * e1 + e2 * e2):
                        lx[size] = cx
                        ly[size] = cy
                        lz[size] = cz
                        lc[size] = cnt
                        lid[size] = c
                        size += 1
                    else:
                        stack[top] = c
                        top += 1
                # Sum the list once it might not take another cell's eight children.
                if size <= cap - 8 and top > 0:
                    continue
            for i in range(start, stop):
                y0 = Y[i, 0]
                y1 = Y[i, 1]
                y2 = Y[i, 2]
                own = leaf_of[i]
                r0 = 0.0
                r1 = 0.0
                r2 = 0.0
                s = 0.0
                for t in range(size):
                    d0 = y0 - lx[t]
                    d1 = y1 - ly[t]
                    d2 = y2 - lz[t]
                    w = 1.0 / (1.0 + d0 * d0 + d1 * d1 + d2 * d2)
                    cw = lc[t] - (1.0 if lid[t] == own else 0.0)
                    s += cw * w
                    cw2 = cw * w * w
                    r0 += cw2 * d0
                    r1 += cw2 * d1
                    r2 += cw2 * d2
                rep[i, 0] += r0
                rep[i, 1] += r1
                rep[i, 2] += r2
                z[i] += s
            size = 0

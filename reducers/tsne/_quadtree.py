"""Barnes-Hut quadtree for the 2-D repulsive term (van der Maaten 2014), walked per group of points.

Between a few thousand and some tens of thousands of points a t-SNE layout is sparse: a
20,000-point layout of text embeddings spans ~170 units, which an interpolation grid
covers with ~700^2 nodes. A tree costs what the points cost instead.

Layout as in `_barnes_hut` (the 3-D octree): the four children of a cell are allocated
together, and ``cells[c] = (x, y, count, side^2)`` holds what a walk reads about a cell.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, fastmath=True)

# Points closer than 2^-MAX_DEPTH of the root cell (1e-5 units in a 170-unit layout) share a
# leaf, whose count stands for all of them, instead of splitting forever.
MAX_DEPTH = 24
# Cells gathered before the group sums them; a multiple of the SIMD width.
LIST_SIZE = 2048


@numba.njit(**_JIT)
def morton_order(Y, lo, scale):
    """Permutation sorting 2-D points along a Z-order curve (16 bits per axis).

    Parameters
    ----------
    Y : ndarray of shape (n, 2), float64
    lo : ndarray of shape (2,)
    scale : float
        ``65535 / span``.

    Returns
    -------
    ndarray of shape (n,), int64
    """
    n = Y.shape[0]
    codes = np.empty(n, dtype=np.int64)
    for i in range(n):
        code = 0
        for c in range(2):
            v = np.int64((Y[i, c] - lo[c]) * scale)
            v = min(max(v, 0), 65535)
            # Spread the 16 bits of v to every other bit.
            v = (v | (v << 8)) & 0x00FF00FF
            v = (v | (v << 4)) & 0x0F0F0F0F
            v = (v | (v << 2)) & 0x33333333
            v = (v | (v << 1)) & 0x55555555
            code |= v << c
        codes[i] = code
    return np.argsort(codes, kind="mergesort")


@numba.njit(**_JIT)
def build(Y, root_center, root_half, center, half, cells, first_child, point, leaf_of):
    """Insert every point into a quadtree; serial, so the tree is the same on every run.

    Parameters
    ----------
    Y : ndarray of shape (n, 2), float64
    root_center : ndarray of shape (2,)
    root_half : float
        Half side of the root square, which must contain every point.
    center : ndarray of shape (cap, 2), float64
        Scratch: cell centres.
    half : ndarray of shape (cap,), float64
        Scratch: half sides.
    cells : ndarray of shape (cap, 4), float64
        Output: centres of mass, count, side^2.
    first_child : ndarray of shape (cap,), int64
        Output: index of the first of 4 consecutive children, -1 for a leaf.
    point : ndarray of shape (cap,), int64
        Scratch: the point of a one-point leaf, -1 for an empty leaf, -2 for an inner cell.
    leaf_of : ndarray of shape (n,), int64
        Output: the leaf holding each point.

    Returns
    -------
    int
        Cells used, or -1 when `cap` was too small (call again with more room).
    """
    n = Y.shape[0]
    cap = half.shape[0]
    center[0, 0] = root_center[0]
    center[0, 1] = root_center[1]
    half[0] = root_half
    cells[0, 0] = 0.0
    cells[0, 1] = 0.0
    cells[0, 2] = 0.0
    first_child[0] = -1
    point[0] = -1
    used = 1
    for i in range(n):
        node = 0
        depth = 0
        while True:
            cells[node, 2] += 1.0
            cells[node, 0] += Y[i, 0]
            cells[node, 1] += Y[i, 1]
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
                if used + 4 > cap:
                    return -1
                first_child[node] = used
                h = 0.5 * half[node]
                for o in range(4):
                    c = used + o
                    half[c] = h
                    center[c, 0] = center[node, 0] + (h if o & 1 else -h)
                    center[c, 1] = center[node, 1] + (h if o & 2 else -h)
                    cells[c, 0] = 0.0
                    cells[c, 1] = 0.0
                    cells[c, 2] = 0.0
                    first_child[c] = -1
                    point[c] = -1
                used += 4
                j = point[node]
                point[node] = -2
                c = first_child[node] + _quadrant(Y, j, center, node)
                cells[c, 0] = Y[j, 0]
                cells[c, 1] = Y[j, 1]
                cells[c, 2] = 1.0
                point[c] = j
                leaf_of[j] = c
            node = first_child[node] + _quadrant(Y, i, center, node)
            depth += 1
    for node in range(used):
        cnt = cells[node, 2]
        if cnt > 0:
            cells[node, 0] /= cnt
            cells[node, 1] /= cnt
        cells[node, 3] = 4.0 * half[node] * half[node]
    return used


@numba.njit(**_JIT)
def _quadrant(Y, i, center, node):
    o = 0
    if Y[i, 0] > center[node, 0]:
        o |= 1
    if Y[i, 1] > center[node, 1]:
        o |= 2
    return o


@numba.njit(parallel=True, **_JIT)
def repulsive(Y, theta, cells, first_child, leaf_of, group_size, rep, z):
    """Barnes-Hut ``sum_j w_ij^2 (y_i - y_j)`` and ``sum_{j != i} w_ij``, one walk per group.

    A group is `group_size` consecutive points (Z-ordered, so close together). A cell of
    side s is summarised by its centre of mass when ``s < theta * r``, with r its distance
    to the group's bounding box: never more than to any member, so the error is at most
    that of a walk per point. The walk fills an interaction list that every member then
    sums in a loop over contiguous memory.

    Parameters
    ----------
    Y : ndarray of shape (n, 2), float64
        Points in Z-order (see `morton_order`).
    theta : float
    cells, first_child, leaf_of : the tree from `build`
    group_size : int
    rep : ndarray of shape (n, 2), float64
        Output.
    z : ndarray of shape (n,), float64
        Output.
    """
    n = Y.shape[0]
    theta2 = theta * theta
    one = np.float32(1.0)
    n_groups = (n + group_size - 1) // group_size
    for g in numba.prange(n_groups):
        start = g * group_size
        stop = min(n, start + group_size)
        for i in range(start, stop):
            rep[i, 0] = 0.0
            rep[i, 1] = 0.0
            z[i] = 0.0
        if first_child[0] < 0:
            continue
        lo0 = Y[start, 0]
        lo1 = Y[start, 1]
        hi0 = lo0
        hi1 = lo1
        for i in range(start + 1, stop):
            lo0 = min(lo0, Y[i, 0])
            lo1 = min(lo1, Y[i, 1])
            hi0 = max(hi0, Y[i, 0])
            hi1 = max(hi1, Y[i, 1])
        # The list is summed in float32, relative to the group's corner: 8 cells per AVX2
        # instruction, with offsets small enough that float32 keeps 1e-7 of them.
        lx = np.empty(LIST_SIZE, dtype=np.float32)
        ly = np.empty(LIST_SIZE, dtype=np.float32)
        lc = np.empty(LIST_SIZE, dtype=np.float32)
        size = 0
        stack = np.empty(4 * MAX_DEPTH + 4, dtype=np.int64)
        stack[0] = 0
        top = 1
        while top > 0 or size > 0:
            if top > 0:
                top -= 1
                fc = first_child[stack[top]]
                for c in range(fc, fc + 4):
                    cnt = cells[c, 2]
                    if cnt == 0.0:
                        continue
                    cx = cells[c, 0]
                    cy = cells[c, 1]
                    e0 = max(lo0 - cx, 0.0, cx - hi0)
                    e1 = max(lo1 - cy, 0.0, cy - hi1)
                    if first_child[c] < 0 or cells[c, 3] < theta2 * (e0 * e0 + e1 * e1):
                        lx[size] = cx - lo0
                        ly[size] = cy - lo1
                        lc[size] = cnt
                        size += 1
                    else:
                        stack[top] = c
                        top += 1
                # Sum the list once it might not take another cell's four children.
                if size <= LIST_SIZE - 4 and top > 0:
                    continue
            for i in range(start, stop):
                y0 = np.float32(Y[i, 0] - lo0)
                y1 = np.float32(Y[i, 1] - lo1)
                r0 = np.float32(0.0)
                r1 = np.float32(0.0)
                s = np.float32(0.0)
                for t in range(size):
                    d0 = y0 - lx[t]
                    d1 = y1 - ly[t]
                    w = one / (one + d0 * d0 + d1 * d1)
                    cw = lc[t] * w
                    s += cw
                    cw *= w
                    r0 += cw * d0
                    r1 += cw * d1
                rep[i, 0] += r0
                rep[i, 1] += r1
                z[i] += s
            size = 0
        # Each point met its own leaf once, at distance 0 (w = 1), and must not count itself.
        for i in range(start, stop):
            z[i] -= 1.0

"""The t-SNE gradient: exact attraction over sparse P, approximated repulsion.

Repulsion by size: below a few thousand points the exact O(n^2) sum (`_exact`); then
Barnes-Hut, walked once per group of Z-ordered points (`_quadtree` in 2-D, `_barnes_hut` in
3-D); in 2-D above ~100,000 points FIt-SNE's interpolation (Linderman et al. 2019): charges
are interpolated onto a uniform grid with Lagrange polynomials, convolved with the squared
Cauchy kernel by FFT, and interpolated back. A grid of fixed spacing costs what the
layout's area costs, a tree what its points cost, so the tree wins until the layout is
dense (measured in `DEFAULT_GRID`'s comment). One squared-kernel convolution of the charges
``(1, y)`` gives the force ``sum_j w_ij^2 (y_i - y_j)`` and, through
``w = w^2 (1 + |y_i - y_j|^2)`` and the symmetry of the interpolated kernel, the normaliser
``Z = sum_{i != j} w_ij``.

Gradient convention (as bhtsne and openTSNE): the factor 4 of the exact KL gradient is
left out, so learning rates are four times scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from reducers.tsne import _barnes_hut, _exact, _kernels, _quadtree

__all__ = ["GridParams", "BarnesHutParams", "Workspace", "attractive", "repulsive", "warm_kernels", "DEFAULT_GRID"]


@dataclass(frozen=True)
class BarnesHutParams:
    """Barnes-Hut repulsion: a cell of side s at distance r is summarised when s < theta r.

    With ``group_size > 1``, r is the distance to the bounding box of a group of that many
    consecutive Z-ordered points, which share one walk of the tree.
    """

    theta: float = 0.5
    exact_below: int = 0
    group_size: int = 1


@dataclass(frozen=True)
class GridParams:
    """Interpolation grid of the repulsive term, per embedding dimension.

    Attributes
    ----------
    n_nodes : int
        Interpolation nodes per box and axis (polynomial degree + 1).
    min_boxes : int
        Boxes per axis at least, however small the embedding.
    box_width : float
        Largest box side in embedding units; more boxes are used as the layout grows.
    fine_box_width, fine_below : float, int
        Box side used instead below `fine_below` points. Few points make a sparse layout
        whose forces come from a handful of near neighbours, so the same relative error
        needs smaller boxes (at 4 nodes and 1.0 units: 1.2% on a 500-point layout,
        0.24% on a 20,000-point one; 0.38% and 0.08% at 0.75 units).
    exact_below : int
        Below this many points the exact O(n^2) sum is used.
    tree_ratio : float
        Barnes-Hut with `tree` replaces the grid while the FFT's padded grid has more than
        ``tree_ratio * n`` nodes, i.e. while the layout is sparse; 0 never uses the tree.
    tree : BarnesHutParams
    fft_dtype : type
    """

    n_nodes: int = 3
    min_boxes: int = 50
    box_width: float = 1.0
    fine_box_width: float = 1.0
    fine_below: int = 0
    exact_below: int = 0
    tree_ratio: float = 0.0
    tree: BarnesHutParams = BarnesHutParams(theta=0.5, group_size=16)
    fft_dtype: type = np.float64


# 2-D: exact sum below 4,000 points; above, per iteration, the cheaper of a grouped
# Barnes-Hut quadtree and FIt-SNE's grid with 4 nodes per box instead of 3 (openTSNE's default,
# 3 nodes per 1-unit box, errs 0.9% on a 20,000-point layout and ~4% on 500 points), with
# float32 FFTs, whose rounding stays far below the interpolation error. The grid costs what
# the layout's area costs (~64 ns of CPU per node of the padded grid, three grids), the tree
# what its points cost (~1.25 us per point at theta 0.5, 0.7% error), so the tree is used
# while the padded grid has more than 20 nodes per point: a 10,000-point layout of text
# embeddings spans 155 units, and its repulsion cost 12 ms of CPU by tree, 137 ms by grid
# (0.9% error) and 29 ms exactly; during early exaggeration the same layout spans a few
# units and the grid is the cheaper. Exact below 4,000: 0.26 ns per pair against the tree's
# 1.25 us per point (all single-thread, measured on 20,000 text embeddings).
# 3-D: a grid that accurate has M^3 nodes (a 20,000-point layout spanning ~60 units would
# need ~500^3), far slower than Barnes-Hut. Walking the tree once per 16 Z-ordered points
# is 2.4x faster than once per point at theta 0.5 and more accurate (0.4% against 0.8%
# on 20,000 points; 0.13% against 0.9% on 500).
DEFAULT_GRID: dict[int, GridParams | BarnesHutParams] = {
    2: GridParams(
        n_nodes=4,
        min_boxes=40,
        box_width=1.0,
        fine_box_width=0.75,
        fine_below=10_000,
        fft_dtype=np.float32,
        exact_below=4000,
        tree_ratio=20.0,
    ),
    3: BarnesHutParams(theta=0.5, exact_below=1000, group_size=16),
}


class Workspace:
    """Buffers reused across iterations so the loop allocates nothing per point."""

    def __init__(self, n: int, d: int, grid: GridParams | BarnesHutParams):
        self.grid = grid
        self.attr = np.empty((n, d))
        self.rep = np.empty((n, d))
        self.z = np.empty(n)
        self.kl_terms = np.empty(n)
        self.columns: np.ndarray | None = np.empty((d, n), dtype=np.float32) if n < grid.exact_below else None
        if isinstance(grid, GridParams):
            self.boxes = np.empty((n, d), dtype=np.int64)
            self.weights = np.empty((n, d, grid.n_nodes))
        # The tree's buffers come with its first use, sized for a typical tree and grown on demand.
        self.n_cells = 0
        self.leaf_of = self.rep_sorted = self.center = self.half = self.cells = self.first_child = self.point = np.empty(0)
        self._grids: dict[int, np.ndarray] = {}
        self.spectrum: np.ndarray | None = None
        self.spectrum_key: tuple | None = None

    def alloc_tree(self, cap: int) -> None:
        """Room for a tree of `cap` cells, and the per-point buffers of a walk."""
        n, d = self.rep.shape
        if self.leaf_of.shape[0] != n:
            self.leaf_of = np.empty(n, dtype=np.int64)
            self.rep_sorted = np.empty((n, d))
        self.n_cells = cap
        self.center = np.empty((cap, d))
        self.half = np.empty(cap)
        self.cells = np.empty((cap, d + 2))
        self.first_child = np.empty(cap, dtype=np.int64)
        self.point = np.empty(cap, dtype=np.int64)

    def charge_grid(self, m: int, d: int) -> np.ndarray:
        g = self._grids.get(m)
        if g is None:
            self._grids.clear()
            g = self._grids[m] = np.empty((d + 1,) + (m,) * d)
        return g


def attractive(P, Y: np.ndarray, ws: Workspace, with_kl: bool = False) -> np.ndarray:
    """``sum_j p_ij w_ij (y_i - y_j)`` for every i; shape (n, d), into ``ws.attr``.

    With `with_kl`, ``ws.kl_terms[i]`` receives ``sum_j p_ij log w_ij``.
    """
    _kernels.attractive_forces(P.indptr, P.indices, P.data, Y, ws.attr, ws.kl_terms, with_kl)
    return ws.attr


def _smooth_length(k: int) -> int:
    """Smallest even number >= k whose only prime factors are 2, 3 and 5."""
    best: int | None = None
    f5 = 1
    while f5 < 2 * k:
        f3 = f5
        while f3 < 2 * k:
            f2 = f3 * 2
            while f2 < k:
                f2 *= 2
            if best is None or f2 < best:
                best = f2
            f3 *= 3
        f5 *= 5
    assert best is not None
    return best


def _kernel_spectrum(m: int, d: int, spacing: float, size: int, dtype, workers: int) -> np.ndarray:
    # Circulant embedding of the squared Cauchy kernel: offsets 0..m-1 then -(m-1)..-1.
    idx = np.arange(size)
    off = np.where(idx < m, idx, idx - size).astype(np.float64) * spacing
    r2 = off * off
    if d == 2:
        r2 = r2[:, None] + r2[None, :]
    else:
        r2 = r2[:, None, None] + r2[None, :, None] + r2[None, None, :]
    kernel = (1.0 / (1.0 + r2) ** 2).astype(dtype)
    # The embedded kernel is even (k[a] = k[size - a]), so its spectrum is real.
    return np.ascontiguousarray(scipy.fft.rfftn(kernel, workers=workers).real)


def _convolve(charges: np.ndarray, spectrum: np.ndarray, m: int, size: int, workers: int) -> np.ndarray:
    """Aperiodic convolution of each charge grid (t, m, ..., m) with the kernel, via FFT.

    Transforms axis by axis so the zero padding is never transformed along an axis it
    only pads, and only the m outputs kept are transformed back: about half the work of
    a plain padded ``rfftn`` / ``irfftn`` pair.
    """
    d = charges.ndim - 1
    f = scipy.fft.rfft(charges, n=size, axis=d, workers=workers)
    for axis in range(d - 1, 0, -1):
        f = scipy.fft.fft(f, n=size, axis=axis, workers=workers)
    f *= spectrum
    for axis in range(1, d):
        f = scipy.fft.ifft(f, axis=axis, workers=workers)
        f = f[(slice(None),) * axis + (slice(0, m),)]
    pot = scipy.fft.irfft(f, n=size, axis=d, workers=workers)
    return np.ascontiguousarray(pot[..., :m], dtype=np.float64)


def repulsive(Y: np.ndarray, ws: Workspace, workers: int = 1) -> tuple[np.ndarray, float]:
    """Repulsive forces (before dividing by Z) and the normaliser Z.

    Parameters
    ----------
    Y : ndarray of shape (n, d), float64, d in (2, 3)
    ws : Workspace
    workers : int
        Threads for the FFTs.

    Returns
    -------
    rep : ndarray of shape (n, d)
        ``sum_j w_ij^2 (y_i - y_j)``; the repulsive gradient is ``rep / Z``.
    Z : float
        ``sum_{i != j} w_ij``.
    """
    n, d = Y.shape
    grid = ws.grid
    if n < grid.exact_below:
        assert ws.columns is not None
        _exact.repulsive(Y, ws.columns, ws.rep, ws.z)
        return ws.rep, float(ws.z.sum(dtype=np.float64))
    if isinstance(grid, BarnesHutParams):
        return _repulsive_bh(Y, ws, grid)
    lo = Y.min(axis=0)
    span = float((Y.max(axis=0) - lo).max()) * (1 + 1e-6) + 1e-12
    box_width = grid.fine_box_width if n < grid.fine_below else grid.box_width
    if span > grid.min_boxes * box_width:
        # Fixed box width once the layout outgrows the minimum grid: the kernel spectrum
        # then only changes when the grid grows, and is reused in between.
        n_boxes = int(np.ceil(span / box_width))
    else:
        n_boxes = grid.min_boxes
        box_width = span / n_boxes
    p = grid.n_nodes
    # Grow the grid to a 5-smooth FFT length: lengths with factors 7 or 11 cost up to 2x.
    size = _smooth_length(2 * n_boxes * p)
    if size**d > grid.tree_ratio * n > 0:
        return _repulsive_bh(Y, ws, grid.tree)
    n_boxes = size // (2 * p)
    m = n_boxes * p
    key = (m, box_width, size)
    if ws.spectrum_key != key:
        ws.spectrum = _kernel_spectrum(m, d, box_width / p, size, grid.fft_dtype, workers)
        ws.spectrum_key = key
    assert ws.spectrum is not None
    # Shift so the grid's lower corner is the origin; charges are taken about the centre
    # so the |y|^2 terms of the normaliser stay small.
    Ys = Y - lo
    center = np.full(d, 0.5 * n_boxes * box_width)
    _kernels.lagrange_weights(Ys, 0.0, box_width, n_boxes, p, ws.boxes, ws.weights)
    charges = ws.charge_grid(m, d)
    if d == 2:
        _kernels.scatter_charges_2d(Ys, center, ws.boxes, ws.weights, charges)
    else:
        _kernels.scatter_charges_3d(Ys, center, ws.boxes, ws.weights, charges)
    pot = _convolve(charges.astype(grid.fft_dtype, copy=False), ws.spectrum, m, size, workers)
    if d == 2:
        _kernels.gather_forces_2d(Ys, center, ws.boxes, ws.weights, pot, ws.rep, ws.z)
    else:
        _kernels.gather_forces_3d(Ys, center, ws.boxes, ws.weights, pot, ws.rep, ws.z)
    # Each z[i] counted the point itself, w_ii = 1.
    return ws.rep, float(ws.z.sum(dtype=np.float64)) - n


def _repulsive_bh(Y: np.ndarray, ws: Workspace, params: BarnesHutParams) -> tuple[np.ndarray, float]:
    d = Y.shape[1]
    lo = Y.min(axis=0)
    hi = Y.max(axis=0)
    span = float((hi - lo).max()) * (1 + 1e-6) + 1e-12
    # Build and walk the tree in Z-order so neighbouring walks share cached cells.
    tree = _quadtree if d == 2 else _barnes_hut
    order = tree.morton_order(Y, lo, (65535.0 if d == 2 else 1023.0) / span)
    Ys = np.ascontiguousarray(Y[order])
    build = _quadtree.build if d == 2 else _barnes_hut.build_octree
    if ws.n_cells == 0:
        ws.alloc_tree(3 * Y.shape[0] + 64)
    while True:
        used = build(Ys, 0.5 * (lo + hi), 0.5 * span, ws.center, ws.half, ws.cells, ws.first_child, ws.point, ws.leaf_of)
        if used >= 0:
            break
        ws.alloc_tree(2 * ws.n_cells)
    if d == 2:
        _quadtree.repulsive(Ys, params.theta, ws.cells, ws.first_child, ws.leaf_of, max(params.group_size, 1), ws.rep_sorted, ws.z)
    elif params.group_size > 1:
        _barnes_hut.repulsive_bh_grouped(Ys, params.theta, ws.cells, ws.first_child, ws.leaf_of, params.group_size, ws.rep_sorted, ws.z)
    else:
        _barnes_hut.repulsive_bh(Ys, params.theta, ws.cells, ws.first_child, ws.leaf_of, ws.rep_sorted, ws.z)
    ws.rep[order] = ws.rep_sorted
    return ws.rep, float(ws.z.sum(dtype=np.float64))


def warm_kernels() -> None:
    """Compile (or load from Numba's cache) every repulsion path on a few points.

    A fit only compiles the paths its size takes, so a new process would otherwise pay the
    tree's or the grid's compile time in the middle of its first larger fit.
    """
    rng = np.random.default_rng(0)
    tree2 = GridParams(exact_below=0, tree_ratio=1e-9, n_nodes=4, fft_dtype=np.float32)
    grid2 = GridParams(exact_below=0, tree_ratio=0.0, n_nodes=4, fft_dtype=np.float32)
    for d, params in ((2, GridParams(exact_below=10**9)), (2, tree2), (2, grid2), (3, DEFAULT_GRID[3])):
        Y = rng.normal(size=(64, d))
        repulsive(Y, Workspace(64, d, params))
    Y = rng.normal(size=(64, 3))
    repulsive(Y, Workspace(64, 3, GridParams(exact_below=10**9)))

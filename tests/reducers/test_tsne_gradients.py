"""reducers.tsne.gradients: attraction exactly, repulsion within 1% of the O(n^2) sum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reducers import TSNE
from reducers.tsne import gradients
from reducers.tsne.affinity import perplexity_affinities


def gaussian_mixture(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(5, dim)) * 5
    return (centers[rng.integers(0, 5, n)] + rng.normal(size=(n, dim))).astype(np.float32)


@pytest.fixture(scope="module", params=[2, 3])
def layout(request) -> np.ndarray:
    # A real t-SNE layout of 500 points: the spacing the approximation has to cope with.
    X = gaussian_mixture(500, 10, seed=3)
    return TSNE(n_components=request.param, perplexity=20, random_state=0).fit_transform(X).astype(np.float64)


# Each approximation, forced on at any size: the interpolation grid (2-D), the quadtree
# (2-D) and the octree (3-D), with the default parameters.
APPROXIMATIONS = {
    "grid": dataclasses.replace(gradients.DEFAULT_GRID[2], exact_below=0, tree_ratio=0.0),
    "tree": dataclasses.replace(gradients.DEFAULT_GRID[2], exact_below=0, tree_ratio=1e-9),
}


def approximation(d: int, kind: str = "tree"):
    if d == 3:
        return dataclasses.replace(gradients.DEFAULT_GRID[3], exact_below=0)
    return APPROXIMATIONS[kind]


def exact_repulsion(Y: np.ndarray) -> tuple[np.ndarray, float]:
    diff = Y[:, None, :] - Y[None, :, :]
    W = 1.0 / (1.0 + (diff**2).sum(-1))
    np.fill_diagonal(W, 0.0)
    Z = W.sum()
    return ((W**2)[:, :, None] * diff).sum(1) / Z, Z


@pytest.mark.parametrize("kind", ["grid", "tree"])
def test_repulsion_matches_exact_on_500_points(layout, kind):
    n, d = layout.shape
    ws = gradients.Workspace(n, d, approximation(d, kind))
    rep, Z = gradients.repulsive(layout, ws)
    exact, exact_Z = exact_repulsion(layout)
    assert np.linalg.norm(rep / Z - exact) / np.linalg.norm(exact) < 0.01
    assert abs(Z - exact_Z) / exact_Z < 0.01


@pytest.mark.parametrize("d, kind", [(2, "grid"), (2, "tree"), (3, "tree")])
def test_repulsion_of_a_compact_layout(d, kind):
    # Early exaggeration starts from a layout of standard deviation 1e-4.
    Y = np.random.default_rng(0).normal(size=(500, d)) * 1e-4
    ws = gradients.Workspace(500, d, approximation(d, kind))
    rep, Z = gradients.repulsive(Y, ws)
    exact, exact_Z = exact_repulsion(Y)
    assert np.linalg.norm(rep / Z - exact) / np.linalg.norm(exact) < 0.01
    assert abs(Z - exact_Z) / exact_Z < 1e-6


@pytest.mark.parametrize("kind", ["grid", "tree"])
def test_repulsion_with_duplicate_points(kind):
    # Duplicates share a quadtree leaf (and a grid box): they repel nothing among themselves.
    Y = np.repeat(np.random.default_rng(5).normal(size=(150, 2)) * 4, 2, axis=0)
    ws = gradients.Workspace(300, 2, approximation(2, kind))
    rep, Z = gradients.repulsive(Y, ws)
    exact, exact_Z = exact_repulsion(Y)
    assert np.linalg.norm(rep / Z - exact) / np.linalg.norm(exact) < 0.01
    assert abs(Z - exact_Z) / exact_Z < 0.01


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("scale", [1e-5, 5.0])
def test_exact_kernel_matches_numpy(d, scale):
    # The small-n path: every pair, in float32 (rounding ~1e-7 per term).
    Y = np.random.default_rng(1).normal(size=(200, d)) * scale
    ws = gradients.Workspace(200, d, gradients.GridParams(exact_below=10**9))
    rep, Z = gradients.repulsive(Y, ws)
    exact, exact_Z = exact_repulsion(Y)
    np.testing.assert_allclose(rep / Z, exact, rtol=1e-4, atol=1e-6 * np.abs(exact).max())
    assert abs(Z - exact_Z) / exact_Z < 1e-6


@pytest.mark.parametrize("d", [2, 3])
def test_attraction_matches_numpy(d):
    X = gaussian_mixture(300, 6, seed=4)
    P = perplexity_affinities(X, 10.0)
    P.data = P.data.astype(np.float32)
    Y = np.random.default_rng(2).normal(size=(300, d)) * 3
    ws = gradients.Workspace(300, d, gradients.DEFAULT_GRID[d])
    attr = gradients.attractive(P, Y, ws, with_kl=True).copy()

    dense = P.toarray().astype(np.float64)
    diff = Y[:, None, :] - Y[None, :, :]
    W = 1.0 / (1.0 + (diff**2).sum(-1))
    expected = ((dense * W)[:, :, None] * diff).sum(1)
    np.testing.assert_allclose(attr, expected, rtol=1e-10, atol=1e-18)
    p_log_w = np.where(dense > 0, dense * np.log(W), 0).sum(1)
    np.testing.assert_allclose(ws.kl_terms, p_log_w, rtol=1e-10, atol=1e-18)


def test_small_n_gradient_is_the_exact_kl_gradient():
    # Below `exact_below` points nothing is approximated: attraction minus repulsion / Z must be
    # the KL divergence's gradient (divided by 4, our convention), checked by central differences.
    X = gaussian_mixture(60, 5, seed=6)
    P = perplexity_affinities(X, 8.0)
    P.data = P.data.astype(np.float32)
    dense = P.toarray().astype(np.float64)
    Y = np.random.default_rng(3).normal(size=(60, 2)) * 2
    ws = gradients.Workspace(60, 2, gradients.DEFAULT_GRID[2])
    attr = gradients.attractive(P, Y, ws).copy()
    rep, Z = gradients.repulsive(Y, ws)
    grad = attr - rep / Z

    def kl(Y: np.ndarray) -> float:
        W = 1.0 / (1.0 + ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1))
        np.fill_diagonal(W, 0.0)
        Q = W / W.sum()
        mask = dense > 0
        return float(np.sum(dense[mask] * np.log(dense[mask] / Q[mask])))

    numeric = np.empty_like(Y)
    h = 1e-5
    for i in range(60):
        for c in range(2):
            step = np.zeros_like(Y)
            step[i, c] = h
            numeric[i, c] = (kl(Y + step) - kl(Y - step)) / (2 * h)
    np.testing.assert_allclose(4 * grad, numeric, rtol=1e-3, atol=1e-4 * np.abs(numeric).max())


def test_repulsion_picks_the_cheaper_approximation():
    # 6,000 points: a compact layout (early exaggeration) fits a small grid, a spread one
    # (a finished layout) would need a huge grid and goes to the tree. Both stay within 1%.
    rng = np.random.default_rng(7)
    for scale, expect_grid in ((0.5, True), (40.0, False)):
        Y = rng.normal(size=(6000, 2)) * scale
        ws = gradients.Workspace(6000, 2, gradients.DEFAULT_GRID[2])
        rep, Z = gradients.repulsive(Y, ws)
        assert (ws.spectrum_key is not None) == expect_grid
        assert (ws.n_cells > 0) != expect_grid
        # The exact kernel (checked against numpy above) as reference: numpy's would take 400 MB.
        exact, exact_Z = gradients.repulsive(Y, gradients.Workspace(6000, 2, gradients.GridParams(exact_below=10**9)))
        assert np.linalg.norm(rep / Z - exact / exact_Z) / np.linalg.norm(exact / exact_Z) < 0.01
        assert abs(Z - exact_Z) / exact_Z < 0.01

"""t-SNE at every accepted perplexity: no collapsed layouts, and none returned as a success."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from reducers import TSNE
from reducers.tsne.optimizer import MIN_SPREAD, DegenerateLayoutError, check_layout, keep_spread


def gaussian_mixture(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(6, dim)) * 4
    return (centers[rng.integers(0, 6, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def principal_spreads(Y: np.ndarray) -> np.ndarray:
    """Standard deviations along the principal axes, smallest first."""
    Yc = Y.astype(np.float64) - Y.mean(axis=0)
    return np.linalg.svd(Yc, compute_uv=False)[::-1] / np.sqrt(len(Y))


@pytest.fixture(scope="module")
def X300() -> np.ndarray:
    return gaussian_mixture(300, 10, seed=1)


# Up to the largest the service accepts, (n - 1) / 3 = 99.67 for 300 points, where every point
# has every other as a neighbour. Before the fix, layouts collapsed to a point from about n / 9.
@pytest.mark.parametrize("perplexity", [2.0, 10.0, 30.0, 50.0, 75.0, 99.6])
def test_every_perplexity_gives_a_spread_layout(X300, perplexity):
    model = TSNE(perplexity=perplexity, random_state=0).fit(X300)
    Y = model.embedding_
    assert np.isfinite(Y).all() and np.isfinite(model.kl_divergence_)
    spread = principal_spreads(Y)
    assert spread[0] > 0.2 * spread[-1] and spread[0] > 0.3
    assert trustworthiness(X300, Y, n_neighbors=10) > 0.9


@pytest.mark.parametrize("exaggeration_iter", [250, 1500])
def test_largest_perplexity_in_3d_and_long_exaggeration(X300, exaggeration_iter):
    # A long exaggeration phase would shrink the layout far past float64's range.
    Y = TSNE(n_components=3, perplexity=99.6, exaggeration_iter=exaggeration_iter, n_iter=exaggeration_iter + 300,
             random_state=0).fit_transform(X300)  # fmt: skip
    spread = principal_spreads(Y)
    assert np.isfinite(Y).all() and spread[0] > 0.2 * spread[-1]
    assert trustworthiness(X300, Y, n_neighbors=10) > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("perplexity", [200.0, 300.0])
def test_digits_at_large_perplexity(perplexity):
    # scikit-learn 1.x (Barnes-Hut, 1,000 iterations): trustworthiness 0.987 at 200, 0.986 at 300.
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float32)
    Y = TSNE(perplexity=perplexity, random_state=0).fit_transform(X)
    spread = principal_spreads(Y)
    assert spread[0] > 0.5 * spread[-1] and spread[0] > 1.0
    assert trustworthiness(X, Y, n_neighbors=10) > 0.975


def test_keep_spread_stretches_only_collapsed_directions():
    rng = np.random.default_rng(0)
    # A thin diagonal line, off the origin: spread 1 along (1, 1), 1e-9 across it.
    t = rng.normal(size=500)
    Y = np.column_stack([t, t]) / np.sqrt(2) + 1e-9 * np.column_stack([-t[::-1], t[::-1]]) + 3.0
    moments = np.vstack([Y.sum(0)[None], Y.T @ Y])
    assert keep_spread(Y, moments, MIN_SPREAD)
    spread = principal_spreads(Y)
    np.testing.assert_allclose(spread, [MIN_SPREAD, t.std()], rtol=1e-6)
    np.testing.assert_allclose(Y.mean(0), 0.0, atol=1e-10)
    wide = rng.normal(size=(500, 2))
    before = wide.copy()
    assert not keep_spread(wide, np.vstack([wide.sum(0)[None], wide.T @ wide]), MIN_SPREAD)
    np.testing.assert_array_equal(wide, before)


@pytest.mark.parametrize(
    "Y, match",
    [
        (np.full((50, 2), np.nan), "non-finite"),
        (np.zeros((50, 2)), "collapsed"),
        (np.column_stack([np.arange(50.0), np.full(50, 2.0)]), "collapsed"),
        (np.column_stack([np.arange(50.0), 2 * np.arange(50.0), np.arange(50.0) ** 2]), "collapsed"),
    ],
)
def test_check_layout_rejects_degenerate_layouts(Y, match):
    with pytest.raises(DegenerateLayoutError, match=match):
        check_layout(Y)


def test_a_collapsed_result_raises_instead_of_returning(X300):
    # Every point starting on the same spot gets the same gradient and never moves apart.
    with pytest.raises(DegenerateLayoutError, match="collapsed"):
        TSNE(init=np.zeros((300, 2)), n_iter=60, exaggeration_iter=10, random_state=0).fit(X300)


def test_identical_rows_still_embed():
    # No direction for a PCA start: the start is random instead, and the layout spreads.
    Y = TSNE(perplexity=5.0, n_iter=200, random_state=0).fit_transform(np.ones((60, 4), dtype=np.float32))
    assert np.isfinite(Y).all() and principal_spreads(Y)[0] > 0.1

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA as SklearnPCA

from reducers import PCA
from reducers import pca as pca_module


@pytest.fixture
def correlated() -> np.ndarray:
    rng = np.random.default_rng(1)
    scales = np.linspace(5, 0.1, 30)
    return (rng.normal(size=(3000, 30)) * scales @ np.linalg.qr(rng.normal(size=(30, 30)))[0]).astype(np.float32)


@pytest.mark.parametrize("solver", ["exact", "randomized"])
def test_matches_scikit_learn(correlated: np.ndarray, solver: str) -> None:
    ours = PCA(n_components=3, svd_solver=solver, random_state=0)
    coords = ours.fit_transform(correlated)
    reference = SklearnPCA(n_components=3, svd_solver="full").fit(correlated)
    np.testing.assert_allclose(ours.explained_variance_ratio_, reference.explained_variance_ratio_, atol=1e-5)
    np.testing.assert_allclose(ours.explained_variance_, reference.explained_variance_, rtol=1e-4)
    expected = reference.transform(correlated)
    signs = np.sign((coords * expected).sum(axis=0))  # components are defined up to sign
    np.testing.assert_allclose(coords, expected * signs, atol=2e-3 * np.abs(expected).max())
    assert coords.dtype == np.float32 and ours.components_.dtype == np.float32


def test_chunked_passes_give_the_same_answer(correlated: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = PCA(n_components=4).fit(correlated)
    monkeypatch.setattr(pca_module, "CHUNK_ROWS", 257)
    chunked = PCA(n_components=4).fit(correlated)
    np.testing.assert_allclose(whole.components_, chunked.components_, atol=1e-4)
    np.testing.assert_allclose(whole.explained_variance_ratio_, chunked.explained_variance_ratio_, rtol=1e-6)


def test_large_offset_does_not_cost_precision(correlated: np.ndarray) -> None:
    shifted = correlated + np.float32(1000.0)  # far from the origin: float32 cancellation would show here
    ours = PCA(3).fit(shifted)
    reference = SklearnPCA(3, svd_solver="full").fit(shifted.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_ratio_, reference.explained_variance_ratio_, atol=1e-4)


def test_auto_picks_randomized_for_wide_data() -> None:
    X = np.random.default_rng(0).normal(size=(50, pca_module.EXACT_MAX_FEATURES + 1)).astype(np.float32)
    assert PCA(2).fit(X).solver_ == "randomized"
    assert PCA(2).fit(X[:, :100]).solver_ == "exact"


def test_sign_is_deterministic(correlated: np.ndarray) -> None:
    components = PCA(3).fit(correlated).components_
    biggest = np.abs(components).argmax(axis=1)
    assert (components[np.arange(3), biggest] > 0).all()


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (np.ones((10, 3)), {"n_components": 4}, "n_components"),
        (np.ones((10, 3)), {"n_components": 0}, "n_components"),
        (np.ones((10, 3)), {"n_components": 2, "svd_solver": "magic"}, "svd_solver"),
        (np.ones(10), {}, "2D array"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), {}, "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), {}, "could not convert string to float"),
        (np.array([[1 + 1j, 0], [0, 1]]), {}, "Complex data not supported"),
    ],
)
def test_rejects_bad_input(X: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PCA(**kwargs).fit(X)


def test_transform_checks_feature_count(correlated: np.ndarray) -> None:
    pca = PCA(2).fit(correlated)
    with pytest.raises(ValueError, match="features"):
        pca.transform(correlated[:, :5])

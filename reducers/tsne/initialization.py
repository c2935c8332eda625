"""Starting layouts for t-SNE: PCA or random, both tiny so early exaggeration can work."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["pca", "random", "rescale"]

# Standard deviation of the first coordinate of a starting layout (openTSNE's choice,
# after Kobak & Berens 2019): small enough that the first iterations see pure affinities.
INIT_STD = 1e-4


def rescale(Y: np.ndarray, target_std: float = INIT_STD) -> np.ndarray:
    """Scale `Y` so its first column has standard deviation `target_std`.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_components)

    Returns
    -------
    ndarray of shape (n_samples, n_components), float64
    """
    Y = np.asarray(Y, dtype=np.float64)
    std = Y[:, 0].std()
    return Y * (target_std / std) if std > 0 else Y.copy()


def random(n_samples: int, n_components: int, random_state=None) -> np.ndarray:
    """Gaussian noise with standard deviation `INIT_STD`; shape (n_samples, n_components), float64."""
    rng = check_random_state(random_state)
    return rng.normal(0.0, INIT_STD, size=(n_samples, n_components))


def pca(X: np.ndarray, n_components: int, random_state=None) -> np.ndarray:
    """Leading principal components of `X`, rescaled by `rescale`.

    Signs are fixed (largest loading positive) so the result does not depend on the
    eigensolver. Components missing because ``n_features < n_components`` are random, and
    so is the whole layout when every row of `X` is the same.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_components), float64
    """
    X = np.asarray(X)
    n, d = X.shape
    m = min(d, n_components)
    mean = X.mean(axis=0, dtype=np.float64)
    if d <= 2048:
        # d x d covariance in float64: one pass over X, exact and cheaper than an SVD of X.
        Xc = X - mean.astype(X.dtype)
        cov = Xc.T.astype(np.float64) @ Xc.astype(np.float64)
        _, vecs = np.linalg.eigh(cov)
        comps = vecs[:, ::-1][:, :m].T
    else:
        from sklearn.utils.extmath import randomized_svd

        _, _, comps = randomized_svd(X - mean, m, random_state=check_random_state(random_state))
        Xc = X - mean
    signs = np.sign(comps[np.arange(m), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1, signs)[:, None]
    Y = np.asarray(Xc @ comps.T.astype(Xc.dtype), dtype=np.float64)
    if not Y[:, 0].std() > 0:
        # Every row the same: no direction to start from.
        return random(n, n_components, random_state)
    if m < n_components:
        Y = np.hstack([Y, random(n, n_components - m, random_state) * Y[:, 0].std() / INIT_STD])
    return rescale(Y)

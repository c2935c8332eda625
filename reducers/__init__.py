"""Dimensionality reduction for embeddings: PCA, t-SNE and UMAP as scikit-learn estimators.

They pass scikit-learn's estimator checks (bar those forcing one t-SNE/UMAP component) and
return float32. Numeric code only: nothing here imports the web service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reducers.pca import PCA
    from reducers.tsne import TSNE
    from reducers.umap_adapter import UMAP

__all__ = ["PCA", "TSNE", "UMAP"]


def __getattr__(name: str) -> Any:
    # The estimators pull in scikit-learn, Numba kernels and umap-learn: import them only when asked for,
    # so that the service's light modules (reducers.knn's METRICS, reducers.clusters) load fast.
    if name == "PCA":
        from reducers.pca import PCA

        return PCA
    if name == "TSNE":
        from reducers.tsne import TSNE

        return TSNE
    if name == "UMAP":
        from reducers.umap_adapter import UMAP

        return UMAP
    raise AttributeError(f"module 'reducers' has no attribute {name!r}")

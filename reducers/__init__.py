"""Dimensionality reduction for embeddings: PCA, t-SNE and UMAP as scikit-learn estimators.

They pass scikit-learn's estimator checks (bar those forcing one t-SNE/UMAP component) and
return float32. Numeric code only: nothing here imports the web service.
"""

from __future__ import annotations

from typing import Any

from reducers.pca import PCA

__all__ = ["PCA", "TSNE", "UMAP"]


def __getattr__(name: str) -> Any:
    # t-SNE and UMAP pull in Numba kernels and umap-learn; import them only when asked for.
    if name == "TSNE":
        from reducers.tsne import TSNE

        return TSNE
    if name == "UMAP":
        from reducers.umap_adapter import UMAP

        return UMAP
    raise AttributeError(f"module 'reducers' has no attribute {name!r}")

"""projector: an embedding projector service (PCA, t-SNE, UMAP of your embeddings in a WebGL scatter)."""

from __future__ import annotations

__version__ = "0.1.0"

from projector.client import Client
from projector.logdir.writer import log_embedding

__all__ = ["Client", "__version__", "log_embedding"]

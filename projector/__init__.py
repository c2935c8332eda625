"""projector: an embedding projector service (PCA, t-SNE, UMAP of your embeddings in a WebGL scatter)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Client", "__version__", "log_embedding"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import projector` stays light for the client and the CLI's fast paths.
    if name == "Client":
        from projector.client import Client

        return Client
    if name == "log_embedding":
        from projector.logdir.writer import log_embedding

        return log_embedding
    raise AttributeError(f"module 'projector' has no attribute {name!r}")

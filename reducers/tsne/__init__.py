"""t-SNE with FFT-accelerated interpolation, written for the projector service.

Stages live in their own modules: `affinity` (P from a kNN graph), `initialization`,
`gradients` (attraction and interpolated repulsion, over `_kernels`), `optimizer`.
"""

from reducers.tsne.estimator import TSNE

__all__ = ["TSNE"]

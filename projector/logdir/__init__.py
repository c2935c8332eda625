"""Read TensorBoard projector logdirs and TensorFlow checkpoints without TensorFlow; write logs.

No web imports: the service wires :func:`discover` into its dataset store.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, checkpoint_prefixes, latest_checkpoint
from .discover import Discovery, EmbeddingEntry, RunError, discover
from .errors import LogdirError
from .keras_h5 import keras_embeddings, read_keras_weight
from .pbtxt import (
    CheckpointState,
    EmbeddingInfo,
    ProjectorConfig,
    SpriteInfo,
    format_projector_config,
    parse_checkpoint_state,
    parse_projector_config,
    read_projector_config,
)
from .tensors import read_tensor_file
from .writer import log_embedding

__all__ = [
    "Checkpoint",
    "CheckpointState",
    "Discovery",
    "EmbeddingEntry",
    "EmbeddingInfo",
    "LogdirError",
    "ProjectorConfig",
    "RunError",
    "SpriteInfo",
    "checkpoint_prefixes",
    "discover",
    "format_projector_config",
    "keras_embeddings",
    "latest_checkpoint",
    "log_embedding",
    "parse_checkpoint_state",
    "parse_projector_config",
    "read_keras_weight",
    "read_projector_config",
    "read_tensor_file",
]

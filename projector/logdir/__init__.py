"""Read TensorBoard projector logdirs and TensorFlow checkpoints without TensorFlow; write logs.

Standalone: imports nothing else from projector, so the client and the service can both use it.
Every file a log names is opened only inside the logdir (:func:`._paths.open_inside`); every size
a file declares is checked against :mod:`.limits` before anything is allocated.
"""

from __future__ import annotations

from .checkpoint import Checkpoint
from .checkpoint_files import checkpoint_prefixes, latest_checkpoint
from .discover import discover
from .entries import Discovery, EmbeddingEntry, RunError
from .errors import LogdirError
from .keras_h5 import keras_embeddings, read_keras_weight
from .metadata_tsv import EMPTY_LABEL, metadata_tsv
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
from .tensor_tsv import parse_tensor_tsv, tsv_shape
from .tensors import read_tensor_file
from .writer import log_embedding

__all__ = [
    "EMPTY_LABEL",
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
    "metadata_tsv",
    "parse_checkpoint_state",
    "parse_projector_config",
    "parse_tensor_tsv",
    "read_keras_weight",
    "read_projector_config",
    "read_tensor_file",
    "tsv_shape",
]

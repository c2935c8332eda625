"""Every bound on what a logdir file may make us read or allocate, in one place."""

from __future__ import annotations

MiB = 1 << 20
GiB = 1 << 30

# A tensor as float32: checked against the declared shape before anything is allocated.
MAX_TENSOR_BYTES = 16 * GiB
MAX_TENSOR_VALUES = MAX_TENSOR_BYTES // 4
# One line of a tensor TSV (a 100,000-dimensional row of full-precision floats is ~1.6 MB). Lines up
# to 4 MiB parse at the cost of ordinary ones; longer ones cost more per value ("1\t": two 64 MB
# lines took 1.2 GB, two 16 MB lines 5x their float32 result against 2.5-3x for short lines).
MAX_TSV_LINE_BYTES = 4 * MiB

MAX_CONFIG_BYTES = 16 * MiB  # projector_config.pbtxt and `checkpoint` state files
MAX_PBTXT_DEPTH = 64  # nested { } blocks; ProjectorConfig needs 3
MAX_PBTXT_STRING = 64 * 1024  # one quoted string: a path or a tensor name (PATH_MAX is 4,096)
MAX_PBTXT_TOKENS = 500_000  # ~10 per embedding: 50,000 embeddings in one config
MAX_INDEX_BYTES = 512 * MiB  # a checkpoint's .index (names and offsets only, never tensor data)

MAX_METADATA_BYTES = 1 * GiB
MAX_SPRITE_BYTES = 256 * MiB  # TensorBoard caps atlases at 8192 x 8192 px
MAX_BOOKMARKS_BYTES = 64 * MiB

# HDF5 is parsed in a child process: its time and its address space are bounded.
H5_TIMEOUT_SECONDS = 120.0
H5_BASE_MEMORY = 768 * MiB  # Python, NumPy and h5py themselves need ~120 MB of address space

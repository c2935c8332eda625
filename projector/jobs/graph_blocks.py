"""A dataset's kNN graph built in row blocks (reducers.knn_blocks) and written into the graph cache.

Up to one block's worth of rows the reducers build the graph in one call; above it a plan groups
the rows into blocks that are independent tasks. Local jobs run the blocks one after the other in
their own process; on a Dask cluster each block is a task on some worker (a `BlockRunner` from
projector.jobs.executors.dask_worker) that reads the memory-mapped tensor and writes its rows to
a file in the shared data dir, and the job assembles them. The same plan and blocks either way,
so both give the same graph.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from projector.data.atomic import atomic_path, atomic_write
from projector.data.graphs import save_graph
from projector.data.layout import DatasetFiles
from reducers.knn import knn_graph
from reducers.knn_blocks import MAX_BLOCK_ROWS, GraphPlan, build_block, plan_graph

BLOCK_ROWS = MAX_BLOCK_ROWS  # the most rows in one block, and the most built in one call
Rows = tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, indices, distances) of one block
# Runs every block of `plan` over the tensor at `tensor` and yields each block's rows, in any order.
BlockRunner = Callable[[np.ndarray, Path, GraphPlan], Iterable[Rows]]


def run_blocks_here(X: np.ndarray, tensor: Path, plan: GraphPlan) -> Iterator[Rows]:
    """The block runner of local jobs: every block in this process, one after the other, each on every core."""
    threads = os.cpu_count() or 1
    for start, stop in plan.blocks:
        yield build_block(X, plan, start, stop, n_jobs=threads)


def build_graph_cache(
    files: DatasetFiles, X: np.ndarray, k: int, metric: str, random_state: int, run_blocks: BlockRunner = run_blocks_here
) -> None:
    """Build the graph of `X` with `k` neighbours and cache it in `files` (in blocks above BLOCK_ROWS rows)."""
    n = X.shape[0]
    if n <= BLOCK_ROWS:
        save_graph(files, knn_graph(X, k, metric=metric, random_state=random_state))
        return
    plan = plan_graph(X, k, metric=metric, random_state=random_state, max_block_rows=BLOCK_ROWS)
    write_graph(files, metric, k, n, run_blocks(X, files.tensor, plan))


def write_graph(files: DatasetFiles, metric: str, k: int, n: int, blocks: Iterable[Rows]) -> None:
    """Assemble blocks' rows into the cached graph files; the indices file lands last (it marks the graph complete)."""
    indices_path, distances_path = files.graph(metric, k)
    with atomic_path(indices_path) as indices_tmp, atomic_path(distances_path) as distances_tmp:
        indices = _RowWriter(indices_tmp, "<i4", n, k)
        distances = _RowWriter(distances_tmp, "<f4", n, k)
        filled = np.zeros(n, dtype=bool)
        for rows, block_indices, block_distances in blocks:
            indices.write(rows, block_indices)
            distances.write(rows, block_distances)
            filled[rows] = True
        indices.close()
        distances.close()
        if not filled.all():
            raise RuntimeError(f"the kNN graph blocks left {int((~filled).sum())} of {n} rows unfilled")


class _RowWriter:
    """An (n, k) .npy file written row by row with positioned writes, not through a memory map:
    the rows written go to the page cache, not the job's resident memory (a mapped graph at 1M x 90
    would add 0.7 GB to it)."""

    def __init__(self, path: Path, dtype: str, n: int, k: int) -> None:
        header = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, k))  # header and size only
        self.offset, self.row_bytes, self.dtype = header.offset, k * header.itemsize, np.dtype(dtype)
        del header
        self.fd = os.open(path, os.O_WRONLY)

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        for position in np.argsort(rows, kind="stable"):  # in file order
            os.pwrite(self.fd, values[position].data, self.offset + int(rows[position]) * self.row_bytes)

    def close(self) -> None:
        os.close(self.fd)


def build_block_file(tensor: str, plan: str, start: int, stop: int, out: str) -> None:
    """One block of a cluster build: read the tensor and the plan from the data dir, write the block's rows to `out`."""
    X = np.load(tensor, mmap_mode="r")
    rows, indices, distances = build_block(X, GraphPlan.load(plan), start, stop)
    atomic_write(Path(out), lambda f: np.savez(f, rows=rows, indices=indices, distances=distances))


def read_block_file(path: Path) -> Rows:
    with np.load(path) as part:
        return part["rows"], part["indices"], part["distances"]

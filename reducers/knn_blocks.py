"""The kNN graph of a large input, built in row blocks that are independent tasks.

A small shared plan (`plan_graph`) groups the rows into k-means lists and the lists into
blocks of nearby rows. Each block (`build_block`) compares every pair of its own rows (each
pair once, both rows take it) and, when the plan says so, each of its rows against the rows
of its nearest lists in other blocks; it reads only the tensor and the plan, and returns its
rows of the graph. The number of lists probed outside the block is chosen in the plan from
the exact neighbours of a sample of rows, to reach `target_recall`. On data whose clusters
fit in a block (a Gaussian mixture) every neighbour is found in the block.

Distances come from float32 dot products of rows centred on the mean (Euclidean) or scaled to
unit length (cosine); ties are broken by row index, so a graph built block by block equals one
built in one call.

    plan = plan_graph(X, k=15)
    for start, stop in plan.blocks:
        rows, indices, distances = build_block(X, plan, start, stop)
        graph_indices[rows], graph_distances[rows] = indices, distances
"""

from __future__ import annotations

import io
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from reducers import _knn_kernels as kernels
from reducers._partition import group_lists, kmeans

__all__ = ["GraphPlan", "plan_graph", "build_block", "build_graph", "MAX_BLOCK_ROWS"]

# Rows in a block: every pair in it is compared, so a block costs rows^2 * dims / 2 products.
MAX_BLOCK_ROWS = 65536
LIST_ROWS = 2048  # average rows per k-means list
SAMPLE_ROWS = 300  # rows whose exact neighbours choose how many lists to probe
TILE_ROWS = 2048  # side of one tile of dot products (16 MB)


@dataclass(frozen=True, eq=False)
class GraphPlan:
    """What every block needs to know: lists, blocks and probes. Small: about 4 bytes a row.

    Attributes
    ----------
    k, metric, n_samples, n_features
    mean : (n_features,) float32, subtracted from rows before Euclidean products
    centroids : (n_lists, n_features) float32, list centres in that prepared space
    order : (n_samples,) int32, rows sorted by block, then list, then index
    list_offsets : (n_lists + 1,) int64, where each list starts in `order`
    list_block : (n_lists,) int32, the block of each list
    block_offsets : (n_blocks + 1,) int64, where each block starts in `order`
    n_probe : int, lists outside its block that each row is compared with
    """

    k: int
    metric: str
    n_samples: int
    n_features: int
    mean: np.ndarray
    centroids: np.ndarray
    order: np.ndarray
    list_offsets: np.ndarray
    list_block: np.ndarray
    block_offsets: np.ndarray
    n_probe: int

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """(start, stop) positions in `order` of each block: the independent tasks."""
        return list(itertools.pairwise(self.block_offsets.tolist()))

    def prepare(self, rows: np.ndarray) -> np.ndarray:
        """Rows as the kernels compare them: centred (Euclidean) or unit length (cosine), float32."""
        rows = np.asarray(rows, dtype=np.float32)
        if self.metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))[:, None]
            return (rows / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return rows - self.mean

    def operands(self, prepared: np.ndarray, side: str = "both") -> tuple[np.ndarray, np.ndarray]:
        """Left and right operands whose product is the matrix of keys: ``left[i] @ right[j]``.

        Euclidean: ``[x, |x|^2, 1] @ [-2y, 1, |y|^2]``, the squared distance; cosine on unit
        rows: ``[x, 1/2, 1] @ [-y, 1, 1/2]``, that is ``1 - cos``. Doubling is exact, so the
        key of (i, j) equals the key of (j, i) when both come from the same place in a tile.
        `side` "left" or "right" leaves the other one empty.
        """
        n = prepared.shape[0]
        if self.metric == "cosine":
            terms, scale = np.full(n, 0.5, dtype=np.float32), np.float32(-1.0)
        else:
            terms, scale = np.einsum("ij,ij->i", prepared, prepared, dtype=np.float64).astype(np.float32), np.float32(-2.0)
        ones = np.ones(n, dtype=np.float32)
        empty = np.empty((0, prepared.shape[1] + 2), dtype=np.float32)
        left = np.concatenate([prepared, terms[:, None], ones[:, None]], axis=1) if side != "right" else empty
        right = np.concatenate([scale * prepared, ones[:, None], terms[:, None]], axis=1) if side != "left" else empty
        return left, right

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the plan as one .npz file (written whole, then renamed into place)."""
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}
        np.savez(buffer, **arrays)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.partial")
        with open(tmp, "wb") as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GraphPlan:
        with np.load(path) as data:
            values: dict[str, Any] = {name: data[name] for name in data.files}
        for name in ("k", "n_samples", "n_features", "n_probe"):
            values[name] = int(values[name])
        values["metric"] = str(values["metric"])
        return cls(**values)


def plan_graph(
    X: np.ndarray,
    k: int,
    metric: str = "euclidean",
    random_state: int | None = 0,
    max_block_rows: int = MAX_BLOCK_ROWS,
    target_recall: float = 0.97,
    n_jobs: int = 1,
) -> GraphPlan:
    """Plan the graph of `X` (float32, possibly a memory map) with `k` neighbours per row.

    Up to `max_block_rows` rows (or when `k` is too large for blocks) the plan is one block:
    an exact graph. Otherwise rows are grouped into lists of about `LIST_ROWS` by k-means on
    a sample, and lists into blocks of at most `max_block_rows` rows. `n_jobs` threads share
    the pass over `X` that assigns rows to lists.
    """
    n, d = X.shape
    mean = _mean(X) if metric == "euclidean" else np.zeros(d, dtype=np.float32)
    min_rows = max_block_rows // 4
    plan = GraphPlan(
        k=k, metric=metric, n_samples=n, n_features=d, mean=mean, centroids=mean[None, :].copy(),
        order=np.arange(n, dtype=np.int32), list_offsets=np.array([0, n], dtype=np.int64),
        list_block=np.zeros(1, dtype=np.int32), block_offsets=np.array([0, n], dtype=np.int64), n_probe=0,
    )  # fmt: skip
    if n <= max_block_rows or k >= min_rows:
        return plan
    rng = np.random.default_rng(random_state)
    # Lists much smaller than blocks, so blocks can be cut along their borders.
    n_lists = int(np.clip(max(n // LIST_ROWS, 8 * n // max_block_rows), 2, min(4096, n // 8)))
    sample = np.sort(rng.choice(n, min(n, 16 * n_lists), replace=False))
    centroids = kmeans(plan.prepare(X[sample]), n_lists, rng)
    probe_sample = np.sort(rng.choice(n, min(SAMPLE_ROWS, n), replace=False))
    labels, truth = _scan(X, plan, centroids, probe_sample, min(k, 10), n_jobs)
    sizes = np.bincount(labels, minlength=n_lists)
    kept = np.flatnonzero(sizes)
    groups = group_lists(centroids[kept], sizes[kept], max_block_rows, min_rows)
    list_order = kept[np.concatenate(groups)]
    rank = np.empty(n_lists, dtype=np.int64)
    rank[list_order] = np.arange(len(list_order))
    order = np.argsort(rank[labels], kind="stable").astype(np.int32)
    list_sizes = sizes[list_order]
    group_sizes = np.array([sizes[kept[g]].sum() for g in groups])
    plan = GraphPlan(
        k=k, metric=metric, n_samples=n, n_features=d, mean=mean, centroids=centroids[list_order],
        order=order, list_offsets=np.concatenate([[0], np.cumsum(list_sizes)]).astype(np.int64),
        list_block=np.repeat(np.arange(len(groups)), [len(g) for g in groups]).astype(np.int32),
        block_offsets=np.concatenate([[0], np.cumsum(group_sizes)]).astype(np.int64), n_probe=0,
    )  # fmt: skip
    n_probe = _choose_probes(plan, plan.prepare(X[probe_sample]), rank[labels[probe_sample]], rank[labels[truth]], target_recall)
    return GraphPlan(**{**{f.name: getattr(plan, f.name) for f in fields(plan)}, "n_probe": n_probe})


def build_block(X: np.ndarray, plan: GraphPlan, start: int, stop: int, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph rows of block ``plan.order[start:stop]``: (rows, indices int32, distances float32).

    Reads those rows of `X` and the lists it probes; needs nothing from other blocks. With
    `n_jobs` > 1, threads share out the tiles, each into heaps of its own, merged at the end.
    """
    rows = plan.order[start:stop]
    prepared = plan.prepare(X[rows])
    left, right = plan.operands(prepared)
    size = len(rows)
    slots = np.arange(size, dtype=np.int64)
    # Largest tile columns first, dealt out in turn: about equal work per thread.
    columns = list(range(0, size, TILE_ROWS))[::-1]
    probes = _probes(plan, start, prepared) if plan.n_probe else []
    threads = max(1, min(n_jobs, len(columns) + len(probes)))

    def work(thread: int) -> tuple[np.ndarray, np.ndarray]:
        if threads > 1:
            numba.set_num_threads(1)  # per calling thread
        keys = np.full((size, plan.k), kernels.EMPTY_KEY, dtype=np.float32)
        ids = np.full((size, plan.k), -1, dtype=np.int32)
        for j in columns[thread::threads]:
            b = slice(j, min(size, j + TILE_ROWS))
            # The diagonal tile first: its rows' heaps then hold near candidates, so the
            # tiles after it offer them few keys that pass the root.
            for i in [j, *range(0, j, TILE_ROWS)]:
                a = slice(i, min(size, i + TILE_ROWS))
                tile = left[a] @ right[b].T
                kernels.update_rows(tile, slots[a], rows[b], keys, ids, i == j)
                if i != j:
                    kernels.update_columns(tile, rows[a], slots[b], keys, ids)
        for lst, part in probes[thread::threads]:
            members = plan.order[plan.list_offsets[lst] : plan.list_offsets[lst + 1]]
            _, other = plan.operands(plan.prepare(X[members]), "right")
            kernels.update_rows(left[part] @ other.T, part, members, keys, ids, False)
        return keys, ids

    if threads == 1:
        keys, ids = work(0)
    else:
        with threadpool_limits(1), ThreadPoolExecutor(max_workers=threads) as pool:
            (keys, ids), *others = pool.map(work, range(threads))
        for other_keys, other_ids in others:
            kernels.merge(keys, ids, other_keys, other_ids)
    if (ids < 0).any():
        raise RuntimeError("a block found fewer than k candidates for a row; the plan is inconsistent")
    return rows, *_exact_distances(X, plan, rows, prepared, ids)


def build_graph(
    X: np.ndarray,
    k: int,
    metric: str = "euclidean",
    random_state: int | None = 0,
    max_block_rows: int = MAX_BLOCK_ROWS,
    out: tuple[np.ndarray, np.ndarray] | None = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Plan and build every block in this process; returns (indices, distances).

    `out` may hold preallocated (n, k) int32 and float32 arrays (memory maps, say) to fill.
    `n_jobs` threads (None: one per core) each build whole blocks on one core, as separate
    workers would; with fewer blocks than threads, they share out each block's tiles. (One
    thread per task beats every core on each tile: the BLAS and Numba thread pools would take
    turns, waking and spinning, on every tile.)
    """
    threads = n_jobs if n_jobs is not None and n_jobs > 0 else os.cpu_count() or 1
    plan = plan_graph(X, k, metric, random_state, max_block_rows, n_jobs=threads)
    n = X.shape[0]
    if out is None:
        out = np.empty((n, k), dtype=np.int32), np.empty((n, k), dtype=np.float32)
    indices, distances = out
    blocks = sorted(plan.blocks, key=lambda block: block[0] - block[1])  # largest first

    def run(block: tuple[int, int], block_threads: int) -> None:
        if block_threads == 1:
            numba.set_num_threads(1)  # per calling thread
        rows, block_indices, block_distances = build_block(X, plan, *block, n_jobs=block_threads)
        indices[rows] = block_indices
        distances[rows] = block_distances

    if threads == 1 or len(blocks) < threads:
        for block in blocks:
            run(block, threads)
    else:
        # Whole blocks on separate threads, one core each, as separate workers would.
        with threadpool_limits(1), ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, blocks, [1] * len(blocks)))
    return indices, distances


def _exact_distances(
    X: np.ndarray, plan: GraphPlan, rows: np.ndarray, prepared: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The heaps' neighbours with exact distances, nearest first (ties by index)."""
    by_row = np.argsort(rows, kind="stable")
    sorted_rows = rows[by_row]
    place = np.minimum(np.searchsorted(sorted_rows, ids), len(rows) - 1)
    inside = sorted_rows[place] == ids
    slots = np.where(inside, by_row[place], -1).astype(np.int64)
    others = np.unique(ids[~inside])
    if len(others):
        slots[~inside] = len(rows) + np.searchsorted(others, ids[~inside])
        prepared = np.concatenate([prepared, plan.prepare(X[others])])
    return kernels.finish(prepared, slots, ids, plan.metric == "cosine")


def _probes(plan: GraphPlan, start: int, prepared: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(list, block slots) for each list of another block that some of the block's rows probe:
    each row probes its `n_probe` nearest, in pieces of at most `TILE_ROWS` slots."""
    block = int(plan.list_block[np.searchsorted(plan.list_offsets, start, side="right") - 1])
    excluded = plan.list_block == block
    n_probe = min(plan.n_probe, int((~excluded).sum()))
    c_terms = np.einsum("ij,ij->i", plan.centroids, plan.centroids).astype(np.float32)
    nearest = np.empty((len(prepared), n_probe), dtype=np.int32)
    for i in range(0, len(prepared), TILE_ROWS):
        tile = c_terms[None, :] - np.float32(2.0) * (prepared[i : i + TILE_ROWS] @ plan.centroids.T)
        nearest[i : i + len(tile)] = kernels.smallest(tile, excluded, n_probe)
    flat = nearest.ravel()
    by_list = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[by_list], np.arange(len(plan.centroids) + 1))
    pieces = []
    for lst in range(len(plan.centroids)):
        slots = (by_list[bounds[lst] : bounds[lst + 1]] // n_probe).astype(np.int64)
        pieces += [(lst, slots[i : i + TILE_ROWS]) for i in range(0, len(slots), TILE_ROWS)]
    return pieces


def _scan(X: np.ndarray, plan: GraphPlan, centroids: np.ndarray, sample: np.ndarray, k: int, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass over `X`: the nearest centroid of every row, and the exact k nearest rows of each
    `sample` row (itself excluded). Threads take chunks, with heaps of their own merged at the end."""
    n = plan.n_samples
    labels = np.empty(n, dtype=np.int32)
    to_centroids = np.float32(-2.0) * centroids.T
    c_terms = np.einsum("ij,ij->i", centroids, centroids).astype(np.float32)
    left, _ = plan.operands(plan.prepare(X[sample]), "left")
    slots = np.arange(len(sample), dtype=np.int64)
    starts = list(range(0, n, 16384))
    threads = max(1, min(n_jobs, len(starts)))

    def work(thread: int) -> tuple[np.ndarray, np.ndarray]:
        if threads > 1:
            numba.set_num_threads(1)  # per calling thread
        keys = np.full((len(sample), k), kernels.EMPTY_KEY, dtype=np.float32)
        ids = np.full((len(sample), k), -1, dtype=np.int32)
        for start in starts[thread::threads]:
            prepared = plan.prepare(X[start : start + 16384])
            stop = start + len(prepared)
            to_lists = prepared @ to_centroids
            to_lists += c_terms
            labels[start:stop] = np.argmin(to_lists, axis=1)
            tile = left @ plan.operands(prepared, "right")[1].T
            inside = (sample >= start) & (sample < stop)
            tile[np.flatnonzero(inside), sample[inside] - start] = kernels.EMPTY_KEY
            kernels.update_rows(tile, slots, np.arange(start, stop, dtype=np.int32), keys, ids, False)
        return keys, ids

    if threads == 1:
        return labels, work(0)[1]
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=threads) as pool:
        (keys, ids), *others = pool.map(work, range(threads))
    for other_keys, other_ids in others:
        kernels.merge(keys, ids, other_keys, other_ids)
    return labels, ids


def _choose_probes(plan: GraphPlan, queries: np.ndarray, query_lists: np.ndarray, truth_lists: np.ndarray, target: float) -> int:
    """Fewest lists outside its block a row must probe so that, on a sample, `target` of the
    true nearest neighbours (in lists `truth_lists`) are in the row's block or in those lists."""
    own_block = plan.list_block[query_lists]
    same = plan.list_block[truth_lists] == own_block[:, None]
    c_terms = np.einsum("ij,ij->i", plan.centroids, plan.centroids)
    key = c_terms[None, :] - 2.0 * (queries @ plan.centroids.T)
    key[plan.list_block[None, :] == own_block[:, None]] = np.inf
    rank = np.empty(key.shape, dtype=np.int64)
    np.put_along_axis(rank, np.argsort(key, axis=1, kind="stable"), np.arange(key.shape[1])[None, :], axis=1)
    needed = np.where(same, 0, np.take_along_axis(rank, truth_lists, axis=1) + 1)
    return int(np.ceil(np.quantile(needed, target, method="higher")))


def _mean(X: np.ndarray) -> np.ndarray:
    """Column means of up to 65,536 evenly spaced rows: a centre for precision, not a statistic."""
    rows = np.asarray(X[:: max(1, X.shape[0] // 65536)])
    return rows.mean(axis=0, dtype=np.float64).astype(np.float32)

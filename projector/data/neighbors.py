"""Nearest neighbours in the original space, over the memory-mapped tensor.

Exact search is BLAS products over every row: candidates chosen with float32 scores, then
re-ranked with float64 distances, so the order and distances are those of exact arithmetic.
Large datasets get a compact int8 copy per metric (reducers.quantized), built in the
background after upload or on the first lookup: a lookup scans it (a quarter of the bytes)
for a few times k candidates and re-ranks those exactly on the float32 rows. Until the copy
is ready a cached kNN graph answers, else the exact scan.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from projector.data.graphs import graph_row
from projector.data.store import Store
from projector.errors import InvalidParameter
from reducers.knn import METRICS
from reducers.quantized import QuantizedIndex, code_terms, encode, value_range

CHUNK_ROWS = 65536
RERANK_MARGIN = 16  # extra float32 candidates re-ranked in float64, for near-ties
APPROXIMATE_FROM = 200_000  # rows from which the int8 copy (or a cached kNN graph) answers instead of a full scan
CANDIDATES_PER_K = 4  # the int8 scan keeps 4k + 16 rows for exact re-ranking (recall in benchmarks/bench_neighbors.py)
COMPACT_MAX_K = 1000  # above this the scan's candidate heaps grow large: a larger k scans exactly
RETRY_SECONDS = 60.0  # after a failed build of the int8 copy, lookups scan exactly this long before it is tried again

log = logging.getLogger(__name__)
_building: set[tuple[Path, str]] = set()
_failed: dict[tuple[Path, str], float] = {}  # when a build last failed
_building_lock = threading.Lock()


def _build_unit(X: np.ndarray, dest: Path) -> None:
    out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=X.shape)
    for start in range(0, X.shape[0], CHUNK_ROWS):
        chunk = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out[start : start + len(chunk)] = chunk / norms
    out.flush()


def _build_sq_norms(X: np.ndarray, dest: Path) -> None:
    out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=(X.shape[0],))
    for start in range(0, X.shape[0], CHUNK_ROWS):
        chunk = np.asarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
        out[start : start + len(chunk)] = np.einsum("ij,ij->i", chunk, chunk)
    out.flush()


def check_k(k: int, n: int) -> int:
    if not 1 <= k <= n - 1:
        raise InvalidParameter(f"`k` must be between 1 and {n - 1} (the other points of the dataset), got {k}")
    return k


def nearest(store: Store, dataset_id: str, index: int, k: int, metric: str, exact: bool = False) -> tuple[list[tuple[int, float]], bool]:
    """The k nearest other points of row `index`, nearest first, as (row, distance); and whether exact.

    Unless `exact`, datasets of `APPROXIMATE_FROM` rows or more answer from their int8 copy
    (exact re-ranking of its best candidates) once it is built, meanwhile from a cached kNN
    graph with enough neighbours (built for t-SNE or UMAP), and else by the exact scan.
    """
    if metric not in METRICS:
        raise InvalidParameter(f"`metric` must be one of {list(METRICS)}, got {metric!r}")
    X = store.tensor(dataset_id)
    n = X.shape[0]
    if not 0 <= index < n:
        raise InvalidParameter(f"`index` must be between 0 and {n - 1}, got {index}")
    check_k(k, n)
    if not exact and n >= APPROXIMATE_FROM and k <= COMPACT_MAX_K:
        compact = compact_copy(store, dataset_id, metric)
        if compact is not None:
            rows, distances = compact.search(X[index : index + 1], k, np.array([index]), CANDIDATES_PER_K * k + 16)
            return [(int(i), float(d)) for i, d in zip(rows[0], distances[0])], False
        row = graph_row(store.files(dataset_id), metric, k, index)
        if row is not None:
            return [(int(i), float(d)) for i, d in zip(*row)], False
    return _exact(store, dataset_id, X, index, k, metric), True


def compact_copy(store: Store, dataset_id: str, metric: str, wait: bool = False) -> QuantizedIndex | None:
    """The dataset's int8 copy for `metric`, memory-mapped; None while it is being built.

    Starts building it in a background thread if it is neither built nor being built
    (`wait`: build it in this thread instead and return it).
    """
    files = store.files(dataset_id)
    names = _compact_names(metric)
    if not files.derived(names[-1]).exists():
        if wait:
            _build_compact(store, dataset_id, metric)
        else:
            prepare_lookups(store, dataset_id, metric)
            return None
    X = store.tensor(dataset_id)
    offset_scale, codes, terms = (store.derived(dataset_id, name, _missing) for name in names)
    return QuantizedIndex(metric, X, codes, np.asarray(offset_scale[0]), np.asarray(offset_scale[1]), np.asarray(terms))


def prepare_lookups(store: Store, dataset_id: str, metric: str = "cosine") -> None:
    """Build the int8 copy of a dataset of `APPROXIMATE_FROM` rows or more in a background thread, once."""
    files = store.files(dataset_id)
    key = (files.folder, metric)
    if files.derived(_compact_names(metric)[-1]).exists() or store.tensor(dataset_id).shape[0] < APPROXIMATE_FROM:
        return
    with _building_lock:
        if key in _building or time.monotonic() < _failed.get(key, -RETRY_SECONDS) + RETRY_SECONDS:
            return
        _building.add(key)

    def build() -> None:
        try:
            _build_compact(store, dataset_id, metric)
        except Exception:  # a dataset deleted meanwhile, a full disk: lookups keep scanning exactly
            log.exception("building the int8 copy of dataset %s (%s) failed", dataset_id, metric)
            with _building_lock:
                _failed[key] = time.monotonic()
        finally:
            with _building_lock:
                _building.discard(key)

    threading.Thread(target=build, name=f"int8-copy-{dataset_id}", daemon=True).start()


def _compact_names(metric: str) -> tuple[str, str, str]:
    """Derived files of the int8 copy: (offset and scale, codes, terms); the last one written marks it complete."""
    return f"int8-{metric}-range", f"int8-{metric}-codes", f"int8-{metric}-terms"


def _build_compact(store: Store, dataset_id: str, metric: str) -> None:
    X = store.tensor(dataset_id)
    range_name, codes_name, terms_name = _compact_names(metric)

    def write_range(dest: Path) -> None:
        out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=(2, X.shape[1]))
        out[:] = value_range(X, metric)
        out.flush()

    offset, scale = store.derived(dataset_id, range_name, write_range)

    def write_codes(dest: Path) -> None:
        out = np.lib.format.open_memmap(dest, mode="w+", dtype="i1", shape=X.shape)
        encode(X, metric, offset, scale, out)
        out.flush()

    codes = store.derived(dataset_id, codes_name, write_codes)

    def write_terms(dest: Path) -> None:
        out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=(X.shape[0],))
        out[:] = code_terms(codes, scale)
        out.flush()

    store.derived(dataset_id, terms_name, write_terms)


def _missing(dest: Path) -> None:
    raise FileNotFoundError(f"{dest.name}: the int8 copy is incomplete")


MAX_VECTOR_K = 1000
SCORE_BLOCK = 1 << 22  # float32 scores held at once by a vector query (16 MiB)


def nearest_to_vectors(store: Store, dataset_id: str, queries: np.ndarray, k: int, metric: str) -> list[list[tuple[int, float]]]:
    """For each query vector (m × dim float32, finite), its k nearest rows as (row, distance), nearest first.

    An exact scan in row blocks (memory stays bounded); distances in float64 as for `nearest`.
    The query is any vector, so no row is left out.
    """
    if metric not in METRICS:
        raise InvalidParameter(f"`metric` must be one of {list(METRICS)}, got {metric!r}")
    X = store.tensor(dataset_id)
    n = X.shape[0]
    if not 1 <= k <= min(n, MAX_VECTOR_K):
        raise InvalidParameter(f"`k` must be between 1 and {min(n, MAX_VECTOR_K)}, got {k}")
    Q = np.asarray(queries, dtype=np.float64)
    if metric == "cosine":
        base = store.derived(dataset_id, "unit", lambda dest: _build_unit(X, dest))
        Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    else:
        base = X
        sq = store.derived(dataset_id, "sqnorm", lambda dest: _build_sq_norms(X, dest))
    Q32 = Q.astype(np.float32)
    m = Q.shape[0]
    wanted = min(n, k + RERANK_MARGIN)
    best_keys = np.full((m, 0), np.inf, dtype=np.float32)
    best_rows = np.zeros((m, 0), dtype=np.int64)
    block = max(1024, SCORE_BLOCK // max(m, 1))
    for start in range(0, n, block):
        products = Q32 @ np.asarray(base[start : start + block]).T  # m × rows
        keys = -products if metric == "cosine" else sq[start : start + block][None, :] - 2.0 * products
        keys, rows = _smallest(keys, np.broadcast_to(np.arange(start, start + keys.shape[1]), keys.shape), wanted)
        best_keys, best_rows = _smallest(np.hstack([best_keys, keys]), np.hstack([best_rows, rows]), wanted)
    results = []
    for query, candidates in zip(Q, best_rows):
        candidates = np.sort(candidates)
        vectors = np.asarray(base[candidates], dtype=np.float64)
        if metric == "cosine":
            distances = np.maximum(1.0 - vectors @ query, 0.0)  # rounding can dip below 0 for a query equal to a row
        else:
            distances = np.sqrt(np.maximum(np.square(vectors - query).sum(axis=1), 0.0))
        order = np.lexsort((candidates, distances))[:k]
        results.append([(int(candidates[i]), float(distances[i])) for i in order])
    return results


def _smallest(keys: np.ndarray, rows: np.ndarray, wanted: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query (row of `keys`), the `wanted` smallest keys and their rows, unordered."""
    if keys.shape[1] <= wanted:
        return keys, rows
    keep = np.argpartition(keys, wanted - 1, axis=1)[:, :wanted]
    return np.take_along_axis(keys, keep, axis=1), np.take_along_axis(rows, keep, axis=1)


def _exact(store: Store, dataset_id: str, X: np.ndarray, index: int, k: int, metric: str) -> list[tuple[int, float]]:
    n = X.shape[0]
    if metric == "cosine":
        base = store.derived(dataset_id, "unit", lambda dest: _build_unit(X, dest))
        scores = base @ base[index]
        scores[index] = -np.inf
        order_key = -scores
    else:
        base = X
        sq = store.derived(dataset_id, "sqnorm", lambda dest: _build_sq_norms(X, dest))
        order_key = sq - 2.0 * (X @ X[index])
        order_key[index] = np.inf
    wanted = min(n - 1, k + RERANK_MARGIN)
    candidates = np.argpartition(order_key, wanted - 1)[:wanted] if wanted < n else np.arange(n)
    candidates = candidates[candidates != index]
    rows = np.asarray(base[np.sort(candidates)], dtype=np.float64)
    candidates = np.sort(candidates)
    query = np.asarray(base[index], dtype=np.float64)
    if metric == "cosine":
        distances = 1.0 - rows @ query
    else:
        distances = np.sqrt(np.maximum(np.square(rows - query).sum(axis=1), 0.0))
    order = np.lexsort((candidates, distances))[:k]
    return [(int(candidates[i]), float(distances[i])) for i in order]

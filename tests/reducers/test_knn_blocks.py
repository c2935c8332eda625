"""reducers.knn_blocks: the block graph against brute force, block by block against one call."""

from __future__ import annotations

import numpy as np
import pytest

import reducers.knn_blocks as kb
from reducers._partition import group_lists
from reducers.knn import knn_graph
from reducers.knn_blocks import GraphPlan, build_block, build_graph, plan_graph


def naive_knn(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    X = X.astype(np.float64)
    if metric == "euclidean":
        D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    else:
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        D = 1.0 - U @ U.T
    np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, axis=1)


def mixture(n: int, d: int, clusters: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)) * 4
    return (centres[rng.integers(0, clusters, n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_one_block_is_exact(metric):
    X = np.random.default_rng(0).normal(size=(400, 12)).astype(np.float32)
    indices, distances = build_graph(X, 10, metric)
    ref_idx, ref_dist = naive_knn(X, 10, metric)
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    np.testing.assert_array_equal(indices, ref_idx)
    np.testing.assert_allclose(distances, ref_dist, rtol=1e-6, atol=1e-7)


def test_duplicates_are_nearest():
    base = np.random.default_rng(1).normal(size=(50, 6)).astype(np.float32)
    X = np.concatenate([base, base, base])  # every point has two exact copies
    indices, distances = build_graph(X, 5, "euclidean")
    rows = np.arange(150)
    copies = np.sort(indices[:, :2], axis=1)
    expected = np.sort(np.stack([(rows + 50) % 150, (rows + 100) % 150], axis=1), axis=1)
    np.testing.assert_array_equal(copies, expected)
    np.testing.assert_array_equal(distances[:, :2], 0.0)
    np.testing.assert_array_equal(np.sort(indices[:, 2:], axis=1), np.sort(naive_knn(X, 5, "euclidean")[0][:, 2:], axis=1))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_blocks_in_any_order_equal_one_call(metric, tmp_path):
    X = mixture(3000, 16, 6)
    whole = build_graph(X, 12, metric, random_state=3, max_block_rows=700)
    plan = plan_graph(X, 12, metric, random_state=3, max_block_rows=700)
    assert len(plan.blocks) > 3
    plan.save(tmp_path / "plan.npz")
    loaded = GraphPlan.load(tmp_path / "plan.npz")
    # As separate tasks would: a memory-mapped tensor, blocks in reverse order, rows written into .npy maps.
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    indices = np.lib.format.open_memmap(tmp_path / "i.npy", mode="w+", dtype=np.int32, shape=(3000, 12))
    distances = np.lib.format.open_memmap(tmp_path / "d.npy", mode="w+", dtype=np.float32, shape=(3000, 12))
    for start, stop in reversed(loaded.blocks):
        rows, block_indices, block_distances = build_block(X_map, loaded, start, stop)
        indices[rows] = block_indices
        distances[rows] = block_distances
    np.testing.assert_array_equal(indices, whole[0])
    np.testing.assert_array_equal(distances, whole[1])


def test_tile_size_changes_only_rounding(monkeypatch):
    # BLAS rounds a dot product differently by its place in a tile: distances may move in the
    # last bits, and neighbours closer than that may swap; nothing else changes.
    X = mixture(1500, 10, 3)
    before = build_graph(X, 8, "euclidean")
    monkeypatch.setattr(kb, "TILE_ROWS", 96)
    after = build_graph(X, 8, "euclidean")
    assert (before[0] == after[0]).mean() > 0.999
    np.testing.assert_allclose(before[1], after[1], rtol=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_many_blocks_recall(metric):
    X = mixture(4000, 24, 10, seed=2)
    plan = plan_graph(X, 10, metric, max_block_rows=800)
    assert len(plan.blocks) >= 5
    indices, distances = build_graph(X, 10, metric, max_block_rows=800)
    ref_idx, _ = naive_knn(X, 10, metric)
    recall = np.mean([len(np.intersect1d(a, b)) for a, b in zip(indices, ref_idx)]) / 10
    assert recall >= 0.95
    assert not (indices == np.arange(4000)[:, None]).any()
    assert (np.diff(distances, axis=1) >= 0).all()


def test_probes_are_chosen_when_blocks_cut_through_neighbourhoods():
    # One Gaussian blob cut into blocks: neighbours cross block borders, so lists must be probed.
    X = np.random.default_rng(4).normal(size=(3000, 8)).astype(np.float32)
    plan = plan_graph(X, 10, "euclidean", max_block_rows=600)
    assert plan.n_probe > 0
    indices, _ = build_graph(X, 10, "euclidean", max_block_rows=600)
    ref_idx, _ = naive_knn(X, 10, "euclidean")
    assert np.mean([len(np.intersect1d(a, b)) for a, b in zip(indices, ref_idx)]) / 10 >= 0.95


def test_large_k_falls_back_to_one_block():
    X = mixture(1000, 6, 3)
    plan = plan_graph(X, 60, "euclidean", max_block_rows=200)
    assert plan.blocks == [(0, 1000)]
    _, distances = build_graph(X, 60, "euclidean", max_block_rows=200)
    # Exact up to float32 rounding: neighbours at equal distances may swap.
    np.testing.assert_allclose(distances, naive_knn(X, 60, "euclidean")[1], rtol=1e-5)


def test_group_lists_cover_every_list_once_within_bounds():
    rng = np.random.default_rng(5)
    centroids = rng.normal(size=(200, 5)).astype(np.float32)
    sizes = rng.integers(1, 60, 200)
    groups = group_lists(centroids, sizes, max_rows=900, min_rows=200)
    flat = np.concatenate(groups)
    np.testing.assert_array_equal(np.sort(flat), np.arange(200))
    totals = [int(sizes[g].sum()) for g in groups]
    assert max(totals) <= 900 and len(groups) > 1


def test_knn_graph_blocks_method():
    X = mixture(600, 8, 3)
    graph = knn_graph(X, 7, method="blocks", random_state=0)
    np.testing.assert_array_equal(graph.indices, knn_graph(X, 7, method="exact").indices)


@pytest.mark.parametrize("max_block_rows", [700, 65536])
def test_threads_do_not_change_the_graph(max_block_rows):
    # Blocks spread over threads, or one block's tiles over threads with heaps merged at the end.
    X = mixture(3000, 12, 5, seed=6)
    one = build_graph(X, 9, "cosine", max_block_rows=max_block_rows, n_jobs=1)
    three = build_graph(X, 9, "cosine", max_block_rows=max_block_rows, n_jobs=3)
    np.testing.assert_array_equal(one[0], three[0])
    np.testing.assert_array_equal(one[1], three[1])

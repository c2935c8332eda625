"""reducers.tsne.threads: the thread count follows measured iteration times and never changes the layout."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from reducers import TSNE
from reducers.tsne import threads as threads_module
from reducers.tsne.threads import ThreadChooser


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def run(chooser: ThreadChooser, clock: FakeClock, seconds_for: dict[int, float], iterations: int) -> list[int]:
    used = []
    for _ in range(iterations):
        t = chooser.start()
        used.append(t)
        clock.now += seconds_for[t]
        chooser.stop()
    chooser.restore()
    return used


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
@pytest.mark.parametrize("fast", [1, 2])
def test_settles_on_the_faster_thread_count(monkeypatch, fast):
    clock = FakeClock()
    monkeypatch.setattr(threads_module, "time", clock)
    slow = 3 - fast
    used = run(ThreadChooser(2), clock, {fast: 0.001, slow: 0.005}, 600)
    assert used[-100:].count(fast) >= 99
    # The other choice is retried now and then, less and less often.
    assert 3 <= used.count(slow) <= 15


def test_one_worker_never_probes():
    before = numba.get_num_threads()
    chooser = ThreadChooser(1)
    assert {chooser.start() for _ in range(50)} == {1}
    chooser.restore()
    assert numba.get_num_threads() == before


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
@pytest.mark.parametrize("n", [300, 5000])
def test_layout_does_not_depend_on_threads(n):
    # 300 points take the exact sum, 5,000 the quadtree or the grid.
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(n, 8)) + rng.integers(0, 4, n)[:, None] * 4).astype(np.float32)
    one = TSNE(n_iter=60, exaggeration_iter=30, random_state=0, n_jobs=1).fit_transform(X)
    two = TSNE(n_iter=60, exaggeration_iter=30, random_state=0, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(one, two)

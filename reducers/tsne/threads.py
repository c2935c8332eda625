"""How many threads each t-SNE iteration runs on, chosen by timing the iterations themselves.

A parallel loop ends in a barrier that waits for its slowest thread. On a machine whose
cores are busy with other work, a thread can wait a whole scheduler slice (milliseconds) for
its turn, so a small layout's iteration, ~1 ms of work on one core, can take 5x longer on
two threads than on one (measured on digits at load 14 on 2 cores); on idle cores the
same iteration is twice as fast on two. Neither choice holds everywhere, so the optimiser
keeps running averages of the seconds per iteration on one thread and on all of them, tries
the other choice now and then, and runs on the faster. The layout does not depend on the
choice: every parallel kernel writes only its own rows and sums in a fixed order.
"""

from __future__ import annotations

import time

import numba

__all__ = ["ThreadChooser"]


class ThreadChooser:
    """Picks 1 or `workers` threads per iteration from measured iteration times.

    Parameters
    ----------
    workers : int
        Threads allowed; 1 disables the choice.
    first_probe : int
        Iterations before the other choice is first tried; the gap doubles after every trial
        up to `max_gap`, so a settled choice costs little.
    max_gap : int
    smoothing : float
        Weight of the newest time in each running average.
    """

    def __init__(self, workers: int, first_probe: int = 4, max_gap: int = 128, smoothing: float = 0.3) -> None:
        self.choices = (max(1, min(workers, numba.config.NUMBA_NUM_THREADS)), 1)
        self.current = 0
        self.avg: list[float | None] = [None, None]
        self.smoothing = smoothing
        self.next_probe = first_probe
        self.gap = first_probe
        self.max_gap = max_gap
        self.iteration = 0
        self._index = 0
        self._start = 0.0
        self._before = numba.get_num_threads()

    def start(self) -> int:
        """Set Numba's thread count for the next iteration and return it."""
        self.iteration += 1
        probing = self.choices[0] > 1 and self.iteration >= self.next_probe
        self._index = 1 - self.current if probing else self.current
        threads = self.choices[self._index]
        numba.set_num_threads(threads)
        self._start = time.perf_counter()
        return threads

    def stop(self) -> None:
        """Record the iteration's time; switch when the other choice has been faster."""
        seconds = time.perf_counter() - self._start
        if self.choices[0] == 1 or self.iteration == 1:
            return  # the first iteration allocates the workspace and loads kernels
        old = self.avg[self._index]
        self.avg[self._index] = seconds if old is None else (1 - self.smoothing) * old + self.smoothing * seconds
        if self._index != self.current:
            self.gap = min(2 * self.gap, self.max_gap)
            self.next_probe = self.iteration + self.gap
            other, mine = self.avg[self._index], self.avg[self.current]
            if other is not None and (mine is None or other < mine):
                self.current = self._index

    def restore(self) -> None:
        """Give Numba back the thread count it had before."""
        numba.set_num_threads(self._before)

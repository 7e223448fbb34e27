"""One gate for every request to arXiv: one at a time, a fixed pause between them, a run's deadline.

arXiv's terms ask for no more than one request every three seconds from a client, across
the API and the listing feeds together, so both go through the same limiter. The limiter
also holds the run's total deadline, so every request and every wait can be cut to what is left.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Limiter:
    """At most one request in flight, and `interval` seconds from one's end to the next one's start.

    `deadline`: seconds from now after which the run must stop (None: no limit).
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, deadline: float | None = None) -> None:
        self.interval = max(0.0, interval)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_end: float | None = None
        self._end = None if deadline is None else clock() + deadline

    def remaining(self) -> float:
        """Seconds left before the run's deadline (infinite without one)."""
        return math.inf if self._end is None else self._end - self._clock()

    def cap(self, seconds: float) -> float:
        """`seconds`, or less when the run's deadline comes first."""
        return max(0.0, min(seconds, self.remaining()))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold the only slot for one request, waiting out the pause after the previous one."""
        with self._lock:
            if self._last_end is not None:
                wait = min(self._last_end + self.interval - self._clock(), self.remaining())
                if wait > 0:
                    self._sleep(wait)
            try:
                yield
            finally:
                self._last_end = self._clock()

"""One gate for every request to arXiv: one at a time, a fixed pause between them.

arXiv's terms ask for no more than one request every three seconds from a client, across
the API and the listing feeds together, so both go through the same limiter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Limiter:
    """At most one request in flight, and `interval` seconds from one's end to the next one's start."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = max(0.0, interval)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_end: float | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold the only slot for one request, waiting out the pause after the previous one."""
        with self._lock:
            if self._last_end is not None:
                wait = self._last_end + self.interval - self._clock()
                if wait > 0:
                    self._sleep(wait)
            try:
                yield
            finally:
                self._last_end = self._clock()

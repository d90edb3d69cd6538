"""The emulator's settable test clock."""

from __future__ import annotations

import threading
from collections.abc import Callable


class FakeClock:
    """A settable clock for tests: ``clock()`` reads it, ``clock.advance(s)`` moves it forward.

    An emulator built with a FakeClock delivers the webhooks that became due inside ``advance``
    (synchronously, before it returns), so tests can assert on them straight after.

    Example:
        >>> clock = FakeClock(start=100.0)
        >>> clock.advance(2.5)
        102.5
        >>> clock()
        102.5
    """

    def __init__(self, start: float = 1767119745.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], object]] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a FakeClock only moves forward")
        with self._lock:
            self._now += seconds
            now = self._now
        for listener in list(self._listeners):
            listener()
        return now

    def add_listener(self, listener: Callable[[], object]) -> None:
        """Call ``listener()`` after every :meth:`advance`."""
        self._listeners.append(listener)

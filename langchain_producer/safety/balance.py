"""The balance check before a paid call: ``ProducerToolkit(min_balance=...)``.

One ``BalanceGuard`` per toolkit, shared by its paid tools. Right before a paid request is sent
(after approval, before the spending limit reserves a place, never for a call the journal
resumes), the guard compares the application's remaining amount with ``min_balance`` and
refuses the call below it (``BalanceTooLowError``): nothing is sent, nothing counts.

What it learns is kept for ``interval`` seconds and shared by every tool, thread and event loop
of the toolkit: 50 paid calls in a row make one balance request per interval, not 50. The cached
amount does not see what the calls since cost (real prices are only in the AceDataCloud
console); the service's own ``403 used_up`` still stops a submission when the balance is gone.

When the balance cannot be read (platform API down, token refused, an unreadable answer), the
``when_unknown`` setting decides, and the outcome says which: ``"refuse"`` (default) raises
``BalanceUnknownError`` naming why; ``"proceed"`` sends the call and logs a warning that it went
ahead without a balance. A failed read is cached for the interval too, so a platform that is
down is not asked again on every call.

The guard only compares numbers: it is handed the client's ``balance``/``abalance`` readers, so
this module imports nothing but the vocabulary.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from langchain_producer.errors import BalanceTooLowError, BalanceUnknownError, ProducerError

logger = logging.getLogger("langchain_producer")

WhenUnknown = Literal["refuse", "proceed"]


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    remaining: float | None
    failure: str | None  # why the balance could not be read


class BalanceGuard:
    """Refuses paid calls while the remaining balance is below ``min_balance``.

    Args:
        min_balance: The threshold in Credits (a paid call goes ahead at or above it).
        read: Reads the remaining amount, blocking (e.g. ``lambda: client.balance().remaining``).
        aread: The same on the running event loop.
        interval: Seconds a reading is used before the balance is read again (0: every call).
        when_unknown: ``"refuse"`` or ``"proceed"`` when the balance cannot be read.
        clock: A monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        min_balance: float,
        read: Callable[[], float],
        aread: Callable[[], Awaitable[float]],
        interval: float = 30.0,
        when_unknown: WhenUnknown = "refuse",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_balance = min_balance
        self.interval = interval
        self.when_unknown: WhenUnknown = when_unknown
        self._read, self._aread, self._clock = read, aread, clock
        self._lock = threading.Lock()  # guards _last
        self._reading = threading.Lock()  # one blocking read at a time
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._last: _Reading | None = None
        self.reads = 0
        """Balance requests made so far (for tests and curious callers)."""

    def __repr__(self) -> str:
        return (
            f"BalanceGuard(min_balance={self.min_balance!r}, interval={self.interval!r}, "
            f"when_unknown={self.when_unknown!r})"
        )

    def check(self) -> None:
        """Go ahead, or raise ``BalanceTooLowError`` / ``BalanceUnknownError`` (blocking)."""
        reading = self._fresh()
        if reading is None:
            with self._reading:
                reading = self._fresh()  # another thread may have read it meanwhile
                if reading is None:
                    reading = self._store(self._attempt(self._read))
        self._decide(reading)

    async def acheck(self) -> None:
        """``check`` on the running event loop (concurrent calls share one read per loop)."""
        reading = self._fresh()
        if reading is None:
            async with self._loop_lock():
                reading = self._fresh()
                if reading is None:
                    reading = self._store(await self._aattempt())
        self._decide(reading)

    # ------------------------------------------------------------------------------------

    def _fresh(self) -> _Reading | None:
        with self._lock:
            last = self._last
        if last is not None and self._clock() - last.at < self.interval:
            return last
        return None

    def _store(self, found: tuple[float | None, str | None]) -> _Reading:
        reading = _Reading(self._clock(), *found)
        with self._lock:
            self._last = reading
            self.reads += 1
        return reading

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._lock:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
        return lock

    @staticmethod
    def _attempt(read: Callable[[], float]) -> tuple[float | None, str | None]:
        try:
            return _checked(read()), None
        except ProducerError as error:
            return None, error.message
        except Exception as error:  # a broken reader must not be taken for a balance
            return None, f"the balance reader failed ({type(error).__name__})"

    async def _aattempt(self) -> tuple[float | None, str | None]:
        try:
            return _checked(await self._aread()), None
        except ProducerError as error:
            return None, error.message
        except Exception as error:
            return None, f"the balance reader failed ({type(error).__name__})"

    def _decide(self, reading: _Reading) -> None:
        if reading.remaining is not None:
            if reading.remaining < self.min_balance:
                raise BalanceTooLowError(remaining=reading.remaining, min_balance=self.min_balance)
            return
        reason = reading.failure or "no reason given"
        if self.when_unknown == "refuse":
            raise BalanceUnknownError(reason)
        logger.warning(
            "Paid call sent without a balance check (when_balance_unknown='proceed'): the "
            "balance could not be read: %s",
            reason,
        )


def _checked(remaining: float) -> float:
    if isinstance(remaining, bool) or not isinstance(remaining, int | float):
        raise ProducerError(f"the balance reader gave {type(remaining).__name__}, not a number")
    if not math.isfinite(remaining):
        raise ProducerError("the balance reader gave a number that is not finite")
    return float(remaining)


def check_min_balance(value: object) -> float | None:
    """``value`` as a ``min_balance``: None (no check) or a finite number >= 0.

    Raises:
        ValueError: Anything else (a bool, a string, NaN, a negative number).
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"min_balance must be a finite number of Credits >= 0, or None (no check), got "
            f"{value!r}"
        )
    return float(value)


__all__ = ["BalanceGuard", "WhenUnknown", "check_min_balance"]

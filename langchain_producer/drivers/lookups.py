"""Look-ups shared by every wait of one client, as coroutines or as threads.

Waits that wake together (the poll schedule aligns their wake-ups on one grid) ask for their
tasks at about the same moment; their ids go out as one ``retrieve_batch`` call instead of one
call each, so a hundred concurrent waits cost about as many requests as one. Coroutines gather
for two turns of the event loop (no time at all); threads woken together gather for as long
as newcomers keep joining (ToolNode runs sync tools in a thread pool), and a lone look-up goes
at once. Both then run the same
plan, ``_polling.look_up``, and hand each waiter its own task or its own copy of the error.

On a busy machine threads wake (and start) tens of milliseconds apart, longer than any
gathering can wait for; so each look-up also asks for the other tasks on the ``Roster`` (those
this client's waits follow) and keeps their records briefly for waits that come a little late,
and a thread's first look, while others run, waits for the poll grid's next tick.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
import time
from typing import TYPE_CHECKING, Protocol, TypeVar

from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.errors import ProducerError
from langchain_producer.models import ProducerTask
from langchain_producer.protocol.polling import Found, look_up

if TYPE_CHECKING:
    from langchain_producer.protocol.retry import RetryPolicy
    from langchain_producer.protocol.steps import Plan

T = TypeVar("T")


class Runner(Protocol):
    """What the shared look-ups need of a driver: to run a look-up plan, sync or async, and
    how many async plans run now (who may ask soon)."""

    retry_policy: RetryPolicy
    async_running: int
    roster_window: tuple[float, float]

    def run(self, plan: Plan[T], /) -> T: ...
    async def arun(self, plan: Plan[T], /) -> T: ...


class _Future(Protocol):
    def done(self) -> bool: ...
    def set_result(self, result: ProducerTask, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...


Waiting = dict[str, list[_Future]]


def _settle(waiting: Waiting, found: Found | BaseException) -> None:
    """Give each waiter its task, or its own copy of the error (each names its own task)."""
    for task_id, futures in waiting.items():
        outcome = found if isinstance(found, BaseException) else found[task_id]
        for future in futures:
            if future.done():  # its waiter was cancelled
                continue
            if isinstance(outcome, ProducerError):
                future.set_exception(outcome.with_task(task_id))
            elif isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


class Roster:
    """The tasks this client's waits are following, and records fetched for them early.

    Every shared look-up also asks for the other followed tasks (filling its batch request),
    and keeps their records for ``fresh`` seconds: a wait woken a little late (a busy machine
    wakes threads tens of milliseconds apart) finds its record instead of sending its own
    request. A wait that stops asking (finished, timed out, cancelled) leaves the roster once
    its task is seen finished, or after ``forget`` seconds. Not thread-safe: its owner locks.
    """

    def __init__(self, fresh: float, forget: float) -> None:
        self.fresh = fresh
        self.forget = forget
        self._asked: dict[str, float] = {}  # followed task id -> when its wait last asked
        self._early: dict[str, tuple[float, ProducerTask]] = {}  # id -> (fetched at, record)

    def newcomer(self, task_id: str) -> bool:
        """Whether ``task_id`` is not followed yet (its wait's first look)."""
        return task_id not in self._asked

    def next_tick(self, now: float) -> float:
        """Seconds to the next tick of the grid the poll schedule wakes waits on."""
        grid = self.fresh / 2
        return math.ceil(now / grid) * grid - now if grid > 0 else 0.0

    def take(self, task_id: str, now: float) -> ProducerTask | None:
        """Note that ``task_id``'s wait asks now; its record if one was fetched for it early
        enough (each record answers one look-up)."""
        self._asked[task_id] = now
        early = self._early.pop(task_id, None)
        if early is None or now - early[0] > self.fresh:
            return None
        if early[1].is_terminal:  # its wait ends with this record: stop following the task
            del self._asked[task_id]
        return early[1]

    def companions(self, asking: list[str], now: float) -> list[str]:
        """Other followed tasks to ask for in the same request (up to a full batch)."""
        if self.fresh <= 0:
            return []
        for task_id in [t for t, at in self._asked.items() if now - at > self.forget]:
            del self._asked[task_id]
        for task_id in [t for t, (at, _) in self._early.items() if now - at > self.fresh]:
            del self._early[task_id]
        room = BATCH_MAX_IDS - len(asking)
        asked = set(asking)
        others = [t for t in self._asked if t not in asked and t not in self._early]
        return others[:room] if room > 0 else []

    def keep(self, found: Found, asking: list[str], now: float) -> None:
        """Keep the records fetched early for others; stop following finished tasks."""
        asked = set(asking)
        for task_id, outcome in found.items():
            if isinstance(outcome, ProducerError):
                continue  # its own wait will ask, and hear of it
            if task_id not in asked:
                self._early[task_id] = (now, outcome)
            elif outcome.is_terminal:
                self._asked.pop(task_id, None)


def _only(found: Found) -> ProducerTask:
    """The one task a lone look-up asked for, or its error (as ``_settle`` would give it)."""
    [(task_id, outcome)] = found.items()
    if isinstance(outcome, ProducerError):
        raise outcome.with_task(task_id)
    return outcome


class AsyncLookups:
    """The shared look-ups of one event loop."""

    gather_turns = 2
    """Event-loop turns to let other due waits join before sending."""

    def __init__(self, driver: Runner) -> None:
        self._driver = driver
        self._waiting: dict[str, list[_Future]] = {}
        self._flush: asyncio.Task[None] | None = None
        self._roster = Roster(*driver.roster_window)

    async def get(self, task_id: str) -> ProducerTask:
        early = self._roster.take(task_id, time.monotonic())
        if early is not None:
            return early
        if self._flush is None and self._driver.async_running <= 1:
            # Alone (no other coroutine runs a plan of this client): no one can join, so no
            # future and no task to gather them, ~20 us a call.
            found = await self._driver.arun(look_up([task_id], self._driver.retry_policy))
            self._roster.keep(found, [task_id], time.monotonic())
            return _only(found)
        future: asyncio.Future[ProducerTask] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(task_id, []).append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._send())
        return await future

    async def _send(self) -> None:
        # Alone (no other coroutine runs a plan of this client), no one can join: the turns
        # would only cost a lone look-up ~100 us.
        if self._driver.async_running > 1 or len(self._waiting) > 1:
            for _ in range(self.gather_turns):
                await asyncio.sleep(0)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        policy, asking = self._driver.retry_policy, list(waiting)
        ids = asking + self._roster.companions(asking, time.monotonic())
        try:
            found = await self._driver.arun(look_up(ids, policy))
        except BaseException as error:  # every waiter must hear of it, whatever it is
            _settle(waiting, error)
            raise
        self._roster.keep(found, asking, time.monotonic())
        _settle(waiting, found)


class ThreadLookups:
    """The shared look-ups of every thread that waits on one client.

    The first thread to ask leads. It lets the threads woken with it register (a lone
    look-up goes at once; while others keep joining it waits until ``quiet`` seconds pass
    without a newcomer, at most ``gather_max``), sends one look-up for all, and settles
    everyone; threads that ask while it is in flight go together in its next one.
    """

    quiet = 0.01
    gather_max = 0.1

    def __init__(self, driver: Runner) -> None:
        self._driver = driver
        self._lock = threading.Lock()
        self._waiting: dict[str, list[_Future]] = {}
        self._leading = False
        self._running = 0  # sync plans of this client running now: who may ask soon
        self._roster = Roster(*driver.roster_window)

    def enter(self) -> None:
        """A thread starts running a plan of this client (it may ask for a look-up soon)."""
        with self._lock:
            self._running += 1

    def leave(self) -> None:
        """That plan has ended."""
        with self._lock:
            self._running -= 1

    def get(self, task_id: str) -> ProducerTask:
        with self._lock:
            now = time.monotonic()
            newcomer = self._roster.newcomer(task_id)
            early = self._roster.take(task_id, now)
            alone = self._running <= 1 and not self._leading
        if early is not None:
            return early
        if newcomer and not alone:
            # A wait starting while others run: on the roster now, it sleeps to the grid's next
            # tick, where the first thread awake asks for everyone (threads start far apart on
            # a busy machine; their first looks would each go alone).
            time.sleep(self._roster.next_tick(now))
            with self._lock:
                early = self._roster.take(task_id, time.monotonic())
            if early is not None:
                return early
        if alone:  # no other thread runs a plan of this client: no one to gather or settle
            found = self._driver.run(look_up([task_id], self._driver.retry_policy))
            with self._lock:
                self._roster.keep(found, [task_id], time.monotonic())
            return _only(found)
        future: concurrent.futures.Future[ProducerTask] = concurrent.futures.Future()
        with self._lock:
            self._waiting.setdefault(task_id, []).append(future)
            lead, self._leading = not self._leading, True
        if lead:
            self._lead()
        return future.result()

    def _count(self) -> int:
        with self._lock:
            return sum(len(futures) for futures in self._waiting.values())

    def _gather(self) -> None:
        with self._lock:
            if self._running <= 1 or not self._waiting:
                # Alone (no other thread runs a plan of this client), or nobody left to send:
                # no one can join, and yielding the CPU (time.sleep(0)) costs ~60-200 us.
                return
        # Real time, not the driver's clock: this coordinates real threads, and a fake clock
        # (in tests) must see only the plan's own sleeps.
        time.sleep(0)  # let the threads woken with this one take their turn and register
        start, seen = time.monotonic(), 1
        while (count := self._count()) > seen and time.monotonic() - start < self.gather_max:
            seen = count
            time.sleep(self.quiet)

    def _take(self) -> Waiting:
        with self._lock:
            waiting, self._waiting = self._waiting, {}
            self._leading = bool(waiting)
            return waiting

    def _lead(self) -> None:
        policy = self._driver.retry_policy
        while True:
            self._gather()
            waiting = self._take()
            if not waiting:
                return
            asking = list(waiting)
            with self._lock:
                ids = asking + self._roster.companions(asking, time.monotonic())
            try:
                found = self._driver.run(look_up(ids, policy))
            except Exception as error:  # each waiter hears of it; the next batch still goes
                _settle(waiting, error)
                continue
            except BaseException as error:  # interrupted: nobody may be left without a leader
                _settle(waiting, error)
                while rest := self._take():
                    _settle(rest, error)
                raise
            with self._lock:
                self._roster.keep(found, asking, time.monotonic())
            _settle(waiting, found)

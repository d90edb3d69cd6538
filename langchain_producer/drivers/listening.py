"""Waits that listen: a task's confirmed callback, read from the store, woken in-process.

The webhook receiver (``langchain_producer.webhooks``) records each task it confirmed with the
service under ``CALLBACKS`` in the deployment's store, keyed by task id, then calls
``announce(task_id)``. A wait with ``callback_url`` and a store answers its ``Await`` steps here
(``Driver``): it reads that one item by key and, until it appears or the step's seconds pass,

* sleeps on a process-local ``threading.Event`` (a sync wait) or ``asyncio.Event`` (an async
  one) registered for its task in ``ARRIVALS``: a receiver in the same process wakes it at once;
* and re-reads the store every ``STORE_READ_INTERVAL`` seconds: a receiver in another process
  on the same store (PostgreSQL) is noticed within that interval.

No thread, task or timer is started: each wait blocks on its own event with a timeout and
takes it off the registry when it stops. A store that fails to answer counts as "nothing yet"
(logged once per wait): the plan's safety polls still end the wait.

Example:
    >>> from langgraph.store.memory import InMemoryStore
    >>> store = InMemoryStore()
    >>> read_confirmed(store, "t-1") is None
    True
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from langchain_producer.models import ProducerTask
from langchain_producer.protocol.tasks import parse_task

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

logger = logging.getLogger("langchain_producer")

CALLBACKS: tuple[str, str] = ("langchain_producer", "callbacks")
"""The store namespace of confirmed callbacks, keyed by task id."""
STORE_READ_INTERVAL = 0.25
"""Seconds between two reads of the store by a listening wait (another process's receiver)."""


def task_of(task_id: str, value: Any) -> ProducerTask | None:
    """The task a ``CALLBACKS`` item holds (its ``record``), or None if it holds none."""
    if not isinstance(value, dict) or not isinstance(value.get("record"), dict):
        return None
    return parse_task(value["record"], task_id)


def read_confirmed(store: BaseStore, task_id: str) -> ProducerTask | None:
    """The task as the receiver confirmed it with the service (terminal), or None (not yet)."""
    item = store.get(CALLBACKS, task_id)
    return None if item is None else task_of(task_id, item.value)


async def aread_confirmed(store: BaseStore, task_id: str) -> ProducerTask | None:
    """Async ``read_confirmed``; a sync-only store (``SqliteStore``) is read in a thread."""
    try:
        item = await store.aget(CALLBACKS, task_id)
    except NotImplementedError:
        item = await asyncio.to_thread(store.get, CALLBACKS, task_id)
    return None if item is None else task_of(task_id, item.value)


class Arrivals:
    """Who in this process waits for which task's confirmed callback (thread-safe).

    ``watch`` / ``awatch`` register an event for a task while a wait blocks on it; ``signal``
    sets every event registered for that task, from any thread (an async one through its
    loop's ``call_soon_threadsafe``). A signal with nobody watching does nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, set[threading.Event]] = {}
        self._loops: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def signal(self, task_id: str) -> None:
        with self._lock:
            events = list(self._threads.get(task_id, ()))
            loops = list(self._loops.get(task_id, ()))
        for event in events:
            event.set()
        for loop, loop_event in loops:
            try:
                loop.call_soon_threadsafe(loop_event.set)
            except RuntimeError:  # that loop has closed: its wait is gone
                continue

    def watching(self, task_id: str) -> int:
        """How many waits watch ``task_id`` now (for tests and leak checks)."""
        with self._lock:
            return len(self._threads.get(task_id, ())) + len(self._loops.get(task_id, ()))

    @contextmanager
    def watch(self, task_id: str) -> Iterator[threading.Event]:
        event = threading.Event()
        with self._lock:
            self._threads.setdefault(task_id, set()).add(event)
        try:
            yield event
        finally:
            with self._lock:
                _discard(self._threads, task_id, event)

    @asynccontextmanager
    async def awatch(self, task_id: str) -> AsyncIterator[asyncio.Event]:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._loops.setdefault(task_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                _discard(self._loops, task_id, entry)


def _discard(registry: dict[str, set[Any]], task_id: str, entry: Any) -> None:
    entries = registry.get(task_id)
    if entries is not None:
        entries.discard(entry)
        if not entries:
            del registry[task_id]


ARRIVALS = Arrivals()
"""The process's one registry: the receiver signals it, listening waits watch it."""


def announce(task_id: str) -> None:
    """Wake this process's waits on ``task_id``: its confirmed record is in the store now."""
    ARRIVALS.signal(task_id)


def block(event: threading.Event, seconds: float) -> None:
    """Block until ``event`` is set or ``seconds`` pass (``Clock.block``'s default)."""
    event.wait(seconds)


async def ablock(event: asyncio.Event, seconds: float) -> None:
    """Wait on the loop until ``event`` is set or ``seconds`` pass (``Clock.ablock``'s)."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return


def listen(
    store: BaseStore,
    task_id: str,
    seconds: float,
    monotonic: Callable[[], float],
    wait: Callable[[threading.Event, float], None],
) -> ProducerTask | None:
    """The task's confirmed record, waiting up to ``seconds`` for it; None if it did not come."""
    deadline = monotonic() + seconds
    failing = False
    with ARRIVALS.watch(task_id) as arrived:
        while True:
            try:
                task = read_confirmed(store, task_id)
            except Exception as error:  # the safety polls still end the wait
                task, failing = None, _note_failure(failing, task_id, error)
            left = deadline - monotonic()
            if task is not None or left <= 0:
                return task
            wait(arrived, min(STORE_READ_INTERVAL, left))
            arrived.clear()


async def alisten(
    store: BaseStore,
    task_id: str,
    seconds: float,
    monotonic: Callable[[], float],
    wait: Callable[[asyncio.Event, float], Awaitable[None]],
) -> ProducerTask | None:
    """Async ``listen``."""
    deadline = monotonic() + seconds
    failing = False
    async with ARRIVALS.awatch(task_id) as arrived:
        while True:
            try:
                task = await aread_confirmed(store, task_id)
            except Exception as error:  # the safety polls still end the wait
                task, failing = None, _note_failure(failing, task_id, error)
            left = deadline - monotonic()
            if task is not None or left <= 0:
                return task
            await wait(arrived, min(STORE_READ_INTERVAL, left))
            arrived.clear()


def _note_failure(logged: bool, task_id: str, error: Exception) -> bool:
    if not logged:
        logger.warning(
            "Could not read task %s's callback from the store (%s): polling the service instead",
            task_id,
            type(error).__name__,
        )
    return True

"""The drivers: run a plan (``_steps``) to its result, blocking or on an event loop.

Every step type is answered here and only here, matched exhaustively (``assert_never``): a new
step that a driver forgot is a type error, not a silent no-op. The clock and the randomness are
the driver's (``Clock``), so plans stay pure and tests can give a fake one. Look-ups of waited-on
tasks go through ``_lookups`` on both sides, so concurrent waits share their requests whether
they run as coroutines or as threads.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import threading
import time as _time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, assert_never

import httpx

from langchain_producer.drivers import listening as _listening
from langchain_producer.drivers.exchange import aexchange, exchange
from langchain_producer.drivers.lookups import AsyncLookups, ThreadLookups
from langchain_producer.errors import ProducerError
from langchain_producer.models import ProducerTask
from langchain_producer.protocol.answers import Reply
from langchain_producer.protocol.steps import (
    Await,
    Draw,
    Effect,
    Lookup,
    Now,
    Outcome,
    Plan,
    Progress,
    Send,
    Sleep,
    Step,
    WallClock,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from langchain_producer.drivers.connections import Connections
    from langchain_producer.protocol.retry import RetryPolicy

T = TypeVar("T")
OnProgress = Callable[[ProducerTask], Any]
"""Called with the task each time a wait looks at it; may be a coroutine function when async."""

_TOO_LARGE = "an answer too large to be the API's"


@dataclass(frozen=True)
class Clock:
    """Time and chance, as the drivers see them (a test passes a fake one).

    Attributes:
        monotonic: Seconds on a clock that never goes back (answers ``Now``).
        time: Seconds since the epoch (answers ``WallClock``).
        sleep: Block for some seconds (answers ``Sleep`` in the sync driver).
        asleep: Wait some seconds on the event loop (answers ``Sleep`` in the async driver).
        random: A float in [0, 1) (answers ``Draw``).
        block: Block until a ``threading.Event`` is set or some seconds pass (a sync
            ``Await``, between reads of the store).
        ablock: The same on the event loop, for an ``asyncio.Event`` (an async ``Await``).
    """

    monotonic: Callable[[], float] = _time.monotonic
    time: Callable[[], float] = _time.time
    sleep: Callable[[float], None] = _time.sleep
    asleep: Callable[[float], Any] = asyncio.sleep
    random: Callable[[], float] = field(default=random.random)
    block: Callable[[threading.Event, float], None] = _listening.block
    ablock: Callable[[asyncio.Event, float], Awaitable[None]] = _listening.ablock


class Driver:
    """Runs plans over one set of connections, with a clock and shared look-ups.

    Args:
        connections: The http clients to send with.
        base_url: Where the API lives (paths of ``Send`` steps are relative to it).
        api_key: Sent as the bearer token; masked in every error that repeats it.
        retry_policy: What the shared look-ups retry with.
        roster_window: How long a record fetched for another wait stays usable, and how long
            a wait that stopped asking stays on the roster (``lookups.Roster``).
        clock: Time and chance (a test passes a fake one; ``clock`` may be replaced).
    """

    def __init__(
        self,
        connections: Connections,
        *,
        base_url: str,
        api_key: SecretStr,
        retry_policy: RetryPolicy,
        roster_window: tuple[float, float] = (0.0, 0.0),
        clock: Clock | None = None,
    ) -> None:
        self.connections = connections
        self.base_url = base_url
        self.retry_policy = retry_policy
        self._secret = api_key.get_secret_value()
        self._headers = {"Authorization": f"Bearer {self._secret}", "Accept": "application/json"}
        self.clock = clock or Clock()
        self.roster_window = roster_window
        self._thread_lookups = ThreadLookups(self)
        self._async_lookups: dict[asyncio.AbstractEventLoop, AsyncLookups] = {}
        self._lock = threading.Lock()
        self.async_running = 0
        """Async plans of this client running now, on any event loop (who may ask soon)."""

    # ------------------------------------------------------------------------------ sync

    def run(self, plan: Plan[T], on_progress: OnProgress | None = None) -> T:
        """Drive ``plan`` to its result, blocking."""
        self._thread_lookups.enter()  # a look-up gathers company only while others run too
        try:
            return self._drive(plan, on_progress)
        finally:
            self._thread_lookups.leave()

    def _drive(self, plan: Plan[T], on_progress: OnProgress | None) -> T:
        outcome: Outcome = None
        failure: ProducerError | None = None
        try:
            while True:
                step = plan.throw(failure) if failure else plan.send(outcome)
                failure = None
                try:
                    outcome = self._answer(step, on_progress)
                except ProducerError as error:  # the plan decides what it means
                    outcome, failure = None, error
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except ProducerError as error:
            raise self._redacted(error) from error.__cause__

    def _answer(self, step: Step, on_progress: OnProgress | None) -> Outcome:
        match step:
            case Send():
                return self._post(step)
            case Sleep(seconds=seconds):
                self.clock.sleep(seconds)
                return None
            case Await(task_id=task_id, seconds=seconds, store=store):
                clock = self.clock
                return _listening.listen(store, task_id, seconds, clock.monotonic, clock.block)
            case Now() | WallClock() | Draw():
                return self._read_clock(step)
            case Lookup(task_id=task_id):
                return self._thread_lookups.get(task_id)
            case Progress(task=task):
                if on_progress is not None:
                    on_progress(task)
                return None
            case Effect():
                return step.run()
            case _:
                assert_never(step)

    def _post(self, step: Send) -> Reply | Exception:
        http = self.connections.http
        return exchange(http, lambda: self._request(http, step), _TOO_LARGE)

    # ------------------------------------------------------------------------------ async

    async def arun(self, plan: Plan[T], on_progress: OnProgress | None = None) -> T:
        """Drive ``plan`` to its result on the running event loop."""
        with self._lock:
            self.async_running += 1  # a look-up gathers company only while others run too
        try:
            return await self._adrive(plan, on_progress)
        finally:
            with self._lock:
                self.async_running -= 1

    async def _adrive(self, plan: Plan[T], on_progress: OnProgress | None) -> T:
        outcome: Outcome = None
        failure: ProducerError | None = None
        try:
            while True:
                step = plan.throw(failure) if failure else plan.send(outcome)
                failure = None
                try:
                    outcome = await self._aanswer(step, on_progress)
                except ProducerError as error:
                    outcome, failure = None, error
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except ProducerError as error:
            raise self._redacted(error) from error.__cause__

    async def _aanswer(self, step: Step, on_progress: OnProgress | None) -> Outcome:
        match step:
            case Send():
                return await self._apost(step)
            case Sleep(seconds=seconds):
                await self.clock.asleep(seconds)
                return None
            case Await(task_id=task_id, seconds=seconds, store=store):
                clock = self.clock
                return await _listening.alisten(
                    store, task_id, seconds, clock.monotonic, clock.ablock
                )
            case Now() | WallClock() | Draw():
                return self._read_clock(step)
            case Lookup(task_id=task_id):
                return await self._loop_lookups().get(task_id)
            case Progress(task=task):
                if on_progress is not None:
                    reported = on_progress(task)
                    if inspect.isawaitable(reported):
                        await reported
                return None
            case Effect():
                return await step.arun()
            case _:
                assert_never(step)

    async def _apost(self, step: Send) -> Reply | Exception:
        http = self.connections.http_async
        return await aexchange(http, lambda: self._request(http, step), _TOO_LARGE)

    def _loop_lookups(self) -> AsyncLookups:
        loop = asyncio.get_running_loop()
        with self._lock:
            lookups = self._async_lookups.get(loop)
            if lookups is None:
                for stale in [old for old in self._async_lookups if old.is_closed()]:
                    del self._async_lookups[stale]
                lookups = self._async_lookups[loop] = AsyncLookups(self)
        return lookups

    # ------------------------------------------------------------------------------ shared

    # Both exchanges hand the plan the raw answer (decoded in ``_answers``, the one place) or
    # whatever stopped them: any exception of a transport is a failed exchange, never a crash.
    # Redirects are never followed, whatever the http client's own setting: a redirected
    # paid POST would create (and bill) a job on another host.
    def _request(self, http: httpx.Client | httpx.AsyncClient, step: Send) -> httpx.Request:
        # The key goes on each API request, never on the client: the same client downloads
        # songs from other hosts. Set after building: httpx merges a headers= argument slowly.
        request = http.build_request("POST", self.base_url + step.path, json=step.body)
        request.headers.update(self._headers)
        return request

    def _read_clock(self, step: Now | WallClock | Draw) -> float:
        match step:
            case Now():
                return self.clock.monotonic()
            case WallClock():
                return self.clock.time()
            case Draw():
                return self.clock.random()
            case _:
                assert_never(step)

    def _redacted(self, error: ProducerError) -> ProducerError:
        return error.redact(self._secret)

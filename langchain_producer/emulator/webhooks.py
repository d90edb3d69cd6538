"""Webhook delivery: the final body of an audios task POSTed to its ``callback_url``.

The body is the synchronous answer of the finished task (``success``, ``task_id``, the
submission's ``trace_id``, ``data``; a failed task adds ``error``), as the vendor documents the
webhook. It is POSTed as JSON when the task ends: from a timer thread with the real clock,
inside ``FakeClock.advance`` with a FakeClock, on the next request with any other clock.

What a test can ask of ``emu.webhooks``:
    * ``mode``, read when a task is submitted (each task keeps the plan it got): ``"once"``
      (the default, as the service does), ``"twice"`` (the final body, then the same again),
      ``"late"`` (``late_seconds`` after the task ends), ``"never"`` (a lost callback) or
      ``"forged"`` (at once, a body claiming the finished songs while the task still runs, as
      an attacker who learnt the URL could; the true body follows when the task ends).
    * ``redeliver(task_id)``: POST the true final body again now (the task must have ended);
      ``forge(task_id)``: POST a forged "succeeded" body now. Both return the HTTP status.
    * ``transport``: the ``httpx.BaseTransport`` webhooks go through (None: the network); or
      ``async_transport``, an ``httpx.AsyncBaseTransport`` such as ``httpx.ASGITransport(app)``:
      POSTed on one event loop in a background thread while the caller waits, so
      ``FakeClock.advance`` still returns after the delivery.
    * ``sent`` (``emu.callbacks``): every attempt, ``{"url", "body", "status"}`` or
      ``{"url", "body", "error"}``, with ``"forged": True`` on forged ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from langchain_producer.emulator import rendering

if TYPE_CHECKING:
    from langchain_producer.emulator.state import EmulatedTask, World

MODES = ("once", "twice", "late", "never", "forged")
"""How each new task's webhook is delivered (``Webhooks.mode``)."""
POST_TIMEOUT = 10.0


@dataclass
class _Delivery:
    """One planned POST: the true body ``late`` seconds after the end, or a forged one."""

    late: float = 0.0
    forged_at: float | None = None

    def due(self, task: EmulatedTask, now: float) -> bool:
        if self.forged_at is not None:
            return now >= self.forged_at
        return now >= task.finish_at + self.late

    def at(self, task: EmulatedTask) -> float:
        return self.forged_at if self.forged_at is not None else task.finish_at + self.late


class Webhooks:
    """Delivers each finished task's webhook as its plan says, and remembers every attempt."""

    def __init__(self, emulator: World, transport: httpx.BaseTransport | None) -> None:
        self._emulator = emulator
        self.transport = transport
        self.async_transport: httpx.AsyncBaseTransport | None = None
        """When set (``httpx.ASGITransport(app)``, say), webhooks go through it instead."""
        self.sent: list[dict[str, Any]] = []
        self.late_seconds = 30.0
        """How late (emulator seconds after the end) a ``"late"`` webhook comes."""
        self._mode = "once"
        self._plans: dict[str, list[_Delivery]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()

    @property
    def mode(self) -> str:
        """``once``, ``twice``, ``late``, ``never`` or ``forged`` (for tasks submitted next)."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown webhook mode {mode!r}; known: {', '.join(MODES)}")
        self._mode = mode

    def _plan(self, now: float) -> list[_Delivery]:
        return {
            "once": [_Delivery()],
            "twice": [_Delivery(), _Delivery()],
            "late": [_Delivery(late=self.late_seconds)],
            "never": [],
            "forged": [_Delivery(forged_at=now), _Delivery()],
        }[self._mode]

    def schedule(self, task: EmulatedTask) -> None:
        """Plan the delivery of ``task``'s webhook (and with the real clock, set its timers)."""
        emu = self._emulator
        with emu.lock:
            plan = self._plan(emu.clock())
            self._plans[task.id] = plan
            times = sorted({delivery.at(task) for delivery in plan})
        if not emu.uses_real_clock:
            return  # delivered by FakeClock.advance or on later requests
        for at in times:
            timer = threading.Timer(max(0.0, at - emu.clock()) + 0.01, self.deliver_due)
            timer.daemon = True
            timer.start()

    def _due(self, now: float) -> list[tuple[EmulatedTask, _Delivery]]:
        """The deliveries due at ``now`` (caller holds the lock)."""
        due = []
        for task_id, plan in list(self._plans.items()):
            task = self._emulator.tasks.get(task_id)
            if task is None or not task.callback_url:
                del self._plans[task_id]
                continue
            due += [(task, delivery) for delivery in plan if delivery.due(task, now)]
        return due

    def _body(self, task: EmulatedTask, now: float, *, forged: bool) -> dict[str, Any]:
        emu = self._emulator
        if not forged:
            return rendering.final_body(task, task.trace_id, now, emu.media_base, emu.videos)
        claimed = dataclasses.replace(task, fail=False)  # what a finished song would say
        return rendering.final_body(
            claimed, task.trace_id, task.finish_at, emu.media_base, emu.videos
        )

    def deliver_due(self) -> int:
        """POST every webhook whose time has come; return how many were POSTed."""
        emu = self._emulator
        now = emu.clock()
        with emu.lock:
            posts = []
            for task, delivery in self._due(now):
                plan = self._plans[task.id]
                plan.remove(delivery)
                if not plan:
                    del self._plans[task.id]
                forged = delivery.forged_at is not None
                if not forged:
                    task.callback_sent = True
                assert task.callback_url is not None
                posts.append((task.callback_url, self._body(task, now, forged=forged), forged))
        for url, body, forged in posts:
            self._post(url, body, forged=forged)
        return len(posts)

    def deliver_due_in_background(self) -> None:
        """Start delivering due webhooks in a thread, if any are due."""
        emu = self._emulator
        with emu.lock:
            due = bool(self._due(emu.clock()))
        if due:
            threading.Thread(target=self.deliver_due, daemon=True).start()

    def redeliver(self, task_id: str) -> int | None:
        """POST the true final body of ended task ``task_id`` again now; its HTTP status."""
        task, now = self._task(task_id)
        if now < task.finish_at:
            raise ValueError(f"task {task_id} has not ended: nothing true to deliver yet")
        with self._emulator.lock:
            body = self._body(task, now, forged=False)
        assert task.callback_url is not None
        return self._post(task.callback_url, body, forged=False)

    def forge(self, task_id: str) -> int | None:
        """POST a forged body (success, finished songs) for ``task_id`` now; its status."""
        task, _ = self._task(task_id)
        with self._emulator.lock:
            body = self._body(task, task.finish_at, forged=True)
        assert task.callback_url is not None
        return self._post(task.callback_url, body, forged=True)

    def _task(self, task_id: str) -> tuple[EmulatedTask, float]:
        emu = self._emulator
        with emu.lock:
            task = emu.tasks.get(task_id)
            if task is None or not task.callback_url:
                raise ValueError(f"task {task_id} is unknown or has no callback_url")
            return task, emu.clock()

    def _post(self, url: str, body: dict[str, Any], *, forged: bool) -> int | None:
        entry: dict[str, Any] = {"url": url, "body": body}
        if forged:
            entry["forged"] = True
        try:
            if self.async_transport is not None:
                entry["status"] = self._post_async(self.async_transport, url, body)
            else:
                with httpx.Client(transport=self.transport, timeout=POST_TIMEOUT) as client:
                    entry["status"] = client.post(url, json=body).status_code
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            entry["error"] = repr(exc)
        with self._emulator.lock:
            self.sent.append(entry)
        status: int | None = entry.get("status")
        return status

    def _post_async(
        self, transport: httpx.AsyncBaseTransport, url: str, body: dict[str, Any]
    ) -> int:
        """POST through an async transport on this object's own loop (a daemon thread)."""

        async def post() -> int:
            async with httpx.AsyncClient(transport=transport, timeout=POST_TIMEOUT) as client:
                return (await client.post(url, json=body)).status_code

        with self._loop_lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=_run_forever, args=(self._loop,), name="emulator-webhooks", daemon=True
                ).start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(post(), loop).result(POST_TIMEOUT + 5)

    def close(self) -> None:
        """Stop the loop async deliveries run on (a later one starts another)."""
        with self._loop_lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:
        loop.close()

"""Webhook delivery: the final body of an audios task POSTed to its ``callback_url``."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import httpx

from langchain_producer.emulator import rendering

if TYPE_CHECKING:
    from langchain_producer.emulator.state import EmulatedTask, World


class Webhooks:
    """Sends each finished task's webhook once, and remembers every attempt.

    With the real clock a timer thread fires when the task is due; with a FakeClock delivery
    happens inside ``FakeClock.advance``; with any other clock, on the next request.
    """

    def __init__(self, emulator: World, transport: httpx.BaseTransport | None) -> None:
        self._emulator = emulator
        self.transport = transport
        self.sent: list[dict[str, Any]] = []

    def schedule(self, task: EmulatedTask) -> None:
        """Arrange the delivery of ``task``'s webhook when it finishes (real clock only)."""
        emu = self._emulator
        if not emu.uses_real_clock:
            return  # delivered by FakeClock.advance or on later requests
        delay = max(0.0, task.finish_at - emu.clock()) + 0.01
        timer = threading.Timer(delay, self.deliver_due)
        timer.daemon = True
        timer.start()

    def deliver_due(self) -> int:
        """POST the webhook of every finished task that has not had one yet; return how many."""
        emu = self._emulator
        now = emu.clock()
        with emu.lock:
            due = [
                t
                for t in emu.tasks.values()
                if t.callback_url and not t.callback_sent and now >= t.finish_at
            ]
            for task in due:
                task.callback_sent = True
            bodies = [
                (
                    t.callback_url,
                    rendering.final_body(t, t.trace_id, now, emu.media_base, emu.videos),
                )
                for t in due
            ]
        for url, body in bodies:
            assert url is not None
            self._post(url, body)
        return len(bodies)

    def deliver_due_in_background(self) -> None:
        """Start delivering due webhooks in a thread, if any are due."""
        emu = self._emulator
        now = emu.clock()
        with emu.lock:
            due = any(
                t.callback_url and not t.callback_sent and now >= t.finish_at
                for t in emu.tasks.values()
            )
        if due:
            threading.Thread(target=self.deliver_due, daemon=True).start()

    def _post(self, url: str, body: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"url": url, "body": body}
        try:
            with httpx.Client(transport=self.transport, timeout=10.0) as client:
                entry["status"] = client.post(url, json=body).status_code
        except httpx.HTTPError as exc:
            entry["error"] = repr(exc)
        with self._emulator.lock:
            self.sent.append(entry)

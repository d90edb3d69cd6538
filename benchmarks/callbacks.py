"""Section 7: songs with webhooks vs polling, in one run, in process (the emulator's transport,
the receiver mounted on it through ``httpx.ASGITransport``, on the real clock).

Each variant makes N songs at once on a fresh emulator and counts what the service was asked:
submissions, the receiver's confirming look-ups and the waits' own look-ups (their safety polls
and, when polling, everything). "Notice" is how long after the receiver recorded the confirmed
task the wait returned (polling: after the task finished).
"""

import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
from langgraph.store.memory import InMemoryStore

from langchain_producer import Generate, ProducerClient
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.models import ProducerTask
from langchain_producer.webhooks import CALLBACKS, callback_url, create_app
from langchain_producer.webhooks import receiver as _receiver

KEY = "bench-callbacks"
SECRET = "bench-callback-secret-Vq7Lp2Xc9"
URL = callback_url("http://receiver.bench", SECRET)
SAFETY_POLL = 60.0


class _Counted(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator's transport, counting the waiting client's own requests by path."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.paths = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]


@contextlib.contextmanager
def _world(processing: float, listen: bool, poll_interval: float) -> Iterator[Any]:
    emu = ProducerEmulator(api_key=KEY, pending_seconds=0.2, processing_seconds=processing)
    store = InMemoryStore()
    app = create_app(
        store=store, secret=SECRET, client=ProducerClient(api_key=KEY, transport=emu.transport)
    )
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    counted = _Counted(emu.transport)
    # Both journal in the store (the receiver only takes tasks it finds there); only the
    # listening client gives the service a callback_url.
    listening = {"callback_url": URL, "callback_poll_interval": SAFETY_POLL} if listen else {}
    client = ProducerClient(
        api_key=KEY, transport=counted, poll_interval=poll_interval, store=store, **listening
    )
    try:
        yield emu, store, counted, client
    finally:
        client.close()
        emu.webhooks.close()


def _figures(
    emu: ProducerEmulator,
    store: InMemoryStore,
    counted: _Counted,
    done: list[tuple[ProducerTask, datetime]],
) -> dict[str, Any]:
    n = len(done)
    lookups = sum(r.url.path == "/producer/tasks" for r in emu.requests)
    own = counted.paths.count("/producer/tasks")
    late = []
    for task, ended in done:
        item = store.get(CALLBACKS, task.task_id)
        since = (
            datetime.fromisoformat(item.value["confirmed_at"]).timestamp()
            if item
            else emu.tasks[task.task_id].finish_at
        )
        late.append(ended.timestamp() - since)
    return {
        "songs": n,
        "complete": sum(task.is_complete for task, _ in done),
        "submissions_per_song": round(counted.paths.count("/producer/audios") / n, 3),
        "confirming_lookups_per_song": round((lookups - own) / n, 3),
        "own_lookups_per_song": round(own / n, 3),
        "requests_per_song": round(len(emu.requests) / n, 3),
        "notice_median_ms": round(statistics.median(late) * 1000, 1),
        "notice_max_ms": round(max(late) * 1000, 1),
    }


def _async_songs(processing: float, n: int, listen: bool, poll_interval: float) -> dict[str, Any]:
    with _world(processing, listen, poll_interval) as (emu, store, counted, client):

        async def one(i: int) -> tuple[ProducerTask, datetime]:
            task = await client.asubmit(
                Generate(prompt="bench"), wait=True, max_wait=120, key=f"s{i}"
            )
            return task, datetime.now(UTC)

        async def every() -> list[tuple[ProducerTask, datetime]]:
            done = await asyncio.gather(*(one(i) for i in range(n)))
            await client.aclose()
            return done

        return _figures(emu, store, counted, asyncio.run(every()))


def _thread_songs(processing: float, n: int, poll_interval: float) -> dict[str, Any]:
    with _world(processing, True, poll_interval) as (emu, store, counted, client):

        def one(i: int) -> tuple[ProducerTask, datetime]:
            task = client.submit(Generate(prompt="bench"), wait=True, max_wait=120, key=f"t{i}")
            return task, datetime.now(UTC)

        with ThreadPoolExecutor(max_workers=n) as pool:
            return _figures(emu, store, counted, list(pool.map(one, range(n))))


def bench_callbacks(processing: float, n: int, poll_interval: float) -> dict[str, Any]:
    """N songs at once: polling, listening (async, threads), and listening by store reads only
    (the receiver wakes nobody, as one in another process)."""
    out: dict[str, Any] = {"processing_seconds": processing, "poll_interval": poll_interval}
    out["safety_poll_seconds"] = SAFETY_POLL
    started = time.monotonic()
    out["async polling"] = _async_songs(processing, n, False, poll_interval)
    out["async listening"] = _async_songs(processing, n, True, poll_interval)
    out["threads listening"] = _thread_songs(processing, n, poll_interval)
    announce = _receiver.announce
    _receiver.announce = lambda task_id: None  # type: ignore[assignment]
    try:
        out["async listening, store reads only"] = _async_songs(processing, n, True, poll_interval)
    finally:
        _receiver.announce = announce
    out["seconds"] = round(time.monotonic() - started, 1)
    return out

"""Waits that listen (``drivers.listening``): with ``callback_url`` and a store, a wait ends on
the receiver's confirmed record instead of polling, and polls only as a safety net.

The emulator runs on the real clock with short songs and POSTs each task's callback into an
in-process receiver (``emu.webhooks.async_transport = httpx.ASGITransport(app)``); the receiver
confirms with its own client. The waiting client's requests go through ``Counted``, so what the
wait itself asked of the service is counted apart from the receiver's confirming look-up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from langgraph.store.memory import InMemoryStore

from langchain_producer import Generate, ProducerClient
from langchain_producer.drivers import listening
from langchain_producer.drivers.driver import Clock
from langchain_producer.emulator import FakeClock, ProducerEmulator
from langchain_producer.models import ProducerTask
from langchain_producer.protocol import operations
from langchain_producer.protocol.steps import Await, Lookup, Now, Progress, Sleep
from langchain_producer.webhooks import CALLBACKS, callback_url, create_app
from langchain_producer.webhooks import receiver as _receiver

SECRET = "listen-secret-Hq3Vb8Nz2Lk5Wr7"
KEY = "api-key-listening-8d2f6b1a"
URL = callback_url("http://receiver.test", SECRET)
SONG = {"pending_seconds": 0.3, "processing_seconds": 1.0}


class Counted(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator's transport, remembering each request body the waiting client sent."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, json.loads(request.read())))
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, json.loads(await request.aread())))
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]

    def submissions(self) -> int:
        return sum(1 for path, _ in self.sent if path == "/producer/audios")

    def lookups(self, task_id: str | None = None) -> int:
        """Look-up requests (a batch counts once) that asked for ``task_id`` (None: any)."""
        return sum(
            1
            for path, body in self.sent
            if path == "/producer/tasks"
            and (task_id is None or task_id == body.get("id") or task_id in body.get("ids", []))
        )


def all_lookups(emu: ProducerEmulator) -> int:
    return sum(1 for r in emu.requests if r.url.path == "/producer/tasks")


@pytest.fixture
def emu() -> Iterator[ProducerEmulator]:
    emulator = ProducerEmulator(api_key=KEY, **SONG)
    yield emulator
    emulator.webhooks.close()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def receiver(emu: ProducerEmulator, store: InMemoryStore) -> None:
    """The receiver, in this process, on the waiting client's store; the emulator calls it."""
    confirming = ProducerClient(api_key=KEY, transport=emu.transport)
    app = create_app(store=store, secret=SECRET, client=confirming)
    emu.webhooks.async_transport = httpx.ASGITransport(app)


def listening_client(
    emu: ProducerEmulator, store: InMemoryStore, **settings: Any
) -> tuple[ProducerClient, Counted]:
    counted = Counted(emu.transport)
    options = {"callback_url": URL, "store": store, "callback_poll_interval": 30.0, **settings}
    return ProducerClient(api_key=KEY, transport=counted, poll_interval=0.2, **options), counted


def lag(store: InMemoryStore, task: ProducerTask, ended: datetime) -> float:
    """Seconds from the receiver's recording of ``task`` to the end of its wait."""
    item = store.get(CALLBACKS, task.task_id)
    assert item is not None, "the wait ended without the receiver's record"
    return (ended - datetime.fromisoformat(item.value["confirmed_at"])).total_seconds()


@pytest.mark.usefixtures("receiver")
@pytest.mark.parametrize("woken_by", ["the receiver", "a store read"])
async def test_a_wait_ends_on_the_callback_within_a_second(
    emu: ProducerEmulator,
    store: InMemoryStore,
    woken_by: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1 submission, the receiver's 1 confirming look-up, no look-up of the wait's own (the
    safety poll is 30 s away), and the song noticed well within 1 s of its record. "the
    receiver": store reads are 10 s apart, so only the in-process wake-up can be in time. "a
    store read": the receiver wakes nobody (as one in another process), the reads find it."""
    if woken_by == "the receiver":
        monkeypatch.setattr(listening, "STORE_READ_INTERVAL", 10.0)
    else:
        monkeypatch.setattr(_receiver, "announce", lambda task_id: None)
    client, counted = listening_client(emu, store)
    started = time.monotonic()
    task = await client.asubmit(Generate(prompt="lo-fi"), wait=True, max_wait=20, key="one")
    ended = datetime.now(UTC)
    assert task.is_complete and time.monotonic() - started < 5
    delay = lag(store, task, ended)
    print(f"\nwoken by {woken_by}: noticed {delay * 1000:.1f} ms after the record")
    assert delay < (0.2 if woken_by == "the receiver" else 1.0)
    assert counted.submissions() == 1 and counted.lookups(task.task_id) == 0
    assert all_lookups(emu) == 1  # the receiver's confirming look-up
    assert listening.ARRIVALS.watching(task.task_id) == 0  # nothing left registered


async def _songs(client: ProducerClient, n: int, tag: str) -> list[tuple[ProducerTask, datetime]]:
    async def one(i: int) -> tuple[ProducerTask, datetime]:
        task = await client.asubmit(
            Generate(prompt="lo-fi"), wait=True, max_wait=20, key=f"{tag}-{i}"
        )
        return task, datetime.now(UTC)

    return await asyncio.gather(*(one(i) for i in range(n)))


@pytest.mark.usefixtures("receiver")
async def test_a_hundred_async_waits_cost_a_submission_and_a_confirmation_each(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    """The same 100 waits polling (today) and listening, in one run: requests per song."""
    polling, polled = listening_client(emu, InMemoryStore(), callback_url=None)
    before = len(emu.requests)
    done = await _songs(polling, 100, "poll")
    assert all(task.is_complete for task, _ in done)
    polled_per_song = (len(emu.requests) - before) / 100
    polled_ids = sum(counted_ids(polled))

    client, counted = listening_client(emu, store)
    before, confirming = len(emu.requests), all_lookups(emu)
    done = await _songs(client, 100, "listen")
    assert all(task.is_complete for task, _ in done)
    per_song = (len(emu.requests) - before) / 100
    delays = sorted(lag(store, task, ended) for task, ended in done)
    print(
        f"\n100 async songs, requests per song: polling {polled_per_song:.2f} "
        f"({polled_ids} task ids looked up), listening {per_song:.2f} "
        f"(waits' own look-ups {counted.lookups()}, receiver's {all_lookups(emu) - confirming}); "
        f"noticed after the record: median {delays[50] * 1000:.1f} ms, max {delays[-1] * 1000:.1f}"
    )
    assert counted.submissions() == 100 and all_lookups(emu) - confirming - counted.lookups() == 100
    assert counted.lookups() <= 1  # safety polls: none due in 30 s, one at most (shared)
    assert per_song <= 2 + counted.lookups() / 100
    assert delays[-1] < 1.0


def counted_ids(counted: Counted) -> list[int]:
    return [
        len(body.get("ids", [])) or 1 for path, body in counted.sent if path == "/producer/tasks"
    ]


@pytest.mark.usefixtures("receiver")
def test_twenty_threaded_waits_listen_too(emu: ProducerEmulator, store: InMemoryStore) -> None:
    client, counted = listening_client(emu, store)

    def one(i: int) -> tuple[ProducerTask, datetime]:
        task = client.submit(Generate(prompt="lo-fi"), wait=True, max_wait=20, key=f"thread-{i}")
        return task, datetime.now(UTC)

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        done = list(pool.map(one, range(20)))
    delays = sorted(lag(store, task, ended) for task, ended in done)
    print(f"\n20 threaded songs: waits' look-ups {counted.lookups()}, max lag {delays[-1]:.3f} s")
    assert all(task.is_complete for task, _ in done)
    assert counted.submissions() == 20 and counted.lookups() <= 1 and all_lookups(emu) <= 21
    assert delays[-1] < 1.0


@pytest.mark.usefixtures("receiver")
def test_a_lost_callback_still_ends_the_wait_by_polling(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    emu.webhooks.mode = "never"
    client, counted = listening_client(emu, store, callback_poll_interval=1.0)
    started = time.monotonic()
    task = client.submit(Generate(prompt="lo-fi"), wait=True, max_wait=10, key="lost")
    assert task.is_complete and time.monotonic() - started < 4  # by a safety poll, not max_wait
    assert emu.callbacks == []
    assert store.get(CALLBACKS, task.task_id) is None
    assert 1 <= counted.lookups(task.task_id) <= 3  # one a second, for a 1.3 s song


@pytest.mark.usefixtures("receiver")
async def test_a_duplicate_callback_is_recorded_once_and_wakes_once(
    emu: ProducerEmulator, store: InMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.webhooks.mode = "twice"
    announced: list[str] = []

    def announce(task_id: str) -> None:
        announced.append(task_id)
        listening.announce(task_id)

    monkeypatch.setattr(_receiver, "announce", announce)
    client, counted = listening_client(emu, store)
    seen: list[ProducerTask] = []
    task = await client.asubmit(
        Generate(prompt="lo-fi"), wait=True, max_wait=20, key="twice", on_progress=seen.append
    )
    deadline = time.monotonic() + 3
    while len(emu.callbacks) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert task.is_complete and [c["status"] for c in emu.callbacks] == [200, 200]
    assert [item.key for item in store.search(CALLBACKS)] == [task.task_id]
    assert announced == [task.task_id]  # the second delivery wakes nobody
    assert [t.state for t in seen if t.is_terminal] == ["complete"]  # the wait ended once
    assert all_lookups(emu) == 1 and counted.lookups() == 0
    assert listening.ARRIVALS.watching(task.task_id) == 0


# ----------------------------------------------------------------------- nothing changes


def steps_of_a_wait(client: ProducerClient) -> list[type]:
    """The steps ``operations.wait`` yields for a task seen pending twice, then complete."""
    pending = ProducerTask(task_id="t-1", state="pending")
    answers: dict[type, Any] = {Now: 0.0, Lookup: pending, Progress: None, Sleep: None}
    plan, kinds, looks = operations.wait(client, "t-1", max_wait=60), [], 0
    step = next(plan)
    while True:
        kinds.append(type(step))
        if isinstance(step, Lookup):
            looks += 1
            answer = ProducerTask(task_id="t-1", state="complete") if looks == 3 else pending
        else:
            answer = None if isinstance(step, Await) else answers[type(step)]
        try:
            step = plan.send(answer)
        except StopIteration:
            return kinds


def test_without_callback_url_or_store_a_wait_polls_as_before(store: InMemoryStore) -> None:
    before = [Now, Lookup, Progress, Now, Sleep, Lookup, Progress, Now, Sleep, Lookup, Progress]
    for settings in ({}, {"store": store}, {"callback_url": URL}):
        client = ProducerClient(api_key=KEY, **settings)
        assert steps_of_a_wait(client) == before, settings
    listening_one = ProducerClient(api_key=KEY, store=store, callback_url=URL)
    assert Await in steps_of_a_wait(listening_one) and Sleep not in steps_of_a_wait(listening_one)


def test_without_callback_url_the_requests_are_those_of_a_plain_client() -> None:
    """On a fake clock the same song costs a store-only client what it costs a plain one."""

    def requests_for(**settings: Any) -> tuple[int, str]:
        fake = FakeClock()
        emu = ProducerEmulator(api_key=KEY, clock=fake, **SONG)
        counted = Counted(emu.transport)
        client = ProducerClient(api_key=KEY, transport=counted, poll_interval=0.2, **settings)

        async def advance(seconds: float) -> None:
            fake.advance(seconds)

        client._driver.clock = Clock(
            monotonic=fake,
            time=fake,
            sleep=fake.advance,
            asleep=advance,
            block=lambda event, seconds: fake.advance(seconds),  # were it to listen
        )
        task = client.submit(Generate(prompt="lo-fi"), wait=True, key="k")
        return len(counted.sent), task.state

    plain = requests_for()
    assert plain[1] == "complete" and plain[0] > 2  # it polled
    assert requests_for(store=InMemoryStore()) == plain


@pytest.mark.usefixtures("receiver")
def test_a_tool_in_a_graph_listens_on_the_graph_store(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    """A toolkit without ``store=`` journals in the graph's store, and its waits listen there."""
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from test_agent import DONE, GENERATE, ScriptedModel

    from langchain_producer import ProducerToolkit

    counted = Counted(emu.transport)
    toolkit = ProducerToolkit(
        api_key=KEY, transport=counted, callback_url=URL, callback_poll_interval=30.0
    )
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit.get_tools(), checkpointer=InMemorySaver(), store=store)
    started = time.monotonic()
    agent.invoke(
        {"messages": [HumanMessage("A lo-fi beat.")]}, {"configurable": {"thread_id": "t"}}
    )
    [item] = store.search(CALLBACKS)
    assert time.monotonic() - started < 5  # not the 30 s safety poll
    assert counted.submissions() == 1 and counted.lookups() == 0 and all_lookups(emu) == 1
    assert item.value["thread_id"] == "t"

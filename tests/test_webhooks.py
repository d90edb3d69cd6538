"""The webhook receiver (``langchain_producer.webhooks``) and the emulator's deliveries.

Tasks are really submitted (a journalled ``ProducerClient`` on an in-process emulator with a
FakeClock); the receiver is driven through ``httpx.ASGITransport``, by the test or by the
emulator itself (``emu.webhooks.async_transport``). Every answer and every log record the
receiver side writes is checked for the secret and the API key.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx
import pytest
from langgraph.store.base import Op, Result
from langgraph.store.memory import InMemoryStore
from starlette.applications import Starlette

from langchain_producer import Generate, ProducerClient
from langchain_producer.emulator import FakeClock, ProducerEmulator
from langchain_producer.models import ProducerTask
from langchain_producer.safety.journal import JournalEntry
from langchain_producer.webhooks import (
    CALLBACKS,
    aconfirmed,
    callback_url,
    confirmed,
    create_app,
)

SECRET = "hook-secret-Q7vXk2pLm9Tz4Rb8"
KEY = "api-key-webhooks-5c1e9a7f3d"
BASE = "http://receiver.test"
URL = callback_url(BASE, SECRET)
PATH = URL.removeprefix(BASE)
SENDERS = ("httpx", "httpcore")  # the sender's own client logs the URL it POSTs to


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[ProducerEmulator]:
    emulator = ProducerEmulator(api_key=KEY, clock=clock, pending_seconds=1, processing_seconds=4)
    emulator.webhooks.mode = "never"  # the tests that want the emulator's delivery say so
    yield emulator
    emulator.webhooks.close()


class SlowStore(InMemoryStore):
    """A store whose every async call yields to the loop, as a networked one does."""

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        await asyncio.sleep(0.005)
        return await super().abatch(ops)


@pytest.fixture(params=[InMemoryStore, SlowStore], ids=["memory", "yielding"])
def store(request: pytest.FixtureRequest) -> InMemoryStore:
    kind: type[InMemoryStore] = request.param
    return kind()


@pytest.fixture
def client(emu: ProducerEmulator, store: InMemoryStore) -> ProducerClient:
    """The deployment's client: it journals each paid call in ``store``."""
    return ProducerClient(api_key=KEY, transport=emu.transport, callback_url=URL, store=store)


class Woken:
    """An ``on_confirmed`` that remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[ProducerTask, JournalEntry]] = []

    async def __call__(self, task: ProducerTask, entry: JournalEntry) -> None:
        self.calls.append((task, entry))


@pytest.fixture
def woken() -> Woken:
    return Woken()


@pytest.fixture
def app(emu: ProducerEmulator, store: InMemoryStore, woken: Woken) -> Iterator[Starlette]:
    lookups = ProducerClient(api_key=KEY, transport=emu.transport, max_retries=0)
    yield create_app(store=store, secret=SECRET, client=lookups, on_confirmed=woken, max_body=4096)


@pytest.fixture
async def receiver(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as http:
        yield http


@pytest.fixture(autouse=True)
def no_secret_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    records = [r for stage in ("setup", "call") for r in caplog.get_records(stage)]
    ours = [r.getMessage() for r in records if r.name.split(".")[0] not in SENDERS]
    assert not [line for line in ours if SECRET in line or KEY in line]


def lookups(emu: ProducerEmulator) -> int:
    return sum(1 for r in emu.requests if r.url.path == "/producer/tasks")


def recorded(store: InMemoryStore) -> list[str]:
    return [item.key for item in store.search(CALLBACKS, limit=100)]


async def post(http: httpx.AsyncClient, body: Any, path: str = PATH, **kw: Any) -> httpx.Response:
    response = (
        await http.post(path, json=body, **kw) if body is not None else await http.post(path, **kw)
    )
    assert SECRET not in response.text and KEY not in response.text
    return response


async def submit(client: ProducerClient, key: str = "song-1") -> str:
    return (await client.asubmit(Generate(prompt="lo-fi"), key=key)).task_id


def genuine(emu: ProducerEmulator, task_id: str) -> dict[str, Any]:
    with emu.lock:
        return emu.final_body(emu.tasks[task_id], emu.tasks[task_id].trace_id)


# ----------------------------------------------------------------------------- refusals


async def test_wrong_secret_is_404_and_records_nothing(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    receiver: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    task_id = await submit(client)
    clock.advance(10)
    before = lookups(emu)
    caplog.clear()
    for wrong in (SECRET[:-1] + "X", SECRET[:-1], "x", SECRET + "0"):
        response = await post(receiver, genuine(emu, task_id), f"/producer/callback/{wrong}")
        assert response.status_code == 404
    assert recorded(store) == [] and lookups(emu) == before
    assert not [r for r in caplog.records if r.name.startswith("langchain_producer")]
    nowhere = await post(receiver, genuine(emu, task_id), "/no/such/route")
    assert (response.status_code, response.text) == (nowhere.status_code, nowhere.text)
    assert dict(response.headers) == dict(nowhere.headers)  # nothing tells the route apart


async def test_oversized_body_is_413(
    client: ProducerClient, store: InMemoryStore, receiver: httpx.AsyncClient
) -> None:
    task_id = await submit(client)
    padded = {"task_id": task_id, "success": True, "padding": "x" * 5000}
    assert (await post(receiver, padded)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read and counted
        yield b'{"task_id": "%s", "padding": "' % task_id.encode()
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    streamed = await post(receiver, None, content=chunks())
    assert streamed.status_code == 413
    lying = await post(receiver, None, content=b"z" * 5000, headers={"content-length": "10"})
    assert lying.status_code == 413  # the length header lied: the body is counted
    assert recorded(store) == []


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'"text"', b"{}", b'{"task_id": 7}', b"[" * 100_000]
)
async def test_not_a_json_object_with_a_task_id_is_400(
    content: bytes, store: InMemoryStore
) -> None:
    app_big = create_app(store=store, secret=SECRET, client=ProducerClient(api_key=KEY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app_big), base_url=BASE) as http:
        response = await post(http, None, content=content)
    assert response.status_code == 400
    assert recorded(store) == []


async def test_unknown_task_id_is_ignored_with_a_2xx_and_a_log_line(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    receiver: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await submit(client)  # the journal is not empty
    other = ProducerClient(api_key=KEY, transport=emu.transport)  # no journal: not ours
    stranger = (await other.asubmit(Generate(prompt="not ours"))).task_id
    clock.advance(10)
    before = lookups(emu)
    response = await post(receiver, genuine(emu, stranger))
    assert response.status_code == 202 and response.json() == {"ignored": True}
    assert recorded(store) == [] and lookups(emu) == before  # not even a look-up
    assert any(
        stranger in r.getMessage() and r.name == "langchain_producer" for r in caplog.records
    )


async def test_forged_callback_records_nothing_until_the_true_one(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    receiver: httpx.AsyncClient,
    app: Starlette,
    woken: Woken,
) -> None:
    task_id = await submit(client)
    clock.advance(2)  # processing
    forged = genuine(emu, task_id) | {"success": True}
    forged["data"] = [item | {"state": "succeeded", "progress": "100%"} for item in forged["data"]]
    before = lookups(emu)
    response = await post(receiver, forged)
    assert response.status_code == 202 and response.json()["recorded"] is False
    assert lookups(emu) == before + 1  # one free look-up is all a forgery costs
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    assert await asyncio.to_thread(emu.webhooks.forge, task_id) == 202  # the emulator's forgery
    assert recorded(store) == [] and await aconfirmed(store, task_id) is None
    assert woken.calls == []
    assert emu.callbacks[-1]["forged"] is True
    assert emu.callbacks[-1]["body"]["data"][0]["state"] == "succeeded"  # it claims a song
    assert "/media/audio/" in emu.callbacks[-1]["body"]["data"][0]["audio_url"]


async def test_failing_look_up_answers_503_and_a_later_delivery_records(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    receiver: httpx.AsyncClient,
    woken: Woken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    task_id = await submit(client)
    clock.advance(10)
    emu.fail_next("server_error")
    response = await post(receiver, genuine(emu, task_id))
    assert response.status_code == 503 and recorded(store) == []
    assert any("503" in r.getMessage() for r in caplog.records)
    assert (await post(receiver, genuine(emu, task_id))).status_code == 200
    assert recorded(store) == [task_id] and len(woken.calls) == 1


# ----------------------------------------------------------------------------- recording


async def test_genuine_callback_recorded_once_when_delivered_twice(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    receiver: httpx.AsyncClient,
    woken: Woken,
) -> None:
    task_id = await submit(client, key="album/track-1")
    clock.advance(10)
    body = genuine(emu, task_id)
    before = lookups(emu)
    first, second = await asyncio.gather(post(receiver, body), post(receiver, body))
    third = await post(receiver, body)
    assert {first.status_code, second.status_code, third.status_code} == {200}
    assert [r.json().get("duplicate", False) for r in (first, second, third)].count(False) == 1
    assert recorded(store) == [task_id]
    assert lookups(emu) - before <= 2  # the third delivery needs no look-up at all
    [(task, entry)] = woken.calls
    assert task.task_id == task_id and task.is_complete and entry.key == "album/track-1"
    stored = await aconfirmed(store, task_id)
    assert stored is not None and stored.songs[0].audio_url == task.songs[0].audio_url


async def test_emulator_delivers_to_the_receiver_end_to_end(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    app: Starlette,
    woken: Woken,
) -> None:
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    emu.webhooks.mode = "twice"
    task_id = await submit(client)
    await asyncio.to_thread(clock.advance, 2)
    assert emu.callbacks == [] and confirmed(store, task_id) is None
    await asyncio.to_thread(clock.advance, 10)
    assert [c["status"] for c in emu.callbacks] == [200, 200]
    assert emu.callbacks[0]["url"] == URL and emu.callbacks[0]["body"]["task_id"] == task_id
    task = confirmed(store, task_id)
    assert task is not None and task.is_complete and task.songs[0].audio_url
    assert len(woken.calls) == 1
    assert await asyncio.to_thread(emu.webhooks.redeliver, task_id) == 200
    assert len(woken.calls) == 1 and recorded(store) == [task_id]


async def test_emulator_modes_never_late_and_forged(
    emu: ProducerEmulator,
    client: ProducerClient,
    clock: FakeClock,
    store: InMemoryStore,
    app: Starlette,
    woken: Woken,
) -> None:
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    lost = await submit(client, key="lost")
    emu.webhooks.mode = "late"
    emu.webhooks.late_seconds = 20
    late = await submit(client, key="late")
    emu.webhooks.mode = "forged"
    forged = await submit(client, key="forged")
    await asyncio.to_thread(clock.advance, 0.5)  # the forgery arrives while it is pending
    assert [c.get("forged") for c in emu.callbacks] == [True] and recorded(store) == []
    await asyncio.to_thread(clock.advance, 10)
    assert recorded(store) == [forged]
    await asyncio.to_thread(clock.advance, 20)
    assert sorted(recorded(store)) == sorted([forged, late])
    assert confirmed(store, lost) is None and len(woken.calls) == 2
    with pytest.raises(ValueError, match="unknown webhook mode"):
        emu.webhooks.mode = "sometimes"


def test_emulator_webhook_body_is_the_synchronous_answer(clock: FakeClock) -> None:
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    hook = httpx.MockTransport(answer)
    emu = ProducerEmulator(clock=clock, callback_transport=hook)
    api = httpx.Client(transport=emu.transport, base_url="http://producer.emulator")
    body = {"action": "generate", "prompt": "x", "callback_url": "http://h.test/cb"}
    submitted = api.post("/producer/audios", json=body, headers={"Authorization": "Bearer k"})
    clock.advance(10)
    [request] = received
    sent = httpx.Response(200, content=request.content).json()
    assert set(sent) == {"success", "task_id", "trace_id", "data"}
    assert sent["task_id"] == submitted.json()["task_id"]
    assert sent["trace_id"] == submitted.json()["trace_id"]
    assert request.headers["content-type"] == "application/json"


# ----------------------------------------------------------------------------- the helpers


def test_callback_url_and_secret_checks() -> None:
    store = InMemoryStore()
    assert callback_url("https://h.example/base/", SECRET) == (
        f"https://h.example/base/producer/callback/{SECRET}"
    )
    for bad in ("short", "has/slash-0123456789", "space in it 0123456789"):
        with pytest.raises(ValueError) as caught:
            create_app(store=store, secret=bad, client=ProducerClient(api_key=KEY))
        assert bad not in str(caught.value)
    with pytest.raises(ValueError):
        callback_url("ftp://h.example", SECRET)


def test_create_app_without_starlette_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    store = InMemoryStore()
    monkeypatch.setitem(sys.modules, "starlette.applications", None)
    with pytest.raises(ImportError, match=r"langchain-producer\[webhooks\]"):
        create_app(store=store, secret=SECRET, client=ProducerClient(api_key=KEY))


def test_over_the_network_with_uvicorn_and_the_real_clock(store: InMemoryStore) -> None:
    """The emulator's plain (sync) delivery over loopback HTTP to the app served by uvicorn,
    run as the module docstring says: without an access log, which would print the secret."""
    uvicorn = pytest.importorskip("uvicorn")
    emu = ProducerEmulator(api_key=KEY, pending_seconds=0.02, processing_seconds=0.05)
    woken = Woken()
    lookups_client = ProducerClient(api_key=KEY, transport=emu.transport)
    app = create_app(store=store, secret=SECRET, client=lookups_client, on_confirmed=woken)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = callback_url(f"http://127.0.0.1:{port}", SECRET)
        client = ProducerClient(api_key=KEY, transport=emu.transport, callback_url=url, store=store)
        task_id = client.submit(Generate(prompt="lo-fi"), key="net").task_id
        while confirmed(store, task_id) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        task = confirmed(store, task_id)
        assert task is not None and task.is_complete
        # Recorded before the answer: the emulator notes its POST, and on_confirmed runs,
        # only once the answer is back.
        while not (emu.callbacks and woken.calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [c["status"] for c in emu.callbacks] == [200] and len(woken.calls) == 1
    finally:
        server.should_exit = True
        thread.join(5)


def test_a_tool_call_in_a_graph_thread_is_confirmed_with_its_thread(store: InMemoryStore) -> None:
    """A real agent run journals the song under its thread; the emulator's callback reaches the
    receiver while the tool waits, and ``on_confirmed`` is told the thread to wake later."""
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from test_agent import DONE, GENERATE, ScriptedModel

    from langchain_producer import ProducerToolkit

    emu = ProducerEmulator(api_key=KEY, pending_seconds=0.02, processing_seconds=0.05)
    woken = Woken()
    lookups_client = ProducerClient(api_key=KEY, transport=emu.transport)
    app = create_app(store=store, secret=SECRET, client=lookups_client, on_confirmed=woken)
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    toolkit = ProducerToolkit(
        api_key=KEY, transport=emu.transport, callback_url=URL, poll_interval=0.02
    )
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit.get_tools(), checkpointer=InMemorySaver(), store=store)
    ask = {"messages": [HumanMessage("Make me a lo-fi beat.")]}
    agent.invoke(ask, {"configurable": {"thread_id": "thread.1"}})
    deadline = time.monotonic() + 3
    while not woken.calls and time.monotonic() < deadline:
        time.sleep(0.02)
    emu.webhooks.close()
    [(task, entry)] = woken.calls
    assert (entry.thread_id, entry.key, entry.tool) == (
        "thread.1",
        "call-gen",
        "producer_generate_music",
    )
    stored = store.get(CALLBACKS, task.task_id)
    assert stored is not None and stored.value["thread_id"] == "thread.1"
    assert confirmed(store, task.task_id) == task

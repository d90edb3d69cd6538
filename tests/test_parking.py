"""Parked threads (``ProducerToolkit(park=True)``): a song tool returns once the job is accepted,
the run ends, and the receiver's confirmed callback wakes the thread with a new run that
carries the finished song (``webhooks.wake_parked_threads``).

A whole agent (``create_agent``, a scripted model, a checkpointer and a store) runs against the
emulator on the real clock; the emulator POSTs each callback into an in-process receiver. What
the Agent Server does on ``runs.create`` (run the graph on that thread) is done by ``Local``,
which stands in for langgraph-sdk's client; ``make test-server`` does it on a real server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from langchain_producer import ProducerClient, ProducerToolkit, ProducerValidationError
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.webhooks import WAKE_NAME, aconfirmed, create_app, wake_parked_threads

SECRET = "park-secret-Zq8Lm3Vb7Nc2Xw5"
KEY = "api-key-parking-5e1c9a"
BASE = "http://receiver.test"
SONG = {"pending_seconds": 0.2, "processing_seconds": 1.0}
ASK = {"messages": [HumanMessage("a lo-fi beat for studying")]}


class OneSong(BaseChatModel):
    """Asks for one song; answers a tool result or a wake-up message with what it says."""

    @property
    def _llm_type(self) -> str:
        return "one-song"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> OneSong:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, HumanMessage) and last.name == WAKE_NAME:
            result = json.loads(str(last.content).split("\n", 2)[2])
            message = AIMessage(f"Your song is ready: {result['songs'][0]['audio_url']}")
        elif isinstance(last, ToolMessage):
            message = AIMessage(f"On its way (task {json.loads(str(last.content))['task_id']}).")
        else:
            call = {"name": "producer_generate_music", "args": {"prompt": "lo-fi"}}
            message = AIMessage("", tool_calls=[call | {"id": "call-1", "type": "tool_call"}])
        return ChatResult(generations=[ChatGeneration(message=message)])


class Local:
    """What ``wake_parked_threads`` asks of langgraph-sdk's client, done on a local graph: a
    ``runs.create`` runs the graph on the thread (as the Agent Server would, in the background)."""

    def __init__(self) -> None:
        self.graph: Any = None
        self.runs, self.threads = self, self
        self.created: list[dict[str, Any]] = []
        self.done: list[dict[str, Any]] = []

    async def get(self, thread_id: str) -> dict[str, Any]:
        return {"thread_id": thread_id, "metadata": {"assistant_id": "producer"}}

    async def create(self, thread_id: str, assistant_id: str, **run: Any) -> dict[str, Any]:
        self.created.append({"thread_id": thread_id, "assistant_id": assistant_id, **run})
        config = {"configurable": {"thread_id": thread_id}}
        self.done.append(await self.graph.ainvoke(run["input"], config))
        return {"run_id": f"run-{len(self.created)}"}


@pytest.fixture
def emu() -> Iterator[ProducerEmulator]:
    emulator = ProducerEmulator(api_key=KEY, **SONG)
    yield emulator
    emulator.webhooks.close()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def server(emu: ProducerEmulator, store: InMemoryStore) -> Local:
    """The receiver on the agent's store, waking threads through ``Local``."""
    local = Local()
    confirming = ProducerClient(api_key=KEY, transport=emu.transport)
    app = create_app(
        store=store, secret=SECRET, client=confirming, on_confirmed=wake_parked_threads(local)
    )
    emu.webhooks.async_transport = httpx.ASGITransport(app)
    return local


def agent(emu: ProducerEmulator, store: InMemoryStore, **settings: Any) -> Any:
    toolkit = ProducerToolkit(
        api_key=KEY,
        transport=emu.transport,
        callback_base_url=BASE,
        callback_secret=SECRET,
        poll_interval=0.2,
        **settings,
    )
    return create_agent(OneSong(), toolkit.get_tools(), checkpointer=InMemorySaver(), store=store)


def submissions(emu: ProducerEmulator) -> int:
    return sum(1 for r in emu.requests if r.url.path == "/producer/audios")


async def until(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_parked_run_ends_at_acceptance_and_the_callback_wakes_the_thread(
    emu: ProducerEmulator, store: InMemoryStore, server: Local
) -> None:
    graph = server.graph = agent(emu, store, park=True)
    config = {"configurable": {"thread_id": "thread-1"}}
    started = time.monotonic()
    first = await graph.ainvoke(ASK, config)
    took = time.monotonic() - started
    [tool] = [m for m in first["messages"] if isinstance(m, ToolMessage)]
    shown = json.loads(str(tool.content))
    assert took < 0.8, f"the parked run took {took:.2f} s; the song takes 1.2 s"
    assert shown["state"] in ("pending", "processing") and "songs" not in shown
    assert "new message" in shown["next_step"] and "do not poll" in shown["next_step"]
    assert shown["should_poll"] is False
    assert first["messages"][-1].content.startswith("On its way")
    assert not server.created  # nothing woken before the song is done

    await until(lambda: server.done)
    [run] = server.created
    assert run["thread_id"] == "thread-1" and run["assistant_id"] == "producer"
    assert run["multitask_strategy"] == "enqueue"
    assert run["metadata"] == {
        "producer_task_id": shown["task_id"],
        "producer_tool_call_id": "call-1",
    }
    state = await graph.aget_state(config)
    woken = state.values["messages"]
    wake = woken[-2]
    assert isinstance(wake, HumanMessage) and wake.name == WAKE_NAME
    assert f"Task {shown['task_id']} (producer_generate_music, tool call call-1)" in wake.content
    final = ProducerClient(api_key=KEY, transport=emu.transport).get_task(shown["task_id"])
    assert woken[-1].content == f"Your song is ready: {final.songs[0].audio_url}"
    assert submissions(emu) == 1


@pytest.mark.parametrize("mode", ["twice", "forged"])
async def test_a_repeated_or_forged_callback_wakes_the_thread_once_with_the_true_song(
    emu: ProducerEmulator, store: InMemoryStore, server: Local, mode: str
) -> None:
    emu.webhooks.mode = mode
    graph = server.graph = agent(emu, store, park=True)
    await graph.ainvoke(ASK, {"configurable": {"thread_id": "thread-2"}})
    await asyncio.sleep(0.3)
    assert not server.created  # a forged "succeeded" body while the task runs wakes nobody
    await until(lambda: server.done)
    await asyncio.sleep(0.5)  # the second delivery, if any, has come by now
    assert len(server.created) == 1 and len(emu.callbacks) == 2
    assert server.done[0]["messages"][-1].content.startswith("Your song is ready: http")
    assert submissions(emu) == 1


async def test_a_tool_that_waited_wakes_nobody(
    emu: ProducerEmulator, store: InMemoryStore, server: Local
) -> None:
    graph = server.graph = agent(emu, store)  # park=False: the song comes in the tool result
    result = await graph.ainvoke(ASK, {"configurable": {"thread_id": "thread-3"}})
    [tool] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert json.loads(str(tool.content))["state"] == "complete"
    await until(lambda: emu.callbacks)
    await asyncio.sleep(0.3)
    assert not server.created


async def test_a_resumed_parked_call_pays_nothing_and_parks_again(
    emu: ProducerEmulator, store: InMemoryStore
) -> None:
    toolkit = ProducerToolkit(
        api_key=KEY, transport=emu.transport, store=store, callback_url=f"{BASE}/hook", park=True
    )
    [tool] = toolkit.get_tools(["producer_generate_music"])
    call = {"name": tool.name, "args": {"prompt": "lo-fi"}, "id": "call-7", "type": "tool_call"}
    config = {"configurable": {"thread_id": "thread-4"}}
    first = json.loads(str((await tool.ainvoke(call, config)).content))
    again = json.loads(str((await tool.ainvoke(call, config)).content))
    assert again["task_id"] == first["task_id"] and submissions(emu) == 1
    assert "new message" in again["next_step"] and "songs" not in again
    [entry] = toolkit.journal.list("thread-4")
    assert entry.parked and entry.task_id == first["task_id"]


def test_a_call_outside_a_thread_cannot_park_and_waits_instead(
    emu: ProducerEmulator, store: InMemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    toolkit = ProducerToolkit(
        api_key=KEY,
        transport=emu.transport,
        store=store,
        callback_url=f"{BASE}/hook",
        poll_interval=0.2,
        park=True,
    )
    [tool] = toolkit.get_tools(["producer_generate_music"])
    with caplog.at_level(logging.WARNING, "langchain_producer"):
        shown = json.loads(tool.invoke({"prompt": "lo-fi"}))
    assert shown["state"] == "complete" and shown["songs"]
    assert "cannot park" in caplog.text


def test_parking_needs_a_callback_url_for_the_service_to_call() -> None:
    with pytest.raises(ProducerValidationError, match="park=True needs a callback URL"):
        ProducerToolkit(api_key=KEY, park=True)
    tools = ProducerToolkit(api_key=KEY, callback_url=f"{BASE}/hook", park=True).get_tools()
    described = {tool.name: tool.description for tool in tools}
    assert "do not poll" in described["producer_generate_music"]
    assert "poll producer_get_task" not in described["producer_generate_music"]


async def test_a_failing_wake_is_logged_and_the_confirmed_song_is_kept(
    emu: ProducerEmulator, store: InMemoryStore, server: Local, caplog: pytest.LogCaptureFixture
) -> None:
    graph = server.graph = agent(emu, store, park=True)

    async def refused(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise httpx.ConnectError("the Agent Server is restarting")

    server.create = refused  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, "langchain_producer"):
        first = await graph.ainvoke(ASK, {"configurable": {"thread_id": "thread-5"}})
        task_id = json.loads(str(first["messages"][-2].content))["task_id"]
        await until(lambda: emu.callbacks)
        await until(lambda: "on_confirmed failed" in caplog.text)
    assert emu.callbacks[0]["status"] == 200
    assert (await aconfirmed(store, task_id)).state == "complete"  # type: ignore[union-attr]


def test_the_callback_secret_shows_in_no_repr_dump_or_tool_definition() -> None:
    toolkit = ProducerToolkit(
        api_key=KEY, park=True, callback_base_url=BASE, callback_secret=SECRET
    )
    settings = toolkit.producer_client.settings
    assert settings.callback_url == f"{BASE}/producer/callback/{SECRET}"  # built, and used
    shown = [
        repr(toolkit),
        str(settings),
        repr(settings),
        json.dumps(settings.model_dump(mode="json")),
        settings.model_dump_json(),
        *(json.dumps(tool.tool_call_schema.model_json_schema()) for tool in toolkit.get_tools()),
        *(tool.description for tool in toolkit.get_tools()),
    ]
    assert all(SECRET not in text and KEY not in text for text in shown)

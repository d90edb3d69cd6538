"""Approval and the spending limit across a crash: LangGraph re-runs an interrupted tool call,
the journal resumes its paid task, and the person is never asked twice nor the call counted
twice."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command
from test_agent import ScriptedModel

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator

THREAD = {"configurable": {"thread_id": "t1"}}
ASK = {"messages": [HumanMessage("A song.")]}
APPROVE = Command(resume={"type": "approve"})


class Crash(BaseException):
    """The process dying: nothing catches it."""


class CrashAtFirstLookup(httpx.BaseTransport):
    """The emulator, except that the first task look-up (the song is accepted and its tool
    waits for it) kills the run."""

    def __init__(self, emu: ProducerEmulator) -> None:
        self.emu, self.crashed = emu, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/producer/tasks" and not self.crashed:
            self.crashed = True
            raise Crash
        return self.emu.transport.handle_request(request)


def agent_on(toolkit: ProducerToolkit) -> Any:
    model = ScriptedModel(
        script=[
            AIMessage(
                "",
                tool_calls=[
                    {"name": "producer_generate_music", "args": {"prompt": "x"}, "id": "c1"}
                ],
            ),
            AIMessage("Done."),
        ]
    )
    return create_agent(
        model, toolkit.get_tools(), checkpointer=InMemorySaver(), store=InMemoryStore()
    )


def assert_resumed_once(done: dict[str, Any], emu: ProducerEmulator, toolkit: Any) -> None:
    assert "__interrupt__" not in done, "the person is not asked again"
    (message,) = [m for m in done["messages"] if isinstance(m, ToolMessage)]
    content = json.loads(str(message.content))
    assert content["resumed"] is True and content["billed"] is False
    assert content["task_id"] in emu.tasks and content["state"] == "complete"
    assert len(emu.tasks) == 1, "one paid submission in all"
    assert toolkit.spending().paid_calls == 1, "counted once, within a limit of one"


def test_a_crash_after_approval_neither_asks_again_nor_pays_or_counts_twice() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)
    toolkit = ProducerToolkit(
        api_key="demo",
        http_client=httpx.Client(transport=CrashAtFirstLookup(emu)),
        poll_interval=0.01,
        max_poll_interval=0.02,
        approve_paid_calls=True,
        max_paid_calls=1,
    )
    agent = agent_on(toolkit)
    assert agent.invoke(ASK, THREAD)["__interrupt__"][0].value["tool"] == "producer_generate_music"
    with pytest.raises(Crash):
        agent.invoke(APPROVE, THREAD)
    assert len(emu.tasks) == 1, "the song was accepted before the crash"
    assert_resumed_once(agent.invoke(None, THREAD), emu, toolkit)


async def test_a_run_cancelled_after_approval_neither_asks_again_nor_pays_or_counts_twice() -> None:
    emu = ProducerEmulator(pending_seconds=0.1, processing_seconds=0.5)
    toolkit = ProducerToolkit(
        api_key="demo",
        transport=emu.transport,
        poll_interval=0.02,
        max_poll_interval=0.05,
        approve_paid_calls=True,
        max_paid_calls=1,
    )
    agent = agent_on(toolkit)
    assert (await agent.ainvoke(ASK, THREAD))["__interrupt__"]
    run = asyncio.create_task(agent.ainvoke(APPROVE, THREAD))
    while not emu.tasks:  # a shutdown while the accepted song is being made
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert_resumed_once(await agent.ainvoke(None, THREAD), emu, toolkit)

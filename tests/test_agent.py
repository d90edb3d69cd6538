"""Whole agents (``langchain.agents.create_agent``) driven by a scripted chat model, against the
emulator: what an agent actually sees in wait mode, in polling mode, on failure, and as events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.tools import PROGRESS_EVENT

Step = AIMessage | Callable[[list[BaseMessage]], AIMessage]
CONFIG = {"recursion_limit": 200}


class ScriptedModel(BaseChatModel):
    """Answers with the next scripted message (or what a callable makes of the conversation)."""

    script: list[Any]  # AIMessage or Step; Any keeps pydantic from coercing callables
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        index = len(self.seen) - 1
        step = self.script[index] if index < len(self.script) else AIMessage("(script ended)")
        message = step(messages) if callable(step) else step
        return ChatResult(generations=[ChatGeneration(message=message)])


def calls(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
    )


GENERATE = calls("producer_generate_music", {"prompt": "lo-fi beat for studying"}, "call-gen")
DONE = AIMessage("Here is your song.")
ASK = {"messages": [HumanMessage("Make me a lo-fi beat for studying.")]}


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.05, processing_seconds=0.15)


def toolkit(emu: ProducerEmulator, **settings: Any) -> ProducerToolkit:
    return ProducerToolkit(
        api_key="demo",
        transport=emu.transport,
        poll_interval=0.01,
        max_poll_interval=0.02,
        **settings,
    )


def tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def assert_finished_song(message: ToolMessage, emu: ProducerEmulator) -> None:
    content = json.loads(message.content)
    assert content["state"] == "complete"
    (song,) = content["songs"]
    assert song["audio_url"].startswith(emu.base_url + "/media/audio/")
    assert "/media/preview/" not in message.content
    assert message.artifact.is_complete
    assert emu.tasks[content["task_id"]].songs, "the song exists on the service"


# ---------------------------------------------------------------------------------------------
# a / d: wait mode: one tool call gives a finished song.


def test_wait_mode_one_call_gives_finished_song(emu: ProducerEmulator) -> None:
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    result = agent.invoke(ASK, CONFIG)
    (message,) = tool_messages(result)
    assert message.name == "producer_generate_music"
    assert message.tool_call_id == "call-gen"
    assert message.status != "error"
    assert_finished_song(message, emu)
    assert len(model.seen) == 2, "the model needed exactly one tool call"
    assert result["messages"][-1].content == "Here is your song."
    assert sum(r.url.path == "/producer/audios" for r in emu.requests) == 1


async def test_wait_mode_async(emu: ProducerEmulator) -> None:
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    result = await agent.ainvoke(ASK, CONFIG)
    (message,) = tool_messages(result)
    assert_finished_song(message, emu)
    assert len(model.seen) == 2
    assert sum(r.url.path == "/producer/audios" for r in emu.requests) == 1


# ---------------------------------------------------------------------------------------------
# b: no waiting: the agent polls producer_get_task itself.


def poll_until_complete(messages: list[BaseMessage]) -> AIMessage:
    last = messages[-1]
    assert isinstance(last, ToolMessage)
    content = json.loads(last.content)
    if content.get("state") in ("complete", "failed"):
        return DONE
    assert content.get("should_poll") is True
    time.sleep(0.02)  # a model that takes its time before polling again
    count = sum(isinstance(m, ToolMessage) for m in messages)
    return calls("producer_get_task", {"task_id": content["task_id"]}, f"call-poll-{count}")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_no_wait_mode_agent_polls_until_complete(emu: ProducerEmulator, mode: str) -> None:
    model = ScriptedModel(script=[GENERATE] + [poll_until_complete] * 40)
    agent = create_agent(model, toolkit(emu, wait=False, get_task_wait=0).get_tools())
    result = agent.invoke(ASK, CONFIG) if mode == "sync" else await agent.ainvoke(ASK, CONFIG)
    first, *polls = tool_messages(result)
    submitted = json.loads(first.content)
    assert submitted["state"] == "pending" and submitted["should_poll"] is True
    assert "producer_get_task" in submitted["next_step"]
    assert len(polls) >= 2, "the task should still be running at the first poll"
    assert all(p.name == "producer_get_task" for p in polls)
    assert_finished_song(polls[-1], emu)
    states = [json.loads(p.content)["state"] for p in polls]
    assert "processing" in states, "the agent should have seen the task while it streamed"
    for poll, state in zip(polls[:-1], states[:-1], strict=True):
        assert state in ("pending", "processing")
        assert "audio_url" not in poll.content
        assert "/media/" not in poll.content, "no preview URL may reach the model"
        assert json.loads(poll.content)["should_poll"] is True
    assert result["messages"][-1].content == "Here is your song."
    assert sum(r.url.path == "/producer/audios" for r in emu.requests) == 1


# ---------------------------------------------------------------------------------------------
# c: failures become messages, and the run ends normally.


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("server_error", "submission_uncertain"),
        ("used_up", "used_up"),
        ("connection", "connection_failed"),
    ],
)
async def test_api_failure_becomes_error_message(
    emu: ProducerEmulator, mode: str, failure: str, expected: str
) -> None:
    emu.fail_next(failure, times=10)
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu, max_retries=1).get_tools())
    result = agent.invoke(ASK, CONFIG) if mode == "sync" else await agent.ainvoke(ASK, CONFIG)
    (message,) = tool_messages(result)
    assert message.status == "error"
    content = json.loads(message.content)
    assert content["error"] == expected
    assert content["next_step"]
    if failure == "server_error":
        assert "not submit it again blindly" in content["next_step"]
    if failure == "used_up":
        assert "balance" in content["next_step"]
    assert len(model.seen) == 2, "the model got to read the error and answer"
    assert result["messages"][-1].content == "Here is your song."


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_failed_task_reaches_the_model_as_final(emu: ProducerEmulator, mode: str) -> None:
    emu.fail_next("task_failed")
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    result = agent.invoke(ASK, CONFIG) if mode == "sync" else await agent.ainvoke(ASK, CONFIG)
    (message,) = tool_messages(result)
    content = json.loads(message.content)
    assert content["state"] == "failed"
    assert content["error"] == "task_failed"
    assert "should_poll" not in content
    assert "/media/preview/" not in message.content
    assert len(model.seen) == 2


def test_invalid_arguments_become_a_message(emu: ProducerEmulator) -> None:
    bad = calls("producer_generate_music", {"prompt": "x", "weirdness": 7}, "call-bad")
    model = ScriptedModel(script=[bad, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    result = agent.invoke(ASK, CONFIG)
    (message,) = tool_messages(result)
    assert message.status == "error"
    assert "weirdness" in message.content
    assert not any(r.url.path == "/producer/audios" for r in emu.requests), "nothing billed"


# ---------------------------------------------------------------------------------------------
# e: progress events while the tool waits.


async def test_progress_events_in_astream_events(emu: ProducerEmulator) -> None:
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    events = [
        event
        async for event in agent.astream_events(ASK, CONFIG, version="v2")
        if event["event"] == "on_custom_event"
    ]
    progress = [e for e in events if e["name"] == PROGRESS_EVENT]
    assert len(progress) >= 2
    data = [e["data"] for e in progress]
    assert {d["tool"] for d in data} == {"producer_generate_music"}
    assert len({d["task_id"] for d in data}) == 1
    assert data[-1]["state"] == "complete"
    assert any(d["state"] in ("pending", "processing") for d in data[:-1])
    assert data[0]["task_id"] in emu.tasks


def test_progress_in_custom_stream_mode(emu: ProducerEmulator) -> None:
    model = ScriptedModel(script=[GENERATE, DONE])
    agent = create_agent(model, toolkit(emu).get_tools())
    chunks = list(agent.stream(ASK, CONFIG, stream_mode="custom"))
    progress = [chunk[PROGRESS_EVENT] for chunk in chunks if PROGRESS_EVENT in chunk]
    assert progress, chunks
    assert progress[-1]["state"] == "complete"
    assert any(p["state"] != "complete" for p in progress)

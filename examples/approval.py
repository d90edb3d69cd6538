"""Approval before paying: an agent that asks a person before each paid song.

``ProducerToolkit(approve_paid_calls=True)`` makes every paid tool pause the graph with
LangGraph's ``interrupt()`` before it sends anything. The program shows the person what will be
billed and resumes the graph with their answer: approve, edit the arguments, or reject with a
reason. A spending limit (``max_paid_calls``) caps what the agent can spend in any case.

Run it with ``python examples/approval.py``: offline, on the embedded emulator, with a scripted
chat model and a scripted person. Add ``--ask`` to answer the questions yourself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator

SONGS = ["rainy-day lo-fi hip hop", "death-metal lullaby", "a third song, just because"]
"""What the scripted model asks for, one paid song at a time."""

SCRIPTED_PERSON: list[dict[str, Any]] = [
    {"type": "approve"},
    {"type": "edit", "args": {"prompt": "gentle acoustic lullaby", "instrumental": True}},
    {"type": "reject", "message": "Two songs are enough for today."},
]
"""The person's answers, in order: approve, change the request, refuse."""


class ScriptedModel(BaseChatModel):
    """Asks for one song per turn from ``SONGS``, then sums up; no LLM needed."""

    @property
    def _llm_type(self) -> str:
        return "scripted-approval-demo"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        asked = sum(isinstance(m, ToolMessage) for m in messages)
        if asked < len(SONGS):
            call = {"name": "producer_generate_music", "args": {"prompt": SONGS[asked]}}
            reply = AIMessage("", tool_calls=[{**call, "id": f"call-song-{asked + 1}"}])
        else:
            reply = AIMessage("Made the songs you approved; skipped the one you refused.")
        return ChatResult(generations=[ChatGeneration(message=reply)])


def answer_from_terminal(question: dict[str, Any]) -> dict[str, Any]:
    reply = input("  approve? [y]es / [n]o / or type a new prompt: ").strip()
    if reply.lower() in ("", "y", "yes"):
        return {"type": "approve"}
    if reply.lower() in ("n", "no"):
        return {"type": "reject", "message": input("  why? ").strip() or None}
    return {"type": "edit", "args": {**question["args"], "prompt": reply}}


def main(ask: bool = False) -> int:
    emulator = ProducerEmulator(pending_seconds=0.2, processing_seconds=0.6)
    toolkit = ProducerToolkit(
        api_key="demo",
        transport=emulator.transport,
        poll_interval=0.1,
        approve_paid_calls=True,
        max_paid_calls=5,
    )
    agent = create_agent(ScriptedModel(), toolkit.get_tools(), checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "approval-demo"}}

    result = agent.invoke({"messages": [HumanMessage("Make me some songs.")]}, config)
    answers = iter(SCRIPTED_PERSON)
    while result.get("__interrupt__"):
        (pause,) = result["__interrupt__"]
        question = pause.value
        print(f"\nThe agent wants to call {question['tool']}:")
        print(f"  {question['description']}")
        print(f"  arguments: {json.dumps(question['args'])}")
        decision = answer_from_terminal(question) if ask else next(answers)
        print(f"  the person answers: {json.dumps(decision)}")
        result = agent.invoke(Command(resume=decision), config)

    print("\nWhat the agent saw:")
    for message in result["messages"]:
        if isinstance(message, ToolMessage):
            content = json.loads(str(message.content))
            if content.get("state") == "complete":
                urls = ", ".join(song["audio_url"] for song in content["songs"])
                print(f"  {message.tool_call_id}: complete, billed: {urls}")
            else:
                print(f"  {message.tool_call_id}: {content['error']}: {content['message']}")
    print(f"The agent: {result['messages'][-1].content}")

    spent = toolkit.spending()
    print(f"\nPaid calls: {spent.paid_calls} of {spent.max_paid_calls} allowed")
    for action, task_ids in spent.by_action.items():
        print(f"  {action}: {', '.join(task_ids)}")
    print(f"Submissions the service received: {len(emulator.tasks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(ask="--ask" in sys.argv[1:]))

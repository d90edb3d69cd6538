"""Approval before paying, end to end with a checkpointer: the toolkit's own ``interrupt()``
(``approve_paid_calls=True``) and LangChain's ``HumanInTheLoopMiddleware`` with
``toolkit.interrupt_on()``; approve, edit, reject, and answers that do not fit."""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import is_invalid_resume
from langgraph.types import Command
from packaging.version import Version
from pydantic import ValidationError
from test_agent import ScriptedModel
from test_spending import make_toolkit

from langchain_producer.emulator import ProducerEmulator
from langchain_producer.safety.approval import APPROVAL_REQUEST

AUDIOS = "/producer/audios"
ASK = {"messages": [HumanMessage("Make me a lo-fi beat.")]}
THREAD = {"configurable": {"thread_id": "t1"}}


def song_call(prompt: str = "lo-fi beat", call_id: str = "call-song") -> AIMessage:
    args = {"prompt": prompt}
    return AIMessage(
        "", tool_calls=[{"name": "producer_generate_music", "args": args, "id": call_id}]
    )


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.02, processing_seconds=0.05)


def submitted(emu: ProducerEmulator) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in emu.requests if r.url.path == AUDIOS]


def tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def agent_asking_first(emu: ProducerEmulator, *script: AIMessage, **settings: Any) -> Any:
    toolkit = make_toolkit(emu, approve_paid_calls=True, **settings)
    model = ScriptedModel(script=[*script, AIMessage("Done.")])
    return create_agent(model, toolkit.get_tools(), checkpointer=InMemorySaver())


# ---------------------------------------------------------------------------------------------
# approve_paid_calls=True: the tool itself pauses the graph.


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_approved_call_is_submitted_once_after_the_pause(
    emu: ProducerEmulator, mode: str
) -> None:
    agent = agent_asking_first(emu, song_call())

    async def run(value: Any) -> dict[str, Any]:
        if mode == "sync":
            return agent.invoke(value, THREAD)  # type: ignore[no-any-return]
        return await agent.ainvoke(value, THREAD)  # type: ignore[no-any-return]

    paused = await run(ASK)
    (question,) = paused["__interrupt__"]
    assert question.value["type"] == APPROVAL_REQUEST
    assert question.value["tool"] == "producer_generate_music"
    assert question.value["action"] == "generate"
    assert question.value["args"] == {"prompt": "lo-fi beat"}
    assert question.value["billable"] is True
    assert "billed" in question.value["description"]
    assert submitted(emu) == [], "nothing is sent before the answer"

    done = await run(Command(resume={"type": "approve"}))
    (message,) = tool_messages(done)
    content = json.loads(message.content)
    assert content["state"] == "complete" and content["billed"] is True
    assert [body["prompt"] for body in submitted(emu)] == ["lo-fi beat"]
    assert done["messages"][-1].content == "Done."


def test_rejected_call_sends_nothing_and_tells_the_model_why(emu: ProducerEmulator) -> None:
    agent = agent_asking_first(emu, song_call())
    agent.invoke(ASK, THREAD)
    done = agent.invoke(Command(resume={"type": "reject", "message": "too pricey"}), THREAD)
    (message,) = tool_messages(done)
    assert message.status == "error"
    content = json.loads(message.content)
    assert content["error"] == "rejected_by_reviewer"
    assert "too pricey" in content["message"] and "nothing was submitted" in content["message"]
    assert "Do not call it again" in content["next_step"]
    assert submitted(emu) == []
    assert done["messages"][-1].content == "Done.", "the model got to answer"


def test_edited_call_is_submitted_with_the_persons_arguments(emu: ProducerEmulator) -> None:
    agent = agent_asking_first(emu, song_call())
    agent.invoke(ASK, THREAD)
    edit = {"type": "edit", "args": {"prompt": "jazz trio", "instrumental": True}}
    done = agent.invoke(Command(resume=edit), THREAD)
    (message,) = tool_messages(done)
    assert json.loads(message.content)["state"] == "complete"
    (body,) = submitted(emu)
    assert body["prompt"] == "jazz trio" and body["instrumental"] is True


def test_an_edit_that_breaks_the_arguments_sends_nothing(emu: ProducerEmulator) -> None:
    agent = agent_asking_first(emu, song_call())
    agent.invoke(ASK, THREAD)
    edit = {"type": "edit", "args": {"prompt": "x", "weirdness": 7}}
    done = agent.invoke(Command(resume=edit), THREAD)
    (message,) = tool_messages(done)
    assert message.status == "error"
    content = json.loads(message.content)
    assert "edited arguments" in content["message"] and "weirdness" in content["message"]
    assert "nothing was submitted" in content["message"]
    assert submitted(emu) == []


@pytest.mark.parametrize(
    "answer",
    [True, "yes", {"type": "maybe"}, {"type": "edit"}, {"type": "approve", "args": {}}],
)
def test_a_malformed_answer_fails_the_resume_and_the_question_stays_open(
    emu: ProducerEmulator, answer: Any
) -> None:
    agent = agent_asking_first(emu, song_call())
    agent.invoke(ASK, THREAD)
    with pytest.raises(ValidationError) as error:
        agent.invoke(Command(resume=answer), THREAD)
    assert is_invalid_resume(error.value)
    assert submitted(emu) == []
    (still,) = agent.get_state(THREAD).interrupts
    assert still.value["type"] == APPROVAL_REQUEST
    done = agent.invoke(Command(resume={"type": "approve"}), THREAD)
    assert json.loads(tool_messages(done)[0].content)["state"] == "complete"
    assert len(submitted(emu)) == 1


def test_the_answer_reaches_a_human_through_a_clear_message(emu: ProducerEmulator) -> None:
    agent = agent_asking_first(emu, song_call())
    agent.invoke(ASK, THREAD)
    with pytest.raises(ValidationError, match="'type': 'approve'"):
        agent.invoke(Command(resume="yes"), THREAD)


def test_two_paid_calls_in_one_turn_are_answered_one_by_one(emu: ProducerEmulator) -> None:
    turn = AIMessage(
        "",
        tool_calls=[
            {"name": "producer_generate_music", "args": {"prompt": "one"}, "id": "c1"},
            {"name": "producer_generate_lyrics", "args": {"prompt": "two"}, "id": "c2"},
        ],
    )
    agent = agent_asking_first(emu, turn)
    paused = agent.invoke(ASK, THREAD)
    questions = {q.value["tool"]: q for q in paused["__interrupt__"]}
    assert set(questions) == {"producer_generate_music", "producer_generate_lyrics"}
    answers = {
        questions["producer_generate_music"].id: {"type": "approve"},
        questions["producer_generate_lyrics"].id: {"type": "reject"},
    }
    done = agent.invoke(Command(resume=answers), THREAD)
    by_tool = {m.name: m for m in tool_messages(done)}
    assert by_tool["producer_generate_music"].status != "error"
    assert by_tool["producer_generate_lyrics"].status == "error"
    assert len(submitted(emu)) == 1
    assert not any(r.url.path == "/producer/lyrics" for r in emu.requests)


def test_free_tools_never_ask(emu: ProducerEmulator) -> None:
    turn = AIMessage("", tool_calls=[{"name": "producer_list_models", "args": {}, "id": "c1"}])
    done = agent_asking_first(emu, turn).invoke(ASK, THREAD)
    assert "__interrupt__" not in done
    assert tool_messages(done)[0].status != "error"


def test_past_the_limit_nobody_is_asked(emu: ProducerEmulator) -> None:
    done = agent_asking_first(emu, song_call(), max_paid_calls=0).invoke(ASK, THREAD)
    assert "__interrupt__" not in done
    assert json.loads(tool_messages(done)[0].content)["error"] == "spending_limit_reached"
    assert submitted(emu) == []


def test_approval_needs_a_graph_with_a_checkpointer(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, approve_paid_calls=True)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    outside = json.loads(tool.invoke({"prompt": "x"}))
    assert outside["error"] == "approval_unavailable"
    assert "needs a LangGraph graph with a checkpointer" in outside["message"]
    assert "outside any LangGraph graph" in outside["message"]

    agent = create_agent(ScriptedModel(script=[song_call(), AIMessage("Done.")]), [tool])
    (message,) = tool_messages(agent.invoke(ASK))
    assert message.status == "error" and "in a graph without one" in message.content
    assert submitted(emu) == []


def test_a_thread_id_without_a_checkpointer_cannot_pause_either(emu: ProducerEmulator) -> None:
    # A configured thread is not a checkpointer (a graph run can have one without the other).
    toolkit = make_toolkit(emu, approve_paid_calls=True)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    agent = create_agent(ScriptedModel(script=[song_call(), AIMessage("Done.")]), [tool])
    (message,) = tool_messages(agent.invoke(ASK, {"configurable": {"thread_id": "t"}}))
    assert message.status == "error" and "in a graph without one" in message.content
    assert submitted(emu) == []


# ---------------------------------------------------------------------------------------------
# HumanInTheLoopMiddleware with toolkit.interrupt_on().


def test_interrupt_on_names_exactly_the_billable_tools(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu)
    mapping = toolkit.interrupt_on()
    assert set(mapping) == {t.name for t in toolkit.get_tools() if t.metadata["billable"]}
    assert len(mapping) == 13
    for config in mapping.values():
        assert config["allowed_decisions"] == ["approve", "edit", "reject"]


def agent_with_middleware(emu: ProducerEmulator, *script: AIMessage) -> Any:
    toolkit = make_toolkit(emu)
    middleware = HumanInTheLoopMiddleware(interrupt_on=toolkit.interrupt_on())
    model = ScriptedModel(script=[*script, AIMessage("Done.")])
    return create_agent(
        model, toolkit.get_tools(), middleware=[middleware], checkpointer=InMemorySaver()
    )


def test_middleware_shows_what_will_be_billed_then_approve(emu: ProducerEmulator) -> None:
    agent = agent_with_middleware(emu, song_call())
    paused = agent.invoke(ASK, THREAD)
    (question,) = paused["__interrupt__"]
    (request,) = question.value["action_requests"]
    assert request["name"] == "producer_generate_music"
    assert "billed" in request["description"] and '"prompt": "lo-fi beat"' in request["description"]
    assert submitted(emu) == []
    done = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), THREAD)
    assert json.loads(tool_messages(done)[0].content)["state"] == "complete"
    assert [b["prompt"] for b in submitted(emu)] == ["lo-fi beat"]


def test_middleware_edit(emu: ProducerEmulator) -> None:
    agent = agent_with_middleware(emu, song_call())
    agent.invoke(ASK, THREAD)
    edited = {"name": "producer_generate_music", "args": {"prompt": "sea shanty"}}
    decision = {"type": "edit", "edited_action": edited}
    done = agent.invoke(Command(resume={"decisions": [decision]}), THREAD)
    content = str(tool_messages(done)[-1].content)
    if Version(metadata.version("langchain")) >= Version("1.4.2"):  # LangChain's note, since 1.4.2
        assert content.startswith("Note: a human reviewer replaced this tool call")
    assert '"state":"complete"' in content and '"billed":true' in content
    assert [b["prompt"] for b in submitted(emu)] == ["sea shanty"]


def test_middleware_edit_with_invalid_arguments_sends_nothing(emu: ProducerEmulator) -> None:
    agent = agent_with_middleware(emu, song_call())
    agent.invoke(ASK, THREAD)
    edited = {"name": "producer_generate_music", "args": {"prompt": ""}}
    decision = {"type": "edit", "edited_action": edited}
    done = agent.invoke(Command(resume={"decisions": [decision]}), THREAD)
    message = tool_messages(done)[-1]
    assert message.status == "error" and "invalid_arguments" in message.content
    assert "Nothing was sent or billed" in message.content
    assert submitted(emu) == []


def test_middleware_reject(emu: ProducerEmulator) -> None:
    agent = agent_with_middleware(emu, song_call())
    agent.invoke(ASK, THREAD)
    decision = {"type": "reject", "message": "not today"}
    done = agent.invoke(Command(resume={"decisions": [decision]}), THREAD)
    message = tool_messages(done)[-1]
    assert message.status == "error" and "not today" in message.content
    assert submitted(emu) == []
    assert done["messages"][-1].content == "Done."


def test_approval_in_a_plain_state_graph_whose_node_calls_the_tool(
    emu: ProducerEmulator,
) -> None:
    from typing import TypedDict

    from langgraph.graph import START, StateGraph

    (tool,) = make_toolkit(emu, approve_paid_calls=True).get_tools(["producer_generate_lyrics"])

    class State(TypedDict):
        lyrics: str

    def write(state: State) -> State:
        message = tool.invoke(
            {"name": tool.name, "args": {"prompt": "a road trip"}, "id": "c1", "type": "tool_call"}
        )
        return {"lyrics": str(message.content)}

    graph = StateGraph(State)
    graph.add_node("write", write)
    graph.add_edge(START, "write")
    app = graph.compile(checkpointer=InMemorySaver())
    (question,) = app.invoke({"lyrics": ""}, THREAD)["__interrupt__"]
    assert question.value["action"] == "lyrics" and question.value["args"] == {
        "prompt": "a road trip"
    }
    assert not any(r.url.path == "/producer/lyrics" for r in emu.requests)
    done = app.invoke(Command(resume={"type": "approve"}), THREAD)
    assert json.loads(done["lyrics"])["billed"] is True
    assert sum(r.url.path == "/producer/lyrics" for r in emu.requests) == 1

"""Money as the vendor bills it (issue 15): an accepted song is billed only when it succeeds and
generally not when it fails; results, ``spending()`` and the store's ledger say so, while the
spending limit keeps counting acceptances (it must never let one more job start)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langgraph.store.memory import InMemoryStore
from test_spending import call, generate, make_toolkit, refused

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.safety.spending import NAMESPACE


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.02, processing_seconds=0.05)


def invoke(tool: Any, tool_call: dict[str, Any], mode: str) -> ToolMessage:
    if mode == "async":
        return asyncio.run(tool.ainvoke(tool_call))  # type: ignore[no-any-return]
    return tool.invoke(tool_call)  # type: ignore[no-any-return]


def song_tool(toolkit: ProducerToolkit) -> Any:
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    return tool


def ledger_states(store: InMemoryStore) -> list[str]:
    return [item.value["state"] for item in store.search((*NAMESPACE, "toolkit"))]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("with_store", [False, True], ids=["memory", "store"])
def test_a_song_that_fails_after_acceptance_is_not_billed_but_still_counted(
    emu: ProducerEmulator, mode: str, with_store: bool
) -> None:
    store = InMemoryStore() if with_store else None
    toolkit = make_toolkit(emu, max_paid_calls=1, store=store)
    emu.fail_next("task_failed")
    content = json.loads(invoke(song_tool(toolkit), generate(), mode).content)
    assert content["state"] == "failed"
    assert content["billed"] is False and "Not billed" in content["billing"]
    assert "spending limit" in content["spending_limit"]
    spent = toolkit.spending()
    assert spent.not_billed == {"generate": [content["task_id"]]}
    assert spent.billed == {} and spent.pending == {}
    assert spent.paid_calls == 1 and spent.remaining == 0, "the limit counted the acceptance"
    assert [c.billed for c in spent.calls] == [False]
    if store is not None:
        assert ledger_states(store) == ["failed"]
    assert refused(invoke(song_tool(toolkit), generate(), mode)), "no second job past the limit"


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("with_store", [False, True], ids=["memory", "store"])
def test_a_song_that_succeeds_is_billed(emu: ProducerEmulator, mode: str, with_store: bool) -> None:
    store = InMemoryStore() if with_store else None
    toolkit = make_toolkit(emu, max_paid_calls=2, store=store)
    content = json.loads(invoke(song_tool(toolkit), generate(), mode).content)
    assert content["state"] == "complete" and content["billed"] is True
    assert "spending_limit" not in content
    spent = toolkit.spending()
    assert spent.billed == {"generate": [content["task_id"]]}
    assert spent.not_billed == {} and spent.by_action == spent.billed
    if store is not None:
        assert ledger_states(store) == ["succeeded"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_job_followed_up_later_is_pending_until_a_look_up_sees_it_end(
    emu: ProducerEmulator, mode: str
) -> None:
    toolkit = make_toolkit(emu, wait=False, get_task_wait=5)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    ok = json.loads(invoke(tools["producer_generate_music"], generate("a"), mode).content)
    emu.fail_next("task_failed")
    bad = json.loads(invoke(tools["producer_generate_music"], generate("b"), mode).content)
    assert ok["billed"] == bad["billed"] == "if it succeeds"
    assert "Billed only if the task succeeds" in ok["billing"]
    spent = toolkit.spending()
    assert spent.pending == {"generate": [ok["task_id"], bad["task_id"]]} and spent.billed == {}

    batch = call("producer_get_tasks_batch", {"task_ids": [ok["task_id"], bad["task_id"]]})
    looked = json.loads(invoke(tools["producer_get_tasks_batch"], batch, mode).content)
    assert [t["state"] for t in looked["tasks"]] == ["complete", "failed"]
    assert "billed" not in looked, "a free look-up says nothing about billing"
    spent = toolkit.spending()
    assert spent.billed == {"generate": [ok["task_id"]]}
    assert spent.not_billed == {"generate": [bad["task_id"]]}
    assert spent.pending == {} and spent.paid_calls == 2


def test_a_single_look_up_also_settles_the_outcome(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, wait=False, get_task_wait=5)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    song = json.loads(tools["producer_generate_music"].invoke(generate()).content)
    task = call("producer_get_task", {"task_id": song["task_id"]})
    assert json.loads(tools["producer_get_task"].invoke(task).content)["state"] == "complete"
    assert toolkit.spending().billed == {"generate": [song["task_id"]]}


def test_a_synchronous_answer_is_billed_at_once(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu)
    (tool,) = toolkit.get_tools(["producer_generate_lyrics"])
    content = json.loads(tool.invoke(call(tool.name, {"prompt": "a road trip"})).content)
    assert content["billed"] is True and "response time" in content["billing"]
    assert toolkit.spending().billed == {"lyrics": [content["task_id"]]}


def test_a_resumed_call_adds_no_charge(emu: ProducerEmulator) -> None:
    from langchain_producer.tools._paid import result_content

    toolkit = make_toolkit(emu)
    tool = song_tool(toolkit)
    task = toolkit.producer_client.get_task(json.loads(tool.invoke(generate()).content)["task_id"])
    resumed = task.model_copy(update={"resumed": True})
    content = result_content(tool, {}, resumed)
    assert content["billed"] is False and "adds no charge" in content["billing"]


# ---------------------------------------------------------------------------------------------
# Traces: which runs cost money, which task they started, how they were billed.


class _Runs(BaseCallbackHandler):
    """Records what a callback handler (and LangSmith's tracer) sees of each tool run."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.ended: list[Any] = []

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self.started.append({"tags": kwargs.get("tags"), "metadata": kwargs.get("metadata")})

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.ended.append(output)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_callback_handler_sees_task_trace_id_and_billing_of_a_paid_run(
    emu: ProducerEmulator, mode: str
) -> None:
    toolkit = make_toolkit(emu)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    runs = _Runs()
    config: Any = {"callbacks": [runs]}
    song = generate()
    song["args"]["model"] = "FUZZ-2.0"
    if mode == "async":
        message = asyncio.run(tools["producer_generate_music"].ainvoke(song, config))
    else:
        message = tools["producer_generate_music"].invoke(song, config)
    content = json.loads(message.content)
    (start,) = runs.started
    assert {"producer", "billable"} <= set(start["tags"])
    assert start["metadata"]["billable"] is True
    assert start["metadata"]["producer_action"] == "generate"
    (end,) = runs.ended
    facts = end.response_metadata["producer"]
    assert facts["task_id"] == content["task_id"]
    assert facts["trace_id"] and facts["trace_id"] == message.artifact.trace_id
    assert facts["billed"] is True and facts["action"] == "generate"
    assert facts["model"] == "FUZZ-2.0" and "resumed" not in facts

    free = tools["producer_get_task"].invoke(
        call("producer_get_task", {"task_id": content["task_id"]}), config
    )
    assert {"producer", "free"} <= set(runs.started[-1]["tags"])
    assert "billed" not in free.response_metadata["producer"]
    assert free.response_metadata["producer"]["task_id"] == content["task_id"]

"""The spending limit (``max_paid_calls``), counted exactly in memory and in LangGraph's store,
and what the toolkit reports it spent; on the emulator, counting requests at the service."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from test_agent import ScriptedModel

from langchain_producer import Generate, ProducerToolkit, SpendingLimitError
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.safety.spending import NAMESPACE, SpendingGuard

AUDIOS = "/producer/audios"


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)


def make_toolkit(emu: ProducerEmulator, **settings: Any) -> ProducerToolkit:
    return ProducerToolkit(
        api_key="demo", transport=emu.transport, poll_interval=0.01, max_poll_interval=0.02,
        **settings,
    )  # fmt: skip


def submissions(emu: ProducerEmulator, path: str = AUDIOS) -> int:
    return sum(request.url.path == path for request in emu.requests)


def call(tool_name: str, args: dict[str, Any], call_id: str | None = None) -> dict[str, Any]:
    return {"name": tool_name, "args": args, "id": call_id or uuid4().hex, "type": "tool_call"}


def generate(prompt: str = "lo-fi beat", call_id: str | None = None) -> dict[str, Any]:
    return call("producer_generate_music", {"prompt": prompt}, call_id)


def refused(message: ToolMessage) -> bool:
    if message.status != "error":
        return False
    content = json.loads(message.content)
    return content["error"] == "spending_limit_reached"


# ---------------------------------------------------------------------------------------------
# Exact under concurrency: 20 paid calls against a limit of 5 submit exactly 5.


def test_twenty_threads_against_a_limit_of_five_submit_exactly_five(
    emu: ProducerEmulator,
) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=5, wait=False)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    with ThreadPoolExecutor(20) as pool:
        messages = list(pool.map(lambda i: tool.invoke(generate(f"song {i}")), range(20)))
    assert submissions(emu) == 5, "the service saw exactly five paid submissions"
    accepted = [m for m in messages if m.status != "error"]
    assert len(accepted) == 5 and sum(map(refused, messages)) == 15
    spent = toolkit.spending()
    assert spent.paid_calls == 5 and spent.remaining == 0
    assert sorted(spent.by_action["generate"]) == sorted(emu.tasks)
    assert sorted(json.loads(m.content)["task_id"] for m in accepted) == sorted(emu.tasks)


async def test_twenty_coroutines_against_a_limit_of_five_submit_exactly_five(
    emu: ProducerEmulator,
) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=5, wait=False)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    messages = await asyncio.gather(*(tool.ainvoke(generate(f"song {i}")) for i in range(20)))
    assert submissions(emu) == 5
    assert sum(map(refused, messages)) == 15
    assert sorted(toolkit.spending().by_action["generate"]) == sorted(emu.tasks)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_parallel_tool_calls_of_an_agent_counted_in_the_graphs_store(
    emu: ProducerEmulator, mode: str
) -> None:
    """create_agent runs one turn's tool calls side by side; the count lives in its store."""
    store = InMemoryStore()
    toolkit = make_toolkit(emu, max_paid_calls=5, wait=False)
    turn = AIMessage("", tool_calls=[generate(f"song {i}", f"call-{i}") for i in range(20)])
    agent = create_agent(
        ScriptedModel(script=[turn, AIMessage("Done.")]), toolkit.get_tools(), store=store
    )
    ask = {"messages": [HumanMessage("Twenty songs, please.")]}
    result = agent.invoke(ask) if mode == "sync" else await agent.ainvoke(ask)
    messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(messages) == 20
    assert submissions(emu) == 5
    assert sum(map(refused, messages)) == 15
    limit_note = json.loads(next(m for m in messages if refused(m)).content)
    assert "spending limit of 5 paid jobs is reached" in limit_note["message"]
    assert "nothing was submitted" in limit_note["message"]
    assert "Tell the user" in limit_note["next_step"]
    tickets = store.search((*NAMESPACE, "toolkit"), limit=100)
    assert len(tickets) == 5, "the store holds one ticket per accepted call"
    assert sorted(t.value["task_id"] for t in tickets) == sorted(emu.tasks)


# ---------------------------------------------------------------------------------------------
# The count in a store outlives the process and is shared by replicas.


def run_in_graph(toolkit: ProducerToolkit, store: Any, *prompts: str) -> list[ToolMessage]:
    """One agent turn calling the song tool once per prompt, on ``store``."""
    turn = AIMessage("", tool_calls=[generate(p, f"call-{i}") for i, p in enumerate(prompts)])
    agent = create_agent(
        ScriptedModel(script=[turn, AIMessage("Done.")]), toolkit.get_tools(), store=store
    )
    result = agent.invoke({"messages": [HumanMessage("Songs.")]})
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def test_a_sqlite_store_keeps_the_count_across_a_restart(
    emu: ProducerEmulator, tmp_path: Path
) -> None:
    from langgraph.store.sqlite import SqliteStore

    path = tmp_path / "store.sqlite"
    with SqliteStore.from_conn_string(str(path)) as store:
        store.setup()
        first = run_in_graph(make_toolkit(emu, max_paid_calls=3, wait=False), store, "a", "b")
    assert not any(map(refused, first)) and submissions(emu) == 2

    # A new process: a new toolkit and a new store object on the same file.
    with SqliteStore.from_conn_string(str(path)) as store:
        second = run_in_graph(make_toolkit(emu, max_paid_calls=3, wait=False), store, "c", "d")
    assert submissions(emu) == 3, "only one place was left after the restart"
    assert sum(map(refused, second)) == 1


def test_replicas_on_one_store_share_the_limit(emu: ProducerEmulator) -> None:
    store = InMemoryStore()
    replicas = [make_toolkit(emu, max_paid_calls=4, wait=False) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda t: run_in_graph(t, store, "a", "b", "c"), replicas))
    assert submissions(emu) == 4, "three replicas, nine calls, one shared limit of four"
    assert sum(refused(m) for messages in outcomes for m in messages) == 5


def test_per_thread_limit(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, max_paid_calls_per_thread=2, wait=False)
    store = InMemoryStore()
    tools = toolkit.get_tools()

    def turn(thread: str, count: int) -> list[ToolMessage]:
        calls = AIMessage("", tool_calls=[generate(f"{thread}-{i}") for i in range(count)])
        agent = create_agent(
            ScriptedModel(script=[calls, AIMessage("Done.")]),
            tools,
            store=store,
            checkpointer=InMemorySaver(),
        )
        result = agent.invoke(
            {"messages": [HumanMessage("Songs.")]}, {"configurable": {"thread_id": thread}}
        )
        return [m for m in result["messages"] if isinstance(m, ToolMessage)]

    first = turn("alice", 3)
    second = turn("bob", 2)
    assert sum(map(refused, first)) == 1 and not any(map(refused, second))
    assert submissions(emu) == 4
    note = json.loads(next(m for m in first if refused(m)).content)
    assert note["scope"] == "thread" and note["thread_id"] == "alice"
    assert "in thread 'alice'" in note["message"]


# ---------------------------------------------------------------------------------------------
# What counts: accepted and uncertain calls; not calls that failed before acceptance.


def test_a_call_refused_before_acceptance_gives_its_place_back(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=1, wait=False, max_retries=0)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    emu.fail_next("used_up")
    failed = tool.invoke(generate())
    assert json.loads(failed.content)["error"] == "used_up"
    assert toolkit.spending().paid_calls == 0
    accepted = tool.invoke(generate())
    # Accepted and still running (wait=False): billed only if it succeeds (the vendor bills
    # tasks on success).
    assert accepted.status != "error"
    assert json.loads(accepted.content)["billed"] == "if it succeeds"
    assert refused(tool.invoke(generate()))
    assert submissions(emu) == 2, "the refused one, the accepted one, and nothing after"


def test_an_uncertain_call_counts_and_says_so(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=1, wait=False, max_retries=0)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    emu.fail_next("server_error")
    uncertain = json.loads(tool.invoke(generate()).content)
    assert uncertain["error"] == "submission_uncertain"
    assert uncertain["billed"] == "unknown"
    assert "Counted against the spending limit" in uncertain["spending_limit"]
    spent = toolkit.spending()
    assert spent.paid_calls == 1 and len(spent.uncertain) == 1 and spent.by_action == {}
    assert refused(tool.invoke(generate()))
    assert submissions(emu) == 1


def test_zero_allows_no_paid_call_and_every_free_one(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, max_paid_calls=0)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    for name, args in [
        ("producer_generate_music", {"prompt": "x"}),
        ("producer_generate_lyrics", {"prompt": "x"}),
        ("producer_upload_audio", {"audio_url": "https://example.com/a.mp3"}),
        ("producer_generate_wav", {"audio_id": "a1"}),
    ]:
        message = tools[name].invoke(call(name, args))
        assert refused(message), name
        assert "limit of 0 paid jobs" in message.content
    assert emu.requests == [], "nothing at all was sent"
    models = tools["producer_list_models"].invoke(call("producer_list_models", {}))
    assert models.status != "error"
    task = make_toolkit(emu).producer_client.submit(Generate(prompt="a song to look up"))
    looked = tools["producer_get_task"].invoke(call("producer_get_task", {"task_id": task.task_id}))
    assert looked.status != "error" and json.loads(looked.content)["task_id"] == task.task_id


@pytest.mark.parametrize("bad", [-1, 1.5, "5", True, [3]])
@pytest.mark.parametrize("setting", ["max_paid_calls", "max_paid_calls_per_thread"])
def test_a_limit_that_is_not_a_whole_number_is_refused_at_construction(
    setting: str, bad: Any
) -> None:
    with pytest.raises(
        ValueError, match=rf"{setting} must be a whole number >= 0 \(0: no paid calls\) or None"
    ):
        ProducerToolkit(api_key="k", transport=ProducerEmulator().transport, **{setting: bad})


def test_the_guard_alone_refuses_past_its_limit() -> None:
    guard = SpendingGuard(max_paid_calls=1)
    guard.reserve("generate")(None)
    with pytest.raises(SpendingLimitError) as refusal:
        guard.reserve("generate")
    assert refusal.value.limit == 1 and refusal.value.scope == "toolkit"


# ---------------------------------------------------------------------------------------------
# Visibility: spending(), results that say they were billed, billable in the run's metadata.


def test_spending_lists_task_ids_by_action(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu, wait=False)
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    song = json.loads(tools["producer_generate_music"].invoke(generate()).content)
    lyrics = tools["producer_generate_lyrics"].invoke(
        call("producer_generate_lyrics", {"prompt": "a road trip"})
    )
    assert json.loads(lyrics.content)["billed"] is True
    tools["producer_list_models"].invoke(call("producer_list_models", {}))
    spent = toolkit.spending()
    assert spent.paid_calls == 2 and spent.max_paid_calls is None and spent.remaining is None
    assert spent.by_action["generate"] == [song["task_id"]]
    assert set(spent.by_action) == {"generate", "lyrics"}
    assert [c.tool for c in spent.calls] == ["producer_generate_music", "producer_generate_lyrics"]


def test_free_results_say_nothing_about_billing(emu: ProducerEmulator) -> None:
    toolkit = make_toolkit(emu)
    (models,) = toolkit.get_tools(["producer_list_models"])
    assert "billed" not in json.loads(models.invoke(call("producer_list_models", {})).content)


class _ToolStarts(BaseCallbackHandler):
    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {}

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self.metadata[serialized["name"]] = kwargs.get("metadata")


def test_a_callback_handler_sees_billable_in_the_tool_runs_metadata(
    emu: ProducerEmulator,
) -> None:
    handler = _ToolStarts()
    turn = AIMessage(
        "",
        tool_calls=[generate(), call("producer_list_models", {})],
    )
    agent = create_agent(
        ScriptedModel(script=[turn, AIMessage("Done.")]), make_toolkit(emu, wait=False).get_tools()
    )
    agent.invoke({"messages": [HumanMessage("A song.")]}, {"callbacks": [handler]})
    assert handler.metadata["producer_generate_music"]["billable"] is True
    assert handler.metadata["producer_list_models"]["billable"] is False


# ---------------------------------------------------------------------------------------------
# Several processes on one SQLite store: never more than the limit in total.

REPLICA = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from langgraph.store.sqlite import SqliteStore
from langchain_producer import ProducerClient
from langchain_producer.safety.spending import SpendingGuard
from langchain_producer.tools import GenerateMusicTool

base_url, path = sys.argv[1], sys.argv[2]
with SqliteStore.from_conn_string(path) as store:
    guard = SpendingGuard(max_paid_calls=5, store=store)
    tool = GenerateMusicTool(
        client=ProducerClient(api_key="demo", base_url=base_url), spending_guard=guard, wait=False
    )
    call = {"name": tool.name, "args": {"prompt": "x"}, "type": "tool_call"}
    with ThreadPoolExecutor(10) as pool:
        messages = list(pool.map(lambda i: tool.invoke({**call, "id": str(i)}), range(10)))
    errors = [json.loads(m.content)["error"] for m in messages if m.status == "error"]
    print(json.dumps({"accepted": 10 - len(errors), "errors": sorted(set(errors))}))
"""


def test_processes_sharing_a_sqlite_store_never_exceed_the_limit(tmp_path: Path) -> None:
    import subprocess
    import sys

    from langgraph.store.sqlite import SqliteStore

    path = str(tmp_path / "store.sqlite")
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
    emu = ProducerEmulator()
    with emu.serve() as server:
        replicas = [
            subprocess.Popen(
                [sys.executable, "-c", REPLICA, server.base_url, path],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = []
        for replica in replicas:
            out, err = replica.communicate(timeout=120)
            assert replica.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    accepted = sum(o["accepted"] for o in outcomes)
    assert 1 <= accepted <= 5, outcomes
    assert submissions(emu) == accepted, "each accepted call was sent once; no refused one was"
    assert {e for o in outcomes for e in o["errors"]} <= {"spending_limit_reached"}
    with SqliteStore.from_conn_string(path) as store:
        assert len(store.search((*NAMESPACE, "toolkit"), limit=100)) == accepted


class _FailingStore(InMemoryStore):
    """A store that stops answering after ``working`` writes."""

    def __init__(self, working: int) -> None:
        super().__init__()
        self.working = working

    def batch(self, ops: Any) -> Any:
        ops = list(ops)
        if any(type(op).__name__ == "PutOp" for op in ops):
            if self.working <= 0:
                raise ConnectionError("store down")
            self.working -= 1
        return super().batch(ops)


def test_a_store_that_fails_before_the_send_refuses_the_call(emu: ProducerEmulator) -> None:
    from langchain_producer.tools import GenerateMusicTool

    guard = SpendingGuard(max_paid_calls=5, store=_FailingStore(working=0))
    tool = GenerateMusicTool(
        client=make_toolkit(emu).producer_client, spending_guard=guard, wait=False
    )
    message = tool.invoke(generate())
    content = json.loads(message.content)
    assert message.status == "error" and content["error"] == "spending_store_failed"
    assert "store down" in content["message"] and "nothing was submitted" in content["message"]
    assert submissions(emu) == 0 and guard.spending().paid_calls == 0


def test_a_store_that_fails_after_acceptance_still_returns_the_task(
    emu: ProducerEmulator,
) -> None:
    from langchain_producer.tools import GenerateMusicTool

    guard = SpendingGuard(max_paid_calls=5, store=_FailingStore(working=1))
    tool = GenerateMusicTool(
        client=make_toolkit(emu).producer_client, spending_guard=guard, wait=False
    )
    message = tool.invoke(generate())
    assert message.status != "error"
    assert json.loads(message.content)["task_id"] in emu.tasks
    assert guard.spending().paid_calls == 1


async def test_async_tools_count_in_an_async_only_store(
    emu: ProducerEmulator, tmp_path: Path
) -> None:
    """AsyncSqliteStore refuses sync calls from its event loop: the count must be awaited."""
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "store.sqlite")) as store:
        await store.setup()
        toolkit = make_toolkit(emu, max_paid_calls=2, wait=False)
        turn = AIMessage("", tool_calls=[generate(f"song {i}", f"call-{i}") for i in range(4)])
        agent = create_agent(
            ScriptedModel(script=[turn, AIMessage("Done.")]), toolkit.get_tools(), store=store
        )
        result = await agent.ainvoke({"messages": [HumanMessage("Four songs.")]})
        messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
        assert submissions(emu) == 2
        assert sum(map(refused, messages)) == 2
        tickets = await store.asearch((*NAMESPACE, "toolkit"), limit=10)
        assert sorted(t.value["task_id"] for t in tickets) == sorted(emu.tasks)

"""A child process for the crash-resume tests: runs (or resumes) one LangGraph thread that makes
a song against the emulator's server, with a durable checkpointer and store.

    python tests/crash_worker.py {start|resume} KIND BACKEND BASE_URL PLACE

KIND: ``agent-sync``, ``agent-async`` (a ``create_agent`` agent whose tool makes the song) or
``graph-sync``, ``graph-async`` (a ``StateGraph`` whose node calls the client with ``key=``).
BACKEND: ``sqlite`` (PLACE is a folder for the two database files), ``sqlite-nostore`` (the
same without a store: the unprotected case) or ``postgres`` (PLACE is a connection URI).
``start`` runs the thread from the beginning (the test kills it while the song is made);
``resume`` continues it with ``invoke(None, config)`` and prints the outcome as one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypedDict

sys.path.insert(0, str(Path(__file__).parent))

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from test_agent import ScriptedModel, calls

from langchain_producer import Generate, ProducerClient, ProducerToolkit

THREAD = {"configurable": {"thread_id": "album-1"}, "recursion_limit": 50}
PROMPT = "lo-fi beat for studying"
JOURNAL_KEY = "album-1/track-3"
CLIENT = {"api_key": "crash-test", "poll_interval": 0.2, "max_poll_interval": 0.4}


def next_turn(messages: list[BaseMessage]) -> AIMessage:
    """The scripted model: ask for a song once, then say it is done (stateless, so a new
    process continues the conversation where the checkpoint left it)."""
    if any(isinstance(message, ToolMessage) for message in messages):
        return AIMessage("Here is your song.")
    return calls("producer_generate_music", {"prompt": PROMPT}, "call-song-1")


class SongState(TypedDict, total=False):
    prompt: str
    task_id: str
    state: str
    resumed: bool
    audio_url: str


def build(kind: str, base_url: str, checkpointer: Any, store: Any) -> Any:
    client = ProducerClient(base_url=base_url, **CLIENT)  # type: ignore[arg-type]
    if kind.startswith("agent"):
        tools = ProducerToolkit(client=client).get_tools(["producer_generate_music"])
        model = ScriptedModel(script=[next_turn] * 10)
        return create_agent(model, tools, checkpointer=checkpointer, store=store)

    def done(task: Any) -> SongState:
        audio = task.songs[0].audio_url if task.songs else None
        return {"task_id": task.task_id, "state": task.state, "resumed": task.resumed} | (
            {"audio_url": audio} if audio else {}
        )

    def make_song(state: SongState) -> SongState:
        return done(client.submit(Generate(prompt=state["prompt"]), key=JOURNAL_KEY, wait=True))

    async def amake_song(state: SongState) -> SongState:
        task = await client.asubmit(Generate(prompt=state["prompt"]), key=JOURNAL_KEY, wait=True)
        return done(task)

    graph = StateGraph(SongState)
    graph.add_node("make_song", amake_song if kind.endswith("async") else make_song)
    graph.add_edge(START, "make_song")
    graph.add_edge("make_song", END)
    return graph.compile(checkpointer=checkpointer, store=store)


@contextlib.contextmanager
def sync_persistence(backend: str, place: str) -> Iterator[tuple[Any, Any]]:
    if backend == "postgres":
        from langgraph.checkpoint.postgres import PostgresSaver
        from langgraph.store.postgres import PostgresStore

        with (
            PostgresSaver.from_conn_string(place) as saver,
            PostgresStore.from_conn_string(place) as store,
        ):
            saver.setup()
            store.setup()
            yield saver, store
        return
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.store.sqlite import SqliteStore

    with (
        SqliteSaver.from_conn_string(str(Path(place, "checkpoints.db"))) as saver,
        SqliteStore.from_conn_string(str(Path(place, "store.db"))) as store,
    ):
        store.setup()
        yield saver, (None if backend == "sqlite-nostore" else store)


@contextlib.asynccontextmanager
async def async_persistence(backend: str, place: str) -> AsyncIterator[tuple[Any, Any]]:
    if backend == "postgres":
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from langgraph.store.postgres.aio import AsyncPostgresStore

        async with (
            AsyncPostgresSaver.from_conn_string(place) as saver,
            AsyncPostgresStore.from_conn_string(place) as store,
        ):
            await saver.setup()
            await store.setup()
            yield saver, store
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async with (
        AsyncSqliteSaver.from_conn_string(str(Path(place, "checkpoints.db"))) as saver,
        AsyncSqliteStore.from_conn_string(str(Path(place, "store.db"))) as store,
    ):
        await store.setup()
        yield saver, (None if backend == "sqlite-nostore" else store)


def outcome(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    if kind.startswith("agent"):
        messages = result["messages"]
        tool = [m for m in messages if isinstance(m, ToolMessage)]
        return {
            "tool_contents": [json.loads(str(m.content)) for m in tool],
            "final": str(messages[-1].content),
        }
    return dict(result)


def main(phase: str, kind: str, backend: str, base_url: str, place: str) -> None:
    first = (
        {"messages": [HumanMessage("Make me a lo-fi beat.")]}
        if kind.startswith("agent")
        else {"prompt": PROMPT}
    )
    graph_input = first if phase == "start" else None
    if kind.endswith("async"):

        async def run() -> dict[str, Any]:
            async with async_persistence(backend, place) as (saver, store):
                graph = build(kind, base_url, saver, store)
                result: dict[str, Any] = await graph.ainvoke(graph_input, THREAD)
                return result

        result = asyncio.run(run())
    else:
        with sync_persistence(backend, place) as (saver, store):
            result = build(kind, base_url, saver, store).invoke(graph_input, THREAD)
    print(json.dumps(outcome(kind, result)), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])

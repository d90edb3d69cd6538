"""A LangGraph ``StateGraph``: the Producer tools in a ``ToolNode``, the client in a plain node.

The graph makes a song, asks for its WAV, then downloads both in an ordinary Python node that uses
the toolkit's ``ProducerClient`` directly (no tool, no model). The steps that call tools are
plain functions too, so the example runs offline, deterministically, on the embedded emulator
(set ``ACEDATACLOUD_API_TOKEN`` to use the real service). In a real agent those steps would be a
chat model bound to the tools.

Run: ``python examples/langgraph_graph.py`` (files land in ``./out/graph/``).
"""

from __future__ import annotations

import operator
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode

from langchain_producer import ProducerTask, ProducerToolkit, WavResult
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.tools import PROGRESS_EVENT

OUT = Path("out") / "graph"


class SongState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    prompt: str
    files: Annotated[list[str], operator.add]


def make_toolkit() -> tuple[ProducerToolkit, bool]:
    if os.environ.get("ACEDATACLOUD_API_TOKEN"):
        return ProducerToolkit(), False
    emulator = ProducerEmulator(pending_seconds=0.3, processing_seconds=1.0)
    return (
        ProducerToolkit(
            api_key="demo", transport=emulator.transport, poll_interval=0.2, max_poll_interval=0.4
        ),
        True,
    )


def _tool_call(name: str, **args: Any) -> AIMessage:
    call = {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:10]}"}
    return AIMessage("", tool_calls=[call])


def _last_result(state: SongState) -> ToolMessage:
    message = state["messages"][-1]
    assert isinstance(message, ToolMessage)
    return message


def build_graph(toolkit: ProducerToolkit) -> Any:
    tools = toolkit.get_tools(["producer_generate_music", "producer_generate_wav"])
    client = toolkit.producer_client

    def ask_for_song(state: SongState) -> dict[str, Any]:
        return {"messages": [_tool_call("producer_generate_music", prompt=state["prompt"])]}

    def ask_for_wav(state: SongState) -> dict[str, Any]:
        task = _last_result(state).artifact
        assert isinstance(task, ProducerTask)
        return {"messages": [_tool_call("producer_generate_wav", audio_id=task.songs[0].id)]}

    def download(state: SongState) -> dict[str, Any]:
        """A plain node: the typed client, no tool and no model."""
        files: list[str] = []
        for message in state["messages"]:
            artifact = getattr(message, "artifact", None)
            if isinstance(artifact, ProducerTask) and artifact.is_complete:
                files += [str(p) for p in client.download(artifact, OUT, kinds={"audio"})]
            elif isinstance(artifact, WavResult):
                files += [str(p) for p in client.download(artifact, OUT)]
        return {"files": files}

    def after_tools(state: SongState) -> str:
        result = _last_result(state)
        if result.status == "error":
            return END
        if result.name == "producer_generate_music":
            task = result.artifact
            return "ask_for_wav" if isinstance(task, ProducerTask) and task.is_complete else END
        return "download"

    graph = StateGraph(SongState)
    graph.add_node("ask_for_song", ask_for_song)
    graph.add_node("tools", ToolNode(tools))
    graph.add_node("ask_for_wav", ask_for_wav)
    graph.add_node("download", download)
    graph.add_edge(START, "ask_for_song")
    graph.add_edge("ask_for_song", "tools")
    graph.add_conditional_edges("tools", after_tools, ["ask_for_wav", "download", END])
    graph.add_edge("ask_for_wav", "tools")
    graph.add_edge("download", END)
    return graph.compile()


def main() -> int:
    toolkit, on_emulator = make_toolkit()
    if on_emulator:
        print("Running on the EMULATOR (offline stand-in for the Producer API, no token needed).")
    graph = build_graph(toolkit)
    files: list[str] = []
    inputs = {"messages": [], "prompt": "an upbeat chiptune for a level select screen"}
    for mode, chunk in graph.stream(inputs, stream_mode=["updates", "custom"]):
        if mode == "custom" and PROGRESS_EVENT in chunk:
            event = chunk[PROGRESS_EVENT]
            print(f"  ... {event['tool']}: {event['state']} {event.get('progress') or 0:.0f}%")
        elif mode == "updates":
            for node, update in chunk.items():
                print(f"[{node}]")
                files += (update or {}).get("files", [])
    print("Saved:" if files else "Nothing was saved.")
    for path in files:
        print(f"  {path}")
    toolkit.producer_client.close()
    return 0 if files else 1


if __name__ == "__main__":
    sys.exit(main())

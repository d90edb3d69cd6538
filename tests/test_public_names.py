"""The package uses LangChain and LangGraph through their public names only (issue 14).

A private name (``_something``, ``__pregel_*`` config keys) can change in any minor release and
break every tool call; these tests fail, naming the culprit, when one comes back. Also what the
public route must still deliver: the tool call id reaches the journal, unknown arguments of a
tool without arguments are refused, and a waiting tool beats LangGraph's heartbeat.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.tools import BaseTool

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.safety.context import CHECKPOINTER_KEY
from langchain_producer.tools import ALL_TOOLS

PACKAGE = Path(__file__).resolve().parent.parent / "langchain_producer"
UPSTREAM = ("langchain_core", "langchain", "langgraph")
PUBLIC_EXTENSION_POINTS = {"_run", "_arun"}
"""The methods LangChain documents for a ``BaseTool`` subclass to implement."""


class State(TypedDict, total=False):
    result: str


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(PACKAGE.rglob("*.py"))]


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def test_no_private_module_or_name_of_langchain_or_langgraph_is_imported() -> None:
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] not in UPSTREAM:
                    continue
                names = [alias.name for alias in node.names]
                if _private(node.module) or any(name.startswith("_") for name in names):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.module}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in UPSTREAM and _private(alias.name):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {alias.name}")
    assert not found, f"private upstream imports: {found}"


def test_one_langgraph_internal_config_key_is_read_in_one_place() -> None:
    found = [
        (str(path.relative_to(PACKAGE)), node.value)
        for path, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("__pregel")
    ]
    assert found == [("safety/context.py", CHECKPOINTER_KEY)], (
        f"LangGraph's private config keys are read in {found}: only the checkpointer, in "
        "safety/context.py, has no public equivalent"
    )


def test_langgraph_still_tells_a_node_whether_the_graph_has_a_checkpointer() -> None:
    # The pinned private read: when this fails, LangGraph renamed or dropped the key, and
    # approval falls back to the public (weaker) answer. Find the new public way, or the key.
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.config import get_config
    from langgraph.graph import END, START, StateGraph

    seen: list[Any] = []

    def node(state: State) -> State:
        configurable = get_config()["configurable"]
        assert CHECKPOINTER_KEY in configurable, (
            f"LangGraph no longer sets {CHECKPOINTER_KEY!r} in a node's config: "
            "safety/context.py must find another way to know whether interrupt() can pause"
        )
        seen.append(configurable[CHECKPOINTER_KEY])
        return {}

    builder = StateGraph(State)
    builder.add_node("n", node)
    builder.add_edge(START, "n")
    builder.add_edge("n", END)
    saver = InMemorySaver()
    config = {"configurable": {"thread_id": "t"}}
    builder.compile().invoke({}, config)
    builder.compile(checkpointer=saver).invoke({}, config)
    assert seen == [None, saver]


def _private_overrides(klass: type) -> set[str]:
    """Private methods of ``BaseTool`` (or its bases) that ``klass`` itself redefines."""
    upstream = {name for base in BaseTool.__mro__ for name in vars(base)}
    return {
        name
        for name, value in vars(klass).items()
        if (inspect.isfunction(value) or isinstance(value, property))
        and name.startswith("_")
        and not name.startswith("__")
        and name in upstream
        and name not in PUBLIC_EXTENSION_POINTS
    }


def test_no_tool_overrides_a_private_method_of_base_tool() -> None:
    found = {
        f"{klass.__name__}.{name}"
        for tool in ALL_TOOLS
        for klass in tool.__mro__
        if klass.__module__.startswith("langchain_producer")
        for name in _private_overrides(klass)
    }
    assert not found, f"overrides of BaseTool's private methods: {sorted(found)}"


def test_the_check_sees_a_private_override() -> None:
    # The test above must be able to fail: a tool that overrides a private method is found.
    class Sneaky(BaseTool):
        name: str = "sneaky"
        description: str = "x"

        def _to_args_and_kwargs(self, tool_input: Any, tool_call_id: Any) -> Any:
            raise NotImplementedError

        def _run(self) -> str:
            return ""

    assert _private_overrides(Sneaky) == {"_to_args_and_kwargs"}


def test_a_tool_without_arguments_refuses_unknown_ones_before_anything_runs() -> None:
    toolkit = ProducerToolkit(api_key="k", transport=ProducerEmulator().transport)
    tool = next(t for t in toolkit.get_tools() if t.name == "producer_list_models")
    call = {"type": "tool_call", "id": "c1", "name": tool.name, "args": {"modle": "x"}}
    message = tool.invoke(call)
    content = json.loads(message.content)
    assert content["error"] == "invalid_arguments"
    assert any("modle" in problem for problem in content["problems"])
    assert "default_model" in json.loads(
        tool.invoke({"type": "tool_call", **call, "args": {}}).content
    )


# --------------------------------------------------------------------------------------------
# LangGraph's idle timeout: a waiting tool's look-ups are heartbeats.

langgraph_types = pytest.importorskip("langgraph.types")
TimeoutPolicy = getattr(langgraph_types, "TimeoutPolicy", None)
needs_timeouts = pytest.mark.skipif(
    TimeoutPolicy is None, reason="this LangGraph has no TimeoutPolicy (added in 1.2)"
)


def _graph(node: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    policy = TimeoutPolicy(idle_timeout=0.5, refresh_on="heartbeat")  # type: ignore[misc]
    builder = StateGraph(State)
    builder.add_node("work", node, timeout=policy)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile()


@needs_timeouts
async def test_a_song_longer_than_the_idle_timeout_finishes_because_each_look_up_beats() -> None:
    emu = ProducerEmulator(pending_seconds=0.1, processing_seconds=1.5)
    toolkit = ProducerToolkit(
        api_key="k", transport=emu.transport, poll_interval=0.1, max_poll_interval=0.2
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "producer_generate_music")

    async def work(state: State) -> State:
        return {"result": await tool.ainvoke({"prompt": "a slow ballad"})}

    started = time.monotonic()
    out = await _graph(work).ainvoke({})
    assert time.monotonic() - started > 1.0  # longer than the idle timeout, twice over
    assert json.loads(out["result"])["state"] == "complete"


@needs_timeouts
async def test_the_idle_timeout_is_real_a_silent_wait_of_the_same_length_is_ended() -> None:
    async def work(state: State) -> State:
        await asyncio.sleep(1.5)
        return {"result": "done"}

    with pytest.raises(Exception, match=r"(?i)timeout|timed out"):
        await _graph(work).ainvoke({})

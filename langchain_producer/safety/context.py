"""What a call learns of the LangGraph run it is in, through LangGraph's public API only.

The one place that asks: the thread (``thread_id`` of the run's config), the graph's store,
whether ``interrupt()`` can pause the run, its custom stream, and its ``heartbeat()``. LangGraph
is optional: without it, or outside a graph run, every answer is "none".

- Inside a graph: ``langgraph.runtime.get_runtime()`` is set (a plain ``tool.invoke`` with a
  config has none).
- Can it pause? Only with a checkpointer, and no public API says whether there is one:
  ``runtime.execution_info.thread_id`` is documented (LangGraph 1.2) as None without one, but
  LangGraph 1.2.24 fills it from the config all the same. So the one private read of this
  package is here (``CHECKPOINTER_KEY``); ``tests/test_public_names.py`` fails, by name, when
  LangGraph stops setting it, and without it the public answer is used (a thread id).
- ``heartbeat()`` (LangGraph 1.2 and later) keeps an ``idle_timeout`` from ending a node that
  waits for a song; earlier versions have none, and nothing is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.runnables.config import ensure_config

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

CHECKPOINTER_KEY = "__pregel_checkpointer"
"""Where LangGraph puts the graph's checkpointer (None without one) in a node's config: private,
read only because no public API tells whether ``interrupt()`` can be resumed (see above)."""

NO_THREAD = "no_thread"
"""The thread label of calls made outside any LangGraph thread."""


def _nothing(*_: Any) -> None:
    return None


@dataclass(frozen=True)
class GraphContext:
    """What a tool can learn about the LangGraph run it is in.

    Attributes:
        thread_id: The run's thread, if any.
        store: The graph's store, if it has one.
        can_pause: Whether ``interrupt()`` can pause the run (it has a checkpointer).
        heartbeat: Tells LangGraph the node is alive (a no-op where LangGraph has none).
        write: Writes to the run's ``stream_mode="custom"`` stream.
    """

    thread_id: str | None
    store: BaseStore | None
    can_pause: bool
    heartbeat: Callable[[], None] = _nothing
    write: Callable[[Any], None] = _nothing


def _running_config() -> Mapping[str, Any]:
    """The config of the runnable this code runs in (empty outside any).

    LangGraph's ``get_config()`` hands it over as it is; langchain-core's ``ensure_config()``
    (used without LangGraph) copies it, callbacks and all, which costs every tool call.
    """
    try:
        from langgraph.config import get_config
    except ImportError:  # LangGraph is optional
        return ensure_config()
    try:
        return get_config()
    except RuntimeError:  # not inside a runnable
        return {}


def _thread_of(configurable: Mapping[str, Any]) -> str | None:
    thread = configurable.get("thread_id")
    return str(thread) if thread not in (None, "") else None


def current_thread_id() -> str | None:
    """The thread id of the LangGraph run (or runnable config) this code runs in, if any."""
    return _thread_of(_running_config().get("configurable") or {})


def graph_context() -> GraphContext | None:
    """The LangGraph run the caller is in, or None outside any graph run."""
    try:
        from langgraph.runtime import get_runtime
    except ImportError:  # LangGraph is optional
        return None
    try:
        runtime = get_runtime()
    except (RuntimeError, KeyError):  # not inside a runnable at all
        return None
    if runtime is None:
        return None  # a plain Runnable config (e.g. tool.invoke outside a graph)
    configurable = _running_config().get("configurable") or {}
    thread_id = _thread_of(configurable)
    if CHECKPOINTER_KEY in configurable:
        can_pause = configurable[CHECKPOINTER_KEY] is not None
    else:  # the public answer, exact where LangGraph keeps its documented promise
        info = getattr(runtime, "execution_info", None)  # LangGraph >= 1.2
        can_pause = (info.thread_id if info is not None else thread_id) is not None
    return GraphContext(
        thread_id=thread_id,
        store=runtime.store,
        can_pause=can_pause,
        heartbeat=getattr(runtime, "heartbeat", None) or _nothing,  # LangGraph >= 1.2
        write=runtime.stream_writer,
    )


def graph_store() -> BaseStore | None:
    """The store of the running LangGraph graph, if it has one."""
    context = graph_context()
    return context.store if context is not None else None

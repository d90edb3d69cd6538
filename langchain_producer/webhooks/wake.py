"""Parked threads, woken: a new run on the thread of a parked call once its task has ended.

With ``ProducerToolkit(park=True)`` a song tool returns as soon as the service accepts the job:
the model tells the user the song is on its way and the run ends, so no worker waits for
minutes. The journal entry of the call is marked ``parked``. When the service calls back and
the receiver has confirmed the task with the service, ``wake_parked_threads`` (the receiver's
``on_confirmed``) starts a run on that thread through langgraph-sdk's ``runs.create``, with one
message that carries the finished task as the tool would have shown it; the agent then tells
the user. Entries not parked (a tool that waited, a client call) wake nobody.

The message is a ``user`` message named ``producer``, labelled as the service's callback: every
chat model accepts a user message mid-conversation, which is not true of a system message. Pass
``message=`` to shape it otherwise.

Example:
    >>> from langchain_producer.safety.journal import JournalEntry
    >>> from langchain_producer.models import ProducerTask
    >>> entry = JournalEntry(key="call-1", thread_id="t-1", task_id="a1", action="generate",
    ...                      endpoint="/producer/audios", submitted_at="2026-12-03T10:00:00Z",
    ...                      digest="sha256:0", tool="producer_generate_music", parked=True)
    >>> task = ProducerTask(task_id="a1", state="failed")
    >>> wake_message(task, entry)["content"].splitlines()[0]
    '[Producer callback] Task a1 (producer_generate_music, tool call call-1) has ended.'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from langchain_producer.models import ProducerTask
from langchain_producer.safety.journal import JournalEntry
from langchain_producer.tools._content import task_content

if TYPE_CHECKING:
    from langgraph_sdk.client import LangGraphClient

logger = logging.getLogger("langchain_producer")

WAKE_NAME = "producer"
"""The ``name`` of the message a woken thread receives."""

Message = Callable[[ProducerTask, JournalEntry], dict[str, Any]]


def wake_message(task: ProducerTask, entry: JournalEntry) -> dict[str, Any]:
    """The message a parked thread is woken with: the finished task as the tool shows one."""
    view = task_content(task, poll_hint="call producer_get_task with this task_id")
    what = f"{entry.tool or entry.action}, tool call {entry.key}"
    content = (
        f"[Producer callback] Task {task.task_id} ({what}) has ended.\n"
        "The service called back and its state was confirmed with the service. Tell the user "
        "what became of it; its result:\n" + json.dumps(view, ensure_ascii=False)
    )
    return {"role": "user", "name": WAKE_NAME, "content": content}


def wake_parked_threads(
    client: LangGraphClient | None = None,
    *,
    assistant_id: str | None = None,
    message: Message = wake_message,
) -> Callable[[ProducerTask, JournalEntry], Awaitable[None]]:
    """The receiver's ``on_confirmed`` that wakes parked threads (``create_app(on_confirmed=)``).

    Args:
        client: A langgraph-sdk async client of the Agent Server the threads live on; None:
            ``langgraph_sdk.get_client()``, in process inside the Agent Server.
        assistant_id: The assistant (or graph id) to run; None: the one that last ran on the
            thread (its ``assistant_id`` metadata, which the Agent Server sets).
        message: Builds the woken run's one input message from the task and journal entry.

    The run is created with ``multitask_strategy="enqueue"``: if the thread is still busy (the
    song ended before the first run did), it runs right after.
    """

    async def wake(task: ProducerTask, entry: JournalEntry) -> None:
        if not entry.parked or entry.thread_id is None:
            return
        server = client
        if server is None:
            from langgraph_sdk import get_client

            server = get_client()
        assistant = assistant_id or await _assistant_of(server, entry.thread_id)
        run = await server.runs.create(
            entry.thread_id,
            assistant,
            input=cast("dict[str, Any]", {"messages": [message(task, entry)]}),
            metadata={"producer_task_id": task.task_id, "producer_tool_call_id": entry.key},
            multitask_strategy="enqueue",
        )
        logger.info(
            "Producer task %s: thread %s woken (run %s)",
            task.task_id,
            entry.thread_id,
            run.get("run_id"),
        )

    return wake


async def _assistant_of(server: LangGraphClient, thread_id: str) -> str:
    metadata = (await server.threads.get(thread_id)).get("metadata") or {}
    assistant = metadata.get("assistant_id") or metadata.get("graph_id")
    if not assistant:
        raise ValueError(
            f"Thread {thread_id} names no assistant in its metadata: pass assistant_id= to "
            "wake_parked_threads"
        )
    return str(assistant)


__all__ = ["WAKE_NAME", "Message", "wake_message", "wake_parked_threads"]

"""The journal of paid submissions, kept in a LangGraph ``BaseStore``.

Every paid call (the nine audio actions, lyrics, upload, video, WAV) that has a journal key is
recorded the moment the service accepts it, before any waiting: ``{task_id, action,
submitted_at, digest}``. Before submitting, the call looks its key up; a recorded call is not
sent again but resumed (``resumed=True`` and the original ``submitted_at`` on the result).
That is what makes a LangGraph graph safe to kill and resume: the re-run tool finds its own
earlier submission instead of paying a second time.

Where entries live: namespace ``("langchain_producer", "tasks", <thread>)`` and key
``<tool call id>`` for a tool in a LangGraph run, or the caller's ``key=`` for direct client
calls (``<thread>`` is the run's thread id, or ``"no_thread"`` outside a run). Which store:
the one given to ``ProducerClient(store=...)`` / ``ProducerToolkit(store=...)``, else the
running graph's own store (``langgraph.config.get_store()``), else none (no journal).

How entries go away: with a store that supports TTL (``SqliteStore``, ``PostgresStore``, the
Agent Server's) each entry is written with a TTL of ``ttl_minutes`` (7 days by default) and
the store's sweeper deletes it; on any store ``TaskJournal.prune(older_than=...)`` deletes
entries submitted before a given age.

Nothing here imports LangGraph at module level: it stays an optional dependency.

Example:
    >>> from langgraph.store.memory import InMemoryStore
    >>> from langchain_producer import Generate, ProducerClient
    >>> from langchain_producer.emulator import ProducerEmulator
    >>> emulator = ProducerEmulator(pending_seconds=0.1, processing_seconds=0.2)
    >>> client = ProducerClient(api_key="demo", transport=emulator.transport,
    ...                         poll_interval=0.1, store=InMemoryStore())
    >>> first = client.submit(Generate(prompt="lo-fi"), key="album-1/track-3")
    >>> again = client.submit(Generate(prompt="lo-fi"), key="album-1/track-3")
    >>> again.task_id == first.task_id, again.resumed, first.resumed
    (True, True, False)
    >>> [entry.key for entry in client.journal.list()]
    ['album-1/track-3']
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from langchain_producer.safety.context import NO_THREAD

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore


NAMESPACE: tuple[str, str] = ("langchain_producer", "tasks")
"""The namespace prefix of every journal entry; the thread label follows it."""
DEFAULT_TTL_MINUTES = 7 * 24 * 60.0
"""How long an entry lives in a store that supports TTL: a week, far past any song's wait."""


# --------------------------------------------------------------------------------------------
# What is recorded, and what the ``before_submit`` hook is told.


class JournalEntry(BaseModel):
    """One accepted paid call, as the journal keeps it.

    Attributes:
        key: The call's key: a tool call id, or the caller's ``key=``.
        thread_id: The LangGraph thread, None outside a run.
        task_id: The service's task id (None only if the service gave none).
        action: ``generate``, ``extend``, ..., ``lyrics``, ``upload``, ``video`` or ``wav``.
        endpoint: The API path the call went to.
        submitted_at: ISO-8601 UTC time the service accepted the call.
        digest: ``sha256:`` of the request's endpoint and arguments (never the API key).
        arguments: The request's arguments, to name it in errors and listings.
        tool: The tool that made the call, if any.
        result: The service's answer, for calls answered at once (lyrics, upload, video,
            WAV): a resumed call returns it without asking the service again.
        parked: The tool returned as soon as the task was accepted and its run ended: the
            receiver's ``wake_parked_threads`` starts a new run on ``thread_id`` when the
            task ends (``langchain_producer.webhooks``).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    thread_id: str | None = None
    task_id: str | None = None
    action: str
    endpoint: str
    submitted_at: str
    digest: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    tool: str | None = None
    result: dict[str, Any] | None = Field(default=None, repr=False)
    parked: bool = False


@dataclass(frozen=True)
class PaidRequest:
    """A paid request about to be sent: what ``before_submit`` hooks are given.

    Attributes:
        action: ``generate``, ``extend``, ``cover``, ``variation``, ``swap_vocals``,
            ``swap_instrumentals``, ``replace_section``, ``stems``, ``lyrics``, ``upload``,
            ``video`` or ``wav``.
        endpoint: The API path, e.g. ``/producer/audios``.
        arguments: The request's fields as the model or the user gave them (read-only).
        tool: The tool making the call, None for direct client use.
        key: The journal key, None when the call is not journalled.
        thread_id: The LangGraph thread of the run, None outside one.
        parked: The call returns at acceptance and its thread is woken by the receiver (only
            ever True for a journalled call in a thread: nothing else could be woken).
    """

    action: str
    endpoint: str
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    tool: str | None = None
    key: str | None = None
    thread_id: str | None = None
    parked: bool = False

    @property
    def digest(self) -> str:
        """What identifies the request: its endpoint and arguments (never the API key)."""
        text = json.dumps(
            {"endpoint": self.endpoint, "arguments": dict(self.arguments)},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


BeforeSubmit = Callable[[PaidRequest], Any]
"""Called just before a real paid request is sent (never on a resume). Raising aborts the call
with nothing sent (the exception propagates unchanged). It may return a ``settle`` callable,
called once after the send with None (accepted) or the exception (not, or maybe, accepted)."""
Settle = Callable[[BaseException | None], Any]


class PaidOptions(TypedDict, total=False):
    """The keywords every paid client method takes (see ``ProducerClient.submit``)."""

    key: str | None
    before_submit: BeforeSubmit | None


class PlanOptions(PaidOptions, total=False):
    """``PaidOptions`` plus the tool making the call (what the tools pass to the plans)."""

    tool: str | None


# --------------------------------------------------------------------------------------------
# The journal itself.


class TaskJournal:
    """The paid calls recorded in a LangGraph store: look them up, list and prune them.

    Args:
        store: Any ``langgraph.store.base.BaseStore`` (``InMemoryStore``, ``SqliteStore``,
            ``PostgresStore``, the Agent Server's).
        ttl_minutes: Lifetime of each entry in a store that supports TTL (None: no TTL).

    Examples:
        >>> from langgraph.store.memory import InMemoryStore
        >>> journal = TaskJournal(InMemoryStore())
        >>> journal.list("thread-1")
        []
    """

    def __init__(
        self, store: BaseStore, *, ttl_minutes: float | None = DEFAULT_TTL_MINUTES
    ) -> None:
        self.store = store
        self.ttl_minutes = ttl_minutes

    def __repr__(self) -> str:
        return f"TaskJournal(store={type(self.store).__name__})"

    @staticmethod
    def namespace(thread_id: str | None) -> tuple[str, ...]:
        """The namespace of one thread's entries (store labels may not hold ``.``)."""
        label = thread_id.replace("%", "%25").replace(".", "%2E") if thread_id else NO_THREAD
        return (*NAMESPACE, label.replace("\x00", "%00"))

    def _ttl(self) -> dict[str, Any]:
        supported = getattr(self.store, "supports_ttl", False)
        return {"ttl": self.ttl_minutes} if supported and self.ttl_minutes else {}

    def get(self, key: str, thread_id: str | None = None) -> JournalEntry | None:
        """The entry recorded under ``key`` in ``thread_id``, or None."""
        item = self.store.get(self.namespace(thread_id), key)
        return JournalEntry.model_validate(item.value) if item is not None else None

    async def aget(self, key: str, thread_id: str | None = None) -> JournalEntry | None:
        """Async ``get``."""
        item = await store_call(self.store.aget, self.store.get, self.namespace(thread_id), key)
        return JournalEntry.model_validate(item.value) if item is not None else None

    def record(self, entry: JournalEntry) -> None:
        """Write ``entry`` (an accepted call)."""
        self.store.put(
            self.namespace(entry.thread_id),
            entry.key,
            entry.model_dump(),
            index=False,
            **self._ttl(),
        )

    async def arecord(self, entry: JournalEntry) -> None:
        """Async ``record``."""
        await store_call(
            self.store.aput,
            self.store.put,
            self.namespace(entry.thread_id),
            entry.key,
            entry.model_dump(),
            index=False,
            **self._ttl(),
        )

    def delete(self, key: str, thread_id: str | None = None) -> None:
        """Forget one entry: the next call with this key submits (and pays) again."""
        self.store.delete(self.namespace(thread_id), key)

    def list(
        self, thread_id: str | None = None, *, all_threads: bool = False
    ) -> list[JournalEntry]:
        """The entries of one thread (``None``: calls made outside a run), oldest first.

        Args:
            thread_id: The LangGraph thread id.
            all_threads: List every thread's entries instead.
        """
        prefix = NAMESPACE if all_threads else self.namespace(thread_id)
        entries: list[JournalEntry] = []
        page = 100
        while True:
            items = self.store.search(prefix, limit=page, offset=len(entries))
            entries += [JournalEntry.model_validate(item.value) for item in items]
            if len(items) < page:
                return sorted(entries, key=lambda entry: entry.submitted_at)

    def prune(
        self, older_than: timedelta, *, thread_id: str | None = None, all_threads: bool = True
    ) -> int:
        """Delete entries submitted more than ``older_than`` ago; return how many.

        Prune only past the longest wait plus the longest time a crashed run may stay
        unresumed: a pruned call that is resumed afterwards is submitted (and paid) again.

        Args:
            older_than: The age past which entries go.
            thread_id: With ``all_threads=False``, only this thread's entries.
            all_threads: Every thread (the default).
        """
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        old = [
            entry
            for entry in self.list(thread_id, all_threads=all_threads)
            if entry.submitted_at < cutoff
        ]
        for entry in old:
            self.delete(entry.key, entry.thread_id)
        return len(old)


async def store_call(
    method: Callable[..., Awaitable[Any]], sync: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Call a store's async method; a sync-only store (``SqliteStore``) runs in a thread."""
    try:
        return await method(*args, **kwargs)
    except NotImplementedError:
        return await asyncio.to_thread(sync, *args, **kwargs)


__all__ = [
    "DEFAULT_TTL_MINUTES",
    "NAMESPACE",
    "NO_THREAD",
    "BeforeSubmit",
    "JournalEntry",
    "PaidOptions",
    "PaidRequest",
    "TaskJournal",
]

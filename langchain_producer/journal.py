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
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from langchain_producer import _api
from langchain_producer._api import Effect, Plan
from langchain_producer.errors import (
    JournalConflictError,
    JournalError,
    ProducerError,
    ProducerValidationError,
    TaskLostError,
    TaskNotFoundError,
)
from langchain_producer.models import ProducerTask

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
logger = logging.getLogger("langchain_producer")

NAMESPACE: tuple[str, str] = ("langchain_producer", "tasks")
"""The namespace prefix of every journal entry; the thread label follows it."""
NO_THREAD = "no_thread"
"""The thread label of entries written outside a LangGraph run (direct client use)."""
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
    """

    action: str
    endpoint: str
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    tool: str | None = None
    key: str | None = None
    thread_id: str | None = None

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
        item = await _async(self.store.aget, self.store.get, self.namespace(thread_id), key)
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
        await _async(
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


async def _async(
    method: Callable[..., Awaitable[Any]], sync: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Call a store's async method; a sync-only store (``SqliteStore``) runs in a thread."""
    try:
        return await method(*args, **kwargs)
    except NotImplementedError:
        return await asyncio.to_thread(sync, *args, **kwargs)


# --------------------------------------------------------------------------------------------
# Where the store and the thread come from.


def current_thread_id() -> str | None:
    """The thread id of the LangGraph run (or runnable config) this code runs in, if any."""
    try:
        from langchain_core.runnables.config import var_child_runnable_config
    except ImportError:  # pragma: no cover - langchain-core is a dependency
        return None
    config = var_child_runnable_config.get() or {}
    thread = (config.get("configurable") or {}).get("thread_id")
    return str(thread) if thread not in (None, "") else None


def graph_store() -> BaseStore | None:
    """The store of the running LangGraph graph, if it has one."""
    try:
        from langgraph.config import get_store
    except ImportError:  # LangGraph is optional
        return None
    try:
        return get_store()
    except (RuntimeError, KeyError, AttributeError):  # not in a graph run, or no store
        return None


# --------------------------------------------------------------------------------------------
# The paid-call flow, as plan steps (see ``langchain_producer._api``).


@dataclass(frozen=True)
class PaidCall:
    """One paid call's identity and hooks, resolved when the call starts."""

    request: PaidRequest
    journal: TaskJournal | None = None
    before_submit: BeforeSubmit | None = None


def paid_call(
    request: PaidRequest,
    *,
    store: BaseStore | None,
    before_submit: BeforeSubmit | None,
) -> PaidCall:
    """Resolve where a call is journalled: the given store, else the graph's; a key needed."""
    thread_id = current_thread_id()
    if request.key is not None:
        if not isinstance(request.key, str) or not request.key.strip():
            raise ProducerValidationError(
                f"key must be a non-empty string, got {request.key!r}.",
                hint="Name the call so a retry finds it, e.g. key='album-1/track-3'.",
            )
        store = store if store is not None else graph_store()
    request = PaidRequest(
        action=request.action,
        endpoint=request.endpoint,
        arguments=MappingProxyType(dict(request.arguments)),
        tool=request.tool,
        key=request.key if store is not None else None,
        thread_id=thread_id,
    )
    journal = TaskJournal(store) if store is not None and request.key is not None else None
    return PaidCall(request, journal, before_submit)


@dataclass(frozen=True)
class Submitted(Generic[T]):
    """How a paid call went: sent now (``result``) or found in the journal (``entry``)."""

    result: T | None
    entry: JournalEntry | None
    submitted_at: str
    warning: str | None = None

    @property
    def resumed(self) -> bool:
        return self.result is None

    def stamp(self, result: M) -> M:
        """``result`` (a pydantic model) marked with how it was obtained."""
        return result.model_copy(
            update={
                "resumed": self.resumed,
                "submitted_at": self.submitted_at,
                "journal_warning": self.warning,
            }
        )


def submit_once(
    call: PaidCall,
    send: Plan[T],
    *,
    task_id_of: Callable[[T], str | None],
    answer_of: Callable[[T], dict[str, Any] | None] = lambda _: None,
) -> Plan[Submitted[T]]:
    """Send a paid request once per journal key.

    A key already recorded is not sent again: the entry comes back to be resumed (after a
    check that it is the same request). Otherwise ``before_submit`` runs, the request is sent,
    and the accepted call is recorded before anything else happens.
    """
    request = call.request
    if call.journal is not None:
        entry: JournalEntry | None = yield _Lookup(call.journal, request)
        if entry is not None:
            if entry.digest != request.digest:
                raise _conflict(entry, request)
            logger.info("Producer %s task %s resumed from the journal", entry.action, entry.task_id)
            return Submitted(result=None, entry=entry, submitted_at=entry.submitted_at)
    settle: Settle | None = None
    if call.before_submit is not None:
        settle = yield _Hook(call.before_submit, request)
    try:
        result = yield from send
    except Exception as error:
        if settle is not None:
            yield _Settle(settle, error)
        raise
    if settle is not None:
        yield _Settle(settle, None)
    submitted_at = _utc_now()
    warning: str | None = None
    recorded: JournalEntry | None = None
    if call.journal is not None and request.key is not None:
        recorded = JournalEntry(
            key=request.key,
            thread_id=request.thread_id,
            task_id=task_id_of(result),
            action=request.action,
            endpoint=request.endpoint,
            submitted_at=submitted_at,
            digest=request.digest,
            arguments=dict(request.arguments),
            tool=request.tool,
            result=answer_of(result),
        )
        warning = yield _Record(call.journal, recorded)
    return Submitted(result=result, entry=recorded, submitted_at=submitted_at, warning=warning)


def resume_task(
    entry: JournalEntry, *, wait: bool, max_wait: float, schedule: _api.PollSchedule
) -> Plan[ProducerTask]:
    """Pick a journalled audio task up again: wait for it, or look at it once.

    A task that has finished since comes back at the first look, without waiting.
    """
    task_id = entry.task_id or ""
    try:
        if wait:
            return (yield from _api.wait(task_id, max_wait=max_wait, schedule=schedule))
        task: ProducerTask = yield _api.Lookup(task_id)
        yield _api.Progress(task)
        return task
    except TaskNotFoundError as error:
        raise TaskLostError(
            f"The journal holds task {task_id} ({entry.action}, submitted {entry.submitted_at} "
            f"under key {entry.key!r}), but the service no longer knows it. It was not "
            "submitted again.",
            hint=(
                "Ask the user before paying for it again; to resubmit on purpose, use a new key "
                "or delete the entry (TaskJournal.delete)."
            ),
            task_id=task_id,
            trace_id=error.trace_id,
        ) from error
    except ProducerError as error:
        if error.task_id:
            raise
        raise error.with_task(task_id) from error.__cause__


def answer_task_id(answer: Any) -> str | None:
    """The task id in an answer of a call answered at once (lyrics, upload, video, WAV)."""
    value = answer.get("task_id") if isinstance(answer, dict) else None
    return str(value) if value else None


def answer_of(answer: Any) -> dict[str, Any] | None:
    """What the journal keeps of such an answer: all of it (it is small)."""
    return dict(answer) if isinstance(answer, dict) else None


def recorded_answer(entry: JournalEntry | None) -> dict[str, Any]:
    """The answer a journal entry kept, for a resumed call answered at once."""
    if entry is None or entry.result is None:
        raise JournalError(
            f"The journal entry {entry.key if entry else None!r} has no recorded answer.",
            hint="Delete the entry (TaskJournal.delete) or use a new key.",
            task_id=entry.task_id if entry else None,
        )
    return entry.result


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _describe(action: str, arguments: Mapping[str, Any]) -> str:
    def short(value: Any) -> Any:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."

    shown = ", ".join(f"{name}={short(value)!r}" for name, value in sorted(arguments.items()))
    return f"{action}({shown})"


def _conflict(entry: JournalEntry, request: PaidRequest) -> JournalConflictError:
    return JournalConflictError(
        f"The journal key {request.key!r} (thread {request.thread_id or NO_THREAD}) already "
        f"holds another request: recorded {_describe(entry.action, entry.arguments)} as task "
        f"{entry.task_id} at {entry.submitted_at}; this call asks "
        f"{_describe(request.action, request.arguments)}. Nothing was submitted.",
        hint=(
            "Use a new key for a new request, or repeat the recorded request to resume it "
            "(follow the recorded task with producer_get_task)."
        ),
        task_id=entry.task_id,
    )


class _Lookup(Effect):
    def __init__(self, journal: TaskJournal, request: PaidRequest) -> None:
        self.journal, self.request = journal, request

    def run(self) -> JournalEntry | None:
        try:
            return self.journal.get(self.request.key or "", self.request.thread_id)
        except Exception as error:
            raise self._unreadable(error) from error

    async def arun(self) -> JournalEntry | None:
        try:
            return await self.journal.aget(self.request.key or "", self.request.thread_id)
        except Exception as error:
            raise self._unreadable(error) from error

    def _unreadable(self, error: Exception) -> JournalError:
        return JournalError(
            f"Could not read the task journal ({type(error).__name__}: {error}), so the "
            f"{self.request.action} request was not submitted: it might already be running "
            "and would be paid twice.",
            hint="Nothing was sent or billed. Call again once the store answers.",
        )


class _Record(Effect):
    def __init__(self, journal: TaskJournal, entry: JournalEntry) -> None:
        self.journal, self.entry = journal, entry

    def run(self) -> str | None:
        try:
            self.journal.record(self.entry)
        except Exception as error:
            return self._warning(error)
        return None

    async def arun(self) -> str | None:
        try:
            await self.journal.arecord(self.entry)
        except Exception as error:
            return self._warning(error)
        return None

    def _warning(self, error: Exception) -> str:
        logger.warning(
            "Producer task %s accepted but not journalled: %s", self.entry.task_id, error
        )
        return (
            f"The journal could not record task {self.entry.task_id} "
            f"({type(error).__name__}: {error}). It was submitted once and is not submitted "
            "again; if this run is interrupted, follow the task with producer_get_task "
            "instead of resubmitting."
        )


class _Hook(Effect):
    def __init__(self, hook: BeforeSubmit, request: PaidRequest) -> None:
        self.hook, self.request = hook, request

    def run(self) -> Settle | None:
        outcome = self.hook(self.request)
        if inspect.isawaitable(outcome):
            close = getattr(outcome, "close", None)
            if close is not None:
                close()  # never awaited: silence "coroutine was never awaited"
            raise ProducerValidationError(
                "before_submit returned an awaitable in a synchronous call; nothing was sent.",
                hint="Give a plain function for sync calls, or use the async method.",
            )
        return outcome if callable(outcome) else None

    async def arun(self) -> Settle | None:
        outcome = self.hook(self.request)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return outcome if callable(outcome) else None


class _Settle(Effect):
    def __init__(self, settle: Settle, error: BaseException | None) -> None:
        self.settle, self.error = settle, error

    def run(self) -> None:
        try:
            outcome = self.settle(self.error)
            if inspect.isawaitable(outcome):
                getattr(outcome, "close", lambda: None)()
                raise TypeError("a settle callable of a sync call must not be async")
        except Exception:  # the paid task id must still reach the caller
            logger.exception("before_submit's settle callable failed")

    async def arun(self) -> None:
        try:
            outcome = self.settle(self.error)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("before_submit's settle callable failed")


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

"""The paid-call flow as plan steps (see ``langchain_producer.protocol``): look the journal up,
ask ``before_submit``, send once, record the accepted call before any waiting, or resume.

``ProducerClient``'s paid plans are built from these; the public side of the journal (entries,
``TaskJournal``, where the store and thread come from) is ``langchain_producer.safety.journal``.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from langchain_producer.errors import (
    JournalConflictError,
    JournalError,
    ProducerError,
    ProducerValidationError,
    TaskLostError,
    TaskNotFoundError,
)
from langchain_producer.models import ProducerTask
from langchain_producer.protocol import polling
from langchain_producer.protocol.steps import Effect, Plan, effect, lookup, progress, wall_clock
from langchain_producer.safety.context import NO_THREAD, current_thread_id, graph_store
from langchain_producer.safety.journal import (
    BeforeSubmit,
    JournalEntry,
    PaidRequest,
    Settle,
    TaskJournal,
)

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
logger = logging.getLogger("langchain_producer")


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
        if store is None:
            # The caller named the call to be protected; say plainly that it is not.
            logger.warning(
                "Producer %s call key %r is not journalled: no store (pass store= or run in a "
                "graph with a store); a retry after a crash would pay again",
                request.action,
                request.key,
            )
    journal = TaskJournal(store) if store is not None and request.key is not None else None
    parked = request.parked and journal is not None and thread_id is not None
    if request.parked and not parked:
        logger.warning(
            "Producer %s call cannot park (no LangGraph thread with a store to wake): it "
            "waits instead",
            request.action,
        )
    request = PaidRequest(
        action=request.action,
        endpoint=request.endpoint,
        arguments=MappingProxyType(dict(request.arguments)),
        tool=request.tool,
        key=request.key if store is not None else None,
        thread_id=thread_id,
        parked=parked,
    )
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
        entry = yield from effect(_Lookup(call.journal, request))
        if entry is not None:
            if entry.digest != request.digest:
                raise _conflict(entry, request)
            logger.info("Producer %s task %s resumed from the journal", entry.action, entry.task_id)
            return Submitted(result=None, entry=entry, submitted_at=entry.submitted_at)
    settle: Settle | None = None
    if call.before_submit is not None:
        settle = yield from effect(_Hook(call.before_submit, request))
    try:
        result = yield from send
    except Exception as error:
        if settle is not None:
            yield from effect(_Settle(settle, error))
        raise
    if settle is not None:
        yield from effect(_Settle(settle, None))
    # The driver's clock, not this machine's: the plan stays pure and tests can pin it.
    submitted_at = _iso_utc((yield from wall_clock()))
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
            parked=request.parked,
        )
        warning = yield from effect(_Record(call.journal, recorded))
    return Submitted(result=result, entry=recorded, submitted_at=submitted_at, warning=warning)


def resume_task(
    entry: JournalEntry,
    *,
    wait: bool,
    max_wait: float,
    schedule: polling.PollSchedule,
    listen: Any = None,
) -> Plan[ProducerTask]:
    """Pick a journalled audio task up again: wait for it, or look at it once.

    A task that has finished since comes back at the first look, without waiting. ``listen``:
    the store of confirmed callbacks, as ``polling.wait`` takes it.
    """
    task_id = entry.task_id or ""
    try:
        if wait:
            return (
                yield from polling.wait(
                    task_id, max_wait=max_wait, schedule=schedule, listen=listen
                )
            )
        task = yield from lookup(task_id)
        yield from progress(task)
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


def recorded_answer(entry: JournalEntry | None) -> dict[str, Any]:
    """The answer a journal entry kept, for a resumed call answered at once."""
    if entry is None or entry.result is None:
        raise JournalError(
            f"The journal entry {entry.key if entry else None!r} has no recorded answer.",
            hint="Delete the entry (TaskJournal.delete) or use a new key.",
            task_id=entry.task_id if entry else None,
        )
    return entry.result


def _iso_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


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


class _Lookup(Effect[JournalEntry | None]):
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


class _Record(Effect[str | None]):
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


class _Hook(Effect[Settle | None]):
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


class _Settle(Effect[None]):
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

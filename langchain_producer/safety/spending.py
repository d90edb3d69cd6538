"""Spending limits on paid calls, counted exactly, and what was spent.

``ProducerToolkit(max_paid_calls=N)`` gives its paid tools one ``SpendingGuard``. Right before a
paid request is sent, the guard *reserves* a place under each limit that applies; the request is
sent only if every reservation succeeded. After the send the reservation is *settled*: kept when
the service accepted the call (or may have: ``SubmissionUncertainError``), released when it
failed before acceptance. A call that is never sent (refused, rejected by a person, resumed from
the journal) never reserves anything, so it never counts.

Where the count lives:

- Always in this process's memory, under a lock: the toolkit itself never lets more than N paid
  calls through, whatever the threads or event loops.
- Also in a LangGraph ``BaseStore`` when there is one (the running graph's store, else the
  guard's own): the count then survives restarts and is shared by every process using that
  store. ``BaseStore`` has no compare-and-swap, so each reservation is a ticket: the process
  writes its own item, then counts the items, and withdraws its ticket if it sees more than the
  limit. Every process that went ahead read after writing, so the last of them to read saw all
  the others' tickets: never more than N calls go ahead in total (with any store whose reads see
  earlier writes, as SQLite and PostgreSQL do). Two processes racing for the last place may both
  withdraw, so across processes the limit can be under-used at the edge, never over-spent.
  Within one process, reservations on one store are serialized, so the count is exact.
- A process killed between reserving and settling leaves its ticket in the store: the call may
  have been sent, so it keeps counting (the safe side).
- Async tools do the counting in a worker thread (the guard's locks are threads' locks, and an
  async-only store such as ``AsyncSqliteStore`` refuses sync calls from its own event loop).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from langchain_producer.errors import (
    ProducerValidationError,
    SpendingLimitError,
    SubmissionUncertainError,
)
from langchain_producer.models import ProducerTask
from langchain_producer.safety.billing import IF_IT_SUCCEEDS, UNKNOWN, Billed
from langchain_producer.safety.context import NO_THREAD
from langchain_producer.safety.ledgers import NAMESPACE as NAMESPACE  # where the counts live
from langchain_producer.safety.ledgers import MemoryLedger, Scope, StoreLedger
from langchain_producer.safety.repeats import SentCalls

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore


Settle = Callable[[BaseException | None], None]


def check_limit(value: Any, name: str) -> int | None:
    """``value`` as a spending limit: None (no limit) or a whole number >= 0.

    Raises:
        ProducerValidationError: Anything else (a bool, a float, a string, a negative number).
    """
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ProducerValidationError(
        f"{name} must be a whole number >= 0 (0: no paid calls) or None (no limit), got {value!r}."
    )


@dataclass(frozen=True)
class SpentCall:
    """One paid call that went out through a guarded tool.

    Attributes:
        action: The Producer action (``generate``, ``extend``, ..., ``lyrics``, ``wav``).
        tool: The tool that made it.
        thread_id: The LangGraph thread, or None outside one.
        state: ``accepted`` (the service took it; billed only if it succeeds), ``succeeded``
            (billed), ``failed`` (not billed, as the vendor generally does not bill failed
            tasks), ``uncertain`` (the answer was lost: it may have been accepted, so it counts)
            or ``sending`` (sent, answer not back yet). A call moves from ``accepted`` to
            ``succeeded`` or ``failed`` when the toolkit's own tools see its task end.
        task_id: The paid task id, once known.
        at: When it was reserved (seconds since the epoch).
    """

    action: str
    tool: str | None
    thread_id: str | None
    state: Literal["sending", "accepted", "succeeded", "failed", "uncertain"]
    task_id: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def billed(self) -> Billed:
        """True (succeeded), False (failed), ``"if it succeeds"`` or ``"unknown"``."""
        if self.state == "succeeded":
            return True
        if self.state == "failed":
            return False
        return IF_IT_SUCCEEDS if self.state == "accepted" else UNKNOWN


@dataclass(frozen=True)
class Spending:
    """What a toolkit's paid tools spent in this process (``ProducerToolkit.spending()``).

    The limit counts what the service accepted (whatever became of it: the safe side, it can
    never let one more job start than it allows); the vendor bills what succeeded.

    Attributes:
        paid_calls: Calls that count against the limit: accepted (any outcome), uncertain or
            being sent.
        max_paid_calls: The toolkit's limit (None: none).
        remaining: Paid calls still allowed by that limit here (None: no limit).
        by_action: Task ids of the accepted calls, by action, whatever their outcome.
        billed: Task ids of the calls that succeeded (billed), by action.
        not_billed: Task ids of the calls whose task failed (generally not billed), by action.
        pending: Task ids of accepted calls whose outcome no tool has seen yet (billed if
            they succeed), by action.
        uncertain: Calls whose acceptance is unknown (they count, and may be billed).
        calls: Every counted call, oldest first.
    """

    paid_calls: int
    max_paid_calls: int | None
    remaining: int | None
    by_action: dict[str, list[str]]
    uncertain: tuple[SpentCall, ...]
    calls: tuple[SpentCall, ...]
    billed: dict[str, list[str]] = field(default_factory=dict)
    not_billed: dict[str, list[str]] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Ledgers: where reservations are counted.


def _label(thread_id: str) -> str:
    # Store namespace labels may not contain dots or be empty.
    return thread_id.replace("%", "%25").replace(".", "%2E") or "%00"


# ---------------------------------------------------------------------------------------------
# The guard.


class SpendingGuard:
    """Enforces the spending limits of a toolkit's paid tools and records what they spent.

    Args:
        max_paid_calls: Paid calls allowed through these tools in all (None: no limit; 0: none).
        max_paid_calls_per_thread: Paid calls allowed per LangGraph thread (calls outside any
            thread share one count).
        store: A ``BaseStore`` to count in when a call does not run in a graph that has one.

    Examples:
        >>> guard = SpendingGuard(max_paid_calls=1)
        >>> settle = guard.reserve("generate", tool="producer_generate_music")
        >>> settle(None)  # the service accepted it
        >>> guard.reserve("generate", tool="producer_generate_music")
        Traceback (most recent call last):
        ...
        langchain_producer.errors.SpendingLimitError: The spending limit of 1 paid job is ...
    """

    def __init__(
        self,
        *,
        max_paid_calls: int | None = None,
        max_paid_calls_per_thread: int | None = None,
        store: BaseStore | None = None,
    ) -> None:
        self.max_paid_calls = check_limit(max_paid_calls, "max_paid_calls")
        self.max_paid_calls_per_thread = check_limit(
            max_paid_calls_per_thread, "max_paid_calls_per_thread"
        )
        self.store = store
        self._memory = MemoryLedger()
        self._lock = threading.Lock()
        self._calls: dict[str, SpentCall] = {}
        self._by_task: dict[str, _Settlement] = {}  # accepted, outcome not seen yet
        self.sent = SentCalls()
        """The tool calls whose paid request went out (a retry never sends one again)."""

    def __repr__(self) -> str:
        return (
            f"SpendingGuard(max_paid_calls={self.max_paid_calls!r}, "
            f"max_paid_calls_per_thread={self.max_paid_calls_per_thread!r})"
        )

    @property
    def limited(self) -> bool:
        """Whether any limit is set."""
        return self.max_paid_calls is not None or self.max_paid_calls_per_thread is not None

    def _limits(self, thread_id: str | None) -> list[tuple[Scope, int, str]]:
        limits: list[tuple[Scope, int, str]] = []
        if self.max_paid_calls is not None:
            limits.append((("toolkit",), self.max_paid_calls, "toolkit"))
        if self.max_paid_calls_per_thread is not None:
            scope = ("thread", _label(thread_id or NO_THREAD))
            limits.append((scope, self.max_paid_calls_per_thread, "thread"))
        return limits

    def _ledgers(self, store: BaseStore | None) -> list[MemoryLedger | StoreLedger]:
        store = store if store is not None else self.store
        ledgers: list[MemoryLedger | StoreLedger] = [self._memory]
        if store is not None:
            ledgers.append(StoreLedger(store))
        return ledgers

    def _refusal(self, scope: str, limit: int, thread_id: str | None) -> SpendingLimitError:
        return SpendingLimitError(
            limit=limit,
            scope=scope,
            thread_id=(thread_id or NO_THREAD) if scope == "thread" else None,
        )

    def used_up(self, thread_id: str | None = None, store: BaseStore | None = None) -> bool:
        """Whether a limit that applies is already used up (reserves nothing).

        A cheap early answer, e.g. before asking a person to approve a call that could not be
        sent anyway; ``reserve`` is what enforces the limits.

        Raises:
            SpendingStoreError: The store could not be read.
        """
        return any(
            ledger.count(scope, limit + 1) >= limit
            for scope, limit, _ in self._limits(thread_id)
            for ledger in self._ledgers(store)
        )

    def reserve(
        self,
        action: str,
        *,
        tool: str | None = None,
        thread_id: str | None = None,
        store: BaseStore | None = None,
    ) -> Settle:
        """Take one place under every limit that applies, right before a paid request is sent.

        Returns:
            ``settle(error)``, to call once the send is over: ``settle(None)`` when the service
            accepted the call, ``settle(exc)`` when it raised ``exc``. The place is kept when
            accepted or uncertain (``SubmissionUncertainError``) and given back otherwise.

        Raises:
            SpendingLimitError: A limit is reached; nothing was reserved.
        """
        ticket = uuid.uuid4().hex
        entry = {"action": action, "tool": tool, "thread_id": thread_id, "state": "sending"}
        taken: list[tuple[MemoryLedger | StoreLedger, Scope]] = []
        try:
            for scope, limit, kind in self._limits(thread_id):
                for ledger in self._ledgers(store):
                    if not ledger.reserve(scope, limit, ticket, entry):
                        raise self._refusal(kind, limit, thread_id)
                    taken.append((ledger, scope))
        except BaseException:
            for ledger, scope in taken:
                ledger.release(scope, ticket)
            raise
        with self._lock:
            self._calls[ticket] = SpentCall(action, tool, thread_id, "sending")
        return _Settlement(self, ticket, entry, taken)

    def spending(self) -> Spending:
        """What the guarded tools spent in this process, from oldest to newest."""
        with self._lock:
            calls = tuple(self._calls.values())
        kinds: dict[str, dict[str, list[str]]] = {
            "by_action": {},
            "billed": {},
            "not_billed": {},
            "pending": {},
        }
        outcome = {"succeeded": "billed", "failed": "not_billed", "accepted": "pending"}
        for call in calls:
            if call.state in outcome and call.task_id:
                kinds["by_action"].setdefault(call.action, []).append(call.task_id)
                kinds[outcome[call.state]].setdefault(call.action, []).append(call.task_id)
        remaining = (
            None if self.max_paid_calls is None else max(0, self.max_paid_calls - len(calls))
        )
        return Spending(
            paid_calls=len(calls),
            max_paid_calls=self.max_paid_calls,
            remaining=remaining,
            uncertain=tuple(call for call in calls if call.state == "uncertain"),
            calls=calls,
            **kinds,
        )

    def observe(self, task: ProducerTask) -> None:
        """Note how a paid task of these tools ended, once a look-up sees it finished:
        ``succeeded`` (billed) or ``failed`` (not billed). Other tasks are ignored.

        Raises:
            SpendingStoreError: The store could not be written.
        """
        if not task.is_terminal:
            return
        with self._lock:
            settlement = self._by_task.get(task.task_id)
        if settlement is not None:
            settlement.ended(task.state == "complete")

    def follows(self, task_id: str) -> bool:
        """Whether ``task_id`` is a paid task of these tools whose outcome is not known yet."""
        with self._lock:
            return task_id in self._by_task

    def _record(self, ticket: str, **changes: Any) -> None:
        with self._lock:
            call = self._calls.get(ticket)
            if call is not None:
                self._calls[ticket] = SpentCall(**{**call.__dict__, **changes})

    def _forget(self, ticket: str) -> None:
        with self._lock:
            self._calls.pop(ticket, None)


def note_task(settle: Settle, task_id: str) -> None:
    """Record the paid task id of a reservation (``settle`` from ``SpendingGuard.reserve``)."""
    if isinstance(settle, _Settlement):
        settle.note_task(task_id)


def note_outcome(settle: Settle, succeeded: bool) -> None:
    """Record how the accepted call of a reservation ended (its own call saw it finish)."""
    if isinstance(settle, _Settlement):
        settle.ended(succeeded)


class _Settlement:
    """The ``settle`` callable of one reservation: called once, after the send."""

    def __init__(
        self,
        guard: SpendingGuard,
        ticket: str,
        entry: dict[str, Any],
        taken: list[tuple[MemoryLedger | StoreLedger, Scope]],
    ) -> None:
        self.guard = guard
        self.ticket = ticket
        self.entry = entry
        self.taken = taken
        self.settled = False

    def __call__(self, error: BaseException | None) -> None:
        if self.settled:
            return
        self.settled = True
        if error is not None and not isinstance(error, SubmissionUncertainError):
            for ledger, scope in self.taken:
                ledger.release(scope, self.ticket)
            self.guard._forget(self.ticket)
            return
        state = "uncertain" if error is not None else "accepted"
        self._write(state=state)

    def note_task(self, task_id: str) -> None:
        self._write(task_id=task_id)
        if self.entry.get("state") == "accepted":
            with self.guard._lock:
                self.guard._by_task[task_id] = self

    def ended(self, succeeded: bool) -> None:
        """The accepted call's task ended: succeeded (billed) or failed (not billed)."""
        if self.entry.get("state") not in ("accepted", "uncertain"):
            return  # never sent, given back, or already ended
        task_id = self.entry.get("task_id")
        if task_id:
            with self.guard._lock:
                self.guard._by_task.pop(task_id, None)
        self._write(state="succeeded" if succeeded else "failed")

    def _write(self, **changes: Any) -> None:
        self.entry = {**self.entry, **changes}
        self.guard._record(self.ticket, **changes)
        for ledger, scope in self.taken:
            ledger.update(scope, self.ticket, self.entry)

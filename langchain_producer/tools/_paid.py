"""Around a paid tool's call: a person's approval, the spending limit, what the model is told.

Kept apart from ``_base`` so that the tools' common code stays about calling the client; every
decision on money is in ``langchain_producer.spending`` and ``langchain_producer.approval``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from langchain_producer.errors import ProducerError, SubmissionUncertainError
from langchain_producer.protocol.steps import Effect, Plan, Progress, Send
from langchain_producer.safety.approval import ask_approval
from langchain_producer.safety.billing import after_acceptance, billing, outcome_of, when_lost
from langchain_producer.safety.context import graph_context
from langchain_producer.safety.journal import PlanOptions
from langchain_producer.safety.spending import Settle, note_outcome, note_task
from langchain_producer.tools._balance import balance_checked

if TYPE_CHECKING:
    from langchain_producer.client import ProducerClient
    from langchain_producer.safety.balance import BalanceGuard
    from langchain_producer.safety.repeats import SentCalls
    from langchain_producer.safety.spending import SpendingGuard

T = TypeVar("T")
logger = logging.getLogger("langchain_producer")


class PaidTool(Protocol):
    """What the paid-call safety reads of a tool (``tools._base.ProducerTool`` has it all; that
    module imports this one, never the other way round)."""

    @property
    def name(self) -> str: ...
    @property
    def args_schema(self) -> Any: ...
    @property
    def client(self) -> ProducerClient: ...
    @property
    def billable(self) -> bool: ...
    @property
    def approve_paid_calls(self) -> bool: ...
    @property
    def spending_guard(self) -> SpendingGuard | None: ...
    @property
    def balance_guard(self) -> BalanceGuard | None: ...

    def plan(self, paid: PlanOptions, **arguments: Any) -> Plan[Any]: ...
    def paid_action(self) -> str: ...


def paid_plan(
    tool: PaidTool, arguments: dict[str, Any], paid: PlanOptions, *, call_id: str | None = None
) -> Plan[Any]:
    """The tool's plan, behind its toolkit's approval and spending limit; ``call_id`` (the tool
    call id) is never sent twice.

    Reads only, until ``interrupt()`` returns: LangGraph re-runs the tool from its start when
    the person answers.
    """
    guard, balance = tool.spending_guard, tool.balance_guard
    if not tool.billable or (guard is None and balance is None and not tool.approve_paid_calls):
        return tool.plan(paid, **arguments)  # nothing to guard: the plan itself, no wrapper
    return _guarded(tool, arguments, paid, call_id)


def _guarded(
    tool: PaidTool, arguments: dict[str, Any], paid: PlanOptions, call_id: str | None
) -> Plan[Any]:
    guard, balance = tool.spending_guard, tool.balance_guard
    context = graph_context()
    thread_id = context.thread_id if context else None
    store = (context.store if context else None) or tool.client.settings.store
    action = tool.paid_action()
    asked = arguments  # the call as the model made it, which a retry repeats
    if guard is not None and call_id:  # before asking a person to approve it again
        _refuse_a_second_send(guard.sent, call_id, tool.name, asked, bool(paid.get("key")))
    if tool.approve_paid_calls:
        # No use asking when the send would be refused anyway; a call the journal resumes is
        # never sent, so it goes on unasked (LangGraph replays an answer already given).
        used_up = guard is not None and (yield _Off(guard.used_up, thread_id, store))
        if not used_up:
            arguments = ask_approval(tool, action, arguments, context)
    plan = tool.plan(paid, **arguments)
    if balance is not None:  # after approval, inside the reservation: a refusal reserves nothing
        plan = balance_checked(plan, balance)
    if guard is None:
        return (yield from plan)

    def reserve() -> Settle:
        return guard.reserve(action, tool=tool.name, thread_id=thread_id, store=store)

    def sent(task_id: str | None) -> None:
        if call_id:
            guard.sent.note(call_id, tool.name, asked, task_id)

    return (yield from _settled(plan, reserve, sent))


def _refuse_a_second_send(
    calls: SentCalls, call_id: str, tool: str, arguments: dict[str, Any], journalled: bool
) -> None:
    """Refuse to send a tool call whose paid request already went out in this process
    (``safety.repeats``). A journalled call (in a thread) that was accepted is left to the
    journal, which resumes it without paying."""
    sent, task_id = calls.earlier(call_id, tool, arguments)
    if not sent or (journalled and task_id):
        return
    if task_id is None:
        raise SubmissionUncertainError(
            f"This tool call ({call_id}) already sent its paid request once and the answer "
            "was lost: it is not sent again.",
            endpoint="",
            hint=(
                "The job may exist and be billed if it succeeds: do not call again blindly; "
                "check the account's recent tasks first."
            ),
        )
    raise ProducerError(
        f"This tool call ({call_id}) was already accepted as task {task_id}: it is not sent again."
    ).following([task_id])


class _Off(Effect[Any]):
    """Runs a guard's (possibly store-bound) function: as is when the plan is driven
    synchronously, in a worker thread when asynchronously, never blocking the event loop
    (and never calling an async-only store, such as ``AsyncSqliteStore``, from its own loop)."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args

    def run(self) -> Any:
        return self.function(*self.args)

    async def arun(self) -> Any:
        return await asyncio.to_thread(self.function, *self.args)


def _settled(
    plan: Plan[T], reserve: Callable[[], Settle], sent: Callable[[str | None], None]
) -> Plan[T]:
    """``plan``, reserving a place right before its first request and settling after.

    The first request is the paid one: a call the journal resumes sends none, so it never
    counts. The call counts as accepted at the first task it reports (audio actions report the
    task before any waiting) or when it returns; an error before that settles it as failed.
    """
    settle: Settle | None = None
    settled = False

    def finish(error: BaseException | None, task_id: str | None) -> _Off | None:
        nonlocal settled
        settled = True
        if settle is None:
            return None
        if error is None or isinstance(error, SubmissionUncertainError):
            sent(task_id if error is None else None)  # it went out: never send it again
        return _Off(_settle, settle, error, task_id)

    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = plan.throw(failure) if failure is not None else plan.send(reply)
        except StopIteration as done:
            if not settled and (last := finish(None, getattr(done.value, "task_id", None))):
                yield last
            if settle is not None and (outcome := outcome_of(done.value)) != "running":
                yield _Off(_ended, settle, outcome == "succeeded")
            return done.value  # type: ignore[no-any-return]
        except BaseException as error:
            if not settled and (last := finish(error, None)):
                yield last
            raise
        failure = None
        if isinstance(step, Send) and settle is None:
            reserved = yield _Off(reserve)
            assert callable(reserved)
            settle = reserved
        elif (
            isinstance(step, Progress) and not settled and (last := finish(None, step.task.task_id))
        ):
            yield last
        try:
            reply = yield step
        except GeneratorExit:  # the caller gave up (e.g. cancelled) mid-call
            if not settled and (last := finish(_ABANDONED, None)):
                last.run()  # the request may be out: keep counting it
            plan.close()
            raise
        except BaseException as error:  # the driver hands a failed step back to the plan
            failure = error


_ABANDONED = SubmissionUncertainError("Abandoned during the send.", endpoint="")


def _ended(settle: Settle, succeeded: bool) -> None:
    try:
        note_outcome(settle, succeeded)
    except Exception:  # the result must reach the caller whatever the store does
        logger.exception("Could not record a paid task's outcome in the spending count")


def _settle(settle: Settle, error: BaseException | None, task_id: str | None) -> None:
    try:
        settle(error)
        if task_id:
            note_task(settle, task_id)
    except Exception:  # the paid task id must reach the caller whatever the store does
        logger.exception("Could not record a paid call's outcome in the spending count")


def result_content(tool: PaidTool, content: dict[str, Any], artifact: Any) -> dict[str, Any]:
    """The model's view of a result, saying what this call is billed (``safety.billing``)."""
    if not tool.billable:
        return content
    out = {**content, **billing(artifact, resumed=getattr(artifact, "resumed", False))}
    guard = tool.spending_guard
    if out["billed"] is False and guard is not None and guard.limited and "resumed" not in out:
        out["spending_limit"] = COUNTED_WHETHER_BILLED
    return out


COUNTED_WHETHER_BILLED = (
    "Counted against the spending limit all the same: the limit counts accepted jobs, so it "
    "can never let one more start than it allows."
)


def error_content(tool: PaidTool, error: ProducerError) -> dict[str, Any]:
    """The model's view of an error; a paid call that may have been accepted says it counts."""
    content = error.to_dict()
    if not tool.billable:
        return content
    if isinstance(error, SubmissionUncertainError):
        content.update(when_lost())
        if tool.spending_guard is not None and tool.spending_guard.limited:
            content["spending_limit"] = (
                "Counted against the spending limit, since it may have been accepted."
            )
    elif error.accepted:
        content.update(after_acceptance())
    return content

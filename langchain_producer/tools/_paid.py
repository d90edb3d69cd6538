"""Around a paid tool's call: a person's approval, the spending limit, what the model is told.

Kept apart from ``_base`` so that the tools' common code stays about calling the client; every
decision on money is in ``langchain_producer.spending`` and ``langchain_producer.approval``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_producer._steps import Plan, Progress, Send
from langchain_producer.approval import ask_approval, graph_context
from langchain_producer.errors import ProducerError, SpendingLimitError, SubmissionUncertainError
from langchain_producer.journal import PlanOptions
from langchain_producer.spending import Settle

if TYPE_CHECKING:
    from langchain_producer.tools._base import ProducerTool

T = TypeVar("T")
logger = logging.getLogger("langchain_producer")


def paid_plan(tool: ProducerTool, arguments: dict[str, Any], paid: PlanOptions) -> Plan[Any]:
    """The tool's plan, behind its toolkit's approval and spending limit.

    Reads only, until ``interrupt()`` returns: LangGraph re-runs the tool from its start when
    the person answers.
    """
    guard = tool.spending_guard
    if not tool.billable or (guard is None and not tool.approve_paid_calls):
        return tool.plan(paid, **arguments)
    context = graph_context()
    thread_id = context.thread_id if context else None
    store = context.store if context else None
    action = tool.paid_action()
    if tool.approve_paid_calls:
        try:
            if guard is not None:
                guard.check(thread_id=thread_id, store=store)
        except SpendingLimitError:
            pass  # no use asking: the send below is refused (or resumed, never re-sent)
        else:
            arguments = ask_approval(tool, action, arguments, context)
    plan = tool.plan(paid, **arguments)
    if guard is None:
        return plan

    def before_submit() -> Settle:
        return guard.reserve(action, tool=tool.name, thread_id=thread_id, store=store)

    return _settled(plan, before_submit, note_task=guard.note_task)


def _settled(
    plan: Plan[T],
    before_submit: Callable[[], Settle],
    *,
    note_task: Callable[[Settle, str], None],
) -> Plan[T]:
    """``plan``, calling ``before_submit`` right before its first request and settling after.

    The call counts as accepted at the first task it reports (audio actions report the task
    before any waiting) or when it returns; an error before that settles it as failed.
    """
    settle: Settle | None = None
    settled = False

    def finish(error: BaseException | None, task_id: str | None) -> None:
        nonlocal settled
        settled = True
        if settle is None:
            return
        try:
            settle(error)
            if task_id:
                note_task(settle, task_id)
        except Exception:  # the paid task id must reach the caller whatever the store does
            logger.exception("Could not record a paid call's outcome in the spending count")

    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = plan.throw(failure) if failure is not None else plan.send(reply)
        except StopIteration as done:
            if not settled:
                finish(None, getattr(done.value, "task_id", None))
            return done.value  # type: ignore[no-any-return]
        except BaseException as error:
            if not settled:
                finish(error, None)
            raise
        failure = None
        if isinstance(step, Send) and settle is None:
            settle = before_submit()
        elif isinstance(step, Progress) and not settled:
            finish(None, step.task.task_id)
        try:
            reply = yield step
        except GeneratorExit:  # the caller gave up (e.g. cancelled) mid-call
            if not settled:  # the request may be out: keep counting it
                finish(SubmissionUncertainError("Abandoned during the send.", endpoint=""), None)
            plan.close()
            raise
        except BaseException as error:  # the driver hands a failed step back to the plan
            failure = error


def result_content(tool: ProducerTool, content: dict[str, Any], artifact: Any) -> dict[str, Any]:
    """The model's view of a result, saying whether this call was billed."""
    if not tool.billable:
        return content
    if getattr(artifact, "resumed", False):
        return {**content, "billed": False, "billing": "Resumed: billed when first submitted."}
    return {**content, "billed": True}


def error_content(tool: ProducerTool, error: ProducerError) -> dict[str, Any]:
    """The model's view of an error; a paid call that may have been accepted says it counts."""
    content = error.to_dict()
    if tool.billable and isinstance(error, SubmissionUncertainError):
        content["billed"] = "unknown"
        if tool.spending_guard is not None and tool.spending_guard.limited:
            content["spending_limit"] = (
                "Counted against the spending limit, since it may have been accepted."
            )
    return content

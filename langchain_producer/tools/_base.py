"""What every Producer tool shares: the client, error handling, progress events, and how results
are shown to a model (compact JSON) and to the program (the typed artifact).

No ``from __future__ import annotations`` here: LangChain resolves the type hints of ``_run`` on
every call, and real annotations make that cheap where strings would be compiled each time.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ClassVar, Literal, NamedTuple

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools.base import ArgsSchema
from pydantic import ConfigDict, Field, ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from langchain_producer.client import ProducerClient
from langchain_producer.errors import ProducerError
from langchain_producer.models import ProducerTask, TaskBatch
from langchain_producer.params import ToolArgs
from langchain_producer.protocol.steps import Plan
from langchain_producer.safety.approval import is_invalid_resume
from langchain_producer.safety.balance import BalanceGuard
from langchain_producer.safety.context import GraphContext, current_thread_id, graph_context
from langchain_producer.safety.journal import BeforeSubmit, PlanOptions
from langchain_producer.safety.spending import SpendingGuard
from langchain_producer.tools import _trace
from langchain_producer.tools._paid import error_content, paid_plan, result_content


class ToolOutput(NamedTuple):
    """What ``_run`` returns: LangChain's ``(content, artifact)`` pair. A plain class, so the
    type hints langchain-core reads from ``_run`` on every call resolve at once."""

    content: str | ToolMessage
    artifact: Any


class ToolCallInput(NamedTuple):
    """What LangChain's public ``run``/``arun`` were given, for ``_run`` to read."""

    tool_call_id: str | None
    tool_input: str | dict[str, Any]


_CALL: ContextVar[ToolCallInput | None] = ContextVar("producer_tool_call", default=None)
"""The call being run, set by ``ProducerTool.run``/``arun``. LangChain hands a tool its tool call
id only through their public ``tool_call_id`` keyword, and runs ``_run`` in a copy of the caller's
context, so a context variable carries the id there without a private override."""

logger = logging.getLogger("langchain_producer")

PROGRESS_EVENT = "producer_task_progress"
"""Name of the custom event sent each time a tool looks at a running task. Its data:
``{"task_id", "state", "progress", "tool"}``. Reaches ``astream_events`` and, inside a LangGraph
graph, ``stream_mode="custom"``."""

# Descriptions are read by the model on every turn of an agent, so each fact is said once: the
# task states in full in producer_get_task (POLLING_GUIDE), briefly in every tool that starts a
# task (POLLING_BRIEF).
POLLING_GUIDE = (
    "States: 'pending' and 'processing' mean still running: keep polling. Only 'complete' means "
    "finished and successful: only then give the user the songs. 'failed' is final: report the "
    "error, stop polling. An audio URL seen while a task runs is a preview, never the finished "
    "song. Songs take 1 to 5 minutes."
)
POLLING_BRIEF = (
    "'pending'/'processing': poll producer_get_task; only 'complete' is done, earlier URLs "
    "are previews."
)
PAID = "Paid per call: never repeat one."


def _explain_invalid_arguments(error: ValidationError | ValidationErrorV1) -> str:
    if is_invalid_resume(error):
        # A person's malformed answer to an approval, not the model's arguments: LangGraph
        # fails that resume and keeps the question open, so it can be answered again.
        raise error
    problems = [
        f"{'.'.join(str(p) for p in item['loc']) or 'arguments'}: {item['msg']}"
        for item in error.errors()
    ]
    return _dumps(
        {
            "error": "invalid_arguments",
            "message": "The arguments were refused before anything was sent: "
            + "; ".join(problems),
            "problems": problems,
            "next_step": "Nothing was sent or billed. Fix these arguments and call the tool again.",
        }
    )


class ProducerTool(BaseTool):
    """Base of the Producer tools: one shared ``ProducerClient``, errors turned into messages
    the model can act on, ``(content, artifact)`` results.

    Subclasses implement ``plan`` (what to do, once for sync and async) and ``content``
    (what the model reads).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: ProducerClient = Field(exclude=True, repr=False)
    """The client every call goes through (the toolkit shares one between all tools)."""
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = True
    handle_validation_error: (
        bool | str | Callable[[ValidationError | ValidationErrorV1], str] | None
    ) = _explain_invalid_arguments

    spending_guard: SpendingGuard | None = Field(default=None, exclude=True, repr=False)
    """Counts this tool's paid calls and enforces spending limits (the toolkit shares one)."""
    balance_guard: BalanceGuard | None = Field(default=None, exclude=True, repr=False)
    """Refuses a paid call below the toolkit's ``min_balance`` (the toolkit shares one)."""
    approve_paid_calls: bool = False
    """Pause the graph for a person's approval before each paid call (``interrupt()``)."""

    billable: ClassVar[bool] = False
    """True for tools whose call the service bills."""
    action: ClassVar[str | None] = None
    """The Producer action a paid tool submits (the audio tools take it from their schema)."""
    purpose: ClassVar[str]
    """What the tool does and when to use it: the start of its description, which ``guidance()``
    completes (the one way a description is made)."""
    description: str = ""
    before_submit: BeforeSubmit | None = Field(default=None, exclude=True, repr=False)
    """Called with a ``journal.PaidRequest`` just before a paid request is sent (never on a
    journal resume); raising aborts the call with nothing sent. Free tools never call it."""

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.metadata is None:
            self.metadata = {"billable": self.billable}
            if self.billable:
                self.metadata["producer_action"] = self.paid_action()
        self.tags = _trace.tags(self.billable, self.tags)
        if not self.description:
            self.description = f"{self.purpose} {self.guidance()}".strip()

    def guidance(self) -> str:
        """What the description adds to ``purpose``: billing, then waiting and polling (which
        may depend on the tool's settings, e.g. its wait mode)."""
        return PAID if self.billable else "Free."

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """What a model is shown: the ``args_schema`` itself (see ``params.ToolArgs``).

        LangChain's own version rebuilds the schema without injected arguments, and with them
        the model config that keeps the JSON schema lean. These schemas have none to leave out
        (``tests/test_context.py`` pins that), so nothing is lost.
        """
        schema = self.args_schema
        if isinstance(schema, type) and issubclass(schema, ToolArgs):
            return schema
        return super().tool_call_schema

    def paid_action(self) -> str:
        """The Producer action this tool's call submits (what a paid call is billed for)."""
        return self.action or self.name

    # What a subclass writes.

    def plan(self, paid: PlanOptions, **kwargs: Any) -> Plan[Any]:  # pragma: no cover
        """What to do with the validated arguments; ``paid`` goes to the client's paid plans."""
        raise NotImplementedError

    def content(self, artifact: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    # What LangChain calls.

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        # A bare string input reaches _run positionally; it belongs to the first argument.
        fields = getattr(self.args_schema, "model_fields", None)
        if args and fields:
            return {next(iter(fields)): args[0], **kwargs}
        return kwargs

    def run(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The tool call id names the call in the journal of paid calls, so a graph resumed
        # after a crash finds its own submission.
        token = _CALL.set(ToolCallInput(kwargs.get("tool_call_id"), tool_input))
        try:
            return super().run(tool_input, *args, **kwargs)
        finally:
            _CALL.reset(token)

    async def arun(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        token = _CALL.set(ToolCallInput(kwargs.get("tool_call_id"), tool_input))
        try:
            return await super().arun(tool_input, *args, **kwargs)
        finally:
            _CALL.reset(token)

    def _start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan[Any]:
        call = _CALL.get()
        call_id = call.tool_call_id if call else None
        # A tool call is journalled only within a thread: without a checkpointer nothing can
        # resume it, and tool call ids are only unique within one conversation.
        key = call_id if call_id and current_thread_id() else None
        paid: PlanOptions = {"key": key, "tool": self.name, "before_submit": self.before_submit}
        return paid_plan(self, self._arguments(args, kwargs), paid, call_id=call_id)

    # ``run_manager`` is annotated ``Any`` here and typed inside: LangChain resolves these
    # annotations on every call (to find a RunnableConfig parameter), and a union costs that
    # resolution more than the whole of the rest of them.
    def _run(self, *args: Any, run_manager: Any = None, **kwargs: Any) -> ToolOutput:
        manager: CallbackManagerForToolRun | None = run_manager
        seen = _Seen(self.name, graph_context(), manager)
        try:
            artifact = self.client._driver.run(self._start(args, kwargs), seen.progress(manager))
            if ended := self._ended_paid_tasks(artifact):
                self._observe(ended)
            content = result_content(self, self.content(artifact), artifact)
            return self._output(_with_journal(content, artifact), artifact)
        except Exception as error:
            raise self._tool_exception(error, seen) from error

    async def _arun(self, *args: Any, run_manager: Any = None, **kwargs: Any) -> ToolOutput:
        manager: AsyncCallbackManagerForToolRun | None = run_manager
        seen = _Seen(self.name, graph_context(), manager)
        try:
            artifact = await self.client._driver.arun(
                self._start(args, kwargs), seen.aprogress(manager)
            )
            if ended := self._ended_paid_tasks(artifact):
                await asyncio.to_thread(self._observe, ended)  # the guard may write a store
            content = result_content(self, self.content(artifact), artifact)
            return self._output(_with_journal(content, artifact), artifact)
        except Exception as error:
            raise self._tool_exception(error, seen) from error

    def _output(self, content: dict[str, Any], artifact: Any) -> ToolOutput:
        call = _CALL.get()
        if call is None or call.tool_call_id is None:
            return ToolOutput(_dumps(content), artifact)
        action = self.paid_action() if self.billable else None
        facts = _trace.facts(content, artifact, action=action, given=call.tool_input)
        message = _trace.output(_dumps(content), artifact, self.name, call.tool_call_id, facts)
        return ToolOutput(message, artifact)

    def _ended_paid_tasks(self, artifact: Any) -> list[ProducerTask]:
        """The finished tasks in a look-up's result that are paid tasks of this toolkit whose
        outcome is not known yet (a paid tool's own call records its outcome itself)."""
        guard = self.spending_guard
        if guard is None or self.billable:
            return []
        tasks = artifact.tasks if isinstance(artifact, TaskBatch) else [artifact]
        return [
            task
            for task in tasks
            if isinstance(task, ProducerTask) and task.is_terminal and guard.follows(task.task_id)
        ]

    def _observe(self, tasks: list[ProducerTask]) -> None:
        """Tell the spending guard how these paid tasks ended (billed or not)."""
        assert self.spending_guard is not None
        for task in tasks:
            try:
                self.spending_guard.observe(task)
            except Exception:  # the look-up's result must reach the model whatever the store does
                logger.exception("Could not record a paid task's outcome in the spending count")

    def _tool_exception(self, error: Exception, seen: "_Seen") -> Exception:
        """What the model reads when a call fails: always the one error shape, never a crash.

        A ``ProducerError`` says what happened itself. Anything else is a fault of ours (or of a
        callback); the model still learns the task id if a paid job was accepted before it.
        LangGraph's own signals (an ``interrupt()`` pausing for approval) and argument errors
        (LangChain reports those itself) pass through unchanged.
        """
        if _passes_through(error):
            return error
        if not isinstance(error, ProducerError):
            error = ProducerError(
                f"An unexpected fault in the Producer tool ({type(error).__name__}).",
                hint=(
                    "It is not known whether the job was accepted: do not call this tool again "
                    "blindly; check the account's recent tasks first."
                    if self.billable
                    else "Nothing was billed; call the tool again in a moment."
                ),
            )
            if seen.task_id:
                error = error.following([seen.task_id])
        elif seen.task_id and error.task_id is None:
            error = error.following([seen.task_id])
        error = error.redact(self.client.api_key.get_secret_value())
        return ToolException(_dumps(error_content(self, error)))


class _Seen:
    """One call's progress: remembers the last task reported (so no failure afterwards can lose
    its id) and tells whoever listens, each time the call looks at a running task: the run's
    callback handlers (a custom event) and the LangGraph run (a heartbeat and the
    ``stream_mode="custom"`` event). Who listens is read once, when the call starts."""

    def __init__(
        self,
        tool: str,
        context: GraphContext | None,
        manager: CallbackManagerForToolRun | AsyncCallbackManagerForToolRun | None,
    ) -> None:
        self.task_id: str | None = None
        self._tool = tool
        self._context = context
        self._handlers = manager is not None and bool(manager.inheritable_handlers)

    def progress(self, manager: CallbackManagerForToolRun | None) -> Callable[[ProducerTask], Any]:
        """The driver's ``on_progress`` for a sync call."""
        if manager is None or not self._handlers:
            return self._remember

        def report(task: ProducerTask) -> None:
            data = self._remember(task)
            manager.get_child().on_custom_event(PROGRESS_EVENT, data, run_id=manager.run_id)

        return report

    def aprogress(
        self, manager: AsyncCallbackManagerForToolRun | None
    ) -> Callable[[ProducerTask], Any]:
        """The driver's ``on_progress`` for an async call (a coroutine only if handlers listen)."""
        if manager is None or not self._handlers:
            return self._remember

        async def report(task: ProducerTask) -> None:
            data = self._remember(task)
            await manager.get_child().on_custom_event(PROGRESS_EVENT, data, run_id=manager.run_id)

        return report

    def _remember(self, task: ProducerTask) -> dict[str, Any]:
        self.task_id = task.task_id
        if not self._handlers and self._context is None:
            return {}  # nobody listens: no event to build
        data = _event(self._tool, task)
        if self._context is not None:  # each look is progress for LangGraph's idle_timeout
            self._context.heartbeat()
            self._context.write({PROGRESS_EVENT: data})
        return data


def called_with() -> str | dict[str, Any] | None:
    """The input the running tool call was given (before LangChain's validation), if any."""
    call = _CALL.get()
    return call.tool_input if call else None


def _passes_through(error: Exception) -> bool:
    if isinstance(error, ValidationError | ValidationErrorV1):
        return True
    try:
        from langgraph.errors import GraphBubbleUp
    except ImportError:  # LangGraph is optional
        return False
    return isinstance(error, GraphBubbleUp)


def _with_journal(content: dict[str, Any], artifact: Any) -> dict[str, Any]:
    """Add what the journal did to a paid call's content: resumed, or could not record it."""
    if getattr(artifact, "resumed", False):
        content = {**content, "resumed": True, "submitted_at": artifact.submitted_at}
    warning = getattr(artifact, "journal_warning", None)
    return {**content, "journal_warning": warning} if warning else content


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Compact JSON, made once (``json.dumps`` with keywords builds an encoder on every call)."""


def _dumps(content: dict[str, Any]) -> str:
    return _JSON.encode(content)


def _event(tool: str, task: ProducerTask) -> dict[str, Any]:
    return {"tool": tool, "task_id": task.task_id, "state": task.state, "progress": task.progress}

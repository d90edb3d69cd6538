"""A person's approval before a paid call, through LangGraph's ``interrupt()``.

With ``ProducerToolkit(approve_paid_calls=True)`` a paid tool pauses the graph before it sends
anything. The interrupt's value is a mapping: ``type`` (``APPROVAL_REQUEST``), ``tool``,
``action`` (what the service bills, e.g. ``generate``), ``args`` (those the model set),
``billable`` (True), ``description`` (what will be billed, in words) and ``how_to_answer``.
The graph goes on with ``Command(resume=...)`` and one of:

- ``{"type": "approve"}``: the call is sent as the model asked;
- ``{"type": "edit", "args": {...}}``: the call is sent with these arguments instead (all of
  them, checked like the model's);
- ``{"type": "reject", "message": "why (optional)"}``: nothing is sent; the model reads that the
  person refused, and why.

LangGraph checks the answer against ``ApprovalDecision`` before saving it: a malformed answer
fails the ``invoke`` that sent it and the question stays open, to be answered again.

On resume LangGraph re-runs the tool from its start, and ``interrupt()`` then returns the saved
answer: nothing before it may have effects (it only reads). The same answer is replayed if the
process dies later in the call, so a person is never asked twice about one tool call.

For ``HumanInTheLoopMiddleware``, ``interrupt_on(tools)`` builds its ``interrupt_on`` mapping
for exactly the billable tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from langchain_producer.errors import (
    ApprovalUnavailableError,
    PaidCallRejectedError,
    ProducerValidationError,
)

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from langchain_producer.safety.context import GraphContext

APPROVAL_REQUEST = "producer_paid_call_approval"
"""The ``type`` of the value a paid tool's interrupt shows."""

_HOW_TO_ANSWER = (
    "Answer with Command(resume={'type': 'approve'}), {'type': 'edit', 'args': {...}} or "
    "{'type': 'reject', 'message': 'why'}."
)


class ApprovalDecision(BaseModel):
    """A person's answer to a paid call's approval request (the ``Command(resume=...)``).

    Attributes:
        type: ``approve``, ``edit`` or ``reject``.
        args: With ``edit``: the arguments to send instead (all of them).
        message: With ``reject``: why, for the model to tell the user.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["approve", "edit", "reject"]
    args: dict[str, Any] | None = None
    message: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _must_be_a_mapping(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(
                f"A paid-call approval takes a mapping, got {value!r}. {_HOW_TO_ANSWER}"
            )
        return value

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> ApprovalDecision:
        if self.type == "edit" and self.args is None:
            raise ValueError(f"An 'edit' needs 'args': the arguments to send. {_HOW_TO_ANSWER}")
        if self.type != "edit" and self.args is not None:
            raise ValueError(f"Only an 'edit' takes 'args'. {_HOW_TO_ANSWER}")
        if self.type != "reject" and self.message is not None:
            raise ValueError(f"Only a 'reject' takes a 'message'. {_HOW_TO_ANSWER}")
        return self


BILLED_WHEN = (
    "it is billed to the account if it succeeds (songs when they finish, lyrics, uploads, "
    "videos and WAV files when they answer); a failed job is generally not billed."
)


def billing_note(tool: str, action: str) -> str:
    """How a reviewer is told what a paid call costs."""
    return f"{tool} submits a paid '{action}' job to the Producer service: {BILLED_WHEN}"


class Reviewed(Protocol):
    """What approval reads of a tool: its name and its arguments' schema."""

    @property
    def name(self) -> str: ...
    @property
    def args_schema(self) -> Any: ...


def ask_approval(
    tool: Reviewed, action: str, arguments: dict[str, Any], context: GraphContext | None
) -> dict[str, Any]:
    """Pause the graph until a person approves, edits or rejects this paid call.

    Args:
        tool: The paid tool (its ``args_schema`` checks edited arguments).
        action: The Producer action the call submits.
        arguments: The arguments as the model gave them.
        context: ``graph_context()`` of the call.

    Returns:
        The arguments to send: the model's, or the person's edit.

    Raises:
        GraphInterrupt: The first time: LangGraph pauses the graph (never catch it).
        ApprovalUnavailableError: Not in a graph run with a checkpointer.
        PaidCallRejectedError: The person refused.
        ProducerValidationError: The person's edit does not fit the tool's arguments.
    """
    if context is None or not context.can_pause:
        where = "outside any LangGraph graph" if context is None else "in a graph without one"
        raise ApprovalUnavailableError(
            f"approve_paid_calls=True needs a LangGraph graph with a checkpointer, but "
            f"{tool.name} ran {where}; nothing was submitted.",
            hint=(
                "Run the tools in create_agent(..., checkpointer=InMemorySaver()) or a graph "
                "compiled with a checkpointer, or set approve_paid_calls=False."
            ),
        )
    from langgraph.types import interrupt

    request = {
        "type": APPROVAL_REQUEST,
        "tool": tool.name,
        "action": action,
        "args": _as_given(tool, arguments),
        "billable": True,
        "description": billing_note(tool.name, action),
        "how_to_answer": _HOW_TO_ANSWER,
    }
    decision = interrupt(request, response_schema=ApprovalDecision)
    if decision.type == "reject":
        raise PaidCallRejectedError(tool.name, decision.message)
    if decision.type == "approve":
        return arguments
    schema = tool.args_schema
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):  # pragma: no cover
        return dict(decision.args or {})
    try:
        edited = schema.model_validate(decision.args)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'arguments'}: {item['msg']}"
            for item in error.errors()
        )
        raise ProducerValidationError(
            f"The reviewer's edited arguments for {tool.name} are invalid ({problems}); "
            "nothing was submitted or billed.",
            hint="Tell the user the edit could not be used, and ask how to proceed.",
        ) from None
    return edited.model_dump(exclude_unset=True)


def _as_given(tool: Reviewed, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments a reviewer needs to see: those set to something else than the default."""
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            return schema.model_validate(arguments).model_dump(exclude_defaults=True)
        except ValidationError:  # pragma: no cover - the tool validated them already
            pass
    return dict(arguments)


def is_invalid_resume(error: BaseException) -> bool:
    """Whether ``error`` is LangGraph's refusal of a malformed resume value (to re-raise)."""
    try:
        from langgraph.errors import is_invalid_resume as check
    except ImportError:  # LangGraph is optional
        return False
    return check(error)


def interrupt_on(tools: Iterable[BaseTool]) -> dict[str, Any]:
    """``HumanInTheLoopMiddleware``'s ``interrupt_on`` for the billable ones among ``tools``.

    Each paid tool may be approved, edited or rejected (not answered in the tool's place), and
    its review says what will be billed, with the arguments.
    """
    return {
        tool.name: {
            "allowed_decisions": ["approve", "edit", "reject"],
            "description": _Description(tool.name, _action_of(tool)),
        }
        for tool in tools
        if (tool.metadata or {}).get("billable")
    }


def _action_of(tool: BaseTool) -> str:
    paid_action = getattr(tool, "paid_action", None)  # a ProducerTool's; else the name says it
    return str(paid_action()) if callable(paid_action) else tool.name


@dataclass(frozen=True)
class _Description:
    """The review text of one paid tool call (a description factory of the middleware)."""

    tool: str
    action: str

    def __call__(self, tool_call: Mapping[str, Any], state: Any, runtime: Any) -> str:
        args = json.dumps(tool_call.get("args", {}), ensure_ascii=False, sort_keys=True)
        return f"Paid call: {billing_note(self.tool, self.action)}\nArguments: {args}"

"""What a trace shows of a tool run: tags and metadata when it starts, and, on the
``ToolMessage`` it returns, what the run did (``response_metadata["producer"]``): the action,
the task and the service's trace id, the billing, whether the journal resumed it, the model.

Callback handlers see it in ``on_tool_end`` (the output is that ``ToolMessage``) and LangSmith
records it with the run's outputs, so a person reading a trace sees which runs cost money.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage

from langchain_producer.models import ProducerTask

TAG = "producer"
"""The tag of every Producer tool run (beside ``billable`` or ``free``)."""


def tags(billable: bool, given: list[str] | None) -> list[str]:
    """The run's tags: the user's own first, then ours."""
    ours = [TAG, "billable" if billable else "free"]
    return [*(given or []), *(tag for tag in ours if tag not in (given or []))]


def facts(
    content: dict[str, Any], artifact: Any, *, action: str | None, given: Any
) -> dict[str, Any]:
    """What the run did, for the trace (no secret, nothing the content does not show)."""
    out: dict[str, Any] = {"action": action} if action else {}
    for field in ("task_id", "trace_id", "state", "resumed"):
        value = content.get(field, getattr(artifact, field, None))
        if value not in (None, False):
            out[field] = value
    if "billed" in content:  # paid tools only; False is an answer too
        out["billed"] = content["billed"]
    model = given.get("model") if isinstance(given, dict) else None
    if model is None and isinstance(artifact, ProducerTask):
        model = next((song.model for song in artifact.songs if song.model), None)
    if model:
        out["model"] = model
    return out


def output(
    text: str, artifact: Any, name: str, tool_call_id: str | None, facts: dict[str, Any]
) -> str | ToolMessage:
    """The content LangChain returns: a ``ToolMessage`` carrying ``facts`` when the run has a
    tool call id (LangChain passes a returned message through as it is), else the text."""
    if tool_call_id is None:
        return text
    return ToolMessage(
        content=text,
        artifact=artifact,
        tool_call_id=tool_call_id,
        name=name,
        response_metadata={TAG: facts},
    )

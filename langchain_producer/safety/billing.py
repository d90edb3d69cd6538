"""When the vendor bills a paid call, said in one place: results, errors and ``spending()`` all
read it from here.

What the vendor documents (AceDataCloud's pricing overview, "When is billing applied?"):

- an asynchronous task (audio: generate, extend, cover, ...) is billed when it finally
  reaches success; a task whose final state is failed is *generally* not billed (the vendor
  points to each service's own page, and the Producer page says nothing more);
- a synchronous call is billed at response time (lyrics, upload, video and WAV answer with
  their result at once);
- an upstream 5xx or gateway timeout is not billed;
- prices are shown in the console only (no price is published for the API), and deducted in
  Credits; a used-up balance answers 403 ``used_up``.

Where the documents are silent, nothing is claimed: a task whose answer was lost is "unknown",
and a failed task is "not billed" with the vendor's own "generally".
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_producer.models import ProducerTask

Billed = bool | Literal["if it succeeds", "unknown"]
"""A paid call's billing as a model and a program read it: True (billed), False (not billed),
``"if it succeeds"`` (accepted, still running) or ``"unknown"`` (the answer was lost)."""

IF_IT_SUCCEEDS: Literal["if it succeeds"] = "if it succeeds"
UNKNOWN: Literal["unknown"] = "unknown"

_WHY = {
    "succeeded": "Billed: the task succeeded (the service bills a task when it succeeds).",
    "answered": "Billed: the service answered with the result (billed at response time).",
    "failed": (
        "Not billed: the task failed, and the service generally does not bill failed tasks."
    ),
    "running": (
        "Billed only if the task succeeds: the service bills tasks when they succeed, "
        "failed ones generally not."
    ),
    "resumed": "Resumed: this call sent nothing, so it adds no charge to the job it resumed.",
    "unknown": "Unknown: the answer was lost, so the job may exist and be billed if it succeeds.",
}


def outcome_of(result: Any) -> Literal["succeeded", "failed", "running"]:
    """How a paid call's result stands for billing: a task by its state; any other result (a
    synchronous answer: lyrics, upload, video, WAV) came back finished, so it succeeded."""
    if isinstance(result, ProducerTask):
        if result.state == "complete":
            return "succeeded"
        return "failed" if result.state == "failed" else "running"
    return "succeeded"


def billing(result: Any, *, resumed: bool = False) -> dict[str, Any]:
    """The ``billed`` and ``billing`` fields of a paid result's content."""
    if resumed:
        return {"billed": False, "billing": _WHY["resumed"]}
    outcome = outcome_of(result)
    if outcome == "succeeded":
        why = _WHY["succeeded" if isinstance(result, ProducerTask) else "answered"]
        return {"billed": True, "billing": why}
    if outcome == "failed":
        return {"billed": False, "billing": _WHY["failed"]}
    return {"billed": IF_IT_SUCCEEDS, "billing": _WHY["running"]}


def after_acceptance() -> dict[str, Any]:
    """The billing of an error that came after the service accepted the job."""
    return {"billed": IF_IT_SUCCEEDS, "billing": _WHY["running"]}


def when_lost() -> dict[str, Any]:
    """The billing of a paid call whose answer was lost."""
    return {"billed": UNKNOWN, "billing": _WHY["unknown"]}

"""The root of every error: what happened, what to do next, and the ids that recover paid work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self


def follow_up_advice(task_ids: Sequence[str], *, follow_in: float = 15.0) -> str:
    """What to do when something failed after the service accepted the task(s) ``task_ids``.

    The one wording for every error after acceptance: the job exists, it goes on being made,
    it is followed with ``producer_get_task``, and it is never submitted a second time (that
    would be a second paid job).
    """
    if len(task_ids) == 1:
        (task_id,) = task_ids
        return (
            f"Task {task_id} exists on the service and goes on being made: nothing is lost. "
            f"Follow it with producer_get_task (task_id {task_id}) in about {follow_in:g} "
            "seconds. Do not submit the request again: that would start a second, paid job."
        )
    listed = ", ".join(task_ids)
    return (
        f"Tasks {listed} exist on the service and go on being made: nothing is lost. Follow "
        f"them with producer_get_tasks_batch (or producer_get_task) in about {follow_in:g} "
        "seconds. Do not submit any of them again: that would start second, paid jobs."
    )


class ProducerError(Exception):
    """Base class of every error this package raises.

    Attributes:
        message: What happened, in one or two sentences.
        hint: What the caller (person or model) should do next.
        task_id: The task concerned, when one exists; keep it to recover paid work.
        trace_id: The service's trace id, for support requests.
        task_ids: Every task concerned (a batch look-up names several).
        accepted: True when the error came after the service accepted the task(s): the work
            exists and must be followed up, never submitted again.
    """

    error_code: ClassVar[str] = "producer_error"
    """The code a model reads in ``to_dict()["error"]`` (never a Python class name)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        task_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.task_id = task_id
        self.trace_id = trace_id
        self.task_ids: list[str] = [task_id] if task_id else []
        self.accepted = False
        super().__init__(message)

    def __str__(self) -> str:
        return self._render()

    def _render(self) -> str:
        parts = [self.message]
        if len(self.task_ids) > 1:
            parts.append(f"task_ids={','.join(self.task_ids)}")
        elif self.task_id:
            parts.append(f"task_id={self.task_id}")
        if self.trace_id:
            parts.append(f"trace_id={self.trace_id}")
        if self.hint:
            parts.append(self.hint)
        return " | ".join(parts)

    def with_task(self, task_id: str) -> Self:
        """A copy of this error that names ``task_id`` (errors shared by several waits are
        copied, so each names its own task)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.args = self.args
        twin.task_id = task_id
        twin.task_ids = [task_id]
        twin.__cause__ = self.__cause__
        return twin

    def following(
        self, task_ids: Sequence[str], *, follow_in: float = 15.0, accepted: bool = True
    ) -> Self:
        """A copy of this error that happened while following ``task_ids``.

        With ``accepted`` (the service accepted the task in this very call) the advice is
        ``follow_up_advice``: follow the task, never submit it again, whatever the original
        advice was ("try again" suits a call that did nothing, not a paid job). Otherwise (a
        look-up of ids the caller gave) the original advice stays, and says the task itself is
        not affected.
        """
        twin = self.with_task(task_ids[0])
        twin.task_ids = list(task_ids)
        if accepted:
            twin.accepted = True
            twin.hint = follow_up_advice(task_ids, follow_in=follow_in)
        else:
            which = f"Task {task_ids[0]}" if len(task_ids) == 1 else "The tasks"
            twin.hint = (
                f"{self.hint} {which} itself is not affected by this failed look-up: look it "
                "up again with producer_get_task later; do not submit the request again."
            ).strip()
        return twin

    def redact(self, secret: str) -> Self:
        """This error with ``secret`` masked wherever the service's words repeated it.

        Secrets under six characters are left alone: no real token is that short, and masking
        them would garble ordinary words (tests often use keys like ``"k"``).
        """
        if len(secret) >= 6:
            self.message = self.message.replace(secret, "***")
            self.hint = self.hint.replace(secret, "***")
            self.args = tuple(
                arg.replace(secret, "***") if isinstance(arg, str) else arg for arg in self.args
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The error as a compact, JSON-ready mapping: what tools show the model.

        One shape for every error: ``{"error": <code>, "message", "next_step"}`` plus the ids
        that recover paid work (``task_id``/``task_ids``, ``trace_id``) and ``accepted`` when
        the task exists.
        """
        out: dict[str, Any] = {"error": self._code(), "message": self.message}
        if self.task_id:
            out["task_id"] = self.task_id
        if len(self.task_ids) > 1:
            out["task_ids"] = list(self.task_ids)
        if self.accepted:
            out["accepted"] = True
        if self.trace_id:
            out["trace_id"] = self.trace_id
        if self.hint:
            out["next_step"] = self.hint
        return out

    def _code(self) -> str:
        return self.error_code


class ProducerValidationError(ProducerError, ValueError):
    """The request was refused locally, before any network call: nothing was sent or billed."""

    error_code = "invalid_request"

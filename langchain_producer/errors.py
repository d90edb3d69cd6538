"""The exceptions of langchain-producer: one hierarchy, each saying what happened and what to do.

Every message is safe to show to a model or a log: none ever contains the API key. Errors raised
after the service accepted paid work keep the ids needed to recover it (``task_id``, ``trace_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from langchain_producer.models import ProducerTask


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


class ProducerAPIError(ProducerError):
    """The service answered with an error.

    Attributes:
        status_code: The HTTP status.
        code: The service's error code (``bad_request``, ``api_error``, ...), when given.
    """

    error_code = "service_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        hint: str = "",
        task_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        super().__init__(message, hint=hint, task_id=task_id, trace_id=trace_id)

    def _render(self) -> str:
        label = f"HTTP {self.status_code}" + (f" {self.code}" if self.code else "")
        return f"{label}: {super()._render()}"

    def _code(self) -> str:
        return self.code or self.error_code

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["status_code"] = self.status_code
        return out


class AuthenticationError(ProducerAPIError):
    """The API key is missing, invalid, expired or not valid for this API (HTTP 401)."""

    error_code = "authentication_failed"


class InsufficientBalanceError(ProducerAPIError):
    """The account's balance is used up (HTTP 403 ``used_up``). Not a credentials problem."""

    error_code = "used_up"


class RateLimitError(ProducerAPIError):
    """The service asked us to slow down (HTTP 429), and retries did not get through.

    Attributes:
        retry_after: Seconds the service asked us to wait, when it said.
    """

    error_code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ProducerConnectionError(ProducerError):
    """The service could not be reached, or did not answer in time, after every retry."""

    error_code = "connection_failed"


class SubmissionUncertainError(ProducerError):
    """A paid submission may or may not have been accepted: its answer was lost.

    The job may be running and billed. Do not submit it again blindly: look for it first
    (the trace id helps support find it).

    Attributes:
        endpoint: The path that was called, e.g. ``/producer/audios``.
    """

    error_code = "submission_uncertain"

    def __init__(self, message: str, *, endpoint: str, **kwargs: Any) -> None:
        self.endpoint = endpoint
        super().__init__(message, **kwargs)


class TaskNotFoundError(ProducerError):
    """The service knows no task with this id (it answered ``{}``)."""

    error_code = "task_not_found"


class TaskLostError(TaskNotFoundError):
    """The journal recorded this paid task, but the service no longer knows it (``{}``).

    Nothing was resubmitted: whether to pay for the request again is the caller's decision.
    """

    error_code = "journalled_task_lost"


class JournalError(ProducerError):
    """The journal of paid calls could not be read, so nothing was submitted (paying twice
    is the risk it guards against). Nothing was sent or billed."""

    error_code = "journal_unavailable"


class JournalConflictError(ProducerValidationError):
    """A journal key already holds a different request: nothing was submitted.

    The message names both requests; ``task_id`` is the recorded one.
    """

    error_code = "journal_key_conflict"


class TaskFailedError(ProducerError):
    """The task ended in failure. ``task`` keeps the error and any partial songs.

    Raised by ``ProducerTask.raise_for_failure()``: waiting itself returns a failed task.
    """

    error_code = "task_failed"

    def __init__(self, task: ProducerTask) -> None:
        self.task = task
        error = task.error
        detail = f"{error.code}: {error.message}" if error and error.code else None
        detail = detail or (error.message if error else None) or "no reason given"
        super().__init__(
            f"Task failed ({detail}).",
            hint=(
                f"{len(task.songs)} partial song(s) were kept in the task. "
                "Adjust the request and submit a new task if the user wants to retry."
                if task.songs
                else "Adjust the request and submit a new task if the user wants to retry."
            ),
            task_id=task.task_id,
            trace_id=task.trace_id,
        )


class DownloadError(ProducerError):
    """A file could not be downloaded (HTTP error, broken or cut stream, too large, too slow,
    stopped by the progress callback).

    Nothing partial is left on disk for the failed file.

    Attributes:
        url: The URL that failed.
        saved: Files of the same call that were completely saved before the failure.
    """

    error_code = "download_failed"

    def __init__(self, message: str, *, url: str, saved: list[Path] | None = None, **kw: Any):
        self.url = url
        self.saved = list(saved or [])
        super().__init__(message, **kw)


class SpendingLimitError(ProducerError):
    """A paid call was refused because a spending limit is reached: nothing was submitted.

    Raised by the guard of ``ProducerToolkit(max_paid_calls=...)`` (or
    ``max_paid_calls_per_thread``) before anything is sent; a tool turns it into an error
    message the model can act on.

    Attributes:
        limit: The limit that was reached (paid calls).
        scope: ``"toolkit"`` (every call through the toolkit) or ``"thread"`` (one graph thread).
        thread_id: The thread, for the per-thread limit.
    """

    error_code = "spending_limit_reached"

    def __init__(self, *, limit: int, scope: str, thread_id: str | None = None) -> None:
        self.limit = limit
        self.scope = scope
        self.thread_id = thread_id
        where = f" in thread {thread_id!r}" if scope == "thread" else ""
        super().__init__(
            f"The spending limit of {limit} paid job{'s' if limit != 1 else ''}{where} is "
            "reached; nothing was submitted or billed.",
            hint=(
                "Tell the user the spending limit is reached and nothing was submitted. Do not "
                "call paid tools again unless the user raises the limit; free tools still work."
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(limit=self.limit, scope=self.scope)
        if self.thread_id is not None:
            out["thread_id"] = self.thread_id
        return out


class SpendingStoreError(ProducerError):
    """The spending count could not be read or written in the store: nothing was submitted.

    A limit that cannot be checked is not a limit, so the paid call is refused rather than sent.
    """

    error_code = "spending_store_failed"


class PaidCallRejectedError(ProducerError):
    """The person asked to approve a paid call refused it: nothing was submitted.

    Attributes:
        reason: What the person said, if anything.
    """

    error_code = "rejected_by_reviewer"

    def __init__(self, tool: str, reason: str | None = None) -> None:
        self.reason = reason
        said = f" Their reason: {reason}" if reason else ""
        super().__init__(
            f"The person reviewing paid calls refused this {tool} call; nothing was submitted "
            f"or billed.{said}",
            hint=(
                "Tell the user it was not done and why. Do not call it again unless the user "
                "asks for it (perhaps changed as they say)."
            ),
        )


class ApprovalUnavailableError(ProducerValidationError):
    """``approve_paid_calls=True`` but the call does not run in a graph that can pause.

    Approval pauses the graph with LangGraph's ``interrupt()``, which needs a graph compiled
    with a checkpointer (``create_agent(..., checkpointer=...)``). Nothing was submitted.
    """

    error_code = "approval_unavailable"

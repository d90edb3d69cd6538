"""What the service, the network or a task did wrong: answers refused, lost, failed or cut."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from langchain_producer.errors.base import ProducerError


class _Reason(Protocol):
    @property
    def code(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...


class FailedTask(Protocol):
    """What ``TaskFailedError`` reads of a task (a ``models.ProducerTask`` has it all; the
    models raise this error, so this module does not import them)."""

    @property
    def task_id(self) -> str: ...
    @property
    def trace_id(self) -> str | None: ...
    @property
    def error(self) -> _Reason | None: ...
    @property
    def songs(self) -> Sequence[Any]: ...


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


class TaskFailedError(ProducerError):
    """The task ended in failure. ``task`` keeps the error and any partial songs.

    Raised by ``ProducerTask.raise_for_failure()``: waiting itself returns a failed task.
    """

    error_code = "task_failed"

    def __init__(self, task: FailedTask) -> None:
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

"""The Producer protocol as pure functions: request bodies, answer parsing, task state, retries.

Nothing here does I/O. Each operation is a *plan*: a generator that yields steps (send this
request, sleep this long, what time is it, look up this task, report progress) and receives their
outcomes. ``ProducerClient`` drives the same plans synchronously and asynchronously, so the two
share every line of protocol logic, and tests can drive a plan with no network and no clock.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from langchain_producer._answers import Reply, Unreadable, decode, describe
from langchain_producer._constants import API_KEY_ENV
from langchain_producer._tasks import (
    AUDIOS,
    LYRICS,
    TASKS,
    UPLOAD,
    VIDEOS,
    WAV,
    JobFailedError,
    _str,
    decide_state,
    parse_batch,
    parse_lyrics,
    parse_song,
    parse_submission,
    parse_task,
    parse_upload,
    parse_video,
    parse_wav,
)
from langchain_producer.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    RateLimitError,
    SubmissionUncertainError,
    TaskNotFoundError,
)
from langchain_producer.models import ProducerTask, TaskBatch
from langchain_producer.params import AudioParams

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Steps: what a plan asks its driver to do.


@dataclass(frozen=True, slots=True)
class Send:
    """POST ``body`` to ``path``; the driver answers with the ``Reply`` that came back (raw,
    never following a redirect) or the exception that stopped the exchange."""

    path: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Now:
    """The driver answers with a monotonic time in seconds."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """The driver answers with the task's current ``ProducerTask`` (it may batch look-ups)."""

    task_id: str


@dataclass(frozen=True, slots=True)
class Progress:
    """Tell whoever watches that a waited-on task was seen in this state (answer: None)."""

    task: ProducerTask


class Effect:
    """A step the driver performs by calling it: ``run()`` when it drives the plan
    synchronously, ``await arun()`` when asynchronously; the answer is what it returns.

    Lets work outside the wire protocol (the journal of paid calls, ``before_submit`` hooks)
    join a plan without the drivers knowing about it. Exceptions propagate out of the driver.
    """

    def run(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    async def arun(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


Step = Send | Sleep | Now | Lookup | Progress | Effect
Plan = Generator[Step, Any, T]


# --------------------------------------------------------------------------------------------
# Request bodies.


def audios_body(
    params: AudioParams, *, default_model: str, callback_url: str | None
) -> dict[str, Any]:
    """The JSON body for ``/producer/audios``.

    Spec-valid: ``lyric`` and ``prompt`` are always present (the spec requires both; ``""`` when
    unused), unset numbers are left out (never ``false`` or ``null``). Submitted with
    ``async: true`` so the answer is immediate, unless a webhook is configured.
    """
    fields = params.wire_fields()
    body: dict[str, Any] = {"action": params.action}
    if "model" in type(params).model_fields:
        body["model"] = fields.pop("model", default_model)
    body["lyric"] = fields.pop("lyric", "")
    body["prompt"] = fields.pop("prompt", "")
    body.update(fields)
    if callback_url:
        body["callback_url"] = callback_url
    else:
        body["async"] = True
    return body


def retrieve_body(task_id: str) -> dict[str, Any]:
    return {"action": "retrieve", "id": task_id}


def retrieve_batch_body(task_ids: Iterable[str]) -> dict[str, Any]:
    return {"action": "retrieve_batch", "ids": list(task_ids)}


# --------------------------------------------------------------------------------------------
# Errors and retries.

_AUTH_CODES = frozenset({"invalid_token", "token_expired", "token_mismatched", "no_token"})


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _trace_id(reply: Reply, body: Any) -> str | None:
    from_body = body.get("trace_id") if isinstance(body, dict) else None
    return _str(from_body) or reply.headers.get("x-trace-id")


def api_error(reply: Reply, body: Any) -> ProducerAPIError:
    """The exception for an error answer, with a message that says what to do next."""
    error = body.get("error") if isinstance(body, dict) else None
    code = _str(error.get("code")) if isinstance(error, dict) else None
    message = _str(error.get("message")) if isinstance(error, dict) else _str(error)
    status = reply.status
    reason = httpx.codes.get_reason_phrase(status)
    message = message or (f"HTTP {status} {reason}".strip() + " from the service.")
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "trace_id": _trace_id(reply, body),
    }
    if status == 401 or code in _AUTH_CODES:
        return AuthenticationError(
            message,
            hint=(
                f"The API key was refused: check {API_KEY_ENV} (or api_key) is a valid, "
                "unexpired AceDataCloud token for the Producer API."
            ),
            **common,
        )
    if status == 403 or code == "used_up":
        return InsufficientBalanceError(
            message,
            hint=(
                "The account balance is used up: top it up at AceDataCloud, then try again. "
                "The key itself is fine."
            ),
            **common,
        )
    if status == 429:
        return RateLimitError(
            message,
            retry_after=_retry_after(reply.headers),
            hint="Rate limited: wait a little before the next call.",
            **common,
        )
    if 300 <= status < 400:
        where = reply.headers.get("location") or "another address"
        message = f"The service answered HTTP {status}, a redirect to {where}, not an answer."
        hint = (
            "API calls never follow redirects (a paid job would be sent to another host). "
            "Nothing was done there. Check base_url: it must be the Producer API itself."
        )
        common["code"] = code or "redirect"
    elif status == 404:
        hint = "The API path was not found: check base_url points at the Producer API."
    elif status >= 500:
        hint = "The service had a fault: try again in a minute."
    else:
        hint = "Fix the request as the message says, then call again."
    return ProducerAPIError(message, hint=hint, **common)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a call again, and how long to wait first.

    Look-ups are free, so they retry on any transport error, 429 and 5xx. Paid submissions retry
    only when the request cannot have reached the service (connection refused, connect timeout,
    no free connection) or the service said 429 before doing anything.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        # Jitter spreads concurrent clients apart; a floor of half keeps the back-off real.
        return ceiling * (0.5 + random.random() / 2)


_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def exchange(path: str, body: dict[str, Any], *, paid: bool, policy: RetryPolicy) -> Plan[Any]:
    """Send one call with the retry policy; return its decoded JSON object.

    Raises the error that fits: ``SubmissionUncertainError`` whenever a paid call may have
    reached the service without us learning the outcome. A paid answer that cannot be read
    but still shows its task id counts as accepted: ``{"task_id": ...}`` is returned, so the
    paid task is followed, never lost.
    """
    attempt = 0
    while True:
        outcome = yield Send(path, body)
        retry_after: float | None = None
        if isinstance(outcome, Reply):
            answer = decode(outcome)
            if outcome.status < 300 and isinstance(answer, dict):
                if _refused(answer):
                    raise api_error(outcome, answer)
                return answer
            if paid and outcome.status < 300 and isinstance(answer, Unreadable) and answer.task_id:
                return {"task_id": answer.task_id, "trace_id": outcome.headers.get("x-trace-id")}
            failure, retryable = _failed_answer(outcome, answer, path, paid)
            if outcome.status == 429:
                retry_after = _retry_after(outcome.headers)
        else:
            never_sent = isinstance(outcome, _NEVER_SENT)
            retryable = never_sent or not paid
            failure = (
                _uncertain(path, describe(outcome), None)
                if paid and not never_sent
                else ProducerConnectionError(
                    f"Could not reach the Producer service ({describe(outcome)}).",
                    hint="Check the network and base_url, then try again.",
                )
            )
        if not retryable or attempt >= policy.max_retries:
            raise failure
        yield Sleep(policy.delay(attempt, retry_after))
        attempt += 1


def _failed_answer(
    reply: Reply, answer: dict[str, Any] | Unreadable, path: str, paid: bool
) -> tuple[ProducerError, bool]:
    """The error for an answer that is not a usable result, and whether to try again."""
    trace_id = _trace_id(reply, answer)
    if reply.status < 300:  # unreadable, so not a result
        assert isinstance(answer, Unreadable)
        if paid:
            return _uncertain(path, answer.what, trace_id), False
        unreadable = ProducerAPIError(
            f"The service answered with {answer.what}.",
            status_code=reply.status,
            code="unreadable_answer",
            hint="A passing fault of the service: look again shortly.",
            trace_id=trace_id,
        )
        return unreadable, True
    failure: ProducerError = api_error(reply, answer if isinstance(answer, dict) else None)
    if paid and reply.status >= 500:
        failure = _uncertain(path, f"HTTP {reply.status}", failure.trace_id)
    return failure, reply.status == 429 or (not paid and reply.status >= 500)


def _refused(body: dict[str, Any]) -> bool:
    # A 2xx answer that says `success: false` with no task behind it is a refusal, not a result.
    # (A failed task's own record nests its `success: false` under `response`.)
    return body.get("success") is False and not body.get("task_id")


def _uncertain(path: str, what: str, trace_id: str | None) -> SubmissionUncertainError:
    return SubmissionUncertainError(
        f"The submission to {path} got {what}; it may have been accepted and billed.",
        endpoint=path,
        hint=(
            "Do not submit it again blindly: the job may be running. Check recent tasks "
            "(or ask support with the trace id) before retrying."
        ),
        trace_id=trace_id,
    )


# --------------------------------------------------------------------------------------------
# Operations.


def submit_audio(
    params: AudioParams, *, default_model: str, callback_url: str | None, policy: RetryPolicy
) -> Plan[ProducerTask]:
    request = audios_body(params, default_model=default_model, callback_url=callback_url)
    return (
        yield from paid_call(
            AUDIOS, request, lambda body: parse_submission(body, None, params.action), policy
        )
    )


def paid_call(
    path: str, body: dict[str, Any], parse: Callable[[dict[str, Any]], T], policy: RetryPolicy
) -> Plan[T]:
    """Send a paid call once and read its answer.

    An answer that shows a task id but cannot be read in full means the job was accepted:
    the error then says so, with the id, and how to follow it (``ProducerError.following``).
    """
    answer = yield from exchange(path, body, paid=True, policy=policy)
    try:
        return parse(answer)
    except JobFailedError:
        raise  # the service's own verdict on an accepted job: final, nothing to follow
    except ProducerError as error:
        task_id = error.task_id or _str(answer.get("task_id"))
        if task_id:
            raise error.following([task_id]) from error.__cause__
        raise


def get_task(task_id: str, policy: RetryPolicy) -> Plan[ProducerTask]:
    body = yield from exchange(TASKS, retrieve_body(task_id), paid=False, policy=policy)
    return parse_task(body if isinstance(body, dict) else {}, task_id)


def get_tasks(task_ids: list[str], policy: RetryPolicy) -> Plan[TaskBatch]:
    body = yield from exchange(TASKS, retrieve_batch_body(task_ids), paid=False, policy=policy)
    return parse_batch(body if isinstance(body, dict) else {}, task_ids)


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """How often to look at a running task: soon at first, then less and less often.

    A quick task is noticed within ``first`` seconds of finishing; a slow one costs few calls.
    When the service reports rising progress, the next look is brought forward to the moment
    the task should end (never sooner than ``first``), so a long task is noticed soon too.
    """

    first: float = 2.0
    factor: float = 1.5
    cap: float = 15.0

    def interval(self, poll: int) -> float:
        return min(self.cap, self.first * self.factor**poll)

    def pause(
        self, poll: int, *, now: float, deadline: float, eta: float | None = None
    ) -> float | None:
        """Seconds to sleep before look-up number ``poll + 1``; None once the deadline passed.

        ``eta`` (seconds until the task should end, if known) can only shorten the pause.
        Wake-ups are rounded up to a shared grid (a quarter of ``first``) on the monotonic
        clock, so waits running side by side wake together and their look-ups can share one
        batch request.
        """
        remaining = deadline - now
        if remaining <= 0:
            return None
        step = self.interval(poll)
        if eta is not None:
            step = min(step, max(self.first, eta))
        grid = self.first / 4
        wake = math.ceil((now + min(step, remaining)) / grid) * grid
        return min(wake - now, remaining)


class _Eta:
    """When a running task should end, from the progress the service reports over time."""

    def __init__(self) -> None:
        self._first: tuple[float, float] | None = None

    def update(self, now: float, progress: float | None) -> float | None:
        if progress is None or not 0 < progress < 100:
            return None
        if self._first is None:
            self._first = (now, progress)
            return None
        since, start = self._first
        if progress <= start or now <= since:
            return None  # no progress seen since: no basis for a guess
        rate = (progress - start) / (now - since)
        return (100 - progress) / rate


def wait(
    task_id: str, *, max_wait: float, schedule: PollSchedule, just_submitted: bool = False
) -> Plan[ProducerTask]:
    """Poll until the task is complete or failed, or ``max_wait`` seconds have passed.

    Returns the last task seen: on timeout it is still pending or processing, never lost.
    ``just_submitted`` skips the first, immediate look: a task accepted a moment ago is pending.
    """
    start: float = yield Now()
    poll = 0
    eta = _Eta()
    try:
        if just_submitted:
            pause = schedule.pause(poll, now=start, deadline=start + max_wait)
            yield Sleep(pause or 0.0)
            poll += 1
        while True:
            task: ProducerTask = yield Lookup(task_id)
            yield Progress(task)
            if task.is_terminal:
                return task
            now: float = yield Now()
            pause = schedule.pause(
                poll, now=now, deadline=start + max_wait, eta=eta.update(now, task.progress)
            )
            if pause is None:
                return task
            yield Sleep(pause)
            poll += 1
    except TaskNotFoundError as error:
        if not just_submitted:  # an id the caller gave: it may be wrong
            raise error.with_task(task_id) from error.__cause__
        raise error.following([task_id], follow_in=schedule.cap) from error.__cause__
    except ProducerError as error:
        # Whatever broke the wait, the task goes on: the caller learns which one it was and
        # to follow it, never to submit it again.
        raise error.following(
            [task_id], follow_in=schedule.cap, accepted=just_submitted
        ) from error.__cause__


def wait_all(
    task_ids: list[str], *, max_wait: float, schedule: PollSchedule, policy: RetryPolicy
) -> Plan[TaskBatch]:
    """Poll a batch until every known task is complete or failed, or ``max_wait`` passes."""
    start: float = yield Now()
    poll = 0
    while True:
        try:
            batch = yield from get_tasks(task_ids, policy)
        except ProducerError as error:
            raise error.following(
                task_ids, follow_in=schedule.cap, accepted=False
            ) from error.__cause__
        for task in batch.tasks:
            yield Progress(task)
        pause = schedule.pause(poll, now=(yield Now()), deadline=start + max_wait)
        if pause is None or all(task.is_terminal for task in batch.tasks):
            return batch
        yield Sleep(pause)
        poll += 1


# The protocol in one namespace (parsing and task state live in ``_tasks``).
__all__ = [
    "AUDIOS",
    "LYRICS",
    "TASKS",
    "UPLOAD",
    "VIDEOS",
    "WAV",
    "JobFailedError",
    "Lookup",
    "Now",
    "Plan",
    "PollSchedule",
    "Progress",
    "RetryPolicy",
    "Send",
    "Sleep",
    "Step",
    "api_error",
    "audios_body",
    "decide_state",
    "exchange",
    "get_task",
    "get_tasks",
    "paid_call",
    "parse_batch",
    "parse_lyrics",
    "parse_song",
    "parse_submission",
    "parse_task",
    "parse_upload",
    "parse_video",
    "parse_wav",
    "retrieve_batch_body",
    "retrieve_body",
    "submit_audio",
    "wait",
    "wait_all",
]

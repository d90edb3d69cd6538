"""The Producer protocol as pure functions: request bodies, answer parsing, task state, retries.

Nothing here does I/O. Each operation is a *plan*: a generator that yields steps (send this
request, sleep this long, what time is it, look up this task, report progress) and receives their
outcomes. ``ProducerClient`` drives the same plans synchronously and asynchronously, so the two
share every line of protocol logic, and tests can drive a plan with no network and no clock.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

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
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    Song,
    TaskBatch,
    TaskError,
    TaskState,
    UploadedAudio,
    Video,
    WavFile,
    WavResult,
)
from langchain_producer.params import AudioParams

T = TypeVar("T")

AUDIOS = "/producer/audios"
LYRICS = "/producer/lyrics"
UPLOAD = "/producer/upload"
VIDEOS = "/producer/videos"
WAV = "/producer/wav"
TASKS = "/producer/tasks"

# --------------------------------------------------------------------------------------------
# Steps: what a plan asks its driver to do.


@dataclass(frozen=True, slots=True)
class Send:
    """POST ``body`` to ``path``; the driver answers with an ``httpx.Response`` or the
    ``httpx.TransportError`` it raised."""

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
# Task state.

_FAILED_ITEM_STATES = frozenset({"failed", "failure", "error", "cancelled", "canceled", "rejected"})
_DONE_ITEM_STATES = frozenset({"succeeded", "success", "complete", "completed", "finished"})
_RESULT_KEYS = ("audio_url", "stems_url", "file_url", "video_url", "text", "lyrics", "audio_id")


def _items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data] if data else []
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def _item_state(item: Mapping[str, Any]) -> str:
    state = item.get("state") or item.get("status")
    return state.lower() if isinstance(state, str) else ""


def _has_result(item: Mapping[str, Any]) -> bool:
    return any(item.get(key) for key in _RESULT_KEYS)


def _percent(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _error_of(response: Mapping[str, Any], record: Mapping[str, Any]) -> TaskError | None:
    error = response.get("error", record.get("error"))
    if isinstance(error, dict) and (error.get("code") or error.get("message")):
        return TaskError(
            code=_str(error.get("code")), message=_str(error.get("message")), raw=error
        )
    if isinstance(error, str) and error.strip():
        return TaskError(message=error, raw={"error": error})
    return None


def decide_state(record: Mapping[str, Any]) -> TaskState:
    """Decide where a task record stands, following ``reference/producer-api.md``.

    1. failed: ``response.success`` is false, an error is present, or any song failed;
    2. complete: ``response.success`` is true, or the task finished with results, or every song
       says it is done and has results. (The finished record carries no ``success`` key.)
    3. a task that finished with neither results nor an error is failed (``no_result``):
       waiting on it would never end;
    4. otherwise processing once started or showing progress, else pending.

    The empty record ``{}`` means "no such task" and must be handled before calling this.
    """
    response = record.get("response")
    response = response if isinstance(response, dict) else {}
    items = _items(response.get("data"))
    states = [_item_state(item) for item in items]
    if (
        response.get("success") is False
        or _error_of(response, record) is not None
        or any(state in _FAILED_ITEM_STATES for state in states)
    ):
        return "failed"
    if response.get("success") is True:
        return "complete"
    if record.get("finished_at"):
        return "complete" if any(_has_result(item) for item in items) else "failed"
    if items and all(
        s in _DONE_ITEM_STATES and _has_result(i) for i, s in zip(items, states, strict=True)
    ):
        return "complete"
    started = record.get("started_at") or any(
        (_percent(item.get("progress")) or 0) > 0 or state in {"processing", "running", "streaming"}
        for item, state in zip(items, states, strict=True)
    )
    return "processing" if started else "pending"


# --------------------------------------------------------------------------------------------
# Parsing answers.


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_song(item: Mapping[str, Any], *, final: bool) -> Song:
    """One item of ``data``. ``final`` is False while the task runs: URLs are then previews."""
    final = final or _item_state(item) in _DONE_ITEM_STATES
    audio_url = _str(item.get("audio_url"))
    return Song(
        id=_str(item.get("id") or item.get("audio_id")),
        title=_str(item.get("title")),
        lyric=_str(item.get("lyric") or item.get("lyrics") or item.get("text")),
        audio_url=audio_url if final else None,
        preview_url=None if final else audio_url,
        image_url=_str(item.get("image_url")),
        video_url=_str(item.get("video_url")) if final else None,
        stems_url=_str(item.get("stems_url")) if final else None,
        duration=_float(item.get("duration")),
        model=_str(item.get("model")),
        seed=_str(item.get("seed")),
        prompt=_str(item.get("sound") or item.get("prompt") or item.get("style")),
        state=_str(item.get("state") or item.get("status")),
        progress=_percent(item.get("progress")),
        created_at=_str(item.get("created_at")),
        raw=dict(item),
    )


_NO_RESULT = TaskError(
    code="no_result", message="The task finished without any result or error from the service."
)


def parse_task(record: Mapping[str, Any], task_id: str) -> ProducerTask:
    """A task record from ``/producer/tasks`` (or a synchronous answer wrapped as one)."""
    if not record:
        raise TaskNotFoundError(
            f"No task with id {task_id!r} exists.",
            hint="Check the id: use the task_id exactly as a submission returned it.",
            task_id=task_id,
        )
    response = record.get("response")
    response = response if isinstance(response, dict) else {}
    state = decide_state(record)
    items = _items(response.get("data"))
    songs = [parse_song(item, final=state == "complete") for item in items]
    progress = [song.progress for song in songs if song.progress is not None]
    request = record.get("request")
    action = request.get("action") if isinstance(request, dict) else None
    return ProducerTask(
        task_id=_str(record.get("id") or response.get("task_id")) or task_id,
        state=state,
        songs=songs,
        error=_error_of(response, record) or (_NO_RESULT if state == "failed" else None),
        trace_id=_str(record.get("trace_id") or response.get("trace_id")),
        action=_str(action or record.get("type")),
        created_at=_float(record.get("created_at")),
        started_at=_float(record.get("started_at")),
        finished_at=_float(record.get("finished_at")),
        elapsed=_float(record.get("elapsed")),
        progress=sum(progress) / len(progress) if progress else None,
        raw=dict(record),
    )


def parse_submission(body: Mapping[str, Any], trace_id: str | None, action: str) -> ProducerTask:
    """The answer to an audios submission: ``{task_id}`` alone (async) or the finished songs."""
    task_id = _str(body.get("task_id"))
    if not task_id:
        raise SubmissionUncertainError(
            "The service answered the submission without a task id.",
            endpoint=AUDIOS,
            hint="The job may have been created: check before submitting again.",
            trace_id=trace_id,
        )
    record: dict[str, Any] = {"id": task_id, "trace_id": body.get("trace_id") or trace_id}
    if "data" in body or "success" in body or "error" in body:
        record["response"] = dict(body)
    else:
        record["request"] = {"action": action}
    return parse_task(record, task_id)


def parse_batch(body: Mapping[str, Any], task_ids: list[str]) -> TaskBatch:
    records = body.get("items")
    records = records if isinstance(records, list) else []
    tasks: list[ProducerTask] = []
    for record in records:
        if not isinstance(record, dict) or not record:
            continue
        response = record.get("response")
        fallback = response.get("task_id") if isinstance(response, dict) else None
        tasks.append(parse_task(record, _str(record.get("id") or fallback) or ""))
    found = {task.task_id for task in tasks}
    return TaskBatch(tasks=tasks, missing=[i for i in task_ids if i not in found], raw=dict(body))


def _data_object(body: Mapping[str, Any]) -> dict[str, Any]:
    items = _items(body.get("data"))
    return items[0] if items else {}


def _required(value: str | None, what: str, path: str, body: Mapping[str, Any]) -> str:
    if value:
        return value
    raise _answer_without(what, path, body)


def _answer_without(what: str, path: str, body: Mapping[str, Any]) -> SubmissionUncertainError:
    return SubmissionUncertainError(
        f"The service answered {path} without {what}.",
        endpoint=path,
        hint="The work may have been done and billed; check the account before retrying.",
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
    )


def parse_lyrics(body: Mapping[str, Any]) -> Lyrics:
    data = _data_object(body)
    text = _str(data.get("text") or data.get("lyrics") or data.get("lyric"))
    return Lyrics(
        title=_str(data.get("title")),
        text=_required(text, "lyrics", LYRICS, body),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


def parse_upload(body: Mapping[str, Any]) -> UploadedAudio:
    data = _data_object(body)
    return UploadedAudio(
        audio_id=_required(
            _str(data.get("audio_id") or data.get("id")), "an audio_id", UPLOAD, body
        ),
        audio_url=_str(data.get("audio_url")),
        lyric=_str(data.get("lyric")),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


def parse_video(body: Mapping[str, Any], audio_id: str) -> Video:
    data = _data_object(body)
    return Video(
        audio_id=audio_id,
        video_url=_required(_str(data.get("video_url")), "a video_url", VIDEOS, body),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


def parse_wav(body: Mapping[str, Any], audio_id: str) -> WavResult:
    files = [
        WavFile(title=_str(item.get("title")), file_url=url, raw=item)
        for item in _items(body.get("data"))
        if (url := _str(item.get("file_url") or item.get("wav_url") or item.get("audio_url")))
    ]
    if not files:
        raise _answer_without("a file_url", WAV, body)
    return WavResult(
        audio_id=audio_id,
        files=files,
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


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


def _trace_id(response: httpx.Response, body: Any) -> str | None:
    from_body = body.get("trace_id") if isinstance(body, dict) else None
    return _str(from_body) or response.headers.get("x-trace-id")


def api_error(response: httpx.Response, body: Any) -> ProducerAPIError:
    """The exception for an error answer, with a message that says what to do next."""
    error = body.get("error") if isinstance(body, dict) else None
    code = _str(error.get("code")) if isinstance(error, dict) else None
    message = _str(error.get("message")) if isinstance(error, dict) else _str(error)
    message = message or response.reason_phrase or "The service answered with an error."
    status = response.status_code
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "trace_id": _trace_id(response, body),
    }
    if status == 401 or code in _AUTH_CODES:
        return AuthenticationError(
            message,
            hint=(
                "The API key was refused: check ACEDATACLOUD_API_TOKEN (or api_key) is a valid, "
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
            retry_after=_retry_after(response.headers),
            hint="Rate limited: wait a little before the next call.",
            **common,
        )
    if status == 404:
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
    """Send one call with the retry policy; return its decoded JSON body.

    Raises the error that fits: ``SubmissionUncertainError`` whenever a paid call may have
    reached the service without us learning the outcome.
    """
    attempt = 0
    while True:
        outcome = yield Send(path, body)
        retry_after: float | None = None
        failure: ProducerError
        if isinstance(outcome, httpx.Response):
            decoded = _decode(outcome)
            if outcome.is_success and decoded is not _MALFORMED:
                if not _refused(decoded):
                    return decoded
                raise api_error(outcome, decoded)
            if outcome.is_success:
                failure = _malformed(outcome, path, paid)
            else:
                failure = api_error(outcome, decoded)
                if paid and outcome.status_code >= 500:
                    failure = _uncertain(path, f"HTTP {outcome.status_code}", failure.trace_id)
            retryable = outcome.status_code == 429 or (not paid and outcome.status_code >= 500)
            retryable = retryable or (not paid and outcome.is_success)
            if outcome.status_code == 429:
                retry_after = _retry_after(outcome.headers)
        else:
            never_sent = isinstance(outcome, _NEVER_SENT)
            retryable = never_sent or not paid
            failure = (
                _uncertain(path, type(outcome).__name__, None)
                if paid and not never_sent
                else ProducerConnectionError(
                    f"Could not reach the Producer service ({type(outcome).__name__}: {outcome}).",
                    hint="Check the network and base_url, then try again.",
                )
            )
        if not retryable or attempt >= policy.max_retries:
            raise failure
        yield Sleep(policy.delay(attempt, retry_after))
        attempt += 1


_MALFORMED = object()


def _refused(body: Any) -> bool:
    # A 2xx answer that says `success: false` with no task behind it is a refusal, not a result.
    # (A failed task's own record nests its `success: false` under `response`.)
    return isinstance(body, dict) and body.get("success") is False and not body.get("task_id")


def _decode(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else {}
    except ValueError:
        return _MALFORMED


def _malformed(response: httpx.Response, path: str, paid: bool) -> ProducerError:
    if paid:
        return _uncertain(path, "an answer that is not JSON", response.headers.get("x-trace-id"))
    return ProducerAPIError(
        "The service answered with something that is not JSON.",
        status_code=response.status_code,
        hint="A passing fault of the service: try again shortly.",
        trace_id=response.headers.get("x-trace-id"),
    )


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
    body = yield from exchange(AUDIOS, request, paid=True, policy=policy)
    return parse_submission(body if isinstance(body, dict) else {}, None, params.action)


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
    except ProducerError as error:
        # Whatever broke the wait, the caller must still learn which (paid) task it was.
        if error.task_id is None:
            raise error.with_task(task_id) from error.__cause__
        raise


def wait_all(
    task_ids: list[str], *, max_wait: float, schedule: PollSchedule, policy: RetryPolicy
) -> Plan[TaskBatch]:
    """Poll a batch until every known task is complete or failed, or ``max_wait`` passes."""
    start: float = yield Now()
    poll = 0
    while True:
        batch = yield from get_tasks(task_ids, policy)
        for task in batch.tasks:
            yield Progress(task)
        pause = schedule.pause(poll, now=(yield Now()), deadline=start + max_wait)
        if pause is None or all(task.is_terminal for task in batch.tasks):
            return batch
        yield Sleep(pause)
        poll += 1

"""Reading what the service says of a task: its state, its songs, or the result of another task
type (lyrics, upload, video, WAV). Pure functions, total like every parser (``_results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_producer.errors import ProducerError, SubmissionUncertainError, TaskNotFoundError
from langchain_producer.models import (
    ProducerTask,
    Song,
    TaskBatch,
    TaskError,
    TaskResult,
    TaskState,
)
from langchain_producer.protocol.answers import finite
from langchain_producer.protocol.results import (
    _as_error,
    _items,
    _str,
    parse_lyrics,
    parse_upload,
    parse_video,
    parse_wav,
    total,
)
from langchain_producer.protocol.wire import AUDIOS

_FAILED_ITEM_STATES = frozenset({"failed", "failure", "error", "cancelled", "canceled", "rejected"})
_DONE_ITEM_STATES = frozenset({"succeeded", "success", "complete", "completed", "finished"})
_RUNNING_ITEM_STATES = frozenset(
    {"pending", "queued", "submitted", "processing", "running", "streaming"}
)
_RESULT_KEYS = ("audio_url", "stems_url", "file_url", "video_url", "text", "lyrics", "audio_id")


def _item_state(item: Mapping[str, Any]) -> str:
    state = item.get("state") or item.get("status")
    return state.lower() if isinstance(state, str) else ""


def _has_result(item: Mapping[str, Any]) -> bool:
    return any(item.get(key) for key in _RESULT_KEYS)


def _percent(value: Any) -> float | None:
    number = finite(value)
    return None if number is None else min(100.0, max(0.0, number))


def _error_of(response: Mapping[str, Any], record: Mapping[str, Any]) -> TaskError | None:
    return _as_error(response.get("error", record.get("error")))


def _item_error(items: list[dict[str, Any]]) -> TaskError | None:
    """Why a song failed, from the item itself; or that the service said so without a reason."""
    for item in items:
        if _item_state(item) not in _FAILED_ITEM_STATES:
            continue
        for key in ("error", "error_message", "fail_reason", "message"):
            if error := _as_error(item.get(key)):
                return error
        song = f"song {song_id}" if (song_id := _str(item.get("id"))) else "song"
        return TaskError(
            code="failed", message=f"The service reported the {song} failed (it gave no reason)."
        )
    return None


# --------------------------------------------------------------------------------------------
# Task state.


def decide_state(record: Mapping[str, Any]) -> TaskState:
    """Decide where a task record stands, following ``reference/producer-api.md``.

    1. failed: ``response.success`` is false, an error is present, or any song failed;
    2. complete: ``response.success`` is true, or the task finished with results and no song
       says it is still running, or every song says it is done and has results. (The finished
       record carries no ``success`` key.) A song still running is never shown as final, even
       if the record claims to be finished: its audio is a preview.
    3. a task that finished with neither results nor an error is failed (``no_result``):
       waiting on it would never end;
    4. otherwise processing once started or showing progress, else pending.

    The empty record ``{}`` means "no such task" and must be handled before calling this.
    """
    response = _response(record)
    items = _items(response.get("data"))
    return _decide(record, response, items, [_item_state(item) for item in items])


def _response(record: Mapping[str, Any]) -> Mapping[str, Any]:
    response = record.get("response")
    return response if isinstance(response, dict) else {}


def _decide(
    record: Mapping[str, Any],
    response: Mapping[str, Any],
    items: list[dict[str, Any]],
    states: list[str],
) -> TaskState:
    """``decide_state`` of a record whose response, items and item states are read already."""
    if (
        response.get("success") is False
        or _error_of(response, record) is not None
        or any(state in _FAILED_ITEM_STATES for state in states)
    ):
        return "failed"
    if response.get("success") is True:
        return "complete"
    still_running = any(state in _RUNNING_ITEM_STATES for state in states)
    if record.get("finished_at") and not still_running:
        return "complete" if any(_has_result(item) for item in items) else "failed"
    if items and all(
        s in _DONE_ITEM_STATES and _has_result(i) for i, s in zip(items, states, strict=True)
    ):
        return "complete"
    started = (
        record.get("started_at")
        or record.get("finished_at")
        or any(
            (_percent(item.get("progress")) or 0) > 0 or state in _RUNNING_ITEM_STATES - {"pending"}
            for item, state in zip(items, states, strict=True)
        )
    )
    return "processing" if started else "pending"


# --------------------------------------------------------------------------------------------
# Songs and tasks.


def parse_song(item: Mapping[str, Any], *, final: bool, state: str | None = None) -> Song:
    """One item of ``data``. ``final`` is False while the task runs: URLs are then previews.
    ``state``: the item's own state, lower-cased (``_item_state``), when read already."""
    state = _item_state(item) if state is None else state
    final = final or state in _DONE_ITEM_STATES
    get = item.get
    audio_url = _str(get("audio_url"))
    return Song(
        id=_str(get("id") or get("audio_id")),
        title=_str(get("title")),
        lyric=_str(get("lyric") or get("lyrics") or get("text")),
        audio_url=audio_url if final else None,
        preview_url=None if final else audio_url,
        image_url=_str(get("image_url")),
        video_url=_str(get("video_url")) if final else None,
        stems_url=_str(get("stems_url")) if final else None,
        duration=finite(get("duration")),
        model=_str(get("model")),
        seed=_str(get("seed")),
        prompt=_str(get("sound") or get("prompt") or get("style")),
        state=_str(get("state") or get("status")),
        progress=_percent(get("progress")),
        created_at=_str(get("created_at")),
        raw=item,
    )


_NO_RESULT = TaskError(
    code="no_result", message="The task finished without any result or error from the service."
)
_TYPES = frozenset({"audios", "lyrics", "upload", "videos", "wav"})


def task_type(record: Mapping[str, Any], items: list[dict[str, Any]]) -> str:
    """Which endpoint made the task: the record's ``type``, else what its results look like."""
    declared = record.get("type")
    if isinstance(declared, str) and declared.lower() in _TYPES:
        return declared.lower()
    if any(item.get("file_url") for item in items):
        return "wav"
    if any(item.get("audio_url") or item.get("stems_url") for item in items):
        return "audios"
    if any(item.get("video_url") for item in items):
        return "videos"
    if any(item.get("text") or item.get("lyrics") for item in items):
        return "lyrics"
    if any(item.get("audio_id") for item in items):
        return "upload"
    return "audios"


def _result(kind: str, response: Mapping[str, Any], record: Mapping[str, Any]) -> TaskResult:
    """The result of a finished lyrics, upload, video or WAV task, as its own model."""
    request = record.get("request")
    audio_id = _str(request.get("audio_id")) if isinstance(request, dict) else None
    body = {"task_id": record.get("id"), "trace_id": record.get("trace_id"), **response}
    try:
        if kind == "lyrics":
            return parse_lyrics(body)
        if kind == "upload":
            return parse_upload(body)
        if kind == "videos":
            return parse_video(body, audio_id or "")
        if kind == "wav":
            return parse_wav(body, audio_id or "")
    except ProducerError:
        return None
    return None


@total
def parse_task(record: Mapping[str, Any], task_id: str) -> ProducerTask:
    """A task record from ``/producer/tasks`` (or a synchronous answer wrapped as one)."""
    if not record:
        raise TaskNotFoundError(
            f"No task with id {task_id!r} exists.",
            hint="Check the id: use the task_id exactly as a submission returned it.",
            task_id=task_id,
        )
    get = record.get
    response = _response(record)
    items = _items(response.get("data"))
    states = [_item_state(item) for item in items]
    state = _decide(record, response, items, states)
    kind = task_type(record, items)
    final = state == "complete"
    songs = [
        parse_song(item, final=final, state=item_state)
        for item, item_state in zip(items, states, strict=True)
    ]
    progress = [song.progress for song in songs if song.progress is not None]
    request = get("request")
    action = request.get("action") if isinstance(request, dict) else None
    error = (_error_of(response, record) or _item_error(items)) if state == "failed" else None
    return ProducerTask(
        task_id=_str(get("id") or response.get("task_id")) or task_id,
        state=state,
        type=kind,
        songs=songs if kind == "audios" else [],
        result=_result(kind, response, record) if final and kind != "audios" else None,
        error=error or (_NO_RESULT if state == "failed" else None),
        trace_id=_str(get("trace_id") or response.get("trace_id")),
        action=_str(action or get("type")),
        created_at=finite(get("created_at")),
        started_at=finite(get("started_at")),
        finished_at=finite(get("finished_at")),
        elapsed=finite(get("elapsed")),
        progress=sum(progress) / len(progress) if progress else None,
        raw=record,
    )


@total
def parse_submission(body: Mapping[str, Any], trace_id: str | None, action: str) -> ProducerTask:
    """The answer to an audios submission: ``{task_id}`` alone (async) or the finished songs."""
    task_id = _str(body.get("task_id"))
    if not task_id:
        raise SubmissionUncertainError(
            "The service answered the submission without a task id.",
            endpoint=AUDIOS,
            hint=(
                "The job may have been created and billed: do not submit it again blindly. "
                "Check the account's recent tasks (or ask support with the trace id) first."
            ),
            trace_id=_str(body.get("trace_id")) or trace_id,
        )
    record: dict[str, Any] = {"id": task_id, "trace_id": body.get("trace_id") or trace_id}
    if "data" in body or "success" in body or "error" in body:
        record["response"] = dict(body)
    else:
        record["request"] = {"action": action}
    task = parse_task(record, task_id)
    return task.model_copy(update={"type": "audios"})


@total
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

"""Every task type reads right, and every error reaches the model in one shape.

Table-driven over the shapes the service answers: what ``producer_get_task`` shows for songs,
stems, WAV, video, lyrics and uploads; unfinished records that claim to be finished; failed
songs without a reason; media answers that report failure; and the error shape of validation
and service errors alike.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from langchain_producer import ProducerToolkit

DONE = {"started_at": 1.0, "finished_at": 2.0, "elapsed": 1.0}


def record(kind: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "task-1",
        "type": kind,
        **DONE,
        "request": {"audio_id": "song-9"},
        "response": {"task_id": "task-1", "data": data, **extra},
    }


def toolkit_answering(path: str, status: int, body: Any) -> ProducerToolkit:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return httpx.Response(status, json=body)
        return httpx.Response(404, json={"error": {"code": "no_api"}})

    return ProducerToolkit(
        api_key="k",
        transport=httpx.MockTransport(handle),
        max_retries=0,
        get_task_wait=0,
        poll_interval=0.01,
        max_poll_interval=0.02,
    )


def call(toolkit: ProducerToolkit, name: str, **args: Any) -> tuple[str | None, dict[str, Any]]:
    (tool,) = toolkit.get_tools([name])
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": name, "args": args})
    return message.status, json.loads(message.content)


def get_task(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    toolkit = toolkit_answering("/producer/tasks", 200, body)
    return call(toolkit, "producer_get_task", task_id="task-1")


# ---------------------------------------------------------------------------------------------
# Each task type shows its own result, and next_step names its field.

SONG = {"id": "s1", "state": "succeeded", "audio_url": "https://cdn/s1.mp3", "title": "T"}
STEMS = {"state": "succeeded", "stems_url": "https://cdn/s1.zip", "title": "T"}
TYPES = {
    "song": (record("audios", [SONG]), "songs", "https://cdn/s1.mp3", "audio_url"),
    "stems": (record("audios", [STEMS]), "songs", "https://cdn/s1.zip", "stems_url"),
    "wav": (
        record("wav", [{"title": "T", "file_url": "https://cdn/s1.wav"}], success=True),
        "files",
        "https://cdn/s1.wav",
        "file_url",
    ),
    "video": (
        record("videos", {"video_url": "https://cdn/s1.mp4"}, success=True),
        "video_url",
        "https://cdn/s1.mp4",
        "video_url",
    ),
    "lyrics": (
        record("lyrics", {"title": "T", "text": "[Verse] la"}, success=True),
        "lyric",
        "[Verse] la",
        "producer_generate_custom_music",
    ),
    "upload": (
        record("upload", {"audio_id": "up-7", "audio_url": "https://x/a.mp3"}, success=True),
        "audio_id",
        "up-7",
        "audio_id",
    ),
    "wav-untyped": (
        {**record("wav", [{"file_url": "https://cdn/s1.wav"}]), "type": None},
        "files",
        "https://cdn/s1.wav",
        "file_url",
    ),
}


@pytest.mark.parametrize("kind", list(TYPES))
def test_get_task_shows_the_result_of_every_task_type(kind: str) -> None:
    body, field, value, named = TYPES[kind]
    status, shown = get_task(body)
    assert status != "error"
    assert shown["state"] == "complete" and shown["task_id"] == "task-1"
    assert field in shown
    assert value in json.dumps(shown[field])
    assert named in shown["next_step"]
    if kind not in ("song",):
        assert "audio_url" not in shown["next_step"]


# ---------------------------------------------------------------------------------------------
# States that are easy to misread.

PREVIEW = {"id": "s1", "state": "streaming", "audio_url": "https://cdn/preview/s1.mp3"}


@pytest.mark.parametrize("state", ["processing", "streaming", "running", "pending"])
def test_finished_at_with_a_song_still_running_is_not_complete(state: str) -> None:
    _status, shown = get_task(record("audios", [{**PREVIEW, "state": state}]))
    assert shown["state"] in ("pending", "processing")
    assert shown["should_poll"] is True
    assert "preview" not in json.dumps(shown.get("songs", []))
    assert "audio_url" not in shown


@pytest.mark.parametrize("state", ["failed", "error", "cancelled"])
def test_a_failed_song_without_a_reason_says_the_service_reported_it(state: str) -> None:
    _status, shown = get_task(record("audios", [{"id": "s1", "state": state}]))
    assert shown["state"] == "failed"
    assert shown["error"] == "failed"
    assert "The service reported the song s1 failed" in shown["message"]
    assert "no_result" not in json.dumps(shown)


def test_a_failed_song_with_its_own_reason_shows_it() -> None:
    item = {"id": "s1", "state": "failed", "error_message": "lyrics refused by moderation"}
    _status, shown = get_task(record("audios", [item]))
    assert shown["message"] == "lyrics refused by moderation"


# ---------------------------------------------------------------------------------------------
# Media answers that report failure show the service's own words.

MEDIA = {
    "lyrics": ("/producer/lyrics", "producer_generate_lyrics", {"prompt": "rain"}),
    "wav": ("/producer/wav", "producer_generate_wav", {"audio_id": "s1"}),
    "video": ("/producer/videos", "producer_generate_video", {"audio_id": "s1"}),
    "upload": ("/producer/upload", "producer_upload_audio", {"audio_url": "https://x/a.mp3"}),
}


@pytest.mark.parametrize("kind", list(MEDIA))
@pytest.mark.parametrize(
    "error",
    [{"code": "content_policy", "message": "The prompt was refused."}, "The prompt was refused."],
    ids=["object", "string"],
)
def test_media_answer_reporting_failure_shows_the_service_message(kind: str, error: Any) -> None:
    path, tool, args = MEDIA[kind]
    body = {"success": False, "task_id": "m-1", "trace_id": "tr-m", "error": error}
    status, shown = call(toolkit_answering(path, 200, body), tool, **args)
    assert status == "error"
    assert shown["message"] == "The prompt was refused."
    assert shown["error"] == (error["code"] if isinstance(error, dict) else "failed")
    assert shown["error"] != "submission_uncertain"
    assert shown["task_id"] == "m-1" and shown["trace_id"] == "tr-m"
    assert "will not change" in shown["next_step"]


# ---------------------------------------------------------------------------------------------
# One error shape: validation and service errors alike.

ERRORS = {
    "invalid-arguments": ("/producer/audios", 200, {}, "producer_generate_music", {"prompt": 7}),
    "unknown-argument": ("/x", 200, {}, "producer_get_task", {"task_id": "t", "oops": 1}),
    "service-400": (
        "/producer/audios",
        400,
        {"success": False, "error": {"code": "bad_request", "message": "prompt too long"}},
        "producer_generate_music",
        {"prompt": "x"},
    ),
    "service-401": (
        "/producer/tasks",
        401,
        {"success": False, "error": {"code": "invalid_token", "message": "bad token"}},
        "producer_get_task",
        {"task_id": "t"},
    ),
    "uncertain-500": ("/producer/lyrics", 500, {}, "producer_generate_lyrics", {"prompt": "x"}),
    "not-found": ("/producer/tasks", 200, {}, "producer_get_task", {"task_id": "ghost"}),
    "failed-task": (
        "/producer/tasks",
        200,
        record("audios", [], success=False, error={"code": "task_failed", "message": "boom"}),
        "producer_get_task",
        {"task_id": "task-1"},
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_every_error_has_one_shape_with_a_code_not_a_class_name(case: str) -> None:
    path, status_code, body, tool, args = ERRORS[case]
    _status, shown = call(toolkit_answering(path, status_code, body), tool, **args)
    assert isinstance(shown["error"], str) and shown["error"]
    assert shown["error"] == shown["error"].lower(), "a code, not a class name"
    assert "Error" not in json.dumps(shown)
    assert isinstance(shown["message"], str) and shown["message"]
    assert isinstance(shown["next_step"], str) and shown["next_step"]

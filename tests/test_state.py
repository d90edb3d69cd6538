"""Task state and answer parsing over every record shape documented in producer-api.md.

Pure functions only: ``decide_state``, ``parse_task``, ``parse_submission``, ``parse_batch`` and
the synchronous-answer parsers. No network, no clock.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from langchain_producer.errors import SubmissionUncertainError, TaskNotFoundError
from langchain_producer.models import Lyrics
from langchain_producer.protocol.results import parse_lyrics, parse_upload, parse_video, parse_wav
from langchain_producer.protocol.tasks import (
    decide_state,
    parse_batch,
    parse_submission,
    parse_task,
)
from langchain_producer.tools._content import task_content

TASK_ID = "1a6a0000-task"
FINAL_MP3 = "https://cdn.example/final/6c94.mp3"
PREVIEW_MP3 = "https://cdn.example/stream/6c94.mp3"


def song(**overrides: Any) -> dict[str, Any]:
    """The documented song item (finished)."""
    item: dict[str, Any] = {
        "id": "6c94-song",
        "title": "Untitled",
        "lyric": "[Instrumental]",
        "audio_url": FINAL_MP3,
        "image_url": "https://cdn.example/6c94.jpg",
        "image_id": "6c94-song",
        "video_url": None,
        "seed": "2450882164",
        "sound": "A song for Christmas",
        "created_at": "2025-12-30T17:18:23.232911Z",
        "model": "FUZZ-2.0 Pro",
        "progress": "100%",
        "state": "succeeded",
        "duration": "181.30",
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not ...}


def record(data: Any = None, *, finished: bool = True, started: bool = True, **response: Any):
    """The documented task record; ``response`` keys are merged into ``record["response"]``."""
    rec: dict[str, Any] = {
        "id": TASK_ID,
        "type": "audios",
        "trace_id": "d858-trace",
        "created_at": 1767119745.5,
        "started_at": 1767119745.6 if started else None,
        "finished_at": 1767119785.6 if finished else None,
        "elapsed": 40.0 if finished else None,
        "request": {"action": "generate", "prompt": "A song for Christmas", "async": True},
        "response": {"task_id": TASK_ID, "data": [song()] if data is None else data},
    }
    rec["response"].update(response)
    return rec


def running_song(**overrides: Any) -> dict[str, Any]:
    base = {"audio_url": PREVIEW_MP3, "progress": "40%", "state": "processing", "duration": None}
    base.update(overrides)
    return song(**base)


# ---------------------------------------------------------------------------------------------
# The state table.

STATE_TABLE: list[tuple[str, dict[str, Any], str]] = [
    ("documented finished record, no success key", record(), "complete"),
    ("success true", record(success=True), "complete"),
    ("success true before finished_at", record(finished=False, success=True), "complete"),
    (
        "every item succeeded with URLs, no finished_at",
        record(finished=False),
        "complete",
    ),
    ("success false", record(success=False), "failed"),
    ("structured error", record(error={"code": "task_failed", "message": "boom"}), "failed"),
    ("string error", record(error="Generation failed: content policy"), "failed"),
    (
        "partial failure: songs plus structured error",
        record(
            [song(), song(id="b", state="failed", audio_url=PREVIEW_MP3)],
            error={"code": "partial", "message": "one song failed"},
        ),
        "failed",
    ),
    (
        "error at the record level",
        {**record(), "error": {"code": "api_error", "message": "x"}},
        "failed",
    ),
    (
        "pending: nothing started",
        record(
            [song(audio_url=None, progress="0%", state="pending", duration=None)],
            finished=False,
            started=False,
        ),
        "pending",
    ),
    (
        "pending: no response at all yet",
        {"id": TASK_ID, "type": "audios", "created_at": 1.0, "started_at": None},
        "pending",
    ),
    ("processing with previews", record([running_song()], finished=False), "processing"),
    (
        "processing shown only by progress (started_at missing)",
        record([running_song()], finished=False, started=False),
        "processing",
    ),
    (
        "succeeded items without URLs are not complete",
        record([song(audio_url=None, state="succeeded")], finished=False),
        "processing",
    ),
    ("finished without results", record([], finished=True), "failed"),
    (
        "finished, items without any URL",
        record([song(audio_url=None, state=None, progress=None)], finished=True),
        "failed",
    ),
    (
        "stems item (stems_url, no id)",
        record([{"stems_url": "https://cdn.example/s.zip", "state": "succeeded"}]),
        "complete",
    ),
    (
        "video: data is an object",
        {**record(), "type": "videos", "response": {"data": {"video_url": "https://v/x.mp4"}}},
        "complete",
    ),
    (
        "wav: data is a list of files",
        {
            **record(),
            "type": "wav",
            "response": {"data": [{"title": "T", "file_url": "https://w/x.wav"}]},
        },
        "complete",
    ),
    (
        "lyrics with text",
        {**record(), "type": "lyrics", "response": {"data": {"title": "T", "text": "[Verse]"}}},
        "complete",
    ),
    (
        "lyrics with lyrics",
        {**record(), "type": "lyrics", "response": {"data": {"title": "T", "lyrics": "[Verse]"}}},
        "complete",
    ),
    (
        "upload",
        {**record(), "type": "upload", "response": {"success": True, "data": {"audio_id": "u1"}}},
        "complete",
    ),
]


@pytest.mark.parametrize(
    ("rec", "expected"), [(r, e) for _, r, e in STATE_TABLE], ids=[n for n, _, _ in STATE_TABLE]
)
def test_decide_state(rec: dict[str, Any], expected: str) -> None:
    frozen = copy.deepcopy(rec)
    assert decide_state(rec) == expected
    assert parse_task(rec, TASK_ID).state == expected
    assert rec == frozen, "parsing must not mutate the service's record"


@pytest.mark.parametrize(
    "item_state",
    ["failed", "failure", "error", "cancelled", "canceled", "rejected", "FAILED", "Cancelled"],
)
def test_any_failed_item_state_fails_the_task(item_state: str) -> None:
    rec = record([song(), song(id="b", state=item_state)])
    task = parse_task(rec, TASK_ID)
    assert task.state == "failed"
    assert task.is_terminal and not task.is_complete
    assert [s.id for s in task.songs] == ["6c94-song", "b"]


@pytest.mark.parametrize("done", ["succeeded", "success", "complete", "completed", "finished"])
def test_every_done_item_state_completes_without_finished_at(done: str) -> None:
    assert decide_state(record([song(state=done)], finished=False)) == "complete"


# ---------------------------------------------------------------------------------------------
# What the parsed task holds.


def test_documented_finished_record_parses_fully() -> None:
    task = parse_task(record(), "ignored-id")
    assert task.task_id == TASK_ID
    assert task.state == "complete" and task.error is None
    assert task.trace_id == "d858-trace"
    assert task.action == "generate"
    assert (task.created_at, task.finished_at, task.elapsed) == (1767119745.5, 1767119785.6, 40.0)
    (only,) = task.songs
    assert only.id == "6c94-song"
    assert only.audio_url == FINAL_MP3 and only.preview_url is None
    assert only.duration == pytest.approx(181.3) and isinstance(only.duration, float)
    assert only.prompt == "A song for Christmas"
    assert only.seed == "2450882164"
    assert only.progress == 100.0
    assert task.progress == 100.0


def test_empty_record_is_not_found_never_pending() -> None:
    with pytest.raises(TaskNotFoundError) as caught:
        parse_task({}, "nope-123")
    assert caught.value.task_id == "nope-123"
    assert "nope-123" in str(caught.value)


def test_processing_previews_are_never_presented_as_final() -> None:
    rec = record([running_song(video_url="https://cdn.example/preview.mp4")], finished=False)
    task = parse_task(rec, TASK_ID)
    assert task.state == "processing" and not task.is_terminal
    (only,) = task.songs
    assert only.audio_url is None
    assert only.preview_url == PREVIEW_MP3
    assert only.video_url is None
    assert only.progress == 40.0 and task.progress == 40.0
    assert only.duration is None
    shown = task_content(task, poll_hint="poll again")
    assert shown["should_poll"] is True and shown["progress_percent"] == 40
    assert "cdn.example" not in str(shown)


def test_pending_task_has_no_urls() -> None:
    rec = record(
        [song(audio_url=None, progress="0%", state="pending", duration=None)],
        finished=False,
        started=False,
    )
    task = parse_task(rec, TASK_ID)
    assert task.state == "pending"
    assert task.songs[0].audio_url is None and task.songs[0].preview_url is None


def test_partial_failure_keeps_songs_and_error() -> None:
    rec = record(
        [song(), song(id="b", state="failed", audio_url=PREVIEW_MP3, progress="60%")],
        success=False,
        error={"code": "task_failed", "message": "second song failed"},
    )
    task = parse_task(rec, TASK_ID)
    assert task.state == "failed"
    assert task.error is not None
    assert (task.error.code, task.error.message) == ("task_failed", "second song failed")
    good, bad = task.songs
    assert good.audio_url == FINAL_MP3, "a song that itself succeeded keeps its final URL"
    assert bad.audio_url is None and bad.preview_url == PREVIEW_MP3
    shown = task_content(task, poll_hint="unused")
    assert shown["state"] == "failed"
    assert (shown["error"], shown["message"]) == ("task_failed", "second song failed")
    assert [s["id"] for s in shown["partial_songs"]] == ["6c94-song"]
    assert PREVIEW_MP3 not in str(shown)


def test_string_error_is_the_message() -> None:
    task = parse_task(record(error="Generation failed: content policy"), TASK_ID)
    assert task.state == "failed"
    assert task.error is not None
    assert task.error.message == "Generation failed: content policy"
    assert task.error.code is None


def test_finished_without_results_fails_with_no_result() -> None:
    task = parse_task(record([]), TASK_ID)
    assert task.state == "failed"
    assert task.error is not None and task.error.code == "no_result"
    assert task.songs == []


def test_stems_item() -> None:
    zip_url = "https://cdn.example/stems/abc.zip"
    rec = record([{"stems_url": zip_url, "state": "succeeded", "progress": "100%"}])
    rec["request"] = {"action": "stems", "audio_id": "6c94-song"}
    task = parse_task(rec, TASK_ID)
    assert task.state == "complete" and task.action == "stems"
    (only,) = task.songs
    assert only.id is None and only.audio_url is None
    assert only.stems_url == zip_url
    assert task_content(task, poll_hint="x")["songs"] == [{"stems_url": zip_url}]


def test_stems_url_hidden_while_running() -> None:
    rec = record([{"stems_url": None, "state": "processing", "progress": "50%"}], finished=False)
    task = parse_task(rec, TASK_ID)
    assert task.state == "processing"
    assert task.songs[0].stems_url is None


@pytest.mark.parametrize(
    "data",
    [song(), [song()]],
    ids=["data-object", "data-list"],
)
def test_data_as_object_or_list(data: Any) -> None:
    task = parse_task(record(data), TASK_ID)
    assert task.state == "complete"
    assert [s.audio_url for s in task.songs] == [FINAL_MP3]


def test_lyrics_record_text_or_lyrics() -> None:
    for key in ("text", "lyrics"):
        rec = {**record(), "type": "lyrics", "response": {"data": {"title": "T", key: "[Verse]"}}}
        task = parse_task(rec, TASK_ID)
        assert isinstance(task.result, Lyrics)
        assert (task.result.text, task.result.title) == ("[Verse]", "T")
        assert task.songs == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("181.30", 181.3), ("0", 0.0), (95, 95.0), (12.5, 12.5), ("", None), ("n/a", None)],
)
def test_duration_string_becomes_float(value: Any, expected: float | None) -> None:
    task = parse_task(record([song(duration=value)]), TASK_ID)
    assert task.songs[0].duration == expected


def test_missing_duration_is_none() -> None:
    item = song()
    del item["duration"]
    assert parse_task(record([item]), TASK_ID).songs[0].duration is None


def test_unknown_fields_are_kept_in_raw() -> None:
    rec = record([song(loudness_lufs=-14, stems={"vocals": "v"})], success=True, new_key=1)
    rec["queue_position"] = 3
    task = parse_task(rec, TASK_ID)
    assert task.raw["queue_position"] == 3
    assert task.raw["response"]["new_key"] == 1
    assert task.songs[0].raw["loudness_lufs"] == -14
    assert task.songs[0].raw["stems"] == {"vocals": "v"}


def test_task_id_falls_back_to_response_then_argument() -> None:
    rec = record()
    del rec["id"]
    assert parse_task(rec, "arg").task_id == TASK_ID
    rec["response"].pop("task_id")
    assert parse_task(rec, "arg").task_id == "arg"


# ---------------------------------------------------------------------------------------------
# Submissions.


def test_async_submission_is_pending_task() -> None:
    task = parse_submission({"task_id": "t-1"}, "tr-1", "extend")
    assert task.task_id == "t-1"
    assert task.state == "pending" and not task.is_terminal
    assert task.action == "extend"
    assert task.trace_id == "tr-1"
    assert task.songs == []


def test_async_submission_body_trace_id_wins() -> None:
    task = parse_submission({"task_id": "t-1", "trace_id": "body"}, "header", "generate")
    assert task.trace_id == "body"


def test_synchronous_submission_is_complete() -> None:
    body = {"success": True, "task_id": "82fd", "trace_id": "d858", "data": [song()]}
    task = parse_submission(body, None, "generate")
    assert task.state == "complete" and task.task_id == "82fd"
    assert task.songs[0].audio_url == FINAL_MP3
    assert task.songs[0].duration == pytest.approx(181.3)


def test_synchronous_submission_with_failure() -> None:
    body = {
        "success": False,
        "task_id": "82fd",
        "error": {"code": "task_failed", "message": "nope"},
        "data": [song(state="failed", audio_url=PREVIEW_MP3)],
    }
    task = parse_submission(body, None, "generate")
    assert task.state == "failed"
    assert task.error is not None and task.error.code == "task_failed"
    assert task.songs[0].audio_url is None


@pytest.mark.parametrize("body", [{}, {"trace_id": "t"}, {"task_id": ""}, {"task_id": None}])
def test_submission_without_task_id_is_uncertain(body: dict[str, Any]) -> None:
    with pytest.raises(SubmissionUncertainError) as caught:
        parse_submission(body, "tr", "generate")
    assert caught.value.endpoint == "/producer/audios"
    assert "again" in caught.value.hint


# ---------------------------------------------------------------------------------------------
# Synchronous answers of the other paid endpoints.


@pytest.mark.parametrize("key", ["text", "lyrics"])
def test_parse_lyrics_accepts_text_or_lyrics(key: str) -> None:
    body = {"success": True, "task_id": "l1", "trace_id": "tr", "data": {"title": "T", key: "[V]"}}
    lyrics = parse_lyrics(body)
    assert (lyrics.title, lyrics.text, lyrics.task_id, lyrics.trace_id) == ("T", "[V]", "l1", "tr")


def test_parse_lyrics_without_text_is_uncertain() -> None:
    with pytest.raises(SubmissionUncertainError):
        parse_lyrics({"task_id": "l1", "data": {"title": "T"}})


def test_parse_upload_documented_and_guide_shapes() -> None:
    assert parse_upload({"data": {"audio_id": "u1"}}).audio_id == "u1"
    guide = parse_upload(
        {"task_id": "t", "data": {"audio_id": "u2", "lyric": "la", "audio_url": "https://a/x.mp3"}}
    )
    assert (guide.audio_id, guide.lyric, guide.audio_url) == ("u2", "la", "https://a/x.mp3")
    with pytest.raises(SubmissionUncertainError):
        parse_upload({"data": {}})


def test_parse_video_object_and_list() -> None:
    assert parse_video({"data": {"video_url": "https://v/1.mp4"}}, "a").video_url == (
        "https://v/1.mp4"
    )
    assert parse_video({"data": [{"video_url": "https://v/2.mp4"}]}, "a").video_url == (
        "https://v/2.mp4"
    )
    with pytest.raises(SubmissionUncertainError):
        parse_video({"data": {}}, "a")


def test_parse_wav_list_and_object() -> None:
    wav = parse_wav({"data": [{"title": "T", "file_url": "https://w/1.wav", "x": 1}]}, "a")
    assert wav.audio_id == "a"
    assert [(f.title, f.file_url) for f in wav.files] == [("T", "https://w/1.wav")]
    assert wav.files[0].raw["x"] == 1
    assert parse_wav({"data": {"file_url": "https://w/2.wav"}}, "a").files[0].file_url == (
        "https://w/2.wav"
    )
    with pytest.raises(SubmissionUncertainError):
        parse_wav({"data": []}, "a")


# ---------------------------------------------------------------------------------------------
# Batches.


def test_batch_items_and_missing_ids() -> None:
    running = record([running_song()], finished=False)
    running["id"] = "t-running"
    no_top_id = record()
    del no_top_id["id"]
    no_top_id["response"]["task_id"] = "t-done"
    body = {"items": [running, no_top_id, {}, "junk"], "count": 2, "trace_id": "tr"}
    batch = parse_batch(body, ["t-running", "t-done", "t-unknown"])
    assert [(t.task_id, t.state) for t in batch.tasks] == [
        ("t-running", "processing"),
        ("t-done", "complete"),
    ]
    assert batch.missing == ["t-unknown"]
    assert batch.tasks[0].songs[0].audio_url is None
    assert batch.raw["count"] == 2


@pytest.mark.parametrize("body", [{}, {"items": None, "count": 0}, {"items": [], "count": 0}])
def test_empty_batch_lists_every_id_missing(body: dict[str, Any]) -> None:
    batch = parse_batch(body, ["a", "b"])
    assert batch.tasks == [] and batch.missing == ["a", "b"]

"""The emulated API's endpoints, and the table that routes each path to one of them.

Every handler takes the emulator, the JSON body, the answer's trace id and the task failure to
apply (``None``, ``"task_failed"`` or ``"task_failed_text"``); it raises
:class:`~langchain_producer.emulator.validation.BadRequest` for a body the service refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from langchain_producer._constants import DEFAULT_MODEL
from langchain_producer.emulator import media, rendering, validation
from langchain_producer.emulator.answers import json_response
from langchain_producer.emulator.state import (
    AudioSource,
    Emulated,
    EmulatedSong,
    EmulatedTask,
    new_id,
)

Handler = Callable[[Emulated, dict[str, Any], str, str | None], httpx.Response]


def audios(
    emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None
) -> httpx.Response:
    """``/producer/audios``: one song (or stems bundle) per request, sync, async or webhook."""
    fields = validation.given(body)
    validation.check_audios(fields)
    action = validation.spec_action(fields["action"])
    source = None if action == "generate" else emu.source(fields["audio_id"])
    now = emu.clock()
    fingerprint = json.dumps(
        {k: v for k, v in fields.items() if k not in ("async", "callback_url")}, sort_keys=True
    )
    seed = fields.get("seed")
    if seed is None or seed == "":
        seed = int.from_bytes(media.digest(fingerprint)[:4], "big")
    media_seed = f"{fingerprint}|{seed}"
    # A stems bundle is the source song split up: same sound, same length.
    from_source = action == "stems" and source is not None
    prompt = fields.get("prompt") or ""
    song = EmulatedSong(
        key=new_id(),
        title=fields.get("title") or rendering.title_from(prompt, source),
        lyric=rendering.lyric_for(fields, source),
        sound=prompt,
        seed=str(seed),
        model=fields.get("model", DEFAULT_MODEL),
        created_at=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        duration=source.duration if source and from_source else media.reported_duration(media_seed),
        audio_seconds=(
            source.audio_seconds if source and from_source else media.audio_seconds(media_seed)
        ),
        media_seed=source.media_seed if source and from_source else media_seed,
        is_stems=action == "stems",
        fail_progress=10 + media.digest(media_seed)[9] % 80,
    )
    start_at = now + emu.pending_seconds
    task = EmulatedTask(
        id=new_id(),
        type="audios",
        trace_id=trace_id,
        created_at=now,
        request=dict(body),
        start_at=start_at,
        finish_at=start_at + emu.processing_seconds,
        songs=[song],
        fail=failure is not None,
        error_text=failure == "task_failed_text",
        callback_url=fields.get("callback_url"),
    )
    with emu.lock:
        emu.tasks[task.id] = task
        if song.is_stems:
            emu.stems[song.key] = task.id
        else:
            emu.sources[song.key] = AudioSource(
                media_seed=song.media_seed,
                duration=song.duration,
                audio_seconds=song.audio_seconds,
                task_id=task.id,
                title=song.title,
                lyric=song.lyric,
            )
    if fields.get("async") is True or task.callback_url:
        if task.callback_url:
            emu.webhooks.schedule(task)
        return json_response(200, {"task_id": task.id, "trace_id": trace_id}, trace_id)
    emu.wait_until_done(task)
    return json_response(200, emu.final_body(task, trace_id), trace_id)


def lyrics(
    emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None
) -> httpx.Response:
    """``/producer/lyrics``: ``data: {title, text}`` at once."""
    prompt = validation.lyrics_prompt(validation.given(body))
    return _finished(emu, "lyrics", body, trace_id, failure, rendering.lyrics(prompt))


def upload(
    emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None
) -> httpx.Response:
    """``/producer/upload``: an ``audio_id`` for a public audio URL, usable by every edit."""
    url = validation.upload_url(validation.given(body))
    audio_id = new_id()
    with emu.lock:
        emu.sources[audio_id] = AudioSource(
            media_seed=url,
            duration=media.reported_duration(url),
            audio_seconds=media.audio_seconds(url),
            task_id=None,
            title=url.rsplit("/", 1)[-1] or "Upload",
            lyric="[Instrumental]",
        )
    data = {"audio_id": audio_id, "audio_url": url, "lyric": "[Instrumental]"}
    return _finished(emu, "upload", body, trace_id, failure, data)


def videos(
    emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None
) -> httpx.Response:
    """``/producer/videos``: ``data: {video_url}``; the song's own ``video_url`` fills in too."""
    audio_id = validation.audio_id(validation.given(body))
    emu.source(audio_id)
    if failure is None:
        with emu.lock:
            emu.videos.add(audio_id)
    data = {"video_url": f"{emu.media_base}/media/video/{audio_id}.mp4"}
    return _finished(emu, "videos", body, trace_id, failure, data)


def wav(emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None) -> httpx.Response:
    """``/producer/wav``: ``data: [{title, file_url}]``."""
    audio_id = validation.audio_id(validation.given(body))
    source = emu.source(audio_id)
    if failure is None:
        with emu.lock:
            emu.wavs.add(audio_id)
    title = source.title if source else "Untitled"
    data = [{"title": title, "file_url": f"{emu.media_base}/media/wav/{audio_id}.wav"}]
    return _finished(emu, "wav", body, trace_id, failure, data)


def _finished(
    emu: Emulated,
    kind: str,
    body: dict[str, Any],
    trace_id: str,
    failure: str | None,
    data: Any,
) -> httpx.Response:
    """Answer a synchronous endpoint and record it as a finished task of type ``kind``."""
    task_id = new_id()
    answer: dict[str, Any] = {"success": failure is None, "task_id": task_id}
    if failure == "task_failed_text":
        answer["error"] = f"The {kind} task failed (emulated)."
    elif failure is not None:
        answer["error"] = {"code": "task_failed", "message": f"The {kind} task failed (emulated)."}
    else:
        answer["data"] = data
    now = emu.clock()
    with emu.lock:
        emu.tasks[task_id] = EmulatedTask(
            id=task_id,
            type=kind,
            trace_id=trace_id,
            created_at=now,
            request=dict(body),
            start_at=now,
            finish_at=now,
            result=answer,
            fail=failure is not None,
        )
    return json_response(200, {**answer, "trace_id": trace_id}, trace_id)


def tasks(
    emu: Emulated, body: dict[str, Any], trace_id: str, failure: str | None
) -> httpx.Response:
    """``/producer/tasks``: ``retrieve`` one record (``{}`` if unknown) or ``retrieve_batch``."""
    action, ids = validation.task_ids(validation.given(body))
    with emu.lock:
        if action == "retrieve":
            task = emu.tasks.get(ids[0])
            return json_response(200, {} if task is None else emu.record(task), trace_id)
        # One item per id asked for, repeats included; unknown ids are left out.
        items = [emu.record(emu.tasks[i]) for i in ids if i in emu.tasks]
    return json_response(200, {"items": items, "count": len(items), "trace_id": trace_id}, trace_id)


ENDPOINTS: dict[str, Handler] = {
    "/producer/audios": audios,
    "/producer/lyrics": lyrics,
    "/producer/upload": upload,
    "/producer/videos": videos,
    "/producer/wav": wav,
    "/producer/tasks": tasks,
}
"""Every API path, and the handler that answers it."""

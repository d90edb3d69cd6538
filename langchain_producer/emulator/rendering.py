"""The vendor's JSON shapes (songs, task records, final bodies, lyrics) from the emulator state."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from langchain_producer.emulator import media
from langchain_producer.emulator.state import AudioSource, EmulatedSong, EmulatedTask

TASK_ERROR = {"code": "task_failed", "message": "The generation failed upstream (emulated)."}
"""The structured ``error`` of a failed task."""
TASK_ERROR_TEXT = "The generation failed upstream (emulated)."
"""The bare-string ``error`` of a failed task (``task_failed_text``): the documents allow both."""


def render_song(
    song: EmulatedSong, phase: str, progress: int, base: str, has_video: bool
) -> dict[str, Any]:
    """One ``data`` item at ``phase`` (``pending``, ``processing``, ``succeeded``, ``failed``)."""
    ready = phase in ("processing", "succeeded", "failed")
    item: dict[str, Any] = {}
    if not song.is_stems:
        item["id"] = song.key
    item["title"] = song.title
    item["lyric"] = song.lyric
    if song.is_stems:
        item["stems_url"] = f"{base}/media/stems/{song.key}.zip" if phase == "succeeded" else None
    elif phase == "succeeded":
        item["audio_url"] = f"{base}/media/audio/{song.key}.wav"
    elif ready:
        item["audio_url"] = f"{base}/media/preview/{song.key}.wav"
    else:
        item["audio_url"] = None
    item["image_url"] = f"{base}/media/image/{song.key}.png" if ready else None
    item["image_id"] = song.key
    # Filled once /producer/videos made a video of this song.
    item["video_url"] = f"{base}/media/video/{song.key}.mp4" if has_video else None
    item["seed"] = song.seed
    item["sound"] = song.sound
    item["created_at"] = song.created_at
    item["model"] = song.model
    item["progress"] = f"{progress}%"
    item["state"] = phase
    item["duration"] = f"{song.duration:.2f}" if phase == "succeeded" else None
    return item


def items(
    task: EmulatedTask, now: float, base: str, videos: Collection[str]
) -> list[dict[str, Any]]:
    """The ``data`` list of an audios task at time ``now``."""
    phase = task.phase(now)
    if phase == "processing":
        span = max(task.finish_at - task.start_at, 1e-9)
        progress = min(99, int(100 * (now - task.start_at) / span))
    else:
        progress = 100 if phase == "succeeded" else 0
    return [
        render_song(
            song,
            phase,
            song.fail_progress if phase == "failed" else progress,
            base,
            song.key in videos,
        )
        for song in task.songs
    ]


def task_error(task: EmulatedTask) -> dict[str, str] | str:
    """The ``error`` of a failed task, structured or a bare string."""
    return TASK_ERROR_TEXT if task.error_text else dict(TASK_ERROR)


def final_body(
    task: EmulatedTask, trace_id: str, now: float, base: str, videos: Collection[str]
) -> dict[str, Any]:
    """The synchronous answer (and webhook body) of a finished audios task."""
    body: dict[str, Any] = {"success": not task.fail, "task_id": task.id, "trace_id": trace_id}
    if task.fail:
        body["error"] = task_error(task)
    body["data"] = items(task, now, base, videos)
    return body


def record(task: EmulatedTask, now: float, base: str, videos: Collection[str]) -> dict[str, Any]:
    """The task record ``retrieve`` answers.

    The timing fields are absent, not null, until they have a value (as the documents say).
    """
    phase = task.phase(now)
    out: dict[str, Any] = {
        "id": task.id,
        "type": task.type,
        "trace_id": task.trace_id,
        "created_at": task.created_at,
    }
    if phase != "pending":
        out["started_at"] = task.start_at
    if phase in ("succeeded", "failed"):
        out["finished_at"] = task.finish_at
        out["elapsed"] = round(task.finish_at - task.start_at, 3)
    out["request"] = dict(task.request)
    if task.result is not None:
        out["response"] = dict(task.result)
        return out
    response: dict[str, Any] = {"task_id": task.id}
    if phase == "failed":
        response["success"] = False
        response["error"] = task_error(task)
    response["data"] = items(task, now, base, videos)
    out["response"] = response
    return out


# ------------------------------------------------------------------------- generated content


def title_from(prompt: str, source: AudioSource | None) -> str:
    """A song title: the source's for an edit, else the prompt's first words."""
    if source is not None:
        return source.title
    words = re.findall(r"[A-Za-z0-9']+", prompt)[:4]
    return " ".join(w.capitalize() for w in words) or "Untitled"


def lyric_for(fields: dict[str, Any], source: AudioSource | None) -> str:
    """The lyric a new song sings."""
    if fields.get("instrumental") is True:
        return "[Instrumental]"
    lyric = fields.get("lyric") or ""
    if lyric.strip():
        return str(lyric)
    if source is not None:
        return source.lyric
    return lyrics(fields.get("prompt") or "a song")["text"]


def lyrics(prompt: str) -> dict[str, str]:
    """Deterministic structured lyrics for ``prompt`` (the ``/producer/lyrics`` ``data``)."""
    words = re.findall(r"[A-Za-z']+", prompt) or ["song"]
    topic = " ".join(words[:3]).lower()
    h = media.digest(prompt)
    images = ("light", "rain", "road", "fire", "sky", "river", "night", "home")
    pick = [images[b % len(images)] for b in h[:4]]
    text = (
        f"[Verse]\nI found {topic} in the {pick[0]}\nCarried it home through the {pick[1]}\n"
        f"[Chorus]\nSing it loud, {topic}\nUnder the {pick[2]}, over the {pick[3]}\n"
        f"[Verse 2]\nEvery step a little brighter\nEvery word a little lighter\n"
        f"[Chorus]\nSing it loud, {topic}\nUnder the {pick[2]}, over the {pick[3]}"
    )
    title = " ".join(w.capitalize() for w in words[:3])
    return {"title": title, "text": text, "status": "complete"}

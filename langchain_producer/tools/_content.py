"""How a task reads to a model: its state and exactly what to do next, without previews or
empty fields (the compact JSON every tool returns as its content)."""

from __future__ import annotations

from typing import Any

from langchain_producer.models import Lyrics, ProducerTask, Song, UploadedAudio, Video, WavResult


def song_content(song: Song) -> dict[str, Any]:
    """A finished (or failed-but-kept) song, without previews and without empty fields."""
    fields = {
        "id": song.id,
        "title": song.title,
        "duration_seconds": round(song.duration, 1) if song.duration is not None else None,
        "audio_url": song.audio_url,
        "image_url": song.image_url,
        "video_url": song.video_url,
        "stems_url": song.stems_url,
        "model": song.model,
        "lyric": song.lyric,
    }
    return {key: value for key, value in fields.items() if value is not None}


def media_content(result: Lyrics | UploadedAudio | Video | WavResult) -> dict[str, Any]:
    """The model's view of a lyrics, upload, video or WAV result (from its tool or a task),
    led by its task id (the record of a paid job), with a next step naming its own field."""
    shown: dict[str, Any] = {"task_id": result.task_id} if result.task_id else {}
    match result:
        case Lyrics():
            shown |= {"title": result.title, "lyric": result.text}
            then = "Pass lyric (and title) to producer_generate_custom_music to sing it."
        case UploadedAudio():
            shown["audio_id"] = result.audio_id
            then = "Use this audio_id with extend, cover, variation, swaps or stems."
        case Video():
            shown |= {"audio_id": result.audio_id, "video_url": result.video_url}
            then = "Finished. Give the user the video_url (an mp4 music video)."
        case WavResult():
            files = [{"title": f.title, "file_url": f.file_url} for f in result.files]
            shown |= {"audio_id": result.audio_id, "files": files}
            then = "Finished. Give the user each file_url (a lossless WAV file)."
    return shown | {"next_step": then}


def _songs_next_step(songs: list[dict[str, Any]]) -> str:
    fields = [f for f in ("audio_url", "stems_url", "video_url") if any(f in s for s in songs)]
    give = " / ".join(fields) or "result"
    return (
        f"Finished. Give the user the {give} of each song. A song's id is the audio_id for "
        "extend, cover, variation, swaps, replace_section, stems, WAV and video."
    )


def task_content(task: ProducerTask, *, poll_hint: str) -> dict[str, Any]:
    """The model's view of a task of any type: its state and exactly what to do next.

    A failed task has the one error shape (``error`` code, ``message``, ``next_step``) beside
    its ``task_id`` and ``state``.

    Args:
        poll_hint: How to follow a running task up, e.g. "call producer_get_task again now".
    """
    out: dict[str, Any] = {"task_id": task.task_id, "state": task.state}
    if task.type and task.type != "audios":
        out["type"] = task.type
    if task.state == "complete":
        if task.result is not None:
            out.update(media_content(task.result))
        else:
            out["songs"] = [song_content(song) for song in task.songs]
            out["next_step"] = _songs_next_step(out["songs"])
    elif task.state == "failed":
        error = task.error
        out["error"] = (error.code if error else None) or "failed"
        out["message"] = (error.message if error else None) or "The service reported a failure."
        if task.trace_id:
            out["trace_id"] = task.trace_id
        kept = [song_content(song) for song in task.songs if song.audio_url or song.stems_url]
        if kept:
            out["partial_songs"] = kept
        out["next_step"] = (
            "The task failed and will not change. Tell the user why; start a new, paid task "
            "only if they ask for another attempt."
        )
    else:
        # A parked task's song comes back as a new message: the model waits, it does not poll.
        out["should_poll"] = not task.parked
        if task.progress is not None:
            out["progress_percent"] = round(task.progress)
        out["next_step"] = (
            f"Still running: {poll_hint}. Any audio URL it has now is only a preview; "
            "do not give one to the user until the state is 'complete'."
        )
    return out

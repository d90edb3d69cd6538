"""What the emulator remembers: tasks, their songs, and the audio an ``audio_id`` can name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


def new_id() -> str:
    """A fresh id in the vendor's format (a UUID4 string)."""
    return str(uuid.uuid4())


@dataclass
class EmulatedSong:
    """One item of an audios task (a song, or a stems bundle when ``is_stems``)."""

    key: str
    """The media key; for a song also its ``id`` (the ``audio_id`` for edits)."""
    title: str
    lyric: str
    sound: str
    seed: str
    model: str
    created_at: str
    duration: float
    """The length the song reports (seconds, minutes long like the real service's)."""
    audio_seconds: float
    """The length of the audio actually served (a few seconds, to keep tests fast)."""
    media_seed: str
    is_stems: bool = False
    fail_progress: int = 50


@dataclass
class EmulatedTask:
    """The emulator's own record of a task; rendered into the vendor's shape on demand."""

    id: str
    type: str
    trace_id: str
    created_at: float
    request: dict[str, Any]
    start_at: float
    """When processing starts (planned; may lie in the future)."""
    finish_at: float
    """When the task ends (planned; may lie in the future)."""
    songs: list[EmulatedSong] = field(default_factory=list)
    result: dict[str, Any] | None = None
    """The recorded answer of a synchronous endpoint (lyrics, upload, videos, wav)."""
    fail: bool = False
    error_text: bool = False
    """A failed task's ``error`` is a bare string instead of ``{code, message}``."""
    callback_url: str | None = None
    callback_sent: bool = False

    def phase(self, now: float) -> str:
        """``pending``, ``processing``, ``succeeded`` or ``failed`` at time ``now``."""
        if now < self.start_at:
            return "pending"
        if now < self.finish_at:
            return "processing"
        return "failed" if self.fail else "succeeded"


@dataclass
class AudioSource:
    """Something an ``audio_id`` can name: a made song or an uploaded file."""

    media_seed: str
    duration: float
    audio_seconds: float
    task_id: str | None
    title: str
    lyric: str

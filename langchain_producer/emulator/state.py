"""What the emulator remembers: tasks, their songs, and the audio an ``audio_id`` can name."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


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


# What the parts of the emulator read of it. ``service.ProducerEmulator`` has it all; the parts
# (endpoints, media, webhooks, server) are given the emulator and import only these, never the
# service that imports them.


class World(Protocol):
    """The emulator's memory, under its lock, and its clock."""

    tasks: dict[str, EmulatedTask]
    sources: dict[str, AudioSource]
    stems: dict[str, str]
    videos: set[str]
    wavs: set[str]
    lock: threading.RLock
    clock: Callable[[], float]
    uses_real_clock: bool

    @property
    def media_base(self) -> str: ...


class Scheduler(Protocol):
    """Whatever delivers a task's webhook when it finishes."""

    def schedule(self, task: EmulatedTask) -> None: ...


class Emulated(World, Protocol):
    """What the endpoints read: the memory, the timing, and the views of a task."""

    pending_seconds: float
    processing_seconds: float

    @property
    def webhooks(self) -> Scheduler: ...
    def record(self, task: EmulatedTask) -> dict[str, Any]: ...
    def final_body(self, task: EmulatedTask, trace_id: str) -> dict[str, Any]: ...
    def source(self, audio_id: str) -> AudioSource | None: ...
    def wait_until_done(self, task: EmulatedTask) -> None: ...


class Served(Protocol):
    """What the HTTP server reads: the handler and where media links point."""

    @property
    def media_base(self) -> str: ...
    def handle(self, request: httpx.Request) -> httpx.Response: ...
    def set_media_base(self, base_url: str | None) -> str | None: ...


class Account(World, Protocol):
    """What the platform API reads: the application, its token and its Credits."""

    application_id: str
    platform_token: str | None
    task_cost: float
    credits: float
    """Credits before any task was charged (``ProducerEmulator.balance`` is what is left)."""

"""Typed results of the Producer API.

Every model keeps the service's own JSON in ``raw``, so a field the service adds tomorrow is never
lost. Parsing is liberal (see ``langchain_producer.protocol.tasks``); these classes only hold
the outcome.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from langchain_producer._display import song_html, task_html
from langchain_producer.errors import TaskFailedError

TaskState = Literal["pending", "processing", "complete", "failed"]
"""Where a task is: ``pending`` and ``processing`` mean keep polling; ``complete`` and ``failed``
are final. Only ``complete`` means the songs are finished."""

TERMINAL_STATES: frozenset[str] = frozenset({"complete", "failed"})


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    raw: dict[str, Any] = Field(default_factory=dict, repr=False)
    """The service's JSON for this object, unchanged."""


class _Paid(_Result):
    """A result of a paid call, with how the call was obtained."""

    resumed: bool = False
    """True when the journal found this call already submitted and it was resumed instead:
    this call paid nothing."""
    submitted_at: str | None = None
    """ISO-8601 UTC time the service accepted the call (the original time when resumed)."""
    journal_warning: str | None = None
    """Set when the journal could not record the accepted call: why, and what to do."""


class Song(_Result):
    """One song (or one stems bundle) of a task.

    ``audio_url`` is only ever set once the task is complete. While the task runs, any URL the
    service already shows is a streaming preview and is kept apart in ``preview_url``.
    """

    id: str | None = None
    """The song's id: the ``audio_id`` that extend, cover, stems, wav and video take."""
    title: str | None = None
    lyric: str | None = None
    audio_url: str | None = None
    preview_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    stems_url: str | None = None
    duration: float | None = None
    """Seconds (the service sends a string; it is parsed here)."""
    model: str | None = None
    seed: str | None = None
    prompt: str | None = None
    """The style text the song was made from (the service's ``sound``)."""
    state: str | None = None
    progress: float | None = None
    """Percent, 0 to 100."""
    created_at: str | None = None

    def _repr_html_(self) -> str:
        return song_html(self)


class TaskError(_Result):
    """Why a task or a call failed, as the service said it."""

    code: str | None = None
    message: str | None = None


class ProducerTask(_Paid):
    """A Producer task and what it has produced so far.

    Examples:
        >>> task = client.get_task("1a6a...")  # doctest: +SKIP
        >>> if task.is_complete:  # doctest: +SKIP
        ...     print(task.songs[0].audio_url)
    """

    task_id: str
    state: TaskState
    songs: list[Song] = Field(default_factory=list)
    error: TaskError | None = None
    trace_id: str | None = None
    action: str | None = None
    type: str | None = None
    """Which endpoint made the task: ``audios`` (songs), ``lyrics``, ``upload``, ``videos`` or
    ``wav``."""
    result: TaskResult = None
    """The finished result of a lyrics, upload, video or WAV task (songs are in ``songs``)."""
    parked: bool = False
    """True when the call returned at acceptance without waiting and its LangGraph thread will
    be woken with the finished task by the webhook receiver (``ProducerToolkit(park=True)``)."""
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    elapsed: float | None = None
    progress: float | None = None
    """Mean progress of the songs in percent, when the service reports it."""

    @property
    def is_terminal(self) -> bool:
        """True when the task will not change any more (complete or failed)."""
        return self.state in TERMINAL_STATES

    @property
    def is_complete(self) -> bool:
        """True only when the task finished successfully: the one state with final songs."""
        return self.state == "complete"

    def raise_for_failure(self) -> ProducerTask:
        """Raise ``TaskFailedError`` if the task failed; else return the task.

        Waiting returns a failed task rather than raising (its error and partial songs are in
        it); call this where a failure should stop the program instead.

        Raises:
            TaskFailedError: The task ended in failure (the error keeps the task).

        Examples:
            >>> task = client.submit(Generate(prompt="lo-fi"), wait=True)  # doctest: +SKIP
            >>> song = task.raise_for_failure().songs[0]  # doctest: +SKIP
        """
        if self.state == "failed":
            raise TaskFailedError(self)
        return self

    def _repr_html_(self) -> str:
        return task_html(self)


class TaskBatch(_Result):
    """The answer to a batch look-up: the tasks found, and the ids the service did not know."""

    tasks: list[ProducerTask] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class Lyrics(_Paid):
    """Lyrics written by ``/producer/lyrics``, with section markers such as ``[Verse]``."""

    title: str | None = None
    text: str
    task_id: str | None = None
    trace_id: str | None = None


class UploadedAudio(_Paid):
    """An uploaded audio file, ready to be extended, covered or split by its ``audio_id``."""

    audio_id: str
    audio_url: str | None = None
    lyric: str | None = None
    task_id: str | None = None
    trace_id: str | None = None


class Video(_Paid):
    """The music video rendered for a song."""

    audio_id: str
    video_url: str
    task_id: str | None = None
    trace_id: str | None = None


class WavFile(_Result):
    """One lossless WAV file."""

    title: str | None = None
    file_url: str


class WavResult(_Paid):
    """The WAV rendering of a song (the service answers a list of files)."""

    audio_id: str
    files: list[WavFile]
    task_id: str | None = None
    trace_id: str | None = None


TaskResult = Lyrics | UploadedAudio | Video | WavResult | None
"""What a finished task of a type other than ``audios`` holds."""

ProducerTask.model_rebuild()

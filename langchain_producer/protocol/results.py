"""Reading the answers of the calls that return at once (lyrics, upload, video, WAV), and the
small readers every parser shares. Pure functions.

Parsing is liberal (fields may be missing, mistyped, huge or not finite) and total: every
parser returns a model or raises a ``ProducerError``, never any other exception.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from langchain_producer.errors import ProducerAPIError, ProducerError, SubmissionUncertainError
from langchain_producer.models import Lyrics, TaskError, UploadedAudio, Video, WavFile, WavResult
from langchain_producer.protocol.answers import finite
from langchain_producer.protocol.wire import LYRICS, UPLOAD, VIDEOS, WAV

P = ParamSpec("P")
R = TypeVar("R")


def total(parse: Callable[P, R]) -> Callable[P, R]:
    """Make a parser total: any exception but a ``ProducerError`` becomes one.

    The service's answers are untrusted input; whatever a hostile or broken answer trips over
    in parsing (a type nobody expected, a value pydantic refuses) must reach the caller as a
    ``ProducerError`` that keeps the ids, never as a crash.
    """

    @functools.wraps(parse)
    def parsed(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return parse(*args, **kwargs)
        except ProducerError:
            raise
        except Exception as error:  # untrusted input: any failure is "unreadable"
            body = next((a for a in args if isinstance(a, Mapping)), {})
            raise ProducerAPIError(
                f"The service's answer could not be read ({type(error).__name__}).",
                status_code=200,
                code="unreadable_answer",
                hint="A fault of the service's answer: look again shortly.",
                task_id=_str(body.get("task_id") or body.get("id")),
            ) from error

    return parsed


# --------------------------------------------------------------------------------------------
# Small readers.


def _str(value: Any) -> str | None:
    if type(value) is str:  # the usual case, first
        return value if value and not value.isspace() else None
    if value is None or isinstance(value, dict | list | bool):
        return None
    if isinstance(value, float):
        return str(value) if finite(value) is not None else None
    text = str(value)
    return text if text.strip() else None


def _items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data] if data else []
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def _as_error(error: Any) -> TaskError | None:
    if isinstance(error, dict) and (error.get("code") or error.get("message")):
        return TaskError(
            code=_str(error.get("code")), message=_str(error.get("message")), raw=error
        )
    if isinstance(error, str) and error.strip():
        return TaskError(message=error, raw={"error": error})
    return None


# --------------------------------------------------------------------------------------------
# Calls that answer at once (all paid).


class JobFailedError(ProducerAPIError):
    """The service accepted a lyrics, upload, video or WAV job and reports that it failed."""


def _media_data(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The ``data`` object of a media answer, after checking the service did not report failure.

    ``HTTP 200`` with ``success: false`` and an error is the service saying the job failed:
    its own message and code are what the caller must read.
    """
    error = _as_error(body.get("error"))
    if body.get("success") is False or error is not None:
        error = error or TaskError(message="The service reported the job failed.")
        task_id = _str(body.get("task_id"))
        raise JobFailedError(
            error.message or "The service reported the job failed.",
            status_code=200,
            code=error.code or "failed",
            hint=(
                "The service says this job failed; it will not change. Tell the user why; "
                "ask before starting a new, paid job."
            ),
            task_id=task_id,
            trace_id=_str(body.get("trace_id")),
        )
    items = _items(body.get("data"))
    return items[0] if items else {}


def _required(value: str | None, what: str, path: str, body: Mapping[str, Any]) -> str:
    if value:
        return value
    raise SubmissionUncertainError(
        f"The service answered {path} without {what}.",
        endpoint=path,
        hint=(
            "The work may have been done and billed: do not call it again blindly; check the "
            "account's recent tasks first."
        ),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
    )


@total
def parse_lyrics(body: Mapping[str, Any]) -> Lyrics:
    data = _media_data(body, LYRICS)
    text = _str(data.get("text") or data.get("lyrics") or data.get("lyric"))
    return Lyrics(
        title=_str(data.get("title")),
        text=_required(text, "lyrics", LYRICS, body),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


@total
def parse_upload(body: Mapping[str, Any]) -> UploadedAudio:
    data = _media_data(body, UPLOAD)
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


@total
def parse_video(body: Mapping[str, Any], audio_id: str) -> Video:
    data = _media_data(body, VIDEOS)
    return Video(
        audio_id=audio_id,
        video_url=_required(_str(data.get("video_url")), "a video_url", VIDEOS, body),
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )


@total
def parse_wav(body: Mapping[str, Any], audio_id: str) -> WavResult:
    _media_data(body, WAV)
    files = [
        WavFile(title=_str(item.get("title")), file_url=url, raw=item)
        for item in _items(body.get("data"))
        if (url := _str(item.get("file_url") or item.get("wav_url") or item.get("audio_url")))
    ]
    return WavResult(
        audio_id=audio_id,
        files=files or [WavFile(file_url=_required(None, "a file_url", WAV, body))],
        task_id=_str(body.get("task_id")),
        trace_id=_str(body.get("trace_id")),
        raw=dict(body),
    )

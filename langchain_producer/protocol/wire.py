"""Request bodies, exactly as the service documents them (``reference/producer-api.md``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_producer.params import AudioParams

AUDIOS = "/producer/audios"
LYRICS = "/producer/lyrics"
UPLOAD = "/producer/upload"
VIDEOS = "/producer/videos"
WAV = "/producer/wav"
TASKS = "/producer/tasks"


def audios_body(
    params: AudioParams, *, default_model: str, callback_url: str | None
) -> dict[str, Any]:
    """The JSON body for ``/producer/audios``.

    Spec-valid: ``lyric`` and ``prompt`` are always present (the spec requires both; ``""`` when
    unused), unset numbers are left out (never ``false`` or ``null``). Submitted with
    ``async: true`` so the answer is immediate, unless a webhook is configured.
    """
    fields = params.wire_fields()
    body: dict[str, Any] = {"action": params.action}
    if "model" in type(params).model_fields:
        body["model"] = fields.pop("model", default_model)
    body["lyric"] = fields.pop("lyric", "")
    body["prompt"] = fields.pop("prompt", "")
    body.update(fields)
    if callback_url:
        body["callback_url"] = callback_url
    else:
        body["async"] = True
    return body


def retrieve_body(task_id: str) -> dict[str, Any]:
    return {"action": "retrieve", "id": task_id}


def retrieve_batch_body(task_ids: Iterable[str]) -> dict[str, Any]:
    return {"action": "retrieve_batch", "ids": list(task_ids)}

"""What the emulated service refuses (400 ``bad_request``), and nothing more.

The rules come from the vendor's documents; where they are silent or disagree the emulator
accepts (see the package docstring's list of choices). Every check runs on the request body as
the service would read it: ``null`` (and ``false`` where a number belongs) means "not given".
"""

from __future__ import annotations

import re
from typing import Any

from langchain_producer._constants import AUDIO_ACTIONS, MODELS, PROMPT_MAX_CHARS

EXTRA_AUDIO_ACTIONS: tuple[str, ...] = (
    "upload_cover",
    "upload_extend",
    "upload_replace_section",
    "all_stems",
)
"""Actions the vendor's web app uses outside the spec: accepted, read as their spec twin."""

ACTION_TWIN = {
    "upload_cover": "cover",
    "upload_extend": "extend",
    "upload_replace_section": "replace_section",
    "all_stems": "stems",
}

_STRING_FIELDS = ("prompt", "lyric", "title", "audio_id", "callback_url", "model")
_BOOL_FIELDS = ("custom", "instrumental", "async")
_NUMBER_FIELDS = (
    "continue_at",
    "replace_section_start",
    "replace_section_end",
    "lyrics_strength",
    "sound_strength",
    "weirdness",
)
# The documented 0..1 controls. sound_strength is 0.2..1 in the spec's text but 0..1 in the
# vendor's own MCP server: the sources disagree, so the wider range is accepted.
_UNIT_RANGE = ("lyrics_strength", "sound_strength", "weirdness")
_HTTP_URL = re.compile(r"^https?://[^/\s]+")


class BadRequest(Exception):
    """A request the emulated service refuses with 400 ``bad_request``."""


def given(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``body`` that count as given: ``null`` and a number field's ``false`` do not.

    The vendor's MCP server sends ``"callback_url": null`` and the spec's numeric fields carry
    ``"default": false``, which the vendor SDK sends for unset numbers.
    """
    return {
        name: value
        for name, value in body.items()
        if value is not None and not (name in _NUMBER_FIELDS and value is False)
    }


def spec_action(action: str) -> str:
    """The spec action an accepted ``action`` behaves as."""
    return ACTION_TWIN.get(action, action)


def check_audios(fields: dict[str, Any]) -> None:
    """Refuse an ``/producer/audios`` body (already passed through :func:`given`)."""
    known = (*AUDIO_ACTIONS, *EXTRA_AUDIO_ACTIONS)
    action = fields.get("action")
    if action is None:
        raise BadRequest(f"action is required: one of {', '.join(AUDIO_ACTIONS)}.")
    if action not in known:
        raise BadRequest(f"Unknown action {action!r}: use one of {', '.join(AUDIO_ACTIONS)}.")
    for name in _STRING_FIELDS:
        if name in fields and not isinstance(fields[name], str):
            raise BadRequest(f"{name} must be a string, not {json_type(fields[name])}.")
    seed = fields.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, str | int | float)):
        raise BadRequest(f"seed must be a string or a number, not {json_type(seed)}.")
    for name in _BOOL_FIELDS:
        if name in fields and not isinstance(fields[name], bool):
            raise BadRequest(f"{name} must be true or false, not {json_type(fields[name])}.")
    for name in _NUMBER_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{name} must be a number, not {json_type(value)}.")
        low, high = (0.0, 1.0) if name in _UNIT_RANGE else (0.0, float("inf"))
        if not low <= value <= high:
            bound = f"between {low} and {high}" if name in _UNIT_RANGE else f"at least {low}"
            raise BadRequest(f"{name} must be {bound}, got {value}.")
    if "model" in fields and fields["model"] not in MODELS:
        raise BadRequest(f"Unknown model {fields['model']!r}: use one of {', '.join(MODELS)}.")
    prompt = fields.get("prompt", "")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise BadRequest(
            f"prompt is {len(prompt)} characters long; at most {PROMPT_MAX_CHARS} are allowed "
            "(put lyrics in 'lyric')."
        )
    twin = spec_action(action)
    if twin != "generate" and not fields.get("audio_id", "").strip():
        raise BadRequest(f"audio_id is required for action {action!r}: the id of a song.")
    if twin == "generate" and not (
        prompt.strip() or fields.get("lyric", "").strip() or fields.get("instrumental") is True
    ):
        raise BadRequest("generate needs a prompt (or a lyric with custom: true).")
    if twin == "replace_section":
        start, end = fields.get("replace_section_start"), fields.get("replace_section_end")
        if start is None or end is None:
            raise BadRequest("replace_section needs replace_section_start and replace_section_end.")
        if end <= start:
            raise BadRequest(
                f"replace_section_end ({end}) must be greater than replace_section_start ({start})."
            )
    callback = fields.get("callback_url")
    if callback is not None and not _HTTP_URL.match(callback):
        raise BadRequest("callback_url must be an http(s) URL.")


def lyrics_prompt(fields: dict[str, Any]) -> str:
    """The text a ``/producer/lyrics`` body asks for.

    Every client sends a string; the spec types ``prompt`` as an object, so an object is read too
    (its values joined).
    """
    prompt = fields.get("prompt")
    if isinstance(prompt, dict):
        prompt = " ".join(str(value) for value in prompt.values() if value is not None)
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest("prompt is required: a non-empty string describing the lyrics.")
    return prompt


def upload_url(fields: dict[str, Any]) -> str:
    """The ``audio_url`` of a ``/producer/upload`` body."""
    url = fields.get("audio_url")
    if not isinstance(url, str) or not _HTTP_URL.match(url):
        raise BadRequest("audio_url is required: a public http(s) URL of an audio file.")
    return url


def audio_id(fields: dict[str, Any]) -> str:
    """The ``audio_id`` of a ``/producer/videos`` or ``/producer/wav`` body."""
    wanted = fields.get("audio_id")
    if not isinstance(wanted, str) or not wanted.strip():
        raise BadRequest("audio_id is required: the id of a song.")
    return wanted


def task_ids(fields: dict[str, Any]) -> tuple[str, list[str]]:
    """The action and ids of a ``/producer/tasks`` body (``retrieve`` is the spec default)."""
    action = fields.get("action", "retrieve")
    if action == "retrieve":
        task_id = fields.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise BadRequest("retrieve needs 'id': a task id string.")
        return action, [task_id]
    if action == "retrieve_batch":
        ids = fields.get("ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest("retrieve_batch needs 'ids': a list of task id strings.")
        return action, ids
    raise BadRequest(f"Unknown action {action!r}: use 'retrieve' or 'retrieve_batch'.")


def json_type(value: object) -> str:
    """How JSON would name the type of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"

"""What the vendor documents about each request body, written out here so tests need nothing else.

Sources: the vendor's OpenAPI document (``openapi/producer.json`` at commit e8b005f: paths, fields,
JSON types, enumerations, required lists) and its integration guides (ranges and the 200-character
prompt, which the OpenAPI leaves out). ``test_vendor_documents.py`` compares these facts with the
OpenAPI file wherever a copy of it sits beside the repository, and says so when it is skipped.

Each schema is JSON Schema (draft 7) for a body this package may SEND: strict where the documents
are (a body that passes is one the service documents), never stricter than they are.
"""

from __future__ import annotations

from typing import Any

# Written out again rather than imported from langchain_producer._constants: facts that share
# code with what they check would confirm its mistakes instead of catching them.
MODELS = [
    "FUZZ-2.0 Pro",
    "FUZZ-2.0",
    "FUZZ-2.0 Raw",
    "FUZZ-1.1 Pro",
    "FUZZ-1.0 Pro",
    "FUZZ-1.0",
    "FUZZ-1.1",
    "FUZZ-0.8",
]
AUDIO_ACTIONS = [
    "generate",
    "cover",
    "extend",
    "variation",
    "swap_vocals",
    "swap_instrumentals",
    "replace_section",
    "stems",
]

_SECONDS: dict[str, Any] = {"type": "number", "minimum": 0}
_UNIT: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}

AUDIOS: dict[str, Any] = {
    "type": "object",
    # The OpenAPI requires lyric and prompt for every action; the vendor's own later clients
    # send "" for the one they do not use.
    "required": ["action", "lyric", "prompt"],
    "properties": {
        "action": {"type": "string", "enum": AUDIO_ACTIONS},
        "model": {"type": "string", "enum": MODELS},
        # Guides: the style prompt is at most 200 characters.
        "prompt": {"type": "string", "maxLength": 200},
        "lyric": {"type": "string"},
        "custom": {"type": "boolean"},
        "instrumental": {"type": "boolean"},
        "title": {"type": "string"},
        "audio_id": {"type": "string"},
        "continue_at": _SECONDS,
        "replace_section_start": _SECONDS,
        "replace_section_end": _SECONDS,
        "lyrics_strength": _UNIT,
        # Guides: 0.2..1 (the vendor's MCP server allows 0..1; we send only what both accept).
        "sound_strength": {"type": "number", "minimum": 0.2, "maximum": 1},
        "weirdness": _UNIT,
        "seed": {"type": "string"},
        "callback_url": {"type": "string"},
        "async": {"type": "boolean"},
    },
    "allOf": [
        # Every action but generate works on an existing song.
        {
            "if": {"properties": {"action": {"not": {"const": "generate"}}}},
            "then": {"required": ["audio_id"]},
        },
        {
            "if": {"properties": {"action": {"const": "extend"}}},
            "then": {"required": ["continue_at"]},
        },
        {
            "if": {"properties": {"action": {"const": "replace_section"}}},
            "then": {"required": ["replace_section_start", "replace_section_end"]},
        },
    ],
}

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "/producer/audios": AUDIOS,
    # The OpenAPI types this prompt as an object (a known defect): every client sends a string.
    "/producer/lyrics": {
        "type": "object",
        "required": ["prompt"],
        "properties": {"prompt": {"type": "string"}},
    },
    "/producer/upload": {
        "type": "object",
        "required": ["audio_url"],
        "properties": {"audio_url": {"type": "string"}},
    },
    "/producer/videos": {
        "type": "object",
        "required": ["audio_id"],
        "properties": {"audio_id": {"type": "string"}},
    },
    "/producer/wav": {
        "type": "object",
        "required": ["audio_id"],
        "properties": {"audio_id": {"type": "string"}},
    },
    "/producer/tasks": {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["retrieve", "retrieve_batch"]},
            "id": {"type": "string"},
            # The reference server's advice is at most 50 ids a call; we send no more.
            "ids": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
        },
    },
}
"""Request body schema per path."""

KNOWN_OPENAPI_DEFECTS: dict[tuple[str, str], str] = {
    ("/producer/lyrics", "prompt"): "object",
}
"""(path, field) -> the type the OpenAPI gives where it is wrong (the facts above say string)."""

RANGES_FROM_GUIDES = ("minimum", "maximum", "maxLength", "maxItems")
"""Keywords the facts take from the guides; the OpenAPI file has none of them."""

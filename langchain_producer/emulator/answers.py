"""The HTTP answers of the emulated service: JSON, the vendor's error envelope, media 404s."""

from __future__ import annotations

import json
from typing import Any

import httpx

from langchain_producer.emulator.state import new_id


def json_response(
    status: int, body: dict[str, Any], trace_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A JSON answer with ``Content-Length`` and the ``x-trace-id`` header."""
    content = json.dumps(body).encode("utf-8")
    return httpx.Response(
        status,
        headers={
            "content-type": "application/json",
            "content-length": str(len(content)),
            "x-trace-id": trace_id,
            **(headers or {}),
        },
        content=content,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    trace_id: str | None = None,
) -> httpx.Response:
    """The vendor's error envelope ``{"success": false, "error": {code, message}, "trace_id"}``."""
    trace_id = trace_id or new_id()
    body = {"success": False, "error": {"code": code, "message": message}, "trace_id": trace_id}
    return json_response(status, body, trace_id, headers)


def not_found(path: str) -> httpx.Response:
    """The plain 404 of a media host."""
    content = f"no media at {path}".encode()
    return httpx.Response(
        404,
        headers={"content-type": "text/plain", "content-length": str(len(content))},
        content=content,
    )

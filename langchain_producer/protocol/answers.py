"""Reading the service's answers: the one place where bytes off the wire become JSON.

The drivers hand over what arrived (``Reply``: status, headers and the raw body, before any
content decoding, and how it was cut short if it was) or the exception that stopped the
exchange. Everything that can go wrong with an answer is decided here, without I/O: a
``Content-Encoding`` that lies, a body cut mid-way, an empty body, numbers too large for a
float, nesting too deep for the parser, bytes that are not text. Nothing here raises: an answer
is either a JSON object or an ``Unreadable`` saying why, with any task id that could still be
read in it (a paid job whose id is readable was accepted, and that id must not be lost).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""The largest answer read from the API (JSON answers are a few kB; media never come here)."""

_TASK_ID = re.compile(rb'"task_id"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"')


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer as it arrived.

    Attributes:
        status: The HTTP status code.
        headers: The response headers.
        body: The body as on the wire (before content decoding), as far as it arrived.
        broken: Why the body stopped early (the transport error, described), if it did.
    """

    status: int
    headers: httpx.Headers
    body: bytes = b""
    broken: str | None = None

    @classmethod
    def of(cls, status: int, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        """A reply with a JSON body (``body`` may also be raw ``bytes``): for tests and fakes."""
        raw = (
            body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        )
        return cls(status, httpx.Headers(headers or {}), raw)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An answer that is not a JSON object.

    Attributes:
        what: What was wrong, for the error message (e.g. "an empty body").
        task_id: A task id still readable in the raw bytes, if any.
    """

    what: str
    task_id: str | None = None


class Collector:
    """Gathers a streamed answer's raw chunks for a driver, up to ``MAX_ANSWER_BYTES``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: list[bytes] = []
        self._size = 0

    def already_read(self) -> list[bytes]:
        """The body, when the transport handed over a response it had read already (mock
        transports do); then it is decoded already, which ``content`` copes with."""
        return [self._response.content] if self._response.is_stream_consumed else []

    def unread(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """The raw body still to come, for an async driver."""
        return _nothing() if response.is_stream_consumed else response.aiter_raw()

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once the answer is too large to be an API answer."""
        self._chunks.append(chunk)
        self._size += len(chunk)
        return self._size <= MAX_ANSWER_BYTES

    def reply(self, broken: BaseException | str | None = None) -> Reply:
        """The ``Reply`` so far; ``broken`` is what cut it short, if anything did."""
        if isinstance(broken, BaseException):
            broken = describe(broken)
        return Reply(
            self._response.status_code, self._response.headers, b"".join(self._chunks), broken
        )


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an (empty) async generator


_PLAIN_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (httpx.ConnectTimeout, "the connection could not be made in time"),
    (httpx.ConnectError, "the connection could not be made"),
    (httpx.ReadTimeout, "no answer came in time"),
    (httpx.WriteTimeout, "the request could not be sent in time"),
    (httpx.PoolTimeout, "no free connection in time"),
    (httpx.ReadError, "the connection broke while the answer was read"),
    (httpx.WriteError, "the connection broke while the request was sent"),
    (httpx.RemoteProtocolError, "the server broke the HTTP protocol or closed early"),
    (httpx.TimeoutException, "it took too long"),
)


def describe(error: BaseException) -> str:
    """``ClassName: detail`` for an exception, with plain words when its text is empty
    (async transports often raise ``ReadError()`` with no message at all)."""
    detail = str(error).strip()
    if not detail:
        detail = next(
            (words for kind, words in _PLAIN_WORDS if isinstance(error, kind)), "no detail given"
        )
    return f"{type(error).__name__}: {detail}"


def recover_task_id(raw: bytes) -> str | None:
    """A ``"task_id": "..."`` still readable in bytes that are not (whole) JSON."""
    found = _TASK_ID.search(raw)
    return found.group(1).decode("ascii") if found else None


def _inflate(data: bytes, coding: str) -> bytes | None:
    """Undo one content coding; None when the bytes are not what the label says."""
    try:
        if coding in ("gzip", "x-gzip"):
            inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, told by the header
        elif coding == "deflate":
            inflater = zlib.decompressobj()
        else:
            return None  # br, zstd...: we never ask for them
        out = inflater.decompress(data, MAX_ANSWER_BYTES + 1)
    except zlib.error:
        return None
    return out if len(out) <= MAX_ANSWER_BYTES and inflater.eof else None


def content(reply: Reply) -> bytes:
    """The body with its ``Content-Encoding`` undone.

    A body labelled (say) gzip that is not gzip is taken as it is: some proxies label plain
    JSON, and refusing a readable answer to a paid call would lose its task id.
    """
    label = reply.headers.get("content-encoding")
    if not label:
        return reply.body
    codings = [
        c.strip().lower() for c in label.split(",") if c.strip() and c.strip().lower() != "identity"
    ]
    data = reply.body
    for coding in reversed(codings):
        inflated = _inflate(data, coding)
        if inflated is None:
            return reply.body
        data = inflated
    return data


def _no_constant(name: str) -> None:
    # NaN and Infinity are not JSON; a number that is not finite is as good as absent.
    return None


_JSON = json.JSONDecoder(parse_constant=_no_constant)
"""Made once: ``json.loads`` with a keyword builds a decoder on every call."""


def _loads(data: bytes) -> Any:
    """``json.loads`` of bytes (UTF-8, -16 or -32, as JSON allows), with ``_JSON``."""
    return _JSON.decode(data.decode(json.detect_encoding(data), "surrogatepass"))


def decode(reply: Reply) -> dict[str, Any] | Unreadable:
    """The answer's JSON object, or why there is none (never raises)."""
    if reply.broken:
        return Unreadable(f"an answer cut short ({reply.broken})", recover_task_id(reply.body))
    data = content(reply)
    if not data.strip():
        return Unreadable("an empty body")
    try:
        value = _loads(data)
    except RecursionError:
        return Unreadable("JSON nested too deeply to read", recover_task_id(data))
    except ValueError:  # not JSON, not UTF-8, or an integer too long to convert
        return Unreadable("an answer that is not JSON", recover_task_id(data))
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        # Python 3.13's json reads nesting that 3.11's refuses (RecursionError); what reads
        # the answer after it (pydantic among them) would not.
        return Unreadable("JSON nested too deeply to read", recover_task_id(data))
    if not isinstance(value, dict):
        return Unreadable("JSON that is not an object", recover_task_id(data))
    return value


MAX_DEPTH = 100
"""The deepest nesting an answer may have: the API's own answers nest a few levels."""


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def finite(value: Any) -> float | None:
    """A finite float from a number or numeric string, else None (never raises).

    Huge integers (OverflowError), NaN and infinities become None: an answer's numbers are
    advisory (progress, durations, timestamps) and must never break the reading of a task.
    """
    if type(value) is float:  # the usual case, first
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%").strip()
        if not value or len(value) > 64:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None

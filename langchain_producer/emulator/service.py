"""The emulated Producer service: request handling, task lifecycle, failures and webhooks.

Written from the vendor's documents only (``producer-api.md`` and the OpenAPI file); it shares
nothing with the client but the vocabulary in :mod:`langchain_producer._constants`. See the package
docstring for the behaviour and the failure modes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from langchain_producer._constants import (
    AUDIO_ACTIONS,
    BATCH_MAX_IDS,
    DEFAULT_MODEL,
    MODELS,
    PROMPT_MAX_CHARS,
)
from langchain_producer.emulator import media

if TYPE_CHECKING:
    from langchain_producer.emulator.server import EmulatorServer

FAILURE_MODES: tuple[str, ...] = (
    "task_failed",
    "rate_limit",
    "server_error",
    "slow",
    "malformed",
    "used_up",
    "connection",
)
"""Every failure mode the emulator can inject."""

FAIL_HEADER = "X-Emulator-Fail"
"""The request header that injects a failure into that one request."""

API_PATHS: tuple[str, ...] = (
    "/producer/audios",
    "/producer/lyrics",
    "/producer/upload",
    "/producer/videos",
    "/producer/wav",
    "/producer/tasks",
)

_STRING_FIELDS = ("prompt", "lyric", "title", "audio_id", "seed", "callback_url", "model")
_BOOL_FIELDS = ("custom", "instrumental", "async")
_NUMBER_FIELDS = (
    "continue_at",
    "replace_section_start",
    "replace_section_end",
    "lyrics_strength",
    "sound_strength",
    "weirdness",
)
_RANGES: dict[str, tuple[float, float]] = {
    "lyrics_strength": (0.0, 1.0),
    "weirdness": (0.0, 1.0),
    "sound_strength": (0.2, 1.0),
}
_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_MEDIA_PATH = re.compile(r"^/media/(audio|preview|image|stems|video|wav)/([A-Za-z0-9-]+)\.(\w+)$")
_MEDIA_TYPES = {
    "wav": "audio/wav",
    "png": "image/png",
    "zip": "application/zip",
    "mp4": "video/mp4",
}
_MEDIA_EXT = {
    "audio": "wav",
    "preview": "wav",
    "image": "png",
    "stems": "zip",
    "video": "mp4",
    "wav": "wav",
}


class FakeClock:
    """A settable clock for tests: ``clock()`` reads it, ``clock.advance(s)`` moves it forward.

    An emulator built with a FakeClock delivers the webhooks that became due inside ``advance``
    (synchronously, before it returns), so tests can assert on them straight after.

    Example:
        >>> clock = FakeClock(start=100.0)
        >>> clock.advance(2.5)
        102.5
        >>> clock()
        102.5
    """

    def __init__(self, start: float = 1767119745.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], object]] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a FakeClock only moves forward")
        with self._lock:
            self._now += seconds
            now = self._now
        for listener in list(self._listeners):
            listener()
        return now

    def add_listener(self, listener: Callable[[], object]) -> None:
        """Call ``listener()`` after every :meth:`advance`."""
        self._listeners.append(listener)


class _BadRequest(Exception):
    """A request the emulated service refuses with 400 ``bad_request``."""


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
class _AudioSource:
    """Something an ``audio_id`` can name: a made song or an uploaded file."""

    media_seed: str
    duration: float
    task_id: str | None
    title: str
    lyric: str


def _new_id() -> str:
    return str(uuid.uuid4())


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) that hands each request to the emulator in-process.

    The async side runs the handler in a worker thread, so ``slow`` failures and blocking
    synchronous submissions do not stall the event loop.
    """

    def __init__(self, emulator: ProducerEmulator) -> None:
        self._emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._emulator.handle(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await asyncio.to_thread(self._emulator.handle, request)


class ProducerEmulator:
    """An offline, in-memory stand-in for the Producer HTTP API.

    Args:
        api_key: The only Bearer token accepted; ``None`` accepts any non-empty token.
        base_url: The host put in the media URLs handed out (while :meth:`serve` runs, the
            server's own base URL is used instead).
        pending_seconds: How long a new audios task waits before processing starts.
        processing_seconds: How long processing lasts (previews and progress under 100 %).
        clock: The time source; defaults to :func:`time.time`. With any other clock (such as
            :class:`FakeClock`) a synchronous audios call completes its task at once instead of
            waiting, because nobody would move that clock while the call blocks.
        failures: Failure modes applied, in order, to the next API requests.
        callback_transport: The httpx transport webhooks are POSTed through (default: real
            network).
        slow_seconds: How long the ``slow`` failure delays an answer (real seconds).
        strict_audio_ids: Refuse an ``audio_id`` the emulator did not hand out (400).

    Example:
        >>> emu = ProducerEmulator(api_key="k", clock=FakeClock())
        >>> client = httpx.Client(transport=emu.transport, base_url="http://producer.emulator",
        ...                       headers={"Authorization": "Bearer k"})
        >>> client.post("/producer/audios", json={"action": "generate", "prompt": "x"}).status_code
        200
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = "http://producer.emulator",
        pending_seconds: float = 1.0,
        processing_seconds: float = 4.0,
        clock: Callable[[], float] | None = None,
        failures: list[str] | None = None,
        callback_transport: httpx.BaseTransport | None = None,
        *,
        slow_seconds: float = 2.0,
        strict_audio_ids: bool = True,
    ) -> None:
        for mode in failures or ():
            _check_mode(mode)
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.pending_seconds = float(pending_seconds)
        self.processing_seconds = float(processing_seconds)
        self.slow_seconds = float(slow_seconds)
        self.strict_audio_ids = strict_audio_ids
        self.callback_transport = callback_transport
        self._real_clock = clock is None
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.requests: list[httpx.Request] = []
        """Every request received (API calls and media downloads), in order."""
        self.tasks: dict[str, EmulatedTask] = {}
        self.callbacks: list[dict[str, Any]] = []
        """Every webhook attempt: ``{"url", "body", "status"}`` or ``{"url", "body", "error"}``."""
        self._failures: list[str] = list(failures or ())
        self._sources: dict[str, _AudioSource] = {}
        self._stems: dict[str, str] = {}  # stems media key -> task id
        self._extra_media: set[str] = set()  # "video/<id>", "wav/<id>" once requested
        self._lock = threading.RLock()
        self._public_base: str | None = None
        self.transport = EmulatorTransport(self)
        """An httpx transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
        if isinstance(clock, FakeClock):
            clock.add_listener(self.deliver_due_callbacks)

    # ----------------------------------------------------------------- public helpers

    @property
    def media_base(self) -> str:
        """The base URL media links are currently built on."""
        return self._public_base or self.base_url

    def fail_next(self, mode: str, times: int = 1) -> None:
        """Queue failure ``mode`` for the next ``times`` API requests."""
        _check_mode(mode)
        with self._lock:
            self._failures.extend([mode] * times)

    def task_record(self, task_id: str) -> dict[str, Any] | None:
        """The vendor-shaped record of a task, as ``retrieve`` would answer it (None if unknown)."""
        with self._lock:
            task = self.tasks.get(task_id)
            return None if task is None else self._render_record(task, self.clock())

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[EmulatorServer]:
        """Run a real HTTP server on ``host:port`` in a background thread for the block.

        Example:
            >>> with ProducerEmulator().serve() as server:
            ...     print(server.base_url)  # doctest: +SKIP
            http://127.0.0.1:54321
        """
        from langchain_producer.emulator.server import EmulatorServer

        server = EmulatorServer(self, host, port)
        previous = self._public_base
        self._public_base = server.base_url
        try:
            server.start()
            yield server
        finally:
            server.stop()
            self._public_base = previous

    def deliver_due_callbacks(self) -> int:
        """POST the webhook of every finished task that has not had one yet; return how many."""
        now = self.clock()
        with self._lock:
            due = [
                t
                for t in self.tasks.values()
                if t.callback_url and not t.callback_sent and now >= t.finish_at
            ]
            for task in due:
                task.callback_sent = True
            bodies = [(t.callback_url, self._final_body(t, t.trace_id, now)) for t in due]
        for url, body in bodies:
            assert url is not None
            self._post_callback(url, body)
        return len(bodies)

    # ----------------------------------------------------------------- the handler

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the Producer service would (the core of both transports).

        Raises:
            httpx.ConnectError: when the ``connection`` failure mode applies.
        """
        with self._lock:
            self.requests.append(request)
        with contextlib.suppress(httpx.RequestNotRead, RuntimeError):
            request.read()  # a streamed request handed straight to handle()
        if not self._real_clock and not isinstance(self.clock, FakeClock):
            self._deliver_due_in_background()
        path = request.url.path
        is_media = path.startswith("/media/")
        mode = self._take_failure(request, path, consume=not is_media)
        if mode == "connection":
            raise httpx.ConnectError("emulated connection failure", request=request)
        if mode == "rate_limit":
            return _error(
                429, "too_many_requests", "Too many requests (emulated).", {"Retry-After": "1"}
            )
        if mode == "server_error":
            return _error(500, "api_error", "The server failed (emulated).")
        if mode == "used_up":
            return _error(403, "used_up", "The account balance is used up (emulated).")
        if mode == "slow":
            time.sleep(self.slow_seconds)
        if is_media:
            response = self._media(request.method, path)
        else:
            response = self._api(request, path, mode == "task_failed")
        if mode == "malformed":
            return httpx.Response(
                200,
                headers={"content-type": "text/html", "x-trace-id": _new_id()},
                content=_MALFORMED_BODY,
            )
        return response

    def _take_failure(self, request: httpx.Request, path: str, consume: bool) -> str | None:
        header = request.headers.get(FAIL_HEADER)
        if header:
            header = header.strip()
            return header if header in FAILURE_MODES else None
        if not consume:
            return None
        with self._lock:
            if not self._failures:
                return None
            # task_failed needs a task to fail: look-ups let it wait for the next submission.
            if self._failures[0] == "task_failed" and path == "/producer/tasks":
                return None
            return self._failures.pop(0)

    def _api(self, request: httpx.Request, path: str, fail: bool) -> httpx.Response:
        if path not in API_PATHS:
            return _error(
                404, "no_api", f"No API at {path}; the Producer API lives under /producer/."
            )
        if request.method != "POST":
            return _error(
                405, "bad_request", f"{request.method} is not allowed: every API call is a POST."
            )
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _error(401, "invalid_token", "Send 'Authorization: Bearer <token>'.")
        if self.api_key is not None and token != self.api_key:
            return _error(401, "invalid_token", "The token is not valid.")
        try:
            body = json.loads(request.content or b"")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "bad_request", "The body is not valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "bad_request", "The body must be a JSON object.")
        trace_id = _new_id()
        try:
            if path == "/producer/audios":
                return self._audios(body, trace_id, fail)
            if path == "/producer/tasks":
                return self._tasks(body, trace_id)
            return self._synchronous(path, body, trace_id, fail)
        except _BadRequest as exc:
            return _error(400, "bad_request", str(exc), trace_id=trace_id)

    # ----------------------------------------------------------------- /producer/audios

    def _audios(self, body: dict[str, Any], trace_id: str, fail: bool) -> httpx.Response:
        _validate_audios(body)
        action = body["action"]
        source: _AudioSource | None = None
        if action != "generate":
            source = self._source(body["audio_id"])
            continue_at = body.get("continue_at")
            if source is not None and continue_at is not None and continue_at > source.duration:
                raise _BadRequest(
                    f"continue_at ({continue_at}) is past the end of the song "
                    f"({source.duration} s)."
                )
        now = self.clock()
        task_id = _new_id()
        fingerprint = json.dumps(
            {k: v for k, v in body.items() if k not in ("async", "callback_url")}, sort_keys=True
        )
        seed = body.get("seed") or str(int.from_bytes(media.digest(fingerprint)[:4], "big"))
        media_seed = f"{fingerprint}|{seed}"
        prompt = body.get("prompt") or ""
        song = EmulatedSong(
            key=_new_id(),
            title=body.get("title") or _title_from(prompt, source),
            lyric=_lyric_for(body, source),
            sound=prompt,
            seed=seed,
            model=body.get("model", DEFAULT_MODEL),
            created_at=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            duration=source.duration
            if action == "stems" and source
            else media.song_duration(media_seed),
            media_seed=source.media_seed if action == "stems" and source else media_seed,
            is_stems=action == "stems",
            fail_progress=10 + media.digest(media_seed)[9] % 80,
        )
        start_at = now + self.pending_seconds
        task = EmulatedTask(
            id=task_id,
            type="audios",
            trace_id=trace_id,
            created_at=now,
            request=dict(body),
            start_at=start_at,
            finish_at=start_at + self.processing_seconds,
            songs=[song],
            fail=fail,
            callback_url=body.get("callback_url"),
        )
        with self._lock:
            self.tasks[task_id] = task
            if song.is_stems:
                self._stems[song.key] = task_id
            else:
                self._sources[song.key] = _AudioSource(
                    media_seed=song.media_seed,
                    duration=song.duration,
                    task_id=task_id,
                    title=song.title,
                    lyric=song.lyric,
                )
        if body.get("async") is True or task.callback_url:
            if task.callback_url:
                self._schedule_callback(task)
            return _json(200, {"task_id": task_id, "trace_id": trace_id}, trace_id)
        self._wait_until_done(task)
        return _json(200, self._final_body(task, trace_id, self.clock()), trace_id)

    def _wait_until_done(self, task: EmulatedTask) -> None:
        if not self._real_clock:
            with self._lock:
                now = self.clock()
                task.start_at = min(task.start_at, now)
                task.finish_at = min(task.finish_at, now)
            return
        while (remaining := task.finish_at - self.clock()) > 0:
            time.sleep(min(remaining, 0.05))

    def _source(self, audio_id: str) -> _AudioSource | None:
        with self._lock:
            source = self._sources.get(audio_id)
        if source is None and self.strict_audio_ids:
            raise _BadRequest(
                f"audio_id {audio_id!r} is unknown: use the id of a song made by this service "
                "or an audio_id returned by /producer/upload."
            )
        return source

    # ----------------------------------------------------------------- synchronous endpoints

    def _synchronous(
        self, path: str, body: dict[str, Any], trace_id: str, fail: bool
    ) -> httpx.Response:
        kind = path.rsplit("/", 1)[1]
        task_id = _new_id()
        data: Any
        if kind == "lyrics":
            prompt = body.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise _BadRequest("prompt is required: a non-empty string describing the lyrics.")
            if len(prompt) > 2000:
                raise _BadRequest("prompt is too long (at most 2000 characters).")
            data = _lyrics(prompt)
        elif kind == "upload":
            url = body.get("audio_url")
            if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
                raise _BadRequest("audio_url is required: a public http(s) URL of an audio file.")
            audio_id = _new_id()
            with self._lock:
                self._sources[audio_id] = _AudioSource(
                    media_seed=url,
                    duration=media.song_duration(url),
                    task_id=None,
                    title=url.rsplit("/", 1)[-1] or "Upload",
                    lyric="[Instrumental]",
                )
            data = {"audio_id": audio_id, "audio_url": url, "lyric": "[Instrumental]"}
        else:
            wanted = body.get("audio_id")
            if not isinstance(wanted, str) or not wanted:
                raise _BadRequest("audio_id is required: the id of a song.")
            audio_id = wanted
            source = self._source(audio_id)
            with self._lock:
                self._extra_media.add(f"{'video' if kind == 'videos' else 'wav'}/{audio_id}")
            if kind == "videos":
                data = {"video_url": f"{self.media_base}/media/video/{audio_id}.mp4"}
            else:
                title = source.title if source else "Untitled"
                data = [{"title": title, "file_url": f"{self.media_base}/media/wav/{audio_id}.wav"}]
        answer: dict[str, Any]
        if fail:
            answer = {
                "success": False,
                "task_id": task_id,
                "error": {"code": "task_failed", "message": f"The {kind} task failed (emulated)."},
            }
        else:
            answer = {"success": True, "task_id": task_id, "data": data}
        now = self.clock()
        with self._lock:
            self.tasks[task_id] = EmulatedTask(
                id=task_id,
                type=kind,
                trace_id=trace_id,
                created_at=now,
                request=dict(body),
                start_at=now,
                finish_at=now,
                result=answer,
                fail=fail,
            )
        return _json(200, {**answer, "trace_id": trace_id}, trace_id)

    # ----------------------------------------------------------------- /producer/tasks

    def _tasks(self, body: dict[str, Any], trace_id: str) -> httpx.Response:
        action = body.get("action", "retrieve")
        now = self.clock()
        if action == "retrieve":
            task_id = body.get("id")
            if not isinstance(task_id, str) or not task_id:
                raise _BadRequest("retrieve needs 'id': a task id string.")
            with self._lock:
                task = self.tasks.get(task_id)
                record = {} if task is None else self._render_record(task, now)
            return _json(200, record, trace_id)
        if action == "retrieve_batch":
            ids = body.get("ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise _BadRequest("retrieve_batch needs 'ids': a list of task id strings.")
            if len(ids) > BATCH_MAX_IDS:
                raise _BadRequest(f"Too many ids ({len(ids)}): at most {BATCH_MAX_IDS} a call.")
            with self._lock:
                items = [
                    self._render_record(self.tasks[i], now)
                    for i in dict.fromkeys(ids)
                    if i in self.tasks
                ]
            return _json(200, {"items": items, "count": len(items), "trace_id": trace_id}, trace_id)
        raise _BadRequest(f"Unknown action {action!r}: use 'retrieve' or 'retrieve_batch'.")

    # ----------------------------------------------------------------- rendering

    def _render_song(self, song: EmulatedSong, phase: str, progress: int) -> dict[str, Any]:
        base = self.media_base
        ready = phase in ("processing", "succeeded", "failed")
        item: dict[str, Any] = {}
        if not song.is_stems:
            item["id"] = song.key
        item["title"] = song.title
        item["lyric"] = song.lyric
        if song.is_stems:
            item["stems_url"] = (
                f"{base}/media/stems/{song.key}.zip" if phase == "succeeded" else None
            )
        elif phase == "succeeded":
            item["audio_url"] = f"{base}/media/audio/{song.key}.wav"
        elif ready:
            item["audio_url"] = f"{base}/media/preview/{song.key}.wav"
        else:
            item["audio_url"] = None
        item["image_url"] = f"{base}/media/image/{song.key}.png" if ready else None
        item["image_id"] = song.key
        item["video_url"] = None
        item["seed"] = song.seed
        item["sound"] = song.sound
        item["created_at"] = song.created_at
        item["model"] = song.model
        item["progress"] = f"{progress}%"
        item["state"] = phase
        item["duration"] = f"{song.duration:.2f}" if phase == "succeeded" else None
        return item

    def _items(self, task: EmulatedTask, now: float) -> list[dict[str, Any]]:
        phase = task.phase(now)
        if phase == "pending":
            progress = 0
        elif phase == "processing":
            span = max(task.finish_at - task.start_at, 1e-9)
            progress = min(99, int(100 * (now - task.start_at) / span))
        elif phase == "failed":
            progress = 0
        else:
            progress = 100
        return [
            self._render_song(s, phase, s.fail_progress if phase == "failed" else progress)
            for s in task.songs
        ]

    def _final_body(self, task: EmulatedTask, trace_id: str, now: float) -> dict[str, Any]:
        """The synchronous answer (and webhook body) of a finished audios task."""
        body: dict[str, Any] = {"success": not task.fail, "task_id": task.id, "trace_id": trace_id}
        if task.fail:
            body["error"] = _task_error()
        body["data"] = self._items(task, now)
        return body

    def _render_record(self, task: EmulatedTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        done = phase in ("succeeded", "failed")
        record: dict[str, Any] = {
            "id": task.id,
            "type": task.type,
            "trace_id": task.trace_id,
            "created_at": task.created_at,
            "started_at": task.start_at if phase != "pending" else None,
            "finished_at": task.finish_at if done else None,
            "elapsed": round(task.finish_at - task.start_at, 3) if done else None,
            "request": dict(task.request),
        }
        if task.result is not None:
            record["response"] = dict(task.result)
            return record
        response: dict[str, Any] = {"task_id": task.id}
        if phase == "failed":
            response["success"] = False
            response["error"] = _task_error()
        response["data"] = self._items(task, now)
        record["response"] = response
        return record

    # ----------------------------------------------------------------- media

    def _media(self, method: str, path: str) -> httpx.Response:
        if method not in ("GET", "HEAD"):
            return _error(405, "bad_request", f"{method} is not allowed on media: use GET.")
        match = _MEDIA_PATH.match(path)
        if match is None or _MEDIA_EXT[match[1]] != match[3]:
            return _not_found(path)
        kind, key = match[1], match[2]
        now = self.clock()
        with self._lock:
            content = self._media_bytes(kind, key, now)
        if content is None:
            return _not_found(path)
        return httpx.Response(
            200,
            headers={
                "content-type": _MEDIA_TYPES[match[3]],
                "content-length": str(len(content)),
                "cache-control": "public, max-age=86400",
            },
            content=content,
        )

    def _media_bytes(self, kind: str, key: str, now: float) -> bytes | None:
        if kind == "stems":
            task_id = self._stems.get(key)
            task = self.tasks.get(task_id) if task_id else None
            if task is None or task.phase(now) != "succeeded":
                return None
            song = task.songs[0]
            return media.stems_zip(song.media_seed, song.duration)
        if kind in ("video", "wav"):
            if f"{kind}/{key}" not in self._extra_media:
                return None
            source = self._sources.get(key)
            seed = source.media_seed if source else key
            if kind == "video":
                return media.video_mp4(seed)
            return media.song_wav(seed, source.duration if source else media.song_duration(seed))
        source = self._sources.get(key)
        stems_task = self.tasks.get(self._stems.get(key, ""))
        task = stems_task or (self.tasks.get(source.task_id or "") if source else None)
        if task is None:
            return None
        phase = task.phase(now)
        song = task.songs[0]
        if kind == "image":
            return media.cover_png(song.media_seed) if phase != "pending" else None
        if kind == "preview" and not song.is_stems:
            return media.preview_wav(song.media_seed, song.duration) if phase != "pending" else None
        if kind == "audio" and not song.is_stems and phase == "succeeded":
            return media.song_wav(song.media_seed, song.duration)
        return None

    # ----------------------------------------------------------------- webhooks

    def _schedule_callback(self, task: EmulatedTask) -> None:
        if not self._real_clock:
            return  # delivered by FakeClock.advance or on later requests
        delay = max(0.0, task.finish_at - self.clock()) + 0.01
        timer = threading.Timer(delay, self.deliver_due_callbacks)
        timer.daemon = True
        timer.start()

    def _deliver_due_in_background(self) -> None:
        now = self.clock()
        with self._lock:
            due = any(
                t.callback_url and not t.callback_sent and now >= t.finish_at
                for t in self.tasks.values()
            )
        if due:
            threading.Thread(target=self.deliver_due_callbacks, daemon=True).start()

    def _post_callback(self, url: str, body: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"url": url, "body": body}
        try:
            with httpx.Client(transport=self.callback_transport, timeout=10.0) as client:
                entry["status"] = client.post(url, json=body).status_code
        except httpx.HTTPError as exc:
            entry["error"] = repr(exc)
        with self._lock:
            self.callbacks.append(entry)


# --------------------------------------------------------------------- validation


def _validate_audios(body: dict[str, Any]) -> None:
    action = body.get("action")
    if action is None:
        raise _BadRequest(f"action is required: one of {', '.join(AUDIO_ACTIONS)}.")
    if action not in AUDIO_ACTIONS:
        raise _BadRequest(f"Unknown action {action!r}: use one of {', '.join(AUDIO_ACTIONS)}.")
    for name in _STRING_FIELDS:
        if name in body and not isinstance(body[name], str):
            raise _BadRequest(
                f"{name} must be a string, not {_json_type(body[name])}; leave unset fields out."
            )
    for name in _BOOL_FIELDS:
        if name in body and not isinstance(body[name], bool):
            raise _BadRequest(f"{name} must be true or false, not {_json_type(body[name])}.")
    for name in _NUMBER_FIELDS:
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _BadRequest(
                f"{name} must be a number, not {_json_type(value)}; leave unset fields out."
            )
        low, high = _RANGES.get(name, (0.0, float("inf")))
        if not low <= value <= high:
            bound = f"between {low} and {high}" if high != float("inf") else f"at least {low}"
            raise _BadRequest(f"{name} must be {bound}, got {value}.")
    if "model" in body and body["model"] not in MODELS:
        raise _BadRequest(f"Unknown model {body['model']!r}: use one of {', '.join(MODELS)}.")
    prompt = body.get("prompt", "")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise _BadRequest(
            f"prompt is {len(prompt)} characters long; at most {PROMPT_MAX_CHARS} are allowed "
            "(put lyrics in 'lyric')."
        )
    if action != "generate" and not body.get("audio_id"):
        raise _BadRequest(f"audio_id is required for action {action!r}: the id of a song.")
    if action == "generate" and not (
        prompt.strip() or body.get("lyric", "").strip() or body.get("instrumental") is True
    ):
        raise _BadRequest("generate needs a prompt (or a lyric with custom: true).")
    if action == "replace_section":
        start, end = body.get("replace_section_start"), body.get("replace_section_end")
        if start is None or end is None:
            raise _BadRequest(
                "replace_section needs replace_section_start and replace_section_end."
            )
        if end <= start:
            raise _BadRequest(
                f"replace_section_end ({end}) must be greater than replace_section_start ({start})."
            )
    callback = body.get("callback_url")
    if callback is not None and not re.match(r"^https?://[^/\s]+", callback):
        raise _BadRequest("callback_url must be an http(s) URL.")


def _check_mode(mode: str) -> None:
    if mode not in FAILURE_MODES:
        raise ValueError(f"unknown failure mode {mode!r}; known: {', '.join(FAILURE_MODES)}")


def _json_type(value: object) -> str:
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


# --------------------------------------------------------------------- content


def _title_from(prompt: str, source: _AudioSource | None) -> str:
    if source is not None:
        return source.title
    words = re.findall(r"[A-Za-z0-9']+", prompt)[:4]
    return " ".join(w.capitalize() for w in words) or "Untitled"


def _lyric_for(body: dict[str, Any], source: _AudioSource | None) -> str:
    if body.get("instrumental") is True:
        return "[Instrumental]"
    lyric = body.get("lyric") or ""
    if lyric.strip():
        return str(lyric)
    if source is not None:
        return source.lyric
    return _lyrics(body.get("prompt") or "a song")["text"]


def _lyrics(prompt: str) -> dict[str, str]:
    words = re.findall(r"[A-Za-z']+", prompt) or ["song"]
    topic = " ".join(words[:3]).lower()
    h = media.digest(prompt)
    images = ("light", "rain", "road", "fire", "sky", "river", "night", "home")
    pick = [images[b % len(images)] for b in h[:4]]
    text = (
        f"[Verse]\nI found {topic} in the {pick[0]}\nCarried it home through the {pick[1]}\n"
        f"[Chorus]\nSing it loud, {topic}\nUnder the {pick[2]}, over the {pick[3]}\n"
        f"[Verse 2]\nEvery step a little brighter\nEvery word a little lighter\n"
        f"[Chorus]\nSing it loud, {topic}\nUnder the {pick[2]}, over the {pick[3]}"
    )
    title = " ".join(w.capitalize() for w in words[:3])
    return {"title": title, "text": text, "status": "complete"}


def _task_error() -> dict[str, str]:
    return {"code": "task_failed", "message": "The generation failed upstream (emulated)."}


# --------------------------------------------------------------------- responses


def _json(status: int, body: dict[str, Any], trace_id: str) -> httpx.Response:
    content = json.dumps(body).encode("utf-8")
    return httpx.Response(
        status,
        headers={
            "content-type": "application/json",
            "content-length": str(len(content)),
            "x-trace-id": trace_id,
        },
        content=content,
    )


def _error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    trace_id: str | None = None,
) -> httpx.Response:
    trace_id = trace_id or _new_id()
    body = {"success": False, "error": {"code": code, "message": message}, "trace_id": trace_id}
    response = _json(status, body, trace_id)
    response.headers.update(headers or {})
    return response


def _not_found(path: str) -> httpx.Response:
    content = f"no media at {path}".encode()
    return httpx.Response(
        404,
        headers={"content-type": "text/plain", "content-length": str(len(content))},
        content=content,
    )

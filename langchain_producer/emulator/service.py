"""The emulated Producer service: the request handler, its state, and the in-process transport.

Written from the vendor's documents only (``producer-api.md`` and the OpenAPI file); it shares
nothing with the client but the vocabulary in :mod:`langchain_producer._constants`. See the package
docstring for the behaviour, the failure modes and each choice made where the documents are silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from langchain_producer.emulator import media, platform, rendering
from langchain_producer.emulator.answers import error_response
from langchain_producer.emulator.clock import FakeClock
from langchain_producer.emulator.endpoints import ENDPOINTS
from langchain_producer.emulator.failures import (
    ERROR_ANSWERS,
    FAIL_HEADER,
    FAILURE_MODES,
    TASK_FAILURES,
    check_mode,
)
from langchain_producer.emulator.state import AudioSource, EmulatedTask, new_id
from langchain_producer.emulator.validation import BadRequest
from langchain_producer.emulator.webhooks import Webhooks

if TYPE_CHECKING:
    from langchain_producer.emulator.server import EmulatorServer

_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


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
        balance: The application's Credits at the start (:attr:`balance` is what is left).
            Every task that succeeds costs ``task_cost`` (invented: real prices are only in
            the AceDataCloud console); with nothing left, submissions answer 403 ``used_up``.
        task_cost: Credits a task costs when it succeeds (a failed one costs nothing).
        application_id: The one application ``GET /api/v1/applications/{id}`` knows.
        platform_token: The only platform token accepted; ``None`` accepts any non-empty one.

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
        balance: float = 1_000_000.0,
        task_cost: float = 1.0,
        application_id: str = "emulated-application",
        platform_token: str | None = None,
    ) -> None:
        for mode in failures or ():
            check_mode(mode)
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.pending_seconds = float(pending_seconds)
        self.processing_seconds = float(processing_seconds)
        self.slow_seconds = float(slow_seconds)
        self.strict_audio_ids = strict_audio_ids
        self.credits = float(balance)
        self.task_cost = float(task_cost)
        self.application_id = application_id
        self.platform_token = platform_token
        self._platform_failure: str | None = None
        self.uses_real_clock = clock is None
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.requests: list[httpx.Request] = []
        """Every request received (API calls and media downloads), in order."""
        self.tasks: dict[str, EmulatedTask] = {}
        self.sources: dict[str, AudioSource] = {}
        """Every ``audio_id`` handed out (songs and uploads) and what it sounds like."""
        self.stems: dict[str, str] = {}
        """Stems media key -> the task that made it."""
        self.videos: set[str] = set()
        """Audio ids a ``/producer/videos`` call made a video of."""
        self.wavs: set[str] = set()
        """Audio ids a ``/producer/wav`` call made a WAV of."""
        self.lock = threading.RLock()
        self.webhooks = Webhooks(self, callback_transport)
        self._failures: list[str] = list(failures or ())
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

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Every webhook attempt: ``{"url", "body", "status"}`` or ``{"url", "body", "error"}``."""
        return self.webhooks.sent

    @property
    def callback_transport(self) -> httpx.BaseTransport | None:
        """The httpx transport webhooks are POSTed through (``None``: the real network)."""
        return self.webhooks.transport

    @callback_transport.setter
    def callback_transport(self, transport: httpx.BaseTransport | None) -> None:
        self.webhooks.transport = transport

    @property
    def balance(self) -> float:
        """The application's Credits left now (what the platform API answers)."""
        return platform.remaining(self)

    @balance.setter
    def balance(self, credits: float) -> None:
        with self.lock:
            self.credits = float(credits) + platform.spent(self)

    @property
    def platform_failure(self) -> str | None:
        """A failure mode applied to every platform API request (None: none), e.g.
        ``"server_error"`` or ``"connection"`` for a platform that is down. Platform requests
        never consume the :meth:`fail_next` queue (it is the Producer API's)."""
        return self._platform_failure

    @platform_failure.setter
    def platform_failure(self, mode: str | None) -> None:
        if mode is not None:
            check_mode(mode)
        self._platform_failure = mode

    def fail_next(self, mode: str, times: int = 1) -> None:
        """Queue failure ``mode`` for the next ``times`` API requests."""
        check_mode(mode)
        with self.lock:
            self._failures.extend([mode] * times)

    def task_record(self, task_id: str) -> dict[str, Any] | None:
        """The vendor-shaped record of a task, as ``retrieve`` would answer it (None if unknown)."""
        with self.lock:
            task = self.tasks.get(task_id)
            return None if task is None else self.record(task)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[EmulatorServer]:
        """Run a real HTTP server on ``host:port`` in a background thread for the block.

        Raises:
            OSError: when the address cannot be bound (the port is taken, say).

        Example:
            >>> with ProducerEmulator().serve() as server:
            ...     print(server.base_url)  # doctest: +SKIP
            http://127.0.0.1:54321
        """
        from langchain_producer.emulator.server import EmulatorServer

        server = EmulatorServer(self, host, port)
        try:
            server.start()
            yield server
        finally:
            server.stop()

    def set_media_base(self, base_url: str | None) -> str | None:
        """Build media URLs on ``base_url`` (None: ``base_url`` of the emulator); return the old.

        :class:`EmulatorServer` calls it while it runs.
        """
        with self.lock:
            previous, self._public_base = self._public_base, base_url
        return previous

    def deliver_due_callbacks(self) -> int:
        """POST the webhook of every finished task that has not had one yet; return how many."""
        return self.webhooks.deliver_due()

    # ----------------------------------------------------------------- used by the endpoints

    def record(self, task: EmulatedTask) -> dict[str, Any]:
        """The vendor-shaped record of ``task`` now."""
        return rendering.record(task, self.clock(), self.media_base, self.videos)

    def final_body(self, task: EmulatedTask, trace_id: str) -> dict[str, Any]:
        """The synchronous answer of a finished audios task."""
        return rendering.final_body(task, trace_id, self.clock(), self.media_base, self.videos)

    def source(self, audio_id: str) -> AudioSource | None:
        """What ``audio_id`` names; unknown ids are refused when ``strict_audio_ids``."""
        with self.lock:
            source = self.sources.get(audio_id)
        if source is None and self.strict_audio_ids:
            raise BadRequest(
                f"audio_id {audio_id!r} is unknown: use the id of a song made by this service "
                "or an audio_id returned by /producer/upload."
            )
        return source

    def wait_until_done(self, task: EmulatedTask) -> None:
        """Block a synchronous submission until its task ends (at once with a custom clock)."""
        if not self.uses_real_clock:
            with self.lock:
                now = self.clock()
                task.start_at = min(task.start_at, now)
                task.finish_at = min(task.finish_at, now)
            return
        while (remaining := task.finish_at - self.clock()) > 0:
            time.sleep(min(remaining, 0.05))

    # ----------------------------------------------------------------- the handler

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the Producer service would (the core of both transports).

        Raises:
            httpx.ConnectError: when the ``connection`` failure mode applies.
        """
        with self.lock:
            self.requests.append(request)
        with contextlib.suppress(httpx.RequestNotRead, RuntimeError):
            request.read()  # a streamed request handed straight to handle()
        if not self.uses_real_clock and not isinstance(self.clock, FakeClock):
            self.webhooks.deliver_due_in_background()
        path = request.url.path
        is_media = path.startswith("/media/")
        is_platform = path.startswith(platform.APPLICATIONS)
        mode = self._take_failure(request, path, consume=not is_media and not is_platform)
        if is_platform and mode is None:
            mode = self._platform_failure
        if mode == "connection":
            raise httpx.ConnectError("emulated connection failure", request=request)
        if mode in ERROR_ANSWERS:
            error = ERROR_ANSWERS[mode]
            headers = {"Retry-After": error.retry_after} if error.retry_after else None
            return error_response(error.status, error.code, error.message, headers)
        if mode == "slow":
            time.sleep(self.slow_seconds)
        if is_media:
            response = media.serve(self, request.method, path)
        elif is_platform:
            response = platform.application(self, request, path)
        else:
            response = self._api(request, path, mode if mode in TASK_FAILURES else None)
        if mode == "malformed":
            return httpx.Response(
                200,
                headers={"content-type": "text/html", "x-trace-id": new_id()},
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
        with self.lock:
            if not self._failures:
                return None
            # A task failure needs a task to fail: look-ups let it wait for the next submission.
            if self._failures[0] in TASK_FAILURES and path == "/producer/tasks":
                return None
            return self._failures.pop(0)

    def _api(self, request: httpx.Request, path: str, failure: str | None) -> httpx.Response:
        handler = ENDPOINTS.get(path)
        if handler is None:
            return error_response(
                404, "no_api", f"No API at {path}; the Producer API lives under /producer/."
            )
        if request.method != "POST":
            return error_response(
                405, "bad_request", f"{request.method} is not allowed: every API call is a POST."
            )
        refused = self._check_token(request.headers.get("authorization"))
        if refused is not None:
            return refused
        if path != "/producer/tasks" and platform.used_up(self):
            return error_response(403, "used_up", "The account balance is used up (emulated).")
        try:
            body = json.loads(request.content or b"")
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "bad_request", "The body is not valid JSON.")
        if not isinstance(body, dict):
            return error_response(400, "bad_request", "The body must be a JSON object.")
        trace_id = new_id()
        try:
            return handler(self, body, trace_id, failure)
        except BadRequest as exc:
            return error_response(400, "bad_request", str(exc), trace_id=trace_id)

    def _check_token(self, authorization: str | None) -> httpx.Response | None:
        """400 ``no_token`` without a token, 401 ``invalid_token`` for a wrong one."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if not token and scheme.lower() in ("", "bearer"):
            return error_response(
                400, "no_token", "No token: send 'Authorization: Bearer <token>'."
            )
        if scheme.lower() != "bearer" or not token:
            return error_response(
                401, "invalid_token", "Send the token as 'Authorization: Bearer <token>'."
            )
        if self.api_key is not None and token != self.api_key:
            return error_response(401, "invalid_token", "The token is not valid.")
        return None

"""An offline, faithful stand-in for the Producer HTTP API (in-process or on a loopback server).

Written from the vendor's documents (``producer-api.md``, the OpenAPI file) only: it shares the
vocabulary in ``langchain_producer._constants`` and nothing else with the client it tests.

Example:
    >>> import httpx
    >>> from langchain_producer.emulator import FakeClock, ProducerEmulator
    >>> clock = FakeClock()
    >>> emu = ProducerEmulator(clock=clock)
    >>> api = httpx.Client(transport=emu.transport, base_url="http://producer.emulator",
    ...                    headers={"Authorization": "Bearer any"})
    >>> task_id = api.post("/producer/audios",
    ...                    json={"action": "generate", "prompt": "lofi", "async": True}
    ...                    ).json()["task_id"]
    >>> _ = clock.advance(10)
    >>> record = api.post("/producer/tasks", json={"action": "retrieve", "id": task_id}).json()
    >>> record["response"]["data"][0]["state"]
    'succeeded'

The service:
    * Every API call is a ``POST`` with a JSON object body and ``Authorization: Bearer <token>``
      (any non-empty token, or exactly ``api_key``); otherwise 401 ``invalid_token``. Errors are
      ``{"success": false, "error": {"code", "message"}, "trace_id"}``; every API answer carries an
      ``x-trace-id`` header and, except the bare ``{}`` of an unknown task, a ``trace_id`` in the
      body (a task record's ``trace_id`` is that of the submission that made the task).
    * ``/producer/audios`` validates like the real service (400 ``bad_request``): action, model,
      types (``null`` or ``false`` where a string/number belongs is refused), ranges
      (lyrics_strength and weirdness 0..1, sound_strength 0.2..1, continue_at >= 0 and not past
      the source song, replace_section_end > replace_section_start, both required for
      replace_section), prompt at most 200 characters, ``audio_id`` for every action but
      generate (it must name a song the emulator made or an upload, unless
      ``strict_audio_ids=False``), generate needs a prompt, a lyric or ``instrumental: true``.
      ``""`` is accepted for the unused lyric/prompt; unknown extra fields are ignored.
    * One song per audios request. ``async: true`` answers ``{"task_id", "trace_id"}`` at once; a
      ``callback_url`` also answers at once and the final body is POSTed there when the task ends
      (also when combined with ``async``). Otherwise the call blocks until the task is done and
      answers ``{"success": true, "task_id", "trace_id", "data": [song]}``. With a non-default
      clock (a :class:`FakeClock`) a blocking call does not wait: the task is moved to done at
      once (``started_at == finished_at``, ``elapsed == 0``).
    * Lifecycle of an audios task, measured on ``clock``: ``pending_seconds`` pending
      (``started_at`` null, items in state ``pending`` with null URLs), then
      ``processing_seconds`` processing (items carry PREVIEW ``audio_url`` values and progress
      ``"NN%"`` under 100; stems items have ``stems_url: null``), then done: final URLs,
      ``progress "100%"``, ``state "succeeded"``, ``duration`` a string, ``finished_at`` and
      ``elapsed`` set, and no ``response.success`` key (as the vendor documents the record).
    * Lyrics, upload, videos and wav answer synchronously and are recorded as finished tasks
      (type ``lyrics``/``upload``/``videos``/``wav``) whose ``response`` is the answer body
      without ``trace_id``.
    * ``/producer/tasks``: ``retrieve`` by ``id`` (unknown: HTTP 200 ``{}``), ``retrieve_batch``
      by ``ids`` (at most 50) answering ``{"items", "count", "trace_id"}`` with unknown ids
      absent. Any other path: 404 ``no_api``; a non-POST on an API path: 405 ``bad_request``.

Failure modes (``ProducerEmulator(failures=[...])``, ``emu.fail_next(mode, times)`` or the
request header ``X-Emulator-Fail: <mode>``; the header wins over the queue and consumes nothing;
the queue applies to the next API requests in order, task look-ups included; media downloads
never consume the queue but do honour the header):
    * ``task_failed``: the request is accepted and the task later ends failed: the record and
      the synchronous/webhook body carry ``success: false`` and
      ``error: {"code": "task_failed", "message"}``, and the partial song stays in ``data``
      (state ``failed``, its preview ``audio_url``). On lyrics/upload/videos/wav the answer is
      HTTP 200 ``success: false`` with that error. A queued ``task_failed`` is not consumed by
      task look-ups (there is nothing to fail); it waits for the next submission.
    * ``rate_limit``: 429 ``too_many_requests`` with ``Retry-After: 1``; nothing is created.
    * ``server_error``: 500 ``api_error``; nothing is created.
    * ``used_up``: 403 ``used_up``; nothing is created.
    * ``slow``: the request is handled normally but the answer comes ``slow_seconds`` (default 2)
      real seconds late, in-process too (the async transport sleeps in a worker thread).
    * ``malformed``: the request IS handled (a submission creates and bills a task) but the
      answer is HTTP 200 with an HTML body that is not JSON: a lost answer.
    * ``connection``: in-process, ``httpx.ConnectError`` is raised; over the server, the socket
      is closed without an answer. Nothing is created.

An unknown ``X-Emulator-Fail`` value is ignored. ``slow_seconds`` and the ``connection``/``slow``
modes use real time, whatever the ``clock``.

Other handles for tests: ``emu.requests`` (every request, media downloads included),
``emu.tasks`` (task id -> :class:`EmulatedTask`), ``emu.task_record(task_id)`` (the vendor-shaped
record), ``emu.callbacks`` (every webhook attempt with its body and status or error) and
``emu.deliver_due_callbacks()``. Webhooks fire from a timer thread with the real clock, inside
``FakeClock.advance`` with a FakeClock, and on the next request with any other clock.
``python -m langchain_producer.emulator --port 8787`` serves on 127.0.0.1 until Ctrl-C.

Media (GET, no auth, ``Content-Length`` set, 404 when unknown or not ready yet), under the
emulator's ``base_url`` (or the server's base URL while :meth:`ProducerEmulator.serve` runs):
    * ``/media/preview/<audio_id>.wav``: the streaming preview, served from processing on.
    * ``/media/audio/<audio_id>.wav``: the final song, served once the task succeeded.
    * ``/media/image/<audio_id>.png``: the cover (``image_id`` equals the song id).
    * ``/media/stems/<key>.zip``: ``vocals.wav`` and ``instrumental.wav``.
    * ``/media/video/<audio_id>.mp4`` and ``/media/wav/<audio_id>.wav``: after a
      ``/producer/videos`` or ``/producer/wav`` call for that audio id.
Audio is a deterministic WAV (mono, 16-bit, 11025 Hz, 3 to 6 s of tones derived from a hash of the
request); the real service serves mp3/m4a, but encoding those needs more than the standard library.
"""

from __future__ import annotations

from langchain_producer.emulator.server import EmulatorServer
from langchain_producer.emulator.service import (
    FAIL_HEADER,
    FAILURE_MODES,
    EmulatedSong,
    EmulatedTask,
    EmulatorTransport,
    FakeClock,
    ProducerEmulator,
)

__all__ = [
    "FAILURE_MODES",
    "FAIL_HEADER",
    "EmulatedSong",
    "EmulatedTask",
    "EmulatorServer",
    "EmulatorTransport",
    "FakeClock",
    "ProducerEmulator",
]

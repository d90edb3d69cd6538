"""An offline, faithful stand-in for the Producer HTTP API (in-process or on a loopback server).

Written from the vendor's documents (``producer-api.md``, the OpenAPI file) only: it shares the
vocabulary in ``langchain_producer._constants`` and nothing else with the client it tests.

May import: ``langchain_producer._constants`` only. Inside, ``service`` (``ProducerEmulator``)
imports its parts (``endpoints``, ``media``, ``rendering``, ``webhooks``, ``server``); the parts
are handed the emulator and read it through the protocols of ``state``, never the service.

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
      (any non-empty token, or exactly ``api_key``). No token: 400 ``no_token``; a wrong one:
      401 ``invalid_token``. Errors are ``{"success": false, "error": {"code", "message"},
      "trace_id"}``; every API answer carries an ``x-trace-id`` header and, except the bare
      ``{}`` of an unknown task, a ``trace_id`` in the body (a task record's ``trace_id`` is that
      of the submission that made the task).
    * ``/producer/audios`` refuses (400 ``bad_request``) only what the documents rule out: an
      unknown action or model, a value of the wrong JSON type, lyrics_strength, sound_strength or
      weirdness outside 0..1, a negative time, replace_section without both times or with
      ``end <= start``, a prompt over 200 characters, a missing ``audio_id`` on an edit (it must
      name a song the emulator made or an upload, unless ``strict_audio_ids=False``), and a
      generate with neither prompt, lyric nor ``instrumental: true``. ``null`` counts as "not
      given" for every optional field (the vendor's MCP server sends ``"callback_url": null``),
      so does ``false`` for a number (the spec's ``"default": false``, sent by the vendor SDK);
      ``seed`` may be a string or a number; ``""`` is accepted for the unused lyric/prompt;
      unknown extra fields are ignored.
    * One song per audios request. ``async: true`` answers ``{"task_id", "trace_id"}`` at once; a
      ``callback_url`` also answers at once and the final body is POSTed there when the task ends
      (also when combined with ``async``). Otherwise the call blocks until the task is done and
      answers ``{"success": true, "task_id", "trace_id", "data": [song]}``. With a non-default
      clock (a :class:`FakeClock`) a blocking call does not wait: the task is moved to done at
      once (``started_at == finished_at``, ``elapsed == 0``).
    * Lifecycle of an audios task, measured on ``clock``: ``pending_seconds`` pending (no
      ``started_at``; items in state ``pending`` with null URLs), then ``processing_seconds``
      processing (items carry PREVIEW ``audio_url`` values and progress ``"NN%"`` under 100;
      stems items have ``stems_url: null``), then done: final URLs, ``progress "100%"``,
      ``state "succeeded"``, ``duration`` a string, ``finished_at`` and ``elapsed`` set, and no
      ``response.success`` key (as the vendor documents the record). Timing fields are absent,
      not null, until they have a value. A song's ``video_url`` is filled once
      ``/producer/videos`` made its video.
    * Songs report realistic durations (2 to 4 minutes, ``"181.30"``-style strings) but the audio
      served is a few seconds of tones: enough to download, play and check, fast in tests.
    * Lyrics, upload, videos and wav answer synchronously and are recorded as finished tasks
      (type ``lyrics``/``upload``/``videos``/``wav``) whose ``response`` is the answer body
      without ``trace_id``.
    * ``/producer/tasks``: ``retrieve`` by ``id`` (unknown: HTTP 200 ``{}``), ``retrieve_batch``
      by ``ids`` answering ``{"items", "count", "trace_id"}`` with unknown ids absent and one item
      per id asked for (an id asked twice answers twice). ``action`` defaults to ``retrieve``
      (the spec's default). Any other path: 404 ``no_api``; a non-POST on an API path: 405
      ``bad_request``.

The platform API (``platform``): ``GET /api/v1/applications/{id}`` (trailing slash or not, any
host) with ``authorization: Bearer <platform token>`` answers ``id``, ``service_id``,
``remaining_amount``, ``used_amount`` and ``scope``. ``ProducerEmulator(balance=...)`` Credits
drop by ``task_cost`` (invented; real prices are only in the console) as tasks succeed; with
none left, submissions answer 403 ``used_up``. ``emu.platform_failure = "server_error"`` (any
failure mode) makes every platform request fail; they never consume the ``fail_next`` queue.

Where the sources are silent or disagree, the emulator accepts rather than invent a rule:
    * ``retrieve_batch`` takes any number of ids: the 50 a call is the reference MCP server's
      advice, not a documented limit of the service.
    * ``retrieve_batch`` without ``ids`` answers ``{"items": [], "count": 0}``.
    * The lyrics ``prompt`` has no length limit (none is documented); the spec types it as an
      object while every client sends a string: both are read (an object's values joined).
    * ``sound_strength`` takes 0..1: the spec's text says 0.2..1, the vendor's MCP server 0..1.
    * The actions the vendor's web app sends outside the spec (``upload_cover``,
      ``upload_extend``, ``upload_replace_section``, ``all_stems``) are accepted and behave as
      ``cover``, ``extend``, ``replace_section`` and ``stems``.
    * ``continue_at`` is not checked against the song's length (no source limits it).
    * Kept although no document states them: negative times and ``replace_section_end <=
      replace_section_start`` are refused (no client sends them, and they name no stretch of a
      song), as is a generate with nothing to sing or play.

Failure modes (``ProducerEmulator(failures=[...])``, ``emu.fail_next(mode, times)`` or the
request header ``X-Emulator-Fail: <mode>``; the header wins over the queue and consumes nothing;
the queue applies to the next API requests in order, task look-ups included; media downloads
never consume the queue but do honour the header):
    * ``task_failed``: the request is accepted and the task later ends failed: the record and
      the synchronous/webhook body carry ``success: false`` and
      ``error: {"code": "task_failed", "message"}``, and the partial song stays in ``data``
      (state ``failed``, its preview ``audio_url``). On lyrics/upload/videos/wav the answer is
      HTTP 200 ``success: false`` with that error. A queued task failure is not consumed by
      task look-ups (there is nothing to fail); it waits for the next submission.
    * ``task_failed_text``: the same, with ``error`` a bare string (the documents allow both).
    * ``rate_limit``: 429 ``too_many_requests`` with ``Retry-After: 1``; nothing is created.
    * ``rate_limit_no_retry_after``: the same 429 without ``Retry-After`` (none is documented).
    * ``server_error``: 500 ``api_error``; ``used_up``: 403 ``used_up``; and every other
      documented code by its name: ``bad_request``, ``no_token``, ``disabled``,
      ``api_not_implemented`` (400), ``invalid_token``, ``token_expired``, ``token_mismatched``
      (401), ``no_api`` (404). Nothing is created.
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

Layout: ``service`` (the handler and its state), ``endpoints`` (one function per path and the
table routing to them), ``validation``, ``rendering`` (the vendor's JSON shapes), ``answers``
(HTTP answers), ``failures``, ``platform`` (the application's balance), ``webhooks``, ``media``
(files and the media host), ``clock``, ``state`` and ``server`` (the loopback HTTP server).
"""

from __future__ import annotations

from langchain_producer.emulator.clock import FakeClock
from langchain_producer.emulator.failures import FAIL_HEADER, FAILURE_MODES
from langchain_producer.emulator.server import EmulatorServer
from langchain_producer.emulator.service import EmulatorTransport, ProducerEmulator
from langchain_producer.emulator.state import EmulatedSong, EmulatedTask

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

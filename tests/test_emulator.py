"""The emulator, exercised over plain httpx (never the project's client)."""

from __future__ import annotations

import io
import json
import select
import subprocess
import sys
import threading
import time
import wave
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_producer._constants import AUDIO_ACTIONS
from langchain_producer.emulator import FakeClock, ProducerEmulator

BASE = "http://producer.emulator"
AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> ProducerEmulator:
    return ProducerEmulator(clock=clock, pending_seconds=1.0, processing_seconds=4.0)


@pytest.fixture
def api(emu: ProducerEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as client:
        yield client


def submit(api: httpx.Client, **body: Any) -> str:
    body.setdefault("action", "generate")
    body.setdefault("prompt", "upbeat synthwave")
    body["async"] = True
    response = api.post("/producer/audios", json=body)
    assert response.status_code == 200, response.text
    task_id = response.json()["task_id"]
    assert isinstance(task_id, str)
    return task_id


def retrieve(api: httpx.Client, task_id: str) -> dict[str, Any]:
    response = api.post("/producer/tasks", json={"action": "retrieve", "id": task_id})
    assert response.status_code == 200
    record = response.json()
    assert isinstance(record, dict)
    return record


def finished_song(api: httpx.Client, clock: FakeClock, **body: Any) -> dict[str, Any]:
    task_id = submit(api, **body)
    clock.advance(10)
    song = retrieve(api, task_id)["response"]["data"][0]
    assert isinstance(song, dict)
    return song


# ----------------------------------------------------------------------------- lifecycle


def test_lifecycle_pending_processing_complete(api: httpx.Client, clock: FakeClock) -> None:
    start = clock()
    response = api.post(
        "/producer/audios", json={"action": "generate", "prompt": "lofi rain", "async": True}
    )
    body = response.json()
    assert set(body) == {"task_id", "trace_id"}
    assert response.headers["x-trace-id"] == body["trace_id"]
    task_id = body["task_id"]

    pending = retrieve(api, task_id)
    assert pending["id"] == task_id and pending["type"] == "audios"
    assert pending["trace_id"] == body["trace_id"]
    assert pending["created_at"] == start
    # Timing fields are absent, not null, until they have a value (as the documents say).
    assert not {"started_at", "finished_at", "elapsed"} & set(pending)
    assert pending["request"] == {"action": "generate", "prompt": "lofi rain", "async": True}
    [item] = pending["response"]["data"]
    assert item["state"] == "pending" and item["audio_url"] is None

    clock.advance(2.0)  # one second into four of processing
    processing = retrieve(api, task_id)
    assert processing["started_at"] == start + 1.0
    assert not {"finished_at", "elapsed"} & set(processing)
    [preview] = processing["response"]["data"]
    assert preview["state"] == "processing"
    assert preview["progress"] == "25%"
    assert "/media/preview/" in preview["audio_url"]
    assert "success" not in processing["response"]

    clock.advance(4.0)
    done = retrieve(api, task_id)
    assert done["finished_at"] == start + 5.0
    assert done["elapsed"] == 4.0
    response_part = done["response"]
    assert "success" not in response_part  # as the vendor documents the finished record
    assert response_part["task_id"] == task_id
    [song] = response_part["data"]
    assert song["id"] == preview["id"]
    assert song["state"] == "succeeded" and song["progress"] == "100%"
    assert song["audio_url"] != preview["audio_url"]
    assert song["audio_url"] == f"{BASE}/media/audio/{song['id']}.wav"
    assert song["image_url"].endswith(".png") and song["image_id"] == song["id"]
    assert song["video_url"] is None  # no video asked for yet
    assert song["title"] == "Lofi Rain" and song["sound"] == "lofi rain"
    assert song["model"] == "FUZZ-2.0"
    # Realistic durations (minutes), as a string of seconds like the vendor's example.
    assert isinstance(song["duration"], str) and 120 <= float(song["duration"]) <= 240
    assert isinstance(song["seed"], str) and song["created_at"].endswith("Z")
    assert song["lyric"].startswith("[Verse]")


def test_request_fields_shape_the_song(api: httpx.Client, clock: FakeClock) -> None:
    song = finished_song(
        api,
        clock,
        prompt="",
        lyric="[Verse]\nla la",
        custom=True,
        title="Mine",
        model="FUZZ-2.0 Pro",
        seed="42",
    )
    assert song["title"] == "Mine" and song["lyric"] == "[Verse]\nla la"
    assert song["model"] == "FUZZ-2.0 Pro" and song["seed"] == "42"
    instrumental = finished_song(api, clock, instrumental=True)
    assert instrumental["lyric"] == "[Instrumental]"


def test_sync_call_with_fake_clock_completes_at_once(
    api: httpx.Client, emu: ProducerEmulator
) -> None:
    response = api.post("/producer/audios", json={"action": "generate", "prompt": "jazz"})
    body = response.json()
    assert body["success"] is True
    assert body["trace_id"] == response.headers["x-trace-id"]
    [song] = body["data"]
    assert song["state"] == "succeeded" and "/media/audio/" in song["audio_url"]
    record = retrieve(api, body["task_id"])
    assert record["finished_at"] is not None and record["elapsed"] == 0
    assert record["response"]["data"][0]["id"] == song["id"]
    assert len(emu.tasks) == 1


def test_sync_call_with_real_clock_blocks_until_done() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.15)
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        started = time.monotonic()
        body = api.post("/producer/audios", json={"action": "generate", "prompt": "x"}).json()
        assert time.monotonic() - started >= 0.19
    assert body["success"] is True and body["data"][0]["progress"] == "100%"


def test_edit_actions_use_a_previous_song(api: httpx.Client, clock: FakeClock) -> None:
    source = finished_song(api, clock)
    extend = finished_song(api, clock, action="extend", audio_id=source["id"], continue_at=1.0)
    assert extend["id"] != source["id"] and "/media/audio/" in extend["audio_url"]
    # No source limits continue_at to the song's length (the served audio is only seconds long).
    late = finished_song(api, clock, action="extend", audio_id=source["id"], continue_at=600)
    assert late["state"] == "succeeded"
    stems = finished_song(api, clock, action="stems", audio_id=source["id"], prompt="")
    assert "id" not in stems and "audio_url" not in stems
    assert stems["stems_url"].endswith(".zip")
    response = api.post(
        "/producer/audios",
        json={"action": "cover", "audio_id": "not-a-song", "prompt": "", "async": True},
    )
    assert response.status_code == 400 and "audio_id" in response.json()["error"]["message"]


async def test_async_client_uses_the_same_transport(emu: ProducerEmulator) -> None:
    async with httpx.AsyncClient(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        response = await api.post("/producer/audios", json={"action": "generate", "prompt": "a"})
        assert response.json()["success"] is True
        media = await api.get(response.json()["data"][0]["audio_url"])
        assert media.status_code == 200 and media.content[:4] == b"RIFF"


# ----------------------------------------------------------------------------- webhooks


def test_callback_delivered_when_task_completes(clock: FakeClock) -> None:
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    emu = ProducerEmulator(clock=clock, callback_transport=httpx.MockTransport(hook))
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        response = api.post(
            "/producer/audios",
            json={"action": "generate", "prompt": "x", "callback_url": "https://hooks.test/done"},
        )
        body = response.json()
        assert set(body) == {"task_id", "trace_id"}  # answered at once
        clock.advance(1.5)
        assert received == []
        clock.advance(10)
    assert len(received) == 1
    assert str(received[0].url) == "https://hooks.test/done"
    assert received[0].method == "POST"
    delivered = json.loads(received[0].content)
    assert delivered["success"] is True
    assert delivered["task_id"] == body["task_id"]
    assert delivered["trace_id"] == body["trace_id"]
    assert delivered["data"][0]["state"] == "succeeded"
    assert "/media/audio/" in delivered["data"][0]["audio_url"]
    assert emu.callbacks[0]["status"] == 200
    clock.advance(10)
    assert len(received) == 1  # exactly once


def test_callback_with_real_clock_fires_from_a_timer() -> None:
    done = threading.Event()
    bodies: list[dict[str, Any]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        done.set()
        return httpx.Response(204)

    emu = ProducerEmulator(
        pending_seconds=0.02,
        processing_seconds=0.05,
        callback_transport=httpx.MockTransport(hook),
        failures=["task_failed"],
    )
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        api.post(
            "/producer/audios",
            json={"action": "generate", "prompt": "x", "callback_url": "http://hooks.test/"},
        )
    assert done.wait(3)
    assert bodies[0]["success"] is False and bodies[0]["error"]["code"] == "task_failed"
    assert bodies[0]["data"][0]["state"] == "failed"


# ----------------------------------------------------------------------------- tasks


def test_retrieve_unknown_and_batch(api: httpx.Client, clock: FakeClock) -> None:
    assert retrieve(api, "no-such-task") == {}
    first, second = submit(api), submit(api)
    clock.advance(10)
    response = api.post(
        "/producer/tasks", json={"action": "retrieve_batch", "ids": [first, "missing", second]}
    )
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [first, second]
    assert all(item["finished_at"] for item in body["items"])
    # An id asked twice answers twice; 50 a call is advice, not a documented limit.
    repeated = api.post(
        "/producer/tasks", json={"action": "retrieve_batch", "ids": [first, second, first]}
    ).json()
    assert [item["id"] for item in repeated["items"]] == [first, second, first]
    assert repeated["count"] == 3
    many = api.post("/producer/tasks", json={"action": "retrieve_batch", "ids": [first] * 51})
    assert many.status_code == 200 and many.json()["count"] == 51
    empty = api.post("/producer/tasks", json={"action": "retrieve_batch"})
    assert empty.status_code == 200 and empty.json()["items"] == [] and empty.json()["count"] == 0
    # The spec's default action is retrieve.
    assert api.post("/producer/tasks", json={"id": first}).json()["id"] == first
    assert api.post("/producer/tasks", json={"action": "list"}).status_code == 400
    assert api.post("/producer/tasks", json={"action": "retrieve"}).status_code == 400


def test_synchronous_endpoints_and_their_records(api: httpx.Client) -> None:
    lyrics = api.post("/producer/lyrics", json={"prompt": "winter night"}).json()
    assert lyrics["success"] is True
    assert lyrics["data"]["title"] and lyrics["data"]["text"].startswith("[Verse]")
    record = retrieve(api, lyrics["task_id"])
    assert record["type"] == "lyrics" and record["finished_at"] is not None
    assert record["response"]["data"] == lyrics["data"]

    upload = api.post("/producer/upload", json={"audio_url": "https://cdn.test/a.mp3"}).json()
    audio_id = upload["data"]["audio_id"]
    cover = api.post(
        "/producer/audios", json={"action": "cover", "audio_id": audio_id, "prompt": "rock"}
    )
    assert cover.status_code == 200 and cover.json()["success"] is True

    video = api.post("/producer/videos", json={"audio_id": audio_id}).json()
    assert video["data"]["video_url"].endswith(".mp4")
    assert api.get(video["data"]["video_url"]).content[4:8] == b"ftyp"
    wav = api.post("/producer/wav", json={"audio_id": audio_id}).json()
    [wav_item] = wav["data"]
    assert wav_item["title"] and wav_item["file_url"].endswith(".wav")
    with wave.open(io.BytesIO(api.get(wav_item["file_url"]).content)) as parsed:
        assert parsed.getnframes() > 0
    assert retrieve(api, wav["task_id"])["type"] == "wav"

    assert api.post("/producer/upload", json={"audio_url": "ftp://x/a.mp3"}).status_code == 400
    assert api.post("/producer/lyrics", json={}).status_code == 400
    assert api.post("/producer/videos", json={}).status_code == 400


# ----------------------------------------------------------------------------- auth and routing


def test_auth_and_error_envelope(clock: FakeClock) -> None:
    emu = ProducerEmulator(api_key="right", clock=clock)
    with httpx.Client(transport=emu.transport, base_url=BASE) as api:
        body = {"action": "retrieve", "id": "x"}
        missing = api.post("/producer/tasks", json=body)
        assert missing.status_code == 400
        error = missing.json()
        assert error["success"] is False and error["error"]["code"] == "no_token"
        assert error["trace_id"] == missing.headers["x-trace-id"]
        assert (
            api.post("/producer/tasks", json=body, headers={"Authorization": "Bearer "}).json()[
                "error"
            ]["code"]
            == "no_token"
        )
        basic = api.post("/producer/tasks", json=body, headers={"Authorization": "Basic right"})
        assert basic.status_code == 401 and basic.json()["error"]["code"] == "invalid_token"
        wrong = api.post("/producer/tasks", json=body, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401
        right = api.post("/producer/tasks", json=body, headers={"Authorization": "Bearer right"})
        assert right.status_code == 200 and right.json() == {}
    assert len(emu.requests) == 5


def test_unknown_path_and_method(api: httpx.Client) -> None:
    response = api.post("/producer/songs", json={})
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_api"
    assert api.get("/producer/audios").status_code == 405


def test_any_token_accepted_without_api_key(api: httpx.Client) -> None:
    ok = api.post("/producer/tasks", json={"id": "x"}, headers={"Authorization": "Bearer z"})
    assert ok.status_code == 200
    empty = api.post("/producer/tasks", json={"id": "x"}, headers={"Authorization": "Bearer "})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "no_token"


# ----------------------------------------------------------------------------- validation

INVALID_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"action": "generate", "prompt": "x", "model": "FUZZ-9"}, "model"),
    ({"action": "remix", "prompt": "x"}, "action"),
    ({"prompt": "x"}, "action"),
    ({"action": "generate", "prompt": "x", "lyrics_strength": 1.5}, "lyrics_strength"),
    ({"action": "generate", "prompt": "x", "weirdness": -0.1}, "weirdness"),
    ({"action": "generate", "prompt": "x", "sound_strength": 1.1}, "sound_strength"),
    ({"action": "generate", "prompt": "x", "weirdness": True}, "weirdness"),
    ({"action": "generate", "prompt": "x", "weirdness": "0.5"}, "weirdness"),
    ({"action": "generate", "prompt": "x", "callback_url": "not a url"}, "callback_url"),
    ({"action": "generate", "prompt": "x", "seed": True}, "seed"),
    ({"action": "generate", "prompt": "x", "seed": ["1"]}, "seed"),
    ({"action": "generate", "prompt": "x", "title": 5}, "title"),
    ({"action": "generate", "prompt": None}, "prompt"),
    ({"action": None, "prompt": "x"}, "action"),
    ({"action": "generate", "prompt": "x", "instrumental": "yes"}, "instrumental"),
    ({"action": "generate", "prompt": "x" * 201}, "200"),
    ({"action": "generate", "prompt": "", "lyric": ""}, "prompt"),
    ({"action": "extend", "audio_id": "SRC", "continue_at": -1}, "continue_at"),
    ({"action": "upload_extend", "prompt": "x"}, "audio_id"),
    (
        {
            "action": "replace_section",
            "audio_id": "SRC",
            "replace_section_start": 5,
            "replace_section_end": 5,
        },
        "replace_section_end",
    ),
    ({"action": "replace_section", "audio_id": "SRC"}, "replace_section"),
]
INVALID_BODIES += [({"action": action, "prompt": "x"}, "audio_id") for action in AUDIO_ACTIONS[1:]]


@pytest.mark.parametrize(("body", "mentions"), INVALID_BODIES)
def test_validation_answers_400(
    api: httpx.Client, clock: FakeClock, body: dict[str, Any], mentions: str
) -> None:
    if body.get("audio_id") == "SRC":
        body = {**body, "audio_id": finished_song(api, clock)["id"]}
    response = api.post("/producer/audios", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["success"] is False and error["error"]["code"] == "bad_request"
    assert mentions in error["error"]["message"]
    assert error["trace_id"]


def test_non_json_bodies_answer_400(api: httpx.Client) -> None:
    for content in (b"{not json", b"[1, 2]", b""):
        response = api.post(
            "/producer/audios", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


def test_empty_unused_fields_and_extras_are_accepted(api: httpx.Client) -> None:
    body = {"action": "generate", "prompt": "folk", "lyric": "", "style": "x", "weirdness": 0.7}
    assert api.post("/producer/audios", json=body).status_code == 200


# What the vendor's own clients send, or what the sources leave open: the service takes it.
ACCEPTED_BODIES: list[tuple[str, dict[str, Any]]] = [
    # mcp-producer sends "callback_url": null on every submission.
    ("null-callback", {"prompt": "x", "callback_url": None, "async": True}),
    ("null-optionals", {"prompt": "x", "title": None, "seed": None, "model": None, "custom": None}),
    # The spec gives numbers "default": false; the vendor SDK sends it for unset ones.
    ("false-numbers", {"prompt": "x", "weirdness": False, "lyrics_strength": False}),
    ("numeric-seed", {"prompt": "x", "seed": 2450882164}),
    ("string-seed", {"prompt": "x", "seed": "2450882164"}),
    # 0.2..1 in the spec's text, 0..1 in the vendor's MCP server: the wider range.
    ("low-sound-strength", {"prompt": "x", "sound_strength": 0.1}),
    ("zero-controls", {"prompt": "x", "sound_strength": 0, "weirdness": 0, "lyrics_strength": 0}),
]


@pytest.mark.parametrize("body", [pytest.param(body, id=name) for name, body in ACCEPTED_BODIES])
def test_bodies_the_service_accepts(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/producer/audios", json={"action": "generate", **body})
    assert response.status_code == 200, response.text
    assert response.json()["task_id"]


def test_seed_is_answered_as_a_string(api: httpx.Client, clock: FakeClock) -> None:
    assert finished_song(api, clock, seed=7)["seed"] == "7"


@pytest.mark.parametrize(
    ("action", "behaves_as"),
    [
        ("upload_cover", "cover"),
        ("upload_extend", "extend"),
        ("upload_replace_section", "replace_section"),
        ("all_stems", "stems"),
    ],
)
def test_web_app_actions_are_accepted(
    api: httpx.Client, clock: FakeClock, action: str, behaves_as: str
) -> None:
    upload = api.post("/producer/upload", json={"audio_url": "https://cdn.test/a.mp3"}).json()
    extra = {"replace_section_start": 1, "replace_section_end": 2, "continue_at": 5}
    song = finished_song(api, clock, action=action, audio_id=upload["data"]["audio_id"], **extra)
    assert song["state"] == "succeeded"
    assert ("stems_url" in song) == (behaves_as == "stems")


def test_lyrics_prompt_has_no_invented_limit(api: httpx.Client) -> None:
    long_prompt = api.post("/producer/lyrics", json={"prompt": "rain " * 1000})
    assert long_prompt.status_code == 200 and long_prompt.json()["data"]["text"]
    # The spec types prompt as an object; every client sends a string. Both are read.
    as_object = api.post("/producer/lyrics", json={"prompt": {"text": "winter"}})
    assert as_object.status_code == 200 and "winter" in as_object.json()["data"]["text"]


# ----------------------------------------------------------------------------- failures

SIMPLE_FAILURES = [
    ("rate_limit", 429, "too_many_requests"),
    ("server_error", 500, "api_error"),
    ("used_up", 403, "used_up"),
    ("rate_limit_no_retry_after", 429, "too_many_requests"),
    ("bad_request", 400, "bad_request"),
    ("no_token", 400, "no_token"),
    ("disabled", 400, "disabled"),
    ("api_not_implemented", 400, "api_not_implemented"),
    ("invalid_token", 401, "invalid_token"),
    ("token_expired", 401, "token_expired"),
    ("token_mismatched", 401, "token_mismatched"),
    ("no_api", 404, "no_api"),
]


@pytest.mark.parametrize(("mode", "status", "code"), SIMPLE_FAILURES)
def test_error_failures_by_header_and_queue(
    api: httpx.Client, emu: ProducerEmulator, mode: str, status: int, code: str
) -> None:
    body = {"action": "generate", "prompt": "x", "async": True}
    by_header = api.post("/producer/audios", json=body, headers={"X-Emulator-Fail": mode})
    emu.fail_next(mode)
    by_queue = api.post("/producer/audios", json=body)
    for response in (by_header, by_queue):
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert response.json()["trace_id"] == response.headers["x-trace-id"]
    if mode == "rate_limit":
        assert by_header.headers["Retry-After"] == "1"
    else:
        # No Retry-After is documented: only the rate_limit mode sends one.
        assert "Retry-After" not in by_header.headers
    assert emu.tasks == {}  # nothing was created
    assert api.post("/producer/audios", json=body).status_code == 200


def test_queue_applies_in_order_to_any_request(clock: FakeClock) -> None:
    emu = ProducerEmulator(clock=clock, failures=["rate_limit", "server_error"])
    emu.fail_next("used_up", times=2)
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        lookup = {"action": "retrieve", "id": "x"}
        statuses = [api.post("/producer/tasks", json=lookup).status_code for _ in range(5)]
        assert statuses == [429, 500, 403, 403, 200]
        # The header wins and leaves the queue alone.
        emu.fail_next("server_error")
        header = {"X-Emulator-Fail": "used_up"}
        assert api.post("/producer/tasks", json=lookup, headers=header).status_code == 403
        assert api.post("/producer/tasks", json=lookup).status_code == 500
    with pytest.raises(ValueError):
        emu.fail_next("bogus")


def test_connection_failure_in_process(api: httpx.Client, emu: ProducerEmulator) -> None:
    body = {"action": "generate", "prompt": "x"}
    with pytest.raises(httpx.ConnectError):
        api.post("/producer/audios", json=body, headers={"X-Emulator-Fail": "connection"})
    emu.fail_next("connection")
    with pytest.raises(httpx.ConnectError):
        api.post("/producer/audios", json=body)
    assert emu.tasks == {} and len(emu.requests) == 2


def test_malformed_answer_but_task_created(api: httpx.Client, emu: ProducerEmulator) -> None:
    body = {"action": "generate", "prompt": "x", "async": True}
    for headers in ({"X-Emulator-Fail": "malformed"}, {}):
        if not headers:
            emu.fail_next("malformed")
        response = api.post("/producer/audios", json=body, headers=headers)
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            response.json()
    assert len(emu.tasks) == 2  # the answers were lost, the submissions were not


def test_slow_answers_late_in_process(clock: FakeClock) -> None:
    emu = ProducerEmulator(clock=clock, slow_seconds=0.2, failures=["slow"])
    with httpx.Client(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        for headers in ({}, {"X-Emulator-Fail": "slow"}):
            started = time.monotonic()
            response = api.post("/producer/tasks", json={"id": "x"}, headers=headers)
            assert time.monotonic() - started >= 0.2
            assert response.status_code == 200 and response.json() == {}


def test_task_failed_keeps_partial_song(api: httpx.Client, emu: ProducerEmulator) -> None:
    emu.fail_next("task_failed")
    retrieve(api, "unrelated")  # a look-up does not use up task_failed
    task_id = submit(api)
    clock = emu.clock
    assert isinstance(clock, FakeClock)
    clock.advance(2)
    running = retrieve(api, task_id)
    assert "success" not in running["response"]
    clock.advance(10)
    failed = retrieve(api, task_id)
    assert failed["finished_at"] is not None
    assert failed["response"]["success"] is False
    assert failed["response"]["error"]["code"] == "task_failed"
    assert failed["response"]["error"]["message"]
    [partial] = failed["response"]["data"]
    assert partial["state"] == "failed" and partial["id"]
    assert "/media/audio/" not in partial["audio_url"]
    assert api.get(partial["audio_url"]).status_code == 200  # the preview survives

    sync = api.post(
        "/producer/audios",
        json={"action": "generate", "prompt": "x"},
        headers={"X-Emulator-Fail": "task_failed"},
    ).json()
    assert sync["success"] is False and sync["error"]["code"] == "task_failed"
    assert sync["data"][0]["state"] == "failed"
    lyrics = api.post(
        "/producer/lyrics", json={"prompt": "x"}, headers={"X-Emulator-Fail": "task_failed"}
    ).json()
    assert lyrics["success"] is False and "data" not in lyrics


def test_task_failed_text_gives_a_bare_string_error(api: httpx.Client, clock: FakeClock) -> None:
    text = {"X-Emulator-Fail": "task_failed_text"}
    task_id = api.post(
        "/producer/audios", json={"action": "generate", "prompt": "x", "async": True}, headers=text
    ).json()["task_id"]
    clock.advance(10)
    failed = retrieve(api, task_id)["response"]
    assert failed["success"] is False
    assert isinstance(failed["error"], str) and failed["error"]
    assert failed["data"][0]["state"] == "failed"
    wav = api.post("/producer/wav", json={"audio_id": failed["data"][0]["id"]}, headers=text)
    assert wav.status_code == 200
    assert wav.json()["success"] is False and isinstance(wav.json()["error"], str)


def test_video_url_fills_in_on_the_song(api: httpx.Client, clock: FakeClock) -> None:
    task_id = submit(api)
    clock.advance(10)
    song_id = retrieve(api, task_id)["response"]["data"][0]["id"]
    video = api.post("/producer/videos", json={"audio_id": song_id}).json()["data"]["video_url"]
    song = retrieve(api, task_id)["response"]["data"][0]
    assert song["video_url"] == video
    assert api.get(video).status_code == 200


# ----------------------------------------------------------------------------- media


def test_media_served_and_valid(api: httpx.Client, clock: FakeClock) -> None:
    task_id = submit(api, seed="7")
    pending_song = retrieve(api, task_id)["response"]["data"][0]
    final_url = f"{BASE}/media/audio/{pending_song['id']}.wav"
    assert api.get(final_url).status_code == 404  # not before the task finished
    clock.advance(2)
    preview_url = retrieve(api, task_id)["response"]["data"][0]["audio_url"]
    preview = api.get(preview_url)
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    clock.advance(10)
    song = retrieve(api, task_id)["response"]["data"][0]

    plain = httpx.Client(transport=api._transport)  # no Authorization: CDN links are public
    audio = plain.get(song["audio_url"])
    assert audio.status_code == 200
    assert int(audio.headers["content-length"]) == len(audio.content)
    with wave.open(io.BytesIO(audio.content)) as parsed:
        assert parsed.getnchannels() == 1 and parsed.getsampwidth() == 2
        assert parsed.getframerate() <= 22050
        seconds = parsed.getnframes() / parsed.getframerate()
        # The song reports minutes; the file served stays a few seconds long.
        assert 3.0 <= seconds <= 6.0 < float(song["duration"])
        assert max(parsed.readframes(2000)) > 0  # not silence
    with wave.open(io.BytesIO(preview.content)) as parsed_preview:
        assert parsed_preview.getnframes() / parsed_preview.getframerate() < seconds

    image = plain.get(song["image_url"])
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in image.content[:16]
    assert image.headers["content-type"] == "image/png"

    stems = finished_song(api, clock, action="stems", audio_id=song["id"], prompt="")
    archive = zipfile.ZipFile(io.BytesIO(plain.get(stems["stems_url"]).content))
    assert sorted(archive.namelist()) == ["instrumental.wav", "vocals.wav"]
    for name in archive.namelist():
        with wave.open(io.BytesIO(archive.read(name))) as stem:
            assert stem.getnframes() / stem.getframerate() == pytest.approx(seconds, abs=0.01)

    assert plain.get(f"{BASE}/media/audio/nope.wav").status_code == 404
    assert plain.get(f"{BASE}/media/elsewhere/x.bin").status_code == 404
    assert plain.get(f"{BASE}/media/video/{song['id']}.mp4").status_code == 404  # not asked yet


def test_media_is_deterministic(api: httpx.Client, clock: FakeClock) -> None:
    first = finished_song(api, clock, prompt="same", seed="1")
    second = finished_song(api, clock, prompt="same", seed="1")
    other = finished_song(api, clock, prompt="same", seed="2")
    assert first["id"] != second["id"] and first["seed"] == "1"
    first_audio = api.get(first["audio_url"]).content
    assert first_audio == api.get(second["audio_url"]).content
    assert first_audio != api.get(other["audio_url"]).content


# ----------------------------------------------------------------------------- loopback server


def test_loopback_server(clock: FakeClock) -> None:
    emu = ProducerEmulator(clock=clock, slow_seconds=1.0)
    with emu.serve() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=5) as api:
            body = api.post("/producer/audios", json={"action": "generate", "prompt": "x"}).json()
            song = body["data"][0]
            assert song["audio_url"].startswith(server.base_url + "/media/audio/")
            media = httpx.get(song["audio_url"])
            assert media.status_code == 200
            assert int(media.headers["content-length"]) == len(media.content)
            assert retrieve(api, body["task_id"])["finished_at"] is not None
            assert api.post("/nowhere", json={}).status_code == 404

            response = api.post("/producer/tasks", json={"id": "x"})
            assert response.headers["x-trace-id"]
            emu.fail_next("rate_limit")
            limited = api.post("/producer/tasks", json={"id": "x"})
            assert limited.status_code == 429 and limited.headers["retry-after"] == "1"

            with pytest.raises(httpx.RemoteProtocolError):
                api.post(
                    "/producer/tasks", json={"id": "x"}, headers={"X-Emulator-Fail": "connection"}
                )
            emu.fail_next("connection")
            with pytest.raises(httpx.RemoteProtocolError):
                api.post("/producer/tasks", json={"id": "x"})
            with pytest.raises(httpx.ReadTimeout):
                api.post(
                    "/producer/tasks",
                    json={"id": "x"},
                    headers={"X-Emulator-Fail": "slow"},
                    timeout=0.2,
                )
            assert api.post("/producer/tasks", json={"id": "x"}).json() == {}
    assert emu.media_base == "http://producer.emulator"


def test_cli_starts_a_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_producer.emulator", "--port", "0", "--api-key", "k"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the emulator did not print its address within 15 s"
        line = process.stdout.readline()
        base_url = line.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        response = httpx.post(
            f"{base_url}/producer/tasks",
            json={"action": "retrieve", "id": "x"},
            headers={"Authorization": "Bearer k"},
            timeout=5,
        )
        assert response.status_code == 200 and response.json() == {}
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_server_reads_chunked_bodies(clock: FakeClock) -> None:
    emu = ProducerEmulator(clock=clock)
    payload = json.dumps({"action": "retrieve", "id": "x"}).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:5]
        yield payload[5:]

    with emu.serve() as server:
        response = httpx.post(
            f"{server.base_url}/producer/tasks", content=chunks(), headers=AUTH, timeout=5
        )
        assert response.status_code == 200 and response.json() == {}
        assert httpx.post(f"{server.base_url}/media/image/x.png").status_code == 405


async def test_slow_does_not_block_the_event_loop(clock: FakeClock) -> None:
    import asyncio

    emu = ProducerEmulator(clock=clock, slow_seconds=0.3)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    async with httpx.AsyncClient(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        background = asyncio.create_task(ticker())
        response = await api.post(
            "/producer/tasks", json={"id": "x"}, headers={"X-Emulator-Fail": "slow"}
        )
        background.cancel()
    assert response.json() == {} and ticks >= 5
    emu.fail_next("connection")
    async with httpx.AsyncClient(transport=emu.transport, base_url=BASE, headers=AUTH) as api:
        with pytest.raises(httpx.ConnectError):
            await api.post("/producer/tasks", json={"id": "x"})

"""The toolkit against the emulator over a real loopback socket (not the in-process transport)."""

from __future__ import annotations

import json
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from langchain_producer import (
    Generate,
    ProducerTask,
    ProducerToolkit,
    ProducerValidationError,
    WavResult,
)
from langchain_producer.download import DownloadError
from langchain_producer.emulator import EmulatorServer, ProducerEmulator

KEY = "loopback-key"


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(api_key=KEY, pending_seconds=0.1, processing_seconds=0.4)


@pytest.fixture
def server(emu: ProducerEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.fixture
def toolkit(server: EmulatorServer) -> ProducerToolkit:
    assert server.base_url.startswith("http://127.0.0.1:")
    return ProducerToolkit(
        api_key=KEY,
        base_url=server.base_url,
        poll_interval=0.1,
        max_poll_interval=0.2,
        get_task_wait=5,
        max_retries=1,
    )


def _call(toolkit: ProducerToolkit, name: str, **args: Any) -> ToolMessage:
    [tool] = toolkit.get_tools([name])
    message = tool.invoke({"name": name, "args": args, "id": "call-1", "type": "tool_call"})
    assert isinstance(message, ToolMessage)
    return message


def _content(message: ToolMessage) -> dict[str, Any]:
    value = json.loads(str(message.content))
    assert isinstance(value, dict)
    return value


def test_generate_in_wait_mode_get_task_and_download_over_loopback(
    toolkit: ProducerToolkit, emu: ProducerEmulator, tmp_path: Path
) -> None:
    made = _call(
        toolkit,
        "producer_generate_custom_music",
        lyric="[Verse]\nover the wire",
        title="Loopback",
        prompt="lo-fi",
    )
    answer = _content(made)
    assert answer["state"] == "complete"
    song = answer["songs"][0]
    assert song["audio_url"].startswith(toolkit.producer_client.base_url + "/media/audio/")

    looked = _content(_call(toolkit, "producer_get_task", task_id=answer["task_id"]))
    assert looked["state"] == "complete" and looked["songs"][0]["id"] == song["id"]

    wav_message = _call(toolkit, "producer_generate_wav", audio_id=song["id"])
    assert isinstance(wav_message.artifact, WavResult)
    task = made.artifact
    assert isinstance(task, ProducerTask)

    client = toolkit.producer_client
    paths = client.download(task, tmp_path, kinds={"audio"})
    paths += client.download(wav_message.artifact, tmp_path)
    assert [p.name for p in paths] == [
        f"Loopback-{song['id'][:8]}.wav",
        f"Loopback-{song['id'][:8]}-lossless.wav",
    ]
    for path in paths:
        with wave.open(str(path)) as audio:
            assert audio.getnframes() > audio.getframerate()  # more than a second of sound
    media = [r for r in emu.requests if r.url.path.startswith("/media/")]
    assert len(media) == 2 and all("authorization" not in r.headers for r in media)


async def test_async_tools_and_download_over_loopback(
    toolkit: ProducerToolkit, tmp_path: Path
) -> None:
    [tool] = toolkit.get_tools(["producer_generate_music"])
    call = {"name": tool.name, "args": {"prompt": "sea shanty"}, "id": "c", "type": "tool_call"}
    message = await tool.ainvoke(call)
    assert isinstance(message.artifact, ProducerTask) and message.artifact.is_complete
    paths = await toolkit.producer_client.adownload(message.artifact, tmp_path, kinds=["audio"])
    assert len(paths) == 1 and paths[0].stat().st_size > 1000
    await toolkit.producer_client.aclose()


def test_a_task_that_fails_after_acceptance_reads_as_failed(
    toolkit: ProducerToolkit, emu: ProducerEmulator, tmp_path: Path
) -> None:
    emu.fail_next("task_failed")
    message = _call(toolkit, "producer_generate_music", prompt="doomed")
    answer = _content(message)
    assert answer["state"] == "failed"
    assert answer["error"] == "task_failed"
    assert "should_poll" not in answer
    with pytest.raises(ProducerValidationError, match="failed"):
        toolkit.producer_client.download(message.artifact, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_used_up_balance_becomes_a_message_not_a_crash(
    toolkit: ProducerToolkit, emu: ProducerEmulator
) -> None:
    emu.fail_next("used_up")
    message = _call(toolkit, "producer_generate_lyrics", prompt="anything")
    assert message.status == "error"
    answer = _content(message)
    assert answer["status_code"] == 403 and answer["error"] == "used_up"
    assert KEY not in str(message.content)


def test_a_wrong_key_is_refused_over_the_socket(server: EmulatorServer) -> None:
    toolkit = ProducerToolkit(api_key="wrong", base_url=server.base_url, max_retries=0)
    message = _call(toolkit, "producer_generate_lyrics", prompt="anything")
    assert message.status == "error"
    assert _content(message)["status_code"] == 401


def test_a_dropped_connection_on_a_media_download_leaves_nothing(
    toolkit: ProducerToolkit, tmp_path: Path
) -> None:
    task = _call(toolkit, "producer_generate_music", prompt="fragile").artifact
    client = toolkit.producer_client
    # The fail header makes the server close the socket without an answer.
    client.http.headers["X-Emulator-Fail"] = "connection"
    try:
        with pytest.raises(DownloadError):
            client.download(task, tmp_path, kinds={"audio"})
    finally:
        del client.http.headers["X-Emulator-Fail"]
    assert list(tmp_path.iterdir()) == []


def test_the_client_backs_off_by_itself_on_a_429_without_retry_after(
    emu: ProducerEmulator, toolkit: ProducerToolkit
) -> None:
    # No Retry-After is documented: the emulator sends some 429s without one, and the client's
    # own back-off must carry the look-up through (it is free, so it is retried).
    client = toolkit.client  # max_retries=1
    task = client.submit(Generate(prompt="rain"))
    emu.fail_next("rate_limit_no_retry_after")
    before = len(emu.requests)
    started = time.monotonic()
    seen = client.get_task(task.task_id)
    assert seen.task_id == task.task_id
    assert len(emu.requests[before:]) == 2  # the 429, then the answer
    # With no Retry-After to honour, the pause is the client's own (0.5 s +- jitter, first try).
    assert time.monotonic() - started >= 0.2

"""The toolkit's configuration and the client's waiting, on the in-process emulator."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx
import pytest
from tool_names import FREE_NAMES as FREE
from tool_names import REFERENCE_NAMES

from langchain_producer import (
    Generate,
    ProducerClient,
    ProducerToolkit,
    ProducerValidationError,
    TaskNotFoundError,
)
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.tools import ALL_TOOLS

FAST = {"poll_interval": 0.02, "max_poll_interval": 0.05}


def _task_lookups(emu: ProducerEmulator) -> int:
    return sum(1 for request in emu.requests if request.url.path == "/producer/tasks")


def test_toolkit_offers_the_reference_servers_18_tools_on_one_client() -> None:
    toolkit = ProducerToolkit(api_key="k", transport=ProducerEmulator().transport)
    tools = toolkit.get_tools()
    assert {tool.name for tool in tools} == REFERENCE_NAMES
    assert len(tools) == len(ALL_TOOLS) == 18
    assert {id(tool.client) for tool in tools} == {id(toolkit.producer_client)}  # type: ignore[attr-defined]
    for tool in tools:
        assert tool.handle_tool_error is True
        billable = tool.name not in FREE
        assert tool.metadata["billable"] is billable
        assert tool.tags == ["producer", "billable" if billable else "free"]
        assert tool.metadata.get("producer_action") == (tool.paid_action() if billable else None)


def test_get_tools_filters_by_name_and_by_billing() -> None:
    toolkit = ProducerToolkit(api_key="k", transport=ProducerEmulator().transport)
    assert {tool.name for tool in toolkit.get_tools(billable=False)} == FREE
    assert {tool.name for tool in toolkit.get_tools(billable=True)} == REFERENCE_NAMES - FREE
    chosen = toolkit.get_tools(["producer_get_task", "producer_generate_music"])
    assert [tool.name for tool in chosen] == ["producer_generate_music", "producer_get_task"]
    with pytest.raises(ProducerValidationError, match="producer_make_song"):
        toolkit.get_tools(["producer_make_song"])


def test_toolkit_rejects_misspelt_settings() -> None:
    with pytest.raises(ValueError, match="max_wiat"):
        ProducerToolkit(api_key="k", max_wiat=5)  # type: ignore[call-arg]


def test_toolkit_refuses_a_client_together_with_connection_settings() -> None:
    client = ProducerClient(api_key="k", transport=ProducerEmulator().transport)
    with pytest.raises(ValueError, match="base_url"):
        ProducerToolkit(client=client, base_url="https://elsewhere.test")
    assert ProducerToolkit(client=client).producer_client is client


def test_missing_key_and_bad_settings_fail_early_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    with pytest.raises(ProducerValidationError, match="ACEDATACLOUD_API_TOKEN"):
        ProducerClient()
    with pytest.raises(ProducerValidationError, match=r"FUZZ-2\.0 Pro"):
        ProducerClient(api_key="k", default_model="FUZZ-9")
    with pytest.raises(ProducerValidationError, match="callback_url"):
        ProducerClient(api_key="k", callback_url="ftp://hooks.test/x")


def test_environment_supplies_key_base_url_and_default_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", "from-env")
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "https://producer.test/")
    monkeypatch.setenv("PRODUCER_DEFAULT_MODEL", "FUZZ-2.0 Pro")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"task_id": "t-1"})

    client = ProducerClient(transport=httpx.MockTransport(answer))
    client.submit(Generate(prompt="waltz"))
    assert str(seen[0].url) == "https://producer.test/producer/audios"
    assert seen[0].headers["authorization"] == "Bearer from-env"
    assert json.loads(seen[0].content)["model"] == "FUZZ-2.0 Pro"


def test_wait_mode_timeout_returns_the_running_task_with_guidance() -> None:
    emu = ProducerEmulator(pending_seconds=0.1, processing_seconds=30)
    toolkit = ProducerToolkit(api_key="k", transport=emu.transport, max_wait=0.3, **FAST)
    tool = toolkit.get_tools(["producer_generate_music"])[0]
    content = json.loads(tool.invoke({"prompt": "slow ballad"}))
    assert content["state"] in {"pending", "processing"}
    assert content["should_poll"] is True
    assert content["task_id"] in emu.tasks
    assert "producer_get_task" in content["next_step"]
    assert "audio_url" not in json.dumps(content)


def test_get_task_tool_waits_a_bounded_time_for_a_running_task() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.2)
    client = ProducerClient(api_key="k", transport=emu.transport, **FAST)
    task = client.submit(Generate(prompt="quick jingle"))
    toolkit = ProducerToolkit(client=client, get_task_wait=5)
    get_task = toolkit.get_tools(["producer_get_task"])[0]
    content = json.loads(get_task.invoke({"task_id": task.task_id}))
    assert content["state"] == "complete"
    assert content["songs"][0]["audio_url"].endswith(".wav")


async def test_concurrent_waits_share_their_lookups() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.4)
    client = ProducerClient(api_key="k", transport=emu.transport, poll_interval=0.1)
    single = await client.asubmit(Generate(prompt="one"))
    before = _task_lookups(emu)
    await client.await_task(single.task_id, max_wait=10)
    one_wait = _task_lookups(emu) - before

    tasks = [await client.asubmit(Generate(prompt=f"song {i}")) for i in range(30)]
    before = _task_lookups(emu)
    done = await asyncio.gather(*(client.await_task(t.task_id, max_wait=10) for t in tasks))
    thirty_waits = _task_lookups(emu) - before
    assert all(task.is_complete for task in done)
    assert {task.task_id for task in done} == {task.task_id for task in tasks}
    assert thirty_waits <= one_wait + 2, (one_wait, thirty_waits)


async def test_a_shared_lookup_tells_each_waiter_about_its_own_task() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)
    client = ProducerClient(api_key="k", transport=emu.transport, poll_interval=0.05)
    real = await client.asubmit(Generate(prompt="real"))
    results = await asyncio.gather(
        client.await_task(real.task_id, max_wait=5),
        client.await_task("no-such-task", max_wait=5),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException) and results[0].is_complete
    assert isinstance(results[1], TaskNotFoundError)
    assert results[1].task_id == "no-such-task"


def test_one_client_serves_several_event_loops_and_threads() -> None:
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=0)
    client = ProducerClient(api_key="k", transport=emu.transport, **FAST)
    task = client.submit(Generate(prompt="shared"), wait=True)
    for _ in range(2):  # a new loop each time, as notebooks and some runners do
        assert asyncio.run(client.aget_task(task.task_id)).is_complete
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(client.aget_task(task.task_id))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=in_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_failed_task_is_returned_with_its_error_and_partial_song() -> None:
    emu = ProducerEmulator(pending_seconds=0.05, processing_seconds=0.1)
    client = ProducerClient(api_key="k", transport=emu.transport, **FAST)
    emu.fail_next("task_failed")
    task = client.submit(Generate(prompt="doomed"), wait=True, max_wait=5)
    assert task.state == "failed"
    assert task.error is not None and task.error.code == "task_failed"
    assert task.songs and task.songs[0].audio_url is None  # a preview is never final
    toolkit = ProducerToolkit(client=client, get_task_wait=0)
    content = json.loads(toolkit.get_tools(["producer_get_task"])[0].invoke(task.task_id))
    assert content["state"] == "failed"
    assert content["error"] == "task_failed"
    assert "should_poll" not in content


def test_accepted_task_id_is_logged_and_reported_before_any_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=0)
    client = ProducerClient(api_key="sk-log-secret-123", transport=emu.transport, **FAST)
    seen: list[str] = []
    with caplog.at_level(logging.INFO, logger="langchain_producer"):
        task = client.submit(
            Generate(prompt="logged"), wait=True, on_progress=lambda t: seen.append(t.state)
        )
    assert seen[0] == "pending"  # reported straight after acceptance, before the first look
    assert seen[-1] == "complete"
    assert task.task_id in caplog.text
    assert "sk-log-secret-123" not in caplog.text
    # A task accepted a moment ago is pending: the first look waits one interval, so a task
    # that is done by then costs exactly one look-up.
    assert _task_lookups(emu) == 1


@pytest.mark.parametrize(("get_task_wait", "pacing"), [(30, "call again at once"), (0, "15 s.")])
def test_task_tool_descriptions_say_how_soon_to_poll_again(
    get_task_wait: float, pacing: str
) -> None:
    toolkit = ProducerToolkit(
        api_key="k", transport=ProducerEmulator().transport, get_task_wait=get_task_wait
    )
    for tool in toolkit.get_tools(["producer_get_task", "producer_get_tasks_batch"]):
        assert pacing in tool.description


def test_a_song_tool_whose_wait_breaks_still_hands_back_the_paid_task_id() -> None:
    emu = ProducerEmulator(pending_seconds=5, processing_seconds=5)
    toolkit = ProducerToolkit(api_key="k", transport=emu.transport, max_retries=1, **FAST)
    tool = toolkit.get_tools(["producer_generate_music"])[0]
    original = emu.handle

    def look_ups_fail(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/producer/tasks":
            return httpx.Response(500, json={"error": {"code": "api_error", "message": "down"}})
        return original(request)

    emu.handle = look_ups_fail  # type: ignore[method-assign]
    message = tool.invoke(
        {"type": "tool_call", "id": "c1", "name": tool.name, "args": {"prompt": "x"}}
    )
    assert message.status == "error"
    content = json.loads(message.content)
    (paid,) = emu.tasks  # exactly one submission, never repeated
    assert content["task_id"] == paid
    assert content["error"] == "api_error"

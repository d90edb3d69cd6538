"""The balance: ``ProducerClient.balance()`` through the platform API, and ``min_balance`` on the
toolkit refusing a paid call before anything is sent (issue 15, item 2)."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.store.memory import InMemoryStore

from langchain_producer import (
    BalanceTooLowError,
    BalanceUnknownError,
    Generate,
    InsufficientBalanceError,
    ProducerClient,
    ProducerError,
    ProducerToolkit,
    ProducerValidationError,
)
from langchain_producer.emulator import FakeClock, ProducerEmulator
from langchain_producer.safety.balance import BalanceGuard

KEY = "api-key-for-tests"
PLATFORM = "pt-platform-token-never-shown-31"
APP = "app-42"
APPLICATIONS = "/api/v1/applications/"


def emulator(**kwargs: Any) -> ProducerEmulator:
    settings: dict[str, Any] = {"pending_seconds": 0.02, "processing_seconds": 0.03}
    return ProducerEmulator(application_id=APP, platform_token=PLATFORM, **{**settings, **kwargs})


def settings(emu: ProducerEmulator, **kwargs: Any) -> dict[str, Any]:
    return {
        "api_key": KEY,
        "transport": emu.transport,
        "platform_token": PLATFORM,
        "application_id": APP,
        "poll_interval": 0.01,
        "max_poll_interval": 0.02,
        **kwargs,
    }


def balance_requests(emu: ProducerEmulator) -> list[httpx.Request]:
    return [r for r in emu.requests if r.url.path.startswith(APPLICATIONS)]


def submissions(emu: ProducerEmulator) -> list[httpx.Request]:
    return [
        r for r in emu.requests if r.url.path.startswith("/producer/") and "tasks" not in r.url.path
    ]


def call(tool: BaseTool, args: dict[str, Any], call_id: str = "c1", **config: Any) -> ToolMessage:
    message = tool.invoke(
        {"type": "tool_call", "name": tool.name, "args": args, "id": call_id}, config or None
    )
    assert isinstance(message, ToolMessage)
    return message


def tool_named(toolkit: ProducerToolkit, name: str) -> BaseTool:
    (tool,) = toolkit.get_tools([name])
    return tool


# ---------------------------------------------------------------------------------------------
# balance() / abalance()


async def test_balance_and_abalance_read_the_application_and_drop_as_songs_succeed() -> None:
    clock = FakeClock()
    emu = emulator(clock=clock, balance=100, task_cost=2.5)
    client = ProducerClient(**settings(emu))
    before, abefore = client.balance(), await client.abalance()
    assert (before.remaining, before.used, before.application_id) == (100.0, 0.0, APP)
    assert abefore == before
    client.submit(Generate(prompt="lo-fi"))
    assert client.balance().remaining == 100.0  # billed when it succeeds, not when accepted
    clock.advance(60)
    after, aafter = client.balance(), await client.abalance()
    assert (after.remaining, after.used) == (97.5, 2.5)
    assert aafter == after
    sent = balance_requests(emu)
    assert len(sent) == 5
    assert {r.url.host for r in sent} == {"platform.acedata.cloud"}
    assert {r.url.path for r in sent} == {f"{APPLICATIONS}{APP}/"}
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {PLATFORM}"}
    # The platform token goes to the platform only; the API key to the API only.
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in submissions(emu))


@pytest.mark.parametrize("missing", ["platform_token", "application_id"])
async def test_no_token_or_no_application_id_is_refused_before_any_request(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACEDATACLOUD_PLATFORM_TOKEN", raising=False)
    monkeypatch.delenv("ACEDATACLOUD_APPLICATION_ID", raising=False)
    emu = emulator()
    client = ProducerClient(**{**settings(emu), missing: None})
    with pytest.raises(ProducerValidationError, match=missing):
        client.balance()
    with pytest.raises(ProducerValidationError, match=missing):
        await client.abalance()
    assert emu.requests == []
    with pytest.raises(ProducerValidationError, match="min_balance needs"):
        ProducerToolkit(**{**settings(emu), missing: None}, min_balance=1)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    monkeypatch.setenv("ACEDATACLOUD_PLATFORM_TOKEN", PLATFORM)
    monkeypatch.setenv("ACEDATACLOUD_APPLICATION_ID", APP)
    monkeypatch.setenv("ACEDATACLOUD_PLATFORM_BASE_URL", "http://platform.test/")
    client = ProducerClient(api_key=KEY, transport=emu.transport)
    assert client.balance().remaining == emu.balance
    assert str(balance_requests(emu)[0].url) == f"http://platform.test{APPLICATIONS}{APP}/"


def test_the_emulated_endpoint_answers_as_documented() -> None:
    emu = emulator(balance=7)
    api = httpx.Client(transport=emu.transport, base_url="https://any.host")
    auth = {"authorization": f"Bearer {PLATFORM}"}
    for path in (f"{APPLICATIONS}{APP}", f"{APPLICATIONS}{APP}/"):
        answer = api.get(path, headers=auth)
        assert answer.status_code == 200
        body = answer.json()
        assert {"id", "service_id", "remaining_amount", "used_amount", "scope"} <= set(body)
        assert (body["id"], body["remaining_amount"], body["used_amount"]) == (APP, 7.0, 0.0)
    assert api.get(f"{APPLICATIONS}other/", headers=auth).status_code == 404
    assert api.get(f"{APPLICATIONS}{APP}/").status_code == 401
    assert (
        api.get(f"{APPLICATIONS}{APP}/", headers={"authorization": "Bearer nope"}).status_code
        == 401
    )
    assert emu.requests and not submissions(emu)


def test_an_empty_balance_answers_used_up_on_submissions() -> None:
    emu = emulator(balance=1, task_cost=1, clock=FakeClock())
    client = ProducerClient(**settings(emu, max_retries=0))
    client.generate_lyrics("rain")  # succeeds at once: the last Credit
    assert emu.balance == 0
    with pytest.raises(InsufficientBalanceError):
        client.submit(Generate(prompt="x"))
    client.get_tasks(["x"])  # look-ups still work
    emu.balance = 10  # topped up
    client.submit(Generate(prompt="x"))


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"remaining_amount": NaN, "used_amount": 1}', {}),
        (b'{"remaining_amount": Infinity}', {}),
        (b'{"remaining_amount": 1e400}', {}),
        (b'{"remaining_amount": ' + b"9" * 5000 + b"}", {}),
        (b'{"remaining_amount": "lots"}', {}),
        (b'{"remaining_amount": true}', {}),
        (b'{"used_amount": 3}', {}),
        (b"[1, 2]", {}),
        (b"<html>502</html>", {"content-type": "text/html"}),
        (b"[" * 100_000 + b"]" * 100_000, {}),
        (b"", {}),
        (b"x" * (17 * 1024 * 1024), {}),
        (b'{"remaining_amount": 5}', {}),  # and a good one is read
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, bytes) else str(value),
)
async def test_an_untrusted_answer_is_a_clear_error_never_a_crash(
    body: bytes, headers: dict[str, str]
) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers=headers)
    )
    client = ProducerClient(
        api_key=KEY, transport=transport, platform_token=PLATFORM, application_id=APP, max_retries=0
    )
    if body.startswith(b'{"remaining_amount": 5}'):
        assert client.balance().remaining == 5.0
        return
    with pytest.raises(ProducerError, match="platform API") as caught:
        client.balance()
    assert PLATFORM not in str(caught.value)
    with pytest.raises(ProducerError, match="platform API"):
        await client.abalance()


def test_a_failing_platform_is_asked_once_more_and_no_more() -> None:
    emu = emulator()
    emu.platform_failure = "server_error"
    client = ProducerClient(**settings(emu, max_retries=3))
    with pytest.raises(ProducerError, match="HTTP 500"):
        client.balance()
    assert len(balance_requests(emu)) == 2
    assert not submissions(emu)


# ---------------------------------------------------------------------------------------------
# min_balance on the toolkit


def test_below_min_balance_a_paid_tool_sends_nothing_and_counts_nothing() -> None:
    emu = emulator(balance=3)
    toolkit = ProducerToolkit(**settings(emu), min_balance=5, max_paid_calls=1)
    message = call(tool_named(toolkit, "producer_generate_music"), {"prompt": "lo-fi"})
    assert message.status == "error"
    content = json.loads(message.content)
    assert content["error"] == "balance_too_low"
    assert (content["remaining"], content["min_balance"]) == (3.0, 5.0)
    assert "top it up" in content["next_step"]
    assert submissions(emu) == []
    assert toolkit.spending().paid_calls == 0 and toolkit.spending().remaining == 1
    assert isinstance(message.artifact, BalanceTooLowError) or message.artifact is None


async def test_below_min_balance_async_sends_nothing() -> None:
    emu = emulator(balance=3)
    toolkit = ProducerToolkit(**settings(emu), min_balance=5)
    tool = tool_named(toolkit, "producer_generate_lyrics")
    message = await tool.ainvoke(
        {"type": "tool_call", "name": tool.name, "args": {"prompt": "rain"}, "id": "c1"}
    )
    assert json.loads(message.content)["error"] == "balance_too_low"
    assert submissions(emu) == [] and len(balance_requests(emu)) == 1


def test_at_the_threshold_the_call_goes_ahead_and_free_tools_never_check() -> None:
    emu = emulator(balance=5)
    toolkit = ProducerToolkit(**settings(emu), min_balance=5, wait=False)
    assert call(tool_named(toolkit, "producer_get_task"), {"task_id": "nope"}).status == "error"
    assert balance_requests(emu) == []
    message = call(tool_named(toolkit, "producer_generate_music"), {"prompt": "x"})
    assert message.status != "error", message.content
    assert len(submissions(emu)) == 1 and len(balance_requests(emu)) == 1


def test_fifty_paid_calls_in_a_row_make_one_balance_request() -> None:
    emu = emulator()
    toolkit = ProducerToolkit(**settings(emu), min_balance=10)
    tools = {tool.name: tool for tool in toolkit.get_tools(billable=True)}
    for number in range(50):
        name = "producer_generate_lyrics" if number % 2 else "producer_upload_audio"
        args = {"prompt": f"song {number}"} if number % 2 else {"audio_url": "https://a.b/c.mp3"}
        assert call(tools[name], args, call_id=f"c{number}").status != "error"
    assert len(submissions(emu)) == 50
    assert len(balance_requests(emu)) <= 3  # one, with the default 30 s interval


def test_concurrent_paid_calls_share_one_balance_request() -> None:
    emu = emulator(slow_seconds=0.2)
    emu.platform_failure = "slow"  # every call arrives while the first balance read is out
    toolkit = ProducerToolkit(**settings(emu), min_balance=10)
    tool = tool_named(toolkit, "producer_generate_lyrics")
    with ThreadPoolExecutor(16) as pool:
        messages = list(
            pool.map(lambda n: call(tool, {"prompt": f"s{n}"}, call_id=f"c{n}"), range(32))
        )
    assert all(message.status != "error" for message in messages)
    assert len(balance_requests(emu)) == 1


async def test_concurrent_async_paid_calls_share_one_balance_request() -> None:
    emu = emulator(slow_seconds=0.2)
    emu.platform_failure = "slow"
    toolkit = ProducerToolkit(**settings(emu), min_balance=10)
    tool = tool_named(toolkit, "producer_generate_lyrics")
    messages = await asyncio.gather(
        *(
            tool.ainvoke(
                {"type": "tool_call", "name": tool.name, "args": {"prompt": f"{n}"}, "id": f"c{n}"}
            )
            for n in range(20)
        )
    )
    assert all(message.status != "error" for message in messages)
    assert len(balance_requests(emu)) == 1


def test_a_call_the_journal_resumes_is_never_refused_for_balance() -> None:
    emu = emulator(balance=100)
    toolkit = ProducerToolkit(
        **settings(emu), min_balance=50, balance_check_interval=0, store=InMemoryStore()
    )
    tool = tool_named(toolkit, "producer_generate_lyrics")
    thread = {"configurable": {"thread_id": "t"}}
    first = call(tool, {"prompt": "rain"}, **thread)
    assert first.status != "error"
    emu.balance = 1  # now far below min_balance
    again = call(tool, {"prompt": "rain"}, **thread)  # the same tool call, resumed: no request
    assert again.status != "error", again.content
    assert json.loads(again.content).get("resumed") is True
    assert len(submissions(emu)) == 1 and len(balance_requests(emu)) == 1
    refused = call(tool, {"prompt": "rain"}, call_id="c2", **thread)  # a new call: refused
    assert json.loads(refused.content)["error"] == "balance_too_low"


def test_platform_down_refuses_by_default_with_a_clear_message() -> None:
    emu = emulator()
    emu.platform_failure = "connection"
    toolkit = ProducerToolkit(**settings(emu), min_balance=1, max_paid_calls=3)
    message = call(tool_named(toolkit, "producer_generate_music"), {"prompt": "x"})
    content = json.loads(message.content)
    assert message.status == "error" and content["error"] == "balance_unknown"
    assert "Refused because the balance could not be read" in content["message"]
    assert "Could not reach the platform API" in content["message"]
    assert submissions(emu) == [] and toolkit.spending().paid_calls == 0


@pytest.mark.parametrize("mode", ["server_error", "malformed", "invalid_token"])
def test_platform_down_with_proceed_sends_and_says_so_in_the_log(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="langchain_producer")
    emu = emulator()
    emu.platform_failure = mode
    toolkit = ProducerToolkit(
        **settings(emu, max_retries=0), min_balance=1, when_balance_unknown="proceed"
    )
    message = call(tool_named(toolkit, "producer_generate_lyrics"), {"prompt": "x"})
    assert message.status != "error", message.content
    assert len(submissions(emu)) == 1
    assert "Paid call sent without a balance check" in caplog.text
    assert "when_balance_unknown='proceed'" in caplog.text


def test_the_platform_token_is_shown_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emu = emulator(balance=3)
    toolkit = ProducerToolkit(**settings(emu), min_balance=5, balance_check_interval=0)
    tool = tool_named(toolkit, "producer_generate_music")
    low = call(tool, {"prompt": "x"})
    emu.platform_failure = "invalid_token"
    unknown = call(tool, {"prompt": "x"}, call_id="c2")
    assert json.loads(unknown.content)["error"] == "balance_unknown"
    client = toolkit.producer_client
    with pytest.raises(ProducerError) as caught:
        client.balance()
    things: list[Any] = [
        toolkit,
        client,
        client.settings,
        toolkit.model_dump(),
        toolkit.model_dump_json(),
        tool,
        low,
        low.content,
        unknown,
        unknown.content,
        caught.value,
        caught.value.to_dict(),
        caplog.text,
    ]
    for thing in things:
        assert PLATFORM not in str(thing) and PLATFORM not in repr(thing)
    assert "platform_token" in str(toolkit.model_dump()["settings"])  # there, masked


def test_the_guard_reads_again_after_its_interval() -> None:
    now = [0.0]
    remaining = [20.0]
    guard = BalanceGuard(
        min_balance=10,
        read=lambda: remaining[0],
        aread=lambda: asyncio.sleep(0, remaining[0]),
        interval=30,
        clock=lambda: now[0],
    )
    for _ in range(10):
        guard.check()
    remaining[0] = 5.0
    guard.check()  # still the cached 20
    now[0] = 31.0
    with pytest.raises(BalanceTooLowError):
        guard.check()
    assert guard.reads == 2
    now[0] = 62.0
    with pytest.raises(BalanceTooLowError):
        asyncio.run(guard.acheck())
    assert guard.reads == 3


def test_a_balance_reader_that_fails_oddly_counts_as_unknown() -> None:
    def broken() -> float:
        raise RuntimeError("boom")

    guard = BalanceGuard(min_balance=1, read=broken, aread=lambda: asyncio.sleep(0, 1.0))
    with pytest.raises(BalanceUnknownError, match="balance reader failed"):
        guard.check()


def test_the_balance_is_checked_before_the_spending_limit_reserves_a_place() -> None:
    emu = emulator(balance=3)
    toolkit = ProducerToolkit(**settings(emu), min_balance=5, max_paid_calls=0)
    message = call(tool_named(toolkit, "producer_generate_lyrics"), {"prompt": "x"})
    assert json.loads(message.content)["error"] == "balance_too_low"
    emu.balance = 100
    toolkit = ProducerToolkit(**settings(emu), min_balance=5, max_paid_calls=0)
    message = call(tool_named(toolkit, "producer_generate_lyrics"), {"prompt": "x"})
    assert json.loads(message.content)["error"] == "spending_limit_reached"
    assert submissions(emu) == []

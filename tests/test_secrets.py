"""The API key goes to the service as a Bearer header and nowhere else: not in any repr, error,
tool result, serialised toolkit or log line."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from langchain_producer import ProducerClient, ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.errors import (
    AuthenticationError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    SubmissionUncertainError,
)
from langchain_producer.params import Generate

KEY = "sk-SECRET-do-not-leak-42"
FRAGMENT = "do-not-leak"


def assert_clean(*things: Any) -> None:
    for thing in things:
        for text in (str(thing), repr(thing)):
            assert KEY not in text
            assert FRAGMENT not in text


def error_texts(error: BaseException) -> list[str]:
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        str(getattr(error, "to_dict", dict)()),
    ]


@pytest.fixture
def emu() -> ProducerEmulator:
    return ProducerEmulator(api_key=KEY, pending_seconds=0.02, processing_seconds=0.03)


def fast(**kwargs: Any) -> dict[str, Any]:
    return {"poll_interval": 0.01, "max_poll_interval": 0.02, **kwargs}


@pytest.fixture
def toolkit(emu: ProducerEmulator) -> ProducerToolkit:
    return ProducerToolkit(api_key=KEY, transport=emu.transport, max_retries=0, **fast())


def call(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": call_id})
    assert isinstance(message, ToolMessage)
    return message


# ---------------------------------------------------------------------------------------------
# The key is sent, as a Bearer header.


def test_key_is_sent_as_bearer_header(emu: ProducerEmulator, toolkit: ProducerToolkit) -> None:
    toolkit.producer_client.submit(Generate(prompt="lo-fi"))
    assert emu.requests, "nothing was sent"
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in emu.requests)


async def test_key_is_sent_async(emu: ProducerEmulator) -> None:
    client = ProducerClient(api_key=KEY, transport=emu.transport, **fast())
    task = await client.asubmit(Generate(prompt="lo-fi"), wait=True, max_wait=5)
    assert task.state == "complete"
    assert {r.headers["authorization"] for r in emu.requests} == {f"Bearer {KEY}"}


def test_key_from_environment_is_sent_and_hidden(
    monkeypatch: pytest.MonkeyPatch, emu: ProducerEmulator
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", KEY)
    toolkit = ProducerToolkit(transport=emu.transport, **fast())
    toolkit.producer_client.get_tasks(["nope"])
    assert emu.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert_clean(toolkit, toolkit.producer_client, toolkit.model_dump())
    assert KEY not in toolkit.model_dump_json()


# ---------------------------------------------------------------------------------------------
# Nothing shows it.


def test_reprs_of_toolkit_client_and_every_tool(toolkit: ProducerToolkit) -> None:
    tools = toolkit.get_tools()
    assert len(tools) == 18
    assert_clean(toolkit, toolkit.producer_client, *tools)
    client = ProducerClient(api_key=KEY)
    assert_clean(client, vars(client).get("api_key"))


def test_serialised_toolkit_and_tools(toolkit: ProducerToolkit) -> None:
    dumped = toolkit.model_dump()
    assert_clean(dumped)
    assert KEY not in toolkit.model_dump_json()
    assert "api_key" in dumped["settings"], "the field should be there, masked"
    for tool in toolkit.get_tools():
        assert_clean(tool.model_dump())
        assert KEY not in str(tool.tool_call_schema.model_json_schema())


def test_client_built_from_secretstr(emu: ProducerEmulator) -> None:
    from pydantic import SecretStr

    client = ProducerClient(api_key=SecretStr(KEY), transport=emu.transport)
    client.get_tasks(["x"])
    assert emu.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert_clean(client)


@pytest.mark.parametrize(
    ("mode", "raised"),
    [
        ("server_error", ProducerAPIError),
        ("connection", ProducerConnectionError),
        ("used_up", ProducerAPIError),
        ("malformed", ProducerAPIError),
    ],
)
def test_errors_do_not_contain_key(emu: ProducerEmulator, mode: str, raised: type) -> None:
    client = ProducerClient(api_key=KEY, transport=emu.transport, max_retries=0, **fast())
    emu.fail_next(mode)
    with pytest.raises(raised) as caught:
        client.get_task("any-task")
    for text in error_texts(caught.value):
        assert KEY not in text


@pytest.mark.parametrize("mode", ["server_error", "malformed"])
def test_uncertain_submission_errors_do_not_contain_key(emu: ProducerEmulator, mode: str) -> None:
    client = ProducerClient(api_key=KEY, transport=emu.transport, max_retries=0, **fast())
    emu.fail_next(mode)
    with pytest.raises(SubmissionUncertainError) as caught:
        client.submit(Generate(prompt="x"))
    for text in error_texts(caught.value):
        assert KEY not in text


def test_401_error_does_not_contain_key() -> None:
    emu = ProducerEmulator(api_key="a-different-key")
    client = ProducerClient(api_key=KEY, transport=emu.transport)
    with pytest.raises(AuthenticationError) as caught:
        client.get_task("t")
    for text in error_texts(caught.value):
        assert KEY not in text


def test_error_echoing_the_token_is_redacted() -> None:
    """A service that quotes the bad token back must not get it into our messages."""

    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        message = f"Token {token} is not valid"
        return httpx.Response(401, json={"error": {"code": "invalid_token", "message": message}})

    client = ProducerClient(api_key=KEY, transport=httpx.MockTransport(echo))
    with pytest.raises(AuthenticationError) as caught:
        client.get_task("t")
    for text in error_texts(caught.value):
        assert KEY not in text


def test_connection_error_over_real_socket_does_not_contain_key() -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    client = ProducerClient(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(ProducerError) as caught:
        client.get_task("t")
    assert isinstance(caught.value, ProducerConnectionError)
    for text in error_texts(caught.value):
        assert KEY not in text


# ---------------------------------------------------------------------------------------------
# Tool results, good and bad.


def test_tool_results_do_not_contain_key(toolkit: ProducerToolkit) -> None:
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    song = call(tools["producer_generate_music"], {"prompt": "lo-fi"})
    assert '"complete"' in song.content
    audio_id = song.artifact.songs[0].id
    messages = [
        song,
        call(tools["producer_get_task"], {"task_id": song.artifact.task_id}),
        call(tools["producer_get_tasks_batch"], {"task_ids": [song.artifact.task_id, "nope"]}),
        call(tools["producer_generate_lyrics"], {"prompt": "rain"}),
        call(tools["producer_generate_wav"], {"audio_id": audio_id}),
        call(tools["producer_generate_video"], {"audio_id": audio_id}),
        call(tools["producer_list_models"], {}),
    ]
    for message in messages:
        assert message.status != "error", message.content
        assert_clean(message, message.content, message.artifact, message.model_dump_json())


@pytest.mark.parametrize("mode", ["server_error", "used_up", "connection", "task_failed"])
def test_error_tool_results_do_not_contain_key(
    emu: ProducerEmulator, toolkit: ProducerToolkit, mode: str
) -> None:
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    emu.fail_next(mode)
    message = call(tool, {"prompt": "lo-fi"})
    if mode == "task_failed":
        assert '"failed"' in message.content
    else:
        assert message.status == "error"
    assert_clean(message, message.content, message.artifact, message.model_dump_json())


def test_unauthorised_tool_result_does_not_contain_key() -> None:
    emu = ProducerEmulator(api_key="a-different-key")
    toolkit = ProducerToolkit(api_key=KEY, transport=emu.transport)
    (tool,) = toolkit.get_tools(["producer_get_task"])
    message = call(tool, {"task_id": "t"})
    assert message.status == "error"
    assert json.loads(message.content)["error"] == "invalid_token"
    assert_clean(message, message.content, message.artifact)


async def test_async_tool_results_do_not_contain_key(
    emu: ProducerEmulator, toolkit: ProducerToolkit
) -> None:
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    good = await tool.ainvoke(
        {"type": "tool_call", "name": tool.name, "args": {"prompt": "x"}, "id": "c1"}
    )
    emu.fail_next("server_error")
    bad = await tool.ainvoke(
        {"type": "tool_call", "name": tool.name, "args": {"prompt": "x"}, "id": "c2"}
    )
    assert good.status != "error" and bad.status == "error"
    assert_clean(good, good.artifact, bad, bad.artifact)


def test_logs_do_not_contain_key(
    caplog: pytest.LogCaptureFixture, emu: ProducerEmulator, toolkit: ProducerToolkit
) -> None:
    caplog.set_level(logging.DEBUG)
    (tool,) = toolkit.get_tools(["producer_generate_music"])
    call(tool, {"prompt": "lo-fi"})
    emu.fail_next("server_error")
    call(tool, {"prompt": "lo-fi"})
    assert caplog.records, "expected some log output to inspect"
    assert KEY not in caplog.text


# ---------------------------------------------------------------------------------------------
# The platform token (balance checks) is as secret as the key, and goes to the platform only.

PLATFORM_TOKEN = "pt-SECRET-platform-do-not-leak-77"


def platform_clean(*things: Any) -> None:
    for thing in things:
        for text in (str(thing), repr(thing)):
            assert PLATFORM_TOKEN not in text
            assert "platform-do-not-leak" not in text


def test_platform_token_from_environment_is_sent_to_the_platform_only(
    monkeypatch: pytest.MonkeyPatch, emu: ProducerEmulator
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_PLATFORM_TOKEN", PLATFORM_TOKEN)
    monkeypatch.setenv("ACEDATACLOUD_APPLICATION_ID", "emulated-application")
    toolkit = ProducerToolkit(api_key=KEY, transport=emu.transport, min_balance=1, **fast())
    (tool,) = toolkit.get_tools(["producer_generate_lyrics"])
    message = call(tool, {"prompt": "rain"})
    assert message.status != "error", message.content
    by_path = {r.url.path: r.headers["authorization"] for r in emu.requests}
    assert by_path.pop("/api/v1/applications/emulated-application/") == f"Bearer {PLATFORM_TOKEN}"
    assert set(by_path.values()) == {f"Bearer {KEY}"}
    platform_clean(
        toolkit,
        toolkit.settings,
        toolkit.producer_client,
        toolkit.model_dump(),
        toolkit.model_dump_json(),
        *toolkit.get_tools(),
        message,
        message.content,
        message.artifact,
    )


@pytest.mark.parametrize("mode", ["invalid_token", "server_error", "connection", "malformed"])
def test_platform_errors_and_tool_results_never_hold_the_platform_token(
    caplog: pytest.LogCaptureFixture, emu: ProducerEmulator, mode: str
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.platform_failure = mode
    settings: dict[str, Any] = {
        "api_key": KEY,
        "transport": emu.transport,
        "platform_token": PLATFORM_TOKEN,
        "application_id": "emulated-application",
        "max_retries": 0,
        **fast(),
    }
    with pytest.raises(ProducerError) as caught:
        ProducerClient(**settings).balance()
    for text in error_texts(caught.value):
        assert PLATFORM_TOKEN not in text
    for when in ("refuse", "proceed"):
        toolkit = ProducerToolkit(**settings, min_balance=1, when_balance_unknown=when)
        (tool,) = toolkit.get_tools(["producer_generate_lyrics"])
        message = call(tool, {"prompt": "x"})
        platform_clean(message, message.content, message.artifact, message.model_dump_json())
    assert PLATFORM_TOKEN not in caplog.text
    assert KEY not in caplog.text


def test_a_platform_answer_echoing_the_token_is_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        said = f"token {request.headers['authorization']} is not valid"
        return httpx.Response(401, json={"detail": said})

    client = ProducerClient(
        api_key=KEY,
        transport=httpx.MockTransport(echo),
        platform_token=PLATFORM_TOKEN,
        application_id="app",
    )
    with pytest.raises(AuthenticationError) as caught:
        client.balance()
    for text in error_texts(caught.value):
        assert PLATFORM_TOKEN not in text
    assert "***" in caught.value.message


def test_the_callback_url_with_its_secret_path_is_not_in_a_repr() -> None:
    from langchain_producer import ProducerClient, ProducerToolkit

    url = "https://hooks.example.com/producer/callback/s3cret-path-0123456789abcdef"
    client = ProducerClient(api_key="k", callback_url=url)
    toolkit = ProducerToolkit(client=client)
    for shown in (repr(client), repr(client.settings), repr(toolkit), str(client.settings)):
        assert "s3cret-path" not in shown
    assert client.callback_url == url  # still there for the service

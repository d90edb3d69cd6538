"""``ProducerSettings``: one declaration and one validation of every client setting, reached
the same way from ``ProducerClient`` and ``ProducerToolkit``; and who closes which connection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from langchain_producer import (
    AuthenticationError,
    Generate,
    ProducerClient,
    ProducerSettings,
    ProducerToolkit,
    ProducerValidationError,
)
from langchain_producer.emulator import ProducerEmulator

SECRET = "sk-settings-secret-7781"

# A valid, non-default value for each setting whose effect a test can see.
SAMPLES: dict[str, Any] = {
    "api_key": SecretStr(SECRET),
    "base_url": "https://producer.test",
    "default_model": "FUZZ-1.1",
    "timeout": 7.5,
    "max_retries": 0,
    "poll_interval": 0.5,
    "max_poll_interval": 4.0,
    "callback_url": "https://hooks.test/done",
}


def test_defaults_are_the_documented_ones() -> None:
    settings = ProducerSettings(api_key="k")
    assert settings.base_url == "https://api.acedata.cloud"
    assert settings.default_model == "FUZZ-2.0"
    assert (settings.max_retries, settings.poll_interval, settings.max_poll_interval) == (3, 2, 15)
    assert isinstance(settings.timeout, httpx.Timeout) and settings.timeout.connect == 10.0
    assert settings.callback_url is None


def test_environment_is_read_and_none_or_empty_means_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", SECRET)
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "https://producer.test/")
    monkeypatch.setenv("PRODUCER_DEFAULT_MODEL", "")
    settings = ProducerSettings(base_url=None, default_model=None, timeout=None)
    assert settings.api_key.get_secret_value() == SECRET
    assert settings.base_url == "https://producer.test"  # trailing slash dropped
    assert settings.default_model == "FUZZ-2.0"  # an empty variable is unset
    assert isinstance(settings.timeout, httpx.Timeout)


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({}, "ACEDATACLOUD_API_TOKEN"),
        ({"api_key": ""}, "ACEDATACLOUD_API_TOKEN"),
        ({"api_key": "k", "poll_interval": 20}, "max_poll_interval (15.0) must be at least"),
        ({"api_key": "k", "poll_interval": 3, "max_poll_interval": 2}, "poll_interval (3.0)"),
        ({"api_key": "k", "poll_interval": 0}, "poll_interval: Input should be greater than 0"),
        ({"api_key": "k", "max_retries": -1}, "max_retries"),
        ({"api_key": "k", "timeout": 0}, "timeout must be more than 0"),
        ({"api_key": "k", "default_model": "FUZZ-9"}, "'FUZZ-2.0 Pro'"),
        ({"api_key": "k", "callback_url": "ftp://hooks.test/x"}, "callback_url must be an http"),
        ({"api_key": "k", "base_url": "api.acedata.cloud"}, "base_url must be an http"),
        ({"api_key": "k", "max_wiat": 5}, "max_wiat: unknown setting (known: api_key, "),
    ],
)
def test_a_bad_setting_is_named_with_what_is_allowed_by_client_and_toolkit_alike(
    keywords: dict[str, Any], named: str
) -> None:
    for make in (ProducerSettings, ProducerClient, ProducerToolkit):
        with pytest.raises(ProducerValidationError) as caught:
            make(**keywords)
        assert named in caught.value.message, (make, caught.value.message)
        assert "nothing was sent" in caught.value.hint


def test_several_bad_settings_are_reported_together() -> None:
    with pytest.raises(ProducerValidationError) as caught:
        ProducerClient(api_key="k", max_retries=-1, timeout=-1, callback_url="nope")
    for name in ("max_retries", "timeout", "callback_url"):
        assert name in caught.value.message


def test_the_key_never_shows_in_a_repr_a_dump_or_an_error() -> None:
    settings = ProducerSettings(api_key=SECRET, base_url="https://producer.test")
    client = ProducerClient(settings)
    toolkit = ProducerToolkit(settings=settings)
    for shown in (
        repr(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
        repr(client),
        repr(toolkit),
        toolkit.model_dump_json(),
    ):
        assert SECRET not in shown
    with pytest.raises(ProducerValidationError) as caught:
        ProducerClient(api_key=SECRET, max_retries=-1)
    assert SECRET not in str(caught.value)
    assert "base_url='https://producer.test'" in repr(toolkit)  # the rest is shown


def test_client_takes_settings_a_positional_key_or_keywords_alike() -> None:
    settings = ProducerSettings(api_key="k", default_model="FUZZ-1.0")
    assert ProducerClient(settings).settings is settings
    assert ProducerClient("k", default_model="FUZZ-1.0").settings == settings
    assert ProducerClient(api_key="k", default_model="FUZZ-1.0").settings == settings
    changed = ProducerClient(settings, max_retries=0).settings
    assert (changed.max_retries, changed.default_model) == (0, "FUZZ-1.0")  # keywords replace
    with pytest.raises(ProducerValidationError, match="max_poll_interval"):
        ProducerClient(settings, poll_interval=30)  # the replaced values are validated too


def test_settings_are_read_only() -> None:
    settings = ProducerSettings(api_key="k")
    with pytest.raises(ValueError, match="frozen"):
        settings.max_retries = -1  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(ProducerSettings.model_fields))
def test_every_setting_is_a_toolkit_keyword_that_reaches_the_shared_client(name: str) -> None:
    # No mirroring: a field added to ProducerSettings passes this test with no other change.
    field = ProducerSettings.model_fields[name]
    value = SAMPLES.get(name, None if field.default_factory else field.default)
    keywords: dict[str, Any] = {"api_key": "k", name: value}
    toolkit = ProducerToolkit(**keywords)
    expected = ProducerSettings(**keywords)
    assert toolkit.producer_client.settings == expected
    assert toolkit.settings is toolkit.producer_client.settings
    if name in SAMPLES:
        assert getattr(toolkit.producer_client.settings, name) == value


def test_client_settings_take_effect_on_the_wire() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"task_id": "t-1"})

    toolkit = ProducerToolkit(**SAMPLES, transport=httpx.MockTransport(answer), wait=False)
    client = toolkit.producer_client
    client.submit(Generate(prompt="waltz"))
    body = seen[0].read().decode()
    assert str(seen[0].url) == "https://producer.test/producer/audios"
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert '"model":"FUZZ-1.1"' in body.replace(" ", "")
    assert "hooks.test/done" in body
    assert client.http.timeout == httpx.Timeout(7.5)
    assert (client.retry_policy.max_retries, client.poll_schedule.first) == (0, 0.5)
    assert client.poll_schedule.cap == 4.0


def test_toolkit_refuses_client_settings_beside_a_ready_client() -> None:
    client = ProducerClient(api_key="k")
    for keywords in ({"max_retries": 0}, {"poll_interval": 1.0}, {"settings": client.settings}):
        with pytest.raises(ProducerValidationError, match="either client= or client settings"):
            ProducerToolkit(client=client, **keywords)
    # None still means "not given", as before.
    assert ProducerToolkit(client=client, base_url=None).producer_client is client


def test_toolkit_tool_settings_are_bounded_once_for_toolkit_and_tools() -> None:
    for keywords in ({"max_wait": 0}, {"get_task_wait": -1}, {"max_wait": float("inf")}):
        with pytest.raises(ProducerValidationError, match=next(iter(keywords))):
            ProducerToolkit(api_key="k", **keywords)
    toolkit = ProducerToolkit(api_key="k", wait=False, max_wait=9, get_task_wait=0)
    (song, lookup) = toolkit.get_tools(["producer_generate_music", "producer_get_task"])
    assert (song.wait, song.max_wait, lookup.max_wait) == (False, 9, 0)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Transports and injected clients.


def test_a_one_way_transport_is_refused_with_the_explicit_alternative() -> None:
    with pytest.raises(ProducerValidationError) as sync_only:
        ProducerClient(api_key="k", transport=httpx.HTTPTransport())
    assert "HTTPTransport is sync-only" in sync_only.value.message
    assert "http_client=httpx.Client(transport=...)" in sync_only.value.message
    with pytest.raises(ProducerValidationError) as async_only:
        ProducerToolkit(api_key="k", transport=httpx.AsyncHTTPTransport())
    assert "AsyncHTTPTransport is async-only" in async_only.value.message
    assert "http_async_client=httpx.AsyncClient(transport=...)" in async_only.value.message


def test_a_transport_beside_an_injected_client_is_refused() -> None:
    with httpx.Client() as http, pytest.raises(ProducerValidationError, match="both given"):
        ProducerClient(api_key="k", transport=ProducerEmulator().transport, http_client=http)


async def test_one_sided_use_goes_through_an_explicit_client_on_that_side_only() -> None:
    emu = ProducerEmulator()
    sync_side = httpx.Client(transport=emu.transport)
    client = ProducerClient(api_key="k", http_client=sync_side, base_url="http://emulator.test")
    assert client.http is sync_side
    client.get_tasks(["nope"])
    assert len(emu.requests) == 1
    assert client.http_async is not sync_side  # the async side is the default one: not the emu
    await client.aclose()
    sync_side.close()


def test_injected_sync_client_is_used_and_never_closed() -> None:
    emu = ProducerEmulator()
    with httpx.Client(transport=emu.transport) as http:
        with ProducerClient(api_key="k", http_client=http) as client:
            client.get_tasks(["nope"])
        client.close()
        assert not http.is_closed
        http.get("https://api.acedata.cloud/producer/tasks")  # still usable by its owner
    assert len(emu.requests) == 2


async def test_injected_async_client_is_used_and_never_closed() -> None:
    emu = ProducerEmulator()
    async with httpx.AsyncClient(transport=emu.transport) as http:
        async with ProducerClient(api_key="k", http_async_client=http) as client:
            await client.aget_tasks(["nope"])
            assert client.http_async is http
        await client.aclose()
        assert not http.is_closed
    assert len(emu.requests) == 1


async def test_clients_we_made_are_closed_by_close_and_aclose() -> None:
    client = ProducerClient(api_key="k", transport=ProducerEmulator().transport)
    sync_http, async_http = client.http, client.http_async
    client.close()
    await client.aclose()
    assert sync_http.is_closed and async_http.is_closed
    assert client.http is not sync_http  # a closed client is replaced on next use
    client.close()


def test_a_refused_key_names_the_variable_it_may_have_come_from() -> None:
    client = ProducerClient(api_key="wrong", transport=ProducerEmulator(api_key="right").transport)
    with pytest.raises(AuthenticationError) as caught:
        client.get_task("t-1")
    assert "ACEDATACLOUD_API_TOKEN (or api_key)" in caught.value.hint

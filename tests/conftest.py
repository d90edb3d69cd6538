"""Fixtures every test module may use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from langchain_producer._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_MODEL_ENV
from langchain_producer.emulator import EmulatorServer, ProducerEmulator
from langchain_producer.settings import CALLBACK_BASE_URL_ENV, CALLBACK_SECRET_ENV


@pytest.fixture(autouse=True)
def _no_producer_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's exported token, URL or model must not change what a test sees (nor send
    # a test's requests to the real, billed service). Tests that need them set them.
    for name in (
        API_KEY_ENV,
        BASE_URL_ENV,
        DEFAULT_MODEL_ENV,
        CALLBACK_BASE_URL_ENV,
        CALLBACK_SECRET_ENV,
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator() -> ProducerEmulator:
    """An in-process emulator whose tasks finish within a tenth of a second."""
    return ProducerEmulator(pending_seconds=0.02, processing_seconds=0.05)


@pytest.fixture
def fast_polling() -> dict[str, Any]:
    """Client or toolkit keywords that poll a quick emulator task without wasting time."""
    return {"poll_interval": 0.02, "max_poll_interval": 0.05}


@pytest.fixture
def crash_emulator() -> Any:
    """The emulator for crash-resume tests (``crash_resume.TimedEmulator``): songs long enough
    to kill a process while it waits, request arrival times noted."""
    from crash_resume import emulator

    return emulator()


@pytest.fixture
def crash_server(crash_emulator: ProducerEmulator) -> Iterator[EmulatorServer]:
    """``crash_emulator`` served on a loopback port (child processes reach it there)."""
    with crash_emulator.serve() as running:
        yield running


@pytest.fixture
def evil() -> Iterator[Any]:
    """The other host the fault server's 3xx faults point at: it must never see a request."""
    from faultserver import FaultServer

    server = FaultServer(id_prefix="evil-")
    yield server
    server.close()

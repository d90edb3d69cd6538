"""LangGraph's Agent Server, for real: ``langgraph dev`` (the in-memory runtime) serves
``examples/server/``, offline against the emulator's server; a thread runs through
``langgraph-sdk``, its song arrives, and the journal entry is in the server's own store.

Run with ``make test-server`` (it installs ``langgraph-cli[inmem]``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

from langchain_producer.emulator import EmulatorServer, ProducerEmulator

pytestmark = pytest.mark.agent_server

EXAMPLE = Path(__file__).parents[1] / "examples" / "server"
REQUIRED = "PRODUCER_REQUIRE_AGENT_SERVER"
SECRET = "agent-server-callback-Hq3Zt8Wm1Kp6"
ASK = {"messages": [{"role": "user", "content": "a lo-fi beat for studying"}]}


def _langgraph_cli() -> str:
    found = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "langgraph"
    )
    if found is None:
        message = "langgraph-cli[inmem] is not installed: `make test-server` installs it."
        if os.environ.get(REQUIRED):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def emu() -> ProducerEmulator:
    return ProducerEmulator(pending_seconds=0.2, processing_seconds=1.5)


@pytest.fixture(scope="module")
def emulator_server(emu: ProducerEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.fixture(scope="module")
def agent_server(
    emulator_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``langgraph dev`` on a free loopback port; yields its URL."""
    cli = _langgraph_cli()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_KEY") and key != "PRODUCER_AGENT_MODEL"
    }
    env |= {
        "ACEDATACLOUD_API_TOKEN": "agent-server-test",
        "ACEDATACLOUD_API_BASE_URL": emulator_server.base_url,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
        # The receiver (examples/server/webhook.py) is mounted in this server.
        "PRODUCER_CALLBACK_BASE_URL": url,
        "PRODUCER_CALLBACK_SECRET": SECRET,
    }
    # A copy: the dev server writes its state (.langgraph_api/) beside langgraph.json.
    here = tmp_path_factory.mktemp("agent-server")
    shutil.copytree(EXAMPLE, here / "server", ignore=shutil.ignore_patterns(".langgraph_api"))
    log_path = here / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [cli, "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"],
        cwd=here / "server",
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers are stopped with it
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "langgraph dev did not start:\n" + log_path.read_text()[-4000:]
                )
            time.sleep(0.3)
        yield url
        assert SECRET not in log_path.read_text(), "the callback secret is in the server's log"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_a_thread_on_the_agent_server_gets_its_song_and_a_journal_entry(
    agent_server: str, emu: ProducerEmulator, emulator_server: EmulatorServer
) -> None:
    client = get_sync_client(url=agent_server)
    thread = client.threads.create()
    state = client.runs.wait(thread["thread_id"], "producer", input=ASK)
    assert isinstance(state, dict)
    messages = state["messages"]
    [tool] = [m for m in messages if m["type"] == "tool"]
    result = json.loads(tool["content"])
    assert result["state"] == "complete"
    song_url = result["songs"][0]["audio_url"]
    assert song_url.startswith(emulator_server.base_url + "/media/audio/")
    assert messages[-1]["content"] == f"Here is your song: {song_url}"
    assert sum(r.url.path == "/producer/audios" for r in emu.requests) == 1

    found = client.store.search_items(("langchain_producer", "tasks", thread["thread_id"]))
    [item] = found["items"]
    entry = item["value"]
    assert item["key"] == tool["tool_call_id"] == entry["key"]
    assert entry["task_id"] == result["task_id"]
    assert entry["tool"] == "producer_generate_music"
    assert entry["thread_id"] == thread["thread_id"]


def test_a_parked_thread_ends_its_run_at_acceptance_and_is_woken_with_its_song(
    agent_server: str, emu: ProducerEmulator, emulator_server: EmulatorServer
) -> None:
    client = get_sync_client(url=agent_server)
    thread_id = client.threads.create()["thread_id"]
    submitted = sum(r.url.path == "/producer/audios" for r in emu.requests)
    emu.processing_seconds = 10.0  # the song takes 10 s; the first run must not
    try:
        started = time.monotonic()
        first = client.runs.wait(thread_id, "producer_parked", input=ASK)
        first_run = time.monotonic() - started
    finally:
        emu.processing_seconds = 1.5
    assert first_run < 2, f"the parked run took {first_run:.1f} s"
    assert isinstance(first, dict)
    [tool] = [m for m in first["messages"] if m["type"] == "tool"]
    accepted = json.loads(tool["content"])
    assert accepted["state"] != "complete" and accepted["should_poll"] is False, accepted
    assert "new message" in accepted["next_step"]
    task_id = accepted["task_id"]

    # The emulator calls back about 10 s later; the receiver confirms it and starts a run.
    deadline = time.monotonic() + 60
    while True:
        runs = client.runs.list(thread_id)
        if len(runs) >= 2 and all(r["status"] not in ("pending", "running") for r in runs):
            break
        assert time.monotonic() < deadline, f"no second run finished: {runs}"
        time.sleep(0.3)
    [woken] = [r for r in runs if r["metadata"].get("producer_task_id") == task_id]
    assert woken["status"] == "success", woken
    assert client.threads.get(thread_id)["metadata"]["assistant_id"] == woken["assistant_id"]

    messages = client.threads.get_state(thread_id)["values"]["messages"]
    wake, reply = messages[-2:]
    assert wake["type"] == "human" and wake["name"] == "producer"
    sent = [c for c in emu.callbacks if c["body"].get("task_id") == task_id]
    assert [c["status"] for c in sent] == [200], sent  # one callback, taken
    song_url = sent[0]["body"]["data"][0]["audio_url"]
    assert song_url.startswith(emulator_server.base_url + "/media/audio/")
    assert reply["content"] == f"Here is your song: {song_url}"
    assert sum(r.url.path == "/producer/audios" for r in emu.requests) == submitted + 1


async def test_agent_server_store_is_the_servers_store_as_a_base_store(agent_server: str) -> None:
    """Every operation the receiver may use, through the server's real API: what one side
    writes, the other reads."""
    from langgraph_sdk import get_client

    from langchain_producer.webhooks import AgentServerStore

    store = AgentServerStore(get_client(url=agent_server))
    space = ("langchain_producer", "round-trip")
    assert await store.aget(space, "absent") is None
    await store.aput(space, "one", {"task_id": "t-1", "n": 1}, index=False, ttl=5)
    await store.aput(space, "two", {"task_id": "t-2", "n": 2}, index=False)
    item = await store.aget(space, "one")
    assert item is not None and item.value == {"task_id": "t-1", "n": 1}
    assert item.namespace == space and item.created_at.tzinfo is not None
    sync = get_sync_client(url=agent_server).store.get_item(list(space), key="two")
    assert sync["value"] == {"task_id": "t-2", "n": 2}  # the server holds it
    [found] = await store.asearch(("langchain_producer",), filter={"task_id": "t-2"})
    assert (found.key, found.value["n"]) == ("two", 2)
    assert space in await store.alist_namespaces(prefix=("langchain_producer",))
    await store.adelete(space, "one")
    assert await store.aget(space, "one") is None
    with pytest.raises(NotImplementedError, match="async only"):
        store.get(space, "two")


def test_the_server_image_installs_this_checkout_not_a_package_index(tmp_path: Path) -> None:
    # The package is not on PyPI: `langgraph build` / `up` must install the checkout itself.
    dockerfile = tmp_path / "Dockerfile"
    subprocess.run(
        [_langgraph_cli(), "dockerfile", "-c", str(EXAMPLE / "langgraph.json"), str(dockerfile)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = dockerfile.read_text()
    assert "Adding local package ../.." in text, text
    assert "langchain-producer" not in text.replace("/deps/", ""), text

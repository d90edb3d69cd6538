"""The fault matrix: every fault of ``faultserver`` x every kind of operation x sync/async, through
the real tools over a real socket, with http clients that would follow redirects.

Per cell, what a user (and the model) must see:
* a ``ToolMessage``, never an exception;
* the paid request received at most once (more only after a 429, which did no work);
* every task id the server delivered in full present in the content;
* advice that fits the phase: after acceptance, follow the task with ``producer_get_task`` and
  never "try again"; when a paid answer was lost, do not submit it again blindly;
* the one error shape (``error`` code, ``message``, ``next_step``), and no API key anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from faultserver import FAULTS, PAID_PATHS, FaultServer, dead_port
from langchain_core.messages import ToolMessage

from langchain_producer import ProducerToolkit
from langchain_producer.protocol.retry import RetryPolicy

KEY = "sk-matrix-secret-key-0123456789"
TIMEOUT = 0.3
MAX_RETRIES = 1


@dataclass(frozen=True)
class Operation:
    tool: str
    args: dict[str, Any]
    faulty: str
    wait: bool = False
    asked: tuple[str, ...] = ()

    @property
    def paid_path(self) -> str | None:
        return (
            self.faulty if self.faulty in PAID_PATHS else "/producer/audios" if self.wait else None
        )


OPERATIONS = {
    "paid_nowait": Operation("producer_generate_music", {"prompt": "rain"}, "/producer/audios"),
    "paid_wait": Operation(
        "producer_generate_music", {"prompt": "rain"}, "/producer/audios", wait=True
    ),
    "paid_wait_failing_lookups": Operation(
        "producer_generate_music", {"prompt": "rain"}, "/producer/tasks", wait=True
    ),
    "lyrics": Operation("producer_generate_lyrics", {"prompt": "rain"}, "/producer/lyrics"),
    "wav": Operation("producer_generate_wav", {"audio_id": "song-1"}, "/producer/wav"),
    "get_task": Operation(
        "producer_get_task", {"task_id": "pre-001"}, "/producer/tasks", asked=("pre-001",)
    ),
    "batch": Operation(
        "producer_get_tasks_batch",
        {"task_ids": ["pre-001", "pre-002"]},
        "/producer/tasks",
        asked=("pre-001", "pre-002"),
    ),
}

REFUSED_BEFORE_WORK = {"401", "403", "404", "429_retry_after", "429_bare"}
REFUSED_BEFORE_WORK |= {"302_other_host", "307_other_host", "refused"}
"""Faults after which the service certainly did no (paid) work."""


def make_toolkit(
    base_url: str, op: Operation, **settings: Any
) -> tuple[ProducerToolkit, list[Any]]:
    # Clients that would follow redirects: the tools must not, whatever their setting. (No TLS
    # on loopback: verify=False spares loading the CA bundle, ~80 ms a client.)
    http = httpx.Client(follow_redirects=True, timeout=TIMEOUT, verify=False)
    ahttp = httpx.AsyncClient(follow_redirects=True, timeout=TIMEOUT, verify=False)
    toolkit = ProducerToolkit(
        api_key=KEY,
        base_url=base_url,
        http_client=http,
        http_async_client=ahttp,
        max_retries=MAX_RETRIES,
        poll_interval=0.01,
        max_poll_interval=0.02,
        **{"wait": op.wait, "max_wait": 3, "get_task_wait": 0.5, **settings},
    )
    toolkit.producer_client.retry_policy = RetryPolicy(
        max_retries=MAX_RETRIES, backoff=0.001, max_backoff=0.002
    )
    return toolkit, [http, ahttp]


def tool_call(op: Operation) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-1", "name": op.tool, "args": dict(op.args)}


def serve_fault(fault: str, op: Operation, evil: FaultServer) -> tuple[FaultServer, str]:
    """The fault server of one cell, and the base URL to call (a dead port for "refused"
    before anything was sent)."""
    server = FaultServer(
        fault=fault if fault != "refused" else "none",
        faulty=(op.faulty,),
        redirect_to=evil.base_url,
        refuse_after_paid=fault == "refused" and op.faulty == "/producer/tasks" and op.wait,
    )
    refused_from_start = fault == "refused" and not server.refuse_after_paid
    base_url = f"http://127.0.0.1:{dead_port()}" if refused_from_start else server.base_url
    return server, base_url


async def run_cell(fault: str, op: Operation, mode: str, evil: FaultServer) -> None:
    server, base_url = serve_fault(fault, op, evil)
    toolkit, clients = make_toolkit(base_url, op)
    (tool,) = toolkit.get_tools([op.tool])
    try:
        if mode == "sync":
            message = tool.invoke(tool_call(op))
        else:
            message = await tool.ainvoke(tool_call(op))
    finally:
        server.close()
        clients[0].close()
        await clients[1].aclose()
    check_cell(fault, op, message, server, evil)


def check_cell(
    fault: str, op: Operation, message: Any, server: FaultServer, evil: FaultServer
) -> None:
    assert isinstance(message, ToolMessage), message
    content = message.content
    assert isinstance(content, str)
    shown = json.loads(content)  # always valid JSON (no NaN), whatever the service sent
    lowered = content.lower()

    # Money: the paid request at most once, unless the service said 429 (no work done).
    if op.paid_path:
        sent = server.count(op.paid_path)
        limit = 1 + MAX_RETRIES if fault.startswith("429") and op.faulty in PAID_PATHS else 1
        assert sent <= limit, f"paid request sent {sent} times"
    assert not evil.received, "a redirect was followed: the request went to another host"

    # Every task id delivered (or asked about) reaches the model.
    for task_id in server.issued | set(op.asked):
        assert task_id in content, f"{task_id} lost"

    # The one error shape, with a code rather than a class name.
    if message.status == "error":
        assert {"error", "message", "next_step"} <= shown.keys(), shown
        assert not shown["error"].endswith("Error")

    # Advice for the phase.
    accepted = [i for i in server.issued if not i.startswith("pre-")]
    running = shown.get("state") in ("pending", "processing")
    if op.paid_path and accepted:
        assert "try again" not in lowered
        if message.status == "error" or running:
            assert "producer_get_task" in content
        if message.status == "error":
            assert "do not submit" in lowered
    elif (
        op.paid_path
        and message.status == "error"
        and fault not in REFUSED_BEFORE_WORK
        and server.count(op.paid_path)
    ):
        assert "blindly" in lowered, "a lost paid answer must warn against resubmitting"
    if op.asked and message.status == "error":
        assert "producer_get_task" in content
        assert "do not submit" in lowered

    # No key anywhere the model or a log could see.
    assert KEY not in content
    assert KEY not in repr(message.artifact)
    assert KEY not in message.model_dump_json()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_name", list(OPERATIONS))
@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_matrix(fault: str, op_name: str, mode: str, evil: FaultServer) -> None:
    await run_cell(fault, OPERATIONS[op_name], mode, evil)


# ---------------------------------------------------------------------------------------------
# Cells whose outcome is more than "safe": what a good client makes of them.


def invoke(op: Operation, server: FaultServer, **settings: Any) -> dict[str, Any]:
    toolkit, clients = make_toolkit(server.base_url, op, **settings)
    try:
        message = toolkit.get_tools([op.tool])[0].invoke(tool_call(op))
    finally:
        clients[0].close()
    return {"status": message.status, **json.loads(message.content)}


@pytest.mark.parametrize("fault", ["gzip_lie", "wrong_content_type", "nan_progress"])
def test_readable_answers_despite_lying_headers_or_poison_give_the_song(fault: str) -> None:
    server = FaultServer(fault=fault, faulty=("/producer/audios", "/producer/tasks"))
    try:
        shown = invoke(OPERATIONS["paid_wait"], server)
    finally:
        server.close()
    assert shown["status"] != "error"
    assert shown["state"] == "complete"
    assert server.count("/producer/audios") == 1


@pytest.mark.parametrize("fault", ["fin_mid_body", "truncated_json", "deep_nesting"])
def test_paid_answer_with_a_readable_task_id_is_followed_not_lost(fault: str) -> None:
    server = FaultServer(fault=fault, faulty=("/producer/audios",))
    try:
        shown = invoke(OPERATIONS["paid_wait"], server)
    finally:
        server.close()
    assert shown["state"] == "complete", shown  # recovered, waited, finished
    assert shown["task_id"] == "aud-001"
    assert server.count("/producer/audios") == 1


def test_redirect_on_a_paid_call_is_not_followed_and_says_so(evil: FaultServer) -> None:
    server = FaultServer(
        fault="307_other_host", faulty=("/producer/audios",), redirect_to=evil.base_url
    )
    try:
        shown = invoke(OPERATIONS["paid_nowait"], server)
    finally:
        server.close()
    assert shown["status"] == "error"
    assert shown["error"] == "redirect"
    assert "base_url" in shown["next_step"]
    assert not evil.received
    assert server.count("/producer/audios") == 1


def test_empty_200_on_a_lookup_is_a_service_fault_not_no_such_task() -> None:
    server = FaultServer(fault="empty_200", faulty=("/producer/tasks",))
    try:
        shown = invoke(OPERATIONS["get_task"], server)
    finally:
        server.close()
    assert shown["status"] == "error"
    assert shown["error"] != "task_not_found"
    assert "empty body" in shown["message"]
    assert "producer_get_task" in shown["next_step"]


def test_failing_lookups_after_acceptance_never_say_try_again() -> None:
    server = FaultServer(fault="500", faulty=("/producer/tasks",))
    try:
        shown = invoke(OPERATIONS["paid_wait_failing_lookups"], server)
    finally:
        server.close()
    assert shown["status"] == "error"
    assert shown["accepted"] is True and shown["task_id"] == "aud-001"
    assert "try again" not in json.dumps(shown).lower()
    assert "producer_get_task" in shown["next_step"]
    assert "Do not submit" in shown["next_step"]


@pytest.mark.parametrize("fault", ["nan_progress", "inf_progress", "huge_numbers"])
@pytest.mark.parametrize("op_name", ["get_task", "paid_wait"])
def test_unreadable_progress_of_a_running_task_reads_as_unknown(fault: str, op_name: str) -> None:
    server = FaultServer(fault=fault, faulty=("/producer/tasks",), lookups_to_finish=10**6)
    try:
        shown = invoke(OPERATIONS[op_name], server, get_task_wait=0, max_wait=0.05)
    finally:
        server.close()
    assert shown["status"] != "error", shown
    assert shown["state"] == "processing" and shown["should_poll"] is True
    assert "progress_percent" not in shown
    assert shown["task_id"] == ("pre-001" if op_name == "get_task" else "aud-001")

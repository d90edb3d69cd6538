"""Retries and error mapping, counted at the transport: paid calls are never resent blindly,
free look-ups are, and every error says what it is."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from langchain_producer.client import ProducerClient
from langchain_producer.drivers.driver import Clock
from langchain_producer.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    RateLimitError,
    SubmissionUncertainError,
)
from langchain_producer.params import Generate
from langchain_producer.protocol.answers import Reply
from langchain_producer.protocol.retry import RetryPolicy, exchange
from langchain_producer.protocol.steps import Draw, Plan, Send, Sleep, WallClock
from langchain_producer.protocol.wire import TASKS

TASK_ID = "task-0001"

OK_BODIES: dict[str, dict[str, Any]] = {
    "/producer/audios": {"task_id": TASK_ID, "trace_id": "tr-sub"},
    "/producer/lyrics": {"success": True, "task_id": "l1", "data": {"title": "T", "text": "[V]"}},
    "/producer/upload": {"success": True, "task_id": "u1", "data": {"audio_id": "up-1"}},
    "/producer/videos": {
        "success": True,
        "task_id": "v1",
        "data": {"video_url": "https://v/x.mp4"},
    },
    "/producer/wav": {"success": True, "task_id": "w1", "data": [{"file_url": "https://w/x.wav"}]},
    "/producer/tasks": {
        "id": TASK_ID,
        "started_at": 1.0,
        "finished_at": 2.0,
        "response": {
            "task_id": TASK_ID,
            "data": [{"id": "s1", "audio_url": "https://a/s1.mp3", "state": "succeeded"}],
        },
    },
}

Outcome = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], Any]


class Server:
    """A MockTransport that plays scripted outcomes per path, then answers OK; counts requests."""

    def __init__(self, script: dict[str, list[Outcome]] | None = None) -> None:
        self.script = {path: list(outcomes) for path, outcomes in (script or {}).items()}
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.script.get(request.url.path)
        if queue:
            outcome = queue.pop(0)
            if isinstance(outcome, type) and issubclass(outcome, httpx.TransportError):
                raise outcome("scripted failure", request=request)
            if isinstance(outcome, httpx.Response):
                # A fresh copy: a Response object must not be handed out twice.
                return httpx.Response(
                    outcome.status_code, headers=outcome.headers, content=outcome.content
                )
            return outcome(request)
        return httpx.Response(200, json=OK_BODIES[request.url.path])

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


def make_client(server: Server, max_retries: int = 3) -> ProducerClient:
    client = ProducerClient(
        api_key="k",
        base_url="http://producer.test",
        max_retries=max_retries,
        poll_interval=0.01,
        max_poll_interval=0.02,
        transport=server.transport,
    )
    # Keep back-off real (the code path runs) but tiny.
    client.retry_policy = RetryPolicy(max_retries=max_retries, backoff=0.001, max_backoff=0.002)
    return client


def error(status: int, code: str | None, message: str = "msg", **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"success": False, "error": {"code": code, "message": message}}
    body.update(extra)
    return httpx.Response(status, json=body)


def malformed() -> httpx.Response:
    return httpx.Response(200, content=b"<html>502 Bad Gateway</html>")


# Every paid call, by path: (sync method, async method, args).
PAID = {
    "/producer/audios": ("submit", "asubmit", (Generate(prompt="lo-fi"),)),
    "/producer/lyrics": ("generate_lyrics", "agenerate_lyrics", ("a song about rain",)),
    "/producer/upload": ("upload_audio", "aupload_audio", ("https://example.com/a.mp3",)),
    "/producer/videos": ("generate_video", "agenerate_video", ("song-1",)),
    "/producer/wav": ("generate_wav", "agenerate_wav", ("song-1",)),
}
LOOKUP = ("get_task", "aget_task", (TASK_ID,))


async def call(client: ProducerClient, mode: str, spec: tuple[str, str, tuple[Any, ...]]) -> Any:
    sync_name, async_name, args = spec
    if mode == "sync":
        return getattr(client, sync_name)(*args)
    return await getattr(client, async_name)(*args)


MODES = ["sync", "async"]


# ---------------------------------------------------------------------------------------------
# Paid submissions: sent once unless they certainly never arrived.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(PAID))
@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, json={"error": {"code": "api_error"}}), httpx.Response(502), "timeout"],
    ids=["500", "502", "read-timeout"],
)
async def test_lost_answer_to_paid_call_is_sent_once_and_uncertain(
    mode: str, path: str, failure: Any
) -> None:
    outcome = httpx.ReadTimeout if failure == "timeout" else failure
    server = Server({path: [outcome]})
    with pytest.raises(SubmissionUncertainError) as caught:
        await call(make_client(server), mode, PAID[path])
    assert server.count(path) == 1
    assert len(server.requests) == 1
    assert caught.value.endpoint == path
    text = str(caught.value)
    assert "not submit it again blindly" in text
    assert "billed" in text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(PAID))
async def test_malformed_answer_to_paid_call_is_uncertain_not_retried(mode: str, path: str) -> None:
    server = Server({path: [malformed()]})
    with pytest.raises(SubmissionUncertainError):
        await call(make_client(server), mode, PAID[path])
    assert server.count(path) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "never_sent", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
)
async def test_submission_that_never_left_is_retried(mode: str, never_sent: type) -> None:
    path = "/producer/audios"
    server = Server({path: [never_sent, never_sent]})
    task = await call(make_client(server), mode, PAID[path])
    assert task.task_id == TASK_ID and task.state == "pending"
    assert server.count(path) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(PAID))
async def test_paid_call_retried_after_429(mode: str, path: str) -> None:
    server = Server({path: [error(429, "too_many_requests"), error(429, "too_many_requests")]})
    await call(make_client(server), mode, PAID[path])
    assert server.count(path) == 3


@pytest.mark.parametrize("mode", MODES)
async def test_submission_connection_errors_give_up_after_max_retries(mode: str) -> None:
    path = "/producer/audios"
    server = Server({path: [httpx.ConnectError] * 10})
    with pytest.raises(ProducerConnectionError) as caught:
        await call(make_client(server, max_retries=2), mode, PAID[path])
    assert server.count(path) == 3
    assert not isinstance(caught.value, SubmissionUncertainError)


# ---------------------------------------------------------------------------------------------
# Free look-ups: retried on anything passing.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure",
    [
        error(500, "api_error"),
        httpx.Response(502),
        httpx.Response(503, text="unavailable"),
        error(429, "too_many_requests"),
        httpx.ReadTimeout,
        httpx.ConnectError,
        httpx.RemoteProtocolError,
        malformed(),
    ],
    ids=["500", "502", "503", "429", "read-timeout", "connect", "protocol", "malformed"],
)
async def test_lookup_retries_then_succeeds(mode: str, failure: Any) -> None:
    server = Server({"/producer/tasks": [failure, failure]})
    task = await call(make_client(server), mode, LOOKUP)
    assert task.state == "complete"
    assert task.songs[0].audio_url == "https://a/s1.mp3"
    assert server.count("/producer/tasks") == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (error(500, "api_error", "internal"), ProducerAPIError),
        (error(429, "too_many_requests"), RateLimitError),
        (httpx.ReadTimeout, ProducerConnectionError),
        (httpx.ConnectError, ProducerConnectionError),
        (malformed(), ProducerAPIError),
    ],
    ids=["500", "429", "read-timeout", "connect", "malformed"],
)
@pytest.mark.parametrize("max_retries", [0, 2])
async def test_lookup_max_retries_respected(
    mode: str, failure: Any, raised: type, max_retries: int
) -> None:
    server = Server({"/producer/tasks": [failure] * 10})
    with pytest.raises(raised):
        await call(make_client(server, max_retries=max_retries), mode, LOOKUP)
    assert server.count("/producer/tasks") == 1 + max_retries


async def test_lookup_500_error_keeps_status_and_code() -> None:
    server = Server({"/producer/tasks": [error(500, "api_error", "internal", trace_id="t5")] * 4})
    with pytest.raises(ProducerAPIError) as caught:
        make_client(server).get_task(TASK_ID)
    assert (caught.value.status_code, caught.value.code, caught.value.trace_id) == (
        500,
        "api_error",
        "t5",
    )


# ---------------------------------------------------------------------------------------------
# Errors that no retry can fix.


ALL_CALLS = {**PAID, "/producer/tasks": LOOKUP}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(ALL_CALLS))
async def test_401_is_authentication_error_not_retried(mode: str, path: str) -> None:
    server = Server({path: [error(401, "invalid_token", "bad token")] * 5})
    with pytest.raises(AuthenticationError) as caught:
        await call(make_client(server), mode, ALL_CALLS[path])
    assert server.count(path) == 1
    assert caught.value.status_code == 401 and caught.value.code == "invalid_token"
    assert "API key" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(ALL_CALLS))
async def test_403_used_up_is_balance_not_auth(mode: str, path: str) -> None:
    server = Server({path: [error(403, "used_up", "quota used up")] * 5})
    with pytest.raises(InsufficientBalanceError) as caught:
        await call(make_client(server), mode, ALL_CALLS[path])
    assert server.count(path) == 1
    assert not isinstance(caught.value, AuthenticationError)
    assert caught.value.code == "used_up"
    assert "balance" in str(caught.value).lower()
    assert "key itself is fine" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", list(ALL_CALLS))
async def test_400_is_api_error_with_code_and_trace(mode: str, path: str) -> None:
    server = Server({path: [error(400, "bad_request", "prompt too long", trace_id="tr-400")] * 5})
    with pytest.raises(ProducerAPIError) as caught:
        await call(make_client(server), mode, ALL_CALLS[path])
    assert server.count(path) == 1
    err = caught.value
    assert type(err) is ProducerAPIError
    assert (err.status_code, err.code, err.trace_id) == (400, "bad_request", "tr-400")
    assert "prompt too long" in str(err)
    assert err.to_dict()["error"] == "bad_request"


def test_trace_id_from_header_and_bare_string_error() -> None:
    answer = httpx.Response(
        400, json={"success": False, "error": "no such model"}, headers={"x-trace-id": "hdr"}
    )
    server = Server({"/producer/tasks": [answer]})
    with pytest.raises(ProducerAPIError) as caught:
        make_client(server).get_task(TASK_ID)
    assert caught.value.trace_id == "hdr"
    assert caught.value.message == "no such model"


def test_2xx_refusal_is_an_error_not_a_result() -> None:
    refusal = httpx.Response(
        200, json={"success": False, "error": {"code": "disabled", "message": "off"}}
    )
    server = Server({"/producer/lyrics": [refusal]})
    with pytest.raises(ProducerAPIError) as caught:
        make_client(server).generate_lyrics("x")
    assert caught.value.code == "disabled"
    assert server.count("/producer/lyrics") == 1


# ---------------------------------------------------------------------------------------------
# Retry-After.


WALL = 1_800_000_000.0
"""The wall clock a driven plan is told (no real clock: exact answers, no tolerances)."""


def drive_until_sleep(plan: Plan[Any], answer: httpx.Response, draw: float = 0.5) -> Any:
    """Send ``answer`` to the plan's first request; answer its clock and chance questions."""
    step = plan.send(None)
    assert isinstance(step, Send)
    step = plan.send(Reply(answer.status_code, answer.headers, answer.content))
    while isinstance(step, WallClock | Draw):
        step = plan.send(WALL if isinstance(step, WallClock) else draw)
    return step


def http_date(at: float) -> str:
    return email.utils.formatdate(at, usegmt=True)


@pytest.mark.parametrize("paid", [True, False])
def test_retry_after_seconds_honoured(paid: bool) -> None:
    plan = exchange("/producer/audios", {}, paid=paid, policy=RetryPolicy())
    step = drive_until_sleep(plan, httpx.Response(429, headers={"Retry-After": "7"}))
    assert step == Sleep(7.0)


@pytest.mark.parametrize(
    ("header", "slept"),
    [
        (http_date(WALL + 30), 30.0),
        (email.utils.formatdate(WALL + 20, localtime=True), 20.0),
        (http_date(WALL - 100), 0.0),
    ],
    ids=["gmt", "local-offset", "past"],
)
def test_retry_after_http_date_is_read_against_the_drivers_wall_clock(
    header: str, slept: float
) -> None:
    plan = exchange(TASKS, {}, paid=False, policy=RetryPolicy())
    step = drive_until_sleep(plan, httpx.Response(429, headers={"Retry-After": header}))
    assert step == Sleep(slept)


def test_retry_after_is_capped() -> None:
    plan = exchange(TASKS, {}, paid=False, policy=RetryPolicy(max_retry_after=60))
    step = drive_until_sleep(plan, httpx.Response(429, headers={"Retry-After": "3600"}))
    assert step == Sleep(60.0)


@pytest.mark.parametrize(("draw", "slept"), [(0.0, 0.25), (0.5, 0.375), (0.999, 0.49975)])
def test_retry_after_garbage_falls_back_to_backoff_with_the_drivers_jitter(
    draw: float, slept: float
) -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=8.0)
    plan = exchange(TASKS, {}, paid=False, policy=policy)
    answer = httpx.Response(429, headers={"Retry-After": "soon-ish"})
    assert drive_until_sleep(plan, answer, draw) == Sleep(slept)


def test_backoff_doubles_between_attempts() -> None:
    policy = RetryPolicy(max_retries=4, backoff=1.0, max_backoff=100.0)
    plan = exchange(TASKS, {}, paid=False, policy=policy)
    plan.send(None)
    sleeps = []
    for _ in range(4):
        assert isinstance(plan.send(Reply.of(503)), Draw)
        step = plan.send(0.0)  # the lowest jitter: exactly half the ceiling
        assert isinstance(step, Sleep)
        sleeps.append(step.seconds)
        assert isinstance(plan.send(None), Send)
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    with pytest.raises(ProducerAPIError):
        plan.send(Reply.of(503))


def test_client_retries_429_with_unparsable_retry_after() -> None:
    answer = httpx.Response(429, headers={"Retry-After": "soon-ish"}, json={})
    server = Server({"/producer/tasks": [answer]})
    assert make_client(server).get_task(TASK_ID).state == "complete"
    assert server.count("/producer/tasks") == 2


def test_client_sleeps_what_retry_after_says() -> None:
    slept: list[float] = []
    server = Server(
        {"/producer/tasks": [httpx.Response(429, headers={"Retry-After": "7"}, json={})]}
    )
    client = make_client(server)
    client._driver.clock = Clock(sleep=slept.append)  # the clock is the driver's
    task = client.get_task(TASK_ID)
    assert task.state == "complete"
    assert slept == [7.0]


def test_rate_limit_error_carries_retry_after() -> None:
    answer = error(429, "too_many_requests")
    answer.headers["Retry-After"] = "0"
    server = Server({"/producer/tasks": [answer] * 5})
    with pytest.raises(RateLimitError) as caught:
        make_client(server, max_retries=1).get_task(TASK_ID)
    assert caught.value.retry_after == 0.0
    assert server.count("/producer/tasks") == 2


# ---------------------------------------------------------------------------------------------
# Waits keep the task id of paid work on any error.

WAIT_MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", WAIT_MODES)
@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (error(401, "token_expired"), AuthenticationError),
        (error(500, "api_error"), ProducerAPIError),
        (httpx.ConnectError, ProducerConnectionError),
    ],
    ids=["401", "500", "connect"],
)
async def test_wait_error_names_the_waited_task(mode: str, failure: Any, raised: type) -> None:
    server = Server({"/producer/tasks": [failure] * 10})
    client = make_client(server, max_retries=1)
    with pytest.raises(raised) as caught:
        if mode == "sync":
            client.wait("waited-task-7", max_wait=5)
        else:
            await client.await_task("waited-task-7", max_wait=5)
    assert caught.value.task_id == "waited-task-7"
    assert "waited-task-7" in str(caught.value)


@pytest.mark.parametrize("mode", WAIT_MODES)
async def test_submit_and_wait_error_names_the_submitted_task(mode: str) -> None:
    server = Server({"/producer/tasks": [error(401, "invalid_token")] * 5})
    client = make_client(server)
    with pytest.raises(ProducerError) as caught:
        if mode == "sync":
            client.submit(Generate(prompt="x"), wait=True, max_wait=5)
        else:
            await client.asubmit(Generate(prompt="x"), wait=True, max_wait=5)
    assert caught.value.task_id == TASK_ID
    assert server.count("/producer/audios") == 1


@pytest.mark.parametrize("mode", MODES)
async def test_wait_on_unknown_task_raises_not_found_with_id(mode: str) -> None:
    server = Server({"/producer/tasks": [httpx.Response(200, json={})]})
    client = make_client(server)
    with pytest.raises(ProducerError) as caught:
        if mode == "sync":
            client.wait("ghost-1", max_wait=5)
        else:
            await client.await_task("ghost-1", max_wait=5)
    assert type(caught.value).__name__ == "TaskNotFoundError"
    assert caught.value.task_id == "ghost-1"
    assert server.count("/producer/tasks") == 1

"""The drivers answer every step of the plan protocol from the client's connections and the
injected clock; a plan's timing is exact under a fake clock (no wall-clock tolerances)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_producer import ProducerClient
from langchain_producer.drivers.driver import Clock
from langchain_producer.models import ProducerTask
from langchain_producer.protocol.steps import (
    Plan,
    Progress,
    draw,
    lookup,
    now,
    sleep,
    wall_clock,
)

RECORD = {
    "id": "t-1",
    "started_at": 1.0,
    "finished_at": 2.0,
    "response": {"data": [{"id": "s", "state": "succeeded", "audio_url": "https://a/s.mp3"}]},
}


class FakeTime:
    """A clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.at = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def clock(self) -> Clock:
        return Clock(
            monotonic=lambda: self.at,
            time=lambda: 1_800_000_000.0 + self.at,
            sleep=self.sleep,
            asleep=self.asleep,
            random=lambda: 0.25,
        )


def client_with(fake: FakeTime, handler: Any = None) -> ProducerClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=RECORD)

    client = ProducerClient(
        api_key="k",
        base_url="http://producer.test",
        transport=httpx.MockTransport(handler or answer),
        poll_interval=2.0,
        max_poll_interval=15.0,
    )
    client._driver.clock = fake.clock()
    return client


def every_step() -> Plan[dict[str, Any]]:
    seen: dict[str, Any] = {"now": (yield from now()), "wall": (yield from wall_clock())}
    seen["draw"] = yield from draw()
    yield from sleep(3.0)
    seen["after_sleep"] = yield from now()
    task = yield from lookup("t-1")
    seen["task"] = task.task_id
    yield Progress(task)
    return seen


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_every_step_is_answered_from_the_injected_clock(mode: str) -> None:
    fake = FakeTime()
    client = client_with(fake)
    reported: list[ProducerTask] = []
    driver = client._driver
    if mode == "sync":
        seen = driver.run(every_step(), reported.append)
    else:
        seen = await driver.arun(every_step(), reported.append)
    assert seen == {
        "now": 100.0,
        "wall": 1_800_000_100.0,
        "draw": 0.25,
        "after_sleep": 103.0,
        "task": "t-1",
    }
    assert fake.slept[0] == 3.0
    assert [t.task_id for t in reported] == ["t-1"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_step_the_drivers_do_not_know_is_refused_not_ignored(mode: str) -> None:
    def odd() -> Plan[None]:
        yield "not a step"  # type: ignore[misc]

    client = client_with(FakeTime())
    with pytest.raises(AssertionError):
        if mode == "sync":
            client._driver.run(odd())
        else:
            await client._driver.arun(odd())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_wait_sleeps_exactly_what_the_schedule_says(mode: str) -> None:
    looks = iter([{"id": "t-1", "started_at": 1.0}] * 3 + [RECORD])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(looks))

    fake = FakeTime()
    client = client_with(fake, answer)
    if mode == "sync":
        task = client.wait("t-1", max_wait=600)
    else:
        task = await client.await_task("t-1", max_wait=600)
    assert task.is_complete
    # 2 s, then 3 s, then 4.5 s, each rounded up to the shared 0.5 s grid from t=100.
    assert fake.slept == [2.0, 3.0, 4.5]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_journalled_call_is_stamped_by_the_injected_clock(mode: str) -> None:
    from langgraph.store.memory import InMemoryStore

    from langchain_producer import Generate
    from langchain_producer.emulator import ProducerEmulator

    fake = FakeTime()
    client = ProducerClient(
        api_key="k", transport=ProducerEmulator().transport, store=InMemoryStore()
    )
    client._driver.clock = fake.clock()
    if mode == "sync":
        task = client.submit(Generate(prompt="lo-fi"), key="track-1")
    else:
        task = await client.asubmit(Generate(prompt="lo-fi"), key="track-1")
    # 1_800_000_100 s after the epoch, read from the fake clock, not this machine's.
    assert task.submitted_at == "2027-01-15T08:01:40+00:00"
    [entry] = client.journal.list() if client.journal else []
    assert entry.submitted_at == task.submitted_at

"""Section 1: what a tool call costs beside LangChain's own floor (the same bare request in a
minimal ``BaseTool``) and a bare request, sync and async, on a loopback server and in-process."""

import asyncio
import cProfile
import io
import json
import pstats
import timeit
from collections.abc import Callable
from typing import Any

import httpx
from apart import served_apart
from langchain_core.tools import BaseTool
from measure import (
    AUTH,
    TASKS_PATH,
    TOKEN,
    Samples,
    ainterleave,
    finished_task,
    interleave,
    ratio_interval,
    summarize,
)
from pydantic import BaseModel

from langchain_producer import ProducerToolkit
from langchain_producer.emulator import ProducerEmulator
from langchain_producer.protocol.tasks import parse_task
from langchain_producer.tools._content import task_content

READING = "floor + reading it: parse_task, content JSON"
"""The floor tool that also does what any typed tool does with the answer: our parser into a
``ProducerTask`` and the model's JSON of it. What it adds is the part of our overhead that is
the reading itself, not the machinery around it."""
THROUGH_CLIENT = "floor + ProducerClient.get_task, content JSON"
"""The floor tool reading the answer through our client instead of a bare request: beside
``READING`` it shows the client's machinery (plan, driver, retry policy, auth headers); what
the tool costs beyond it is the tool's own layers (progress, journal, content policy)."""
FLOOR_CALL = "floor, given a ToolCall (a ToolMessage of its JSON)"
"""The floor as an agent's ToolNode runs it: LangChain turns the answer into the message's
text (JSON of the whole record) and wraps it in a ``ToolMessage``, as it does our content."""
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
LATENCY = 0.02
"""The service's distance in the ``apart_late`` setting, in seconds: a stand-in for a remote
API's round trip (there is no network here to measure the real one)."""
FLOOR = "floor: bare request in a BaseTool"
TARGETS = {
    "sync": {
        "tool/floor": ("tool.invoke(dict)", FLOOR),
        "client/bare": ("ProducerClient.get_task", "bare httpx.Client.post"),
    },
    "async": {
        "tool/floor": ("tool.ainvoke(dict)", FLOOR),
        "client/bare": ("ProducerClient.aget_task", "bare httpx.AsyncClient.post"),
    },
}
"""The ratios the targets are about (each <= 1.05), as (numerator, denominator) rows."""
SETTINGS = (
    ("server", "loopback server"),
    ("apart", "loopback server in another process"),
    ("apart_late", f"loopback server in another process, answering {LATENCY * 1000:.0f} ms late"),
    ("in_process", "in-process"),
)
"""The settings ``bench_overhead`` measures, by their key in its result, with their label."""


def bench_overhead(
    rounds: int, block: int, profile: bool, alongside: Callable[[str, str, str], Any] | None
) -> dict[str, Any]:
    """Section 1; ``alongside(base_url, audio_task, lyrics_task)`` runs on the same loopback
    server while it is up (the MCP comparison), its result kept under ``"mcp"``."""
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=0)
    results: dict[str, Any] = {}
    with emu.serve() as server:
        base_url = server.base_url
        with httpx.Client(base_url=base_url, headers=AUTH) as setup:
            task_id = finished_task(setup.post)
            lyrics = setup.post("/producer/lyrics", json={"prompt": "bench"})
            lyrics_task = str(lyrics.json()["task_id"])
        results["server"] = _overhead_pair(base_url, None, task_id, rounds, block)
        if alongside is not None:
            results["mcp"] = alongside(base_url, task_id, lyrics_task)
    # The server in a process of its own, as the real service is: then also answering 20 ms
    # late (fewer calls: a quarter of the rounds, each call 20 ms longer).
    for setting, latency, setting_rounds in (
        ("apart", 0.0, rounds),
        ("apart_late", LATENCY, max(1, rounds // 4)),
    ):
        with served_apart(latency) as base_url:
            with httpx.Client(base_url=base_url, headers=AUTH) as setup:
                task_id = finished_task(setup.post)
            results[setting] = _overhead_pair(base_url, None, task_id, setting_rounds, block)
    in_process = emu.transport
    with httpx.Client(base_url=emu.base_url, headers=AUTH, transport=in_process) as setup:
        task_id = finished_task(setup.post)
    results["in_process"] = _overhead_pair(emu.base_url, in_process, task_id, rounds, block)

    # Does the emulator's stdlib server dominate? Compare a loopback round trip with the same
    # bare request handed to the emulator in-process (its handler + httpx, no socket).
    server_bare = results["server"]["sync"]["bare httpx.Client.post"]["median_us"]
    local_bare = results["in_process"]["sync"]["bare httpx.Client.post"]["median_us"]
    results["server_share"] = {
        "loopback_bare_us": server_bare,
        "in_process_bare_us": local_bare,
        "socket_and_stdlib_server_us": round(server_bare - local_bare, 1),
        "share_of_bare_request": round((server_bare - local_bare) / server_bare, 2),
    }
    if profile:
        results["profile"] = profile_tool(emu, task_id)
    return results


class FloorArgs(BaseModel):
    task_id: str


class BareRequestTool(BaseTool):
    """The least any LangChain tool can cost: BaseTool's own machinery around a bare request.

    Measured beside our tool, it splits the overhead into LangChain's share and ours.
    """

    name: str = "bare_request"
    description: str = "Posts the benchmark's look-up with a bare httpx client."
    args_schema: type[BaseModel] = FloorArgs
    sync_post: Any = None
    async_post: Any = None

    def _run(self, task_id: str) -> object:
        return self.sync_post()

    async def _arun(self, task_id: str) -> object:
        return await self.async_post()


SPIN = "bare + 15 us of arithmetic (timed warm, alone)"
"""A bare request followed by a loop of additions that takes 15 us when timed on its own: what
15 us of the smallest possible Python work costs right after a request, on this machine."""


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _spin_for(seconds: float) -> int:
    """The loop length that takes ``seconds`` when timed warm, alone (best of 5)."""
    n = 16
    while min(timeit.repeat(lambda n=n: _spin(n), number=200, repeat=5)) / 200 < seconds:
        n = n * 5 // 4
    return n


def _overhead_pair(
    base_url: str, transport: Any, task_id: str, rounds: int, block: int
) -> dict[str, Any]:
    """Sync then async: bare request, ProducerClient and the tool, interleaved."""
    url = base_url + TASKS_PATH
    body = {"action": "retrieve", "id": task_id}
    toolkit = ProducerToolkit(
        api_key=TOKEN, base_url=base_url, get_task_wait=0, transport=transport
    )
    client = toolkit.producer_client
    tool = next(t for t in toolkit.get_tools() if t.name == "producer_get_task")
    args = {"task_id": task_id}
    tool_call = {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}
    floor_call = {**tool_call, "name": "bare_request"}
    bare = httpx.Client(headers=AUTH, transport=transport)
    abare = httpx.AsyncClient(headers=AUTH, transport=transport)
    floor = BareRequestTool(sync_post=lambda: bare.post(url, json=body).json(), async_post=None)

    def read(answer: dict[str, Any]) -> str:
        return _JSON.encode(task_content(parse_task(answer, task_id), poll_hint="look again"))

    reading = BareRequestTool(sync_post=lambda: read(bare.post(url, json=body).json()))
    through = BareRequestTool(
        sync_post=lambda: _JSON.encode(
            task_content(client.get_task(task_id), poll_hint="look again")
        )
    )
    assert json.loads(tool.invoke(args))["state"] == "complete"

    spin = _spin_for(15e-6)
    sync = interleave(
        {
            "bare httpx.Client.post": lambda: bare.post(url, json=body).json(),
            SPIN: lambda: (bare.post(url, json=body).json(), _spin(spin)),
            "ProducerClient.get_task": lambda: client.get_task(task_id),
            "tool.invoke(dict)": lambda: tool.invoke(args),
            "tool.invoke(ToolCall)": lambda: tool.invoke(tool_call),
            FLOOR: lambda: floor.invoke(args),
            READING: lambda: reading.invoke(args),
            THROUGH_CLIENT: lambda: through.invoke(args),
            FLOOR_CALL: lambda: floor.invoke(floor_call),
        },
        rounds,
        block,
    )
    bare.close()

    async def bare_post() -> object:
        return (await abare.post(url, json=body)).json()

    floor.async_post = bare_post

    async def bare_read() -> object:
        return read((await abare.post(url, json=body)).json())

    reading.async_post = bare_read

    async def client_read() -> object:
        return _JSON.encode(task_content(await client.aget_task(task_id), poll_hint="look again"))

    through.async_post = client_read

    async def run_async() -> Samples:
        try:
            return await ainterleave(
                {
                    "bare httpx.AsyncClient.post": bare_post,
                    "ProducerClient.aget_task": lambda: client.aget_task(task_id),
                    "ProducerClient.await_task(max_wait=0)": lambda: client.await_task(
                        task_id, max_wait=0
                    ),
                    "tool.ainvoke(dict)": lambda: tool.ainvoke(args),
                    "tool.ainvoke(ToolCall)": lambda: tool.ainvoke(tool_call),
                    FLOOR: lambda: floor.ainvoke(args),
                    READING: lambda: reading.ainvoke(args),
                    THROUGH_CLIENT: lambda: through.ainvoke(args),
                    FLOOR_CALL: lambda: floor.ainvoke(floor_call),
                },
                rounds,
                block,
            )
        finally:
            await abare.aclose()
            await client.aclose()

    asynchronous = asyncio.run(run_async())
    client.close()
    result: dict[str, Any] = {
        "sync": summarize(sync, "bare httpx.Client.post"),
        "async": summarize(asynchronous, "bare httpx.AsyncClient.post"),
    }
    for mode, samples in (("sync", sync), ("async", asynchronous)):
        result[f"{mode}_interval"] = {
            target: ratio_interval(samples, top, bottom, block)
            for target, (top, bottom) in TARGETS[mode].items()
        }
    return result


def _ratio(stats: dict[str, Any], top: str, bottom: str) -> float:
    return float(stats[top]["median_us"] / stats[bottom]["median_us"])


def overhead_verdict(overhead: dict[str, Any], mode: str) -> list[str]:
    """The per-call targets in one mode: each ratio with its 95% interval over rounds, then
    what explains it (the same run's other rows and settings)."""
    lines = []
    targets = TARGETS[mode]
    stats = overhead["server"][mode]
    for target, (top, bottom) in targets.items():
        low, high = overhead["server"][f"{mode}_interval"][target]
        lines.append(
            f"{target} {mode}: {_ratio(stats, top, bottom):.2f}x "
            f"(95% interval over rounds {low:.2f}-{high:.2f}; target <= 1.05)"
        )
    tool, floor = targets["tool/floor"]
    lines.append(
        f"   given a ToolCall (as ToolNode calls): tool/floor "
        f"{_ratio(stats, tool.replace('dict', 'ToolCall'), FLOOR_CALL):.2f}x"
    )
    lines.append(
        f"   the floor plus reading the answer (parse_task, content JSON): "
        f"{_ratio(stats, READING, floor):.2f}x the floor; reading it through ProducerClient: "
        f"{_ratio(stats, THROUGH_CLIENT, floor):.2f}x"
    )
    for where, label in SETTINGS[1:3]:
        other = overhead[where][mode]
        shown = ", ".join(f"{t} {_ratio(other, *pair):.2f}x" for t, pair in targets.items())
        lines.append(f"   {label}: {shown}")
    return lines


def profile_tool(emu: ProducerEmulator, task_id: str, calls: int = 1000) -> str:
    """cProfile of ``calls`` sync tool invokes on the in-process transport."""
    toolkit = ProducerToolkit(
        api_key=TOKEN, base_url=emu.base_url, get_task_wait=0, transport=emu.transport
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "producer_get_task")
    args = {"task_id": task_id}
    tool.invoke(args)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        tool.invoke(args)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    return text.getvalue()

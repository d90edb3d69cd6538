"""The reference MCP server's side of ``run.py``'s overhead benchmark.

Runs inside the throwaway venv made by ``setup_mcp.sh`` (never this repository's): it starts
mcp-producer as a stdio server pointed at the emulator, loads its tools with
langchain-mcp-adapters over one persistent session, and interleaves its ``producer_get_task``
with a bare kept-alive httpx request. Its one argument is a JSON object (base_url, token,
task_id, audio_task, audio_calls, rounds, block); it prints one JSON line of samples.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    """Measure and return the samples (nanoseconds per call, per variant)."""
    server = os.path.join(os.path.dirname(sys.executable), "mcp-producer")
    env = dict(
        os.environ,
        ACEDATACLOUD_API_BASE_URL=cfg["base_url"],
        ACEDATACLOUD_API_TOKEN=cfg["token"],
        LOG_LEVEL="WARNING",
    )
    connection: Any = {
        "command": server,
        "args": ["--transport", "stdio"],
        "transport": "stdio",
        "env": env,
    }
    mcp = MultiServerMCPClient({"producer": connection})
    async with mcp.session("producer") as session:
        tools = {t.name: t for t in await load_mcp_tools(session)}
        tool = tools["producer_get_task"]
        # The audio record as the vendor documents it has no response.success: the reference
        # tool then takes the task for unfinished and sleeps 5 s before answering.
        audio: list[int] = []
        first: Any = None
        for _ in range(cfg["audio_calls"]):
            start = time.perf_counter_ns()
            first = await tool.ainvoke({"task_id": cfg["audio_task"]})
            audio.append(time.perf_counter_ns() - start)
        # Overhead is measured on a finished lyrics task (response.success true: no sleep).
        args = {"task_id": cfg["task_id"]}
        headers = {"Authorization": "Bearer " + cfg["token"]}
        async with httpx.AsyncClient(headers=headers) as bare:
            url = cfg["base_url"] + "/producer/tasks"
            body = {"action": "retrieve", "id": cfg["task_id"]}

            async def bare_post() -> Any:
                return (await bare.post(url, json=body)).json()

            async def mcp_call() -> Any:
                return await tool.ainvoke(args)

            variants: dict[str, Callable[[], Awaitable[Any]]] = {
                "bare httpx.AsyncClient.post": bare_post,
                "mcp-producer producer_get_task (ainvoke)": mcp_call,
            }
            names = list(variants)
            for name in names:
                for _ in range(max(5, cfg["block"])):
                    await variants[name]()
            samples: dict[str, list[int]] = {name: [] for name in names}
            gc.collect()
            for r in range(cfg["rounds"]):
                shift = r % len(names)
                for name in names[shift:] + names[:shift]:
                    for _ in range(cfg["block"]):
                        start = time.perf_counter_ns()
                        await variants[name]()
                        samples[name].append(time.perf_counter_ns() - start)
    return {"samples": samples, "tools": len(tools), "audio": audio, "first": str(first)[:400]}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))

"""Benchmarks of langchain-producer against the offline emulator (loopback only).

Every number is a ratio or a count measured side by side in one run: these machines are noisy,
so absolute times are not comparable from run to run. Variants are interleaved in round-robin
blocks (the order rotates every round) so that noise hits every side alike; medians are reported.

Sections (see benchmarks/README.md for what each number means):
    1. overhead     a tool call vs a bare kept-alive httpx request (server and in-process)
    2. mcp          the reference MCP server via langchain-mcp-adapters vs a bare request
    3. notice       how long after a task finished the waiting generate tool returned
    4. concurrent   requests made by 1, 10 and 100 concurrent waits, as coroutines and threads

Usage:
    python benchmarks/run.py                 # everything, about a minute
    python benchmarks/run.py --quick         # every section with tiny counts (< 20 s)
    python benchmarks/run.py --only overhead --profile
    python benchmarks/run.py --mcp-python /tmp/mcpbench/bin/python   # see setup_mcp.sh
"""

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from langchain_producer import Generate, ProducerClient, ProducerToolkit
from langchain_producer.emulator import ProducerEmulator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "bench.json"
DEFAULT_MCP_PYTHON = "/tmp/mcpbench/bin/python"
MCP_PYTHON_ENV = "PRODUCER_BENCH_MCP_PYTHON"
TOKEN = "bench"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TASKS_PATH = "/producer/tasks"
SECTIONS = ("overhead", "mcp", "notice", "concurrent")
Samples = dict[str, list[int]]  # variant -> per-call durations in ns


# --------------------------------------------------------------------------------------------
# Measuring.


def _rotation(names: list[str], rounds: int, block: int) -> Iterator[str]:
    """The order of calls: each variant in blocks of ``block``, the block order rotating every
    round, so drifts of the machine hit every variant alike."""
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            yield from [name] * block


def interleave(variants: dict[str, Callable[[], object]], rounds: int, block: int) -> Samples:
    """Time each variant in blocks of ``block`` calls, rotating the order every round."""
    names = list(variants)
    for name in names:  # warm-up: connections, caches, lazy imports
        for _ in range(max(5, block)):
            variants[name]()
    samples: Samples = {name: [] for name in names}
    gc.collect()
    for name in _rotation(names, rounds, block):
        start = time.perf_counter_ns()
        variants[name]()
        samples[name].append(time.perf_counter_ns() - start)
    return samples


async def ainterleave(
    variants: dict[str, Callable[[], Awaitable[object]]], rounds: int, block: int
) -> Samples:
    """``interleave`` for coroutine functions, on the running event loop."""
    names = list(variants)
    for name in names:
        for _ in range(max(5, block)):
            await variants[name]()
    samples: Samples = {name: [] for name in names}
    gc.collect()
    for name in _rotation(names, rounds, block):
        start = time.perf_counter_ns()
        await variants[name]()
        samples[name].append(time.perf_counter_ns() - start)
    return samples


def summarize(samples: Samples, baseline: str) -> dict[str, dict[str, float]]:
    """Median, p10 and p90 in microseconds, the ratio to ``baseline`` and the extra cost."""
    base = statistics.median(samples[baseline]) / 1000
    out: dict[str, dict[str, float]] = {}
    for name, values in samples.items():
        ordered = sorted(values)
        median = statistics.median(ordered) / 1000
        out[name] = {
            "n": len(ordered),
            "median_us": round(median, 1),
            "p10_us": round(ordered[len(ordered) // 10] / 1000, 1),
            "p90_us": round(ordered[(len(ordered) * 9) // 10] / 1000, 1),
            "ratio": round(median / base, 2),
            "extra_us": round(median - base, 1),
        }
    return out


def table(title: str, rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def timing_table(title: str, stats: dict[str, dict[str, float]], target: str = "") -> None:
    rows = [
        [name, s["median_us"], s["p10_us"], s["p90_us"], f"{s['ratio']:.2f}x", s["extra_us"]]
        for name, s in stats.items()
    ]
    table(
        title + (f"  [{target}]" if target else ""),
        rows,
        ["variant", "median us", "p10 us", "p90 us", "ratio", "extra us"],
    )


def tasks_lookups(emu: ProducerEmulator, since: int) -> dict[str, int]:
    """Look-up requests the emulator received from index ``since`` on, and the ids they named."""
    requests = ids = 0
    for request in emu.requests[since:]:
        if request.url.path != TASKS_PATH:
            continue
        requests += 1
        body = json.loads(request.content or b"{}")
        ids += len(body.get("ids") or []) if body.get("action") == "retrieve_batch" else 1
    return {"requests": requests, "ids_looked_up": ids}


# --------------------------------------------------------------------------------------------
# 1. Per-call overhead.


def finished_task(post: Callable[..., httpx.Response]) -> str:
    """Submit a blocking generate (the emulator is set to finish at once) and return its id."""
    answer = post("/producer/audios", json={"action": "generate", "prompt": "bench"})
    answer.raise_for_status()
    return str(answer.json()["task_id"])


def bench_overhead(
    rounds: int, block: int, profile: bool, mcp_python: str | None
) -> dict[str, Any]:
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=0)
    results: dict[str, Any] = {}
    with emu.serve() as server:
        base_url = server.base_url
        with httpx.Client(base_url=base_url, headers=AUTH) as setup:
            task_id = finished_task(setup.post)
            lyrics = setup.post("/producer/lyrics", json={"prompt": "bench"})
            lyrics_task = str(lyrics.json()["task_id"])
        results["server"] = _overhead_pair(base_url, None, task_id, rounds, block)
        if mcp_python:
            results["mcp"] = bench_mcp(mcp_python, base_url, task_id, lyrics_task, rounds, block)
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
    bare = httpx.Client(headers=AUTH, transport=transport)
    abare = httpx.AsyncClient(headers=AUTH, transport=transport)
    floor = BareRequestTool(sync_post=lambda: bare.post(url, json=body).json(), async_post=None)
    assert json.loads(tool.invoke(args))["state"] == "complete"

    sync = interleave(
        {
            "bare httpx.Client.post": lambda: bare.post(url, json=body).json(),
            "ProducerClient.get_task": lambda: client.get_task(task_id),
            "tool.invoke(dict)": lambda: tool.invoke(args),
            "tool.invoke(ToolCall)": lambda: tool.invoke(tool_call),
            "floor: bare request in a BaseTool": lambda: floor.invoke(args),
        },
        rounds,
        block,
    )
    bare.close()

    async def bare_post() -> object:
        return (await abare.post(url, json=body)).json()

    floor.async_post = bare_post

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
                    "floor: bare request in a BaseTool": lambda: floor.ainvoke(args),
                },
                rounds,
                block,
            )
        finally:
            await abare.aclose()
            await client.aclose()

    asynchronous = asyncio.run(run_async())
    client.close()
    return {
        "sync": summarize(sync, "bare httpx.Client.post"),
        "async": summarize(asynchronous, "bare httpx.AsyncClient.post"),
    }


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


# --------------------------------------------------------------------------------------------
# 2. The reference MCP server (mcp-producer) through langchain-mcp-adapters.

# The worker (mcp_worker.py) runs inside the throwaway venv, never this repo's.
MCP_WORKER = Path(__file__).resolve().parent / "mcp_worker.py"


def bench_mcp(
    mcp_python: str, base_url: str, audio_task: str, lyrics_task: str, rounds: int, block: int
) -> Any:
    config: dict[str, Any] = {"base_url": base_url, "token": TOKEN, "task_id": lyrics_task}
    config.update(audio_task=audio_task, audio_calls=0 if rounds < 10 else 2)
    # The MCP call is ~20x slower: fewer rounds keep the run short; the median stays stable.
    config.update(rounds=max(2, rounds // 3), block=block)
    try:
        done = subprocess.run(
            [mcp_python, str(MCP_WORKER), json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tempfile.gettempdir(),  # never import anything from this repo there
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"skipped": f"the MCP worker failed: {error!r}"}
    if done.returncode != 0:
        return {"skipped": "the MCP worker failed: " + done.stderr.strip()[-1500:]}
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "tools_loaded": answer["tools"],
        "finished_audio_task_call_s": [round(ns / 1e9, 3) for ns in answer["audio"]],
        "finished_audio_task_answer": answer["first"],
        "async": summarize(answer["samples"], "bare httpx.AsyncClient.post"),
    }


# --------------------------------------------------------------------------------------------
# 3. Time to notice a finished task (one tool call gives a finished song).


def bench_notice(processing: float, runs: int, intervals: tuple[float, ...]) -> dict[str, Any]:
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=processing)
    out: dict[str, Any] = {"processing_seconds": processing, "runs": []}
    with emu.serve() as server:
        for poll_interval in intervals:
            toolkit = ProducerToolkit(
                api_key=TOKEN, base_url=server.base_url, poll_interval=poll_interval
            )
            tool = next(t for t in toolkit.get_tools() if t.name == "producer_generate_music")
            for mode in ("sync", "async"):
                for _ in range(runs):
                    out["runs"].append(_notice_once(emu, tool, mode, poll_interval))
            toolkit.producer_client.close()
    return out


def _notice_once(emu: ProducerEmulator, tool: Any, mode: str, poll_interval: float) -> Any:
    since = len(emu.requests)
    args = {"prompt": "lo-fi beat for a benchmark"}
    started = time.time()
    content = tool.invoke(args) if mode == "sync" else asyncio.run(tool.ainvoke(args))
    returned = time.time()
    answer = json.loads(content)
    task = emu.tasks[answer["task_id"]]
    return {
        "mode": mode,
        "poll_interval": poll_interval,
        "tool_calls": 1,
        "state": answer["state"],
        "finished_after_s": round(task.finish_at - started, 3),
        "returned_after_s": round(returned - started, 3),
        "notice_delay_s": round(returned - task.finish_at, 3),
        **tasks_lookups(emu, since),
    }


# --------------------------------------------------------------------------------------------
# 4. Many concurrent waits.


def bench_concurrent(
    processing: float, sizes: tuple[int, ...], poll_interval: float
) -> dict[str, Any]:
    """N waits at once on one client, as coroutines and as threads: requests and notice."""
    emu = ProducerEmulator(pending_seconds=0, processing_seconds=processing)
    out: dict[str, Any] = {"processing_seconds": processing, "poll_interval": poll_interval}
    with emu.serve() as server:
        client = ProducerClient(
            api_key=TOKEN, base_url=server.base_url, poll_interval=poll_interval
        )

        async def async_waits(n: int) -> dict[str, Any]:
            submitted = await asyncio.gather(
                *(client.asubmit(Generate(prompt=f"song {i}")) for i in range(n))
            )
            since = len(emu.requests)

            async def wait(task_id: str) -> tuple[Any, float]:
                return await client.await_task(task_id), time.time()

            done = await asyncio.gather(*(wait(t.task_id) for t in submitted))
            await client.aclose()
            return _wait_result(emu, since, n, done)

        def thread_waits(n: int) -> dict[str, Any]:
            submitted = [client.submit(Generate(prompt=f"song {i}")) for i in range(n)]
            since = len(emu.requests)
            with ThreadPoolExecutor(max_workers=n) as pool:
                done = list(pool.map(lambda t: (client.wait(t.task_id), time.time()), submitted))
            return _wait_result(emu, since, n, done)

        for n in sizes:
            out[f"async_{n}"] = asyncio.run(async_waits(n))
        for n in sizes:
            out[f"threads_{n}"] = thread_waits(n)
        client.close()
    for side in ("async", "threads"):
        one = out[f"{side}_{sizes[0]}"]["requests"]
        out[f"{side}_requests_ratio"] = {
            n: round(out[f"{side}_{n}"]["requests"] / one, 2) for n in sizes[1:]
        }
    return out


def _wait_result(
    emu: ProducerEmulator, since: int, n: int, done: list[tuple[Any, float]]
) -> dict[str, Any]:
    counts = tasks_lookups(emu, since)
    # How late each finish was noticed: the wait's return against the task's own finish time.
    late = [at - emu.tasks[task.task_id].finish_at for task, at in done]
    return {
        "waits": n,
        "complete": sum(task.state == "complete" for task, _ in done),
        **counts,
        "requests_per_wait": round(counts["requests"] / n, 3),
        "notice_mean_s": round(sum(late) / n, 3),
        "notice_max_s": round(max(late), 3),
    }


# --------------------------------------------------------------------------------------------
# Reporting.


def report(results: dict[str, Any]) -> None:
    overhead = results.get("overhead")
    if overhead:
        for where, label in (("server", "loopback server"), ("in_process", "in-process")):
            for mode in ("sync", "async"):
                timing_table(
                    f"1. producer_get_task overhead, {mode}, {label} (finished task, look once)",
                    overhead[where][mode],
                    "target: tool <= 1.2x bare",
                )
        share = overhead["server_share"]
        print(
            f"\n   Loopback bare request {share['loopback_bare_us']} us, of which the socket and "
            f"the emulator's stdlib server take {share['socket_and_stdlib_server_us']} us "
            f"({share['share_of_bare_request']:.0%}); the in-process bare request is "
            f"{share['in_process_bare_us']} us."
        )
        mcp = overhead.get("mcp")
        if mcp and "async" in mcp:
            timing_table(
                f"2. reference MCP server (mcp-producer, {mcp['tools_loaded']} tools) via "
                "langchain-mcp-adapters, loopback server",
                mcp["async"],
                "ours: see section 1 async, same run",
            )
            ours = overhead["server"]["async"]["tool.ainvoke(dict)"]["ratio"]
            theirs = mcp["async"]["mcp-producer producer_get_task (ainvoke)"]["ratio"]
            print(
                f"\n   Per call vs a bare request: ours {ours}x, reference {theirs}x "
                f"({theirs / ours:.1f}x ours)."
            )
            if mcp["finished_audio_task_call_s"]:
                print(
                    "   On a finished AUDIO task the reference answered after "
                    f"{mcp['finished_audio_task_call_s']} s (its 5 s sleep)."
                )
        elif mcp:
            print(f"\n2. reference MCP server: skipped ({mcp['skipped']})")
    if "mcp_skipped" in results:
        print(f"\n2. reference MCP server: skipped ({results['mcp_skipped']})")
    notice = results.get("notice")
    if notice:
        rows = [
            [
                f"{r['mode']}, poll_interval={r['poll_interval']:g}",
                r["state"],
                r["tool_calls"],
                r["finished_after_s"],
                r["returned_after_s"],
                r["notice_delay_s"],
                r["requests"],
            ]
            for r in notice["runs"]
        ]
        table(
            f"3. time to notice: producer_generate_music in wait mode, task done after "
            f"{notice['processing_seconds']:g} s  [target: one call, noticed within seconds]",
            rows,
            ["run", "state", "calls", "finished s", "returned s", "delay s", "look-ups"],
        )
    concurrent = results.get("concurrent")
    if concurrent:
        rows = [
            [
                key,
                v["waits"],
                v["complete"],
                v["requests"],
                v["ids_looked_up"],
                v["requests_per_wait"],
                v["notice_mean_s"],
                v["notice_max_s"],
            ]
            for key, v in concurrent.items()
            if isinstance(v, dict) and "waits" in v
        ]
        table(
            f"4. concurrent waits on one ProducerClient, task done after "
            f"{concurrent['processing_seconds']:g} s, poll_interval={concurrent['poll_interval']:g}"
            "  [target: N waits cost ~ the requests of one]",
            rows,
            ["waits", "n", "complete", "requests", "ids", "req/wait", "notice s", "max s"],
        )
        for side in ("async", "threads"):
            ratios = ", ".join(
                f"N={n}: {r}x" for n, r in concurrent[f"{side}_requests_ratio"].items()
            )
            print(f"\n   {side}: requests(N)/requests(1): {ratios}")
    if overhead and "profile" in overhead:
        print("\nProfile of 1000 sync tool invokes (in-process transport):")
        print(overhead["profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts, < 20 s")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run these sections")
    parser.add_argument("--profile", action="store_true", help="cProfile 1000 tool invokes")
    parser.add_argument(
        "--mcp-python",
        default=os.environ.get(MCP_PYTHON_ENV, DEFAULT_MCP_PYTHON),
        help=f"python of the venv made by benchmarks/setup_mcp.sh (env {MCP_PYTHON_ENV})",
    )
    parser.add_argument("--no-mcp", action="store_true", help="skip the reference MCP server")
    parser.add_argument("--output", type=Path, default=OUT)
    options = parser.parse_args(argv)
    sections = set(options.only or SECTIONS)
    rounds, block = (4, 5) if options.quick else (40, 10)  # 400 calls per variant
    processing = 0.5 if options.quick else 3.0

    mcp_python: str | None = None
    results: dict[str, Any] = {}
    if "mcp" in sections and not options.no_mcp:
        if Path(options.mcp_python).is_file():
            mcp_python = options.mcp_python
        else:
            results["mcp_skipped"] = (
                f"no {options.mcp_python}; create it with benchmarks/setup_mcp.sh "
                f"or pass --mcp-python / {MCP_PYTHON_ENV}"
            )
    results["meta"] = {
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "quick": options.quick,
        "rounds": rounds,
        "block": block,
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    started = time.monotonic()
    if "overhead" in sections or mcp_python:
        results["overhead"] = bench_overhead(rounds, block, options.profile, mcp_python)
    if "notice" in sections:
        intervals = (2.0,) if options.quick else (2.0, 0.5)  # 2.0 is the default
        results["notice"] = bench_notice(processing, runs=1, intervals=intervals)
    if "concurrent" in sections:
        results["concurrent"] = bench_concurrent(
            processing,
            sizes=(1, 10) if options.quick else (1, 10, 100),
            poll_interval=0.5 if options.quick else 2.0,
        )
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    report(results)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {options.output} in {results['meta']['seconds']} s")
    assert threading.active_count() < 20, "a benchmark left threads running"
    return 0


if __name__ == "__main__":
    sys.exit(main())

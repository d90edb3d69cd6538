"""Section 4: requests made by many concurrent waits on one client, as coroutines and as
threads, idle and with the other core busy (a second process spinning)."""

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from measure import TOKEN, tasks_lookups

from langchain_producer import Generate, ProducerClient
from langchain_producer.emulator import ProducerEmulator


@contextlib.contextmanager
def other_core_busy() -> Iterator[None]:
    """A second Python process spinning on a core for as long as the block runs."""
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        yield
    finally:
        spin.kill()
        spin.wait()


def bench_concurrent(
    processing: float, sizes: tuple[int, ...], poll_interval: float
) -> dict[str, Any]:
    """N waits at once on one client, as coroutines and as threads, idle then with the other
    core busy: requests and how late each finish was noticed. ``sizes[0]`` is the baseline."""
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

        for load in ("idle", "loaded"):
            with other_core_busy() if load == "loaded" else contextlib.nullcontext():
                for n in sizes:
                    out[f"async_{n}_{load}"] = asyncio.run(async_waits(n))
                for n in sizes:
                    out[f"threads_{n}_{load}"] = thread_waits(n)
        client.close()
    for side in ("async", "threads"):
        for load in ("idle", "loaded"):
            one = out[f"{side}_{sizes[0]}_{load}"]["requests"]
            out[f"{side}_requests_ratio_{load}"] = {
                n: round(out[f"{side}_{n}_{load}"]["requests"] / one, 2) for n in sizes[1:]
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

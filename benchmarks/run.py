"""Benchmarks of langchain-producer against the offline emulator (loopback only).

Every number is a ratio or a count measured side by side in one run: these machines are noisy,
so absolute times are not comparable from run to run. Variants are interleaved in round-robin
blocks (the order rotates every round) so that noise hits every side alike; medians are reported.

Sections (see benchmarks/README.md for what each number means):
    1. overhead     a tool call vs a bare kept-alive httpx request (a loopback server in this
                    process, in another, in another answering 20 ms late; in-process)
    2. mcp          the reference MCP server via langchain-mcp-adapters vs a bare request
    3. notice       how long after a task finished the waiting generate tool returned
    4. concurrent   requests made by 1, 50 and 100 concurrent waits, as coroutines and threads,
                    idle and with the other core busy
    7. callbacks    songs with webhooks (the receiver in process) vs polling: requests per song
                    and how soon after the receiver's record the wait returned

Usage:
    python benchmarks/run.py                 # everything, about a minute
    python benchmarks/run.py --quick         # every section with tiny counts (< 20 s)
    python benchmarks/run.py --only overhead --profile
    python benchmarks/run.py --mcp-python /tmp/mcpbench/bin/python   # see setup_mcp.sh
"""

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from callbacks import bench_callbacks
from concurrency import bench_concurrent
from measure import TOKEN, summarize, table, tasks_lookups, timing_table
from overhead import SETTINGS, TARGETS, bench_overhead, overhead_verdict

from langchain_producer import ProducerToolkit
from langchain_producer._constants import BATCH_MAX_IDS
from langchain_producer.emulator import ProducerEmulator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "bench.json"
DEFAULT_MCP_PYTHON = "/tmp/mcpbench/bin/python"
MCP_PYTHON_ENV = "PRODUCER_BENCH_MCP_PYTHON"
SECTIONS = ("overhead", "mcp", "notice", "concurrent", "callbacks")


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

# --------------------------------------------------------------------------------------------
# Reporting.


def report(results: dict[str, Any]) -> None:
    overhead = results.get("overhead")
    if overhead:
        for where, label in SETTINGS:
            for mode in ("sync", "async"):
                timing_table(
                    f"1. producer_get_task overhead, {mode}, {label} (finished task, look once)",
                    overhead[where][mode],
                    "targets: tool <= 1.05x floor, client <= 1.05x bare",
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
            for load in ("idle", "loaded"):
                ratios = ", ".join(
                    f"N={n}: {r}x" for n, r in concurrent[f"{side}_requests_ratio_{load}"].items()
                )
                print(f"\n   {side}, {load}: requests(N)/requests(1): {ratios}")
    callbacks = results.get("callbacks")
    if callbacks:
        columns = (
            "complete",
            "submissions_per_song",
            "confirming_lookups_per_song",
            "own_lookups_per_song",
            "requests_per_song",
            "notice_median_ms",
            "notice_max_ms",
        )
        rows = [
            [name, *(v[c] for c in columns)]
            for name, v in callbacks.items()
            if isinstance(v, dict) and "songs" in v
        ]
        n = next(v["songs"] for v in callbacks.values() if isinstance(v, dict))
        table(
            f"7. {n} songs at once with webhooks vs polling, song done after "
            f"{callbacks['processing_seconds']:g} s, poll_interval={callbacks['poll_interval']:g}, "
            f"safety poll {callbacks['safety_poll_seconds']:g} s  [target: 1 submission + 1 "
            "confirming look-up per song; noticed within 1 s of the callback]",
            rows,
            ["variant", "complete", "subm", "confirm", "own", "req/song", "notice ms", "max ms"],
        )
    if overhead and "profile" in overhead:
        print("\nProfile of 1000 sync tool invokes (in-process transport):")
        print(overhead["profile"])


def verdict(results: dict[str, Any]) -> None:
    """The figures the targets are about, from this one run (loopback server)."""
    lines = []
    overhead = results.get("overhead")
    if overhead:
        for mode in TARGETS:
            lines += overhead_verdict(overhead, mode)
    concurrent = results.get("concurrent")
    if concurrent:
        for side in ("threads", "async"):
            for load in ("idle", "loaded"):
                for n, ratio in concurrent[f"{side}_requests_ratio_{load}"].items():
                    # One request names at most BATCH_MAX_IDS tasks (the API's limit), so N
                    # waits need ceil(N / 50) requests a round: the target is per batch.
                    batches = math.ceil(int(n) / BATCH_MAX_IDS)
                    per, target = "", "target <= 1.5"
                    if batches > 1:
                        per = f", {ratio / batches:.2f}x per batch of {BATCH_MAX_IDS}"
                        target += " per batch"
                    lines.append(
                        f"{n} {side} waits / one wait, {load}: {ratio:.2f}x requests{per} "
                        f"({target})"
                    )
    callbacks = results.get("callbacks")
    if callbacks:
        for name in ("async listening", "threads listening"):
            v = callbacks[name]
            lines.append(
                f"{name}: {v['requests_per_song']:.2f} requests/song (target <= 2 + safety polls; "
                f"polling {callbacks['async polling']['requests_per_song']:.2f}), noticed "
                f"max {v['notice_max_ms']:.0f} ms after the record (target <= 1000)"
            )
    if lines:
        print("\nTargets, this run:\n   " + "\n   ".join(lines))
    results["verdict"] = lines


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
        mcp = mcp_python

        def alongside(base_url: str, audio_task: str, lyrics_task: str) -> Any:
            assert mcp is not None
            return bench_mcp(mcp, base_url, audio_task, lyrics_task, rounds, block)

        results["overhead"] = bench_overhead(
            rounds, block, options.profile, alongside if mcp else None
        )
    if "notice" in sections:
        intervals = (2.0,) if options.quick else (2.0, 0.5)  # 2.0 is the default
        results["notice"] = bench_notice(processing, runs=1, intervals=intervals)
    if "concurrent" in sections:
        results["concurrent"] = bench_concurrent(
            processing,
            sizes=(1, 10) if options.quick else (1, 50, 100),
            poll_interval=0.5 if options.quick else 2.0,
        )
    if "callbacks" in sections:
        results["callbacks"] = bench_callbacks(
            1.0 if options.quick else 3.0,
            n=10 if options.quick else 100,
            poll_interval=0.5 if options.quick else 2.0,
        )
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    report(results)
    verdict(results)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {options.output} in {results['meta']['seconds']} s")
    assert threading.active_count() < 20, "a benchmark left threads running"
    return 0


if __name__ == "__main__":
    sys.exit(main())

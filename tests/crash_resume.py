"""The crash-resume harness shared by the SQLite and PostgreSQL tests: start a LangGraph thread
in a child process, SIGKILL it while the song is being made, resume the thread in a new process,
and report what the emulator's server saw."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from langchain_producer.emulator import EmulatorServer, ProducerEmulator

WORKER = Path(__file__).with_name("crash_worker.py")
KINDS = ("agent-sync", "agent-async", "graph-sync", "graph-async")
"""A create_agent agent and a StateGraph node calling the client with key=, sync and async."""
AUDIOS = "/producer/audios"
# Long enough to kill the child in the middle of the wait and resume it before the song ends
# (a new process needs about two seconds to import LangChain), short enough for a quick test.
PENDING_SECONDS = 0.3
PROCESSING_SECONDS = 4.0


class TimedEmulator(ProducerEmulator):
    """The emulator, noting when each API request arrived (monotonic clock)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.arrivals: list[tuple[float, str]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.arrivals.append((time.monotonic(), request.url.path))
        return super().handle(request)

    def submissions(self) -> int:
        return sum(path == AUDIOS for _, path in self.arrivals)

    def first_after(self, since: float, path: str) -> float | None:
        return next((when for when, seen in self.arrivals if when >= since and seen == path), None)

    def running(self, task_id: str) -> bool:
        return not (self.task_record(task_id) or {}).get("finished_at")


def emulator() -> TimedEmulator:
    return TimedEmulator(pending_seconds=PENDING_SECONDS, processing_seconds=PROCESSING_SECONDS)


@dataclass
class CrashResume:
    """What happened: the outcome the resumed run printed, and the server's view of it."""

    outcome: dict[str, Any]
    submissions: int
    killed_task_id: str
    running_when_killed: bool
    running_when_resumed: bool
    pick_up_seconds: float
    """From starting the new process to its first look at the task (imports included)."""


def child(phase: str, kind: str, backend: str, server: EmulatorServer, place: str) -> list[str]:
    """The command line of a worker process (see ``crash_worker.py``)."""
    return [sys.executable, str(WORKER), phase, kind, backend, server.base_url, place]


def start_and_kill(
    kind: str, backend: str, emu: TimedEmulator, server: EmulatorServer, place: str
) -> str:
    """Run ``kind`` until its song is submitted and being waited on, then SIGKILL it.

    Returns the id of the task it had submitted.
    """
    first = subprocess.Popen(
        child("start", kind, backend, server, place),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        task_id = _wait_for_the_wait(emu, first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    return task_id


def crash_and_resume(
    kind: str, backend: str, emu: TimedEmulator, server: EmulatorServer, place: str
) -> CrashResume:
    """Run ``kind`` until the song tool waits, SIGKILL it, resume it, and report."""
    task_id = start_and_kill(kind, backend, emu, server, place)
    running_when_killed = emu.running(task_id)
    started = time.monotonic()
    resumed = subprocess.run(
        child("resume", kind, backend, server, place), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    picked_up = emu.first_after(started, "/producer/tasks")
    return CrashResume(
        outcome=json.loads(resumed.stdout.strip().splitlines()[-1]),
        submissions=emu.submissions(),
        killed_task_id=task_id,
        running_when_killed=running_when_killed,
        running_when_resumed=picked_up is not None and _running_at(emu, task_id, picked_up),
        pick_up_seconds=(picked_up or float("nan")) - started,
    )


def _wait_for_the_wait(emu: TimedEmulator, process: subprocess.Popen[str]) -> str:
    """The accepted task's id, once the child has submitted it and looked at it once."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the child ended before waiting: {error[-3000:]}")
        paths = [path for _, path in emu.arrivals]
        if AUDIOS in paths and "/producer/tasks" in paths[paths.index(AUDIOS) :]:
            return next(iter(emu.tasks))
        time.sleep(0.02)
    raise AssertionError("the child never started waiting for its song")


def _running_at(emu: TimedEmulator, task_id: str, when: float) -> bool:
    """Whether the task was still being made at monotonic time ``when``."""
    finished = (emu.task_record(task_id) or {}).get("finished_at")
    if not finished:
        return True
    # The record's times are on the emulator's wall clock; arrivals on the monotonic one.
    return bool(time.time() - float(finished) < time.monotonic() - when)


def assert_resumed_once(run: CrashResume, kind: str, server: EmulatorServer) -> dict[str, Any]:
    """The checks every backend must pass: killed mid-wait, one paid submission, the resumed
    run ends with the finished song of the task the killed run had submitted."""
    assert run.running_when_killed, "the process must die while the song is being made"
    assert run.submissions == 1, "one request, one paid submission"
    if kind.startswith("agent"):
        [content] = run.outcome["tool_contents"]
        assert run.outcome["final"] == "Here is your song."
        assert content["submitted_at"]
        song_url = content["songs"][0]["audio_url"]
    else:
        content = run.outcome
        song_url = content["audio_url"]
    assert content["resumed"] is True
    assert content["task_id"] == run.killed_task_id and content["state"] == "complete"
    assert song_url.startswith(server.base_url + "/media/audio/")
    return dict(content)

"""Crash-resume with real processes: a LangGraph thread is SIGKILLed while its song is being
made and resumed in a new process, on SQLite files (``SqliteSaver`` + ``SqliteStore``).

The service must see exactly one paid submission, and the resumed run must end with the song.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_resume import TimedEmulator, crash_and_resume, emulator

from langchain_producer.emulator import EmulatorServer

KINDS = ["agent-sync", "agent-async", "graph-sync", "graph-async"]


@pytest.fixture
def emu() -> TimedEmulator:
    return emulator()


@pytest.fixture
def server(emu: TimedEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_thread_resumes_its_song_without_paying_twice(
    kind: str, emu: TimedEmulator, server: EmulatorServer, tmp_path: Path
) -> None:
    run = crash_and_resume(kind, "sqlite", emu, server, str(tmp_path))
    assert run.running_when_killed, "the process must die while the song is being made"
    assert run.submissions == 1, "one request, one paid submission"
    if kind.startswith("agent"):
        [content] = run.outcome["tool_contents"]
        assert run.outcome["final"] == "Here is your song."
        assert content["resumed"] is True and content["submitted_at"]
    else:
        content = run.outcome
        assert content["resumed"] is True
    assert content["task_id"] == run.killed_task_id
    assert content["state"] == "complete"
    song_url = content["songs"][0]["audio_url"] if "songs" in content else content["audio_url"]
    assert song_url.startswith(server.base_url + "/media/audio/")


def test_without_a_store_the_same_crash_pays_twice(
    emu: TimedEmulator, server: EmulatorServer, tmp_path: Path
) -> None:
    # The unprotected case the journal exists for: LangGraph re-runs the interrupted tool call.
    run = crash_and_resume("agent-sync", "sqlite-nostore", emu, server, str(tmp_path))
    assert run.submissions == 2
    [content] = run.outcome["tool_contents"]
    assert content["task_id"] != run.killed_task_id and "resumed" not in content

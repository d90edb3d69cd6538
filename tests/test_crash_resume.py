"""Crash-resume with real processes: a LangGraph thread is SIGKILLed while its song is being
made and resumed in a new process, on SQLite files (``SqliteSaver`` + ``SqliteStore``).

The service must see exactly one paid submission, and the resumed run must end with the song.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_resume import KINDS, TimedEmulator, assert_resumed_once, crash_and_resume

from langchain_producer.emulator import EmulatorServer


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_thread_resumes_its_song_without_paying_twice(
    kind: str, crash_emulator: TimedEmulator, crash_server: EmulatorServer, tmp_path: Path
) -> None:
    run = crash_and_resume(kind, "sqlite", crash_emulator, crash_server, str(tmp_path))
    assert_resumed_once(run, kind, crash_server)


def test_without_a_store_the_same_crash_pays_twice(
    crash_emulator: TimedEmulator, crash_server: EmulatorServer, tmp_path: Path
) -> None:
    # The unprotected case the journal exists for: LangGraph re-runs the interrupted tool call.
    run = crash_and_resume(
        "agent-sync", "sqlite-nostore", crash_emulator, crash_server, str(tmp_path)
    )
    assert run.submissions == 2
    [content] = run.outcome["tool_contents"]
    assert content["task_id"] != run.killed_task_id and "resumed" not in content

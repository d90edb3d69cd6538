"""Crash-resume on a real PostgreSQL server (``PostgresSaver`` + ``PostgresStore``), and a
webhook receiver and a wait in two processes sharing that store.

The server comes from the system's packages (``pg_config --bindir``, else ``initdb`` on PATH):
a fresh cluster in a temporary folder, started on a free loopback port as a non-root user
(``nobody`` when the tests run as root, as CI does), stopped and deleted afterwards. Run with
``make test-postgres``. Without PostgreSQL binaries the tests are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from crash_resume import KINDS, TimedEmulator, assert_resumed_once, crash_and_resume

from langchain_producer.emulator import EmulatorServer, ProducerEmulator
from langchain_producer.webhooks import CALLBACKS, callback_url

pytestmark = pytest.mark.postgres

UNPRIVILEGED = "nobody"


def postgres_bindir() -> Path | None:
    """Where ``initdb`` and ``postgres`` are: ``pg_config --bindir``, the PATH, or Debian's
    versioned folders (its postgresql package puts neither on the PATH)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if answer.returncode == 0:
            candidates.append(Path(answer.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def _as_unprivileged(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", UNPRIVILEGED, "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A running PostgreSQL server; yields the URI of its ``postgres`` database."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "No PostgreSQL binaries (neither `pg_config --bindir` nor `initdb` on PATH): "
            "install the system's postgresql package to run the PostgreSQL tests."
        )
    home = Path(tempfile.mkdtemp(prefix="producer-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, user=UNPRIVILEGED)
    initdb = subprocess.run(
        _as_unprivileged(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N"]
        ),
        capture_output=True,
        text=True,
    )
    assert initdb.returncode == 0, initdb.stderr
    port = _free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        _as_unprivileged(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                "",  # no Unix socket: loopback TCP only
                "-F",  # no fsync: a throwaway cluster
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    uri = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(uri, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "PostgreSQL did not start: " + (home / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)
        yield uri
    finally:
        server.send_signal(signal.SIGINT)  # fast shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def database(postgres: str, request: pytest.FixtureRequest) -> str:
    """A fresh database for one test (threads and journal entries start empty)."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return postgres.rsplit("/", 1)[0] + "/" + name


def test_the_server_is_a_real_postgresql_not_run_by_root(postgres: str) -> None:
    with psycopg.connect(postgres) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        folder = connection.execute("SELECT current_setting('data_directory')").fetchone()
    assert version and int(str(version[0]).split(".")[0]) >= 13
    assert folder and "producer-pg-" in str(folder[0])
    assert Path(str(folder[0])).stat().st_uid != 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_thread_resumes_on_postgres_without_paying_twice(
    kind: str, database: str, crash_emulator: TimedEmulator, crash_server: EmulatorServer
) -> None:
    run = crash_and_resume(kind, "postgres", crash_emulator, crash_server, database)
    assert_resumed_once(run, kind, crash_server)
    with psycopg.connect(database) as connection:
        rows = connection.execute(
            "SELECT prefix, key FROM store WHERE prefix LIKE 'langchain_producer.tasks.%'"
        ).fetchall()
    key = "call-song-1" if kind.startswith("agent") else "album-1/track-3"
    assert rows == [("langchain_producer.tasks.album-1", key)]


PROCESSES = Path(__file__).with_name("callback_processes.py")
CALLBACK_SECRET = "two-processes-Jx4Rc9Tn2Wq7Bv5"


def test_a_wait_in_one_process_ends_on_the_callback_another_received(database: str) -> None:
    """Process A runs the receiver, process B waits for its song; they share only PostgreSQL.
    B's safety poll is an hour away, so it can only end by reading A's confirmed record: within
    1 s of it, without a look-up of its own (the one look-up is A's confirmation)."""
    from langgraph.store.postgres import PostgresStore

    with PostgresStore.from_conn_string(database) as store:
        store.setup()
    emu = ProducerEmulator(api_key="two-processes-key", pending_seconds=0.3, processing_seconds=3)
    port = _free_port()
    with emu.serve() as service:
        env = os.environ | {
            "PRODUCER_TEST_DSN": database,
            "ACEDATACLOUD_API_TOKEN": "two-processes-key",
            "ACEDATACLOUD_API_BASE_URL": service.base_url,
            "PRODUCER_CALLBACK_SECRET": CALLBACK_SECRET,
        }
        command = [sys.executable, str(PROCESSES)]
        receiver = subprocess.Popen(
            [*command, "receiver", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:  # up when it answers at all (404: no such route)
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except httpx.TransportError:
                    assert receiver.poll() is None, receiver.communicate()[0]
                    assert time.monotonic() < deadline, "the receiver did not start"
                    time.sleep(0.2)
            url = callback_url(f"http://127.0.0.1:{port}", CALLBACK_SECRET)
            waited = subprocess.run(
                [*command, "wait", url], env=env, capture_output=True, text=True, timeout=120
            )
        finally:
            receiver.terminate()
            receiver_log = receiver.communicate(timeout=30)[0]
    assert waited.returncode == 0, waited.stderr[-3000:]
    result = json.loads(waited.stdout.strip().splitlines()[-1])
    assert result["state"] == "complete"
    with PostgresStore.from_conn_string(database) as store:
        record = store.get(CALLBACKS, result["task_id"])
    assert record is not None, "the receiver recorded nothing"
    lag = datetime.fromisoformat(result["ended"]) - datetime.fromisoformat(
        record.value["confirmed_at"]
    )
    print(f"\nprocess B ended {lag.total_seconds() * 1000:.0f} ms after A's record")
    assert lag.total_seconds() <= 1.0
    paths = [r.url.path for r in emu.requests]
    assert paths.count("/producer/audios") == 1
    assert paths.count("/producer/tasks") == 1  # A's confirmation; B looked nothing up
    assert [c["status"] for c in emu.callbacks] == [200]
    assert CALLBACK_SECRET not in receiver_log + waited.stdout + waited.stderr

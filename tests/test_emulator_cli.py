"""The emulator CLI: help with every default, and one clear line when it cannot listen."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from langchain_producer.emulator.__main__ import build_parser

CLI = [sys.executable, "-m", "langchain_producer.emulator"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # one line per flag in --help
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30, env=env)


FLAGS = [action.option_strings[-1] for action in build_parser()._actions if action.dest != "help"]


def test_help_names_every_flag_with_its_default() -> None:
    done = _run("--help")
    assert done.returncode == 0
    lines = {
        match[1]: match[2]
        for match in re.finditer(r"^\s+(--[a-z-]+)(?: [A-Z_]+)?\s+(.+)$", done.stdout, re.M)
    }
    assert set(FLAGS) == {
        "--host",
        "--port",
        "--api-key",
        *(f"--{name}-seconds" for name in ("pending", "processing", "slow")),
    }
    for flag in FLAGS:
        assert flag in lines, flag
        assert "(default: " in lines[flag], (flag, lines[flag])
    assert "(default: 8787)" in lines["--port"]
    assert "(default: 4.0 s)" in lines["--processing-seconds"]


@pytest.fixture
def taken_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


def test_a_taken_port_is_one_clear_line(taken_port: int) -> None:
    done = _run("--port", str(taken_port))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"127.0.0.1:{taken_port}" in done.stderr
    assert "already in use" in done.stderr and "--port" in done.stderr
    assert done.stdout == ""


def test_an_address_not_on_this_machine_is_one_clear_line() -> None:
    # 192.0.2.1 is reserved for documentation: binding fails locally, no packet leaves.
    done = _run("--host", "192.0.2.1", "--port", "0")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot listen on 192.0.2.1:0")
    assert done.stderr.count("\n") == 1

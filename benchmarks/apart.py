"""The emulator served from a process of its own, optionally answering every request late.

Section 1's loopback server runs in the benchmark's own process (a thread): its Python work
shares the interpreter with the client it answers. Here the server is another process, as the
real service always is, and ``latency`` (seconds, slept before each answer) stands in for the
distance to it: the client's work per call is the same, the request around it longer.

Run as a script it serves until killed and prints its base URL on the first line:
``python benchmarks/apart.py --latency 0.02``.
"""

import argparse
import contextlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx

from langchain_producer.emulator import ProducerEmulator


class LateEmulator(ProducerEmulator):
    """Every answer ``latency`` seconds late (the sleep happens before the handler runs)."""

    def __init__(self, latency: float) -> None:
        super().__init__(pending_seconds=0, processing_seconds=0)
        self.latency = latency

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.latency:
            time.sleep(self.latency)
        return super().handle(request)


@contextlib.contextmanager
def served_apart(latency: float = 0.0) -> Iterator[str]:
    """Start the script in a child process; yield its base URL; stop it at the end."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        found = re.match(r"(http://\S+)", line)
        if found is None:
            raise RuntimeError(f"the emulator's process did not start: {line!r}")
        yield found.group(1)
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    emulator = LateEmulator(parser.parse_args().latency)
    with emulator.serve() as server:
        print(server.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()

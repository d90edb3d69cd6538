"""Run the Producer emulator as a loopback HTTP server until Ctrl-C.

Usage: ``python -m langchain_producer.emulator --port 8787 [--host 127.0.0.1] [--api-key K]
[--pending-seconds S] [--processing-seconds S] [--slow-seconds S]``
"""

from __future__ import annotations

import argparse
import sys
import threading

from langchain_producer.emulator.service import ProducerEmulator


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted, and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_producer.emulator",
        description="An offline stand-in for the Producer HTTP API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8787, help="port (0 picks a free one)")
    parser.add_argument("--api-key", default=None, help="the only token accepted (default: any)")
    parser.add_argument("--pending-seconds", type=float, default=1.0)
    parser.add_argument("--processing-seconds", type=float, default=4.0)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    emulator = ProducerEmulator(
        api_key=args.api_key,
        pending_seconds=args.pending_seconds,
        processing_seconds=args.processing_seconds,
        slow_seconds=args.slow_seconds,
    )
    with emulator.serve(host=args.host, port=args.port) as server:
        print(f"Producer emulator listening on {server.base_url}", flush=True)
        print(f"  export ACEDATACLOUD_API_BASE_URL={server.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the Producer emulator as a loopback HTTP server until Ctrl-C.

Usage: ``python -m langchain_producer.emulator [--port 8787] [--host 127.0.0.1] [--api-key K]
[--pending-seconds S] [--processing-seconds S] [--slow-seconds S]`` (``--help`` lists defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
import threading

from langchain_producer.emulator.service import ProducerEmulator


def build_parser() -> argparse.ArgumentParser:
    """The command line: every flag with its help text and default."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_producer.emulator",
        description=(
            "Serve an offline stand-in for the Producer HTTP API on a loopback port. Point any "
            "client at it with ACEDATACLOUD_API_BASE_URL=http://HOST:PORT."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8787,
        help="port to listen on; 0 picks any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="the only Bearer token accepted (default: unset, any non-empty token is accepted)",
    )
    parser.add_argument(
        "--pending-seconds",
        type=float,
        default=1.0,
        help="how long a new song task stays pending (default: %(default)s s)",
    )
    parser.add_argument(
        "--processing-seconds",
        type=float,
        default=4.0,
        help="how long a song task then processes, with previews (default: %(default)s s)",
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=2.0,
        help="how late the 'slow' failure mode answers (default: %(default)s s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted, and return the exit status."""
    args = build_parser().parse_args(argv)
    emulator = ProducerEmulator(
        api_key=args.api_key,
        pending_seconds=args.pending_seconds,
        processing_seconds=args.processing_seconds,
        slow_seconds=args.slow_seconds,
    )
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(emulator.serve(host=args.host, port=args.port))
        except OSError as error:
            print(f"error: {_cannot_listen(args.host, args.port, error)}", file=sys.stderr)
            return 1
        print(f"Producer emulator listening on {server.base_url}", flush=True)
        print(f"  export ACEDATACLOUD_API_BASE_URL={server.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


def _cannot_listen(host: str, port: int, error: OSError) -> str:
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use (another emulator?); "
            "choose another with --port, or --port 0 for any free one"
        )
    if error.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied; choose a port above 1023"
    reason = error.strerror or str(error)
    return f"cannot listen on {where}: {reason}; check --host and --port"


if __name__ == "__main__":
    raise SystemExit(main())

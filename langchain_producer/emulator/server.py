"""A real HTTP server (stdlib ``ThreadingHTTPServer``) in front of a :class:`ProducerEmulator`."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from langchain_producer.emulator.state import Served

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class EmulatorServer:
    """A loopback HTTP server running the emulator's handler in a background thread.

    Every request becomes an ``httpx.Request`` given to :meth:`ProducerEmulator.handle`; the
    ``connection`` failure mode closes the socket without answering. While it runs, the media
    URLs the emulator hands out point at this server, so a browser on this machine can fetch
    them (a notebook's player and cover art work offline). Use :meth:`ProducerEmulator.serve`
    for a block, or :meth:`start` and :meth:`stop` where a block does not fit (a notebook).

    Raises:
        OSError: from the constructor, when ``host:port`` cannot be bound.

    Example:
        >>> from langchain_producer.emulator import ProducerEmulator
        >>> emulator = ProducerEmulator()
        >>> server = EmulatorServer(emulator)  # port 0: any free loopback port
        >>> server.start()
        >>> emulator.media_base == server.base_url
        True
        >>> server.stop()
        >>> emulator.media_base
        'http://producer.emulator'
    """

    def __init__(self, emulator: Served, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self._httpd = _QuietServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{shown}:{self.port}"
        self._thread: threading.Thread | None = None
        self._previous_media_base: str | None = None

    def start(self) -> None:
        """Serve in a daemon thread; media URLs point here until :meth:`stop`."""
        self._previous_media_base = self.emulator.set_media_base(self.base_url)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="producer-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, release the port, and point media URLs back where they were."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
            self.emulator.set_media_base(self._previous_media_base)
        self._httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when many clients start at once
    # (their SYNs are retried only after a second).
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a timeout, say) is no server fault: drop it silently."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _make_handler(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ProducerEmulator/1.0"
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for the
        # client's delayed ACK (~40 ms a request on loopback).
        disable_nagle_algorithm = True

        def _respond(self) -> None:
            body = self._read_body()
            request = httpx.Request(
                self.command,
                server.base_url + self.path,
                headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
                content=body,
            )
            try:
                response = server.emulator.handle(request)
            except httpx.ConnectError:
                # Hang up without a status line: the client sees the connection drop.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            content = response.content
            self.send_response(response.status_code)
            for key, value in response.headers.multi_items():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
            self.wfile.flush()

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _respond

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet: tests and the CLI do not want a line per request."""

    return Handler

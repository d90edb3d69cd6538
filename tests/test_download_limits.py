"""Bounded downloads: a size cap, an overall deadline and a callback that stops; each leaves
nothing partial on disk. And ``download`` as a leaf: any httpx client, no Producer client."""

from __future__ import annotations

import ast
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import langchain_producer
from langchain_producer import Song, download, errors
from langchain_producer.download import DEFAULT_MAX_BYTES, DownloadError, DownloadProgress

URL = "https://cdn.example/audio/abc.mp3"
SONG = Song(id="abc12345", title="Rain", audio_url=URL)
MODES = ["sync", "async"]


class _Endless(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body with no Content-Length that never ends (until the reader stops)."""

    def __init__(self, chunk: bytes = b"x" * 65536) -> None:
        self.chunk = chunk
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self.sent += len(self.chunk)
            yield self.chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.sent += len(self.chunk)
            yield self.chunk


async def fetch(mode: str, transport: Any, dest: Path, **options: Any) -> list[Path]:
    if mode == "sync":
        with httpx.Client(transport=transport) as http:
            return download.download(http, SONG, dest, kinds={"audio"}, **options)
    async with httpx.AsyncClient(transport=transport) as ahttp:
        return await download.adownload(ahttp, SONG, dest, kinds={"audio"}, **options)


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def test_the_default_cap_is_about_200_mb() -> None:
    assert DEFAULT_MAX_BYTES == 200_000_000


@pytest.mark.parametrize("mode", MODES)
async def test_a_declared_size_over_max_bytes_is_refused_before_reading(
    mode: str, tmp_path: Path
) -> None:
    body = _Endless()
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, headers={"Content-Length": str(10**9)}, stream=body)
    )
    with pytest.raises(DownloadError) as caught:
        await fetch(mode, transport, tmp_path, max_bytes=1_000_000)
    assert "larger than max_bytes" in caught.value.message
    assert body.sent == 0, "not one chunk was read"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_stream_passing_max_bytes_is_stopped_and_removed(mode: str, tmp_path: Path) -> None:
    body = _Endless()
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=body))
    with pytest.raises(DownloadError) as caught:
        await fetch(mode, transport, tmp_path, max_bytes=300_000)
    assert "larger than max_bytes" in caught.value.message
    assert body.sent <= 300_000 + 2 * 65536, "stopped as soon as the cap was passed"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", MODES)
async def test_on_progress_returning_false_stops_the_download(mode: str, tmp_path: Path) -> None:
    body = _Endless()
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=body))
    seen: list[DownloadProgress] = []

    def enough(progress: DownloadProgress) -> bool:
        seen.append(progress)
        return progress.bytes_done < 200_000

    with pytest.raises(DownloadError) as caught:
        await fetch(mode, transport, tmp_path, on_progress=enough)
    assert "stopped by on_progress" in caught.value.message
    assert seen[-1].bytes_done >= 200_000 and body.sent < 600_000
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_callback_returning_none_does_not_stop(mode: str, tmp_path: Path) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"abc" * 1000))
    paths = await fetch(mode, transport, tmp_path, on_progress=lambda p: None)
    assert [p.read_bytes() for p in paths] == [b"abc" * 1000]


class _Dripping:
    """A loopback server whose body drips one byte every ``pause`` seconds, forever."""

    def __init__(self, pause: float = 0.1) -> None:
        self.pause = pause
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/a.mp3"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self.stop.is_set():
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                time.sleep(self.pause)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize("mode", MODES)
async def test_a_dripping_body_is_stopped_at_the_deadline(mode: str, tmp_path: Path) -> None:
    server = _Dripping()
    song = Song(id="abc12345", title="Rain", audio_url=server.url)
    start = time.monotonic()
    try:
        with pytest.raises(DownloadError) as caught:
            if mode == "sync":
                with httpx.Client(timeout=1.0) as http:
                    download.download(http, song, tmp_path, deadline=0.6)
            else:
                async with httpx.AsyncClient(timeout=1.0) as ahttp:
                    await download.adownload(ahttp, song, tmp_path, deadline=0.6)
    finally:
        server.close()
    elapsed = time.monotonic() - start
    assert "deadline of 0.6 s" in caught.value.message
    assert elapsed < 0.6 + 0.5, "each read between drips is short, but the whole is bounded"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("bad", [{"max_bytes": 0}, {"deadline": 0}, {"deadline": -1.0}])
def test_nonsense_limits_are_refused_before_any_request(
    tmp_path: Path, bad: dict[str, Any]
) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    with httpx.Client(transport=transport) as http, pytest.raises(ValueError):
        download.download(http, SONG, tmp_path, **bad)
    assert sent == []


def test_download_is_a_leaf_that_imports_no_client() -> None:
    tree = ast.parse(Path(download.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "langchain_producer.client" not in imported
    assert not any(
        "client" in (name.name for name in node.names)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    )


def test_every_module_of_the_download_package_is_a_leaf() -> None:
    # download is a package: its private modules must stay free of the Producer client too.
    modules = sorted(Path(download.__file__).parent.glob("*.py"))
    assert len(modules) > 1
    for module in modules:
        imported: set[str] = set()
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom):
                imported |= {f"{node.module or ''}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not [name for name in imported if "client" in name.split(".")], module


def test_download_error_lives_in_errors_and_stays_importable_where_it_was() -> None:
    assert errors.DownloadError is download.DownloadError is langchain_producer.DownloadError
    assert issubclass(errors.DownloadError, errors.ProducerError)
    assert errors.DownloadError("x", url="u").to_dict()["error"] == "download_failed"

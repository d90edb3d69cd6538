"""Downloads: atomic on broken streams, never the API key off the API, safe names, extensions."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from langchain_producer import (
    Generate,
    ProducerClient,
    ProducerTask,
    ProducerValidationError,
    Song,
    Stems,
    Video,
    WavFile,
    WavResult,
)
from langchain_producer.download import (
    MAX_NAME_CHARS,
    DownloadError,
    DownloadProgress,
    extension,
    safe_name,
)
from langchain_producer.emulator import FakeClock, ProducerEmulator

KEY = "sk-secret-key-123"
AUDIO = b"RIFF" + bytes(range(256)) * 40


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> ProducerClient:
    return ProducerClient(api_key=KEY, transport=httpx.MockTransport(handler))


def _song(url: str = "https://cdn.example/audio/abc.mp3", **fields: object) -> Song:
    return Song.model_validate(
        {"id": "abc12345-xyz", "title": "My Song", "audio_url": url} | fields
    )


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that yields some chunks, then optionally breaks like a dropped connection."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error


def _broken(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "audio/mpeg", "content-length": str(len(AUDIO))}
        if kind == "short":  # the server closed early: fewer bytes than Content-Length
            stream = _Chunks([AUDIO[:1000], AUDIO[1000:2000]])
        elif kind == "error":  # the connection broke mid-stream
            stream = _Chunks([AUDIO[:1000]], httpx.ReadError("connection reset", request=request))
        else:  # an HTTP error answer
            return httpx.Response(404, text="gone")
        return httpx.Response(200, headers=headers, stream=stream)

    return handler


# ---------------------------------------------------------------------------------------------
# Atomicity.


@pytest.mark.parametrize("kind", ["short", "error", "http"])
def test_a_broken_stream_leaves_no_file_and_no_temp_file(tmp_path: Path, kind: str) -> None:
    dest = tmp_path / "out"
    with pytest.raises(DownloadError) as caught:
        _client(_broken(kind)).download(_song(), dest)
    assert _leftovers(dest) == []
    assert caught.value.url == "https://cdn.example/audio/abc.mp3"
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("kind", ["short", "error", "http"])
async def test_a_broken_stream_leaves_nothing_async(tmp_path: Path, kind: str) -> None:
    with pytest.raises(DownloadError):
        await _client(_broken(kind)).adownload(_song(), tmp_path)
    assert _leftovers(tmp_path) == []


def test_a_cut_stream_over_a_real_socket_leaves_nothing(tmp_path: Path) -> None:
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\n"
            + b"x" * 5000
        )
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ProducerClient(api_key=KEY)
    try:
        with pytest.raises(DownloadError):
            client.download(_song(f"http://127.0.0.1:{port}/a.wav"), tmp_path)
    finally:
        thread.join(5)
        listener.close()
        client.close()
    assert _leftovers(tmp_path) == []


def test_files_finished_before_a_failure_are_kept_and_reported(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".png"):
            return httpx.Response(500)
        return httpx.Response(200, content=AUDIO)

    song = _song(image_url="https://cdn.example/img/abc.png")
    with pytest.raises(DownloadError) as caught:
        _client(handler).download(song, tmp_path)
    assert [p.name for p in caught.value.saved] == ["My-Song-abc12345.mp3"]
    assert _leftovers(tmp_path) == ["My-Song-abc12345.mp3"]


# ---------------------------------------------------------------------------------------------
# The API key stays with the API.


def test_the_client_keeps_the_key_out_of_its_http_clients_default_headers() -> None:
    client = ProducerClient(api_key=KEY)
    assert "authorization" not in client.http.headers
    assert all(KEY not in value for value in client.http.headers.values())


async def test_the_async_client_keeps_the_key_out_of_default_headers() -> None:
    client = ProducerClient(api_key=KEY)
    assert "authorization" not in client.http_async.headers
    await client.aclose()


def _recording(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "cdn.example":  # a redirect to another host, as CDNs do
            return httpx.Response(302, headers={"location": "https://media.other/x/final.mp3"})
        return httpx.Response(200, content=AUDIO, headers={"content-type": "audio/mpeg"})

    return handler


def test_no_authorization_header_reaches_a_media_host(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    _client(_recording(seen)).download(_song(), tmp_path)
    assert [r.url.host for r in seen] == ["cdn.example", "media.other"]
    for request in seen:
        assert "authorization" not in request.headers
        assert all(KEY not in value for value in request.headers.values())


async def test_no_authorization_header_reaches_a_media_host_async(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    await _client(_recording(seen)).adownload(_song(), tmp_path)
    assert seen and all("authorization" not in r.headers for r in seen)


def test_the_key_is_stripped_even_from_a_callers_http_client(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(_recording(seen)),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    ProducerClient(api_key=KEY, http_client=http).download(_song(), tmp_path)
    assert seen and all("authorization" not in r.headers for r in seen)


def _finished_song(emu: ProducerEmulator, clock: FakeClock, client: ProducerClient) -> Song:
    task = client.submit(Generate(prompt="a calm piano piece"))
    clock.advance(60)
    return client.get_task(task.task_id).songs[0]


def test_emulator_media_downloads_carry_no_authorization(tmp_path: Path) -> None:
    clock = FakeClock()
    emu = ProducerEmulator(api_key=KEY, clock=clock)
    client = ProducerClient(api_key=KEY, transport=emu.transport)
    song = _finished_song(emu, clock, client)
    paths = client.download(song, tmp_path)
    paths += client.download(client.generate_wav(song.id or ""), tmp_path)
    media = [r for r in emu.requests if r.url.path.startswith("/media/")]
    api = [r for r in emu.requests if r.url.path.startswith("/producer/")]
    assert len(media) == 3  # audio, cover, wav
    assert all("authorization" not in r.headers for r in media)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in api)
    for path in paths:
        if path.suffix == ".wav":
            with wave.open(str(path)) as audio:
                assert audio.getnframes() > 0


# ---------------------------------------------------------------------------------------------
# Safe names.

HOSTILE = [
    "../../etc/passwd",
    "/abs/path",
    "..",
    ".bashrc",
    "a/b\\c:d*e?f",
    "CON",
    "nul.txt",
    "x" * 500,
    "\u65e5\u672c\u8a9e",
    "..\\..\\windows\\system32",
    "-rf --no-preserve-root",
    "\x00\n\t",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_stay_inside_dest(tmp_path: Path, title: str) -> None:
    dest = tmp_path / "out"
    song = _song(title=title, id=title)
    [path] = _client(lambda r: httpx.Response(200, content=AUDIO)).download(song, dest)
    assert path.parent == dest.resolve()
    assert path.resolve().is_relative_to(dest.resolve())
    assert not path.name.startswith((".", "-"))
    assert ".." not in path.name and "/" not in path.name and "\\" not in path.name
    assert len(path.stem) <= MAX_NAME_CHARS + 10
    assert path.read_bytes() == AUDIO
    assert _leftovers(tmp_path) == ["out"]


@pytest.mark.parametrize("title", HOSTILE)
def test_safe_name_never_yields_a_path(title: str) -> None:
    name = safe_name(title)
    assert name and "/" not in name and "\\" not in name and ".." not in name
    assert not name.startswith(".")
    assert not any(c.isspace() for c in name)  # shell-friendly: nothing to quote
    assert len(name) <= MAX_NAME_CHARS


def test_clashing_names_get_a_counter_and_nothing_is_overwritten(tmp_path: Path) -> None:
    (tmp_path / "My-Song-abc12345.mp3").write_bytes(b"mine")
    client = _client(lambda r: httpx.Response(200, content=AUDIO))
    first = client.download(_song(), tmp_path)
    second = client.download(_song(), tmp_path)
    assert [p.name for p in first + second] == ["My-Song-abc12345-2.mp3", "My-Song-abc12345-3.mp3"]
    assert (tmp_path / "My-Song-abc12345.mp3").read_bytes() == b"mine"


# ---------------------------------------------------------------------------------------------
# Extensions.


@pytest.mark.parametrize(
    ("url", "content_type", "kind", "expected"),
    [
        ("https://cdn.example/a/song.mp3", "audio/wav", "audio", ".mp3"),
        ("https://cdn.example/a/song.M4A?token=1#x", None, "audio", ".m4a"),
        ("https://cdn.example/a/song", "audio/mpeg", "audio", ".mp3"),
        ("https://cdn.example/a/song", "audio/x-wav; charset=binary", "wav", ".wav"),
        ("https://cdn.example/a/song.php", "application/octet-stream", "stems", ".zip"),
        ("https://cdn.example/a/cover.jpeg", None, "image", ".jpg"),
        ("https://cdn.example/a/clip", None, "video", ".mp4"),
        ("https://cdn.example/a/evil.sh", None, "audio", ".mp3"),
    ],
)
def test_extension(url: str, content_type: str | None, kind: str, expected: str) -> None:
    assert extension(url, content_type, kind) == expected


def test_the_extension_follows_the_content_type_when_the_url_has_none(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=AUDIO, headers={"content-type": "audio/wav"})

    [path] = _client(handler).download(_song("https://cdn.example/dl?id=1"), tmp_path)
    assert path.suffix == ".wav"


# ---------------------------------------------------------------------------------------------
# What may be downloaded.


def test_a_preview_is_refused_clearly(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    preview = Song(id="p1", title="Draft", preview_url="https://cdn.example/preview/p1.mp3")
    with pytest.raises(ProducerValidationError, match="preview"):
        _client(_recording(seen)).download(preview, tmp_path)
    running = ProducerTask(task_id="t1", state="processing", songs=[preview], progress=40)
    with pytest.raises(ProducerValidationError, match=r"processing.*preview"):
        _client(_recording(seen)).download(running, tmp_path)
    assert seen == []


async def test_a_preview_is_refused_async(tmp_path: Path) -> None:
    preview = Song(id="p1", preview_url="https://cdn.example/preview/p1.mp3")
    with pytest.raises(ProducerValidationError, match="preview"):
        await _client(_recording([])).adownload(preview, tmp_path)


def test_a_failed_task_with_only_previews_is_refused(tmp_path: Path) -> None:
    partial = Song(id="p1", preview_url="https://cdn.example/preview/p1.mp3")
    failed = ProducerTask(task_id="t1", state="failed", songs=[partial])
    with pytest.raises(ProducerValidationError, match="failed"):
        _client(_recording([])).download(failed, tmp_path)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://cdn.example/a.mp3", "javascript:alert(1)", "//x/a.mp3"]
)
def test_only_http_urls_are_downloaded(tmp_path: Path, url: str) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(ProducerValidationError):
        _client(_recording(seen)).download(_song(url), tmp_path)
    assert seen == [] and _leftovers(tmp_path) == []


def test_kinds_select_files_and_unknown_kinds_are_refused(tmp_path: Path) -> None:
    client = _client(lambda r: httpx.Response(200, content=AUDIO))
    song = _song(image_url="https://cdn.example/i/abc.png", video_url="https://cdn.example/v.mp4")
    assert [p.name for p in client.download(song, tmp_path, kinds={"image"})] == [
        "My-Song-abc12345-cover.png"
    ]
    with pytest.raises(ProducerValidationError, match="Unknown download kind"):
        client.download(song, tmp_path, kinds={"lyrics"})
    with pytest.raises(ProducerValidationError, match="generate_wav"):
        client.download(song, tmp_path, kinds={"wav"})
    with pytest.raises(ProducerValidationError, match="download"):
        client.download("not an item", tmp_path)  # type: ignore[arg-type]


def test_wav_results_and_videos(tmp_path: Path) -> None:
    client = _client(lambda r: httpx.Response(200, content=AUDIO))
    wav = WavResult(audio_id="abc12345", files=[WavFile(title="T", file_url="https://c.x/1.wav")])
    video = Video(audio_id="abc12345", video_url="https://c.x/v/1.mp4")
    assert [p.name for p in client.download(wav, tmp_path)] == ["T-abc12345-lossless.wav"]
    assert [p.name for p in client.download(video, tmp_path)] == ["abc12345-video.mp4"]


# ---------------------------------------------------------------------------------------------
# Progress, sync and async, on the emulator.


def test_progress_reports_bytes_done_and_total(tmp_path: Path) -> None:
    body = AUDIO * 20  # several chunks
    client = _client(lambda r: httpx.Response(200, content=body))
    reports: list[DownloadProgress] = []
    client.download(_song(), tmp_path, on_progress=reports.append)
    done = [r.bytes_done for r in reports]
    assert done == sorted(done) and done[0] == 0 and done[-1] == len(body)
    assert {r.bytes_total for r in reports} == {len(body)}
    assert reports[-1].fraction == 1.0 and reports[-1].name == "My-Song-abc12345.mp3"


async def test_async_download_on_the_emulator_with_a_coroutine_callback(tmp_path: Path) -> None:
    clock = FakeClock()
    emu = ProducerEmulator(clock=clock)
    client = ProducerClient(api_key=KEY, transport=emu.transport)
    task = await client.asubmit(Generate(prompt="night drive synthwave"))
    clock.advance(60)
    task = await client.aget_task(task.task_id)
    stems = await client.asubmit(Stems(audio_id=task.songs[0].id or ""))
    clock.advance(60)
    stems = await client.aget_task(stems.task_id)
    reports: list[DownloadProgress] = []

    async def record(progress: DownloadProgress) -> None:
        reports.append(progress)

    paths = await client.adownload(task, tmp_path, kinds={"audio"}, on_progress=record)
    paths += await client.adownload(stems, tmp_path, kinds=["stems"])
    assert [p.suffix for p in paths] == [".wav", ".zip"]
    assert reports[-1].bytes_done == paths[0].stat().st_size
    with wave.open(str(paths[0])) as audio:
        assert audio.getframerate() > 0
    await client.aclose()

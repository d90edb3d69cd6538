"""Saving Producer results to disk: streamed, atomic, safely named, and never with the API key.

Use it through the client: ``client.download(item, dest)`` / ``await client.adownload(...)``, or
directly with any ``httpx.Client`` / ``httpx.AsyncClient``: this module knows nothing of the
Producer client.

Guarantees:
    * Streaming through the client's kept-alive ``httpx`` clients, with redirects followed.
    * Atomic: each file is written to a hidden temporary file inside ``dest`` and moved into place
      with ``os.replace`` only once every byte arrived (``Content-Length`` is checked). A failed or
      cut stream leaves neither the file nor the temporary file behind.
    * Safe names: titles and ids are reduced to ``[A-Za-z0-9._ -]``, without path separators,
      ``..`` or leading dots, capped in length and never overwriting an existing file; the final
      path is checked to lie inside ``dest``.
    * Only ``http``/``https`` URLs, and no ``Authorization`` header is ever sent: media live on
      other hosts (CDNs), which must never see the API key.
    * Previews are refused: a song whose task is still running only has a streaming preview
      (``preview_url``), which is not the finished song.
    * Bounded: at most ``max_bytes`` per file (refused up front when ``Content-Length`` says
      more, stopped as soon as the stream passes it), an overall ``deadline`` in seconds for
      the whole call, and an ``on_progress`` callback that stops the download by returning
      ``False``. Each ends in a ``DownloadError`` with nothing partial left on disk.

Example:
    >>> from langchain_producer import Generate, ProducerClient
    >>> from langchain_producer.emulator import ProducerEmulator
    >>> emulator = ProducerEmulator(pending_seconds=0.1, processing_seconds=0.2)
    >>> client = ProducerClient(api_key="demo", transport=emulator.transport, poll_interval=0.1)
    >>> task = client.submit(Generate(prompt="lo-fi beat"), wait=True)
    >>> paths = client.download(task, "out", max_bytes=50_000_000)  # doctest: +SKIP
    >>> [p.suffix for p in paths]  # doctest: +SKIP
    ['.wav']
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from langchain_producer.errors import DownloadError, ProducerValidationError
from langchain_producer.models import ProducerTask, Song, Video, WavResult

KINDS: frozenset[str] = frozenset({"audio", "wav", "stems", "video", "image"})
"""What can be downloaded: the song's audio, its WAV rendering, the stems zip, the video, the
cover image."""

DownloadItem = ProducerTask | Song | WavResult | Video
"""What ``download`` accepts."""

DEFAULT_MAX_BYTES = 200_000_000
"""The largest file ``download`` accepts unless told otherwise (200 MB: a long WAV or video)."""

MAX_NAME_CHARS = 80
"""The longest file name stem (before the kind suffix, counter and extension)."""

_KIND_SUFFIX = {
    "audio": "",
    "wav": "-lossless",
    "stems": "-stems",
    "video": "-video",
    "image": "-cover",
}
_KIND_FALLBACK_EXT = {
    "audio": ".mp3",
    "wav": ".wav",
    "stems": ".zip",
    "video": ".mp4",
    "image": ".jpg",
}
_MEDIA_EXTS = frozenset(
    {"mp3", "m4a", "aac", "wav", "flac", "ogg", "opus", "mp4", "webm", "mov", "m4v"}
    | {"png", "jpg", "jpeg", "webp", "gif", "zip"}
)
_CONTENT_TYPE_EXT = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
}
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_TEMP_PREFIX = ".producer-download-"


@dataclass(frozen=True)
class DownloadProgress:
    """Where one file's download stands; given to ``on_progress`` after every chunk.

    Attributes:
        kind: ``audio``, ``wav``, ``stems``, ``video`` or ``image``.
        url: The URL being read.
        name: The file name it is meant to get (a counter may be added on a clash).
        bytes_done: Bytes received so far.
        bytes_total: ``Content-Length`` when the server sent one, else None.
        index: Position of this file in the call (0-based).
        count: How many files the call downloads.
    """

    kind: str
    url: str
    name: str
    bytes_done: int
    bytes_total: int | None
    index: int
    count: int

    @property
    def fraction(self) -> float | None:
        """Share done, 0.0 to 1.0, when the total is known."""
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_done / self.bytes_total)


OnDownloadProgress = Callable[[DownloadProgress], Any]
"""Called after each chunk; with ``adownload`` it may be a coroutine function. Returning
``False`` stops the download (a ``DownloadError``; nothing partial is kept)."""


@dataclass(frozen=True)
class _Planned:
    kind: str
    url: str
    stem: str
    """Safe name without the extension."""


# --------------------------------------------------------------------------------------------
# What to download (pure).


def safe_name(text: str | None, *, fallback: str = "file", max_chars: int = MAX_NAME_CHARS) -> str:
    """A file name stem made from untrusted text (a title, an id).

    Only ASCII letters, digits, ``.``, ``_`` and ``-`` survive (spaces become ``-``, so a name
    needs no quoting in a shell); there is never a path separator, a ``..``, a leading dot or
    dash, or a Windows device name.

    Examples:
        >>> safe_name("../../etc/passwd")
        'etc-passwd'
        >>> safe_name("Café del Mar: Sunset / Remix")
        'Cafe-del-Mar-Sunset-Remix'
        >>> safe_name("...", fallback="song")
        'song'
    """
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folded)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = cleaned[:max_chars].strip(".-_")
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].strip().lower() in _RESERVED_NAMES:  # CON, NUL... on Windows
        return f"file-{cleaned}"
    return cleaned


def _stem(title: str | None, ident: str | None, fallback: str) -> str:
    base = safe_name(title, fallback="") if title else ""
    short_id = safe_name(ident, fallback="")[:8] if ident else ""
    parts = [part for part in (base, short_id) if part]
    return "-".join(parts) or fallback


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ProducerValidationError(f"Not a valid URL: {url!r}.") from error
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ProducerValidationError(
            f"Only http(s) URLs are downloaded, not {url!r}.",
            hint="The Producer service hands out https links; anything else is refused.",
        )
    return url


def _song_files(song: Song, kinds: frozenset[str], fallback_id: str | None) -> list[_Planned]:
    if "audio" in kinds and song.audio_url is None and song.preview_url is not None:
        raise ProducerValidationError(
            f"Song {song.id or song.title or ''!r} only has a streaming preview (preview_url), "
            "not the finished audio: its task is not complete.",
            hint="Wait for the task (client.wait(task_id)) and download the complete task.",
        )
    stem = _stem(song.title, song.id or fallback_id, "song")
    urls = {
        "audio": song.audio_url,
        "stems": song.stems_url,
        "video": song.video_url,
        "image": song.image_url,
    }
    return [
        _Planned(kind, url, stem + _KIND_SUFFIX[kind])
        for kind, url in urls.items()
        if url and kind in kinds
    ]


def plan_downloads(item: DownloadItem, kinds: Iterable[str] | None = None) -> list[_Planned]:
    """The files ``download`` would fetch for ``item``, checked, without any I/O.

    Raises:
        ProducerValidationError: An unknown kind, a preview, a task that is not finished, a URL
            that is not http(s), or nothing of the wanted kinds to download.
    """
    wanted = KINDS if kinds is None else frozenset([kinds] if isinstance(kinds, str) else kinds)
    unknown = wanted - KINDS
    if unknown or not wanted:
        raise ProducerValidationError(
            f"Unknown download kind(s): {sorted(unknown) or 'none given'}.",
            hint=f"Use some of: {', '.join(sorted(KINDS))}.",
        )
    planned: list[_Planned] = []
    if isinstance(item, ProducerTask):
        if not item.is_terminal:
            raise ProducerValidationError(
                f"Task {item.task_id} is {item.state}: its songs are not finished and any audio "
                "it shows is only a streaming preview, so there is nothing final to download.",
                hint="Wait for it first: task = client.wait(task.task_id), then download it.",
                task_id=item.task_id,
            )
        for song in item.songs:
            if item.state == "failed" and song.audio_url is None and song.stems_url is None:
                continue  # a failed task's partial songs are previews: nothing final to save
            planned += _song_files(song, wanted, item.task_id)
        if not planned and item.state == "failed":
            raise ProducerValidationError(
                f"Task {item.task_id} failed and has no finished file to download "
                "(its partial songs, if any, are previews).",
                task_id=item.task_id,
            )
    elif isinstance(item, Song):
        planned = _song_files(item, wanted, None)
    elif isinstance(item, WavResult):
        if "wav" in wanted:
            for wav in item.files:
                stem = _stem(wav.title, item.audio_id, "song") + _KIND_SUFFIX["wav"]
                planned.append(_Planned("wav", wav.file_url, stem))
    elif isinstance(item, Video):
        if "video" in wanted:
            stem = _stem(None, item.audio_id, "song") + _KIND_SUFFIX["video"]
            planned.append(_Planned("video", item.video_url, stem))
    else:
        raise ProducerValidationError(
            f"download() takes a ProducerTask, Song, WavResult or Video, not {type(item).__name__}."
        )
    if not planned:
        hint = "Drop kinds= to get everything the item has."
        if isinstance(item, (ProducerTask, Song)) and "wav" in wanted:
            hint = "A WAV comes from client.generate_wav(song.id): download that result instead."
        raise ProducerValidationError(
            f"Nothing of kind(s) {sorted(wanted)} to download from this {type(item).__name__}.",
            hint=hint,
        )
    for file in planned:
        _check_url(file.url)
    return planned


def extension(url: str, content_type: str | None, kind: str) -> str:
    """The file extension: from the URL path, else the ``Content-Type``, else the kind's usual.

    Examples:
        >>> extension("https://cdn.example/a/b.MP3?sig=1", "audio/wav", "audio")
        '.mp3'
        >>> extension("https://cdn.example/a/file", "audio/wav; charset=binary", "audio")
        '.wav'
        >>> extension("https://cdn.example/a/file.php", None, "stems")
        '.zip'
    """
    last = httpx.URL(url).path.rsplit("/", 1)[-1]
    if "." in last:
        ext = last.rsplit(".", 1)[1].lower()
        if ext in _MEDIA_EXTS:
            return "." + ("jpg" if ext == "jpeg" else ext)
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return _CONTENT_TYPE_EXT.get(mime, _KIND_FALLBACK_EXT[kind])


# --------------------------------------------------------------------------------------------
# Writing one file (shared by the sync and async drivers).


class _Limits:
    """The bounds of one download call: bytes per file and an overall deadline."""

    def __init__(self, max_bytes: int, deadline: float | None) -> None:
        if max_bytes <= 0 or (deadline is not None and not deadline > 0):
            raise ProducerValidationError(
                f"max_bytes must be > 0 and deadline > 0 seconds (or None), got {max_bytes} "
                f"and {deadline}."
            )
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.end = None if deadline is None else time.monotonic() + deadline

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check(self, url: str) -> None:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise DownloadError(
                f"The download passed its deadline of {self.deadline:g} s; nothing partial "
                "was kept.",
                url=url,
                hint="Raise deadline, or try again on a faster connection.",
            )

    def timeout(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Timeout:
        """The client's timeouts, none longer than what is left of the deadline: a body that
        drips one byte at a time cannot hold a read past it."""
        remaining = self.remaining()
        base = http.timeout
        if remaining is None:
            return base
        left = max(remaining, 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect),
            read=cap(base.read),
            write=cap(base.write),
            pool=cap(base.pool),
        )


class _Sink:
    """One file being received: a temp file in ``dest``, length checks, the final move."""

    def __init__(
        self, dest: Path, planned: _Planned, index: int, count: int, limits: _Limits
    ) -> None:
        self.dest = dest
        self.planned = planned
        self.limits = limits
        self.index = index
        self.count = count
        self.ext = _KIND_FALLBACK_EXT[planned.kind]
        self.total: int | None = None
        self.done = 0
        fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".part", dir=dest)
        self.temp = Path(name)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def start(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise DownloadError(
                f"HTTP {response.status_code} while downloading the {self.planned.kind} file.",
                url=self.planned.url,
            )
        self.ext = extension(
            str(response.url), response.headers.get("content-type"), self.planned.kind
        )
        length = response.headers.get("content-length")
        self.total = int(length) if length and length.isdigit() else None
        if self.total is not None and self.total > self.limits.max_bytes:
            raise self._too_large(self.total)

    def _too_large(self, size: int) -> DownloadError:
        return DownloadError(
            f"The {self.planned.kind} file is larger than max_bytes ({size} > "
            f"{self.limits.max_bytes} bytes); nothing was kept.",
            url=self.planned.url,
            hint="Raise max_bytes if this file is expected to be that large.",
        )

    def progress(self) -> DownloadProgress:
        return DownloadProgress(
            kind=self.planned.kind,
            url=self.planned.url,
            name=self.planned.stem + self.ext,
            bytes_done=self.done,
            bytes_total=self.total,
            index=self.index,
            count=self.count,
        )

    def write(self, chunk: bytes, verdict: Any) -> None:
        """Keep ``chunk``, then apply the limits; ``verdict`` is what ``on_progress`` said
        about the previous chunk (False stops)."""
        if verdict is False:
            raise DownloadError(
                f"The {self.planned.kind} download was stopped by on_progress; nothing was kept.",
                url=self.planned.url,
            )
        if self.done + len(chunk) > self.limits.max_bytes:
            raise self._too_large(self.done + len(chunk))
        self.file.write(chunk)
        self.done += len(chunk)
        self.limits.check(self.planned.url)

    def finish(self, response: httpx.Response, taken: set[str]) -> Path:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        # Content-Length counts the bytes on the wire, before any content decoding.
        encoding = response.headers.get("content-encoding", "").strip().lower()
        received = response.num_bytes_downloaded if encoding not in ("", "identity") else self.done
        if self.total is not None and received != self.total:
            raise DownloadError(
                f"The {self.planned.kind} download was cut: {received} of {self.total} bytes "
                "arrived.",
                url=self.planned.url,
            )
        os.chmod(self.temp, _file_mode())  # mkstemp makes 0600; a saved song is a normal file
        final = _free_path(self.dest, self.planned.stem, self.ext, taken)
        os.replace(self.temp, final)
        return final

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


@functools.cache
def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _free_path(dest: Path, stem: str, ext: str, taken: set[str]) -> Path:
    """``dest/stem.ext``, or ``stem-2.ext`` and so on: never an existing file, never outside."""
    root = dest.resolve()
    counter = 1
    while True:
        name = f"{stem}{ext}" if counter == 1 else f"{stem}-{counter}{ext}"
        path = root / name
        if name.lower() not in taken and not path.exists():
            break
        counter += 1
    if path.resolve().parent != root:  # defence in depth: safe_name already forbids this
        raise ProducerValidationError(f"Refusing to write outside {root}: {name!r}.")
    taken.add(name.lower())
    return path


def _prepare(dest: str | os.PathLike[str]) -> Path:
    path = Path(dest).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _request(http: httpx.Client | httpx.AsyncClient, url: str, limits: _Limits) -> httpx.Request:
    limits.check(url)
    request = http.build_request("GET", url, timeout=limits.timeout(http))
    # Media live on other hosts: the key must never travel there, even if a caller gave the
    # client default headers that carry it.
    request.headers.pop("authorization", None)
    request.headers.pop("proxy-authorization", None)
    return request


def _failure(error: httpx.HTTPError, planned: _Planned, saved: list[Path]) -> DownloadError:
    return DownloadError(
        f"The {planned.kind} download failed: {type(error).__name__}: {error}.",
        url=planned.url,
        saved=saved,
        hint="Nothing partial was kept; try again.",
    )


# --------------------------------------------------------------------------------------------
# Drivers.


@contextlib.contextmanager
def _cleaning_up(sink: _Sink, file: _Planned, saved: list[Path]) -> Iterator[None]:
    """Whatever stops a file midway, its partial bytes go; the caller learns what was saved."""
    try:
        yield
    except httpx.TimeoutException as error:
        sink.abort()
        if (remaining := sink.limits.remaining()) is not None and remaining <= 0.01:
            timed_out = DownloadError(
                f"The download passed its deadline of {sink.limits.deadline:g} s; nothing "
                "partial was kept.",
                url=file.url,
                saved=saved,
                hint="Raise deadline, or try again on a faster connection.",
            )
            raise timed_out from error
        raise _failure(error, file, saved) from error
    except httpx.HTTPError as error:
        sink.abort()
        raise _failure(error, file, saved) from error
    except DownloadError as error:
        sink.abort()
        error.saved = list(saved)
        raise
    except BaseException:
        sink.abort()
        raise


def download(
    http: httpx.Client,
    item: DownloadItem,
    dest: str | os.PathLike[str],
    *,
    kinds: Iterable[str] | None = None,
    on_progress: OnDownloadProgress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
) -> list[Path]:
    """Download ``item``'s files into ``dest`` with ``http`` (see ``ProducerClient.download``).

    Args:
        http: The client to stream with. Its default headers are used, but never an
            ``Authorization`` header: media hosts are not the API.
        item: A complete ``ProducerTask``, a finished ``Song``, a ``WavResult`` or a ``Video``.
        dest: The folder to save into (made if missing).
        kinds: Some of ``KINDS``; None: everything the item has.
        on_progress: Called after each chunk; returning ``False`` stops the download.
        max_bytes: The largest file accepted.
        deadline: Seconds the whole call may take; None: no limit beyond the client's timeouts.
    """
    planned = plan_downloads(item, kinds)
    limits = _Limits(max_bytes, deadline)
    root = _prepare(dest)
    saved: list[Path] = []
    taken: set[str] = set()
    for index, file in enumerate(planned):
        sink = _Sink(root, file, index, len(planned), limits)
        with _cleaning_up(sink, file, saved):
            request = _request(http, file.url, limits)
            response = http.send(request, stream=True, follow_redirects=True)
            try:
                sink.start(response)
                verdict = on_progress(sink.progress()) if on_progress else None
                # Chunks as they arrive (no re-buffering to a fixed size): a body that drips a
                # byte at a time must still meet the deadline and the callback between drips.
                for chunk in response.iter_bytes():
                    sink.write(chunk, verdict)
                    verdict = on_progress(sink.progress()) if on_progress else None
                sink.write(b"", verdict)
                saved.append(sink.finish(response, taken))
            finally:
                response.close()
    return saved


async def adownload(
    http: httpx.AsyncClient,
    item: DownloadItem,
    dest: str | os.PathLike[str],
    *,
    kinds: Iterable[str] | None = None,
    on_progress: OnDownloadProgress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
) -> list[Path]:
    """Async ``download``; ``on_progress`` may be a coroutine function."""

    async def report(sink: _Sink) -> Any:
        if on_progress is None:
            return None
        outcome = on_progress(sink.progress())
        return await outcome if inspect.isawaitable(outcome) else outcome

    planned = plan_downloads(item, kinds)
    limits = _Limits(max_bytes, deadline)
    root = _prepare(dest)
    saved: list[Path] = []
    taken: set[str] = set()
    for index, file in enumerate(planned):
        sink = _Sink(root, file, index, len(planned), limits)
        with _cleaning_up(sink, file, saved):
            request = _request(http, file.url, limits)
            response = await http.send(request, stream=True, follow_redirects=True)
            try:
                sink.start(response)
                verdict = await report(sink)
                async for chunk in response.aiter_bytes():
                    sink.write(chunk, verdict)
                    verdict = await report(sink)
                sink.write(b"", verdict)
                saved.append(sink.finish(response, taken))
            finally:
                await response.aclose()
    return saved


__all__ = [
    "DEFAULT_MAX_BYTES",
    "KINDS",
    "DownloadError",
    "DownloadItem",
    "DownloadProgress",
    "OnDownloadProgress",
    "adownload",
    "download",
    "extension",
    "plan_downloads",
    "safe_name",
]
